"""Enterprise, visit and problem-ticket pages. Thin: selectors read, forms check, services write."""

from __future__ import annotations

import datetime
import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from core import caching, history_views, jobs
from core.filtering import filter_chips
from core.forms import apply_service_errors
from core.job_views import excel_download
from enterprises import permissions as enterprise_permissions
from enterprises.filtersets import EnterpriseFilterSet
from enterprises.models import Enterprise, Honour
from problems import excel, kpis, permissions, selectors, services
from problems.choices import OPEN_STATUSES, ProblemJobKind, ProblemSource, TicketStatus
from problems.filtersets import TicketFilterSet
from problems.forms import (
    ActionForm,
    AssignForm,
    AttachmentForm,
    CloseForm,
    GradeForm,
    PlanForm,
    ProblemRowFormSet,
    RateForm,
    ReassignForm,
    ResolveForm,
    TextForm,
    TicketEditForm,
    TicketForm,
    VisitForm,
)
from problems.models import ProblemTicket, TicketAttachment, Visit
from projects import selectors as project_selectors
from projects.models import Project
from reference.models import Cluster, Department, Leader, Park

PAGE_SIZE = 25
ENTERPRISE_TICKETS_SHOWN = 100


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _render_list(request, template: str, part: caching.Part, filterset, rows, **context):
    """A list page whose body ``part`` caches, with ``context`` besides: its filter chips and its
    page of ``rows`` are worked out only when the body is rendered, not when it comes from the cache."""
    return render(
        request,
        template,
        {
            "part": part,
            "filterset": filterset,
            "chips": functools.cache(lambda: filter_chips(filterset, request.GET, request.path)),
            "page": SimpleLazyObject(lambda: Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))),
            "query": _query_without_page(request),
            **context,
        },
    )


# --- Enterprises -------------------------------------------------------------------------


# What the enterprise list shows: the enterprises, their problems, and the names of their parks,
# industries, clusters, units and leaders.
LIST_TRACKED = (Enterprise, Honour, ProblemTicket, Department, Park, Cluster, Leader)


@login_required
def enterprise_list(request):
    enterprise_permissions.ensure_can_read_enterprises(request.user)
    rows = selectors.enterprise_rows(Enterprise.objects.all())
    filterset = EnterpriseFilterSet(request.GET or None, queryset=rows)
    enterprises = (filterset.qs if filterset.is_bound else rows).order_by("name", "pk")
    # Every reader of the list reads the same list: its body is cached whole until an enterprise,
    # a ticket (the open and overdue counts, as of today) or a name it shows changes.
    part = caching.Part(
        key=("enterprise_list", sorted(request.GET.lists()), get_language(), timezone.localdate()),
        using=enterprises.db,
        extra=LIST_TRACKED,
    )
    return _render_list(request, "problems/enterprise_list.html", part, filterset, enterprises)


@login_required
def enterprise_detail(request, pk):
    user = request.user
    enterprise_permissions.ensure_can_read_enterprises(user)
    enterprise = get_object_or_404(
        Enterprise.objects.select_related(
            "park", "industry__cluster", "liaison_leader", "liaison_unit", "parent"
        ),
        pk=pk,
    )
    tickets = selectors.ticket_rows(permissions.readable_tickets(user).filter(enterprise=enterprise))
    status_counts = dict(
        tickets.order_by().values_list("status").annotate(count=Count("pk")).values_list("status", "count")
    )
    show_visits = enterprise_permissions.has_zone_wide_read(user)
    period = project_selectors.default_period()
    return render(
        request,
        "problems/enterprise_detail.html",
        {
            "enterprise": enterprise,
            "tickets": tickets[:ENTERPRISE_TICKETS_SHOWN],
            "ticket_total": sum(status_counts.values()),
            "status_counts": [(label, status_counts.get(value, 0)) for value, label in TicketStatus.choices],
            "visits": selectors.enterprise_visits(enterprise) if show_visits else None,
            "projects": project_selectors.project_rows(enterprise.projects.all(), period=period).order_by(
                "name"
            ),
            "period": period,
            "honours": enterprise.honours.all(),
            "yearly": enterprise.yearly_figures.order_by("-year")[:5],
            "subsidiaries": enterprise.subsidiaries.only("pk", "name"),
            "can_collect": permissions.can_collect(user),
        },
    )


# --- Visits ----------------------------------------------------------------------------------


@login_required
def visit_create(request):
    """A visit and the problems collected on it, saved together or not at all."""
    user = request.user
    permissions.ensure_can_collect(user)
    initial = {"visited_on": timezone.localdate(), "unit": user.department_id, "visitors": [user.pk]}
    if request.GET.get("enterprise", "").isdigit():
        initial["enterprise"] = int(request.GET["enterprise"])
    form = VisitForm(request.POST or None, initial=initial)
    problems = ProblemRowFormSet(request.POST or None, prefix="problems")
    if request.method == "POST" and form.is_valid() and problems.is_valid():
        rows = [row for row in problems.forms if row.has_changed()]
        try:
            visit = services.visit_create(
                user=user,
                data=form.visit_data(),
                visitors=form.cleaned_data["visitors"],
                problems=[row.problem_data() for row in rows],
            )
        except services.ProblemRowErrors as errors:
            for index, error in errors.errors.items():
                apply_service_errors(rows[index], error)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            count = len(rows)
            messages.success(
                request,
                _("Visit recorded with %(count)s problems.") % {"count": count}
                if count
                else _("Visit recorded."),
            )
            return redirect("enterprises:visit_detail", pk=visit.pk)
    if request.method == "POST":
        messages.error(request, _("Nothing was saved: please correct the fields marked below."))
    return render(request, "problems/visit_form.html", {"form": form, "problems": problems})


@login_required
def visit_detail(request, pk):
    permissions.ensure_can_read_visits(request.user)
    visit = get_object_or_404(
        Visit.objects.select_related("enterprise", "unit", "created_by").prefetch_related("visitors"), pk=pk
    )
    tickets = selectors.ticket_rows(visit.problems.all())
    return render(
        request,
        "problems/visit_detail.html",
        {"visit": visit, "tickets": tickets, "can_collect": permissions.can_collect(request.user)},
    )


# --- Tickets ---------------------------------------------------------------------------------


def _listed_tickets(request, today: datetime.date):
    return _listed_tickets_for(request.user, request.GET, today)


def _listed_tickets_for(user, query, today: datetime.date):
    """The ticket list's scope, filters, rows and order: the page and its Excel export agree."""
    permissions.ensure_can_read_tickets(user)
    rows = selectors.ticket_rows(permissions.readable_tickets(user), today)
    filterset = TicketFilterSet(query or None, queryset=rows, user=user)
    tickets = filterset.qs if filterset.is_bound else rows
    if not filterset.is_bound or not filterset.form.cleaned_data.get("ordering"):
        tickets = tickets.order_by("-collected_at", "-pk")
    return filterset, tickets


@login_required
def ticket_list(request):
    user = request.user
    today = timezone.localdate()
    filterset, tickets = _listed_tickets(request, today)
    can_collect = permissions.can_collect(user)
    # The body is cached whole for all who read the same tickets (the query names the reader's
    # scope) the same way, until a ticket or a name it shows changes, or the day (overdue flags):
    # its figures counted every ticket read (0.35 s on the province data, on every visit).
    part = caching.Part(
        key=(
            "ticket_list",
            caching.queryset_key(tickets),
            sorted(request.GET.lists()),
            can_collect,
            get_language(),
            today,
        ),
        using=tickets.db,
        extra=LIST_TRACKED,
    )
    return _render_list(
        request,
        "problems/ticket_list.html",
        part,
        filterset,
        tickets,
        figures=SimpleLazyObject(lambda: kpis.totals(tickets, today=today)),
        can_collect=can_collect,
    )


@login_required
def ticket_create(request):
    """A problem recorded on its own; the office may assign it at once."""
    user = request.user
    permissions.ensure_can_collect(user)
    can_assign = enterprise_permissions.is_office(user)
    initial = {}
    for name in ("enterprise", "project"):
        if request.GET.get(name, "").isdigit():
            initial[name] = int(request.GET[name])
    if "project" in initial and "enterprise" not in initial:
        initial["enterprise"] = (
            Project.objects.filter(pk=initial["project"]).values_list("enterprise_id", flat=True).first()
        )
    visit = None
    if request.GET.get("visit", "").isdigit():
        # One more problem from a visit recorded earlier: its enterprise and day.
        visit = get_object_or_404(Visit.objects.select_related("enterprise"), pk=request.GET["visit"])
        initial.update(enterprise=visit.enterprise_id, source=ProblemSource.VISIT)
    form = TicketForm(request.POST or None, initial=initial, can_assign=can_assign, visit=visit)
    if request.method == "POST" and form.is_valid():
        try:
            # Recorded and assigned together, or neither.
            with transaction.atomic():
                ticket = services.ticket_create(
                    user=user,
                    data=form.ticket_data(),
                    visit=visit,
                    collected_at=form.cleaned_data["collected_at"],
                )
                unit = form.cleaned_data.get("unit")
                if unit is not None:
                    services.ticket_assign(ticket=ticket, user=user, unit=unit)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Problem #%(number)s recorded.") % {"number": ticket.pk})
            return redirect(ticket)
    return render(request, "problems/ticket_form.html", {"form": form, "creating": True, "visit": visit})


@login_required
def ticket_edit(request, pk):
    ticket = get_object_or_404(ProblemTicket.objects.select_related("enterprise"), pk=pk)
    permissions.ensure_can_read_ticket(request.user, ticket)
    if not permissions.can_edit_details(request.user, ticket):
        raise PermissionDenied(str(services.TRANSITIONS["edit"].actor.message))
    form = TicketEditForm(request.POST or None, instance=ProblemTicket.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.ticket_update(
                ticket=ticket,
                user=request.user,
                data=form.ticket_data(),
                expected_version=form.cleaned_data.get("version"),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(ticket)
    return render(request, "problems/ticket_form.html", {"form": form, "ticket": ticket})


def _ticket_for_page(pk: int) -> ProblemTicket:
    return get_object_or_404(selectors.ticket_rows(ProblemTicket.objects.filter(pk=pk)))


# Each action's form and its options; ``_call`` hands the form's data to the action's service.
ACTION_FORMS = {
    "assign": (AssignForm, {}),
    "accept": (ActionForm, {}),
    "decline": (TextForm, {"label": gettext_lazy("why it is not your unit's")}),
    "reply": (TextForm, {"label": gettext_lazy("measures taken and progress")}),
    "plan": (PlanForm, {}),
    "resolve": (ResolveForm, {}),
    "close": (CloseForm, {}),
    "send_back": (TextForm, {"label": gettext_lazy("what is missing")}),
    "grade": (GradeForm, {}),
    "rate": (RateForm, {}),
    "escalate": (TextForm, {"label": gettext_lazy("why the zone cannot solve it")}),
    "reassign": (ReassignForm, {}),
    "comment": (TextForm, {"label": gettext_lazy("comment")}),
    "attach": (AttachmentForm, {}),
}


def _call(action: str, ticket, user, data: dict, version):
    """The action's service, the form's fields its arguments: a text box fills the row's input
    (``reason`` or ``text``), a file the upload."""
    arguments = {name: value for name, value in data.items() if name != "version"}
    if "text" in arguments:
        arguments[services.TRANSITIONS[action].given[0].argument] = arguments.pop("text")
    if "file" in arguments:
        arguments["upload"] = arguments.pop("file")
    if action not in ("comment", "attach"):
        arguments["expected_version"] = version
    return services.SERVICES[action](ticket=ticket, user=user, **arguments)


def _action_form(action, ticket, data=None, files=None):
    form_class, options = ACTION_FORMS[action]
    return form_class(data, files, ticket=ticket, prefix=action, **options)


@login_required
def ticket_detail(request, pk, failed=None):
    """The ticket, its clock and timeline, and the forms of the actions the user may take now."""
    ticket = _ticket_for_page(pk)
    permissions.ensure_can_read_ticket(request.user, ticket)
    actions = services.allowed_actions(request.user, ticket)
    forms_by_action = {action: _action_form(action, ticket) for action in actions if action != "edit"}
    refused = []
    if failed is not None and failed.prefix in forms_by_action:
        forms_by_action[failed.prefix] = failed
    elif failed is not None:
        # Not possible any more (say, someone else acted first): its form is gone, so say why here.
        refused = [message for messages in failed.errors.values() for message in messages]
    primary = [a for a in actions if a not in ("comment", "attach", "edit")]
    return render(
        request,
        "problems/ticket_detail.html",
        {
            "ticket": ticket,
            "timeline": selectors.ticket_timeline(ticket),
            "attachments": ticket.attachments.select_related("uploaded_by"),
            "actions": [
                (action, services.TRANSITIONS[action].label, forms_by_action[action]) for action in primary
            ],
            "comment_form": forms_by_action.get("comment"),
            "attach_form": forms_by_action.get("attach"),
            "can_edit": "edit" in actions,
            "failed": failed.prefix if failed is not None else "",
            "refused": refused,
            "open_statuses": OPEN_STATUSES,
        },
        status=400 if failed is not None else 200,
    )


@login_required
@require_POST
def ticket_action(request, pk, action):
    if action not in ACTION_FORMS:
        raise Http404
    ticket = get_object_or_404(ProblemTicket, pk=pk)
    permissions.ensure_can_read_ticket(request.user, ticket)
    form = _action_form(action, ticket, request.POST, request.FILES)
    if form.is_valid():
        try:
            _call(action, ticket, request.user, form.cleaned_data, form.expected_version())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Done: %(action)s.") % {"action": services.TRANSITIONS[action].label})
            anchor = "#timeline" if action in ("comment", "attach") else ""
            return redirect(ticket.get_absolute_url() + anchor)
    messages.error(request, _("Nothing was changed: please correct the fields marked below."))
    return ticket_detail(request, pk, failed=form)


@login_required
def attachment_file(request, pk):
    """Files are served through here, to users who may open the ticket, never as public files."""
    attachment = get_object_or_404(TicketAttachment.objects.select_related("ticket"), pk=pk)
    permissions.ensure_can_read_ticket(request.user, attachment.ticket)
    return attachment_response(attachment)


def attachment_response(attachment: TicketAttachment) -> FileResponse:
    """The file as a private download, by the page and by the API alike."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, content_type=attachment.content_type, as_attachment=True, filename=attachment.name
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Kept by the browser only, and checked again before reuse (a reader may lose access).
    response["Cache-Control"] = "private, no-cache"
    return response


# --- Figures -----------------------------------------------------------------------------------


def _date_param(request, name) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return None


@login_required
def problem_stats(request):
    """The KPI panel: collected, resolved, rates, overdue and days to resolve, with their splits."""
    user = request.user
    permissions.ensure_can_read_tickets(user)
    today = timezone.localdate()
    date_from = _date_param(request, "date_from")
    date_to = _date_param(request, "date_to")
    if date_from is None and date_to is None and "date_from" not in request.GET:
        date_from = today.replace(month=1, day=1)
    figures = kpis.problem_kpis(
        permissions.readable_tickets(user), today=today, date_from=date_from, date_to=date_to, cached=True
    )
    splits = [
        (_("By level"), "level", figures.by_level),
        (_("By category"), "category", figures.by_category),
        (_("By responsible unit"), "unit", figures.by_unit),
        (_("By park"), "park", figures.by_park),
    ]
    return render(
        request,
        "problems/problem_stats.html",
        {"kpis": figures, "splits": splits, "date_from": date_from, "date_to": date_to, "today": today},
    )


# --- Excel -------------------------------------------------------------------------------------


def ticket_ledger_export(user, query) -> jobs.Export:
    """The ticket list's rows, with its filters, scope and order, as the 问题台账 workbook, for
    ``user`` and the list's query parameters: the download and its background job both use it."""
    today = timezone.localdate()
    filterset, tickets = _listed_tickets_for(user, query, today)
    if filterset.is_bound and not filterset.is_valid():
        raise jobs.ExportRefused(_("Correct the filters before exporting."))
    return jobs.Export(
        rows=tickets.count(),
        filename=excel.ledger_filename(today),
        write=lambda: excel.ticket_ledger_workbook(
            tickets, today=today, title_period=excel.filter_summary(filterset)
        ),
    )


@login_required
def ticket_export(request):
    """The ledger now, or (above EXCEL_SYNC_EXPORT_ROWS rows) from a background job."""
    back = reverse("enterprises:ticket_list") + "?" + request.GET.urlencode()

    def refused(message):
        messages.error(request, message)
        return redirect(back)

    try:
        export = ticket_ledger_export(request.user, request.GET)
    except jobs.ExportRefused as error:
        return refused(error.message)
    return excel_download(request, export, kind=ProblemJobKind.TICKET_LEDGER_EXPORT, refused=refused)


def _summary_period(request, today: datetime.date) -> excel.SummaryPeriod:
    """The week (``?kind=week&week=<a day in it>``) or month (``?kind=month&year=&month=``) to
    summarise; without a day or month, the last full one. Raises ValueError with the reason."""
    kind = request.GET.get("kind", "")
    if kind == excel.WEEK:
        day = request.GET.get("week", "").strip()
        if not day:
            return excel.last_full_week(today)
        try:
            return excel.week_of(datetime.date.fromisoformat(day))
        except (ValueError, OverflowError):
            raise ValueError(_("Give the week as a day in it, such as 2024-03-04.")) from None
    if kind == excel.MONTH:
        year, month = request.GET.get("year", "").strip(), request.GET.get("month", "").strip()
        if not year and not month:
            return excel.last_full_month(today)
        try:
            return excel.month_of(int(year), int(month))
        except (ValueError, OverflowError):
            message = _("Give the month as a year and a month from 1 to 12, such as 2024 and 3.")
            raise ValueError(message) from None
    raise ValueError(_("Choose the weekly summary or the monthly bulletin (kind=week or kind=month)."))


@login_required
def ticket_summary_export(request):
    """周汇总 or 月通报: the KPI panel's figures for the problems collected in a week or a month."""
    user = request.user
    permissions.ensure_can_read_tickets(user)
    today = timezone.localdate()
    try:
        period = _summary_period(request, today)
    except ValueError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    book = excel.ticket_summary_workbook(
        permissions.readable_tickets(user),
        today=today,
        date_from=period.date_from,
        date_to=period.date_to,
        kind=period.kind,
    )
    return book.response(period.filename)


@login_required
@require_safe
def enterprise_history(request, pk):
    enterprise_permissions.ensure_can_read_enterprises(request.user)
    enterprise = get_object_or_404(Enterprise, pk=pk)
    with_visits = enterprise_permissions.has_zone_wide_read(request.user)
    return history_views.object_history(
        request,
        obj=enterprise,
        querysets=selectors.enterprise_history_rows(enterprise.pk, with_visits=with_visits),
        crumbs=[(_("Enterprises"), reverse("enterprises:list"))],
        overview_url=reverse("enterprises:detail", args=[enterprise.pk]),
    )


@login_required
@require_safe
def ticket_history(request, pk):
    ticket = get_object_or_404(ProblemTicket.objects.select_related("enterprise"), pk=pk)
    permissions.ensure_can_read_ticket(request.user, ticket)
    return history_views.object_history(
        request,
        obj=ticket,
        querysets=selectors.ticket_history_rows(ticket.pk),
        crumbs=[(_("Enterprise problems"), reverse("enterprises:ticket_list"))],
        overview_url=reverse("enterprises:ticket_detail", args=[ticket.pk]),
    )
