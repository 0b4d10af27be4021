"""Filters in words: what a FilterSet applies, as a reader of a printed page (or a chip above a list)
reads it, e.g. ``[("园区", "健康食品产业园、现代物流园"), ("项目级别", "省重点")]``."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import QuerySet
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
