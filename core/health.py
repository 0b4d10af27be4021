"""What /healthz checks: each service the portal depends on, as configured.

Each check is one cheap call, answers ``{"status": "ok" | "down" | ...}`` and logs the reason of a
failure (the body never carries it: host names and user names stay out of a public answer).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connections
from django.db.models import Q
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from core import jobs
from core.cache_backends import ForgivingRedisCache

logger = logging.getLogger(__name__)

OK, DOWN = "ok", "down"
# How long a task may wait for a worker, unless the settings say (JOB_STALE_SECONDS).
DEFAULT_STALE_SECONDS = 120


def database(alias: str) -> dict:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: the database %r did not answer", alias)
        return {"status": DOWN}
    return {"status": OK}


def redis() -> dict | None:
    """The Redis of the cache and sessions, asked directly; None when the portal has none."""
    cache = caches["default"]
    if not isinstance(cache, ForgivingRedisCache):
        return None
    try:
        cache.ping()
    except Exception:
        logger.exception("Health check: Redis did not answer")
        return {"status": DOWN}
    return {"status": OK}


def worker(now: datetime | None = None) -> dict | None:
    """The task workers: down when their newest heartbeat (``core.jobs.worker_last_heartbeat``)
    is older than three JOB_HEARTBEAT_SECONDS, as ``jobs.worker_alive`` says, or, with the database
    backend, when a task has waited JOB_STALE_SECONDS to be picked up. None heard yet and no work
    waiting is not down: the stack may have just started."""
    heartbeat = getattr(jobs, "worker_last_heartbeat", None)
    by_queue = settings.TASKS_BACKEND == "database"
    if heartbeat is None and not by_queue:
        return None
    now = now or timezone.now()
    alive_for = timedelta(seconds=3 * getattr(settings, "JOB_HEARTBEAT_SECONDS", 10))
    stale = timedelta(seconds=getattr(settings, "JOB_STALE_SECONDS", DEFAULT_STALE_SECONDS))
    try:
        last = heartbeat() if heartbeat is not None else None
        down = (last is not None and now - last > alive_for) or (
            by_queue and _task_waiting_longer_than(now - stale)
        )
    except Exception:  # the database, or Redis under RQ
        logger.exception("Health check: the task workers' heartbeat could not be read")
        return {"status": DOWN, "last_heartbeat": None}
    if down:
        logger.error("Health check: the task worker is not working (last heartbeat %s)", last)
    return {"status": DOWN if down else OK, "last_heartbeat": last.isoformat() if last else None}


def _task_waiting_longer_than(since: datetime) -> bool:
    """Whether a task due before ``since`` is still waiting for a worker. A task without a delay is
    due when it was queued (django-tasks marks it with the largest date)."""
    waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    return waiting.filter(
        Q(run_after=get_date_max(), enqueued_at__lt=since) | Q(run_after__lt=since)
    ).exists()


def report() -> tuple[bool, dict]:
    """(all configured services answer, each one's status)."""
    checks: dict[str, dict[str, Any]] = {"database": database("default")}
    if "replica" in settings.DATABASES:
        checks["replica"] = database("replica")
    for name, check in (("redis", redis), ("worker", worker)):
        if name == "worker" and checks["database"]["status"] != OK:
            # Its heartbeat is in the database: not asked again, and not known.
            result: dict[str, Any] | None = {"status": "unknown", "last_heartbeat": None}
        else:
            result = check()
        if result is not None:
            checks[name] = result
    healthy = all(check["status"] == OK for check in checks.values())
    return healthy, checks
