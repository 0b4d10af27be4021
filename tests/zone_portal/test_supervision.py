"""The production stack rides out its processes dying and its task worker losing the database
(issue 21, items 5 and 9): supervisord (deploy/supervisord.conf, started by deploy/serve_prod.py)
restarts a killed gunicorn master or task worker, gunicorn replaces a killed worker, and the task
worker reconnects by itself when PostgreSQL ends its connection, idle or in the middle of a job.

One stack (2 gunicorn workers, the task worker, a database of its own) serves every test of the
module. PostgreSQL only, as the production stack is: ``pg_terminate_backend`` is what a database
restart or an administrator does to a connection. Jobs are queued through the site as a user
would (a change-log export, made a job by EXCEL_SYNC_EXPORT_ROWS=0) and followed on their status
page.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg2
import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from deploy import serve_prod
from tests.redis_helpers import redis_or_skip
from tests.zone_portal.test_deploy import free_port  # the stack tests of both files take ports 8600–8699

pytestmark = [
    pytest.mark.slow,
    pytest.mark.serial,  # "answers again within seconds" means nothing on a machine busy with other tests
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the production stack runs on PostgreSQL"),
]

ROOT = Path(django_settings.BASE_DIR)
REDIS_URL = "redis://127.0.0.1:6379/12"
PASSWORD = "Zq8#supervised-stack-77"
BACK_WITHIN = 20  # seconds for the site to answer again, or a job to finish
LOST_CONNECTION_ZH = "与数据库的连接中断"
STALE_ZH = "后台任务进程在运行本任务时停止了"
STALE_SECONDS = 5  # the stack's JOB_STALE_SECONDS: a job with no heartbeat for 5 s lost its worker


def until(condition, what: str, timeout: float = BACK_WITHIN, every: float = 0.2):
    """``condition()``'s first true value, polled; fails saying ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(every)


class Browser:
    """A signed-in user of the stack: cookies kept, redirects not followed."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, url: str):
        self.url = url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), self._NoRedirect()
        )

    def request(self, path: str, data: dict | None = None) -> tuple[int, dict, bytes]:
        body = None
        if data is not None:
            body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf()}).encode()
        request = urllib.request.Request(self.url + path, data=body, headers={"Host": "localhost"})
        if data is not None:
            request.add_header("Referer", self.url + path)
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def csrf(self) -> str:
        token = next((c.value for c in self.cookies if c.name == "csrftoken"), None)
        if token is None:
            self.request("/accounts/login/")
            token = next(c.value for c in self.cookies if c.name == "csrftoken")
        return token

    def log_in(self, username: str, password: str) -> None:
        status, headers, body = self.request("/accounts/login/", {"username": username, "password": password})
        assert status == 302, body[:500]

    def export_job(self) -> int:
        """Queues a change-log export; the job's id."""
        status, headers, body = self.request("/changes/export/")
        assert status == 302, body[:500]
        return int(re.search(r"/jobs/(\d+)/$", headers["Location"]).group(1))

    def job(self, pk: int) -> dict:
        status, _headers, body = self.request(f"/jobs/{pk}/status/")
        return json.loads(body) if status == 200 else {"status": f"HTTP {status}"}

    def job_finished(self, pk: int) -> dict:
        return until(lambda: (job := self.job(pk)).get("finished") and job, f"job {pk} finished")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(
            urllib.request.Request(f"{url}/healthz", headers={"Host": "localhost"}), timeout=3
        ) as response:
            return response.status == 200
    except OSError:
        return False


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


class Stack:
    def __init__(self, stack: serve_prod.Stack, database: dict, browser: Browser):
        self.stack, self.database, self.browser = stack, database, browser

    def pid(self, program: str) -> int:
        info = self.stack.program(program)
        assert info["statename"] == "RUNNING", info
        return info["pid"]

    def sql(self, query: str, params=()) -> list[tuple]:
        with psycopg2.connect(**self.database) as db, db.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def worker_connections(self) -> list[int]:
        return [
            row[0]
            for row in self.sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
                (self.database["dbname"], "zone_portal task_worker"),
            )
        ]

    def back_and_working(self, program: str, old_pid: int) -> None:
        """The program runs again under a new pid, /healthz answers, and a queued job is done."""
        until(
            lambda: (
                self.stack.program(program)["statename"] == "RUNNING"
                and self.stack.program(program)["pid"] != old_pid
            ),
            f"{program} restarted",
        )
        until(lambda: healthy(self.stack.url), "/healthz answering 200")
        assert self.browser.job_finished(self.browser.export_job())["status"] == "done"


@pytest.fixture(scope="module")
def stack(django_db_blocker, tmp_path_factory):
    redis_or_skip(REDIS_URL, "the production stack keeps its cache and sessions in Redis")
    from bench.load.run import create_database, database_url, drop_database

    config = connection.settings_dict
    name = f"zp_h2_supervised_{os.getpid()}"
    prefix = f"zp_h2_supervised_{os.getpid()}"
    log = tmp_path_factory.mktemp("stack") / "server.log"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE", "REDIS", "PYTEST"))
    }
    env = serve_prod.production_env(
        {
            "DATABASE_URL": database_url(config, name),
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": prefix,
            "SECRET_KEY": "s" * 60,
            "MEDIA_ROOT": str(log.parent / "media"),
            "EXCEL_SYNC_EXPORT_ROWS": "0",  # every export is a background job
            "JOB_HEARTBEAT_SECONDS": "1",
            "JOB_STALE_SECONDS": str(STALE_SECONDS),
            "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        },
        base=env,
    )
    with django_db_blocker.unblock():
        create_database(config, name)
    running = None
    try:
        running = serve_prod.start(env, port=free_port(8640, 8699), workers=2, log=log)
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "createsuperuser",
                "--noinput",
                "--username=root",
                "--email=r@x.cn",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        browser = Browser(running.url)
        browser.log_in("root", PASSWORD)
        database = {
            "dbname": name,
            "user": config.get("USER") or None,
            "password": config.get("PASSWORD") or None,
            "host": config.get("HOST") or None,
            "port": config.get("PORT") or None,
        }
        yield Stack(running, database, browser)
    finally:
        if running is not None:
            running.stop()
        with django_db_blocker.unblock():
            drop_database(config, name)
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
        client.close()


@pytest.mark.parametrize("program", ["gunicorn", "worker"])
def test_supervisord_restarts_a_killed_gunicorn_master_or_task_worker(stack, program):
    pid = stack.pid(program)

    os.kill(pid, signal.SIGKILL)

    stack.back_and_working(program, pid)


def test_gunicorn_replaces_a_killed_web_worker(stack):
    master = stack.pid("gunicorn")
    workers = children(master)
    assert len(workers) == 2

    os.kill(workers[0], signal.SIGKILL)

    until(lambda: len(children(master)) == 2 and workers[0] not in children(master), "a new web worker")
    assert stack.pid("gunicorn") == master  # the master itself was not restarted
    until(lambda: healthy(stack.stack.url), "/healthz answering 200")
    assert stack.browser.job_finished(stack.browser.export_job())["status"] == "done"


def test_the_task_worker_reconnects_when_the_database_ends_its_connections(stack):
    worker = stack.pid("worker")
    connections = until(stack.worker_connections, "the worker connected")

    ended = stack.sql("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (connections,))

    assert ended and all(row[0] for row in ended)
    assert stack.browser.job_finished(stack.browser.export_job())["status"] == "done"
    assert stack.pid("worker") == worker  # carried on: not a crash that supervisord made up for


@contextlib.contextmanager
def job_waiting_mid_way(stack: Stack):
    """A job the task worker has taken and that waits on its query: yields its id and the pid of
    the worker's waiting database connection; the lock it waits on is released on leaving.

    The worker is held while the job is queued, so that it takes the job only once the history
    tables the export reads are locked."""
    worker = stack.pid("worker")
    os.kill(worker, signal.SIGSTOP)
    lock = None
    try:
        job = stack.browser.export_job()
        lock = psycopg2.connect(**stack.database)
        tables = stack.sql("SELECT tablename FROM pg_tables WHERE tablename LIKE '%%historical%%'")
        lock.cursor().execute(
            "LOCK TABLE " + ", ".join(f'"{row[0]}"' for row in tables) + " IN ACCESS EXCLUSIVE MODE"
        )
        os.kill(worker, signal.SIGCONT)
        waiting = until(
            lambda: stack.sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s "
                "AND wait_event_type = 'Lock'",
                (stack.database["dbname"], "zone_portal task_worker"),
            ),
            "the job waiting on the lock",
        )
        assert stack.browser.job(job)["status"] == "running"
        yield job, waiting[0][0]
    finally:
        os.kill(worker, signal.SIGCONT)
        if lock is not None:
            lock.rollback()
            lock.close()


def run_again(stack: Stack, job: int) -> dict:
    """Its owner presses 重新运行 on the failed job's page; the new job, finished."""
    status, headers, _body = stack.browser.request(f"/jobs/{job}/rerun/", {})
    assert status == 302
    again = int(re.search(r"/jobs/(\d+)/$", headers["Location"]).group(1))
    assert again != job
    return stack.browser.job_finished(again)


def test_a_job_whose_connection_is_ended_mid_way_fails_saying_so_and_runs_again(stack):
    worker = stack.pid("worker")

    with job_waiting_mid_way(stack) as (job, connection_pid):
        stack.sql("SELECT pg_terminate_backend(%s)", (connection_pid,))

    failed = stack.browser.job_finished(job)
    assert failed["status"] == "failed" and failed["error"].startswith(LOST_CONNECTION_ZH)
    assert stack.pid("worker") == worker  # the worker itself carried on
    assert run_again(stack, job)["status"] == "done"


def test_a_job_whose_worker_is_killed_is_failed_once_its_heartbeat_stops_and_runs_again(stack):
    worker = stack.pid("worker")

    with job_waiting_mid_way(stack) as (job, _connection_pid):
        os.kill(worker, signal.SIGKILL)
        started = time.monotonic()

    # No page is open: the restarted worker's sweep fails it, JOB_STALE_SECONDS after its last beat.
    failed = until(
        lambda: stack.sql(
            "SELECT status, error FROM zone_portal_job WHERE id = %s AND status = 'failed'", (job,)
        ),
        "the job failed by the sweep",
    )[0]
    assert time.monotonic() - started >= STALE_SECONDS - 1.5  # not before its heartbeat had stopped
    assert failed[1].startswith(STALE_ZH)
    assert stack.browser.job(job)["error"] == failed[1]
    assert run_again(stack, job)["status"] == "done"
