"""Nobody gets in without logging in: every route the URL resolver knows, the admin's and the API's
included, is requested anonymously with GET and POST.

A page must send the caller to a log-in page, the API must answer 401 or 403 (405 for a method the
route does not take is a refusal too); only the routes in ALLOWED may answer otherwise. A new view
without ``login_required`` (or an API view with ``AllowAny``) answers 200, or 404 for a record
that does not exist, and fails here; so does a route this walk cannot build an address for."""

import itertools

import pytest
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client
from django.urls import Resolver404, URLResolver, get_resolver, path, resolve
from django.utils.regex_helper import normalize

# Open to everyone, each for a reason.
ALLOWED = {
    "login",  # the log-in page
    "admin:login",
    "logout",  # logging out of nothing sends the caller to the log-in page
    "admin:logout",
    "set_language",  # the language of the log-in page
    "healthz",  # the load balancer's probe
}

# Plausible values for the parameters of a route, tried in turn; any other parameter gets "1".
VALUES = {
    "format": ["json", ".json"],  # the router's suffix routes; the API root's converter takes the dot
    "app_label": ["core"],
    "kind": ["thumb"],
    "action": ["comment"],
    "year": ["2024"],
    "month": ["3"],
    "key": ["abcd1234"],
    "url": ["nowhere/"],
    "model": ["user", "park", "visit"],  # the admin's old addresses: a model of core, reference, problems
    "rest": [""],
}

LOGIN_PAGES = ("/accounts/login/?next=", "/admin/login/?next=")
API_REFUSALS = {401, 403, 405}
# The API's reference pages are for people in a browser: signed out, they go to log in like pages.
API_PAGES = {"api:docs", "api:redoc"}


def address_of(regex, callback, urlconf) -> str | None:
    """An address that reaches ``callback``, its parameters filled in from VALUES; None if none does."""
    template, params = normalize(regex)[0]
    for values in itertools.product(*(VALUES.get(param, ["1"]) for param in params)):
        address = "/" + template % dict(zip(params, values, strict=True))
        try:
            if resolve(address, urlconf).func is callback:
                return address
        except Resolver404:
            pass
    return None


def routes(urlconf=None):
    """(name, namespaces, address) of every route, the included ones too."""

    def walk(patterns, regex, namespaces):
        for entry in patterns:
            part = entry.pattern.regex.pattern.removeprefix("^")
            if isinstance(entry, URLResolver):
                namespace = (entry.namespace,) if entry.namespace else ()
                yield from walk(entry.url_patterns, regex + part, namespaces + namespace)
            else:
                name = ":".join([*namespaces, entry.name or "(unnamed)"])
                yield name, namespaces, address_of(regex + part, entry.callback, urlconf)

    yield from walk(get_resolver(urlconf).url_patterns, "", ())


def anonymous_failures(urlconf=None) -> list[str]:
    """Every anonymous request that was not refused, as "METHOD address (route) → what happened"."""
    client = Client()
    failures = []
    for name, namespaces, address in routes(urlconf):
        if address is None:
            failures.append(f"{name}: no address reaches it; give its parameters a value in VALUES")
            continue
        for method in ("get", "post"):
            cache.clear()  # the API's throttle for anonymous callers would answer 429 instead
            response = getattr(client, method)(address)
            status, where = response.status_code, response.get("Location", "")
            if status == 301 and where.startswith("/"):
                # A moved address (the admin's before the apps split) answers as its new one does.
                response = getattr(client, method)(where)
                status, where = response.status_code, response.get("Location", "")
            if name in ALLOWED:
                refused = status < 500
            elif "api" in namespaces and name not in API_PAGES:
                refused = status in API_REFUSALS
            else:
                refused = status == 405 or (status == 302 and where.startswith(LOGIN_PAGES))
            if not refused:
                failures.append(f"{method.upper()} {address} ({name}) → {status} {where}".strip())
    return failures


def test_no_route_is_open_to_anonymous_callers(db):
    assert anonymous_failures() == []


def test_the_walk_reaches_pages_the_admin_and_the_api():
    walked = list(routes())
    names = {name for name, _namespaces, _address in walked}
    addresses = {address for _name, _namespaces, address in walked}
    assert ALLOWED <= names  # the allowed list names real routes
    assert {"home", "projects:detail", "enterprises:attachment", "import_upload"} <= names
    assert {"admin:index", "admin:core_user_change", "admin:app_list", "admin:(unnamed)"} <= names
    assert {"admin_moved_to_core", "admin_moved_to_reference", "admin_moved_to_problems"} <= names
    assert {"api:api-root", "api:project-detail", "api:photo-file", "api:docs"} <= names
    assert {
        "/projects/photos/1/thumb/",
        "/api/projects/1/",
        "/api/projects/1.json",
        "/api/.json",
    } <= addresses
    assert len(walked) > 300


# --- The check itself catches an open view ----------------------------------------------------


def open_view(request, pk=None):
    return HttpResponse("figures")


urlpatterns = [
    path("closed/", login_required(open_view), name="closed"),
    path("reports/<int:pk>/", open_view, name="open"),
    path("accounts/login/", open_view, name="login"),  # in ALLOWED: not reported
]


@pytest.mark.urls(__name__)
def test_an_open_view_is_reported(db):
    assert anonymous_failures(__name__) == ["GET /reports/1/ (open) → 200", "POST /reports/1/ (open) → 200"]
