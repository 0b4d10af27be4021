"""The 万人助万企 problem figures, computed in one place for the KPI panel, the
leader dashboard, the Excel bulletins and the API.

* collected: problems collected in the period;
* resolved: closed out (已办结, or rated afterwards);
* 问题解决率 = resolved / collected;
* 满意率 = (满意 + 基本满意) / rated, by each problem's latest rating: a 不满意
  reopens the problem and clears its rating, but it counts until the problem
  is rated again (otherwise an unsatisfied enterprise could never lower it);
* overdue: an unfinished "13710" step is past its last day (today);
* average days to resolve: from collection to closure, over the resolved ones.

Every split counts a problem at its **current** level, unit and status.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core import caching
from enterprises.models import Enterprise
from problems.choices import CLOSED_STATUSES, SATISFIED_VALUES, EventKind, ProblemCategory, ProblemLevel
from problems.deadlines import overdue_q
from problems.models import ProblemTicket, TicketEvent
from reference.models import Department, Park

RATE_PLACES = Decimal("0.0001")
DAY_PLACES = Decimal("0.1")
SECONDS_PER_DAY = Decimal(86400)


@dataclass
class ProblemFigures:
    key: object
    label: str
    collected: int
    resolved: int
    rated: int
    satisfied: int
    overdue: int
    open: int
    average_days: Decimal | None

    @property
    def resolution_rate(self) -> Decimal | None:
        return _ratio(self.resolved, self.collected)

    @property
    def satisfaction_rate(self) -> Decimal | None:
        return _ratio(self.satisfied, self.rated)


def _ratio(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _aggregates(today: datetime.date) -> dict:
    closed = Q(status__in=CLOSED_STATUSES)
    return {
        "collected": Count("pk"),
        "resolved": Count("pk", filter=closed),
        "rated": Count("pk", filter=Q(last_rating__isnull=False)),
        "satisfied": Count("pk", filter=Q(last_rating__in=SATISFIED_VALUES)),
        "overdue": Count("pk", filter=overdue_q(today)),
        "duration": Avg(
            ExpressionWrapper(F("closed_at") - F("collected_at"), output_field=DurationField()),
            filter=closed & Q(closed_at__isnull=False),
        ),
    }


def _with_last_rating(tickets: QuerySet) -> QuerySet:
    latest = (
        TicketEvent.objects.filter(ticket=OuterRef("pk"), kind=EventKind.RATED)
        .order_by("-at", "-pk")
        .values("value")[:1]
    )
    # The current rating wins; a reopened problem's 不满意 is found in its timeline.
    current = NullIf(F("satisfaction"), Value(""))
    return tickets.order_by().annotate(last_rating=Coalesce(current, Subquery(latest)))


def _figures(key, label, row: dict) -> ProblemFigures:
    duration = row["duration"]
    average = None
    if duration is not None:
        average = (Decimal(duration.total_seconds()) / SECONDS_PER_DAY).quantize(DAY_PLACES, ROUND_HALF_UP)
    return ProblemFigures(
        key=key,
        label=str(label),
        collected=row["collected"],
        resolved=row["resolved"],
        rated=row["rated"],
        satisfied=row["satisfied"],
        overdue=row["overdue"],
        open=row["collected"] - row["resolved"],
        average_days=average,
    )


def in_period(tickets: QuerySet, date_from: datetime.date | None, date_to: datetime.date | None) -> QuerySet:
    """Problems collected between the two days (inclusive, local time); either may be open."""
    if date_from:
        tickets = tickets.filter(collected_at__date__gte=date_from)
    if date_to:
        tickets = tickets.filter(collected_at__date__lte=date_to)
    return tickets


def totals(tickets: QuerySet, *, today: datetime.date) -> ProblemFigures:
    return _figures(None, "", _with_last_rating(tickets).aggregate(**_aggregates(today)))


DIMENSIONS = {
    "level": "level",
    "category": "category",
    "unit": "unit",
    "park": "enterprise__park",
}


def split(tickets: QuerySet, dimension: str, *, today: datetime.date) -> list[ProblemFigures]:
    """The figures per level, category, unit or park, in reference order; empty groups left out."""
    field = DIMENSIONS[dimension]
    rows = {
        row[field]: row for row in _with_last_rating(tickets).values(field).annotate(**_aggregates(today))
    }
    if dimension == "level":
        keys = [(value, label) for value, label in ProblemLevel.choices]
    elif dimension == "category":
        keys = [(value, label) for value, label in ProblemCategory.choices]
    else:
        model = Department if dimension == "unit" else Park
        ids = [key for key in rows if key is not None]
        keys = [(obj.pk, str(obj)) for obj in model.objects.filter(pk__in=ids).order_by("name")]
    result = [_figures(key, label, rows[key]) for key, label in keys if key in rows]
    if None in rows:
        label = _("not assigned yet") if dimension == "unit" else _("no park")
        result.append(_figures(None, label, rows[None]))
    return result


@dataclass
class ProblemKpis:
    total: ProblemFigures
    by_level: list[ProblemFigures]
    by_category: list[ProblemFigures]
    by_unit: list[ProblemFigures]
    by_park: list[ProblemFigures]


def problem_kpis(
    tickets: QuerySet,
    *,
    today: datetime.date,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    dimensions=tuple(DIMENSIONS),
    cached: bool = False,
) -> ProblemKpis:
    """Every figure of the KPI panel for the problems collected in the period; the splits not in
    ``dimensions`` are left empty.

    ``cached``: from the figures cache (core.caching) until a ticket, an enterprise (its park), a
    unit or a park changes. A rating or reopening writes the ticket's own history (its
    satisfaction and status), so the timeline's ratings are covered. Overdue is counted against
    ``today`` and the labels are translated, so both are part of the key."""
    tickets = in_period(tickets, date_from, date_to)
    if cached:
        return caching.cached_figures(
            ("problem_kpis", caching.queryset_key(tickets), today, get_language(), tuple(dimensions)),
            lambda: problem_kpis(tickets, today=today, dimensions=dimensions),
            using=tickets.db,
            extra=(ProblemTicket, Enterprise, Department, Park),
        )

    def by(dimension):
        return split(tickets, dimension, today=today) if dimension in dimensions else []

    return ProblemKpis(
        total=totals(tickets, today=today),
        by_level=by("level"),
        by_category=by("category"),
        by_unit=by("unit"),
        by_park=by("park"),
    )
