"""Excel import pages: upload, preview, confirm, and the list of imports. The work is in
``core.imports`` (the workflow) and each importer (what a row means)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core import imports, jobs
from core.forms import BootstrapFormMixin
from core.importing import BadFile, erasures_not_confirmed, held_not_confirmed
from core.models import ImportRecord, Job
from core.roles import is_admin

if TYPE_CHECKING:
    pass

PREVIEW_ROWS_SHOWN = 500
can_import = imports.can_import

logger = logging.getLogger(__name__)


class UploadForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label=gettext_lazy("Excel workbook (.xlsx)"))
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100, required=False)
    month = forms.IntegerField(label=gettext_lazy("Month"), min_value=1, max_value=12, required=False)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        if not imports.IMPORT_KINDS[kind].asks_period:
            del self.fields["year"], self.fields["month"]
        else:
            self.fields["year"].help_text = _("Leave the period empty to read it from the ledger's title.")

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # Django's form returns its cleaned_data
        if (cleaned.get("year") is None) != (cleaned.get("month") is None) and "year" in self.fields:
            raise forms.ValidationError(_("Give both the year and the month, or neither."))
        return cleaned


@login_required
def import_upload(request, kind: str):
    if kind not in imports.IMPORT_KINDS:
        raise Http404
    imports.ensure_can_import(request.user)
    import_kind = imports.IMPORT_KINDS[kind]
    form = UploadForm(request.POST or None, request.FILES or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > imports.max_bytes():
                raise BadFile(imports.too_big_message(upload.size))
            data = upload.read()
            if imports.runs_in_background(imports.row_count(data)):
                return _check_in_background(request, kind, data, upload.name, form.cleaned_data)
            result = imports.preview(
                kind,
                data,
                user=request.user,
                year=form.cleaned_data.get("year"),
                month=form.cleaned_data.get("month"),
            )
        except BadFile as error:
            form.add_error("file", str(error))
        else:
            record = imports.save_preview(kind, data, file_name=upload.name, user=request.user, result=result)
            return redirect("import_detail", pk=record.pk)
    return render(
        request,
        "core/import_form.html",
        {"form": form, "kind": kind, "import_kind": import_kind, "title": import_kind.title},
    )


def _check_in_background(request, kind: str, data: bytes, file_name: str, cleaned: dict):
    job = jobs.start(
        owner=request.user,
        kind=Job.Kind.IMPORT_CHECK,
        parameters={
            "import_kind": kind,
            "file_name": file_name[:200],
            "year": cleaned.get("year"),
            "month": cleaned.get("month"),
        },
        source=data,
    )
    messages.info(
        request, _("The file is large: it is being checked in the background. The preview opens from here.")
    )
    return redirect(job)


def _data_rows(record: ImportRecord) -> int:
    return record.created_count + record.updated_count + record.unchanged_count + record.error_count


def _record_for(request, pk) -> ImportRecord:
    record = get_object_or_404(ImportRecord.objects.select_related("user"), pk=pk)
    if record.user_id != request.user.pk and not is_admin(request.user):
        raise PermissionDenied(_("This import belongs to another user."))
    return record


@login_required
def import_detail(request, pk: int):
    """The preview of an uploaded file (worked out again, so it shows the data as it is now)."""
    record = _record_for(request, pk)
    result = None
    # A large file is not checked again on every view (that is a background job's work): the page
    # shows what its check found, and the confirmation checks it again against the data of that moment.
    large = imports.runs_in_background(_data_rows(record))
    job = record.jobs.order_by("-pk").first()
    if record.status != ImportRecord.Status.APPLIED and not large:
        try:
            data = imports.stored_file(record)
            result = imports.preview(
                record.kind, data, user=record.user, year=record.year, month=record.month
            )
        except (BadFile, PermissionDenied) as error:
            messages.error(request, str(error))
        else:
            if result.fingerprint() != record.fingerprint and record.status == ImportRecord.Status.PREVIEWED:
                messages.warning(
                    request, _("The data changed since the upload: this preview shows it as it is now.")
                )
                imports.refresh(record, result)
    return render(
        request,
        "core/import_preview.html",
        {
            "record": record,
            "result": result,
            "created": result.created[:PREVIEW_ROWS_SHOWN] if result else [],
            "updated": result.updated[:PREVIEW_ROWS_SHOWN] if result else [],
            "erasures": _erasures(record, result),
            "erasure_count": len(result.erasures) if result else record.erasure_count,
            "held": _held(record, result),
            "held_count": len(result.held) if result else record.held_count,
            "shown": PREVIEW_ROWS_SHOWN,
            "can_confirm": bool(
                result
                and not result.errors
                and record.status == ImportRecord.Status.PREVIEWED
                and record.user_id == request.user.pk
                and (result.created or result.updated)
            ),
            "large": large,
            "job": job,
            "can_confirm_large": bool(
                large
                and record.status == ImportRecord.Status.PREVIEWED
                and record.user_id == request.user.pk
                and (record.created_count or record.updated_count)
                and not (job and job.kind == Job.Kind.IMPORT_APPLY and not job.is_finished)
            ),
        },
    )


def _erasures(record: ImportRecord, result) -> list[dict]:
    """The figures the import sets to zero or clears, as the page lists them (a large import's
    from what its check kept)."""
    if result is None:
        return record.erasures if record.status != ImportRecord.Status.APPLIED else []
    return [
        {"row": row.row, "name": row.name, "label": change.label, "old": change.old, "new": change.new}
        for row, change in result.erasures[:PREVIEW_ROWS_SHOWN]
    ]


def _held(record: ImportRecord, result) -> list[dict]:
    """The figures the sanity checks hold back, with their warnings, as the page lists them (a
    large import's from what its check kept)."""
    if result is None:
        return record.held if record.status != ImportRecord.Status.APPLIED else []
    return [imports.held_item(row, change) for row, change in result.held[:PREVIEW_ROWS_SHOWN]]


@login_required
@require_POST
def import_confirm(request, pk: int):
    record = _record_for(request, pk)
    imports.ensure_can_import(request.user)
    # The box under the list of figures set to zero or cleared: without it, those are not written.
    confirm_erasures = request.POST.get("confirm_erasures") == "1"
    # And the box under the figures to check: without it, those are not written.
    confirm_warnings = request.POST.get("confirm_warnings") == "1"
    if (
        imports.runs_in_background(_data_rows(record))
        and record.user_id == request.user.pk
        and record.status == ImportRecord.Status.PREVIEWED
    ):
        if record.erasure_count and not confirm_erasures:
            messages.error(request, erasures_not_confirmed(record.erasure_count))
            return redirect("import_detail", pk=record.pk)
        if record.held_count and not confirm_warnings:
            messages.error(request, held_not_confirmed(record.held_count))
            return redirect("import_detail", pk=record.pk)
        job = jobs.active_job_for_import(record) or jobs.start(
            owner=request.user,
            kind=Job.Kind.IMPORT_APPLY,
            import_record=record,
            parameters={"confirm_erasures": confirm_erasures, "confirm_warnings": confirm_warnings},
        )
        messages.info(request, _("The import is large: it is being applied in the background."))
        return redirect(job)
    try:
        record, result = imports.confirm(
            record, user=request.user, confirm_erasures=confirm_erasures, confirm_warnings=confirm_warnings
        )
    except imports.PreviewChanged as error:
        messages.warning(request, error.messages[0])
    except (ValidationError, BadFile, PermissionDenied) as error:
        messages.error(request, "；".join(getattr(error, "messages", [str(error)])))
    except DatabaseError:
        # confirm() is one transaction: it was rolled back whole, and the preview can be confirmed again.
        logger.exception("Import %s failed in the database", record.pk)
        messages.error(
            request,
            _(
                "Nothing was imported: the database could not finish the import. "
                "Try again; if it happens again, tell the administrator."
            ),
        )
    else:
        messages.success(
            request,
            _("Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
            % {
                "created": record.created_count,
                "updated": record.updated_count,
                "unchanged": record.unchanged_count,
            },
        )
    return redirect("import_detail", pk=record.pk)


@login_required
def import_list(request):
    imports.ensure_can_import(request.user)
    records = ImportRecord.objects.select_related("user")
    if not is_admin(request.user):
        records = records.filter(user=request.user)
    page = Paginator(records.order_by("-created_at", "-pk"), 50).get_page(request.GET.get("page"))
    return render(
        request, "core/import_list.html", {"page": page, "query": "", "import_kinds": imports.import_kinds()}
    )
