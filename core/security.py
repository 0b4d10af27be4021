"""Login hardening the settings point at: the lockout page, the caller's address, session renewal and
the forced password change."""

import ipaddress
import time

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core import checks
from django.db.models import Exists, OuterRef, Sum
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PASSWORD_CHANGE_REQUIRED = _("Choose a new password first: open “Change password” on the portal.")

# Pages a user who must change the password may still open (URL names).
PASSWORD_CHANGE_ALLOWED = {
    "password_change",
    "password_change_done",
    "login",
    "logout",
    "admin:logout",
    "set_language",
    "healthz",
}

SESSION_RENEWED_KEY = "_renewed_at"
SESSION_RENEW_SECONDS = 60


def client_ip(request) -> str | None:
    """The caller's address for login lockouts (axes' AXES_CLIENT_IP_CALLABLE).

    Each of the TRUSTED_PROXY_COUNT proxies appends the address it was called from to
    X-Forwarded-For, so the entry that many places from the right is the one the outermost proxy
    saw; entries further left were written by the client and are not believed."""
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if count <= 0 or not chain:
        return remote
    candidate = chain[-min(count, len(chain))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def unknown_user_failures(ip_address: str | None) -> int:
    """Failed logins from this address, within the cool-off, under user names no account has."""
    if not ip_address:
        return 0
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    accounts = get_user_model().objects.filter(username=OuterRef("username"))
    attempts = AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=since).filter(
        ~Exists(accounts)
    )
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LoginLockoutBackend(AxesStandaloneBackend):
    """axes' check before any password is, plus a throttle on addresses that guess user names.

    axes locks a user name at one address (AXES_LOCKOUT_PARAMETERS): five failures from five
    addresses lock no one out, and nobody can lock a colleague out from afar. An address whose
    failures under unknown names reach LOGIN_UNKNOWN_USER_LIMIT is refused every login for the
    cool-off: it is guessing names. All of them, known names too, so the refusal cannot tell which
    names exist."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        super().authenticate(request, username=username, password=password, **kwargs)
        if (
            unknown_user_failures(getattr(request, "axes_ip_address", None))
            >= settings.LOGIN_UNKNOWN_USER_LIMIT
        ):
            request.axes_locked_out = True  # axes' middleware answers with lockout_response
            raise AxesBackendPermissionDenied("This address is throttled for guessing user names.")


@checks.register(checks.Tags.security, deploy=True)
def check_proxy_count(app_configs, **kwargs):
    """Behind the HTTPS proxy with no proxy counted, every login comes from the proxy's address."""
    if getattr(settings, "BEHIND_HTTPS", False) and settings.TRUSTED_PROXY_COUNT == 0:
        return [
            checks.Warning(
                "TRUSTED_PROXY_COUNT is 0 behind the HTTPS proxy: every caller has the proxy's address, "
                "so one address guessing user names throttles every login, and API throttles count "
                "all callers together.",
                hint="Set TRUSTED_PROXY_COUNT=1 when nginx, which sets X-Forwarded-For, is the only way in.",
                id="zone_portal.W001",
            )
        ]
    return []


def lockout_response(request, original_response=None, credentials=None):
    """The log-in page again with a 429 and the reason, when axes refuses a login."""
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    context = {
        "form": form,
        "locked_out": _(
            "Too many failed log-in attempts: logging in is locked for %(minutes)s minutes. "
            "Try again later, or ask an administrator to unlock it."
        )
        % {"minutes": minutes},
        "next": request.POST.get("next", ""),
    }
    return render(request, "registration/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)  # type: ignore[misc]  # axes' default


def stamp_session(sender, request, user, **kwargs):
    """Logging in saves the session anyway: mark it renewed, so the next request need not."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_RENEWED_KEY] = int(time.time())


class SessionRefreshMiddleware:
    """Moves a signed-in session's expiry forward, at most once a minute.

    SESSION_COOKIE_AGE is then the time a session lasts without a request; renewing on every
    request (SESSION_SAVE_EVERY_REQUEST) would write the session row on every page and API call."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only sessions that hold a login: a token-authenticated API call has none to renew.
        if session is not None and SESSION_KEY in session:
            now = int(time.time())
            if now - session.get(SESSION_RENEWED_KEY, 0) >= SESSION_RENEW_SECONDS:
                # A change: SessionMiddleware saves the session and sends the cookie again.
                session[SESSION_RENEWED_KEY] = now
        return response


class PrivateCacheMiddleware:
    """What a signed-in user is sent is theirs: no shared cache may keep it, and the browser asks
    again before showing a kept copy (so the back button after logging out shows nothing stale).
    A response that set its own Cache-Control keeps it (no-store on the token page, never_cache)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # request.user: the session's user, or the token's (DRF sets it on the request it wraps).
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-cache"
        return response


class PasswordChangeRequiredMiddleware:
    """A user marked "must change password" sees only the password change page until they do.

    API calls get a JSON 403 here (session) or from HasZoneRole (token)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not getattr(user, "must_change_password", False):
            return None
        match = request.resolver_match
        if match.view_name in PASSWORD_CHANGE_ALLOWED:
            return None
        if "api" in match.namespaces:
            return JsonResponse({"detail": str(PASSWORD_CHANGE_REQUIRED)}, status=403)
        return redirect("password_change")
