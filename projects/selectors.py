"""Reads of project data that more than one page needs."""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Concat
from django.utils import timezone

from core import caching, changelog
from projects import figures
from projects.choices import ProgressStatus
from projects.filtersets import MilestoneFilterSet, ProjectFilterSet
from projects.models import (
    AnnualPlan,
    ApprovalMilestone,
    BatchMembership,
    MonthlyProgress,
    MonthPublication,
    ProgressPhoto,
    Project,
)


@dataclass(frozen=True)
class Period:
    """A reporting month: figures are year-to-date up to and including it."""

    year: int
    month: int


def latest_period(*, include_submitted: bool = False) -> Period | None:
    """The latest month with official (approved) figures, the default reporting month."""
    latest = (
        MonthlyProgress.objects.filter(
            status__in=figures.counted_statuses(include_submitted=include_submitted)
        )
        .order_by("-year", "-month")
        .values("year", "month")
        .first()
    )
    return Period(**latest) if latest else None


def projects_with_figures(
    projects: QuerySet | None = None, *, period: Period, include_submitted: bool = False
) -> QuerySet:
    """Projects with their plan, year-to-date and month figures for ``period``."""
    base = Project.objects.all() if projects is None else projects
    return figures.annotate_year_figures(
        base, year=period.year, month=period.month, include_submitted=include_submitted
    )


def latest_published_period() -> Period | None:
    """The latest month a reviewer published (月报发布): the official figures."""
    latest = (
        MonthPublication.objects.filter(is_published=True)
        .order_by("-year", "-month")
        .values("year", "month")
        .first()
    )
    return Period(**latest) if latest else None


def default_period() -> Period:
    """The reporting month pages, exports and the API show unless asked for another: the latest
    published month; before any is published, the latest month with approved figures; before any,
    the month under way."""
    for latest in (latest_published_period, latest_period):
        period = latest()
        if period is not None:
            return period
    today = timezone.localdate()
    return Period(today.year, today.month)


def publication_of(period: Period) -> MonthPublication | None:
    return MonthPublication.objects.filter(year=period.year, month=period.month).first()


def is_published(period: Period) -> bool:
    return MonthPublication.objects.filter(year=period.year, month=period.month, is_published=True).exists()


@dataclass(frozen=True)
class MonthReview:
    """Where a month's reports stand, over the projects on that year's plan (planned investment > 0)."""

    year: int
    month: int
    on_plan: int
    approved: int
    submitted: int
    returned: int
    draft: int
    publication: MonthPublication | None = None

    @property
    def not_reported(self) -> int:
        return self.on_plan - self.approved - self.submitted - self.returned - self.draft

    @property
    def published(self) -> bool:
        return self.publication is not None and self.publication.is_published


REVIEW_STATUSES = (
    ProgressStatus.APPROVED,
    ProgressStatus.SUBMITTED,
    ProgressStatus.RETURNED,
    ProgressStatus.DRAFT,
)


def month_review(period: Period, *, publication: MonthPublication | None | bool = False) -> MonthReview:
    """One month's review state in two queries: the roster's reports of the month counted by status
    through a filtered join (an index look-up per project, not its whole history), and the month's
    publication (pass ``publication`` when it is known)."""
    counts = (
        AnnualPlan.objects.filter(year=period.year, planned_investment__gt=0)
        .annotate(
            report=FilteredRelation(
                "project__monthly_progress",
                condition=Q(
                    project__monthly_progress__year=period.year, project__monthly_progress__month=period.month
                ),
            )
        )
        .aggregate(
            on_plan=Count("pk", distinct=True),
            **{
                str(status.value): Count("report", filter=Q(report__status=status))
                for status in REVIEW_STATUSES
            },
        )
    )
    if publication is False:
        publication = publication_of(period)
    return MonthReview(year=period.year, month=period.month, publication=publication, **counts)


def cached_month_review(period: Period) -> MonthReview:
    """``month_review`` with its counts from the figures cache (core.caching) until a plan,
    a report or a project changes: the dashboard and the project list show it on every view, and
    on the province data it is their slowest query. Writes that decide by it (publishing) call
    ``month_review``."""
    counts = caching.cached_figures(
        ("month_review", period.year, period.month),
        lambda: asdict(month_review(period, publication=None)),
        using=AnnualPlan.objects.db,
    )
    counts.pop("publication")
    return MonthReview(**counts, publication=publication_of(period))


def month_reviews(year: int) -> list[MonthReview]:
    """The review state of each month of ``year`` that has begun, latest first, for the publishing
    page and its API (a query per month, at most twelve)."""
    today = timezone.localdate()
    last = 12 if year < today.year else (today.month if year == today.year else 0)
    months = list(range(last, 0, -1))
    publications = {p.month: p for p in MonthPublication.objects.filter(year=year, month__in=months)}
    return [month_review(Period(year, month), publication=publications.get(month)) for month in months]


@dataclass(frozen=True)
class ReportingDeadline:
    """The month staff report on now and the day its reports are due (MONTHLY_REPORT_DUE_DAY of the
    month after). Until that day it is last month; from the day after, this month."""

    period: Period
    due: datetime.date
    today: datetime.date

    @property
    def days_left(self) -> int:
        return (self.due - self.today).days

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)


def reporting_deadline(today: datetime.date | None = None) -> ReportingDeadline:
    today = today or timezone.localdate()
    due_day = settings.MONTHLY_REPORT_DUE_DAY
    if today.day <= due_day:
        period = Period(today.year, today.month - 1) if today.month > 1 else Period(today.year - 1, 12)
        return ReportingDeadline(period, today.replace(day=due_day), today)
    following = datetime.date(today.year + today.month // 12, today.month % 12 + 1, due_day)
    return ReportingDeadline(Period(today.year, today.month), following, today)


def current_month() -> Period:
    today = timezone.localdate()
    return Period(today.year, today.month)


PROJECT_ROW_RELATED = [
    "enterprise",
    "park",
    "industry__cluster",
    "responsible_leader",
    "responsible_unit",
    "staff_in_charge",
]


def project_rows(projects: QuerySet, *, period: Period, include_submitted: bool = False) -> QuerySet:
    """Projects as lists show them: their related names and the period's figures."""
    return projects_with_figures(
        projects.select_related(*PROJECT_ROW_RELATED), period=period, include_submitted=include_submitted
    )


def project_for_page(pk: int, *, period: Period) -> Project:
    return project_rows(Project.objects.filter(pk=pk), period=period).get()


def year_reports(project: Project, year: int) -> QuerySet:
    return (
        project.monthly_progress.filter(year=year)
        .select_related("submitted_by", "reviewed_by")
        .prefetch_related("photos")
        .order_by("month")
    )


def grid_projects(projects: QuerySet, *, period: Period) -> QuerySet:
    """The batch grid's projects with this month's report and the approved total before it."""
    before = Period(period.year, period.month - 1) if period.month > 1 else None
    reports = MonthlyProgress.objects.filter(year=period.year, month=period.month)
    projects = projects.select_related("enterprise").prefetch_related(
        Prefetch("monthly_progress", queryset=reports, to_attr="month_reports")
    )
    if before is None:
        return projects.annotate(
            planned_investment=figures.plan_subquery(period.year), ytd_before=Value(figures.ZERO)
        )
    return projects_with_figures(projects, period=before).annotate(ytd_before=F("ytd_completed"))


def grid_listed(projects: QuerySet, *, period: Period, term: str = "", todo: bool = False) -> QuerySet:
    """The progress grid's projects in its order (by name), narrowed by a search term (the name or
    code) and, with ``todo``, to those whose month is still to do: no report, a draft or a returned
    one (not one submitted or approved)."""
    if term:
        projects = projects.filter(Q(name__icontains=term) | Q(code__icontains=term))
    if todo:
        done = MonthlyProgress.objects.filter(
            project=OuterRef("pk"),
            year=period.year,
            month=period.month,
            status__in=[ProgressStatus.SUBMITTED, ProgressStatus.APPROVED],
        )
        projects = projects.exclude(Exists(done))
    return projects.order_by("name", "pk")


def reports_due(projects: QuerySet, *, period: Period) -> QuerySet:
    """Projects (from those given) on the year's plan that have no report at all for ``period``:
    a project without a plan for the year (in planning, or finished) owes no monthly report."""
    # Exists, not exclude() across the relation: exclude() would drop a project with any report in
    # that year and any report in that month of some year, not only one with that month's report.
    reported = MonthlyProgress.objects.filter(project=OuterRef("pk"), year=period.year, month=period.month)
    return projects.filter(annual_plans__year=period.year, annual_plans__planned_investment__gt=0).exclude(
        Exists(reported)
    )


def reports_in(status: str, projects: QuerySet | None = None) -> QuerySet:
    reports = MonthlyProgress.objects.filter(status=status)
    ordering = ["-year", "-month", "project__name"]
    if projects is not None:
        reports = reports.filter(project__in=projects)
        # The newest first, sorted once found: ordered by the period index, PostgreSQL walked every
        # report of the status in the zone for the few of one unit (1 s on the province data).
        ordering = [(F("year") * 100 + F("month")).desc(), "project__name", "pk"]
    return reports.select_related("project", "project__enterprise", "submitted_by", "reviewed_by").order_by(
        *ordering
    )


def by_name_once_found(projects: QuerySet) -> QuerySet:
    """``projects`` by name, sorted after they are found. For a few projects among many (a unit's
    projects due a report) PostgreSQL otherwise walks the name index through every project of
    the zone looking for them, and when there are none, to the end (0.4 s on the province data)."""
    return projects.order_by(Concat("name", Value(""), output_field=CharField()), "pk")


def first_by_name(projects: QuerySet, limit: int) -> tuple[list[int], int]:
    """The ids of the first ``limit`` of ``projects`` by name, and how many there are, from one
    query of their ids: finding the set (a unit's projects due a report: an anti-join over each of
    them) once, not once for the list and again for its count."""
    ids = list(by_name_once_found(projects).values_list("pk", flat=True))
    return ids[:limit], len(ids)


@dataclass
class MilestoneSelection:
    """The approval procedures a query string selects, and the filters that chose them."""

    projects: QuerySet  # the projects the project filters select (with their year figures)
    milestones: QuerySet  # their procedures the procedure filters select
    project_filter: ProjectFilterSet
    filterset: MilestoneFilterSet

    @property
    def errors(self) -> dict:
        return {**self.project_filter.errors, **(self.filterset.errors if self.filterset.is_bound else {})}

    def listed_projects(self) -> QuerySet:
        """The projects with at least one selected procedure: the rows of the procedure matrix."""
        return self.projects.filter(pk__in=self.milestones.values("project_id"))


def milestone_selection(params, *, period: Period, include_submitted: bool = False) -> MilestoneSelection:
    """The procedure list's rows: ProjectFilterSet on the projects (so the dashboard's links mean
    the same here), MilestoneFilterSet on their procedures. The list page and its export share it."""
    rows = projects_with_figures(period=period, include_submitted=include_submitted)
    project_filter = ProjectFilterSet(params, queryset=rows)
    projects = project_filter.qs if project_filter.is_valid() else rows.none()
    milestones = ApprovalMilestone.objects.filter(project__in=projects.order_by().values("pk"))
    filterset = MilestoneFilterSet(params or None, queryset=milestones)
    return MilestoneSelection(
        projects=projects,
        milestones=filterset.qs if filterset.is_bound else milestones,
        project_filter=project_filter,
        filterset=filterset,
    )


def project_history_rows(project_id: int) -> list:
    """A project's change history with what belongs to it: plans, reports, photos, milestones, batches
    (``core.changelog`` reads them into a timeline)."""
    reports = MonthlyProgress.history.filter(project_id=project_id).values("id")
    return [
        changelog.rows_of(Project, id=project_id),
        changelog.rows_of(AnnualPlan, project_id=project_id),
        changelog.rows_of(MonthlyProgress, project_id=project_id),
        changelog.rows_of(ProgressPhoto, report_id__in=reports),
        changelog.rows_of(ApprovalMilestone, project_id=project_id),
        changelog.rows_of(BatchMembership, project_id=project_id),
    ]
