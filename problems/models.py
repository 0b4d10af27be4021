"""Enterprises of the zone, their honours and yearly figures, the visits paid to
them and the problems (问题工单) collected there."""

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.fields import optional_link, user_link
from core.history import tracked
from core.models import TimeStampedModel
from enterprises.models import Enterprise
from problems.choices import (
    ClosureGrade,
    EventKind,
    Fence,
    ProblemCategory,
    ProblemLevel,
    ProblemSource,
    Satisfaction,
    TicketStatus,
)


class Visit(TimeStampedModel):
    """A visit to an enterprise (走访) by cadres; the problems collected on it link back here."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="visits"
    )
    visited_on = models.DateField(_("date of the visit"), db_index=True)
    visitors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("visiting cadres"), blank=True, related_name="visits"
    )
    unit = optional_link("reference.Department", _("visiting unit"), related_name="visits")
    notes = models.TextField(_("notes"), blank=True)
    created_by = user_link(_("recorded by"))

    history = tracked(m2m_fields=["visitors"], excluded_fields=["created_at", "updated_at"])

    class Meta:
        db_table = "enterprises_visit"  # kept from before the app split
        ordering = ["-visited_on", "-pk"]
        verbose_name = _("enterprise visit")
        verbose_name_plural = _("enterprise visits")

    def __str__(self):
        return f"{self.enterprise} {self.visited_on:%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("enterprises:visit_detail", kwargs={"pk": self.pk})


class ProblemTicket(TimeStampedModel):
    """An enterprise's problem (问题工单) followed on the "13710" clock until closed out and rated.

    The status moves only through ``problems.services``; the due dates are
    stored when the clock is set, so "overdue" is a comparison with today.
    """

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="problems"
    )
    project = optional_link("projects.Project", _("project"), related_name="problems")
    visit = optional_link(Visit, _("visit"), related_name="problems")
    source = models.CharField(_("source"), max_length=20, choices=ProblemSource, default=ProblemSource.VISIT)
    # Contexts keep these apart from the project's "category", "level" and the enterprise's "description".
    category = models.CharField(
        pgettext_lazy("problem", "category"), max_length=20, choices=ProblemCategory, db_index=True
    )
    title = models.CharField(_("problem"), max_length=200)
    description = models.TextField(pgettext_lazy("problem", "description"), blank=True)
    fence = models.CharField(
        _("inside or outside the fence"), max_length=10, choices=Fence, default=Fence.OUTSIDE
    )
    level = models.CharField(
        pgettext_lazy("problem", "level"),
        max_length=10,
        choices=ProblemLevel,
        default=ProblemLevel.ZONE,
        db_index=True,
    )
    is_major = models.BooleanField(
        _("major or complex"),
        default=False,
        help_text=_("Major or complex problems have a month to be resolved instead of the ordinary days."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=TicketStatus, default=TicketStatus.PENDING, db_index=True
    )
    unit = optional_link("reference.Department", _("responsible unit"), related_name="problems")
    handler = user_link(_("handler"), related_name="problems_handled", on_delete=models.SET_NULL)
    responsible_leader = optional_link("reference.Leader", _("responsible leader"), related_name="problems")
    collected_at = models.DateTimeField(_("collected at"), db_index=True)
    created_by = user_link(_("collected by"), related_name="problems_collected")
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    first_reply_at = models.DateTimeField(_("first progress report at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolution submitted at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed out at"), null=True, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    # The "13710" due dates (the last day allowed), set by the services.
    assign_due = models.DateField(_("assign by"))
    report_due = models.DateField(_("first report by"))
    resolve_due = models.DateField(_("resolve by"), db_index=True)
    review_due = models.DateField(_("review by"), null=True, blank=True)
    resolve_clock_from = models.DateField(
        _("resolution clock started on"),
        help_text=_("The day the problem was collected, or the day it was reopened."),
    )
    plan = models.TextField(_("plan"), blank=True)
    committed_date = models.DateField(_("committed resolution date"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    closure_grade = models.CharField(_("closure grade"), max_length=10, choices=ClosureGrade, blank=True)
    satisfaction = models.CharField(_("satisfaction"), max_length=15, choices=Satisfaction, blank=True)
    satisfaction_comment = models.TextField(_("enterprise's comment"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = tracked(excluded_fields=["created_at", "updated_at", "version"])

    class Meta:
        db_table = "enterprises_problemticket"  # kept from before the app split
        ordering = ["-collected_at", "-pk"]
        verbose_name = _("problem ticket")
        verbose_name_plural = _("problem tickets")
        indexes = [
            models.Index(fields=["unit", "status"], name="enterprises_ticket_unit_idx"),
            models.Index(fields=["enterprise", "status"], name="enterprises_ticket_ent_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status__in=["assigned", "in_progress", "under_review"])
                | models.Q(unit__isnull=False),
                name="%(app_label)s_%(class)s_assigned_has_unit",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["resolved", "rated"]) | ~models.Q(resolution=""),
                name="%(app_label)s_%(class)s_resolved_has_resolution",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="rated") | ~models.Q(satisfaction=""),
                name="%(app_label)s_%(class)s_rated_has_satisfaction",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.title}"

    def get_absolute_url(self):
        return reverse("enterprises:ticket_detail", kwargs={"pk": self.pk})


class TicketEvent(models.Model):
    """One entry of a ticket's timeline: who did what, when. Never changed or removed."""

    ticket = models.ForeignKey(
        ProblemTicket, verbose_name=_("problem ticket"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("event"), max_length=20, choices=EventKind)
    actor = user_link(_("by"))
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    text = models.TextField(_("text"), blank=True)
    from_status = models.CharField(_("status before"), max_length=20, choices=TicketStatus, blank=True)
    to_status = models.CharField(_("status after"), max_length=20, choices=TicketStatus, blank=True)
    from_level = models.CharField(_("level before"), max_length=10, choices=ProblemLevel, blank=True)
    to_level = models.CharField(_("level after"), max_length=10, choices=ProblemLevel, blank=True)
    unit = optional_link("reference.Department", _("unit"), related_name="+")
    date = models.DateField(_("date"), null=True, blank=True)
    value = models.CharField(_("value"), max_length=20, blank=True)

    class Meta:
        db_table = "enterprises_ticketevent"  # kept from before the app split
        ordering = ["at", "pk"]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        indexes = [models.Index(fields=["ticket", "at"], name="enterprises_event_ticket_idx")]

    def __str__(self):
        return f"{self.ticket_id} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        # The timeline is append-only: an event is written once.
        if not self._state.adding:
            raise ValueError("ticket events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("ticket events are append-only")

    @property
    def value_display(self) -> str:
        """The rating or grade the event recorded, in words."""
        for choices in (Satisfaction, ClosureGrade):
            if self.value in choices.values:
                return str(choices(self.value).label)
        return self.value


def _attachment_path(instance, filename):
    return f"problems/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{Path(filename).suffix.lower()}"


class TicketAttachment(models.Model):
    """A file on a ticket (a letter, a photo, a reply). Stored under a random name, served to readers only."""

    ticket = models.ForeignKey(
        ProblemTicket, verbose_name=_("problem ticket"), on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=_attachment_path)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = user_link(_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        db_table = "enterprises_ticketattachment"  # kept from before the app split
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.name
