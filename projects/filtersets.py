"""Which projects: one FilterSet for the project list, its Excel export and the API."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from zone_portal.forms import BootstrapFormMixin
from zone_portal.models import Cluster, Department, Industry, Leader, Park, User
from zone_portal.roles import GROUP_NAMES, Role

from . import figures
from .choices import BatchRole, Level, MilestoneKind, MilestoneStatus, Nature, Stage
from .models import ApprovalMilestone, Batch, BatchMembership, Project


class FilterForm(BootstrapFormMixin, forms.Form):
    pass


YES_NO = [("true", _("Yes")), ("false", _("No"))]


class ProjectFilterSet(django_filters.FilterSet):
    """Filters a queryset that carries the year figures (``figures.annotate_year_figures``)."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        widget=forms.TextInput(attrs={"placeholder": _("Project or enterprise name, or code")}),
    )
    level = django_filters.MultipleChoiceFilter(label=_("level"), choices=Level.choices, distinct=False)
    stage = django_filters.MultipleChoiceFilter(label=_("stage"), choices=Stage.choices, distinct=False)
    nature = django_filters.MultipleChoiceFilter(label=_("nature"), choices=Nature.choices, distinct=False)
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
        label=_("role in the batch"), choices=BatchRole.choices, method="filter_batch_role"
    )
    on_white_list = django_filters.TypedChoiceFilter(
        label=_("white list"), choices=YES_NO, coerce=lambda value: value == "true"
    )
    responsible_leader = django_filters.ModelChoiceFilter(
        label=_("responsible leader"), queryset=Leader.objects.all(), null_label=_("no leader")
    )
    responsible_unit = django_filters.ModelChoiceFilter(
        label=_("responsible unit"), queryset=Department.objects.all(), null_label=_("no unit")
    )
    staff_in_charge = django_filters.ModelChoiceFilter(
        label=_("staff member in charge"),
        queryset=User.objects.filter(groups__name=GROUP_NAMES[Role.STAFF]).distinct(),
    )
    on_plan = django_filters.TypedChoiceFilter(
        label=_("in the year's plan"),
        choices=YES_NO,
        coerce=lambda value: value == "true",
        method="filter_on_plan",
    )
    reported = django_filters.TypedChoiceFilter(
        label=_("reported for the month"),
        choices=YES_NO,
        coerce=lambda value: value == "true",
        field_name="has_month_report",
    )
    started = django_filters.DateFromToRangeFilter(
        label=_("construction started between"), field_name="actual_start", method="filter_started"
    )
    into_production = django_filters.DateFromToRangeFilter(
        label=_("went into production between"), method="filter_into_production"
    )
    lagging = django_filters.TypedChoiceFilter(
        label=_("behind schedule"),
        choices=YES_NO,
        coerce=lambda value: value == "true",
        field_name="is_lagging",
    )
    ordering = django_filters.OrderingFilter(
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

    kind = django_filters.MultipleChoiceFilter(label=_("procedure"), choices=MilestoneKind.choices)
    status = django_filters.MultipleChoiceFilter(label=_("status"), choices=MilestoneStatus.choices)
    overdue = django_filters.TypedChoiceFilter(
        label=_("overdue"), choices=YES_NO, coerce=lambda value: value == "true", method="filter_overdue"
    )

    class Meta:
        model = ApprovalMilestone
        fields = []
        form = FilterForm

    def filter_overdue(self, queryset, name, value):
        if value is None or value == "":
            return queryset
        late = figures.overdue_milestones(queryset, today=timezone.localdate())
        return late if value else queryset.exclude(pk__in=late.values("pk"))
