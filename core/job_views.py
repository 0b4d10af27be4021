"""Background jobs' pages: my jobs, one job with its progress bar, its status as JSON for the bar
(static/js/jobs.js polls it), and its result file. Only the owner and administrators see a job;
anyone else gets 404, as if it did not exist.

Also the download step the Excel exports share: a small export is written at once, a larger one
becomes a job, a too-large one is refused."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core import jobs
from core.excel import too_many_rows
from core.models import Job

PAGE_SIZE = 30


def excel_download(
    request, export: jobs.Export, *, kind: str, refused: Callable[[str], HttpResponse]
) -> HttpResponse:
    """The workbook now (up to EXCEL_SYNC_EXPORT_ROWS rows), a background job that writes the same
    workbook (up to EXCEL_EXPORT_MAX_ROWS), or ``refused(message)`` above that."""
    refusal = too_many_rows(export.rows)
    if refusal:
        return refused(refusal)
    if export.rows > settings.EXCEL_SYNC_EXPORT_ROWS:
        job = jobs.start(owner=request.user, kind=kind, parameters={"query": request.GET.urlencode()})
        messages.info(
            request,
            _(
                "The workbook has %(rows)s rows: it is being written in the background. "
                "Download it here when it is ready."
            )
            % {"rows": export.rows},
        )
        return redirect(job)
    return export.write().response(export.filename)


def _job_for(request, pk: int) -> Job:
    # A job whose worker died is failed here too, so its page says so even with no worker left.
    jobs.fail_stale(pk=pk)
    return jobs.with_live_progress(get_object_or_404(jobs.visible_jobs(request.user), pk=pk))


@login_required
@require_safe
def job_list(request):
    jobs.fail_stale()
    page = Paginator(jobs.visible_jobs(request.user).order_by("-created_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request, "core/job_list.html", {"page": page, "query": "", "days": settings.JOB_RESULT_DAYS}
    )


@login_required
@require_safe
def job_detail(request, pk: int):
    job = _job_for(request, pk)
    return render(
        request,
        "core/job_detail.html",
        {"job": job, "expires_at": jobs.expires_at(job), "can_rerun": jobs.can_rerun(job, request.user)},
    )


@login_required
@require_POST
def job_rerun(request, pk: int):
    """Run a failed job again (its owner, or an administrator): a new job, whose page opens."""
    job = get_object_or_404(jobs.visible_jobs(request.user), pk=pk)
    try:
        again = jobs.rerun(job=job, user=request.user)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
        return redirect(job)
    messages.info(request, _("The job was started again."))
    return redirect(again)


@login_required
@require_safe
def job_status(request, pk: int):
    """What the progress bar needs; the page reloads itself when the job has finished."""
    job = _job_for(request, pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "finished": job.is_finished,
            "step": job.step,
            "done": job.progress_done,
            "total": job.progress_total,
            "percent": job.percent,
            "error": job.error,
        },
        headers={"Cache-Control": "no-store"},
    )


@login_required
@require_safe
def job_download(request, pk: int):
    """The result file, to its owner (and administrators) only, never as a public file."""
    job = _job_for(request, pk)
    if job.status != Job.Status.DONE or not job.result.name:
        raise Http404
    try:
        handle = job.result.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=job.result_name or "result.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
