"""Losing the database (issue 21, items 6 and 9): a connection PostgreSQL drops between requests is
replaced before use, one dropped mid-request costs a read one more try, and what cannot be served
answers 503 — the portal's page, or JSON under /api/ — never 500; a write the portal accepted is
never lost, and one it refused was not made.

The connections are really killed, with ``pg_terminate_backend`` from a second connection: those
tests need PostgreSQL. The 503 pages run on both databases, with the failure injected below the ORM.
"""

import contextlib
import json
import logging
import time
from wsgiref.util import setup_testing_defaults

import psycopg2
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, close_old_connections, connection
from django.test import Client

from core.resilience import database_unavailable
from core.roles import Role
from projects.models import ApprovalMilestone
from tests.factories import ProjectFactory, UserFactory
from zone_portal.settings import replica_database

RETRIED = "trying once more"

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="kills connections with PostgreSQL's pg_terminate_backend"
)


@pytest.fixture
def admin(db):
    return UserFactory(username="ops", roles=[Role.ADMIN])


@pytest.fixture
def signed_in(admin):
    """A signed-in client that gets the 503 or 500 response instead of the exception behind it.
    Tests that kill connections ask for ``transactional_db``: a dead connection ends the test's own
    transaction."""
    client = Client(raise_request_exception=False)
    client.force_login(admin)
    return client


def terminate(pids: list[int]) -> None:
    """Kill these backends from a connection of our own, and wait until they are gone."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    with contextlib.closing(psycopg2.connect(**params)) as killer:
        killer.autocommit = True
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [pids])
            for _ in range(200):
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])
                if cursor.fetchone()[0] == 0:
                    return
                time.sleep(0.01)
    raise AssertionError(f"backends {pids} still alive")


def own_backend() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@contextlib.contextmanager
def killed_at(table: str, *, times: int = 1):
    """Kill this thread's connection the first ``times`` times a statement naming ``table`` is
    about to run: the statement then meets a dead connection, as if PostgreSQL had restarted."""
    kills = []

    def wrapper(execute, sql, params, many, context):
        if table in sql and len(kills) < times:
            pid = own_backend_raw(context["connection"])
            terminate([pid])
            kills.append(pid)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield kills


def own_backend_raw(wrapper) -> int:
    # The raw connection's own cursor: through the wrapper it would run the execute_wrapper again.
    return wrapper.connection.get_backend_pid()


# --- 503, not 500 (both databases) ----------------------------------------------------------------


@pytest.fixture
def unreachable_projects_table():
    """Every statement on the projects table fails as if the database had gone away."""

    def wrapper(execute, sql, params, many, context):
        if "projects_project" in sql:
            raise OperationalError("server closed the connection unexpectedly (10.0.0.5:5432)")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


def test_a_page_the_database_cannot_serve_is_the_portals_503_page_in_chinese(
    signed_in, unreachable_projects_table
):
    response = signed_in.get("/projects/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert "暂时无法使用" in page and "数据库没有响应" in page
    assert "10.0.0.5" not in page


def test_an_api_read_the_database_cannot_serve_answers_503_json(signed_in, unreachable_projects_table):
    response = signed_in.get("/api/projects/")

    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
    assert "数据库" in response.json()["detail"]


def test_other_errors_stay_500(signed_in):
    def wrapper(execute, sql, params, many, context):
        if "projects_project" in sql:
            raise ZeroDivisionError
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        response = signed_in.get("/projects/")
    assert response.status_code == 500


def test_the_drivers_own_connection_errors_count_as_unavailable_too(db):
    """Django lets a few of the driver's errors through unwrapped: closing a chunked query's cursor on
    a dead connection raised psycopg2's own OperationalError under gunicorn (a 500 before this)."""
    with connection.cursor():
        pass
    assert database_unavailable(connection.Database.OperationalError("server closed the connection"))
    assert database_unavailable(connection.Database.InterfaceError("connection already closed"))
    assert not database_unavailable(connection.Database.ProgrammingError("syntax error"))
    assert not database_unavailable(ZeroDivisionError())


def test_kept_connections_are_checked_before_reuse(settings):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    replica = replica_database({"DATABASE_REPLICA_URL": "postgres://reader@10.0.0.2:5432/zp"}, 60)
    assert replica["CONN_HEALTH_CHECKS"] is True


# --- Connections killed (PostgreSQL) ---------------------------------------------------------------


@needs_postgresql
def test_a_connection_killed_between_requests_is_replaced_before_use(transactional_db, admin, caplog):
    """Through Django's own WSGI request cycle, whose start runs the health check (the test client
    skips it): the dead connection is found and replaced before the request uses it."""
    ProjectFactory(name="海熙药业研发中心")
    session = Client()
    session.force_login(admin)
    handler = WSGIHandler()

    def get(path):
        environ = {
            "PATH_INFO": path,
            "HTTP_HOST": "testserver",
            "HTTP_COOKIE": f"sessionid={session.session.session_key}",
        }
        setup_testing_defaults(environ)
        answered = []
        result = handler(environ, lambda status, headers: answered.append(status))
        try:
            return answered[0], b"".join(result).decode()
        finally:
            result.close()  # the end of the request, as a WSGI server ends it

    assert get("/projects/")[0].startswith("200")
    for path in ("/projects/", "/api/projects/", "/accounts/login/"):
        terminate([own_backend()])
        with caplog.at_level(logging.WARNING):
            status, body = get(path)
        assert status.startswith("200" if path != "/accounts/login/" else "302"), (path, status)
        assert "海熙药业研发中心" in body or path == "/accounts/login/"
    assert RETRIED not in caplog.text  # no request needed the retry: the health check did it


@needs_postgresql
@pytest.mark.parametrize("path", ["/projects/", "/api/projects/"])
def test_a_read_whose_connection_is_killed_mid_request_is_served_on_a_new_one(
    transactional_db, signed_in, caplog, path
):
    ProjectFactory(name="海熙药业研发中心")
    # The session and the user are read; the connection is open. (Not the project list: its page
    # would be cached, and the request under test would not read the projects at all.)
    signed_in.get("/accounts/display/")

    with caplog.at_level(logging.WARNING), killed_at("projects_project") as kills:
        response = signed_in.get(path)

    assert len(kills) == 1
    assert response.status_code == 200
    assert "海熙药业研发中心" in response.content.decode()
    assert RETRIED in caplog.text


@needs_postgresql
def test_a_read_that_loses_its_connection_twice_answers_503(transactional_db, signed_in):
    with killed_at("projects_project", times=2) as kills:
        page = signed_in.get("/projects/")
    assert len(kills) == 2  # tried once more, not again
    assert page.status_code == 503 and "数据库没有响应" in page.content.decode()
    assert signed_in.get("/projects/").status_code == 200  # and the next request is served


@needs_postgresql
def test_a_write_is_never_repeated_and_no_accepted_write_is_lost(transactional_db, signed_in):
    project = ProjectFactory()
    body = {
        "project": project.pk,
        "kind": "environment",
        "status": "in_progress",
        "planned_date": "2024-05-01",
    }

    def post():
        return signed_in.post("/api/milestones/", json.dumps(body), content_type="application/json")

    # Killed as the insert is sent: refused, nothing written, not tried again behind the user's back.
    with killed_at("projects_approvalmilestone") as kills:
        refused = post()
    assert len(kills) == 1
    assert refused.status_code == 503
    assert not ApprovalMilestone.objects.filter(project=project).exists()
    close_old_connections()  # what the server does between requests (the test client does not)

    # Accepted, then the connection dies: what was accepted is there.
    accepted = post()
    assert accepted.status_code == 201
    terminate([own_backend()])
    listed = signed_in.get(f"/api/milestones/?project={project.pk}")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [accepted.json()["id"]]


@needs_postgresql
def test_with_the_database_down_pages_and_the_api_answer_503_and_healthz_says_so(transactional_db, signed_in):
    signed_in.get("/projects/")
    terminate([own_backend()])
    port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = 8799  # nothing listens there: PostgreSQL is down
    try:
        page = signed_in.get("/projects/")
        api = signed_in.get("/api/projects/")
        health = Client(raise_request_exception=False).get("/healthz")  # as a load balancer asks
    finally:
        connection.settings_dict["PORT"] = port
        connection.close()

    assert page.status_code == 503 and "数据库没有响应" in page.content.decode()
    assert api.status_code == 503, api.content[:300]
    assert api["Content-Type"] == "application/json", api.content[:400]
    assert api.json()["code"] == "unavailable"
    assert health.status_code == 503
    assert health.json()["checks"]["database"] == {"status": "down"}
    assert signed_in.get("/projects/").status_code == 200
