"""The page frame every page shares: who the menu offers 管理后台 (Django admin) to, and what logging
out says."""

import pytest
from django.urls import reverse

from core.roles import Role
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_LINK = f'<a class="nav-link" href="{reverse("admin:index")}">管理后台</a>'


@pytest.mark.parametrize(
    ("roles", "is_staff", "offered"),
    [
        ([Role.ADMIN], True, True),  # users, reference data, batches
        ([Role.STAFF], True, True),  # annual plans are kept there
        ([Role.SUPERVISOR], True, True),  # the office keeps the enterprise records there
        ([Role.LEADER], True, False),  # read only there: the pages show them everything
        ([Role.REVIEWER], True, False),
        ([Role.UNIT], True, False),
        ([Role.STAFF], False, False),  # the admin would not let them in
    ],
)
def test_the_admin_link_is_for_the_roles_that_keep_records_there(client, roles, is_staff, offered):
    user = UserFactory(roles=roles, is_staff=is_staff, department=DepartmentFactory())
    client.force_login(user)

    page = client.get(reverse("projects:list")).content.decode()

    assert (ADMIN_LINK in page) is offered


def test_a_superuser_is_offered_the_admin(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    assert ADMIN_LINK in client.get(reverse("projects:list")).content.decode()


def test_logging_out_says_so_on_the_log_in_page(client):
    client.force_login(UserFactory(roles=[Role.STAFF]))

    response = client.post(reverse("logout"), follow=True)

    assert response.redirect_chain == [(reverse("login"), 302)]
    assert "您已退出登录。" in response.content.decode()
    # Only once: the next visit to the log-in page says nothing more.
    assert "已退出" not in client.get(reverse("login")).content.decode()


def test_logging_out_when_signed_out_says_nothing(client):
    response = client.post(reverse("logout"), follow=True)

    assert "已退出" not in response.content.decode()
