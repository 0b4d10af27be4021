"""The admin's view of history: shown, never written back."""

from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

from .history import record


class HistoryAdmin(SimpleHistoryAdmin):
    """An admin with an object's change history pages.

    simple-history's page for one past version is a change form that saves that version back
    when posted (a revert), even with the revert button hidden: here it only answers GET."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    # A form that also sets many-to-many links (a user's roles, an enterprise's titles) is one
    # change: its history row is written after the links, holding the fields and the links.
    def _has_links(self, obj) -> bool:
        return bool(obj._meta.many_to_many) and hasattr(type(obj), "_tracked_records")

    def save_model(self, request, obj, form, change):
        if self._has_links(obj):
            obj.skip_history_when_saving = True
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        if hasattr(obj, "skip_history_when_saving"):
            del obj.skip_history_when_saving
            record(obj, "~" if change else "+")
