"""显示设置 (issue 22, 适老化): a user's text size is saved on their account, follows them from login
to login, is applied to every page as a class on <html>, and only ever changes their own."""

import re

import pytest
from django.urls import reverse

from core.models import TextSize, User
from core.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("display_settings")


def html_class(response) -> str | None:
    """The class attribute of the page's <html>, None when it has none."""
    opening = re.search(r"<html[^>]*>", response.content.decode()).group(0)
    found = re.search(r'class="([^"]*)"', opening)
    return found.group(1) if found else None


def test_the_page_offers_the_three_sizes_with_the_current_one_chosen(client):
    user = UserFactory(roles=[Role.STAFF], text_size=TextSize.LARGE)
    client.force_login(user)

    page = client.get(URL).content.decode()

    assert "标准（100%）" in page and "大（125%）" in page and "特大（150%）" in page
    assert re.search(r'<input[^>]*value="large"[^>]*checked', page)
    assert not re.search(r'<input[^>]*value="larger"[^>]*checked', page)
    assert f'href="{URL}"' in page  # offered in the user menu


def test_a_chosen_size_is_saved_recorded_and_applied_to_every_page(client):
    user = UserFactory(roles=[Role.STAFF])
    client.force_login(user)
    assert html_class(client.get(reverse("projects:list"))) is None
    versions = user.history.count()

    response = client.post(URL, {"text_size": "larger"})

    assert response.status_code == 302 and response["Location"] == URL
    user.refresh_from_db()
    assert user.text_size == "larger"
    assert user.history.count() == versions + 1  # the change is in the user's history
    assert html_class(client.get(reverse("projects:list"))) == "text-larger"
    assert html_class(client.get(reverse("home"))) == "text-larger"
    assert html_class(client.get(URL)) == "text-larger"


def test_the_size_survives_logging_out_and_in_again(client):
    UserFactory(username="older", roles=[Role.LEADER])
    credentials = {"username": "older", "password": "test-pass-123"}
    assert client.post(reverse("login"), credentials).status_code == 302
    client.post(URL, {"text_size": "large"})

    client.post(reverse("logout"))
    assert html_class(client.get(reverse("login"))) is None  # the login page: the browser's size
    assert client.post(reverse("login"), credentials).status_code == 302

    assert html_class(client.get(reverse("projects:list"))) == "text-large"


def test_back_to_standard_takes_the_class_away(client):
    user = UserFactory(roles=[Role.STAFF], text_size=TextSize.LARGER)
    client.force_login(user)

    client.post(URL, {"text_size": "standard"})

    assert html_class(client.get(reverse("projects:list"))) is None


def test_an_unknown_size_is_refused(client):
    user = UserFactory(roles=[Role.STAFF])
    client.force_login(user)

    response = client.post(URL, {"text_size": "huge"})

    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    user.refresh_from_db()
    assert user.text_size == "standard"


def test_a_user_changes_only_their_own_size(client):
    me = UserFactory(roles=[Role.STAFF])
    other = UserFactory(roles=[Role.STAFF])
    client.force_login(me)

    client.post(URL, {"text_size": "larger", "user": other.pk, "id": other.pk, "username": other.username})

    assert User.objects.get(pk=other.pk).text_size == "standard"
    assert User.objects.get(pk=me.pk).text_size == "larger"
    assert User.objects.get(pk=me.pk).username == me.username  # only the size is taken from the form


def test_someone_not_logged_in_is_sent_to_log_in_and_changes_nothing(client):
    user = UserFactory(roles=[Role.STAFF])

    for response in (client.get(URL), client.post(URL, {"text_size": "larger"})):
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    user.refresh_from_db()
    assert user.text_size == "standard"


def test_the_post_needs_the_csrf_token():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    user = UserFactory(roles=[Role.STAFF])
    client.force_login(user)

    assert client.post(URL, {"text_size": "larger"}).status_code == 403
    user.refresh_from_db()
    assert user.text_size == "standard"


def test_an_administrator_sets_it_in_the_admin(admin_client):
    user = UserFactory(roles=[Role.STAFF])

    page = admin_client.get(reverse("admin:core_user_change", args=[user.pk])).content.decode()

    assert 'name="text_size"' in page
