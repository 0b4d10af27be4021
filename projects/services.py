"""Writes to projects. Admin, pages, the API and importers all call these."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypedDict, TypeVar, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps

from core import history, locking
from core.locking import StaleVersion, apply_changes, check_fields, copy_state, lock_current, stamp
from core.models import User
from core.roles import ensure_admin
from enterprises.models import Enterprise
from projects import checks
from projects.choices import ProgressStatus
from projects.models import (
    AnnualPlan,
    ApprovalMilestone,
    Batch,
    BatchMembership,
    MonthlyProgress,
    MonthPublication,
    ProgressPhoto,
    Project,
    ProjectComment,
    StageChange,
)
from projects.permissions import (
    ensure_can_create,
    ensure_can_edit,
    ensure_can_manage_batches,
    ensure_can_publish_months,
    ensure_can_read,
    ensure_can_review,
    is_leader,
    photo_refusal,
    published_month_refusal,
    report_locked_message,
)
from projects.selectors import Period, month_review
from reference.models import Department, Industry, Leader, Park

_M = TypeVar("_M", bound=Model)


class ProjectChanges(TypedDict, total=False):
    """What project_create and project_update set. Not the stage: it moves only through
    project_change_stage, which records why."""

    name: str
    code: str
    enterprise: Enterprise
    nature: str
    level: str
    industry: Industry | None
    park: Park | None
    construction_content: str
    total_investment: Decimal
    land_area: Decimal | None
    planned_start: datetime.date | None
    planned_completion: datetime.date | None
    actual_start: datetime.date | None
    actual_completion: datetime.date | None
    responsible_leader: Leader | None
    responsible_unit: Department | None
    staff_in_charge: User | None
    on_white_list: bool
    location: str
    contact_person: str
    contact_phone: str


def _save_new(record: _M, user) -> _M:
    """Save a new record the way the creating services here do: checked whole, then saved with a
    history row naming ``user``."""
    record.full_clean()
    stamp(record, user)
    record.save()
    return record


@transaction.atomic
def project_create(
    *,
    user,
    data: ProjectChanges,
    stage: int,
    stage_changed_on: datetime.date | None = None,
) -> Project:
    """Create a project and record the stage it starts at."""
    ensure_can_create(user)
    check_fields(data, ProjectChanges)
    stage_changed_on = stage_changed_on or timezone.localdate()
    validate_not_future(stage_changed_on)
    project = _save_new(Project(**data, stage=stage), user)
    stage_change(project, to_stage=stage, changed_on=stage_changed_on, user=user, starting=True).save()
    return project


@transaction.atomic
def project_update(
    *,
    project: Project,
    user,
    data: ProjectChanges,
    expected_version: int | None = None,
    stage: int | None = None,
    stage_changed_on: datetime.date | None = None,
    stage_reason: str = "",
) -> Project:
    """Change a project's attributes and, if ``stage`` differs, move its stage.

    ``expected_version`` is the version the editor loaded; if someone saved in
    between, the change is refused rather than overwriting theirs.
    """
    locked = apply_changes(
        project,
        data,
        user=user,
        expected_version=expected_version,
        allowed=ProjectChanges,
        check=lambda row: ensure_can_edit(user, row),
        copy_back=False,  # the caller's instance follows once the stage has moved too
    )
    if stage is not None and stage != locked.stage:
        project_change_stage(
            project=locked, user=user, stage=stage, changed_on=stage_changed_on, reason=stage_reason
        )
    copy_state(locked, project)
    return project


@transaction.atomic
def project_delete(*, project: Project, user) -> None:
    """Administrators delete a project entered by mistake; one with plans or reports is refused
    (ProtectedError): its figures are part of the record."""
    ensure_admin(user)
    locked = lock_current(Project, project.pk, None)
    stamp(locked, user)
    locked.delete()


def validate_not_future(changed_on: datetime.date) -> None:
    """Stage history records what happened, never what is planned."""
    if changed_on > timezone.localdate():
        raise ValidationError({"changed_on": _("A stage change cannot be dated in the future.")})


def validate_stage_change(*, project: Project, to_stage: int, reason: str, changed_on: datetime.date) -> None:
    """Every rule of a stage move, keyed by ``stage``, ``reason`` or ``changed_on``.

    A project moves forward; going back is a correction and needs a reason; the
    history reads in date order and records nothing ahead of time.
    """
    if to_stage == project.stage:
        raise ValidationError({"stage": _("The project is already at this stage.")})
    if to_stage < project.stage and not (reason or "").strip():
        raise ValidationError(
            {"reason": _("Moving a project back to an earlier stage is a correction: give the reason.")}
        )
    validate_not_future(changed_on)
    previous = project.stage_changes.order_by("-changed_on").values_list("changed_on", flat=True).first()
    if previous and changed_on < previous:
        raise ValidationError(
            {
                "changed_on": _("A stage change cannot be dated before the previous one (%(date)s).")
                % {"date": previous.isoformat()}
            }
        )


def stage_change(
    project: Project,
    *,
    to_stage: int,
    changed_on: datetime.date,
    user,
    reason: str = "",
    starting: bool = False,
) -> StageChange:
    """The record moving ``project`` from the stage it is at to ``to_stage`` leaves, or, when
    ``starting``, the stage a new project starts at. The services save it; the importer and the
    generator write many at once."""
    return StageChange(
        project=project,
        from_stage=None if starting else project.stage,
        to_stage=to_stage,
        changed_on=changed_on,
        reason=reason,
        changed_by=user,
    )


@transaction.atomic
def project_change_stage(
    *,
    project: Project,
    user,
    stage: int,
    changed_on: datetime.date | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> StageChange:
    """Move a project along its lifecycle. Going back is a correction and needs a reason."""
    reason = (reason or "").strip()
    on = changed_on or timezone.localdate()
    changes: list[StageChange] = []

    def record(locked: Project) -> None:
        ensure_can_edit(user, locked)
        validate_stage_change(project=locked, to_stage=stage, reason=reason, changed_on=on)
        change = stage_change(locked, to_stage=stage, changed_on=on, user=user, reason=reason)
        change.full_clean()
        change.save()
        changes.append(change)

    # The row stays locked, so two people moving the same project cannot both record a change
    # from the same old stage.
    locked = apply_changes(
        project,
        {"stage": stage},
        user=user,
        expected_version=expected_version,
        check=record,
        always=True,
        clean=False,
        copy_back=False,
    )
    project.stage = stage
    project.version = locked.version
    return changes[0]


# --- Monthly progress ---------------------------------------------------------


class ProgressChanges(TypedDict, total=False):
    """What a reporter writes in a month's report."""

    completed_investment: Decimal | None
    physical_progress: str
    problems: str


PROGRESS_FIELDS = tuple(ProgressChanges.__annotations__)


def submitted(user, at: datetime.datetime) -> dict[str, Any]:
    """The fields of a report sent to the reviewers (by the service, or by a ledger import)."""
    return {"status": ProgressStatus.SUBMITTED, "submitted_by": user, "submitted_at": at}


def reviewed(status: str, user, at: datetime.datetime | None, comment: str = "") -> dict[str, Any]:
    """The fields a reviewer's decision sets (by the service, or by a reviewer's ledger import)."""
    return {"status": status, "reviewed_by": user, "reviewed_at": at, "review_comment": comment}


@transaction.atomic
def progress_save(
    *,
    project: Project,
    year: int,
    month: int,
    user,
    data: ProgressChanges,
    expected_version: int | None = None,
    submit: bool = False,
    confirm_warnings: bool = False,
    verdict: checks.Verdict | None = None,
) -> MonthlyProgress:
    """Create or change a project's report for a month, and optionally submit it.

    Submitted and approved reports are locked: a reviewer returns or reopens
    them first.

    A new or changed figure goes through the sanity checks (``projects.checks``): one beyond
    belief is refused; one with warnings raises ``NeedsConfirmation`` and nothing changes, unless
    ``confirm_warnings``: then it is saved and its history row says the warnings were confirmed.
    ``verdict`` is the checks' answer when the caller has it already (the grid checks every row
    in one pass).
    """
    check_fields(data, ProgressChanges)
    ensure_can_edit(user, project)
    ensure_month_open(year, month)
    existing = (
        MonthlyProgress.objects.select_for_update().filter(project=project, year=year, month=month).first()
    )
    if existing is None:
        report = MonthlyProgress(project=project, year=year, month=month)
    else:
        report = lock_current(MonthlyProgress, existing.pk, expected_version)
        if not report.is_editable:
            raise ValidationError(report_locked_message(report), code="locked")
    changed = [name for name, value in data.items() if getattr(report, name) != value]
    for name, value in data.items():
        setattr(report, name, value)
    if submit:
        for name, value in submitted(user, timezone.now()).items():
            setattr(report, name, value)
    if existing is not None and not changed and not submit:
        return report
    if existing is None:
        _clean_new(report, MonthlyProgress.objects.filter(project=project, year=year, month=month))
    else:
        report.full_clean()
    reason = ""
    if "completed_investment" in changed:
        if verdict is None:
            verdict = checks.check_figure(
                project=project, year=year, month=month, amount=report.completed_investment
            )
        reason = _hold_back(verdict, confirm_warnings)
    report.version = 1 if existing is None else report.version + 1
    stamp(report, user, reason)
    if existing is not None:
        report.save()
    else:
        _save_unique(report)
    return report


def _created_meanwhile() -> StaleVersion:
    return StaleVersion(
        _("Someone saved the same record at the same moment; reload and try again."), code="stale"
    )


def _clean_new(record: Model, same: QuerySet) -> None:
    """full_clean a record our look-up did not find. Another session may create it (the same
    month's) after the look-up: its unique check then fails here, or, later, the insert does
    (_save_unique); either way the answer is the same "reload", as a version check's would be."""
    try:
        record.full_clean()
    except ValidationError:
        if same.exists():
            raise _created_meanwhile() from None
        raise


def _save_unique(record: Model) -> None:
    """Save ``record`` in a savepoint; when another session created the same one (the same
    month's) between our look-up and our insert, refuse it as stale, as a version check would."""
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        raise _created_meanwhile() from None


class NeedsConfirmation(locking.NeedsConfirmation):
    """A completed-investment figure the sanity checks hold back: nothing was saved. The same call
    with ``confirm_warnings=True`` saves it. ``warnings`` names each reason (``checks.FigureWarning``)."""

    def __init__(self, warnings: list[checks.FigureWarning]):
        super().__init__(warnings, field="completed_investment")


def _hold_back(verdict: checks.Verdict, confirmed: bool) -> str:
    """Refuse or hold back a figure as the checks say; the history reason of a confirmed one."""
    if verdict.refusal is not None:
        raise verdict.refusal
    if not verdict.warnings:
        return ""
    if not confirmed:
        raise NeedsConfirmation(verdict.warnings)
    return checks.confirmation_reason(verdict.warnings)


@dataclass
class GridRow:
    """One project's line in the batch entry grid."""

    project: Project
    data: ProgressChanges
    expected_version: int | None = None
    confirm_warnings: bool = False  # the user confirmed this row's figure despite its warnings


class GridErrors(Exception):
    """Some rows of a grid were refused or held back; none was saved. ``errors`` maps a row's
    index to its error, ``warnings`` a row held for confirmation to its ``checks.FigureWarning``s."""

    def __init__(
        self,
        errors: dict[int, ValidationError],
        warnings: dict[int, list[checks.FigureWarning]] | None = None,
    ):
        super().__init__(errors, warnings)
        self.errors = errors
        self.warnings = warnings or {}


@transaction.atomic
def progress_save_many(*, rows: list[GridRow], year: int, month: int, user, submit: bool = False):
    """Save a month's reports for several projects: every row, or none of them.

    The figures are checked in one pass (``checks.check_figures``); a row held back for
    confirmation stops the save as an error does, and every row is tried so all are reported."""
    saved: list[MonthlyProgress] = []
    errors: dict[int, ValidationError] = {}
    held: dict[int, list[checks.FigureWarning]] = {}
    verdicts = checks.check_figures(
        [checks.Proposed(row.project, year, month, row.data.get("completed_investment")) for row in rows]
    )
    with history.recording(batch=True):
        _save_grid_rows(
            rows,
            verdicts,
            year=year,
            month=month,
            user=user,
            submit=submit,
            saved=saved,
            errors=errors,
            held=held,
        )
    if errors or held:
        raise GridErrors(errors, held)
    return saved


def _save_grid_rows(rows, verdicts, *, year, month, user, submit, saved, errors, held):
    for index, (row, verdict) in enumerate(zip(rows, verdicts, strict=True)):
        try:
            with transaction.atomic():
                saved.append(
                    progress_save(
                        project=row.project,
                        year=year,
                        month=month,
                        user=user,
                        data=row.data,
                        expected_version=row.expected_version,
                        submit=submit,
                        confirm_warnings=row.confirm_warnings,
                        verdict=verdict,
                    )
                )
        except NeedsConfirmation as hold:
            held[index] = hold.warnings
        except ValidationError as error:
            errors[index] = error
        except PermissionDenied as error:
            errors[index] = ValidationError(str(error))


@transaction.atomic
def progress_submit(*, report: MonthlyProgress, user, expected_version: int | None = None) -> MonthlyProgress:
    """Send a draft or returned report to the reviewers."""
    ensure_can_edit(user, report.project)
    ensure_month_open(report.year, report.month)

    def editable(locked: MonthlyProgress) -> None:
        if not locked.is_editable:
            raise ValidationError(report_locked_message(locked), code="locked")

    data = submitted(user, timezone.now())
    apply_changes(
        report, data, user=user, expected_version=expected_version, check=editable, always=True, clean=False
    )
    return report


def _reason(action, reason: str) -> str:
    """A history row's reason: what was done and why (Chinese punctuation in Chinese)."""
    return _("%(action)s: %(reason)s") % {"action": action, "reason": reason}


def _ensure_not_own_report(report: MonthlyProgress, user) -> None:
    """Four eyes on every official figure: whoever submitted a report may not approve it, even when
    they hold both roles (settings.PROGRESS_APPROVER_NOT_SUBMITTER, on by default)."""
    if settings.PROGRESS_APPROVER_NOT_SUBMITTER and report.submitted_by_id == user.pk:
        raise ValidationError(
            _(
                "You submitted the report of %(project)s for %(year)s-%(month)02d yourself: a report "
                "is approved by a reviewer other than the person who submitted it."
            )
            % {"project": report.project, "year": report.year, "month": report.month},
            code="own_report",
        )


@dataclass(frozen=True)
class ReviewStep:
    """A reviewer's action on a monthly report: the statuses it starts from, where it leads, and
    whether it needs a reason. One row each, so the three actions cannot drift apart."""

    allowed_from: tuple[str, ...]
    to_status: str
    reason_required: bool
    verb: Promise  # lazy: said in the language of the request, not of start-up
    approving: bool = False  # four eyes: not on one's own report


REVIEW_STEPS = {
    "approve": ReviewStep(
        (ProgressStatus.SUBMITTED,), ProgressStatus.APPROVED, False, gettext_lazy("approved"), approving=True
    ),
    "return": ReviewStep(
        (ProgressStatus.SUBMITTED,), ProgressStatus.RETURNED, True, gettext_lazy("returned")
    ),
    "reopen": ReviewStep((ProgressStatus.APPROVED,), ProgressStatus.RETURNED, True, gettext_lazy("reopened")),
}


def _review(
    report: MonthlyProgress, user: User, step: ReviewStep, *, reason: str, expected_version: int | None
) -> MonthlyProgress:
    ensure_can_review(user)
    ensure_month_open(report.year, report.month)
    reason = (reason or "").strip()

    def allowed(locked: MonthlyProgress) -> None:
        if locked.status not in step.allowed_from:
            raise ValidationError(
                _("Only a %(allowed)s report can be %(verb)s; this one is %(status)s.")
                % {
                    "allowed": "/".join(str(ProgressStatus(s).label) for s in step.allowed_from),
                    "verb": step.verb,
                    "status": locked.get_status_display(),
                },
                code="status",
            )
        if step.approving:
            _ensure_not_own_report(locked, user)
        if step.reason_required and not reason:
            raise ValidationError(
                {"review_comment": _("Give the reason, so the reporter knows what to fix.")}
            )

    apply_changes(
        report,
        reviewed(step.to_status, user, timezone.now(), reason),
        user=user,
        expected_version=expected_version,
        check=allowed,
        always=True,
        clean=False,
        reason=_reason(step.verb, reason) if reason else str(step.verb),
    )
    return report


@transaction.atomic
def progress_approve(
    *, report: MonthlyProgress, user, comment: str = "", expected_version: int | None = None
) -> MonthlyProgress:
    """Approve a submitted report: its figure becomes official and the report is locked."""
    return _review(report, user, REVIEW_STEPS["approve"], reason=comment, expected_version=expected_version)


@transaction.atomic
def progress_return(
    *, report: MonthlyProgress, user, reason: str, expected_version: int | None = None
) -> MonthlyProgress:
    """Send a submitted report back to its reporter with the reason."""
    return _review(report, user, REVIEW_STEPS["return"], reason=reason, expected_version=expected_version)


@transaction.atomic
def progress_reopen(
    *, report: MonthlyProgress, user, reason: str, expected_version: int | None = None
) -> MonthlyProgress:
    """Unlock an approved report so it can be corrected; its figure stops counting until approved again."""
    return _review(report, user, REVIEW_STEPS["reopen"], reason=reason, expected_version=expected_version)


@transaction.atomic
def progress_review_many(*, reports, user, approve: bool, reason: str = "") -> int:
    """Approve or return several reports at once: all of them, or none if one is refused."""
    count = 0
    with history.recording(batch=True):
        for report in reports:
            if approve:
                progress_approve(report=report, user=user, comment=reason)
            else:
                progress_return(report=report, user=user, reason=reason)
            count += 1
    return count


# --- Publishing a month (月报发布、关账) ------------------------------------------


def ensure_month_open(year: int, month: int) -> None:
    """Refuse any change to a published month's reports: its figures are the official ones."""
    refusal = published_month_refusal(year, month)
    if refusal is not None:
        raise refusal


@transaction.atomic
def month_publish(*, year: int, month: int, user, expected_version: int | None = None) -> MonthPublication:
    """Publish a month's approved figures as the official ones (月报发布). Refused for a month not
    over yet, and while reports of the month still wait for review: publishing them half-reviewed
    would let the official figures move afterwards."""
    ensure_can_publish_months(user)
    today = timezone.localdate()
    if (year, month) >= (today.year, today.month):
        raise ValidationError(
            _("%(year)s-%(month)02d is not over yet; a month is published after it ends.")
            % {"year": year, "month": month},
            code="not_over",
        )
    existing = MonthPublication.objects.select_for_update().filter(year=year, month=month).first()
    if existing is not None:
        publication = lock_current(MonthPublication, existing.pk, expected_version)
        if publication.is_published:
            raise ValidationError(
                _("%(year)s-%(month)02d is already published.") % {"year": year, "month": month},
                code="published",
            )
    else:
        publication = MonthPublication(year=year, month=month)
    pending = month_review(Period(year, month)).submitted
    if pending:
        raise ValidationError(
            _(
                "%(count)s report(s) for %(year)s-%(month)02d still wait for review: approve or return "
                "them first."
            )
            % {"count": pending, "year": year, "month": month},
            code="pending",
        )
    publication.is_published = True
    publication.published_by = user
    publication.published_at = timezone.now()
    if existing is None:
        _clean_new(publication, MonthPublication.objects.filter(year=year, month=month))
    else:
        publication.full_clean()
    publication.version = 1 if existing is None else publication.version + 1
    stamp(publication, user, reason=str(_("published")))
    _save_unique(publication)
    return publication


@transaction.atomic
def month_reopen(
    *, publication: MonthPublication, user, reason: str, expected_version: int | None = None
) -> MonthPublication:
    """Reopen a published month for a correction; the reason goes into the history. The pages fall
    back to the previous published month until it is published again."""
    ensure_can_publish_months(user)
    reason = (reason or "").strip()

    def reopenable(locked: MonthPublication) -> None:
        if not locked.is_published:
            raise ValidationError(
                _("%(year)s-%(month)02d is not published.") % {"year": locked.year, "month": locked.month},
                code="not_published",
            )
        if not reason:
            raise ValidationError({"reopen_reason": _("Give the reason for reopening the month.")})

    apply_changes(
        publication,
        {"is_published": False, "reopened_by": user, "reopened_at": timezone.now(), "reopen_reason": reason},
        user=user,
        expected_version=expected_version,
        check=reopenable,
        always=True,
        clean=False,
        reason=_reason(_("reopened"), reason),
    )
    return publication


# --- Photos -------------------------------------------------------------------

PHOTO_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif"}
THUMBNAIL_SIZE = (480, 360)


def _not_a_photo() -> ValidationError:
    return ValidationError({"image": _("This file is not a photo (JPEG, PNG, WebP or GIF).")})


def _read_image(upload) -> tuple[Image.Image, str]:
    """The photo decoded at no more than PHOTO_MAX_SIDE, and the extension of its format. Its
    pixels are counted from its header before anything is decoded: a 500 KB PNG can hold
    13000 × 13000 pixels, 2 GB once decoded (Pillow itself only warns below 179 megapixels)."""
    if upload.size > settings.MAX_PHOTO_BYTES:
        raise ValidationError(
            {
                "image": _("The photo is %(size)s MB; the limit is %(limit)s MB.")
                % {
                    "size": f"{upload.size / 1_048_576:.1f}",
                    "limit": f"{settings.MAX_PHOTO_BYTES / 1_048_576:.0f}",
                }
            }
        )
    try:
        upload.seek(0)
        image = Image.open(upload, formats=list(PHOTO_FORMATS))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _not_a_photo() from None
    width, height = image.size
    if width * height > settings.IMAGE_MAX_PIXELS:
        image.close()
        raise ValidationError(
            {
                "image": _(
                    "The photo is %(width)s × %(height)s pixels, more than the %(limit)s megapixels "
                    "accepted: make it smaller and try again."
                )
                % {"width": width, "height": height, "limit": f"{settings.IMAGE_MAX_PIXELS / 1_000_000:g}"}
            }
        )
    side = settings.PHOTO_MAX_SIDE
    try:
        if image.format == "JPEG":
            image.draft("RGB", (side, side))  # a JPEG decodes straight at 1/2, 1/4 or 1/8 of its size
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _not_a_photo() from None
    return image, PHOTO_FORMATS[cast(str, image.format)]  # opened with formats=PHOTO_FORMATS


def _stored_photo(image: Image.Image) -> tuple[bytes, Image.Image]:
    """The photo as it is kept: turned upright by its EXIF orientation, no side above PHOTO_MAX_SIDE,
    encoded afresh in its own format (so nothing but the picture is kept: no EXIF with the place it
    was taken, nothing appended after the image), and the upright image for its thumbnail."""
    kind = cast(str, image.format)  # an image from _read_image, so of a known format
    upright = ImageOps.exif_transpose(image)
    side = settings.PHOTO_MAX_SIDE
    if max(upright.size) > side:
        upright.thumbnail((side, side), Image.Resampling.LANCZOS)
    if kind == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    options = {"JPEG": {"quality": 85, "optimize": True}, "WEBP": {"quality": 85}}.get(kind, {})
    buffer = io.BytesIO()
    upright.save(buffer, kind, **options)
    return buffer.getvalue(), upright


def _ensure_can_change_photos(user, report: MonthlyProgress) -> None:
    refusal = photo_refusal(user, report)
    if refusal is not None:
        raise refusal


@transaction.atomic
def photo_add(
    *, report: MonthlyProgress, user, upload, caption: str = "", expected_version: int | None = None
) -> ProgressPhoto:
    """Attach a photo to a report; the type is read from the content, never from the name. The
    photo is kept upright, at most PHOTO_MAX_SIDE pixels on its longer side, encoded afresh."""
    ensure_can_edit(user, report.project)
    current = lock_current(MonthlyProgress, report.pk, expected_version)
    _ensure_can_change_photos(user, current)
    image, extension = _read_image(upload)
    stored, upright = _stored_photo(image)
    thumb = upright.convert("RGB")
    thumb.thumbnail(THUMBNAIL_SIZE)
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=82)
    photo = ProgressPhoto(report=report, caption=caption.strip(), uploaded_by=user)
    photo.image.save(f"photo{extension}", ContentFile(stored), save=False)
    photo.thumbnail.save("thumb.jpg", ContentFile(buffer.getvalue()), save=False)
    stamp(photo, user)
    photo.save()
    return photo


@transaction.atomic
def photo_delete(*, photo: ProgressPhoto, user) -> None:
    """Remove a photo and, once that is committed, its files."""
    _ensure_can_change_photos(user, lock_current(MonthlyProgress, photo.report_id, None))
    stamp(photo, user)
    files = [photo.image, photo.thumbnail]
    photo.delete()
    # Files go only once the row is surely gone.
    transaction.on_commit(lambda: [f.storage.delete(f.name) for f in files])


# --- Approval milestones -----------------------------------------------------


class MilestoneChanges(TypedDict, total=False):
    """How far an approval procedure has got: what milestone_update sets."""

    status: str
    planned_date: datetime.date | None
    completed_date: datetime.date | None
    document_number: str
    department: Department | None
    note: str


class NewMilestone(MilestoneChanges, total=False):
    """A milestone to record: which procedure, and how far it has got."""

    kind: str
    phase: int


MILESTONE_FIELDS = tuple(MilestoneChanges.__annotations__)


@transaction.atomic
def milestone_update(
    *, milestone: ApprovalMilestone, user, data: MilestoneChanges, expected_version: int | None = None
) -> ApprovalMilestone:
    """Record how far an approval procedure has got."""
    check_fields(data, MilestoneChanges)
    ensure_can_edit(user, milestone.project)
    apply_changes(milestone, data, user=user, expected_version=expected_version)
    return milestone


@transaction.atomic
def milestone_create(*, project: Project, user, data: NewMilestone) -> ApprovalMilestone:
    ensure_can_edit(user, project)
    return _save_new(ApprovalMilestone(project=project, **data), user)


# --- Comments -------------------------------------------------------------------


@transaction.atomic
def comment_add(*, project: Project, user, text: str) -> ProjectComment:
    """Any role may remark on a project; a leader's remark is marked as an instruction (批示)."""
    ensure_can_read(user)
    comment = ProjectComment(
        project=project, author=user, text=(text or "").strip(), by_leader=is_leader(user)
    )
    comment.full_clean()
    comment.save()
    return comment


# --- Monthly progress, created by API clients ------------------------------------


@transaction.atomic
def progress_create(
    *,
    project: Project,
    year: int,
    month: int,
    user,
    data: ProgressChanges,
    submit: bool = False,
    confirm_warnings: bool = False,
) -> MonthlyProgress:
    """Start a project's report for a month. Unlike ``progress_save`` an existing report is refused
    (with the model's unique message), so a client that meant to create never overwrites one. The
    figure is checked as ``progress_save`` checks it."""
    check_fields(data, ProgressChanges)
    ensure_can_edit(user, project)
    # Every rule at once (the month not to come, the amount, one report a month) before saving.
    MonthlyProgress(project=project, year=year, month=month, **data).full_clean()
    return progress_save(
        project=project,
        year=year,
        month=month,
        user=user,
        data=data,
        submit=submit,
        confirm_warnings=confirm_warnings,
    )


# --- Annual plans -----------------------------------------------------------------


class PlanChanges(TypedDict, total=False):
    """A project's plan for a year."""

    year: int
    planned_investment: Decimal
    category: str
    goals: str


@transaction.atomic
def plan_create(*, project: Project, user, data: PlanChanges) -> AnnualPlan:
    """Record a project's planned investment for a year. The plan is an official figure (the
    denominator of 完成率), so every change keeps a history row naming who made it."""
    check_fields(data, PlanChanges)
    ensure_can_edit(user, project)
    return _save_new(AnnualPlan(project=project, **data), user)


@transaction.atomic
def plan_update(*, plan: AnnualPlan, user, data: PlanChanges) -> AnnualPlan:
    """Change a plan's year, amount, category or goals; the project it belongs to stays."""
    apply_changes(
        plan, data, user=user, allowed=PlanChanges, check=lambda row: ensure_can_edit(user, row.project)
    )
    return plan


@transaction.atomic
def plan_delete(*, plan: AnnualPlan, user) -> None:
    """Remove a plan entered by mistake; its history rows (and who deleted it) remain."""
    locked = lock_current(AnnualPlan, plan.pk, None)
    ensure_can_edit(user, locked.project)
    stamp(locked, user)
    locked.delete()


# --- "三个一批" batches and their lists -----------------------------------------------


class BatchChanges(TypedDict, total=False):
    """A batch as the province announces it."""

    number: int
    announced_on: datetime.date | None
    note: str


class NewMembership(TypedDict):
    """A project put in a batch with its role."""

    batch: Batch
    project: Project
    role: str


class MemberRow(TypedDict, total=False):
    """One line of a batch's list as published; either key may be missing (the row is refused)."""

    project: Project | None
    role: str


@transaction.atomic
def batch_create(*, user, data: BatchChanges) -> Batch:
    ensure_can_manage_batches(user)
    check_fields(data, BatchChanges)
    return _save_new(Batch(**data), user)


@transaction.atomic
def batch_update(*, batch: Batch, user, data: BatchChanges) -> Batch:
    ensure_can_manage_batches(user)
    apply_changes(batch, data, user=user, allowed=BatchChanges)
    return batch


@transaction.atomic
def batch_delete(*, batch: Batch, user) -> None:
    """A batch that still lists projects is refused (ProtectedError): empty its list first."""
    ensure_can_manage_batches(user)
    Batch.objects.select_for_update().get(pk=batch.pk).delete()


@transaction.atomic
def membership_create(*, user, data: NewMembership) -> BatchMembership:
    """Put a project in a batch with its role (to sign, to start, to go into production)."""
    ensure_can_manage_batches(user)
    return _save_new(BatchMembership(**data), user)


@transaction.atomic
def membership_update(*, membership: BatchMembership, user, role: str) -> BatchMembership:
    """Change a project's role in its batch; the batch and the project stay."""
    ensure_can_manage_batches(user)
    apply_changes(membership, {"role": role}, user=user)
    return membership


@transaction.atomic
def membership_delete(*, membership: BatchMembership, user) -> None:
    ensure_can_manage_batches(user)
    locked = BatchMembership.objects.select_for_update().get(pk=membership.pk)
    stamp(locked, user)
    locked.delete()


@dataclass
class MemberChanges:
    """What ``batch_replace_members`` did: the batch's list afterwards and how it got there."""

    memberships: list[BatchMembership]
    created: int = 0
    changed: int = 0
    deleted: int = 0


@transaction.atomic
def batch_replace_members(*, batch: Batch, user, rows: list[MemberRow]) -> MemberChanges:
    """Make a batch's list exactly ``rows`` (each ``{"project": Project, "role": str}``), as the
    province publishes it: projects not listed leave the batch, listed ones join or change role.

    Every row is checked and every refusal reported by its index (``GridErrors``); then all of it
    is saved, or nothing. Each membership created, changed or removed gets a history row naming
    ``user``; unchanged ones are left alone.
    """
    ensure_can_manage_batches(user)
    with history.recording(batch=True):
        return _replace_members(batch, user, rows)


def _replace_members(batch: Batch, user, rows: list[MemberRow]) -> MemberChanges:
    # The batch row serialises two replacements of the same list.
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    current = {m.project_id: m for m in batch.memberships.select_for_update().select_related("project")}
    errors: dict[int, ValidationError] = {}
    first_index: dict[int, int] = {}
    wanted: dict[int, BatchMembership] = {}
    for index, row in enumerate(rows):
        project: Project | None = row.get("project")
        role: Any = row.get("role")  # checked by full_clean below
        if project is not None and project.pk in first_index:
            errors[index] = ValidationError(
                {
                    "project": _("This project is already listed (at index %(index)s).")
                    % {"index": first_index[project.pk]}
                }
            )
            continue
        membership = BatchMembership(batch=batch, project=project, role=role)
        try:
            # Uniqueness is the list's own (checked above): existing rows are about to be replaced.
            membership.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            errors[index] = error
            continue
        assert project is not None  # full_clean refused a row without one
        first_index[project.pk] = index
        wanted[project.pk] = membership
    if errors:
        raise GridErrors(errors)
    changes = MemberChanges(memberships=[])
    for project_id, old in current.items():
        if project_id not in wanted:
            stamp(old, user)
            old.delete()
            changes.deleted += 1
    for project_id, new in wanted.items():
        existing = current.get(project_id)
        if existing is None:
            stamp(new, user)
            new.save()
            changes.created += 1
            changes.memberships.append(new)
        else:
            if existing.role != new.role:
                existing.role = new.role
                stamp(existing, user)
                existing.save(update_fields=["role"])
                changes.changed += 1
            changes.memberships.append(existing)
    return changes
