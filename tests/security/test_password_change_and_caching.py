"""A new password revokes the user's API tokens, by every way a password is set; what a signed-in user
is sent carries Cache-Control (private, or no-store where a token's secret may show)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from core.api.tokens import create_token
from core.models import ApiToken
from core.roles import Role
from problems.services import attachment_add
from projects.choices import ProgressStatus
from projects.services import photo_add
from tests.factories import MonthlyProgressFactory, ProjectFactory, UserFactory, make_ticket

pytestmark = pytest.mark.django_db

PASSWORD = "test-pass-123"  # the factories' password
NEW = "Zhoukou-2024-kaifaqu"


def token_works(secret: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client.get(reverse("api:project-list")).status_code == 200


@pytest.fixture
def wang():
    return UserFactory(username="wang", roles=[Role.STAFF])


@pytest.fixture
def tokens(wang):
    """Two tokens of wang's, and one of a colleague's that must survive."""
    colleague = UserFactory(username="zhao", roles=[Role.STAFF])
    mine = [create_token(wang, name=name, days=30)[1] for name in ("同步", "报表")]
    theirs = create_token(colleague, name="同步", days=30)[1]
    assert all(token_works(secret) for secret in [*mine, theirs])
    return mine, theirs


def change_own(client, old=PASSWORD):
    return client.post(
        reverse("password_change"), {"old_password": old, "new_password1": NEW, "new_password2": NEW}
    )


def test_changing_ones_password_revokes_ones_tokens(client, wang, tokens):
    mine, theirs = tokens
    client.force_login(wang)
    assert change_own(client).status_code == 302
    assert not any(token_works(secret) for secret in mine)
    assert not ApiToken.objects.filter(user=wang).exists()
    assert token_works(theirs)


def test_a_refused_change_keeps_the_tokens(client, wang, tokens):
    mine, _theirs = tokens
    client.force_login(wang)
    assert change_own(client, old="wrong-pass-1").status_code == 200
    assert all(token_works(secret) for secret in mine)


def test_the_forced_change_revokes_the_tokens(client, tokens):
    wang = UserFactory(username="wang")  # the fixture's user, now told to choose a new password
    wang.must_change_password = True
    wang.save(update_fields=["must_change_password"])
    mine, _theirs = tokens
    client.force_login(wang)
    assert client.get(reverse("home")).url == reverse("password_change")
    assert change_own(client).status_code == 302
    wang.refresh_from_db()
    assert wang.must_change_password is False
    assert not any(token_works(secret) for secret in mine)


def test_an_administrator_setting_the_password_revokes_the_tokens(admin_client_zh, wang, tokens):
    mine, theirs = tokens
    url = reverse("admin:auth_user_password_change", args=[wang.pk])
    response = admin_client_zh.post(url, {"password1": NEW, "password2": NEW, "usable_password": "true"})
    assert response.status_code == 302
    wang.refresh_from_db()
    assert wang.check_password(NEW)
    assert not any(token_works(secret) for secret in mine)
    assert token_works(theirs)


# --- Cache-Control ------------------------------------------------------------------------------


def test_signed_in_pages_and_api_answers_are_private(client, wang):
    client.force_login(wang)
    for name in ["home", "projects:list"]:
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-cache", name
    _token, secret = create_token(wang, name="脚本", days=1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get(reverse("api:project-list"))["Cache-Control"] == "private, no-cache"


def test_the_page_that_shows_a_new_secret_is_never_stored(client, wang):
    client.force_login(wang)
    assert client.get(reverse("api_tokens"))["Cache-Control"] == "no-store"
    response = client.post(reverse("api_tokens"), {"name": "省平台同步", "days": "30"}, follow=True)
    secret_shown = response.content.decode()
    assert "zp_" in secret_shown
    assert response["Cache-Control"] == "no-store"
    api = APIClient()
    api.force_authenticate(wang)
    created = api.post(reverse("api:token-list"), {"name": "脚本"}, format="json")
    assert created.status_code == 201 and created["Cache-Control"] == "no-store"


def test_photos_and_attachments_are_private_and_checked_again(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    admin = UserFactory(username="guan", roles=[Role.ADMIN])
    report = MonthlyProgressFactory(project=ProjectFactory(), status=ProgressStatus.DRAFT)
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, "PNG")
    photo = photo_add(report=report, user=admin, upload=SimpleUploadedFile("现场.png", buffer.getvalue()))
    ticket = make_ticket(user=admin)
    attachment = attachment_add(
        ticket=ticket, user=admin, upload=SimpleUploadedFile("回复.pdf", b"%PDF-1.4\n%%EOF\n")
    )
    client.force_login(admin)
    _token, secret = create_token(admin, name="脚本", days=1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    answers = [
        client.get(reverse("projects:photo_file", args=[photo.pk, "thumb"])),
        api.get(reverse("api:photo-file", args=[photo.pk, "full"])),
        client.get(reverse("enterprises:attachment", args=[attachment.pk])),
        api.get(reverse("api:attachment-file", args=[attachment.pk])),
    ]
    assert [(a.status_code, a["Cache-Control"]) for a in answers] == [(200, "private, no-cache")] * 4
