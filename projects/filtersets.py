"""Which projects: one FilterSet for the project list, its Excel export and the API."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.filtersets import FilterForm, OrderingFilter, YesNoFilter
from core.forms import (
    ChosenOnlySelect,
    RemoteSelect,
)
from core.roles import Role
from core.selectors import people, person_label
from projects import choices, figures
from projects.models import AnnualPlan, ApprovalMilestone, Batch, BatchMembership, MonthlyProgress, Project
from reference.models import Cluster, Department, Industry, Leader, Park


class ProjectFilterSet(django_filters.FilterSet):
    """Filters a queryset that carries the year figures (``figures.annotate_year_figures``)."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        widget=forms.TextInput(attrs={"placeholder": _("Project or enterprise name, or code")}),
    )
    level = django_filters.MultipleChoiceFilter(
        label=_("level"), choices=choices.Level.choices, distinct=False
    )
    stage = django_filters.MultipleChoiceFilter(
        label=_("stage"), choices=choices.Stage.choices, distinct=False
    )
    nature = django_filters.MultipleChoiceFilter(
        label=_("nature"), choices=choices.Nature.choices, distinct=False
    )
    # "null" selects the projects without one, as the dashboard's "none" rows link to.
    park = django_filters.ModelMultipleChoiceFilter(
        label=_("park"), queryset=Park.objects.all(), distinct=False, null_label=_("no park")
    )
    cluster = django_filters.ModelChoiceFilter(
        label=_("industrial cluster"),
        field_name="industry__cluster",
        queryset=Cluster.objects.all(),
        null_label=_("no cluster"),
    )
    industry = django_filters.ModelChoiceFilter(
        label=_("industry"), queryset=Industry.objects.all(), null_label=_("no industry")
    )
    batch = django_filters.ModelChoiceFilter(
        label=_("“three batches” batch"), queryset=Batch.objects.all(), method="filter_batch"
    )
    batch_role = django_filters.ChoiceFilter(
        label=_("role in the batch"), choices=choices.BatchRole.choices, method="filter_batch_role"
    )
    on_white_list = YesNoFilter(label=_("white list"))
    responsible_leader = django_filters.ModelChoiceFilter(
        label=_("responsible leader"), queryset=Leader.objects.all(), null_label=_("no leader")
    )
    responsible_unit = django_filters.ModelChoiceFilter(
        label=_("responsible unit"), queryset=Department.objects.all(), null_label=_("no unit")
    )
    # Former staff too: their projects keep them until reassigned.
    staff_in_charge = django_filters.ModelChoiceFilter(
        label=_("staff member in charge"),
        queryset=people(role=Role.STAFF, active_only=False),
        widget=RemoteSelect("lookup_users", params={"role": Role.STAFF, "inactive": "1"}, label=person_label),
    )
    on_plan = YesNoFilter(label=_("in the year's plan"), method="filter_on_plan")
    reported = YesNoFilter(label=_("reported for the month"), field_name="has_month_report")
    started = django_filters.DateFromToRangeFilter(
        label=_("construction started between"), field_name="actual_start", method="filter_started"
    )
    into_production = django_filters.DateFromToRangeFilter(
        label=_("went into production between"), method="filter_into_production"
    )
    lagging = YesNoFilter(label=_("behind schedule"), field_name="is_lagging")
    ordering = OrderingFilter(
        label=_("sort by"),
        fields=[
            ("name", "name"),
            ("total_investment", "total_investment"),
            ("planned_investment", "planned_investment"),
            ("ytd_completed", "ytd_completed"),
            ("completion_ratio", "rate"),
            ("stage", "stage"),
            ("level", "level"),
            ("park__name", "park"),
        ],
        field_labels={
            "name": _("project name"),
            "total_investment": _("total investment"),
            "planned_investment": _("annual plan"),
            "ytd_completed": _("completed this year"),
            "completion_ratio": _("completion rate"),
            "stage": _("stage"),
            "level": _("level"),
            "park__name": _("park"),
        },
    )

    class Meta:
        model = Project
        fields = []
        form = FilterForm

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(code__icontains=value)
            | Q(enterprise__name__icontains=value)
            | Q(enterprise__short_name__icontains=value)
        )

    def filter_on_plan(self, queryset, name, value: bool):
        if value is None or value == "":
            return queryset
        return queryset.filter(figures.on_roster_q() if value else figures.off_roster_q())

    def filter_started(self, queryset, name, value):
        return queryset.filter(figures.started_between_q(value.start, value.stop)) if value else queryset

    def filter_into_production(self, queryset, name, value):
        return (
            queryset.filter(figures.into_production_between_q(value.start, value.stop)) if value else queryset
        )

    def filter_batch_role(self, queryset, name, value):
        return self.filter_batch(queryset, name, value)

    @extend_schema_field(OpenApiTypes.INT)  # the API schema: a batch id
    def filter_batch(self, queryset, name, value):
        # Batch and role describe the same membership, so they are applied together once.
        if name == "batch_role" and self.form.cleaned_data.get("batch"):
            return queryset
        memberships = BatchMembership.objects.filter(project=OuterRef("pk"))
        batch = self.form.cleaned_data.get("batch")
        role = self.form.cleaned_data.get("batch_role")
        if batch:
            memberships = memberships.filter(batch=batch)
        if role:
            memberships = memberships.filter(role=role)
        return queryset.filter(Exists(memberships))


class MilestoneFilterSet(django_filters.FilterSet):
    """Approval milestones by kind, status and lateness; the project filters are ProjectFilterSet's,
    applied to the milestones' projects by the view, so the dashboard's links mean the same here."""

    kind = django_filters.MultipleChoiceFilter(label=_("procedure"), choices=choices.MilestoneKind.choices)
    status = django_filters.MultipleChoiceFilter(label=_("status"), choices=choices.MilestoneStatus.choices)
    overdue = YesNoFilter(label=_("overdue"), method="filter_overdue")

    class Meta:
        model = ApprovalMilestone
        fields = []
        form = FilterForm

    def filter_overdue(self, queryset, name, value: bool):
        if value is None or value == "":
            return queryset
        late = figures.overdue_milestones(queryset, today=timezone.localdate())
        return late if value else queryset.exclude(pk__in=late.values("pk"))


class AnnualPlanFilterSet(django_filters.FilterSet):
    project = django_filters.ModelChoiceFilter(
        label=_("project"), queryset=Project.objects.all(), widget=ChosenOnlySelect
    )
    year = django_filters.NumberFilter(label=_("year"))
    category = django_filters.MultipleChoiceFilter(label=_("category"), choices=choices.PlanCategory.choices)

    class Meta:
        model = AnnualPlan
        fields = []
        form = FilterForm


class ProgressFilterSet(django_filters.FilterSet):
    """Monthly reports by month and status, and by their project's park, level and unit (the
    same choices as the project list's filters of those names)."""

    project = django_filters.ModelChoiceFilter(
        label=_("project"), queryset=Project.objects.all(), widget=ChosenOnlySelect
    )
    year = django_filters.NumberFilter(label=_("year"))
    month = django_filters.NumberFilter(label=_("month"))
    status = django_filters.MultipleChoiceFilter(label=_("status"), choices=choices.ProgressStatus.choices)
    park = django_filters.ModelMultipleChoiceFilter(
        label=_("park"),
        field_name="project__park",
        queryset=Park.objects.all(),
        distinct=False,
        null_label=_("no park"),
    )
    level = django_filters.MultipleChoiceFilter(
        label=_("level"), field_name="project__level", choices=choices.Level.choices, distinct=False
    )
    responsible_unit = django_filters.ModelChoiceFilter(
        label=_("responsible unit"),
        field_name="project__responsible_unit",
        queryset=Department.objects.all(),
        null_label=_("no unit"),
    )

    class Meta:
        model = MonthlyProgress
        fields = []
        form = FilterForm


class BatchMembershipFilterSet(django_filters.FilterSet):
    batch = django_filters.ModelChoiceFilter(label=_("“three batches” batch"), queryset=Batch.objects.all())
    project = django_filters.ModelChoiceFilter(
        label=_("project"), queryset=Project.objects.all(), widget=ChosenOnlySelect
    )
    role = django_filters.MultipleChoiceFilter(
        label=_("role in the batch"), choices=choices.BatchRole.choices
    )

    class Meta:
        model = BatchMembership
        fields = []
        form = FilterForm
