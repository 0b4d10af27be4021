"""The walk of every page as each role, and what it checks on each (test_narrow.py and test_wcag.py
assert on it): the URL conf's pages, so a new page is walked (or has to be named below as not a
page); the object pages are the demo world's. A page a role may not open (403, 404) is not one of
its pages.

Each page is loaded once per role, in a phone's window (375 px): axe-core checks it, its layout is
measured (then with its folded parts unfolded), and the window widens to 1366 px for axe to check it
again, unfolded parts included. (Measured after a return from 1366 px, the charts would not yet have
shrunk back.) The pages load a few at a time in tabs, and the tabs
run their checks at the same time: the walk of six roles is the slowest part of the browser tests.
"""

from contextlib import ExitStack
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import URLResolver, get_resolver, reverse

from core.kinds import IMPORT_KINDS
from core.models import ImportRecord, Job, User
from problems.choices import TicketStatus
from problems.models import ProblemTicket
from projects.choices import ProgressStatus
from projects.models import MonthlyProgress
from reference.models import Park
from tests.browser.helpers import axe_result, axe_start, layout_problems

TABS = 4  # pages loading at once: the server renders one while the browser checks another
ROLES = ["admin", "leader", "reviewer", "staff", "unit", "office"]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}
FAILING = {"serious", "critical"}  # axe's impacts that fail test_wcag.py; moderate, minor are listed
# What axe skips: nothing. (Swagger UI, the API documentation, is checked too: its colours and names
# are fixed by static/css/swagger_a11y.css and static/js/swagger_a11y.js.)
AXE_EXCLUDED = []

# Named routes that are not pages to look at, and why.
NOT_PAGES = {
    "badges": "JSON for the menu's badges",
    "login": "walked logged out, in its own test",
    "logout": "POST only",
    "set_language": "POST only",
    "healthz": "plain text for the load balancer",
    "api_token_revoke": "POST only",
    "import_confirm": "POST only",
    "job_rerun": "POST only; its form is on a failed job's page",
    "job_status": "JSON the job page polls",
    "job_download": "a download",
    "dashboard_export": "a download",
    "change_log_export": "a download",
    "projects:export": "a download",
    "projects:milestone_export": "a download",
    "enterprises:ticket_export": "a download",
    "enterprises:ticket_summary_export": "a download",
    "enterprises:attachment": "a download",
    "projects:photo_file": "an image",
    "projects:comment": "POST only",
    "projects:progress_review": "POST only",
    "projects:photo_upload": "POST only",
    "projects:photo_delete": "POST only",
    "enterprises:ticket_action": "POST only; its forms are on the ticket page",
    "lookup_enterprises": "JSON for the searchable selects",
    "lookup_projects": "JSON for the searchable selects",
    "lookup_users": "JSON for the searchable selects",
}
# Namespaces walked through the explicit list below, not route by route (the admin's pre-split
# addresses, admin_moved_to_*, only redirect into the admin).
OTHER_NAMESPACES = ("admin:", "admin_moved_to_", "api:")


def named_routes(resolver=None, namespace=""):
    """(name, parameter names) of every named route of the URL conf."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from named_routes(entry, inner)
        elif entry.name:
            yield f"{namespace}{entry.name}", list(entry.pattern.converters)


def page_urls():
    """Every page to walk, as URLs: the routes without parameters, the object pages of the demo
    world (a project, report, ticket … that every role may have), the API docs and some admin pages."""
    staff = User.objects.get(username="staff")
    unit = User.objects.get(username="unit")
    ticket = (
        ProblemTicket.objects.filter(unit=unit.department, status=TicketStatus.IN_PROGRESS)
        .select_related("enterprise", "visit")
        .order_by("pk")
        .first()
    )
    returned = (
        MonthlyProgress.objects.filter(project__staff_in_charge=staff, status=ProgressStatus.RETURNED)
        .select_related("project")
        .first()
    )
    # An official month's report (the journeys, run first, leave no report waiting for review).
    submitted = MonthlyProgress.objects.filter(status=ProgressStatus.APPROVED).order_by("-pk").first()
    project = returned.project
    milestone = project.milestones.order_by("pk").first()
    import_record, job = _an_import_and_a_job(staff, returned)
    objects = {
        "projects:detail": [{"pk": project.pk}],
        "projects:edit": [{"pk": project.pk}],
        "projects:history": [{"pk": project.pk}],
        "projects:stage": [{"pk": project.pk}],
        "projects:milestone_create": [{"pk": project.pk}],
        "projects:milestone_edit": [{"pk": milestone.pk}],
        "projects:progress": [
            {"pk": project.pk, "year": returned.year, "month": returned.month},
            {"pk": submitted.project_id, "year": submitted.year, "month": submitted.month},
        ],
        "enterprises:detail": [{"pk": ticket.enterprise_id}],
        "enterprises:history": [{"pk": ticket.enterprise_id}],
        "enterprises:visit_detail": [{"pk": ticket.visit_id}],
        "enterprises:ticket_detail": [{"pk": ticket.pk}],
        "enterprises:ticket_edit": [{"pk": ticket.pk}],
        "enterprises:ticket_history": [{"pk": ticket.pk}],
        "import_upload": [{"kind": kind} for kind in list(IMPORT_KINDS)],
        "import_detail": [{"pk": import_record.pk}],
        "job_detail": [{"pk": job.pk}],
    }
    urls, unclassified = [], []
    for name, parameters in named_routes():
        if name in NOT_PAGES or name.startswith(OTHER_NAMESPACES):
            continue
        if not parameters:
            urls.append(reverse(name))
        elif name in objects:
            urls += [reverse(name, kwargs=kwargs) for kwargs in objects[name]]
        else:
            unclassified.append(name)
    assert not unclassified, f"Pages this test does not know how to open: {unclassified}"
    park = Park.objects.order_by("pk").first()
    urls += [
        reverse("api:docs"),
        reverse("admin:index"),
        reverse("admin:core_user_changelist"),
        reverse("admin:core_user_change", args=[staff.pk]),
        reverse("admin:reference_park_changelist"),
        reverse("admin:reference_park_change", args=[park.pk]),
        reverse("admin:projects_project_changelist"),
        reverse("admin:projects_project_change", args=[project.pk]),
        reverse("admin:problems_problemticket_change", args=[ticket.pk]),
    ]
    return urls


def _an_import_and_a_job(staff, report):
    """An Excel import waiting for its confirmation and a background export, both the staff
    member's: the ledger as exported, uploaded back; the same export made to run in the background."""
    client = Client()
    client.force_login(staff)
    period = {"year": report.year, "month": report.month}
    ledger = client.get(reverse("projects:export"), period)
    assert ledger.status_code == 200, ledger
    ledger_file = b"".join(ledger.streaming_content) if ledger.streaming else ledger.content
    upload = SimpleUploadedFile("台账.xlsx", ledger_file)
    preview = client.post(reverse("import_upload", args=["project_ledger"]), {"file": upload, **period})
    assert preview.status_code == 302, preview
    with override_settings(EXCEL_SYNC_EXPORT_ROWS=0):
        queued = client.get(reverse("projects:export"), period)
    assert queued.status_code == 302, queued
    return ImportRecord.objects.latest("pk"), Job.objects.latest("pk")


def walk_batches(context, base, urls):
    """Open the URLs TABS at a time, in tabs of the context (the server renders one page while the
    browser lays out another); a list of (url, status, tab) for each batch, the tabs showing their
    pages until the next batch is asked for."""
    tabs = [context.new_page() for _ in range(TABS)]
    for start in range(0, len(urls), TABS):
        batch = list(zip(tabs, urls[start : start + TABS], strict=False))
        with ExitStack() as stack:
            navigations = [stack.enter_context(tab.expect_navigation()) for tab, _url in batch]
            for tab, url in batch:
                tab.evaluate("url => { setTimeout(() => location.assign(url)); }", base + url)
        opened = []
        for (tab, url), navigation in zip(batch, navigations, strict=True):
            status = navigation.value.status
            if "/login/" in tab.url:
                status = 403  # the admin's login page: not this role's page
            opened.append((url, status, tab))
        yield opened


@dataclass
class RoleWalk:
    """What the walk of one role found."""

    menu: set = field(default_factory=set)  # the menu's links
    walked: list = field(default_factory=list)  # the role's pages (200)
    refused: list = field(default_factory=list)  # (url, status) neither 200 nor a 403/404 refusal
    layout: list = field(default_factory=list)  # "url: problem" at 375 px
    axe_failing: list = field(default_factory=list)  # serious and critical violations, described
    axe_other: list = field(default_factory=list)  # moderate and minor ones, one line each


def walk_role(context, base, urls) -> RoleWalk:
    """Every page in tabs of the context (a phone's, logged in), checked as the module says."""
    found = RoleWalk()
    for batch in walk_batches(context, base, urls):
        opened = []
        for url, status, tab in batch:
            if status == 200:
                opened.append((url, tab))
                found.walked.append(url)
            elif status not in (403, 404):
                found.refused.append((url, status))
        axe_check(opened, found, PHONE)
        for url, tab in opened:
            found.layout += [f"{url}: {problem}" for problem in layout_problems(tab, unfold=True)]
        axe_check(opened, found, DESKTOP)
        for _url, tab in opened:
            tab.set_viewport_size(PHONE)  # for the next page
    return found


def axe_check(pages, found, viewport):
    """axe with the window at the viewport's size, in each of the (label, tab) at once."""
    for _label, tab in pages:
        if tab.viewport_size != viewport:
            tab.set_viewport_size(viewport)
        axe_start(tab, exclude=AXE_EXCLUDED)
    for label, tab in pages:
        where = f"{label} at {viewport['width']} px"
        for violation in axe_result(tab):
            if violation["impact"] in FAILING:
                found.axe_failing.append(describe(where, violation))
            else:
                count = len(violation["nodes"])
                found.axe_other.append(f"{where}: {violation['impact']} {violation['id']} ({count})")


def describe(where, violation, most=8):
    """An axe violation for a test's message: the page and width, the rule, its help text, and each
    element's selector and (shortened) HTML."""
    nodes = violation["nodes"]
    elements = "".join(f"\n    {node['target']}\n      {node['html']}" for node in nodes[:most])
    more = f"\n    … and {len(nodes) - most} more" if len(nodes) > most else ""
    return f"{where}: {violation['impact']} {violation['id']}: {violation['help']}{elements}{more}"
