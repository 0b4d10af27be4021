"""Forms of the enterprise, visit and problem pages. They validate input; the services make the changes."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import BootstrapFormMixin, RemoteSelect, RemoteSelectMultiple, VersionedForm
from core.models import User
from core.selectors import ANY_ROLE, people, person_label
from enterprises.models import Enterprise
from problems.choices import ClosureGrade, Satisfaction
from problems.models import ProblemTicket, Visit
from projects.forms import DATE_INPUT
from projects.models import Project
from reference.models import Department

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _active_units():
    return Department.objects.filter(is_active=True).order_by("name")


def _handlers():
    return (
        User.objects.filter(is_active=True, department__isnull=False)
        .select_related("department")
        .order_by("department__name", "username")
    )


class HandlerChoiceField(forms.ModelChoiceField):
    """A handler, picked among the chosen unit's people: the page renders only the chosen one and
    selects.js asks the people lookup for the unit's (``?unit=``) as one types, so no page lists
    every unit's people. The service refuses a handler of another unit with a message."""

    def __init__(self, **kwargs):
        super().__init__(widget=RemoteSelect("lookup_users", label=person_label), **kwargs)

    def label_from_instance(self, obj):
        return person_label(obj)


def _pick_handlers_of_unit(form) -> None:
    """The handler select follows the unit select of the same form: disabled until a unit is chosen,
    emptied when another is."""
    form.fields["handler"].widget.depends_on(unit=form["unit"].auto_id)
    form.fields["handler"].help_text = _("A person of the chosen unit; left empty, the unit decides.")


# --- Problems -------------------------------------------------------------------------

PROBLEM_FIELDS = ["title", "category", "description", "fence", "is_major"]
TICKET_FIELDS = ["enterprise", "project", "source", *PROBLEM_FIELDS, "responsible_leader"]


class TicketForm(BootstrapFormMixin, forms.ModelForm):
    """A problem recorded on its own (hotline, meeting, the enterprise's own report …)."""

    collected_at = forms.DateTimeField(
        label=_("collected at"),
        required=False,
        widget=DATETIME_INPUT,
        help_text=_("When the problem was collected; now if left empty. The “13710” clock starts here."),
    )
    unit = forms.ModelChoiceField(
        label=_("assign at once to"),
        queryset=Department.objects.none(),
        required=False,
        help_text=_("Optional: the responsible unit, so the problem is assigned as it is recorded."),
    )

    class Meta:
        model = ProblemTicket
        fields = TICKET_FIELDS
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "enterprise": RemoteSelect("lookup_enterprises"),
            "project": RemoteSelect("lookup_projects"),
        }

    def __init__(self, *args, can_assign=False, visit=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = Enterprise.objects.only("pk", "name")
        self.fields["project"].queryset = Project.objects.only("pk", "name")
        # The project picker offers the chosen enterprise's projects.
        self.fields["project"].widget.depends_on(enterprise=self["enterprise"].auto_id)
        if visit is not None:
            # A visit's problem belongs to the visited enterprise and came from the visit.
            self.fields["enterprise"].disabled = True
            self.fields["source"].disabled = True
            self.fields["project"].queryset = self.fields["project"].queryset.filter(
                enterprise_id=visit.enterprise_id
            )
        if can_assign:
            self.fields["unit"].queryset = _active_units()
        else:
            del self.fields["unit"]

    def clean_collected_at(self):
        value = self.cleaned_data.get("collected_at")
        if value and value > timezone.now():
            raise forms.ValidationError(_("A problem cannot be collected in the future."))
        return value

    def ticket_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in TICKET_FIELDS}


class TicketEditForm(BootstrapFormMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = ProblemTicket
        fields = ["project", "source", *PROBLEM_FIELDS, "responsible_leader"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "project": RemoteSelect("lookup_projects"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        projects = Project.objects.only("pk", "name")
        if self.instance.enterprise_id:
            projects = projects.filter(enterprise_id=self.instance.enterprise_id)
            self.fields["project"].widget.params = {"enterprise": self.instance.enterprise_id}
        self.fields["project"].queryset = projects
        self.fields["version"].initial = self.instance.version

    def ticket_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ProblemRowForm(BootstrapFormMixin, forms.ModelForm):
    """One problem of a visit; rows left blank are skipped."""

    class Meta:
        model = ProblemTicket
        fields = PROBLEM_FIELDS
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.empty_permitted = True
        self.use_required_attribute = False

    def problem_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in PROBLEM_FIELDS}


ProblemRowFormSet = forms.formset_factory(ProblemRowForm, extra=3, max_num=20, validate_max=True)


class VisitForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Visit
        fields = ["enterprise", "visited_on", "visitors", "unit", "notes"]
        widgets = {
            "visited_on": DATE_INPUT,
            "notes": forms.Textarea(attrs={"rows": 3}),
            "enterprise": RemoteSelect("lookup_enterprises"),
            "visitors": RemoteSelectMultiple("lookup_users", params={"role": ANY_ROLE}, label=person_label),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = Enterprise.objects.only("pk", "name")
        self.fields["visitors"].queryset = people(role=ANY_ROLE)
        self.fields["unit"].queryset = _active_units()

    def clean_visited_on(self):
        value = self.cleaned_data["visited_on"]
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("A visit cannot be dated in the future."))
        return value

    def visit_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("enterprise", "visited_on", "unit", "notes")}


# --- Actions on a ticket ------------------------------------------------------------------


class ActionForm(VersionedForm):
    """An action's form; ``version`` is the ticket's version when the page was opened."""

    def __init__(self, *args, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        if ticket is not None and not self.is_bound:
            self.fields["version"].initial = ticket.version


def _textarea(rows=2):
    return forms.Textarea(attrs={"rows": rows})


class AssignForm(ActionForm):
    unit = forms.ModelChoiceField(label=_("responsible unit"), queryset=Department.objects.none())
    handler = HandlerChoiceField(label=_("handler"), queryset=User.objects.none(), required=False)
    is_major = forms.BooleanField(label=_("major or complex"), required=False)
    note = forms.CharField(label=_("instructions"), required=False, widget=_textarea())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _active_units()
        self.fields["handler"].queryset = _handlers()
        _pick_handlers_of_unit(self)
        if self.ticket is not None:
            self.fields["is_major"].initial = self.ticket.is_major


class ReassignForm(ActionForm):
    unit = forms.ModelChoiceField(label=_("new responsible unit"), queryset=Department.objects.none())
    handler = HandlerChoiceField(label=_("handler"), queryset=User.objects.none(), required=False)
    reason = forms.CharField(label=_("reason"), required=False, widget=_textarea())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _active_units()
        self.fields["handler"].queryset = _handlers()
        _pick_handlers_of_unit(self)


class TextForm(ActionForm):
    """One text box; the services say when it may not be empty."""

    text = forms.CharField(label=_("text"), widget=_textarea(3), required=False)

    def __init__(self, *args, label=None, **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["text"].label = label


class PlanForm(ActionForm):
    plan = forms.CharField(label=_("plan and timeline"), widget=_textarea(3), required=False)
    committed_date = forms.DateField(label=_("committed resolution date"), widget=DATE_INPUT, required=False)


class ResolveForm(ActionForm):
    resolution = forms.CharField(label=_("resolution"), widget=_textarea(4), required=False)


GRADE_CHOICES = [("", _("no grade")), *ClosureGrade.choices]


class CloseForm(ActionForm):
    grade = forms.ChoiceField(label=_("closure grade"), choices=GRADE_CHOICES, required=False)
    comment = forms.CharField(label=_("comment"), required=False, widget=_textarea())


class GradeForm(ActionForm):
    grade = forms.ChoiceField(label=_("closure grade"), choices=ClosureGrade.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.ticket is not None and self.ticket.closure_grade:
            self.fields["grade"].initial = self.ticket.closure_grade


class RateForm(ActionForm):
    satisfaction = forms.ChoiceField(
        label=_("the enterprise's rating"), choices=[("", "—"), *Satisfaction.choices], required=False
    )
    comment = forms.CharField(label=_("enterprise's comment"), required=False, widget=_textarea())


class AttachmentForm(ActionForm):
    file = forms.FileField(label=_("file"))
