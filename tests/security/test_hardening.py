"""The hardened deployment: production settings, security headers, the health check, login lockouts,
password rules, idle sessions and the forced password change."""

import datetime
import json
import os
import re
import runpy
import secrets
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from core.api.tokens import create_token
from core.roles import Role
from core.security import SESSION_RENEWED_KEY, check_proxy_count, client_ip
from tests.factories import UserFactory

ROOT = Path(django_settings.BASE_DIR)
PASSWORD = "test-pass-123"  # the factories' password
# Settings read from the environment that the subprocesses must not inherit from the test run.
SETTINGS_ENV = {
    "DJANGO_ENV",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "TRUSTED_PROXY_COUNT",
    "SESSION_IDLE_MINUTES",
    "LOGIN_FAILURE_LIMIT",
    "LOGIN_LOCKOUT_MINUTES",
    # Set for the browser tests' live server (tests/browser/conftest.py); never in a deployment.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}
PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "portal.example.gov.cn",
}


def run_django(args, **env) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in SETTINGS_ENV}
    environment.update(DJANGO_SETTINGS_MODULE="zone_portal.settings", **env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


DUMP = """
import json, django
django.setup()
from django.conf import settings as s
names = ["DEBUG", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_SECURE",
         "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
         "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_AGE", "TRUSTED_PROXY_COUNT", "AXES_FAILURE_LIMIT"]
values = {name: getattr(s, name) for name in names}
values["AXES_COOLOFF_TIME"] = s.AXES_COOLOFF_TIME.total_seconds()
print(json.dumps(values))
"""


def settings_under(**env) -> dict:
    result = run_django(["-c", DUMP], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- Production settings ------------------------------------------------------------------------


@pytest.mark.slow
def test_check_deploy_reports_nothing_in_production():
    # Behind nginx, as docs/deploy.md sets it up; HSTS's subdomains and preload stay off on purpose.
    env = {**PRODUCTION, "TRUSTED_PROXY_COUNT": "1"}
    result = run_django(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"System check identified no issues \(\d+ silenced\)\.", result.stdout)
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.slow
def test_production_turns_on_https_and_forces_debug_off():
    values = settings_under(**PRODUCTION, DEBUG="1")
    assert values == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        # They reach beyond the portal's host name: on only when chosen (docs/deploy.md).
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SESSION_COOKIE_AGE": 2 * 60 * 60,
        # No proxy believed until one is named: a forged X-Forwarded-For counts for nothing.
        "TRUSTED_PROXY_COUNT": 0,
        "AXES_FAILURE_LIMIT": 5,
        "AXES_COOLOFF_TIME": 15 * 60,
    }


@pytest.mark.slow
def test_production_knobs_come_from_the_environment():
    values = settings_under(
        **PRODUCTION,
        SECURE_HSTS_PRELOAD="1",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
        SECURE_HSTS_SECONDS="3600",
        SESSION_IDLE_MINUTES="30",
        LOGIN_FAILURE_LIMIT="3",
        LOGIN_LOCKOUT_MINUTES="60",
        TRUSTED_PROXY_COUNT="2",
    )
    assert (values["SECURE_HSTS_PRELOAD"], values["SECURE_HSTS_INCLUDE_SUBDOMAINS"]) == (True, True)
    assert values["SECURE_HSTS_SECONDS"] == 3600
    assert values["SESSION_COOKIE_AGE"] == 30 * 60
    assert (values["AXES_FAILURE_LIMIT"], values["AXES_COOLOFF_TIME"]) == (3, 60 * 60)
    assert values["TRUSTED_PROXY_COUNT"] == 2


@pytest.mark.slow
def test_development_needs_nothing_and_stays_on_plain_http():
    values = settings_under()
    assert values["DEBUG"] is True
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert (values["SESSION_COOKIE_SECURE"], values["CSRF_COOKIE_SECURE"]) == (False, False)
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["TRUSTED_PROXY_COUNT"] == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "missing, message",
    [
        ("SECRET_KEY", "SECRET_KEY must be set when DEBUG is off."),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS must be set when DEBUG is off"),
    ],
)
def test_production_refuses_to_start_without_a_secret_key_or_hosts(missing, message):
    env = {key: value for key, value in PRODUCTION.items() if key != missing}
    result = run_django(["manage.py", "check"], **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_behind_the_proxy_plain_http_is_redirected_and_https_gets_hsts(settings, superuser):
    # The values the production settings produce (the tests above); pytest runs development settings.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    client = Client()  # a new client: the security middleware reads its settings when first used

    plain = client.get("/accounts/login/?next=/dashboard/")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/accounts/login/?next=/dashboard/"

    page = client.get("/accounts/login/", headers={"x-forwarded-proto": "https"})
    assert page.status_code == 200
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert page.cookies["csrftoken"]["secure"] is True

    logged_in = client.post(
        "/accounts/login/", {"username": "root", "password": PASSWORD}, headers={"x-forwarded-proto": "https"}
    )
    assert logged_in.status_code == 302
    assert logged_in.cookies["sessionid"]["secure"] is True
    assert logged_in.cookies["sessionid"]["httponly"] is True

    # A load balancer probes over plain HTTP.
    probe = client.get("/healthz")
    assert probe.status_code == 200 and probe.json()["status"] == "ok"


# --- Security headers ---------------------------------------------------------------------------

EXPECTED_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}


def policy(response) -> dict[str, list[str]]:
    directives = [part.split() for part in response["Content-Security-Policy"].split(";") if part.strip()]
    return {name: values for name, *values in directives}


@pytest.mark.parametrize("url_name", ["login", "home", "dashboard", "admin:index", "api:project-list"])
def test_every_page_carries_the_policy_and_the_headers(client, superuser, url_name):
    if url_name != "login":
        client.force_login(superuser)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert policy(response) == EXPECTED_POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def test_no_template_has_inline_scripts_handlers_or_javascript_urls():
    """The policy allows scripts from our own files only: code in a template would not run."""
    found = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, re.compile("javascript:", re.I)):
            found += [
                f"{template.relative_to(ROOT)}: {match.group(0)[:60]}" for match in pattern.finditer(text)
            ]
    assert found == []


def test_the_template_scan_finds_what_it_looks_for():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/js/portal.js"></script>')
    assert not INLINE_SCRIPT.search('<script type="application/json" id="d">{}</script>')
    assert EVENT_HANDLER.search('<button class="btn" onclick="go()">')
    assert not EVENT_HANDLER.search('<button class="btn" data-action="go">')


# --- Health check -------------------------------------------------------------------------------


def test_health_check_answers_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    # No Redis in the test settings; no worker has run and no task waits for one.
    assert response.json() == {
        "status": "ok",
        "checks": {"database": {"status": "ok"}, "worker": {"status": "ok", "last_heartbeat": None}},
    }
    assert "no-cache" in response["Cache-Control"]
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_health_check_says_error_without_details_when_the_database_fails(client, db):
    failure = OperationalError('connection to server at "10.0.0.5", port 5432 failed: password for zp_admin')
    with mock.patch.object(connection, "cursor", side_effect=failure):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["checks"]["database"] == {"status": "down"}
    assert b"zp_admin" not in response.content and b"10.0.0.5" not in response.content


# --- Login lockout ------------------------------------------------------------------------------


def attempt(client, username, password, ip="10.0.0.1", path="/accounts/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.fixture
def zhang(db):
    return UserFactory(username="zhang", roles=[Role.STAFF])


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_lock_the_user_at_that_address_with_a_chinese_page(client, zhang):
    for _ in range(4):
        response = attempt(client, "zhang", "wrong-pass-1", ip="10.0.0.1")
        assert response.status_code == 200 and "登录失败次数过多" not in response.content.decode()

    locked = attempt(client, "zhang", "wrong-pass-1", ip="10.0.0.1")

    assert locked.status_code == 429
    page = locked.content.decode()
    assert "登录失败次数过多，已暂停登录 15 分钟。请稍后再试，或请管理员解锁。" in page
    assert 'id="id_username"' in page and 'value="zhang"' in page  # the log-in page, not a bare text
    # Locked means the right password is refused too, at that address.
    assert attempt(client, "zhang", PASSWORD, ip="10.0.0.1").status_code == 429
    assert not logged_in(client)
    # Elsewhere the user logs in: failures at one address cannot lock them out from everywhere.
    response = attempt(client, "zhang", PASSWORD, ip="10.9.9.9")
    assert response.status_code == 302 and response.url == reverse("home")


def test_failures_from_five_addresses_do_not_lock_the_user_out_from_a_sixth(client, zhang):
    for n in range(5):
        assert attempt(client, "zhang", "wrong-pass-1", ip=f"10.0.0.{n}").status_code == 200

    response = attempt(client, "zhang", PASSWORD, ip="10.0.0.5")

    assert response.status_code == 302 and response.url == reverse("home")


def test_an_address_guessing_user_names_is_throttled_for_every_name(client, zhang, settings):
    settings.LOGIN_UNKNOWN_USER_LIMIT = 3
    for n in range(2):
        assert attempt(client, f"guess{n}", "wrong-pass-1", ip="10.1.1.1").status_code == 200
    # Failures under a real name do not count towards it: typos are not guessing.
    for _ in range(3):
        attempt(client, "zhang", "wrong-pass-1", ip="10.1.1.1")
    response = attempt(client, "zhang", PASSWORD, ip="10.1.1.1")
    assert response.status_code == 302
    client.logout()

    assert attempt(client, "guess2", "wrong-pass-1", ip="10.1.1.1").status_code == 200  # the third

    # Refused for a name that exists as for one that does not: the answer tells no name apart.
    assert attempt(client, "guess9", "wrong-pass-1", ip="10.1.1.1").status_code == 429
    assert attempt(client, "zhang", PASSWORD, ip="10.1.1.1").status_code == 429
    assert not logged_in(client)
    response = attempt(client, "zhang", PASSWORD, ip="10.1.1.2")
    assert response.status_code == 302 and response.url == reverse("home")


def test_a_forged_forwarded_for_does_not_escape_the_address_lock(client, zhang):
    """Default settings (no proxy counted), gunicorn reached directly: a caller writing a new
    X-Forwarded-For on each try is still counted at its own address."""
    assert django_settings.TRUSTED_PROXY_COUNT == 0
    for n in range(5):
        client.post(
            "/accounts/login/",
            {"username": "zhang", "password": "wrong-pass-1"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
    response = client.post(
        "/accounts/login/",
        {"username": "zhang", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )
    assert response.status_code == 429
    assert not logged_in(client)


def test_check_deploy_warns_when_no_proxy_is_counted_behind_https(settings):
    settings.BEHIND_HTTPS = True
    settings.TRUSTED_PROXY_COUNT = 0
    assert [warning.id for warning in check_proxy_count(None)] == ["zone_portal.W001"]
    settings.TRUSTED_PROXY_COUNT = 1
    assert check_proxy_count(None) == []


def test_a_correct_login_clears_the_count(client, zhang):
    for _ in range(4):
        attempt(client, "zhang", "wrong-pass-1")
    assert attempt(client, "zhang", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, "zhang", "wrong-pass-1").status_code == 200
    assert attempt(client, "zhang", PASSWORD).status_code == 302


def test_the_lock_ends_after_the_cool_off(client, zhang):
    for _ in range(5):
        attempt(client, "zhang", "wrong-pass-1")
    assert attempt(client, "zhang", PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))

    assert attempt(client, "zhang", PASSWORD).status_code == 302


def test_the_admin_login_is_locked_too(client, superuser):
    for _ in range(5):
        response = attempt(client, "root", "wrong-pass-1", path="/admin/login/")
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert attempt(client, "root", PASSWORD, path="/admin/login/").status_code == 429


def test_an_administrator_unlocks_in_the_admin(zhang, admin_client_zh):
    client = Client()  # admin_client_zh is the ``client`` fixture, logged in
    for _ in range(5):
        attempt(client, "zhang", "wrong-pass-1")
    locked = AccessAttempt.objects.get(username="zhang")
    changelist = admin_client_zh.get(reverse("admin:axes_accessattempt_changelist"))
    assert "zhang" in changelist.content.decode()

    response = admin_client_zh.post(
        reverse("admin:axes_accessattempt_delete", args=[locked.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert attempt(client, "zhang", PASSWORD).status_code == 302


def test_an_administrator_unlocks_with_a_command(client, zhang):
    for _ in range(5):
        attempt(client, "zhang", "wrong-pass-1")
    call_command("axes_reset_username", "zhang", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert attempt(client, "zhang", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "proxies, remote, forwarded, expected",
    [
        (0, "10.0.0.7", "", "10.0.0.7"),
        (0, "10.0.0.7", "1.2.3.4", "10.0.0.7"),  # no proxy: a client's header is not believed
        (1, "10.0.0.2", "203.0.113.9", "203.0.113.9"),
        (1, "10.0.0.2", "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client's own entry is ignored
        (2, "10.0.0.2", "6.6.6.6, 203.0.113.9, 10.0.0.3", "203.0.113.9"),
        (1, "10.0.0.2", "", "10.0.0.2"),
        (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
    ],
)
def test_the_address_counted_is_the_one_the_outermost_proxy_saw(
    settings, rf, proxies, remote, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.post("/accounts/login/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


# --- Passwords ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, code",
    [
        ("abc-12345", "password_too_short"),
        ("zhoukou-portal", "password_letters_and_digits"),
        ("2024061512345", "password_entirely_numeric"),
    ],
)
def test_weak_passwords_are_refused(db, password, code):
    with pytest.raises(ValidationError) as refused:
        validate_password(password, UserFactory(username="li"))
    assert code in {error.code for error in refused.value.error_list}


def test_a_long_password_of_letters_and_digits_passes(db):
    validate_password("周口开发区-2024", UserFactory(username="li"))
    validate_password("zone-portal-2024", UserFactory(username="li"))


def test_the_password_page_explains_the_rule_in_chinese(client, zhang):
    client.force_login(zhang)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "onlyletters-here", "new_password2": "onlyletters-here"},
    )
    assert response.status_code == 200
    assert "密码必须同时包含字母和数字。" in response.content.decode()
    zhang.refresh_from_db()
    assert zhang.check_password(PASSWORD)


def test_validator_messages_read_in_chinese(db):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        validate_password("zhoukou-portal")
    assert refused.value.messages == ["密码必须同时包含字母和数字。"]


# --- Idle sessions ------------------------------------------------------------------------------


def test_a_session_is_renewed_at_most_once_a_minute(client, zhang, settings):
    client.force_login(zhang)  # logging in saved the session and its renewal time
    assert "sessionid" not in client.get(reverse("home")).cookies  # within the minute: no write

    session = client.session
    session[SESSION_RENEWED_KEY] = int(time.time()) - 61
    session.save()
    soon = timezone.now() + datetime.timedelta(minutes=10)
    Session.objects.filter(session_key=session.session_key).update(expire_date=soon)
    later = client.get(reverse("home"))

    assert later.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE
    expires = Session.objects.get(session_key=session.session_key).expire_date
    assert abs((expires - timezone.now()).total_seconds() - settings.SESSION_COOKIE_AGE) < 60
    assert "sessionid" not in client.get(reverse("home")).cookies


def test_logging_in_through_the_page_stamps_the_session(client, zhang):
    client.post(reverse("login"), {"username": "zhang", "password": PASSWORD})
    assert abs(client.session[SESSION_RENEWED_KEY] - time.time()) < 60
    assert "sessionid" not in client.get(reverse("home")).cookies


def test_an_idle_session_has_ended(client, zhang):
    client.force_login(zhang)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_token_calls_create_no_sessions(db, zhang):
    _token, secret = create_token(zhang, name="script", days=1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get(reverse("api:project-list")).status_code == 200
    assert not Session.objects.exists()


# --- Forced password change ---------------------------------------------------------------------


@pytest.fixture
def issued(db):
    """A user whose password was issued by an administrator."""
    return UserFactory(username="wang", roles=[Role.STAFF], must_change_password=True)


@pytest.mark.parametrize(
    "url_name", ["home", "dashboard", "projects:list", "enterprises:ticket_list", "api_tokens"]
)
def test_pages_send_the_user_to_change_the_password(client, issued, url_name):
    client.force_login(issued)
    response = client.get(reverse(url_name))
    assert response.status_code == 302 and response.url == reverse("password_change")


def test_the_admin_sends_the_user_to_change_the_password(client, issued):
    issued.is_staff = issued.is_superuser = True
    issued.save()
    client.force_login(issued)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response.url == reverse("password_change")


def test_the_password_page_logout_and_language_stay_open(client, issued):
    client.force_login(issued)
    page = client.get(reverse("password_change"))
    assert page.status_code == 200
    assert "请先设置新密码再继续使用" in page.content.decode()
    language = client.post(reverse("set_language"), {"language": "en", "next": "/accounts/password/"})
    assert language.status_code == 302 and language.url == "/accounts/password/"
    out = client.post(reverse("logout"))
    assert out.status_code == 302 and out.url == reverse("login")


def test_api_calls_are_refused_with_a_reason(client, issued):
    client.force_login(issued)
    response = client.get(reverse("api:project-list"))
    assert response.status_code == 403
    assert response.json() == {"detail": "请先设置新密码：在门户中打开“修改密码”页面。"}

    _token, secret = create_token(issued, name="script", days=1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    response = api.get(reverse("api:project-list"))
    assert response.status_code == 403
    assert response.json() == {"detail": "请先设置新密码：在门户中打开“修改密码”页面。"}


def test_the_same_password_again_is_not_a_change(client, issued):
    client.force_login(issued)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert response.status_code == 200
    assert "新密码不能与当前密码相同。" in response.content.decode()
    issued.refresh_from_db()
    assert issued.must_change_password


def test_a_new_password_ends_the_requirement(client, issued):
    client.force_login(issued)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "my-own-pass-2024", "new_password2": "my-own-pass-2024"},
    )
    assert response.status_code == 302 and response.url == reverse("password_change_done")
    issued.refresh_from_db()
    assert not issued.must_change_password
    assert issued.check_password("my-own-pass-2024")
    assert client.get(reverse("home")).status_code == 200


def test_the_flag_is_shown_and_set_in_the_user_admin(admin_client_zh, issued):
    changelist = admin_client_zh.get(
        reverse("admin:core_user_changelist"), {"must_change_password__exact": "1"}
    )
    assert [user.username for user in changelist.context["cl"].result_list] == ["wang"]
    change = admin_client_zh.get(reverse("admin:core_user_change", args=[issued.pk]))
    assert 'name="must_change_password"' in change.content.decode()


def test_gunicorn_listens_on_loopback_unless_told(monkeypatch):
    """Only the local nginx reaches it, so nobody can hand it a forged X-Forwarded-For."""
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    config = runpy.run_path(str(ROOT / "zone_portal" / "gunicorn.conf.py"))
    assert config["bind"] == "127.0.0.1:8000"
    assert config["forwarded_allow_ips"] == "127.0.0.1,::1"
