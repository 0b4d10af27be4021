"""Importing project ledgers: the ledgers zones really keep, the preview, all-or-nothing writes,
the round trip through our own export, and files that must be refused."""

import datetime
import io
import zipfile
from decimal import Decimal
from unittest import mock

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl.styles import Font

from core.importing import BadFile
from core.models import ImportRecord
from core.roles import Role
from enterprises.models import Enterprise
from projects import services
from projects.choices import Level, ProgressStatus, Stage
from projects.excel import importer
from projects.models import AnnualPlan, MonthlyProgress, Project, StageChange
from reference.models import Department, Leader
from tests.factories import (
    AnnualPlanFactory,
    DepartmentFactory,
    EnterpriseFactory,
    IndustryFactory,
    LeaderFactory,
    MonthlyProgressFactory,
    ParkFactory,
    ProjectFactory,
    UserFactory,
)

D = Decimal


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded files go to a temporary folder, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def reference(db):
    """The zone's reference data and one project already registered with two approved months."""
    ref = type("Ref", (), {})()
    ref.park = ParkFactory(name="健康食品产业园", alias="食品园")
    ref.industry = IndustryFactory(name="粮油加工")
    ref.unit = DepartmentFactory(name="周口经济开发区经济发展局", short_name="经发局")
    ref.builder = EnterpriseFactory(name="益海嘉里（周口）食品工业有限公司", short_name="益海嘉里")
    ref.existing = ProjectFactory(
        name="益海特油项目",
        enterprise=ref.builder,
        park=ref.park,
        industry=ref.industry,
        level=Level.MUNICIPAL,
        total_investment=D("30000.00"),
        responsible_unit=ref.unit,
        stage=Stage.UNDER_CONSTRUCTION,
    )
    AnnualPlanFactory(project=ref.existing, year=2023, planned_investment=D("6000.00"))
    MonthlyProgressFactory(project=ref.existing, year=2023, month=1, completed_investment=D("500.00"))
    MonthlyProgressFactory(project=ref.existing, year=2023, month=2, completed_investment=D("700.00"))
    ref.admin = UserFactory(username="guanli", roles=[Role.ADMIN])
    ref.staff = UserFactory(username="zhuanyuan", roles=[Role.STAFF], department=ref.unit)
    return ref


HEADER_TOP = [
    "序号",
    "项目名称",
    "项目单位",
    "建设规模及内容",
    "总投资（亿元）",
    "2023年计划投资（万元）",
    "1-3月完成投资（万元）",
    "项目级别",
    "建设性质",
    "开工时间",
    None,
    "所属园区",
    "产业",
    "责任领导",
    "责任单位",
    "形象进度",
    "联系人电话",
]
HEADER_LOW = [None] * 9 + ["计划", "实际"] + [None] * 6


def ledger(rows, *, title="周口经济开发区2023年1—3月重点项目建设台账", unit_line="单位：万元") -> bytes:
    """A ledger as a zone keeps it: a title, a unit line, a two-level merged header, a 合计 row,
    a group heading, data rows with text numbers and text dates, and blank rows."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "附件1"
    ws.append([title])
    ws.merge_cells("A1:Q1")
    ws["A1"].font = Font(bold=True, size=16)
    ws.append([unit_line])
    ws.append(HEADER_TOP)
    ws.append(HEADER_LOW)
    for col in "ABCDEFGHILMNOPQ":
        ws.merge_cells(f"{col}3:{col}4")
    ws.merge_cells("J3:K3")
    ws.append(["", "合计", "", "", 99, 99999, 99999])
    ws.append(["一、市重点项目", None, None])
    for row in rows:
        ws.append(row)
    ws.append([])
    ws.append(["", "小计", "", "", 1, 1, 1])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD_ROWS = [
    # seq, name, builder, content, total (亿元), plan, ytd 1–3, level, nature, start planned, start actual,
    # park, industry, leader, unit, physical progress, phone (unknown column)
    [1, "益海特油项目", "益海嘉里（周口）食品工业有限公司", "年产特种油脂20万吨", "3", "6,500", "１５００",
     "市重点", "新建", "2023年3月", datetime.date(2023, 3, 15), "健康食品产业园", "粮油加工",
     "张主任", "经发局", "主体完工", "13800000000"],
    [2, "瓶坯注塑项目", "周口瓶坯新材料有限公司", "年产瓶坯5亿只", 1.2, 3000, "300.5",
     "区重点", "新建", "2023.04", None, "食品园", None, "李主任", "招商局", "设备安装", ""],
]  # fmt: skip


def preview(data, user, **kwargs):
    return importer.preview(data, user=user, **kwargs)


@pytest.mark.django_db
def test_preview_reads_a_zone_ledger(reference):
    result = preview(ledger(GOOD_ROWS), reference.admin)
    assert (result.year, result.month) == (2023, 3)
    assert result.errors == []
    assert result.unknown_headers == ["联系人电话"]
    assert result.skipped == 3  # 合计, the group heading, 小计
    assert [r.name for r in result.updated] == ["益海特油项目"]
    assert [r.name for r in result.created] == ["瓶坯注塑项目"]
    assert result.new_enterprises == ["周口瓶坯新材料有限公司"]
    assert result.new_units == ["招商局"]
    assert result.new_leaders == ["张主任", "李主任"]
    changes = {c.label: (c.old, c.new) for c in result.updated[0].changes}
    # 3 亿元 → 30000 万元: unchanged; the plan and the month (1500 − 500 − 700 = 300) are new.
    assert "总投资" not in changes
    assert changes["年度计划投资"] == ("6,000.00", "6,500.00")
    assert changes["本月完成投资"] == ("—", "300.00")
    assert changes["计划开工时间"] == ("—", "2023-03-01")
    assert changes["实际开工时间"] == ("—", "2023-03-15")
    assert changes["形象进度"] == ("—", "主体完工")
    assert changes["责任领导"] == ("—", "张主任（新建）")
    assert "已审核" in result.report_status_label
    # Nothing is written by a preview.
    assert Project.objects.count() == 1 and MonthlyProgress.objects.count() == 2


@pytest.mark.django_db
def test_applying_writes_exactly_the_preview_with_history(reference):
    result = preview(ledger(GOOD_ROWS), reference.staff)
    assert result.errors == [] and "已报送" in result.report_status_label
    counts = importer.apply(result, user=reference.staff, reason="Excel导入 #1（台账.xlsx）")
    assert counts == {"created": 1, "updated": 1, "unchanged": 0}

    existing = Project.objects.get(pk=reference.existing.pk)
    assert existing.planned_start == datetime.date(2023, 3, 1)
    assert existing.actual_start == datetime.date(2023, 3, 15)
    assert existing.responsible_leader.name == "张主任"
    assert existing.version == 2
    assert AnnualPlan.objects.get(project=existing, year=2023).planned_investment == D("6500.00")
    march = MonthlyProgress.objects.get(project=existing, year=2023, month=3)
    assert march.completed_investment == D("300.00")
    assert march.status == ProgressStatus.SUBMITTED and march.submitted_by == reference.staff
    assert march.physical_progress == "主体完工"

    new = Project.objects.get(name="瓶坯注塑项目")
    assert new.total_investment == D("12000.00")  # 1.2 亿元
    assert new.level == Level.ZONE and new.park == reference.park  # found by the park's other name
    assert new.enterprise.name == "周口瓶坯新材料有限公司"
    assert new.responsible_unit.name == "招商局" and new.staff_in_charge == reference.staff
    assert new.stage_changes.count() == 1
    assert AnnualPlan.objects.get(project=new).planned_investment == D("3000.00")
    assert MonthlyProgress.objects.get(project=new, month=3).completed_investment == D("300.50")

    for model in (Project, AnnualPlan, MonthlyProgress, Enterprise):
        latest = model.history.order_by("-history_date", "-history_id").first()
        assert latest.history_user == reference.staff
        assert latest.history_change_reason == "Excel导入 #1（台账.xlsx）"
    assert existing.history.count() == 2  # created by the factory, changed by the import
    assert Department.objects.filter(name="招商局").exists() and Leader.objects.filter(name="李主任").exists()

    # Imported again, the same file changes nothing.
    again = preview(ledger(GOOD_ROWS), reference.staff)
    assert (len(again.created), len(again.updated), len(again.unchanged)) == (0, 0, 2)


@pytest.mark.django_db
def test_every_bad_row_is_reported_and_nothing_is_written(reference):
    rows = [
        *GOOD_ROWS,
        [3, "坏数字项目", "甲公司", "", "abc", "1000", "100", "区重点", "新建", "2023-13-45", None,
         "火星园区", None, None, None, None, None],
        [4, None, None, None, 1, 1, 1],  # numbered but nameless
        [5, "回退项目", "乙公司", "", 1, 1000, "-5", "特重点", "新建"] + [None] * 8,
    ]  # fmt: skip
    before = (Project.objects.count(), Enterprise.objects.count(), MonthlyProgress.objects.count())
    result = preview(ledger(rows), reference.admin)
    found = {(e.row, e.column, e.value): e.message for e in result.errors}
    assert found[(9, "总投资（亿元）", "abc")] == "不是数字"
    assert "不是日期" in found[(9, "开工时间 / 计划", "2023-13-45")]
    assert "没有这个园区" in found[(9, "所属园区", "火星园区")]
    assert found[(10, "项目名称", "")] == "项目名称为空"
    assert found[(11, "1-3月完成投资（万元）", "-5")] == "不能为负数"
    assert "未知的值" in found[(11, "项目级别", "特重点")]
    assert result.error_rows == 3
    with pytest.raises(ValidationError, match="未导入任何数据"):
        importer.apply(result, user=reference.admin, reason="x")
    assert (Project.objects.count(), Enterprise.objects.count(), MonthlyProgress.objects.count()) == before


@pytest.mark.django_db
def test_year_to_date_below_what_is_recorded_is_an_error(reference):
    rows = [[1, "益海特油项目", "益海嘉里", "", None, None, "1000"] + [None] * 10]
    result = preview(ledger(rows), reference.admin)
    assert [(e.row, e.message) for e in result.errors] == [
        (7, "1—N月累计完成投资低于此前各月已填报的 1200.00")
    ]


@pytest.mark.django_db
def test_staff_cannot_change_other_units_projects_or_locked_reports(reference):
    other = ProjectFactory(
        name="他人项目", enterprise=None, responsible_unit=DepartmentFactory(name="住建局")
    )
    MonthlyProgressFactory(project=reference.existing, year=2023, month=3, completed_investment=D(1))
    rows = [
        [1, "他人项目", None, None, 9] + [None] * 12,
        [2, "益海特油项目", "益海嘉里", None, None, None, "2000"] + [None] * 10,
    ]
    result = preview(ledger(rows), reference.staff)
    messages = {e.row: e.message for e in result.errors}
    assert "不在您或您单位的负责范围" in messages[7]
    assert "已审核" in messages[8] and "只有审核员" in messages[8]
    # The same rows unchanged are not an error: a zone-wide ledger may list everybody's projects.
    rows = [[1, "他人项目", None, None, other.total_investment / 10000] + [None] * 12]
    assert preview(ledger(rows), reference.staff).errors == []
    # A reviewer's import overwrites the approved figure and keeps it approved.
    reviewer = UserFactory(username="shenhe", roles=[Role.STAFF, Role.REVIEWER], department=reference.unit)
    result = preview(
        ledger([[2, "益海特油项目", "益海嘉里", None, None, None, "2000"] + [None] * 10]), reviewer
    )
    assert result.errors == []
    importer.apply(result, user=reviewer, reason="r")
    march = MonthlyProgress.objects.get(project=reference.existing, month=3)
    assert march.completed_investment == D("800.00") and march.status == ProgressStatus.APPROVED
    assert march.reviewed_by == reviewer


@pytest.mark.django_db
def test_a_failure_in_the_middle_leaves_nothing_written(reference):
    result = preview(ledger(GOOD_ROWS), reference.admin)
    before = {m: m.objects.count() for m in (Project, AnnualPlan, MonthlyProgress, Enterprise, Department)}
    history = Project.history.count()
    with mock.patch("projects.excel.importer._write_reports", side_effect=RuntimeError("disk full")):
        with pytest.raises(RuntimeError):
            importer.apply(result, user=reference.admin, reason="x")
    assert {m: m.objects.count() for m in before} == before
    assert Project.history.count() == history
    assert Project.objects.get(pk=reference.existing.pk).planned_start is None


@pytest.mark.django_db
def test_preview_query_count_does_not_grow_with_rows(reference, django_assert_max_num_queries):
    def rows(n):
        return [
            [i, f"新项目{i}", f"新企业{i}", "", 1, 100, 10, "区重点", "新建"] + [None] * 8 for i in range(n)
        ]

    with django_assert_max_num_queries(20) as small:
        preview(ledger(rows(5)), reference.admin)
    with django_assert_max_num_queries(len(small.captured_queries)):
        result = preview(ledger(rows(60)), reference.admin)
    assert len(result.created) == 60


# --- Round trip through our own export ---------------------------------------------------


@pytest.mark.django_db
def test_export_edit_import_changes_exactly_the_edited_figures(client, reference):
    MonthlyProgressFactory(project=reference.existing, year=2023, month=3, completed_investment=D(300))
    second = ProjectFactory(name="第二个项目", park=reference.park, industry=reference.industry)
    AnnualPlanFactory(project=second, year=2023, planned_investment=D(1000))
    for month in (1, 2, 3):
        MonthlyProgressFactory(project=second, year=2023, month=month, completed_investment=D(100))
    client.force_login(reference.admin)
    response = client.get(reverse("projects:export"), {"year": 2023, "month": 3, "group": "none"})
    exported = b"".join(response.streaming_content)

    unchanged = importer.preview(exported, user=reference.admin)
    assert (len(unchanged.created), len(unchanged.updated), len(unchanged.unchanged)) == (0, 0, 2)

    book = openpyxl.load_workbook(io.BytesIO(exported))
    ws = book.active
    rows = {ws.cell(r, 3).value: r for r in range(5, ws.max_row + 1)}
    ws.cell(rows["第二个项目"], 12).value = 250  # 本月完成投资 (L)
    ws.cell(rows["益海特油项目"], 11).value = 7000  # 年度计划投资 (K)
    edited = io.BytesIO()
    book.save(edited)  # openpyxl keeps the formulas and drops their values, as some tools do

    result = importer.preview(edited.getvalue(), user=reference.admin)
    assert result.errors == []
    assert {r.name: [(c.label, c.old, c.new) for c in r.changes] for r in result.updated} == {
        "第二个项目": [("本月完成投资", "100.00", "250.00")],
        "益海特油项目": [("年度计划投资", "6,000.00", "7,000.00")],
    }
    importer.apply(result, user=reference.admin, reason="round trip")
    assert MonthlyProgress.objects.get(project=second, month=3).completed_investment == D(250)
    assert MonthlyProgress.objects.get(project=second, month=2).completed_investment == D(100)
    assert AnnualPlan.objects.get(project=reference.existing, year=2023).planned_investment == D(7000)


# --- Files that must be refused -------------------------------------------------------------


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def with_part(data: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    members = {info.filename: source.read(info) for info in source.infolist()}
    members[name] = content
    return zip_bytes(members)


HOSTILE = {
    "empty": (b"", "文件是空的"),
    "text": ("序号,项目名称\n1,甲\n".encode(), "不是 Excel 工作簿"),
    "old xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧版 Excel"),
    "encrypted": (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100 + "EncryptionInfo".encode("utf-16-le"),
        "密码",
    ),
    "damaged zip": (b"PK\x03\x04" + b"\x00" * 200, "损坏"),
    "zip of something else": (zip_bytes({"readme.txt": b"hello"}), "不是 Excel 工作簿"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_are_refused_with_a_clear_message(reference, case):
    data, words = HOSTILE[case]
    with pytest.raises(BadFile) as error:
        preview(data, reference.admin)
    assert words in str(error.value)


@pytest.mark.django_db
def test_zip_bombs_entities_size_and_formula_cells(reference, settings):
    good = ledger(GOOD_ROWS)
    bomb = with_part(good, "xl/media/padding.bin", b"\0" * (420 * 1_048_576))
    assert len(bomb) < 2 * 1_048_576
    with pytest.raises(BadFile, match="zip 炸弹"):
        preview(bomb, reference.admin)

    entity = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><sst>&lol;</sst>'
    with pytest.raises(BadFile, match="XML"):
        preview(with_part(good, "xl/sharedStrings.xml", entity), reference.admin)

    settings.MAX_IMPORT_BYTES = 1000
    with pytest.raises(BadFile, match="0 MB 的上限"):
        preview(good, reference.admin)
    settings.MAX_IMPORT_BYTES = 10 * 1_048_576

    rows = [[1, "益海特油项目", "益海嘉里", None, None, "=1000+1000"] + [None] * 11]
    result = preview(ledger(rows), reference.admin)
    assert [(e.row, e.column) for e in result.errors] == [(7, "2023年计划投资（万元）")]
    assert "公式" in result.errors[0].message


@pytest.mark.django_db
def test_the_period_must_be_known_and_not_ahead(reference):
    # No period in the title: the headers "2023年计划投资" and "1-3月完成投资" give it.
    result = preview(ledger(GOOD_ROWS, title="重点项目台账"), reference.admin)
    assert (result.year, result.month) == (2023, 3)
    book = openpyxl.load_workbook(io.BytesIO(ledger(GOOD_ROWS, title="重点项目台账")))
    book.active["F3"] = "年度计划投资"
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(BadFile, match="填报期间"):
        preview(buffer.getvalue(), reference.admin)
    result = preview(buffer.getvalue(), reference.admin, year=2023, month=3)
    assert result.errors == [] and (result.year, result.month) == (2023, 3)
    with pytest.raises(BadFile, match="尚未开始"):
        preview(ledger(GOOD_ROWS), reference.admin, year=2099, month=1)


@pytest.mark.django_db
def test_amounts_in_yi_from_the_title_line(reference):
    rows = [[1, "益海特油项目", "益海嘉里", None, None, "0.65"] + [None] * 11]
    data = ledger(rows, unit_line="单位：亿元")
    book = openpyxl.load_workbook(io.BytesIO(data))
    book.active["F3"] = "2023年计划投资"  # the header no longer names a unit: the title line's applies
    buffer = io.BytesIO()
    book.save(buffer)
    result = preview(buffer.getvalue(), reference.admin)
    assert [(c.label, c.new) for c in result.updated[0].changes] == [("年度计划投资", "6,500.00")]


# --- The command and the pages ----------------------------------------------------------------


@pytest.mark.django_db
def test_command_previews_writes_and_refuses(reference, tmp_path, capsys):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(ledger(GOOD_ROWS))
    call_command("import_ledger", str(path), "--user", "guanli", "--dry-run")
    out = capsys.readouterr().out
    assert "新建 1 行，更新 1 行" in out and "第7行 更新：益海特油项目" in out and "试运行" in out
    assert not Project.objects.filter(name="瓶坯注塑项目").exists()

    call_command("import_ledger", str(path), "--user", "guanli")
    record = ImportRecord.objects.get()
    assert (record.origin, record.status, record.created_count, record.updated_count) == (
        "command",
        "applied",
        1,
        1,
    )
    assert Project.objects.filter(name="瓶坯注塑项目").exists()

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(ledger([[1, "X", None, None, "abc"] + [None] * 12]))
    with pytest.raises(CommandError, match="1 行有错误"):
        call_command("import_ledger", str(bad), "--user", "guanli")
    assert not Project.objects.filter(name="X").exists()
    with pytest.raises(CommandError):
        call_command("import_ledger", str(path), "--user", "nobody")


@pytest.mark.django_db
def test_upload_preview_confirm_through_the_pages(client, reference):
    client.force_login(reference.staff)
    upload = SimpleUploadedFile("台账.xlsx", ledger(GOOD_ROWS))
    response = client.post(reverse("import_upload", args=["project_ledger"]), {"file": upload})
    record = ImportRecord.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("import_detail", args=[record.pk])
    page = client.get(response["Location"]).content.decode()
    assert "瓶坯注塑项目" in page and "年度计划投资：6,000.00 → 6,500.00" in page
    assert 'id="confirm-form"' in page and "周口瓶坯新材料有限公司" in page
    assert not Project.objects.filter(name="瓶坯注塑项目").exists()

    # Someone else may not see or confirm it.
    other = UserFactory(username="other", roles=[Role.STAFF])
    client.force_login(other)
    assert client.get(reverse("import_detail", args=[record.pk])).status_code == 403
    assert client.post(reverse("import_confirm", args=[record.pk])).status_code == 403

    client.force_login(reference.staff)
    response = client.post(reverse("import_confirm", args=[record.pk]), follow=True)
    assert "已导入" in response.content.decode()
    record.refresh_from_db()
    assert (record.status, record.created_count, record.updated_count) == ("applied", 1, 1)
    assert Project.objects.filter(name="瓶坯注塑项目").exists()
    # Confirming twice writes nothing more.
    response = client.post(reverse("import_confirm", args=[record.pk]), follow=True)
    assert "已经导入" in response.content.decode()
    assert Project.objects.filter(name="瓶坯注塑项目").count() == 1


@pytest.mark.history_bypass("simulates someone else's change")
@pytest.mark.django_db
def test_data_changed_after_the_preview_is_not_applied_blindly(client, reference):
    client.force_login(reference.admin)
    client.post(
        reverse("import_upload", args=["project_ledger"]),
        {"file": SimpleUploadedFile("a.xlsx", ledger(GOOD_ROWS))},
    )
    record = ImportRecord.objects.get()
    AnnualPlan.objects.filter(project=reference.existing).update(planned_investment=D("6100.00"))
    response = client.post(reverse("import_confirm", args=[record.pk]), follow=True)
    assert "预览之后数据有变化" in response.content.decode()
    assert not Project.objects.filter(name="瓶坯注塑项目").exists()
    # The page now shows the new preview, and confirming it applies it.
    assert "6,100.00 → 6,500.00" in response.content.decode()
    client.post(reverse("import_confirm", args=[record.pk]))
    assert Project.objects.filter(name="瓶坯注塑项目").exists()


@pytest.mark.django_db
def test_bad_uploads_re_render_the_form(client, reference):
    client.force_login(reference.staff)
    url = reverse("import_upload", args=["project_ledger"])
    response = client.post(url, {"file": SimpleUploadedFile("x.xlsx", b"not a workbook")})
    assert response.status_code == 200 and "不是 Excel 工作簿" in response.content.decode()
    response = client.post(url, {"file": SimpleUploadedFile("x.xlsx", ledger(GOOD_ROWS)), "year": 2023})
    assert "年份和月份" in response.content.decode()
    assert ImportRecord.objects.count() == 0
    # Leaders and units do not import; an unknown kind is not a page.
    client.force_login(UserFactory(username="lingdao", roles=[Role.LEADER]))
    assert client.get(url).status_code == 403
    client.force_login(reference.staff)
    assert client.get(reverse("import_upload", args=["bogus"])).status_code == 404


@pytest.mark.django_db
def test_rows_with_errors_are_listed_on_the_preview_page(client, reference):
    client.force_login(reference.admin)
    rows = [[1, "坏项目", "甲公司", None, "abc"] + [None] * 12]
    client.post(
        reverse("import_upload", args=["project_ledger"]),
        {"file": SimpleUploadedFile("a.xlsx", ledger(rows))},
    )
    record = ImportRecord.objects.get()
    assert record.status == "failed" and record.error_count == 1
    page = client.get(reverse("import_detail", args=[record.pk])).content.decode()
    assert 'id="import-errors"' in page and "不是数字" in page and 'id="confirm-form"' not in page
    assert LeaderFactory._meta.model.objects.count() == 0


@pytest.mark.django_db
def test_an_enterprise_list_goes_through_the_same_pages(client, reference):
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["周口经济开发区企业名录"])
    ws.append(["序号", "企业名称", "统一社会信用代码", "所属园区"])
    ws.append([1, "周口新材料科技有限公司", None, "健康食品产业园"])
    ws.append([2, "益海嘉里（周口）食品工业有限公司", None, "食品园"])
    buffer = io.BytesIO()
    book.save(buffer)
    client.force_login(reference.staff)
    upload = SimpleUploadedFile("名录.xlsx", buffer.getvalue())
    response = client.post(reverse("import_upload", args=["enterprises"]), {"file": upload})
    record = ImportRecord.objects.get()
    assert record.kind == "enterprises" and response["Location"] == reverse("import_detail", args=[record.pk])
    page = client.get(response["Location"]).content.decode()
    assert "周口新材料科技有限公司" in page and 'id="confirm-form"' in page
    assert "年份" not in client.get(reverse("import_upload", args=["enterprises"])).content.decode()
    client.post(reverse("import_confirm", args=[record.pk]))
    assert Enterprise.objects.get(name="周口新材料科技有限公司").park == reference.park
    record.refresh_from_db()
    assert (record.status, record.created_count, record.updated_count) == ("applied", 1, 1)
    assert Enterprise.objects.get(pk=reference.builder.pk).park == reference.park  # found by its other name
    assert client.get(reverse("import_list")).content.decode().count("名录.xlsx") == 1


@pytest.mark.history_bypass("simulates someone else's change")
@pytest.mark.django_db
def test_a_project_saved_between_preview_and_write_stops_the_import(reference):
    result = preview(ledger(GOOD_ROWS), reference.admin)
    Project.objects.filter(pk=reference.existing.pk).update(version=5)  # someone saved it meanwhile
    with pytest.raises(ValidationError, match="重新预览"):
        importer.apply(result, user=reference.admin, reason="x")
    assert not Project.objects.filter(name="瓶坯注塑项目").exists()


@pytest.mark.django_db
def test_the_months_figure_wins_over_a_year_to_date_that_disagrees(reference):
    """With both columns, 本月完成投资 is imported; a 1—N月累计 that disagrees is pointed out."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["周口经济开发区2023年1—3月重点项目台账"])
    ws.append(["序号", "项目名称", "建设单位", "本月完成投资", "1—3月累计完成投资"])
    ws.append([1, "益海特油项目", "益海嘉里", 300, 1500])  # 500 + 700 + 300: agrees
    buffer = io.BytesIO()
    book.save(buffer)
    result = preview(buffer.getvalue(), reference.admin)
    assert result.warnings == [] and result.updated[0].changes[0].new == "300.00"
    ws["E3"] = 9999
    buffer = io.BytesIO()
    book.save(buffer)
    result = preview(buffer.getvalue(), reference.admin)
    assert [(w.row, w.column, w.value) for w in result.warnings] == [(3, "1—3月累计完成投资", "9999.00")]
    assert "1200.00" in result.warnings[0].message and "300.00" in result.warnings[0].message
    assert [(c.label, c.new) for c in result.updated[0].changes] == [("本月完成投资", "300.00")]
    importer.apply(result, user=reference.admin, reason="x")
    # Imported again, the same file changes nothing: the month's figure is already recorded.
    again = preview(buffer.getvalue(), reference.admin)
    assert (len(again.updated), len(again.unchanged)) == (0, 1)


@pytest.mark.history_bypass("simulates someone else's change")
@pytest.mark.django_db
def test_a_start_after_the_projects_own_completion_is_an_error(reference):
    Project.objects.filter(pk=reference.existing.pk).update(planned_completion=datetime.date(2022, 12, 31))
    result = preview(ledger(GOOD_ROWS), reference.admin)
    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (7, "开工时间 / 计划", "计划竣工时间早于计划开工时间")
    ]


@pytest.mark.django_db
def test_a_preview_whose_file_is_gone_says_so(client, reference):
    client.force_login(reference.admin)
    client.post(
        reverse("import_upload", args=["project_ledger"]),
        {"file": SimpleUploadedFile("a.xlsx", ledger(GOOD_ROWS))},
    )
    record = ImportRecord.objects.get()
    record.file.storage.delete(record.file.name)
    page = client.get(reverse("import_detail", args=[record.pk]))
    assert page.status_code == 200 and "不在服务器上" in page.content.decode()
    response = client.post(reverse("import_confirm", args=[record.pk]), follow=True)
    assert "不在服务器上" in response.content.decode()
    assert not Project.objects.filter(name="瓶坯注塑项目").exists()


# --- Blank is not zero; zero is confirmed; an unchanged figure keeps its status (issue 20) -----------


def simple_ledger(header: list, rows: list, *, title="周口经济开发区2023年1—3月重点项目台账") -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append([title])
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def march(reference, **fields) -> MonthlyProgress:
    return MonthlyProgressFactory(project=reference.existing, year=2023, month=3, **fields)


@pytest.mark.django_db
def test_lowering_a_figure_to_zero_is_listed_apart_and_written_only_when_confirmed(reference):
    report = march(reference, completed_investment=D("3920.00"), status=ProgressStatus.SUBMITTED)
    data = simple_ledger(
        ["序号", "项目名称", "建设单位", "年度计划投资", "本月完成投资"],
        [[1, "益海特油项目", "益海嘉里", 0, 0]],
    )
    result = preview(data, reference.admin)
    assert result.errors == [] and result.warnings == []
    assert [(row.name, c.label, c.old, c.new) for row, c in result.erasures] == [
        ("益海特油项目", "年度计划投资", "6,000.00", "0.00"),
        ("益海特油项目", "本月完成投资", "3,920.00", "0.00"),
    ]
    lines = importer.preview_text(result)
    assert "将清零或清空的数值 2 项" in lines
    assert "第3行 益海特油项目：本月完成投资 3,920.00 → 0.00" in lines

    with pytest.raises(ValidationError, match="清零"):
        importer.apply(result, user=reference.admin, reason="x")
    report.refresh_from_db()
    assert (report.completed_investment, report.status, report.version) == (D("3920.00"), "submitted", 1)
    assert AnnualPlan.objects.get(project=reference.existing, year=2023).planned_investment == D(6000)

    importer.apply(result, user=reference.admin, reason="x", confirm_erasures=True)
    report.refresh_from_db()
    assert (report.completed_investment, report.status) == (D("0.00"), ProgressStatus.APPROVED)
    assert AnnualPlan.objects.get(project=reference.existing, year=2023).planned_investment == D(0)


@pytest.mark.django_db
def test_blank_cells_and_the_ledgers_pending_words_change_nothing(reference):
    report = march(
        reference,
        completed_investment=D("3920.00"),
        status=ProgressStatus.DRAFT,
        physical_progress="主体完工",
        problems="缺电",
    )
    header = ["序号", "项目名称", "建设单位", "年度计划投资", "本月完成投资", "形象进度", "存在问题"]
    for progress, problems in (("草稿", "审核中"), ("已退回", None), (None, "—")):
        data = simple_ledger(header, [[1, "益海特油项目", "益海嘉里", None, None, progress, problems]])
        result = preview(data, reference.admin)
        assert (len(result.updated), len(result.unchanged), result.warnings) == (0, 1, [])
    report.refresh_from_db()
    assert (report.completed_investment, report.physical_progress, report.problems) == (
        D("3920.00"),
        "主体完工",
        "缺电",
    )


@pytest.mark.django_db
def test_a_changed_text_keeps_the_reports_status_and_a_changed_figure_restates_it(reference):
    report = march(
        reference,
        completed_investment=D("3920.00"),
        status=ProgressStatus.SUBMITTED,
        submitted_by=reference.staff,
        reviewed_by=None,
        reviewed_at=None,
    )
    header = ["序号", "项目名称", "建设单位", "本月完成投资", "形象进度"]
    result = preview(
        simple_ledger(header, [[1, "益海特油项目", "益海嘉里", 3920, "设备安装"]]), reference.admin
    )
    assert [(c.label, c.new) for c in result.updated[0].changes] == [("形象进度", "设备安装")]
    importer.apply(result, user=reference.admin, reason="x")
    report.refresh_from_db()
    # An administrator's import approves nothing whose figure it leaves as it is.
    assert (report.physical_progress, report.status, report.submitted_by, report.reviewed_by) == (
        "设备安装",
        ProgressStatus.SUBMITTED,
        reference.staff,
        None,
    )
    assert report.completed_investment == D("3920.00")

    result = preview(simple_ledger(header, [[1, "益海特油项目", "益海嘉里", 4000, None]]), reference.admin)
    importer.apply(result, user=reference.admin, reason="y")
    report.refresh_from_db()
    assert (report.completed_investment, report.status, report.reviewed_by) == (
        D("4000.00"),
        ProgressStatus.APPROVED,
        reference.admin,
    )


@pytest.mark.django_db
def test_text_for_a_month_without_a_report_makes_a_draft_not_a_zero(reference):
    header = ["序号", "项目名称", "建设单位", "本月完成投资", "形象进度"]
    result = preview(
        simple_ledger(header, [[1, "益海特油项目", "益海嘉里", None, "桩基施工"]]), reference.admin
    )
    assert [(c.label, c.old, c.new) for c in result.updated[0].changes] == [("形象进度", "—", "桩基施工")]
    importer.apply(result, user=reference.admin, reason="x")
    report = MonthlyProgress.objects.get(project=reference.existing, year=2023, month=3)
    assert (report.status, report.physical_progress, report.submitted_by) == (
        ProgressStatus.DRAFT,
        "桩基施工",
        None,
    )


@pytest.mark.django_db
def test_a_year_to_date_equal_to_what_is_recorded_changes_nothing(reference):
    """January 500 and February 700 are approved; March's 300 is a draft. A ledger with only 1—3月
    counts it one way or another: 1200 (approved reports) or 1500 (every report) change nothing;
    1300 sets March to 100."""
    march(reference, completed_investment=D("300.00"), status=ProgressStatus.DRAFT)

    def ytd_only(value):
        return ledger([[1, "益海特油项目", "益海嘉里", None, None, None, value] + [None] * 10])

    for value in (1200, 1500):
        result = preview(ytd_only(value), reference.admin)
        assert (len(result.updated), result.warnings, result.errors) == (0, [], []), value
    result = preview(ytd_only(1300), reference.admin)
    assert [(c.label, c.old, c.new) for c in result.updated[0].changes] == [
        ("本月完成投资", "300.00", "100.00")
    ]
    assert result.erasures == []


@pytest.mark.django_db
def test_a_blank_month_with_a_year_to_date_that_disagrees_is_pointed_out_not_imported(reference):
    march(reference, completed_investment=D("300.00"), status=ProgressStatus.APPROVED)
    header = ["序号", "项目名称", "建设单位", "本月完成投资", "1—3月累计完成投资"]
    result = preview(simple_ledger(header, [[1, "益海特油项目", "益海嘉里", None, 1500]]), reference.admin)
    assert (len(result.updated), result.warnings) == (0, [])
    result = preview(simple_ledger(header, [[1, "益海特油项目", "益海嘉里", None, 9999]]), reference.admin)
    assert len(result.updated) == 0
    assert [(w.row, w.column, w.value) for w in result.warnings] == [(3, "1—3月累计完成投资", "9999.00")]
    assert "1500.00" in result.warnings[0].message


@pytest.mark.history_bypass("sets the project's leader directly")
@pytest.mark.django_db
def test_leaders_are_found_by_name_and_title_and_namesakes_by_the_projects_own(reference):
    deputy = LeaderFactory(name="张主任", title="副主任")
    head = LeaderFactory(name="张主任", title="主任")
    Project.objects.filter(pk=reference.existing.pk).update(responsible_leader=head)
    other = ProjectFactory(name="另一个项目", enterprise=None, responsible_unit=reference.unit)
    header = ["序号", "项目名称", "建设单位", "责任领导"]
    # As the ledger writes it (the name) and as the bulletin does (name and title): unchanged.
    for text in ("张主任", "张主任（主任）"):
        result = preview(simple_ledger(header, [[1, "益海特油项目", "益海嘉里", text]]), reference.admin)
        assert (len(result.unchanged), result.errors, result.new_leaders) == (1, [], []), text
    result = preview(
        simple_ledger(header, [[1, "益海特油项目", "益海嘉里", "张主任(副主任)"]]), reference.admin
    )
    assert [(c.old, c.new) for c in result.updated[0].changes] == [("张主任（主任）", "张主任（副主任）")]
    importer.apply(result, user=reference.admin, reason="x")
    assert Project.objects.get(pk=reference.existing.pk).responsible_leader == deputy
    # A project led by neither: the name alone is ambiguous.
    result = preview(simple_ledger(header, [[1, "另一个项目", None, "张主任"]]), reference.admin)
    assert [e.message for e in result.errors] == ["有多位同名领导：请在项目页面上指定"] and other


@pytest.mark.django_db
def test_stage_changes_are_dated_in_the_zones_time_zone_just_after_midnight(reference, monkeypatch):
    """17:30 UTC on 31 December is 01:30 on 1 January in Shanghai: both stage changes are dated
    1 January. (A moment after the fixtures' own, so the import's history rows are the latest.)"""
    moment = datetime.datetime(2099, 12, 31, 17, 30, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    header = ["序号", "项目名称", "建设单位", "当前阶段"]
    rows = [[1, "益海特油项目", "益海嘉里", "投产"], [2, "午夜新项目", "午夜企业", "建设"]]
    result = preview(simple_ledger(header, rows), reference.admin)
    assert result.errors == []
    importer.apply(result, user=reference.admin, reason="x")
    dates = {c.project.name: c.changed_on for c in StageChange.objects.select_related("project")}
    assert dates == {"益海特油项目": datetime.date(2100, 1, 1), "午夜新项目": datetime.date(2100, 1, 1)}


def renamed_parts(data: bytes, renames: dict[str, str]) -> bytes:
    """The workbook with worksheet parts renamed, its relationships and content types following."""
    source = zipfile.ZipFile(io.BytesIO(data))
    members = {}
    for info in source.infolist():
        content = source.read(info)
        if info.filename in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
            text = content.decode()
            # Through placeholders, so two parts can swap names.
            for index, old in enumerate(renames):
                text = text.replace(old.removeprefix("xl/"), f"@{index}@")
            for index, new in enumerate(renames.values()):
                text = text.replace(f"@{index}@", new.removeprefix("xl/"))
            content = text.encode()
        members[renames.get(info.filename, info.filename)] = content
    return zip_bytes(members)


@pytest.mark.django_db
def test_formula_cells_are_found_through_the_workbooks_relationships(reference):
    """The ledger is the second sheet, stored as data.xml; a part called sheet2.xml holds the first
    sheet (a note). The formula without a value is still found where it is."""
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["本表由统计科整理"])
    ws = book.create_sheet("台账")
    ws.append(["周口经济开发区2023年1—3月重点项目台账"])
    ws.append(["序号", "项目名称", "建设单位", "年度计划投资"])
    ws.append([1, "益海特油项目", "益海嘉里", "=1000+1000"])
    buffer = io.BytesIO()
    book.save(buffer)
    data = renamed_parts(
        buffer.getvalue(),
        {
            "xl/worksheets/sheet2.xml": "xl/worksheets/data.xml",
            "xl/worksheets/sheet1.xml": "xl/worksheets/sheet2.xml",
        },
    )
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "xl/worksheets/data.xml" in names and "xl/worksheets/sheet1.xml" not in names

    result = preview(data, reference.admin)
    assert [(e.row, e.column) for e in result.errors] == [(3, "年度计划投资")]
    assert "公式" in result.errors[0].message


def zeroing_file() -> bytes:
    return simple_ledger(
        ["序号", "项目名称", "建设单位", "本月完成投资"], [[1, "益海特油项目", "益海嘉里", 0]]
    )


@pytest.mark.django_db
def test_the_preview_page_lists_figures_set_to_zero_and_confirming_needs_the_box(client, reference):
    report = march(reference, completed_investment=D("3920.00"), status=ProgressStatus.SUBMITTED)
    client.force_login(reference.admin)
    client.post(
        reverse("import_upload", args=["project_ledger"]),
        {"file": SimpleUploadedFile("清零.xlsx", zeroing_file())},
    )
    record = ImportRecord.objects.get()
    assert (record.erasure_count, record.erasures) == (
        1,
        [{"row": 3, "name": "益海特油项目", "label": "本月完成投资", "old": "3,920.00", "new": "0.00"}],
    )
    page = client.get(reverse("import_detail", args=[record.pk])).content.decode()
    assert 'id="import-erasures"' in page and "将清零或清空的数值 1 项" in page
    assert "3,920.00 → 0.00" in page.split('id="import-erasures"')[1]
    assert 'name="confirm_erasures"' in page and 'id="import-blank-rule"' in page

    response = client.post(reverse("import_confirm", args=[record.pk]), follow=True)
    assert "请在“将清零或清空的数值”下勾选确认" in response.content.decode()
    record.refresh_from_db()
    report.refresh_from_db()
    assert (record.status, report.completed_investment, report.version) == ("previewed", D("3920.00"), 1)

    client.post(reverse("import_confirm", args=[record.pk]), {"confirm_erasures": "1"})
    record.refresh_from_db()
    report.refresh_from_db()
    assert (record.status, report.completed_investment, report.status) == ("applied", D("0.00"), "approved")


@pytest.mark.django_db
def test_the_command_writes_figures_set_to_zero_only_when_told_to(reference, tmp_path, capsys):
    report = march(reference, completed_investment=D("3920.00"), status=ProgressStatus.APPROVED)
    path = tmp_path / "清零.xlsx"
    path.write_bytes(zeroing_file())
    with pytest.raises(CommandError, match="--confirm-erasures"):
        call_command("import_ledger", str(path), "--user", "guanli")
    assert "将清零或清空的数值 1 项" in capsys.readouterr().out
    report.refresh_from_db()
    assert report.completed_investment == D("3920.00") and not ImportRecord.objects.exists()

    call_command("import_ledger", str(path), "--user", "guanli", "--confirm-erasures")
    report.refresh_from_db()
    assert report.completed_investment == D("0.00")


@pytest.mark.django_db
def test_a_published_months_figures_are_not_imported(reference):
    """Publishing locks a month for the importer as for the pages, even if published after the preview."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["周口经济开发区2023年1—3月重点项目台账"])
    ws.append(["序号", "项目名称", "建设单位", "本月完成投资"])
    ws.append([1, "益海特油项目", "益海嘉里", 300])
    buffer = io.BytesIO()
    book.save(buffer)
    result = preview(buffer.getvalue(), reference.admin)
    assert not result.errors and len(result.updated) == 1
    march = MonthlyProgress.objects.filter(year=2023, month=3)
    before = sorted(march.values_list("pk", "completed_investment", "status"))
    services.month_publish(year=2023, month=3, user=reference.admin)

    refused = preview(buffer.getvalue(), reference.admin)
    assert [e.column for e in refused.errors] and "2023年03月已发布" in refused.errors[0].message
    with transaction.atomic():
        with pytest.raises(ValidationError):
            importer.apply(preview(buffer.getvalue(), reference.admin), user=reference.admin, reason="x")
    assert sorted(march.values_list("pk", "completed_investment", "status")) == before


# --- The sanity checks of a month's figure (projects.checks) ------------------------------------
# The registered project: 30,000 万元 in all, 6,000 planned for 2023, January 500 and February 700.

CHECKED_HEADER = ["序号", "项目名称", "建设单位", "总投资", "年度计划投资", "本月完成投资"]


def checked_file(*rows) -> bytes:
    return simple_ledger(CHECKED_HEADER, list(rows))


@pytest.mark.django_db
def test_figures_the_checks_hold_back_are_listed_with_their_warnings_and_need_the_confirmation(
    reference,
):
    data = checked_file(
        # 500 + 700 + 5,000 = 6,200 for months 1–3: above the plan of 6,000.
        [1, "益海特油项目", "益海嘉里", None, None, 5000],
        # A new project of 1,000 in all reporting 1,200: above its total (it has no history).
        [2, "瓶坯注塑项目", "周口瓶坯新材料有限公司", 1000, None, 1200],
    )
    result = preview(data, reference.admin)
    assert result.errors == [] and result.erasures == []
    held = [(row.name, c.label, c.new, [w["code"] for w in c.warnings]) for row, c in result.held]
    assert held == [
        ("益海特油项目", "本月完成投资", "5,000.00", ["above_plan"]),
        ("瓶坯注塑项目", "本月完成投资", "1,200.00", ["above_total"]),
    ]
    assert result.held[0][1].warnings[0]["message"] == (
        "2023年1–3月累计完成投资将达到 6,200.00 万元，超过本年度计划投资（6,000.00 万元）。"
    )
    lines = importer.preview_text(result)
    assert "需核实的数值 2 项" in lines
    assert (
        "第4行 瓶坯注塑项目：本月完成投资 1,200.00：累计完成投资超过总投资："
        "累计完成投资将达到 1,200.00 万元，超过项目总投资（1,000.00 万元）。"
    ) in lines

    with pytest.raises(ValidationError, match="需要核实"):
        importer.apply(result, user=reference.admin, reason="Excel导入 #7（台账.xlsx）")
    assert not MonthlyProgress.objects.filter(month=3).exists()
    assert not Project.objects.filter(name="瓶坯注塑项目").exists()

    importer.apply(result, user=reference.admin, reason="Excel导入 #7（台账.xlsx）", confirm_warnings=True)
    reasons = dict(
        MonthlyProgress.history.filter(month=3).values_list("project__name", "history_change_reason")
    )
    assert reasons == {
        "益海特油项目": "经用户核实确认保存：超过本年度计划投资；Excel导入 #7（台账.xlsx）",
        "瓶坯注塑项目": "经用户核实确认保存：累计完成投资超过总投资；Excel导入 #7（台账.xlsx）",
    }


@pytest.mark.django_db
def test_a_plan_or_total_set_in_the_same_row_is_what_the_figure_is_checked_against(reference):
    # The plan raised to 8,000 holds 6,200; the total lowered to 5,000 does not hold 500 + 700 + 5,000.
    result = preview(checked_file([1, "益海特油项目", "益海嘉里", 5000, 8000, 5000]), reference.admin)
    assert [[w["code"] for w in c.warnings] for _row, c in result.held] == [["above_total"]]


@pytest.mark.django_db
def test_the_issues_figure_is_an_error_on_its_row(reference):
    result = preview(
        checked_file([1, "益海特油项目", "益海嘉里", None, None, "99999999999"]), reference.admin
    )
    [issue] = result.errors
    assert (issue.row, issue.column, issue.value) == (3, "本月完成投资", "99999999999.00")
    assert issue.message == (
        "单月完成投资 99,999,999,999.00 万元，超过项目总投资（30,000.00 万元）的十倍，不予保存："
        "请核对数字及单位（万元）。"
    )


@pytest.mark.django_db
def test_the_preview_page_lists_figures_to_check_and_confirming_needs_their_box(client, reference):
    client.force_login(reference.admin)
    client.post(
        reverse("import_upload", args=["project_ledger"]),
        {
            "file": SimpleUploadedFile(
                "超计划.xlsx", checked_file([1, "益海特油项目", "益海嘉里", None, None, 5000])
            )
        },
    )
    record = ImportRecord.objects.get()
    assert record.held_count == 1
    assert [(item["name"], item["new"], [w["code"] for w in item["warnings"]]) for item in record.held] == [
        ("益海特油项目", "5,000.00", ["above_plan"])
    ]
    page = client.get(reverse("import_detail", args=[record.pk])).content.decode()
    held = page.split('id="import-held"')[1]
    assert "需核实的数值 1 项" in held and "超过本年度计划投资" in held and "6,200.00" in held
    assert 'name="confirm_warnings"' in page

    response = client.post(reverse("import_confirm", args=[record.pk]), follow=True)
    assert "请在“需核实的数值”下勾选确认" in response.content.decode()
    record.refresh_from_db()
    assert record.status == "previewed" and not MonthlyProgress.objects.filter(month=3).exists()

    client.post(reverse("import_confirm", args=[record.pk]), {"confirm_warnings": "1"})
    record.refresh_from_db()
    assert record.status == "applied"
    report = MonthlyProgress.objects.get(month=3)
    assert report.completed_investment == D("5000.00")
    assert report.history.get().history_change_reason.startswith(
        "经用户核实确认保存：超过本年度计划投资；Excel导入"
    )


@pytest.mark.django_db
def test_the_command_writes_figures_to_check_only_when_told_to(reference, tmp_path, capsys):
    path = tmp_path / "超计划.xlsx"
    path.write_bytes(checked_file([1, "益海特油项目", "益海嘉里", None, None, 5000]))
    with pytest.raises(CommandError, match="--confirm-warnings"):
        call_command("import_ledger", str(path), "--user", "guanli")
    assert "需核实的数值 1 项" in capsys.readouterr().out
    assert not MonthlyProgress.objects.filter(month=3).exists() and not ImportRecord.objects.exists()

    call_command("import_ledger", str(path), "--user", "guanli", "--confirm-warnings")
    assert MonthlyProgress.objects.get(month=3).completed_investment == D("5000.00")


@pytest.mark.django_db
def test_a_file_with_a_long_name_imports_with_its_name_shortened_in_the_history(client, reference):
    """The history's reason holds 100 characters; PostgreSQL refused a longer one and lost the import."""
    client.force_login(reference.staff)
    name = "周口经济开发区" + "重点项目建设台账" * 20 + ".xlsx"
    client.post(
        reverse("import_upload", args=["project_ledger"]),
        {"file": SimpleUploadedFile(name, ledger(GOOD_ROWS))},
    )
    record = ImportRecord.objects.get()
    response = client.post(reverse("import_confirm", args=[record.pk]), follow=True)
    assert "已导入" in response.content.decode()
    reason = (
        Project.history.filter(history_import=record).values_list("history_change_reason", flat=True).first()
    )
    assert reason.startswith(f"Excel导入 #{record.pk}（周口经济开发区重点项目") and reason.endswith("…）")
    assert len(reason) == 100
