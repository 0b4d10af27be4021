"""The admin's view of history: shown, never written back."""

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin

from core.history import record


class HistoryAdmin(SimpleHistoryAdmin):
    """An admin with an object's change history pages.

    simple-history's page for one past version is a change form that saves that version back
    when posted (a revert), even with the revert button hidden: here it only answers GET."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        # A past version is for whoever may read the object as it is now (simple-history asks the
        # version itself: a ticket since moved to another unit stayed readable to the first).
        current = self.get_object(request, unquote(object_id))
        if current is None:
            try:
                exists = self.model._default_manager.filter(pk=unquote(object_id)).exists()
            except (ValueError, ValidationError):
                raise Http404 from None
            if exists:
                raise PermissionDenied
        elif not self.has_view_or_change_permission(request, current):
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
