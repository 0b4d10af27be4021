"""The change history pages: an object's 变更记录 tab and the zone-wide change log with its export.

History is read here and never written: these views answer GET only, and nothing in the portal,
the admin or the API edits or deletes a history row.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import cast

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from core import changelog
from core.excel import Column, Workbook
from core.forms import ANY_CHOICE_LABEL, BootstrapFormMixin, RemoteSelect, make_selects_searchable
from core.history import Origin
from core.job_views import excel_download
from core.jobs import Export, ExportRefused
from core.models import Job
from core.roles import Role, has_role
from core.selectors import people, person_label
from core.views import export_refused

PAGE_SIZE = 50


def can_read_change_log(user) -> bool:
    return has_role(user, Role.LEADER, Role.ADMIN)


def ensure_can_read_change_log(user) -> None:
    if not can_read_change_log(user):
        raise PermissionDenied(_("Only leaders and administrators read the zone's change log."))


# --- An object's tab -----------------------------------------------------------------------------


def object_history(request, *, obj, querysets, crumbs, overview_url: str):
    """Render an object's timeline, narrowed to one field when ``?field=`` names one."""
    choices = changelog.field_choices_of(querysets)
    field_name = request.GET.get("field", "")
    if field_name not in dict(choices):
        field_name = ""
    # One object's history is read whole (hundreds of rows at most), so a field filter, which needs
    # each row compared with the one before, still pages correctly; the queries stay fixed.
    entries = changelog.page_entries(changelog.union(querysets), field_name or None)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "core/object_history.html",
        {
            "object": obj,
            "crumbs": crumbs,
            "overview_url": overview_url,
            "page": page,
            "entries": page.object_list,
            "field_choices": choices,
            "field": field_name,
            "query": f"field={field_name}" if field_name else "",
        },
    )


# --- The zone-wide log ---------------------------------------------------------------------------


class ChangeLogFilter(BootstrapFormMixin, forms.Form):
    user = forms.ModelChoiceField(
        label=gettext_lazy("User"),
        queryset=people(active_only=False),
        widget=RemoteSelect("lookup_users", params={"inactive": "1"}, label=person_label),
        required=False,
        empty_label=ANY_CHOICE_LABEL,
    )
    model = forms.ChoiceField(label=gettext_lazy("Kind of record"), required=False)
    origin = forms.ChoiceField(
        label=gettext_lazy("Made via"), choices=[("", ANY_CHOICE_LABEL), *Origin.choices], required=False
    )
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput({"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput({"type": "date"})
    )
    # Set by the links from an import and from a bulk operation's entries, not typed in.
    import_record = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=2**63 - 1
    )
    batch = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model_field = cast(forms.ChoiceField, self.fields["model"])
        model_field.choices = [("", ANY_CHOICE_LABEL), *changelog.model_choices()]
        make_selects_searchable(self)

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # Django's form returns its cleaned_data
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first and last and first > last:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def querysets(self) -> list:
        data = self.cleaned_data
        filters = {}
        if data.get("user"):
            filters["history_user"] = data["user"]
        if data.get("origin"):
            filters["history_origin"] = data["origin"]
        if data.get("import_record"):
            filters["history_import_id"] = data["import_record"]
        if data.get("batch"):
            filters["history_batch"] = data["batch"]
        zone = timezone.get_current_timezone()
        if data.get("date_from"):
            filters["history_date__gte"] = datetime.datetime.combine(
                data["date_from"], datetime.time.min, zone
            )
        if data.get("date_to"):
            next_day = data["date_to"] + datetime.timedelta(days=1)
            filters["history_date__lt"] = datetime.datetime.combine(next_day, datetime.time.min, zone)
        models = changelog.models_by_key()
        chosen = [models[data["model"]]] if data.get("model") else list(models.values())
        return [changelog.rows_of(model, **filters) for model in chosen]


def _change_log_filter(request) -> ChangeLogFilter:
    ensure_can_read_change_log(request.user)
    return ChangeLogFilter(request.GET or None)


@login_required
@require_safe
def change_log(request):
    form = _change_log_filter(request)
    page = None
    if form.is_bound and not form.is_valid():
        entries = []
    else:
        if not form.is_bound:
            form = ChangeLogFilter({})
            form.is_valid()
        page = Paginator(changelog.union(form.querysets()), PAGE_SIZE).get_page(request.GET.get("page"))
        entries = changelog.page_entries(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/change_log.html",
        {"form": form, "page": page, "entries": entries, "query": query.urlencode()},
    )


def _export_columns() -> list[Column]:
    return [
        Column(
            "when",
            _("Time"),
            width=20,  # 2024-03-05 14:30:00 on one line
            value=lambda r: timezone.localtime(r[0].when).strftime("%Y-%m-%d %H:%M:%S"),
        ),
        Column("user", _("User"), width=12, value=lambda r: str(r[0].user or "")),
        Column("origin", _("Made via"), width=10, value=lambda r: r[0].origin),
        Column("model", _("Kind of record"), width=14, value=lambda r: r[0].model_label),
        Column("object", _("Changed record"), width=36, value=lambda r: r[0].object_label),
        Column("action", _("Action"), width=8, value=lambda r: str(r[0].action_label)),
        Column("field", _("Field"), width=16, value=lambda r: r[1].label if r[1] else ""),
        Column("old", _("Old value"), width=20, value=lambda r: r[1].old if r[1] else ""),
        Column("new", _("New value"), width=20, value=lambda r: r[1].new if r[1] else ""),
        Column("reason", _("Reason / source"), width=30, value=_source),
    ]


def _source(row) -> str:
    entry = row[0]
    parts = [entry.reason]
    if entry.import_record is not None:
        parts.append(str(entry.import_record))
    if entry.batch:
        parts.append(_("bulk operation %(id)s") % {"id": str(entry.batch)[:8]})
    return "；".join(p for p in parts if p)


def change_log_workbook(user, query) -> Export:
    """The change log's rows, with its filters, as a workbook, for ``user`` and the log's query
    parameters: the download and its background job (core.tasks) both use it."""
    ensure_can_read_change_log(user)
    form = ChangeLogFilter(query or None)
    if form.is_bound and not form.is_valid():
        raise ExportRefused(_("The workbook was not made: some filters were not understood."), form.errors)
    if not form.is_bound:
        form = ChangeLogFilter({})
        form.is_valid()
    rows = changelog.union(form.querysets())

    def write() -> Workbook:
        book = Workbook()
        with book:
            sheet = book.add_sheet(_("Change log"))
            columns = _export_columns()
            sheet.title(
                f"{settings.ZONE_NAME} {_('Change log')}",
                right=_("Exported %(time)s") % {"time": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
                width=len(columns),
            )
            sheet.header(columns)
            # Pages of the union keep the memory flat and the queries per page fixed.
            paginator = Paginator(rows, 500)
            for number in paginator.page_range:
                for entry in changelog.page_entries(paginator.page(number).object_list):
                    changes: Sequence[changelog.FieldChange | None] = entry.changes or [None]
                    for change in changes:
                        sheet.data_row((entry, change))
            sheet.finish(freeze_cols=0)
        return book

    return Export(rows=rows.count(), filename=f"变更记录-{timezone.localdate():%Y-%m-%d}.xlsx", write=write)


@login_required
@require_safe
def change_log_export(request):
    """The workbook now, or (above EXCEL_SYNC_EXPORT_ROWS rows) from a background job."""

    def refused(message, errors=None):
        return export_refused(request, message, errors or {}, reverse("change_log"))

    try:
        export = change_log_workbook(request.user, request.GET)
    except ExportRefused as error:
        return refused(error.message, error.errors)
    return excel_download(request, export, kind=Job.Kind.CHANGE_LOG_EXPORT, refused=refused)
