"""Background jobs: start one, report its progress, finish or fail it, purge old ones.

A job is a row (``core.models.Job``) the pages read, and a task (``core.tasks``) a
worker runs. The task is enqueued only when the transaction that created the job commits, so a
worker never looks for a job that is not there yet.

Progress is written outside the work's own transaction: an import's changes are one atomic block
(all or nothing), and a progress row written inside it would be invisible to the page until the
very end, and rolled back with the rest on failure. So every report goes to the cache, which any
process reads when the cache is shared (Redis), and to the job's row only when no transaction is
open; the page reads the row and, while the job runs, the cache's newer copy.

A running job heartbeats (``Heartbeat``, from a thread with its own database connection, so an
import's open transaction does not hide it); one silent for JOB_STALE_SECONDS lost its worker and
is failed (``fail_stale``), and its owner can run it again (``rerun``). The task worker heartbeats
too: ``worker_last_heartbeat()`` says when one was last alive.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import kinds
from core.models import Job, WorkerHeartbeat
from core.roles import is_admin

logger = logging.getLogger(__name__)

# The task that runs each kind of job (a django-tasks Task), put here by the module that defines it
# (core.tasks, demo.tasks) as its app gets ready: this module knows no task, so tasks may use it.
TASKS: dict[str, Any] = {}  # django-tasks' Task, untyped


def register_task(kind: str, label, task) -> None:
    """``task`` runs the jobs of ``kind``, which lists read as ``label``."""
    TASKS[kind] = task
    kinds.JOB_KINDS[kind] = label


PROGRESS_SECONDS = 1.0  # at most one progress write a second
PROGRESS_CACHE_SECONDS = 24 * 3600
MAX_DETAILS = 50  # lines of detail (such as an import's row errors) kept on a failed job


# --- Exports that may run in the background -------------------------------------------------------


@dataclass
class Export:
    """An Excel export worked out for a user and a query: how many rows, the file's name, and the
    function that writes it (returning the closed ``core.excel.Workbook``). The download view
    and the background task both get it from the same function, so they write the same workbook."""

    rows: int
    filename: str
    write: Callable


class ExportRefused(Exception):
    """The export cannot be made as asked (filters not understood…); the message says why."""

    def __init__(self, message: str, errors: dict | None = None, *, bad_request: bool = False):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.bad_request = bad_request


class JobFailed(Exception):
    """The work stopped for a reason its owner can act on; ``details`` are lines to show them."""

    def __init__(self, message: str, details: Iterable[str] = ()):
        super().__init__(message)
        self.message = message
        self.details = list(details)


# --- Starting ---------------------------------------------------------------------------------------


def start(
    *, owner, kind: str, parameters: dict | None = None, import_record=None, source: bytes = b""
) -> Job:
    """Create a job and enqueue its task once the current transaction commits."""
    job = Job(
        owner=owner,
        kind=kind,
        parameters=parameters or {},
        import_record=import_record,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    job.full_clean(exclude=["owner", "import_record"])
    if source:
        job.source.save("upload.xlsx", ContentFile(source), save=False)
    job.save()
    transaction.on_commit(lambda: enqueue(job.pk))
    return job


def enqueue(job_id: int) -> None:
    """Hand the job to the task backend; a backend that cannot take it fails the job at once."""
    job = Job.objects.get(pk=job_id)
    try:
        result = TASKS[job.kind].enqueue(job_id)
    except Exception:
        logger.exception("Job %s could not be queued", job_id)
        with translation.override(job.language):
            fail(
                job,
                _("The job could not be queued: the background worker is not reachable. Try again later."),
            )
        return
    Job.objects.filter(pk=job_id).update(task_id=str(result.id)[:64])


def active_job_for_import(record) -> Job | None:
    """The queued or running job that applies ``record``, if any (one at a time)."""
    return (
        Job.objects.filter(
            import_record=record,
            kind=Job.Kind.IMPORT_APPLY,
            status__in=[Job.Status.QUEUED, Job.Status.RUNNING],
        )
        .order_by("-pk")
        .first()
    )


# --- Running -----------------------------------------------------------------------------------------


def claim(job_id: int) -> Job | None:
    """Mark a queued job as running; None if it is gone or was already taken (a task run twice)."""
    now = timezone.now()
    taken = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    if not taken:
        return None
    return Job.objects.select_related("owner", "import_record").get(pk=job_id)


class Progress:
    """Reports one job's progress as ``progress(step, done, total)``, the signature the data
    generator and the exports call. Writes at most once a second, and only when the step or the
    whole per cent (the count, without a total) changed; a step's first report and its last row
    are always written."""

    def __init__(self, job: Job):
        self.job = job
        self._written_at = 0.0
        self._last: tuple | None = None  # (step, per cent or count, finished)

    def __call__(self, step: str, done: int, total: int) -> None:
        total = max(int(total), 0)
        done = max(int(done), 0)
        if total:
            done = min(done, total)
        state = (step, done * 100 // total if total else done, bool(total) and done == total)
        if state == self._last:
            return
        now = time.monotonic()
        same_step = self._last is not None and self._last[0] == step
        if same_step and not state[2] and now - self._written_at < PROGRESS_SECONDS:
            return
        self._last, self._written_at = state, now
        self.job.step, self.job.progress_done, self.job.progress_total = step[:200], done, total
        write_progress(self.job)


# SQLite (development and tests) locks whole tables, and its in-memory test database fails a write
# at once ("database table is locked") while another connection writes the same table, where
# PostgreSQL locks rows and waits. So on SQLite the heartbeat thread and the job's own writes to
# the job row take turns; PostgreSQL needs no turn-taking, and a Python lock there could deadlock
# against a row lock the job's transaction holds.
_SQLITE_TURNS = threading.Lock()


def _job_row_turn():
    return _SQLITE_TURNS if connection.vendor == "sqlite" else nullcontext()


def _progress_key(job_id: int) -> str:
    return f"job-progress:{job_id}"


def write_progress(job: Job) -> None:
    values = {"step": job.step, "progress_done": job.progress_done, "progress_total": job.progress_total}
    cache.set(_progress_key(job.pk), values, PROGRESS_CACHE_SECONDS)
    if not transaction.get_connection().in_atomic_block:
        with _job_row_turn():
            Job.objects.filter(pk=job.pk).update(**values)


def finish(job: Job, *, file=None, name: str = "") -> None:
    """The work is done; ``file`` (an open binary file) is kept as its result, named ``name``."""
    if file is not None:
        file.seek(0)
        job.result.save(name or "result.bin", File(file), save=False)
        job.result_name = name[:200]
    job.status = Job.Status.DONE
    job.finished_at = timezone.now()
    if job.progress_total:
        job.progress_done = job.progress_total
    job.step = ""
    _delete_file(job.source)
    # The total too: work inside one transaction (an import, the generator) only reached the cache.
    with _job_row_turn():
        job.save(
            update_fields=[
                "result",
                "result_name",
                "status",
                "finished_at",
                "progress_done",
                "progress_total",
                "step",
                "source",
            ]
        )
    cache.delete(_progress_key(job.pk))


def fail(job: Job, message: str, details: Iterable[str] = (), *, keep_source: bool = False) -> None:
    """The work stopped; ``message`` (in the owner's language, no traceback) says why.
    ``keep_source``: keep an import's upload, so the job can be run again as it was (``rerun``)."""
    job.status = Job.Status.FAILED
    job.finished_at = timezone.now()
    job.error = message
    job.details = list(details)[:MAX_DETAILS]
    if not keep_source:
        _delete_file(job.source)
    with _job_row_turn():
        job.save(update_fields=["status", "finished_at", "error", "details", "source"])
    cache.delete(_progress_key(job.pk))


def connection_lost() -> bool:
    """After a database error: True if this thread's connection is gone (the server restarted, or
    an administrator ended it), and then it is closed so the next query connects again."""
    wrapper = connection
    if wrapper.connection is None:
        return True
    if wrapper.in_atomic_block or wrapper.is_usable():
        return False
    wrapper.close()
    return True


# --- Heartbeats ---------------------------------------------------------------------------------------


def worker_name() -> str:
    """This process, as its heartbeat row names it."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def beat(job_id: int | None = None, *, worker: str | None = None, now: datetime | None = None) -> None:
    """Record that this process (and ``job_id``, if it is still running) is alive."""
    now = now or timezone.now()
    if job_id is not None:
        Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(heartbeat_at=now)
    WorkerHeartbeat.objects.update_or_create(worker=worker or worker_name(), defaults={"beat_at": now})


class Heartbeat:
    """``with Heartbeat(job_id):`` beats every JOB_HEARTBEAT_SECONDS from a thread of its own while
    the block runs: the work may hold the main thread (and its transaction) for minutes. With
    ``sweep=True`` (the task worker's) it also fails the stale jobs of workers that died. A failed
    beat (the database away) is logged and tried again at the next one."""

    def __init__(self, job_id: int | None = None, *, sweep: bool = False, interval: float | None = None):
        self.job_id = job_id
        self.sweep = sweep
        self.interval = settings.JOB_HEARTBEAT_SECONDS if interval is None else interval
        self.worker = worker_name()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while True:
                try:
                    with _job_row_turn():
                        beat(self.job_id, worker=self.worker)
                        if self.sweep:
                            fail_stale()
                except DatabaseError as error:
                    logger.warning("Heartbeat not written (%s); trying again", error)
                    connections.close_all()  # this thread's: the next beat connects afresh
                if self._stop.wait(self.interval):
                    return
        finally:
            connections.close_all()


def worker_last_heartbeat() -> datetime | None:
    """When a task worker was last alive: an aware datetime, or None if none has ever been seen.

    For /healthz. Every ``manage.py task_worker`` process writes a heartbeat (``WorkerHeartbeat``)
    every JOB_HEARTBEAT_SECONDS, idle or busy (from a thread, so a long job does not silence it);
    any process running a job writes one while the job runs. Under TASKS_BACKEND=rq the RQ workers'
    own heartbeats in Redis count too. A worker is alive when this is newer than a few
    JOB_HEARTBEAT_SECONDS (``worker_alive()`` uses three). One database query (and a Redis read
    under RQ); the database's or Redis's error is raised when they cannot be reached."""
    latest = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
    if getattr(settings, "TASKS", {}).get("default", {}).get("BACKEND", "").startswith("django_tasks_rq"):
        import django_rq
        from rq import Worker

        for worker in Worker.all(connection=django_rq.get_connection("default")):
            seen = worker.last_heartbeat
            if seen is None:
                continue
            if timezone.is_naive(seen):
                seen = seen.replace(tzinfo=UTC)  # RQ keeps UTC
            latest = seen if latest is None else max(latest, seen)
    return latest


def worker_alive(now: datetime | None = None) -> bool:
    """True if a task worker heartbeat is newer than three JOB_HEARTBEAT_SECONDS."""
    seen = worker_last_heartbeat()
    limit = timedelta(seconds=3 * settings.JOB_HEARTBEAT_SECONDS)
    return seen is not None and (now or timezone.now()) - seen <= limit


def fail_stale(*, pk: int | None = None, now: datetime | None = None) -> int:
    """Fail the running jobs (or job ``pk``) with no heartbeat for JOB_STALE_SECONDS: their worker
    died (killed, out of memory, the machine restarted). The upload is kept, so ``rerun`` can
    start it again. How many were failed."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    stale = Job.objects.filter(status=Job.Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    if pk is not None:
        stale = stale.filter(pk=pk)
    count = 0
    for job in stale.only("pk", "language", "heartbeat_at"):
        with translation.override(job.language):
            message = _(
                "The background worker stopped while running this job: no sign of it for %(seconds)s "
                "seconds. The job did not finish; an import is written all or nothing, so none of it "
                "was. Run it again."
            ) % {"seconds": int(settings.JOB_STALE_SECONDS)}
        # Only if no heartbeat came in meanwhile: the worker may have been slow, not dead.
        count += Job.objects.filter(
            pk=job.pk, status=Job.Status.RUNNING, heartbeat_at=job.heartbeat_at
        ).update(status=Job.Status.FAILED, finished_at=now, error=message, details=[], step="")
        cache.delete(_progress_key(job.pk))
    if count:
        logger.warning("Failed %s job(s) whose worker stopped", count)
    return count


# --- Running again ------------------------------------------------------------------------------------


def can_rerun(job: Job, user) -> bool:
    """A failed job may be run again by its owner or an administrator."""
    return job.status == Job.Status.FAILED and (job.owner_id == user.pk or is_admin(user))


@transaction.atomic
def rerun(*, job: Job, user) -> Job:
    """Start a failed job again as a new job for its owner: the same work, parameters and upload
    (the new job owns the upload from then on). The owner's permissions are checked again when it
    runs."""
    if job.owner_id != user.pk and not is_admin(user):
        raise PermissionDenied
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.status != Job.Status.FAILED:
        raise ValidationError(_("Only a failed job can be run again."))
    source = b""
    if job.kind == Job.Kind.IMPORT_CHECK:
        try:
            with job.source.open("rb") as handle:
                source = handle.read()
        except (ValueError, OSError):
            raise ValidationError(
                _("The uploaded file of this job is no longer kept: upload it again on the import page.")
            ) from None
    if job.kind == Job.Kind.IMPORT_APPLY:
        if job.import_record is None:
            raise ValidationError(_("The import this job was to apply no longer exists."))
        if active_job_for_import(job.import_record):
            raise ValidationError(_("Another job is already applying this import."))
    with translation.override(job.language):
        again = start(
            owner=job.owner,
            kind=job.kind,
            parameters=job.parameters,
            import_record=job.import_record,
            source=source,
        )
    if job.source:
        _delete_file(job.source)
        job.save(update_fields=["source"])
    return again


# --- Reading -----------------------------------------------------------------------------------------


def visible_jobs(user):
    """The jobs a user sees: their own; administrators see everyone's."""
    jobs = Job.objects.select_related("owner", "import_record")
    return jobs if is_admin(user) else jobs.filter(owner=user)


def with_live_progress(job: Job) -> Job:
    """The job with the progress its worker reported last (the cache is ahead of the row while an
    import's transaction is open)."""
    if job.status == Job.Status.RUNNING:
        cached = cache.get(_progress_key(job.pk))
        if cached:
            job.step = cached["step"]
            job.progress_done = cached["progress_done"]
            job.progress_total = cached["progress_total"]
    return job


def expires_at(job: Job):
    """When a finished job and its file are purged."""
    return job.finished_at + timedelta(days=settings.JOB_RESULT_DAYS) if job.finished_at else None


# --- Purging -----------------------------------------------------------------------------------------


def purge(*, days: int | None = None, now=None) -> int:
    """Delete jobs finished more than ``days`` (JOB_RESULT_DAYS) ago, with their files; how many."""
    days = settings.JOB_RESULT_DAYS if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    count = 0
    for job in Job.objects.filter(finished_at__lt=cutoff).iterator():
        _delete_file(job.result)
        _delete_file(job.source)
        job.delete()
        count += 1
    return count


def _delete_file(field) -> None:
    if field and field.name:
        try:
            field.delete(save=False)
        except OSError:
            logger.warning("Could not delete %s", field.name)
