"""Every admin page renders for the superuser, in Chinese, with a bounded number of queries."""

import datetime
from decimal import Decimal

from axes.models import AccessAttempt, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.api.tokens import create_token
from core.models import ImportRecord, Job, User
from core.roles import Role, role_group
from core.tasks import export_task
from problems import services
from projects.choices import (
    MilestoneKind,
    MilestoneStatus,
    ProgressStatus,
    ProjectImportKind,
    ProjectJobKind,
    Stage,
)
from projects.models import MonthPublication, Project, ProjectComment, StageChange
from tests.factories import (
    AnnualPlanFactory,
    ApprovalMilestoneFactory,
    BatchMembershipFactory,
    DepartmentFactory,
    EnterpriseYearlyFigureFactory,
    HonourFactory,
    LeaderFactory,
    MonthlyProgressFactory,
    ProjectFactory,
    StageChangeFactory,
    UserFactory,
    VisitFactory,
    make_ticket,
)
from tests.html_forms import form_data

MAX_QUERIES_PER_PAGE = 40


def build_world(size: int):
    """``size`` of every kind of row, each project with plans, reports and milestones."""
    reviewer = UserFactory(department=DepartmentFactory())
    superuser = User.objects.get(username="root")
    for _ in range(size):
        group = Group.objects.create(name=f"组{Group.objects.count()}")
        group.permissions.set(Permission.objects.filter(codename__startswith="view_"))
        reviewer.groups.add(group)
        honour = HonourFactory()
        figure = EnterpriseYearlyFigureFactory()
        figure.enterprise.honours.add(honour)
        figure.enterprise.liaison_leader = LeaderFactory(department=DepartmentFactory())
        figure.enterprise.save()
        project = ProjectFactory(
            enterprise=figure.enterprise,
            responsible_leader=figure.enterprise.liaison_leader,
            responsible_unit=DepartmentFactory(),
            staff_in_charge=UserFactory(),
        )
        StageChangeFactory(project=project, to_stage=project.stage)
        AnnualPlanFactory(project=project)
        MonthlyProgressFactory(project=project, submitted_by=reviewer, reviewed_by=reviewer)
        MonthPublication.objects.create(  # one month more each time
            year=2001 + MonthPublication.objects.count(),
            month=12,
            published_by=reviewer,
            published_at=timezone.now(),
        )
        ApprovalMilestoneFactory(project=project, department=DepartmentFactory())
        BatchMembershipFactory(project=project)
        ProjectComment.objects.create(project=project, author=reviewer, text="加快进度", by_leader=True)
        visit = VisitFactory(enterprise=figure.enterprise, unit=reviewer.department, created_by=reviewer)
        visit.visitors.add(reviewer)
        ticket = make_ticket(user=superuser, enterprise=figure.enterprise, project=project, visit=visit)
        services.ticket_assign(ticket=ticket, user=superuser, unit=DepartmentFactory())
        ImportRecord.objects.create(
            kind=ProjectImportKind.PROJECT_LEDGER, user=reviewer, file="imports/x.xlsx", file_name="台账.xlsx"
        )
        create_token(reviewer, name="省平台同步", days=30)
        # A background job and its queued task (django-tasks-db's admin lists the tasks).
        job = Job.objects.create(owner=reviewer, kind=ProjectJobKind.PROJECT_LEDGER_EXPORT)
        export_task.enqueue(job.pk)
        # Login lockouts (django-axes): a counted failure and a recorded login.
        username = f"user{AccessAttempt.objects.count()}"
        AccessAttempt.objects.create(
            username=username, ip_address="10.0.0.1", user_agent="Firefox", failures_since_start=2
        )
        AccessLog.objects.create(username=username, ip_address="10.0.0.1", user_agent="Firefox")


def admin_urls():
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        yield model, model_admin, f"admin:{opts.app_label}_{opts.model_name}"


def query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def test_every_admin_page_renders_with_bounded_queries(admin_client_zh):
    registered = list(admin_urls())
    request = _request_for(admin_client_zh)
    build_world(1)
    pages = {}
    for model, model_admin, name in registered:
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"the test world has no {model.__name__}"
        pages[name] = {
            "changelist": reverse(f"{name}_changelist"),
            "change": reverse(f"{name}_change", args=[obj.pk]),
        }
        if model_admin.has_add_permission(request):
            pages[name]["add"] = reverse(f"{name}_add")
    before = {
        (name, kind): query_count(admin_client_zh, url)
        for name, urls in pages.items()
        for kind, url in urls.items()
    }

    build_world(6)

    for (name, kind), count in before.items():
        after = query_count(admin_client_zh, pages[name][kind])
        assert after <= MAX_QUERIES_PER_PAGE, (name, kind, after)
        if kind == "changelist":
            assert after == count, f"{name} changelist queries grow with rows: {count} → {after}"


def _request_for(client):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = User.objects.get(username="root")
    return request


def test_project_page_queries_do_not_grow_with_its_records(admin_client_zh):
    project = ProjectFactory()
    department = DepartmentFactory()
    user = UserFactory()

    def add_records(months, kinds):
        for month in months:
            MonthlyProgressFactory(project=project, month=month, submitted_by=user, reviewed_by=user)
        for kind in kinds:
            ApprovalMilestoneFactory(project=project, kind=kind, department=department)
        StageChangeFactory(project=project, changed_by=user)

    AnnualPlanFactory(project=project, year=2021)
    BatchMembershipFactory(project=project)
    add_records([1, 2], [MilestoneKind.PROJECT_FILING])
    url = reverse("admin:projects_project_change", args=[project.pk])
    query_count(admin_client_zh, url)  # warms the content-type cache, which is not per row
    few = query_count(admin_client_zh, url)
    add_records(range(3, 13), [MilestoneKind.ENERGY, MilestoneKind.ENVIRONMENT, MilestoneKind.LAND_TITLE])
    AnnualPlanFactory(project=project, year=2022)
    AnnualPlanFactory(project=project, year=2023)
    BatchMembershipFactory(project=project)
    assert query_count(admin_client_zh, url) == few


def test_admin_speaks_chinese(admin_client_zh):
    response = admin_client_zh.get(reverse("admin:projects_project_add"))
    html = response.content.decode()
    for label in [
        "项目名称",
        "建设单位",
        "总投资",
        "园区",
        "责任领导",
        "年度计划",
        "月度进度",
        "审批手续",
    ]:
        assert label in html, label


def test_project_list_shows_the_latest_official_figures(admin_client_zh):
    on_time = ProjectFactory(name="准时项目")
    behind = ProjectFactory(name="滞后项目")
    AnnualPlanFactory(project=on_time, planned_investment=Decimal("1200.00"))
    AnnualPlanFactory(project=behind, planned_investment=Decimal("1000.00"))
    for month in (1, 2, 3):
        MonthlyProgressFactory(project=on_time, month=month, completed_investment=Decimal("100.00"))
    MonthlyProgressFactory(project=behind, month=1, completed_investment=Decimal("100.00"))
    # April is only submitted, so March is the latest official month.
    MonthlyProgressFactory(
        project=behind, month=4, completed_investment=Decimal("900.00"), status=ProgressStatus.SUBMITTED
    )
    html = admin_client_zh.get(reverse("admin:projects_project_changelist")).content.decode()
    assert "2023年1—3月" in html
    rows = {name: html[html.index(name) : html.index(name) + 1500] for name in ("准时项目", "滞后项目")}
    # 300 of 1200 by March is 25.00%, on schedule; 100 of 1000 is 10.00%, lagging.
    assert "1,200.00" in rows["准时项目"] and "300.00" in rows["准时项目"] and "25.00%" in rows["准时项目"]
    assert "10.00% 滞后" in rows["滞后项目"]
    assert "25.00% 滞后" not in rows["准时项目"]


def test_money_is_shown_with_separators(admin_client_zh):
    ProjectFactory(name="中兴新业港产业园", total_investment=Decimal("200000.00"))
    html = admin_client_zh.get(reverse("admin:projects_project_changelist")).content.decode()
    assert "200,000.00" in html


class TestProjectStageInAdmin:
    def change_page(self, client, project):
        url = reverse("admin:projects_project_change", args=[project.pk])
        return url, form_data(client.get(url).content.decode(), "project_form")

    def test_backwards_without_reason_shows_error_and_changes_nothing(self, admin_client_zh):
        project = ProjectFactory(stage=Stage.STARTED, name="原名")
        url, data = self.change_page(admin_client_zh, project)
        data.update(stage=str(Stage.LANDED), name="新名", stage_reason="")
        response = admin_client_zh.post(url, data)
        assert response.status_code == 200
        assert "原因" in response.content.decode()
        project.refresh_from_db()
        assert (project.stage, project.name) == (Stage.STARTED, "原名")
        assert not StageChange.objects.filter(project=project).exists()

    def test_backwards_with_reason_is_recorded(self, admin_client_zh, superuser):
        project = ProjectFactory(stage=Stage.STARTED)
        url, data = self.change_page(admin_client_zh, project)
        data.update(stage=str(Stage.LANDED), stage_reason="开工日期填报有误", stage_changed_on="2023-04-01")
        response = admin_client_zh.post(url, data)
        assert response.status_code == 302, response.content.decode()[:3000]
        change = StageChange.objects.get(project=project)
        assert (change.from_stage, change.to_stage) == (Stage.STARTED, Stage.LANDED)
        assert change.reason == "开工日期填报有误"
        assert change.changed_on == datetime.date(2023, 4, 1)
        assert change.changed_by == superuser

    def test_add_project_with_a_plan_records_its_first_stage(self, admin_client_zh, superuser):
        url = reverse("admin:projects_project_add")
        data = form_data(admin_client_zh.get(url).content.decode(), "project_form")
        data.update(
            name="益常青年产2000吨低聚木糖项目",
            total_investment="20000.00",
            stage=str(Stage.PLANNING),
            nature="new",
            level="zone",
        )
        data.update(
            {
                "annual_plans-TOTAL_FORMS": "1",
                "annual_plans-0-year": "2023",
                "annual_plans-0-planned_investment": "5000.00",
                "annual_plans-0-category": "new_start",
            }
        )
        response = admin_client_zh.post(url, data)
        assert response.status_code == 302, response.content.decode()[:5000]
        project = Project.objects.get(name="益常青年产2000吨低聚木糖项目")
        assert project.annual_plans.get().planned_investment == Decimal("5000.00")
        change = StageChange.objects.get(project=project)
        assert (change.from_stage, change.to_stage, change.changed_by) == (None, Stage.PLANNING, superuser)

    def test_monthly_report_for_month_13_is_refused_in_the_inline(self, admin_client_zh):
        project = ProjectFactory()
        url, data = self.change_page(admin_client_zh, project)
        data.update(
            {
                "monthly_progress-TOTAL_FORMS": "1",
                "monthly_progress-0-year": "2023",
                "monthly_progress-0-month": "13",
                "monthly_progress-0-completed_investment": "10.00",
                "monthly_progress-0-status": ProgressStatus.DRAFT,
            }
        )
        response = admin_client_zh.post(url, data)
        assert response.status_code == 200
        assert not project.monthly_progress.exists()


def test_deleting_an_enterprise_with_projects_is_refused_in_admin(admin_client_zh):
    project = ProjectFactory()
    url = reverse("admin:enterprises_enterprise_delete", args=[project.enterprise_id])
    response = admin_client_zh.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert project.name in response.content.decode()
    assert type(project.enterprise).objects.filter(pk=project.enterprise_id).exists()


def test_stage_history_is_read_only(admin_client_zh):
    change = StageChangeFactory()
    assert admin_client_zh.get(reverse("admin:projects_stagechange_add")).status_code == 403
    response = admin_client_zh.post(
        reverse("admin:projects_stagechange_delete", args=[change.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert StageChange.objects.filter(pk=change.pk).exists()


def test_milestone_done_without_date_is_refused(admin_client_zh):
    milestone = ApprovalMilestoneFactory(kind=MilestoneKind.ENERGY)
    url = reverse("admin:projects_approvalmilestone_change", args=[milestone.pk])
    data = form_data(admin_client_zh.get(url).content.decode(), "approvalmilestone_form")
    data.update(status=MilestoneStatus.DONE, completed_date="")
    response = admin_client_zh.post(url, data)
    assert response.status_code == 200
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.NOT_STARTED


def test_only_reviewers_set_a_report_status(client, db):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(codename__in=["view_monthlyprogress", "change_monthlyprogress"])
    )
    staff.groups.add(role_group(Role.STAFF))
    report = MonthlyProgressFactory(status=ProgressStatus.DRAFT, project__staff_in_charge=staff)
    client.force_login(staff)
    url = reverse("admin:projects_monthlyprogress_change", args=[report.pk])
    page = client.get(url).content.decode()
    assert 'name="status"' not in page
    data = form_data(page, "monthlyprogress_form")
    data.update(status=ProgressStatus.APPROVED, completed_investment="123.00")
    assert client.post(url, data).status_code == 302
    report.refresh_from_db()
    assert (report.status, report.completed_investment) == (ProgressStatus.DRAFT, Decimal("123.00"))


def test_a_submitted_report_is_locked_for_its_reporter_in_admin(client, db):
    staff = UserFactory(is_staff=True, roles=[Role.STAFF])
    report = MonthlyProgressFactory(status=ProgressStatus.SUBMITTED, project__staff_in_charge=staff)
    client.force_login(staff)
    url = reverse("admin:projects_monthlyprogress_change", args=[report.pk])
    assert 'name="completed_investment"' not in client.get(url).content.decode()
    assert client.post(url, {"completed_investment": "1.00"}).status_code == 403
    report.refresh_from_db()
    assert report.completed_investment == Decimal("100.00")


def test_stage_change_dated_before_the_last_one_is_an_error_in_admin(admin_client_zh):
    project = ProjectFactory(stage=Stage.LANDED)
    StageChangeFactory(project=project, to_stage=Stage.LANDED, changed_on=datetime.date(2023, 5, 1))
    url = reverse("admin:projects_project_change", args=[project.pk])
    data = form_data(admin_client_zh.get(url).content.decode(), "project_form")
    data.update(stage=str(Stage.STARTED), stage_changed_on="2023-04-01")
    response = admin_client_zh.post(url, data)
    assert response.status_code == 200
    assert "2023-05-01" in response.content.decode()
    project.refresh_from_db()
    assert project.stage == Stage.LANDED


def test_staff_cannot_change_another_units_project_in_admin(client, db):
    unit = DepartmentFactory(name="经发局")
    staff = UserFactory(is_staff=True, department=unit, roles=[Role.STAFF])
    theirs = ProjectFactory(responsible_unit=unit)
    other = ProjectFactory(responsible_unit=DepartmentFactory(name="住建局"))
    client.force_login(staff)
    url = reverse("admin:projects_project_change", args=[other.pk])
    page = client.get(url).content.decode()
    assert 'name="total_investment"' not in page  # read-only view
    data = form_data(
        client.get(reverse("admin:projects_project_change", args=[theirs.pk])).content.decode(),
        "project_form",
    )
    data.update(name="改名")
    assert client.post(url, data).status_code == 403
    other.refresh_from_db()
    assert other.name != "改名"


def test_reporters_read_monthly_progress_inline_and_write_it_on_the_pages(client, db):
    staff = UserFactory(is_staff=True, roles=[Role.STAFF])
    report = MonthlyProgressFactory(status=ProgressStatus.SUBMITTED, project__staff_in_charge=staff)
    client.force_login(staff)
    page = client.get(reverse("admin:projects_project_change", args=[report.project_id])).content.decode()
    assert 'name="total_investment"' in page  # the project itself is theirs to edit
    assert "monthly_progress-0-completed_investment" not in page
    assert "100.00" in page


def test_the_admin_holds_a_report_figure_to_the_same_checks(client, db):
    """30,000 万元 project: 99,999,999,999 is refused; 40,000 (above the total) is held until confirmed."""
    staff = UserFactory(is_staff=True, roles=[Role.STAFF])
    report = MonthlyProgressFactory(
        status=ProgressStatus.DRAFT,
        project__staff_in_charge=staff,
        project__total_investment=Decimal("30000.00"),
        completed_investment=Decimal("100.00"),
    )
    client.force_login(staff)
    url = reverse("admin:projects_monthlyprogress_change", args=[report.pk])
    data = form_data(client.get(url).content.decode(), "monthlyprogress_form")

    data.update(completed_investment="99999999999.00")
    assert client.post(url, data).status_code == 200
    data.update(completed_investment="40000.00")
    held = client.post(url, data)
    assert held.status_code == 200 and "30,000.00" in held.content.decode()
    report.refresh_from_db()
    assert report.completed_investment == Decimal("100.00")

    data.update(confirm_warnings="on")
    assert client.post(url, data).status_code == 302
    report.refresh_from_db()
    assert report.completed_investment == Decimal("40000.00")
    assert "核实" in report.history.first().history_change_reason
