"""IDOR: a user of unit U2 walks the sequential ids around unit U1's objects — on the pages, the file
downloads, the API and the admin — and never gets any of U1's content.

What is scoped, by the roles (core/roles.py and the permissions modules):

* problem tickets, their timeline, comments, attachments and history: a responsible unit reads only
  those assigned to it (``unit_out`` is U2's handler);
* visit records: not for responsible units at all (the enterprise pages and history leave them out);
* Excel imports and API tokens: each user's own (``staff_out`` is U2's project staff);
* projects, plans, monthly reports, milestones, photos and enterprises are read zone-wide by every
  role; what is scoped is changing them, so U2's staff walk U1's ids on every write and change nothing.

Every U1 object carries a text with 机密 ("secret") that no response to the U2 user may contain.
The pages answer 403 for an object out of scope; the API answers 404, as for an id that does not
exist; the admin says an object outside the user's list "does not exist" (a redirect to its index).
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core import imports
from core.api.tokens import create_token
from core.models import ApiToken, ImportRecord
from problems import services as ticket_services
from projects import services as project_services
from projects.choices import ProgressStatus
from projects.models import AnnualPlan, ApprovalMilestone, MonthlyProgress, ProgressPhoto, Project
from tests.factories import (
    AnnualPlanFactory,
    ApprovalMilestoneFactory,
    EnterpriseFactory,
    MonthlyProgressFactory,
    ProjectFactory,
    VisitFactory,
    make_ticket,
)

from .test_web_matrix import enterprise_list, jpeg

pytestmark = pytest.mark.django_db

SECRET = "机密"  # in every text of unit U1's objects, and in none of unit U2's
ADMIN_MISSING = "missing"  # the admin's "does not exist": a redirect to its index


def pdf(text: str) -> SimpleUploadedFile:
    """A file whose content says ``text``: a download that leaks shows it."""
    return SimpleUploadedFile(
        "附件.pdf", f"%PDF-1.4\n% {text}\n%%EOF\n".encode(), content_type="application/pdf"
    )


def body_of(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":  # a workbook: its cells
        book = openpyxl.load_workbook(io.BytesIO(content))
        return "\n".join(
            str(value)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        )
    return content.decode("utf-8", "replace")


def outcome(response):
    if response.status_code == 302 and response["Location"].startswith(reverse("admin:index")):
        return ADMIN_MISSING
    return response.status_code


class Scene:
    """Units U1 and U2 side by side, their objects' ids interleaved so a walk crosses both."""

    def __init__(self, people, units):
        self.people, self.units = people, units
        for user in people.values():  # the admin's door is open to everyone: roles decide
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        office, collector = people["supervisor"], people["staff_in"]
        self.enterprise = EnterpriseFactory(name="周口益海粮油有限公司")
        self.u1_tickets, self.u2_tickets = [], []
        self.u1_files, self.u2_files = [], []
        for i in range(3):
            mine = make_ticket(
                user=collector,
                enterprise=self.enterprise,
                title=f"经发局机密问题{i}",
                description=f"机密说明{i}",
            )
            ticket_services.ticket_assign(ticket=mine, user=office, unit=units.U1)
            ticket_services.ticket_comment(ticket=mine, user=people["unit_in"], text=f"机密批注{i}")
            self.u1_files.append(
                ticket_services.attachment_add(
                    ticket=mine, user=people["unit_in"], upload=pdf(f"机密附件{i}")
                )
            )
            self.u1_tickets.append(mine)
            theirs = make_ticket(user=collector, enterprise=self.enterprise, title=f"住建局问题{i}")
            ticket_services.ticket_assign(ticket=theirs, user=office, unit=units.U2)
            self.u2_files.append(
                ticket_services.attachment_add(
                    ticket=theirs, user=people["unit_out"], upload=pdf(f"住建局附件{i}")
                )
            )
            self.u2_tickets.append(theirs)
        # Waiting for assignment: no unit's yet.
        self.u1_tickets.append(
            make_ticket(user=collector, enterprise=self.enterprise, title="待交办机密问题")
        )
        # Once U2's, then reassigned to U1 and corrected there: U2 may not read it any more, nor
        # its past versions.
        moved = make_ticket(user=collector, enterprise=self.enterprise, title="改派的机密问题")
        ticket_services.ticket_assign(ticket=moved, user=office, unit=units.U2)
        ticket_services.ticket_reassign(
            ticket=moved, user=office, unit=units.U1, handler=None, reason="职责调整"
        )
        ticket_services.ticket_update(ticket=moved, user=office, data={"description": "改派后补充的机密说明"})
        self.u1_tickets.append(moved)

        self.u1_visit = VisitFactory(enterprise=self.enterprise, unit=units.U1, notes="经发局走访机密记录")
        self.u2_visit = VisitFactory(enterprise=self.enterprise, unit=units.U2, notes="住建局走访记录")

        self.u1_imports = [self.upload(people["staff_in"], f"经发局机密名录{i}.xlsx") for i in range(2)]
        self.u2_imports = [self.upload(people["staff_out"], "住建局名录.xlsx")]
        self.u1_imports.append(self.upload(people["staff_in"], "经发局机密名录2.xlsx"))
        self.u1_token = create_token(people["staff_in"], name="经发局机密令牌", days=30)[0]
        self.u2_token = create_token(people["staff_out"], name="住建局令牌", days=30)[0]

    def upload(self, user, file_name) -> ImportRecord:
        data = enterprise_list(f"周口{file_name[:3]}企业{ImportRecord.objects.count()}有限公司")
        result = imports.preview("enterprises", data, user=user)
        return imports.save_preview("enterprises", data, file_name=file_name, user=user, result=result)


@pytest.fixture
def scene(people, units):
    return Scene(people, units)


def walk(ids_of_u1, ids_of_u2) -> list[int]:
    """Every id from just below the lowest to just above the highest of both units'."""
    ids = [*ids_of_u1, *ids_of_u2]
    return list(range(min(ids) - 1, max(ids) + 2))


def visit(client, urls: dict, ids: list[int], method: str = "get", data=None) -> tuple[dict, list[str]]:
    """``urls``: kind → id → address. The outcome of each, and every body, to search for secrets."""
    got, bodies = {}, []
    for kind, address in urls.items():
        for pk in ids:
            response = (
                getattr(client, method)(address(pk), data) if data else getattr(client, method)(address(pk))
            )
            got[kind, pk] = outcome(response)
            bodies.append(body_of(response))
    return got, bodies


def assert_no_secret(bodies: list[str]) -> None:
    leaks = [
        body[max(0, body.find(SECRET) - 80) : body.find(SECRET) + 40] for body in bodies if SECRET in body
    ]
    assert leaks == []


# --- Problem tickets --------------------------------------------------------------------------------


def test_another_units_tickets_their_files_and_history_are_not_readable(scene, web_as, api_as):
    u1 = [t.pk for t in scene.u1_tickets]
    u2 = [t.pk for t in scene.u2_tickets]
    ids = walk(u1, u2)
    assert set(u1) & set(ids) and set(u2) & set(ids)

    web = {
        "page": lambda pk: reverse("enterprises:ticket_detail", args=[pk]),
        "edit": lambda pk: reverse("enterprises:ticket_edit", args=[pk]),
        "history": lambda pk: reverse("enterprises:ticket_history", args=[pk]),
    }
    api = {
        "api": lambda pk: f"/api/tickets/{pk}/",
        "api events": lambda pk: f"/api/tickets/{pk}/events/",
        "api files": lambda pk: f"/api/tickets/{pk}/attachments/",
        "api history": lambda pk: f"/api/tickets/{pk}/history/",
    }
    admin = {
        "admin": lambda pk: reverse("admin:problems_problemticket_change", args=[pk]),
        "admin history": lambda pk: reverse("admin:problems_problemticket_history", args=[pk]),
    }
    got, bodies = visit(web_as("unit_out"), web, ids)
    api_got, api_bodies = visit(api_as("unit_out"), api, ids)
    admin_got, admin_bodies = visit(web_as("unit_out"), admin, ids)

    def expected(kind, pk):
        if kind == "edit":  # a unit never edits a ticket's details; another unit's is not even opened
            return 403 if pk in u1 or pk in u2 else 404
        if kind.startswith("api"):
            return 200 if pk in u2 else 404
        if kind == "admin":
            return 200 if pk in u2 else ADMIN_MISSING
        if kind == "admin history":
            return 200 if pk in u2 else 403 if pk in u1 else 404
        return 200 if pk in u2 else 403 if pk in u1 else 404

    everything = got | api_got | admin_got
    assert everything == {key: expected(*key) for key in everything}
    assert_no_secret(bodies + api_bodies + admin_bodies)

    # Each past version's page in the admin, including those from when the ticket was U2's.
    versions = [h.history_id for t in scene.u1_tickets for h in t.history.all()]
    client = web_as("unit_out")
    pages = {
        pk: client.get(reverse("admin:problems_problemticket_simple_history", args=[t.pk, pk]))
        for t in scene.u1_tickets
        for pk in t.history.values_list("history_id", flat=True)
    }
    assert {pk: r.status_code for pk, r in pages.items()} == dict.fromkeys(versions, 403)
    assert_no_secret([body_of(r) for r in pages.values()])


def test_another_units_attachments_are_not_downloaded(scene, web_as, api_as):
    u1 = [a.pk for a in scene.u1_files]
    u2 = [a.pk for a in scene.u2_files]
    ids = walk(u1, u2)
    got, bodies = visit(
        web_as("unit_out"), {"file": lambda pk: reverse("enterprises:attachment", args=[pk])}, ids
    )
    api_got, api_bodies = visit(
        api_as("unit_out"), {"api file": lambda pk: f"/api/attachments/{pk}/file/"}, ids
    )

    assert got == {("file", pk): 200 if pk in u2 else 403 if pk in u1 else 404 for pk in ids}
    assert api_got == {("api file", pk): 200 if pk in u2 else 404 for pk in ids}
    assert_no_secret(bodies + api_bodies)
    assert all("住建局附件" in b for b, pk in zip(bodies, ids, strict=True) if pk in u2)  # the walk is real


def test_another_units_tickets_are_in_no_list_export_or_figure(scene, web_as, api_as):
    client = web_as("unit_out")
    u1_unit = scene.units.U1.pk
    pages = [
        reverse("enterprises:ticket_list"),
        f"{reverse('enterprises:ticket_list')}?q=问题",
        f"{reverse('enterprises:ticket_list')}?unit={u1_unit}",
        f"{reverse('enterprises:ticket_list')}?status=pending",
        reverse("enterprises:ticket_export"),
        f"{reverse('enterprises:ticket_export')}?unit={u1_unit}",
        reverse("enterprises:stats"),
        f"{reverse('enterprises:ticket_summary_export')}?kind=month",
        reverse("enterprises:detail", args=[scene.enterprise.pk]),
        reverse("enterprises:history", args=[scene.enterprise.pk]),
        reverse("home"),
        reverse("dashboard"),
        reverse("admin:problems_problemticket_changelist"),
        f"{reverse('admin:problems_problemticket_changelist')}?q=问题",
    ]
    responses = {url: client.get(url) for url in pages}
    api = api_as("unit_out")
    api_pages = [
        "/api/tickets/",
        f"/api/tickets/?unit={u1_unit}",
        f"/api/enterprises/{scene.enterprise.pk}/",
        f"/api/enterprises/{scene.enterprise.pk}/history/",
    ]
    responses |= {url: api.get(url) for url in api_pages}

    codes = {url: r.status_code for url, r in responses.items()}
    assert codes == dict.fromkeys(codes, 200)
    assert_no_secret([body_of(r) for r in responses.values()])
    listed = body_of(responses[reverse("enterprises:ticket_list")])
    assert all(t.title in listed for t in scene.u2_tickets)  # their own are there


# --- Visits ------------------------------------------------------------------------------------------


def test_responsible_units_read_no_visit_record(scene, web_as, api_as):
    ids = walk([scene.u1_visit.pk], [scene.u2_visit.pk])
    got, bodies = visit(
        web_as("unit_out"), {"page": lambda pk: reverse("enterprises:visit_detail", args=[pk])}, ids
    )
    api_got, api_bodies = visit(api_as("unit_out"), {"api": lambda pk: f"/api/visits/{pk}/"}, ids)
    admin_got, admin_bodies = visit(
        web_as("unit_out"), {"admin": lambda pk: reverse("admin:problems_visit_change", args=[pk])}, ids
    )
    everything = got | api_got | admin_got
    assert everything == dict.fromkeys(everything, 403)  # their own unit's visit as well
    assert_no_secret(bodies + api_bodies + admin_bodies)


# --- Imports and API tokens ---------------------------------------------------------------------------


def test_another_users_imports_are_not_readable(scene, web_as):
    u1 = [r.pk for r in scene.u1_imports]
    u2 = [r.pk for r in scene.u2_imports]
    ids = walk(u1, u2)
    client = web_as("staff_out")
    got, bodies = visit(
        client,
        {
            "page": lambda pk: reverse("import_detail", args=[pk]),
            "admin": lambda pk: reverse("admin:core_importrecord_change", args=[pk]),
            "admin history": lambda pk: reverse("admin:core_importrecord_history", args=[pk]),
        },
        ids,
    )
    before = list(ImportRecord.objects.order_by("pk").values("pk", "status"))
    confirmed, confirm_bodies = visit(
        client, {"confirm": lambda pk: reverse("import_confirm", args=[pk])}, u1, "post"
    )
    lists = [
        client.get(url) for url in [reverse("import_list"), reverse("admin:core_importrecord_changelist")]
    ]

    def expected(kind, pk):
        if kind == "page":
            return 200 if pk in u2 else 403 if pk in u1 else 404
        return 200 if pk in u2 else ADMIN_MISSING

    assert got == {key: expected(*key) for key in got}
    assert confirmed == dict.fromkeys(confirmed, 403)
    assert list(ImportRecord.objects.order_by("pk").values("pk", "status")) == before
    assert [r.status_code for r in lists] == [200, 200]
    assert_no_secret(bodies + confirm_bodies + [body_of(r) for r in lists])
    assert "住建局名录.xlsx" in body_of(lists[0])  # their own


def test_another_users_api_tokens_are_not_seen_or_revoked(scene, web_as, api_as):
    client, api = web_as("staff_out"), api_as("staff_out")
    key = scene.u1_token.token_key
    responses = [
        client.get(reverse("api_tokens")),
        client.post(reverse("api_token_revoke", args=[key])),
        api.get("/api/tokens/"),
        api.delete(f"/api/tokens/{key}/"),
        client.get(reverse("admin:core_apitoken_changelist")),
        client.get(reverse("admin:core_apitoken_change", args=[scene.u1_token.pk])),
        client.post(reverse("admin:core_apitoken_delete", args=[scene.u1_token.pk]), {"post": "yes"}),
    ]
    assert [outcome(r) for r in responses] == [200, 404, 200, 404, 200, ADMIN_MISSING, 403]
    assert ApiToken.objects.filter(pk=scene.u1_token.pk).exists()
    assert_no_secret([body_of(r) for r in responses])
    assert "住建局令牌" in body_of(responses[0]) and "住建局令牌" in body_of(responses[2])  # their own


# --- Projects and their records: read zone-wide, changed in scope only ----------------------------------


def test_another_units_project_records_are_not_changed_by_walking_ids(people, units, web_as, api_as):
    """U2's staff walk the ids of U1's projects, reports, photos, procedures and plans on every write
    of the pages and the API: refused, and not one of U1's rows moves."""
    admin_user = people["admin"]
    u1_projects, u2_projects = [], []
    for i in range(2):
        u1_projects.append(ProjectFactory(name=f"经发局项目{i}", responsible_unit=units.U1))
        u2_projects.append(ProjectFactory(name=f"住建局项目{i}", responsible_unit=units.U2))

    def records(project):
        report = MonthlyProgressFactory(project=project, year=2023, month=6, status=ProgressStatus.DRAFT)
        photo = project_services.photo_add(report=report, user=admin_user, upload=jpeg())
        return report, photo, ApprovalMilestoneFactory(project=project), AnnualPlanFactory(project=project)

    u1_records = [records(p) for p in u1_projects]

    def state():
        return [
            list(model.objects.filter(**{path: units.U1}).order_by("pk").values())
            for model, path in [
                (Project, "responsible_unit"),
                (MonthlyProgress, "project__responsible_unit"),
                (ProgressPhoto, "report__project__responsible_unit"),
                (ApprovalMilestone, "project__responsible_unit"),
                (AnnualPlan, "project__responsible_unit"),
            ]
        ]

    before = state()
    client, api = web_as("staff_out"), api_as("staff_out")
    # Their own projects, in between, they may change: the walk skips those.
    projects = [pk for pk in walk([p.pk for p in u1_projects], []) if pk not in {p.pk for p in u2_projects}]
    reports = walk([r[0].pk for r in u1_records], [])
    photos = walk([r[1].pk for r in u1_records], [])
    milestones = walk([r[2].pk for r in u1_records], [])
    plans = walk([r[3].pk for r in u1_records], [])
    u1_ids = {
        "project": {p.pk for p in u1_projects},
        "report": {r[0].pk for r in u1_records},
        "photo": {r[1].pk for r in u1_records},
        "milestone": {r[2].pk for r in u1_records},
        "plan": {r[3].pk for r in u1_records},
    }
    got = {}
    tries = [
        ("project", projects, lambda pk: client.post(reverse("projects:edit", args=[pk]), {"name": "改"})),
        ("project", projects, lambda pk: client.post(reverse("projects:stage", args=[pk]), {"stage": 9})),
        ("project", projects, lambda pk: client.post(reverse("projects:milestone_create", args=[pk]), {})),
        (
            "project",
            projects,
            lambda pk: client.post(
                reverse("projects:progress", args=[pk, 2023, 6]), {"completed_investment": "1"}
            ),
        ),
        (
            "report",
            reports,
            lambda pk: client.post(reverse("projects:photo_upload", args=[pk]), {"image": jpeg()}),
        ),
        (
            "report",
            reports,
            lambda pk: client.post(reverse("projects:progress_review", args=[pk]), {"action": "submit"}),
        ),
        ("photo", photos, lambda pk: client.post(reverse("projects:photo_delete", args=[pk]))),
        ("milestone", milestones, lambda pk: client.post(reverse("projects:milestone_edit", args=[pk]), {})),
        ("project", projects, lambda pk: api.patch(f"/api/projects/{pk}/", {"name": "改"}, format="json")),
        ("project", projects, lambda pk: api.post(f"/api/projects/{pk}/stage/", {"stage": 9}, format="json")),
        ("report", reports, lambda pk: api.patch(f"/api/progress/{pk}/", {"problems": "改"}, format="json")),
        ("report", reports, lambda pk: api.post(f"/api/progress/{pk}/submit/", {}, format="json")),
        (
            "milestone",
            milestones,
            lambda pk: api.patch(f"/api/milestones/{pk}/", {"note": "改"}, format="json"),
        ),
        ("plan", plans, lambda pk: api.patch(f"/api/annual-plans/{pk}/", {"goals": "改"}, format="json")),
        ("plan", plans, lambda pk: api.delete(f"/api/annual-plans/{pk}/")),
    ]
    for number, (kind, ids, send) in enumerate(tries):
        for pk in ids:
            got[number, kind, pk] = send(pk).status_code
    assert got == {(n, kind, pk): 403 if pk in u1_ids[kind] else 404 for n, kind, pk in got}
    assert state() == before
