"""Who may call the API at all; each endpoint then asks its app's permissions module.

Kept apart from ``base`` because DRF loads it while ``rest_framework.views`` is being imported."""

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from core.roles import roles_of


class HasZoneRole(permissions.BasePermission):
    """Signed in (session or token) and holding at least one of the portal's roles."""

    message = _("You have no role in this portal yet: ask an administrator.")

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            # DRF throttles after the permission check, which would leave anonymous callers unthrottled.
            view.check_throttles(request)
            return False
        if getattr(request.user, "must_change_password", False):
            # Tokens too: the session's pages are held back by PasswordChangeRequiredMiddleware.
            from core.security import PASSWORD_CHANGE_REQUIRED

            self.message = PASSWORD_CHANGE_REQUIRED
            return False
        return bool(roles_of(request.user))
