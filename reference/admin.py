from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from core.admin_history import HistoryAdmin
from reference.models import Cluster, Department, Industry, Leader, Park


@admin.register(Department)
class DepartmentAdmin(HistoryAdmin):
    list_display = ["name", "short_name", "phone", "is_active", "user_count"]
    list_filter = ["is_active"]
    search_fields = ["name", "short_name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(user_total=Count("users"))

    @admin.display(description=_("number of users"), ordering="user_total")
    def user_count(self, obj):
        return obj.user_total


@admin.register(Park)
class ParkAdmin(HistoryAdmin):
    list_display = ["name", "alias", "area_km2", "project_count", "enterprise_count"]
    search_fields = ["name", "alias"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                project_total=Count("projects", distinct=True),
                enterprise_total=Count("enterprises", distinct=True),
            )
        )

    @admin.display(description=_("number of projects"), ordering="project_total")
    def project_count(self, obj):
        return obj.project_total

    @admin.display(description=_("number of enterprises"), ordering="enterprise_total")
    def enterprise_count(self, obj):
        return obj.enterprise_total


class IndustryInline(admin.TabularInline):
    model = Industry
    extra = 0


@admin.register(Cluster)
class ClusterAdmin(HistoryAdmin):
    list_display = ["name", "industry_count"]
    search_fields = ["name"]
    inlines = [IndustryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(industry_total=Count("industries"))

    @admin.display(description=_("number of industries"), ordering="industry_total")
    def industry_count(self, obj):
        return obj.industry_total


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
