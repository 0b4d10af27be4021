"""Form helpers shared by every app's pages."""

from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class BootstrapFormMixin:
    """Gives widgets Bootstrap's classes, and marks fields with errors as invalid."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
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


class NewPasswordChangeForm(PasswordChangeForm):
    """Django's password change, refusing to "change" to the password already in use."""

    def clean(self):
        cleaned = super().clean()
        new = cleaned.get("new_password1")
        if new and self.user.check_password(new):
            self.add_error("new_password1", _("Choose a password different from the current one."))
        return cleaned


class ChosenOnlySelect(forms.Select):
    """A filter's select over a big table (a province's 100,000 enterprises or 50,000 projects):
    it renders only the empty choice and the chosen object, one query for that one, instead of
    every row. People find the object by the list's text search; drill-down links pass its id."""

    def optgroups(self, name, value, attrs=None):
        iterator = self.choices
        chosen = [v for v in value if v]
        field = getattr(iterator, "field", None)
        if field is not None:
            objects = []
            for chosen_value in chosen:
                # Through the field, so text that is no id ("abc") is simply not shown: the form
                # reports it as an invalid choice.
                try:
                    objects.append(field.to_python(chosen_value))
                except ValidationError:
                    pass
            self.choices = [("", field.empty_label or "")] + [
                (field.prepare_value(obj), field.label_from_instance(obj)) for obj in objects if obj
            ]
        try:
            return super().optgroups(name, value, attrs)
        finally:
            self.choices = iterator
