"""The problem tickets' transitions in one table: for each action, the statuses it starts from, the
status it leads to, who may take it, what must be given and the guard it must pass.

``services`` checks every action against its row (in ``services._check``, on the locked ticket) and
moves the ticket to the row's status; ``allowed_actions``, the ticket page's forms and the API's
steps read the same row. tests/problems/test_transition_table.py walks the whole table against the
services and checks the diagram in docs/architecture.md against it.

A table rather than django-fsm-2 or viewflow.fsm: six of the fifteen actions leave the status as
it is and one picks it by a rule (a rating of 不满意 reopens the ticket), each row refuses with its
own message, and every step also locks the row, compares versions and writes the timeline in the
same transaction, which the libraries leave to us; they would add model methods and a field type
(a migration) for the status checks alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from enterprises import permissions as enterprise_permissions
from problems import permissions
from problems.choices import LEVEL_ORDER, OPEN_STATUSES, WITH_UNIT_STATUSES, Satisfaction, TicketStatus
from problems.models import ProblemTicket


@dataclass(frozen=True)
class Actor:
    """Who may take an action: the check, the refusal's message, and who that is in the diagram."""

    test: Callable[[Any, ProblemTicket], bool]
    message: Any
    who: str


@dataclass(frozen=True)
class Given:
    """An input an action cannot do without: the service's argument, the field its error names.

    Text is stripped and must not be empty; with ``choices``, the value must be one of them;
    otherwise it must be given (not None, not empty)."""

    argument: str
    field: str
    message: Any
    choices: tuple[str, ...] = ()
    text: bool = True

    def clean(self, value: Any) -> Any:
        if self.text:
            value = (value or "").strip()
        missing = value not in self.choices if self.choices else not value
        if missing:
            raise ValidationError({self.field: self.message})
        return value


@dataclass(frozen=True)
class Guard:
    """A condition on the ticket beyond its status; the action is not offered while it fails."""

    test: Callable[[ProblemTicket], bool]
    message: Any
    code: str
    when: str


@dataclass(frozen=True)
class Branch:
    """The status an action leads to instead of its row's, and when."""

    when: str
    to: str


@dataclass(frozen=True)
class Transition:
    """One row: ``to`` None leaves the status as it is."""

    label: Any
    allowed_from: tuple[str, ...]
    to: str | None
    actor: Actor
    given: tuple[Given, ...] = ()
    guard: Guard | None = None
    branch: Branch | None = None


ONLY_OFFICE = gettext_lazy("Only the supervision office may do this.")
ONLY_UNIT = gettext_lazy("Only the unit this problem is assigned to may do this.")
OFFICE = Actor(
    lambda user, ticket: enterprise_permissions.is_office(user), ONLY_OFFICE, "the supervision office"
)
UNIT = Actor(permissions.is_unit_of, ONLY_UNIT, "the assigned unit")
RATERS = Actor(
    permissions.can_follow_up,
    gettext_lazy("Only zone staff and the supervision office record ratings."),
    "zone staff, the office",
)
REASSIGNERS = Actor(
    lambda user, ticket: permissions.can_reassign(user),
    gettext_lazy("Only the supervision office and leaders reassign problems."),
    "the office, leaders",
)
READERS = Actor(
    permissions.can_read_ticket, gettext_lazy("You cannot open this problem."), "whoever may open it"
)
FILERS = Actor(
    lambda user, ticket: permissions.can_follow_up(user, ticket) or permissions.is_unit_of(user, ticket),
    gettext_lazy("Only zone staff, the office and the assigned unit add files."),
    "zone staff, the office, the assigned unit",
)
EDITORS = Actor(
    permissions.can_edit_details,
    gettext_lazy("Only the office, or the collector before assignment, changes a problem's details."),
    "the office; its collector while pending",
)

UNIT_GIVEN = Given("unit", "unit", gettext_lazy("Choose the responsible unit."), text=False)

ALL = tuple(TicketStatus.values)
WITH_UNIT = tuple(WITH_UNIT_STATUSES)
OPEN = tuple(OPEN_STATUSES)

TRANSITIONS: dict[str, Transition] = {
    "assign": Transition(
        gettext_lazy("Assign"), (TicketStatus.PENDING,), TicketStatus.ASSIGNED, OFFICE, (UNIT_GIVEN,)
    ),
    "accept": Transition(gettext_lazy("Accept"), (TicketStatus.ASSIGNED,), TicketStatus.IN_PROGRESS, UNIT),
    "decline": Transition(
        gettext_lazy("Send back as not ours"),
        WITH_UNIT,
        TicketStatus.PENDING,
        UNIT,
        (Given("reason", "text", gettext_lazy("Say why this problem is not your unit's.")),),
    ),
    # The first report also accepts an assigned problem.
    "reply": Transition(
        gettext_lazy("Report progress"),
        WITH_UNIT,
        TicketStatus.IN_PROGRESS,
        UNIT,
        (Given("text", "text", gettext_lazy("Describe the measures taken and the progress.")),),
    ),
    "plan": Transition(
        gettext_lazy("Record a plan and committed date"),
        WITH_UNIT,
        None,
        UNIT,
        (
            Given("plan", "plan", gettext_lazy("Describe the plan and its timeline.")),
            Given(
                "committed_date",
                "committed_date",
                gettext_lazy("Give the date the unit commits to."),
                text=False,
            ),
        ),
        guard=Guard(
            lambda ticket: ticket.is_major,
            gettext_lazy("Only a major or complex problem gets a plan with its own date."),
            "status",
            "major problems only",
        ),
    ),
    "resolve": Transition(
        gettext_lazy("Submit the resolution"),
        WITH_UNIT,
        TicketStatus.UNDER_REVIEW,
        UNIT,
        (Given("resolution", "resolution", gettext_lazy("Write how the problem was resolved.")),),
    ),
    "close": Transition(
        gettext_lazy("Approve the closure"), (TicketStatus.UNDER_REVIEW,), TicketStatus.RESOLVED, OFFICE
    ),
    "send_back": Transition(
        gettext_lazy("Send the resolution back"),
        (TicketStatus.UNDER_REVIEW,),
        TicketStatus.IN_PROGRESS,
        OFFICE,
        (Given("reason", "text", gettext_lazy("Say what is missing from the resolution.")),),
    ),
    "grade": Transition(
        gettext_lazy("Grade the closure"),
        (TicketStatus.RESOLVED, TicketStatus.RATED),
        None,
        OFFICE,
        (Given("grade", "grade", gettext_lazy("Choose a grade."), text=False),),
    ),
    "rate": Transition(
        gettext_lazy("Record the enterprise's rating"),
        (TicketStatus.RESOLVED,),
        TicketStatus.RATED,
        RATERS,
        (
            Given(
                "satisfaction",
                "satisfaction",
                gettext_lazy("Choose how satisfied the enterprise is."),
                choices=tuple(Satisfaction.values),
                text=False,
            ),
        ),
        branch=Branch("unsatisfied (reopened on a fresh 13710 clock)", TicketStatus.IN_PROGRESS),
    ),
    # Moves the level (zone, city, province), not the status.
    "escalate": Transition(
        gettext_lazy("Escalate"),
        OPEN,
        None,
        OFFICE,
        (Given("reason", "text", gettext_lazy("Say why the zone cannot solve it.")),),
        guard=Guard(
            lambda ticket: ticket.level != LEVEL_ORDER[-1],
            gettext_lazy("The problem is already at the province; it cannot go higher."),
            "level",
            "not yet at the province (it moves the level up)",
        ),
    ),
    "reassign": Transition(
        gettext_lazy("Reassign"),
        (TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.UNDER_REVIEW),
        TicketStatus.ASSIGNED,
        REASSIGNERS,
        (UNIT_GIVEN,),
    ),
    "comment": Transition(
        gettext_lazy("Comment"),
        ALL,
        None,
        READERS,
        (Given("text", "text", gettext_lazy("Write the comment.")),),
    ),
    "attach": Transition(gettext_lazy("Add a file"), ALL, None, FILERS),
    "edit": Transition(gettext_lazy("Edit details"), OPEN, None, EDITORS),
}


def allowed(rule: Transition, user: Any, ticket: ProblemTicket) -> bool:
    """The row lets ``user`` take its action on ``ticket`` now: status, guard and actor."""
    return (
        ticket.status in rule.allowed_from
        and (rule.guard is None or rule.guard.test(ticket))
        and rule.actor.test(user, ticket)
    )
