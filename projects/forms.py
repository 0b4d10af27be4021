"""Forms of the staff workspace. They validate input; the services make the changes."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import BootstrapFormMixin, RemoteSelect, VersionedForm
from core.roles import Role
from core.selectors import people, person_label
from projects.choices import Stage
from projects.models import ApprovalMilestone, MonthlyProgress, Project

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


PROJECT_FIELDS = [
    "name",
    "code",
    "enterprise",
    "nature",
    "level",
    "industry",
    "park",
    "construction_content",
    "total_investment",
    "land_area",
    "planned_start",
    "planned_completion",
    "actual_start",
    "actual_completion",
    "responsible_leader",
    "responsible_unit",
    "staff_in_charge",
    "on_white_list",
    "location",
    "contact_person",
    "contact_phone",
]


class ProjectForm(BootstrapFormMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Project
        fields = PROJECT_FIELDS
        widgets = {
            "construction_content": forms.Textarea(attrs={"rows": 3}),
            "planned_start": DATE_INPUT,
            "planned_completion": DATE_INPUT,
            "actual_start": DATE_INPUT,
            "actual_completion": DATE_INPUT,
            "enterprise": RemoteSelect("lookup_enterprises"),
            "staff_in_charge": RemoteSelect("lookup_users", params={"role": Role.STAFF}, label=person_label),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff_in_charge"].queryset = people(role=Role.STAFF)
        self.fields["enterprise"].queryset = self.fields["enterprise"].queryset.only("pk", "name")
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def project_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in PROJECT_FIELDS}


class ProjectCreateForm(ProjectForm):
    stage = forms.TypedChoiceField(
        label=_("stage"), choices=Stage.choices, coerce=int, initial=Stage.PLANNING
    )
    stage_changed_on = forms.DateField(
        label=_("at this stage since"), widget=DATE_INPUT, initial=timezone.localdate, required=False
    )


class StageChangeForm(VersionedForm):
    stage = forms.TypedChoiceField(label=_("new stage"), choices=Stage.choices, coerce=int)
    changed_on = forms.DateField(label=_("date of change"), widget=DATE_INPUT, initial=timezone.localdate)
    reason = forms.CharField(
        label=_("reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when moving back to an earlier stage."),
    )


class ProgressForm(VersionedForm):
    completed_investment = forms.DecimalField(
        label=_("investment completed this month (10k yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )
    physical_progress = forms.CharField(
        label=_("physical progress"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    problems = forms.CharField(label=_("problems"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    # Shown only once the checks hold the figure back (projects.checks); the hidden amount is the
    # figure the user was warned about, so a confirmation never covers a figure changed since.
    confirm_warnings = forms.BooleanField(
        label=_("I have checked the figures above; save them as they are."), required=False
    )
    confirmed_amount = forms.DecimalField(
        max_digits=14, decimal_places=2, required=False, widget=forms.HiddenInput
    )

    figure_warnings: list = []

    @classmethod
    def for_report(cls, report: MonthlyProgress | None, **kwargs):
        # Version 0: there was no report when the form was opened, so one saved meanwhile is refused.
        initial = {"version": 0}
        if report is not None:
            initial = {
                "completed_investment": report.completed_investment,
                "physical_progress": report.physical_progress,
                "problems": report.problems,
                "version": report.version,
            }
        return cls(initial=initial, **kwargs)

    def progress_data(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in ("completed_investment", "physical_progress", "problems")
        }

    def confirmed(self) -> bool:
        """The user ticked the confirmation for the very figure they were warned about."""
        data = self.cleaned_data
        return bool(data.get("confirm_warnings")) and data.get("confirmed_amount") == data.get(
            "completed_investment"
        )

    def hold_for_confirmation(self, warnings: list) -> None:
        """Show the checks' warnings (``checks.FigureWarning``) with the confirmation box, unticked,
        for the figure just entered."""
        self.figure_warnings = list(warnings)
        data = self.data.copy()
        data[self.add_prefix("confirmed_amount")] = str(self.cleaned_data["completed_investment"])
        data.pop(self.add_prefix("confirm_warnings"), None)
        self.data = data


class GridRowForm(ProgressForm):
    """One project's line of the batch grid; a line left empty is skipped."""

    # The grid's cells, in the order the arrow keys move through them (static/js/grid.js).
    CELLS = ("completed_investment", "physical_progress", "problems")

    project = forms.IntegerField(widget=forms.HiddenInput)
    # A text box, not type=number: the grid's arrow keys need the caret's position, which a number
    # box does not give, and Up/Down would change the figure instead of moving to the next project.
    completed_investment = forms.DecimalField(
        label=_("this month (10k yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    physical_progress = forms.CharField(
        label=_("physical progress"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    problems = forms.CharField(label=_("problems"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, project_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        # Each cell is named by its project and its column, as a screen reader reads a table:
        # "<project> 本月完成（万元）" (the ids are the grid template's).
        for name in self.CELLS:
            self.fields[name].widget.attrs.update(
                {
                    "aria-labelledby": f"grid-name-{project_id} grid-col-{name}",
                    "data-grid-cell": name,
                }
            )

    @property
    def cells(self):
        """The row's fields in the grid's column order."""
        return [self[name] for name in self.CELLS]

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return (
            data.get("completed_investment") is None
            and not data.get("physical_progress")
            and not data.get("problems")
        )

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("physical_progress") or cleaned.get("problems")) and cleaned.get(
            "completed_investment"
        ) is None:
            self.add_error("completed_investment", _("Enter this month's completed investment (0 if none)."))
        return cleaned


class ReviewForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CommentForm(BootstrapFormMixin, forms.Form):
    text = forms.CharField(label=_("comment"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class PhotoForm(BootstrapFormMixin, forms.Form):
    image = forms.FileField(
        label=_("photo"),
        # No ``capture``: it would force the camera, and a photo taken earlier could not be picked;
        # with ``accept`` alone, phones offer the camera or the photo library.
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    caption = forms.CharField(label=_("caption"), max_length=200, required=False)


class MilestoneForm(BootstrapFormMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = ApprovalMilestone
        fields = [*ApprovalMilestone.KEPT_FIELDS, "note"]
        widgets = {
            "planned_date": DATE_INPUT,
            "completed_date": DATE_INPUT,
            "note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Kind and phase name the procedure; they are fixed once it exists.
            for name in ("kind", "phase"):
                self.fields[name].disabled = True
            self.fields["version"].initial = self.instance.version

    def milestone_data(self) -> dict:
        names = ["department", "status", "planned_date", "completed_date", "document_number", "note"]
        return {name: self.cleaned_data[name] for name in names}
