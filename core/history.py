"""Where a change came from, stamped on every history row.

django-simple-history records who changed what and when; this adds how: the web pages, the API,
the admin, an Excel import (and which one) or a command, plus the bulk operation a row belongs to
(one grid save, one batch approval). The values travel in a context variable that the middleware,
the importer and the bulk services set, and the historical models read it through their field
defaults, so ``bulk_create_with_history`` rows get it as well as single saves.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from django.db import models
from django.db.models import Exists, F, OuterRef, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Origin(models.TextChoices):
    WEB = "web", _("web page")
    API = "api", _("API")
    ADMIN = "admin", _("admin site")
    IMPORT = "import", _("Excel import")
    COMMAND = "command", _("command")


@dataclass(frozen=True)
class Context:
    # Without a request or an import the change comes from code run by hand: a management command.
    origin: str = Origin.COMMAND
    import_id: int | None = None
    batch: uuid.UUID | None = None


# Context is frozen: the default is never mutated, only replaced.
_current: ContextVar[Context] = ContextVar("zone_history_context", default=Context())  # noqa: B039


def current() -> Context:
    return _current.get()


@contextmanager
def recording(*, origin: str | None = None, import_record=None, batch: bool = False):
    """Stamp the history rows written inside the block.

    ``batch=True`` gives the rows one shared id so a grid save or a batch approval reads as one
    operation; a batch already open is kept, so nested services join the outer one."""
    now = _current.get()
    changes: dict[str, Any] = {}
    if origin:
        changes["origin"] = origin
    if import_record is not None:
        changes.update(origin=Origin.IMPORT, import_id=import_record.pk)
    if batch and now.batch is None:
        changes["batch"] = uuid.uuid4()
    token = _current.set(replace(now, **changes))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


# Field defaults: module-level callables, so migrations can name them.
def current_origin() -> str:
    return _current.get().origin


def current_import_id() -> int | None:
    return _current.get().import_id


def current_batch() -> uuid.UUID | None:
    return _current.get().batch


class HistoryContext(models.Model):
    """The base of every historical model: how each recorded change was made."""

    history_origin = models.CharField(
        _("made via"), max_length=10, choices=Origin, default=current_origin, db_index=True
    )
    history_import = models.ForeignKey(
        "core.ImportRecord",
        verbose_name=_("Excel import"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        default=current_import_id,
        related_name="+",
    )
    history_batch = models.UUIDField(_("bulk operation"), null=True, blank=True, default=current_batch)

    class Meta:
        abstract = True


class HistoryOriginMiddleware:
    """Requests stamp their changes as made in the admin, through the API or on the web pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        origin = (
            Origin.ADMIN
            if path.startswith("/admin/")
            else Origin.API
            if path.startswith("/api/")
            else Origin.WEB
        )
        with recording(origin=origin):
            return self.get_response(request)


class TrackedRecords(HistoricalRecords):
    def contribute_to_class(self, cls, name):
        super().contribute_to_class(cls, name)
        cls._tracked_records = self
        self.tracked_model = cls

    # A history table sits beside its model's table: a model that moved to another app keeps its
    # table (``Meta.db_table``), and its history keeps the table its rows are in. For a model with
    # Django's default table name these give simple-history's own default names.
    @staticmethod
    def _table_prefix(model) -> str:
        table, name = model._meta.db_table, model._meta.model_name
        return table[: -len(name)] if table.endswith(f"_{name}") else f"{model._meta.app_label}_"

    def create_history_model(self, model, inherited):
        if not inherited and self.table_name is None:
            self.table_name: str | None = f"{self._table_prefix(model)}historical{model._meta.model_name}"
        return super().create_history_model(model, inherited)

    def get_meta_options_m2m(self, through_model):
        options = super().get_meta_options_m2m(through_model)
        options["db_table"] = f"{self._table_prefix(self.cls)}historical{through_model._meta.model_name}"
        return options

    def m2m_changed(self, instance, action, attr, pk_set, reverse, **kwargs):
        # Django signals an add of links that already exist with an empty set: nothing changed.
        if action in ("post_add", "post_remove") and not pk_set:
            return
        if reverse:
            # Changed from the other side (``group.user_set.add(user)``): the tracked records
            # are the ones named in pk_set, not ``instance``.
            if action in ("post_add", "post_remove"):
                for obj in self.tracked_model._default_manager.filter(pk__in=pk_set):
                    if not hasattr(obj, "skip_history_when_saving"):
                        self.create_historical_record(obj, "~")
            return
        super().m2m_changed(instance, action, attr, pk_set, reverse, **kwargs)


def save_with_links(instance, links: dict, **save_options) -> None:
    """Save ``instance`` and set its many-to-many ``links`` ({field name: objects}) as one history
    row that holds both, instead of a row for the save and one more per link added or removed."""
    history_type = "+" if instance._state.adding else "~"
    with skipped(instance):
        instance.save(**save_options)
        for name, values in links.items():
            getattr(instance, name).set(values)
    record(instance, history_type)


@contextmanager
def skipped(instance):
    """Writes inside the block leave no history row of ``instance``: the caller records one after."""
    instance.skip_history_when_saving = True
    try:
        yield
    finally:
        del instance.skip_history_when_saving


def record(instance, history_type: str = "~") -> None:
    type(instance)._tracked_records.create_historical_record(instance, history_type)


def tracked(**options):
    """A model's change history, stamped with how each change was made."""
    return TrackedRecords(bases=[HistoryContext], **options)


def tracked_models() -> list[type[models.Model]]:
    from django.apps import apps

    return [m for m in apps.get_models() if hasattr(m._meta, "simple_history_manager_attribute")]


# How many records the audit reads at a time: it holds one chunk of a table and of its history.
CHECK_CHUNK_SIZE = 2000


def unrecorded_changes(models_to_check=None) -> list[str]:
    """Every row whose current values differ from its last history row, or that was created or
    deleted without one: the trace a write that bypassed the history leaves behind (a
    ``QuerySet.update()``, a plain ``bulk_create``, a raw query).

    Reads every row of every tracked table: for tests and for an occasional audit, not for pages.
    ``iter_unrecorded_changes`` gives the same problems one at a time, in bounded memory."""
    return list(iter_unrecorded_changes(models_to_check))


def iter_unrecorded_changes(models_to_check=None):
    """``unrecorded_changes`` as a stream: each model is read ``CHECK_CHUNK_SIZE`` records at a
    time in primary-key order, with, for those records only, the last history row of each (picked
    in SQL). A model's records changed or created without history come first, in primary-key
    order, then those deleted without history, also in primary-key order."""
    for model in models_to_check or tracked_models():
        yield from _changed_or_created(model)
        yield from _deleted(model)


def _latest_history(model, ids, *values):
    """The last history row (by ``history_date``, then ``history_id``) of each record in ``ids``,
    as ``values`` dicts: one query, whatever the number of rows each record has."""
    history_model = model.history.model
    pk = model._meta.pk.attname
    latest = Window(
        RowNumber(),
        partition_by=[F(pk)],
        order_by=[F("history_date").desc(), F("history_id").desc()],
    )
    return (
        history_model.objects.filter(**{f"{pk}__in": ids})
        .order_by()
        .annotate(_audit_rank=latest)
        .filter(_audit_rank=1)
        .values(pk, *values)
    )


def _tracked_attnames(model) -> list[str]:
    return [f.attname for f in model.history.model.tracked_fields]


def _changed_or_created(model):
    label, pk = model._meta.label, model._meta.pk.attname
    fields = _tracked_attnames(model)
    records = model._default_manager.order_by(pk)
    after = None
    while True:
        chunk = records if after is None else records.filter(**{f"{pk}__gt": after})
        rows = list(chunk.values(*fields)[:CHECK_CHUNK_SIZE])
        if not rows:
            return
        ids = [row[pk] for row in rows]
        latest = {last[pk]: last for last in _latest_history(model, ids, "history_type", *fields)}
        for row in rows:
            last = latest.get(row[pk])
            if last is None:
                yield f"{label} {row[pk]}: written without a history row"
            elif last["history_type"] == "-":
                yield f"{label} {row[pk]}: exists, but its history says it was deleted"
            else:
                changed = [f for f in fields if last[f] != row[f]]
                if changed:
                    yield f"{label} {row[pk]}: {', '.join(changed)} changed without a history row"
        if len(rows) < CHECK_CHUNK_SIZE:
            return
        after = ids[-1]


def _deleted(model):
    label, pk = model._meta.label, model._meta.pk.attname
    history_model = model.history.model
    recorded = history_model.objects.order_by(pk).values_list(pk, flat=True).distinct()
    exists = Exists(model._default_manager.filter(pk=OuterRef(pk)))
    after = None
    while True:
        chunk = recorded if after is None else recorded.filter(**{f"{pk}__gt": after})
        ids = list(chunk[:CHECK_CHUNK_SIZE])
        if not ids:
            return
        gone = _latest_history(model, ids, "history_type").filter(~exists)
        for last in sorted(gone, key=lambda last: last[pk]):
            if last["history_type"] != "-":
                yield f"{label} {last[pk]}: deleted without a history row"
        if len(ids) < CHECK_CHUNK_SIZE:
            return
        after = ids[-1]
