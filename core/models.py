"""Users, and the records of the portal's own machinery: imports, API tokens and background jobs."""

import datetime
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from knox.models import AbstractAuthToken

from core import kinds
from core.choices import ROLE_LABELS
from core.history import tracked


class TimeStampedModel(models.Model):
    """Adds creation and last-change times to a model."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class TextSize(models.TextChoices):
    """The base text size a user reads the portal at (适老化): a scale on top of the browser's own
    text size, applied to every page as a class on <html> (templates/base.html, portal.css)."""

    STANDARD = "standard", _("Standard (100%)")
    LARGE = "large", _("Large (125%)")
    LARGER = "larger", _("Extra large (150%)")


class User(AbstractUser):  # type: ignore[django-manager-missing]  # knox (untyped) adds auth_token_set
    """A person who logs in: zone staff, unit handlers, reviewers, leaders, admins."""

    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # By name, not by import: core knows no app above it (a user belongs to a reference unit).
    department = models.ForeignKey(
        "reference.Department",
        verbose_name=_("responsible unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    # Demo and newly issued accounts: the portal sends the user to change the password first.
    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_("The user is asked to choose a new password before using the portal."),
    )
    text_size = models.CharField(
        _("text size"),
        max_length=10,
        choices=TextSize.choices,
        default=TextSize.STANDARD,
        help_text=_("The size of the text on every page the user opens, on top of the browser's own."),
    )

    # Roles are group memberships: the groups are recorded with every change of the user.
    history = tracked(m2m_fields=["groups"], excluded_fields=["password", "last_login"])

    class Meta:
        db_table = "zone_portal_user"  # kept from before the app split
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.display_name or self.get_full_name() or self.username

    def save(self, *args, **kwargs):
        # A login only stamps last_login (not recorded): it is not a change to the user.
        if set(kwargs.get("update_fields") or ()) == {"last_login"}:
            self.skip_history_when_saving = True
            try:
                return super().save(*args, **kwargs)
            finally:
                del self.skip_history_when_saving
        return super().save(*args, **kwargs)


class RoleGroup(models.Model):
    """The role a Django group carries, by its code: admins may rename the group (its name is only
    what they see and pick) and its members keep the role. A group without one carries no role."""

    group = models.OneToOneField(
        Group, verbose_name=_("group"), on_delete=models.CASCADE, primary_key=True, related_name="role"
    )
    code = models.CharField(
        pgettext_lazy("portal role", "role"), max_length=20, unique=True, choices=list(ROLE_LABELS.items())
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("group role")
        verbose_name_plural = _("group roles")
        # Set by sync_role_groups only: no model permissions, so no role's permissions change.
        default_permissions = ()

    def __str__(self):
        return f"{self.group.name}: {self.get_code_display()}"


def _import_path(instance, filename):
    # Random names: nothing about the upload's own name reaches the disk.
    return f"imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.xlsx"


class ImportRecord(models.Model):
    """One Excel import: who uploaded which file, what the preview found, and whether it was applied.

    The uploaded file is kept so the confirmation applies exactly the file that was previewed.
    """

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("previewed")
        APPLIED = "applied", _("applied")
        FAILED = "failed", _("refused")

    # The apps register their kinds of import (core.kinds).
    kind = models.CharField(_("kind"), max_length=20, choices=kinds.import_kind_choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(_("file"), upload_to=_import_path)
    file_name = models.CharField(_("file name"), max_length=200)
    origin = models.CharField(_("origin"), max_length=10, default="web")
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    month = models.PositiveSmallIntegerField(_("month"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PREVIEWED)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    # Figures the import sets to zero or values it clears: listed apart, confirmed by the user.
    erasure_count = models.PositiveIntegerField(_("figures set to zero or cleared"), default=0)
    erasures = models.JSONField(_("figures set to zero or cleared"), default=list, blank=True)
    # Figures the sanity checks hold back (projects.checks), with their warnings: confirmed likewise.
    held_count = models.PositiveIntegerField(_("figures to check"), default=0)
    held = models.JSONField(_("figures to check"), default=list, blank=True)
    fingerprint = models.CharField(_("preview fingerprint"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        db_table = "zone_portal_importrecord"  # kept from before the app split
        ordering = ["-created_at", "-pk"]
        verbose_name = _("Excel import")
        verbose_name_plural = _("Excel imports")

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} {self.file_name}"

    @property
    def change_reason(self) -> str:
        """What the change history says of every row this import wrote: at most the 100 characters
        the history's reason column holds (PostgreSQL refuses more), a long file name shortened."""
        reason = f"Excel导入 #{self.pk}（{self.file_name}）"
        if len(reason) <= CHANGE_REASON_MAX:
            return reason
        keep = CHANGE_REASON_MAX - len(f"Excel导入 #{self.pk}（…）")
        return f"Excel导入 #{self.pk}（{self.file_name[:keep]}…）"


# simple-history's history_change_reason is a CharField(max_length=100).
CHANGE_REASON_MAX = 100


class ApiToken(AbstractAuthToken):
    """A token a script uses to call the API as its owner. Only a hash is stored (django-rest-knox);
    the owner names it, sees its first characters, and revokes it by deleting it."""

    name: "models.CharField[str, str]" = models.CharField(
        _("name"), max_length=100, help_text=_("What the token is for, e.g. 省平台同步.")
    )
    last_used_at: "models.DateTimeField[datetime.datetime | None, datetime.datetime | None]" = (
        models.DateTimeField(_("last used"), null=True, blank=True)
    )

    class Meta:
        db_table = "zone_portal_apitoken"  # kept from before the app split
        ordering = ["-created"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.token_key}…)"

    @property
    def is_expired(self) -> bool:
        return self.expiry is not None and self.expiry <= timezone.now()


def _job_path(instance, filename):
    # Random names, as for imports: the download's own name is kept in ``result_name``.
    extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    return f"jobs/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"


class Job(models.Model):
    """A piece of long work run in the background (core.tasks): a large Excel export or
    import, or the data generator. The page polls its progress; a result file is served only to
    its owner (and administrators) and deleted after ``JOB_RESULT_DAYS``."""

    class Kind(models.TextChoices):
        """Core's own kinds; the apps register theirs (core.kinds)."""

        CHANGE_LOG_EXPORT = "change_log_export", _("change log export")
        IMPORT_CHECK = "import_check", _("Excel import check")
        IMPORT_APPLY = "import_apply", _("Excel import")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="jobs"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=kinds.job_kind_choices)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    # The language the owner used: steps and messages are written in it.
    language = models.CharField(_("language"), max_length=10, default=settings.LANGUAGE_CODE)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.QUEUED)
    step = models.CharField(_("step"), max_length=200, blank=True)
    progress_done = models.PositiveIntegerField(_("done"), default=0)
    progress_total = models.PositiveIntegerField(_("total"), default=0)
    # An import's uploaded file while its check waits in the queue (the import record keeps its own).
    source = models.FileField(_("uploaded file"), upload_to=_job_path, blank=True)
    result = models.FileField(_("result file"), upload_to=_job_path, blank=True)
    result_name = models.CharField(_("result file name"), max_length=200, blank=True)
    import_record = models.ForeignKey(
        ImportRecord,
        verbose_name=_("Excel import"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jobs",
    )
    error = models.TextField(_("error"), blank=True)
    # Up to a few dozen lines the owner needs to act on, such as an import's row errors.
    details = models.JSONField(_("details"), default=list, blank=True)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    # Written every JOB_HEARTBEAT_SECONDS while the job runs (core.jobs.Heartbeat); a running
    # job silent for JOB_STALE_SECONDS lost its worker and is failed (core.jobs.fail_stale).
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        db_table = "zone_portal_job"  # kept from before the app split
        ordering = ["-created_at", "-pk"]
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="zone_portal_job_owner_created"),
            models.Index(fields=["finished_at"], name="zone_portal_job_finished"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress_done__lte=models.F("progress_total"))
                | models.Q(progress_total=0),
                name="%(app_label)s_%(class)s_done_within_total",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("job_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int | None:
        """Whole per cent done, or None while the work has no count (a bar that only moves)."""
        if self.status == self.Status.DONE:
            return 100
        if not self.progress_total:
            return None
        return min(100, self.progress_done * 100 // self.progress_total)


class WorkerHeartbeat(models.Model):
    """When a task worker process was last alive: each worker (``manage.py task_worker``, and any
    process running a job) writes its row every JOB_HEARTBEAT_SECONDS;
    ``core.jobs.worker_last_heartbeat()`` reads the newest for /healthz."""

    worker = models.CharField(_("worker process"), max_length=100, unique=True)
    beat_at = models.DateTimeField(_("last heartbeat"))

    class Meta:
        db_table = "zone_portal_workerheartbeat"  # kept from before the app split
        ordering = ["-beat_at"]
        verbose_name = _("task worker heartbeat")
        verbose_name_plural = _("task worker heartbeats")

    def __str__(self):
        return f"{self.worker} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
