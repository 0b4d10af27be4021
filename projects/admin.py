from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin import CachedChoicesMixin, ReadOnlyAdmin, money_column
from core.admin_history import HistoryAdmin
from core.formatting import money, percent
from projects import checks, figures, selectors, services
from projects.choices import BatchRole
from projects.models import (
    AnnualPlan,
    ApprovalMilestone,
    Batch,
    BatchMembership,
    MonthlyProgress,
    MonthPublication,
    Project,
    ProjectComment,
    StageChange,
)
from projects.permissions import can_edit_project, editable_projects
from projects.services import ensure_month_open


class ProjectScopeMixin:
    """Admin changes follow the same scope as the workspace: staff change only their projects."""

    def project_of(self, obj):
        return obj if isinstance(obj, Project) else obj.project

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or can_edit_project(request.user, self.project_of(obj)))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or can_edit_project(request.user, self.project_of(obj)))

    def has_add_permission(self, request, *args):
        # Inlines are asked with the parent project; model admins without one.
        allowed = super().has_add_permission(request, *args)
        obj = args[0] if args else None
        return allowed and (obj is None or can_edit_project(request.user, self.project_of(obj)))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A plan, report, procedure or batch entry is only put on a project the user may change.
        if db_field.name == "project" and request is not None:
            kwargs["queryset"] = editable_projects(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ProjectInline(ProjectScopeMixin, CachedChoicesMixin, admin.TabularInline):
    """An inline on the project page; rows name their project, so fetch it with them."""

    extra = 0
    related = ["project"]
    # Several text columns side by side: keep each row to a couple of lines.
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 28})}}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.related)


class AnnualPlanInline(ProjectInline):
    model = AnnualPlan
    fields = ["year", "planned_investment", "category", "goals"]


class ReviewFieldsMixin:
    """Only reviewers set a report's status: approved figures are the official ones."""

    review_fields = ["status", "review_comment"]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("projects.review_monthlyprogress"):
            readonly += [name for name in self.review_fields if name not in readonly]
        return readonly


class MonthlyProgressAdminForm(forms.ModelForm):
    """The admin's report form holds a figure to the same checks as the pages, the API and the
    import (``projects.checks``), and refuses a published month's reports (月报发布)."""

    confirm_warnings = forms.BooleanField(
        label=_("I have checked the figure; save it"),
        required=False,
        help_text=_("Tick to keep a figure the checks hold back."),
    )

    class Meta:
        model = MonthlyProgress
        fields = "__all__"  # noqa: DJ007 - every field of the report a person may edit, in its order

    def clean(self):
        cleaned = super().clean()
        project, year, month = (
            cleaned.get("project") or getattr(self.instance, "project", None),
            cleaned.get("year") or self.instance.year,
            cleaned.get("month") or self.instance.month,
        )
        if not (project and year and month):
            return cleaned
        try:
            ensure_month_open(year, month)
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None
        amount = cleaned.get("completed_investment")
        if "completed_investment" not in self.changed_data or amount is None:
            return cleaned
        verdict = checks.check_figure(project=project, year=year, month=month, amount=amount)
        if verdict.refusal is not None:
            self.add_error("completed_investment", verdict.refusal.messages)
        elif verdict.warnings and not cleaned.get("confirm_warnings"):
            self.add_error("completed_investment", [w.message for w in verdict.warnings])
            self.add_error("confirm_warnings", _("Tick the box if the figure is right."))
        elif verdict.warnings:
            self.instance._change_reason = checks.confirmation_reason(verdict.warnings)
        return cleaned


class MonthlyProgressInline(ReviewFieldsMixin, ProjectInline):
    model = MonthlyProgress
    form = MonthlyProgressAdminForm  # an inline row is held to the same checks
    fields = [
        "year",
        "month",
        *MonthlyProgress.REPORTED_FIELDS,
        "status",
        "submitted_by",
        "reviewed_by",
        "confirm_warnings",
    ]
    readonly_fields = ["submitted_by", "reviewed_by"]
    related = ["project", "submitted_by", "reviewed_by"]

    # A row cannot be locked on its own in an inline, so reporters read here and
    # write on the monthly progress pages, where submitted reports are locked.
    def has_change_permission(self, request, obj=None):
        reviewer = request.user.has_perm("projects.review_monthlyprogress")
        return reviewer and super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        reviewer = request.user.has_perm("projects.review_monthlyprogress")
        return reviewer and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # reports are never deleted, as in the API: approved figures are the record


class ApprovalMilestoneInline(ProjectInline):
    model = ApprovalMilestone
    fields = ApprovalMilestone.KEPT_FIELDS


class BatchMembershipInline(ProjectInline):
    model = BatchMembership
    fields = ["batch", "role"]
    related = ["project", "batch"]


class StageChangeInline(ProjectInline):
    """The stage history, shown but never edited: it is the record of what happened."""

    model = StageChange
    fields = ["changed_on", "from_stage", "to_stage", "reason", "changed_by", "recorded_at"]
    readonly_fields = fields
    can_delete = False
    related = ["project", "changed_by"]

    def has_add_permission(self, request, obj=None):
        return False


class ProjectAdminForm(forms.ModelForm):
    stage_changed_on = forms.DateField(
        label=_("date of stage change"),
        required=False,
        help_text=_("When the project reached the stage chosen above; today if left empty."),
        widget=admin.widgets.AdminDateWidget,
    )
    stage_reason = forms.CharField(
        label=_("reason for the stage change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when moving the project back to an earlier stage."),
    )

    class Meta:
        model = Project
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose what is shown

    def clean(self):
        cleaned = super().clean()
        stage = cleaned.get("stage")
        if stage is None:
            return cleaned
        changed_on = cleaned.get("stage_changed_on") or timezone.localdate()
        try:
            if self.instance.pk:
                if stage != self.instance.stage:
                    services.validate_stage_change(
                        project=self.instance,
                        to_stage=stage,
                        reason=cleaned.get("stage_reason", ""),
                        changed_on=changed_on,
                    )
            else:
                services.validate_not_future(changed_on)
        except forms.ValidationError as error:
            fields = {"reason": "stage_reason", "changed_on": "stage_changed_on"}
            for field, messages in error.message_dict.items():
                self.add_error(fields.get(field, field), messages)
        return cleaned


@admin.register(Project)
class ProjectAdmin(ProjectScopeMixin, CachedChoicesMixin, HistoryAdmin):
    form = ProjectAdminForm
    list_display = [
        "name",
        "enterprise",
        "level",
        "park",
        "stage",
        money_column("total_investment", _("total investment (10k yuan)")),
        money_column("planned_investment", _("annual plan (10k yuan)")),
        money_column("ytd_completed", _("completed year to date (10k yuan)")),
        "completion_column",
        "responsible_leader",
        "responsible_unit",
        "staff_in_charge",
    ]
    list_filter = [
        "level",
        "stage",
        "nature",
        "park",
        "industry__cluster",
        "industry",
        "on_white_list",
        "responsible_unit",
        "responsible_leader",
        "batch_memberships__batch",
        "batch_memberships__role",
    ]
    list_select_related = [
        "enterprise",
        "park",
        "responsible_leader",
        "responsible_unit",
        "staff_in_charge",
    ]
    search_fields = ["name", "code", "enterprise__name", "location"]
    autocomplete_fields = [
        "enterprise",
        "industry",
        "park",
        "responsible_leader",
        "responsible_unit",
        "staff_in_charge",
    ]
    date_hierarchy = "planned_start"
    readonly_fields = ["investment_per_mu_display", "created_at", "updated_at"]
    fieldsets = [
        (
            None,
            {"fields": ["name", "code", "enterprise", "nature", "level", "industry", "park", "location"]},
        ),
        (
            _("Investment and scale"),
            {
                "fields": [
                    "construction_content",
                    "total_investment",
                    "land_area",
                    "investment_per_mu_display",
                ]
            },
        ),
        (_("Stage"), {"fields": ["stage", "stage_changed_on", "stage_reason"]}),
        (
            _("Schedule"),
            {"fields": ["planned_start", "planned_completion", "actual_start", "actual_completion"]},
        ),
        (
            _("Responsibility"),
            {
                "fields": [
                    "responsible_leader",
                    "responsible_unit",
                    "staff_in_charge",
                    "on_white_list",
                    "contact_person",
                    "contact_phone",
                ]
            },
        ),
        (_("Record"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    inlines = [
        AnnualPlanInline,
        MonthlyProgressInline,
        ApprovalMilestoneInline,
        BatchMembershipInline,
        StageChangeInline,
    ]

    @admin.display(description=_("investment per mu (10k yuan)"))
    def investment_per_mu_display(self, obj):
        return money(obj.investment_per_mu)

    def reporting_period(self, request) -> selectors.Period:
        # The latest month with approved figures; this month when there are none.
        if not hasattr(request, "_reporting_period"):
            today = timezone.localdate()
            request._reporting_period = selectors.latest_period() or selectors.Period(today.year, today.month)
        return request._reporting_period

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return selectors.projects_with_figures(queryset, period=self.reporting_period(request))

    def changelist_view(self, request, extra_context=None):
        period = self.reporting_period(request)
        title = _("Projects — plan and completion, %(year)s, months 1–%(month)s") % {
            "year": period.year,
            "month": period.month,
        }
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    @admin.display(description=_("completion rate"))
    def completion_column(self, obj):
        rate = percent(figures.completion_rate(obj.ytd_completed, obj.planned_investment))
        return _("%(rate)s lagging") % {"rate": rate} if obj.is_lagging else rate

    def save_model(self, request, obj, form, change):
        # Route the write through the services so the stage history is kept.
        model_fields = {field.name for field in Project._meta.concrete_fields} - {"id", "stage"}
        stage_changed_on = form.cleaned_data.get("stage_changed_on") or timezone.localdate()
        if change:
            project = Project.objects.get(pk=obj.pk)
            data = {name: form.cleaned_data[name] for name in form.changed_data if name in model_fields}
            services.project_update(
                project=project,
                user=request.user,
                data=data,
                stage=form.cleaned_data["stage"],
                stage_changed_on=stage_changed_on,
                stage_reason=form.cleaned_data.get("stage_reason", ""),
            )
            return
        data = {name: form.cleaned_data[name] for name in form.cleaned_data if name in model_fields}
        data = {name: value for name, value in data.items() if name not in {"created_at", "updated_at"}}
        project = services.project_create(
            user=request.user, data=data, stage=form.cleaned_data["stage"], stage_changed_on=stage_changed_on
        )
        # The inlines are saved against ``obj``: make it the row just created.
        obj.pk = project.pk
        obj._state.adding = False
        obj._state.db = project._state.db


@admin.register(AnnualPlan)
class AnnualPlanAdmin(ProjectScopeMixin, HistoryAdmin):
    list_display = [
        "project",
        "year",
        money_column("planned_investment", _("planned investment (10k yuan)")),
        "category",
    ]
    list_filter = ["year", "category", "project__level", "project__park"]
    list_select_related = ["project"]
    search_fields = ["project__name", "project__enterprise__name"]
    autocomplete_fields = ["project"]


@admin.register(MonthlyProgress)
class MonthlyProgressAdmin(ProjectScopeMixin, ReviewFieldsMixin, HistoryAdmin):
    form = MonthlyProgressAdminForm
    review_fields = ["status", "review_comment", "submitted_by", "submitted_at", "reviewed_by", "reviewed_at"]
    list_display = [
        "project",
        "year",
        "month",
        money_column("completed_investment", _("completed this month (10k yuan)")),
        "status",
        "submitted_by",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
    ]
    list_filter = ["status", "year", "month", "project__level", "project__park"]
    list_select_related = ["project", "submitted_by", "reviewed_by"]
    search_fields = ["project__name", "project__enterprise__name", "physical_progress", "problems"]
    autocomplete_fields = ["project", "submitted_by", "reviewed_by"]
    date_hierarchy = "submitted_at"

    def has_change_permission(self, request, obj=None):
        # Submitted and approved reports are locked for reporters here as on the pages.
        allowed = super().has_change_permission(request, obj)
        return allowed and (
            obj is None
            or (obj.is_editable or request.user.has_perm("projects.review_monthlyprogress"))
            # A published month's figures are locked for everyone until it is reopened on its page.
            and not MonthPublication.objects.filter(
                year=obj.year, month=obj.month, is_published=True
            ).exists()
        )

    def has_delete_permission(self, request, obj=None):
        return False  # never deleted, as in the API: approved figures are the record


@admin.register(ApprovalMilestone)
class ApprovalMilestoneAdmin(ProjectScopeMixin, HistoryAdmin):
    list_display = ["project", *ApprovalMilestone.KEPT_FIELDS]
    list_filter = ["status", "kind", "department", "project__level", "project__park"]
    list_select_related = ["project", "department"]
    search_fields = ["project__name", "document_number"]
    autocomplete_fields = ["project", "department"]
    date_hierarchy = "planned_date"


class BatchMembershipInBatchInline(admin.TabularInline):
    model = BatchMembership
    extra = 0
    fields = ["project", "role"]
    autocomplete_fields = ["project"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project", "batch")


@admin.register(Batch)
class BatchAdmin(HistoryAdmin):
    list_display = ["__str__", "number", "announced_on", "sign_count", "start_count", "produce_count"]
    search_fields = ["number", "note"]
    date_hierarchy = "announced_on"
    inlines = [BatchMembershipInBatchInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                **{
                    f"{role}_total": Count("memberships", filter=Q(memberships__role=role))
                    for role in BatchRole.values
                }
            )
        )

    @admin.display(description=_("to sign"))
    def sign_count(self, obj):
        return obj.sign_total

    @admin.display(description=_("to start"))
    def start_count(self, obj):
        return obj.start_total

    @admin.display(description=_("to produce"))
    def produce_count(self, obj):
        return obj.produce_total


@admin.register(BatchMembership)
class BatchMembershipAdmin(ProjectScopeMixin, HistoryAdmin):
    list_display = ["batch", "role", "project", "project_stage"]
    list_filter = ["batch", "role", "project__stage"]
    list_select_related = ["batch", "project"]
    search_fields = ["project__name"]
    autocomplete_fields = ["batch", "project"]

    @admin.display(description=_("current stage"), ordering="project__stage")
    def project_stage(self, obj):
        return obj.project.get_stage_display()


@admin.register(ProjectComment)
class ProjectCommentAdmin(admin.ModelAdmin):
    """Comments are a record: read here, written on the project page."""

    list_display = ["project", "author", "by_leader", "created_at"]
    list_filter = ["by_leader"]
    list_select_related = ["project", "author"]
    search_fields = ["project__name", "text"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyAdmin):
    """Read-only: stage history is written only by the stage-change service."""

    list_display = ["project", "changed_on", "from_stage", "to_stage", "reason", "changed_by"]
    list_filter = ["to_stage", "from_stage"]
    list_select_related = ["project", "changed_by"]
    search_fields = ["project__name", "reason"]
    date_hierarchy = "changed_on"


@admin.register(MonthPublication)
class MonthPublicationAdmin(ReadOnlyAdmin):
    """Read-only: a month is published and reopened on its page (月报发布), through the service that
    checks its reports are in and records who and why."""

    list_display = ["__str__", "is_published", "published_by", "published_at", "reopened_by", "reopen_reason"]
    list_filter = ["is_published", "year"]
    list_select_related = ["published_by", "reopened_by"]
