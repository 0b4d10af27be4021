"""Concurrent edits: two people saving the same project or the same month's report — the second is
refused with a clear message and the first's values stay; two reviewers approving the same report
at once — one approval is recorded, the other is refused (never a 500)."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import translation

from core.api.tokens import create_token
from core.roles import Role, sync_role_groups
from projects import selectors
from projects.choices import ProgressStatus
from projects.models import MonthlyProgress, Project
from tests.factories import DepartmentFactory, MonthlyProgressFactory, ProjectFactory, UserFactory
from tests.html_forms import form_data

STALE = "在您打开之后，其他人已保存了该"  # the start of the Chinese refusal of a stale save
STALE_PROGRESS = "在您打开之后，其他人已保存了该月度进度"


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def team(db):
    """Two staff members of the unit that answers for the project, and two reviewers."""
    unit = DepartmentFactory(name="经济发展局")
    team = type("Team", (), {})()
    team.first = UserFactory(username="zhang", roles=[Role.STAFF], department=unit)
    team.second = UserFactory(username="li", roles=[Role.STAFF], department=unit)
    team.project = ProjectFactory(name="原项目名", responsible_unit=unit, total_investment=Decimal("5000.00"))
    team.month = previous_month()
    return team


def previous_month():
    current = selectors.current_month()
    last = datetime.date(current.year, current.month, 1) - datetime.timedelta(days=1)
    return last.year, last.month


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def history_count(model) -> int:
    return model.history.count()


# --- The web forms -----------------------------------------------------------------------------


def test_two_sessions_editing_a_project_the_second_is_refused_and_nothing_is_lost(team):
    url = reverse("projects:edit", args=[team.project.pk])
    first, second = signed_in(team.first), signed_in(team.second)
    first_form = form_data(first.get(url).content.decode())
    second_form = form_data(second.get(url).content.decode())
    assert first_form["version"] == second_form["version"] == "1"
    history = history_count(Project)

    first_form.update(name="张的名称", total_investment="6000")
    assert first.post(url, first_form).status_code == 302
    second_form.update(name="李的名称", contact_person="李四")
    response = second.post(url, second_form)

    assert response.status_code == 200
    assert STALE in response.content.decode()
    project = Project.objects.get(pk=team.project.pk)
    assert (project.name, project.total_investment, project.contact_person) == (
        "张的名称",
        Decimal("6000.00"),
        "",
    )
    assert project.version == 2
    assert history_count(Project) == history + 1  # only the first save was recorded


@pytest.mark.parametrize("existing", [True, False], ids=["report-on-record", "new-report"])
def test_two_sessions_on_the_same_monthly_report_the_second_is_refused(team, existing):
    """Both opened the month's form (the report at version 1, or not yet written): the first save
    stands and the second is told to reload."""
    year, month = team.month
    if existing:
        MonthlyProgressFactory(
            project=team.project,
            year=year,
            month=month,
            status=ProgressStatus.DRAFT,
            completed_investment=Decimal("10.00"),
            version=1,
        )
    url = reverse("projects:progress", args=[team.project.pk, year, month])
    first, second = signed_in(team.first), signed_in(team.second)
    first_form = form_data(first.get(url).content.decode(), "progress-form")
    second_form = form_data(second.get(url).content.decode(), "progress-form")
    history = history_count(MonthlyProgress)

    first_form.update(completed_investment="300.00", physical_progress="主体封顶")
    assert first.post(url, first_form).status_code == 302
    second_form.update(completed_investment="999.00", physical_progress="李填写的进度")
    response = second.post(url, second_form)

    assert response.status_code == 200
    assert STALE_PROGRESS in response.content.decode()
    report = MonthlyProgress.objects.get(project=team.project, year=year, month=month)
    assert (report.completed_investment, report.physical_progress) == (Decimal("300.00"), "主体封顶")
    assert report.submitted_by is None and report.status == ProgressStatus.DRAFT
    assert history_count(MonthlyProgress) == history + 1


def test_two_sessions_saving_the_same_row_of_the_grid_the_second_is_refused(team):
    current = selectors.current_month()
    url = reverse("projects:grid") + f"?year={current.year}&month={current.month}"
    first, second = signed_in(team.first), signed_in(team.second)
    first_form = form_data(first.get(url).content.decode(), "progress-grid")
    second_form = form_data(second.get(url).content.decode(), "progress-grid")
    field = f"p{team.project.pk}-completed_investment"

    first_form[field] = "120"
    assert first.post(url, first_form).status_code == 302
    second_form[field] = "880"
    response = second.post(url, second_form)

    assert response.status_code == 200
    assert STALE_PROGRESS in response.content.decode()
    report = MonthlyProgress.objects.get(project=team.project, year=current.year, month=current.month)
    assert report.completed_investment == Decimal("120.00")


def test_a_report_created_between_the_look_up_and_the_insert_is_refused_as_stale(team):
    """The narrowest race, made to happen: another session's report lands after this save looked
    for one and before it inserts. The unique index refuses the insert, and the user is told to
    reload instead of meeting a 500."""
    year, month = team.month
    url = reverse("projects:progress", args=[team.project.pk, year, month])
    client = signed_in(team.second)
    form = form_data(client.get(url).content.decode(), "progress-form")
    validate = MonthlyProgress.full_clean

    def other_session_saves_first(report, *args, **kwargs):
        validate(report, *args, **kwargs)
        if not MonthlyProgress.objects.filter(project=report.project, year=year, month=month).exists():
            MonthlyProgressFactory(
                project=team.project, year=year, month=month, status=ProgressStatus.DRAFT, version=1
            )

    with mock.patch.object(MonthlyProgress, "full_clean", other_session_saves_first):
        response = client.post(url, {**form, "completed_investment": "77.00"})
    assert response.status_code == 200
    assert "有人在同一时刻保存了相同的记录，请刷新后重试。" in response.content.decode()
    # The stand-in for the other session wrote inside this request's transaction, so it is rolled
    # back with it here; what matters is that this session's figure was not written.
    assert not MonthlyProgress.objects.filter(completed_investment=Decimal("77.00")).exists()


# --- The API -----------------------------------------------------------------------------------


def token_client(user) -> Client:
    _instance, secret = create_token(user, name="并发测试", days=1)
    return Client(HTTP_AUTHORIZATION=f"Token {secret}")


def test_two_api_clients_changing_a_project_the_second_gets_a_conflict(team):
    url = reverse("api:project-detail", args=[team.project.pk])
    first, second = token_client(team.first), token_client(team.second)
    version = first.get(url).json()["version"]
    assert second.get(url).json()["version"] == version

    response = first.patch(url, {"name": "接口张", "version": version}, content_type="application/json")
    assert response.status_code == 200, response.content
    response = second.patch(url, {"name": "接口李", "version": version}, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["code"] == "stale" and STALE in response.json()["detail"]
    # With If-Match (the ETag the client read) the refusal is a failed precondition.
    response = second.patch(
        url, {"name": "接口李"}, content_type="application/json", HTTP_IF_MATCH=f'"{version}"'
    )
    assert response.status_code == 412
    assert Project.objects.get(pk=team.project.pk).name == "接口张"


def test_two_api_clients_changing_a_report_the_second_gets_a_conflict(team):
    year, month = team.month
    report = MonthlyProgressFactory(
        project=team.project, year=year, month=month, status=ProgressStatus.DRAFT, version=1
    )
    url = reverse("api:progress-detail", args=[report.pk])
    first, second = token_client(team.first), token_client(team.second)
    body = {"completed_investment": "50.00", "version": 1}
    assert first.patch(url, body, content_type="application/json").status_code == 200
    response = second.patch(
        url, {"completed_investment": "70.00", "version": 1}, content_type="application/json"
    )
    assert response.status_code == 409
    assert STALE_PROGRESS in response.json()["detail"]
    assert MonthlyProgress.objects.get(pk=report.pk).completed_investment == Decimal("50.00")


# --- Two reviewers, one approval ---------------------------------------------------------------


def approvals(report) -> int:
    """History rows recording the move to approved."""
    rows = list(report.history.order_by("history_date", "history_id").values_list("status", flat=True))
    return sum(1 for before, after in zip([None, *rows], rows, strict=False) if after == "approved" != before)


@pytest.fixture
def reviewers(db):
    return (
        UserFactory(username="shen", roles=[Role.REVIEWER]),
        UserFactory(username="he", roles=[Role.REVIEWER]),
    )


def test_two_reviewers_approving_from_their_pages_one_approval_is_recorded(team, reviewers):
    """Both opened the submitted report; the second approval, a moment later, is refused with a
    message on the page."""
    year, month = team.month
    report = MonthlyProgressFactory(
        project=team.project, year=year, month=month, status=ProgressStatus.SUBMITTED, reviewed_by=None
    )
    page = reverse("projects:progress", args=[team.project.pk, year, month])
    url = reverse("projects:progress_review", args=[report.pk])
    first, second = signed_in(reviewers[0]), signed_in(reviewers[1])
    assert first.get(page).status_code == second.get(page).status_code == 200

    assert first.post(url, {"action": "approve"}).status_code == 302
    response = second.post(url, {"action": "approve"}, follow=True)

    assert response.status_code == 200
    html = response.content.decode()
    assert "已审核" in html and "alert-danger" in html
    report.refresh_from_db()
    assert report.status == ProgressStatus.APPROVED and report.reviewed_by == reviewers[0]
    assert approvals(report) == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two threads need two real connections to one database: run with DATABASE_URL=postgres://…",
)
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_the_same_moment_one_approval_is_recorded():
    """Two threads, two database connections, released together: the row lock lets one approve,
    the other is answered with a refusal (the API's 400), never a 500."""
    sync_role_groups()  # a transactional test's flush empties the groups migrate made
    unit = DepartmentFactory(name="经济发展局")
    project = ProjectFactory(responsible_unit=unit)
    year, month = previous_month()
    report = MonthlyProgressFactory(
        project=project, year=year, month=month, status=ProgressStatus.SUBMITTED, reviewed_by=None
    )
    reviewers = [UserFactory(username=name, roles=[Role.REVIEWER]) for name in ("shen", "he")]
    clients = [token_client(user) for user in reviewers]
    url = reverse("api:progress-approve", args=[report.pk])
    start = threading.Barrier(2)
    answers = {}

    def approve(index):
        try:
            start.wait(timeout=10)
            response = clients[index].post(url, {"comment": ""}, content_type="application/json")
            answers[index] = (response.status_code, response.json())
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=approve, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(code for code, _body in answers.values()) == [200, 400], answers
    refused = next(body for code, body in answers.values() if code == 400)
    assert "已审核" in str(refused)
    report.refresh_from_db()
    winner = next(index for index, (code, _body) in answers.items() if code == 200)
    assert report.status == ProgressStatus.APPROVED and report.reviewed_by == reviewers[winner]
    assert approvals(report) == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two threads need two real connections to one database: run with DATABASE_URL=postgres://…",
)
@pytest.mark.django_db(transaction=True)
def test_two_sessions_creating_the_same_months_report_at_once_one_is_saved():
    """However the two saves interleave, one report is written and the other session is told to
    reload — a unique-index clash is answered like a stale form, not with a 500."""
    sync_role_groups()
    unit = DepartmentFactory(name="经济发展局")
    people = [UserFactory(username=name, roles=[Role.STAFF], department=unit) for name in ("zhang", "li")]
    project = ProjectFactory(responsible_unit=unit)
    year, month = previous_month()
    url = reverse("projects:progress", args=[project.pk, year, month])
    clients = [signed_in(user) for user in people]
    forms = [form_data(client.get(url).content.decode(), "progress-form") for client in clients]
    start = threading.Barrier(2)
    answers = {}

    def save(index):
        try:
            start.wait(timeout=10)
            data = {**forms[index], "completed_investment": str(100 * (index + 1))}
            response = clients[index].post(url, data, HTTP_ACCEPT_LANGUAGE="zh-hans")
            answers[index] = (response.status_code, response.content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(code for code, _html in answers.values()) == [200, 302], answers.keys()
    winner = next(index for index, (code, _html) in answers.items() if code == 302)
    loser_html = next(html for code, html in answers.values() if code == 200)
    assert "刷新" in loser_html  # the refusal asks to reload, whichever check caught it
    report = MonthlyProgress.objects.get(project=project, year=year, month=month)
    assert report.completed_investment == Decimal(100 * (winner + 1))
    assert report.history.count() == 1
