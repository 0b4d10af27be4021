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
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
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

from .choices import BatchRole, MilestoneStatus, ProgressStatus, Stage

RATE_PLACES = Decimal("0.0001")
MONEY_PLACES = Decimal("0.01")
ZERO = Decimal("0")
WAN_PER_YI = Decimal("10000")

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


def to_yi(amount_wan: Decimal | None) -> Decimal | None:
    """万元 → 亿元 with two decimals, as dashboards show money."""
    if amount_wan is None:
        return None
    return _round(Decimal(amount_wan) / WAN_PER_YI, MONEY_PLACES)


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
    from .models import MonthlyProgress

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
    ``month_completed`` (本月) and ``is_lagging`` to a project queryset."""
    _check_month(month)
    statuses = counted_statuses(include_submitted=include_submitted)
    return projects.annotate(
        planned_investment=plan_subquery(year),
        ytd_completed=_progress_sum(year=year, month_filter=Q(month__lte=month), statuses=statuses),
        month_completed=_progress_sum(year=year, month_filter=Q(month=month), statuses=statuses),
    ).annotate(
        is_lagging=Case(
            When(_on_roster() & Q(_lagging_condition(month)), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        # For sorting only; the rate shown comes from completion_rate().
        completion_ratio=Case(
            When(_on_roster(), then=F("ytd_completed") * 1.0 / F("planned_investment")),
            default=None,
            output_field=FloatField(),
        ),
    )


def plan_subquery(year: int) -> Subquery:
    """A project's planned investment for ``year``; NULL without a plan."""
    from .models import AnnualPlan

    plan = AnnualPlan.objects.filter(project=OuterRef("pk"), year=year).values("planned_investment")[:1]
    return Subquery(plan, output_field=_money_field())


def _on_roster() -> Q:
    return Q(planned_investment__gt=0)


def _off_roster() -> Q:
    # Spelled out: NOT (NULL > 0) is NULL in SQL, so ~_on_roster() would miss
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
    return ProjectFigures(
        month=month,
        planned=project.planned_investment,
        completed=_normalise(project.ytd_completed or ZERO),
        month_completed=_normalise(project.month_completed or ZERO),
    )


def rollup(projects: QuerySet, *, year: int, month: int, include_submitted: bool = False) -> Rollup:
    """Roll a project queryset up to the report's headline figures in one query."""
    annotated = annotate_year_figures(
        projects.order_by(), year=year, month=month, include_submitted=include_submitted
    )
    roster = _on_roster()
    money = _money_field()
    # Aggregate aliases must differ from the annotations they sum.
    totals = annotated.aggregate(
        agg_project_count=Count("pk"),
        agg_total_investment=Coalesce(Sum("total_investment"), Value(ZERO), output_field=money),
        agg_roster_count=Count("pk", filter=roster),
        agg_planned_investment=Coalesce(
            Sum("planned_investment", filter=roster), Value(ZERO), output_field=money
        ),
        agg_completed_investment=Coalesce(
            Sum("ytd_completed", filter=roster), Value(ZERO), output_field=money
        ),
        agg_unplanned_completed_investment=Coalesce(
            Sum("ytd_completed", filter=_off_roster()), Value(ZERO), output_field=money
        ),
        agg_lagging_count=Count("pk", filter=Q(is_lagging=True)),
    )
    return Rollup(
        year=year,
        month=month,
        **{key.removeprefix("agg_"): _normalise(value) for key, value in totals.items()},
    )


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
