"""Uploads through the pages people use: photos, Excel imports and ticket attachments.

Over the size limit, or of the wrong type by their content (a program or a web page under a harmless
name), they are refused with a Chinese message and nothing is stored, not even a file. Accepted files
get random names, and are served only by views that check who asks, never from MEDIA_URL.
The services' own checks are tested in tests/projects/test_progress.py,
tests/problems/test_ticket_services.py and tests/enterprises/test_import.py."""

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from core.api.tokens import create_token
from core.models import ImportRecord
from core.roles import Role
from problems import services as tickets
from problems.choices import EventKind
from problems.models import TicketAttachment
from projects import services as project_services
from projects.choices import ProgressStatus
from projects.models import ProgressPhoto
from tests.factories import (
    DepartmentFactory,
    MonthlyProgressFactory,
    ProjectFactory,
    UserFactory,
    make_ticket,
)
from tests.html_forms import form_data

MB = 1_048_576
# A Windows program and a web page: what an attacker renames to .jpg, .xlsx or .pdf.
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run"
)
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def stored_files() -> list[str]:
    root = Path(django_settings.MEDIA_ROOT)
    return (
        sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        if root.exists()
        else []
    )


def incompressible(prefix: bytes, size: int) -> bytes:
    return prefix + os.urandom(size - len(prefix))


def photo_bytes(size=(800, 600)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 140, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def big_png() -> bytes:
    """A real PNG of about 1.5 MB (random pixels do not compress)."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (720, 720), os.urandom(720 * 720 * 3)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def staff(db):
    return UserFactory(username="zhuanyuan", roles=[Role.STAFF])


@pytest.fixture
def report(staff):
    project = ProjectFactory(name="益海特油项目", staff_in_charge=staff)
    return MonthlyProgressFactory(project=project, year=2024, month=3, status=ProgressStatus.DRAFT)


# --- Photos -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param("现场.png", big_png, "照片大小为 {size} MB，超过了 1 MB 的上限。", id="too-big"),
        pytest.param("现场.jpg", lambda: EXE, "该文件不是照片（仅支持 JPEG、PNG、WebP 或 GIF）。", id="exe"),
        pytest.param(
            "现场.jpg", lambda: HTML, "该文件不是照片（仅支持 JPEG、PNG、WebP 或 GIF）。", id="html"
        ),
    ],
)
def test_a_refused_photo_leaves_nothing_behind(client, settings, staff, report, name, content, message):
    settings.MAX_PHOTO_BYTES = 1 * MB
    data = content()
    client.force_login(staff)

    response = client.post(
        reverse("projects:photo_upload", args=[report.pk]),
        {"image": SimpleUploadedFile(name, data), "caption": "主体封顶"},
        follow=True,
    )

    assert response.status_code == 200
    assert message.format(size=f"{len(data) / MB:.1f}") in response.content.decode()
    assert not ProgressPhoto.objects.exists()
    assert stored_files() == []


def test_photos_are_served_to_readers_only_and_never_from_media_url(client, staff, report):
    photo = project_services.photo_add(
        report=report, user=staff, upload=SimpleUploadedFile("厂房.jpg", photo_bytes())
    )
    page = reverse("projects:photo_file", args=[photo.pk, "full"])
    api = reverse("api:photo-file", args=[photo.pk, "full"])
    no_role = UserFactory(username="xinren")
    client.force_login(no_role)
    assert client.get(page).status_code == 403
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {create_token(no_role, name='t', days=1)[1]}")
    assert token_client.get(api).status_code == 403
    assert APIClient().get(api).status_code == 401

    client.force_login(UserFactory(username="lingdao", roles=[Role.LEADER]))
    response = client.get(page)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert (
        b"".join(response.streaming_content)
        == (Path(django_settings.MEDIA_ROOT) / photo.image.name).read_bytes()
    )
    assert client.get(f"{django_settings.MEDIA_URL}{photo.image.name}").status_code == 404


# --- Ticket attachments -------------------------------------------------------------------------


@pytest.fixture
def ticket(staff):
    unit = DepartmentFactory(name="区自然资源局")
    made = make_ticket(user=staff, title="企业用电增容审批慢")
    office = UserFactory(username="duban", roles=[Role.SUPERVISOR])
    return tickets.ticket_assign(ticket=made, user=office, unit=unit)


NOT_ACCEPTED = "不支持该文件类型，仅支持 PDF、图片、Word、Excel、PowerPoint 或 zip 文件。"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param(
            "批复.pdf",
            lambda: incompressible(b"%PDF-1.7\n", MB + MB // 2),
            "文件大小为 1.5 MB，超过了 1 MB 的上限。",
            id="too-big",
        ),
        pytest.param("台账.xlsx", lambda: EXE, NOT_ACCEPTED, id="exe"),
        pytest.param("批复.pdf", lambda: HTML, NOT_ACCEPTED, id="html"),
    ],
)
def test_a_refused_attachment_leaves_nothing_behind(client, settings, staff, ticket, name, content, message):
    settings.MAX_ATTACHMENT_BYTES = 1 * MB
    client.force_login(staff)
    page = client.get(reverse("enterprises:ticket_detail", args=[ticket.pk])).content.decode()
    events = ticket.events.count()

    response = client.post(
        reverse("enterprises:ticket_action", args=[ticket.pk, "attach"]),
        {**form_data(page, "form-attach"), "attach-file": SimpleUploadedFile(name, content())},
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TicketAttachment.objects.exists()
    assert ticket.events.count() == events
    assert not ticket.events.filter(kind=EventKind.ATTACHED).exists()
    assert stored_files() == []


def test_attachments_are_not_served_to_anonymous_callers_or_from_media_url(client, staff, ticket):
    attachment = tickets.attachment_add(
        ticket=ticket, user=staff, upload=SimpleUploadedFile("现场照片.jpg", photo_bytes())
    )
    page = reverse("enterprises:attachment", args=[attachment.pk])
    response = client.get(page)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert APIClient().get(reverse("api:attachment-file", args=[attachment.pk])).status_code == 401
    client.force_login(staff)
    assert client.get(page).status_code == 200
    assert client.get(f"{django_settings.MEDIA_URL}{attachment.file.name}").status_code == 404


# --- Excel imports ------------------------------------------------------------------------------


def enterprise_list() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["序号", "企业名称", "统一社会信用代码"])
    book.active.append([1, "周口测试企业有限公司", None])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


NOT_XLSX = "这不是 Excel 工作簿（.xlsx）。"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            lambda: incompressible(b"PK\x03\x04", MB + MB // 2),
            "文件大小为 1.5 MB，超过了 1 MB 的上限。",
            id="too-big",
        ),
        pytest.param(lambda: EXE, NOT_XLSX, id="exe"),
        pytest.param(lambda: HTML, NOT_XLSX, id="html"),
    ],
)
def test_a_refused_import_leaves_nothing_behind(client, settings, staff, content, message):
    settings.MAX_IMPORT_BYTES = 1 * MB
    client.force_login(staff)

    response = client.post(
        reverse("import_upload", args=["enterprises"]),
        {"file": SimpleUploadedFile("企业名录.xlsx", content())},
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportRecord.objects.exists()
    assert stored_files() == []


def test_an_import_is_kept_under_a_random_name_and_shown_to_its_owner_only(client, staff):
    client.force_login(staff)
    response = client.post(
        reverse("import_upload", args=["enterprises"]),
        {"file": SimpleUploadedFile("开发区企业名录（内部）.xlsx", enterprise_list())},
    )
    record = ImportRecord.objects.get()
    assert response.status_code == 302 and response.url == reverse("import_detail", args=[record.pk])
    assert re.fullmatch(r"imports/\d{4}/\d{2}/[0-9a-f]{32}\.xlsx", record.file.name)
    assert stored_files() == [record.file.name]
    assert record.file_name == "开发区企业名录（内部）.xlsx"  # the name is shown, never used on disk

    assert client.get(f"{django_settings.MEDIA_URL}{record.file.name}").status_code == 404
    client.force_login(UserFactory(username="qita", roles=[Role.STAFF]))
    assert client.get(reverse("import_detail", args=[record.pk])).status_code == 403
    client.logout()
    response = client.get(reverse("import_detail", args=[record.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# --- MEDIA_URL ----------------------------------------------------------------------------------

SERVED_VIEWS = """
import json, django
django.setup()
from django.conf import settings
from django.urls import URLResolver, get_resolver
from django.test import Client

def callbacks(patterns):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from callbacks(entry.url_patterns)
        else:
            yield f"{entry.callback.__module__}.{entry.callback.__name__}"

static = [name for name in callbacks(get_resolver().url_patterns) if name.startswith("django.views.static")]
print(json.dumps({"debug": settings.DEBUG, "media_url": settings.MEDIA_URL, "static_views": static}))
"""


@pytest.mark.slow
def test_media_is_not_served_by_the_urls_even_in_development():
    """static() adds a media route only while DEBUG is on, so this looks at the development settings."""
    environment = {key: value for key, value in os.environ.items() if key not in {"DJANGO_ENV", "DEBUG"}}
    environment["DJANGO_SETTINGS_MODULE"] = "zone_portal.settings"
    result = subprocess.run(
        [sys.executable, "-c", SERVED_VIEWS],
        cwd=django_settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"debug": True, "media_url": "/media/", "static_views": []}
