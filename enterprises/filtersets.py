"""Which enterprises and which tickets: one FilterSet each, for the pages, the Excel export and the API."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.filtersets import FilterForm, YesNoFilter
from enterprises.models import Enterprise
from reference.models import Department, Industry, Leader, Park


class EnterpriseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        widget=forms.TextInput(attrs={"placeholder": _("Name, short name or credit code")}),
    )
    park = django_filters.ModelChoiceFilter(label=_("park"), queryset=Park.objects.all())
    industry = django_filters.ModelChoiceFilter(label=_("industry"), queryset=Industry.objects.all())
    is_above_scale = YesNoFilter(label=_("above-scale industrial enterprise"))
    on_white_list = YesNoFilter(label=_("white list"))
    liaison_unit = django_filters.ModelChoiceFilter(
        label=_("liaison unit"), queryset=Department.objects.all()
    )
    liaison_leader = django_filters.ModelChoiceFilter(
        label=_("liaison leader"), queryset=Leader.objects.all()
    )
    open_problems = YesNoFilter(label=_("with open problems"), method="filter_open")

    class Meta:
        model = Enterprise
        fields = []
        form = FilterForm

    def filter_search(self, queryset, name, value: str):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(short_name__icontains=value) | Q(credit_code__icontains=value)
        )

    def filter_open(self, queryset, name, value: bool | None):
        if value is None:
            return queryset
        return queryset.filter(open_problems__gt=0) if value else queryset.filter(open_problems=0)
