"""The API's role matrix, where tests/api/ leaves gaps.

tests/api/ asserts list, read, create, update and delete for every resource caller by caller; what
they check only as an administrator is here for every caller: the writes no one may make (read-only
resources, records that are never deleted, history), and the dashboard summary's scope.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from problems.choices import TicketStatus
from projects.choices import ProgressStatus
from tests.api.matrix import CALLERS, expected_codes
from tests.api.test_tickets_api import build
from tests.factories import (
    AnnualPlanFactory,
    ApprovalMilestoneFactory,
    MonthlyProgressFactory,
    ProjectFactory,
    StageChangeFactory,
    VisitFactory,
)

pytestmark = pytest.mark.django_db

EVERYONE = {"admin", "leader", "reviewer", "supervisor", "staff_in", "staff_out", "unit_in", "unit_out"}


def history_rows() -> int:
    from django.apps import apps

    return sum(
        model.objects.count() for model in apps.get_models() if model.__name__.startswith("Historical")
    )


def test_no_caller_writes_what_the_api_keeps_read_only(api_as, people, units):
    """Users, stage changes and history are read-only; visits are never changed; reports,
    procedures, visits and tickets are never deleted. Every caller: 401 anonymous, 403 without a role,
    405 for every role, administrators included; not one row or history row moves."""
    project = ProjectFactory(responsible_unit=units.U1)
    report = MonthlyProgressFactory(project=project, status=ProgressStatus.DRAFT)
    milestone = ApprovalMilestoneFactory(project=project)
    change = StageChangeFactory(project=project)
    visit = VisitFactory(unit=units.U1)
    ticket = build(TicketStatus.ASSIGNED, people, units)
    user = people["staff_in"]
    attempts = [
        ("post", "/api/users/"),
        ("put", f"/api/users/{user.pk}/"),
        ("patch", f"/api/users/{user.pk}/"),
        ("delete", f"/api/users/{user.pk}/"),
        ("post", "/api/stage-changes/"),
        ("patch", f"/api/stage-changes/{change.pk}/"),
        ("delete", f"/api/stage-changes/{change.pk}/"),
        ("put", f"/api/visits/{visit.pk}/"),
        ("patch", f"/api/visits/{visit.pk}/"),
        ("delete", f"/api/visits/{visit.pk}/"),
        ("delete", f"/api/progress/{report.pk}/"),
        ("delete", f"/api/milestones/{milestone.pk}/"),
        ("delete", f"/api/tickets/{ticket.pk}/"),
        *[
            (method, url)
            for url in [
                "/api/changes/",
                f"/api/projects/{project.pk}/history/",
                f"/api/enterprises/{ticket.enterprise_id}/history/",
                f"/api/tickets/{ticket.pk}/history/",
            ]
            for method in ("post", "put", "patch", "delete")
        ],
    ]
    records = [user, visit, report, milestone, change, ticket]

    def state():
        return [type(r).objects.filter(pk=r.pk).values().first() for r in records], history_rows()

    before = state()
    got = {}
    for method, url in attempts:
        got[method, url] = {
            who: getattr(api_as(who), method)(
                url, {"notes": "改", "username": "x"}, format="json"
            ).status_code
            for who in CALLERS
        }
    assert got == dict.fromkeys(got, expected_codes(EVERYONE, 405))
    assert state() == before


def test_dashboard_summary_every_caller_and_the_units_scope(api_as, units):
    """Zone-wide readers see both units' projects; project staff and units see their unit's."""
    for unit, planned in [(units.U1, "1000.00"), (units.U2, "400.00")]:
        project = ProjectFactory(responsible_unit=unit)
        AnnualPlanFactory(project=project, year=2024, planned_investment=Decimal(planned))
        MonthlyProgressFactory(project=project, year=2024, month=3, completed_investment=Decimal("100.00"))

    got = {}
    for who in CALLERS:
        response = api_as(who).get("/api/dashboard/summary/?year=2024&month=3")
        if response.status_code == 200:
            data = response.json()
            got[who] = (data["project_count"], data["planned_investment"], data["completed_investment"])
        else:
            got[who] = response.status_code
    zone = (2, "1400.00", "200.00")
    assert got == {
        "admin": zone,
        "leader": zone,
        "reviewer": zone,
        "supervisor": zone,
        "staff_in": (1, "1000.00", "100.00"),
        "staff_out": (1, "400.00", "100.00"),
        "unit_in": (1, "1000.00", "100.00"),
        "unit_out": (1, "400.00", "100.00"),
        "norole": 403,
        None: 401,
    }
