"""CSRF: every form post of the site is refused without the form's token (403, nothing changed) and
accepted with it; the API enforces it for session logins and not for token clients.

The URL resolver is walked, so a new view that accepts POST fails here until it is listed in FORMS.
"""

from __future__ import annotations

import datetime
import inspect
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import openpyxl
import pytest
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from PIL import Image

from core import imports
from core.api.tokens import create_token
from core.models import ApiToken, ImportRecord, Job
from enterprises.choices import EnterpriseImportKind
from problems.models import ProblemTicket, TicketEvent, Visit
from projects import selectors
from projects import services as project_services
from projects.choices import MilestoneKind, MilestoneStatus, ProgressStatus, ProjectJobKind, Stage
from projects.models import (
    ApprovalMilestone,
    MonthlyProgress,
    MonthPublication,
    ProgressPhoto,
    Project,
    ProjectComment,
)
from reference.models import Department
from tests.factories import (
    AnnualPlanFactory,
    ApprovalMilestoneFactory,
    DepartmentFactory,
    EnterpriseFactory,
    IndustryFactory,
    MonthlyProgressFactory,
    ParkFactory,
    ProjectFactory,
    VisitFactory,
    make_ticket,
)
from tests.html_forms import form_data
from zone_portal.api_urls import router

PASSWORD = "test-pass-123"  # the factories' password
OUR_APPS = ("core", "reference", "enterprises", "projects", "problems")


def snapshot() -> dict:
    """Every row of every table of the portal (history tables included), to compare before/after."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values())
        for app in OUR_APPS
        for model in apps.get_app_config(app).get_models()
    }


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(buffer, "PNG")
    return buffer.getvalue()


def _enterprise_list(park, industry) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["企业名录"])
    sheet.append(["序号", "企业名称", "所属园区", "所属产业"])
    sheet.append([1, "周口防伪测试有限公司", park.name, industry.name])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


class World:
    pass


@pytest.fixture
def w(db, superuser):
    world = World()
    world.admin = superuser
    world.current = selectors.current_month()
    last = datetime.date(world.current.year, world.current.month, 1) - datetime.timedelta(days=1)
    world.last = (last.year, last.month)
    world.unit = DepartmentFactory(name="经济发展局")
    world.park = ParkFactory(name="健康食品产业园")
    world.industry = IndustryFactory(name="食品加工")
    world.enterprise = EnterpriseFactory(
        name="周口示范食品有限公司", park=world.park, industry=world.industry
    )
    world.project = ProjectFactory(
        name="示范项目", enterprise=world.enterprise, responsible_unit=world.unit, stage=Stage.STARTED
    )
    world.grid_project = ProjectFactory(name="表格项目", responsible_unit=world.unit)
    AnnualPlanFactory(project=world.project, year=world.current.year)
    world.queued = MonthlyProgressFactory(
        project=world.project, year=last.year, month=last.month, status=ProgressStatus.SUBMITTED
    )
    older = datetime.date(last.year, last.month, 1) - datetime.timedelta(days=1)
    world.single = MonthlyProgressFactory(
        project=world.grid_project, year=older.year, month=older.month, status=ProgressStatus.SUBMITTED
    )
    world.draft = MonthlyProgressFactory(
        project=world.project, year=older.year, month=older.month, status=ProgressStatus.DRAFT
    )
    world.photo = project_services.photo_add(
        report=world.draft,
        user=world.admin,
        upload=SimpleUploadedFile("p.png", _png(), content_type="image/png"),
        caption="待删照片",
    )
    world.milestone = ApprovalMilestoneFactory(
        project=world.project, kind=MilestoneKind.LAND_TITLE, status=MilestoneStatus.NOT_STARTED
    )
    world.visit = VisitFactory(enterprise=world.enterprise, unit=world.unit)
    world.ticket = make_ticket(user=world.admin, enterprise=world.enterprise, visit=world.visit)
    _instance, world.token_secret = create_token(world.admin, name="待吊销", days=30)
    world.token = ApiToken.objects.get(name="待吊销")
    data = _enterprise_list(world.park, world.industry)
    result = imports.preview(EnterpriseImportKind.ENTERPRISES, data, user=world.admin)
    assert not result.errors, result.errors
    world.record = imports.save_preview(
        EnterpriseImportKind.ENTERPRISES, data, file_name="名录.xlsx", user=world.admin, result=result
    )
    world.failed_job = Job.objects.create(
        owner=world.admin, kind=ProjectJobKind.PROJECT_LEDGER_EXPORT, status=Job.Status.FAILED, error="断电"
    )
    return world


@dataclass
class Form:
    """One form post: the page that renders the form, where it posts, how a user fills it, and how
    to tell that it took effect."""

    name: str  # the URL name the form posts to
    page: Callable[[World], str]
    action: Callable[[World], str]
    done: Callable[[World, Client], bool]
    fill: Callable[[dict, World], None] = lambda data, w: None
    form_id: str | None = None
    anonymous: bool = False
    extra: dict = field(default_factory=dict)


def _set(**values):
    def fill(data, w):
        data.update({key: value(w) if callable(value) else value for key, value in values.items()})

    return fill


def _progress_url(report):
    return reverse("projects:progress", args=[report.project_id, report.year, report.month])


FORMS = [
    Form(
        "login",
        anonymous=True,
        page=lambda w: reverse("login"),
        action=lambda w: reverse("login"),
        fill=_set(username="root", password=PASSWORD),
        done=lambda w, client: "_auth_user_id" in client.session,
    ),
    Form(
        "logout",
        page=lambda w: reverse("home"),
        action=lambda w: reverse("logout"),
        done=lambda w, client: "_auth_user_id" not in client.session,
    ),
    Form(
        "set_language",
        page=lambda w: reverse("home"),
        action=lambda w: reverse("set_language"),
        fill=_set(language="en", next="/"),
        done=lambda w, client: (
            client.cookies.get("django_language") is not None
            and client.cookies["django_language"].value == "en"
        ),
    ),
    Form(
        "password_change",
        page=lambda w: reverse("password_change"),
        action=lambda w: reverse("password_change"),
        fill=_set(
            old_password=PASSWORD, new_password1="Zhoukou-2024-kaifaqu", new_password2="Zhoukou-2024-kaifaqu"
        ),
        done=lambda w, client: w.admin.__class__.objects.get(pk=w.admin.pk).check_password(
            "Zhoukou-2024-kaifaqu"
        ),
    ),
    Form(
        "display_settings",
        page=lambda w: reverse("display_settings"),
        action=lambda w: reverse("display_settings"),
        form_id="display-settings",
        fill=_set(text_size="larger"),
        done=lambda w, client: w.admin.__class__.objects.get(pk=w.admin.pk).text_size == "larger",
    ),
    Form(
        "api_tokens",
        page=lambda w: reverse("api_tokens"),
        action=lambda w: reverse("api_tokens"),
        form_id="token-form",
        fill=_set(name="省平台同步", days="30"),
        done=lambda w, client: ApiToken.objects.filter(name="省平台同步").exists(),
    ),
    Form(
        "api_token_revoke",
        page=lambda w: reverse("api_tokens"),
        action=lambda w: reverse("api_token_revoke", args=[w.token.token_key]),
        done=lambda w, client: not ApiToken.objects.filter(pk=w.token.pk).exists(),
    ),
    Form(
        "import_upload",
        page=lambda w: reverse("import_upload", args=[EnterpriseImportKind.ENTERPRISES]),
        action=lambda w: reverse("import_upload", args=[EnterpriseImportKind.ENTERPRISES]),
        form_id="import-form",
        fill=_set(file=lambda w: SimpleUploadedFile("新名录.xlsx", _enterprise_list(w.park, w.industry))),
        done=lambda w, client: ImportRecord.objects.filter(file_name="新名录.xlsx").exists(),
    ),
    Form(
        "import_confirm",
        page=lambda w: reverse("import_detail", args=[w.record.pk]),
        action=lambda w: reverse("import_confirm", args=[w.record.pk]),
        form_id="confirm-form",
        done=lambda w, client: ImportRecord.objects.get(pk=w.record.pk).status == ImportRecord.Status.APPLIED,
    ),
    Form(
        "job_rerun",
        page=lambda w: reverse("job_detail", args=[w.failed_job.pk]),
        action=lambda w: reverse("job_rerun", args=[w.failed_job.pk]),
        form_id="job-rerun",
        done=lambda w, client: Job.objects.filter(owner=w.admin, status=Job.Status.QUEUED).exists(),
    ),
    Form(
        "projects:create",
        page=lambda w: reverse("projects:create"),
        action=lambda w: reverse("projects:create"),
        fill=_set(name="新建防伪项目", total_investment="500", stage=str(Stage.PLANNING)),
        done=lambda w, client: Project.objects.filter(name="新建防伪项目").exists(),
    ),
    Form(
        "projects:edit",
        page=lambda w: reverse("projects:edit", args=[w.project.pk]),
        action=lambda w: reverse("projects:edit", args=[w.project.pk]),
        fill=_set(name="改名后的项目"),
        done=lambda w, client: Project.objects.get(pk=w.project.pk).name == "改名后的项目",
    ),
    Form(
        "projects:stage",
        page=lambda w: reverse("projects:stage", args=[w.project.pk]),
        action=lambda w: reverse("projects:stage", args=[w.project.pk]),
        fill=_set(stage=str(Stage.UNDER_CONSTRUCTION)),
        done=lambda w, client: Project.objects.get(pk=w.project.pk).stage == Stage.UNDER_CONSTRUCTION,
    ),
    Form(
        "projects:comment",
        page=lambda w: reverse("projects:detail", args=[w.project.pk]),
        action=lambda w: reverse("projects:comment", args=[w.project.pk]),
        fill=_set(text="请加快进度"),
        done=lambda w, client: ProjectComment.objects.filter(text="请加快进度").exists(),
    ),
    Form(
        "projects:milestone_create",
        page=lambda w: reverse("projects:milestone_create", args=[w.project.pk]),
        action=lambda w: reverse("projects:milestone_create", args=[w.project.pk]),
        fill=_set(kind=MilestoneKind.ENERGY, status=MilestoneStatus.IN_PROGRESS, note="节能审查"),
        done=lambda w, client: ApprovalMilestone.objects.filter(note="节能审查").exists(),
    ),
    Form(
        "projects:milestone_edit",
        page=lambda w: reverse("projects:milestone_edit", args=[w.milestone.pk]),
        action=lambda w: reverse("projects:milestone_edit", args=[w.milestone.pk]),
        fill=_set(note="已受理"),
        done=lambda w, client: ApprovalMilestone.objects.get(pk=w.milestone.pk).note == "已受理",
    ),
    Form(
        "projects:progress",
        page=lambda w: _progress_url(w.draft),
        action=lambda w: _progress_url(w.draft),
        form_id="progress-form",
        fill=_set(completed_investment="321.00"),
        done=lambda w, client: (
            MonthlyProgress.objects.get(pk=w.draft.pk).completed_investment == Decimal("321.00")
        ),
    ),
    Form(
        "projects:grid",
        page=lambda w: reverse("projects:grid"),
        action=lambda w: reverse("projects:grid") + f"?year={w.current.year}&month={w.current.month}",
        form_id="progress-grid",
        fill=lambda data, w: data.update({f"p{w.grid_project.pk}-completed_investment": "88"}),
        done=lambda w, client: MonthlyProgress.objects.filter(
            project=w.grid_project, year=w.current.year, month=w.current.month
        ).exists(),
    ),
    Form(
        "projects:review",
        page=lambda w: reverse("projects:review"),
        action=lambda w: reverse("projects:review"),
        form_id="review-form",
        fill=_set(report=lambda w: str(w.queued.pk), approve="1"),
        done=lambda w, client: MonthlyProgress.objects.get(pk=w.queued.pk).status == ProgressStatus.APPROVED,
    ),
    Form(
        "projects:months",
        page=lambda w: reverse("projects:months") + "?year=2020",
        action=lambda w: reverse("projects:months"),
        form_id="publish-12",
        done=lambda w, client: MonthPublication.objects.filter(
            year=2020, month=12, is_published=True
        ).exists(),
    ),
    Form(
        "projects:progress_review",
        page=lambda w: _progress_url(w.single),
        action=lambda w: reverse("projects:progress_review", args=[w.single.pk]),
        fill=_set(action="approve"),
        done=lambda w, client: MonthlyProgress.objects.get(pk=w.single.pk).status == ProgressStatus.APPROVED,
    ),
    Form(
        "projects:photo_upload",
        page=lambda w: _progress_url(w.draft),
        action=lambda w: reverse("projects:photo_upload", args=[w.draft.pk]),
        form_id="photo-form",
        fill=_set(image=lambda w: SimpleUploadedFile("new.png", _png()), caption="新照片"),
        done=lambda w, client: ProgressPhoto.objects.filter(caption="新照片").exists(),
    ),
    Form(
        "projects:photo_delete",
        page=lambda w: _progress_url(w.draft),
        action=lambda w: reverse("projects:photo_delete", args=[w.photo.pk]),
        done=lambda w, client: not ProgressPhoto.objects.filter(pk=w.photo.pk).exists(),
    ),
    Form(
        "enterprises:visit_create",
        page=lambda w: reverse("enterprises:visit_create") + f"?enterprise={w.enterprise.pk}",
        action=lambda w: reverse("enterprises:visit_create"),
        form_id="visit-form",
        fill=_set(notes="走访座谈"),
        done=lambda w, client: Visit.objects.filter(notes="走访座谈").exists(),
    ),
    Form(
        "enterprises:ticket_create",
        page=lambda w: reverse("enterprises:ticket_create") + f"?enterprise={w.enterprise.pk}",
        action=lambda w: reverse("enterprises:ticket_create") + f"?enterprise={w.enterprise.pk}",
        form_id="ticket-form",
        fill=_set(title="用电增容", category="land", unit=""),
        done=lambda w, client: ProblemTicket.objects.filter(title="用电增容").exists(),
    ),
    Form(
        "enterprises:ticket_edit",
        page=lambda w: reverse("enterprises:ticket_edit", args=[w.ticket.pk]),
        action=lambda w: reverse("enterprises:ticket_edit", args=[w.ticket.pk]),
        form_id="ticket-form",
        fill=_set(title="用地手续（已核实）"),
        done=lambda w, client: ProblemTicket.objects.get(pk=w.ticket.pk).title == "用地手续（已核实）",
    ),
    Form(
        "enterprises:ticket_action",
        page=lambda w: reverse("enterprises:ticket_detail", args=[w.ticket.pk]),
        action=lambda w: reverse("enterprises:ticket_action", args=[w.ticket.pk, "comment"]),
        form_id="form-comment",
        fill=_set(**{"comment-text": "请尽快办理"}),
        done=lambda w, client: TicketEvent.objects.filter(text="请尽快办理").exists(),
    ),
    Form(
        "enterprises:ticket_action",
        page=lambda w: reverse("enterprises:ticket_detail", args=[w.ticket.pk]),
        action=lambda w: reverse("enterprises:ticket_action", args=[w.ticket.pk, "assign"]),
        form_id="form-assign",
        fill=_set(**{"assign-unit": lambda w: str(w.unit.pk)}),
        done=lambda w, client: ProblemTicket.objects.get(pk=w.ticket.pk).unit_id == w.unit.pk,
    ),
]


def _walk(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or None
            if namespace and inner:
                inner = f"{namespace}:{inner}"
            yield from _walk(pattern.url_patterns, inner or namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            # Unnamed patterns (the admin's redirects) are known by their namespace alone.
            yield str(pattern.pattern), name or f"{namespace}:" if namespace else name, pattern.callback


UNSAFE = ("post", "put", "patch", "delete")


def accepts_post(callback) -> bool:
    """Whether a view takes a form post: class views by their methods, functions by their source."""
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is not None:
        actions = getattr(callback, "actions", None)  # a DRF viewset's routed methods
        methods = actions.keys() if actions is not None else [m for m in UNSAFE if hasattr(view_class, m)]
        return any(method in UNSAFE for method in methods)
    source = inspect.getsource(inspect.unwrap(callback))
    return any(word in source for word in ("request.POST", "require_POST", '"POST"'))


def site_views():
    """(route, URL name, view) of every page outside the admin and the API (the admin's old
    addresses, admin_moved_to_*, are the admin's too: they only redirect into it)."""
    for route, name, callback in _walk(get_resolver().url_patterns):
        if not (name or "").startswith(("admin:", "admin_moved_to_", "api:")):
            yield route, name, callback


def test_every_view_that_takes_a_post_is_covered_and_none_is_exempt():
    posting = {name for _route, name, callback in site_views() if accepts_post(callback)}
    assert posting == {form.name for form in FORMS}, (
        f"views that take a post but are not tested here: {posting - {f.name for f in FORMS}}; "
        f"listed but taking no post: {({f.name for f in FORMS}) - posting}"
    )
    for route, name, callback in _walk(get_resolver().url_patterns):
        if name and name.startswith("api:"):
            continue  # DRF exempts its views from the middleware and checks in SessionAuthentication
        assert not getattr(callback, "csrf_exempt", False), f"{name or route} is exempt from CSRF checks"


@pytest.mark.parametrize("form", FORMS, ids=lambda form: f"{form.name}-{FORMS.index(form)}")
def test_a_form_post_without_the_token_is_refused_and_with_it_accepted(w, form):
    client = Client(enforce_csrf_checks=True)
    if not form.anonymous:
        client.force_login(w.admin)
    page = client.get(form.page(w))
    assert page.status_code == 200, (form.name, page.status_code)
    rendered = form_data(page.content.decode(), form.form_id)
    token = rendered.pop("csrfmiddlewaretoken", None)
    assert token, f"{form.name}: the form carries no CSRF token"
    token = token[0] if isinstance(token, list) else token

    def filled() -> dict:
        data = dict(rendered)
        form.fill(data, w)
        return data

    before = snapshot()
    refused = client.post(form.action(w), filled())
    assert refused.status_code == 403, (form.name, refused.status_code)
    assert "CSRF" in refused.content.decode()
    assert snapshot() == before, f"{form.name} changed data without a CSRF token"
    assert not form.done(w, client)

    accepted = client.post(form.action(w), {**filled(), "csrfmiddlewaretoken": token})
    assert accepted.status_code in (200, 302), (form.name, accepted.status_code)
    assert form.done(w, client), f"{form.name}: the post with its token did not take effect"


def test_a_token_from_another_session_is_refused(w):
    """The token is bound to the browser's own cookie: one copied from another session is useless."""
    victim = Client(enforce_csrf_checks=True)
    victim.force_login(w.admin)
    victim.get(reverse("home"))
    attacker = Client(enforce_csrf_checks=True)
    attacker.force_login(w.admin)
    html = attacker.get(reverse("projects:detail", args=[w.project.pk])).content.decode()
    stolen = form_data(html)["csrfmiddlewaretoken"]
    stolen = stolen[0] if isinstance(stolen, list) else stolen
    victim.cookies.pop("csrftoken", None)
    response = victim.post(
        reverse("projects:comment", args=[w.project.pk]), {"text": "伪造", "csrfmiddlewaretoken": stolen}
    )
    assert response.status_code == 403
    assert not ProjectComment.objects.filter(text="伪造").exists()


# --- The admin ---------------------------------------------------------------------------------


def test_admin_forms_need_the_token(w):
    client = Client(enforce_csrf_checks=True)
    client.force_login(w.admin)
    before = snapshot()
    for model in admin.site._registry:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        response = client.post(reverse(f"{name}_add"), {"name": "伪造记录"})
        assert response.status_code == 403 and b"CSRF" in response.content, (name, response.status_code)
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            response = client.post(reverse(f"{name}_delete", args=[obj.pk]), {"post": "yes"})
            assert response.status_code == 403 and b"CSRF" in response.content, (name, "delete")
    assert snapshot() == before

    html = client.get(reverse("admin:reference_department_add")).content.decode()
    data = form_data(html, "department_form")
    data.update(name="招商局")
    response = client.post(reverse("admin:reference_department_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Department.objects.filter(name="招商局").exists()


# --- The API -------------------------------------------------------------------------------------


def api_requests(pk: int):
    """(method, URL) of every unsafe request the API's router answers, records addressed by ``pk``."""
    for prefix, viewset, basename in router.registry:
        lookup = getattr(viewset, "lookup_url_kwarg", None) or getattr(viewset, "lookup_field", "pk")
        for route in router.get_routes(viewset):
            mapping = router.get_method_map(viewset, route.mapping)
            name = route.name.format(basename=basename)
            for method in mapping:
                if method not in UNSAFE:
                    continue
                kwargs = {lookup: pk} if route.detail else {}
                yield prefix, method, reverse(f"api:{name}", kwargs=kwargs)


def test_no_unsafe_api_view_lives_outside_the_router():
    """Views outside the router would escape the walk below: they may only read."""
    routed = {viewset for _prefix, viewset, _basename in router.registry}
    for route, name, callback in _walk(get_resolver().url_patterns):
        if not (name or "").startswith("api:"):
            continue
        view_class = getattr(callback, "cls", None)
        if view_class is None or view_class in routed:
            continue
        assert not accepts_post(callback), f"{name} ({route}) takes writes outside the router"


def test_the_api_refuses_session_writes_without_the_token_and_token_clients_need_none(w):
    session = Client(enforce_csrf_checks=True)
    session.force_login(w.admin)
    before = snapshot()
    count = 0
    for prefix, method, url in api_requests(w.project.pk):
        response = getattr(session, method)(url, data="{}", content_type="application/json")
        assert response.status_code == 403, (prefix, method, url, response.status_code)
        assert "CSRF" in response.json()["detail"], (prefix, method, url)
        count += 1
    assert count >= 40  # create, update, delete and the transitions of every resource
    assert snapshot() == before

    # A token client sends no cookie, so there is nothing to forge: no CSRF check (ids that exist
    # nowhere, so nothing changes either).
    scripted = Client(HTTP_AUTHORIZATION=f"Token {w.token_secret}")
    for prefix, method, url in api_requests(999_999):
        response = getattr(scripted, method)(url, data="{}", content_type="application/json")
        assert response.status_code != 403, (prefix, method, url, response.content[:300])
        assert "CSRF" not in response.content.decode(), (prefix, method, url)
    after = snapshot()
    for row in after["core.ApiToken"]:
        row["last_used_at"] = None  # a token's use is noted on it
    for row in before["core.ApiToken"]:
        row["last_used_at"] = None
    assert after == before


def test_the_api_accepts_a_session_write_with_the_token(w):
    session = Client(enforce_csrf_checks=True)
    session.force_login(w.admin)
    session.get(reverse("home"))  # a page with a form sets the CSRF cookie
    token = session.cookies["csrftoken"].value
    url = reverse("api:ticket-comment", args=[w.ticket.pk])
    response = session.post(
        url, {"text": "接口评论"}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code in (200, 201), response.content[:300]
    assert TicketEvent.objects.filter(text="接口评论").exists()
