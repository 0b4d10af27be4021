"""The problem workbooks downloaded through the pages and read back with openpyxl: the ledger
(问题台账) row by row, agreeing with the ticket list's rows and overdue flags; the weekly summary
and monthly bulletin against figures counted by hand and against ``kpis``; scope, bad input,
formula injection and query counts."""

import datetime
import re
from decimal import Decimal
from io import BytesIO
from urllib.parse import quote

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from problems import kpis, services
from problems.choices import ClosureGrade, Fence, ProblemCategory, ProblemSource, Satisfaction, TicketStatus
from problems.excel import last_full_month, last_full_week, month_of, ranked, week_of
from problems.kpis import ProblemFigures
from problems.models import ProblemTicket
from tests.factories import (
    DepartmentFactory,
    EnterpriseFactory,
    LeaderFactory,
    ParkFactory,
    ProjectFactory,
    UserFactory,
    at,
    make_ticket,
)
from tests.problems.test_kpis import Team

pytestmark = pytest.mark.django_db

D = datetime.date
DAY = datetime.timedelta(days=1)
LEDGER = "enterprises:ticket_export"
SUMMARY = "enterprises:ticket_summary_export"
# The ledger: title, subtitle, two header rows (the "13710" due dates share a group), then rows.
LEDGER_FIRST_ROW = 5
SUMMARY_FIRST_ROW = 5


@pytest.fixture(autouse=True)
def calendar_days(settings):
    settings.PROBLEM_DAY_COUNTING = "calendar"
    settings.PROBLEM_DEADLINES = {"assign": 1, "report": 3, "resolve": 7, "major_months": 1, "review": 1}


@pytest.fixture
def team(staff, office):
    return Team(staff, office)


@pytest.fixture
def nobody():
    return UserFactory(username="xinren")


def download(client, user, name, params=None):
    client.force_login(user)
    return client.get(reverse(name), params or {})


def workbook(response, *, data_only=True):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return openpyxl.load_workbook(BytesIO(b"".join(response.streaming_content)), data_only=data_only)


def headers(ws, first_row) -> list[str]:
    """Column names: the lower header row, or the upper one where a header spans both."""
    upper, lower = first_row - 2, first_row - 1
    return [ws.cell(lower, col).value or ws.cell(upper, col).value for col in range(1, ws.max_column + 1)]


def day(value):
    """Excel keeps days as naive date-times at midnight."""
    if isinstance(value, datetime.datetime):
        assert value.time() == datetime.time()
        return value.date()
    return value


def table(ws, first_row) -> list[dict]:
    names = headers(ws, first_row)
    return [
        {name: day(value) for name, value in zip(names, values, strict=True)}
        for values in ws.iter_rows(min_row=first_row, max_row=ws.max_row, values_only=True)
    ]


def ledger_rows(response) -> dict[int, dict]:
    """The ledger's rows by ticket number."""
    return {row["编号"]: row for row in table(workbook(response).active, LEDGER_FIRST_ROW)}


def listed_overdue(client, params=None) -> dict[int, bool]:
    """The ticket list page's rows: number → highlighted as overdue."""
    page = client.get(reverse("enterprises:ticket_list"), params or {}).content.decode()
    rows = re.findall(r'<tr class="([^"]*)" id="ticket-(\d+)"', page)
    return {int(pk): "overdue" in classes.split() for classes, pk in rows}


def number(value):
    return None if value in (None, "") else Decimal(str(value))


FIGURES = ["收集", "已办结", "问题解决率", "已评价", "满意（含基本满意）", "满意率", "超期", "平均办结天数"]


def figures_of(row: dict) -> tuple:
    return tuple(number(row[name]) for name in FIGURES)


def figures(*values) -> tuple:
    return tuple(number(value) for value in values)


def figures_from_kpis(figures: ProblemFigures) -> tuple:
    return tuple(
        number(value)
        for value in (
            figures.collected,
            figures.resolved,
            figures.resolution_rate,
            figures.rated,
            figures.satisfied,
            figures.satisfaction_rate,
            figures.overdue,
            figures.average_days,
        )
    )


def summary_sheets(response) -> dict[str, list[dict]]:
    book = workbook(response)
    return {ws.title: table(ws, SUMMARY_FIRST_ROW) for ws in book.worksheets}


# --- The ledger ----------------------------------------------------------------------------------


def test_a_ticket_row_holds_every_ledger_field(client, team, staff, office, unit, handler):
    enterprise = EnterpriseFactory(name="周口天子铝业有限公司", park=ParkFactory(name="金属新材料产业园"))
    project = ProjectFactory(name="新能源汽车配套零部件项目", enterprise=enterprise)
    leader = LeaderFactory(name="王强", title="副主任")
    collected = at(2024, 3, 4, 9)
    ticket = make_ticket(
        user=staff,
        collected_at=collected,
        enterprise=enterprise,
        project=project,
        source=ProblemSource.HOTLINE,
        category=ProblemCategory.FINANCING,
        title="流动资金贷款难",
        description="需要2000万元流动资金",
        fence=Fence.INSIDE,
        is_major=True,
        responsible_leader=leader,
    )
    team.escalate(ticket, 1, at(2024, 3, 4, 9, 30))
    services.ticket_assign(ticket=ticket, user=office, unit=unit, handler=handler, at=at(2024, 3, 4, 10))
    services.ticket_resolve(
        ticket=ticket, user=handler, resolution="协调银行发放贷款2000万元", at=at(2024, 3, 20, 16)
    )
    services.ticket_close(ticket=ticket, user=office, grade=ClosureGrade.EXCELLENT, at=at(2024, 3, 21, 10))
    services.ticket_rate(
        ticket=ticket, user=staff, satisfaction=Satisfaction.SATISFIED, comment="非常满意", at=at(2024, 3, 22)
    )

    response = download(client, office, LEDGER)

    today = timezone.localdate()
    assert response["Content-Disposition"].endswith(quote(f"问题台账-{today:%Y-%m-%d}.xlsx"))
    ws = workbook(response).active
    assert ws.title == "问题台账"
    assert ws["A1"].value == "周口经济开发区 万人助万企问题台账"
    assert ws["A2"].value == "全部问题"
    rows = table(ws, LEDGER_FIRST_ROW)
    assert len(rows) == 1
    assert rows[0] == {
        "序号": 1,
        "编号": ticket.pk,
        "企业名称": "周口天子铝业有限公司",
        "所属园区": "金属新材料产业园",
        "问题来源": "热线",
        "问题类别": "融资",
        "问题描述": "流动资金贷款难\n需要2000万元流动资金",
        "围墙内/外": "围墙内",
        "层级": "市级",
        "是否重大复杂": "是",
        "责任单位": "区自然资源局",
        "承办人": str(handler),
        "责任领导": "王强（副主任）",
        "收集日期": D(2024, 3, 4),
        "收集人": str(staff),
        # "13710": assign within 1 day, first report within 3, a major problem resolved within a month.
        "交办期限": D(2024, 3, 5),
        "首次报告期限": D(2024, 3, 7),
        "办结期限": D(2024, 4, 4),
        "承诺办结日期": None,
        "状态": "已评价",
        "是否超期": "否",
        "办理计划": None,
        "办结情况": "协调银行发放贷款2000万元",
        "办结日期": D(2024, 3, 21),
        "办结评定": "优秀",
        "满意度": "满意",
        "企业意见": "非常满意",
        "关联项目": "新能源汽车配套零部件项目",
    }


def test_dates_are_the_zones_local_days(client, staff, office):
    # 00:30 on March 5 in the zone is still March 4 in UTC.
    ticket = make_ticket(user=staff, collected_at=at(2024, 3, 5, 0, 30))

    row = ledger_rows(download(client, office, LEDGER))[ticket.pk]

    assert (row["收集日期"], row["交办期限"]) == (
        D(2024, 3, 5),
        D(2024, 3, 6),
    )


def test_overdue_is_the_list_pages_flag(client, team, staff, office, unit, handler):
    now = timezone.now()
    fresh = team.collect(now)  # pending, assign due tomorrow
    late = team.collect(now - 5 * DAY)  # pending, assign due 4 days ago
    assigned_today = team.collect(now - datetime.timedelta(minutes=5))
    team.assign(assigned_today, unit, now)
    unreported = team.collect(now - 6 * DAY)  # assigned, first report due 3 days ago
    team.assign(unreported, unit, now - 6 * DAY + datetime.timedelta(hours=1))
    done = team.closed(now - 20 * DAY, unit, 2)  # closed: never late

    client.force_login(office)
    listed = listed_overdue(client)
    rows = ledger_rows(download(client, office, LEDGER))

    expected = {fresh.pk: False, late.pk: True, assigned_today.pk: False, unreported.pk: True, done.pk: False}
    assert listed == expected
    assert {pk: row["是否超期"] for pk, row in rows.items()} == {
        pk: "是" if overdue else "否" for pk, overdue in expected.items()
    }


def test_the_ledger_has_the_lists_filters_and_order(client, team, staff, office, unit, other_unit):
    now = timezone.now()
    pending = team.collect(now - 5 * DAY, title="拖欠工程款")
    mine = team.collect(now - 2 * DAY, category=ProblemCategory.INFRASTRUCTURE)
    team.assign(mine, unit, now - 2 * DAY + datetime.timedelta(hours=1))
    team.escalate(mine, 1, now - DAY)
    theirs = team.collect(now - DAY)
    team.assign(theirs, other_unit, now - DAY + datetime.timedelta(hours=1))
    client.force_login(office)

    cases = [
        {},
        {"status": TicketStatus.PENDING},
        {"status": [TicketStatus.PENDING, TicketStatus.ASSIGNED]},
        {"level": "city"},
        {"overdue": "true"},
        {"overdue": "false"},
        {"unit": "null"},
        {"unit": unit.pk, "category": ProblemCategory.INFRASTRUCTURE},
        {"q": "工程款"},
        {"ordering": "due"},
        {"collected_from": (now - 3 * DAY).date().isoformat()},
    ]
    for params in cases:
        page = client.get(reverse("enterprises:ticket_list"), params).content.decode()
        listed = [int(pk) for pk in re.findall(r'id="ticket-(\d+)"', page)]
        exported = list(ledger_rows(client.get(reverse(LEDGER), params)))
        assert exported == listed, params
    assert list(ledger_rows(client.get(reverse(LEDGER)))) == [theirs.pk, mine.pk, pending.pk]
    assert list(ledger_rows(client.get(reverse(LEDGER), {"ordering": "due"})))[0] == pending.pk


def test_the_subtitle_names_the_filters(client, staff, office, unit):
    make_ticket(user=staff)
    params = {
        "level": "city",
        "status": [TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS],
        "unit": unit.pk,
        "overdue": "true",
        "collected_from": "2024-03-01",
        "collected_to": "2024-03-31",
        "q": "用电",
    }

    ws = workbook(download(client, office, LEDGER, params)).active

    subtitle = ws["A2"].value
    for text in (
        "收集日期：2024-03-01 至 2024-03-31",
        "问题层级：市级",
        "状态：已交办、办理中",
        "责任单位：区自然资源局",
        "超期：是",
        "搜索：“用电”",
    ):
        assert text in subtitle


def test_workbooks_are_chinese_whatever_the_pages_language(client, settings, team, staff, office, unit):
    ticket = team.collect(at(2024, 3, 5))
    team.assign(ticket, unit, at(2024, 3, 5, 11))
    team.collect(at(2024, 3, 6))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(office)
    assert "Enterprise problems" in client.get(reverse("enterprises:ticket_list")).content.decode()

    ws = workbook(client.get(reverse(LEDGER), {"status": "assigned"})).active
    row = table(ws, LEDGER_FIRST_ROW)[0]
    assert (ws["A2"].value, row["状态"], row["层级"], row["问题类别"]) == (
        "状态：已交办",
        "已交办",
        "区级",
        "土地",
    )

    sheets = summary_sheets(client.get(reverse(SUMMARY), {"kind": "week", "week": "2024-03-04"}))
    assert [row["责任单位"] for row in sheets["按责任单位"]] == ["区自然资源局", "尚未交办", "合计"]
    assert [row["层级"] for row in sheets["按层级"]] == ["区级", "合计"]


def test_bad_filters_go_back_to_the_list(client, staff, office):
    make_ticket(user=staff)

    response = download(client, office, LEDGER, {"status": "nonsense"})

    assert response.status_code == 302
    assert response.url == reverse("enterprises:ticket_list") + "?status=nonsense"


def test_text_is_written_as_text_never_as_a_formula(client, staff, office):
    formula = "=cmd|' /C calc'!A0"
    script = "<script>alert(1)</script>"
    as_formula = make_ticket(user=staff, title=formula)
    as_script = make_ticket(user=staff, title=script, enterprise=EnterpriseFactory(name='=HYPERLINK("x")'))

    response = download(client, office, LEDGER)
    ws = workbook(response, data_only=False).active

    cells = {
        ws.cell(row, 2).value: (ws.cell(row, 4), ws.cell(row, 3))  # 编号: (问题描述, 企业名称)
        for row in range(LEDGER_FIRST_ROW, ws.max_row + 1)
    }
    problem, _enterprise = cells[as_formula.pk]
    assert (problem.data_type, problem.value) == ("s", formula)
    problem, enterprise = cells[as_script.pk]
    assert (problem.data_type, problem.value) == ("s", script)
    assert (enterprise.data_type, enterprise.value) == ("s", '=HYPERLINK("x")')


# --- The weekly summary and the monthly bulletin --------------------------------------------------


@pytest.fixture
def march(team, unit, other_unit):
    """Problems around the week of Monday 2024-03-04 to Sunday 03-10 and the month of March 2024.

    In the week: unit A (区自然资源局) 3, unit B (区住建局) 2, unit C (区税务局) 2, 1 not assigned.
    Outside the week but in March: A 2, B 1, C 1. Outside March: one on 02-29, one on 04-01.
    Each closed one took a whole number of days from collection to closure.
    """
    tax = DepartmentFactory(name="区税务局")
    a1 = team.closed(at(2024, 3, 4, 0, 10), unit, 2, category=ProblemCategory.FINANCING)  # Monday 00:10
    team.rate(a1, Satisfaction.SATISFIED, at(2024, 3, 7))
    a2 = team.closed(at(2024, 3, 5), unit, 4)
    team.rate(a2, Satisfaction.BASICALLY, at(2024, 3, 10))
    a3 = team.collect(at(2024, 3, 6))
    team.assign(a3, unit, at(2024, 3, 6, 11))  # never reported: overdue
    b1 = team.collect(at(2024, 3, 10, 23, 50))  # Sunday 23:50
    team.escalate(b1, 1, at(2024, 3, 10, 23, 55))
    team.assign(b1, other_unit, at(2024, 3, 11, 8))
    team.resolve(b1, at(2024, 3, 12, 9))
    team.close(b1, at(2024, 3, 12, 23, 50))  # 2 days
    b2 = team.closed(at(2024, 3, 7), other_unit, 4)
    team.rate(b2, Satisfaction.UNSATISFIED, at(2024, 3, 12))  # reopened: rated, not resolved, overdue
    c1 = team.closed(at(2024, 3, 8), tax, 2)
    team.rate(c1, Satisfaction.SATISFIED, at(2024, 3, 11))
    c2 = team.collect(at(2024, 3, 8, 12))
    team.assign(c2, tax, at(2024, 3, 8, 13))  # open, overdue
    team.collect(at(2024, 3, 9))  # not assigned: overdue
    # March, outside the week.
    team.closed(at(2024, 3, 3, 23, 50), unit, 2)  # the Sunday before
    team.closed(at(2024, 3, 11, 0, 10), other_unit, 2)  # the Monday after
    x6 = team.closed(at(2024, 3, 1, 0, 10), unit, 3)
    team.rate(x6, Satisfaction.SATISFIED, at(2024, 3, 5))
    x5 = team.collect(at(2024, 3, 31, 23, 50))
    team.assign(x5, tax, at(2024, 4, 1, 9))  # open, overdue
    # Outside March.
    team.closed(at(2024, 2, 29, 23, 50), tax, 2)
    team.closed(at(2024, 4, 1, 0, 10), unit, 2)
    return {"A": unit, "B": other_unit, "C": tax}


def by_label(rows: list[dict], label_header: str) -> dict[str, dict]:
    return {row[label_header]: row for row in rows}


def test_weekly_summary_by_unit_counted_by_hand(client, office, march):
    response = download(client, office, SUMMARY, {"kind": "week", "week": "2024-03-07"})

    assert response["Content-Disposition"].endswith(quote("问题周汇总-2024-03-04至2024-03-10.xlsx"))
    sheets = summary_sheets(response)
    assert list(sheets) == ["按责任单位", "按层级", "按类别"]
    units = sheets["按责任单位"]
    # 收集, 已办结, 问题解决率, 已评价, 满意, 满意率, 超期, 平均办结天数; ranked by 问题解决率, then
    # 满意率: A 2/3; C and B both 1/2, C rated 1/1 satisfied, B 0/1 (its 不满意 counts until re-rated).
    assert [(row["序号"], row["责任单位"], figures_of(row), row["排名"]) for row in units] == [
        (1, "区自然资源局", figures(3, 2, "0.6667", 2, 2, "1.0000", 1, "3.0"), 1),  # (2 + 4) / 2 days
        (2, "区税务局", figures(2, 1, "0.5000", 1, 1, "1.0000", 1, "2.0"), 2),
        (3, "区住建局", figures(2, 1, "0.5000", 1, 0, "0.0000", 1, "2.0"), 3),
        (4, "尚未交办", figures(1, 0, "0.0000", 0, 0, None, 1, None), None),
        (None, "合计", figures(8, 4, "0.5000", 4, 3, "0.7500", 4, "2.5"), None),  # 10 days / 4
    ]


def test_the_summary_is_kpis_split_and_totals(client, office, march):
    date_from, date_to = D(2024, 3, 4), D(2024, 3, 10)
    today = timezone.localdate()
    tickets = kpis.in_period(ProblemTicket.objects.all(), date_from, date_to)

    sheets = summary_sheets(download(client, office, SUMMARY, {"kind": "week", "week": "2024-03-10"}))

    total = figures_from_kpis(kpis.totals(tickets, today=today))
    for name, label_header, dimension in (
        ("按责任单位", "责任单位", "unit"),
        ("按层级", "层级", "level"),
        ("按类别", "问题类别", "category"),
    ):
        rows = by_label(sheets[name], label_header)
        split = kpis.split(tickets, dimension, today=today)
        assert set(rows) == {row.label for row in split} | {"合计"}, name
        for row in split:
            assert figures_of(rows[row.label]) == figures_from_kpis(row), (name, row.label)
        assert figures_of(rows["合计"]) == total, name
    levels = sheets["按层级"]
    assert [(row["序号"], row["层级"], row["收集"]) for row in levels] == [
        (1, "区级", 7),
        (2, "市级", 1),
        (None, "合计", 8),
    ]
    categories = by_label(sheets["按类别"], "问题类别")
    assert (categories["融资"]["收集"], categories["土地"]["收集"]) == (1, 7)


def test_the_total_row_is_formulas_that_come_to_the_figures(client, office, march):
    response = download(client, office, SUMMARY, {"kind": "week", "week": "2024-03-04"})
    book = workbook(response, data_only=False)
    ws = book["按责任单位"]

    total_row = ws.max_row
    assert ws.cell(total_row, 2).value == "合计"
    # Data rows 5–8; only rows with a 序号 count.
    assert ws.cell(total_row, 3).value == '=SUMIFS(C5:C8,$A$5:$A$8,">0")'
    assert ws.cell(total_row, 5).value.startswith("=IF(SUMIFS(C5:C8")


def test_monthly_bulletin_counts_the_calendar_month(client, office, march):
    response = download(client, office, SUMMARY, {"kind": "month", "year": "2024", "month": "3"})

    assert response["Content-Disposition"].endswith(quote("问题月通报-2024-03.xlsx"))
    book = workbook(response)
    ws = book["按责任单位"]
    assert ws["A1"].value == "周口经济开发区 万人助万企问题办理情况月通报（按责任单位）"
    assert ws["A2"].value.startswith("统计时段：2024年3月（2024-03-01 至 2024-03-31")
    units = table(ws, SUMMARY_FIRST_ROW)
    # 03-01 00:10 and 03-31 23:50 are in; 02-29 23:50 and 04-01 00:10 are not.
    # A: 5 collected, 4 closed after 2, 4, 2 and 3 days = 11 / 4 = 2.75 → 2.8; B 3; C 3.
    assert [(row["责任单位"], figures_of(row), row["排名"]) for row in units] == [
        ("区自然资源局", figures(5, 4, "0.8000", 3, 3, "1.0000", 1, "2.8"), 1),
        ("区住建局", figures(3, 2, "0.6667", 1, 0, "0.0000", 1, "2.0"), 2),
        ("区税务局", figures(3, 1, "0.3333", 1, 1, "1.0000", 2, "2.0"), 3),
        ("尚未交办", figures(1, 0, "0.0000", 0, 0, None, 1, None), None),
        # 17 days over 7 closed = 2.43 → 2.4.
        ("合计", figures(12, 7, "0.5833", 5, 4, "0.8000", 5, "2.4"), None),
    ]


def test_a_unit_gets_only_its_units_problems(client, office, march, handler, other_handler):
    sheets = summary_sheets(download(client, handler, SUMMARY, {"kind": "week", "week": "2024-03-04"}))

    assert [(row["责任单位"], row["收集"], row["排名"]) for row in sheets["按责任单位"]] == [
        ("区自然资源局", 3, 1),
        ("合计", 3, None),
    ]

    rows = ledger_rows(download(client, other_handler, LEDGER))
    assert {row["责任单位"] for row in rows.values()} == {"区住建局"}
    assert set(rows) == set(ProblemTicket.objects.filter(unit=march["B"]).values_list("pk", flat=True))


def test_default_periods_are_the_last_full_week_and_month(client, office, march):
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday() + 7)
    first = (today.replace(day=1) - DAY).replace(day=1)
    last = today.replace(day=1) - DAY

    week = download(client, office, SUMMARY, {"kind": "week"})
    month = download(client, office, SUMMARY, {"kind": "month", "year": "", "month": ""})

    assert week["Content-Disposition"].endswith(
        quote(f"问题周汇总-{monday:%Y-%m-%d}至{monday + 6 * DAY:%Y-%m-%d}.xlsx")
    )
    assert month["Content-Disposition"].endswith(quote(f"问题月通报-{first:%Y-%m}.xlsx"))
    assert workbook(month)["按层级"]["A2"].value.startswith(
        f"统计时段：{first.year}年{first.month}月（{first:%Y-%m-%d} 至 {last:%Y-%m-%d}"
    )


@pytest.mark.parametrize(
    ("today", "week"),
    [
        (D(2024, 3, 13), (D(2024, 3, 4), D(2024, 3, 10))),  # Wednesday
        (D(2024, 3, 10), (D(2024, 2, 26), D(2024, 3, 3))),  # Sunday: its week is not over yet
        (D(2024, 3, 11), (D(2024, 3, 4), D(2024, 3, 10))),  # Monday
        (D(2024, 1, 3), (D(2023, 12, 25), D(2023, 12, 31))),
    ],
)
def test_last_full_week(today, week):
    period = last_full_week(today)
    assert (period.date_from, period.date_to) == week


def test_periods():
    assert (week_of(D(2024, 3, 10)).date_from, week_of(D(2024, 3, 10)).date_to) == (
        D(2024, 3, 4),
        D(2024, 3, 10),
    )
    assert (month_of(2024, 2).date_from, month_of(2024, 2).date_to) == (D(2024, 2, 1), D(2024, 2, 29))
    assert (last_full_month(D(2024, 1, 1)).date_from, last_full_month(D(2024, 1, 1)).date_to) == (
        D(2023, 12, 1),
        D(2023, 12, 31),
    )


def unit_figures(label, resolution, satisfaction, key=1):
    resolved = int(Decimal(resolution) * 100)
    rated = 0 if satisfaction is None else 100
    satisfied = 0 if satisfaction is None else int(Decimal(satisfaction) * 100)
    return ProblemFigures(key, label, 100, resolved, rated, satisfied, 0, 100 - resolved, None)


def test_equal_rates_share_a_rank_and_the_unrated_come_after_the_rated():
    rows = [
        unit_figures("丙", "0.5", None),
        unit_figures("甲", "1", "1"),
        unit_figures("丁", "0.5", "0.5"),
        unit_figures("尚未交办", "0", None, key=None),
        unit_figures("乙", "1", "1"),
    ]

    assert [(row.label, rank) for row, rank in ranked(rows)] == [
        ("乙", 1),
        ("甲", 1),
        ("丁", 3),
        ("丙", 4),
        ("尚未交办", None),
    ]


def test_an_empty_period_has_a_zero_total(client, office):
    sheets = summary_sheets(download(client, office, SUMMARY, {"kind": "week", "week": "2020-01-01"}))

    assert [(row["责任单位"], row["收集"], row["问题解决率"]) for row in sheets["按责任单位"]] == [
        ("合计", 0, None)
    ]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"kind": "year"},
        {"kind": "week", "week": "last"},
        {"kind": "week", "week": "2024-13-01"},
        {"kind": "week", "week": "9999-12-31"},
        {"kind": "month", "year": "2024"},
        {"kind": "month", "month": "3"},
        {"kind": "month", "year": "2024", "month": "13"},
        {"kind": "month", "year": "2024", "month": "0"},
        {"kind": "month", "year": "abc", "month": "3"},
        {"kind": "month", "year": "99999", "month": "3"},
        {"kind": "month", "year": "9" * 30, "month": "3"},
    ],
)
def test_bad_summary_parameters_are_a_400_with_the_reason(client, office, params):
    response = download(client, office, SUMMARY, params)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert len(response.content.decode()) > 20


# --- Who may download --------------------------------------------------------------------------------


def test_no_role_is_refused_and_anonymous_must_log_in(client, nobody, staff):
    make_ticket(user=staff)
    for name, params in ((LEDGER, {}), (SUMMARY, {"kind": "week"}), (SUMMARY, {"kind": "nonsense"})):
        assert download(client, nobody, name, params).status_code == 403
    client.logout()
    for name in (LEDGER, SUMMARY):
        response = client.get(reverse(name), {"kind": "week"})
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("role", [Role.STAFF, Role.LEADER, Role.REVIEWER, Role.SUPERVISOR])
def test_zone_wide_readers_get_every_problem(client, staff, unit, office, role):
    assigned = services.ticket_assign(ticket=make_ticket(user=staff), user=office, unit=unit)
    pending = make_ticket(user=staff)
    reader = UserFactory(username=f"reader-{role}", roles=[role])

    assert set(ledger_rows(download(client, reader, LEDGER))) == {assigned.pk, pending.pk}


# --- The download buttons ----------------------------------------------------------------------------


def test_the_pages_offer_the_downloads(client, office):
    client.force_login(office)

    page = client.get(reverse("enterprises:ticket_list"), {"status": "pending", "page": "1"}).content.decode()
    assert f'href="{reverse(LEDGER)}?status=pending"' in page

    page = client.get(reverse("enterprises:stats")).content.decode()
    assert f'action="{reverse(SUMMARY)}"' in page
    assert 'name="kind" value="week"' in page and 'name="kind" value="month"' in page


# --- Queries do not grow with the rows ------------------------------------------------------------------


def build(team, count, units):
    leader = LeaderFactory()
    start = at(2024, 3, 4, 9)
    for index in range(count):
        unit = units[index % len(units)]
        ticket = team.collect(
            start + (index % 7) * DAY,
            responsible_leader=leader,
            category=[ProblemCategory.LAND, ProblemCategory.FINANCING][index % 2],
        )
        if index % 3:
            services.ticket_assign(
                ticket=ticket,
                user=team.office,
                unit=unit,
                handler=team.handler(unit),
                at=start + (index % 7) * DAY + datetime.timedelta(hours=1),
            )
        if index % 3 == 2:
            team.resolve(ProblemTicket.objects.get(pk=ticket.pk), start + (index % 7 + 1) * DAY)


def queries(client, user, name, params) -> int:
    client.force_login(user)
    client.get(reverse(name), params)  # warm per-process caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(name), params)
        b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(captured)


def test_queries_do_not_grow_with_the_number_of_problems(
    client, team, office, handler, unit, other_unit, django_assert_max_num_queries
):
    units = [unit, other_unit]
    pages = [
        (office, LEDGER, {}),
        (office, LEDGER, {"status": "assigned", "overdue": "true", "ordering": "-due"}),
        (handler, LEDGER, {}),
        (office, SUMMARY, {"kind": "week", "week": "2024-03-04"}),
        (handler, SUMMARY, {"kind": "month", "year": "2024", "month": "3"}),
    ]
    build(team, 5, units)
    few = [queries(client, user, name, params) for user, name, params in pages]

    build(team, 35, units)
    assert ProblemTicket.objects.count() == 40
    for (user, name, params), limit in zip(pages, few, strict=True):
        client.force_login(user)
        with django_assert_max_num_queries(limit):
            response = client.get(reverse(name), params)
            b"".join(response.streaming_content)
    rows = ledger_rows(download(client, office, LEDGER))
    assert len(rows) == 40
