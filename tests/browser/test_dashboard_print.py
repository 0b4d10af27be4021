"""The dashboard printed to A4 by Chromium: every row of every table, the rankings and a title that
says the zone, the period and the filters, read back from the PDF's text.

The world has more rows per split than fit beside a chart: 7 parks, 4 clusters, 12 industries,
5 leaders and 8 units over 24 projects, reporting January–October 2025 (October published).
"""

import datetime
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.utils import timezone

from core.roles import Role, sync_role_groups
from projects.choices import Level, Stage
from projects.models import MonthPublication
from tests.browser.helpers import log_in
from tests.factories import (
    AnnualPlanFactory,
    ClusterFactory,
    DepartmentFactory,
    IndustryFactory,
    LeaderFactory,
    MonthlyProgressFactory,
    ParkFactory,
    ProjectFactory,
    UserFactory,
)

PARKS = ["健康食品产业园", "高端装备制造产业园", "生物医药产业园", "现代物流园", "电子信息产业园",
         "新材料产业园", "商务中心区"]  # fmt: skip
CLUSTERS = ["食品加工集群", "装备制造集群", "生物医药集群", "电子信息集群"]
INDUSTRIES = ["休闲食品", "冷链食品", "农机装备", "智能装备", "医疗器械", "生物制药", "现代物流",
              "电子元器件", "新型显示", "高分子材料", "金属新材料", "商务服务"]  # fmt: skip
STAGES = ["谋划", "储备", "签约", "落地", "开工", "建设", "投产", "达产", "入统"]
LEADERS = ["张建国", "李文华", "王海涛", "赵明远", "刘晓东"]
UNITS = ["经济发展局", "住房和城乡建设局", "招商服务中心", "自然资源和规划分局", "生态环境分局", "财政金融局",
         "科技创新和人才服务局", "应急管理局"]  # fmt: skip
LEVELS = [Level.PROVINCIAL, Level.MUNICIPAL, Level.ZONE]
YEAR, MONTH = 2025, 10


@pytest.fixture
def world(transactional_db):
    sync_role_groups()  # a transactional test's flush empties the groups migrate made
    UserFactory(username="lingdao", display_name="王领导", roles=[Role.LEADER])
    parks = [ParkFactory(name=name) for name in PARKS]
    clusters = [ClusterFactory(name=name) for name in CLUSTERS]
    industries = [IndustryFactory(name=name, cluster=clusters[i % 4]) for i, name in enumerate(INDUSTRIES)]
    leaders = [LeaderFactory(name=name) for name in LEADERS]
    units = [DepartmentFactory(name=name) for name in UNITS]
    for i in range(24):
        project = ProjectFactory(
            name=f"打印测试项目{i:02d}",
            level=LEVELS[i % 3],
            park=parks[i % 7],
            industry=industries[i % 12],
            responsible_leader=leaders[i % 5],
            responsible_unit=units[i % 8],
            stage=list(Stage)[i % 9],
            actual_start=datetime.date(YEAR, 1 + i % 10, 1),
        )
        AnnualPlanFactory(project=project, year=YEAR, planned_investment=Decimal(1200 + 100 * i))
        for month in range(1, MONTH + 1):
            MonthlyProgressFactory(
                project=project, year=YEAR, month=month, completed_investment=Decimal(50 + 10 * (i % 7))
            )
    MonthPublication.objects.create(year=YEAR, month=MONTH, published_at=timezone.now())
    return {"parks": parks}


def pdf_text(pdf: bytes, tmp_path, *, raw: bool = False) -> str:
    """The PDF's text without blanks (a cell's text wrapped over two lines reads whole) or icons
    (Bootstrap Icons' glyphs are in Unicode's private use area)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "dashboard.pdf"
    path.write_bytes(pdf)
    # -raw: in the order drawn, a table cell's lines one after another (reading order interleaves
    # the lines of cells side by side); reading order keeps a chart's wrapped labels together.
    command = ["pdftotext", *(["-raw"] if raw else []), str(path), "-"]
    text = subprocess.run(command, capture_output=True, check=True, text=True).stdout
    return re.sub(r"[\s\ue000-\uf8ff]+", "", text)


def between(text: str, start: str, end: str) -> str:
    assert start in text, start
    after = text[text.index(start) + len(start) :]
    assert end in after, end
    return after[: after.index(end)]


def print_dashboard(page, url, path) -> bytes:
    """Chromium's own print: page.pdf() fires beforeprint and lays the page out for paper, as Ctrl+P
    does (emulating print media instead would keep the screen's width)."""
    page.goto(url)
    page.wait_for_selector("[data-dashboard-chart=trend] svg")
    return page.pdf(path=str(path), format="A4")


def test_the_printed_dashboard_has_every_row_and_says_what_it_shows(world, live_server, browser, artifacts,
                                                                    tmp_path, settings):  # fmt: skip
    base = live_server.url
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    log_in(page, base, "lingdao")

    text = pdf_text(print_dashboard(page, f"{base}/dashboard/", artifacts / "dashboard-print.pdf"), tmp_path)

    today = timezone.localdate().isoformat()
    title = between(text, settings.ZONE_NAME, "正式数据")
    assert title == f"领导驾驶舱2025年1–10月（已发布）仅含已审核月报筛选条件：无（全部项目）打印日期：{today}"
    trend = between(text, "逐月累计完成投资与时序进度", "全生命周期")
    assert all(f"{month}月" in trend for month in range(1, MONTH + 1))  # every month on the axis
    funnel = between(text, "全生命周期", "按层级")
    assert all(stage in funnel for stage in STAGES)
    # Each split: every row in its table and under its bar (a wrapped axis label reads whole).
    leaders = [f"{name}（副主任）" for name in LEADERS]
    splits = [("按层级", ["省重点", "市重点", "区重点"]), ("按园区", PARKS), ("按产业集群", CLUSTERS),
              ("按产业", INDUSTRIES), ("按责任领导", leaders), ("按责任单位", UNITS)]  # fmt: skip
    ends = [f"{title}完成率" for title, _ in splits[1:]] + ["园区排名"]
    for (split_title, labels), end in zip(splits, ends, strict=True):
        section = between(text, f"{split_title}完成率", end)
        for label in labels:
            assert section.count(label) == 2, (split_title, label)
    parks = between(text, "园区排名", "责任单位排名")
    assert all(park in parks for park in PARKS)
    units = between(text, "责任单位排名", "滞后最多的项目")
    assert all(unit in units for unit in UNITS)
    assert between(text, "滞后最多的项目", "月未报送月报").count("打印测试项目") == 10  # LIST_LIMIT
    assert "…" not in text

    # Filtered, for a month under review: the title says so in words.
    park = world["parks"][0]
    filtered = print_dashboard(
        page, f"{base}/dashboard/?year=2025&month=9&level=provincial&park={park.pk}",
        artifacts / "dashboard-print-filtered.pdf",
    )  # fmt: skip
    text = pdf_text(filtered, tmp_path)
    assert between(text, settings.ZONE_NAME, "筛选条件") == "领导驾驶舱2025年1–9月（审核中）仅含已审核月报"
    assert between(text, "筛选条件：", "打印日期") == "项目级别：省重点；园区：健康食品产业园"
    section = between(text, "按园区完成率", "按产业集群完成率")
    assert "健康食品产业园" in section and "现代物流园" not in section

    # The project list the dashboard links to prints with the same title, and every column.
    page.goto(f"{base}/projects/?year=2025&month=10&level=provincial&park={park.pk}")
    pdf = page.pdf(path=str(artifacts / "project-list-print.pdf"), format="A4")
    text = pdf_text(pdf, tmp_path, raw=True)
    assert between(text, settings.ZONE_NAME, "筛选条件") == "项目2025年1–10月（已发布）仅含已审核月报"
    assert between(text, "筛选条件：", "打印日期") == "项目级别：省重点；园区：健康食品产业园"
    table = text[text.index("打印测试项目00") - 60 :]
    columns = ["级别", "园区", "项目阶段", "总投资", "年度计划", "1–10月累计完成", "完成率", "责任领导/单位"]
    assert all(column in text for column in columns)
    # 打印测试项目00 and 21: provincial, in the first park; their units print (a desktop-only column).
    assert "打印测试项目21" in table and "经济发展局" in table and "财政金融局" in table
    context.close()
