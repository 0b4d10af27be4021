"""The transition table (problems/transitions.py) walked against the services: for every action and
every status, the service refuses exactly the statuses outside the row with the row's message,
reaches the row's status, refuses a failed guard and each missing input with their messages, and
``allowed_actions`` offers the action exactly where the row allows it. The state diagram in
docs/architecture.md is rendered from the same table."""

import datetime
import re
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from core.roles import Role
from problems import permissions, services
from problems.choices import ClosureGrade, ProblemLevel, Satisfaction, TicketStatus
from problems.models import ProblemTicket, TicketEvent
from problems.transitions import TRANSITIONS, Transition
from tests.factories import DepartmentFactory, UserFactory, make_ticket

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.history_bypass("tickets are put straight into each status, behind the services"),
]

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"

# What the table cannot say: the valid value of each non-text input, the other arguments a
# service needs, and the input that takes the row's branch.
VALID = {"committed_date": datetime.timedelta(days=30), "grade": ClosureGrade.GOOD}
EXTRA = {"edit": {"data": {"title": "用地手续办理慢（更正）"}}}
BRANCH = {"rate": {"satisfaction": Satisfaction.UNSATISFIED}}
UNVERSIONED = {"comment", "attach"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world():
    unit, other_unit = DepartmentFactory(name="区自然资源局"), DepartmentFactory(name="区住建局")
    people = {
        "office": UserFactory(username="duban", roles=[Role.SUPERVISOR]),
        "handler": UserFactory(username="ziranziyuan", roles=[Role.UNIT], department=unit),
        "staff": UserFactory(username="zhuanyuan", roles=[Role.STAFF]),
        "leader": UserFactory(username="lingdao", roles=[Role.LEADER]),
        "other_handler": UserFactory(username="zhujian", roles=[Role.UNIT], department=other_unit),
    }
    return unit, other_unit, people


def ticket_in(status, world, **fields):
    """A ticket put straight into ``status``: with a unit, a resolution and a rating, so every
    status's constraints hold, major and at the zone level unless ``fields`` say otherwise."""
    unit, _other, people = world
    ticket = make_ticket(user=people["staff"])
    fields = {"is_major": True, "level": ProblemLevel.ZONE, **fields}
    ProblemTicket.objects.filter(pk=ticket.pk).update(
        status=status, unit=unit, resolution="已协调解决", satisfaction=Satisfaction.SATISFIED, **fields
    )
    return ProblemTicket.objects.get(pk=ticket.pk)


def valid_inputs(name: str, rule: Transition, world) -> dict:
    inputs = dict(EXTRA.get(name, {}))
    for need in rule.given:
        if need.text:
            inputs[need.argument] = "已按要求办理"
        elif need.choices:
            inputs[need.argument] = need.choices[0]
        elif need.argument == "unit":
            inputs[need.argument] = world[1]  # another unit than the ticket's, for reassign
        elif isinstance(VALID[need.argument], datetime.timedelta):
            inputs[need.argument] = timezone.localdate() + VALID[need.argument]
        else:
            inputs[need.argument] = VALID[need.argument]
    if name == "attach":
        inputs["upload"] = SimpleUploadedFile("照片.png", b"\x89PNG\r\n\x1a\n" + b"0" * 32)
    return inputs


def call(name: str, ticket, user, inputs: dict):
    if name not in UNVERSIONED:
        inputs = {**inputs, "expected_version": ticket.version}
    return services.SERVICES[name](ticket=ticket, user=user, **inputs)


def actor_for(rule: Transition, ticket, people):
    """The first of the people the row lets act on ``ticket``; None when nobody may."""
    for user in people.values():
        if permissions.can_read_ticket(user, ticket) and rule.actor.test(user, ticket):
            return user
    return None


def refused(name, ticket, user, inputs):
    """The error ``name`` raises; the ticket and its timeline unchanged."""
    events = TicketEvent.objects.filter(ticket=ticket).count()
    with pytest.raises((ValidationError, PermissionDenied)) as error:
        call(name, ticket, user, inputs)
    after = ProblemTicket.objects.get(pk=ticket.pk)
    assert (after.status, after.version) == (ticket.status, ticket.version)
    assert TicketEvent.objects.filter(ticket=ticket).count() == events
    return error.value


@pytest.mark.parametrize("name", list(TRANSITIONS))
@pytest.mark.parametrize("status", TicketStatus.values)
def test_each_status_is_refused_or_reaches_the_rows_status(name, status, world):
    rule = TRANSITIONS[name]
    people = world[2]
    ticket = ticket_in(status, world)
    user = actor_for(rule, ticket, people)
    offered = {
        who: name in services.allowed_actions(person, ticket)
        for who, person in people.items()
        if permissions.can_read_ticket(person, ticket)
    }

    if status not in rule.allowed_from:
        assert not any(offered.values())
        inputs = valid_inputs(name, rule, world)
        if user is None:  # the actor's own rule already looks at the status (edit)
            error = refused(name, ticket, people["office"], inputs)
            assert isinstance(error, PermissionDenied)
            assert str(error) == str(rule.actor.message)
            return
        error = refused(name, ticket, user, inputs)
        assert isinstance(error, ValidationError)
        assert (error.code, error.messages) == (
            "status",
            [
                _("“%(action)s” is not possible while the problem is “%(status)s”.")
                % {"action": rule.label, "status": TicketStatus(status).label}
            ],
        )
        return

    assert user is not None, f"nobody may {name} a {status} ticket"
    assert offered == {
        who: rule.actor.test(person, ticket) for who, person in people.items() if who in offered
    }
    for who, person in people.items():
        if who in offered and not offered[who]:
            error = refused(name, ticket, person, valid_inputs(name, rule, world))
            assert isinstance(error, PermissionDenied)
            assert str(error) == str(rule.actor.message)

    for need in rule.given:
        missing = {**valid_inputs(name, rule, world), need.argument: "  " if need.text else None}
        error = refused(name, ticket, user, missing)
        assert isinstance(error, ValidationError)
        assert error.message_dict == {need.field: [str(need.message)]}

    call(name, ticket, user, valid_inputs(name, rule, world))
    after = ProblemTicket.objects.get(pk=ticket.pk)
    assert after.status == (rule.to or status)

    if rule.branch is not None:
        ticket = ticket_in(status, world)
        call(name, ticket, user, {**valid_inputs(name, rule, world), **BRANCH[name]})
        assert ProblemTicket.objects.get(pk=ticket.pk).status == rule.branch.to


@pytest.mark.parametrize("name", [name for name, rule in TRANSITIONS.items() if rule.guard is not None])
def test_a_failed_guard_is_refused_and_not_offered(name, world):
    rule = TRANSITIONS[name]
    assert rule.guard is not None
    # The guards' opposites: a problem that is not major, a problem already at the top level.
    ticket = ticket_in(rule.allowed_from[0], world, is_major=False, level=ProblemLevel.PROVINCE)
    assert not rule.guard.test(ticket)
    user = actor_for(rule, ticket, world[2])
    assert name not in services.allowed_actions(user, ticket)

    error = refused(name, ticket, user, valid_inputs(name, rule, world))

    assert isinstance(error, ValidationError)
    assert (error.code, error.messages) == (rule.guard.code, [str(rule.guard.message)])


# --- The state diagram in docs/architecture.md ---------------------------------------------------


def diagram() -> str:
    """The table as the Markdown table docs/architecture.md shows."""
    every = set(TicketStatus.values)
    lines = [
        "| action | from | to | who | must be given | guard |",
        "|---|---|---|---|---|---|",
    ]
    for name, rule in TRANSITIONS.items():
        source = "any" if set(rule.allowed_from) == every else ", ".join(rule.allowed_from)
        target = rule.to or "unchanged"
        if rule.branch is not None:
            target += f"; {rule.branch.to} when {rule.branch.when}"
        given = ", ".join(
            need.argument + (f" (one of {', '.join(need.choices)})" if need.choices else "")
            for need in rule.given
        )
        guard = rule.guard.when if rule.guard is not None else ""
        cells = [f"`{name}`", source, target, rule.actor.who, given or "—", guard or "—"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def test_the_documented_diagram_is_the_table():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    documented = re.search(r"\| action \| from \|.*?\n(?=\n|\Z)", text, re.S)
    assert documented is not None, "docs/architecture.md has no transitions table"
    assert documented.group(0).strip() == diagram(), "docs/architecture.md should show:\n" + diagram()
