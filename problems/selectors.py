"""Reads of visits and tickets that more than one page needs."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import BooleanField, Case, Count, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core import changelog
from core.roles import Role, has_role
from enterprises import permissions as enterprise_permissions
from enterprises.models import Enterprise, EnterpriseYearlyFigure
from problems import permissions
from problems.choices import OPEN_STATUSES, TicketStatus
from problems.deadlines import overdue_q
from problems.models import ProblemTicket, TicketEvent, Visit
from reference.models import Leader

TICKET_ROW_RELATED = [
    "enterprise",
    "enterprise__park",
    "project",
    "unit",
    "handler",
    "responsible_leader",
    "created_by",
]


def with_overdue(tickets: QuerySet, today: datetime.date | None = None) -> QuerySet:
    """Adds ``is_overdue``: an unfinished step is past its last day."""
    today = today or timezone.localdate()
    return tickets.annotate(
        is_overdue=Case(
            When(overdue_q(today), then=Value(True)), default=Value(False), output_field=BooleanField()
        )
    )


def ticket_rows(tickets: QuerySet, today: datetime.date | None = None) -> QuerySet:
    """Tickets as lists show them: related names and the overdue flag."""
    return with_overdue(tickets.select_related(*TICKET_ROW_RELATED), today)


def ticket_timeline(ticket: ProblemTicket) -> QuerySet:
    return TicketEvent.objects.filter(ticket=ticket).select_related("actor", "unit").order_by("at", "pk")


def my_tickets_q(user) -> Q:
    """A unit handler's: their unit's. Staff's: collected by them or for enterprises they liaise with."""
    condition = Q(pk__in=[])
    if has_role(user, Role.UNIT) and user.department_id:
        condition |= Q(unit_id=user.department_id)
    if has_role(user, Role.STAFF, Role.SUPERVISOR, Role.ADMIN):
        # By the user's leader ids (none or one), read first: ORed with a join or a subquery, the
        # enterprises could only be read whole; ORed with a list, both indexes serve.
        liaison = Q(liaison_leader__in=list(Leader.objects.filter(user=user).values_list("pk", flat=True)))
        if user.department_id:
            liaison |= Q(liaison_unit_id=user.department_id)
        # The enterprises as a subquery, not joins: ORed across a join, PostgreSQL joined every
        # ticket of the status to all 100,000 enterprises of the province data (0.2–0.5 s a list).
        condition |= Q(created_by=user) | Q(enterprise__in=Enterprise.objects.filter(liaison).values("pk"))
    if has_role(user, Role.LEADER):
        condition |= Q(responsible_leader__user=user)
    return condition


def enterprise_rows(enterprises: QuerySet, today: datetime.date | None = None) -> QuerySet:
    """Enterprises with their counts of open and overdue tickets and of visits."""
    today = today or timezone.localdate()
    tickets = ProblemTicket.objects.filter(enterprise=OuterRef("pk")).order_by()

    def counted(rows):
        # A correlated count, not a join grouped over every enterprise: a page of the list sorted
        # by name reads the first rows by the name index and counts only theirs.
        return Coalesce(Subquery(rows.values("enterprise").annotate(n=Count("pk")).values("n")), 0)

    return enterprises.select_related("park", "industry", "liaison_leader", "liaison_unit").annotate(
        open_problems=counted(tickets.filter(status__in=OPEN_STATUSES)),
        problem_total=counted(tickets),
        has_overdue=Exists(tickets.filter(overdue_q(today))),
    )


def enterprise_visits(enterprise: Enterprise) -> QuerySet:
    return (
        Visit.objects.filter(enterprise=enterprise)
        .select_related("unit", "created_by")
        .prefetch_related("visitors")
        .annotate(problem_count=Count("problems"))
        .order_by("-visited_on", "-pk")
    )


@dataclass
class HomeSection:
    """A ticket list on a user's home page. ``task``: it waits on the user now (shown first)."""

    key: str
    title: str
    tickets: QuerySet
    count: int
    task: bool


def waiting_count(user) -> int:
    """How many problems wait on the user now: the home page's task lists, counted for the menu."""
    return sum(section.count for section in home_sections(user, limit=0) if section.task)


def home_sections(user, *, limit: int) -> list[HomeSection]:
    """The ticket lists a user's home page shows, the ones waiting on the user first."""
    sections = []
    readable = permissions.readable_tickets(user)

    def add(key, title, tickets, *, task):
        tickets = ticket_rows(tickets).order_by("resolve_due", "pk")
        sections.append(HomeSection(key, title, tickets[:limit], tickets.count(), task))

    if has_role(user, Role.UNIT) and user.department_id:
        add(
            "unit",
            _("Problems with my unit"),
            readable.filter(unit_id=user.department_id, status__in=[*OPEN_STATUSES]),
            task=True,
        )
    if enterprise_permissions.is_office(user):
        add("to_assign", _("Problems to assign"), readable.filter(status=TicketStatus.PENDING), task=True)
        add(
            "to_review",
            _("Resolutions to review"),
            readable.filter(status=TicketStatus.UNDER_REVIEW),
            task=True,
        )
    elif has_role(user, Role.STAFF):
        # Resolved problems wait for the enterprise's rating, which staff record: a task, and not
        # "still open".
        add(
            "to_rate",
            _("Resolved: record the enterprise's rating"),
            readable.filter(my_tickets_q(user), status=TicketStatus.RESOLVED),
            task=True,
        )
        add(
            "mine",
            _("My problems still open"),
            readable.filter(my_tickets_q(user), status__in=[*OPEN_STATUSES]),
            task=False,
        )
    return sections


def enterprise_history_rows(enterprise_id: int, *, with_visits: bool) -> list:
    """An enterprise's change history with its yearly figures and, for those who may read visit
    records (not responsible units), its visits."""
    rows = [
        changelog.rows_of(Enterprise, id=enterprise_id),
        changelog.rows_of(EnterpriseYearlyFigure, enterprise_id=enterprise_id),
    ]
    if with_visits:
        rows.append(changelog.rows_of(Visit, enterprise_id=enterprise_id))
    return rows


def ticket_history_rows(ticket_id: int) -> list:
    return [changelog.rows_of(ProblemTicket, id=ticket_id)]
