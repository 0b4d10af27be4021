"""Riding out a lost database connection (docs/deploy.md, "Health check").

A connection PostgreSQL dropped between requests (a restart, a fail-over, ``pg_terminate_backend``)
is found by ``CONN_HEALTH_CHECKS`` before the request uses it and replaced. One dropped while a
request runs fails that request's query; then:

* a GET or HEAD is run once more on a new connection (``RetryReadMiddleware``): reads are safe to
  repeat, and nothing has been sent to the client yet. Writes are never repeated: a POST whose
  connection broke may or may not have committed, and only the user can tell whether to send it
  again;
* what still cannot be served answers 503 (``server_error``), the portal's own page or the API's
  JSON, so the user and the load balancer know to try again shortly, rather than a 500 that says the
  portal is broken.
"""

import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import defaults

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
SAFE_TO_REPEAT = {"GET", "HEAD"}


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` means "the database could not be reached or dropped the connection", as
    opposed to a query it refused (ProgrammingError, IntegrityError, DataError: bugs or bad input).
    Django wraps the driver's errors in its own, except a few it lets through unwrapped (closing a
    chunked query's cursor on a dead connection raises psycopg2's own OperationalError)."""
    kinds = [OperationalError, InterfaceError]
    for connection in connections.all(initialized_only=True):
        driver = connection.Database  # type: ignore[attr-defined]  # each backend's wrapper sets its driver
        kinds += [driver.OperationalError, driver.InterfaceError]
    return isinstance(exc, tuple(kinds))


def close_lost_connections() -> bool:
    """Close every connection of this thread that no longer works; True if one was lost (closed now,
    or already closed by Django's own error handling) — a failure a new connection can fix, unlike
    a query the database cancelled on a connection that still answers."""
    lost = False
    for connection in connections.all(initialized_only=True):
        if connection.connection is None:
            lost = True
        elif not connection.is_usable():
            connection.close()
            lost = True
    return lost


class RetryReadMiddleware:
    """Runs a GET or HEAD once more when a lost database connection failed it (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.method in SAFE_TO_REPEAT
            and getattr(response, "database_unavailable", False)
            and close_lost_connections()
        ):
            logger.warning(
                "%s %s lost its database connection; trying once more", request.method, request.path
            )
            response = self.get_response(request)
        return response


def server_error(request, template_name="500.html"):
    """handler500: 503 when the database was unreachable, Django's 500 page for anything else.

    Rendered without the request's context processors, which would read the database again."""
    if not database_unavailable(sys.exc_info()[1]):
        return defaults.server_error(request, template_name)
    language = getattr(request, "LANGUAGE_CODE", None) or settings.LANGUAGE_CODE
    with translation.override(language):
        if request.path.startswith("/api/") or request.path == "/healthz":
            response: HttpResponse = JsonResponse(
                {
                    "detail": _(
                        "The service is briefly unavailable: the database did not answer. "
                        "Try again in a few seconds."
                    ),
                    "code": "unavailable",
                },
                status=503,
            )
        else:
            try:
                body = loader.get_template("503.html").render({"zone_name": settings.ZONE_NAME})
            except Exception:  # the page must answer even if its template cannot be rendered
                logger.exception("The 503 page could not be rendered")
                body = "<h1>503 Service Unavailable</h1>"
            response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.database_unavailable = True  # type: ignore[attr-defined]  # a marker on this response only
    return response
