"""XSS: hostile text in every field a user or an import can fill is shown as text on every page
that shows it — the staff pages, the dashboard and its drill-downs, the admin, the browsable API —
and reaches JSON only as data. Excel formula injection is in test_excel_injection below.

Each hostile string carries markup that would run if copied into a page unescaped; a page passes
when none of that markup appears as written and the escaped form of what it shows does.
"""

from __future__ import annotations

import datetime
import io
import json
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, resolve, reverse
from django.utils import timezone
from django.utils.html import escape
from PIL import Image

from core.api.tokens import create_token
from core.models import ImportRecord, Job
from core.roles import Role
from enterprises.choices import EnterpriseImportKind
from problems import services as ticket_services
from problems.models import ProblemTicket, TicketEvent
from projects import services as project_services
from projects.choices import (
    MilestoneKind,
    MilestoneStatus,
    ProgressStatus,
    ProjectImportKind,
    ProjectJobKind,
    Stage,
)
from projects.models import ProjectComment
from tests.factories import (
    AnnualPlanFactory,
    ApprovalMilestoneFactory,
    BatchFactory,
    BatchMembershipFactory,
    ClusterFactory,
    DepartmentFactory,
    EnterpriseFactory,
    EnterpriseYearlyFigureFactory,
    HonourFactory,
    IndustryFactory,
    LeaderFactory,
    MonthlyProgressFactory,
    ParkFactory,
    ProjectFactory,
    StageChangeFactory,
    UserFactory,
    VisitFactory,
    make_ticket,
)
from tests.html_forms import form_data
from zone_portal.api_urls import router

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
SVG = "<svg onload=alert(2)>"
IFRAME = "<iframe src=javascript:alert(3)></iframe>"
TEMPLATE = "{{7*7}}"
JS_URL = "javascript:alert(1)"

# What must never reach a page as written: each would run script in a browser.
LIVE_MARKUP = (
    "<script>alert(1)",
    "<img src=x onerror",
    "<svg onload",
    "<iframe src=javascript",
)


def assert_inert(html: str, where: str) -> None:
    for markup in LIVE_MARKUP:
        assert markup not in html, f"{where} copies {markup!r} into the page unescaped"


def assert_shown_escaped(html: str, texts, where: str) -> None:
    """Each text is on the page, escaped (so the page really shows the hostile data)."""
    for text in texts:
        assert escape(text) in html, f"{where} does not show {text!r} (escaped as {escape(text)!r})"


class World:
    """One of everything, with hostile text in each text field."""


@pytest.fixture
def world(db, superuser):
    today = timezone.localdate()
    w = World()
    w.year = today.year - 1  # a finished year: every month of it may hold reports
    w.unit = DepartmentFactory(name=f"{SCRIPT}局")
    w.park = ParkFactory(name=f"{IMG}园区", description=SCRIPT)
    w.cluster = ClusterFactory(name=f"{SVG}集群")
    w.industry = IndustryFactory(name=f"{IFRAME}产业", cluster=w.cluster)
    w.leader = LeaderFactory(name=f"{SVG}领导", title=SCRIPT, department=w.unit)
    w.staff = UserFactory(
        username="xss_staff", display_name=f"{SCRIPT}专员", roles=[Role.STAFF], department=w.unit
    )
    w.office = UserFactory(username="xss_office", display_name=f"{IMG}督办", roles=[Role.SUPERVISOR])
    w.handler = UserFactory(
        username="xss_handler", display_name=f"{SVG}经办", roles=[Role.UNIT], department=w.unit
    )
    w.admin = superuser
    w.honour = HonourFactory(name=f"{SCRIPT}荣誉")
    w.enterprise = EnterpriseFactory(
        name=f"{SVG}企业有限公司",
        short_name=f"{SCRIPT}简称",
        legal_representative=IMG,
        address=IFRAME,
        contact_person=TEMPLATE,
        description=SCRIPT,
        park=w.park,
        industry=w.industry,
        liaison_leader=w.leader,
        liaison_unit=w.unit,
    )
    w.enterprise.honours.add(w.honour)
    EnterpriseYearlyFigureFactory(enterprise=w.enterprise, year=w.year)
    common = {
        "enterprise": w.enterprise,
        "park": w.park,
        "industry": w.industry,
        "responsible_leader": w.leader,
        "responsible_unit": w.unit,
        "staff_in_charge": w.staff,
    }
    w.project = ProjectFactory(
        name=f"{SCRIPT}项目",
        construction_content=IMG,
        location=TEMPLATE,
        contact_person=SVG,
        stage=Stage.UNDER_CONSTRUCTION,
        **common,
    )
    w.project2 = ProjectFactory(name=f"{IMG}二号项目", construction_content=SCRIPT, **common)
    w.project3 = ProjectFactory(name=f"{TEMPLATE}三号项目", **common)
    StageChangeFactory(
        project=w.project, to_stage=Stage.UNDER_CONSTRUCTION, reason=SCRIPT, changed_by=w.staff
    )
    for project in (w.project, w.project2, w.project3):
        AnnualPlanFactory(project=project, year=w.year, planned_investment=Decimal("12000.00"), goals=IFRAME)
        for month in (1, 2, 3):
            MonthlyProgressFactory(
                project=project,
                year=w.year,
                month=month,
                completed_investment=Decimal("100.00"),
                physical_progress=f"{IFRAME}形象进度",
                problems=SCRIPT,
                review_comment=IMG,
                submitted_by=w.staff,
                reviewed_by=w.admin,
            )
    w.submitted = MonthlyProgressFactory(
        project=w.project,
        year=w.year,
        month=4,
        status=ProgressStatus.SUBMITTED,
        physical_progress=f"{SCRIPT}待审",
        problems=IMG,
        submitted_by=w.staff,
        reviewed_by=None,
        reviewed_at=None,
    )
    w.milestone = ApprovalMilestoneFactory(
        project=w.project,
        kind=MilestoneKind.PROJECT_FILING,
        status=MilestoneStatus.IN_PROGRESS,
        planned_date=datetime.date(w.year, 2, 1),  # overdue: listed on the dashboard
        document_number=IMG,
        note=SCRIPT,
        department=w.unit,
    )
    w.batch = BatchFactory(number=7, note=SCRIPT)
    BatchMembershipFactory(batch=w.batch, project=w.project)
    ProjectComment.objects.create(project=w.project, author=w.staff, text=f"{SCRIPT}批示", by_leader=True)
    # A change with markup on both sides, for the change history's "old → new".
    project_services.project_update(
        project=w.project2, user=w.staff, data={"construction_content": f"{SVG}新内容"}
    )
    w.photo = project_services.photo_add(
        report=w.submitted,
        user=w.admin,
        upload=SimpleUploadedFile("x.png", _png(), content_type="image/png"),
        caption=f"{SVG}照片",
    )
    w.visit = VisitFactory(
        enterprise=w.enterprise,
        visited_on=datetime.date(w.year, 6, 1),
        unit=w.unit,
        notes=f"{SCRIPT}走访",
        created_by=w.office,
    )
    w.visit.visitors.add(w.staff)
    w.ticket = make_ticket(
        user=w.office,
        enterprise=w.enterprise,
        project=w.project,
        visit=w.visit,
        title=f"{SCRIPT}用地",
        description=f"<b>粗体</b>{IMG}",
    )
    ticket_services.ticket_assign(ticket=w.ticket, user=w.office, unit=w.unit, note=SVG)
    ticket_services.ticket_reply(ticket=_fresh(w.ticket), user=w.handler, text=f"{IFRAME}答复")
    ticket_services.ticket_comment(ticket=_fresh(w.ticket), user=w.office, text=f"{SCRIPT}评论")
    ticket_services.attachment_add(
        ticket=_fresh(w.ticket),
        user=w.office,
        upload=SimpleUploadedFile(f"{SVG}.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
    )
    w.ticket = _fresh(w.ticket)
    ImportRecord.objects.create(
        kind=ProjectImportKind.PROJECT_LEDGER, user=w.admin, file="imports/x.xlsx", file_name=f"{SCRIPT}.xlsx"
    )
    create_token(w.admin, name=f"{SCRIPT}令牌", days=1)
    w.job = Job.objects.create(
        owner=w.admin,
        kind=ProjectJobKind.PROJECT_LEDGER_EXPORT,
        status=Job.Status.FAILED,
        step=f"{SVG}步骤",
        error=f"{SCRIPT}失败",
        details=[f"{IMG}第3行"],
        result_name=f"{SCRIPT}.xlsx",
    )
    return w


def _fresh(ticket):
    return ProblemTicket.objects.get(pk=ticket.pk)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return buffer.getvalue()


def staff_pages(w: World) -> list[tuple[str, list[str]]]:
    """(address, hostile texts the page must show) for every page of the staff workspace."""
    period = f"year={w.year}&month=3"
    report = f"{w.project.pk}/progress/{w.year}-3/"
    return [
        (reverse("home"), [w.project.name, w.submitted.project.name]),
        (reverse("dashboard") + f"?{period}", [w.project.name, w.park.name, w.unit.name]),
        (reverse("dashboard") + f"?{period}&include_submitted=1", [w.park.name]),
        (reverse("projects:list") + f"?{period}", [w.project.name, w.project2.name, w.project3.name]),
        (reverse("projects:list") + f"?{period}&park={w.park.pk}", [w.project.name, w.park.name]),
        (reverse("projects:list") + f"?{period}&responsible_unit={w.unit.pk}", [w.project.name]),
        (reverse("projects:list") + f"?{period}&lagging=true", [w.project.name]),
        (reverse("projects:list") + f"?{period}&q={SCRIPT}", [SCRIPT]),  # the search box echoes it
        (reverse("projects:detail", args=[w.project.pk]) + f"?{period}", [w.project.name, IMG, TEMPLATE]),
        (reverse("projects:edit", args=[w.project.pk]), [w.project.name, IMG]),
        (reverse("projects:stage", args=[w.project.pk]), [w.project.name]),
        (reverse("projects:create"), [w.unit.name, w.park.name]),
        (reverse("projects:milestone_create", args=[w.project.pk]), [w.project.name]),
        (reverse("projects:milestone_edit", args=[w.milestone.pk]), [IMG, SCRIPT]),
        (reverse("projects:milestone_list") + f"?{period}", [w.project.name, w.unit.name]),
        (reverse("projects:milestone_list") + f"?{period}&overdue=true", [w.project.name]),
        (f"/projects/{report}", [f"{IFRAME}形象进度", SCRIPT]),
        (f"/projects/{w.project.pk}/progress/{w.year}-4/", [f"{SCRIPT}待审", IMG, w.photo.caption]),
        (reverse("projects:grid"), [w.project.name]),
        (reverse("projects:review"), [w.project.name, f"{SCRIPT}待审"]),
        (reverse("enterprises:list"), [w.enterprise.name, w.park.name]),
        (reverse("enterprises:list") + f"?q={IMG}", [IMG]),
        (reverse("enterprises:detail", args=[w.enterprise.pk]), [w.enterprise.name, SCRIPT, w.honour.name]),
        (reverse("enterprises:visit_create") + f"?enterprise={w.enterprise.pk}", [w.enterprise.name]),
        (reverse("enterprises:visit_detail", args=[w.visit.pk]), [f"{SCRIPT}走访", w.ticket.title]),
        (reverse("enterprises:ticket_list"), [w.ticket.title, w.enterprise.name]),
        (reverse("enterprises:ticket_create") + f"?visit={w.visit.pk}", [w.enterprise.name]),
        (
            reverse("enterprises:ticket_detail", args=[w.ticket.pk]),
            [w.ticket.title, w.ticket.description, f"{IFRAME}答复", f"{SCRIPT}评论", f"{SVG}.pdf"],
        ),
        (reverse("enterprises:ticket_edit", args=[w.ticket.pk]), [w.ticket.title, w.ticket.description]),
        (reverse("enterprises:stats") + f"?date_from={w.year}-01-01", [w.unit.name, w.park.name]),
        (reverse("import_list"), [f"{SCRIPT}.xlsx"]),
        (reverse("import_upload", args=[ProjectImportKind.PROJECT_LEDGER]), []),
        (reverse("api_tokens"), [f"{SCRIPT}令牌"]),
        (reverse("job_list"), [f"{SCRIPT}失败"]),
        (reverse("job_detail", args=[w.job.pk]), [f"{SCRIPT}失败", f"{IMG}第3行"]),
        (reverse("password_change"), []),
        (reverse("display_settings"), []),
        (reverse("change_log"), [w.project2.name, SCRIPT, f"{SVG}新内容", w.staff.display_name]),
        (reverse("projects:history", args=[w.project2.pk]), [SCRIPT, f"{SVG}新内容"]),
        (reverse("enterprises:history", args=[w.enterprise.pk]), [w.enterprise.name]),
        (reverse("enterprises:ticket_history", args=[w.ticket.pk]), [w.ticket.title]),
    ]


# Views of the site that are not pages showing records, or are tested by another test here.
NOT_PAGES = {
    "login",  # shows no record; anonymous
    "logout",
    "password_change_done",
    "set_language",
    "healthz",
    "import_detail",  # test_an_import_preview_shows_hostile_cells_and_file_names_escaped
    # Posts, answered by a redirect to a page above (test_a_hostile_name_typed_into_a_form…).
    "import_confirm",
    "api_token_revoke",
    "job_rerun",
    "projects:comment",
    "projects:progress_review",
    "projects:photo_upload",
    "projects:photo_delete",
    "enterprises:ticket_action",
    # A job's progress as JSON; static/js/jobs.js puts it in the page as text (textContent).
    "job_status",
    # JSON read by scripts that set text, never HTML: the menu's counts, the pickers' options
    # (Tom Select escapes option text).
    "badges",
    "lookup_enterprises",
    "lookup_projects",
    "lookup_users",
    # Months, counts and the publishing reviewer's name (test_publishing renders it).
    "projects:months",
    # Downloads of the uploaded file itself (served as an attachment, nosniff).
    "job_download",
    "projects:photo_file",
    "enterprises:attachment",
}
EXPORTS = {
    "projects:export",
    "projects:milestone_export",
    "dashboard_export",
    "enterprises:ticket_export",
    "enterprises:ticket_summary_export",
    "change_log_export",
}


def test_every_page_of_the_site_is_rendered_by_these_tests(world):
    """A new page fails here until it is added to staff_pages (or, if it shows no record, to
    NOT_PAGES; an Excel download to EXPORTS and exports())."""
    from tests.security.test_csrf import site_views

    rendered = {resolve(urlsplit(url).path).view_name for url, _shown in staff_pages(world)}
    site = {name for _route, name, _view in site_views()}
    assert site - rendered - NOT_PAGES - EXPORTS == set()
    assert (rendered | NOT_PAGES | EXPORTS) - site == set(), "listed views that no longer exist"


def test_every_staff_page_shows_hostile_text_escaped(world, client):
    client.force_login(world.admin)
    for url, shown in staff_pages(world):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        html = response.content.decode()
        assert_inert(html, url)
        assert_shown_escaped(html, shown, url)
    # The one page that only a unit's handler sees with its own actions.
    client.force_login(world.handler)
    url = reverse("enterprises:ticket_detail", args=[world.ticket.pk])
    html = client.get(url).content.decode()
    assert_inert(html, url)
    assert_shown_escaped(html, [world.ticket.title], url)


def test_a_hostile_name_typed_into_a_form_comes_back_escaped_in_messages_and_errors(world, client):
    """What the user typed reaches the success message and, refused, the form's own field."""
    client.force_login(world.admin)
    data = form_data(client.get(reverse("projects:create")).content.decode())
    assert data, "the project form was not found"
    data.update(name=f"{IMG}新项目", total_investment="100", stage=str(Stage.PLANNING))
    response = client.post(reverse("projects:create"), data, follow=True)
    html = response.content.decode()
    assert response.redirect_chain, html[:2000]
    assert_inert(html, "the page after creating a project")
    assert escape(f"{IMG}新项目") in html
    # Refused (no amount), the typed name is put back into the form, escaped.
    data.update(name=f"{SCRIPT}被拒", total_investment="abc")
    html = client.post(reverse("projects:create"), data).content.decode()
    assert_inert(html, "the refused project form")
    assert escape(f"{SCRIPT}被拒") in html
    # A comment with markup, added through the page.
    url = reverse("projects:comment", args=[world.project.pk])
    html = client.post(url, {"text": f"{SVG}新评论"}, follow=True).content.decode()
    assert_inert(html, "the project page after a comment")
    assert escape(f"{SVG}新评论") in html


def test_a_javascript_address_is_never_followed_after_a_review(world, client):
    """The review form's ``next`` is the only address a user supplies: a script address is refused."""
    client.force_login(world.admin)
    url = reverse("projects:progress_review", args=[world.submitted.pk])
    response = client.post(url, {"action": "approve", "next": JS_URL})
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{world.project.pk}/progress/{world.year}-4/"
    response = client.post(url, {"action": "reopen", "reason": "改", "next": f"//evil.example/{SCRIPT}"})
    assert response["Location"].startswith("/projects/")


def test_dashboard_chart_data_carries_names_as_json_not_markup(world, client):
    """The charts read their data from a json_script block: names arrive intact, and no ``<`` of
    theirs can close the script element."""
    client.force_login(world.admin)
    html = client.get(reverse("dashboard") + f"?year={world.year}&month=3").content.decode()
    start = html.index('<script id="dashboard-charts" type="application/json">')
    block = html[start : html.index("</script>", start)]
    assert "<" not in block.split(">", 1)[1], "a name opened a tag inside the chart data"
    data = json.loads(block.split(">", 1)[1])
    assert world.park.name in data["splits"]["park"]["names"]
    assert world.unit.name in data["splits"]["unit"]["names"]


def test_json_endpoints_answer_json_with_the_text_as_data(world, client):
    client.force_login(world.admin)
    for url, text in [
        (reverse("api:dashboard-summary") + f"?year={world.year}&month=3", None),
        (reverse("api:project-detail", args=[world.project.pk]), world.project.name),
        (reverse("api:ticket-detail", args=[world.ticket.pk]), world.ticket.title),
        (reverse("api:ticket-events", args=[world.ticket.pk]), f"{IFRAME}答复"),
        (reverse("api:enterprise-detail", args=[world.enterprise.pk]), world.enterprise.name),
    ]:
        response = client.get(url, HTTP_ACCEPT="application/json")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("application/json"), url
        assert response["X-Content-Type-Options"] == "nosniff", url
        if text is not None:
            assert text in json.dumps(response.json(), ensure_ascii=False), url


def _admin_pages(world):
    """Every model the admin registers: its list, the change, history and delete pages of a record."""
    for model, _model_admin in admin.site._registry.items():
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        yield reverse(f"{name}_changelist"), None
        obj = model._default_manager.order_by("-pk").first()
        if obj is None:
            continue
        for view in ("change", "history", "delete"):
            try:
                yield reverse(f"{name}_{view}", args=[obj.pk]), obj
            except NoReverseMatch:
                pass


def test_every_admin_page_shows_hostile_text_escaped(world, client):
    client.force_login(world.admin)
    shown_somewhere = 0
    for url, obj in _admin_pages(world):
        response = client.get(url)
        assert response.status_code in (200, 403), (url, response.status_code)
        html = response.content.decode()
        assert_inert(html, url)
        if obj is not None and response.status_code == 200 and "<" in str(obj) and url.endswith("/change/"):
            # The admin titles a change page with the record's name.
            assert escape(str(obj)) in html, url
            shown_somewhere += 1
    assert shown_somewhere >= 8  # projects, enterprises, tickets, units, parks … carry markup


def test_every_browsable_api_page_shows_hostile_text_escaped(world, client):
    """The browsable API's list and record pages, with their forms pre-filled from the record."""
    client.force_login(world.admin)
    shown = 0
    for prefix, _viewset, basename in router.registry:
        list_url = reverse(f"api:{basename}-list")
        listing = client.get(list_url, HTTP_ACCEPT="application/json")
        assert listing.status_code == 200, list_url
        html = client.get(list_url, HTTP_ACCEPT="text/html").content.decode()
        assert_inert(html, list_url)
        body = listing.json()
        rows = body["results"] if isinstance(body, dict) and "results" in body else body
        if not rows or "id" not in rows[0]:
            continue
        detail_url = reverse(f"api:{basename}-detail", args=[rows[0]["id"]])
        response = client.get(detail_url, HTTP_ACCEPT="text/html")
        if response.status_code == 405:  # tokens are listed and revoked, never read one by one
            continue
        assert response.status_code == 200, (prefix, response.status_code)
        html = response.content.decode()
        assert_inert(html, detail_url)
        shown += any(escape(text) in html for text in (SCRIPT, SVG, "&lt;img src=x onerror"))
    assert shown >= 8
    html = client.get(reverse("api:api-root"), HTTP_ACCEPT="text/html").content.decode()
    assert_inert(html, "the API root")


# --- Import previews -----------------------------------------------------------------------------


def _ledger_with_hostile_cells(w: World) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([f"周口经济开发区{w.year}年1—3月重点项目建设台账"])
    sheet.append(["序号", "项目名称", "项目单位", "总投资（万元）", "所属园区", "形象进度"])
    sheet.append([1, f"{SCRIPT}导入项目", f"{SVG}导入企业", 100, w.park.name, IFRAME])
    sheet.append([2, f"{IMG}坏行", "某公司", f"{IMG}", "<svg onload=alert(2)>园区", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _enterprise_list_with_hostile_cells(w: World) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["企业名录"])
    sheet.append(["序号", "企业名称", "所属园区", "所属产业", "地址", "包联单位"])
    sheet.append([1, f"{SCRIPT}新企业", w.park.name, w.industry.name, IFRAME, f"{SVG}新单位"])
    sheet.append([2, f"{IMG}坏企业", f"{IMG}园区不存在", "", "", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "kind, make, shown",
    [
        (ProjectImportKind.PROJECT_LEDGER, _ledger_with_hostile_cells, [f"{SCRIPT}导入项目", IMG]),
        (EnterpriseImportKind.ENTERPRISES, _enterprise_list_with_hostile_cells, [f"{SCRIPT}新企业", IMG]),
    ],
)
def test_an_import_preview_shows_hostile_cells_and_file_names_escaped(world, client, kind, make, shown):
    client.force_login(world.admin)
    upload = SimpleUploadedFile(f"{SVG}.xlsx", make(world))
    response = client.post(reverse("import_upload", args=[kind]), {"file": upload}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert response.redirect_chain, "the upload was refused: " + html[-3000:]
    assert_inert(html, f"the {kind} preview")
    assert_shown_escaped(html, [*shown, f"{SVG}.xlsx"], f"the {kind} preview")
    html = client.get(reverse("import_list")).content.decode()
    assert_inert(html, "the import list")
    assert escape(f"{SVG}.xlsx") in html


def test_ticket_events_keep_their_text_verbatim(world):
    """The stored text is what was typed: escaping is the page's job, not a mangled record."""
    texts = set(TicketEvent.objects.filter(ticket=world.ticket).values_list("text", flat=True))
    assert {f"{IFRAME}答复", f"{SCRIPT}评论", SVG} <= texts


# --- Excel: no formula injection ------------------------------------------------------------------

# Text a spreadsheet would run as a formula if it were written as one; each has a marker no formula
# of the portal's own contains.
FORMULAS = {
    "hyperlink": '=HYPERLINK("http://x","y")',
    "plus": "+1+1",
    "minus": "-2+3",
    "at": "@SUM(A1)",
    "dde": "=cmd|' /C calc'!A0",
}
MARKERS = ("HYPERLINK", "1+1", "2+3", "SUM(A1)", "cmd|")


@pytest.fixture
def formula_world(db, superuser):
    w = World()
    w.admin = superuser
    w.year = timezone.localdate().year - 1
    w.unit = DepartmentFactory(name=FORMULAS["at"])
    w.park = ParkFactory(name=FORMULAS["dde"])
    w.leader = LeaderFactory(name=FORMULAS["minus"])
    w.enterprise = EnterpriseFactory(name=FORMULAS["hyperlink"], park=w.park, liaison_unit=w.unit)
    w.projects = []
    for key in ("hyperlink", "plus", "minus", "at"):
        project = ProjectFactory(
            name=FORMULAS[key],
            enterprise=w.enterprise,
            park=w.park,
            responsible_unit=w.unit,
            responsible_leader=w.leader,
            construction_content=FORMULAS["plus"],
        )
        w.projects.append(project)
        AnnualPlanFactory(project=project, year=w.year, planned_investment=Decimal("1000.00"))
        MonthlyProgressFactory(
            project=project,
            year=w.year,
            month=3,
            physical_progress=FORMULAS["hyperlink"],
            problems=FORMULAS["at"],
        )
        ApprovalMilestoneFactory(
            project=project,
            status=MilestoneStatus.IN_PROGRESS,
            planned_date=datetime.date(w.year, 2, 1),
            document_number=FORMULAS["minus"],
            note=FORMULAS["dde"],
            department=w.unit,
        )
        BatchMembershipFactory(batch=BatchFactory(number=3), project=project)
    office = UserFactory(username="formula_office", roles=[Role.SUPERVISOR])
    handler = UserFactory(username="formula_handler", roles=[Role.UNIT], department=w.unit)
    visit = VisitFactory(enterprise=w.enterprise, visited_on=datetime.date(w.year, 3, 6), unit=w.unit)
    w.ticket = make_ticket(
        user=office,
        enterprise=w.enterprise,
        project=w.projects[0],
        visit=visit,
        title=FORMULAS["plus"],
        description=FORMULAS["hyperlink"],
    )
    ticket_services.ticket_assign(ticket=w.ticket, user=office, unit=w.unit)
    ticket_services.ticket_reply(ticket=_fresh(w.ticket), user=handler, text=FORMULAS["dde"])
    project_services.project_update(
        project=w.projects[0], user=w.admin, data={"construction_content": FORMULAS["dde"]}
    )
    return w


def exports(w: World) -> list[tuple[str, set[str]]]:
    """(address, formula-like texts the workbook must hold as text) for every Excel download."""
    period = f"year={w.year}&month=3"
    names = {FORMULAS[k] for k in ("hyperlink", "plus", "minus", "at")}
    return [
        *[
            (reverse("projects:export") + f"?{period}&group={group}", names)
            for group in ("level", "park", "none")
        ],
        (reverse("projects:milestone_export") + f"?{period}", names),
        (reverse("dashboard_export") + f"?report=bulletin&{period}", names | {w.park.name, w.unit.name}),
        (reverse("dashboard_export") + f"?report=batches&{period}", names),
        # The problem's cell is its title, a line break, then its description.
        (
            reverse("enterprises:ticket_export"),
            {f"{FORMULAS['plus']}\n{FORMULAS['hyperlink']}", w.enterprise.name, w.unit.name, w.park.name},
        ),
        (reverse("enterprises:ticket_summary_export") + f"?kind=week&week={w.year}-03-06", {w.unit.name}),
        (reverse("enterprises:ticket_summary_export") + f"?kind=month&year={w.year}&month=3", {w.unit.name}),
        # The change log: the changed record's name, and the field's old and new values.
        (reverse("change_log_export"), {FORMULAS["hyperlink"], FORMULAS["plus"], FORMULAS["dde"]}),
    ]


def formula_like_cells(content: bytes) -> tuple[list, list]:
    """(text cells starting with = + - @, formula cells) of every sheet, read as Excel reads them."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(content), data_only=False)
    texts, formulas = [], []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formulas.append((sheet.title, cell.coordinate, cell.value))
                elif isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                    texts.append((sheet.title, cell.coordinate, cell.data_type, cell.value))
    return texts, formulas


def test_every_excel_export_writes_formula_like_text_as_text(formula_world, client):
    from tests.excel_helpers import workbook_bytes

    client.force_login(formula_world.admin)
    assert {resolve(urlsplit(url).path).view_name for url, _texts in exports(formula_world)} == EXPORTS
    for url, expected in exports(formula_world):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert response["Content-Type"].startswith("application/vnd.openxmlformats"), url
        texts, formulas = formula_like_cells(workbook_bytes(response))
        for sheet, coordinate, kind, value in texts:
            assert kind == "s", f"{url} {sheet}!{coordinate} {value!r} is not text"
        for sheet, coordinate, formula in formulas:
            assert not any(marker in str(formula) for marker in MARKERS), (
                f"{url} {sheet}!{coordinate} runs user text as a formula: {formula!r}"
            )
        written = {value for _sheet, _coordinate, _kind, value in texts}
        assert expected <= written, f"{url} lacks {expected - written} as text cells"
        assert texts, f"{url} holds none of the formula-like names: the test would prove nothing"
