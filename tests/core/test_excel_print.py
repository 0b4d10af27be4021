"""Every workbook the portal writes, printed to PDF by LibreOffice (one run for all), reads whole
and legibly on its paper: each cell's full text is in the PDF (a 项目编码 whole, long 建设内容 and
存在问题 included), no row's text runs over the next, no type is printed below 70 %, and a sheet too
wide for one page repeats its key columns on each page across.

The world is small (four projects, two problems) but its texts are as long as a zone's.
"""

import datetime
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from core.excel import (
    A3_LANDSCAPE,
    A4_PORTRAIT,
    MIN_PRINT_SCALE,
    column_mm,
    print_layout,
    row_height,
    text_lines,
)
from core.roles import Role
from problems import services
from problems.choices import ProblemCategory, Satisfaction
from projects.choices import BatchRole, Level, MilestoneKind, MilestoneStatus, ProgressStatus
from tests.excel_helpers import (
    convert_all_to_pdf,
    overlapping_words,
    pdf_pages,
    pdf_words,
    read_workbook,
    shown_texts,
    squeeze,
    workbook_bytes,
)
from tests.factories import (
    AnnualPlanFactory,
    ApprovalMilestoneFactory,
    BatchFactory,
    BatchMembershipFactory,
    DepartmentFactory,
    EnterpriseFactory,
    IndustryFactory,
    LeaderFactory,
    MonthlyProgressFactory,
    ParkFactory,
    ProjectFactory,
    UserFactory,
    at,
    make_ticket,
)

D = Decimal
CODE = "2019-411600-65-03-002137"
CONTENT = (
    "新建标准化生产厂房及配套设施，总建筑面积约12.6万平方米，购置国内外先进的休闲食品生产线8条、"
    "冷链食品生产线3条，建成后年产休闲食品5万吨、速冻食品3万吨；配套建设研发中心、质量检测中心、"
    "冷链仓储物流中心和员工宿舍，同步建设污水处理站及屋顶分布式光伏发电设施。"
)
PROGRESS = (
    "1号、2号生产车间主体结构封顶，正在进行屋面防水及外墙保温施工；3号车间完成基础施工；"
    "研发中心完成桩基检测，冷链仓库钢结构进场安装，累计完成形象进度约45%。"
)
PROBLEMS = "二期用地约86亩尚未完成征收，影响冷链仓库和污水处理站开工；施工用电增容申请已报供电公司待批复。"
UNIT = "科技创新和人才服务局（知识产权局）"
PROBLEM = "企业新建冷链仓库需办理建设工程规划许可证，因二期用地尚未完成征收，无法提交用地手续"
RESOLUTION = (
    "区自然资源和规划分局会同住建局现场办公，明确先行办理一期用地范围内的规划许可，二期用地"
    "征收完成后补办；企业已于3月14日取得建设工程规划许可证，冷链仓库一期已开工建设。"
)
YEAR, MONTH = 2024, 3
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def world(db):
    leader = UserFactory(username="lingdao", roles=[Role.LEADER, Role.ADMIN])
    staff = UserFactory(username="zhuanyuan", roles=[Role.STAFF])
    office = UserFactory(username="duban", roles=[Role.SUPERVISOR])
    unit = DepartmentFactory(name=UNIT)
    handler = UserFactory(username="keji", roles=[Role.UNIT], department=unit)
    park = ParkFactory(name="周口经济开发区健康食品产业园")
    enterprise = EnterpriseFactory(name="河南省周口市健康食品科技股份有限公司", park=park)
    common = {
        "park": park,
        "industry": IndustryFactory(name="休闲食品及冷链食品制造"),
        "responsible_leader": LeaderFactory(name="张建国", title="管委会副主任"),
        "responsible_unit": unit,
        "enterprise": enterprise,
    }
    food = ProjectFactory(
        code=CODE,
        name="周口健康食品产业园年产5万吨休闲食品及冷链物流建设项目",
        level=Level.PROVINCIAL,
        construction_content=CONTENT,
        total_investment=D("125000"),
        actual_start=datetime.date(2024, 2, 18),
        **common,
    )
    lagging = ProjectFactory(name="智能装备制造产业园标准化厂房二期工程", level=Level.MUNICIPAL, **common)
    silent = ProjectFactory(name="现代物流园区综合服务中心项目", level=Level.ZONE, **common)
    ProjectFactory(name="商务中心区人才公寓", **common)  # no plan for the year
    for project, plan in ((food, 30000), (lagging, 8000), (silent, 4000)):
        AnnualPlanFactory(project=project, year=YEAR, planned_investment=D(plan))
    for month in (1, 2, 3):
        MonthlyProgressFactory(
            project=food,
            year=YEAR,
            month=month,
            completed_investment=D(2500),
            physical_progress=PROGRESS if month == MONTH else "主体结构施工",
            problems=PROBLEMS if month == MONTH else "",
        )
    MonthlyProgressFactory(project=lagging, year=YEAR, month=1, completed_investment=D(100))
    MonthlyProgressFactory(
        project=lagging, year=YEAR, month=3, completed_investment=D(300), status=ProgressStatus.SUBMITTED
    )
    ApprovalMilestoneFactory(project=food, kind=MilestoneKind.PROJECT_FILING, status=MilestoneStatus.DONE,
                             completed_date=datetime.date(2023, 11, 2))  # fmt: skip
    ApprovalMilestoneFactory(
        project=food,
        kind=MilestoneKind.CONSTRUCTION_PERMIT,
        status=MilestoneStatus.IN_PROGRESS,
        planned_date=datetime.date(2024, 4, 30),
        department=DepartmentFactory(name="住房和城乡建设局（人民防空办公室）"),
    )
    batch = BatchFactory(number=7)
    BatchMembershipFactory(batch=batch, project=food, role=BatchRole.START)
    BatchMembershipFactory(batch=batch, project=lagging, role=BatchRole.SIGN)

    solved = make_ticket(user=staff, collected_at=at(2024, 3, 4), enterprise=enterprise,
                         category=ProblemCategory.LAND, title=PROBLEM, description=PROBLEMS)  # fmt: skip
    services.ticket_assign(ticket=solved, user=office, unit=unit, at=at(2024, 3, 4, 11))
    services.ticket_resolve(ticket=solved, user=handler, resolution=RESOLUTION, at=at(2024, 3, 14))
    services.ticket_close(ticket=solved, user=office, at=at(2024, 3, 15))
    services.ticket_rate(ticket=solved, user=staff, satisfaction=Satisfaction.SATISFIED,
                         comment="问题解决及时，感谢各部门靠前服务", at=at(2024, 3, 18))  # fmt: skip
    other = EnterpriseFactory(name="周口智能装备有限公司")
    make_ticket(user=staff, collected_at=at(2024, 3, 6), enterprise=other, category=ProblemCategory.FINANCING,
                title="流动资金贷款难", description=PROBLEMS)  # fmt: skip
    return leader


# --- The layout, worked out by hand ------------------------------------------------------------------
# A column w characters wide prints (7w + 5) px = (7w + 5) × 25.4 / 96 mm at 100 %. A3 landscape holds
# (420 − 2 × 10.16) × 0.93 = 371.7 mm a page, A4 portrait 176.4 mm.


def test_a_narrow_sheet_prints_at_full_size_on_one_page():
    assert column_mm(10) == 75 * 25.4 / 96
    layout = print_layout([10] * 8, paper=A4_PORTRAIT)  # 158.8 mm
    assert (layout.scale, layout.pages) == (100, ((0, 7),))


def test_a_sheet_a_little_too_wide_is_scaled_to_one_page_but_no_further():
    layout = print_layout([20] * 12, paper=A3_LANDSCAPE)  # 12 × 38.4 = 460.4 mm: 371.7 / 460.4 = 80.7 %
    assert (layout.scale, layout.pages) == (80, ((0, 11),))


def test_a_wide_sheet_goes_over_pages_across_with_its_key_columns_not_cutting_a_group():
    # 30 columns of 38.4 mm (1151 mm) need three pages at 70 %, and keep to three up to 80 %: a page
    # holds 464.6 mm, 12 columns (460.4 mm); then the two key columns (76.7 mm) and 10 more; then the
    # key columns and the last 8. At 81 % (458.9 mm a page) it takes four.
    widths = [20] * 30
    layout = print_layout(widths, paper=A3_LANDSCAPE, key_columns=2)
    assert layout.scale == 80
    assert layout.pages == ((0, 11), (12, 21), (22, 29))
    # Columns 10–14 under one header: the first page ends before them rather than inside.
    groups = [None] * 10 + ["投资情况"] * 5 + [None] * 15
    layout = print_layout(widths, paper=A3_LANDSCAPE, key_columns=2, groups=groups)
    assert layout.pages[0] == (0, 9) and layout.pages[1][0] == 10


def test_a_wrapped_text_needs_a_line_for_each_column_width_of_it():
    assert text_lines("经济发展局", 14) == 1  # 10 of 13 usable
    assert text_lines("科技创新和人才服务局（知识产权局）", 14) == 3  # 34 / 13
    assert text_lines("第一行\n第二行", 14) == 2
    assert text_lines("2019-411600-65-03-002137", 14) == 2  # 24 / 13
    assert row_height(3) == 3 * 13.5 + 3
    assert row_height(100) == 409  # Excel's highest row


EXPORTS = {
    "ledger": ("projects:export", {"year": YEAR, "month": MONTH, "group": "park"}),
    "bulletin": ("dashboard_export", {"report": "bulletin", "year": YEAR, "month": MONTH}),
    "batches": ("dashboard_export", {"report": "batches", "year": YEAR, "month": MONTH}),
    "milestones": ("projects:milestone_export", {}),
    "problems": ("enterprises:ticket_export", {}),
    "problem_summary": ("enterprises:ticket_summary_export", {"kind": "month", "year": YEAR, "month": MONTH}),
    "change_log": ("change_log_export", {}),
}


@pytest.mark.slow
def test_every_workbook_prints_whole_and_legibly(world, client, tmp_path):
    client.force_login(world)
    workbooks = {}
    for name, (url, params) in EXPORTS.items():
        response = client.get(reverse(url), params)
        assert response.status_code == 200, (name, response.content[:300])
        workbooks[name] = workbook_bytes(response)

    pdfs = convert_all_to_pdf(workbooks, tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    for name, pdf in pdfs.items():
        shutil.copy(pdf, ARTIFACTS / f"excel-{name}.pdf")  # to look at

    for name, data in workbooks.items():
        book = read_workbook(data)
        for ws in book.worksheets:
            # A fixed scale no smaller than 70 %: never shrunk to fit the page.
            assert not ws.sheet_properties.pageSetUpPr or not ws.sheet_properties.pageSetUpPr.fitToPage
            assert MIN_PRINT_SCALE <= (ws.page_setup.scale or 100) <= 100, (name, ws.title)
        pages = pdf_pages(pdfs[name])
        text = "".join(pages)
        for sheet, shown in shown_texts(book):
            assert squeeze(shown) in text, (name, sheet, shown)
        assert "###" not in text, name  # a number too wide for its column
        words = pdf_words(pdfs[name])
        assert overlapping_words(words) == [], name
        # 10-point type's box is 13 points high, 9-point notes' 11.7: at 70 % no less than 8.
        assert min(word.y1 - word.y0 for word in words) >= 8, name
        if name in ("ledger", "problems"):
            # Wider than a page: each page across repeats the key columns and the header.
            keys = ["序号", "项目编码", "项目名称"] if name == "ledger" else ["序号", "企业名称", "问题描述"]
            assert len(pages) > 1
            assert all(all(key in page for key in keys) for page in pages), name

    assert CODE in "".join(pdf_pages(pdfs["ledger"]))
    assert squeeze(CONTENT) in "".join(pdf_pages(pdfs["ledger"]))
    assert "审核中" in "".join(pdf_pages(pdfs["ledger"]))
