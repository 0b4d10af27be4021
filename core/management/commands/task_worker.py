"""The task worker for TASKS_BACKEND=database: django-tasks-db's ``db_worker`` made to ride out the
database blinking, with a heartbeat.

``db_worker`` exits on the first database error outside a task (a restarted PostgreSQL, an ended
connection: issue 21). This one closes the broken connection, waits (1 s, doubling up to 30 s) and
carries on; a task that lost its connection is failed by ``core.tasks.run`` first. A thread
writes the worker's heartbeat every JOB_HEARTBEAT_SECONDS (``core.jobs.worker_last_heartbeat``)
and fails the running jobs whose own heartbeat stopped (their worker died). Its PostgreSQL
connections are named ``zone_portal task_worker`` (pg_stat_activity's application_name).

    manage.py task_worker            # every queue; SIGTERM finishes the task in hand, then stops
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.db import DatabaseError, connection, connections
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

from core import jobs
from core.models import WorkerHeartbeat

logger = logging.getLogger("zone_portal.task_worker")

APPLICATION_NAME = "zone_portal task_worker"
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0


class ResilientWorker(Worker):
    """A ``db_worker`` worker that reconnects after a database error instead of exiting."""

    def run(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while self.running:
            started = time.monotonic()
            try:
                super().run()
                return  # --batch or --max-tasks ended it
            except DatabaseError as error:
                if not self.running:
                    return
                connections.close_all()
                if time.monotonic() - started > RETRY_MAX_SECONDS:
                    delay = RETRY_FIRST_SECONDS  # it had worked for a while: a new blink
                logger.warning("Database error (%s); reconnecting in %.0f s", error, delay)
                self.startup_delay = False
                time.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)


class Command(DbWorkerCommand):
    help = "Run the background-task worker (database backend) that survives database restarts."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(queue_name="*", reload=False)

    def handle(
        self,
        *,
        verbosity,
        queue_name,
        interval,
        batch,
        backend_name,
        startup_delay,
        reload,
        max_tasks,
        worker_id,
        exclude_queues,
        **options,
    ):
        if connection.vendor == "postgresql":
            connection.settings_dict.setdefault("OPTIONS", {})["application_name"] = APPLICATION_NAME
            connection.close()  # the next query connects under that name
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        worker = ResilientWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id or get_random_string(32),
            excluded_queue_names=exclude_queues.split(",") if exclude_queues else [],
        )
        try:
            # Rows of workers gone for a day (each process writes its own).
            WorkerHeartbeat.objects.filter(beat_at__lt=timezone.now() - timedelta(days=1)).delete()
        except DatabaseError as error:
            logger.warning("Old heartbeats not purged (%s)", error)
            connections.close_all()
        worker.configure_signals()
        with jobs.Heartbeat(sweep=True):
            worker.run()
