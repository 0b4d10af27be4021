from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from axes.models import AccessFailureLog
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.admin_history import HistoryAdmin
from core.formatting import money
from core.forms import SetPasswordByAdminForm
from core.models import ApiToken, ImportRecord, Job, User
from core.roles import is_admin

if TYPE_CHECKING:  # what CachedChoicesMixin is mixed into: model admins and inlines
    _AdminBase = admin.options.BaseModelAdmin[Any]
else:
    _AdminBase = object

admin.site.site_header = _("Zone Portal administration")
admin.site.site_title = _("Zone Portal")
admin.site.index_title = _("Registry administration")
# "View site" (查看站点) in the admin's header leads back to the portal.
admin.site.site_url = "/"
# Login lockouts (axes): "access attempts" (delete a row to unlock) and the log of logins stay; the
# failure log is switched off (AXES_ENABLE_ACCESS_FAILURE_LOG), so its page would always be empty.
admin.site.unregister(AccessFailureLog)


class CachedChoicesMixin(_AdminBase):
    """Load each foreign-key dropdown's choices once per request.

    Without this every inline row queries its dropdowns again, so a project
    page with sixty monthly reports would run sixty times the queries.
    """

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is None or request is None or db_field.name in self.get_autocomplete_fields(request):
            return formfield
        if db_field.name in getattr(self, "raw_id_fields", ()):
            return formfield
        cache = request.__dict__.setdefault("_admin_choices_cache", {})
        key = (db_field.model, db_field.name)
        if key not in cache:
            cache[key] = list(cast(Iterable[Any], formfield.choices))  # a choice field's
        formfield.choices = cache[key]
        return formfield


def money_column(field: str, description):
    """A changelist column showing a 万元 field with separators, sortable by the field."""

    @admin.display(description=description, ordering=field)
    def column(obj):
        return money(getattr(obj, field))

    column.__name__ = f"{field}_display"
    return column


@admin.register(User)
class UserAdmin(HistoryAdmin, BaseUserAdmin):
    list_display = [
        "username",
        "display_name",
        "department",
        "phone",
        "is_staff",
        "is_active",
        "must_change_password",
        "last_login",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "must_change_password", "groups", "department"]
    list_select_related = ["department"]
    change_password_form = SetPasswordByAdminForm
    search_fields = ["username", "display_name", "first_name", "last_name", "email", "phone"]
    autocomplete_fields = ["department"]
    fieldsets = [
        *(BaseUserAdmin.fieldsets or ()),
        (_("Zone profile"), {"fields": ["display_name", "department", "phone", "text_size"]}),
        (_("Password"), {"fields": ["must_change_password"]}),
    ]
    add_fieldsets = [
        *BaseUserAdmin.add_fieldsets,
        (_("Zone profile"), {"fields": ["display_name", "department", "phone"]}),
        (_("Password"), {"fields": ["must_change_password"]}),
    ]

    def has_delete_permission(self, request, obj=None):
        # A user who leaves is deactivated, not deleted: deleting would blank their name on every
        # history row they wrote (the rows keep the user by reference).
        return False


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin):
    """Groups with the role each carries: the role goes by a code the group keeps, so a renamed group's
    members keep their role; the code is set when the role groups are made, never here."""

    list_display = ["name", "role_label"]
    list_select_related = ["role"]
    fields = ["name", "role_label", "permissions"]
    readonly_fields = ["role_label"]

    @admin.display(description=pgettext_lazy("portal role", "role"), ordering="role__code")
    def role_label(self, group: Group):
        return group.role.get_code_display() if hasattr(group, "role") else None


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the portal writes itself (imports, jobs, stage changes): shown, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportRecord)
class ImportRecordAdmin(ReadOnlyAdmin):
    """The record of Excel imports: read only, since it says what happened."""

    list_display = [
        "pk",
        "file_name",
        "kind",
        "user",
        "origin",
        "status",
        "created_count",
        "updated_count",
        "error_count",
        "created_at",
    ]
    list_filter = ["kind", "status", "origin"]
    search_fields = ["file_name", "user__username"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        # As on the import pages: each user's own imports; administrators everyone's.
        records = super().get_queryset(request)
        return records if is_admin(request.user) else records.filter(user=request.user)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Everyone's API tokens: an administrator sees who holds which and revokes (deletes) them.
    Tokens are created by their owners on the API tokens page, where the secret is shown once."""

    list_display = ["name", "token_key", "user", "created", "expiry", "last_used_at"]
    list_filter = ["created"]
    search_fields = ["name", "token_key", "user__username", "user__display_name"]
    list_select_related = ["user"]
    readonly_fields = ["name", "token_key", "user", "created", "expiry", "last_used_at"]
    exclude = ["digest"]

    def get_queryset(self, request):
        # Anyone else sees only their own, as on the tokens page and in the API.
        tokens = super().get_queryset(request)
        return tokens if is_admin(request.user) else tokens.filter(user=request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """Background jobs: read only (the worker writes them; manage.py purge_jobs deletes old ones
    with their files). The task backend's own records keep the tracebacks of failures."""

    list_display = ["pk", "kind", "owner", "status", "step", "progress_done", "progress_total", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["owner__username", "error", "task_id"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        jobs = super().get_queryset(request)
        return jobs if is_admin(request.user) else jobs.filter(owner=request.user)
