"""The role groups exist on every install, with their baseline permissions."""

import pytest
from django.contrib.auth.models import Group

from core.roles import GROUP_NAMES, Role, roles_of, sync_role_groups
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def perms(role):
    group = Group.objects.get(name=GROUP_NAMES[role])
    return set(group.permissions.values_list("content_type__app_label", "codename"))


def test_migrate_creates_the_six_role_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "管理员",
        "领导",
        "审核员",
        "项目专员",
        "责任单位",
        "督办",
    }


def test_baseline_permissions():
    assert ("projects", "change_project") in perms(Role.STAFF)
    assert ("projects", "add_monthlyprogress") in perms(Role.STAFF)
    assert ("projects", "review_monthlyprogress") not in perms(Role.STAFF)
    assert ("projects", "review_monthlyprogress") in perms(Role.REVIEWER)
    assert ("projects", "change_project") not in perms(Role.LEADER)
    assert ("projects", "view_project") in perms(Role.UNIT)
    assert ("auth", "change_group") in perms(Role.ADMIN)
    assert ("problems", "change_problemticket") in perms(Role.SUPERVISOR)
    assert ("problems", "change_problemticket") not in perms(Role.STAFF)
    assert ("problems", "view_problemticket") in perms(Role.UNIT)
    assert ("projects", "change_project") not in perms(Role.SUPERVISOR)


def test_sync_keeps_permissions_an_admin_added():
    leader = Group.objects.get(name=GROUP_NAMES[Role.LEADER])
    extra = Group.objects.get(name=GROUP_NAMES[Role.STAFF]).permissions.get(codename="change_project")
    leader.permissions.add(extra)
    sync_role_groups()
    assert ("projects", "change_project") in perms(Role.LEADER)


def test_roles_of_a_user():
    user = UserFactory(roles=[Role.STAFF, Role.REVIEWER])
    assert roles_of(user) == {Role.STAFF, Role.REVIEWER}
    assert roles_of(UserFactory(is_superuser=True)) == {Role.ADMIN}
    assert roles_of(UserFactory(is_active=False, roles=[Role.STAFF])) == frozenset()
