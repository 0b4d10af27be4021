"""Hostile files through every upload path, each in a forked worker under a memory and a time limit.

The corpus (tests/security/hostile.py) goes to the ledger import, the enterprise import, the photo
page and API, and the ticket attachment page and API. Each file must be refused with a Chinese
message, or processed, within the limits: a worker that aborts, is killed or answers 500 fails the
test, and a refused file leaves no row and no stored file. Issue 21's files are also read here
directly under the limits, with the default settings.
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import signal
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from core import importing
from core.api.tokens import create_token
from core.models import ImportRecord, Job
from core.roles import Role
from enterprises.models import Enterprise
from problems import services as tickets
from problems.models import TicketAttachment, TicketEvent
from projects.choices import ProgressStatus
from projects.models import MonthlyProgress, ProgressPhoto, Project
from tests.factories import (
    DepartmentFactory,
    MonthlyProgressFactory,
    ProjectFactory,
    UserFactory,
    make_ticket,
)
from tests.html_forms import form_data
from tests.security import hostile

MB = 1_048_576
MEMORY = 400 * MB  # address space a worker may add while it handles one upload
SECONDS = 20  # the worker is killed beyond this
WATCHED = [
    ImportRecord,
    Job,
    ProgressPhoto,
    TicketAttachment,
    TicketEvent,
    Enterprise,
    Project,
    MonthlyProgress,
]


def _address_space() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize")


def in_worker(work, *, memory: int = MEMORY, seconds: int = SECONDS) -> dict:
    """Run ``work()`` in a forked child limited to ``memory`` more bytes of address space and
    ``seconds`` of time; its JSON-able result, or how it died. The child shares the test's database
    connection while the parent waits, and leaves by os._exit so nothing of the parent is closed."""
    read, write = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.close(read)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            limit = _address_space() + memory
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            signal.alarm(seconds)
            answer = json.dumps(work()).encode()
            code = 0
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            answer = json.dumps({"error": repr(error)[:2000]}).encode()
        finally:
            os.write(write, answer)
            os._exit(code)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    elapsed = time.monotonic() - started
    if os.WIFSIGNALED(status):
        return {"died": signal.Signals(os.WTERMSIG(status)).name, "seconds": elapsed}
    result = json.loads(b"".join(chunks) or b"null")
    return {**result, "seconds": elapsed} if isinstance(result, dict) else {"result": result}


def stored_files() -> list[str]:
    root = Path(django_settings.MEDIA_ROOT)
    return (
        sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        if root.exists()
        else []
    )


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in WATCHED}


@pytest.fixture
def world(db, client):
    staff = UserFactory(username="zhuanyuan", roles=[Role.STAFF, Role.ADMIN])
    project = ProjectFactory(name="益海特油项目", staff_in_charge=staff)
    report = MonthlyProgressFactory(project=project, year=2024, month=3, status=ProgressStatus.DRAFT)
    unit = DepartmentFactory(name="区自然资源局")
    office = UserFactory(username="duban", roles=[Role.SUPERVISOR])
    ticket = tickets.ticket_assign(
        ticket=make_ticket(user=staff, title="企业用电增容审批慢"), user=office, unit=unit
    )
    client.force_login(staff)
    attach_form = form_data(
        client.get(reverse("enterprises:ticket_detail", args=[ticket.pk])).content.decode(), "form-attach"
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {create_token(staff, name='t', days=1)[1]}")
    api.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    return {"client": client, "api": api, "report": report, "ticket": ticket, "attach_form": attach_form}


def upload(world, path: str, name: str, data: bytes):
    """Post ``data`` as ``name`` the way the page or the API takes it; the response."""
    file = SimpleUploadedFile(name, data)
    client, api = world["client"], world["api"]
    if path == "ledger-import":
        return client.post(reverse("import_upload", args=["project_ledger"]), {"file": file})
    if path == "enterprise-import":
        return client.post(reverse("import_upload", args=["enterprises"]), {"file": file})
    if path == "photo-page":
        return client.post(
            reverse("projects:photo_upload", args=[world["report"].pk]),
            {"image": file, "caption": "现场"},
            follow=True,  # the refusal is shown on the report's page
        )
    if path == "photo-api":
        return api.post(
            reverse("api:progress-photos", args=[world["report"].pk]), {"image": file}, format="multipart"
        )
    if path == "attachment-page":
        return client.post(
            reverse("enterprises:ticket_action", args=[world["ticket"].pk, "attach"]),
            {**world["attach_form"], "attach-file": file},
        )
    if path == "attachment-api":
        return api.post(
            reverse("api:ticket-attachments", args=[world["ticket"].pk]), {"file": file}, format="multipart"
        )
    raise AssertionError(path)


PATHS = ["ledger-import", "enterprise-import", "photo-page", "photo-api", "attachment-page", "attachment-api"]
# What the attachment paths keep by the file's first bytes (never opened on the server): a zip,
# an image, a GIF. Everything else is refused everywhere.
ATTACHMENT_KEEPS = {
    "far-corner",
    "million-rows",
    "16384-columns",
    "formula-then-empty",
    "shared-strings",
    "long-shared-string",
    "deep-nesting",
    "xxe-after-comment",
    "entity-bomb",
    "honest-zip-bomb",
    "lying-zip-bomb",
    "declares-more",
    "13000px-png",
    "jpeg-zip-polyglot",
    "gif-html-polyglot",
}
PHOTO_KEEPS = {"jpeg-zip-polyglot"}  # a real JPEG: kept, re-encoded without what was appended to it
# A legal workbook (one formula, 20,000 formatted empty cells): the enterprise import previews it.
ENTERPRISE_IMPORT_KEEPS = {"formula-then-empty"}


def expected_to_keep(path: str, case: str) -> bool:
    if path.startswith("attachment"):
        return case in ATTACHMENT_KEEPS
    if path.startswith("photo"):
        return case in PHOTO_KEEPS
    return path == "enterprise-import" and case in ENTERPRISE_IMPORT_KEEPS


ERROR_MARKUP = re.compile(r'class="(?:invalid-feedback|alert alert-danger)[^"]*"[^>]*>(.*?)<', re.S)


def refusal(response) -> str:
    """The refusal a page shows by the field or at the top, or the API's JSON error."""
    text = response.content.decode("utf-8", "replace")
    if response.get("Content-Type", "").startswith("application/json"):
        return text if response.status_code == 400 else ""
    return " ".join(" ".join(found.split()) for found in ERROR_MARKUP.findall(text))


def chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # the 13000 px PNG, refused
def test_every_upload_path_refuses_or_processes_the_corpus_within_bounds(world, settings):
    # Limits lowered so that files beyond them stay quick to build (see hostile.py).
    settings.IMPORT_MAX_CELLS = 100_000
    settings.IMPORT_MAX_UNPACKED_BYTES = 32 * MB
    corpus = {case: (name, build()) for case, (name, build) in hostile.CORPUS.items()}
    failures = []
    for case, (name, data) in corpus.items():
        for path in PATHS:

            def work(path=path, name=name, data=data):
                before, files = counts(), stored_files()
                response = upload(world, path, name, data)
                after = counts()
                changed = {key: after[key] - before[key] for key in after if after[key] != before[key]}
                return {
                    "status": response.status_code,
                    "message": refusal(response),
                    "changed": changed,
                    "new_files": sorted(set(stored_files()) - set(files)),
                    "zip_inside": any(_has_zip(f) for f in set(stored_files()) - set(files)),
                }

            result = in_worker(work)
            where = f"{case} → {path}"
            if "died" in result or "error" in result:
                failures.append(f"{where}: {result}")
                continue
            if result["seconds"] > 10:
                failures.append(f"{where}: took {result['seconds']:.1f} s")
            if expected_to_keep(path, case):
                if result["status"] not in (200, 201, 302) or result["message"] or not result["new_files"]:
                    failures.append(f"{where}: expected to be kept, got {result}")
                if path.startswith("photo") and result["zip_inside"]:
                    failures.append(f"{where}: the stored photo still carries the appended zip")
            else:
                if result["status"] not in (200, 400) or not chinese(result["message"]):
                    failures.append(f"{where}: expected a refusal with a message, got {result}")
                if result["changed"] or result["new_files"]:
                    failures.append(
                        f"{where}: a refused file wrote {result['changed']} {result['new_files']}"
                    )
    assert failures == [], "\n".join(failures)
    # What a refusal says, for the files of issue 21 (in this process: the workers' rows may or may
    # not be visible here, depending on the database).
    before = counts()
    response = upload(world, "ledger-import", "台账.xlsx", corpus["far-corner"][1])
    assert "工作表的数据一直到第 1048576 行" in response.content.decode()
    response = upload(world, "photo-page", "现场.png", corpus["13000px-png"][1])
    assert "13000 × 13000 像素" in response.content.decode()
    assert counts() == before


def _has_zip(name: str) -> bool:
    return b"PK\x03\x04" in (Path(django_settings.MEDIA_ROOT) / name).read_bytes()


# --- Issue 21's files, read directly with the default limits -----------------------------------


def read(data: bytes) -> str:
    try:
        importing.workbook_rows(data)
        sheet = importing.read_sheet(data, anchor="项目名称", match_header=lambda header: header)
    except importing.BadFile as error:
        return f"refused: {error}"
    return f"read {len(sheet.rows)} rows"


@pytest.mark.parametrize(
    ("build", "words"),
    [
        pytest.param(hostile.far_corner, "第 1048576 行", id="A1-and-XFD1048576"),
        pytest.param(hostile.million_rows, "第 1000000 行", id="1000000-rows-by-100"),
        pytest.param(hostile.wide_sheet, "IW 列", id="16384-columns"),
    ],
)
def test_a_sheet_beyond_the_limits_is_refused_before_a_grid_is_allocated(build, words):
    """Under a 400 MB limit (the reader asked 512 GB for the first file, 3.2 GB for the second)."""
    data = build()
    assert len(data) < 50_000
    result = in_worker(lambda: {"outcome": read(data)})
    assert "died" not in result and "error" not in result, result
    assert result["outcome"].startswith("refused") and words in result["outcome"]
    assert result["seconds"] < 5


def test_a_workbook_within_the_limits_reads_as_before_under_the_memory_limit(settings):
    settings.IMPORT_MAX_ROWS = 3
    at_limit = hostile.workbook(
        hostile.header_row() + '<row r="3"><c r="A3"><v>1</v></c>' + hostile.text_cell("B3", "甲") + "</row>"
    )
    result = in_worker(lambda: {"outcome": read(at_limit)})
    assert result["outcome"] == "read 2 rows"  # rows 2 (empty) and 3
    beyond = hostile.workbook(hostile.header_row() + '<row r="4"><c r="A4"><v>1</v></c></row>')
    assert read(beyond) == "refused: 工作表的数据一直到第 4 行，一次导入最多读取 3 行：请拆分文件后重试。"


def test_the_formula_check_is_linear_in_the_sheet():
    """One formula then 20,000 formatted empty cells, and ten times as many: the time grows about
    ten-fold (a quadratic scan grows a hundred-fold), and the formula is found."""

    def sheet(empty: int) -> bytes:
        cells = "".join(
            f'<c r="{importing.column_letters(3 + n % 200)}{2 + n // 200}" s="1"/>' for n in range(empty)
        )
        return hostile.sheet_xml(
            '<row r="1"><c r="B1"><f>1+1</f></c></row><row r="2">' + cells + "</row>"
        ).encode()

    timings = []
    for empty in (20_000, 200_000):
        data = sheet(empty)
        best = float("inf")
        for _ in range(3):  # the best of three: another process may take the CPU for a while
            started = time.perf_counter()
            scan = importing.scan_sheet(io.BytesIO(data))
            best = min(best, time.perf_counter() - started)
        timings.append(best)
        assert scan.formula_cells == {(0, 1)} and (scan.rows, scan.columns) == (0, 0)
    assert timings[1] < 30 * timings[0] + 0.05, timings


def test_a_zip_part_that_unpacks_to_more_than_its_header_says_is_a_bomb():
    data = hostile.lying_zip_bomb(8 * MB)
    with pytest.raises(importing.BadFile, match="zip 炸弹"):
        importing.check_file(data)


def test_xml_declarations_anywhere_in_a_part_are_refused():
    with pytest.raises(importing.BadFile, match="XML 声明"):
        importing.check_file(hostile.xxe_after_comment())


def test_two_sheets_of_one_name_are_refused_so_the_reader_opens_only_what_was_counted():
    """The second 台账 points to a sheet of a million rows: a reader looking sheets up by name could
    open it while the count looked at the first."""
    parts = hostile.workbook_parts(hostile.sheet_xml(hostile.header_row()))
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"</sheets>", b'<sheet name="\xe5\x8f\xb0\xe8\xb4\xa6" sheetId="2" r:id="rId2"/></sheets>'
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        f'<Relationship Id="rId2" Type="{hostile.WORKSHEET}" Target="worksheets/sheet2.xml"/>'
        "</Relationships>".encode(),
    )
    parts["xl/worksheets/sheet2.xml"] = hostile.sheet_xml(
        hostile.header_row() + '<row r="1000000"><c r="CV1000000"><v>1</v></c></row>'
    ).encode()
    with pytest.raises(importing.BadFile, match="损坏"), translation.override("zh-hans"):
        importing.read_sheet(hostile.zipped(parts), anchor="项目名称", match_header=lambda header: header)


def test_a_sheet_of_more_merged_ranges_than_four_a_row_is_refused(settings):
    """A reader keeps every merged range: 4,001 of them against a limit of 1,000 rows."""
    settings.IMPORT_MAX_ROWS = 1_000
    merges = "".join(f'<mergeCell ref="A{n}:B{n}"/>' for n in range(2, 4_003))
    sheet = hostile.sheet_xml(hostile.header_row()).replace(
        "</sheetData>", f'</sheetData><mergeCells count="4001">{merges}</mergeCells>'
    )
    with pytest.raises(importing.BadFile) as refused, translation.override("zh-hans"):
        importing.read_sheet(
            hostile.zipped(hostile.workbook_parts(sheet)), anchor="项目名称", match_header=str
        )
    assert str(refused.value) == "工作表的合并区域超过 4000 个，一次导入最多读取这么多：请取消合并后重试。"
    settings.IMPORT_MAX_ROWS = 1_001
    sheet = importing.read_sheet(
        hostile.zipped(hostile.workbook_parts(sheet)), anchor="项目名称", match_header=str
    )
    assert sheet.headers == {"序号": "序号", "项目名称": "项目名称", "企业名称": "企业名称"}
