"""The permission base (core/permissions.py) and the roles keyed by code (core/roles.py).

Each rule is defined once, as the rows a user may act on; the yes/no check on one object is read
off that definition, so a list and a check never disagree. A group carries its role by a code, so
renaming a group in the admin keeps its members' roles."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.db.models import Q
from django.urls import reverse

from core.models import RoleGroup, User
from core.permissions import allowed, matches, restrict
from core.roles import GROUP_NAMES, Role, role_group, roles_of, sync_role_groups, with_roles
from core.selectors import people
from problems import permissions as problem_permissions
from problems import services as problem_services
from problems.models import ProblemTicket
from projects import permissions as project_permissions
from projects.models import Project
from tests.factories import DepartmentFactory, ProjectFactory, UserFactory, make_ticket

pytestmark = pytest.mark.django_db

migration = importlib.import_module("core.migrations.0004_role_codes")


# --- A small world: two units, a user of each role, objects of both units --------------------------


@pytest.fixture
def units():
    return DepartmentFactory(name="甲单位"), DepartmentFactory(name="乙单位")


@pytest.fixture
def people_of(units):
    u1, _u2 = units
    return {
        "admin": UserFactory(roles=[Role.ADMIN]),
        "superuser": UserFactory(is_superuser=True),
        "leader": UserFactory(roles=[Role.LEADER]),
        "reviewer": UserFactory(roles=[Role.REVIEWER]),
        "supervisor": UserFactory(roles=[Role.SUPERVISOR]),
        "staff_u1": UserFactory(roles=[Role.STAFF], department=u1),
        "staff_no_unit": UserFactory(roles=[Role.STAFF]),
        "unit_u1": UserFactory(roles=[Role.UNIT], department=u1),
        "unit_no_unit": UserFactory(roles=[Role.UNIT]),
        "no_role": UserFactory(department=u1),
        "inactive_staff": UserFactory(roles=[Role.STAFF], department=u1, is_active=False),
    }


@pytest.fixture
def projects(units, people_of):
    u1, u2 = units
    return {
        "u1": ProjectFactory(name="甲单位的项目", responsible_unit=u1),
        "u2": ProjectFactory(name="乙单位的项目", responsible_unit=u2),
        # Another unit's project in the charge of a staff member without a unit.
        "u2_in_charge": ProjectFactory(
            name="乙单位专员负责的项目", responsible_unit=u2, staff_in_charge=people_of["staff_no_unit"]
        ),
    }


@pytest.fixture
def tickets(units, superuser):
    u1, u2 = units
    pending = make_ticket(user=superuser, title="尚未交办的问题")
    assigned = {}
    for unit in units:
        ticket = make_ticket(user=superuser, title=f"交办{unit.name}的问题")
        assigned[unit.name] = problem_services.ticket_assign(ticket=ticket, user=superuser, unit=unit)
    return {"pending": pending, "u1": assigned[u1.name], "u2": assigned[u2.name]}


ACTIONS = {
    "project.read": "projects",
    "project.edit": "projects",
    "ticket.read": "tickets",
    "ticket.handle": "tickets",
}


def test_the_check_on_one_object_agrees_with_the_list_for_every_role_and_object(
    people_of, projects, tickets, django_assert_num_queries
):
    worlds = {"projects": projects, "tickets": tickets}
    for action, kind in ACTIONS.items():
        for who, user in people_of.items():
            listed = set(restrict(user, action).values_list("pk", flat=True))
            roles_of(user)  # read once per request, as on a page
            with django_assert_num_queries(0):  # read off the object: no query per row
                checked = {obj.pk for obj in worlds[kind].values() if allowed(user, action, obj)}
            assert checked == listed & {obj.pk for obj in worlds[kind].values()}, (action, who)


def test_who_changes_which_project(people_of, projects):
    """By hand: administrators every project; staff their unit's and those in their charge."""
    editable = {
        who: {
            name for name, project in projects.items() if project_permissions.can_edit_project(user, project)
        }
        for who, user in people_of.items()
    }
    assert editable == {
        "admin": {"u1", "u2", "u2_in_charge"},
        "superuser": {"u1", "u2", "u2_in_charge"},
        "leader": set(),
        "reviewer": set(),
        "supervisor": set(),
        "staff_u1": {"u1"},
        "staff_no_unit": {"u2_in_charge"},
        "unit_u1": set(),
        "unit_no_unit": set(),
        "no_role": set(),
        "inactive_staff": set(),
    }
    for user in people_of.values():
        names = set(project_permissions.editable_projects(user).values_list("name", flat=True))
        assert names == {
            project.name
            for project in projects.values()
            if project_permissions.can_edit_project(user, project)
        }


def test_who_reads_and_handles_which_ticket(people_of, tickets):
    """By hand: zone-wide readers every ticket; a unit's handlers their unit's; administrators handle
    any; a handler without a unit and a user without a role nothing."""
    zone_wide = {"admin", "superuser", "leader", "reviewer", "supervisor", "staff_u1", "staff_no_unit"}
    for who, user in people_of.items():
        readable = {
            name for name, ticket in tickets.items() if problem_permissions.can_read_ticket(user, ticket)
        }
        handled = {name for name, ticket in tickets.items() if problem_permissions.is_unit_of(user, ticket)}
        expected_read = set(tickets) if who in zone_wide else {"u1"} if who == "unit_u1" else set()
        expected_handled = (
            set(tickets) if who in {"admin", "superuser"} else {"u1"} if who == "unit_u1" else set()
        )
        assert (readable, handled) == (expected_read, expected_handled), who
        listed = set(problem_permissions.readable_tickets(user).values_list("pk", flat=True))
        assert listed == {tickets[name].pk for name in expected_read}, who


def test_a_condition_python_cannot_read_is_asked_of_the_database(projects, units):
    u1, _u2 = units
    project = projects["u1"]
    assert matches(project, Q(responsible_unit__name="甲单位")) is True  # a join
    assert matches(project, Q(name__startswith="乙")) is False  # a lookup other than equality
    assert matches(project, ~Q(responsible_unit=u1) | Q(pk__in=[project.pk])) is True
    assert matches(project, Q(responsible_unit_id__in=[u1.pk]) & ~Q(name="甲单位的项目")) is False


def test_restrict_narrows_the_rows_it_is_given(people_of, projects):
    staff = people_of["staff_no_unit"]
    rows = Project.objects.filter(name__startswith="乙")
    assert list(restrict(staff, "project.edit", rows)) == [projects["u2_in_charge"]]
    assert not restrict(people_of["leader"], "project.edit", rows).exists()
    assert restrict(people_of["unit_no_unit"], "ticket.read").model is ProblemTicket


# --- Roles by code ---------------------------------------------------------------------------------


def test_renaming_a_group_in_the_admin_keeps_its_members_role(admin_client_zh):
    leader = UserFactory(roles=[Role.LEADER])
    group = role_group(Role.LEADER)
    url = reverse("admin:auth_group_change", args=[group.pk])
    assert "角色" in admin_client_zh.get(url).content.decode()  # the role shows on the group's page
    response = admin_client_zh.post(url, {"name": "市领导", "permissions": []})
    assert response.status_code == 302
    assert Group.objects.get(pk=group.pk).name == "市领导"

    leader = User.objects.get(pk=leader.pk)  # a new request
    assert roles_of(leader) == {Role.LEADER}
    assert list(people(role=Role.LEADER)) == [leader]
    sync_role_groups()  # the next migrate neither renames it back nor makes another 领导 group
    assert role_group(Role.LEADER).name == "市领导"
    assert not Group.objects.filter(name="领导").exists()


def test_the_group_list_shows_each_groups_role(admin_client_zh):
    Group.objects.create(name="临时小组")
    page = admin_client_zh.get(reverse("admin:auth_group_changelist")).content.decode()
    assert "角色" in page and "项目专员" in page and "临时小组" in page


def test_a_group_without_a_code_gives_no_role():
    user = UserFactory()
    user.groups.add(Group.objects.create(name="临时小组"))
    assert roles_of(user) == frozenset()


def test_a_group_named_like_a_role_but_without_its_code_gives_no_role():
    group = role_group(Role.ADMIN)
    group.name = "原管理员"
    group.save()
    RoleGroup.objects.filter(group=group).delete()
    user = UserFactory()
    user.groups.add(group)
    assert roles_of(user) == frozenset()
    sync_role_groups()  # the role gets a group of its default name again
    assert role_group(Role.ADMIN).name == "管理员"
    assert roles_of(User.objects.get(pk=user.pk)) == frozenset()


def test_sync_gives_a_new_group_when_the_default_name_carries_another_role():
    leaders = role_group(Role.LEADER)
    RoleGroup.objects.filter(code=Role.REVIEWER).delete()
    Group.objects.filter(name="审核员").update(name="原审核员")
    leaders.name = "审核员"  # an administrator gave the leaders' group the reviewers' name
    leaders.save()
    sync_role_groups()
    assert role_group(Role.LEADER).name == "审核员"
    assert role_group(Role.REVIEWER).name == "审核员（reviewer）"


def test_a_list_of_users_reads_their_roles_in_a_fixed_number_of_queries(django_assert_num_queries):
    for role in GROUP_NAMES:
        UserFactory(roles=[role, Role.UNIT])
    UserFactory().groups.add(Group.objects.create(name="临时小组"))
    with django_assert_num_queries(2):  # the users, then their groups with their codes
        found = [roles_of(user) for user in with_roles(User.objects.all())]
    assert sorted(map(len, found)) == [0, 1, 2, 2, 2, 2, 2]


def test_roles_of_one_user_is_one_query(django_assert_num_queries):
    user = UserFactory(roles=[Role.STAFF, Role.REVIEWER])
    user = User.objects.get(pk=user.pk)
    with django_assert_num_queries(1):
        assert roles_of(user) == {Role.STAFF, Role.REVIEWER}
        assert roles_of(user) == {Role.STAFF, Role.REVIEWER}  # kept on the user


# --- The migration ---------------------------------------------------------------------------------


def test_the_migration_gives_the_groups_named_after_roles_their_codes():
    RoleGroup.objects.all().delete()  # as before the migration: groups go by name
    Group.objects.create(name="临时小组")
    migration.attach_codes(apps, None)
    assert dict(RoleGroup.objects.values_list("group__name", "code")) == {
        "管理员": "admin",
        "领导": "leader",
        "审核员": "reviewer",
        "项目专员": "staff",
        "责任单位": "unit",
        "督办": "supervisor",
    }


def test_migrating_back_gives_renamed_groups_their_roles_names_again():
    Group.objects.filter(role__code=Role.LEADER).update(name="市领导")
    migration.restore_names(apps, None)
    assert role_group(Role.LEADER).name == "领导"
    assert set(Group.objects.filter(role__isnull=False).values_list("name", flat=True)) == set(
        GROUP_NAMES.values()
    )
