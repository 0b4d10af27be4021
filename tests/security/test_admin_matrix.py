"""Django admin's role matrix: every role, signed in to the admin, tries each registered model's list,
add form, change form, delete page and history page on one object of unit U1, and a write of each
kind that matters; what it may do is asserted exactly.

A role is a group of model permissions (core/roles.py ``baseline_permissions``): every role
views the zone's models, project staff add and change project records, the office (督办) enterprise
records, visits and tickets, administrators everything. The admin asks the same permissions modules
as the pages for scope: staff change only their projects (``staff_out`` sees U1's project read-only),
a unit reads only its tickets, imports and API tokens are each user's own. The admin also needs
``is_staff``, which no role gives: an administrator ticks it per user (the demo ticks it for all).

History pages are read by whoever may read the object, and never written back: simple-history's
page of a past version is a form that reverts when posted; here it refuses every POST.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from core import imports
from core.admin_history import HistoryAdmin
from core.api.tokens import create_token
from core.models import ApiToken, ImportRecord, Job
from core.roles import GROUP_NAMES, ZONE_APPS, Role
from enterprises.models import Enterprise
from problems.choices import TicketStatus
from problems.models import ProblemTicket, Visit
from projects.choices import PlanCategory, ProgressStatus, ProjectJobKind
from projects.models import AnnualPlan, MonthlyProgress, MonthPublication, Project
from projects.services import comment_add
from reference.models import Department
from tests.api.conftest import ROLES
from tests.api.test_tickets_api import build
from tests.factories import (
    AnnualPlanFactory,
    ApprovalMilestoneFactory,
    BatchFactory,
    BatchMembershipFactory,
    ClusterFactory,
    EnterpriseFactory,
    EnterpriseYearlyFigureFactory,
    HonourFactory,
    IndustryFactory,
    LeaderFactory,
    MonthlyProgressFactory,
    ParkFactory,
    ProjectFactory,
    StageChangeFactory,
    VisitFactory,
)
from tests.html_forms import form_data

from .test_web_matrix import enterprise_list

pytestmark = pytest.mark.django_db

# --- Who -------------------------------------------------------------------------------------------

EVERYONE = frozenset(ROLES) - {"norole"}
ADMIN = frozenset({"admin"})
EDITORS = frozenset({"admin", "staff_in"})  # of U1's project
CREATORS = frozenset({"admin", "staff_in", "staff_out"})
OFFICE = frozenset({"admin", "supervisor"})
ZONE_WIDE = frozenset({"admin", "leader", "reviewer", "supervisor", "staff_in", "staff_out"})
NOBODY = frozenset()
OWNER = frozenset({"admin", "staff_in"})  # of staff_in's import and token: administrators see all
NOT_OWNER = frozenset(ROLES) - OWNER


def may(*, view, add=NOBODY, edit=NOBODY, delete=NOBODY, listed=None, outside=NOBODY):
    """One model's row: who views the object (and its history), adds, changes and deletes it; who
    opens the list (by default whoever views; the others in ``listed`` get it without the object);
    and who the admin's queryset hides the object from (``outside``)."""
    assert edit <= view and delete <= view
    listed = view if listed is None else listed
    return {"view": view, "add": add, "edit": edit, "delete": delete, "list": listed, "outside": outside}


# --- The policy: one row per registered model, on an object of unit U1 ------------------------------

POLICY = {
    "auth.Group": may(view=ADMIN, add=ADMIN, edit=ADMIN, delete=ADMIN),
    # Reference data: every role reads, administrators keep it.
    "reference.Department": may(view=EVERYONE, add=ADMIN, edit=ADMIN, delete=ADMIN),
    "reference.Park": may(view=EVERYONE, add=ADMIN, edit=ADMIN, delete=ADMIN),
    "reference.Cluster": may(view=EVERYONE, add=ADMIN, edit=ADMIN, delete=ADMIN),
    "reference.Industry": may(view=EVERYONE, add=ADMIN, edit=ADMIN, delete=ADMIN),
    "reference.Leader": may(view=EVERYONE, add=ADMIN, edit=ADMIN, delete=ADMIN),
    # Never deleted, only deactivated: their names stay on the history rows they wrote.
    "core.User": may(view=EVERYONE, add=ADMIN, edit=ADMIN),
    # Each user's own (staff_in's here); administrators everyone's. Nobody edits the record of an
    # import; administrators revoke tokens.
    "core.ImportRecord": may(view=OWNER, listed=EVERYONE, outside=NOT_OWNER),
    "core.ApiToken": may(view=OWNER, delete=ADMIN, listed=EVERYONE, outside=NOT_OWNER),
    # Background jobs: written by the worker, deleted by purge_jobs; each user sees their own.
    "core.Job": may(view=OWNER, listed=EVERYONE, outside=NOT_OWNER),
    # Projects and their records: staff add them, change them in their unit's projects.
    "projects.Project": may(view=EVERYONE, add=CREATORS, edit=EDITORS, delete=ADMIN),
    "projects.AnnualPlan": may(view=EVERYONE, add=CREATORS, edit=EDITORS, delete=EDITORS),
    "projects.MonthlyProgress": may(view=EVERYONE, add=CREATORS, edit=EDITORS),  # never deleted
    "projects.ApprovalMilestone": may(view=EVERYONE, add=CREATORS, edit=EDITORS, delete=ADMIN),
    "projects.Batch": may(view=EVERYONE, add=ADMIN, edit=ADMIN, delete=ADMIN),
    "projects.BatchMembership": may(view=EVERYONE, add=ADMIN, edit=ADMIN, delete=ADMIN),
    "projects.ProjectComment": may(view=EVERYONE, delete=ADMIN),  # written on the project page
    "projects.StageChange": may(view=EVERYONE),  # written by the stage-change service only
    "projects.MonthPublication": may(view=EVERYONE),  # published and reopened on its page only
    # Enterprises: the office keeps the records, administrators delete.
    "enterprises.Enterprise": may(view=EVERYONE, add=OFFICE, edit=OFFICE, delete=ADMIN),
    "enterprises.EnterpriseYearlyFigure": may(view=EVERYONE, add=ADMIN, edit=ADMIN, delete=ADMIN),
    "enterprises.Honour": may(view=EVERYONE, add=ADMIN, edit=ADMIN, delete=ADMIN),
    "problems.Visit": may(view=ZONE_WIDE, add=OFFICE, edit=OFFICE, delete=ADMIN),
    # Tickets are made and moved on the pages; here the office corrects details. U1's ticket is
    # not in unit_out's list and its pages are closed to unit_out.
    "problems.ProblemTicket": may(
        view=ZONE_WIDE | {"unit_in"}, edit=OFFICE, listed=EVERYONE, outside={"unit_out", "norole"}
    ),
}


@pytest.fixture
def admins(people):
    """The matrix's people with the admin's door open (``is_staff``): their roles decide the rest."""
    for user in people.values():
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return people


def objects_of_u1(people, units) -> dict:
    """One object per registered model, belonging to unit U1 (or to staff_in) where that means
    anything."""
    project = ProjectFactory(name="年产10万吨食品加工项目", responsible_unit=units.U1)
    data = enterprise_list("周口新入驻企业有限公司")
    preview = imports.preview("enterprises", data, user=people["staff_in"])
    return {
        "auth.Group": Group.objects.get(name=GROUP_NAMES[Role.LEADER]),
        "reference.Department": units.U1,
        "reference.Park": ParkFactory(name="健康食品产业园"),
        "reference.Cluster": ClusterFactory(name="健康食品"),
        "reference.Industry": IndustryFactory(name="食品加工"),
        "reference.Leader": LeaderFactory(name="王主任", department=units.U1),
        "core.User": people["staff_in"],
        "core.ImportRecord": imports.save_preview(
            "enterprises", data, file_name="企业名录.xlsx", user=people["staff_in"], result=preview
        ),
        "core.ApiToken": create_token(people["staff_in"], name="省平台同步", days=30)[0],
        "core.Job": Job.objects.create(
            owner=people["staff_in"], kind=ProjectJobKind.PROJECT_LEDGER_EXPORT, parameters={"query": ""}
        ),
        "projects.Project": project,
        "projects.AnnualPlan": AnnualPlanFactory(project=project),
        "projects.MonthlyProgress": MonthlyProgressFactory(
            project=project, status=ProgressStatus.DRAFT, submitted_at=None, reviewed_at=None
        ),
        "projects.ApprovalMilestone": ApprovalMilestoneFactory(project=project),
        "projects.Batch": BatchFactory(number=7),
        "projects.BatchMembership": BatchMembershipFactory(project=project),
        "projects.ProjectComment": comment_add(project=project, user=people["leader"], text="加快进度"),
        "projects.StageChange": StageChangeFactory(project=project),
        "projects.MonthPublication": MonthPublication.objects.create(
            year=2022, month=12, published_by=people["admin"], published_at=timezone.now()
        ),
        "enterprises.Enterprise": EnterpriseFactory(name="周口益海粮油有限公司"),
        "enterprises.EnterpriseYearlyFigure": EnterpriseYearlyFigureFactory(),
        "enterprises.Honour": HonourFactory(name="高新技术企业"),
        "problems.Visit": VisitFactory(unit=units.U1, notes="座谈"),
        "problems.ProblemTicket": build(TicketStatus.ASSIGNED, people, units),
    }


def admin_url(obj_or_model, view: str, *args) -> str:
    meta = obj_or_model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def zone_models() -> dict:
    return {
        model._meta.label: model
        for model in admin.site._registry
        if model._meta.app_label in [*ZONE_APPS, "auth"]
    }


# --- Every model, every role ------------------------------------------------------------------------


def test_the_policy_names_every_registered_model_of_ours():
    assert set(POLICY) == set(zone_models())


def test_every_role_on_every_model(admins, units, web_as):
    objects = objects_of_u1(admins, units)
    got, want = {}, {}
    for label, obj in objects.items():
        rules = POLICY[label]
        for who in ROLES:
            client = web_as(who)
            listing = client.get(admin_url(obj, "changelist"))
            if listing.status_code == 200:
                shown = obj.pk in {row.pk for row in listing.context["cl"].result_list}
                got[label, who, "list"] = "listed" if shown else "not listed"
            else:
                got[label, who, "list"] = listing.status_code
            got[label, who, "add"] = client.get(admin_url(obj, "add")).status_code
            change = client.get(admin_url(obj, "change", obj.pk))
            if change.status_code == 200:
                got[label, who, "change"] = "edit" if change.context["has_change_permission"] else "view"
            else:
                # Outside the user's queryset the admin says the object does not exist.
                got[label, who, "change"] = "missing" if change.status_code == 302 else change.status_code
            delete = client.get(admin_url(obj, "delete", obj.pk))
            got[label, who, "delete"] = "missing" if delete.status_code == 302 else delete.status_code
            history = client.get(admin_url(obj, "history", obj.pk))
            got[label, who, "history"] = "missing" if history.status_code == 302 else history.status_code

            hidden = who in rules["list"] and who not in rules["view"]
            want[label, who, "list"] = (
                "listed" if who in rules["view"] else "not listed" if who in rules["list"] else 403
            )
            want[label, who, "add"] = 200 if who in rules["add"] else 403
            want[label, who, "change"] = (
                "edit"
                if who in rules["edit"]
                else "view"
                if who in rules["view"]
                else "missing"
                if hidden
                else 403
            )
            want[label, who, "delete"] = 200 if who in rules["delete"] else 403
            if who in rules["view"]:
                want[label, who, "history"] = 200
            elif who in rules["outside"] and not issubclass(
                type(admin.site._registry[type(obj)]), HistoryAdmin
            ):
                # Django's own history page looks in the user's queryset first.
                want[label, who, "history"] = "missing"
            else:
                want[label, who, "history"] = 403
    assert got == want


# --- Writes: the database changes for the allowed and stays as it was for everyone else -------------


def changed_form(client, url: str, form_id: str, **changes) -> dict:
    """The form as an administrator's browser shows it, with ``changes``: what a caller would post."""
    return form_data(client.get(url).content.decode(), form_id) | changes


class Row:
    """A write tried by each role on a fresh target: ``prepare(who)`` makes it, ``send(client,
    target)`` posts, ``done(target, who)`` says the change is in the database, ``state(target)`` is
    what must not move when refused. ``allowed`` answer 302 and change it; ``answers`` overrides
    the status of some others (a form sent back with an error, an object outside their list)."""

    def __init__(self, allowed, prepare, send, done, state, answers=None):
        self.allowed, self.prepare, self.send, self.done, self.state = allowed, prepare, send, done, state
        self.answers = answers or {}


def run_writes(rows: dict, web_as) -> None:
    got, want = {}, {}
    for action, row in rows.items():
        for who in ROLES:
            target = row.prepare(who)
            before = row.state(target)
            status = row.send(web_as(who), target).status_code
            if row.done(target, who):
                effect = "changed"
            else:
                effect = "unchanged" if row.state(target) == before else "changed otherwise"
            got[action, who] = (status, effect)
            code = 302 if who in row.allowed else row.answers.get(who, 403)
            want[action, who] = (code, "changed" if who in row.allowed else "unchanged")
    assert got == want


def values(model, pk) -> dict:
    return model.objects.filter(pk=pk).values().first()


def test_writes_in_the_admin(admins, units, web_as):
    chief = web_as("admin")
    u1 = units.U1

    def project(who):
        return ProjectFactory(name=f"项目-{who}", responsible_unit=u1)

    def project_change(client, target):
        url = admin_url(target, "change", target.pk)
        return client.post(url, changed_form(chief, url, "project_form", name="改名后的项目"))

    def ticket_change(client, target):
        url = admin_url(target, "change", target.pk)
        return client.post(url, changed_form(chief, url, "problemticket_form", title="改过的标题"))

    def enterprise_change(client, target):
        url = admin_url(target, "change", target.pk)
        return client.post(url, changed_form(chief, url, "enterprise_form", short_name="益海"))

    def visit_change(client, target):
        url = admin_url(target, "change", target.pk)
        return client.post(url, changed_form(chief, url, "visit_form", notes="改过的记录"))

    def delete(client, target):
        return client.post(admin_url(target, "delete", target.pk), {"post": "yes"})

    def exists(model):
        return lambda target: model.objects.filter(pk=target.pk).exists()

    def deleted(model):
        return lambda target, who: not model.objects.filter(pk=target.pk).exists()

    def escalate(client, user):
        """A user gives themselves the administrators' group and superuser status."""
        url = admin_url(user, "change", user.pk)
        data = changed_form(chief, url, "user_form", is_superuser="on")
        data["groups"] = [str(pk) for pk in user.groups.values_list("pk", flat=True)] + [
            str(Group.objects.get(name=GROUP_NAMES[Role.ADMIN]).pk)
        ]
        return client.post(url, data)

    leaders = Group.objects.get(name=GROUP_NAMES[Role.LEADER])
    delete_project = Permission.objects.get(codename="delete_project")

    def grant(client, group):
        url = admin_url(group, "change", group.pk)
        data = changed_form(chief, url, "group_form")
        data["permissions"] = [str(pk) for pk in group.permissions.values_list("pk", flat=True)] + [
            str(delete_project.pk)
        ]
        return client.post(url, data)

    rows = {
        "change U1's project": Row(
            EDITORS,
            prepare=project,
            send=project_change,
            done=lambda p, who: Project.objects.get(pk=p.pk).name == "改名后的项目",
            state=lambda p: values(Project, p.pk),
        ),
        "delete a project": Row(
            ADMIN, prepare=project, send=delete, done=deleted(Project), state=exists(Project)
        ),
        "add a plan to U1's project": Row(
            EDITORS,
            prepare=project,
            send=lambda client, p: client.post(
                admin_url(AnnualPlan, "add"),
                {
                    "project": p.pk,
                    "year": 2024,
                    "planned_investment": "1200.00",
                    "category": PlanCategory.CONTINUING,
                },
            ),
            done=lambda p, who: p.annual_plans.filter(year=2024).exists(),
            state=lambda p: p.annual_plans.count(),
            answers={"staff_out": 200},  # the add form, sent back: U1's project is not a choice
        ),
        "delete a plan": Row(
            EDITORS,
            prepare=lambda who: AnnualPlanFactory(project=project(who)),
            send=delete,
            done=deleted(AnnualPlan),
            state=exists(AnnualPlan),
        ),
        "delete a monthly report": Row(
            NOBODY,
            prepare=lambda who: MonthlyProgressFactory(project=project(who), status=ProgressStatus.DRAFT),
            send=delete,
            done=deleted(MonthlyProgress),
            state=exists(MonthlyProgress),
        ),
        "change an enterprise": Row(
            OFFICE,
            prepare=lambda who: EnterpriseFactory(),
            send=enterprise_change,
            done=lambda e, who: Enterprise.objects.get(pk=e.pk).short_name == "益海",
            state=lambda e: values(Enterprise, e.pk),
        ),
        "change a visit": Row(
            OFFICE,
            prepare=lambda who: VisitFactory(unit=u1, notes="座谈"),
            send=visit_change,
            done=lambda v, who: Visit.objects.get(pk=v.pk).notes == "改过的记录",
            state=lambda v: values(Visit, v.pk),
        ),
        "correct U1's ticket": Row(
            OFFICE,
            prepare=lambda who: build(TicketStatus.ASSIGNED, admins, units),
            send=ticket_change,
            done=lambda t, who: ProblemTicket.objects.get(pk=t.pk).title == "改过的标题",
            state=lambda t: values(ProblemTicket, t.pk),
        ),
        "add a unit": Row(
            ADMIN,
            prepare=lambda who: f"新单位-{who}",
            send=lambda client, name: client.post(
                admin_url(Department, "add"), {"name": name, "is_active": "on"}
            ),
            done=lambda name, who: Department.objects.filter(name=name).exists(),
            state=lambda name: Department.objects.count(),
        ),
        "make oneself an administrator": Row(
            ADMIN,
            prepare=lambda who: admins[who],
            send=escalate,
            done=lambda user, who: type(user).objects.get(pk=user.pk).is_superuser,
            state=lambda user: (values(type(user), user.pk), set(user.groups.values_list("name", flat=True))),
        ),
        "grant the leaders a permission": Row(
            ADMIN,
            prepare=lambda who: leaders.permissions.remove(delete_project) or leaders,
            send=grant,
            done=lambda group, who: group.permissions.filter(pk=delete_project.pk).exists(),
            state=lambda group: set(group.permissions.values_list("pk", flat=True)),
        ),
        "revoke staff_in's token": Row(
            ADMIN,
            prepare=lambda who: create_token(admins["staff_in"], name=f"脚本-{who}", days=30)[0],
            send=delete,
            done=deleted(ApiToken),
            state=exists(ApiToken),
        ),
        "delete an import record": Row(
            NOBODY,
            prepare=lambda who: ImportRecord.objects.get(),
            send=delete,
            done=deleted(ImportRecord),
            state=exists(ImportRecord),
        ),
    }
    data = enterprise_list("周口新入驻企业有限公司")
    preview = imports.preview("enterprises", data, user=admins["staff_in"])
    imports.save_preview(
        "enterprises", data, file_name="企业名录.xlsx", user=admins["staff_in"], result=preview
    )
    try:
        run_writes(rows, web_as)
    finally:
        # The last row granted the leaders a permission: take it back for the tests that follow.
        leaders.permissions.remove(delete_project)


# --- History is read, never written back ---------------------------------------------------------------


def test_every_history_admin_refuses_to_revert():
    """simple-history's admin saves a past version when its page is posted, whatever button the page
    shows: each admin with history pages is the HistoryAdmin that refuses."""
    with_history = {
        model._meta.label: isinstance(model_admin, HistoryAdmin)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, SimpleHistoryAdmin)
    }
    assert "projects.Project" in with_history  # the walk finds the admins with history pages
    assert with_history == dict.fromkeys(with_history, True)


def test_posting_a_past_version_changes_nothing_for_anyone(admins, units, web_as, settings):
    assert settings.SIMPLE_HISTORY_REVERT_DISABLED is True
    chief = web_as("admin")
    project = ProjectFactory(name="旧项目名", responsible_unit=units.U1)
    enterprise = EnterpriseFactory(name="周口旧名称有限公司")
    for obj, form_id in [(project, "project_form"), (enterprise, "enterprise_form")]:
        url = admin_url(obj, "change", obj.pk)
        assert chief.post(url, changed_form(chief, url, form_id, name="新名称")).status_code == 302
    for obj, model in [(project, Project), (enterprise, Enterprise)]:
        first = obj.history.order_by("history_id").first()
        page = admin_url(obj, "simple_history", obj.pk, first.history_id)
        old_form = form_data(chief.get(page).content.decode(), f"historical{model._meta.model_name}_form")
        assert old_form["name"] == first.name  # the page shows the past version …
        before = values(model, obj.pk)
        codes = {who: web_as(who).post(page, old_form).status_code for who in ROLES}
        assert codes == dict.fromkeys(ROLES, 403)  # … and nobody saves it back
        assert values(model, obj.pk) == before
        assert model.objects.get(pk=obj.pk).name == "新名称"


# --- The door ----------------------------------------------------------------------------------------


def test_without_is_staff_every_role_is_sent_to_the_admin_login(people, units, web_as):
    project = ProjectFactory(responsible_unit=units.U1)
    login = reverse("admin:login")
    for who in [*ROLES, None]:
        for url in [reverse("admin:index"), admin_url(project, "change", project.pk)]:
            response = web_as(who).get(url)
            assert (response.status_code, response["Location"].split("?")[0]) == (302, login), (who, url)


def test_other_apps_models_are_closed_to_every_role(admins, web_as, superuser, client):
    """Login throttling records and anything else not ours: only a superuser, not even the
    administrators' group (its permissions are the zone's apps and users)."""
    others = [model for model in admin.site._registry if model._meta.label not in zone_models()]
    got = {
        (model._meta.label, who): web_as(who).get(admin_url(model, "changelist")).status_code
        for model in others
        for who in ROLES
    }
    assert got == dict.fromkeys(got, 403)
    client.force_login(superuser)
    assert {client.get(admin_url(model, "changelist")).status_code for model in others} <= {200}
