"""The 重点项目台账 export, read back with openpyxl, against the dashboard's hand-built zone.

March 2024, approved reports only (see tests/dashboard/test_dashboard.py), 万元:

    project level       park  total  plan   month  ytd    rate
    P1      provincial  A     50000  10000  1110   3110   0.3110
    P5      provincial  C     30000   6000     —    900   0.1500   (no March report)
    P2      municipal   A     20000   8000     —   1000   0.1250   (March's 600 is only submitted)
    P6      municipal   —      1000   2000     —    100   0.0500   (no March report)
    P3      zone        B     12000   4000   300   1100   0.2750
    P4      zone        B      6000      —     —    200   —        (no plan; March's 0 is a draft)

A month figure the ledger does not know (—) is a blank cell, not 0.00.

Subtotals: provincial 80000 / 16000 / 1110 / 4010, rate 4010/16000 = 0.2506;
municipal 21000 / 10000 / 0 / 1100, rate 0.1100; zone 18000 / 4000 / 300 / 1300, rate 1100/4000 = 0.2750.
Total: 119000 / 30000 / 1410 / 6410 (6210 on the plan + P4's 200), rate 6210/30000 = 0.2070.
"""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from core.roles import Role
from projects.models import Project
from tests.dashboard.test_dashboard import leader_client, zone  # noqa: F401
from tests.excel_helpers import read_formulas, read_workbook
from tests.excel_helpers import table as helper_table
from tests.factories import AnnualPlanFactory, MonthlyProgressFactory, ProjectFactory, UserFactory

D = Decimal
MARCH = {"year": 2024, "month": 3}


def download(client, **params) -> bytes:
    response = client.get(reverse("projects:export"), {**MARCH, **params})
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return b"".join(response.streaming_content)


def sheets(data: bytes):
    """(values, formulas) views of the ledger sheet."""
    return read_workbook(data).active, read_formulas(data).active


def table(ws) -> list[dict]:
    """The rows as dicts keyed by the lower header; dates by group and header (开工时间实际)."""
    return [
        {
            key.replace("/", "") if key.endswith(("计划", "实际")) else key.split("/")[-1]: value
            for key, value in row.items()
        }
        for row in helper_table(ws)
    ]


def money(value) -> Decimal:
    return D(str(value)).quantize(D("0.01"))


def rate(value) -> Decimal:
    return D(str(value)).quantize(D("0.0001"))


# --- A small evaluator for the formulas the ledger writes ---------------------------

CELL = re.compile(r"\$?([A-Z]+)\$?(\d+)")


def _cells(ws, text: str) -> list:
    first, last = text.split(":")
    (c1, r1), (c2, r2) = CELL.fullmatch(first).groups(), CELL.fullmatch(last).groups()
    assert c1 == c2
    return [ws[f"{c1}{r}"].value for r in range(int(r1), int(r2) + 1)]


def evaluate(ws, formula: str):
    """Evaluate SUMIFS(range, crit, ">0", …), IF(x>0, a/b, "") and a + cell, from the cells' values."""

    def sumifs(match):
        args = [a.strip() for a in match.group(1).split(",")]
        total = D(0)
        sums = _cells(ws, args[0])
        conditions = [_cells(ws, args[i]) for i in range(1, len(args), 2)]
        for index, value in enumerate(sums):
            if all(isinstance(c[index], int | float) and c[index] > 0 for c in conditions):
                total += D(str(value or 0))
        return str(total)

    def cell(match):
        value = ws[f"{match.group(1)}{match.group(2)}"].value
        return str(D(str(value or 0)))

    expression = re.sub(r"SUMIFS\(([^()]*)\)", sumifs, formula.lstrip("="))
    expression = re.sub(r"N\((\$?[A-Z]+\$?\d+)\)", r"\1", expression)  # N(cell): a blank is 0
    branch = re.fullmatch(r'IF\((.+)>0,(.+)/(.+),""\)', expression)

    def arithmetic(text):
        text = CELL.sub(cell, text)
        assert re.fullmatch(r"[\d.+\-*/() ]+", text), text
        return eval(text, {"__builtins__": {}}, {"D": D})  # noqa: S307 - digits and operators only

    if branch:
        if D(str(arithmetic(branch.group(1)))) <= 0:
            return ""
        return D(str(arithmetic(branch.group(2)))) / D(str(arithmetic(branch.group(3))))
    return D(str(arithmetic(expression)))


# --- The ledger -----------------------------------------------------------------------


@pytest.mark.django_db
def test_ledger_rows_subtotals_and_total_by_level(leader_client, zone):  # noqa: F811
    values, formulas = sheets(download(leader_client, group="level"))
    assert values["A1"].value == "周口经济开发区重点项目建设台账"
    assert "2024年1—3月" in values["A2"].value and "已审核数据" in values["A2"].value
    assert [c.value for c in values[4]][9:15] == [
        "总投资",
        "年度计划投资",
        "本月完成投资",
        "1—3月累计完成投资",
        "完成率",
        "时序进度",
    ]
    rows = table(values)
    names = [r["项目名称"] for r in rows]
    assert names == [
        "P1",
        "P5",
        "小计：省重点（2个）",
        "P2",
        "P6",
        "小计：市重点（2个）",
        "P3",
        "P4",
        "小计：区重点（2个）",
        "合计（6个）",
    ]
    by_name = {r["项目名称"]: r for r in rows}
    expected = {
        "P1": (50000, 10000, 1110, 3110, "0.3110"),
        "P5": (30000, 6000, None, 900, "0.1500"),
        "P2": (20000, 8000, None, 1000, "0.1250"),
        "P6": (1000, 2000, None, 100, "0.0500"),
        "P3": (12000, 4000, 300, 1100, "0.2750"),
        "小计：省重点（2个）": (80000, 16000, 1110, 4010, "0.2506"),
        "小计：市重点（2个）": (21000, 10000, 0, 1100, "0.1100"),
        "小计：区重点（2个）": (18000, 4000, 300, 1300, "0.2750"),
        "合计（6个）": (119000, 30000, 1410, 6410, "0.2070"),
    }
    for name, (total, plan, month, ytd, completion) in expected.items():
        row = by_name[name]
        assert money(row["总投资"]) == D(total), name
        assert money(row["年度计划投资"]) == D(plan), name
        if month is None:
            assert row["本月完成投资"] is None, name
        else:
            assert money(row["本月完成投资"]) == D(month), name
        assert money(row["1—3月累计完成投资"]) == D(ytd), name
        assert rate(row["完成率"]) == D(completion), name
    assert by_name["P4"]["年度计划投资"] is None and by_name["P4"]["完成率"] in (None, "")
    assert by_name["P4"]["本月完成投资"] is None and money(by_name["P4"]["1—3月累计完成投资"]) == D(200)
    # A March report that does not count here says where it stands instead of its texts.
    assert (by_name["P2"]["形象进度"], by_name["P2"]["存在问题"]) == ("审核中", "审核中")
    assert (by_name["P4"]["形象进度"], by_name["P4"]["存在问题"]) == ("草稿", "草稿")
    assert by_name["P5"]["形象进度"] is None  # no report at all
    assert by_name["P1"]["时序进度"] == 0.25
    assert [by_name[n]["序号"] for n in ("P1", "P5", "P2", "P6", "P3", "P4")] == [1, 2, 3, 4, 5, 6]
    assert by_name["P1"]["所属园区"] == "甲园区" and by_name["P1"]["责任单位"] == "经发局"
    assert by_name["P1"]["开工时间实际"].date().isoformat() == "2024-02-10"

    # Every formula (per row and in the subtotals and total) comes to the value written with it.
    checked = 0
    for row in formulas.iter_rows(min_row=5):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cached = values[cell.coordinate].value
                result = evaluate(values, cell.value)
                if cached in (None, ""):
                    assert result == "", cell.coordinate
                else:
                    assert abs(D(str(result)) - D(str(cached))) < D("0.00005"), (cell.coordinate, cell.value)
                checked += 1
    assert (
        checked == 4 * 5 + 6 * 2
    )  # 4 subtotal/total rows × 5 sums and rates; 6 rows × year-to-date and rate
    total_row = by_name["合计（6个）"]["_row"]
    assert formulas[f"K{total_row}"].value == f'=SUMIFS(K5:K{total_row - 1},$A$5:$A${total_row - 1},">0")'


@pytest.mark.django_db
def test_ledger_total_equals_the_dashboard_summary(leader_client, zone):  # noqa: F811
    summary = leader_client.get(reverse("api:dashboard-summary"), MARCH).json()
    values, _ = sheets(download(leader_client, group="park"))
    rows = {r["项目名称"]: r for r in table(values)}
    total = rows["合计（6个）"]
    assert money(total["年度计划投资"]) == D(summary["planned_investment"])
    assert money(total["1—3月累计完成投资"]) == D(summary["completed_investment"]) + D(
        summary["unplanned_completed_investment"]
    )
    assert rate(total["完成率"]) == D(summary["completion_rate"])
    by_park = {g["label"]: g for g in summary["by_park"] if g["key"] is not None}
    assert len(by_park) == 3
    for label, group in by_park.items():
        name = next(n for n in rows if n.startswith(f"小计：{label}（"))
        assert money(rows[name]["年度计划投资"]) == D(group["planned_investment"]), label
        if group["completion_rate"] is not None:
            assert rate(rows[name]["完成率"]) == D(group["completion_rate"]), label
    assert "小计：未分园区（1个）" in rows  # P6 has no park: last


@pytest.mark.django_db
def test_ledger_keeps_the_list_filters_and_the_submitted_toggle(leader_client, zone):  # noqa: F811
    values, _ = sheets(download(leader_client, group="none", park=zone.A.pk))
    names = [r["项目名称"] for r in table(values)]
    assert names == ["P1", "P2", "合计（2个）"]
    values, _ = sheets(download(leader_client, group="none", park=zone.A.pk, include_submitted="1"))
    rows = {r["项目名称"]: r for r in table(values)}
    assert money(rows["P2"]["1—3月累计完成投资"]) == D(1600)
    assert "含已报送未审核数据" in values["A2"].value


@pytest.mark.django_db
def test_ledger_layout_for_print_and_reading(leader_client, zone):  # noqa: F811
    data = download(leader_client)
    _, ws = sheets(data)
    assert ws.freeze_panes == "D5"
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 8  # A3
    # Never shrunk to one page wide (54 %): two pages across at 87 %, cut after the 投资情况 group,
    # with 序号, 项目编码, 项目名称 and the headers on both.
    assert not ws.sheet_properties.pageSetUpPr or not ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.scale == 87
    assert [brk.id for brk in ws.col_breaks.brk] == [15]  # before column P, 开工时间
    assert ws.print_title_rows == "$1:$4" and ws.print_title_cols == "$A:$C"
    assert "A1:O1" in {str(r) for r in ws.merged_cells.ranges}  # the title over the first page
    assert "J3:O3" in {str(r) for r in ws.merged_cells.ranges}  # 投资情况 over its six columns
    assert ws["J5"].number_format == "#,##0.00" and ws["N5"].number_format == "0.00%"
    assert ws.column_dimensions["C"].width >= 28 and ws["C5"].alignment.wrap_text


@pytest.mark.history_bypass("sets a name no form accepts")
@pytest.mark.django_db
def test_text_that_looks_like_a_formula_stays_text(leader_client, zone):  # noqa: F811
    Project.objects.filter(pk=zone.P1.pk).update(
        name='=HYPERLINK("http://evil","x")', construction_content="@SUM(1)"
    )
    _, ws = sheets(download(leader_client, group="none"))
    cells = [c for row in ws.iter_rows(min_row=5) for c in row if c.value == '=HYPERLINK("http://evil","x")']
    assert len(cells) == 1 and cells[0].data_type == "s"


@pytest.mark.django_db
def test_ledger_query_count_does_not_grow_with_rows(client, django_assert_max_num_queries):
    client.force_login(UserFactory(roles=[Role.LEADER]))

    def make(n):
        for _ in range(n):
            project = ProjectFactory()
            AnnualPlanFactory(project=project, year=2024)
            MonthlyProgressFactory(project=project, year=2024, month=3)

    make(5)
    with django_assert_max_num_queries(12) as small:
        download(client)
    make(45)
    with django_assert_max_num_queries(len(small.captured_queries)):
        data = download(client)
    assert len(table(sheets(data)[0])) == 50 + 2  # the rows, one level subtotal (all 区重点) and the total


@pytest.mark.django_db
def test_ledger_permissions_and_bad_requests(client, zone, settings):  # noqa: F811
    url = reverse("projects:export")
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(UserFactory(username="norole"))
    assert client.get(url).status_code == 403
    client.force_login(UserFactory(username="unit-user", roles=[Role.UNIT]))
    assert client.get(url, {**MARCH, "group": "bogus"}).status_code == 400
    settings.EXCEL_EXPORT_MAX_ROWS = 3
    response = client.get(url, MARCH, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("projects:list"))
    assert "6" in response.content.decode() and "3" in response.content.decode()
    response = client.get(url, {**MARCH, "park": "not-a-park"}, follow=True)
    assert response.redirect_chain and response.status_code == 200


@pytest.mark.django_db
def test_unknown_figures_are_blank_and_a_real_zero_stays_zero(client):
    """No report, or a report that does not count in this ledger: blank, never 0.00; a report of 0
    that counts: 0.00. An uncounted report's texts say where it stands."""
    client.force_login(UserFactory(roles=[Role.LEADER]))
    nothing, zero, returned, submitted = (ProjectFactory(name=n) for n in ("无月报", "零", "退回", "报送"))
    for project in (nothing, zero, returned, submitted):
        AnnualPlanFactory(project=project, year=2024, planned_investment=D(1000))
    MonthlyProgressFactory(project=zero, year=2024, month=3, completed_investment=D(0), problems="缺电")
    MonthlyProgressFactory(project=returned, year=2024, month=1, completed_investment=D(100))
    MonthlyProgressFactory(
        project=returned, year=2024, month=3, completed_investment=D(50), status="returned", problems="缺电"
    )
    MonthlyProgressFactory(
        project=submitted, year=2024, month=3, completed_investment=D(70), status="submitted", problems="缺电"
    )

    data = download(client, group="none")
    values, formulas = sheets(data)
    rows = {r["项目名称"]: r for r in table(values)}
    month, ytd = "本月完成投资", "1—3月累计完成投资"
    shown = {
        name: (rows[name][month], rows[name][ytd], rows[name]["形象进度"], rows[name]["存在问题"])
        for name in ("无月报", "零", "退回", "报送")
    }
    assert shown == {
        "无月报": (None, None, None, None),
        "零": (0, 0, "主体结构施工", "缺电"),
        "退回": (None, 100, "已退回", "已退回"),
        "报送": (None, None, "审核中", "审核中"),
    }
    assert rate(rows["无月报"]["完成率"]) == D(0)  # the official rate: nothing counted yet
    row = rows["无月报"]["_row"]
    assert formulas[f"M{row}"].value == f'=IF(L{row}="","",L{row})'
    assert formulas[f"N{row}"].value == f'=IF(K{row}>0,N(M{row})/K{row},"")'

    values, _ = sheets(download(client, group="none", include_submitted="1"))
    rows = {r["项目名称"]: r for r in table(values)}
    assert (rows["报送"][month], rows["报送"][ytd], rows["报送"]["存在问题"]) == (70, 70, "缺电")
    assert (rows["退回"][month], rows["退回"]["存在问题"]) == (None, "已退回")
