"""The import workflow every Excel import shares: preview, keep the file, confirm, record.

The web upload, its confirmation and the ``import_ledger`` command all go through here, so
each import is recorded (who, when, file, counts) and each confirmation applies exactly the
file that was previewed, checked again against the data as it is at that moment.
"""

from __future__ import annotations

import importlib

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import history
from core.importing import BadFile, ensure_erasures_confirmed, ensure_held_confirmed, workbook_rows
from core.kinds import IMPORT_KINDS, ImportKind
from core.models import ImportRecord
from core.roles import Role, has_role


def register_importer(kind: ImportKind) -> None:
    """The app that owns a kind of import registers it from its AppConfig.ready(); its module
    (``preview`` and ``apply``) is loaded by import path when an import of the kind runs."""
    IMPORT_KINDS[kind.value] = kind


def can_import(user) -> bool:
    """Project staff and administrators import ledgers and enterprise lists."""
    return has_role(user, Role.ADMIN, Role.STAFF)


def ensure_can_import(user) -> None:
    """PermissionDenied, with the reason, unless ``user`` may import (the pages and the jobs)."""
    if not can_import(user):
        raise PermissionDenied(_("Only project staff and administrators import Excel files."))


def import_kinds() -> list[ImportKind]:
    return sorted(IMPORT_KINDS.values(), key=lambda kind: kind.position)


def importer_for(kind: str):
    return importlib.import_module(IMPORT_KINDS[kind].module)


class PreviewChanged(ValidationError):
    """The data changed since the preview: the new preview must be confirmed instead."""

    def __init__(self, preview):
        super().__init__(
            _("The data changed after the preview was made: check the new preview and confirm again."),
            code="stale",
        )
        self.preview = preview


def preview(kind: str, data: bytes, *, user, year=None, month=None):
    return importer_for(kind).preview(data, user=user, year=year, month=month)


MAX_ERASURES_KEPT = 500  # listed on the page of a large import, whose rows are not


def _counts(record: ImportRecord, result) -> None:
    record.created_count = len(result.created)
    record.updated_count = len(result.updated)
    record.unchanged_count = len(result.unchanged)
    record.error_count = result.error_rows
    erasures = result.erasures
    record.erasure_count = len(erasures)
    record.erasures = [
        {"row": row.row, "name": row.name, "label": change.label, "old": change.old, "new": change.new}
        for row, change in erasures[:MAX_ERASURES_KEPT]
    ]
    held = result.held
    record.held_count = len(held)
    record.held = [held_item(row, change) for row, change in held[:MAX_ERASURES_KEPT]]
    record.fingerprint = result.fingerprint()
    record.year = getattr(result, "year", None)
    record.month = getattr(result, "month", None)


def held_item(row, change) -> dict:
    """A figure held back for checking, as the preview page lists it."""
    return {
        "row": row.row,
        "name": row.name,
        "label": change.label,
        "old": change.old,
        "new": change.new,
        "warnings": list(change.warnings),
    }


def max_bytes() -> int:
    return settings.MAX_IMPORT_BYTES


def too_big_message(size: int) -> str:
    return _("The file is %(size)s MB; the limit is %(limit)s MB.") % {
        "size": f"{size / 1_048_576:.1f}",
        "limit": f"{max_bytes() / 1_048_576:.0f}",
    }


def row_count(data: bytes) -> int:
    """The rows of the workbook's longest sheet, headers included: counted from the sheets' XML as a
    stream before any checking, to decide whether the import runs in the background
    (IMPORT_SYNC_ROWS). BadFile if unreadable or beyond the import limits."""
    return workbook_rows(data)


def runs_in_background(rows: int) -> bool:
    return rows > settings.IMPORT_SYNC_ROWS


def refresh(record: ImportRecord, result) -> None:
    """Keep what the latest preview found, so the confirmation is checked against it."""
    _counts(record, result)
    record.save()


def stored_file(record: ImportRecord) -> bytes:
    """The uploaded file kept for the confirmation; BadFile if it is gone from the media folder."""
    try:
        with record.file.open("rb") as handle:
            return handle.read()
    except (OSError, ValueError):
        raise BadFile(_("The uploaded file is no longer on the server: upload it again.")) from None


def save_preview(
    kind: str, data: bytes, *, file_name: str, user, result, origin: str = "web"
) -> ImportRecord:
    """Keep the previewed file and what the preview found, for the confirmation."""
    record = ImportRecord(kind=kind, user=user, file_name=file_name[:200], origin=origin)
    _counts(record, result)
    record.status = ImportRecord.Status.FAILED if result.errors else ImportRecord.Status.PREVIEWED
    record.file.save("import.xlsx", ContentFile(data), save=False)
    record.save()
    return record


@transaction.atomic
def confirm(
    record: ImportRecord,
    *,
    user,
    progress=None,
    confirm_erasures: bool = False,
    confirm_warnings: bool = False,
):
    """Apply a previewed import: re-read its file, re-plan against today's data, write all or none.

    Figures it sets to zero or values it clears need ``confirm_erasures`` (the box the user ticks
    under the preview's list of them), figures the sanity checks hold back ``confirm_warnings``
    (likewise); without them nothing is written. ``progress(step, done, total)``, from a
    background job, hears when the writing begins."""
    record = ImportRecord.objects.select_for_update().get(pk=record.pk)
    if record.user_id != user.pk:
        raise ValidationError(_("Only the user who uploaded the file can confirm its import."))
    if record.status != ImportRecord.Status.PREVIEWED:
        raise ValidationError(_("This import has already been applied or refused."))
    data = stored_file(record)
    module = importer_for(record.kind)
    result = module.preview(data, user=user, year=record.year, month=record.month)
    if result.errors or result.fingerprint() != record.fingerprint:
        _counts(record, result)
        record.save()
        raise PreviewChanged(result)
    ensure_erasures_confirmed(result, confirm_erasures)
    ensure_held_confirmed(result, confirm_warnings)
    if progress is not None:
        progress(_("Writing the rows (all or nothing)"), 0, 0)
    with history.recording(import_record=record):
        module.apply(
            result,
            user=user,
            reason=record.change_reason,
            confirm_erasures=confirm_erasures,
            confirm_warnings=confirm_warnings,
        )
    record.status = ImportRecord.Status.APPLIED
    record.applied_at = timezone.now()
    record.save()
    return record, result


def record_import(
    *,
    kind: str,
    data: bytes,
    file_name: str,
    user,
    origin: str,
    year=None,
    month=None,
    apply: bool,
    confirm_erasures: bool = False,
    confirm_warnings: bool = False,
):
    """Preview a file and, when asked and it has no errors, apply it at once (the command's way).
    Figures it would set to zero or clear need ``confirm_erasures``, figures the sanity checks hold
    back ``confirm_warnings``; without them nothing is applied."""
    result = preview(kind, data, user=user, year=year, month=month)
    unconfirmed = (result.erasures and not confirm_erasures) or (result.held and not confirm_warnings)
    if not apply or result.errors or unconfirmed:
        return None, result
    with transaction.atomic():
        record = save_preview(kind, data, file_name=file_name, user=user, result=result, origin=origin)
        record, result = confirm(
            record, user=user, confirm_erasures=confirm_erasures, confirm_warnings=confirm_warnings
        )
    return record, result
