"""Which projects: one FilterSet for the project list, its Excel export and the API."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from zone_portal.forms import BootstrapFormMixin
from zone_portal.models import Cluster, Department, Industry, Leader, Park, User
from zone_portal.roles import GROUP_NAMES, Role

from .choices import BatchRole, Level, Nature, Stage
from .models import Batch, BatchMembership, Project


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
    park = django_filters.ModelMultipleChoiceFilter(
        label=_("park"), queryset=Park.objects.all(), distinct=False
    )
    cluster = django_filters.ModelChoiceFilter(
        label=_("industrial cluster"), field_name="industry__cluster", queryset=Cluster.objects.all()
    )
    industry = django_filters.ModelChoiceFilter(label=_("industry"), queryset=Industry.objects.all())
    batch = django_filters.ModelChoiceFilter(
        label=_("“three batches” batch"), queryset=Batch.objects.all(), method="filter_batch"
    )
    batch_role = django_filters.ChoiceFilter(
        label=_("role in the batch"), choices=BatchRole.choices, method="filter_batch"
    )
    on_white_list = django_filters.TypedChoiceFilter(
        label=_("white list"), choices=YES_NO, coerce=lambda value: value == "true"
    )
    responsible_leader = django_filters.ModelChoiceFilter(
        label=_("responsible leader"), queryset=Leader.objects.all()
    )
    responsible_unit = django_filters.ModelChoiceFilter(
        label=_("responsible unit"), queryset=Department.objects.all()
    )
    staff_in_charge = django_filters.ModelChoiceFilter(
        label=_("staff member in charge"),
        queryset=User.objects.filter(groups__name=GROUP_NAMES[Role.STAFF]).distinct(),
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
