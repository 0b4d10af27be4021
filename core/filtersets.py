"""What every app's FilterSets share: the filter form, yes/no and ordering filters, id limits."""

import django_filters
from django import forms
from django.db.models import F
from django.forms.utils import pretty_name
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_filters.fields import DateRangeField

from core.forms import (
    ANY_CHOICE_LABEL,
    BootstrapFormMixin,
    make_selects_searchable,
)

YES_NO = [("true", _("Yes")), ("false", _("No"))]

# The largest id a database column holds; SQLite raises OverflowError beyond it (PostgreSQL just finds none).
MAX_ID = 2**63 - 1


def _refuse_huge_ids(clean):
    def guarded(value):
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            text = str(item).strip().lstrip("+-")
            if text.isascii() and text.isdigit() and int(text) > MAX_ID:
                raise forms.ValidationError(
                    forms.ModelChoiceField.default_error_messages["invalid_choice"], code="invalid_choice"
                )
        return clean(value)

    return guarded


class FilterForm(BootstrapFormMixin, forms.Form):
    """Every filter's form: searchable selects, a multiple one saying 全部 while nothing is chosen."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.clean = _refuse_huge_ids(field.clean)  # type: ignore[method-assign]  # this field only
        make_selects_searchable(self, ANY_CHOICE_LABEL)
        name_range_halves(self)


def name_range_halves(form):
    """A range's two boxes (a date range's 起 and 止) under its one label: the label names the first
    box only, so each box is named by itself ("开工日期 起", "开工日期 止") for a screen reader. A date's
    box is the browser's date picker (ISO dates, whatever the language), not a text box to type in."""
    for field in form.fields.values():
        halves = getattr(field.widget, "widgets", ())
        if len(halves) == 2:
            for half, end in zip(halves, (_("%(field)s, from"), _("%(field)s, to")), strict=True):
                half.attrs["aria-label"] = end % {"field": field.label}
                if isinstance(field, DateRangeField):
                    half.input_type = "date"  # the box shows what was sent, ISO from a date box


def _yes(value: str) -> bool:
    return value == "true"


class YesNoField(forms.TypedChoiceField):
    """Yes or no, after a first choice 全部 whose empty value is no filter. Without it a browser
    sends the first option of a select nobody touched, and every search also filtered on 是."""

    def __init__(self, *, choices=(), **kwargs):
        super().__init__(choices=[("", ANY_CHOICE_LABEL), *choices], **kwargs)


class YesNoFilter(django_filters.TypedChoiceFilter):
    """A yes/no filter: ``true`` or ``false`` (as the API takes them), empty or absent for every row.
    The declared choices stay YES_NO, so the API schema lists just those two."""

    field_class = YesNoField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", YES_NO)
        kwargs.setdefault("coerce", _yes)
        super().__init__(*args, **kwargs)


class OrderingFilter(django_filters.OrderingFilter):
    """django-filter's, with labels that stay lazy: its own "(descending)" labels are fixed in whatever
    language was active when the module was imported."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", _("Default order"))
        super().__init__(*args, **kwargs)

    def build_choices(self, fields, labels):
        ascending = [(param, labels.get(field, pretty_name(param))) for field, param in fields.items()]
        descending = [
            (f"-{param}", labels.get(f"-{param}", format_lazy(_("{label} (descending)"), label=label)))
            for param, label in ascending
        ]
        return [choice for pair in zip(ascending, descending, strict=True) for choice in pair]

    def get_ordering_value(self, param):
        # Empty values (a project without a plan has no rate) sort last both ways, on every database.
        descending = param.startswith("-")
        field = F(self.param_map.get(param.lstrip("-"), param.lstrip("-")))
        return field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)
