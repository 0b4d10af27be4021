"""The background tasks: large Excel exports and imports, and the data generator.

The only module that imports django-tasks, the backport of Django 6's ``django.tasks``: on
Django 6 the import below becomes ``from django.tasks import task`` and nothing else changes.
Each task takes a job's id (``core.models.Job``), runs as the job's owner in the owner's
language, re-checks the owner's permissions (they may have changed since the job was queued), and
records how it ended on the job; the task backend keeps the traceback of an unexpected error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.http import QueryDict
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_tasks import task

from core import imports, jobs
from core.excel import counting_rows, too_many_rows
from core.importing import BadFile
from core.models import Job

logger = logging.getLogger(__name__)

# The functions that work out an export for (user, query parameters), by import path so a page's
# module is loaded only when its job runs; the download views call them too. The apps that own the
# other exports add theirs (``register_exporter``, from their AppConfig.ready()).
EXPORTERS: dict[str, str] = {}


def register_exporter(kind: str, label, path: str) -> None:
    """The export ``kind`` (read as ``label``) is worked out by the function at ``path``."""
    EXPORTERS[kind] = path
    jobs.register_task(kind, label, export_task)


def run(job_id: int, work: Callable[[Job, jobs.Progress], None]) -> None:
    """Run ``work`` for a queued job and record its end; a job already taken is left alone.

    The job heartbeats while it runs. If the database connection is lost mid-job, the job fails
    saying so (on a new connection; its upload kept, so it can be run again) and the error goes on
    to the worker, which reconnects and carries on (``manage.py task_worker``)."""
    job = jobs.claim(job_id)
    if job is None:
        logger.warning("Job %s is not waiting in the queue; not run again", job_id)
        return
    with translation.override(job.language), jobs.Heartbeat(job.pk):
        _run_claimed(job, work)


def _run_claimed(job: Job, work: Callable[[Job, jobs.Progress], None]) -> None:
    try:
        if not job.owner.is_active:
            raise PermissionDenied(_("The account that started this job is no longer active."))
        work(job, jobs.Progress(job))
    except jobs.JobFailed as error:
        jobs.fail(job, error.message, error.details)
    except jobs.ExportRefused as error:
        details = [f"{field}: {'；'.join(map(str, messages))}" for field, messages in error.errors.items()]
        jobs.fail(job, error.message, details)
    except PermissionDenied as error:
        jobs.fail(job, str(error) or _("You are not allowed to do this."))
    except BadFile as error:
        jobs.fail(job, str(error))
    except ValidationError as error:
        jobs.fail(job, "；".join(error.messages))
    except Exception as error:
        lost = isinstance(error, DatabaseError) and jobs.connection_lost()
        logger.exception("Job %s failed%s", job.pk, " (database connection lost)" if lost else "")
        if lost:
            message = _(
                "The job stopped because the connection to the database was lost; an import "
                "changed nothing. Run it again."
            )
        else:
            message = _(
                "The job stopped because of an unexpected error; an import changed nothing. "
                "Try again; if it happens again, tell the administrator (job %(id)s)."
            ) % {"id": job.pk}
        jobs.fail(job, message, keep_source=lost)
        raise


# --- Exports -----------------------------------------------------------------------------------------


@task()
def export_task(job_id: int) -> None:
    run(job_id, _export)


def _export(job: Job, progress: jobs.Progress) -> None:
    query = QueryDict(job.parameters.get("query", ""))
    export = import_string(EXPORTERS[job.kind])(job.owner, query)
    refusal = too_many_rows(export.rows)
    if refusal:
        raise jobs.JobFailed(refusal)
    step = _("Writing the workbook")
    progress(step, 0, export.rows)
    with counting_rows(lambda written: progress(step, written, export.rows)):
        book = export.write()
    book.close()
    try:
        jobs.finish(job, file=book.file, name=export.filename)
    finally:
        book.file.close()


# --- Imports -----------------------------------------------------------------------------------------


def _row_errors(result) -> list[str]:
    return [
        _("Row %(row)s, %(column)s “%(value)s”: %(message)s")
        % {"row": issue.row, "column": issue.column, "value": issue.value, "message": issue.message}
        for issue in result.errors[: jobs.MAX_DETAILS]
    ]


@task()
def import_check_task(job_id: int) -> None:
    run(job_id, _import_check)


def _import_check(job: Job, progress: jobs.Progress) -> None:
    """The preview of a large upload: read and check every row, keep the file and what was found."""
    params = job.parameters
    imports.ensure_can_import(job.owner)
    with job.source.open("rb") as handle:
        data = handle.read()
    progress(_("Reading and checking the rows"), 0, 0)
    result = imports.preview(
        params["import_kind"], data, user=job.owner, year=params.get("year"), month=params.get("month")
    )
    record = imports.save_preview(
        params["import_kind"], data, file_name=params.get("file_name", ""), user=job.owner, result=result
    )
    Job.objects.filter(pk=job.pk).update(import_record=record)
    job.import_record = record
    if result.errors:
        raise jobs.JobFailed(
            _(
                "%(rows)s rows have errors: nothing will be imported. "
                "Correct them in the file and upload it again."
            )
            % {"rows": result.error_rows},
            _row_errors(result),
        )
    jobs.finish(job)


@task()
def import_apply_task(job_id: int) -> None:
    run(job_id, _import_apply)


def _import_apply(job: Job, progress: jobs.Progress) -> None:
    """The confirmation of a large import: re-checked against today's data and written all or none."""
    record = job.import_record
    if record is None:
        raise jobs.JobFailed(_("The import this job was to apply no longer exists."))
    imports.ensure_can_import(job.owner)
    progress(_("Checking the rows against the current data"), 0, 0)
    try:
        record, _result = imports.confirm(
            record,
            user=job.owner,
            progress=progress,
            # Ticked by the owner on the preview page, under the figures set to zero or cleared.
            confirm_erasures=bool(job.parameters.get("confirm_erasures")),
            # And under the figures the sanity checks held back.
            confirm_warnings=bool(job.parameters.get("confirm_warnings")),
        )
    except imports.PreviewChanged as error:
        raise jobs.JobFailed(error.messages[0], _row_errors(error.preview)) from None
    job.import_record = record
    jobs.finish(job)


register_exporter(
    Job.Kind.CHANGE_LOG_EXPORT, Job.Kind.CHANGE_LOG_EXPORT.label, "core.history_views.change_log_workbook"
)
jobs.register_task(Job.Kind.IMPORT_CHECK, Job.Kind.IMPORT_CHECK.label, import_check_task)
jobs.register_task(Job.Kind.IMPORT_APPLY, Job.Kind.IMPORT_APPLY.label, import_apply_task)
