"""Pages that belong to no single app: the signed-in user's home and the leaders' dashboard."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from enterprises import selectors as ticket_selectors
from projects import selectors
from projects.choices import ProgressStatus
from projects.permissions import can_review, editable_projects
from zone_portal import dashboard as dashboard_figures
from zone_portal.roles import Role, has_role

HOME_LIST_LIMIT = 20


@login_required
def home(request):
    """My projects, the reports I owe this month, reports returned to me, the reviewers' queue, and
    the problem tickets waiting on me."""
    user = request.user
    month = selectors.current_month()
    period = selectors.default_period()
    context = {"month": month, "period": period, "limit": HOME_LIST_LIMIT}
    if has_role(user, Role.STAFF, Role.ADMIN):
        # Administrators see the projects in their own charge here, not the whole zone.
        mine = (
            editable_projects(user)
            if has_role(user, Role.STAFF)
            else editable_projects(user).filter(staff_in_charge=user)
        )
        due = selectors.reports_due(mine, period=month)
        context.update(
            my_projects=selectors.project_rows(mine, period=period).order_by("name")[:HOME_LIST_LIMIT],
            my_project_count=mine.count(),
            due=due.select_related("enterprise").order_by("name")[:HOME_LIST_LIMIT],
            due_count=due.count(),
            returned=selectors.reports_in(ProgressStatus.RETURNED, mine)[:HOME_LIST_LIMIT],
            drafts=selectors.reports_in(ProgressStatus.DRAFT, mine)[:HOME_LIST_LIMIT],
        )
    if can_review(user):
        queue = selectors.reports_in(ProgressStatus.SUBMITTED)
        context.update(queue=queue[:HOME_LIST_LIMIT], queue_count=queue.count())
    context["ticket_sections"] = ticket_selectors.home_sections(user, limit=HOME_LIST_LIMIT)
    return render(request, "zone_portal/home.html", context)


@login_required
def dashboard(request):
    """The leaders' dashboard (zone_portal.dashboard has the rules and the figures)."""
    selection = dashboard_figures.select(request.user, request.GET)
    board = dashboard_figures.build(request.user, selection)
    return render(
        request,
        "zone_portal/dashboard.html",
        {
            "d": board,
            "s": selection,
            "charts": dashboard_figures.chart_data(board),
            "months": range(1, 13),
            "section": "dashboard",
        },
    )
