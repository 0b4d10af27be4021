"""Investment projects and what is recorded about them: stage history,
"三个一批" batches, annual plans, monthly progress and approval milestones."""

import uuid
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import MoneyField, optional_link, user_link
from core.history import tracked
from core.models import TimeStampedModel
from projects import figures
from projects.choices import (
    BatchRole,
    Level,
    MilestoneKind,
    MilestoneStatus,
    Nature,
    PlanCategory,
    ProgressStatus,
    Stage,
)

YEAR_RANGE = models.Q(year__gte=2000, year__lte=2100)
YEAR_VALIDATORS = [MinValueValidator(2000), MaxValueValidator(2100)]


class Project(TimeStampedModel):
    """An investment project (项目) followed from planning to the statistics."""

    code = models.CharField(
        _("project code"),
        max_length=50,
        unique=True,
        null=True,
        blank=True,
        help_text=_("The code in the provincial or municipal project library, if any."),
    )
    name = models.CharField(_("project name"), max_length=200, db_index=True)
    enterprise = optional_link("enterprises.Enterprise", _("builder enterprise"), related_name="projects")
    nature = models.CharField(_("nature"), max_length=20, choices=Nature, default=Nature.NEW)
    industry = optional_link("reference.Industry", _("industry"), related_name="projects")
    park = optional_link("reference.Park", _("park"), related_name="projects")
    level = models.CharField(_("level"), max_length=20, choices=Level, default=Level.ORDINARY, db_index=True)
    construction_content = models.TextField(_("construction content and scale"), blank=True)
    total_investment = MoneyField(_("total investment (10k yuan)"), default=0)
    land_area = models.DecimalField(
        _("land area (mu)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    planned_start = models.DateField(_("planned start"), null=True, blank=True)
    planned_completion = models.DateField(_("planned completion"), null=True, blank=True)
    actual_start = models.DateField(_("actual start"), null=True, blank=True)
    actual_completion = models.DateField(_("actual completion"), null=True, blank=True)
    stage = models.PositiveSmallIntegerField(_("stage"), choices=Stage, default=Stage.PLANNING, db_index=True)
    responsible_leader = optional_link("reference.Leader", _("responsible leader"), related_name="projects")
    responsible_unit = optional_link("reference.Department", _("responsible unit"), related_name="projects")
    staff_in_charge = user_link(
        _("staff member in charge"), related_name="projects_in_charge", on_delete=models.SET_NULL
    )
    on_white_list = models.BooleanField(
        _("on the “four guarantees” white list"), default=False, db_index=True
    )
    location = models.CharField(_("location"), max_length=200, blank=True)
    contact_person = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = tracked(excluded_fields=["created_at", "updated_at", "version"])

    class Meta:
        ordering = ["name"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        constraints = [
            models.UniqueConstraint(
                fields=["name", "enterprise"],
                name="%(app_label)s_%(class)s_unique_name_enterprise",
                violation_error_message=_("This enterprise already has a project of that name."),
            ),
            # NULLs are distinct in a unique index, so projects with no builder need their own.
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(enterprise__isnull=True),
                name="%(app_label)s_%(class)s_unique_name_without_enterprise",
                violation_error_message=_("A project of that name without a builder already exists."),
            ),
            models.CheckConstraint(
                condition=models.Q(total_investment__gte=0),
                name="%(app_label)s_%(class)s_total_investment_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(land_area__isnull=True) | models.Q(land_area__gt=0),
                name="%(app_label)s_%(class)s_land_area_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(stage__gte=Stage.PLANNING, stage__lte=Stage.IN_STATISTICS),
                name="%(app_label)s_%(class)s_stage_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(planned_start__isnull=True)
                | models.Q(planned_completion__isnull=True)
                | models.Q(planned_completion__gte=models.F("planned_start")),
                name="%(app_label)s_%(class)s_planned_dates_ordered",
                violation_error_message=_("The planned completion cannot be before the planned start."),
            ),
            models.CheckConstraint(
                condition=models.Q(actual_start__isnull=True)
                | models.Q(actual_completion__isnull=True)
                | models.Q(actual_completion__gte=models.F("actual_start")),
                name="%(app_label)s_%(class)s_actual_dates_ordered",
                violation_error_message=_("The actual completion cannot be before the actual start."),
            ),
        ]
        indexes = [
            models.Index(fields=["park", "level"], name="projects_park_level_idx"),
        ]

    def __str__(self):
        return self.name

    @property
    def investment_per_mu(self):
        return figures.investment_per_mu(self.total_investment, self.land_area)


class StageChange(models.Model):
    """One move of a project along its lifecycle; the first row is where it began.

    Moving backwards is a correction and must carry a reason.
    """

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.PositiveSmallIntegerField(_("from stage"), choices=Stage, null=True, blank=True)
    to_stage = models.PositiveSmallIntegerField(_("to stage"), choices=Stage)
    changed_on = models.DateField(_("date of change"))
    reason = models.TextField(_("reason"), blank=True)
    changed_by = user_link(_("changed by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["project", "changed_on", "recorded_at", "pk"]
        get_latest_by = ["changed_on", "recorded_at", "pk"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(from_stage__isnull=True)
                | models.Q(to_stage__gt=models.F("from_stage"))
                | ~models.Q(reason=""),
                name="%(app_label)s_%(class)s_backwards_needs_reason",
                violation_error_message=_(
                    "Moving a project back to an earlier or the same stage needs a reason."
                ),
            ),
        ]
        indexes = [models.Index(fields=["to_stage", "changed_on"], name="projects_stage_changed_idx")]

    def __str__(self):
        return f"{self.project}: {self.get_from_stage_display() or '—'} → {self.get_to_stage_display()}"

    @property
    def is_backwards(self) -> bool:
        return self.from_stage is not None and self.to_stage <= self.from_stage


class Batch(models.Model):
    """A numbered "三个一批" batch (期) announced by the province."""

    number = models.PositiveSmallIntegerField(_("batch number"), unique=True)
    announced_on = models.DateField(_("announced on"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    history = tracked()

    class Meta:
        ordering = ["number"]
        verbose_name = _("“three batches” batch")
        verbose_name_plural = _("“three batches” batches")

    def __str__(self):
        return _("Batch %(number)s") % {"number": self.number}


class BatchMembership(models.Model):
    """A project's place in a batch: to sign, to start or to go into production."""

    batch = models.ForeignKey(
        Batch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="memberships"
    )
    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="batch_memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=BatchRole, db_index=True)

    history = tracked()

    class Meta:
        ordering = ["batch", "role", "project"]
        verbose_name = _("batch membership")
        verbose_name_plural = _("batch memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "project"], name="%(app_label)s_%(class)s_unique_project_in_batch"
            ),
        ]

    def __str__(self):
        return f"{self.batch} {self.get_role_display()}: {self.project}"


class AnnualPlan(TimeStampedModel):
    """A project's planned investment (年度计划投资) and goals for one year."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="annual_plans"
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=YEAR_VALIDATORS)
    planned_investment = MoneyField(_("planned investment (10k yuan)"))
    category = models.CharField(
        _("category"), max_length=20, choices=PlanCategory, default=PlanCategory.CONTINUING
    )
    goals = models.TextField(_("construction goals for the year"), blank=True)

    history = tracked(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["project", "-year"]
        verbose_name = _("annual plan")
        verbose_name_plural = _("annual plans")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "year"],
                name="%(app_label)s_%(class)s_unique_year",
                violation_error_message=_("This project already has a plan for that year."),
            ),
            models.CheckConstraint(condition=YEAR_RANGE, name="%(app_label)s_%(class)s_year_range"),
            models.CheckConstraint(
                condition=models.Q(planned_investment__gte=0),
                name="%(app_label)s_%(class)s_planned_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["year"], name="projects_plan_year_idx")]

    def __str__(self):
        return _("%(project)s, plan for %(year)s") % {"project": self.project, "year": self.year}


class MonthlyProgress(TimeStampedModel):
    """What a project achieved in one month; approved reports are the official figures."""

    # What the reporter fills in for the month (the rest is the month and the review).
    REPORTED_FIELDS = ["completed_investment", "physical_progress", "problems"]

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="monthly_progress"
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=YEAR_VALIDATORS)
    month = models.PositiveSmallIntegerField(
        _("month"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    completed_investment = MoneyField(_("investment completed this month (10k yuan)"), default=0)
    physical_progress = models.TextField(
        _("physical progress"), blank=True, help_text=_("What is physically built (形象进度).")
    )
    problems = models.TextField(_("problems"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ProgressStatus, default=ProgressStatus.DRAFT
    )
    submitted_by = user_link(_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = user_link(_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = tracked(excluded_fields=["created_at", "updated_at", "version"])

    class Meta:
        ordering = ["project", "-year", "-month"]
        verbose_name = _("monthly progress")
        verbose_name_plural = _("monthly progress")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "year", "month"],
                name="%(app_label)s_%(class)s_unique_month",
                violation_error_message=_("This project already has a report for that month."),
            ),
            models.CheckConstraint(condition=YEAR_RANGE, name="%(app_label)s_%(class)s_year_range"),
            models.CheckConstraint(
                condition=models.Q(month__gte=1, month__lte=12),
                name="%(app_label)s_%(class)s_month_range",
                violation_error_message=_("The month must be between 1 and 12."),
            ),
            models.CheckConstraint(
                condition=models.Q(completed_investment__gte=0),
                name="%(app_label)s_%(class)s_completed_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["year", "month", "status"], name="projects_progress_period_idx"),
            # The dashboard's rollup sums a year's reports per project: on PostgreSQL an index-only
            # scan in project order, without visiting the table (bench/RESULTS.md).
            models.Index(
                fields=["year", "project", "month"],
                include=["status", "completed_investment"],
                name="projects_progress_rollup_idx",
            ),
            # The reports not yet approved, a few in a hundred: a unit's drafts and returned reports
            # (the home page) found per project without visiting its approved months (0.17 s → 0.08 s
            # for a unit of 15,000 projects on the province data).
            models.Index(
                fields=["project", "status"],
                condition=models.Q(status__in=["draft", "returned", "submitted"]),
                name="projects_progress_open_idx",
            ),
        ]
        permissions = [("review_monthlyprogress", _("Can approve or return monthly progress"))]

    @property
    def is_editable(self) -> bool:
        """Drafts and returned reports can be changed; submitted and approved ones are locked."""
        return self.status in (ProgressStatus.DRAFT, ProgressStatus.RETURNED)

    def clean(self):
        # Progress can be logged for the month under way, never for one to come.
        today = timezone.localdate()
        if self.year and self.month and (self.year, self.month) > (today.year, today.month):
            raise ValidationError({"month": _("Progress cannot be reported for a month that has not begun.")})

    def __str__(self):
        return _("%(project)s, %(year)s-%(month)02d") % {
            "project": self.project,
            "year": self.year,
            "month": self.month,
        }


class ApprovalMilestone(TimeStampedModel):
    """One approval procedure (审批手续) of a project and how far it has got.

    The construction permit may be issued in up to three phases; every other
    kind has a single phase.
    """

    # What a person keeps on a procedure, in the admin's inline and (with a note) the page's form.
    KEPT_FIELDS = [
        "kind",
        "phase",
        "department",
        "status",
        "planned_date",
        "completed_date",
        "document_number",
    ]

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="milestones"
    )
    kind = models.CharField(_("procedure"), max_length=30, choices=MilestoneKind)
    phase = models.PositiveSmallIntegerField(
        _("phase"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(3)],
        help_text=_("Construction permits may be issued in phases 1–3."),
    )
    department = optional_link("reference.Department", _("responsible department"), related_name="milestones")
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=MilestoneStatus,
        default=MilestoneStatus.NOT_STARTED,
        db_index=True,
    )
    planned_date = models.DateField(_("planned date"), null=True, blank=True)
    completed_date = models.DateField(_("completion date"), null=True, blank=True)
    document_number = models.CharField(_("document number"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = tracked(excluded_fields=["created_at", "updated_at", "version"])

    class Meta:
        ordering = ["project", "kind", "phase"]
        verbose_name = _("approval milestone")
        verbose_name_plural = _("approval milestones")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "kind", "phase"],
                name="%(app_label)s_%(class)s_unique_kind_phase",
                violation_error_message=_("This project already has that procedure."),
            ),
            models.CheckConstraint(
                condition=models.Q(phase=1)
                | models.Q(kind=MilestoneKind.CONSTRUCTION_PERMIT, phase__gte=1, phase__lte=3),
                name="%(app_label)s_%(class)s_phase_valid",
                violation_error_message=_("Only the construction permit has phases, and at most three."),
            ),
            models.CheckConstraint(
                condition=~models.Q(status=MilestoneStatus.DONE) | models.Q(completed_date__isnull=False),
                name="%(app_label)s_%(class)s_done_has_date",
                violation_error_message=_("A procedure that is done needs its completion date."),
            ),
            models.CheckConstraint(
                condition=models.Q(status=MilestoneStatus.DONE) | models.Q(completed_date__isnull=True),
                name="%(app_label)s_%(class)s_date_only_when_done",
                violation_error_message=_("Only a procedure that is done has a completion date."),
            ),
        ]

    def __str__(self):
        label = self.get_kind_display()
        if self.kind == MilestoneKind.CONSTRUCTION_PERMIT:
            label = _("%(kind)s (phase %(phase)s)") % {"kind": label, "phase": self.phase}
        return f"{self.project}: {label}"


def _photo_path(instance, filename):
    # Random names: nothing about the upload's own name reaches the disk.
    return f"progress/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{Path(filename).suffix.lower()}"


class ProgressPhoto(models.Model):
    """A photo of what is built (形象进度), attached to a monthly report.

    Stored under MEDIA_ROOT with a random name and served only to users who may
    read the project.
    """

    report = models.ForeignKey(
        MonthlyProgress, verbose_name=_("monthly report"), on_delete=models.CASCADE, related_name="photos"
    )
    image = models.ImageField(_("photo"), upload_to=_photo_path)
    thumbnail = models.ImageField(_("thumbnail"), upload_to=_photo_path)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = user_link(_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    history = tracked()

    class Meta:
        ordering = ["report", "uploaded_at", "pk"]
        verbose_name = _("progress photo")
        verbose_name_plural = _("progress photos")

    def __str__(self):
        return self.caption or _("Photo %(number)s") % {"number": self.pk}


class ProjectComment(models.Model):
    """A remark on a project: a leader's instruction (批示) or a colleague's note. Never edited."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("comment"))
    by_leader = models.BooleanField(_("leader's instruction"), default=False)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("project comment")
        verbose_name_plural = _("project comments")
        indexes = [models.Index(fields=["project", "-created_at"], name="projects_comment_recent_idx")]

    def __str__(self):
        return f"{self.project}: {self.text[:30]}"


class MonthPublication(TimeStampedModel):
    """A reporting month closed for the official figures (月报发布、关账).

    Leaders' pages, the bulletins and the API default to the latest published month, so their
    figures move when a reviewer publishes the next month, not on each approval. While a month is
    published its reports are locked; a correction reopens the month with a reason (in the history)."""

    year = models.PositiveSmallIntegerField(_("year"), validators=YEAR_VALIDATORS)
    month = models.PositiveSmallIntegerField(
        _("month"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    is_published = models.BooleanField(_("published"), default=True)
    published_by = user_link(_("published by"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    reopened_by = user_link(_("reopened by"))
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)
    reopen_reason = models.TextField(_("reason for reopening"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = tracked(excluded_fields=["created_at", "updated_at", "version"])

    class Meta:
        ordering = ["-year", "-month"]
        verbose_name = _("published month")
        verbose_name_plural = _("published months")
        constraints = [
            models.UniqueConstraint(fields=["year", "month"], name="%(app_label)s_%(class)s_unique_month"),
            models.CheckConstraint(condition=YEAR_RANGE, name="%(app_label)s_%(class)s_year_range"),
            models.CheckConstraint(
                condition=models.Q(month__gte=1, month__lte=12), name="%(app_label)s_%(class)s_month_range"
            ),
        ]
        indexes = [models.Index(fields=["is_published", "year", "month"], name="projects_publication_idx")]

    def __str__(self):
        return _("%(year)s-%(month)02d") % {"year": self.year, "month": self.month}

    def get_absolute_url(self):
        return reverse("projects:months")
