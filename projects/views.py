"""The staff workspace's project pages. Thin: selectors read, forms check, services write."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db import DatabaseError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core import caching, history_views, jobs
from core.excel import Workbook
from core.filtering import applied_filters, filter_chips
from core.forms import apply_service_errors, saved_through
from core.job_views import excel_download
from core.lookups import id_param, lookup_response, lookup_view, search, search_term
from core.views import filters_refused
from enterprises.models import Enterprise
from projects import figures, selectors, services
from projects.choices import ProgressStatus, ProjectJobKind
from projects.excel import ledger
from projects.excel.milestones import milestone_workbook
from projects.filtersets import ProjectFilterSet
from projects.forms import (
    CommentForm,
    GridRowForm,
    MilestoneForm,
    PhotoForm,
    ProgressForm,
    ProjectCreateForm,
    ProjectForm,
    ReviewForm,
    StageChangeForm,
)
from projects.models import ApprovalMilestone, MonthlyProgress, MonthPublication, ProgressPhoto, Project
from projects.permissions import (
    can_change_photos,
    can_create_project,
    can_edit_project,
    can_publish_months,
    can_review,
    editable_projects,
    ensure_can_create,
    ensure_can_edit,
    ensure_can_read,
    ensure_can_review,
    readable_projects,
)
from projects.selectors import Period
from reference.models import Cluster, Department, Leader, Park

PAGE_SIZE = 25
COMMENTS_SHOWN = 50

logger = logging.getLogger(__name__)

# A batch save the database could not finish: its transaction was rolled back as a whole.
DATABASE_FAILED = gettext_lazy(
    "Nothing was saved: the database could not finish the save. "
    "Try again; if it happens again, tell the administrator."
)


def _period_from(request, default: Period | Callable[[], Period]) -> Period:
    """The reporting month asked for in the query string, else ``default``."""
    return _period_in(request.GET, default)


def _period_in(query, default: Period | Callable[[], Period]) -> Period:
    """``default`` may be a function, called only when the query does not name a valid month."""
    fallback = default if isinstance(default, Period) else None

    def default_period() -> Period:
        nonlocal fallback
        fallback = fallback or default()
        return fallback

    try:
        year = int(query["year"]) if "year" in query else default_period().year
        month = int(query["month"]) if "month" in query else default_period().month
    except ValueError:
        return default_period()
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return default_period()
    return Period(year, month)


# --- Projects ------------------------------------------------------------------


def include_submitted_from(request) -> bool:
    return _include_submitted_in(request.GET)


def _include_submitted_in(query) -> bool:
    """The "include submitted figures" toggle, read as the dashboard's form reads it."""
    return forms.BooleanField(required=False).clean(query.get("include_submitted"))


def _listed_projects(request):
    return _listed_projects_in(request.GET)


def _listed_projects_in(query):
    """The project list's period, toggle, filters and rows: the page and its Excel export agree."""
    period = _period_in(query, selectors.default_period)
    include_submitted = _include_submitted_in(query)
    rows = selectors.project_rows(Project.objects.all(), period=period, include_submitted=include_submitted)
    filterset = ProjectFilterSet(query or None, queryset=rows)
    projects = filterset.qs if filterset.is_bound else rows
    return period, include_submitted, filterset, projects


def annotated_page(projects: QuerySet, number) -> Page:
    """Page ``number`` of ``projects``, its rows' figures computed for that page only: the page's
    ids are found first, with only the figures the filters and the order need; computing every
    figure of every project to sort and cut 25 out of 50,000 took most of the list's time."""
    page = Paginator(projects.values_list("pk", flat=True), PAGE_SIZE).get_page(number)
    ids = list(page.object_list)
    rows = projects.filter(pk__in=ids).order_by().in_bulk()
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


# What the list's page shows besides the projects' own tables: the month's publication, and the
# names of the enterprises, units, parks, clusters and leaders in its rows and filters.
LIST_TRACKED = (MonthPublication, Enterprise, Department, Park, Cluster, Leader)


@login_required
def project_list(request):
    ensure_can_read(request.user)
    period, include_submitted, filterset, projects = _listed_projects(request)
    if not filterset.is_bound or not filterset.form.cleaned_data.get("ordering"):
        projects = projects.order_by("name", "pk")

    def rows() -> Page:
        page = annotated_page(projects, request.GET.get("page"))
        for project in page:
            project.figures = figures.figures_of(project, month=period.month)
        return page

    can_create = can_create_project(request.user)
    query = request.GET.copy()
    query.pop("page", None)
    # The list reads the same for every reader (all may read every project) but for the import
    # button: its body is cached whole, and what it needs is computed only when it is not.
    part = caching.Part(
        key=("project_list", sorted(request.GET.lists()), period, can_create, get_language()),
        using=projects.db,
        extra=LIST_TRACKED,
    )
    return render(
        request,
        "projects/project_list.html",
        {
            "part": part,
            "filterset": filterset,
            "chips": functools.cache(lambda: filter_chips(filterset, request.GET, request.path)),
            "applied_filters": functools.cache(lambda: applied_filters(filterset)),
            "page": SimpleLazyObject(rows),
            "period": period,
            "review": SimpleLazyObject(lambda: selectors.cached_month_review(period)),
            "include_submitted": include_submitted,
            "schedule": figures.schedule_progress(period.month),
            # The same rollup as the dashboard's, so a number clicked there is the number read here.
            "totals": SimpleLazyObject(
                lambda: figures.rollup_annotated(
                    projects, year=period.year, month=period.month, include_submitted=include_submitted
                )
            ),
            "query": query.urlencode(),
            "can_create": can_create,
            "months": range(1, 13),
        },
    )


@lookup_view
def project_lookup(request):
    """Projects for a picker, by name or code, among those the user may read; ``enterprise``: that
    enterprise's only (a problem's project belongs to its enterprise)."""
    ensure_can_read(request.user)
    rows = readable_projects(request.user).only("pk", "name")
    enterprise = id_param(request, "enterprise")
    if enterprise is not None:
        rows = rows.filter(enterprise_id=enterprise)
    return lookup_response(search(rows, search_term(request), ["name", "code"]))


def project_ledger_export(user, query) -> jobs.Export:
    """The project list's rows, with its filters, as the 重点项目台账 workbook, for ``user`` and the
    list's query parameters: the download and its background job (core.tasks) both use it."""
    ensure_can_read(user)
    period, include_submitted, filterset, projects = _listed_projects_in(query)
    grouping = query.get("group", "level")
    if grouping not in ledger.GROUPINGS:
        raise jobs.ExportRefused(_("Unknown grouping: choose level, park or none."), bad_request=True)
    if filterset.is_bound and not filterset.is_valid():
        raise jobs.ExportRefused(_("Correct the filters before exporting."))

    def write() -> Workbook:
        book = Workbook()
        ledger.write_ledger(
            book, projects, period=period, include_submitted=include_submitted, grouping=grouping
        )
        return book

    return jobs.Export(rows=projects.count(), filename=ledger.ledger_filename(period), write=write)


@login_required
def project_list_export(request):
    """The ledger now, or (above EXCEL_SYNC_EXPORT_ROWS rows) from a background job."""
    back = reverse("projects:list") + "?" + request.GET.urlencode()

    def refused(message):
        messages.error(request, message)
        return redirect(back)

    try:
        export = project_ledger_export(request.user, request.GET)
    except jobs.ExportRefused as error:
        if error.bad_request:
            return HttpResponseBadRequest(error.message)
        return refused(error.message)
    return excel_download(request, export, kind=ProjectJobKind.PROJECT_LEDGER_EXPORT, refused=refused)


MILESTONE_PAGE_SIZE = 50


def _milestone_selection(request) -> selectors.MilestoneSelection:
    """The procedure list's rows, for the page and its export alike."""
    return selectors.milestone_selection(
        request.GET,
        period=_period_from(request, selectors.default_period),
        include_submitted=include_submitted_from(request),
    )


@login_required
def milestone_list(request):
    """Approval milestones of the projects the project filters select (the dashboard's 办结率 drill-down)."""
    ensure_can_read(request.user)
    selection = _milestone_selection(request)
    milestones = selection.milestones
    today = timezone.localdate()
    page = Paginator(
        milestones.select_related("project", "department").order_by(
            "project__name", "project_id", "kind", "phase"
        ),
        MILESTONE_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    late = set(
        figures.overdue_milestones(milestones.filter(pk__in=[m.pk for m in page]), today=today).values_list(
            "pk", flat=True
        )
    )
    for milestone in page:
        milestone.is_overdue = milestone.pk in late
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "projects/milestone_list.html",
        {
            "filterset": selection.filterset,
            "chips": filter_chips(selection.project_filter, request.GET, request.path)
            + filter_chips(selection.filterset, request.GET, request.path),
            "project_errors": selection.project_filter.errors,
            "page": page,
            "completion": figures.milestone_completion(milestones),
            "overdue_count": figures.overdue_milestones(milestones, today=today).count(),
            "today": today,
            "query": query.urlencode(),
        },
    )


@login_required
def project_detail(request, pk):
    ensure_can_read(request.user)
    period = _period_from(request, selectors.default_period)
    project = get_object_or_404(selectors.project_rows(Project.objects.filter(pk=pk), period=period))
    project.figures = figures.figures_of(project, month=period.month)
    reports = list(selectors.year_reports(project, period.year))
    chart = _progress_chart(reports, project.planned_investment, period)
    return render(
        request,
        "projects/project_detail.html",
        {
            "project": project,
            "period": period,
            "reports": reports,
            "chart": chart,
            "milestones": project.milestones.select_related("department"),
            "memberships": project.batch_memberships.select_related("batch"),
            "stage_changes": project.stage_changes.select_related("changed_by").order_by(
                "-changed_on", "-recorded_at"
            ),
            "plans": project.annual_plans.order_by("-year"),
            "comments": project.comments.select_related("author")[:COMMENTS_SHOWN],
            "comment_form": CommentForm(),
            "can_edit": can_edit_project(request.user, project),
            "years": range(period.year - 2, period.year + 2),
            "months": range(1, 13),
            "current": selectors.current_month(),
            "photo_count": sum(len(report.photos.all()) for report in reports),
        },
    )


def _progress_chart(reports, planned, period: Period) -> dict:
    """Month by month: completed (counted reports only) and the cumulative against the straight-line plan."""
    by_month = {
        report.month: report.completed_investment
        for report in reports
        if report.status in figures.counted_statuses()
    }
    cumulative, running = [], figures.ZERO
    for month in range(1, period.month + 1):
        running += by_month.get(month, figures.ZERO)
        cumulative.append(str(running))
    return {
        "months": [_("Month %(month)s") % {"month": m} for m in range(1, 13)],
        "monthly": [str(by_month.get(m, "")) if m in by_month else None for m in range(1, 13)],
        "cumulative": cumulative,
        "schedule": [str(figures.schedule_progress(m) * planned) for m in range(1, 13)] if planned else [],
        "labels": {
            "monthly": _("completed in the month"),
            "cumulative": _("completed this year"),
            "schedule": _("time schedule of the plan"),
        },
    }


@login_required
def project_create(request):
    ensure_can_create(request.user)
    form = ProjectCreateForm(request.POST or None, initial={"staff_in_charge": request.user})
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(
                user=request.user,
                data=form.project_data(),
                stage=form.cleaned_data["stage"],
                stage_changed_on=form.cleaned_data["stage_changed_on"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Project “%(name)s” created.") % {"name": project.name})
            return redirect("projects:detail", pk=project.pk)
    return render(request, "projects/project_form.html", {"form": form, "creating": True})


@login_required
def project_edit(request, pk):
    project = get_object_or_404(Project, pk=pk)
    ensure_can_edit(request.user, project)
    form = ProjectForm(request.POST or None, instance=project)

    def save():
        services.project_update(
            project=Project.objects.get(pk=pk),
            user=request.user,
            data=form.project_data(),
            expected_version=form.cleaned_data.get("version"),
        )

    if saved_through(request, form, save, _("Changes saved.")):
        return redirect("projects:detail", pk=pk)
    return render(request, "projects/project_form.html", {"form": form, "project": project})


@login_required
def project_stage(request, pk):
    project = get_object_or_404(Project, pk=pk)
    ensure_can_edit(request.user, project)
    form = StageChangeForm(request.POST or None, initial={"stage": project.stage, "version": project.version})

    def save():
        services.project_change_stage(
            project=project,
            user=request.user,
            stage=form.cleaned_data["stage"],
            changed_on=form.cleaned_data["changed_on"],
            reason=form.cleaned_data["reason"],
            expected_version=form.expected_version(),
        )

    def message():  # the new stage: the service updates ``project``
        return _("Stage changed to %(stage)s.") % {"stage": project.get_stage_display()}

    if saved_through(request, form, save, message):
        return redirect("projects:detail", pk=pk)
    return render(request, "projects/project_stage.html", {"form": form, "project": project})


@login_required
@require_POST
def project_comment(request, pk):
    project = get_object_or_404(Project, pk=pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        services.comment_add(project=project, user=request.user, text=form.cleaned_data["text"])
        messages.success(request, _("Comment added."))
    else:
        ensure_can_read(request.user)
        messages.error(request, " ".join(form.errors["text"]))
    return redirect(reverse("projects:detail", kwargs={"pk": pk}) + "#comments")


# --- Monthly progress ----------------------------------------------------------


@login_required
def progress_entry(request, pk, year, month):
    """One project's report for a month: write, save as draft or submit, add photos."""
    project = get_object_or_404(Project, pk=pk)
    ensure_can_read(request.user)
    if not 1 <= month <= 12:
        raise Http404
    report = (
        MonthlyProgress.objects.filter(project=project, year=year, month=month)
        .select_related("submitted_by", "reviewed_by")
        .prefetch_related("photos")
        .first()
    )
    editable = can_edit_project(request.user, project) and (report is None or report.is_editable)
    if request.method == "POST":
        ensure_can_edit(request.user, project)
        form = ProgressForm(request.POST)
        if form.is_valid():
            try:
                report = services.progress_save(
                    project=project,
                    year=year,
                    month=month,
                    user=request.user,
                    data=form.progress_data(),
                    expected_version=form.expected_version(),
                    submit="submit" in request.POST,
                    confirm_warnings=form.confirmed(),
                )
            except services.NeedsConfirmation as hold:
                form.hold_for_confirmation(hold.warnings)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                if report.status == ProgressStatus.SUBMITTED:
                    messages.success(request, _("Report submitted for review."))
                else:
                    messages.success(request, _("Report saved as a draft."))
                return redirect("projects:progress", pk=pk, year=year, month=month)
    else:
        form = ProgressForm.for_report(report)
    return render(
        request,
        "projects/progress_form.html",
        {
            "project": project,
            "report": report,
            "form": form,
            "photo_form": PhotoForm(),
            "editable": editable,
            "can_edit_project": can_edit_project(request.user, project),
            "can_change_photos": can_change_photos(request.user, report),
            "can_review": can_review(request.user),
            "review_form": ReviewForm(),
            "period": Period(year, month),
        },
    )


@login_required
def progress_grid(request):
    """Every project in my charge for one month, entered and saved together."""
    current = selectors.current_month()
    period = _period_from(request, current)
    if (period.year, period.month) > (current.year, current.month):
        messages.error(request, _("Progress cannot be reported for a month that has not begun."))
        return redirect(f"{reverse('projects:grid')}?year={current.year}&month={current.month}")
    mine = editable_projects(request.user)
    has_projects = mine.exists()
    if not has_projects and not can_create_project(request.user):
        raise PermissionDenied(_("Only project staff log monthly progress."))
    term, todo = search_term(request), request.GET.get("todo") == "1"
    listed = selectors.grid_listed(mine, period=period, term=term, todo=todo)
    page = Paginator(listed.values_list("pk", flat=True), settings.GRID_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    shown = list(page)
    if request.method == "POST":
        # The rows the page that was sent showed, read from what was sent: what was typed is saved
        # (or shown again) even if the page's projects have changed since it was drawn.
        shown = _posted_projects(request.POST)
        if len(shown) > settings.GRID_PAGE_SIZE:
            return HttpResponseBadRequest(_("Too many rows were sent at once."))
    posted = request.POST if request.method == "POST" else None

    def build_rows() -> list[dict]:
        projects = selectors.grid_projects(mine.filter(pk__in=shown), period=period).order_by("name", "pk")
        return [_grid_row(project, posted) for project in projects]

    part = None
    if posted is None:
        # A page of the grid as it is drawn before anything is typed, cached whole until the data
        # under it changes: the 50 rows' fields took most of a request (issue 21). Not the CSRF
        # token, which stays outside the part; a refused save is drawn afresh with what was typed.
        part = caching.Part(
            key=("grid", request.user.pk, tuple(shown), period, get_language(), timezone.localdate()),
            extra=GRID_TRACKED,
        )
        rows = SimpleLazyObject(build_rows)
    else:
        rows = build_rows()
    if posted is not None:
        submit = "submit" in request.POST
        open_rows = [row for row in rows if not row["locked"]]
        valid = all([row["form"].is_valid() for row in open_rows])
        if valid:
            to_save = [row for row in open_rows if not row["form"].is_blank()]
            try:
                services.progress_save_many(
                    rows=[
                        services.GridRow(
                            project=row["project"],
                            data=row["form"].progress_data(),
                            expected_version=row["form"].expected_version(),
                            confirm_warnings=row["form"].confirmed(),
                        )
                        for row in to_save
                    ],
                    year=period.year,
                    month=period.month,
                    user=request.user,
                    submit=submit,
                )
            except services.GridErrors as errors:
                for index, error in errors.errors.items():
                    apply_service_errors(to_save[index]["form"], error)
                for index, warnings in errors.warnings.items():
                    to_save[index]["form"].hold_for_confirmation(warnings)
                valid = False
            except DatabaseError:
                # The page is shown again with what was typed, so nothing is lost but the moment.
                logger.exception("The progress grid's save failed in the database")
                messages.error(request, DATABASE_FAILED)
            else:
                if submit:
                    text = _("%(count)s reports saved and submitted for review.")
                else:
                    text = _("%(count)s reports saved as drafts.")
                messages.success(request, text % {"count": len(to_save)})
                return redirect(f"{reverse('projects:grid')}?{request.GET.urlencode()}")
        if not valid:
            bad = sum(1 for row in open_rows if row["form"].errors)
            held = sum(1 for row in open_rows if row["form"].figure_warnings)
            if bad:
                messages.error(
                    request,
                    _("Nothing was saved: %(count)s rows have errors, marked below. Fix them and save again.")
                    % {"count": bad},
                )
            if held:
                messages.warning(
                    request,
                    _(
                        "Nothing was saved: %(count)s figures need checking, marked below. Correct them, "
                        "or tick the confirmation under each if it is right, and save again."
                    )
                    % {"count": held},
                )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "projects/progress_grid.html",
        {
            "part": part,
            "rows": rows,
            "has_rows": bool(shown),
            "period": period,
            "months": range(1, 13),
            "current": current,
            "page": page,
            "query": query.urlencode(),
            "term": term,
            "todo": todo,
            "has_projects": has_projects,
        },
    )


# What a page of the grid shows besides the projects' tables: the enterprises' names.
GRID_TRACKED = (Enterprise,)


def _grid_row(project, posted) -> dict:
    """A project's row of the grid: its month's report and its form, bound to what was posted
    unless the report is locked (submitted or approved)."""
    report = project.month_reports[0] if project.month_reports else None
    prefix = f"p{project.pk}"
    locked = report is not None and not report.is_editable
    if posted is not None and not locked:
        form = GridRowForm(posted, prefix=prefix, project_id=project.pk)
    else:
        form = GridRowForm(
            prefix=prefix,
            project_id=project.pk,
            initial={
                "project": project.pk,
                "version": report.version if report else 0,  # 0: no report yet (see ProgressForm)
                "completed_investment": report.completed_investment if report else None,
                "physical_progress": report.physical_progress if report else "",
                "problems": report.problems if report else "",
            },
        )
    return {"project": project, "report": report, "form": form, "locked": locked}


def _posted_projects(data) -> list[int]:
    """The project ids of the grid's rows in a POST (each row sends ``p<id>-project``)."""
    found = (re.fullmatch(r"p(\d{1,12})-project", key) for key in data)
    return sorted({int(match.group(1)) for match in found if match})


@login_required
def review_queue(request):
    """Submitted reports waiting for a reviewer; approve or return several at once."""
    ensure_can_review(request.user)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        chosen = MonthlyProgress.objects.filter(pk__in=request.POST.getlist("report")).select_related(
            "project"
        )
        if not chosen:
            messages.error(request, _("Tick the reports first."))
        else:
            try:
                count = services.progress_review_many(
                    reports=list(chosen),
                    user=request.user,
                    approve="approve" in request.POST,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                messages.error(
                    request, _("Nothing was changed: %(error)s") % {"error": " ".join(error.messages)}
                )
            except DatabaseError:
                logger.exception("A bulk review failed in the database")
                messages.error(request, DATABASE_FAILED)
            else:
                text = (
                    _("%(count)s reports approved.")
                    if "approve" in request.POST
                    else _("%(count)s reports returned.")
                )
                messages.success(request, text % {"count": count})
                return redirect("projects:review")
    reports = selectors.reports_in(ProgressStatus.SUBMITTED)
    return render(request, "projects/review_queue.html", {"reports": reports, "form": form})


@login_required
@require_POST
def progress_review(request, pk):
    """Approve, return or reopen one report."""
    report = get_object_or_404(MonthlyProgress.objects.select_related("project"), pk=pk)
    form = ReviewForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")
    action = request.POST.get("action")
    try:
        if action == "approve":
            services.progress_approve(report=report, user=request.user, comment=reason)
            messages.success(request, _("Report approved."))
        elif action == "return":
            services.progress_return(report=report, user=request.user, reason=reason)
            messages.success(request, _("Report returned to the reporter."))
        elif action == "reopen":
            services.progress_reopen(report=report, user=request.user, reason=reason)
            messages.success(request, _("Report reopened for correction."))
        elif action == "submit":
            services.progress_submit(report=report, user=request.user)
            messages.success(request, _("Report submitted for review."))
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    default = reverse(
        "projects:progress", kwargs={"pk": report.project_id, "year": report.year, "month": report.month}
    )
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return redirect(target if target and safe else default)


# --- Photos ----------------------------------------------------------------------


@login_required
@require_POST
def photo_upload(request, pk):
    report = get_object_or_404(MonthlyProgress.objects.select_related("project"), pk=pk)
    ensure_can_edit(request.user, report.project)
    form = PhotoForm(request.POST, request.FILES)
    back = reverse(
        "projects:progress", kwargs={"pk": report.project_id, "year": report.year, "month": report.month}
    )
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect(back)
    try:
        services.photo_add(
            report=report,
            user=request.user,
            upload=form.cleaned_data["image"],
            caption=form.cleaned_data["caption"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Photo added."))
    return redirect(back)


@login_required
@require_POST
def photo_delete(request, pk):
    photo = get_object_or_404(ProgressPhoto.objects.select_related("report__project"), pk=pk)
    report = photo.report
    try:
        services.photo_delete(photo=photo, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Photo removed."))
    return redirect("projects:progress", pk=report.project_id, year=report.year, month=report.month)


@login_required
def photo_file(request, pk, kind):
    """Photos are served through here, to users who may read the project, never as public files."""
    ensure_can_read(request.user)
    return photo_response(get_object_or_404(ProgressPhoto, pk=pk), kind)


def photo_response(photo: ProgressPhoto, kind: str) -> FileResponse:
    """The photo (``full``) or its thumbnail (``thumb``) as a private download; the page and the API
    serve it alike."""
    field = {"full": photo.image, "thumb": photo.thumbnail}.get(kind)
    if field is None or not field.name:
        raise Http404
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=_content_type(field.name))
    # Browsers may keep it but must ask again before reuse: a photo deleted, or a reader who lost
    # access, is not served from a stale copy.
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _content_type(name: str) -> str:
    extension = name.rsplit(".", 1)[-1].lower()
    return {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}.get(
        extension, "application/octet-stream"
    )


# --- Approval milestones -------------------------------------------------------------


@login_required
def milestone_edit(request, pk):
    milestone = get_object_or_404(ApprovalMilestone.objects.select_related("project"), pk=pk)
    project = milestone.project
    ensure_can_edit(request.user, project)
    form = MilestoneForm(request.POST or None, instance=milestone)

    def save():
        services.milestone_update(
            milestone=ApprovalMilestone.objects.get(pk=pk),
            user=request.user,
            data=form.milestone_data(),
            expected_version=form.cleaned_data.get("version"),
        )

    if saved_through(request, form, save, _("Approval procedure updated.")):
        return redirect(reverse("projects:detail", kwargs={"pk": project.pk}) + "#milestones")
    return render(
        request, "projects/milestone_form.html", {"form": form, "project": project, "milestone": milestone}
    )


@login_required
def milestone_create(request, pk):
    project = get_object_or_404(Project, pk=pk)
    ensure_can_edit(request.user, project)
    form = MilestoneForm(request.POST or None, instance=ApprovalMilestone(project=project))

    def save():
        data = form.milestone_data() | {
            "kind": form.cleaned_data["kind"],
            "phase": form.cleaned_data["phase"],
        }
        services.milestone_create(project=project, user=request.user, data=data)

    if saved_through(request, form, save, _("Approval procedure added.")):
        return redirect(reverse("projects:detail", kwargs={"pk": project.pk}) + "#milestones")
    return render(request, "projects/milestone_form.html", {"form": form, "project": project})


@login_required
def milestone_export(request):
    """The procedure list's rows as a matrix workbook: a row per project, a column pair per procedure."""
    ensure_can_read(request.user)
    selection = _milestone_selection(request)
    if selection.errors:
        return filters_refused(request, selection.errors, reverse("projects:milestone_list"))
    workbook = milestone_workbook(selection.milestones, selection.listed_projects())
    return workbook.response(f"审批手续办理进度-{timezone.localdate():%Y-%m-%d}.xlsx")


# --- Publishing a month (月报发布) -------------------------------------------------


class MonthActionForm(forms.Form):
    action = forms.ChoiceField(choices=[("publish", "publish"), ("reopen", "reopen")])
    year = forms.IntegerField(min_value=2000, max_value=2100)
    month = forms.IntegerField(min_value=1, max_value=12)
    version = forms.IntegerField(min_value=1, required=False)
    reason = forms.CharField(required=False, max_length=2000)


@login_required
def month_list(request):
    """Each month's review progress over the projects on the plan, and publishing it (reviewers and
    administrators): the pages' and bulletins' default month is the latest published one."""
    ensure_can_read(request.user)
    today = timezone.localdate()
    if request.method == "POST":
        form = MonthActionForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("The request was not understood; reload the page and try again."))
        else:
            _month_action(request, form.cleaned_data)
        year = form.cleaned_data.get("year", today.year) if form.is_valid() else today.year
        return redirect(reverse("projects:months") + f"?year={year}")
    year = _period_from(request, Period(today.year, 1)).year
    reviews = selectors.month_reviews(year)
    return render(
        request,
        "projects/month_list.html",
        {
            "year": year,
            "years": range(today.year, today.year - 6, -1),
            "reviews": reviews,
            "today": today,
            "can_publish": can_publish_months(request.user),
            "default_period": selectors.default_period(),
        },
    )


def _month_action(request, data) -> None:
    year, month = data["year"], data["month"]
    try:
        if data["action"] == "publish":
            services.month_publish(
                year=year, month=month, user=request.user, expected_version=data["version"]
            )
            messages.success(
                request,
                _("The figures for %(year)s-%(month)02d are published.") % {"year": year, "month": month},
            )
        else:
            publication = get_object_or_404(MonthPublication, year=year, month=month)
            services.month_reopen(
                publication=publication,
                user=request.user,
                reason=data["reason"],
                expected_version=data["version"],
            )
            messages.success(
                request,
                _(
                    "%(year)s-%(month)02d is reopened; the pages show the previous published month "
                    "until it is published again."
                )
                % {"year": year, "month": month},
            )
    except ValidationError as error:
        messages.error(request, _("Nothing was changed: %(error)s") % {"error": " ".join(error.messages)})
    except DatabaseError:
        logger.exception("Publishing a month failed in the database")
        messages.error(request, DATABASE_FAILED)


@login_required
@require_safe
def project_history(request, pk):
    ensure_can_read(request.user)
    project = get_object_or_404(Project, pk=pk)
    return history_views.object_history(
        request,
        obj=project,
        querysets=selectors.project_history_rows(project.pk),
        crumbs=[(_("Projects"), reverse("projects:list"))],
        overview_url=reverse("projects:detail", args=[project.pk]),
    )
