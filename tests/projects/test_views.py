"""The staff workspace pages: who may open what, what they show, and what a POST changes."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from core.roles import Role
from projects import selectors, services
from projects.choices import BatchRole, Level, MilestoneStatus, ProgressStatus, Stage
from projects.models import ApprovalMilestone, MonthlyProgress, MonthPublication, ProgressPhoto, Project
from tests.factories import (
    AnnualPlanFactory,
    ApprovalMilestoneFactory,
    BatchMembershipFactory,
    DepartmentFactory,
    EnterpriseFactory,
    MonthlyProgressFactory,
    ProjectFactory,
    StageChangeFactory,
    UserFactory,
)
from tests.html_forms import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit():
    return DepartmentFactory(name="经发局")


@pytest.fixture
def staff(unit):
    return UserFactory(username="zhang", department=unit, roles=[Role.STAFF])


@pytest.fixture
def other_staff():
    return UserFactory(username="wang", department=DepartmentFactory(name="住建局"), roles=[Role.STAFF])


@pytest.fixture
def reviewer():
    return UserFactory(username="yang", roles=[Role.REVIEWER])


@pytest.fixture
def leader():
    return UserFactory(username="sun", roles=[Role.LEADER])


@pytest.fixture
def project(staff):
    project = ProjectFactory(name="益海特油项目", staff_in_charge=staff, stage=Stage.UNDER_CONSTRUCTION)
    StageChangeFactory(
        project=project, to_stage=Stage.UNDER_CONSTRUCTION, changed_on=datetime.date(2023, 1, 5)
    )
    return project


def login(client, user):
    client.force_login(user)
    return client


# --- Who may open what ---------------------------------------------------------------


def page_urls(project, report, milestone, photo_pk=1):
    return {
        "list": reverse("projects:list"),
        "detail": reverse("projects:detail", args=[project.pk]),
        "create": reverse("projects:create"),
        "edit": reverse("projects:edit", args=[project.pk]),
        "stage": reverse("projects:stage", args=[project.pk]),
        "progress": reverse("projects:progress", args=[project.pk, 2023, 3]),
        "grid": reverse("projects:grid"),
        "review": reverse("projects:review"),
        "milestone_edit": reverse("projects:milestone_edit", args=[milestone.pk]),
        "milestone_create": reverse("projects:milestone_create", args=[project.pk]),
        "home": reverse("home"),
    }


def test_every_page_needs_a_login(client, project):
    report = MonthlyProgressFactory(project=project)
    milestone = ApprovalMilestoneFactory(project=project)
    for name, url in page_urls(project, report, milestone).items():
        response = client.get(url)
        assert response.status_code == 302, name
        assert response.url.startswith(reverse("login")), name


# GET status per role; "mine" is the staff member in charge, "outsider" another unit's staff.
ROLE_MATRIX = {
    #                  mine outsider reviewer leader unit
    "list": (200, 200, 200, 200, 200),
    "detail": (200, 200, 200, 200, 200),
    "create": (200, 200, 403, 403, 403),
    "edit": (200, 403, 403, 403, 403),
    "stage": (200, 403, 403, 403, 403),
    "progress": (200, 200, 200, 200, 200),
    "grid": (200, 200, 403, 403, 403),
    "review": (403, 403, 200, 403, 403),
    "milestone_edit": (200, 403, 403, 403, 403),
    "milestone_create": (200, 403, 403, 403, 403),
    "home": (200, 200, 200, 200, 200),
}


def test_role_matrix(client, project, staff, other_staff, reviewer, leader):
    unit_user = UserFactory(username="liu", roles=[Role.UNIT])
    report = MonthlyProgressFactory(project=project)
    milestone = ApprovalMilestoneFactory(project=project)
    users = [staff, other_staff, reviewer, leader, unit_user]
    urls = page_urls(project, report, milestone)
    for name, expected in ROLE_MATRIX.items():
        for user, status in zip(users, expected, strict=True):
            client.force_login(user)
            assert client.get(urls[name]).status_code == status, (name, user.username)


def test_a_user_without_a_role_sees_nothing(client, project):
    nobody = UserFactory(username="nobody")
    login(client, nobody)
    assert client.get(reverse("projects:list")).status_code == 403
    assert client.get(reverse("projects:detail", args=[project.pk])).status_code == 403


def test_outsider_posts_are_refused_and_change_nothing(client, project, other_staff):
    login(client, other_staff)
    milestone = ApprovalMilestoneFactory(project=project)
    report = MonthlyProgressFactory(project=project, month=2, status=ProgressStatus.DRAFT)
    posts = [
        (reverse("projects:edit", args=[project.pk]), {"name": "改名", "total_investment": "1"}),
        (
            reverse("projects:stage", args=[project.pk]),
            {"stage": Stage.IN_PRODUCTION, "changed_on": "2023-05-01"},
        ),
        (reverse("projects:progress", args=[project.pk, 2023, 3]), {"completed_investment": "5"}),
        (reverse("projects:milestone_edit", args=[milestone.pk]), {"status": MilestoneStatus.IN_PROGRESS}),
        (reverse("projects:progress_review", args=[report.pk]), {"action": "submit"}),
        (reverse("projects:photo_upload", args=[report.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    project.refresh_from_db()
    assert (project.name, project.stage) == ("益海特油项目", Stage.UNDER_CONSTRUCTION)
    assert MonthlyProgress.objects.count() == 1
    assert ApprovalMilestone.objects.get().status == MilestoneStatus.NOT_STARTED
    assert MonthlyProgress.objects.get().status == ProgressStatus.DRAFT


def test_staff_cannot_approve(client, project, staff):
    report = MonthlyProgressFactory(project=project, status=ProgressStatus.SUBMITTED)
    login(client, staff)
    assert (
        client.post(reverse("projects:progress_review", args=[report.pk]), {"action": "approve"}).status_code
        == 403
    )
    assert client.post(reverse("projects:review"), {"report": [report.pk], "approve": "1"}).status_code == 403
    report.refresh_from_db()
    assert report.status == ProgressStatus.SUBMITTED


# --- Project list ------------------------------------------------------------------


def test_list_filters_count_and_sum(client, leader):
    cheese = EnterpriseFactory(name="周口奶酪有限公司")
    ProjectFactory(
        name="奶酪工厂", enterprise=cheese, level=Level.PROVINCIAL, total_investment=Decimal("5000.50")
    )
    ProjectFactory(name="冷链仓库", level=Level.PROVINCIAL, total_investment=Decimal("1200.25"))
    ProjectFactory(name="路网工程", level=Level.ZONE, total_investment=Decimal("999.00"))
    login(client, leader)
    html = client.get(reverse("projects:list"), {"level": Level.PROVINCIAL}).content.decode()
    assert "奶酪工厂" in html and "冷链仓库" in html and "路网工程" not in html
    assert "6,200.75" in html  # 5000.50 + 1200.25
    html = client.get(reverse("projects:list"), {"q": "奶酪有限"}).content.decode()
    assert "奶酪工厂" in html and "冷链仓库" not in html


def test_list_lagging_filter_uses_the_period(client, leader):
    behind = ProjectFactory(name="滞后项目")
    ahead = ProjectFactory(name="超前项目")
    for project, amount in ((behind, "200.00"), (ahead, "400.00")):
        AnnualPlanFactory(project=project, year=2023, planned_investment=Decimal("1200.00"))
        MonthlyProgressFactory(project=project, year=2023, month=3, completed_investment=Decimal(amount))
    login(client, leader)
    # March: schedule 25% = 300 of 1200; 200 is behind, 400 ahead.
    html = client.get(
        reverse("projects:list"), {"year": 2023, "month": 3, "lagging": "true"}
    ).content.decode()
    assert "滞后项目" in html and "超前项目" not in html
    html = client.get(
        reverse("projects:list"), {"year": 2023, "month": 3, "lagging": "false"}
    ).content.decode()
    assert "超前项目" in html and "滞后项目" not in html


def test_list_batch_and_role_filter_the_same_membership(client, leader):
    both = ProjectFactory(name="开工项目")
    signed = ProjectFactory(name="签约项目")
    BatchMembershipFactory(project=both, batch__number=7, role=BatchRole.START)
    BatchMembershipFactory(project=signed, batch__number=7, role=BatchRole.SIGN)
    BatchMembershipFactory(project=signed, batch__number=8, role=BatchRole.START)
    login(client, leader)
    batch7 = both.batch_memberships.get().batch
    html = client.get(
        reverse("projects:list"), {"batch": batch7.pk, "batch_role": BatchRole.START}
    ).content.decode()
    assert "开工项目" in html and "签约项目" not in html


def test_list_sorts_by_completion_rate(client, leader):
    for name, amount in (("甲", "600.00"), ("乙", "100.00"), ("丙", "300.00")):
        project = ProjectFactory(name=f"项目{name}")
        AnnualPlanFactory(project=project, year=2023, planned_investment=Decimal("1000.00"))
        MonthlyProgressFactory(project=project, year=2023, month=6, completed_investment=Decimal(amount))
    login(client, leader)
    html = client.get(
        reverse("projects:list"), {"year": 2023, "month": 6, "ordering": "-rate"}
    ).content.decode()
    assert html.index("项目甲") < html.index("项目丙") < html.index("项目乙")
    assert "60.00%" in html and "10.00%" in html


def test_list_queries_do_not_grow_with_rows(client, leader, django_assert_max_num_queries):
    for index in range(210):
        project = ProjectFactory(name=f"规模项目{index:03d}", staff_in_charge=leader)
        AnnualPlanFactory(project=project, year=2023)
    login(client, leader)
    # 15, two for the month's review state (published or not, how many reports are in), and, cold,
    # the data version of the page's cached body and the page's ids before its rows' figures.
    with django_assert_max_num_queries(18):
        response = client.get(reverse("projects:list"), {"year": 2023, "month": 6, "level": Level.ZONE})
    assert response.status_code == 200
    assert "规模项目000" in response.content.decode()


def test_milestone_list_figures_and_queries_do_not_grow_with_rows(
    client, leader, django_assert_max_num_queries
):
    done_on = datetime.date(2023, 3, 1)
    for index in range(60):
        project = ProjectFactory(
            name=f"手续项目{index:02d}", level=Level.ZONE if index % 2 else Level.MUNICIPAL
        )
        ApprovalMilestoneFactory(project=project, status=MilestoneStatus.DONE, completed_date=done_on)
        ApprovalMilestoneFactory(
            project=project, kind="environment", status=MilestoneStatus.IN_PROGRESS,
            planned_date=datetime.date(2023, 1, 1),  # passed: overdue
        )  # fmt: skip
    login(client, leader)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("projects:milestone_list"), {"level": Level.ZONE})
    html = response.content.decode()
    # 30 zone projects × 2 procedures; 30 done of 60 applicable; the 30 in progress are overdue.
    assert 'id="sum-count" data-value="60"' in html
    assert 'id="sum-done" data-value="30"' in html
    assert 'id="sum-rate" data-value="0.5000"' in html
    assert 'id="sum-overdue" data-value="30"' in html
    # The first page holds 50 rows, two per project: each of those 25 projects' overdue row is marked.
    assert html.count('class="table-danger"') == 25
    overdue = client.get(reverse("projects:milestone_list"), {"level": Level.ZONE, "overdue": "true"})
    assert 'id="sum-count" data-value="30"' in overdue.content.decode()


# --- Project detail ----------------------------------------------------------------


def test_detail_shows_year_figures_computed_from_approved_reports(client, project, leader):
    AnnualPlanFactory(project=project, year=2023, planned_investment=Decimal("2000.00"))
    for month, amount, status in (
        (1, "150.00", ProgressStatus.APPROVED),
        (2, "250.00", ProgressStatus.APPROVED),
        (3, "222.00", ProgressStatus.APPROVED),
        (4, "999.00", ProgressStatus.SUBMITTED),  # not yet official
    ):
        MonthlyProgressFactory(
            project=project, year=2023, month=month, completed_investment=Decimal(amount), status=status
        )
    login(client, leader)
    html = client.get(
        reverse("projects:detail", args=[project.pk]), {"year": 2023, "month": 4}
    ).content.decode()
    # 150 + 250 + 222 = 622 of 2000 = 31.10%, schedule 4/12 = 33.33%, gap −2.23 points.
    assert "622.00" in html
    assert "31.10%" in html
    assert "33.33%" in html
    assert "−2.23" in html


def test_detail_queries_are_bounded(client, project, leader, django_assert_max_num_queries):
    for month in range(1, 13):
        report = MonthlyProgressFactory(project=project, year=2023, month=month)
        report.photos.create(image="progress/x.jpg", thumbnail="progress/x-t.jpg")
    for kind in ("filing", "land_title", "environment", "energy", "drawing_review"):
        ApprovalMilestoneFactory(project=project, kind=kind, department=DepartmentFactory(name=f"{kind}局"))
    for number in range(1, 6):
        BatchMembershipFactory(project=project, batch__number=number)
        project.comments.create(author=leader, text=f"批示{number}", by_leader=True)
    login(client, leader)
    with django_assert_max_num_queries(14):
        assert (
            client.get(reverse("projects:detail", args=[project.pk]), {"year": 2023, "month": 12}).status_code
            == 200
        )


# --- Create, edit, stage -----------------------------------------------------------


def test_staff_creates_a_project(client, staff):
    login(client, staff)
    page = client.get(reverse("projects:create")).content.decode()
    data = form_data(page)
    data.update(
        name="新建数控机床项目",
        nature="new",
        level=Level.MUNICIPAL,
        total_investment="35000.00",
        stage=str(Stage.SIGNED),
        stage_changed_on="2023-06-01",
    )
    response = client.post(reverse("projects:create"), data)
    project = Project.objects.get(name="新建数控机床项目")
    assert response.status_code == 302 and response.url == reverse("projects:detail", args=[project.pk])
    assert (project.stage, project.total_investment, project.staff_in_charge) == (
        Stage.SIGNED,
        Decimal("35000.00"),
        staff,
    )
    assert project.stage_changes.get().changed_on == datetime.date(2023, 6, 1)


def test_bad_input_rerenders_with_field_errors_and_saves_nothing(client, staff):
    login(client, staff)
    data = form_data(client.get(reverse("projects:create")).content.decode())
    data.update(name="", total_investment="-5", stage=str(Stage.PLANNING))
    response = client.post(reverse("projects:create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {"name", "total_investment"}
    assert not Project.objects.exists()


def test_two_editors_second_save_is_refused(client, project, staff):
    login(client, staff)
    url = reverse("projects:edit", args=[project.pk])
    first = form_data(client.get(url).content.decode())
    second = dict(first)
    first.update(location="东区")
    assert client.post(url, first).status_code == 302
    second.update(location="西区")
    response = client.post(url, second)
    assert response.status_code == 200
    assert "Reload the page" in response.content.decode() or "刷新" in response.content.decode()
    project.refresh_from_db()
    assert project.location == "东区"


def test_moving_back_needs_a_reason(client, project, staff):
    login(client, staff)
    url = reverse("projects:stage", args=[project.pk])
    response = client.post(
        url, {"stage": Stage.LANDED, "changed_on": "2023-05-01", "reason": "", "version": project.version}
    )
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    project.refresh_from_db()
    assert project.stage == Stage.UNDER_CONSTRUCTION
    response = client.post(
        url,
        {
            "stage": Stage.LANDED,
            "changed_on": "2023-05-01",
            "reason": "施工许可被撤销",
            "version": project.version,
        },
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.stage == Stage.LANDED
    assert project.stage_changes.latest().reason == "施工许可被撤销"


def test_milestone_update_from_the_project_page(client, project, staff):
    milestone = ApprovalMilestoneFactory(project=project, kind="environment")
    login(client, staff)
    url = reverse("projects:milestone_edit", args=[milestone.pk])
    data = form_data(client.get(url).content.decode())
    data.update(status=MilestoneStatus.DONE, completed_date="", document_number="周环审〔2023〕12号")
    response = client.post(url, data)
    assert response.status_code == 200  # done needs its completion date
    assert ApprovalMilestone.objects.get().status == MilestoneStatus.NOT_STARTED
    data.update(completed_date="2023-04-18")
    assert client.post(url, data).status_code == 302
    milestone.refresh_from_db()
    assert (milestone.status, milestone.completed_date, milestone.document_number) == (
        MilestoneStatus.DONE,
        datetime.date(2023, 4, 18),
        "周环审〔2023〕12号",
    )


# --- Progress pages ------------------------------------------------------------------


def grid_url(period):
    return f"{reverse('projects:grid')}?year={period.year}&month={period.month}"


def test_grid_with_one_bad_row_saves_nothing_then_saves_all(client, staff):
    period = selectors.current_month()
    first, second = (
        ProjectFactory(name="甲项目", staff_in_charge=staff),
        ProjectFactory(name="乙项目", staff_in_charge=staff),
    )
    login(client, staff)
    data = form_data(client.get(grid_url(period)).content.decode(), "progress-grid")
    data.update({f"p{first.pk}-completed_investment": "-5", f"p{second.pk}-completed_investment": "150.50"})
    data["submit"] = "1"
    response = client.post(grid_url(period), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="row-{first.pk}"' in html and "row-error" in html
    assert not MonthlyProgress.objects.exists()
    data[f"p{first.pk}-completed_investment"] = "300"
    response = client.post(grid_url(period), data)
    assert response.status_code == 302
    assert sorted(MonthlyProgress.objects.values_list("project__name", "completed_investment", "status")) == [
        ("乙项目", Decimal("150.50"), ProgressStatus.SUBMITTED),
        ("甲项目", Decimal("300.00"), ProgressStatus.SUBMITTED),
    ]


def test_grid_skips_empty_rows_and_shows_locked_ones_read_only(client, staff):
    period = selectors.current_month()
    locked = ProjectFactory(name="已审项目", staff_in_charge=staff)
    MonthlyProgressFactory(
        project=locked, year=period.year, month=period.month, completed_investment=Decimal("77.00")
    )
    empty = ProjectFactory(name="空行项目", staff_in_charge=staff)
    login(client, staff)
    html = client.get(grid_url(period)).content.decode()
    assert f'name="p{locked.pk}-completed_investment"' not in html
    assert "77.00" in html
    data = form_data(html, "progress-grid")
    data["save"] = "1"
    assert client.post(grid_url(period), data).status_code == 302
    assert not MonthlyProgress.objects.filter(project=empty).exists()
    assert MonthlyProgress.objects.get(project=locked).completed_investment == Decimal("77.00")


def test_grid_queries_do_not_grow_with_rows(client, staff, django_assert_max_num_queries):
    period = selectors.current_month()
    for index in range(205):
        project = ProjectFactory(name=f"网格项目{index:03d}", staff_in_charge=staff)
        AnnualPlanFactory(project=project, year=period.year)
    login(client, staff)
    with django_assert_max_num_queries(11):
        first = client.get(grid_url(period)).content.decode()
    with django_assert_max_num_queries(11):
        last = client.get(grid_url(period) + "&page=5").content.decode()
    assert first.count('class="card mb-2 grid-row') == 50  # settings.GRID_PAGE_SIZE
    assert "网格项目000" in first and "网格项目049" in first and "网格项目050" not in first
    assert last.count('class="card mb-2 grid-row') == 5
    assert "网格项目200" in last and "网格项目204" in last
    assert "共 205 个项目，当前第 201–205 个。" in last


def test_a_page_of_the_grid_is_kept_until_a_report_changes(client, staff):
    """Drawn once and kept: the same page again reads no row; a report saved by someone else (with
    its new version, so a save from the page is checked against it) shows at once."""
    period = selectors.current_month()
    project = ProjectFactory(name="甲项目", staff_in_charge=staff)
    login(client, staff)
    with CaptureQueriesContext(connection) as first:
        html = client.get(grid_url(period)).content.decode()
    with CaptureQueriesContext(connection) as again:
        assert client.get(grid_url(period)).status_code == 200
    assert len(again) < len(first)
    assert f'name="p{project.pk}-version" value="0"' in html
    admin = UserFactory(username="guanliyuan", roles=[Role.ADMIN])
    services.progress_save(
        project=project, year=period.year, month=period.month, user=admin, data={"completed_investment": 36}
    )
    html = client.get(grid_url(period)).content.decode()
    assert f'name="p{project.pk}-version" value="1"' in html and 'value="36.00"' in html


def test_the_grid_finds_a_project_and_the_months_still_to_report(client, staff):
    period = selectors.current_month()
    for index in range(60):
        ProjectFactory(name=f"网格项目{index:03d}", staff_in_charge=staff)
    reported = ProjectFactory(name="周口港区物流园", code="ZK-2026-901", staff_in_charge=staff)
    returned = ProjectFactory(name="周口港区码头", staff_in_charge=staff)
    MonthlyProgressFactory(
        project=reported, year=period.year, month=period.month, status=ProgressStatus.SUBMITTED
    )
    MonthlyProgressFactory(
        project=returned, year=period.year, month=period.month, status=ProgressStatus.RETURNED
    )
    login(client, staff)
    rows = re.compile(r'data-project="([^"]+)" role="row"')
    found = client.get(grid_url(period) + "&q=港区").content.decode()
    assert rows.findall(found) == ["周口港区物流园", "周口港区码头"]
    assert 'value="港区"' in found  # the search box keeps the term, and the month's form too
    assert rows.findall(client.get(grid_url(period) + "&q=zk-2026-9").content.decode()) == ["周口港区物流园"]
    to_do = client.get(grid_url(period) + "&q=港区&todo=1").content.decode()
    assert rows.findall(to_do) == ["周口港区码头"]  # submitted is done; returned is to do again
    nothing = client.get(grid_url(period) + "&q=没有这个项目").content.decode()
    assert (
        "没有符合条件的项目。" in nothing and "progress-grid" in nothing and 'id="grid-count"' not in nothing
    )


def test_a_page_of_the_grid_saves_the_rows_it_showed_and_comes_back_to_them(client, staff):
    """Saved from its second page, the grid saves what that page showed, even when a project added
    meanwhile has moved the pages along, and comes back to the same page and search."""
    period = selectors.current_month()
    for index in range(55):
        ProjectFactory(name=f"网格项目{index:03d}", staff_in_charge=staff)
    login(client, staff)
    url = grid_url(period) + "&page=2"
    data = form_data(client.get(url).content.decode(), "progress-grid")
    shown = sorted(key for key in data if key.endswith("-completed_investment"))
    assert len(shown) == 5
    ProjectFactory(name="阿新项目", staff_in_charge=staff)  # sorted first: page 2 now starts a row earlier
    data.update({key: "10.00" for key in shown})
    data["save"] = "1"
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"].endswith("&page=2")
    assert sorted(MonthlyProgress.objects.values_list("project__name", flat=True)) == [
        f"网格项目{index:03d}" for index in range(50, 55)
    ]


def test_the_grid_refuses_more_rows_than_a_page_and_ignores_others_projects(client, staff, other_staff):
    period = selectors.current_month()
    mine = ProjectFactory(name="我的项目", staff_in_charge=staff)
    theirs = ProjectFactory(name="别人的项目", staff_in_charge=other_staff)
    login(client, staff)
    data = {"save": "1"}
    for project in (mine, theirs):
        data.update({f"p{project.pk}-project": project.pk, f"p{project.pk}-version": 0})
        data[f"p{project.pk}-completed_investment"] = "12.00"
    assert client.post(grid_url(period), data).status_code == 302
    assert list(MonthlyProgress.objects.values_list("project__name", flat=True)) == ["我的项目"]
    flood = {f"p{number}-project": number for number in range(1, 52)}
    response = client.post(grid_url(period), {**flood, "save": "1"})
    assert response.status_code == 400 and "一次提交的行数过多。" in response.content.decode()


def test_single_report_entry_and_submit(client, project, staff):
    login(client, staff)
    url = reverse("projects:progress", args=[project.pk, 2023, 5])
    response = client.post(
        url, {"completed_investment": "88.80", "physical_progress": "钢结构吊装", "submit": "1"}
    )
    assert response.status_code == 302
    report = MonthlyProgress.objects.get()
    assert (report.month, report.completed_investment, report.status) == (
        5,
        Decimal("88.80"),
        ProgressStatus.SUBMITTED,
    )


def test_the_report_form_posted_as_rendered_saves(client, project, staff):
    login(client, staff)
    url = reverse("projects:progress", args=[project.pk, 2023, 5])
    html = client.get(url).content.decode()
    assert 'name="confirm_warnings"' not in html  # no box to tick while nothing is held back
    data = form_data(html, "progress-form")
    data["completed_investment"] = "88.80"

    assert client.post(url, data).status_code == 302

    report = MonthlyProgress.objects.get()
    assert report.completed_investment == Decimal("88.80")
    assert report.history.get().history_change_reason is None


def test_the_report_form_holds_a_figure_back_until_it_is_confirmed(client, project, staff):
    # The year's plan is 1,200 and January reported 100: 100 + 1,500 = 1,600 for months 1–3.
    AnnualPlanFactory(project=project, year=2023, planned_investment=Decimal("1200"))
    MonthlyProgressFactory(project=project, year=2023, month=1, completed_investment=Decimal("100"))
    login(client, staff)
    url = reverse("projects:progress", args=[project.pk, 2023, 3])
    data = form_data(client.get(url).content.decode(), "progress-form")
    data["completed_investment"] = "1500"

    held = client.post(url, data)

    assert held.status_code == 200
    html = held.content.decode()
    assert "尚未保存：请核实这个数字。" in html
    assert "超过本年度计划投资" in html
    assert "2023年1–3月累计完成投资将达到 1,600.00 万元，超过本年度计划投资（1,200.00 万元）。" in html
    assert "我已核实以上数据无误，确认保存" in html
    assert not MonthlyProgress.objects.filter(month=3).exists()

    # Sent again as shown, the box unticked: still held back.
    again = form_data(html, "progress-form")
    assert (again["confirmed_amount"], "confirm_warnings" in again) == ("1500", False)
    assert client.post(url, again).status_code == 200
    assert not MonthlyProgress.objects.filter(month=3).exists()

    # Ticked, but the figure changed meanwhile: the new figure is checked afresh.
    changed = again | {"confirm_warnings": "on", "completed_investment": "1600"}
    assert "1,700.00" in client.post(url, changed).content.decode()
    assert not MonthlyProgress.objects.filter(month=3).exists()

    # Ticked for the figure shown: saved, and the history says it was confirmed.
    assert client.post(url, again | {"confirm_warnings": "on"}).status_code == 302
    report = MonthlyProgress.objects.get(month=3)
    assert report.completed_investment == Decimal("1500.00")
    assert report.history.get().history_change_reason == "经用户核实确认保存：超过本年度计划投资"


def test_the_grid_holds_back_every_row_until_the_warned_one_is_confirmed(client, staff):
    period = selectors.current_month()
    # 1,000 in all, 500 reported last year: 500 + 600 = 1,100 goes above the total.
    warned = ProjectFactory(name="甲项目", staff_in_charge=staff, total_investment=Decimal("1000"))
    MonthlyProgressFactory(
        project=warned, year=period.year - 1, month=12, completed_investment=Decimal("500")
    )
    plain = ProjectFactory(name="乙项目", staff_in_charge=staff)
    login(client, staff)
    data = form_data(client.get(grid_url(period)).content.decode(), "progress-grid")
    data.update({f"p{warned.pk}-completed_investment": "600", f"p{plain.pk}-completed_investment": "50"})
    data["submit"] = "1"

    held = client.post(grid_url(period), data)

    assert held.status_code == 200
    html = held.content.decode()
    start = html.index(f'id="row-{warned.pk}"')
    row = html[html.rindex("<div", 0, start) : html.find('class="card mb-2 grid-row', start)]
    assert "border-warning" in row
    assert "累计完成投资将达到 1,100.00 万元，超过项目总投资（1,000.00 万元）。" in row
    assert f'name="p{warned.pk}-confirm_warnings"' in row
    assert "有 1 个数字需要核实" in html
    assert not MonthlyProgress.objects.filter(year=period.year, month=period.month).exists()

    again = form_data(html, "progress-grid") | {"submit": "1", f"p{warned.pk}-confirm_warnings": "on"}

    assert client.post(grid_url(period), again).status_code == 302

    saved = MonthlyProgress.objects.filter(year=period.year, month=period.month)
    assert sorted(saved.values_list("project__name", "completed_investment")) == [
        ("乙项目", Decimal("50.00")),
        ("甲项目", Decimal("600.00")),
    ]
    assert saved.get(project=warned).history.get().history_change_reason == (
        "经用户核实确认保存：累计完成投资超过总投资"
    )


def test_returned_report_shows_the_reason(client, project, staff, reviewer):
    report = MonthlyProgressFactory(project=project, month=5, status=ProgressStatus.SUBMITTED)
    login(client, reviewer)
    client.post(
        reverse("projects:progress_review", args=[report.pk]), {"action": "return", "reason": "请补充照片"}
    )
    report.refresh_from_db()
    assert report.status == ProgressStatus.RETURNED
    login(client, staff)
    assert (
        "请补充照片" in client.get(reverse("projects:progress", args=[project.pk, 2023, 5])).content.decode()
    )
    assert "请补充照片" in client.get(reverse("home")).content.decode()


def test_review_queue_approves_several_at_once(client, reviewer, django_assert_max_num_queries):
    reports = [MonthlyProgressFactory(month=4, status=ProgressStatus.SUBMITTED) for _ in range(205)]
    login(client, reviewer)
    with django_assert_max_num_queries(8):
        html = client.get(reverse("projects:review")).content.decode()
    assert html.count('name="report"') == 205
    chosen = [reports[0].pk, reports[1].pk]
    response = client.post(reverse("projects:review"), {"report": chosen, "approve": "1", "reason": ""})
    assert response.status_code == 302
    assert set(MonthlyProgress.objects.filter(pk__in=chosen).values_list("status", flat=True)) == {
        ProgressStatus.APPROVED
    }
    assert MonthlyProgress.objects.filter(status=ProgressStatus.SUBMITTED).count() == 203


def test_home_lists_reports_due_and_the_review_queue(
    client, staff, project, reviewer, django_assert_max_num_queries
):
    period = selectors.reporting_deadline().period
    done = ProjectFactory(name="已报项目", staff_in_charge=staff)
    unplanned = ProjectFactory(name="谋划项目", staff_in_charge=staff)  # no plan: owes no report
    MonthlyProgressFactory(
        project=done, year=period.year, month=period.month, status=ProgressStatus.SUBMITTED
    )
    for owing in (project, done):
        AnnualPlanFactory(project=owing, year=period.year)
    for index in range(200):
        AnnualPlanFactory(
            project=ProjectFactory(name=f"阳光项目{index}", staff_in_charge=staff), year=period.year
        )  # sorted after 益
    login(client, staff)
    # 14, and the list of resolved problems waiting for the enterprise's rating (its rows and count),
    # the user's liaison-leader ids, read first for the problems' query (problems.selectors), and
    # the data version the cached lists are kept under (core.caching).
    with django_assert_max_num_queries(18):
        html = client.get(reverse("home")).content.decode()
    due_section = html[html.index('id="reports-due"') : html.index('id="returned"')]
    assert "益海特油项目" in due_section and "已报项目" not in due_section
    assert unplanned.name not in due_section
    assert 'badge text-bg-warning">201<' in due_section  # 益海特油项目 and the 200
    login(client, reviewer)
    assert "已报项目" in client.get(reverse("home")).content.decode()


# --- Photos through the page ---------------------------------------------------------


def test_photo_upload_and_protected_download(client, project, staff, leader, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    report = services.progress_save(
        project=project, year=2023, month=3, user=staff, data={"completed_investment": Decimal("1")}
    )
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (10, 200, 30)).save(buffer, "PNG")
    buffer.name = "现场.png"
    buffer.seek(0)
    login(client, staff)
    response = client.post(
        reverse("projects:photo_upload", args=[report.pk]), {"image": buffer, "caption": "厂房"}
    )
    assert response.status_code == 302
    photo = report.photos.get()
    url = reverse("projects:photo_file", args=[photo.pk, "thumb"])
    client.logout()
    assert client.get(url).status_code == 302  # anonymous: to the login page
    login(client, leader)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    assert client.get(f"/media/{photo.image.name}").status_code == 404  # never public


def test_text_file_posing_as_a_photo_is_refused_on_the_page(client, project, staff, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    report = MonthlyProgressFactory(project=project, status=ProgressStatus.DRAFT)
    login(client, staff)
    fake = io.BytesIO(b"<?php echo 1; ?>")
    fake.name = "photo.jpg"
    response = client.post(reverse("projects:photo_upload", args=[report.pk]), {"image": fake}, follow=True)
    assert "JPEG" in response.content.decode()
    assert not report.photos.exists()


def progress_page(client, user, report):
    login(client, user)
    url = reverse("projects:progress", args=[report.project_id, report.year, report.month])
    return client.get(url).content.decode()


def test_the_photo_input_offers_the_camera_or_a_saved_photo(client, project, staff):
    report = MonthlyProgressFactory(project=project, year=2023, month=3, status=ProgressStatus.DRAFT)

    page = progress_page(client, staff, report)

    photo_input = re.search(r'<input type="file" name="image"[^>]*>', page).group(0)
    # accept="image/*" without capture: phones offer the camera or the photo library.
    assert 'accept="image/*"' in photo_input
    assert "capture" not in photo_input


@pytest.mark.parametrize(
    ("who", "status", "published", "offered"),
    [
        ("staff", ProgressStatus.DRAFT, False, True),
        ("staff", ProgressStatus.SUBMITTED, False, True),
        ("staff", ProgressStatus.APPROVED, False, False),  # photo_delete refuses: locked
        ("staff", ProgressStatus.DRAFT, True, False),  # the month is published
        ("other_staff", ProgressStatus.DRAFT, False, False),  # not in their charge
        ("leader", ProgressStatus.DRAFT, False, False),
    ],
)
def test_remove_is_offered_only_where_deleting_is_allowed(
    client, project, staff, other_staff, leader, tmp_path, settings, who, status, published, offered
):
    settings.MEDIA_ROOT = tmp_path
    report = MonthlyProgressFactory(project=project, year=2023, month=3, status=status)
    photo = report.photos.create(image="progress/site.jpg", thumbnail="progress/site-t.jpg", caption="厂房")
    if published:
        MonthPublication.objects.create(year=2023, month=3, is_published=True)
    user = {"staff": staff, "other_staff": other_staff, "leader": leader}[who]

    page = progress_page(client, user, report)

    assert (reverse("projects:photo_delete", args=[photo.pk]) in page) is offered
    assert ('id="photo-form"' in page) is offered
    # Where it is not offered, posting anyway is refused and the photo stays.
    login(client, user).post(reverse("projects:photo_delete", args=[photo.pk]))
    assert ProgressPhoto.objects.filter(pk=photo.pk).exists() is not offered


def test_the_grid_says_its_total_before_the_month_counts_approved_figures_only(client, staff):
    project = ProjectFactory(name="甲项目", staff_in_charge=staff)
    AnnualPlanFactory(project=project, year=2023, planned_investment=Decimal("1200.00"))
    MonthlyProgressFactory(project=project, year=2023, month=1, completed_investment=Decimal("100.00"))
    MonthlyProgressFactory(
        project=project,
        year=2023,
        month=2,
        completed_investment=Decimal("50.00"),
        status=ProgressStatus.SUBMITTED,
    )
    login(client, staff)

    page = client.get(f"{reverse('projects:grid')}?year=2023&month=3").content.decode()

    # January's approved 100.00; February's 50.00 still waits for review and is not counted.
    assert "本月之前累计（仅已审核） 100.00" in " ".join(page.split())


# --- Log in, in Chinese ---------------------------------------------------------------


def test_login_page_is_chinese_and_logs_in(client, staff):
    html = client.get(reverse("login")).content.decode()
    assert "登录" in html
    response = client.post(reverse("login"), {"username": "zhang", "password": "test-pass-123"})
    assert response.status_code == 302 and response.url == reverse("home")


def test_wrong_password_is_refused_with_a_chinese_message(client, staff):
    response = client.post(reverse("login"), {"username": "zhang", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名" in response.content.decode()


def test_grid_refuses_a_month_that_has_not_begun(client, staff):
    ProjectFactory(staff_in_charge=staff)
    period = selectors.current_month()
    ahead = (period.year + 1, period.month)
    login(client, staff)
    response = client.post(f"{reverse('projects:grid')}?year={ahead[0]}&month={ahead[1]}", {"submit": "1"})
    assert response.status_code == 302
    assert response.url == grid_url(period)
    assert not MonthlyProgress.objects.exists()


# --- Comments and instructions ---------------------------------------------------------


def test_leader_comment_is_an_instruction_on_the_project_page(client, project, leader, staff):
    login(client, leader)
    url = reverse("projects:comment", args=[project.pk])
    assert client.post(url, {"text": "  "}).status_code == 302
    assert not project.comments.exists()
    client.post(url, {"text": "加快设备安装，确保年底投产"})
    login(client, staff)
    client.post(url, {"text": "已协调设备厂家"})
    comments = list(project.comments.values_list("author__username", "by_leader"))
    assert comments == [("zhang", False), ("sun", True)]
    html = client.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert "加快设备安装，确保年底投产" in html and "领导批示" in html


def test_users_without_a_role_cannot_comment(client, project):
    login(client, UserFactory(username="nobody"))
    assert client.post(reverse("projects:comment", args=[project.pk]), {"text": "路过"}).status_code == 403
    assert not project.comments.exists()


def test_password_change_in_chinese(client, staff):
    login(client, staff)
    url = reverse("password_change")
    assert "修改密码" in client.get(url).content.decode()
    response = client.post(url, {"old_password": "wrong", "new_password1": "x", "new_password2": "x"})
    assert response.status_code == 200 and "旧密码" in response.content.decode()
    response = client.post(
        url,
        {
            "old_password": "test-pass-123",
            "new_password1": "周口开发区-2024",
            "new_password2": "周口开发区-2024",
        },
    )
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.check_password("周口开发区-2024")
