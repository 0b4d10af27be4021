"""Pages that belong to no single app: the signed-in user's home, the leaders' dashboard, the password
change and the health check."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core import health
from core.forms import NewPasswordChangeForm


def export_refused(request, message: str, errors: dict, back_url: str):
    """A 400 page saying why an export was not made, with the parameters it did not understand."""
    return render(
        request,
        "core/export_refused.html",
        {"message": message, "errors": list(errors.items()), "back_url": back_url},
        status=400,
    )


def filters_refused(request, errors: dict, back_url: str):
    """The export page's refusal when its filters did not parse: nothing is made from a guess."""
    return export_refused(
        request, _("The workbook was not made: some filters were not understood."), errors, back_url
    )


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


class LogoutView(auth_views.LogoutView):
    """Logging out ends on the log-in page, which says so (已退出)."""

    def post(self, request, *args, **kwargs):
        signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if signed_in:
            messages.success(request, _("You have logged out."))
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """The user's own password change; choosing one ends a "must change password" requirement."""

    form_class = NewPasswordChangeForm

    def form_valid(self, form):
        form.user.must_change_password = False  # saved with the new password, in one write
        return super().form_valid(form)


@never_cache
@require_safe
def healthz(request):
    """For load balancers and monitoring: each service the portal uses (core.health) and its
    status; 200 when all that are configured answer, 503 when one does not (the reason is logged,
    never shown). No session, no login: it reads neither."""
    healthy, checks = health.report()
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503
    )
