"""Who may call the API at all; each endpoint then asks its app's permissions module.

Kept apart from ``base`` because DRF loads it while ``rest_framework.views`` is being imported."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from core.roles import roles_of

if TYPE_CHECKING:  # not at run time: DRF loads this module while importing its views
    from rest_framework.request import Request
    from rest_framework.views import APIView


class HasZoneRole(permissions.BasePermission):
    """Signed in (session or token) and holding at least one of the portal's roles."""

    message = _("You have no role in this portal yet: ask an administrator.")

    def has_permission(self, request: Request, view: APIView) -> bool:
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
