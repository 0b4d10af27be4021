"""The change history read back as a timeline: who changed which field of what, from what to what,
when and via what.

One home for every view of the history: an object's 变更记录 tab, the zone-wide change log and its
Excel export all build their rows here. A page of entries costs a fixed number of queries: the
history rows of the page (two queries per model on it: the rows and the rows before them) and
one query per kind of object their foreign keys name.
"""

from __future__ import annotations

import datetime
import decimal
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from django.db import models
from django.db.models import OuterRef, Q, Subquery, Value
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.history import Origin, tracked_models

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

EMPTY = "—"


@dataclass
class FieldChange:
    name: str
    label: str
    old: str
    new: str


@dataclass
class Entry:
    model: type[models.Model]
    record: Any  # a simple-history historical row: its model is built at run time
    object_label: str
    action: str
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def when(self) -> datetime.datetime:
        return self.record.history_date

    @property
    def user(self):
        return self.record.history_user

    @property
    def origin(self) -> StrOrPromise:
        return Origin(self.record.history_origin).label if self.record.history_origin else EMPTY

    @property
    def reason(self) -> str:
        return self.record.history_change_reason or ""

    @property
    def import_record(self):
        return self.record.history_import

    @property
    def batch(self):
        return self.record.history_batch

    @property
    def model_label(self) -> str:
        return str(self.model._meta.verbose_name)

    @property
    def action_label(self) -> StrOrPromise:
        return ACTIONS[self.action]


ACTIONS = {"+": gettext_lazy("created"), "~": gettext_lazy("changed"), "-": gettext_lazy("deleted")}


def model_key(model) -> str:
    return model._meta.label_lower


def models_by_key() -> dict[str, type[models.Model]]:
    return {model_key(m): m for m in tracked_models()}


def model_choices() -> list[tuple[str, str]]:
    return sorted(
        ((key, str(m._meta.verbose_name)) for key, m in models_by_key().items()), key=lambda c: c[1]
    )


def shown_fields(model) -> list[models.Field]:
    """The fields the history records, as the user knows them (no ids of the history itself)."""
    history_model = model.history.model
    tracked = {f.attname for f in history_model.tracked_fields}
    return [f for f in model._meta.concrete_fields if f.attname in tracked and not f.primary_key]


def m2m_fields(model) -> list[models.Field]:
    return list(model.history.model._history_m2m_fields)


def _m2m_path(model, f) -> str:
    """The prefetch path from a history row to its recorded links and their targets."""
    history_model = model.history.model
    link = next(
        r for r in history_model._meta.related_objects if r.related_model.__name__.endswith(f"_{f.name}")
    )
    return f"{link.get_accessor_name()}__{f.m2m_reverse_field_name()}"


def field_choices(model) -> list[tuple[str, str]]:
    return [(f.name, str(f.verbose_name)) for f in shown_fields(model) + m2m_fields(model)]


# --- Reading the rows ----------------------------------------------------------------------------


def _previous(history_model, pk: str):
    """The history row just before each row, of the same object."""
    earlier = Q(history_date__lt=OuterRef("history_date")) | Q(
        history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id")
    )
    return Subquery(
        history_model.objects.filter(earlier, **{pk: OuterRef(pk)})
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )


def load(rows_by_model: Mapping[type[models.Model], Iterable[int]]) -> dict[tuple[str, int], Any]:
    """The history rows with these ids, with their previous rows attached as ``previous``."""
    loaded: dict[tuple[str, int], Any] = {}
    for model, ids in rows_by_model.items():
        history_model = cast(Any, model).history.model  # simple-history's manager, added at run time
        pk = model._meta.pk.attname
        queryset = history_model.objects.filter(history_id__in=list(ids)).select_related(
            "history_user", "history_import"
        )
        m2m = [_m2m_path(model, f) for f in m2m_fields(model)]
        rows = list(queryset.annotate(previous_id=_previous(history_model, pk)).prefetch_related(*m2m))
        earlier = history_model.objects.in_bulk(
            [r.previous_id for r in rows if r.previous_id], field_name="history_id"
        )
        if m2m and earlier:
            models.prefetch_related_objects(list(earlier.values()), *m2m)
        for row in rows:
            row.previous = earlier.get(row.previous_id)
            loaded[(model_key(model), row.history_id)] = row
    return loaded


def _label_for(obj) -> str:
    return str(obj)


def _related_names(rows, model) -> dict[tuple[type, object], str]:
    """What each foreign key of the rows (and their previous rows) names, one query per model."""
    wanted: dict[type[models.Model], set] = defaultdict(set)
    for row in rows:
        for record in (row, row.previous):
            if record is None:
                continue
            for f in shown_fields(model):
                if f.is_relation:
                    value = getattr(record, f.attname)
                    if value is not None:
                        wanted[cast("type[models.Model]", f.related_model)].add(value)
    names: dict[tuple[type, object], str] = {}
    for related, ids in wanted.items():
        # Labels of reports and visits name their project or enterprise: read it in the same query.
        joins = [f.name for f in related._meta.concrete_fields if f.name in ("project", "enterprise")]
        for obj in related._default_manager.select_related(*joins).filter(pk__in=ids):
            names[(related, obj.pk)] = _label_for(obj)
    return names


def _display(f: models.Field, value, names) -> str:
    if value is None or value == "":
        return EMPTY
    if f.is_relation:
        return names.get((f.related_model, value), f"#{value}")
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), "Y-m-d H:i")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return f"{value:,.2f}" if cast(models.DecimalField, f).decimal_places == 2 else str(value)
    if isinstance(f, models.FileField):
        return str(value).rsplit("/", 1)[-1]
    return str(value)


def _m2m_display(model, record, f) -> str:
    if record is None:
        return EMPTY
    links, target = _m2m_path(model, f).split("__")
    labels = sorted(str(getattr(link, target)) for link in getattr(record, links).all())
    return "、".join(labels) or EMPTY


def _changes(model, row, names) -> list[FieldChange]:
    before = row.previous if row.history_type != "+" else None
    changes = []
    for f in shown_fields(model):
        new = getattr(row, f.attname)
        old = getattr(before, f.attname) if before is not None else None
        if row.history_type == "-":
            # A deletion shows what was removed.
            old, new = new, None
        if old == new or (row.history_type == "+" and new in (None, "")):
            continue
        changes.append(
            FieldChange(f.name, str(f.verbose_name), _display(f, old, names), _display(f, new, names))
        )
    for f in m2m_fields(model):
        old = _m2m_display(model, before, f) if row.history_type != "+" else EMPTY
        new = _m2m_display(model, row, f) if row.history_type != "-" else EMPTY
        if old != new:
            changes.append(FieldChange(f.name, str(f.verbose_name), old, new))
    return changes


def describe(model, record, names) -> str:
    """The object a history row is about, as a user names it: a report or a plan with its project."""
    key = model_key(model)
    # Not ``record.instance``: it reads the fields the history leaves out from the live row.
    tracked = {f.attname for f in model.history.model.tracked_fields}
    instance = model(
        **{f.attname: getattr(record, f.attname) for f in model._meta.concrete_fields if f.attname in tracked}
    )
    label = SUBJECTS.get(key, _own_label)(instance)
    parent = PARENTS.get(key)
    if parent is not None:
        f = model._meta.get_field(parent)
        value = getattr(record, f.attname)
        label = f"{names.get((f.related_model, value), f'#{value}')} · {label}"
    return label


def _own_label(instance) -> str:
    return str(instance)


# What the records that belong to another one are named after (``describe_as``, called by the apps
# that own the models from their AppConfig.ready()): model key -> the field naming the owner.
PARENTS: dict[str, str] = {}
# How a record is named when its own ``str`` is not enough: model key -> a function of the record.
SUBJECTS: dict[str, Callable] = {}


def describe_as(model, *, parent: str | None = None, subject: Callable | None = None) -> None:
    """Name ``model``'s history entries after its ``parent`` field's record and/or by ``subject``."""
    key = model_key(model)
    if parent:
        PARENTS[key] = parent
    if subject:
        SUBJECTS[key] = subject


def entries(loaded: dict[tuple[str, int], Any], order: Iterable[tuple[str, int]], field_name=None):
    """The entries in ``order`` (keys of ``loaded``), with their field changes, readable."""
    by_model = models_by_key()
    grouped: dict[str, list] = defaultdict(list)
    for (model_label, _id), row in loaded.items():
        grouped[model_label].append(row)
    names: dict[tuple[type, object], str] = {}
    for group_key, rows in grouped.items():
        model = by_model[group_key]
        names |= _related_names(rows, model)
    result = []
    for key in order:
        row = loaded.get(key)
        if row is None:
            continue
        model = by_model[key[0]]
        changes = _changes(model, row, names)
        if field_name and not any(c.name == field_name for c in changes):
            continue
        result.append(Entry(model, row, describe(model, row, names), row.history_type, changes))
    return result


# --- Which rows ----------------------------------------------------------------------------------


def rows_of(model, **filters):
    """The history rows of ``model`` matching ``filters``, as (key, history_id, date) values."""
    return (
        model.history.model.objects.filter(**filters)
        .order_by()
        .annotate(model=Value(model_key(model), output_field=models.CharField()))
        .values_list("model", "history_id", "history_date")
    )


def union(querysets):
    """One list of many models' rows, newest first: a queryset a paginator can slice and count."""
    querysets = list(querysets)
    if not querysets:
        return []
    first, *rest = querysets
    return first.union(*rest, all=True).order_by("-history_date", "-history_id")


def page_entries(page_rows, field_name=None) -> list[Entry]:
    """Entries for one page of ``union`` rows."""
    page_rows = list(page_rows)
    wanted: dict[type[models.Model], list[int]] = defaultdict(list)
    by_model = models_by_key()
    for key, history_id, _date in page_rows:
        wanted[by_model[key]].append(history_id)
    loaded = load(wanted)
    return entries(loaded, [(key, history_id) for key, history_id, _date in page_rows], field_name)


# --- An object's own timeline --------------------------------------------------------------------


def field_choices_of(querysets) -> list[tuple[str, str]]:
    """The fields a timeline can be narrowed to: those of the models it shows, once each."""
    seen: dict[str, str] = {}
    by_model = models_by_key()
    for queryset in querysets:
        model = next(m for m in by_model.values() if cast(Any, m).history.model is queryset.model)
        for name, label in field_choices(model):
            seen.setdefault(name, label)
    return sorted(seen.items(), key=lambda c: c[1])
