"""The home page puts first what the user must do now, with its deadline; the menu's counts."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.roles import Role
from problems import services
from problems.choices import TicketStatus
from projects import selectors
from projects import services as project_services
from projects.choices import ProgressStatus
from projects.selectors import Period
from tests.factories import (
    AnnualPlanFactory,
    DepartmentFactory,
    MonthlyProgressFactory,
    ProjectFactory,
    UserFactory,
    make_ticket,
)


@pytest.mark.parametrize(
    ("today", "period", "due", "left"),
    [
        # Until the 5th, last month's reports are due on the 5th.
        (datetime.date(2026, 12, 3), Period(2026, 11), datetime.date(2026, 12, 5), 2),
        (datetime.date(2026, 12, 5), Period(2026, 11), datetime.date(2026, 12, 5), 0),
        (datetime.date(2027, 1, 1), Period(2026, 12), datetime.date(2027, 1, 5), 4),
        # From the 6th, this month's, due on the 5th of the next.
        (datetime.date(2026, 12, 6), Period(2026, 12), datetime.date(2027, 1, 5), 30),
        (datetime.date(2026, 3, 31), Period(2026, 3), datetime.date(2026, 4, 5), 5),
    ],
)
def test_the_reporting_month_and_its_due_day(today, period, due, left):
    deadline = selectors.reporting_deadline(today)
    assert (deadline.period, deadline.due, deadline.days_left) == (period, due, left)


def test_the_due_day_is_a_setting(settings):
    settings.MONTHLY_REPORT_DUE_DAY = 10
    deadline = selectors.reporting_deadline(datetime.date(2026, 12, 8))
    assert (deadline.period, deadline.due) == (Period(2026, 11), datetime.date(2026, 12, 10))


@pytest.fixture
def staff(db):
    return UserFactory(username="staff1", roles=[Role.STAFF])


def test_staff_home_lists_the_task_first_then_what_was_returned_then_the_rest(client, staff):
    period = selectors.reporting_deadline().period
    owing = ProjectFactory(name="欠报项目", staff_in_charge=staff)
    returned = ProjectFactory(name="退回项目", staff_in_charge=staff)
    drafted = ProjectFactory(name="草稿项目", staff_in_charge=staff)
    for project in (owing, returned, drafted):
        AnnualPlanFactory(project=project, year=period.year)
    MonthlyProgressFactory(
        project=returned,
        year=period.year,
        month=period.month,
        status=ProgressStatus.RETURNED,
        review_comment="请补充形象进度照片",
    )
    MonthlyProgressFactory(project=drafted, year=period.year, month=period.month, status=ProgressStatus.DRAFT)
    client.force_login(staff)

    html = client.get(reverse("home")).content.decode()

    order = [html.index(f'id="{key}"') for key in ("reports-due", "returned", "drafts", "my-projects")]
    assert order == sorted(order)
    due = html[html.index('id="reports-due"') : html.index('id="returned"')]
    assert "欠报项目" in due and "退回项目" not in due and "草稿项目" not in due
    deadline = selectors.reporting_deadline()
    assert f"截止日期 {deadline.due:%Y-%m-%d}" in due
    returned_card = html[html.index('id="returned"') : html.index('id="drafts"')]
    assert "退回项目" in returned_card and "请补充形象进度照片" in returned_card
    assert "没有" not in returned_card  # it is not "none returned" beside one that was
    assert "草稿项目" in html[html.index('id="drafts"') : html.index('id="my-projects"')]


def test_resolved_problems_are_not_listed_as_still_open(client, staff):
    office = UserFactory(username="office1", roles=[Role.SUPERVISOR])
    unit = DepartmentFactory(name="住建局")
    handler = UserFactory(username="unit1", roles=[Role.UNIT], department=unit)
    open_ticket = make_ticket(user=staff, title="道路积水")
    resolved = make_ticket(user=staff, title="用电增容")
    services.ticket_assign(ticket=resolved, user=office, unit=unit)
    services.ticket_resolve(ticket=resolved, user=handler, resolution="已完成增容")
    services.ticket_close(ticket=resolved, user=office)
    assert resolved.status == TicketStatus.RESOLVED
    client.force_login(staff)

    html = client.get(reverse("home")).content.decode()

    to_rate = html[html.index('id="home-to_rate"') : html.index('id="home-mine"')]
    still_open = html[html.index('id="home-mine"') :]
    assert open_ticket.title in still_open and resolved.title not in still_open
    assert resolved.title in to_rate and "待记录企业评价" in to_rate
    assert html.index('id="home-to_rate"') < html.index('id="my-projects"') < html.index('id="home-mine"')


def test_the_menu_badges_count_what_waits_on_the_user(client, staff):
    reviewer = UserFactory(username="rev1", roles=[Role.REVIEWER])
    period = selectors.reporting_deadline().period
    for name in ("甲", "乙", "丙"):
        AnnualPlanFactory(project=ProjectFactory(name=name, staff_in_charge=staff), year=period.year)
    MonthlyProgressFactory(
        project=ProjectFactory(name="丁"),
        year=period.year,
        month=period.month,
        status=ProgressStatus.SUBMITTED,
    )
    client.force_login(staff)
    page = client.get(reverse("home")).content.decode()
    assert 'data-badges-url="/badges/"' in page and 'data-badge="grid"' in page
    assert client.get("/badges/").json() == {"grid": 3, "problems": 0}
    client.force_login(reviewer)
    assert client.get("/badges/").json() == {"review": 1, "problems": 0}
    client.logout()
    assert client.get("/badges/").status_code == 302


def test_the_menu_badges_are_kept_until_a_report_or_a_problem_changes(client, staff):
    """Asked by every page, the counts are cached; a saved report and a new problem show at once."""
    period = selectors.reporting_deadline().period
    owing = [ProjectFactory(name=name, staff_in_charge=staff) for name in ("甲", "乙")]
    for project in owing:
        AnnualPlanFactory(project=project, year=period.year)
    client.force_login(staff)
    with CaptureQueriesContext(connection) as first:
        assert client.get("/badges/").json() == {"grid": 2, "problems": 0}
    with CaptureQueriesContext(connection) as again:
        assert client.get("/badges/").json() == {"grid": 2, "problems": 0}
    assert len(again) < len(first)  # the counts were not read again
    project_services.progress_save(
        project=owing[0], year=period.year, month=period.month, user=staff, data={"completed_investment": 10}
    )
    assert client.get("/badges/").json() == {"grid": 1, "problems": 0}
    office = UserFactory(username="office1", roles=[Role.SUPERVISOR])
    client.force_login(office)
    assert client.get("/badges/").json() == {"problems": 0}
    make_ticket(user=staff)
    assert client.get("/badges/").json() == {"problems": 1}  # a new problem waits to be assigned


CSRF = r'name="csrfmiddlewaretoken" value="[^"]+"'


def test_the_home_page_lists_are_kept_until_the_data_under_them_changes(client, staff):
    period = selectors.reporting_deadline().period
    project = ProjectFactory(name="甲项目", staff_in_charge=staff)
    AnnualPlanFactory(project=project, year=period.year)
    client.force_login(staff)
    with CaptureQueriesContext(connection) as first:
        html = client.get(reverse("home")).content.decode()
    assert "甲项目" in html[html.index('id="reports-due"') : html.index('id="returned"')]
    with CaptureQueriesContext(connection) as again:
        cached = client.get(reverse("home")).content.decode()
    assert re.sub(CSRF, "", cached) == re.sub(CSRF, "", html)
    assert len(again) < len(first) - 5  # the lists were not read again
    project_services.progress_save(
        project=project, year=period.year, month=period.month, user=staff, data={"completed_investment": 10}
    )
    html = client.get(reverse("home")).content.decode()
    due = html[html.index('id="reports-due"') : html.index('id="returned"')]
    assert "甲项目" not in due and "本月月报已全部填报。" in due, due
    drafts = html[html.index('id="drafts"') :]
    assert "甲项目" in drafts  # saved as a draft, not submitted


def test_a_report_of_another_month_does_not_count_as_this_months(client, staff):
    period = selectors.reporting_deadline().period
    project = ProjectFactory(name="戊项目", staff_in_charge=staff)
    AnnualPlanFactory(project=project, year=period.year)
    other_month = 1 if period.month != 1 else 2
    # A report in the same year and one for the same month of the year before: neither is this month's.
    MonthlyProgressFactory(project=project, year=period.year, month=other_month)
    AnnualPlanFactory(project=project, year=period.year - 1)
    MonthlyProgressFactory(project=project, year=period.year - 1, month=period.month)
    assert list(selectors.reports_due(selectors.Project.objects.all(), period=period)) == [project]
