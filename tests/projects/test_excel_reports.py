"""The 月通报, 三个一批 and 审批手续 workbooks, downloaded as a leader and read back.

The zone is the dashboard test's (tests/dashboard/test_dashboard.py, March 2024, 时序进度 25.00%);
its figures, split by hand (amounts in 万元):

    by level    projects  total   plan   Jan–Mar  rate     gap     lagging  out of plan
    省重点      P1 P5      80000  16000    4010   0.2506    0.06    1 (P5)        0
    市重点      P2 P6      21000  10000    1100   0.1100  −14.00    2             0
    区重点      P3 P4      18000   4000    1100   0.2750    2.50    0           200 (P4)
    合计                  119000  30000    6210   0.2070   −4.30    3           200

    by park     甲 P1 P2   70000  18000    4110   0.2283   −2.17    1   rank 2 红旗
                乙 P3 P4   18000   4000    1100   0.2750    2.50    0   rank 1 红旗
                丙 P5      30000   6000     900   0.1500  −10.00    1   rank 3 黄旗
                未归属 P6   1000   2000     100   0.0500  −20.00    1   not ranked

    by unit     经发局 P1 P3 P5  92000  20000  5110  0.2555   0.55  1   rank 1 红旗
                住建局 P2 P4     26000   8000  1000  0.1250 −12.50  1   rank 2 红旗
                招商局 P6         1000   2000   100  0.0500 −20.00  1   rank 3 黄旗

Lagging, furthest behind first: P6 5% (−20.00), P2 12.5% (−12.50), P5 15% (−10.00), all 黄 (10–30
points behind); together plan 16000, completed 2000, 12.50%. No March report while on the plan: P5, P6.

三个一批: batch 7 — to start P1 (建设) P2 (开工) P5 (落地): 2 of 3 started; to produce P3 (投产): 1 of 1 in
production, 0 at capacity. Batch 8 — to sign P4 (签约): 1 of 1; to start P6 (储备): 0 of 1. Overall: 签约
1/1, 开工 2/4 = 50%, 投产 1/1, 达产 0/1.
"""

import datetime
import re
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.roles import Role
from projects.choices import BatchRole, Level, MilestoneKind, MilestoneStatus, ProgressStatus, Stage
from projects.models import AnnualPlan, ApprovalMilestone, BatchMembership, MonthlyProgress, Project
from tests.dashboard import test_dashboard
from tests.excel_helpers import read_formulas, read_workbook, table, workbook_bytes
from tests.factories import (
    AnnualPlanFactory,
    ApprovalMilestoneFactory,
    BatchFactory,
    BatchMembershipFactory,
    ProjectFactory,
    UserFactory,
)

# The dashboard test's hand-built zone, shared as a fixture (an import would be flagged by ruff's F811
# in every test that takes it).
zone = test_dashboard.zone

D = Decimal
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MARCH = "year=2024&month=3"

FIGURES = ["项目个数", "总投资", "年度计划投资", "1—3月累计完成投资", "完成率", "时序进度",
           "与时序进度差（百分点）", "滞后项目数", "计划外完成投资"]  # fmt: skip
# the sheet's header → the summary API's field
API_FIELDS = {
    "项目个数": "project_count",
    "总投资": "total_investment",
    "年度计划投资": "planned_investment",
    "1—3月累计完成投资": "completed_investment",
    "完成率": "completion_rate",
    "时序进度": "schedule_progress",
    "与时序进度差（百分点）": "gap_points",
    "滞后项目数": "lagging_count",
    "计划外完成投资": "unplanned_completed_investment",
}


@pytest.fixture
def leader_client(client, db):
    client.force_login(UserFactory(username="lingdao", roles=[Role.LEADER]))
    return client


def money(value) -> Decimal:
    return D(repr(value)).quantize(D("0.01"))


def rate(value) -> Decimal:
    return D(repr(value)).quantize(D("0.0001"))


def figures_of(row: dict) -> tuple:
    """A group row's figures as the dashboard's test writes them: counts, money to the cent, rates."""
    return (
        row["项目个数"],
        money(row["总投资"]),
        money(row["年度计划投资"]),
        money(row["1—3月累计完成投资"]),
        None if row["完成率"] in (None, "") else rate(row["完成率"]),
        rate(row["时序进度"]),
        None if row["与时序进度差（百分点）"] is None else money(row["与时序进度差（百分点）"]),
        row["滞后项目数"],
        money(row["计划外完成投资"]),
    )


def download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == XLSX
    return workbook_bytes(response)


def bulletin(client, query: str = MARCH) -> bytes:
    return download(client, f"/dashboard/export/?report=bulletin&{query}")


def by_label(rows: list[dict], key: str) -> dict:
    return {row[key]: row for row in rows if row.get(key) is not None}


def sheet_text(ws) -> str:
    return "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)


# --- 月通报 ---------------------------------------------------------------------------------


def test_bulletin_sheets_title_period_unit_and_counting_note(zone, leader_client):
    book = read_workbook(bulletin(leader_client))

    assert book.sheetnames == ["按级别", "按园区", "按责任单位", "滞后项目", "未报送项目"]
    for ws in book.worksheets:
        assert ws["A1"].value == f"{settings.ZONE_NAME}重点项目建设月通报"
        assert "2024年1—3月" in ws["A2"].value
        assert "单位：万元" in sheet_text(ws)
        assert "仅含已审核" in ws["A3"].value and "范围：全区项目" in ws["A3"].value
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 8  # A3


def test_bulletin_by_level_figures_by_hand(zone, leader_client):
    rows = by_label(table(read_workbook(bulletin(leader_client))["按级别"]), "项目级别")

    assert list(rows) == ["省重点", "市重点", "区重点", "合计"]
    S = D("0.2500")
    assert figures_of(rows["省重点"]) == (
        2,
        D("80000"),
        D("16000"),
        D("4010"),
        D("0.2506"),
        S,
        D("0.06"),
        1,
        0,
    )
    assert figures_of(rows["市重点"]) == (
        2,
        D("21000"),
        D("10000"),
        D("1100"),
        D("0.1100"),
        S,
        D("-14"),
        2,
        0,
    )
    assert figures_of(rows["区重点"]) == (
        2,
        D("18000"),
        D("4000"),
        D("1100"),
        D("0.2750"),
        S,
        D("2.5"),
        0,
        200,
    )
    # The totals row's cached values are the dashboard's headline.
    assert figures_of(rows["合计"]) == (
        6,
        D("119000"),
        D("30000"),
        D("6210"),
        D("0.2070"),
        S,
        D("-4.3"),
        3,
        200,
    )


def test_bulletin_parks_and_units_ranked_with_flags(zone, leader_client):
    book = read_workbook(bulletin(leader_client))

    parks = table(book["按园区"])
    assert [(r["园区"], r["排名"], r["红旗/黄旗"]) for r in parks] == [
        ("乙园区", 1, "红旗"),
        ("甲园区", 2, "红旗"),
        ("丙园区", 3, "黄旗"),
        ("未归属园区", None, None),
        ("合计", None, None),
    ]
    S = D("0.2500")
    parks = by_label(parks, "园区")
    assert figures_of(parks["甲园区"]) == (
        2,
        D("70000"),
        D("18000"),
        D("4110"),
        D("0.2283"),
        S,
        D("-2.17"),
        1,
        0,
    )
    assert figures_of(parks["丙园区"]) == (1, D("30000"), D("6000"), D("900"), D("0.1500"), S, D("-10"), 1, 0)
    assert figures_of(parks["未归属园区"]) == (
        1,
        D("1000"),
        D("2000"),
        D("100"),
        D("0.0500"),
        S,
        D("-20"),
        1,
        0,
    )
    assert figures_of(parks["合计"])[:4] == (6, D("119000"), D("30000"), D("6210"))

    units = table(book["按责任单位"])
    assert [(r["责任单位"], r["排名"], r["红旗/黄旗"]) for r in units] == [
        ("经发局", 1, "红旗"),
        ("住建局", 2, "红旗"),
        ("招商局", 3, "黄旗"),
        ("合计", None, None),
    ]
    units = by_label(units, "责任单位")
    assert figures_of(units["经发局"]) == (
        3,
        D("92000"),
        D("20000"),
        D("5110"),
        D("0.2555"),
        S,
        D("0.55"),
        1,
        0,
    )
    assert figures_of(units["住建局"]) == (
        2,
        D("26000"),
        D("8000"),
        D("1000"),
        D("0.1250"),
        S,
        D("-12.5"),
        1,
        200,
    )
    assert figures_of(units["合计"])[4] == D("0.2070")


def test_bulletin_flags_are_the_dashboards(zone, leader_client):
    rankings = leader_client.get(f"/dashboard/?{MARCH}").context["d"].rankings
    book = read_workbook(bulletin(leader_client))

    flags = {"red": "红旗", "yellow": "黄旗", None: None}
    for dimension, sheet, label in (("park", "按园区", "园区"), ("unit", "按责任单位", "责任单位")):
        expected = [
            (i["ranked"].label, i["ranked"].position, flags[i["ranked"].flag]) for i in rankings[dimension]
        ]
        shown = [(r[label], r["排名"], r["红旗/黄旗"]) for r in table(book[sheet]) if r["排名"] is not None]
        assert shown == expected


@pytest.mark.parametrize("query", [MARCH, f"{MARCH}&include_submitted=1", "year=2024&month=2", "park=A"])
def test_bulletin_figures_equal_the_summary_api_to_the_cent(zone, leader_client, query):
    query = query.replace("park=A", f"park={zone.A.pk}")
    api = leader_client.get(f"/api/dashboard/summary/?{query}").json()
    month = api["month"]
    book = read_workbook(bulletin(leader_client, query))

    def same(row: dict, data: dict) -> None:
        for header, field in API_FIELDS.items():
            header = header.replace("1—3月", f"1—{month}月")
            value, expected = row[header], data[field]
            if isinstance(expected, int) or expected is None:
                assert (value if value != "" else None) == expected, (header, data.get("label"))
            elif field in ("completion_rate", "schedule_progress"):
                assert rate(value) == D(expected), (header, data.get("label"))
            else:
                assert money(value) == D(expected), (header, data.get("label"))

    for sheet, label, split in (("按级别", "项目级别", "by_level"), ("按园区", "园区", "by_park")):
        rows = by_label(table(book[sheet]), label)
        assert len(rows) == len(api[split]) + 1
        for data in api[split]:
            same(rows[data["label"]], data)
        same(rows["合计"], api)


def test_bulletin_totals_are_sumifs_over_the_data_rows(zone, leader_client):
    data = bulletin(leader_client)
    formulas = read_formulas(data)["按级别"]
    rows = table(read_workbook(data)["按级别"])

    first, last, total = rows[0]["_row"], rows[-2]["_row"], rows[-1]["_row"]
    assert (first, last, total) == (5, 7, 8)  # title, period, note, header, three levels
    # 序号 in A, the level in B, then C 项目个数 … K 计划外完成投资
    for col in "CDEFJK":
        assert formulas[f"{col}{total}"].value == f'=SUMIFS({col}5:{col}7,$A$5:$A$7,">0")'
    rate_formula = formulas[f"G{total}"].value
    assert rate_formula == (
        '=IF(SUMIFS(E5:E7,$A$5:$A$7,">0")>0,'
        'SUMIFS(F5:F7,$A$5:$A$7,">0",E5:E7,">0")/SUMIFS(E5:E7,$A$5:$A$7,">0"),"")'
    )
    units = read_formulas(data)["按责任单位"]
    assert units["C8"].value == '=SUMIFS(C5:C7,$A$5:$A$7,">0")'  # three units, total on row 8


def test_bulletin_lists_every_lagging_and_unreported_project(zone, leader_client):
    book = read_workbook(bulletin(leader_client))

    lagging = table(book["滞后项目"])
    listed = [(r["项目名称"], money(r["与时序进度差（百分点）"]), r["预警"]) for r in lagging[:-1]]
    assert listed == [("P6", D("-20.00"), "黄"), ("P2", D("-12.50"), "黄"), ("P5", D("-10.00"), "黄")]
    p2 = lagging[1]
    assert p2["建设单位"] == zone.P2.enterprise.name
    assert (p2["级别"], p2["园区"], p2["责任领导"], p2["责任单位"]) == (
        "市重点",
        "甲园区",
        "张主任（副主任）",
        "住建局",
    )
    assert (money(p2["年度计划投资"]), money(p2["1—3月累计完成投资"]), rate(p2["完成率"])) == (
        D("8000"), D("1000"), D("0.1250"))  # fmt: skip
    total = lagging[-1]
    assert total["项目名称"] == "合计"
    assert (money(total["年度计划投资"]), money(total["1—3月累计完成投资"])) == (D("16000"), D("2000"))
    assert rate(total["完成率"]) == D("0.1250")

    unreported = table(book["未报送项目"])
    assert [r["项目名称"] for r in unreported] == ["P5", "P6"]
    assert unreported[1]["责任单位"] == "招商局"


def test_bulletin_lists_more_than_the_dashboards_ten(zone, leader_client):
    for i in range(12):
        AnnualPlanFactory(project=ProjectFactory(name=f"落后项目{i:02}"), year=2024)
    book = read_workbook(bulletin(leader_client))

    assert len(table(book["滞后项目"])) == 3 + 12 + 1  # and the totals row
    assert len(table(book["未报送项目"])) == 2 + 12


def test_bulletin_leaves_a_year_to_date_no_report_counts_in_blank(zone, leader_client):
    """A planned project without a counted report has no known year-to-date: blank, not 0.00;
    P5's January and February count (900), and P6's approved January does (100)."""
    AnnualPlanFactory(project=ProjectFactory(name="未开报项目"), year=2024, planned_investment=D(1000))
    book = read_workbook(bulletin(leader_client))
    ytd = "1—3月累计完成投资"
    unreported = {r["项目名称"]: r[ytd] for r in table(book["未报送项目"])}
    assert (unreported["未开报项目"], money(unreported["P5"]), money(unreported["P6"])) == (
        None,
        D(900),
        D(100),
    )
    lagging = {r["项目名称"]: r for r in table(book["滞后项目"])}
    assert lagging["未开报项目"][ytd] is None and rate(lagging["未开报项目"]["完成率"]) == D(0)


def test_bulletin_with_submitted_figures_says_so(zone, leader_client):
    book = read_workbook(bulletin(leader_client, f"{MARCH}&include_submitted=1"))

    assert "含已报送未审核" in book["按级别"]["A3"].value
    total = by_label(table(book["按级别"]), "项目级别")["合计"]
    assert money(total["1—3月累计完成投资"]) == D("6810")  # + P2's submitted 600
    assert rate(total["完成率"]) == D("0.2270")


def test_bulletin_filters_carried(zone, leader_client):
    book = read_workbook(bulletin(leader_client, f"{MARCH}&park={zone.A.pk}"))

    levels = by_label(table(book["按级别"]), "项目级别")
    assert list(levels) == ["省重点", "市重点", "合计"]  # P1 and P2
    assert figures_of(levels["合计"])[:4] == (2, D("70000"), D("18000"), D("4110"))
    assert [r["项目名称"] for r in table(book["滞后项目"])[:-1]] == ["P2"]
    assert table(book["未报送项目"]) == []
    assert "园区：甲园区" in book["按级别"]["A3"].value

    book = read_workbook(bulletin(leader_client, f"{MARCH}&park=null&responsible_leader={zone.L2.pk}"))
    assert figures_of(by_label(table(book["按级别"]), "项目级别")["合计"])[0] == 0  # P6 has no leader
    assert "园区：未归属园区；责任领导：李主任（副主任）" in book["按级别"]["A3"].value
    book = read_workbook(bulletin(leader_client, f"{MARCH}&park=null&level=municipal&level=zone"))
    assert [r["项目名称"] for r in table(book["未报送项目"])] == ["P6"]
    assert "项目级别：市重点、区重点；园区：未归属园区" in book["按级别"]["A3"].value


def test_unit_staff_get_their_units_projects_only(zone, client):
    client.force_login(UserFactory(username="zhuanyuan", roles=[Role.STAFF], department=zone.U1))

    book = read_workbook(bulletin(client))

    total = by_label(table(book["按级别"]), "项目级别")["合计"]
    assert figures_of(total)[:4] == (3, D("92000"), D("20000"), D("5110"))  # P1 P3 P5
    assert [r["责任单位"] for r in table(book["按责任单位"])] == ["经发局", "合计"]
    assert [r["项目名称"] for r in table(book["滞后项目"])[:-1]] == ["P5"]
    assert [r["项目名称"] for r in table(book["未报送项目"])] == ["P5"]
    assert "范围：经发局负责的项目" in book["按级别"]["A3"].value
    # Asking for another unit's park does not widen the scope.
    book = read_workbook(bulletin(client, f"{MARCH}&park={zone.A.pk}"))
    assert figures_of(by_label(table(book["按级别"]), "项目级别")["合计"])[0] == 1  # P1 only
    batches = read_workbook(download(client, f"/dashboard/export/?report=batches&{MARCH}"))
    assert sorted(r["项目名称"] for r in table(batches["项目清单"])) == ["P1", "P3", "P5"]


def test_filename_and_download_buttons(zone, leader_client):
    response = leader_client.get(f"/dashboard/export/?report=bulletin&{MARCH}")
    assert "重点项目月通报-2024年1—3月.xlsx" in unquote(response["Content-Disposition"])
    response = leader_client.get(f"/dashboard/export/?report=batches&{MARCH}")
    # The batch report shows the stages as they are now: named by today's date.
    assert re.search(r"三个一批项目推进情况-\d{4}-\d\d-\d\d\.xlsx", unquote(response["Content-Disposition"]))

    page = leader_client.get(f"/dashboard/?park={zone.A.pk}&include_submitted=1").content.decode()
    for report in ("bulletin", "batches"):
        href = re.search(rf'id="export-{report}" href="([^"]+)"', page).group(1).replace("&amp;", "&")
        assert f"park={zone.A.pk}" in href and "include_submitted=1" in href and "month=3" in href
        book = read_workbook(download(leader_client, href))
        if report == "bulletin":
            assert figures_of(by_label(table(book["按级别"]), "项目级别")["合计"])[0] == 2


def test_an_empty_selection_gives_a_workbook_of_zeros(zone, leader_client):
    book = read_workbook(bulletin(leader_client, "year=2024&month=1&level=ordinary"))

    levels = table(book["按级别"])
    assert [r["项目级别"] for r in levels] == ["合计"]
    assert (levels[0]["项目个数"], levels[0]["1月累计完成投资"], levels[0]["完成率"]) == (0, 0, None)
    assert table(book["滞后项目"]) == [] and table(book["未报送项目"]) == []
    batches = read_workbook(download(leader_client, "/dashboard/export/?report=batches&level=ordinary"))
    assert [(r["批次"], r["项目个数"]) for r in table(batches["分批次完成情况"])] == [("合计", 0)]
    assert table(batches["项目清单"]) == []
    milestones = read_workbook(download(leader_client, "/projects/milestones/export/?level=ordinary"))
    assert [(r["项目名称"], r["应办（项）"]) for r in table(milestones["审批手续"])] == [
        ("合计（总体办结率）", 0)
    ]


# --- Who, and bad input ------------------------------------------------------------------------


def test_who_may_not_download(zone, client):
    urls = [
        "/dashboard/export/?report=bulletin",
        "/dashboard/export/?report=batches",
        "/projects/milestones/export/",
    ]
    for url in urls:
        assert client.get(url).status_code == 302  # to the login page
    client.force_login(UserFactory(username="norole"))
    for url in urls:
        assert client.get(url).status_code == 403
    client.force_login(UserFactory(username="nounit", roles=[Role.STAFF]))
    assert client.get(urls[0]).status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/export/",
        "/dashboard/export/?report=ledger",
        "/dashboard/export/?report=bulletin&month=13",
        "/dashboard/export/?report=bulletin&year=abc&park=999999",
        "/dashboard/export/?report=batches&batch=x",
        "/projects/milestones/export/?park=999999",
        "/projects/milestones/export/?kind=bogus",
        "/projects/milestones/export/?status=done&overdue=maybe",
    ],
)
def test_bad_parameters_get_400_not_500(zone, leader_client, url):
    response = leader_client.get(url)

    assert response.status_code == 400
    assert 'id="export-error"' in response.content.decode()


def test_bad_filters_are_named(zone, leader_client):
    html = leader_client.get("/dashboard/export/?report=bulletin&month=13&park=999999").content.decode()
    assert "month：" in html and "park：" in html


def test_a_formula_in_a_name_stays_text(zone, leader_client):
    evil = '=HYPERLINK("http://x","y")'
    project = ProjectFactory(name=evil, enterprise__name="=1+1", stage=Stage.SIGNED)
    AnnualPlanFactory(project=project, year=2024)  # on the plan, nothing done: lagging and unreported
    BatchMembershipFactory(batch=zone.batch8, project=project, role=BatchRole.SIGN)
    ApprovalMilestoneFactory(project=project, kind=MilestoneKind.PROJECT_FILING)

    books = [
        read_formulas(bulletin(leader_client)),
        read_formulas(download(leader_client, f"/dashboard/export/?report=batches&{MARCH}")),
        read_formulas(download(leader_client, "/projects/milestones/export/")),
    ]
    cells = [
        cell
        for book in books
        for ws in book.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.value in (evil, "=1+1")
    ]
    assert len(cells) == 2 * 4  # lagging, unreported, batch members, matrix: name and enterprise
    assert {cell.data_type for cell in cells} == {"s"}


# --- 三个一批 ---------------------------------------------------------------------------------


def test_batch_rates_per_batch_and_role(zone, leader_client):
    book = read_workbook(download(leader_client, f"/dashboard/export/?report=batches&{MARCH}"))

    assert book.sheetnames == ["分批次完成情况", "项目清单"]
    ws = book["分批次完成情况"]
    assert ws["A1"].value == f"{settings.ZONE_NAME}“三个一批”项目推进情况"
    rows = by_label(table(ws), "批次")
    assert list(rows) == ["第8期", "第7期", "合计"]

    def figures(row):
        return (
            row["项目个数"],
            [row["签约一批/项目个数"], row["签约一批/已签约"], row["签约一批/签约率"]],
            [row["开工一批/项目个数"], row["开工一批/已开工"], row["开工一批/开工率"]],
            [row["投产一批/项目个数"], row["投产一批/已投产"], row["投产一批/投产率"]],
            [row["投产一批/已达产"], row["投产一批/达产率"]],
        )

    assert figures(rows["第8期"]) == (2, [1, 1, 1], [1, 0, 0], [None, None, None], [None, None])
    assert figures(rows["第7期"])[:3] == (4, [None, None, None], [3, 2, 0.6667])
    assert figures(rows["第7期"])[3:] == ([1, 1, 1], [0, 0])
    assert figures(rows["合计"]) == (6, [1, 1, 1], [4, 2, 0.5], [1, 1, 1], [0, 0])

    formulas = read_formulas(download(leader_client, f"/dashboard/export/?report=batches&{MARCH}"))
    ws = formulas["分批次完成情况"]
    total = rows["合计"]["_row"]
    # columns: A 序号, B 批次, C 项目个数, D–F 签约一批, G–I 开工一批, J–N 投产一批
    assert ws[f"C{total}"].value == '=SUMIFS(C6:C7,$A$6:$A$7,">0")'
    assert ws[f"I{total}"].value.startswith('=IF(SUMIFS(G6:G7,$A$6:$A$7,">0")>0,SUMIFS(H6:H7,')


def test_batch_rates_equal_the_dashboards(zone, leader_client):
    board = leader_client.get(f"/dashboard/?{MARCH}").context["d"]
    rows = by_label(
        table(
            read_workbook(download(leader_client, f"/dashboard/export/?report=batches&{MARCH}"))[
                "分批次完成情况"
            ]
        ),
        "批次",
    )
    headers = {"signing_rate": "签约一批/签约率", "start_rate": "开工一批/开工率",
               "production_rate": "投产一批/投产率", "capacity_rate": "投产一批/达产率"}  # fmt: skip
    checked = 0
    for item in board.batches:
        figure = item["figure"]
        for name, rate_figure in figure.rates.items():
            assert rate(rows[f"第{figure.batch_number}期"][headers[name]]) == rate_figure.rate
            checked += 1
    assert checked == 5


def test_batch_member_list(zone, leader_client):
    book = read_workbook(download(leader_client, f"/dashboard/export/?report=batches&{MARCH}"))

    members = [
        (r["批次"], r["类别"], r["项目名称"], r["园区"], r["当前阶段"], r["是否达成（签约/开工/投产）"],
         r["是否达产（投产一批）"], money(r["总投资（万元）"]))
        for r in table(book["项目清单"])
    ]  # fmt: skip
    assert members == [
        ("第8期", "签约一批", "P4", "乙园区", "签约", "是", None, D("6000")),
        ("第8期", "开工一批", "P6", None, "储备", "否", None, D("1000")),
        ("第7期", "开工一批", "P1", "甲园区", "建设", "是", None, D("50000")),
        ("第7期", "开工一批", "P2", "甲园区", "开工", "是", None, D("20000")),
        ("第7期", "开工一批", "P5", "丙园区", "落地", "否", None, D("30000")),
        ("第7期", "投产一批", "P3", "乙园区", "投产", "是", "否", D("12000")),
    ]
    assert table(book["项目清单"])[0]["建设单位"] == zone.P4.enterprise.name


def test_batch_filter_narrows_the_report(zone, leader_client):
    book = read_workbook(download(leader_client, f"/dashboard/export/?report=batches&batch={zone.batch7.pk}"))

    assert [r["批次"] for r in table(book["分批次完成情况"])] == ["第7期", "合计"]
    assert [r["项目名称"] for r in table(book["项目清单"])] == ["P1", "P2", "P5", "P3"]


# --- 审批手续 ---------------------------------------------------------------------------------


@pytest.fixture
def permits(zone):
    """P7 (park 乙) with a three-phase construction permit and a procedure that does not apply; with
    the zone's procedures (P1: 立项 and 环评 done, 施工许可 in progress; P2: 立项 done, 土地 not started,
    能评 不涉及; P5: 立项 in progress) that makes:

        P1  3 apply, 2 done  66.67%      P5  1 apply, 0 done  0%
        P2  2 apply, 1 done  50.00%      P7  5 apply, 2 done  40.00%   together 11 apply, 5 done 45.45%
    """
    K, S = MilestoneKind, MilestoneStatus
    zone.P7 = ProjectFactory(name="P7", park=zone.B, responsible_unit=zone.U1)
    for kind, phase, status, planned, done in (
        (K.PROJECT_FILING, 1, S.DONE, None, datetime.date(2023, 1, 10)),
        (K.ENVIRONMENT, 1, S.NOT_APPLICABLE, None, None),
        (K.LAND_TITLE, 1, S.IN_PROGRESS, datetime.date(2024, 5, 1), None),
        (K.CONSTRUCTION_PERMIT, 1, S.DONE, datetime.date(2023, 2, 1), datetime.date(2023, 3, 1)),
        (K.CONSTRUCTION_PERMIT, 2, S.IN_PROGRESS, datetime.date(2024, 6, 30), None),
        (K.CONSTRUCTION_PERMIT, 3, S.NOT_STARTED, None, None),
    ):
        ApprovalMilestoneFactory(
            project=zone.P7, kind=kind, phase=phase, status=status, planned_date=planned, completed_date=done
        )
    return zone


def matrix(client, query: str = "") -> list[dict]:
    book = read_workbook(download(client, f"/projects/milestones/export/?{query}"))
    assert book.sheetnames == ["审批手续"]
    assert book["审批手续"]["A1"].value == f"{settings.ZONE_NAME}重点项目审批手续办理进度表"
    return table(book["审批手续"])


def test_milestone_matrix(permits, leader_client):
    rows = matrix(leader_client)

    assert [r["项目名称"] for r in rows] == ["P1", "P2", "P5", "P7", "合计（总体办结率）"]
    p1, p2, p5, p7, total = rows
    day = datetime.datetime
    assert (p1["立项（备案/核准/审批）/状态"], p1["立项（备案/核准/审批）/日期"]) == (
        "已办结",
        day(2024, 1, 20),
    )
    assert (p1["施工许可证/状态"], p1["施工许可证/日期"]) == ("办理中", day(2024, 2, 1))  # planned
    assert (p2["能评（节能审查）/状态"], p2["能评（节能审查）/日期"]) == ("不涉及", None)
    assert p2["土地出让/不动产权证/状态"] == "未办" and p2["土地出让/不动产权证/日期"] == day(2099, 1, 1)
    assert p5["立项（备案/核准/审批）/状态"] == "办理中" and p5["立项（备案/核准/审批）/日期"] is None
    assert p7["施工许可证/状态"] == "一期已办结 2023-03-01；二期办理中（计划 2024-06-30）；三期未办"
    assert p7["施工许可证/日期"] is None
    assert p7["环评批复/状态"] == "不涉及"
    assert p7["竣工验收/状态"] is None  # not recorded
    per_project = [(r["应办（项）"], r["已办结（项）"], rate(r["办结率"])) for r in rows]
    assert per_project == [
        (3, 2, D("0.6667")),
        (2, 1, D("0.5000")),
        (1, 0, D("0.0000")),
        (5, 2, D("0.4000")),
        (11, 5, D("0.4545")),  # the overall 办结率
    ]


def test_milestone_matrix_total_formulas(permits, leader_client):
    data = download(leader_client, "/projects/milestones/export/")
    ws = read_formulas(data)["审批手续"]
    total = table(read_workbook(data)["审批手续"])[-1]["_row"]

    assert total == 10  # title, date, note, two header rows, four projects
    # 3 leading columns + 10 procedures × 2 = W; then X 应办, Y 已办结, Z 办结率
    assert ws["X4"].value == "应办（项）" and ws["Z4"].value == "办结率"
    assert ws[f"X{total}"].value == '=SUMIFS(X6:X9,$A$6:$A$9,">0")'
    assert ws[f"Z{total}"].value == (
        '=IF(SUMIFS(X6:X9,$A$6:$A$9,">0")>0,SUMIFS(Y6:Y9,$A$6:$A$9,">0",X6:X9,">0")/SUMIFS(X6:X9,$A$6:$A$9,">0"),"")'
    )


def test_milestone_matrix_takes_the_lists_filters(permits, leader_client):
    rows = matrix(leader_client, f"kind={MilestoneKind.CONSTRUCTION_PERMIT}")
    assert [r["项目名称"] for r in rows] == ["P1", "P7", "合计（总体办结率）"]
    assert rows[1]["立项（备案/核准/审批）/状态"] is None  # filtered out
    assert (rows[-1]["应办（项）"], rows[-1]["已办结（项）"], rate(rows[-1]["办结率"])) == (4, 1, D("0.25"))

    rows = matrix(leader_client, f"park={permits.A.pk}")
    assert [r["项目名称"] for r in rows] == ["P1", "P2", "合计（总体办结率）"]

    listing = leader_client.get(f"/projects/milestones/?park={permits.A.pk}&status=done").content.decode()
    href = re.search(r'id="export-milestones" href="([^"]+)"', listing).group(1).replace("&amp;", "&")
    assert href == f"/projects/milestones/export/?park={permits.A.pk}&status=done"
    rows = matrix(leader_client, href.split("?", 1)[1])
    assert [(r["项目名称"], r["已办结（项）"]) for r in rows] == [
        ("P1", 2),
        ("P2", 1),
        ("合计（总体办结率）", 3),
    ]


def test_milestone_matrix_filename(permits, leader_client):
    response = leader_client.get("/projects/milestones/export/")
    assert re.search(r"审批手续办理进度-\d{4}-\d\d-\d\d\.xlsx", unquote(response["Content-Disposition"]))


# --- Queries do not grow with rows -------------------------------------------------------------


def _more_projects(zone, n: int, start: int) -> None:
    batch = BatchFactory(number=9)  # get or create
    projects = Project.objects.bulk_create(
        Project(name=f"批量项目{start + i:03}", park=zone.B, level=Level.ZONE, total_investment=D(100),
                responsible_unit=zone.U2, responsible_leader=zone.L1, stage=Stage.STARTED)
        for i in range(n)
    )  # fmt: skip
    AnnualPlan.objects.bulk_create(
        AnnualPlan(project=p, year=2024, planned_investment=D(120)) for p in projects
    )
    MonthlyProgress.objects.bulk_create(
        MonthlyProgress(
            project=p, year=2024, month=1, completed_investment=D(5), status=ProgressStatus.APPROVED
        )
        for p in projects
    )  # lagging, and no March report
    BatchMembership.objects.bulk_create(
        BatchMembership(batch=batch, project=p, role=BatchRole.START) for p in projects
    )
    ApprovalMilestone.objects.bulk_create(
        ApprovalMilestone(project=p, kind=MilestoneKind.CONSTRUCTION_PERMIT, phase=phase)
        for p in projects
        for phase in (1, 2)
    )


EXPORTS = [
    f"/dashboard/export/?report=bulletin&{MARCH}",
    f"/dashboard/export/?report=batches&{MARCH}",
    "/projects/milestones/export/",
]


@pytest.mark.history_bypass("bulk test data")
def test_export_queries_do_not_grow_with_rows(zone, leader_client, django_assert_max_num_queries):
    _more_projects(zone, 5, 0)
    few = []
    for url in EXPORTS:
        with CaptureQueriesContext(connection) as queries:
            download(leader_client, url)
        few.append(len(queries))

    _more_projects(zone, 45, 5)  # 50 in all
    # The bulk rows bypass the change history, whose newest ids key the cached figures.
    cache.clear()
    many = []
    for url, bound in zip(EXPORTS, (16, 10, 10), strict=True):
        with django_assert_max_num_queries(bound), CaptureQueriesContext(connection) as queries:
            book = read_workbook(download(leader_client, url))
        many.append(len(queries))
        if "bulletin" in url:
            assert len(table(book["滞后项目"])) == 3 + 50 + 1
    assert many == few
