"""The dashboard's panels and the 问题统计 page come from the figures cache (core.caching), and
a change to a ticket, a procedure or a project's stage shows on the very next request."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.roles import Role
from problems.services import ticket_assign
from projects.choices import MilestoneKind, MilestoneStatus, Stage
from projects.selectors import Period, cached_month_review
from projects.services import milestone_update, progress_approve, project_change_stage
from tests.dashboard.test_dashboard import by_id, leader_client, zone  # noqa: F401  (fixtures)
from tests.factories import UserFactory, at, make_ticket


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_a_second_view_reads_the_cached_panels(zone, leader_client):  # noqa: F811
    first = _queries(leader_client, "/dashboard/")
    second = _queries(leader_client, "/dashboard/")
    # Every cached panel costs one version query instead of its own; the milestone panel's three
    # queries, the problem panel's three and the lifecycle count become four version reads.
    assert second < first


def test_a_stage_change_shows_in_the_lifecycle_funnel_and_batches_at_once(zone, leader_client):  # noqa: F811
    assert by_id(leader_client.get("/dashboard/"))["production-count"] == "1"  # P3 on 15 March

    project_change_stage(
        project=zone.P5,
        user=UserFactory(roles=[Role.ADMIN]),
        stage=Stage.IN_PRODUCTION,
        changed_on=datetime.date(2024, 3, 20),
    )

    response = leader_client.get("/dashboard/")
    assert by_id(response)["production-count"] == "2"  # P3 and now P5
    board = response.context["d"]
    funnel = {f["figure"].stage: f["figure"].project_count for f in board.funnel}
    assert (funnel[Stage.LANDED], funnel[Stage.IN_PRODUCTION]) == (0, 2)
    start7 = next(
        r["figure"] for r in board.batches if (r["figure"].batch_number, r["figure"].role) == (7, "start")
    )
    assert start7.rates["start_rate"].rate == Decimal("1.0000")  # P1, P2 and now P5 of three


def test_a_procedure_done_shows_in_the_procedures_at_once(zone, leader_client):  # noqa: F811
    before = leader_client.get("/dashboard/").context["d"].milestones
    assert (before["overall"].achieved, before["overall"].total, before["overdue_count"]) == (3, 6, 1)
    permit = zone.P1.milestones.get(kind=MilestoneKind.CONSTRUCTION_PERMIT)

    milestone_update(
        milestone=permit,
        user=UserFactory(roles=[Role.ADMIN]),
        data={"status": MilestoneStatus.DONE, "completed_date": datetime.date(2024, 3, 1)},
    )

    after = leader_client.get("/dashboard/").context["d"].milestones
    assert (after["overall"].achieved, after["overall"].total) == (4, 6)  # one more of the same six
    assert (after["overdue_count"], after["overdue"]) == (0, [])
    kinds = {row["label"]: (row["figure"].achieved, row["figure"].total) for row in after["by_kind"]}
    assert kinds["施工许可证"] == (1, 1)


@pytest.fixture
def two_tickets(zone):  # noqa: F811
    office = UserFactory(username="duban", roles=[Role.SUPERVISOR])
    tickets = [make_ticket(user=office, collected_at=at(2024, 2, d)) for d in (10, 11)]
    return office, tickets


def _units(kpis) -> dict:
    return {row.key: row.collected for row in kpis.by_unit}


def test_a_ticket_assigned_shows_in_the_problem_panel_at_once(zone, leader_client, two_tickets):  # noqa: F811
    office, tickets = two_tickets
    assert _units(leader_client.get("/dashboard/").context["d"].problems["kpis"]) == {None: 2}

    ticket_assign(ticket=tickets[0], user=office, unit=zone.U1)

    kpis = leader_client.get("/dashboard/").context["d"].problems["kpis"]
    assert _units(kpis) == {zone.U1.pk: 1, None: 1}
    assert kpis.total.collected == 2


def test_a_ticket_assigned_shows_on_the_problem_figures_page_at_once(zone, leader_client, two_tickets):  # noqa: F811
    office, tickets = two_tickets
    url = "/problems/figures/?date_from=2024-01-01"
    assert _units(leader_client.get(url).context["kpis"]) == {None: 2}
    assert _queries(leader_client, url) < _queries(leader_client, "/problems/figures/?date_from=2024-01-02")

    ticket_assign(ticket=tickets[1], user=office, unit=zone.U2)

    assert _units(leader_client.get(url).context["kpis"]) == {zone.U2.pk: 1, None: 1}


def test_an_approval_shows_in_the_months_review_at_once(zone):  # noqa: F811
    march = Period(2024, 3)
    before = cached_month_review(march)
    # On the 2024 plan: P1 P2 P3 P5 P6; March: P1 P3 approved, P2 submitted, P5 P6 nothing.
    assert (before.on_plan, before.approved, before.submitted, before.not_reported) == (5, 2, 1, 2)
    submitted = zone.P2.monthly_progress.get(year=2024, month=3)

    progress_approve(report=submitted, user=UserFactory(roles=[Role.REVIEWER]))

    after = cached_month_review(march)
    assert (after.approved, after.submitted, after.not_reported) == (3, 0, 2)
