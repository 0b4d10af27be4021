from django.db import models
from django.utils.translation import gettext_lazy as _


class ProblemSource(models.TextChoices):
    VISIT = "visit", _("Enterprise visit")
    HOTLINE = "hotline", _("Hotline")
    MEETING = "meeting", _("Meeting")
    SELF_REPORTED = "self_reported", _("Reported by the enterprise")
    OTHER = "other", _("Other")


class ProblemCategory(models.TextChoices):
    FINANCING = "financing", _("Financing")
    LABOUR = "labour", _("Labour")
    LAND = "land", _("Land")
    APPROVALS = "approvals", _("Approvals")
    UTILITIES = "utilities", _("Utilities (water, power, gas)")
    INFRASTRUCTURE = "infrastructure", _("Roads and infrastructure")
    POLICY = "policy", _("Policy payments")
    MARKET = "market", _("Market")
    LEGACY = "legacy", _("Legacy issue")
    OTHER = "other", _("Other")


class Fence(models.TextChoices):
    """围墙内的事企业主办、围墙外的事政府全办."""

    INSIDE = "inside", _("Inside the fence")
    OUTSIDE = "outside", _("Outside the fence")


class ProblemLevel(models.TextChoices):
    """Where the problem is being solved; escalation moves it up this list."""

    ZONE = "zone", _("Zone level")
    CITY = "city", _("City level")
    PROVINCE = "province", _("Province level")


LEVEL_ORDER = [ProblemLevel.ZONE, ProblemLevel.CITY, ProblemLevel.PROVINCE]


class TicketStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting assignment")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    UNDER_REVIEW = "under_review", _("Resolution under review")
    RESOLVED = "resolved", _("Resolved")
    RATED = "rated", _("Rated")


OPEN_STATUSES = [
    TicketStatus.PENDING,
    TicketStatus.ASSIGNED,
    TicketStatus.IN_PROGRESS,
    TicketStatus.UNDER_REVIEW,
]
WITH_UNIT_STATUSES = [TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS]
CLOSED_STATUSES = [TicketStatus.RESOLVED, TicketStatus.RATED]


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY = "basically", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


SATISFIED_VALUES = [Satisfaction.SATISFIED, Satisfaction.BASICALLY]


class ClosureGrade(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent")
    GOOD = "good", _("Good")
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")


class EventKind(models.TextChoices):
    """What happened on a ticket; the timeline lists these."""

    CREATED = "created", _("Collected")
    ASSIGNED = "assigned", _("Assigned")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Sent back as not ours")
    REPLIED = "replied", _("Progress reported")
    PLANNED = "planned", _("Plan and committed date recorded")
    ESCALATED = "escalated", _("Escalated")
    RESOLVED = "resolved", _("Resolution submitted")
    CLOSED = "closed", _("Closure approved")
    SENT_BACK = "sent_back", _("Resolution sent back")
    GRADED = "graded", _("Closure graded")
    RATED = "rated", _("Rated by the enterprise")
    REOPENED = "reopened", _("Reopened")
    REASSIGNED = "reassigned", _("Reassigned")
    COMMENTED = "commented", _("Comment")
    ATTACHED = "attached", _("Attachment added")
    EDITED = "edited", _("Details changed")


class Step(models.TextChoices):
    """The "13710" steps a ticket waits on."""

    ASSIGN = "assign", _("Assign to a unit")
    REPORT = "report", _("First progress report")
    RESOLVE = "resolve", _("Resolve")
    REVIEW = "review", _("Review the resolution")
    RATE = "rate", _("Enterprise's rating")


class ProblemJobKind(models.TextChoices):
    """The background job this app registers (apps.py)."""

    TICKET_LEDGER_EXPORT = "ticket_ledger_export", _("problem ledger export")
