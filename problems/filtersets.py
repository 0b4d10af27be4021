"""Which enterprises and which tickets: one FilterSet each, for the pages, the Excel export and the API."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.filtersets import FilterForm, OrderingFilter, YesNoFilter
from core.forms import DATE_INPUT, RemoteSelect
from enterprises.models import Enterprise
from problems.choices import Fence, ProblemCategory, ProblemLevel, ProblemSource, Satisfaction, TicketStatus
from problems.deadlines import overdue_q
from problems.models import ProblemTicket
from problems.selectors import my_tickets_q
from reference.models import Department, Leader, Park


class TicketFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        widget=forms.TextInput(attrs={"placeholder": _("Problem, enterprise or number")}),
    )
    status = django_filters.MultipleChoiceFilter(
        label=_("status"), choices=TicketStatus.choices, distinct=False
    )
    level = django_filters.MultipleChoiceFilter(
        label=pgettext_lazy("problem", "level"), choices=ProblemLevel.choices, distinct=False
    )
    category = django_filters.MultipleChoiceFilter(
        label=pgettext_lazy("problem", "category"), choices=ProblemCategory.choices, distinct=False
    )
    unit = django_filters.ModelChoiceFilter(
        label=_("responsible unit"), queryset=Department.objects.all(), null_label=_("not assigned yet")
    )
    park = django_filters.ModelChoiceFilter(
        label=_("park"), field_name="enterprise__park", queryset=Park.objects.all(), null_label=_("no park")
    )
    enterprise = django_filters.ModelChoiceFilter(
        label=_("enterprise"),
        queryset=Enterprise.objects.only("pk", "name"),
        widget=RemoteSelect("lookup_enterprises"),
    )
    responsible_leader = django_filters.ModelChoiceFilter(
        label=_("responsible leader"), queryset=Leader.objects.all()
    )
    source = django_filters.ChoiceFilter(label=_("source"), choices=ProblemSource.choices)
    fence = django_filters.ChoiceFilter(label=_("inside or outside the fence"), choices=Fence.choices)
    is_major = YesNoFilter(label=_("major or complex"))
    overdue = YesNoFilter(label=_("overdue"), method="filter_overdue")
    satisfaction = django_filters.ChoiceFilter(label=_("satisfaction"), choices=Satisfaction.choices)
    collected_from = django_filters.DateFilter(
        label=_("collected from"), field_name="collected_at", lookup_expr="date__gte", widget=DATE_INPUT
    )
    collected_to = django_filters.DateFilter(
        label=_("collected until"), field_name="collected_at", lookup_expr="date__lte", widget=DATE_INPUT
    )
    mine = django_filters.BooleanFilter(
        label=_("my problems only"), method="filter_mine", widget=forms.CheckboxInput
    )
    ordering = OrderingFilter(
        label=_("sort by"),
        fields=[
            ("collected_at", "collected"),
            ("resolve_due", "due"),
            ("status", "status"),
            ("level", "level"),
            ("enterprise__name", "enterprise"),
        ],
        field_labels={
            "collected_at": _("collected at"),
            "resolve_due": _("resolve by"),
            "status": _("status"),
            "level": pgettext_lazy("problem", "level"),
            "enterprise__name": _("enterprise"),
        },
    )

    # The API's filter backend passes the user, for ``mine``.
    takes_user = True

    class Meta:
        model = ProblemTicket
        fields = []
        form = FilterForm

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def filter_search(self, queryset, name, value: str):
        value = value.strip().lstrip("#")
        if not value:
            return queryset
        condition = (
            Q(title__icontains=value)
            | Q(description__icontains=value)
            | Q(enterprise__name__icontains=value)
            | Q(enterprise__short_name__icontains=value)
        )
        if value.isdigit():
            condition |= Q(pk=int(value))
        return queryset.filter(condition)

    def filter_overdue(self, queryset, name, value: bool | None):
        if value is None:
            return queryset
        condition = overdue_q(timezone.localdate())
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_mine(self, queryset, name, value: bool):
        if not value or self.user is None:
            return queryset
        return queryset.filter(my_tickets_q(self.user))
