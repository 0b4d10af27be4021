"""Writes to enterprises, visits and problem tickets. Pages, the admin, the API and importers call these.

Every ticket transition goes through ``_begin``: the row is locked, checked against its row of
the ``TRANSITIONS`` table (problems/transitions.py: from which statuses, who, what must be given),
moved to the row's status, and the event is appended to the timeline in the same transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import history
from core.locking import StaleVersion, apply_changes, check_fields, copy_state, lock_current, stamp
from problems import deadlines, permissions
from problems.choices import LEVEL_ORDER, EventKind, ProblemLevel, ProblemSource, Satisfaction
from problems.models import ProblemTicket, TicketAttachment, TicketEvent, Visit
from problems.transitions import ONLY_OFFICE, ONLY_UNIT, TRANSITIONS, allowed

if TYPE_CHECKING:
    from django.db.models import Field

    from enterprises.models import Enterprise
    from projects.models import Project
    from reference.models import Department, Leader

__all__ = ["ONLY_OFFICE", "ONLY_UNIT", "TRANSITIONS", "StaleVersion"]


# --- The transition table (problems/transitions.py) --------------------------------------


def allowed_actions(user, ticket: ProblemTicket) -> list[str]:
    """The actions ``user`` may take on ``ticket`` right now, in the table's order."""
    return [name for name, rule in TRANSITIONS.items() if allowed(rule, user, ticket)]


def ensure_actor(action: str, user, ticket: ProblemTicket) -> None:
    """The "who" half of an action's check: callers that check before reading their input (the
    API) ask this first; the service asks again, with the status, on the locked row."""
    rule = TRANSITIONS[action]
    if not permissions.can_read_ticket(user, ticket):
        raise PermissionDenied(_("This problem is assigned to another unit; you cannot act on it."))
    if not rule.actor.test(user, ticket):
        raise PermissionDenied(str(rule.actor.message))


def _check(
    action: str, user, ticket: ProblemTicket, at: datetime.datetime | None = None, **inputs
) -> tuple[datetime.datetime, dict[str, Any]]:
    """Check ``action`` against its row, in this order: who, from which status, when (``at``), the
    row's guard, what must be given. Hands back the moment and the inputs, the given ones cleaned
    (texts stripped).

    ``at`` records something that happened earlier (an import, a paper ledger);
    it cannot be in the future nor before the problem was collected.
    """
    rule = TRANSITIONS[action]
    ensure_actor(action, user, ticket)
    if ticket.status not in rule.allowed_from:
        raise ValidationError(
            _("“%(action)s” is not possible while the problem is “%(status)s”.")
            % {"action": rule.label, "status": ticket.get_status_display()},
            code="status",
        )
    now = timezone.now()
    if at is not None and at > now:
        raise ValidationError({"at": _("This cannot be recorded as happening in the future.")})
    if at is not None and at < ticket.collected_at:
        raise ValidationError({"at": _("This cannot have happened before the problem was collected.")})
    if rule.guard is not None and not rule.guard.test(ticket):
        raise ValidationError(str(rule.guard.message), code=rule.guard.code)
    given = {need.argument: need.clean(inputs[need.argument]) for need in rule.given}
    return at or now, {**inputs, **given}


def _begin(
    action: str, ticket: ProblemTicket, user, expected_version: int | None, at=None, **inputs
) -> tuple[ProblemTicket, datetime.datetime, dict[str, Any]]:
    """Lock the ticket and ``_check`` the action on the locked row; hand back the row, the moment
    and the inputs."""
    locked = lock_current(ProblemTicket, ticket.pk, expected_version)
    return locked, *_check(action, user, locked, at, **inputs)


def _event(ticket: ProblemTicket, user, kind: str, *, at=None, **fields) -> TicketEvent:
    event = TicketEvent(ticket=ticket, actor=user, kind=kind, at=at or timezone.now(), **fields)
    event.save()
    return event


def _save(locked: ProblemTicket, user, fields: list[str], original: ProblemTicket | None = None, reason=""):
    locked.full_clean()
    locked.version += 1
    stamp(locked, user, reason[:100])
    locked.save(update_fields=[*fields, "version", "updated_at"])
    if original is not None:
        copy_state(locked, original)
    return original or locked


def _move(locked: ProblemTicket, user, kind: str, to_status: str, *, text="", **event_fields) -> TicketEvent:
    """Move the ticket to ``to_status`` (its row's, or the row's branch) and say so on the timeline."""
    from_status = locked.status
    locked.status = to_status
    return _event(locked, user, kind, text=text, from_status=from_status, to_status=to_status, **event_fields)


def _to(action: str, *, branch: bool = False) -> str:
    """The status ``action``'s row leads to (its branch's, with ``branch``)."""
    rule = TRANSITIONS[action]
    to = rule.branch.to if branch and rule.branch is not None else rule.to
    if to is None:
        raise LookupError(f"{action} leaves the status as it is")
    return to


def _local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localdate(moment)


# --- Creating tickets and visits ---------------------------------------------------


class TicketData(TypedDict, total=False):
    """A ticket's details, as recorded or corrected."""

    enterprise: Enterprise
    project: Project | None
    source: str
    category: str
    title: str
    description: str
    fence: str
    is_major: bool
    responsible_leader: Leader | None


TICKET_FIELDS = tuple(TicketData.__annotations__)
# The enterprise is fixed once collected; the rest may be corrected.
EDITABLE_FIELDS = tuple(name for name in TICKET_FIELDS if name != "enterprise")


def validate_project(enterprise_id, project) -> None:
    """A ticket's project must be one of its enterprise's."""
    if project is not None and enterprise_id and project.enterprise_id != enterprise_id:
        raise ValidationError({"project": _("This project is not the enterprise's.")})


def _set_clock(ticket: ProblemTicket) -> None:
    collected_on = _local_day(ticket.collected_at)
    dues = deadlines.dues_from(collected_on, major=ticket.is_major)
    ticket.assign_due, ticket.report_due, ticket.resolve_due = dues.assign, dues.report, dues.resolve
    ticket.resolve_clock_from = collected_on


@transaction.atomic
def ticket_create(
    *,
    user,
    data: TicketData,
    visit: Visit | None = None,
    collected_at: datetime.datetime | None = None,
) -> ProblemTicket:
    """Record a problem; its "13710" clock starts when it was collected."""
    permissions.ensure_can_collect(user)
    check_fields(data, TICKET_FIELDS)
    now = timezone.now()
    if collected_at is None:
        collected_at = now if visit is None else _visit_moment(visit, now)
    if collected_at > now:
        raise ValidationError({"collected_at": _("A problem cannot be collected in the future.")})
    ticket = ProblemTicket(**data, visit=visit, collected_at=collected_at, created_by=user)
    if visit is not None:
        ticket.enterprise = visit.enterprise
        ticket.source = ProblemSource.VISIT
    ticket.title = (ticket.title or "").strip()
    _set_clock(ticket)
    validate_project(ticket.enterprise_id, ticket.project)
    ticket.full_clean()
    stamp(ticket, user)
    ticket.save()
    _event(ticket, user, EventKind.CREATED, to_status=ticket.status, to_level=ticket.level, at=collected_at)
    return ticket


def _visit_moment(visit: Visit, now: datetime.datetime) -> datetime.datetime:
    """Problems from a visit count from the visit's day (now, if it is today)."""
    if visit.visited_on >= timezone.localdate(now):
        return now
    return timezone.make_aware(datetime.datetime.combine(visit.visited_on, datetime.time(12, 0)))


class ProblemRowErrors(Exception):
    """Some of a visit's problems were refused; nothing was saved. Maps row index to its error."""

    def __init__(self, errors: dict[int, ValidationError]):
        super().__init__(errors)
        self.errors = errors


class VisitData(TypedDict, total=False):
    """A visit's own details; its visitors and problems come apart."""

    enterprise: Enterprise
    visited_on: datetime.date
    unit: Department | None
    notes: str


VISIT_FIELDS = tuple(VisitData.__annotations__)


@transaction.atomic
@history.recording(batch=True)
def visit_create(*, user, data: VisitData, visitors=(), problems: Sequence[TicketData] = ()) -> Visit:
    """Record a visit and every problem collected on it: all of them, or nothing."""
    permissions.ensure_can_collect(user)
    check_fields(data, VISIT_FIELDS)
    visit = Visit(**data, created_by=user)
    if visit.visited_on and visit.visited_on > timezone.localdate():
        raise ValidationError({"visited_on": _("A visit cannot be dated in the future.")})
    visit.full_clean()
    stamp(visit, user)
    history.save_with_links(visit, {"visitors": visitors})
    errors = {}
    for index, problem in enumerate(problems):
        try:
            with transaction.atomic():
                ticket_create(user=user, data={**problem, "enterprise": visit.enterprise}, visit=visit)
        except ValidationError as error:
            errors[index] = error
    if errors:
        raise ProblemRowErrors(errors)
    return visit


@transaction.atomic
def ticket_update(
    *, ticket: ProblemTicket, user, data: TicketData, expected_version: int | None = None, at=None
) -> ProblemTicket:
    """Correct a ticket's details; marking it major or not moves its resolution deadline."""

    def details_rule(locked: ProblemTicket, changed: list[str]) -> list[str]:
        validate_project(locked.enterprise_id, locked.project)
        labels = ", ".join(
            str(cast("Field[Any, Any]", ProblemTicket._meta.get_field(name)).verbose_name) for name in changed
        )
        _event(locked, user, EventKind.EDITED, text=labels, at=at)
        if "is_major" in changed and not locked.committed_date:
            locked.resolve_due = deadlines.resolve_due(locked.resolve_clock_from, major=locked.is_major)
            return ["resolve_due"]
        return []

    apply_changes(
        ticket,
        data,
        user=user,
        expected_version=expected_version,
        allowed=EDITABLE_FIELDS,
        check=lambda locked: _check("edit", user, locked, at),
        rule=details_rule,
    )
    return ticket


# --- The unit's work -------------------------------------------------------------------


@transaction.atomic
def ticket_assign(
    *,
    ticket: ProblemTicket,
    user,
    unit,
    handler=None,
    is_major: bool | None = None,
    note: str = "",
    expected_version: int | None = None,
    at: datetime.datetime | None = None,
) -> ProblemTicket:
    """The office hands the problem to a responsible unit (optionally a named handler)."""
    locked, now, _given = _begin("assign", ticket, user, expected_version, at, unit=unit)
    fields = _hand_to(locked, unit, handler)
    if is_major is not None and is_major != locked.is_major:
        locked.is_major = is_major
        if not locked.committed_date:
            locked.resolve_due = deadlines.resolve_due(locked.resolve_clock_from, major=is_major)
        fields += ["is_major", "resolve_due"]
    locked.assigned_at = now
    _move(locked, user, EventKind.ASSIGNED, _to("assign"), text=(note or "").strip(), unit=unit, at=now)
    return _save(locked, user, [*fields, "status", "assigned_at"], ticket)


def _hand_to(locked: ProblemTicket, unit, handler) -> list[str]:
    if handler is not None and handler.department_id != unit.pk:
        message = _(
            "%(handler)s is not a person of %(unit)s: choose a handler of that unit, or none and the "
            "unit decides."
        ) % {"handler": handler, "unit": unit}
        raise ValidationError({"handler": ValidationError(message, code="handler_unit")})
    locked.unit, locked.handler = unit, handler
    return ["unit", "handler"]


@transaction.atomic
def ticket_accept(
    *, ticket: ProblemTicket, user, expected_version: int | None = None, at=None
) -> ProblemTicket:
    """The unit takes the problem on."""
    locked, now, _given = _begin("accept", ticket, user, expected_version, at)
    _move(locked, user, EventKind.ACCEPTED, _to("accept"), at=now)
    if locked.handler_id is None:
        locked.handler = user
    return _save(locked, user, ["status", "handler"], ticket)


@transaction.atomic
def ticket_decline(
    *, ticket: ProblemTicket, user, reason: str, expected_version: int | None = None, at=None
) -> ProblemTicket:
    """The unit sends the problem back to the office as not its business, saying why."""
    locked, now, given = _begin("decline", ticket, user, expected_version, at, reason=reason)
    unit = locked.unit
    _move(locked, user, EventKind.DECLINED, _to("decline"), text=given["reason"], unit=unit, at=now)
    locked.unit, locked.handler, locked.assigned_at = None, None, None
    return _save(locked, user, ["status", "unit", "handler", "assigned_at"], ticket)


@transaction.atomic
def ticket_reply(
    *, ticket: ProblemTicket, user, text: str, expected_version: int | None = None, at=None
) -> ProblemTicket:
    """The unit reports the measures taken and how far it has got; the first report is the "3"."""
    locked, now, given = _begin("reply", ticket, user, expected_version, at, text=text)
    fields = []
    if locked.status != _to("reply"):
        _move(locked, user, EventKind.ACCEPTED, _to("reply"), at=now)
        fields.append("status")
    if locked.handler_id is None:
        locked.handler = user
        fields.append("handler")
    _event(locked, user, EventKind.REPLIED, text=given["text"], at=now)
    if locked.first_reply_at is None:
        locked.first_reply_at = now
        fields.append("first_reply_at")
    return _save(locked, user, fields, ticket)


@transaction.atomic
def ticket_plan(
    *,
    ticket: ProblemTicket,
    user,
    plan: str,
    committed_date: datetime.date | None,
    expected_version: int | None = None,
    at: datetime.datetime | None = None,
) -> ProblemTicket:
    """For a major problem, the unit records its plan and the date it commits to.

    Recorded within the month, that date becomes the resolution deadline; later,
    the plan is kept but the ticket stays overdue.
    """
    locked, now, given = _begin(
        "plan", ticket, user, expected_version, at, plan=plan, committed_date=committed_date
    )
    plan, committed_date = given["plan"], given["committed_date"]
    today = _local_day(now)
    if committed_date < today:
        raise ValidationError({"committed_date": _("The committed date cannot be in the past.")})
    locked.plan, locked.committed_date = plan, committed_date
    fields = ["plan", "committed_date"]
    resolve_due = deadlines.planned_resolve_due(locked.resolve_due, committed_date, today)
    if resolve_due != locked.resolve_due:
        locked.resolve_due = resolve_due
        fields.append("resolve_due")
    _event(locked, user, EventKind.PLANNED, text=plan, date=committed_date, at=now)
    return _save(locked, user, fields, ticket)


@transaction.atomic
def ticket_resolve(
    *, ticket: ProblemTicket, user, resolution: str, expected_version: int | None = None, at=None
) -> ProblemTicket:
    """The unit submits how the problem was solved; the office reviews it before closing out."""
    locked, now, given = _begin("resolve", ticket, user, expected_version, at, resolution=resolution)
    resolution = given["resolution"]
    locked.resolution = resolution
    locked.resolved_at = now
    locked.review_due = deadlines.review_due(_local_day(now))
    if locked.first_reply_at is None:
        locked.first_reply_at = now  # a resolution is also the first report
    if locked.handler_id is None:
        locked.handler = user
    _move(locked, user, EventKind.RESOLVED, _to("resolve"), text=resolution, at=now)
    return _save(
        locked,
        user,
        ["status", "resolution", "resolved_at", "review_due", "first_reply_at", "handler"],
        ticket,
    )


# --- The office's review ------------------------------------------------------------------


@transaction.atomic
def ticket_close(
    *,
    ticket: ProblemTicket,
    user,
    grade: str = "",
    comment: str = "",
    expected_version: int | None = None,
    at=None,
) -> ProblemTicket:
    """The office approves the resolution: the problem is closed out (销号), optionally graded."""
    locked, now, _given = _begin("close", ticket, user, expected_version, at)
    locked.closed_at = now
    locked.closure_grade = grade or ""
    _move(
        locked,
        user,
        EventKind.CLOSED,
        _to("close"),
        text=(comment or "").strip(),
        value=grade,
        at=now,
    )
    return _save(locked, user, ["status", "closed_at", "closure_grade"], ticket)


@transaction.atomic
def ticket_send_back(
    *, ticket: ProblemTicket, user, reason: str, expected_version: int | None = None, at=None
) -> ProblemTicket:
    """The office refuses the resolution and sends the problem back to the same unit."""
    locked, now, given = _begin("send_back", ticket, user, expected_version, at, reason=reason)
    _move(locked, user, EventKind.SENT_BACK, _to("send_back"), text=given["reason"], at=now)
    locked.resolved_at, locked.review_due = None, None
    return _save(locked, user, ["status", "resolved_at", "review_due"], ticket)


@transaction.atomic
def ticket_grade(
    *, ticket: ProblemTicket, user, grade: str, expected_version: int | None = None, at=None
) -> ProblemTicket:
    locked, now, _given = _begin("grade", ticket, user, expected_version, at, grade=grade)
    locked.closure_grade = grade
    _event(locked, user, EventKind.GRADED, value=grade, at=now)
    return _save(locked, user, ["closure_grade"], ticket)


@transaction.atomic
def ticket_rate(
    *,
    ticket: ProblemTicket,
    user,
    satisfaction: str,
    comment: str = "",
    expected_version: int | None = None,
    at: datetime.datetime | None = None,
) -> ProblemTicket:
    """Record the enterprise's rating. 不满意 reopens the problem for the same unit with a fresh clock."""
    locked, now, _given = _begin("rate", ticket, user, expected_version, at, satisfaction=satisfaction)
    comment = (comment or "").strip()
    if satisfaction != Satisfaction.UNSATISFIED:
        locked.satisfaction, locked.satisfaction_comment, locked.rated_at = satisfaction, comment, now
        _move(locked, user, EventKind.RATED, _to("rate"), text=comment, value=satisfaction, at=now)
        return _save(locked, user, ["status", "satisfaction", "satisfaction_comment", "rated_at"], ticket)
    _event(locked, user, EventKind.RATED, text=comment, value=satisfaction, at=now)
    today = _local_day(now)
    _move(
        locked,
        user,
        EventKind.REOPENED,
        _to("rate", branch=True),
        text=_("The enterprise is not satisfied: the unit works on it again."),
        unit=locked.unit,
        at=now,
    )
    locked.resolve_clock_from = today
    locked.resolve_due = deadlines.resolve_due(today, major=locked.is_major)
    locked.committed_date = None
    locked.resolution, locked.resolved_at, locked.closed_at = "", None, None
    locked.review_due, locked.closure_grade = None, ""
    locked.satisfaction, locked.satisfaction_comment, locked.rated_at = "", "", None
    fields = [
        "status",
        "resolve_clock_from",
        "resolve_due",
        "committed_date",
        "resolution",
        "resolved_at",
        "closed_at",
        "review_due",
        "closure_grade",
        "satisfaction",
        "satisfaction_comment",
        "rated_at",
    ]
    return _save(locked, user, fields, ticket)


@transaction.atomic
def ticket_escalate(
    *, ticket: ProblemTicket, user, reason: str, expected_version: int | None = None, at=None
) -> ProblemTicket:
    """The zone cannot solve it: up to the city task force, then the province; the timeline keeps the path."""
    locked, now, given = _begin("escalate", ticket, user, expected_version, at, reason=reason)
    reason = given["reason"]
    from_level = locked.level
    to_level = LEVEL_ORDER[LEVEL_ORDER.index(ProblemLevel(from_level)) + 1]
    locked.level = to_level
    _event(locked, user, EventKind.ESCALATED, text=reason, from_level=from_level, to_level=to_level, at=now)
    return _save(locked, user, ["level"], ticket, reason=reason)


@transaction.atomic
def ticket_reassign(
    *,
    ticket: ProblemTicket,
    user,
    unit,
    handler=None,
    reason: str = "",
    expected_version: int | None = None,
    at: datetime.datetime | None = None,
) -> ProblemTicket:
    """Move the problem to another unit; it starts there as assigned."""
    locked, now, _given = _begin("reassign", ticket, user, expected_version, at, unit=unit)
    if unit.pk == locked.unit_id:
        raise ValidationError({"unit": _("The problem is already with this unit.")})
    fields = _hand_to(locked, unit, handler)
    locked.assigned_at, locked.resolved_at, locked.review_due = now, None, None
    _move(
        locked,
        user,
        EventKind.REASSIGNED,
        _to("reassign"),
        text=(reason or "").strip(),
        unit=unit,
        at=now,
    )
    return _save(locked, user, [*fields, "status", "assigned_at", "resolved_at", "review_due"], ticket)


@transaction.atomic
def ticket_comment(*, ticket: ProblemTicket, user, text: str) -> TicketEvent:
    """Anyone who may read the problem may remark on it (leaders' remarks included)."""
    _moment, given = _check("comment", user, ticket, text=text)
    return _event(ticket, user, EventKind.COMMENTED, text=given["text"])


# --- Attachments ---------------------------------------------------------------------------

# Types recognised by their first bytes, never by the file name.
SIGNATURES = [
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
    (b"PK\x03\x04", "application/zip", ".zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage", ".doc"),
]
OFFICE_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
}


def sniff(head: bytes, name: str) -> tuple[str, str] | None:
    """(content type, extension) read from a file's first bytes; None for an unaccepted type."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    for signature, content_type, extension in SIGNATURES:
        if head.startswith(signature):
            # Office files are zip or OLE containers; the name only picks between their kinds.
            suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
            if extension == ".zip" and suffix in (".docx", ".xlsx", ".pptx"):
                return OFFICE_TYPES[suffix], suffix
            if extension == ".doc":
                suffix = suffix if suffix in (".doc", ".xls") else ".doc"
                return OFFICE_TYPES[suffix], suffix
            return content_type, extension
    return None


@transaction.atomic
def attachment_add(*, ticket: ProblemTicket, user, upload) -> TicketAttachment:
    """Attach a file; its type is read from the content and it is stored under a random name."""
    _check("attach", user, ticket)
    limit = settings.MAX_ATTACHMENT_BYTES
    if upload.size > limit:
        raise ValidationError(
            {
                "file": _("The file is %(size)s MB; the limit is %(limit)s MB.")
                % {"size": f"{upload.size / 1_048_576:.1f}", "limit": f"{limit / 1_048_576:.0f}"}
            }
        )
    upload.seek(0)
    kind = sniff(upload.read(16), upload.name or "")
    if kind is None:
        raise ValidationError(
            {"file": _("This type of file is not accepted: PDF, images, Word, Excel, PowerPoint or zip.")}
        )
    content_type, extension = kind
    upload.seek(0)
    name = (upload.name or "file").rsplit("/", 1)[-1][:200]
    attachment = TicketAttachment(
        ticket=ticket, name=name, content_type=content_type, size=upload.size, uploaded_by=user
    )
    attachment.file.save(f"file{extension}", File(upload), save=False)
    attachment.save()
    _event(ticket, user, EventKind.ATTACHED, text=name)
    return attachment


# The service that takes each of the table's actions, for the pages and the tests that go by name.
SERVICES: dict[str, Callable[..., Any]] = {
    "assign": ticket_assign,
    "accept": ticket_accept,
    "decline": ticket_decline,
    "reply": ticket_reply,
    "plan": ticket_plan,
    "resolve": ticket_resolve,
    "close": ticket_close,
    "send_back": ticket_send_back,
    "grade": ticket_grade,
    "rate": ticket_rate,
    "escalate": ticket_escalate,
    "reassign": ticket_reassign,
    "comment": ticket_comment,
    "attach": attachment_add,
    "edit": ticket_update,
}
