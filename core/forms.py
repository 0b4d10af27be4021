"""Form helpers shared by every app's pages."""

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.forms import AdminPasswordChangeForm, PasswordChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BLANK_CHOICE_DASH, QuerySet
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from core.services import tokens_revoke_all

if TYPE_CHECKING:  # what the mixins below are mixed into
    _FormBase = forms.BaseForm
else:
    _FormBase = object

# The first choice of every filter's select: its empty value means "no filter", so a form sent
# untouched selects every row (django-filter's selects get it from FILTERS_EMPTY_CHOICE_LABEL).
ANY_CHOICE_LABEL = _("All")


class BootstrapFormMixin(_FormBase):
    """Gives widgets Bootstrap's classes, and marks fields with errors as invalid. Pickers over a
    table (model choice fields) become searchable selects, saying 请选择… where Django says ---------."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(field, forms.ModelChoiceField | forms.ModelMultipleChoiceField):
                searchable(widget)
            _replace_dashes(field)
            if isinstance(widget, forms.HiddenInput):
                continue
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class RevokeTokensOnSaveMixin:
    """Setting a password revokes the user's API tokens in the same transaction: whoever held the
    old password (or a token made with it) keeps no way in."""

    @transaction.atomic
    def save(self, commit=True):
        user = super().save(commit=commit)  # type: ignore[misc]  # each password form it is mixed into saves
        if commit:
            tokens_revoke_all(user=user)
        return user


class NewPasswordChangeForm(RevokeTokensOnSaveMixin, PasswordChangeForm):
    """Django's password change (the user's own, and the forced one), refusing to "change" to the
    password already in use."""

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # Django's form returns its cleaned_data
        new = cleaned.get("new_password1")
        if new and self.user.check_password(new):
            self.add_error("new_password1", _("Choose a password different from the current one."))
        return cleaned


class SetPasswordByAdminForm(RevokeTokensOnSaveMixin, AdminPasswordChangeForm):
    """The admin's "change password" of a user."""


def _chosen_objects(field, values: list) -> list:
    """The objects ``values`` name, read through the field, so text that is no id ("abc") is simply
    not shown: the form reports it as an invalid choice. One query for a multiple choice."""
    if isinstance(field, forms.ModelMultipleChoiceField):
        # Only what the field's queryset holds: a value it does not offer (another unit's person,
        # text that is no id) is left out here, and the form reports it as an invalid choice.
        key = field.to_field_name or "pk"
        ids = [str(v) for v in values if str(v).strip().isdigit() and int(v) <= 2**63 - 1]
        queryset = cast("QuerySet[Any]", field.queryset)  # a model choice field always has one
        return list(queryset.filter(**{f"{key}__in": ids})) if ids else []
    objects = []
    for value in values:
        try:
            obj = field.to_python(value)
        except ValidationError:
            continue
        if obj:
            objects.append(obj)
    return objects


class ChosenOnlySelect(forms.Select):
    """A filter's select over a big table (a province's 100,000 enterprises or 50,000 projects):
    it renders only the empty choice and the chosen object, one query for that one, instead of
    every row. People find the object by the list's text search; drill-down links pass its id."""

    label = None  # how the chosen object reads, when not as the field says (RemoteSelect)

    def optgroups(self, name, value, attrs=None):
        iterator = self.choices
        chosen = [v for v in value if v]
        field = getattr(iterator, "field", None)
        if field is not None:
            empty = [] if field.empty_label is None else [("", field.empty_label)]
            label = self.label or field.label_from_instance
            self.choices = empty + [
                (field.prepare_value(obj), label(obj)) for obj in _chosen_objects(field, chosen)
            ]
        try:
            return super().optgroups(name, value, attrs)
        finally:
            self.choices = iterator


# --- Searchable selects (static/js/selects.js turns them into Tom Select) ---------------------------

# Django's empty choice, "---------", reads as a placeholder in the portal's pickers.
PICK_PLACEHOLDER = _("Choose…")
SEARCH_PLACEHOLDER = _("Type to search…")


def searchable(widget: forms.Widget, placeholder=None) -> forms.Widget:
    """Mark a select for selects.js: a box to type in, and remove buttons instead of Ctrl-click on
    a multiple select. ``placeholder`` is shown while nothing is chosen (a single select's empty
    choice says it already)."""
    if isinstance(widget, forms.Select | forms.SelectMultiple):
        widget.attrs.setdefault("data-select", "")
        if placeholder is not None:
            widget.attrs.setdefault("data-placeholder", placeholder)
    return widget


def make_selects_searchable(form: forms.Form, placeholder=None) -> None:
    """Every select of ``form`` searchable (a filter form: multiple selects say ``placeholder``
    while nothing is chosen)."""
    for field in form.fields.values():
        widget = field.widget
        searchable(widget, placeholder if isinstance(widget, forms.SelectMultiple) else None)


def _replace_dashes(field: forms.Field) -> None:
    if isinstance(field, forms.ModelChoiceField):
        if field.empty_label == BLANK_CHOICE_DASH[0][1]:
            remote = isinstance(field.widget, RemoteSelect)
            field.empty_label = SEARCH_PLACEHOLDER if remote else PICK_PLACEHOLDER
    elif isinstance(field, forms.ChoiceField):
        choices = list(cast(Iterable[Any], field.choices))  # as the field normalised them
        if choices and tuple(choices[0]) == BLANK_CHOICE_DASH[0]:
            field.choices = [("", PICK_PLACEHOLDER), *choices[1:]]


class RemoteSelect(ChosenOnlySelect):
    """A picker over a big table (enterprises, projects, people): the page renders only the chosen
    option(s) and selects.js loads the others from the JSON lookup ``url_name`` (core.lookups)
    as the user types. ``params`` go with every lookup (``{"role": "staff"}``); ``depends_on`` maps a
    lookup parameter to another field of the form whose value it takes (``{"enterprise":
    "id_enterprise"}``, set by the form, which knows the ids), the select waiting until that has one.
    ``label``: how a chosen object reads, as the lookup writes it (core.selectors.person_label)."""

    def __init__(self, url_name: str, *, params: dict | None = None, label=None, attrs=None):
        super().__init__({"data-select": "", **(attrs or {})})
        self.url_name = url_name
        self.params = params or {}
        self.label = label

    def depends_on(self, **fields: str) -> None:
        self.attrs["data-remote-with"] = " ".join(f"{param}={id_}" for param, id_ in fields.items())

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        url = reverse(self.url_name)
        if self.params:
            url += "?" + urlencode(self.params)
        context["widget"]["attrs"]["data-remote"] = url
        return context


class RemoteSelectMultiple(RemoteSelect):
    allow_multiple_selected = True

    def __init__(self, url_name: str, *, params: dict | None = None, label=None, attrs=None):
        attrs = {"data-placeholder": SEARCH_PLACEHOLDER, **(attrs or {})}
        super().__init__(url_name, params=params, label=label, attrs=attrs)

    def value_from_datadict(self, data, files, name):
        # SelectMultiple's reading of a list, borrowed: this widget is a Select, not a SelectMultiple.
        return forms.SelectMultiple.value_from_datadict(self, data, files, name)  # type: ignore[arg-type]

    def value_omitted_from_data(self, data, files, name):
        return False  # as SelectMultiple: a browser sends nothing for no choice


class VersionedForm(BootstrapFormMixin, forms.Form):
    """Carries the version the editor loaded, so a save after someone else's is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def expected_version(self) -> int | None:
        return self.cleaned_data.get("version")


def apply_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's refusal on the form: on its field when the form has it, else on top."""
    if hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_messages)
    else:
        form.add_error(None, error.messages)


def saved_through(request, form: forms.BaseForm, save: Callable[[], Any], message: Any) -> bool:
    """Hand a posted, valid ``form`` to its service (``save``); True once it saved, with ``message``
    shown (a callable: called once saved). Not posted, not valid or refused (the refusal shown on
    the form): False, nothing saved."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        save()
    except ValidationError as error:
        apply_service_errors(form, error)
        return False
    messages.success(request, message() if callable(message) else message)
    return True


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
