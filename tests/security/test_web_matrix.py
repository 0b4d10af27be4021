"""The web pages' role matrix: every role tries every page and every write of each model, inside and
outside its scope, and gets exactly what the roles allow.

The people are the API matrix's (tests/api/conftest.py): unit U1 owns the test objects, so
``staff_in`` and ``unit_in`` are inside the scope and ``staff_out`` and ``unit_out`` outside it;
``norole`` is signed in without a role and ``None`` is anonymous (sent to the login page).

Each table below is the policy of one model: action → who may take it. A read answers 200 to the
allowed and 403 to everyone else; a write answers its redirect (302) to the allowed and changes the
database as asked, and answers 403 to everyone else and changes nothing. Out-of-scope reads on the
pages are 403 (with the reason), never the object: tests/security/test_idor.py walks the ids.

Pages that do not exist are not in the tables: plans, batches, enterprise records and reference data
are kept in the admin and the API only (tests/security/test_admin_matrix.py, tests/api/), and
nothing is deleted on the pages but a progress photo.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from core import imports
from core.api.tokens import create_token
from core.models import ApiToken, ImportRecord
from problems import services as ticket_services
from problems.choices import TicketStatus
from problems.models import ProblemTicket, Visit
from projects import services as project_services
from projects.choices import MilestoneKind, MilestoneStatus, ProgressStatus, Stage
from projects.forms import PROJECT_FIELDS
from projects.models import ApprovalMilestone, MonthlyProgress, ProgressPhoto, Project, ProjectComment
from tests.api.conftest import ROLES
from tests.api.matrix import CALLERS
from tests.api.test_tickets_api import build, snapshot
from tests.enterprises.test_import import code, flat_book, flat_row
from tests.factories import (
    ApprovalMilestoneFactory,
    EnterpriseFactory,
    MonthlyProgressFactory,
    ProjectFactory,
    VisitFactory,
)
from tests.html_forms import form_data
from tests.problems.test_ticket_services import png_bytes

pytestmark = pytest.mark.django_db

# --- Who -----------------------------------------------------------------------------------------

EVERYONE = frozenset(ROLES) - {"norole"}  # every role, in its scope or not
SIGNED_IN = frozenset(ROLES)  # pages that need a login but no role
ADMIN = frozenset({"admin"})
EDITORS = frozenset({"admin", "staff_in"})  # of a project of unit U1
CREATORS = frozenset({"admin", "staff_in", "staff_out"})  # project staff create, in any unit
REVIEWERS = frozenset({"admin", "reviewer"})
ZONE_WIDE = frozenset({"admin", "leader", "reviewer", "supervisor", "staff_in", "staff_out"})
COLLECTORS = frozenset({"admin", "supervisor", "staff_in", "staff_out"})  # record visits and problems
OFFICE = frozenset({"admin", "supervisor"})  # the 万人助万企 office
TICKET_READERS = ZONE_WIDE | {"unit_in"}  # of a ticket assigned to U1
IMPORTERS = CREATORS
NOBODY = frozenset()

LOGIN = "login"  # anonymous: redirected to the login page

# --- The policy, one table per model -------------------------------------------------------------

PROJECTS = {
    "list": EVERYONE,
    "excel export": EVERYONE,
    "read": EVERYONE,
    "create form": CREATORS,
    "create": CREATORS,
    "edit form": EDITORS,
    "update": EDITORS,
    "stage form": EDITORS,
    "change stage": EDITORS,
    "comment": EVERYONE,  # a leader's comment is an instruction (批示)
}

PROGRESS = {
    "read a month": EVERYONE,
    "save a draft": EDITORS,
    "save and submit": EDITORS,
    "grid": CREATORS,
    "grid save": EDITORS,  # staff of another unit get their own grid: U1's row is ignored
    "submit": EDITORS,
    "review queue": REVIEWERS,
    "approve": REVIEWERS,
    "return": REVIEWERS,
    "reopen": REVIEWERS,
    "approve from the queue": REVIEWERS,
    "photo": EVERYONE,
    "photo thumbnail": EVERYONE,
    "add a photo": EDITORS,
    "delete a photo": EDITORS,
}

MILESTONES = {
    "list": EVERYONE,
    "excel export": EVERYONE,
    "create form": EDITORS,
    "create": EDITORS,
    "edit form": EDITORS,
    "update": EDITORS,
}

ENTERPRISES = {
    "list": EVERYONE,
    "read": EVERYONE,
}

VISITS = {
    "create form": COLLECTORS,
    "create": COLLECTORS,
    "read": ZONE_WIDE,  # responsible units handle tickets, not visit records
}

# Tickets: the office assigns, closes and grades; the unit it is assigned to (U1) works it; zone
# staff collect and record the enterprise's rating; leaders reassign; every reader comments.
TICKETS = {
    "list": EVERYONE,  # unit_out's list is empty: see test_ticket_lists_show_only_the_scope
    "figures": EVERYONE,
    "excel export": EVERYONE,
    "weekly summary export": EVERYONE,
    "read": TICKET_READERS,
    "create form": COLLECTORS,
    "create": COLLECTORS,
    "edit form (pending)": OFFICE | {"staff_in"},  # staff_in collected it
    "update (pending)": OFFICE | {"staff_in"},
    "update (assigned)": OFFICE,
    "assign": OFFICE,
    "accept": {"admin", "unit_in"},
    "decline": {"admin", "unit_in"},
    "reply": {"admin", "unit_in"},
    "plan": {"admin", "unit_in"},
    "resolve": {"admin", "unit_in"},
    "close": OFFICE,
    "send back": OFFICE,
    "grade": OFFICE,
    "rate": COLLECTORS,
    "escalate": OFFICE,
    "reassign": OFFICE | {"leader"},
    "comment": TICKET_READERS,
    "attach a file": COLLECTORS | {"unit_in"},
    "download a file": TICKET_READERS,
}

IMPORTS = {
    "list": IMPORTERS,  # each their own; administrators everyone's
    "upload form (enterprises)": IMPORTERS,
    "upload form (project ledger)": IMPORTERS,
    "upload": IMPORTERS,
    "read staff_in's": {"admin", "staff_in"},
    "confirm staff_in's": {"staff_in"},  # administrators read it, only its uploader applies it
}

DASHBOARD = {
    "home": SIGNED_IN,
    "dashboard": EVERYONE,  # staff and units see their unit's figures
    "monthly bulletin export": EVERYONE,
    "batches export": EVERYONE,
}

TOKENS = {
    "list": EVERYONE,
    "create": EVERYONE,
    "revoke own": SIGNED_IN,  # a user who lost their role may still revoke their tokens
}


# --- How a row is tried --------------------------------------------------------------------------


@dataclass
class Read:
    url: str


@dataclass
class Write:
    """A write tried by each caller on a fresh target.

    ``prepare(who)`` makes the target, ``send(client, target, who)`` posts, ``done(target, who)`` says
    the caller's change is in the database and ``state(target)`` is what must not move when refused.
    ``answers`` overrides the status for some callers (a refused change that still redirects) and
    ``writers`` who really change it, when that is not the allowed set."""

    prepare: Callable
    send: Callable
    done: Callable
    state: Callable
    answers: dict | None = None
    writers: frozenset | None = None


def outcome(response):
    if response.status_code == 302 and response["Location"].startswith(reverse("login")):
        return LOGIN
    return response.status_code


def run(table: dict, rows: dict, web_as) -> None:
    """Every caller on every row: the status and, for writes, whether the database changed."""
    assert set(rows) == set(table), "every action of the table is tried, and only those"
    got, want = {}, {}
    for action, row in rows.items():
        allowed = table[action]
        for who in CALLERS:
            key = (action, who)
            if isinstance(row, Read):
                got[key] = outcome(web_as(who).get(row.url))
                want[key] = LOGIN if who is None else 200 if who in allowed else 403
                continue
            target = row.prepare(who)
            before = row.state(target)
            status = outcome(row.send(web_as(who), target, who))
            if row.done(target, who):
                effect = "changed"
            else:
                effect = "unchanged" if row.state(target) == before else "changed otherwise"
            got[key] = (status, effect)
            answer = LOGIN if who is None else 302 if who in allowed else 403
            answer = (row.answers or {}).get(who, answer)
            writers = allowed if row.writers is None else row.writers
            want[key] = (answer, "changed" if who in writers else "unchanged")
    assert got == want


def as_posted(instance, fields, **changes) -> dict:
    """A record's values as its form posts them, with ``changes``."""
    data = {}
    for name, value in model_to_dict(instance, fields=fields).items():
        if value is None or value is False:
            continue  # an empty field; an unticked box is not sent
        data[name] = "on" if value is True else value
    return data | changes


def jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, "JPEG")
    return SimpleUploadedFile("现场.jpg", buffer.getvalue(), content_type="image/jpeg")


def png() -> SimpleUploadedFile:
    return SimpleUploadedFile("现场照片.png", png_bytes(), content_type="image/png")


# --- The objects --------------------------------------------------------------------------------

YEAR, MONTH = 2023, 6  # a month that has begun, for every report below


class World:
    """Unit U1's objects, read by every row; fresh ones are made for each write."""

    def __init__(self, units, people):
        self.units, self.people = units, people
        self.enterprise = EnterpriseFactory(name="周口益海粮油有限公司")
        self.project = self.new_project(name="年产10万吨食品加工项目")
        report = MonthlyProgressFactory(
            project=self.project, year=YEAR, month=MONTH, status=ProgressStatus.DRAFT
        )
        self.photo = project_services.photo_add(report=report, user=people["admin"], upload=jpeg())
        self.milestone = ApprovalMilestoneFactory(project=self.project)
        self.visit = VisitFactory(enterprise=self.enterprise, unit=units.U1, notes="座谈")
        self.ticket = build(TicketStatus.ASSIGNED, people, units, enterprise=self.enterprise)
        self.attachment = ticket_services.attachment_add(
            ticket=self.ticket, user=people["unit_in"], upload=png()
        )
        self.import_record = self.previewed_import(people["staff_in"])

    def person(self, who):
        return self.people.get(who)  # None for the anonymous caller

    def new_project(self, **fields) -> Project:
        fields.setdefault("name", "测试项目")
        return ProjectFactory(responsible_unit=self.units.U1, stage=Stage.SIGNED, **fields)

    def report(self, status, **fields) -> MonthlyProgress:
        dates = {} if status != ProgressStatus.DRAFT else {"submitted_at": None, "reviewed_at": None}
        return MonthlyProgressFactory(
            project=self.new_project(), year=YEAR, month=MONTH, status=status, **dates, **fields
        )

    def previewed_import(self, user) -> ImportRecord:
        data = enterprise_list(f"周口新入驻企业{ImportRecord.objects.count()}有限公司")
        result = imports.preview("enterprises", data, user=user)
        assert not result.errors
        return imports.save_preview("enterprises", data, file_name="企业名录.xlsx", user=user, result=result)


def enterprise_list(name: str) -> bytes:
    return flat_book([flat_row(1, name, code(900 + len(name) + ImportRecord.objects.count()))])


@pytest.fixture
def world(units, people):
    return World(units, people)


# --- Projects ------------------------------------------------------------------------------------


def test_projects(world, web_as):
    w, p = world, world.project
    rows = {
        "list": Read(reverse("projects:list")),
        "excel export": Read(reverse("projects:export")),
        "read": Read(reverse("projects:detail", args=[p.pk])),
        "create form": Read(reverse("projects:create")),
        "create": Write(
            prepare=lambda who: f"新建项目-{who}",
            send=lambda client, name, who: client.post(
                reverse("projects:create"),
                as_posted(p, PROJECT_FIELDS, name=name, stage=Stage.PLANNING, stage_changed_on="2024-01-05"),
            ),
            done=lambda name, who: Project.objects.filter(name=name).exists(),
            state=lambda name: Project.objects.count(),
        ),
        "edit form": Read(reverse("projects:edit", args=[p.pk])),
        "update": Write(
            prepare=lambda who: w.new_project(),
            send=lambda client, project, who: client.post(
                reverse("projects:edit", args=[project.pk]),
                as_posted(project, PROJECT_FIELDS, name=f"改名-{who}", version=project.version),
            ),
            done=lambda project, who: Project.objects.get(pk=project.pk).name == f"改名-{who}",
            state=lambda project: Project.objects.filter(pk=project.pk).values().get(),
        ),
        "stage form": Read(reverse("projects:stage", args=[p.pk])),
        "change stage": Write(
            prepare=lambda who: w.new_project(),
            send=lambda client, project, who: client.post(
                reverse("projects:stage", args=[project.pk]),
                {"stage": Stage.LANDED, "changed_on": "2024-02-01", "version": project.version},
            ),
            done=lambda project, who: (
                Project.objects.get(pk=project.pk).stage == Stage.LANDED
                and project.stage_changes.get().changed_by == w.person(who)
            ),
            state=lambda project: (Project.objects.get(pk=project.pk).stage, project.stage_changes.count()),
        ),
        "comment": Write(
            prepare=lambda who: w.new_project(),
            send=lambda client, project, who: client.post(
                reverse("projects:comment", args=[project.pk]), {"text": f"请加快进度-{who}"}
            ),
            done=lambda project, who: ProjectComment.objects.filter(
                project=project, author=w.person(who), text=f"请加快进度-{who}"
            ).exists(),
            state=lambda project: project.comments.count(),
        ),
    }
    run(PROJECTS, rows, web_as)


# --- Monthly progress and photos -------------------------------------------------------------------


def progress_url(project) -> str:
    return reverse("projects:progress", args=[project.pk, YEAR, MONTH])


def report_of(project):
    return MonthlyProgress.objects.filter(project=project, year=YEAR, month=MONTH).first()


def report_state(report):
    fresh = MonthlyProgress.objects.get(pk=report.pk)
    return (fresh.status, fresh.completed_investment, fresh.version, fresh.photos.count())


def grid_post(client, project, who):
    """The grid as the caller's browser posts it: every row it shows, with U1's project's figure."""
    url = f"{reverse('projects:grid')}?year={YEAR}&month={MONTH}"
    page = client.get(url)
    data = {}
    if page.status_code == 200:
        data = form_data(page.content.decode(), "progress-grid")
    prefix = f"p{project.pk}"
    data |= {f"{prefix}-project": project.pk, f"{prefix}-completed_investment": "321.00"}
    return client.post(url, data)


def review(action, reason=""):
    def send(client, report, who):
        return client.post(
            reverse("projects:progress_review", args=[report.pk]), {"action": action, "reason": reason}
        )

    return send


def status_is(status):
    return lambda report, who: MonthlyProgress.objects.get(pk=report.pk).status == status


def test_monthly_progress_and_photos(world, web_as):
    w = world
    rows = {
        "read a month": Read(progress_url(w.project)),
        "save a draft": Write(
            prepare=lambda who: w.new_project(),
            send=lambda client, project, who: client.post(
                progress_url(project), {"completed_investment": "123.45", "physical_progress": "主体施工"}
            ),
            done=lambda project, who: (
                (r := report_of(project)) is not None
                and (r.status, r.completed_investment) == (ProgressStatus.DRAFT, Decimal("123.45"))
            ),
            state=lambda project: MonthlyProgress.objects.filter(project=project).count(),
        ),
        "save and submit": Write(
            prepare=lambda who: w.new_project(),
            send=lambda client, project, who: client.post(
                progress_url(project), {"completed_investment": "88.00", "submit": "1"}
            ),
            done=lambda project, who: (
                (r := report_of(project)) is not None and r.status == ProgressStatus.SUBMITTED
            ),
            state=lambda project: MonthlyProgress.objects.filter(project=project).count(),
        ),
        "grid": Read(f"{reverse('projects:grid')}?year={YEAR}&month={MONTH}"),
        "grid save": Write(
            prepare=lambda who: w.new_project(),
            send=grid_post,
            done=lambda project, who: (
                (r := report_of(project)) is not None and r.completed_investment == Decimal("321.00")
            ),
            state=lambda project: MonthlyProgress.objects.filter(project=project).count(),
            answers={"staff_out": 302},  # their grid saved: U1's row was not on it
        ),
        "submit": Write(
            prepare=lambda who: w.report(ProgressStatus.DRAFT),
            send=review("submit"),
            done=status_is(ProgressStatus.SUBMITTED),
            state=report_state,
        ),
        "review queue": Read(reverse("projects:review")),
        "approve": Write(
            prepare=lambda who: w.report(ProgressStatus.SUBMITTED),
            send=review("approve"),
            done=status_is(ProgressStatus.APPROVED),
            state=report_state,
        ),
        "return": Write(
            prepare=lambda who: w.report(ProgressStatus.SUBMITTED),
            send=review("return", "投资额与台账不符"),
            done=status_is(ProgressStatus.RETURNED),
            state=report_state,
        ),
        "reopen": Write(
            prepare=lambda who: w.report(ProgressStatus.APPROVED),
            send=review("reopen", "统计口径调整"),
            done=status_is(ProgressStatus.RETURNED),
            state=report_state,
        ),
        "approve from the queue": Write(
            prepare=lambda who: w.report(ProgressStatus.SUBMITTED),
            send=lambda client, report, who: client.post(
                reverse("projects:review"), {"report": [report.pk], "approve": "1"}
            ),
            done=status_is(ProgressStatus.APPROVED),
            state=report_state,
        ),
        "photo": Read(reverse("projects:photo_file", args=[w.photo.pk, "full"])),
        "photo thumbnail": Read(reverse("projects:photo_file", args=[w.photo.pk, "thumb"])),
        "add a photo": Write(
            prepare=lambda who: w.report(ProgressStatus.DRAFT),
            send=lambda client, report, who: client.post(
                reverse("projects:photo_upload", args=[report.pk]), {"image": jpeg(), "caption": str(who)}
            ),
            done=lambda report, who: report.photos.filter(
                caption=str(who), uploaded_by=w.person(who)
            ).exists(),
            state=report_state,
        ),
        "delete a photo": Write(
            prepare=lambda who: project_services.photo_add(
                report=w.report(ProgressStatus.DRAFT), user=w.people["admin"], upload=jpeg()
            ),
            send=lambda client, photo, who: client.post(reverse("projects:photo_delete", args=[photo.pk])),
            done=lambda photo, who: not ProgressPhoto.objects.filter(pk=photo.pk).exists(),
            state=lambda photo: ProgressPhoto.objects.filter(pk=photo.pk).exists(),
        ),
    }
    run(PROGRESS, rows, web_as)


# --- Approval milestones -------------------------------------------------------------------------------

MILESTONE_FIELDS = [
    "kind",
    "phase",
    "department",
    "status",
    "planned_date",
    "completed_date",
    "document_number",
]


def test_approval_milestones(world, web_as):
    w = world
    rows = {
        "list": Read(reverse("projects:milestone_list")),
        "excel export": Read(reverse("projects:milestone_export")),
        "create form": Read(reverse("projects:milestone_create", args=[w.project.pk])),
        "create": Write(
            prepare=lambda who: w.new_project(),
            send=lambda client, project, who: client.post(
                reverse("projects:milestone_create", args=[project.pk]),
                {"kind": MilestoneKind.PROJECT_FILING, "phase": 1, "status": MilestoneStatus.NOT_STARTED},
            ),
            done=lambda project, who: project.milestones.filter(kind=MilestoneKind.PROJECT_FILING).exists(),
            state=lambda project: project.milestones.count(),
        ),
        "edit form": Read(reverse("projects:milestone_edit", args=[w.milestone.pk])),
        "update": Write(
            prepare=lambda who: ApprovalMilestoneFactory(project=w.new_project()),
            send=lambda client, milestone, who: client.post(
                reverse("projects:milestone_edit", args=[milestone.pk]),
                as_posted(
                    milestone,
                    MILESTONE_FIELDS,
                    status=MilestoneStatus.IN_PROGRESS,
                    document_number=f"豫周开备-{who}",
                    version=milestone.version,
                ),
            ),
            done=lambda milestone, who: (
                ApprovalMilestone.objects.get(pk=milestone.pk).document_number == f"豫周开备-{who}"
            ),
            state=lambda milestone: ApprovalMilestone.objects.filter(pk=milestone.pk).values().get(),
        ),
    }
    run(MILESTONES, rows, web_as)


# --- Enterprises and visits -------------------------------------------------------------------------


def test_enterprises(world, web_as):
    rows = {
        "list": Read(reverse("enterprises:list")),
        "read": Read(reverse("enterprises:detail", args=[world.enterprise.pk])),
    }
    run(ENTERPRISES, rows, web_as)


def test_visits(world, web_as):
    w = world
    rows = {
        "create form": Read(reverse("enterprises:visit_create")),
        "create": Write(
            prepare=lambda who: f"走访座谈-{who}",
            send=lambda client, notes, who: client.post(
                reverse("enterprises:visit_create"),
                {
                    "enterprise": w.enterprise.pk,
                    "visited_on": "2024-05-06",
                    "visitors": [w.people["staff_in"].pk],
                    "unit": w.units.U1.pk,
                    "notes": notes,
                    "problems-TOTAL_FORMS": "0",
                    "problems-INITIAL_FORMS": "0",
                },
            ),
            done=lambda notes, who: Visit.objects.filter(notes=notes, created_by=w.person(who)).exists(),
            state=lambda notes: Visit.objects.count(),
        ),
        "read": Read(reverse("enterprises:visit_detail", args=[w.visit.pk])),
    }
    run(VISITS, rows, web_as)


# --- Problem tickets ----------------------------------------------------------------------------------

TICKET_FIELDS = ["project", "source", "title", "category", "description", "fence", "is_major"]


def ticket_step(w: World, action: str, state: str, body: dict, *, major=False) -> Write:
    """A ticket action tried on a fresh ticket of U1 in ``state``; done when a new event on its
    timeline is the caller's."""

    def prepare(who):
        ticket = build(state, w.people, w.units, major=major)
        ticket.events_before = ticket.events.count()
        return ticket

    def send(client, ticket, who):
        data = {f"{action}-{name}": value for name, value in body.items()}
        data[f"{action}-version"] = ticket.version
        return client.post(reverse("enterprises:ticket_action", args=[ticket.pk, action]), data)

    def done(ticket, who):
        last = ticket.events.order_by("-at", "-pk").first()
        return ticket.events.count() > ticket.events_before and last.actor == w.person(who)

    return Write(prepare=prepare, send=send, done=done, state=snapshot)


def test_problem_tickets(world, web_as):
    w = world
    pending = build(TicketStatus.PENDING, w.people, w.units, enterprise=w.enterprise)
    week = "2024-03-04"
    rows = {
        "list": Read(reverse("enterprises:ticket_list")),
        "figures": Read(reverse("enterprises:stats")),
        "excel export": Read(reverse("enterprises:ticket_export")),
        "weekly summary export": Read(
            f"{reverse('enterprises:ticket_summary_export')}?kind=week&week={week}"
        ),
        "read": Read(reverse("enterprises:ticket_detail", args=[w.ticket.pk])),
        "create form": Read(reverse("enterprises:ticket_create")),
        "create": Write(
            prepare=lambda who: f"用地手续办理慢-{who}",
            send=lambda client, title, who: client.post(
                reverse("enterprises:ticket_create"),
                {
                    "enterprise": w.enterprise.pk,
                    "source": "hotline",
                    "title": title,
                    "category": "land",
                    "fence": "outside",
                },
            ),
            done=lambda title, who: ProblemTicket.objects.filter(
                title=title, created_by=w.person(who)
            ).exists(),
            state=lambda title: ProblemTicket.objects.count(),
        ),
        "edit form (pending)": Read(reverse("enterprises:ticket_edit", args=[pending.pk])),
        "update (pending)": ticket_edit(w, TicketStatus.PENDING),
        "update (assigned)": ticket_edit(w, TicketStatus.ASSIGNED),
        "assign": ticket_step(w, "assign", TicketStatus.PENDING, {"unit": w.units.U1.pk}),
        "accept": ticket_step(w, "accept", TicketStatus.ASSIGNED, {}),
        "decline": ticket_step(w, "decline", TicketStatus.ASSIGNED, {"text": "属于住建局职责"}),
        "reply": ticket_step(w, "reply", TicketStatus.ASSIGNED, {"text": "已对接供电公司"}),
        "plan": ticket_step(
            w,
            "plan",
            TicketStatus.IN_PROGRESS,
            {"plan": "分两期增容", "committed_date": str(timezone.localdate() + datetime.timedelta(days=20))},
            major=True,
        ),
        "resolve": ticket_step(w, "resolve", TicketStatus.IN_PROGRESS, {"resolution": "已完成增容"}),
        "close": ticket_step(w, "close", TicketStatus.UNDER_REVIEW, {"grade": "good", "comment": "材料齐全"}),
        "send back": ticket_step(w, "send_back", TicketStatus.UNDER_REVIEW, {"text": "缺少供电公司回执"}),
        "grade": ticket_step(w, "grade", TicketStatus.RESOLVED, {"grade": "excellent"}),
        "rate": ticket_step(
            w, "rate", TicketStatus.RESOLVED, {"satisfaction": "basically", "comment": "还可以"}
        ),
        "escalate": ticket_step(w, "escalate", TicketStatus.ASSIGNED, {"text": "涉及市级电网规划"}),
        "reassign": ticket_step(
            w,
            "reassign",
            TicketStatus.IN_PROGRESS,
            {"unit": w.units.U2.pk, "handler": w.people["unit_out"].pk, "reason": "属于住建局职责"},
        ),
        "comment": ticket_step(w, "comment", TicketStatus.ASSIGNED, {"text": "请加快办理"}),
        "attach a file": Write(
            prepare=lambda who: build(TicketStatus.ASSIGNED, w.people, w.units),
            send=lambda client, ticket, who: client.post(
                reverse("enterprises:ticket_action", args=[ticket.pk, "attach"]),
                {"attach-file": png(), "attach-version": ticket.version},
            ),
            done=lambda ticket, who: ticket.attachments.filter(uploaded_by=w.person(who)).exists(),
            state=snapshot,
        ),
        "download a file": Read(reverse("enterprises:attachment", args=[w.attachment.pk])),
    }
    run(TICKETS, rows, web_as)


def ticket_edit(w, state) -> Write:
    return Write(
        prepare=lambda who: build(state, w.people, w.units),
        send=lambda client, ticket, who: client.post(
            reverse("enterprises:ticket_edit", args=[ticket.pk]),
            as_posted(ticket, TICKET_FIELDS, title=f"新标题-{who}", version=ticket.version),
        ),
        done=lambda ticket, who: ProblemTicket.objects.get(pk=ticket.pk).title == f"新标题-{who}",
        state=snapshot,
    )


# --- Imports ---------------------------------------------------------------------------------------------


def test_imports(world, web_as):
    w = world
    rows = {
        "list": Read(reverse("import_list")),
        "upload form (enterprises)": Read(reverse("import_upload", args=["enterprises"])),
        "upload form (project ledger)": Read(reverse("import_upload", args=["project_ledger"])),
        "upload": Write(
            prepare=lambda who: f"名录-{who}.xlsx",
            send=lambda client, name, who: client.post(
                reverse("import_upload", args=["enterprises"]),
                {"file": SimpleUploadedFile(name, enterprise_list(f"周口{who}科技有限公司"))},
            ),
            done=lambda name, who: ImportRecord.objects.filter(file_name=name, user=w.person(who)).exists(),
            state=lambda name: ImportRecord.objects.count(),
        ),
        "read staff_in's": Read(reverse("import_detail", args=[w.import_record.pk])),
        "confirm staff_in's": Write(
            prepare=lambda who: w.previewed_import(w.people["staff_in"]),
            send=lambda client, record, who: client.post(reverse("import_confirm", args=[record.pk])),
            done=lambda record, who: (
                ImportRecord.objects.get(pk=record.pk).status == ImportRecord.Status.APPLIED
            ),
            state=lambda record: ImportRecord.objects.filter(pk=record.pk).values("status").get(),
            answers={"admin": 302},  # told that only the uploader confirms; nothing applied
            writers=frozenset({"staff_in"}),
        ),
    }
    run(IMPORTS, rows, web_as)


# --- Dashboard, home and tokens ------------------------------------------------------------------------


def test_dashboard_and_home(world, web_as):
    rows = {
        "home": Read(reverse("home")),
        "dashboard": Read(reverse("dashboard")),
        "monthly bulletin export": Read(f"{reverse('dashboard_export')}?report=bulletin"),
        "batches export": Read(f"{reverse('dashboard_export')}?report=batches"),
    }
    run(DASHBOARD, rows, web_as)


def test_api_tokens(world, web_as):
    w = world
    rows = {
        "list": Read(reverse("api_tokens")),
        "create": Write(
            prepare=lambda who: f"省平台同步-{who}",
            send=lambda client, name, who: client.post(reverse("api_tokens"), {"name": name, "days": "30"}),
            done=lambda name, who: ApiToken.objects.filter(name=name, user=w.person(who)).exists(),
            state=lambda name: ApiToken.objects.count(),
        ),
        "revoke own": Write(
            prepare=lambda who: create_token(w.people[who or "norole"], name=f"脚本-{who}", days=30)[0],
            send=lambda client, token, who: client.post(reverse("api_token_revoke", args=[token.token_key])),
            done=lambda token, who: not ApiToken.objects.filter(pk=token.pk).exists(),
            state=lambda token: ApiToken.objects.filter(pk=token.pk).exists(),
        ),
    }
    run(TOKENS, rows, web_as)
