"""The leader dashboard, against a zone whose every figure is worked out by hand below.

Reporting month March 2024 (时序进度 3/12 = 25.00%). Six projects, amounts in 万元:

    project  level       park  industry  leader  unit  total   plan    approved Jan–Mar (ytd)
    P1       provincial  A     I1 (K1)   L1      U1    50000   10000   1000+1000+1110 = 3110
    P2       municipal   A     I2 (K1)   L1      U2    20000    8000   500+500 = 1000 (+600 submitted, March)
    P3       zone        B     I3 (K2)   L2      U1    12000    4000   400+400+300 = 1100
    P4       zone        B     I3 (K2)   L2      U2     6000       —   200 (no plan: outside the roster)
    P5       provincial  C     I1 (K1)   L2      U1    30000    6000   600+300 = 900 (no March report)
    P6       municipal   —     —         —       U3     1000    2000   100 (Feb 300 returned; no March report)

Roster (projects with a plan): P1 P2 P3 P5 P6, plan 30000, completed 6210, 完成率 6210/30000 = 0.2070,
gap 20.70 − 25 = −4.30 points. Lagging (completed × 12 < plan × 3): P2 (12000 < 24000), P5 (10800 < 18000),
P6 (1200 < 6000); P1 (37320 ≥ 30000) and P3 (13200 ≥ 12000) are not.
"""

import datetime
import re
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.roles import Role
from problems.choices import ProblemLevel
from projects.choices import BatchRole, Level, MilestoneKind, MilestoneStatus, ProgressStatus, Stage
from projects.models import AnnualPlan, MonthlyProgress, Project
from tests.factories import (
    AnnualPlanFactory,
    ApprovalMilestoneFactory,
    BatchFactory,
    BatchMembershipFactory,
    ClusterFactory,
    DepartmentFactory,
    IndustryFactory,
    LeaderFactory,
    MonthlyProgressFactory,
    ParkFactory,
    ProjectFactory,
    StageChangeFactory,
    UserFactory,
    at,
    make_ticket,
)

D = Decimal


class Zone:
    pass


@pytest.fixture
def zone(db):
    z = Zone()
    z.A, z.B, z.C = (ParkFactory(name=n) for n in ("甲园区", "乙园区", "丙园区"))
    z.K1, z.K2 = ClusterFactory(name="电子信息"), ClusterFactory(name="生物医药")
    z.I1 = IndustryFactory(name="数字经济", cluster=z.K1)
    z.I2 = IndustryFactory(name="电子商务", cluster=z.K1)
    z.I3 = IndustryFactory(name="生物技术", cluster=z.K2)
    z.L1, z.L2 = LeaderFactory(name="张主任"), LeaderFactory(name="李主任")
    z.U1, z.U2, z.U3 = (DepartmentFactory(name=n) for n in ("经发局", "住建局", "招商局"))

    def project(name, level, park, industry, leader, unit, total, stage, **extra):
        return ProjectFactory(
            name=name,
            level=level,
            park=park,
            industry=industry,
            responsible_leader=leader,
            responsible_unit=unit,
            total_investment=D(total),
            stage=stage,
            **extra,
        )

    z.P1 = project("P1", Level.PROVINCIAL, z.A, z.I1, z.L1, z.U1, 50000, Stage.UNDER_CONSTRUCTION,
                   actual_start=datetime.date(2024, 2, 10))  # fmt: skip
    z.P2 = project("P2", Level.MUNICIPAL, z.A, z.I2, z.L1, z.U2, 20000, Stage.STARTED,
                   actual_start=datetime.date(2024, 5, 1))  # fmt: skip
    z.P3 = project("P3", Level.ZONE, z.B, z.I3, z.L2, z.U1, 12000, Stage.IN_PRODUCTION,
                   actual_start=datetime.date(2023, 6, 1))  # fmt: skip
    z.P4 = project("P4", Level.ZONE, z.B, z.I3, z.L2, z.U2, 6000, Stage.SIGNED)
    z.P5 = project("P5", Level.PROVINCIAL, z.C, z.I1, z.L2, z.U1, 30000, Stage.LANDED)
    z.P6 = project("P6", Level.MUNICIPAL, None, None, None, z.U3, 1000, Stage.RESERVE)

    for p, plan in ((z.P1, 10000), (z.P2, 8000), (z.P3, 4000), (z.P5, 6000), (z.P6, 2000)):
        AnnualPlanFactory(project=p, year=2024, planned_investment=D(plan))
    AnnualPlanFactory(project=z.P1, year=2023, planned_investment=D(99999))  # another year: ignored
    reports = [
        (z.P1, 1, 1000, ProgressStatus.APPROVED),
        (z.P1, 2, 1000, ProgressStatus.APPROVED),
        (z.P1, 3, 1110, ProgressStatus.APPROVED),
        (z.P2, 1, 500, ProgressStatus.APPROVED),
        (z.P2, 2, 500, ProgressStatus.APPROVED),
        (z.P2, 3, 600, ProgressStatus.SUBMITTED),
        (z.P3, 1, 400, ProgressStatus.APPROVED),
        (z.P3, 2, 400, ProgressStatus.APPROVED),
        (z.P3, 3, 300, ProgressStatus.APPROVED),
        (z.P4, 1, 200, ProgressStatus.APPROVED),
        (z.P4, 3, 0, ProgressStatus.DRAFT),
        (z.P5, 1, 600, ProgressStatus.APPROVED),
        (z.P5, 2, 300, ProgressStatus.APPROVED),
        (z.P6, 1, 100, ProgressStatus.APPROVED),
        (z.P6, 2, 300, ProgressStatus.RETURNED),
        (z.P1, 4, 5000, ProgressStatus.SUBMITTED),  # after the reporting month
    ]
    for p, month, amount, status in reports:
        MonthlyProgressFactory(
            project=p, year=2024, month=month, completed_investment=D(amount), status=status
        )
    MonthlyProgressFactory(project=z.P1, year=2023, month=12, completed_investment=D(7777))  # last year

    # P3 went into production on 15 March; P1's stage history only reaches 建设.
    StageChangeFactory(project=z.P3, from_stage=Stage.UNDER_CONSTRUCTION, to_stage=Stage.IN_PRODUCTION,
                       changed_on=datetime.date(2024, 3, 15))  # fmt: skip
    StageChangeFactory(project=z.P1, from_stage=Stage.STARTED, to_stage=Stage.UNDER_CONSTRUCTION,
                       changed_on=datetime.date(2024, 3, 1))  # fmt: skip

    z.batch7, z.batch8 = BatchFactory(number=7), BatchFactory(number=8)
    for batch, p, role in (
        (z.batch7, z.P1, BatchRole.START),  # 建设 ≥ 开工: started
        (z.batch7, z.P2, BatchRole.START),  # 开工: started
        (z.batch7, z.P5, BatchRole.START),  # 落地: not yet
        (z.batch7, z.P3, BatchRole.PRODUCE),  # 投产, not 达产
        (z.batch8, z.P4, BatchRole.SIGN),  # 签约
        (z.batch8, z.P6, BatchRole.START),  # 储备: not yet
    ):
        BatchMembershipFactory(batch=batch, project=p, role=role)

    K = MilestoneKind
    S = MilestoneStatus
    for p, kind, status, planned in (
        (z.P1, K.PROJECT_FILING, S.DONE, None),
        (z.P1, K.ENVIRONMENT, S.DONE, None),
        (z.P1, K.CONSTRUCTION_PERMIT, S.IN_PROGRESS, datetime.date(2024, 2, 1)),  # overdue
        (z.P2, K.PROJECT_FILING, S.DONE, None),
        (z.P2, K.LAND_TITLE, S.NOT_STARTED, datetime.date(2099, 1, 1)),  # not yet due
        (z.P2, K.ENERGY, S.NOT_APPLICABLE, datetime.date(2024, 1, 1)),  # 不涉及: never counted
        (z.P5, K.PROJECT_FILING, S.IN_PROGRESS, None),
    ):
        done_on = datetime.date(2024, 1, 20) if status == S.DONE else None
        ApprovalMilestoneFactory(
            project=p, kind=kind, status=status, planned_date=planned, completed_date=done_on
        )
    return z


@pytest.fixture
def leader_client(client, db):
    client.force_login(UserFactory(username="lingdao", roles=[Role.LEADER]))
    return client


# --- Reading pages ---------------------------------------------------------------


class _Figures(HTMLParser):
    """Every element carrying data-value: its id, classes, href and value."""

    def __init__(self):
        super().__init__()
        self.items = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-value" in attrs:
            self.items.append(
                {
                    "id": attrs.get("id"),
                    "classes": (attrs.get("class") or "").split(),
                    "href": (attrs.get("href") or "").replace("&amp;", "&"),
                    "value": attrs["data-value"],
                    "achieved": attrs.get("data-achieved"),
                }
            )


def figures_in(response) -> list[dict]:
    assert response.status_code == 200
    parser = _Figures()
    parser.feed(response.content.decode())
    return parser.items


def by_id(response) -> dict[str, str]:
    return {item["id"]: item["value"] for item in figures_in(response) if item["id"]}


def section(response, section_id: str) -> str:
    html = response.content.decode()
    start = html.index(f'id="{section_id}"')
    end = html.find("</section>", start)
    return html[start:end]


def row_values(response, section_id: str) -> dict[str, dict[str, str]]:
    """A split table: row label → {count, total, planned, completed, rate, lagging} data-values."""
    html = section(response, section_id)
    rows = {}
    for row in re.findall(r"<tr data-key=.*?</tr>", html, flags=re.S):
        label = re.search(r"<td>(.*?)</td>", row).group(1)
        rows[label] = dict(re.findall(r'class="[^"]*fig-(\w+)[^"]*"[^>]*data-value="([^"]*)"', row))
    return rows


# --- Figures ---------------------------------------------------------------------------


def test_headline_figures_for_march(zone, leader_client):
    response = leader_client.get("/dashboard/")

    cards = by_id(response)
    assert cards["card-count"] == "6"
    assert D(cards["card-total"]) == D("119000")
    assert D(cards["card-planned"]) == D("30000")
    assert D(cards["card-completed"]) == D("6210")
    assert D(cards["card-unplanned"]) == D("200")
    assert cards["card-rate"] == "0.2070"
    assert cards["card-schedule"] == "0.2500"
    assert cards["card-gap"] == "-4.30"
    assert cards["card-lagging"] == "3"
    # 亿元 with two decimals on the cards: 119000 万元 = 11.90 亿元, 30000 = 3.00, 6210 = 0.62
    headline = section(response, "headline")
    for shown in (">11.90<", ">3.00<", ">0.62<", ">20.70%<", ">25.00%<", "落后 4.30 个百分点"):
        assert shown in headline
    assert "−4.30" not in headline  # "behind" already says which way


def test_the_headline_and_the_project_list_name_the_months_they_add_up(zone, leader_client):
    def text(html):
        return " ".join(re.sub(r"<[^>]+>", " ", html).split())

    march = leader_client.get("/dashboard/")
    february = leader_client.get("/dashboard/?year=2024&month=2")

    assert "1–3月累计完成投资（亿元）" in text(section(march, "headline"))
    assert "1–2月累计完成投资（亿元）" in text(section(february, "headline"))
    assert "N月" not in march.content.decode()
    listed = leader_client.get("/projects/?year=2024&month=2").content.decode()
    column = text(re.search(r"<thead.*?</thead>", listed, re.S).group(0))
    summary = text(re.search(r'<dt[^>]*>([^<]*)</dt><dd[^>]*id="sum-completed"', listed).group(1))
    assert "1–2月累计完成" in column and summary == "1–2月累计完成"
    # The funnel's sentence, in Chinese punctuation.
    lifecycle = re.search(r'id="lifecycle">(.*?)</p>', march.content.decode(), re.S).group(1)
    assert text(lifecycle).replace(" ", "") == "2024年1–3月：新开工项目1个，新投产项目1个。"


def test_default_period_is_the_latest_month_with_approved_figures(zone, leader_client):
    # April has only a submitted report, so March is the default.
    response = leader_client.get("/dashboard/")
    assert response.context["s"].period.year == 2024
    assert response.context["s"].period.month == 3


def test_splits_by_level_park_cluster_leader_and_unit(zone, leader_client):
    response = leader_client.get("/dashboard/")

    levels = row_values(response, "split-level")
    assert levels["省重点"] == {
        "count": "2",
        "total": "80000.00",
        "planned": "16000.00",
        "completed": "4010.00",
        "rate": "0.2506",
        "lagging": "1",
    }  # fmt: skip  (4010/16000 = 0.250625)
    assert levels["市重点"]["rate"] == "0.1100" and levels["市重点"]["lagging"] == "2"  # 1100/10000
    assert levels["区重点"]["planned"] == "4000.00" and levels["区重点"]["count"] == "2"
    assert levels["区重点"]["rate"] == "0.2750"
    assert "一般项目" not in levels

    parks = row_values(response, "split-park")
    assert parks["甲园区"]["completed"] == "4110.00" and parks["甲园区"]["rate"] == "0.2283"  # 4110/18000
    assert parks["乙园区"]["rate"] == "0.2750"
    assert parks["丙园区"]["rate"] == "0.1500"
    assert parks["未归属园区"]["count"] == "1" and parks["未归属园区"]["rate"] == "0.0500"

    clusters = row_values(response, "split-cluster")
    assert clusters["电子信息"]["count"] == "3" and clusters["电子信息"]["planned"] == "24000.00"
    assert clusters["电子信息"]["completed"] == "5010.00"  # P1 3110 + P2 1000 + P5 900
    assert clusters["生物医药"]["planned"] == "4000.00"

    industries = row_values(response, "split-industry")
    assert industries["数字经济"]["count"] == "2" and industries["数字经济"]["completed"] == "4010.00"

    leaders = row_values(response, "split-leader")
    assert leaders["张主任（副主任）"]["completed"] == "4110.00"  # P1 and P2
    assert leaders["李主任（副主任）"]["planned"] == "10000.00"  # P3 and P5 (P4 has no plan)
    assert leaders["无责任领导"]["count"] == "1"

    units = row_values(response, "split-unit")
    assert units["经发局"]["planned"] == "20000.00" and units["经发局"]["completed"] == "5110.00"
    assert units["住建局"]["planned"] == "8000.00" and units["住建局"]["rate"] == "0.1250"
    assert units["招商局"]["rate"] == "0.0500"


def test_the_seed_shape_31_1_percent_6_points_above_schedule_in_march(zone, client):
    """Seed 001: "完成年度目标任务的31.1%，高于时序进度6个百分点" for a March report."""
    client.force_login(UserFactory(username="shenhe", roles=[Role.REVIEWER]))
    response = client.get(
        "/api/dashboard/summary/", {"year": 2024, "month": 3, "park": zone.A.pk, "level": Level.PROVINCIAL}
    )

    assert response.status_code == 200
    data = response.json()
    assert data["project_count"] == 1
    assert data["planned_investment"] == "10000.00"
    assert data["completed_investment"] == "3110.00"
    assert data["completion_rate"] == "0.3110"
    assert data["schedule_progress"] == "0.2500"
    assert data["gap_points"] == "6.10"
    assert data["lagging_count"] == 0
    page = client.get("/dashboard/", {"year": 2024, "month": 3, "park": zone.A.pk, "level": Level.PROVINCIAL})
    assert "超出 6.10 个百分点" in section(page, "headline")
    assert ">31.10%<" in section(page, "headline")


def test_summary_endpoint_gives_the_dashboard_figures(zone, leader_client):
    data = leader_client.get("/api/dashboard/summary/?year=2024&month=3").json()

    assert data["project_count"] == 6
    assert data["total_investment"] == "119000.00"
    assert data["planned_investment"] == "30000.00"
    assert data["completed_investment"] == "6210.00"
    assert data["unplanned_completed_investment"] == "200.00"
    assert data["completion_rate"] == "0.2070"
    assert data["gap_points"] == "-4.30"
    assert data["lagging_count"] == 3
    levels = {row["key"]: row for row in data["by_level"]}
    assert levels["provincial"]["completion_rate"] == "0.2506"
    assert levels["provincial"]["gap_points"] == "0.06"  # 25.0625 − 25
    assert levels["municipal"]["gap_points"] == "-14.00"
    assert levels["zone"]["unplanned_completed_investment"] == "200.00"
    parks = {row["label"]: row for row in data["by_park"]}
    assert parks["甲园区"]["gap_points"] == "-2.17"  # 22.8333 − 25
    assert parks["未归属园区"]["key"] is None
    assert sum(row["project_count"] for row in data["by_park"]) == 6


def test_february_and_january(zone, leader_client):
    data = leader_client.get("/api/dashboard/summary/?year=2024&month=2").json()
    # Jan–Feb approved on the roster: P1 2000, P2 1000, P3 800, P5 900, P6 100 = 4800; P6's Feb was returned.
    assert data["completed_investment"] == "4800.00"
    assert data["completion_rate"] == "0.1600"
    assert data["schedule_progress"] == "0.1667"
    assert data["gap_points"] == "-0.67"  # 16 − 16.6667
    # Lagging at February: ×12 < plan×2 → P1 24000 ≥ 20000 no; P2 12000 < 16000; P3 9600 ≥ 8000 no;
    # P5 10800 < 12000; P6 1200 < 4000.
    assert data["lagging_count"] == 3


def test_submitted_figures_only_when_asked_and_labelled(zone, leader_client):
    response = leader_client.get("/dashboard/?include_submitted=1")

    cards = by_id(response)
    assert D(cards["card-completed"]) == D("6810")  # + P2's submitted 600
    assert cards["card-rate"] == "0.2270"
    assert 'id="submitted-included"' in response.content.decode()
    assert 'id="submitted-included"' not in leader_client.get("/dashboard/").content.decode()
    data = leader_client.get("/api/dashboard/summary/?year=2024&month=3&include_submitted=true").json()
    assert data["completed_investment"] == "6810.00" and data["include_submitted"] is True


def test_monthly_trend_against_the_straight_line(zone, leader_client):
    response = leader_client.get("/dashboard/")

    trend = [(p["point"].month, p["point"].completed, p["point"].cumulative, p["point"].schedule)
             for p in response.context["d"].trend]  # fmt: skip
    # Roster only (P4 has no plan): Jan 1000+500+400+600+100 = 2600; Feb 1000+500+400+300 = 2200; Mar 1110+300
    assert trend == [
        (1, D("2600.00"), D("2600.00"), D("2500.00")),
        (2, D("2200.00"), D("4800.00"), D("5000.00")),
        (3, D("1410.00"), D("6210.00"), D("7500.00")),
    ]
    charts = response.context["d"].charts
    assert charts["trend"]["cumulative"] == ["0.26", "0.48", "0.62"]


def test_lifecycle_funnel_and_new_starts(zone, leader_client):
    response = leader_client.get("/dashboard/")

    funnel = {f["figure"].stage: (f["figure"].project_count, f["figure"].total_investment)
              for f in response.context["d"].funnel}  # fmt: skip
    assert funnel[Stage.PLANNING] == (0, D("0"))
    assert funnel[Stage.RESERVE] == (1, D("1000.00"))
    assert funnel[Stage.SIGNED] == (1, D("6000.00"))
    assert funnel[Stage.LANDED] == (1, D("30000.00"))
    assert funnel[Stage.STARTED] == (1, D("20000.00"))
    assert funnel[Stage.UNDER_CONSTRUCTION] == (1, D("50000.00"))
    assert funnel[Stage.IN_PRODUCTION] == (1, D("12000.00"))
    assert len(funnel) == 9
    figures = by_id(response)
    assert figures["started-count"] == "1"  # P1 in February; P2 starts in May, P3 started in 2023
    assert figures["production-count"] == "1"  # P3 on 15 March


def test_three_batches_rates(zone, leader_client):
    response = leader_client.get("/dashboard/")

    rows = {(r["figure"].batch_number, r["figure"].role): r for r in response.context["d"].batches}
    start7 = rows[(7, BatchRole.START)]
    assert start7["figure"].member_count == 3
    assert start7["figure"].rates["start_rate"].rate == D("0.6667")  # P1 and P2 of three
    produce7 = rows[(7, BatchRole.PRODUCE)]["figure"].rates
    assert produce7["production_rate"].rate == D("1.0000")
    assert produce7["capacity_rate"].rate == D("0.0000")
    assert rows[(8, BatchRole.SIGN)]["figure"].rates["signing_rate"].rate == D("1.0000")
    assert rows[(8, BatchRole.START)]["figure"].rates["start_rate"].rate == D("0.0000")
    assert [key for key in rows] == [(8, "sign"), (8, "start"), (7, "start"), (7, "produce")]


def test_lagging_projects_furthest_behind_first_and_projects_without_a_report(zone, leader_client):
    response = leader_client.get("/dashboard/")

    board = response.context["d"]
    assert [p.name for p in board.lagging] == ["P6", "P2", "P5"]  # 5%, 12.5%, 15%
    assert [p.figures.gap_points for p in board.lagging] == [D("-20.00"), D("-12.50"), D("-10.00")]
    # On the roster with no March report at all: P5 and P6 (P2's submitted one counts as a report).
    assert [p.name for p in board.unreported] == ["P5", "P6"]
    assert by_id(response)["unreported-count"] == "2"


def test_approval_milestones(zone, leader_client):
    response = leader_client.get("/dashboard/")

    milestones = response.context["d"].milestones
    assert (milestones["overall"].achieved, milestones["overall"].total) == (3, 6)
    assert milestones["overall"].rate == D("0.5000")
    kinds = {row["label"]: row["figure"] for row in milestones["by_kind"]}
    assert (kinds["立项（备案/核准/审批）"].achieved, kinds["立项（备案/核准/审批）"].total) == (2, 3)
    assert "能评（节能审查）" not in kinds  # only 不涉及
    assert milestones["overdue_count"] == 1
    assert milestones["overdue"][0].kind == MilestoneKind.CONSTRUCTION_PERMIT


def test_ranking_of_parks_and_units_with_flags(zone, leader_client):
    response = leader_client.get("/dashboard/")

    rankings = response.context["d"].rankings
    parks = [(i["ranked"].position, i["ranked"].label, i["ranked"].flag) for i in rankings["park"]]
    assert parks == [(1, "乙园区", "red"), (2, "甲园区", "red"), (3, "丙园区", "yellow")]  # 27.5, 22.83, 15
    units = [(i["ranked"].label, i["ranked"].flag) for i in rankings["unit"]]
    assert units == [("经发局", "red"), ("住建局", "red"), ("招商局", "yellow")]  # 25.55, 12.5, 5
    html = section(response, "ranking-park")
    assert html.count("flag-red") == 2 and html.count("flag-yellow") == 1


def test_filters_narrow_every_figure(zone, leader_client):
    data = leader_client.get(f"/api/dashboard/summary/?batch={zone.batch7.pk}").json()
    assert data["project_count"] == 4  # P1 P2 P3 P5
    assert data["completed_investment"] == "6110.00"  # 3110 + 1000 + 1100 + 900
    data = leader_client.get(
        f"/api/dashboard/summary/?cluster={zone.K2.pk}&responsible_leader={zone.L2.pk}"
    ).json()
    assert data["project_count"] == 2 and data["planned_investment"] == "4000.00"
    data = leader_client.get(f"/api/dashboard/summary/?park={zone.A.pk}&park={zone.C.pk}").json()
    assert data["project_count"] == 3 and data["planned_investment"] == "24000.00"
    response = leader_client.get(f"/dashboard/?industry={zone.I1.pk}")
    assert by_id(response)["card-count"] == "2"
    assert response.context["d"].milestones["overall"].total == 4  # P1's three and P5's one


def test_problem_panel_counts_the_problems_collected_in_the_year_to_the_month(zone, leader_client):
    office = UserFactory(username="duban", roles=[Role.SUPERVISOR])
    make_ticket(user=office, collected_at=at(2024, 2, 10))
    make_ticket(user=office, collected_at=at(2024, 3, 31, 23, 0))
    make_ticket(user=office, collected_at=at(2024, 4, 1, 0, 30))  # after March
    make_ticket(user=office, collected_at=at(2023, 12, 31, 9))  # last year

    response = leader_client.get("/dashboard/")

    problems = response.context["d"].problems
    assert problems["kpis"].total.collected == 2
    assert [(row.key, row.collected) for row in problems["kpis"].by_level] == [(ProblemLevel.ZONE, 2)]
    link = (
        re.search(r'id="kpi-collected" href="([^"]+)"', response.content.decode())
        .group(1)
        .replace("&amp;", "&")
    )
    listed = leader_client.get(link)
    assert listed.context["page"].paginator.count == 2


# --- Drill-down: every number links to a list whose figures equal it ---------------------------

LIST_FIGURE = {
    # what the clicked figure is → the list summary's element holding the same figure
    "card-count": "sum-count",
    "card-total": "sum-total",
    "card-planned": "sum-planned",
    "card-completed": "sum-completed",
    "card-rate": "sum-rate",
    "card-lagging": "sum-lagging",
    "card-unplanned": "sum-unplanned",
    "fig-count": "sum-count",
    "fig-total": "sum-total",
    "fig-planned": "sum-planned",
    "fig-completed": "sum-completed",
    "fig-lagging": "sum-lagging",
    "fig-members": "sum-count",
    "started-count": "sum-count",
    "production-count": "sum-count",
    "unreported-count": "sum-count",
}


def _kind(item) -> str | None:
    if item["id"] in LIST_FIGURE:
        return item["id"]
    for cls in item["classes"]:
        if cls in LIST_FIGURE:
            return cls
    return None


@pytest.mark.parametrize(
    "query",
    ["", "include_submitted=1", "year=2024&month=2", "level=provincial&level=municipal", "park=A", "batch=7"],
)
def test_every_figure_links_to_a_list_with_the_same_figure(zone, leader_client, query):
    query = query.replace("park=A", f"park={zone.A.pk}").replace("batch=7", f"batch={zone.batch7.pk}")
    response = leader_client.get("/dashboard/?" + query)

    followed = 0
    for item in figures_in(response):
        kind = _kind(item)
        if kind is None or not item["href"]:
            continue
        listed = by_id(leader_client.get(item["href"]))
        expected = item["value"]
        assert listed[LIST_FIGURE[kind]] == expected, (kind, item["href"])
        followed += 1
    # 6 cards + per split row 4 or 5 links, the trend points, the funnel stages, batches …
    assert followed >= 40


def test_trend_and_funnel_and_batch_rate_links(zone, leader_client):
    response = leader_client.get("/dashboard/")
    board = response.context["d"]

    for t in board.trend:
        assert D(by_id(leader_client.get(t["url"]))["sum-completed"]) == t["point"].cumulative
    for f in board.funnel:
        assert int(by_id(leader_client.get(f["url"]))["sum-count"]) == f["figure"].project_count
        assert D(by_id(leader_client.get(f["url"]))["sum-total"]) == f["figure"].total_investment
    for row in board.batches:
        for rate in row["rates"]:
            assert int(by_id(leader_client.get(rate["url"]))["sum-count"]) == rate["figure"].achieved


def test_milestone_links_list_the_same_procedures(zone, leader_client):
    response = leader_client.get("/dashboard/")
    m = response.context["d"].milestones

    assert by_id(leader_client.get(m["url"]))["sum-count"] == str(m["overall"].total)
    assert by_id(leader_client.get(m["done_url"]))["sum-count"] == str(m["overall"].achieved)
    overdue = leader_client.get(m["overdue_url"])
    assert by_id(overdue)["sum-count"] == "1"
    assert "table-danger" in overdue.content.decode()
    for row in m["by_kind"]:
        listed = by_id(leader_client.get(row["url"]))
        assert (listed["sum-applicable"], listed["sum-done"]) == (
            str(row["figure"].total),
            str(row["figure"].achieved),
        )


def test_split_links_carry_the_dashboard_filters(zone, leader_client):
    response = leader_client.get(f"/dashboard/?park={zone.A.pk}&year=2024&month=3")
    row = response.context["d"].splits["level"].rows[0]

    query = parse_qs(urlsplit(row.url).query)
    assert query["park"] == [str(zone.A.pk)]
    assert query["level"] == [row.key]
    assert query["year"] == ["2024"] and query["month"] == ["3"]


# --- Queries, scope and bad input ----------------------------------------------------------------


def _many_projects(n: int, zone) -> None:
    projects = Project.objects.bulk_create(
        Project(name=f"批量项目{i}", park=zone.B, industry=zone.I3, level=Level.ZONE, total_investment=D(100),
                responsible_unit=zone.U2, responsible_leader=zone.L1, stage=Stage.UNDER_CONSTRUCTION)
        for i in range(n)
    )  # fmt: skip
    AnnualPlan.objects.bulk_create(
        AnnualPlan(project=p, year=2024, planned_investment=D(120)) for p in projects
    )
    MonthlyProgress.objects.bulk_create(
        MonthlyProgress(
            project=p, year=2024, month=m, completed_investment=D(10), status=ProgressStatus.APPROVED
        )
        for p in projects
        for m in (1, 2, 3)
    )


@pytest.mark.history_bypass("bulk test data")
def test_dashboard_and_summary_run_a_fixed_number_of_queries(zone, leader_client):
    with CaptureQueriesContext(connection) as few:
        assert leader_client.get("/dashboard/").status_code == 200
    with CaptureQueriesContext(connection) as few_api:
        assert leader_client.get("/api/dashboard/summary/").status_code == 200

    _many_projects(500, zone)
    # The bulk rows bypass the change history, whose newest ids key the cached figures.
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        response = leader_client.get("/dashboard/")
    with CaptureQueriesContext(connection) as many_api:
        data = leader_client.get("/api/dashboard/summary/").json()

    assert by_id(response)["card-count"] == "506"
    assert data["planned_investment"] == "90000.00"  # 30000 + 500 × 120
    assert data["completed_investment"] == "21210.00"  # 6210 + 500 × 30
    # Cold: each cached panel reads the data version before computing (warm, that read is all).
    assert len(many) == len(few) <= 48
    assert len(many_api) == len(few_api) <= 10


def test_staff_see_their_units_projects_only(zone, client):
    client.force_login(UserFactory(username="zhuanyuan", roles=[Role.STAFF], department=zone.U1))

    response = client.get("/dashboard/")

    assert by_id(response)["card-count"] == "3"  # P1 P3 P5
    assert D(by_id(response)["card-planned"]) == D("20000")
    assert "经发局" in re.search(r'id="scope-note">(.*?)</div>', response.content.decode()).group(1)
    # The drill-down keeps to the unit, so the list shows the same three projects.
    assert by_id(client.get(response.context["d"].links["all"]))["sum-count"] == "3"
    data = client.get("/api/dashboard/summary/").json()
    assert data["project_count"] == 3
    # Asking for another unit's park does not widen the scope.
    assert client.get(f"/api/dashboard/summary/?park={zone.A.pk}").json()["project_count"] == 1


def test_unit_handlers_see_their_units_projects(zone, client):
    client.force_login(UserFactory(username="zhujian", roles=[Role.UNIT], department=zone.U2))
    assert client.get("/api/dashboard/summary/").json()["project_count"] == 2  # P2 P4


def test_who_may_not_see_the_dashboard(zone, client):
    assert client.get("/dashboard/").status_code == 302  # to the login page
    assert client.get("/api/dashboard/summary/").status_code in (401, 403)

    client.force_login(UserFactory(username="norole"))
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/api/dashboard/summary/").status_code == 403

    client.force_login(UserFactory(username="nounit", roles=[Role.STAFF]))
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/api/dashboard/summary/").status_code == 403


def test_zone_wide_roles(zone, client):
    for username, role in (
        ("a", Role.ADMIN),
        ("r", Role.REVIEWER),
        ("s", Role.SUPERVISOR),
        ("l", Role.LEADER),
    ):
        client.force_login(UserFactory(username=username, roles=[role], department=zone.U3))
        assert client.get("/api/dashboard/summary/").json()["project_count"] == 6, role


def test_bad_parameters_get_field_errors_and_change_nothing(zone, leader_client):
    response = leader_client.get("/api/dashboard/summary/?year=abc&month=13&park=999999")

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"year", "month", "park"}
    assert "整数" in errors["year"][0]

    page = leader_client.get("/dashboard/?month=13")
    assert page.status_code == 200
    assert 'id="filter-errors"' in page.content.decode()
    assert page.context["s"].period.month == 3  # the default month instead


def test_english_for_api_clients_that_ask_and_users_who_choose_it(zone, leader_client, settings):
    response = leader_client.get("/api/dashboard/summary/?year=abc", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["year"] == ["Enter a whole number."]

    leader_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = leader_client.get("/dashboard/").content.decode()
    assert "Ranking of parks" in html and "red flag" in html


def test_charts_are_sized_by_css_classes_and_have_no_inline_script(zone, leader_client):
    html = leader_client.get("/dashboard/").content.decode()

    assert html.count('data-dashboard-chart="') >= 8
    assert 'style="' not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    inline = [
        body for attrs, body in scripts if "src=" not in attrs and 'type="application/json"' not in attrs
    ]
    assert inline == []
