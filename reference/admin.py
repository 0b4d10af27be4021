from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin_counts import CountedAdmin, count_column
from core.admin_history import HistoryAdmin
from reference.models import Cluster, Department, Industry, Leader, Park


@admin.register(Department)
class DepartmentAdmin(CountedAdmin, HistoryAdmin):
    list_display = [
        "name",
        "short_name",
        "phone",
        "is_active",
        count_column("user_count", "users", _("number of users")),
    ]
    list_filter = ["is_active"]
    search_fields = ["name", "short_name"]


@admin.register(Park)
class ParkAdmin(CountedAdmin, HistoryAdmin):
    list_display = [
        "name",
        "alias",
        "area_km2",
        count_column("project_count", "projects", _("number of projects")),
        count_column("enterprise_count", "enterprises", _("number of enterprises")),
    ]
    search_fields = ["name", "alias"]


class IndustryInline(admin.TabularInline):
    model = Industry
    extra = 0


@admin.register(Cluster)
class ClusterAdmin(CountedAdmin, HistoryAdmin):
    list_display = ["name", count_column("industry_count", "industries", _("number of industries"))]
    search_fields = ["name"]
    inlines = [IndustryInline]


@admin.register(Industry)
class IndustryAdmin(HistoryAdmin):
    list_display = ["name", "cluster", "is_leading", "is_strategic_emerging"]
    list_filter = ["cluster", "is_leading", "is_strategic_emerging"]
    list_select_related = ["cluster"]
    search_fields = ["name", "cluster__name"]
    autocomplete_fields = ["cluster"]


@admin.register(Leader)
class LeaderAdmin(HistoryAdmin):
    list_display = ["name", "title", "department", "user", "phone"]
    list_filter = ["department"]
    list_select_related = ["department", "user"]
    search_fields = ["name", "title"]
    autocomplete_fields = ["department", "user"]
