from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from core.admin_history import HistoryAdmin
from enterprises import permissions as enterprise_permissions
from problems import permissions, selectors, services
from problems.models import ProblemTicket, TicketAttachment, TicketEvent, Visit


@admin.register(Visit)
class VisitAdmin(HistoryAdmin):
    list_display = ["enterprise", "visited_on", "unit", "problem_count", "created_by"]
    list_filter = ["visited_on", "unit", "enterprise__park"]
    list_select_related = ["enterprise", "unit", "created_by"]
    search_fields = ["enterprise__name", "notes"]
    autocomplete_fields = ["enterprise", "unit"]
    filter_horizontal = ["visitors"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    date_hierarchy = "visited_on"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(problem_total=Count("problems"))

    def has_view_permission(self, request, obj=None):
        # Visit records are for zone-wide readers, as on the pages: not for responsible units.
        return super().has_view_permission(request, obj) and enterprise_permissions.has_zone_wide_read(
            request.user
        )

    @admin.display(description=_("number of problems"), ordering="problem_total")
    def problem_count(self, obj):
        return obj.problem_total

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TicketEventInline(ReadOnlyInline):
    """The timeline, as the ticket page shows it; append-only, so read-only here."""

    model = TicketEvent
    fields = ["at", "kind", "actor", "from_status", "to_status", "from_level", "to_level", "unit", "text"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "unit")


class TicketAttachmentInline(ReadOnlyInline):
    model = TicketAttachment
    fields = ["name", "content_type", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields


@admin.register(ProblemTicket)
class ProblemTicketAdmin(HistoryAdmin):
    """Tickets are created and moved on the problem pages, where the 13710 rules apply.

    Here the office reads everything and corrects a ticket's details, through the same service.
    """

    list_display = [
        "number",
        "title",
        "enterprise",
        "category",
        "level",
        "status",
        "unit",
        "collected_at",
        "resolve_due",
        "overdue",
    ]
    list_filter = ["status", "level", "category", "is_major", "fence", "source", "unit", "enterprise__park"]
    list_select_related = ["enterprise", "unit"]
    search_fields = ["title", "description", "enterprise__name"]
    date_hierarchy = "collected_at"
    inlines = [TicketEventInline, TicketAttachmentInline]
    editable = list(services.EDITABLE_FIELDS)
    autocomplete_fields = ["project", "responsible_leader"]
    fields = [
        "enterprise",
        "visit",
        *editable,
        "level",
        "status",
        "unit",
        "handler",
        "collected_at",
        "created_by",
        "assign_due",
        "report_due",
        "resolve_due",
        "review_due",
        "assigned_at",
        "first_reply_at",
        "resolved_at",
        "closed_at",
        "plan",
        "committed_date",
        "resolution",
        "closure_grade",
        "satisfaction",
        "satisfaction_comment",
        "rated_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        return [name for name in self.fields if name not in self.editable]

    def get_queryset(self, request):
        return selectors.with_overdue(
            permissions.readable_tickets(request.user, super().get_queryset(request))
        )

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class CheckedForm(form):
            def clean(self):
                cleaned = super().clean()
                try:
                    services.validate_project(self.instance.enterprise_id, cleaned.get("project"))
                except ValidationError as error:
                    self.add_error(None, error)
                return cleaned

        return CheckedForm

    @admin.display(description=_("number"), ordering="pk")
    def number(self, obj):
        return f"#{obj.pk}"

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return obj.is_overdue

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or permissions.can_edit_details(request.user, obj))

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        return allowed and (obj is None or permissions.can_read_ticket(request.user, obj))

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in self.editable if name in form.cleaned_data}
        services.ticket_update(ticket=ProblemTicket.objects.get(pk=obj.pk), user=request.user, data=data)

    def save_related(self, request, form, formsets, change):
        # The inlines are read-only; nothing else to save. The change message still reads what each
        # formset saved (without these, saving a ticket here was a server error).
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
