"""Filters in words: what a FilterSet applies, as a reader of a printed page (or a chip above a list)
reads it, e.g. ``[("园区", "健康食品产业园、现代物流园"), ("项目级别", "省重点")]``; and as chips,
"园区：健康食品产业园 ×", one per value, each linking to the page without that value."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import pgettext


def applied_filters(filterset, *, exclude: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(label, value text) for each filter of a bound FilterSet that narrows its rows, in the form's
    order. Orderings narrow nothing and are left out, and so is everything when the form has errors:
    the pages then apply no filter at all and say so. Reads no row but the chosen objects', which
    the form has already fetched."""
    if not filterset.is_bound or not filterset.is_valid():
        return []
    form = filterset.form
    words = []
    for name, filter_ in filterset.filters.items():
        if name in exclude or isinstance(filter_, django_filters.OrderingFilter):
            continue
        text = _value_text(form.fields[name], form[name].value(), form.cleaned_data.get(name))
        if text:
            words.append((str(form.fields[name].label), text))
    return words


@dataclass(frozen=True)
class Chip:
    name: str  # the filter's parameter
    label: str  # 园区
    value: str  # 健康食品产业园
    url: str  # this page without this value, from its first page


def filter_chips(filterset, query: QueryDict, path: str) -> list[Chip]:
    """A chip for each value of each filter of the bound ``filterset`` that narrows its rows, in the
    form's order: one per value of a multiple choice (two parks, two chips), one for a from–to range.
    ``query`` is the page's query string, ``path`` its address. Nothing when the filters have errors
    (the page shows the errors and applies none). No query but the chosen objects', already read."""
    if not filterset.is_bound or not filterset.is_valid():
        return []
    form = filterset.form
    chips = []
    for name, filter_ in filterset.filters.items():
        if isinstance(filter_, django_filters.OrderingFilter):
            continue
        field, cleaned = form.fields[name], form.cleaned_data.get(name)
        label = str(field.label)
        params = _params(field.widget, name)
        sent = [(param, value) for param in params for value in query.getlist(param) if value.strip()]
        if not sent:
            continue
        if len(params) > 1 or not _multiple(field):
            text = _value_text(field, form[name].value(), cleaned)
            if text:
                chips.append(Chip(name, label, text, _without(query, path, [(p, None) for p in params])))
            continue
        objects = _objects_by_value(field, cleaned)
        for param, value in sent:
            item = objects.get(value.strip(), value) if objects is not None else value
            text = _value_text(field, [value], [item])
            if text:
                chips.append(Chip(name, label, text, _without(query, path, [(param, value)])))
    return chips


def _params(widget, name: str) -> list[str]:
    """The query parameters a field reads: a range's two (started_after, started_before) or its name."""
    if isinstance(widget, django_filters.widgets.SuffixedMultiWidget):
        return [widget.suffixed(name, suffix) for suffix in widget.suffixes]
    if isinstance(widget, forms.MultiWidget):
        # Set by MultiWidget.__init__; django-stubs does not declare it.
        return [f"{name}{suffix}" for suffix in widget.widgets_names]  # type: ignore[attr-defined]
    return [name]


def _multiple(field) -> bool:
    return isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField)


def _objects_by_value(field, cleaned) -> dict | None:
    """A multiple model choice's chosen objects by the value that named them (and "null" by itself);
    None for a field of plain choices."""
    if not hasattr(field, "queryset"):
        return None
    objects = {}
    for item in cleaned or []:
        key = item if isinstance(item, str) else field.prepare_value(item)
        objects[str(key)] = item
    return objects


def _without(query: QueryDict, path: str, removed: list[tuple[str, str | None]]) -> str:
    """``path`` with ``query`` less ``removed`` (a value of a parameter, or all of it for None), and
    no page number: fewer filters, more rows, from the first page."""
    rest = query.copy()
    rest.pop("page", None)
    for param, value in removed:
        if value is None:
            rest.pop(param, None)
        else:
            rest.setlist(param, [item for item in rest.getlist(param) if item != value])
    encoded = rest.urlencode()
    return f"{path}?{encoded}" if encoded else path


def _value_text(field, raw, value) -> str:
    if value is None or value == "" or (isinstance(value, list | tuple) and not value):
        return ""
    if value is False and isinstance(field.widget, forms.CheckboxInput):  # a box left unticked
        return ""
    if isinstance(value, slice):  # a from–to range; either end may be open
        if value.start is None and value.stop is None:
            return ""
        start = "" if value.start is None else _item_text(field, value.start)
        stop = "" if value.stop is None else _item_text(field, value.stop)
        return pgettext("a range of values", "%(start)s – %(stop)s") % {"start": start, "stop": stop}
    null_value = getattr(field, "null_value", None)
    null_label = getattr(field, "null_label", None)
    if hasattr(field, "choices") and not hasattr(field, "queryset"):
        # A choice field: the labels of the values sent (a typed field's cleaned value is coerced).
        labels = {str(key): str(label) for key, label in _flat_choices(field.choices)}
        sent = raw if isinstance(raw, list | tuple) else [raw]
        items = [labels.get(str(item), str(item)) for item in sent if item not in (None, "")]
    else:
        items = [
            str(null_label) if null_label is not None and item == null_value else _item_text(field, item)
            for item in (value if isinstance(value, list | tuple | QuerySet) else [value])
        ]
    return pgettext("between values of a filter", ", ").join(items)


def _item_text(field, item) -> str:
    if isinstance(item, bool):
        return _("Yes") if item else _("No")
    if isinstance(item, datetime.date):
        return item.strftime("%Y-%m-%d")
    return str(item)


def _flat_choices(choices):
    for key, label in choices:
        if isinstance(label, list | tuple):  # an optgroup
            yield from label
        else:
            yield key, label
