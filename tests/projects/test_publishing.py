"""Publishing a month (月报发布、关账): the official figures move when a month is published, not on
each approval; a published month's reports are locked until it is reopened with a reason.

The world, 2024, amounts in 万元 (plans: P1 12000, P2 6000, P3 2400; P4 has no plan):

    month  P1                 P2                 P3                 P4
    1–3    approved 1000 each approved 500 each  approved 200 each  approved 50 (March)
    4      submitted 1500     returned 700       —                  —

So April, over the three projects on the plan: 0 approved, 1 waiting, 1 returned, 0 drafts, 1 not reported.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.roles import Role
from projects import selectors, services
from projects.choices import ProgressStatus
from projects.models import MonthlyProgress, MonthPublication
from projects.selectors import Period
from tests.factories import AnnualPlanFactory, MonthlyProgressFactory, ProjectFactory, UserFactory

D = Decimal


class World:
    pass


@pytest.fixture
def world(db):
    w = World()
    w.reviewer = UserFactory(username="rev", roles=[Role.REVIEWER])
    w.staff = UserFactory(username="stf", roles=[Role.STAFF])
    w.leader = UserFactory(username="ldr", roles=[Role.LEADER])
    w.admin = UserFactory(username="adm", roles=[Role.ADMIN])
    w.P1, w.P2, w.P3, w.P4 = (
        ProjectFactory(name=name, staff_in_charge=w.staff)
        for name in ("甲项目", "乙项目", "丙项目", "丁项目")
    )
    for project, plan in ((w.P1, "12000"), (w.P2, "6000"), (w.P3, "2400")):
        AnnualPlanFactory(project=project, year=2024, planned_investment=D(plan))
    for month in (1, 2, 3):
        MonthlyProgressFactory(project=w.P1, year=2024, month=month, completed_investment=D("1000"))
        MonthlyProgressFactory(project=w.P2, year=2024, month=month, completed_investment=D("500"))
        MonthlyProgressFactory(project=w.P3, year=2024, month=month, completed_investment=D("200"))
    MonthlyProgressFactory(project=w.P4, year=2024, month=3, completed_investment=D("50"))
    w.april_p1 = MonthlyProgressFactory(
        project=w.P1, year=2024, month=4, completed_investment=D("1500"), status=ProgressStatus.SUBMITTED
    )
    w.april_p2 = MonthlyProgressFactory(
        project=w.P2, year=2024, month=4, completed_investment=D("700"), status=ProgressStatus.RETURNED
    )
    return w


def publish(world, month, user=None):
    return services.month_publish(year=2024, month=month, user=user or world.reviewer)


# --- The service ------------------------------------------------------------------------------


def test_review_counts_are_over_the_projects_on_the_plan(world):
    april = selectors.month_review(Period(2024, 4))
    assert (april.on_plan, april.approved, april.submitted, april.returned, april.draft) == (3, 0, 1, 1, 0)
    assert april.not_reported == 1  # P3
    march = selectors.month_review(Period(2024, 3))
    assert (march.approved, march.submitted, march.not_reported) == (3, 0, 0)  # P4 is not on the plan
    assert not march.published


@pytest.mark.parametrize("role", ["staff", "leader"])
def test_only_reviewers_and_administrators_publish(world, role):
    with pytest.raises(PermissionDenied):
        publish(world, 3, user=getattr(world, role))
    assert not MonthPublication.objects.exists()


def test_publishing_records_who_and_when(world):
    publication = publish(world, 3, user=world.admin)
    assert publication.is_published and publication.published_by == world.admin
    record = publication.history.get()
    assert record.history_user == world.admin and record.is_published


def test_a_month_with_reports_waiting_for_review_is_not_published(world):
    with pytest.raises(ValidationError) as refused:
        publish(world, 4)
    assert refused.value.code == "pending"
    assert "1" in refused.value.messages[0]
    assert not MonthPublication.objects.exists()

    services.progress_return(report=world.april_p1, user=world.reviewer, reason="请核对")
    assert publish(world, 4).is_published  # returned and missing reports do not hold it back


def test_a_month_not_over_is_not_published(world):
    from django.utils import timezone

    today = timezone.localdate()
    with pytest.raises(ValidationError) as refused:
        services.month_publish(year=today.year, month=today.month, user=world.reviewer)
    assert refused.value.code == "not_over"


def test_publishing_twice_is_refused(world):
    publish(world, 3)
    with pytest.raises(ValidationError) as refused:
        publish(world, 3)
    assert refused.value.code == "published"
    assert MonthPublication.objects.get().history.count() == 1


def test_a_published_months_reports_are_locked(world):
    publish(world, 3)
    march = MonthlyProgress.objects.get(project=world.P1, year=2024, month=3)
    for attempt in (
        lambda: services.progress_reopen(report=march, user=world.reviewer, reason="更正"),
        lambda: services.progress_save(
            project=world.P3, year=2024, month=3, user=world.staff, data={"completed_investment": D("1")}
        ),
    ):
        with pytest.raises(ValidationError) as refused:
            attempt()
        assert refused.value.code == "published"
    march.refresh_from_db()
    assert march.status == ProgressStatus.APPROVED and march.completed_investment == D("1000")
    # Other months are untouched by the lock.
    services.progress_save(
        project=world.P3, year=2024, month=4, user=world.staff, data={"completed_investment": D("300")}
    )


def test_reopening_needs_a_reason_and_unlocks_the_month(world):
    publication = publish(world, 3)
    with pytest.raises(ValidationError):
        services.month_reopen(publication=publication, user=world.reviewer, reason="  ")
    services.month_reopen(publication=publication, user=world.reviewer, reason="乙项目3月数据更正")
    publication.refresh_from_db()
    assert not publication.is_published and publication.reopen_reason == "乙项目3月数据更正"
    assert publication.history.first().history_change_reason.endswith("乙项目3月数据更正")
    march = MonthlyProgress.objects.get(project=world.P2, year=2024, month=3)
    services.progress_reopen(report=march, user=world.reviewer, reason="更正")  # allowed again
    with pytest.raises(PermissionDenied):
        services.month_reopen(publication=publication, user=world.staff, reason="x")


# --- The default month --------------------------------------------------------------------------


def test_the_default_month_is_the_latest_published_one(world):
    assert selectors.default_period() == Period(2024, 3)  # nothing published: the latest approved month
    publish(world, 2)
    assert selectors.default_period() == Period(2024, 2)
    # Approving an April report does not move the official month: only publishing does.
    services.progress_approve(report=world.april_p1, user=world.reviewer)
    assert selectors.default_period() == Period(2024, 2)
    publish(world, 3)
    assert selectors.default_period() == Period(2024, 3)
    services.month_reopen(
        publication=MonthPublication.objects.get(month=3), user=world.reviewer, reason="更正"
    )
    assert selectors.default_period() == Period(2024, 2)


# --- Pages and the API ---------------------------------------------------------------------------


def login(client, user):
    client.force_login(user)
    return client


def test_the_months_page_shows_each_months_progress(world, client):
    publish(world, 2)
    page = login(client, world.reviewer).get("/projects/progress/months/?year=2024")
    assert page.status_code == 200
    text = page.content.decode()
    reviews = {r.month: r for r in page.context["reviews"]}
    assert sorted(reviews) == list(range(1, 13))
    assert (reviews[4].approved, reviews[4].submitted, reviews[4].returned, reviews[4].not_reported) == (
        0,
        1,
        1,
        1,
    )
    assert reviews[2].published and not reviews[3].published
    assert "已发布" in text and "审核中" in text
    # April waits for a review: its publish button is disabled; March's is not.
    assert text.count('name="action" value="publish"') == 11  # months 1, 3–12 (2 is published)
    april_row = text.split('data-month="4"')[1].split("</tr>")[0]
    march_row = text.split('data-month="3"')[1].split("</tr>")[0]
    assert "disabled" in april_row and "disabled" not in march_row
    assert 'name="action" value="reopen"' in text


def test_publishing_and_reopening_through_the_page(world, client):
    login(client, world.reviewer)
    response = client.post(
        "/projects/progress/months/", {"action": "publish", "year": "2024", "month": "3"}, follow=True
    )
    assert "2024年03月的数据已发布。" in response.content.decode()
    assert MonthPublication.objects.get(month=3).is_published
    refused = client.post(
        "/projects/progress/months/", {"action": "publish", "year": "2024", "month": "4"}, follow=True
    )
    assert "审核" in refused.content.decode()
    assert not MonthPublication.objects.filter(month=4).exists()
    # Reopening without a reason changes nothing; with one it reopens.
    client.post(
        "/projects/progress/months/", {"action": "reopen", "year": "2024", "month": "3", "version": "1"}
    )
    assert MonthPublication.objects.get(month=3).is_published
    client.post(
        "/projects/progress/months/",
        {"action": "reopen", "year": "2024", "month": "3", "version": "1", "reason": "更正"},
    )
    assert not MonthPublication.objects.get(month=3).is_published


def test_a_stale_publication_form_is_refused(world, client):
    publication = publish(world, 3)
    services.month_reopen(publication=publication, user=world.admin, reason="更正")
    login(client, world.reviewer)
    # The reviewer's page still showed version 1 (published): reopening it again would be stale.
    client.post(
        "/projects/progress/months/",
        {"action": "reopen", "year": "2024", "month": "3", "version": "1", "reason": "再更正"},
    )
    publication.refresh_from_db()
    assert publication.reopen_reason == "更正" and publication.version == 2


@pytest.mark.parametrize("role", ["staff", "leader"])
def test_others_see_the_months_but_cannot_publish(world, client, role):
    login(client, getattr(world, role))
    page = client.get("/projects/progress/months/?year=2024")
    assert page.status_code == 200
    assert 'value="publish"' not in page.content.decode()
    response = client.post("/projects/progress/months/", {"action": "publish", "year": "2024", "month": "3"})
    assert response.status_code == 403
    assert not MonthPublication.objects.exists()


def test_the_dashboard_says_whether_its_month_is_published(world, client):
    publish(world, 3)
    login(client, world.leader)
    page = client.get("/dashboard/").content.decode()
    assert 'id="period-published"' in page and "正式数据：2024年3月月报已于" in page
    april = client.get("/dashboard/?year=2024&month=4").content.decode()
    assert 'id="period-under-review"' in april
    assert "3 个计划内项目中，已审核 0 个，已报送待审核 1 个，已退回 1 个，未报送 1 个" in april


def test_the_project_list_says_whether_its_month_is_published(world, client):
    login(client, world.staff)
    page = client.get("/projects/").content.decode()
    assert 'id="period-under-review"' in page  # nothing published yet: March, labelled under review
    publish(world, 3)
    assert 'id="period-published"' in client.get("/projects/").content.decode()


def test_the_api_summary_defaults_to_the_published_month(world, client):
    publish(world, 2)
    login(client, world.leader)
    summary = client.get("/api/dashboard/summary/").json()
    assert (summary["year"], summary["month"], summary["published"]) == (2024, 2, True)
    assert summary["completed_investment"] == "3400.00"  # (1000 + 500 + 200) × 2
    april = client.get("/api/dashboard/summary/?year=2024&month=4").json()
    assert april["published"] is False
    assert april["review"] == {
        "on_plan": 3,
        "approved": 0,
        "submitted": 1,
        "returned": 1,
        "draft": 0,
        "not_reported": 1,
    }


def test_the_admin_cannot_change_a_published_months_report(world, client, superuser):
    publish(world, 3)
    march = MonthlyProgress.objects.get(project=world.P1, year=2024, month=3)
    client.force_login(superuser)
    page = client.get(f"/admin/projects/monthlyprogress/{march.pk}/change/")
    assert page.status_code == 200
    assert 'name="completed_investment"' not in page.content.decode()  # shown read-only


def test_the_months_api_lists_publishes_and_reopens(world, client):
    login(client, world.reviewer)
    months = client.get("/api/months/?year=2024").json()
    assert [m["month"] for m in months] == list(range(12, 0, -1))
    april = next(m for m in months if m["month"] == 4)
    assert (april["approved"], april["submitted"], april["returned"], april["not_reported"]) == (0, 1, 1, 1)
    assert april["published"] is False and april["version"] is None

    refused = client.post("/api/months/publish/", {"year": 2024, "month": 4}, content_type="application/json")
    assert refused.status_code == 400 and "待审核" in str(refused.json())
    published = client.post(
        "/api/months/publish/", {"year": 2024, "month": 3}, content_type="application/json"
    )
    assert published.status_code == 200
    assert published.json()["published"] is True and published.json()["published_by"] == "rev"

    no_reason = client.post(
        "/api/months/reopen/", {"year": 2024, "month": 3, "version": 1}, content_type="application/json"
    )
    assert no_reason.status_code == 400
    stale = client.post(
        "/api/months/reopen/",
        {"year": 2024, "month": 3, "version": 7, "reason": "更正"},
        content_type="application/json",
    )
    assert stale.status_code == 409
    reopened = client.post(
        "/api/months/reopen/",
        {"year": 2024, "month": 3, "version": 1, "reason": "更正"},
        content_type="application/json",
    )
    assert reopened.status_code == 200 and reopened.json()["reopen_reason"] == "更正"
    assert not MonthPublication.objects.get(month=3).is_published


@pytest.mark.parametrize("role", ["staff", "leader"])
def test_the_months_api_refuses_others(world, client, role):
    login(client, getattr(world, role))
    assert client.get("/api/months/?year=2024").status_code == 200
    response = client.post(
        "/api/months/publish/", {"year": 2024, "month": 3}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not MonthPublication.objects.exists()
