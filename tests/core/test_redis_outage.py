"""Redis unreachable (issue 21, items 7 and 9): logins, pages and the API keep working on the database,
the API throttles let requests through with a logged warning, and /healthz says Redis is down
(503); when Redis answers again, the cache is used again. And /healthz's other checks: the database
and the task worker's heartbeat.

A closed port (127.0.0.1:6390) needs no Redis at all. The test of Redis going away and coming back
starts its own redis-server on a port of its own (skipped without the binary, unless
CI_REQUIRE_REDIS=1).
"""

import json
import logging
import os
import shutil
import socket
import subprocess
import time
from datetime import datetime, timedelta

import pytest
import redis
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rest_framework.throttling import AnonRateThrottle

from core import cache_backends
from core.models import WorkerHeartbeat
from core.roles import Role
from core.tasks import export_task
from tests.factories import ProjectFactory, UserFactory
from zone_portal.settings import cache_settings

CLOSED_PORT = 6390
OWN_REDIS_PORT = 8761
UNREACHABLE = "cannot be reached"


def closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(autouse=True)
def fresh_skip_window():
    """Each test starts with Redis not known to be down in this process."""
    cache_backends._skip_until.clear()
    cache_backends._missed_deletes.clear()
    yield
    cache_backends._skip_until.clear()
    cache_backends._missed_deletes.clear()


def use_redis(settings, port: int, db: int = 13) -> None:
    settings.CACHES, settings.SESSION_ENGINE = cache_settings({"REDIS_URL": f"redis://127.0.0.1:{port}/{db}"})


@pytest.fixture
def redis_unreachable(db, settings):
    if not closed(CLOSED_PORT):
        pytest.skip(f"something listens on {CLOSED_PORT}")
    use_redis(settings, CLOSED_PORT)


def test_logging_in_pages_and_the_api_work_without_redis(client, redis_unreachable, caplog):
    ProjectFactory(name="海熙药业研发中心")
    UserFactory(username="zhang", roles=[Role.ADMIN])

    with caplog.at_level(logging.WARNING, logger="core.cache_backends"):
        login = client.post(reverse("login"), {"username": "zhang", "password": "test-pass-123"})
        assert login.status_code == 302 and login.url == reverse("home")
        assert Session.objects.filter(session_key=client.cookies["sessionid"].value).exists()
        home = client.get(reverse("home"))
        projects = client.get("/projects/")
        dashboard = client.get(reverse("dashboard"))  # its figures computed, not cached
        api = client.get("/api/projects/")
        logout = client.post(reverse("logout"))

    assert home.status_code == 200 and home.wsgi_request.user.username == "zhang"
    assert projects.status_code == 200 and "海熙药业研发中心" in projects.content.decode()
    assert dashboard.status_code == 200
    assert api.status_code == 200 and [row["name"] for row in api.json()["results"]] == ["海熙药业研发中心"]
    assert logout.status_code == 302
    assert not Session.objects.exists()  # logged out in the database, the session's only copy
    # Said once, not on every cache call: the process skips Redis for a few seconds after a failure.
    assert [r.levelname for r in caplog.records if UNREACHABLE in r.getMessage()] == ["WARNING"]


def test_api_throttles_let_requests_through_with_a_warning(client, redis_unreachable, monkeypatch, caplog):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "1200/minute"})

    with caplog.at_level(logging.WARNING, logger="core.cache_backends"):
        statuses = [client.get("/api/projects/").status_code for _ in range(3)]

    assert statuses == [401, 401, 401]  # with Redis, the third is 429 (test_deploy.py)
    assert "API throttles are not counted" in caplog.text


def test_the_cache_answers_misses_and_ignores_writes_without_redis(redis_unreachable):
    cache.set("figure", 42)
    assert cache.get("figure", "absent") == "absent"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.add("lock", 1) is False
    assert cache.get_or_set("computed", lambda: 7) == 7
    assert cache.delete("figure") is False
    with pytest.raises(ValueError):
        cache.incr("counter")


def test_healthz_says_redis_is_down(client, redis_unreachable):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["checks"]["redis"] == {"status": "down"}
    assert response.json()["checks"]["database"] == {"status": "ok"}
    assert str(CLOSED_PORT) not in response.content.decode()


# --- Redis going away and coming back ------------------------------------------------------------------


@pytest.fixture
def own_redis(tmp_path):
    """Start and stop a redis-server of this test's own; it saves its data only when told (SAVE),
    and loads what it saved when started again."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI_REQUIRE_REDIS") == "1":
            pytest.fail("CI_REQUIRE_REDIS=1 but no redis-server binary")
        pytest.skip("no redis-server binary")
    if not closed(OWN_REDIS_PORT):
        pytest.skip(f"something listens on {OWN_REDIS_PORT}")
    processes = []

    def start():
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(OWN_REDIS_PORT),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",  # where SAVE writes dump.rdb: not the checkout
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
        )
        processes.append(process)
        client = redis.Redis(port=OWN_REDIS_PORT, socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return client
            except redis.ConnectionError:
                time.sleep(0.02)
        raise AssertionError("redis-server did not start")

    def stop():
        process = processes.pop()
        process.terminate()
        process.wait(timeout=10)

    yield start, stop
    for process in processes:
        process.kill()
        process.wait(timeout=10)


def test_signed_in_users_ride_out_redis_going_away_and_coming_back(
    client, db, settings, own_redis, monkeypatch
):
    start, stop = own_redis
    monkeypatch.setattr(cache_backends, "RETRY_SECONDS", 0.0)  # try Redis again at once
    use_redis(settings, OWN_REDIS_PORT, db=0)
    UserFactory(username="zhang", roles=[Role.STAFF])
    server = start()
    assert (
        client.post(reverse("login"), {"username": "zhang", "password": "test-pass-123"}).status_code == 302
    )
    assert [key for key in server.keys() if b"sessions" in key]  # the session is in Redis

    stop()
    while_down = [client.get(reverse("home")), client.get("/api/projects/"), client.get("/healthz")]

    server = start()  # empty: the old copy of the session is gone with the process
    again = client.get(reverse("home"))
    healthy = client.get("/healthz")

    assert [r.status_code for r in while_down] == [200, 200, 503]
    assert while_down[0].wsgi_request.user.username == "zhang"  # still signed in: read from the database
    assert json.loads(while_down[2].content)["checks"]["redis"] == {"status": "down"}
    assert again.status_code == 200 and again.wsgi_request.user.username == "zhang"
    assert healthy.status_code == 200 and healthy.json()["checks"]["redis"] == {"status": "ok"}
    assert [key for key in server.keys() if b"sessions" in key]  # cached in Redis again


def test_a_logout_while_redis_is_away_holds_when_redis_comes_back_with_the_session(
    client, db, settings, own_redis, monkeypatch
):
    start, stop = own_redis
    monkeypatch.setattr(cache_backends, "RETRY_SECONDS", 0.0)
    use_redis(settings, OWN_REDIS_PORT, db=0)
    UserFactory(username="zhang", roles=[Role.STAFF])
    server = start()
    client.post(reverse("login"), {"username": "zhang", "password": "test-pass-123"})
    stolen = client.cookies["sessionid"].value
    server.save()  # Redis keeps the signed-in session on disk
    stop()

    assert client.post(reverse("logout")).status_code == 302  # while Redis is away
    start()  # back, with the session it saved
    client.cookies["sessionid"] = stolen
    response = client.get(reverse("home"))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert not response.wsgi_request.user.is_authenticated


# --- The task worker in /healthz -------------------------------------------------------------------------


def test_healthz_reports_the_worker_by_its_heartbeat(client, db, settings):
    settings.JOB_HEARTBEAT_SECONDS = 10
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker="host-1:123", beat_at=now - timedelta(seconds=5))

    alive = client.get("/healthz")
    WorkerHeartbeat.objects.update(beat_at=now - timedelta(seconds=45))  # three heartbeats missed
    silent = client.get("/healthz")

    assert alive.status_code == 200
    worker = alive.json()["checks"]["worker"]
    assert worker["status"] == "ok"
    assert datetime.fromisoformat(worker["last_heartbeat"]) == now - timedelta(seconds=5)
    assert silent.status_code == 503 and silent.json()["checks"]["worker"]["status"] == "down"


def test_healthz_says_the_worker_is_down_when_a_task_waits_too_long(
    client, db, settings, django_capture_on_commit_callbacks
):
    settings.JOB_STALE_SECONDS = 120
    with django_capture_on_commit_callbacks(execute=True):
        export_task.enqueue(0)  # never run: no worker in the tests
    assert client.get("/healthz").status_code == 200  # just queued

    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(seconds=121))
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {"status": "down", "last_heartbeat": None}
