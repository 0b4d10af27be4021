"""The one home of the official report arithmetic.

Dashboards, Excel reports and the API call these functions, so they always
show the same figure. Amounts are 万元 ``Decimal``; rates are fractions with
four decimals (0.3110 = 31.10%); gaps are percentage points with two.

Rules the reports do not spell out, decided here:

* **No plan, no rate.** A project with no annual plan for the year, or a plan
  of zero, is outside that year's plan roster: it has no completion rate, is
  never lagging, and what it completed is reported apart as out-of-plan
  investment (``unplanned_completed_investment``). A group's completion rate
  is the roster's year-to-date completed over the roster's plans, so
  ``completed_investment / planned_investment`` always equals the rate shown.
* **Lagging** means the completion rate is below the time-schedule progress
  (``completed × 12 < plan × month``, compared exactly, not on rounded rates).
* **Which reports count.** Official figures use approved reports only;
  callers may pass ``include_submitted=True`` to add submitted ones.
* **Batch rates** count a batch member as having started (开工率) once its
  stage is 开工 or later, as in production (投产率) once 投产 or later, and at
  capacity (达产率) once 达产 or later; 开工率 is taken over the members with
  the role 开工, 投产率 and 达产率 over the members with the role 投产, and
  签约率 (stage 签约 or later) over the members with the role 签约.
* **New starts and production** in a period: 新开工 is the project's actual
  start date (实际开工) falling in it; 新投产 is a recorded stage change from
  before 投产 to 投产 or later in it (there is no separate production date).
* **The month-by-month trend** sums the plan roster's counted reports, so its
  last point equals the headline's completed investment.
* **Ranking** (季度考评): groups with a plan, by unrounded completion rate; the
  top two positions get 红旗, the last position 黄旗 when there are more than two.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Round
from django.db.models.lookups import LessThan

from core import caching
from core.formatting import WAN_PER_YI, to_yi  # noqa: F401  (re-exported: the figures' unit)
from projects.choices import BatchRole, MilestoneStatus, ProgressStatus, Stage

RATE_PLACES = Decimal("0.0001")
MONEY_PLACES = Decimal("0.01")
ZERO = Decimal("0")

# Points behind schedule at which a figure turns yellow, and then red.
YELLOW_FROM_POINTS = Decimal("10")
RED_BEYOND_POINTS = Decimal("30")


def _money_field() -> DecimalField:
    return DecimalField(max_digits=16, decimal_places=2)


def _round(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP)


def _check_month(month: int) -> None:
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1–12, not {month}")


# --- One project or one group, from amounts already known -----------------


def schedule_progress(month: int) -> Decimal:
    """时序进度: the share of the year elapsed at the end of ``month`` (March → 0.2500)."""
    _check_month(month)
    return _round(Decimal(month) / 12, RATE_PLACES)


def completion_rate(completed: Decimal | None, planned: Decimal | None) -> Decimal | None:
    """完成率: completed / plan, or None when there is no (or a zero) plan."""
    if not planned:
        return None
    return _round(Decimal(completed or 0) / Decimal(planned), RATE_PLACES)


def gap_points(completed: Decimal | None, planned: Decimal | None, month: int) -> Decimal | None:
    """Percentage points ahead of (+) or behind (−) the time schedule."""
    _check_month(month)
    if not planned:
        return None
    exact = (Decimal(completed or 0) / Decimal(planned) - Decimal(month) / 12) * 100
    return _round(exact, MONEY_PLACES)


def is_lagging(completed: Decimal | None, planned: Decimal | None, month: int) -> bool:
    """滞后: the completion rate is below the time schedule. Never without a plan."""
    _check_month(month)
    if not planned:
        return False
    return Decimal(completed or 0) * 12 < Decimal(planned) * month


def lag_colour(points: Decimal | None) -> str | None:
    """Green, yellow (10–30 points behind) or red (more than 30 behind); None with no plan."""
    if points is None:
        return None
    if points < -RED_BEYOND_POINTS:
        return "red"
    if points <= -YELLOW_FROM_POINTS:
        return "yellow"
    return "green"


def investment_per_mu(total_investment: Decimal | None, land_area: Decimal | None) -> Decimal | None:
    """亩均投资强度 in 万元 per 亩, or None without a land area."""
    if total_investment is None or not land_area:
        return None
    return _round(Decimal(total_investment) / Decimal(land_area), MONEY_PLACES)


def rate_of(part: int, whole: int) -> Decimal | None:
    """A count ratio with four decimals, or None of nothing."""
    if not whole:
        return None
    return _round(Decimal(part) / Decimal(whole), RATE_PLACES)


# --- Figures from the database ---------------------------------------------


def counted_statuses(*, include_submitted: bool = False) -> list[str]:
    statuses = [ProgressStatus.APPROVED]
    if include_submitted:
        statuses.append(ProgressStatus.SUBMITTED)
    return statuses


def _progress_sum(*, year: int, month_filter: Q, statuses: list[str]) -> Coalesce:
    from projects.models import MonthlyProgress

    total = (
        MonthlyProgress.objects.filter(month_filter, project=OuterRef("pk"), year=year, status__in=statuses)
        .order_by()
        .values("project")
        .annotate(total=Sum("completed_investment"))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=_money_field()), Value(ZERO), output_field=_money_field())


def annotate_year_figures(
    projects: QuerySet, *, year: int, month: int, include_submitted: bool = False
) -> QuerySet:
    """Add ``planned_investment`` (None without a plan), ``ytd_completed`` (1–N月累计),
    ``month_completed`` (本月), ``has_month_report`` and ``is_lagging`` to a project queryset."""
    from projects.models import MonthlyProgress

    _check_month(month)
    statuses = counted_statuses(include_submitted=include_submitted)
    return projects.annotate(
        planned_investment=plan_subquery(year),
        ytd_completed=_progress_sum(year=year, month_filter=Q(month__lte=month), statuses=statuses),
        month_completed=_progress_sum(year=year, month_filter=Q(month=month), statuses=statuses),
        # Any report for the month, whatever its status: "no report" means nothing was sent.
        has_month_report=Exists(
            MonthlyProgress.objects.filter(project=OuterRef("pk"), year=year, month=month)
        ),
    ).annotate(
        is_lagging=Case(
            When(on_roster_q() & Q(_lagging_condition(month)), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        # For sorting only; the rate shown comes from completion_rate().
        completion_ratio=Case(
            When(on_roster_q(), then=F("ytd_completed") * 1.0 / F("planned_investment")),
            default=None,
            output_field=FloatField(),
        ),
    )


def counted_report_exists(*, year: int, month: int, include_submitted: bool = False) -> Exists:
    """Whether the project (``OuterRef("pk")``) has a counted report in January–``month``: without
    one its year-to-date figure is unknown, and reports write it as a blank, not as 0."""
    from projects.models import MonthlyProgress

    return Exists(
        MonthlyProgress.objects.filter(
            project=OuterRef("pk"),
            year=year,
            month__lte=month,
            status__in=counted_statuses(include_submitted=include_submitted),
        )
    )


def plan_subquery(year: int) -> Subquery:
    """A project's planned investment for ``year``; NULL without a plan."""
    from projects.models import AnnualPlan

    # order_by(): the model's default ordering would join each row's project to sort one plan.
    plan = (
        AnnualPlan.objects.filter(project=OuterRef("pk"), year=year)
        .order_by()
        .values("planned_investment")[:1]
    )
    return Subquery(plan, output_field=_money_field())


def on_roster_q() -> Q:
    """On the year's plan roster (needs ``planned_investment`` annotated)."""
    return Q(planned_investment__gt=0)


def off_roster_q() -> Q:
    # Spelled out: NOT (NULL > 0) is NULL in SQL, so ~on_roster_q() would miss
    # the projects with no plan at all.
    return Q(planned_investment__isnull=True) | Q(planned_investment__lte=0)


def _lagging_condition(month: int):
    # Compared on whole amounts, rounded to the cent so SQLite's floating
    # point cannot flip an exact tie.
    difference = F("ytd_completed") * 12 - F("planned_investment") * month
    return LessThan(Round(difference, 2), 0)


def lagging_projects(
    projects: QuerySet, *, year: int, month: int, include_submitted: bool = False
) -> QuerySet:
    """The projects on the year's roster whose completion rate is below schedule."""
    annotated = annotate_year_figures(projects, year=year, month=month, include_submitted=include_submitted)
    return annotated.filter(is_lagging=True)


@dataclass(frozen=True)
class Rollup:
    """The headline figures of a set of projects for a reporting month."""

    year: int
    month: int
    project_count: int
    total_investment: Decimal
    roster_count: int
    planned_investment: Decimal
    completed_investment: Decimal
    unplanned_completed_investment: Decimal
    lagging_count: int

    @property
    def completion_rate(self) -> Decimal | None:
        return completion_rate(self.completed_investment, self.planned_investment)

    @property
    def schedule_progress(self) -> Decimal:
        return schedule_progress(self.month)

    @property
    def gap_points(self) -> Decimal | None:
        return gap_points(self.completed_investment, self.planned_investment, self.month)

    @property
    def is_lagging(self) -> bool:
        return is_lagging(self.completed_investment, self.planned_investment, self.month)


@dataclass(frozen=True)
class ProjectFigures:
    """One project's figures for a reporting month, as a row or a card shows them."""

    month: int
    planned: Decimal | None
    completed: Decimal
    month_completed: Decimal

    @property
    def completion_rate(self) -> Decimal | None:
        return completion_rate(self.completed, self.planned)

    @property
    def schedule_progress(self) -> Decimal:
        return schedule_progress(self.month)

    @property
    def gap_points(self) -> Decimal | None:
        return gap_points(self.completed, self.planned, self.month)

    @property
    def is_lagging(self) -> bool:
        return is_lagging(self.completed, self.planned, self.month)

    @property
    def colour(self) -> str | None:
        return lag_colour(self.gap_points)


def figures_of(project, *, month: int) -> ProjectFigures:
    """The figures of a project from ``annotate_year_figures``."""
    return project_figures(
        month=month,
        planned=project.planned_investment,
        completed=project.ytd_completed,
        month_completed=project.month_completed,
    )


def project_figures(*, month: int, planned, completed, month_completed) -> ProjectFigures:
    """The figures of a project from the annotated values (a ``values()`` row, say)."""
    return ProjectFigures(
        month=month,
        planned=planned,
        completed=_normalise(completed or ZERO),
        month_completed=_normalise(month_completed or ZERO),
    )


def rollup(projects: QuerySet, *, year: int, month: int, include_submitted: bool = False) -> Rollup:
    """Roll a project queryset up to the report's headline figures in one query."""
    return rollups(projects, year=year, month=month, include_submitted=include_submitted).headline


def rollup_annotated(
    annotated: QuerySet, *, year: int, month: int, include_submitted: bool = False
) -> Rollup:
    """``rollup`` of a filtered list (which may filter on ``annotate_year_figures``' values)."""
    return rollup(annotated, year=year, month=month, include_submitted=include_submitted)


def rollup_by(
    projects: QuerySet, field: str, *, year: int, month: int, include_submitted: bool = False
) -> dict[object, Rollup]:
    """``rollup`` per value of ``field`` (level, park, industry__cluster …) in one grouped query.

    Keys are the field's values, None for the projects without one."""
    return rollups(projects, year=year, month=month, include_submitted=include_submitted, by=[field]).by[
        field
    ]


@dataclass(frozen=True)
class Rollups:
    headline: Rollup
    by: dict[str, dict[object, Rollup]]  # grouped field → its value (None: without one) → rollup


def rollups(projects: QuerySet, *, year: int, month: int, include_submitted: bool = False, by=()) -> Rollups:
    """The headline and the rollups per value of each field in ``by``, in one query.

    The dashboard's busiest figure, so it is SQL written for it rather than ``annotate_year_figures``:
    that runs two correlated subqueries per project, which on a province's 50,000 projects takes
    seconds per grouping. Here each project's plan and year-to-date sums are joined from one grouped
    pass over the year's reports, and every grouping is read off that one set (bench/RESULTS.md).
    Results are cached until the projects, plans or reports change (``core.caching``).
    """
    _check_month(month)
    by = list(by)
    base_sql, base_params = _rollup_base(projects, by)
    statuses = counted_statuses(include_submitted=include_submitted)
    key = ("rollups", base_sql, tuple(map(str, base_params)), year, month, tuple(statuses), tuple(by))
    # The queryset's database: the read replica when the dashboard reads from one (core.routers).
    alias = projects.db
    # Unfiltered, every report of the year is summed in index order; joining the projects first
    # only costs a sort and a merge (a third of the query's time at 50,000 projects).
    every_project = not projects.query.where
    rows = caching.cached_figures(
        key,
        lambda: _rollup_rows(alias, base_sql, base_params, by, year, month, statuses, every_project),
        using=alias,
    )
    headline = Rollup(year=year, month=month, **_ZERO_ROLLUP)
    grouped: dict[str, dict[object, Rollup]] = {field: {} for field in by}
    for row in rows:
        group, keys, values = row[0], row[1 : 1 + len(by)], row[1 + len(by) :]
        values = {name: _from_sql(name, value) for name, value in zip(_ROLLUP_FIELDS, values, strict=True)}
        if group == 0:
            headline = Rollup(year=year, month=month, **values)
        else:
            grouped[by[group - 1]][keys[group - 1]] = Rollup(year=year, month=month, **values)
    return Rollups(headline=headline, by=grouped)


_ROLLUP_FIELDS = (
    "project_count",
    "total_investment",
    "roster_count",
    "planned_investment",
    "completed_investment",
    "unplanned_completed_investment",
    "lagging_count",
)
_ZERO_ROLLUP = {name: 0 if name.endswith("count") else Decimal("0.00") for name in _ROLLUP_FIELDS}


def _rollup_base(projects: QuerySet, by: list[str]) -> tuple[str, tuple]:
    """The projects' ids, total investment and grouped fields as SQL, from the queryset itself, so
    its scope and filters (including filters on annotated figures) apply unchanged."""
    columns = {"rk_pk": F("pk"), "rk_ti": F("total_investment")}
    columns.update({f"rk_g{i}": F(field) for i, field in enumerate(by)})
    return projects.order_by().values(**columns).query.sql_with_params()


def _rollup_rows(
    alias: str,
    base_sql: str,
    base_params,
    by: list[str],
    year: int,
    month: int,
    statuses,
    every_project: bool,
) -> list:
    from django.db import connections

    from projects.models import AnnualPlan, MonthlyProgress

    connection = connections[alias]
    q = connection.ops.quote_name
    plan, report = AnnualPlan._meta, MonthlyProgress._meta
    only_base = "" if every_project else f"JOIN base b ON b.rk_pk = r.{q('project_id')}"
    counted = f"r.{q('status')} IN ({', '.join(['%s'] * len(statuses))})"
    # Each project's figures once (f), then plain sums per grouping: the CASEs are not redone per
    # grouping. The roster and lagging rules are on_roster_q's and _lagging_condition's (whole
    # amounts, rounded to the cent).
    roster = "pl.planned > 0"
    ytd = "COALESCE(g.ytd, 0)"
    aggregates = ", ".join(
        f"COALESCE(SUM({column}), 0)"
        for column in ("1", "f.rk_ti", "f.roster", "f.planned", "f.completed", "f.unplanned", "f.lagging")
    )
    selects = []
    for group in range(len(by) + 1):
        # A typed NULL in the other groupings' key columns, as UNION on PostgreSQL needs.
        keys = [
            f"f.rk_g{i}" if group == i + 1 else f"MAX(CASE WHEN 1 = 0 THEN f.rk_g{i} END)"
            for i in range(len(by))
        ]
        select = f"SELECT {', '.join([str(group), *keys, aggregates])} FROM f"
        if group:
            select += f" GROUP BY f.rk_g{group - 1}"
        selects.append(select)
    sql = f"""
        WITH base AS ({base_sql}),
        f AS (
            SELECT base.*,
                CASE WHEN {roster} THEN 1 ELSE 0 END AS roster,
                CASE WHEN {roster} THEN pl.planned END AS planned,
                CASE WHEN {roster} THEN {ytd} END AS completed,
                CASE WHEN {roster} THEN NULL ELSE {ytd} END AS unplanned,
                CASE WHEN {roster} AND ROUND({ytd} * 12 - pl.planned * %s, 2) < 0 THEN 1 ELSE 0 END AS lagging
            FROM base
            LEFT JOIN (
                SELECT {q("project_id")} AS project_id, {q("planned_investment")} AS planned
                FROM {q(plan.db_table)} WHERE {q("year")} = %s
            ) pl ON pl.project_id = base.rk_pk
            LEFT JOIN (
                SELECT r.{q("project_id")} AS project_id, SUM(r.{q("completed_investment")}) AS ytd
                FROM {q(report.db_table)} r {only_base}
                WHERE r.{q("year")} = %s AND r.{q("month")} <= %s AND {counted}
                GROUP BY r.{q("project_id")}
            ) g ON g.project_id = base.rk_pk
        )
        {" UNION ALL ".join(selects)}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*base_params, month, year, year, month, *statuses])
        return cursor.fetchall()


def _from_sql(name: str, value):
    if name.endswith("count"):
        return int(value)
    # PostgreSQL sums numerics to Decimal; SQLite to a float, or an int for whole amounts.
    return _normalise(Decimal(str(value)) if isinstance(value, float) else Decimal(value))


def _normalise(value):
    # SQLite hands sums back as floats turned Decimal; pin them to the cent.
    if isinstance(value, Decimal):
        return _round(value, MONEY_PLACES)
    return value


# --- 三个一批 ----------------------------------------------------------------

BATCH_RATE_RULES = {
    # rate name: (role the rate is taken over, stage that counts as achieved)
    "signing_rate": (BatchRole.SIGN, Stage.SIGNED),
    "start_rate": (BatchRole.START, Stage.STARTED),
    "production_rate": (BatchRole.PRODUCE, Stage.IN_PRODUCTION),
    "capacity_rate": (BatchRole.PRODUCE, Stage.AT_CAPACITY),
}


@dataclass(frozen=True)
class RateFigure:
    achieved: int
    total: int

    @property
    def rate(self) -> Decimal | None:
        return rate_of(self.achieved, self.total)


def batch_rates(memberships: QuerySet) -> dict[str, RateFigure]:
    """签约率, 开工率, 投产率 and 达产率 of a set of batch memberships, in one query."""
    aggregates = {}
    for name, (role, stage) in BATCH_RATE_RULES.items():
        aggregates[f"{name}_total"] = Count("pk", filter=Q(role=role))
        aggregates[f"{name}_achieved"] = Count("pk", filter=Q(role=role, project__stage__gte=stage))
    counts = memberships.order_by().aggregate(**aggregates)
    return {
        name: RateFigure(achieved=counts[f"{name}_achieved"], total=counts[f"{name}_total"])
        for name in BATCH_RATE_RULES
    }


@dataclass(frozen=True)
class BatchRoleFigures:
    batch_id: int
    batch_number: int
    role: str
    member_count: int
    rates: dict[str, RateFigure]  # only the rates taken over this role


def batch_rates_by_batch(memberships: QuerySet) -> list[BatchRoleFigures]:
    """Per batch and role: the members and the rates taken over that role, in one query;
    batches newest first, roles in the order sign, start, produce."""
    stages = {stage for _role, stage in BATCH_RATE_RULES.values()}
    rows = (
        memberships.order_by()
        .values("batch", "batch__number", "role")
        .annotate(
            members=Count("pk"),
            **{f"at_{stage}": Count("pk", filter=Q(project__stage__gte=stage)) for stage in stages},
        )
    )
    role_order = list(BatchRole.values)
    result = [
        BatchRoleFigures(
            batch_id=row["batch"],
            batch_number=row["batch__number"],
            role=row["role"],
            member_count=row["members"],
            rates={
                name: RateFigure(achieved=row[f"at_{stage}"], total=row["members"])
                for name, (role, stage) in BATCH_RATE_RULES.items()
                if role == row["role"]
            },
        )
        for row in rows
    ]
    result.sort(key=lambda r: (-r.batch_number, role_order.index(r.role)))
    return result


# --- Approval milestones ----------------------------------------------------


def milestone_completion(milestones: QuerySet) -> RateFigure:
    """办结率: procedures done over those that apply (不涉及 is left out)."""
    counts = milestones.order_by().aggregate(
        total=Count("pk", filter=~Q(status=MilestoneStatus.NOT_APPLICABLE)),
        achieved=Count("pk", filter=Q(status=MilestoneStatus.DONE)),
    )
    return RateFigure(achieved=counts["achieved"], total=counts["total"])


def overdue_milestones(milestones: QuerySet, *, today) -> QuerySet:
    """Procedures whose planned date has passed and that are neither done nor inapplicable."""
    return milestones.filter(planned_date__lt=today).exclude(
        status__in=[MilestoneStatus.DONE, MilestoneStatus.NOT_APPLICABLE]
    )


def milestone_completion_by(milestones: QuerySet, field: str) -> dict[object, RateFigure]:
    """办结率 per value of ``field`` (kind, project__park …) in one grouped query."""
    rows = (
        milestones.order_by()
        .values(field)
        .annotate(
            total=Count("pk", filter=~Q(status=MilestoneStatus.NOT_APPLICABLE)),
            achieved=Count("pk", filter=Q(status=MilestoneStatus.DONE)),
        )
    )
    return {row[field]: RateFigure(achieved=row["achieved"], total=row["total"]) for row in rows}


# --- Lifecycle ----------------------------------------------------------------


@dataclass(frozen=True)
class StageFigure:
    stage: int
    project_count: int
    total_investment: Decimal


def stage_funnel(projects: QuerySet) -> list[StageFigure]:
    """Projects and their total investment at each of the nine stages, in lifecycle order."""
    rows = {
        row["stage"]: row
        for row in projects.order_by()
        .values("stage")
        .annotate(count=Count("pk"), total=Coalesce(Sum("total_investment"), Value(ZERO)))
    }
    return [
        StageFigure(
            stage=stage,
            project_count=rows[stage]["count"] if stage in rows else 0,
            total_investment=_normalise(rows[stage]["total"]) if stage in rows else ZERO,
        )
        for stage in Stage.values
    ]


def _between(field: str, date_from, date_to) -> Q:
    bounds = {}
    if date_from:
        bounds[f"{field}__gte"] = date_from
    if date_to:
        bounds[f"{field}__lte"] = date_to
    return Q(**bounds)


def started_between_q(date_from, date_to) -> Q:
    """新开工: construction actually started (the project's 实际开工 date) between the two days
    (inclusive; either may be None for an open end)."""
    return Q(actual_start__isnull=False) & _between("actual_start", date_from, date_to)


def into_production_between_q(date_from, date_to) -> Q:
    """新投产: the project's stage went from before 投产 to 投产 or later between the two days.

    The stage history is the record here: there is no separate production date."""
    from projects.models import StageChange

    crossing = StageChange.objects.filter(
        Q(from_stage__isnull=True) | Q(from_stage__lt=Stage.IN_PRODUCTION),
        _between("changed_on", date_from, date_to),
        project=OuterRef("pk"),
        to_stage__gte=Stage.IN_PRODUCTION,
    )
    return Q(Exists(crossing))


def lifecycle_counts(projects: QuerySet, *, date_from, date_to) -> dict[str, int]:
    """How many of the projects started construction, and went into production, between the days."""
    return projects.order_by().aggregate(
        started=Count("pk", filter=started_between_q(date_from, date_to)),
        into_production=Count("pk", filter=into_production_between_q(date_from, date_to)),
    )


def year_to_month(year: int, month: int) -> tuple[datetime.date, datetime.date]:
    """The first and last day of January–``month`` of ``year``."""
    _check_month(month)
    return datetime.date(year, 1, 1), datetime.date(year, month, calendar.monthrange(year, month)[1])


# --- Month by month ---------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    month: int
    completed: Decimal  # that month, projects on the plan roster
    cumulative: Decimal  # 1–N月累计, equal to the rollup's completed_investment at that month
    schedule: Decimal  # the straight line: plan × month / 12


def monthly_trend(
    projects: QuerySet, *, year: int, month: int, planned: Decimal, include_submitted: bool = False
) -> list[TrendPoint]:
    """Cumulative completed investment of the year's plan roster, month by month, in one query,
    against the straight-line schedule of ``planned`` (the roster's plan, from ``rollup``)."""
    from projects.models import MonthlyProgress

    _check_month(month)
    roster = (
        projects.order_by()
        .annotate(planned_investment=plan_subquery(year))
        .filter(on_roster_q())
        .values("pk")
    )
    per_month = dict(
        MonthlyProgress.objects.filter(
            project__in=roster,
            year=year,
            month__lte=month,
            status__in=counted_statuses(include_submitted=include_submitted),
        )
        .order_by()
        .values("month")
        .annotate(total=Sum("completed_investment"))
        .values_list("month", "total")
    )
    points, running = [], ZERO
    for m in range(1, month + 1):
        this_month = _normalise(Decimal(per_month.get(m) or ZERO))
        running += this_month
        schedule = _round(Decimal(planned) * m / 12, MONEY_PLACES)
        points.append(TrendPoint(month=m, completed=this_month, cumulative=running, schedule=schedule))
    return points


# --- The quarterly review's ranking ----------------------------------------------

RED_FLAGS = 2  # the top two get a red flag (红旗), the last a yellow flag (黄旗)


@dataclass(frozen=True)
class Ranked:
    position: int
    key: object
    label: str
    rollup: Rollup
    flag: str | None  # "red", "yellow" or None


def rank_by_completion(groups: list[tuple[object, str, Rollup]]) -> list[Ranked]:
    """Rank groups (parks, units) by completion rate, best first; groups without a plan are left out.

    Rates are compared unrounded, so two groups share a position only when their rates are
    truly equal. The top two positions are 红旗 and the last,
    when there are more than two groups, 黄旗."""
    planned = [g for g in groups if g[2].planned_investment > 0]

    def key(group):
        rollup = group[2]
        return Decimal(rollup.completed_investment) / Decimal(rollup.planned_investment)

    planned.sort(key=lambda g: (-key(g), g[1]))
    ranked, position, previous = [], 0, None
    for index, (group_key, label, rollup) in enumerate(planned, start=1):
        rate = key((group_key, label, rollup))
        if rate != previous:
            position, previous = index, rate
        ranked.append(Ranked(position=position, key=group_key, label=label, rollup=rollup, flag=None))
    last = ranked[-1].position if ranked else None
    return [
        Ranked(
            position=r.position,
            key=r.key,
            label=r.label,
            rollup=r.rollup,
            flag="red"
            if r.position <= RED_FLAGS
            else "yellow"
            if len(ranked) > RED_FLAGS and r.position == last
            else None,
        )
        for r in ranked
    ]
