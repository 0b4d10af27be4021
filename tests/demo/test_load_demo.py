"""``manage.py load_demo``: loads the seeds' world, valid, idempotent, and only where it should."""

import datetime
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.http import HttpRequest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from core import roles
from core.models import User
from demo import demo_data
from enterprises import permissions as enterprise_permissions
from enterprises.models import Enterprise
from enterprises.validators import validate_credit_code
from problems import deadlines, kpis, permissions
from problems.choices import (
    CLOSED_STATUSES,
    EventKind,
    Fence,
    ProblemCategory,
    ProblemLevel,
    Satisfaction,
    TicketStatus,
)
from problems.models import ProblemTicket, TicketEvent, Visit
from projects import figures, selectors
from projects.choices import BatchRole, MilestoneKind, MilestoneStatus, ProgressStatus, Stage
from projects.models import (
    AnnualPlan,
    ApprovalMilestone,
    BatchMembership,
    MonthlyProgress,
    MonthPublication,
    Project,
    StageChange,
)
from reference.models import Cluster, Industry, Leader, Park

APPS = ("core", "reference", "enterprises", "projects", "problems", "auth")
YEAR = demo_data.PROGRESS_YEAR
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The current problems' overdue states are chosen for calendar days; working days
# would move them with the weekday the tests run on.
CALENDAR_DAYS = "calendar"


def load_demo(*args) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The demo world, loaded once for this module and rolled back after it.

    Each test runs in its own savepoint inside this transaction (the ``db``
    fixture), so tests that write cannot disturb each other. A fast hasher keeps
    the five password hashes from dominating the run time.
    """
    with (
        django_db_blocker.unblock(),
        override_settings(DEBUG=True, PASSWORD_HASHERS=FAST_HASHERS, PROBLEM_DAY_COUNTING=CALENDAR_DAYS),
    ):
        with transaction.atomic():
            yield load_demo()
            transaction.set_rollback(True)


@pytest.fixture
def demo(world, db, settings):
    # pytest-django turns DEBUG off; the loader wants it on. The hasher must
    # match the one the world was loaded with, or a rerun would reset passwords.
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.PROBLEM_DAY_COUNTING = CALENDAR_DAYS
    return world


def row_counts() -> dict[str, int]:
    """Rows in every table of the three apps and auth, history and m2m tables included."""
    return {
        model._meta.label: model._default_manager.count()
        for label in APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    }


def approved_ytd(project: Project, month: int, year: int = YEAR) -> Decimal:
    """1–N月累计 from the approved reports, added up here rather than by figures.py."""
    reports = MonthlyProgress.objects.filter(
        project=project, year=year, month__lte=month, status=ProgressStatus.APPROVED
    )
    return sum((report.completed_investment for report in reports), Decimal("0"))


def schedule_split(month: int, year: int = YEAR) -> tuple[set[str], set[str]]:
    """(ahead, lagging) project names on the year's plan roster at ``month``."""
    ahead, lagging = set(), set()
    for plan in AnnualPlan.objects.filter(year=year, planned_investment__gt=0).select_related("project"):
        completed = approved_ytd(plan.project, month, year)
        # completed / plan against month / 12, without rounding.
        if completed * 12 < plan.planned_investment * month:
            lagging.add(plan.project.name)
        else:
            ahead.add(plan.project.name)
    return ahead, lagging


def under_review() -> tuple[int, int]:
    """The month whose reports are coming in: the one before today's."""
    today = timezone.localdate()
    return (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)


def month_before(year: int, month: int) -> tuple[int, int]:
    return (year, month - 1) if month > 1 else (year - 1, 12)


def test_running_again_changes_nothing(demo):
    counts = row_counts()
    hashes = dict(User.objects.values_list("username", "password"))
    stage_changes = list(
        StageChange.objects.values_list("project__name", "from_stage", "to_stage", "changed_on")
    )

    output = load_demo()

    assert row_counts() == counts
    assert dict(User.objects.values_list("username", "password")) == hashes
    assert list(StageChange.objects.values_list("project__name", "from_stage", "to_stage", "changed_on")) == (
        stage_changes
    )
    assert "0 rows created, 0 updated" in output
    assert re.search(r"[1-9][0-9]* rows created", demo)
    assert counts["projects.Project"] == len(demo_data.PROJECTS)
    assert counts["projects.HistoricalProject"] > 0


def test_refuses_without_debug_unless_forced(demo, settings):
    counts = row_counts()
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        load_demo()
    assert row_counts() == counts

    assert "0 rows created, 0 updated" in load_demo("--force")


def test_refuses_under_production_settings_even_forced(demo, settings):
    counts = row_counts()
    settings.PRODUCTION = True
    for flags in [(), ("--force",)]:
        with pytest.raises(CommandError, match="createsuperuser"):
            load_demo(*flags)
    assert row_counts() == counts


def test_prints_login_url_users_and_counts(demo):
    assert "http://127.0.0.1:8000/" in demo
    for user in demo_data.USERS:
        assert user["username"] in demo
        assert user["password"] in demo
    assert "projects" in demo and "monthly progress reports" in demo


def test_reference_data_of_the_seeds(demo):
    assert set(Park.objects.values_list("name", flat=True)) >= {
        "豫沪合作周口示范园",
        "周口数字经济双创孵化园",
        "周口青网科技产业园",
        "健康食品产业园",
        "金属新材料产业园",
        "生物医药产业园",
    }
    assert Park.objects.get(name="生物医药产业园").alias == "周口临港生物科技园"
    assert set(Cluster.objects.values_list("name", flat=True)) == {
        "健康食品",
        "电子信息",
        "新型材料",
        "生物医药",
    }
    assert set(Industry.objects.filter(is_leading=True).values_list("name", flat=True)) == {
        "食品加工",
        "金属新材料",
    }
    assert set(Industry.objects.filter(is_strategic_emerging=True).values_list("name", flat=True)) == {
        "生物技术"
    }
    assert Project.objects.get(name="周口中兴新业港产业园项目").total_investment == Decimal("200000.00")
    assert Project.objects.get(name="东城便民服务中心项目").total_investment == Decimal("780.00")


def test_the_four_second_phase_projects_and_yihai_teyou_add_up_to_41_4_yi(demo):
    names = [
        "周口中兴新业港产业园二期项目",
        "杭萧钢构二期项目",
        "奔泽精密钣金二期项目",
        "益海特油项目",
        "瓶坯注塑项目",
    ]
    total = sum(Project.objects.get(name=name).total_investment for name in names)
    assert total == Decimal("414000.00")


def test_every_enterprise_has_a_valid_unique_credit_code(demo):
    codes = list(Enterprise.objects.values_list("credit_code", flat=True))
    assert len(codes) == len(demo_data.ENTERPRISES)
    assert len(set(codes)) == len(codes)
    for code in codes:
        validate_credit_code(code)


def test_every_loaded_object_passes_model_validation(demo):
    checked = 0
    for label in ("core", "reference", "enterprises", "projects", "problems"):
        for model in apps.get_app_config(label).get_models():
            if model.__name__.startswith("Historical"):
                continue
            for obj in model._default_manager.all():
                obj.full_clean()
                checked += 1
    assert checked > 500


def test_projects_are_ahead_and_behind_schedule(demo):
    # September 2023, as in the seeds: 6 projects behind, 10.20 points behind schedule in all.
    ahead, lagging = schedule_split(9)
    assert {"迪信通（中迪）无人智能科技园项目", "周口中兴新业港产业园二期项目"} <= ahead
    assert {"瓶坯注塑项目", "杭萧钢构二期项目", "中北宏远集团5G基站建设项目"} <= lagging
    rollup = figures.rollup(Project.objects.all(), year=YEAR, month=9)
    assert rollup.lagging_count == len(lagging) == 6
    assert rollup.roster_count == len(lagging) + len(ahead)
    assert rollup.gap_points == Decimal("-10.20")

    # The latest published month of the present: some ahead, some behind, as a leader first sees it.
    year, month = month_before(*under_review())
    ahead_now, lagging_now = schedule_split(month, year)
    assert ahead_now and lagging_now
    rollup = figures.rollup(Project.objects.all(), year=year, month=month)
    assert rollup.lagging_count == len(lagging_now)
    assert rollup.roster_count == len(lagging_now) + len(ahead_now)


def test_the_world_goes_on_to_the_present(demo):
    review_year, review_month = under_review()
    # Every project that reported in the seeds has a plan and reports for every year since 2022.
    reporting = Project.objects.filter(monthly_progress__year=YEAR).distinct()
    assert reporting.count() == len([row for row in demo_data.PROJECTS if "monthly" in row])
    for year in range(YEAR - 1, review_year + 1):
        assert AnnualPlan.objects.filter(year=year, project__in=reporting).count() >= 11
        months = set(MonthlyProgress.objects.filter(year=year).values_list("month", flat=True))
        assert months == set(range(1, 13 if year < review_year else review_month + 1))
    # Nobody has invested more than the project's total.
    for project in reporting:
        invested = sum(r.completed_investment for r in project.monthly_progress.all())
        assert 0 < invested <= project.total_investment
    # Nothing is reported for a month to come, nor yet for the month under way.
    today = timezone.localdate()
    assert not MonthlyProgress.objects.filter(year__gt=today.year).exists()
    assert not MonthlyProgress.objects.filter(year=today.year, month__gte=today.month).exists()
    # Open procedures are planned around today, a few of them already late.
    waiting = ApprovalMilestone.objects.exclude(
        status__in=[MilestoneStatus.DONE, MilestoneStatus.NOT_APPLICABLE]
    )
    offsets = {(m.planned_date - today).days for m in waiting}
    assert min(offsets) < 0 < max(offsets) <= 60


def test_monthly_reports_statuses_and_review(demo):
    reports = MonthlyProgress.objects.all()
    review_year, review_month = under_review()
    early = reports.exclude(year=review_year, month=review_month)
    assert not early.exclude(status=ProgressStatus.APPROVED).exists()
    assert not early.filter(reviewed_by__isnull=True).exists()
    assert all(report.reviewed_at.tzinfo is not None for report in early)
    assert early.first().reviewed_by.username == "reviewer"
    assert set(reports.filter(year=YEAR).values_list("month", flat=True)) == set(range(1, 13))

    # The month under review: some submitted, one returned with its reason, some drafts, some not sent.
    latest = reports.filter(year=review_year, month=review_month)
    assert (
        latest.filter(status=ProgressStatus.SUBMITTED).count()
        > latest.filter(status=ProgressStatus.DRAFT).count()
    )
    assert 1 <= latest.filter(status=ProgressStatus.DRAFT).count() <= 3
    returned = latest.get(status=ProgressStatus.RETURNED)
    assert returned.review_comment and returned.reviewed_by.username == "reviewer"
    assert not latest.filter(status=ProgressStatus.DRAFT, submitted_at__isnull=False).exists()
    on_plan = AnnualPlan.objects.filter(year=review_year, planned_investment__gt=0).count()
    assert (
        0
        < on_plan
        - latest.exclude(status=ProgressStatus.DRAFT).count()
        - latest.filter(status=ProgressStatus.DRAFT).count()
    )
    # Only projects past planning and reserve report progress.
    assert not reports.filter(project__stage__lte=Stage.RESERVE).exists()


def test_every_month_before_the_one_under_review_is_published(demo):
    review_year, review_month = under_review()
    published = set(MonthPublication.objects.filter(is_published=True).values_list("year", "month"))
    expected = {
        (year, month)
        for year in range(YEAR - 1, review_year + 1)
        for month in range(1, 13)
        if (year, month) < (review_year, review_month)
    }
    assert published == expected
    assert selectors.default_period() == selectors.Period(*month_before(review_year, review_month))


def test_stage_history_ends_at_the_projects_stage(demo):
    for project in Project.objects.all():
        changes = list(project.stage_changes.order_by("changed_on", "pk"))
        assert changes[0].from_stage is None
        assert changes[-1].to_stage == project.stage
        assert [change.changed_on for change in changes] == sorted(change.changed_on for change in changes)
        assert not any(change.is_backwards for change in changes)


def test_milestones_match_the_stage(demo):
    milestones = ApprovalMilestone.objects.all()
    assert set(milestones.values_list("kind", flat=True)) == set(MilestoneKind.values)
    assert set(milestones.values_list("status", flat=True)) == set(MilestoneStatus.values)
    assert milestones.filter(kind=MilestoneKind.CONSTRUCTION_PERMIT, phase=3).exists()
    done = milestones.filter(status=MilestoneStatus.DONE)
    assert not done.filter(document_number="").exists()
    assert not done.filter(completed_date__isnull=True).exists()
    started = milestones.filter(project__stage__gte=Stage.STARTED, kind=MilestoneKind.PROJECT_FILING)
    assert not started.exclude(status=MilestoneStatus.DONE).exists()
    not_started = milestones.filter(project__stage__lt=Stage.STARTED, kind=MilestoneKind.CONSTRUCTION_PERMIT)
    assert not_started.exists()
    assert not not_started.filter(status=MilestoneStatus.DONE).exists()


def test_demo_users_log_in_with_their_roles(demo, client):
    # client.login() goes through axes' login lockout, which needs a request to count by.
    for row in demo_data.USERS:
        user = User.objects.get(username=row["username"])
        validate_password(row["password"], user)
        assert user.groups.filter(name=roles.GROUP_NAMES[row["role"]]).exists()
        assert user.is_staff
        logged_in = client.login(request=HttpRequest(), username=row["username"], password=row["password"])
        assert logged_in, row["username"]
        client.logout()

    assert User.objects.get(username="admin").is_superuser
    assert not User.objects.filter(is_superuser=True).exclude(username="admin").exists()
    assert Leader.objects.get(user__username="leader").title == "管委会主任"
    assert User.objects.get(username="unit").department.short_name == "自然资源和规划局"

    leader = User.objects.get(username="leader")
    assert leader.has_perm("projects.view_project")
    assert not leader.has_perm("projects.change_project")
    staff = User.objects.get(username="staff")
    assert staff.has_perm("projects.change_monthlyprogress")
    assert not staff.has_perm("enterprises.change_enterprise")


def test_demo_users_can_be_made_to_choose_their_own_passwords(demo):
    everyone = {row["username"] for row in demo_data.USERS}
    assert not User.objects.filter(must_change_password=True).exists()  # by default they log straight in

    output = load_demo("--force-password-change")

    assert set(User.objects.filter(must_change_password=True).values_list("username", flat=True)) == everyone
    assert "Each demo user must choose a new password at the first log-in." in output
    # Loading again without the option leaves the requirement as it is.
    assert "0 rows created, 0 updated" in load_demo()
    assert User.objects.filter(must_change_password=True).count() == len(everyone)


def test_the_environment_can_ask_for_the_password_change(demo, monkeypatch):
    monkeypatch.setenv("DEMO_FORCE_PASSWORD_CHANGE", "1")
    load_demo()
    assert User.objects.filter(must_change_password=True).count() == len(demo_data.USERS)


def test_admin_and_leader_can_open_the_admin(demo, client):
    passwords = {row["username"]: row["password"] for row in demo_data.USERS}
    assert client.login(request=HttpRequest(), username="admin", password=passwords["admin"])
    assert client.get("/admin/").status_code == 200
    client.logout()
    assert client.login(request=HttpRequest(), username="leader", password=passwords["leader"])
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/projects/project/").status_code == 200


def test_every_admin_list_and_a_demo_row_render_for_admin(demo, client):
    passwords = {row["username"]: row["password"] for row in demo_data.USERS}
    assert client.login(request=HttpRequest(), username="admin", password=passwords["admin"])
    for model, _model_admin in admin.site._registry.items():
        opts = model._meta
        changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert changelist.status_code == 200, opts.label
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            change = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
            assert change.status_code == 200, opts.label
    assert "中兴新业港" in client.get(reverse("admin:projects_project_changelist")).content.decode()


def test_first_six_batches_are_all_achieved_as_in_the_seeds(demo):
    # Seed 002: the projects of the first six batches all started, went into
    # production and reached capacity; later batches still have work to do.
    needed = {
        BatchRole.SIGN: Stage.SIGNED,
        BatchRole.START: Stage.STARTED,
        BatchRole.PRODUCE: Stage.AT_CAPACITY,
    }
    memberships = BatchMembership.objects.select_related("project", "batch")
    early = [m for m in memberships if m.batch.number <= 6]
    later = [m for m in memberships if m.batch.number > 6]
    assert {m.role for m in early} == set(BatchRole.values)
    assert all(m.project.stage >= needed[m.role] for m in early)
    assert any(m.project.stage < needed[m.role] for m in later)
    rates = figures.batch_rates(BatchMembership.objects.filter(batch__number__lte=6))
    assert all(rate.rate == 1 for rate in rates.values())


def test_yihai_companies_belong_to_their_group(demo):
    group = Enterprise.objects.get(short_name="益海嘉里")
    assert set(group.subsidiaries.values_list("short_name", flat=True)) == {
        "益海粮油",
        "益海小麦",
        "益海特油",
    }
    assert Enterprise.objects.get(short_name="天子铝业").parent is None


# --- 万人助万企 problems ------------------------------------------------------------


def history_2021():
    return ProblemTicket.objects.filter(collected_at__year=demo_data.PROBLEM_YEAR)


def current_problems():
    return ProblemTicket.objects.filter(collected_at__gte=timezone.now() - datetime.timedelta(days=60))


def test_2021_problems_are_seed_000s_year(demo):
    # Seed 000: 30 enterprises visited, 51 problems — 2 provincial (1 solved), 20 municipal
    # and 29 zone-level, all of those solved.
    today = timezone.localdate()
    problems = kpis.problem_kpis(
        ProblemTicket.objects.all(),
        today=today,
        date_from=datetime.date(2021, 1, 1),
        date_to=datetime.date(2021, 12, 31),
    )
    assert (problems.total.collected, problems.total.resolved) == (51, 50)
    by_level = {row.key: (row.collected, row.resolved) for row in problems.by_level}
    assert by_level == {
        ProblemLevel.ZONE: (29, 29),
        ProblemLevel.CITY: (20, 20),
        ProblemLevel.PROVINCE: (2, 1),
    }
    visits = Visit.objects.filter(visited_on__year=2021)
    assert visits.values("enterprise").distinct().count() == 30
    assert not history_2021().filter(visit__isnull=True).exists()

    tickets = history_2021()
    assert set(tickets.values_list("category", flat=True)) == set(ProblemCategory.values)
    assert set(tickets.values_list("fence", flat=True)) == set(Fence.values)
    assert tickets.values("unit").distinct().count() >= 8
    assert tickets.values("enterprise__park").distinct().count() == 6
    # Most of the rated ones are 满意 or 基本满意.
    assert problems.total.rated >= 45
    assert problems.total.satisfied == problems.total.rated
    assert tickets.filter(satisfaction=Satisfaction.BASICALLY).exists()


def test_escalated_problems_went_up_one_level_at_a_time_with_reasons(demo):
    for ticket in history_2021().exclude(level=ProblemLevel.ZONE):
        escalations = list(ticket.events.filter(kind=EventKind.ESCALATED))
        expected = [(ProblemLevel.ZONE, ProblemLevel.CITY)]
        if ticket.level == ProblemLevel.PROVINCE:
            expected.append((ProblemLevel.CITY, ProblemLevel.PROVINCE))
        assert [(event.from_level, event.to_level) for event in escalations] == expected, ticket.title
        assert all(event.text for event in escalations)
        assert ticket.is_major
    followed = history_2021().get(level=ProblemLevel.PROVINCE, status=TicketStatus.IN_PROGRESS)
    assert followed.plan and followed.committed_date
    assert followed.events.filter(kind=EventKind.REPLIED).count() > 1
    assert not history_2021().filter(level=ProblemLevel.ZONE).exclude(status__in=CLOSED_STATUSES).exists()


def test_current_problems_wait_on_every_step(demo):
    today = timezone.localdate()
    current = current_problems()
    assert 8 <= current.count() <= 12
    assert set(current.values_list("status", flat=True)) == {
        TicketStatus.PENDING,
        TicketStatus.ASSIGNED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.UNDER_REVIEW,
        TicketStatus.RESOLVED,
    }
    overdue = current.filter(deadlines.overdue_q(today))
    assert set(overdue.values_list("status", flat=True)) == {TicketStatus.PENDING, TicketStatus.ASSIGNED}
    assert current.filter(status=TicketStatus.PENDING).exclude(deadlines.overdue_q(today)).exists()
    assert current.filter(status=TicketStatus.ASSIGNED).exclude(deadlines.overdue_q(today)).exists()

    planned = current.get(committed_date__isnull=False)
    assert planned.is_major and planned.plan and planned.resolve_due == planned.committed_date
    assert planned.committed_date > today
    in_progress = current.filter(status=TicketStatus.IN_PROGRESS)
    assert in_progress.filter(events__kind=EventKind.SENT_BACK).count() == 1
    reopened = in_progress.get(events__kind=EventKind.REOPENED)
    assert reopened.events.filter(kind=EventKind.RATED, value=Satisfaction.UNSATISFIED).exists()
    assert reopened.resolve_clock_from > timezone.localdate(reopened.collected_at)
    assert in_progress.get(level=ProblemLevel.CITY).events.filter(kind=EventKind.ESCALATED).exists()
    assert current.filter(status=TicketStatus.RESOLVED, satisfaction="").count() == 1


def test_every_ticket_has_its_collection_event_and_clock(demo):
    now = timezone.now()
    tickets = ProblemTicket.objects.prefetch_related("events")
    review_year, review_month = under_review()
    this_year = sum(
        len(visit["problems"])
        for visit in demo_data.VISITS_THIS_YEAR
        if (review_year, visit["on"][0]) < (review_year, review_month)
    )
    assert tickets.count() == 51 + this_year + len(demo_data.CURRENT_PROBLEMS)
    for ticket in tickets:
        events = list(ticket.events.all())
        assert events[0].kind == EventKind.CREATED, ticket.title
        assert events[0].at == ticket.collected_at
        assert all(ticket.collected_at <= event.at <= now for event in events), ticket.title
        assert ticket.assign_due and ticket.report_due and ticket.resolve_due and ticket.resolve_clock_from
        assert ticket.assign_due <= ticket.report_due
    assert TicketEvent.objects.filter(kind=EventKind.CREATED).count() == tickets.count()


def test_office_and_unit_users_work_the_problems(demo):
    office = User.objects.get(username="office")
    assert roles.roles_of(office) == {roles.Role.SUPERVISOR}
    assert enterprise_permissions.is_office(office)

    unit = User.objects.get(username="unit")
    unit2 = User.objects.get(username="unit2")
    assert unit2.department.short_name == "住建局"
    mine = permissions.readable_tickets(unit)
    assert mine.exists()
    assert not mine.exclude(unit=unit.department).exists()
    assert not mine.filter(unit=unit2.department).exists()
    assert permissions.readable_tickets(unit2).exists()
    # Most of the current problems already with a unit are with the `unit` user's.
    with_a_unit = current_problems().filter(unit__isnull=False)
    assert mine.filter(pk__in=with_a_unit).count() > with_a_unit.count() / 2
    assert not mine.exclude(handler=unit).exists()
    assert permissions.readable_tickets(office).count() == ProblemTicket.objects.count()


def test_the_published_months_have_problems_solved_and_rated(demo):
    """The leaders' first dashboard (the latest published month) has a problem panel with figures."""
    year, month = month_before(*under_review())
    if month < 3:
        pytest.skip("the year's first visits are in February; too early in the year to have them")
    end = datetime.date(year, month, 28)
    collected = kpis.in_period(ProblemTicket.objects.all(), datetime.date(year, 1, 1), end)
    expected = sum(len(v["problems"]) for v in demo_data.VISITS_THIS_YEAR if v["on"][0] <= month)
    figures_ = kpis.totals(collected, today=timezone.localdate())
    assert figures_.collected == figures_.resolved == figures_.rated == expected
    assert 0 < figures_.satisfied == expected  # 满意 and 基本满意 both count as satisfied
    assert figures_.overdue == 0


def test_running_on_a_later_day_adds_no_problems(demo, monkeypatch):
    problems = {model: model.objects.count() for model in (ProblemTicket, TicketEvent, Visit)}
    later = timezone.now() + datetime.timedelta(days=5)
    monkeypatch.setattr(timezone, "now", lambda: later)

    load_demo()

    # The projects' world moves with the calendar (a new month's reports, procedures planned around
    # the new day); the problems already there are left as they are.
    assert {model: model.objects.count() for model in problems} == problems


def test_the_demo_dashboard_opens_for_the_leader_and_staff(demo, client):
    client.force_login(User.objects.get(username="leader"))
    response = client.get("/dashboard/")

    assert response.status_code == 200
    board = response.context["d"]
    assert (board.selection.period.year, board.selection.period.month) == month_before(*under_review())
    assert board.selection.review.published
    assert board.headline.project_count == Project.objects.count()
    # Seed 002: every rate of the first six batches is 100%.
    early = [row for row in board.batches if row["figure"].batch_number <= 6]
    assert early and all(rate["figure"].rate == 1 for row in early for rate in row["rates"])

    client.force_login(User.objects.get(username="staff"))
    scoped = client.get("/dashboard/").context["d"]
    assert 0 < scoped.headline.project_count < board.headline.project_count
