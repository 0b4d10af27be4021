"""Pages that belong to no single app: the signed-in user's home, the leaders' dashboard, the password
change and the health check."""

import functools

from django.contrib.auth.decorators import login_required
from django.db import DEFAULT_DB_ALIAS
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import caching
from core.excel import period_label
from core.filtering import filter_chips
from core.roles import Role, has_role, roles_of
from core.routers import read_from_replica
from core.views import export_refused, filters_refused
from dashboard import selectors as dashboard_figures
from dashboard.excel.batches import batch_workbook
from dashboard.excel.bulletin import bulletin_workbook
from enterprises.models import Enterprise
from problems import selectors as ticket_selectors
from problems.models import ProblemTicket
from projects import selectors
from projects.choices import ProgressStatus
from projects.permissions import can_review, editable_projects
from reference.models import Department, Leader, Park

HOME_LIST_LIMIT = 20


@login_required
def home(request):
    """What the user must do now, with its deadline (the month's reports, the review queue, problems
    waiting on them), then what was returned to them, then the rest: their projects and open problems."""
    user = request.user
    deadline = selectors.reporting_deadline()
    month = deadline.period
    period = selectors.default_period()
    # The lists are cached whole until the data under them changes (or the day, which moves the
    # deadline and the overdue flags): computed only when the cache has not got them. A unit of
    # thousands of projects took 0.3 s of SQL on every visit of its staff.
    part = caching.Part(
        key=(
            "home",
            user.pk,
            user.department_id,
            sorted(roles_of(user)),
            timezone.localdate(),
            get_language(),
        ),
        extra=HOME_TRACKED,
    )
    context = {"part": part, "deadline": deadline, "month": month, "period": period, "limit": HOME_LIST_LIMIT}
    if has_role(user, Role.STAFF, Role.ADMIN):
        # Administrators see the projects in their own charge here, not the whole zone.
        mine = (
            editable_projects(user)
            if has_role(user, Role.STAFF)
            else editable_projects(user).filter(staff_in_charge=user)
        )
        lists = functools.cache(lambda: _staff_lists(mine, month=month, period=period))
        # Callables: the template calls each when (and only when) the part is rendered.
        names = ("my_projects", "my_project_count", "due", "due_count", "returned", "drafts")
        context.update({name: functools.partial(lambda name: lists()[name], name) for name in names})
    if can_review(user):
        queue = selectors.reports_in(ProgressStatus.SUBMITTED)
        context.update(queue=lambda: queue[:HOME_LIST_LIMIT], queue_count=queue.count)
    sections = functools.cache(lambda: ticket_selectors.home_sections(user, limit=HOME_LIST_LIMIT))
    context["ticket_tasks"] = lambda: [section for section in sections() if section.task]
    context["ticket_rest"] = lambda: [section for section in sections() if not section.task]
    return render(request, "dashboard/home.html", context)


# What the home page's lists read besides the projects' tables (a problem's unit and park by name).
HOME_TRACKED = (ProblemTicket, Enterprise, Leader, Department, Park)


def _staff_lists(mine, *, month, period) -> dict:
    first_mine, my_project_count = selectors.first_by_name(mine, HOME_LIST_LIMIT)
    first_due, due_count = selectors.first_by_name(selectors.reports_due(mine, period=month), HOME_LIST_LIMIT)
    return {
        "my_projects": selectors.project_rows(mine.filter(pk__in=first_mine), period=period).order_by(
            "name", "pk"
        ),
        "my_project_count": my_project_count,
        "due": mine.filter(pk__in=first_due).select_related("enterprise").order_by("name", "pk"),
        "due_count": due_count,
        "returned": selectors.reports_in(ProgressStatus.RETURNED, mine)[:HOME_LIST_LIMIT],
        "drafts": selectors.reports_in(ProgressStatus.DRAFT, mine)[:HOME_LIST_LIMIT],
    }


@login_required
@require_GET
@never_cache
def badges(request):
    """The menu's counts (reports I owe, reports to review, problems waiting on me), fetched by the
    page's script after it loads, so no page pays for them in its own queries."""
    user = request.user
    period = selectors.reporting_deadline().period
    # Asked by every page: cached until the reports or problems under them change (the counts of a
    # unit of thousands of projects took 0.1 s of SQL on every page of the province data).
    key = ("badges", user.pk, user.department_id, sorted(roles_of(user)), period, timezone.localdate())
    counts = caching.cached_figures(
        key, lambda: _badge_counts(user, period), using=DEFAULT_DB_ALIAS, extra=BADGES_TRACKED
    )
    return JsonResponse(counts)


# What the menu's counts read besides the projects' tables: the problems, and who liaises with an
# enterprise (a problem waits on its liaison).
BADGES_TRACKED = (ProblemTicket, Enterprise, Leader)


def _badge_counts(user, period) -> dict[str, int]:
    counts = {}
    if has_role(user, Role.STAFF, Role.ADMIN):
        mine = (
            editable_projects(user)
            if has_role(user, Role.STAFF)
            else editable_projects(user).filter(staff_in_charge=user)
        )
        counts["grid"] = selectors.reports_due(mine, period=period).count()
    if can_review(user):
        counts["review"] = selectors.reports_in(ProgressStatus.SUBMITTED).count()
    counts["problems"] = ticket_selectors.waiting_count(user)
    return counts


@login_required
@read_from_replica()
def dashboard(request):
    """The leaders' dashboard (dashboard.selectors has the rules and the figures), read from the
    replica when there is one: it only reads."""
    selection = dashboard_figures.select(request.user, request.GET)
    # Built only when the page's body is not in the cache (the template's cached_part).
    board = SimpleLazyObject(lambda: dashboard_figures.build(request.user, selection))
    return render(
        request,
        "dashboard/dashboard.html",
        {
            "part": dashboard_figures.page_part(request.user, selection, request.GET),
            "d": board,
            "s": selection,
            "chips": functools.cache(lambda: filter_chips(selection.filterset, request.GET, request.path)),
            "months": range(1, 13),
            "section": "dashboard",
        },
    )


# report → (workbook builder, the file's name, named by the reporting period or else by today's
# date: the batch report shows the projects' stages as they are now)
DASHBOARD_EXPORTS = {
    "bulletin": (bulletin_workbook, "重点项目月通报", True),
    "batches": (batch_workbook, "三个一批项目推进情况", False),
}


@login_required
@require_GET
@read_from_replica()
def dashboard_export(request):
    """The dashboard as a workbook: ``?report=bulletin`` (月通报) or ``batches`` (三个一批), with the
    dashboard's own query string, so the file shows what the page shows."""
    selection = dashboard_figures.select(request.user, request.GET)
    report = request.GET.get("report")
    if report not in DASHBOARD_EXPORTS:
        return export_refused(
            request,
            _("Unknown report: ask for the monthly bulletin or the “three batches” report."),
            {},
            reverse("dashboard"),
        )
    if selection.errors:
        return filters_refused(request, selection.errors, reverse("dashboard"))
    build, name, by_period = DASHBOARD_EXPORTS[report]
    if by_period:
        dated = period_label(selection.period.year, selection.period.month)
    else:
        dated = f"{timezone.localdate():%Y-%m-%d}"
    return build(request.user, selection).response(f"{name}-{dated}.xlsx")
