"""The "13710" clock: the last day allowed for each step of a problem ticket.

1 day to assign, 3 days for the unit's first progress report, 7 days to
resolve an ordinary problem, 1 month for a major or complex one (or the date
its plan commits to), then the office reviews the resolution and closes it out.
The counts and whether days are calendar days or Chinese working days are
settings (``PROBLEM_DEADLINES``, ``PROBLEM_DAY_COUNTING``).

A due date is the last day on which the step is on time: a step is overdue from
the day after. A working-day count starts on the first working day after the
day the problem was collected, so a problem collected on a Friday evening before
a holiday is due after the holiday.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

import chinese_calendar
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from problems.choices import WITH_UNIT_STATUSES, Step, TicketStatus

CALENDAR = "calendar"
WORKING = "working"


def counting() -> str:
    mode = getattr(settings, "PROBLEM_DAY_COUNTING", CALENDAR)
    if mode not in (CALENDAR, WORKING):
        raise ValueError(f"PROBLEM_DAY_COUNTING must be {CALENDAR!r} or {WORKING!r}, not {mode!r}")
    return mode


def day_count(step: str) -> int:
    return int(settings.PROBLEM_DEADLINES[step])


def is_working_day(day: datetime.date) -> bool:
    """Chinese working days: holidays off, make-up weekend days on; Mon–Fri beyond the package's data."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_days(start: datetime.date, days: int, *, mode: str | None = None) -> datetime.date:
    """The day ``days`` days after ``start``, counting calendar or working days."""
    if (mode or counting()) == CALENDAR:
        return start + datetime.timedelta(days=days)
    day = start
    remaining = days
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def days_between(start: datetime.date, end: datetime.date, *, mode: str | None = None) -> int:
    """How many days ``end`` is after ``start`` (negative when before), counted as ``add_days`` counts.

    With working days it is the number of working days in (start, end]: from a Friday to the next
    Monday is 1, so ``add_days(start, days_between(start, end)) == end`` whenever ``end`` is a
    working day, as every due date counted by ``add_days`` is.
    """
    if (mode or counting()) == CALENDAR:
        return (end - start).days
    sign, low, high = (1, start, end) if end >= start else (-1, end, start)
    days, day = 0, low
    while day < high:
        day += datetime.timedelta(days=1)
        if is_working_day(day):
            days += 1
    return sign * days


def add_months(start: datetime.date, months: int, *, mode: str | None = None) -> datetime.date:
    """The same day ``months`` months later (the month's last day if shorter).

    A month is a calendar month in both modes; with working days, a due date that
    falls on a day off moves to the next working day.
    """
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = datetime.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
    if (mode or counting()) == WORKING:
        while not is_working_day(day):
            day += datetime.timedelta(days=1)
    return day


@dataclass(frozen=True)
class Dues:
    assign: datetime.date
    report: datetime.date
    resolve: datetime.date


def resolve_due(clock_from: datetime.date, *, major: bool) -> datetime.date:
    """The resolution deadline counted from ``clock_from`` (collection, or a reopening)."""
    if major:
        return add_months(clock_from, day_count("major_months"))
    return add_days(clock_from, day_count("resolve"))


def dues_from(collected_on: datetime.date, *, major: bool) -> Dues:
    return Dues(
        assign=add_days(collected_on, day_count("assign")),
        report=add_days(collected_on, day_count("report")),
        resolve=resolve_due(collected_on, major=major),
    )


def review_due(resolved_on: datetime.date) -> datetime.date:
    """The office reviews a submitted resolution within this many days *(convention)*."""
    return add_days(resolved_on, day_count("review"))


def planned_resolve_due(
    resolve_due: datetime.date, committed: datetime.date, planned_on: datetime.date
) -> datetime.date:
    """A major problem's resolution deadline once its unit records a plan on ``planned_on``: the date
    it commits to, when the plan came by the deadline; otherwise the deadline stays (and is missed)."""
    return committed if planned_on <= resolve_due else resolve_due


# --- Which step a ticket waits on, and whether it is late ----------------------


@dataclass(frozen=True)
class NextStep:
    step: str
    due: datetime.date | None
    overdue: bool


def _unfinished(ticket) -> list[tuple[str, datetime.date | None]]:
    if ticket.status == TicketStatus.PENDING:
        return [(Step.ASSIGN, ticket.assign_due), (Step.RESOLVE, ticket.resolve_due)]
    if ticket.status in WITH_UNIT_STATUSES:
        steps = [(Step.RESOLVE, ticket.resolve_due)]
        if ticket.first_reply_at is None:
            steps.insert(0, (Step.REPORT, ticket.report_due))
        return steps
    if ticket.status == TicketStatus.UNDER_REVIEW:
        return [(Step.REVIEW, ticket.review_due)]
    if ticket.status == TicketStatus.RESOLVED:
        return [(Step.RATE, None)]
    return []


def next_step(ticket, today: datetime.date) -> NextStep | None:
    """The step the ticket waits on (the earliest due) and whether any unfinished step is late.

    Agrees with ``overdue_q``, which says the same in SQL.
    """
    steps = _unfinished(ticket)
    if not steps:
        return None
    dated = [(step, due) for step, due in steps if due is not None]
    step, due = min(dated, key=lambda pair: pair[1]) if dated else steps[0]
    return NextStep(step=step, due=due, overdue=any(due < today for _step, due in dated))


def overdue_q(today: datetime.date, prefix: str = ""):
    """Tickets with an unfinished step whose last day is before ``today``, as a filter."""

    def q(**lookups):
        return Q(**{f"{prefix}{name}": value for name, value in lookups.items()})

    return (
        q(status=TicketStatus.PENDING, assign_due__lt=today)
        | q(status=TicketStatus.PENDING, resolve_due__lt=today)
        | q(status__in=WITH_UNIT_STATUSES, first_reply_at__isnull=True, report_due__lt=today)
        | q(status__in=WITH_UNIT_STATUSES, resolve_due__lt=today)
        | q(status=TicketStatus.UNDER_REVIEW, review_due__lt=today)
    )


@dataclass(frozen=True)
class ClockLine:
    """One step of the clock as the ticket page shows it.

    ``days`` is counted as the due dates are (calendar or working days, ``days_between``): for a
    step still waiting, the days left until its last day (0: due today); for one overdue, the days
    past it; for one done late, how many days late. Only a step due today has 0 days left; any
    other count is at least 1, even when only days off lie between.
    """

    step: str
    due: datetime.date | None
    done_at: datetime.datetime | None
    state: str  # "done", "late" (done after its day), "overdue", "waiting" or "" (not started)
    days: int | None = None


def _days_late(due: datetime.date, day: datetime.date) -> int:
    return max(1, days_between(due, day))


def clock_lines(ticket, today: datetime.date) -> list[ClockLine]:
    """Every "13710" step with its last day, when it was done and whether on time, in the order
    of their last days (steps not started yet, without one, last)."""
    unfinished = {step for step, _due in _unfinished(ticket)}
    lines = []
    for step, due, done_at in (
        (Step.ASSIGN, ticket.assign_due, ticket.assigned_at),
        (Step.REPORT, ticket.report_due, ticket.first_reply_at),
        (Step.RESOLVE, ticket.resolve_due, ticket.resolved_at),
        (Step.REVIEW, ticket.review_due, ticket.closed_at),
    ):
        days = None
        if step in unfinished:
            done_at = None
            if due is not None and due < today:
                state, days = "overdue", _days_late(due, today)
            else:
                state = "waiting"
                if due is not None:
                    days = 0 if due == today else max(1, days_between(today, due))
        elif done_at is not None:
            done_on = timezone.localdate(done_at)
            if due is not None and done_on > due:
                state, days = "late", _days_late(due, done_on)
            else:
                state = "done"
        else:
            state = ""
        lines.append(ClockLine(step=step, due=due, done_at=done_at, state=state, days=days))
    # sorted() is stable: steps due the same day keep the order they are taken in.
    return sorted(lines, key=lambda line: (line.due is None, line.due or datetime.date.min))


@dataclass(frozen=True)
class Legend:
    """The clock's rules in one line: the day counts and how days are counted."""

    assign: int
    report: int
    resolve: int
    major_months: int
    review: int
    working_days: bool


def legend() -> Legend:
    return Legend(
        assign=day_count("assign"),
        report=day_count("report"),
        resolve=day_count("resolve"),
        major_months=day_count("major_months"),
        review=day_count("review"),
        working_days=counting() == WORKING,
    )
