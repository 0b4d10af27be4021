"""Reads of project data that more than one page needs."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from . import figures
from .models import MonthlyProgress, Project


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
