"""Background jobs: start one, report its progress, finish or fail it, purge old ones.

A job is a row (``zone_portal.models.Job``) the pages read, and a task (``zone_portal.tasks``) a
worker runs. The task is enqueued only when the transaction that created the job commits, so a
worker never looks for a job that is not there yet.

Progress is written outside the work's own transaction: an import's changes are one atomic block
(all or nothing), and a progress row written inside it would be invisible to the page until the
very end, and rolled back with the rest on failure. So every report goes to the cache, which any
process reads when the cache is shared (Redis), and to the job's row only when no transaction is
open; the page reads the row and, while the job runs, the cache's newer copy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import Job

logger = logging.getLogger(__name__)

PROGRESS_SECONDS = 1.0  # at most one progress write a second
PROGRESS_CACHE_SECONDS = 24 * 3600
MAX_DETAILS = 50  # lines of detail (such as an import's row errors) kept on a failed job


# --- Exports that may run in the background -------------------------------------------------------


@dataclass
class Export:
    """An Excel export worked out for a user and a query: how many rows, the file's name, and the
    function that writes it (returning the closed ``zone_portal.excel.Workbook``). The download view
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
    from . import tasks

    job = Job.objects.get(pk=job_id)
    try:
        result = tasks.task_for(job.kind).enqueue(job_id)
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
        status=Job.Status.RUNNING, started_at=now
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


def _progress_key(job_id: int) -> str:
    return f"job-progress:{job_id}"


def write_progress(job: Job) -> None:
    values = {"step": job.step, "progress_done": job.progress_done, "progress_total": job.progress_total}
    cache.set(_progress_key(job.pk), values, PROGRESS_CACHE_SECONDS)
    if not transaction.get_connection().in_atomic_block:
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


def fail(job: Job, message: str, details: Iterable[str] = ()) -> None:
    """The work stopped; ``message`` (in the owner's language, no traceback) says why."""
    job.status = Job.Status.FAILED
    job.finished_at = timezone.now()
    job.error = message
    job.details = list(details)[:MAX_DETAILS]
    _delete_file(job.source)
    job.save(update_fields=["status", "finished_at", "error", "details", "source"])
    cache.delete(_progress_key(job.pk))


# --- Reading -----------------------------------------------------------------------------------------


def visible_jobs(user):
    """The jobs a user sees: their own; administrators see everyone's."""
    from .roles import is_admin

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
