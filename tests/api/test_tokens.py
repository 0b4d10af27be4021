"""API tokens: a user creates, uses and revokes their own, in the UI and through the API."""

import datetime
import re

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import ApiToken
from core.roles import Role
from tests.factories import UserFactory


@pytest.fixture
def staff(db):
    return UserFactory(username="zhuanyuan", roles=[Role.STAFF])


def token_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_create_a_token_in_the_ui_see_it_once_use_it_and_revoke_it(client, staff):
    client.force_login(staff)
    page = client.get("/accounts/tokens/")
    assert page.status_code == 200
    assert "您还没有 API 令牌。" in page.content.decode()

    response = client.post("/accounts/tokens/", {"name": "省平台同步", "days": "30"}, follow=True)
    html = response.content.decode()
    secret = re.search(r'id="new-token-secret">([^<]+)<', html).group(1)
    assert secret.startswith("zp_")
    token = ApiToken.objects.get(user=staff)
    assert token.name == "省平台同步"
    assert token.digest != secret and secret not in token.digest  # only a hash is kept
    assert abs(token.expiry - (timezone.now() + datetime.timedelta(days=30))) < datetime.timedelta(minutes=1)
    assert "省平台同步" in html and token.token_key in html
    # Shown once: the next visit no longer has it.
    assert secret not in client.get("/accounts/tokens/").content.decode()

    api = token_client(secret)
    assert api.get("/api/projects/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    revoked = client.post(f"/accounts/tokens/{token.token_key}/revoke/", follow=True)
    assert revoked.status_code == 200
    assert not ApiToken.objects.filter(user=staff).exists()
    assert api.get("/api/projects/").status_code == 401


def test_a_token_needs_a_name(client, staff):
    client.force_login(staff)
    response = client.post("/accounts/tokens/", {"name": "  ", "days": "30"})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_tokens_without_expiry_and_expired_tokens(staff):
    from core.api.tokens import create_token

    forever, secret = create_token(staff, name="长期", days=None)
    assert forever.expiry is None
    assert token_client(secret).get("/api/projects/").status_code == 200

    old, old_secret = create_token(staff, name="过期", days=1)
    ApiToken.objects.filter(pk=old.pk).update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    assert token_client(old_secret).get("/api/projects/").status_code == 401
    assert token_client("zp_not-a-real-token").get("/api/projects/").status_code == 401


def test_nobody_sees_or_revokes_anothers_tokens(client, staff):
    other = UserFactory(username="other", roles=[Role.LEADER])
    from core.api.tokens import create_token

    theirs, _secret = create_token(other, name="别人的", days=30)
    client.force_login(staff)
    assert "别人的" not in client.get("/accounts/tokens/").content.decode()
    assert client.post(f"/accounts/tokens/{theirs.token_key}/revoke/").status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists()

    mine, secret = create_token(staff, name="我的", days=30)
    api = token_client(secret)
    assert [t["name"] for t in api.get("/api/tokens/").json()] == ["我的"]
    assert api.delete(f"/api/tokens/{theirs.token_key}/").status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists()


def test_tokens_through_the_api(staff):
    from core.api.tokens import create_token

    _first, secret = create_token(staff, name="脚本", days=30)
    api = token_client(secret)
    created = api.post("/api/tokens/", {"name": "第二个", "expires_in_days": 7}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith(body["id"])
    assert token_client(body["token"]).get("/api/projects/").status_code == 200
    assert api.get("/api/tokens/").json()[0]["name"] == "第二个"
    assert "token" not in api.get("/api/tokens/").json()[0]  # the secret is never shown again

    bad = api.post("/api/tokens/", {"name": "", "expires_in_days": 0}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"name", "expires_in_days"}

    assert api.delete(f"/api/tokens/{body['id']}/").status_code == 204
    assert token_client(body["token"]).get("/api/projects/").status_code == 401


def test_the_token_page_needs_a_login_and_a_role(client, db):
    assert client.get("/accounts/tokens/").status_code == 302
    client.force_login(UserFactory(username="norole"))
    assert client.get("/accounts/tokens/").status_code == 403
    assert client.post("/accounts/tokens/", {"name": "x", "days": "30"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_the_user_menu_links_to_tokens_and_docs(client, staff):
    client.force_login(staff)
    html = client.get("/").content.decode()
    assert 'href="/accounts/tokens/"' in html and 'href="/api/docs/"' in html


def test_administrators_see_and_revoke_tokens_in_the_admin(admin_client_zh, staff):
    from core.api.tokens import create_token

    token, secret = create_token(staff, name="省平台同步", days=30)
    listing = admin_client_zh.get("/admin/core/apitoken/").content.decode()
    assert "省平台同步" in listing and token.token_key in listing and secret not in listing
    assert admin_client_zh.get("/admin/core/apitoken/add/").status_code == 403
    response = admin_client_zh.post(f"/admin/core/apitoken/{token.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert token_client(secret).get("/api/projects/").status_code == 401
