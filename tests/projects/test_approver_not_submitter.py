"""Four eyes on the official figures: whoever submitted a report may not approve it, even holding both
the staff and the reviewer role, by whichever path they try (the service, the report's page, the
review queue's bulk approval, the API one by one or in bulk)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from core.api.tokens import create_token
from core.roles import Role
from projects import services
from projects.choices import ProgressStatus
from projects.models import MonthlyProgress
from tests.factories import DepartmentFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

REFUSAL = "报送人以外的另一位审核人"  # part of the Chinese reason


@pytest.fixture
def unit():
    return DepartmentFactory(name="经发局")


@pytest.fixture
def both(unit):
    """A member of the unit who reports and also reviews."""
    return UserFactory(username="li", department=unit, roles=[Role.STAFF, Role.REVIEWER])


@pytest.fixture
def reviewer():
    return UserFactory(username="yang", roles=[Role.REVIEWER])


@pytest.fixture
def project(both, unit):
    return ProjectFactory(name="益海特油项目", staff_in_charge=both, responsible_unit=unit)


def submitted(project, user, month=3):
    return services.progress_save(
        project=project,
        year=2023,
        month=month,
        user=user,
        data={"completed_investment": Decimal("120.00"), "physical_progress": "主体封顶", "problems": ""},
        submit=True,
    )


def statuses():
    return set(MonthlyProgress.objects.values_list("status", flat=True))


def test_the_submitter_cannot_approve_their_own_report(project, both, reviewer):
    report = submitted(project, both)
    with pytest.raises(ValidationError) as refusal:
        services.progress_approve(report=report, user=both)
    assert refusal.value.code == "own_report"
    assert statuses() == {ProgressStatus.SUBMITTED}
    # Another reviewer may; and the submitter may still return their own report.
    services.progress_approve(report=report, user=reviewer)
    assert statuses() == {ProgressStatus.APPROVED}


def test_the_submitter_may_return_their_own_report(project, both):
    report = submitted(project, both)
    services.progress_return(report=report, user=both, reason="数字填错")
    assert statuses() == {ProgressStatus.RETURNED}


def test_the_rule_can_be_switched_off(project, both, settings):
    settings.PROGRESS_APPROVER_NOT_SUBMITTER = False
    services.progress_approve(report=submitted(project, both), user=both)
    assert statuses() == {ProgressStatus.APPROVED}


def test_bulk_approval_with_one_own_report_approves_none(project, both, reviewer, unit):
    colleague = UserFactory(username="zhao", department=unit, roles=[Role.STAFF])
    theirs = submitted(project, colleague, month=2)
    mine = submitted(project, both, month=3)
    with pytest.raises(ValidationError):
        services.progress_review_many(reports=[theirs, mine], user=both, approve=True)
    assert statuses() == {ProgressStatus.SUBMITTED}


def test_the_report_page_refuses_with_the_reason(client, project, both):
    report = submitted(project, both)
    client.force_login(both)
    response = client.post(f"/projects/progress/{report.pk}/review/", {"action": "approve"}, follow=True)
    assert REFUSAL in response.content.decode()
    assert statuses() == {ProgressStatus.SUBMITTED}


def test_the_review_queue_refuses_the_whole_selection(client, project, both, unit):
    colleague = UserFactory(username="zhao", department=unit, roles=[Role.STAFF])
    reports = [submitted(project, colleague, month=2), submitted(project, both, month=3)]
    client.force_login(both)
    response = client.post(
        "/projects/progress/review/", {"report": [r.pk for r in reports], "approve": "1"}, follow=True
    )
    assert REFUSAL in response.content.decode()
    assert statuses() == {ProgressStatus.SUBMITTED}


def api(user):
    client = APIClient()
    _token, secret = create_token(user, name="tests", days=1)
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_the_api_refuses_one_by_one_and_in_bulk(project, both):
    report = submitted(project, both)
    client = api(both)
    response = client.post(f"/api/progress/{report.pk}/approve/", {"comment": ""}, format="json")
    assert response.status_code == 400
    assert REFUSAL in response.content.decode()
    response = client.post("/api/progress/review/", {"ids": [report.pk], "approve": True}, format="json")
    assert response.status_code == 400
    assert REFUSAL in response.content.decode()
    assert statuses() == {ProgressStatus.SUBMITTED}
