from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import money_column
from core.admin_counts import CountedAdmin, count_column
from core.admin_history import HistoryAdmin
from enterprises.models import Enterprise, EnterpriseYearlyFigure, Honour


@admin.register(Honour)
class HonourAdmin(CountedAdmin, HistoryAdmin):
    list_display = [
        "name",
        "rank",
        count_column("enterprise_count", "enterprises", _("number of enterprises")),
    ]
    list_editable = ["rank"]
    search_fields = ["name"]


class YearlyFigureInline(admin.TabularInline):
    model = EnterpriseYearlyFigure
    extra = 0
    fields = ["year", "output_value", "revenue", "taxes", "employees"]


@admin.register(Enterprise)
class EnterpriseAdmin(CountedAdmin, HistoryAdmin):
    list_display = [
        "name",
        "short_name",
        "credit_code",
        "industry",
        "park",
        "is_above_scale",
        "on_white_list",
        "liaison_leader",
        "liaison_unit",
        count_column("project_count", "projects", _("number of projects")),
    ]
    list_filter = [
        "park",
        "industry__cluster",
        "industry",
        "is_above_scale",
        "on_white_list",
        "honours",
        "liaison_unit",
    ]
    list_select_related = ["industry", "park", "liaison_leader", "liaison_unit"]
    search_fields = ["name", "short_name", "credit_code", "legal_representative", "contact_person"]
    autocomplete_fields = ["parent", "industry", "park", "liaison_leader", "liaison_unit"]
    filter_horizontal = ["honours"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "short_name",
                    "parent",
                    "credit_code",
                    "legal_representative",
                    "industry",
                    "park",
                    "address",
                ]
            },
        ),
        (_("Contact"), {"fields": ["contact_person", "contact_phone"]}),
        (
            _("Standing"),
            {"fields": ["is_above_scale", "honours", "on_white_list", "liaison_leader", "liaison_unit"]},
        ),
        (None, {"fields": ["description"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    inlines = [YearlyFigureInline]


@admin.register(EnterpriseYearlyFigure)
class EnterpriseYearlyFigureAdmin(HistoryAdmin):
    list_display = [
        "enterprise",
        "year",
        money_column("output_value", _("output value (10k yuan)")),
        money_column("revenue", _("revenue (10k yuan)")),
        money_column("taxes", _("taxes paid (10k yuan)")),
        "employees",
    ]
    list_filter = ["year", "enterprise__park", "enterprise__is_above_scale"]
    list_select_related = ["enterprise"]
    search_fields = ["enterprise__name"]
    autocomplete_fields = ["enterprise"]
