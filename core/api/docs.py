"""The API's reference pages (Swagger UI and ReDoc) for people in a browser.

Signed out, a page sends the browser to log in and back (``?next=``) instead of a blank 401; the
schema itself (``/api/schema/``) answers API clients with 401 like every other endpoint."""

from typing import TYPE_CHECKING

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated

if TYPE_CHECKING:  # what the mixin is mixed into
    from rest_framework.views import APIView

    _ViewBase = APIView
else:
    _ViewBase = object


class LoginRedirectMixin(_ViewBase):
    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated | AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


class SwaggerView(LoginRedirectMixin, SpectacularSwaggerSplitView):
    pass


class RedocView(LoginRedirectMixin, SpectacularRedocView):
    pass
