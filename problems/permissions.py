"""Who may read and act on visits and problem tickets. Pages, services and the admin ask here.

* The 万人助万企 office — administrators and the 督办 (supervision) group —
  reads everything, assigns tickets, reviews resolutions, escalates.
* Leaders read everything, comment and reassign.
* Project staff and reviewers read everything; staff collect problems (visits,
  tickets), follow them up and record the enterprise's rating.
* A responsible unit's handlers read and act only on tickets assigned to their unit.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from core.permissions import allowed, restrict, rule
from core.roles import Role, has_role, is_admin
from enterprises.permissions import has_zone_wide_read, is_office
from problems.choices import TicketStatus
from problems.models import ProblemTicket


@rule("ticket.handle", ProblemTicket)
def handle_scope(user) -> Q | None:
    """The tickets a user handles for their unit (administrators may stand in for any unit)."""
    if is_admin(user):
        return Q()
    if has_role(user, Role.UNIT) and user.department_id:
        return Q(unit_id=user.department_id)
    return None


@rule("ticket.read", ProblemTicket)
def read_scope(user) -> Q | None:
    """The tickets a user may read, as a filter; None when none: zone-wide readers every ticket, a
    unit's handlers those they handle."""
    return Q() if has_zone_wide_read(user) else handle_scope(user)


def readable_tickets(user, tickets: QuerySet | None = None) -> QuerySet:
    return restrict(user, "ticket.read", tickets)


def can_read_ticket(user, ticket: ProblemTicket) -> bool:
    return allowed(user, "ticket.read", ticket)


def is_unit_of(user, ticket: ProblemTicket) -> bool:
    """The user handles tickets for the unit this ticket is assigned to (administrators may stand in)."""
    return allowed(user, "ticket.handle", ticket)


def can_collect(user) -> bool:
    """Record visits and create tickets."""
    return has_role(user, Role.ADMIN, Role.SUPERVISOR, Role.STAFF)


def can_follow_up(user, ticket: ProblemTicket) -> bool:
    """Record the enterprise's rating and add files: staff and the office."""
    return can_collect(user)


def can_reassign(user) -> bool:
    return is_office(user) or has_role(user, Role.LEADER)


def can_edit_details(user, ticket: ProblemTicket) -> bool:
    """The office corrects a ticket's details while it is open; its collector, until it is assigned."""
    if ticket.status not in (
        TicketStatus.PENDING,
        TicketStatus.ASSIGNED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.UNDER_REVIEW,
    ):
        return False
    if is_office(user):
        return True
    return ticket.status == TicketStatus.PENDING and ticket.created_by_id == user.pk and can_collect(user)


def ensure_can_read_ticket(user, ticket: ProblemTicket) -> None:
    if not can_read_ticket(user, ticket):
        raise PermissionDenied(_("This problem is assigned to another unit; you cannot open it."))


def ensure_can_collect(user) -> None:
    if not can_collect(user):
        raise PermissionDenied(_("Only zone staff and the supervision office record visits and problems."))


def ensure_can_read_visits(user) -> None:
    if not has_zone_wide_read(user):
        raise PermissionDenied(_("Visit records are for zone staff, leaders and the supervision office."))


def ensure_can_read_tickets(user) -> None:
    """Some tickets to read: zone-wide readers, or a unit's handler who belongs to a unit."""
    if read_scope(user) is None:
        raise PermissionDenied(_("You have no role in this portal yet: ask an administrator."))
