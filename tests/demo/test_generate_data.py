"""``manage.py generate_data`` and demo.generator: a small run read back from the database."""

import datetime
import hashlib
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from core import roles
from core.history import Origin, unrecorded_changes
from core.models import User
from demo import generator
from enterprises.models import Enterprise, EnterpriseYearlyFigure
from enterprises.validators import validate_credit_code
from problems import deadlines
from problems.choices import EventKind, ProblemSource, TicketStatus
from problems.models import ProblemTicket, TicketEvent, Visit
from projects import selectors
from projects.choices import MilestoneStatus, ProgressStatus, Stage
from projects.models import (
    AnnualPlan,
    ApprovalMilestone,
    BatchMembership,
    MonthlyProgress,
    MonthPublication,
    Project,
    StageChange,
)
from tests.factories import ProjectFactory

SMALL = generator.Profile(projects=30, enterprises=60, years=2, tickets=80)


def expected_months() -> list[tuple[int, int]]:
    """Every month of last year and of this year up to the month under way (two years)."""
    today = timezone.localdate()
    return [(today.year - 1, m) for m in range(1, 13)] + [(today.year, m) for m in range(1, today.month + 1)]


@pytest.fixture
def generated(db):
    return generator.generate(SMALL, seed=7)


def test_rows_per_table_and_their_history(generated):
    months = expected_months()
    assert Project.objects.count() == 30
    assert Enterprise.objects.count() == 60
    assert ProblemTicket.objects.count() == 80
    assert AnnualPlan.objects.count() == 30 * 2
    assert MonthlyProgress.objects.count() == 30 * len(months)
    assert ApprovalMilestone.objects.count() >= 30 * 10  # ten procedures, the permit in up to three phases
    assert StageChange.objects.filter(from_stage=None).count() == 30
    # Every project's first stage change is where it began; the later ones move one step forward.
    for change in StageChange.objects.exclude(from_stage=None):
        assert change.to_stage == change.from_stage + 1
    assert TicketEvent.objects.filter(kind=EventKind.CREATED).count() == 80
    # The summary counts what is in the database.
    for model in (Project, Enterprise, ProblemTicket, AnnualPlan, MonthlyProgress, TicketEvent, Visit):
        assert generated.counts[model._meta.db_table] == model.objects.count()
    # One "+" history row per row, made by a command, all in one bulk operation.
    batches = set()
    for model in (Project, Enterprise, ProblemTicket, AnnualPlan, MonthlyProgress, ApprovalMilestone):
        rows = model.history.all()
        assert rows.count() == model.objects.count()
        assert set(rows.values_list("history_type", "history_origin").distinct()) == {("+", Origin.COMMAND)}
        batches |= set(rows.values_list("history_batch", flat=True).distinct())
    assert len(batches) == 1 and None not in batches
    # The honour links have their history rows too, pointing at the enterprise's "+" row.
    honours = Enterprise.honours.through.objects.count()
    assert honours > 0
    linked = Enterprise._tracked_records.m2m_models[Enterprise._meta.get_field("honours")]
    assert linked.objects.filter(history__history_type="+").count() == honours
    assert unrecorded_changes() == []
    out = StringIO()
    call_command("check_history", stdout=out)
    assert "The history matches every record." in out.getvalue()


def test_a_plan_per_year_and_a_report_per_month(generated):
    months = expected_months()
    years = {year for year, _month in months}
    today = timezone.localdate()
    previous = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    for project in Project.objects.prefetch_related("annual_plans", "monthly_progress"):
        assert {plan.year for plan in project.annual_plans.all()} == years
        reports = list(project.monthly_progress.all())
        assert sorted((r.year, r.month) for r in reports) == months
        # Spending never exceeds the project's total investment.
        assert sum(r.completed_investment for r in reports) <= project.total_investment
        for report in reports:
            if (report.year, report.month) < previous:
                assert report.status == ProgressStatus.APPROVED
            if report.status in (ProgressStatus.APPROVED, ProgressStatus.RETURNED):
                assert report.submitted_at <= report.reviewed_at <= timezone.now()
                assert report.reviewed_by is not None
            if report.status == ProgressStatus.DRAFT:
                assert report.submitted_at is None and report.reviewed_at is None
        if project.stage >= Stage.STARTED:
            assert project.actual_start is not None
    this_month = Counter(
        MonthlyProgress.objects.filter(year=today.year, month=today.month).values_list("status", flat=True)
    )
    assert ProgressStatus.APPROVED not in this_month
    assert sum(this_month.values()) == 30
    statuses = set(MonthlyProgress.objects.values_list("status", flat=True))
    assert {ProgressStatus.APPROVED, ProgressStatus.DRAFT} <= statuses


def test_enterprises_have_valid_unique_credit_codes(generated):
    codes = list(Enterprise.objects.values_list("credit_code", flat=True))
    assert len(set(codes)) == 60
    for code in codes:
        validate_credit_code(code)  # raises on a wrong check character
        assert code.startswith("91411600")
    for enterprise in Enterprise.objects.filter(is_above_scale=True):
        figures = EnterpriseYearlyFigure.objects.filter(enterprise=enterprise)
        assert all(f.taxes <= f.revenue for f in figures)


def test_milestones_follow_the_stage(generated):
    for project in Project.objects.filter(stage__gte=Stage.STARTED).prefetch_related("milestones"):
        permits = [m for m in project.milestones.all() if m.kind == "construction_permit"]
        assert permits[0].status == MilestoneStatus.DONE
        assert permits[0].completed_date <= project.actual_start
    for milestone in ApprovalMilestone.objects.filter(status=MilestoneStatus.DONE):
        assert milestone.completed_date < timezone.localdate() and milestone.document_number
    assert BatchMembership.objects.exists()


def test_ticket_timestamps_follow_the_status(generated):
    now = timezone.now()
    statuses = Counter()
    for ticket in ProblemTicket.objects.prefetch_related("events"):
        statuses[ticket.status] += 1
        stamps = [
            ticket.collected_at,
            ticket.assigned_at,
            ticket.first_reply_at,
            ticket.resolved_at,
            ticket.closed_at,
            ticket.rated_at,
        ]
        present = [s for s in stamps if s is not None]
        assert present == sorted(present) and present[-1] < now
        collected_on = timezone.localdate(ticket.collected_at)
        dues = deadlines.dues_from(collected_on, major=ticket.is_major)
        assert (ticket.assign_due, ticket.report_due) == (dues.assign, dues.report)
        if ticket.status == TicketStatus.PENDING:
            assert ticket.assigned_at is None and ticket.unit is None
        else:
            assert ticket.assigned_at is not None and ticket.unit is not None
            assert ticket.handler.department_id == ticket.unit_id
        if ticket.status == TicketStatus.UNDER_REVIEW:
            assert ticket.resolved_at and ticket.resolution and ticket.closed_at is None
            assert ticket.review_due == deadlines.review_due(timezone.localdate(ticket.resolved_at))
        if ticket.status in (TicketStatus.RESOLVED, TicketStatus.RATED):
            assert ticket.resolved_at and ticket.closed_at and ticket.resolution
        if ticket.status == TicketStatus.RATED:
            assert ticket.rated_at and ticket.satisfaction in ("satisfied", "basically")
        else:
            assert ticket.rated_at is None and ticket.satisfaction == ""
        if ticket.source == ProblemSource.VISIT:
            assert ticket.visit.enterprise_id == ticket.enterprise_id
        # The timeline starts with the collection and ends in the ticket's status.
        events = list(ticket.events.all())
        assert events[0].kind == EventKind.CREATED and events[0].at == ticket.collected_at
        assert [e.at for e in events] == sorted(e.at for e in events)
        moves = [e for e in events if e.to_status]
        assert moves[-1].to_status == ticket.status
        assert [e.to_level for e in events if e.to_level][-1] == ticket.level
    # Old problems closed and rated, this month's still on the clock.
    assert statuses[TicketStatus.RATED] > 40
    open_statuses = {
        TicketStatus.PENDING,
        TicketStatus.ASSIGNED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.UNDER_REVIEW,
    }
    assert open_statuses & set(statuses) and len(statuses) >= 3, statuses


def test_users_have_roles_and_only_the_admin_can_log_in(generated):
    admin = User.objects.get(username="gen_admin")
    assert admin.is_superuser and admin.check_password(generated.admin_password)
    others = User.objects.exclude(pk=admin.pk)
    assert not any(user.has_usable_password() for user in others)
    by_role = Counter(Group.objects.filter(user__in=others).values_list("name", flat=True))
    for role in (
        roles.Role.STAFF,
        roles.Role.UNIT,
        roles.Role.REVIEWER,
        roles.Role.SUPERVISOR,
        roles.Role.LEADER,
    ):
        assert by_role[roles.GROUP_NAMES[role]] >= 1
    for project in Project.objects.select_related("staff_in_charge"):
        assert project.staff_in_charge.department_id == project.responsible_unit_id


def digest() -> str:
    """The generated data by natural keys (ids and history ids may differ between runs)."""
    hashed = hashlib.sha256()
    rows = [
        Enterprise.objects.order_by("credit_code").values_list("credit_code", "name", "is_above_scale"),
        Project.objects.order_by("code").values_list(
            "code", "name", "enterprise__credit_code", "stage", "total_investment", "actual_start",
            "staff_in_charge__username",
        ),
        MonthlyProgress.objects.order_by("project__code", "year", "month").values_list(
            "project__code", "year", "month", "completed_investment", "status", "submitted_at", "reviewed_at"
        ),
        ProblemTicket.objects.order_by("collected_at", "title", "enterprise__credit_code").values_list(
            "enterprise__credit_code", "title", "status", "collected_at", "resolved_at", "unit__name", "level"
        ),
        TicketEvent.objects.order_by("at", "ticket__collected_at", "kind").values_list("kind", "at", "text"),
    ]  # fmt: skip
    for query in rows:
        # Sorted whole: rows that tie on the ordering (two events at one moment) come back in
        # either order.
        for row in sorted(map(repr, query)):
            hashed.update(row.encode())
    return hashed.hexdigest()


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_data():
    as_of = timezone.now()
    with transaction.atomic():
        generator.generate(SMALL, seed=3, as_of=as_of)
        first = digest()
        transaction.set_rollback(True)
    assert not Project.objects.exists()
    with transaction.atomic():
        generator.generate(SMALL, seed=4, as_of=as_of)
        other = digest()
        transaction.set_rollback(True)
    generator.generate(SMALL, seed=3, as_of=as_of)
    assert digest() == first
    assert other != first


def test_refuses_a_database_with_projects(db):
    ProjectFactory()
    with pytest.raises(CommandError, match="--append"):
        call_command("generate_data", "--profile", "zone", stdout=StringIO())
    assert Project.objects.count() == 1
    assert not Enterprise.objects.exclude(projects__isnull=False).exists()
    assert not User.objects.filter(username="gen_admin").exists()


def test_append_adds_a_second_set_beside_the_first(generated):
    again = generator.generate(SMALL, seed=7, append=True)
    assert again.admin_username == "gen2_admin"
    assert Project.objects.count() == 60
    assert Enterprise.objects.count() == 120
    assert MonthlyProgress.objects.count() == 60 * len(expected_months())
    assert unrecorded_changes() == []


def test_command_prints_the_table_and_the_login(db):
    out = StringIO()
    call_command(
        "generate_data", "--projects", "4", "--enterprises", "8", "--years", "1", "--tickets", "6",
        "--seed", "2", stdout=out, stderr=StringIO(),
    )  # fmt: skip
    text = out.getvalue()
    assert "projects_project" in text and "projects_historicalmonthlyprogress" in text
    assert "username gen_admin" in text
    password = text.split("password ")[1].split()[0]
    assert User.objects.get(username="gen_admin").check_password(password)
    assert Project.objects.count() == 4


def test_command_is_quiet_at_verbosity_0_and_checks_its_options(db):
    out, err = StringIO(), StringIO()
    call_command(
        "generate_data", "--projects", "2", "--enterprises", "2", "--years", "1", "--tickets", "0",
        "--verbosity", "0", stdout=out, stderr=err,
    )  # fmt: skip
    assert out.getvalue() == "" and err.getvalue() == ""
    with pytest.raises(CommandError, match="missing --years, --tickets"):
        call_command("generate_data", "--projects", "2", "--enterprises", "2", stdout=out)
    with translation.override("en"), pytest.raises(CommandError, match="Years must be between 1 and 20"):
        call_command("generate_data", "--profile", "zone", "--years", "0", stdout=out)


def test_pages_of_a_generated_database_render(generated, client, django_assert_max_num_queries):
    client.force_login(User.objects.get(username="gen_admin"))
    with django_assert_max_num_queries(80):
        response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    for name in ("projects:list", "enterprises:ticket_list", "enterprises:stats"):
        assert client.get(reverse(name)).status_code == 200, name
    project = Project.objects.order_by("pk").first()
    response = client.get(reverse("projects:detail", args=[project.pk]))
    assert response.status_code == 200
    assert project.name in response.content.decode()
    # The dashboard's default month is the latest published one: the month before last, as last
    # month's reports are still being reviewed.
    today = timezone.localdate()
    last = today.replace(day=1) - datetime.timedelta(days=1)
    before_last = last.replace(day=1) - datetime.timedelta(days=1)
    assert selectors.default_period() == selectors.Period(before_last.year, before_last.month)
    published = MonthPublication.objects.filter(is_published=True)
    assert published.count() == len(
        [m for m in expected_months() if m <= (before_last.year, before_last.month)]
    )
    # Every published month's reports are all approved.
    for year, month in published.values_list("year", "month"):
        assert not MonthlyProgress.objects.filter(year=year, month=month).exclude(status="approved").exists()
