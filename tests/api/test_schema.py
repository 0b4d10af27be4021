"""The OpenAPI schema: served to signed-in users, valid without warnings, committed, and documented in pages
that load nothing from the network."""

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from django.conf import settings

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The schema as `make schema` writes it, in a fresh process (as CI and developers run it)."""
    target = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    # --fail-on-warn: any warning of drf-spectacular (an unguessable type, a clashing enum) fails.
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--lang", "en", "--validate", "--fail-on-warn",
         "--file", str(target)],
        cwd=settings.BASE_DIR,
        # As `make schema`: PostgreSQL's integer limits whichever database the tests run on.
        env={**os.environ, "DATABASE_URL": "postgres://schema@127.0.0.1:1/schema"},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "Error" not in result.stderr, result.stderr
    return target.read_text()


def test_the_committed_schema_is_current(generated):
    assert COMMITTED.read_text() == generated, (
        "The API changed: run `make schema` and commit docs/openapi.yaml."
    )


def test_the_schema_describes_every_resource_its_errors_and_the_token(generated):
    schema = yaml.safe_load(generated)
    paths = schema["paths"]
    for resource in ("projects", "stage-changes", "parks", "departments", "tokens", "dashboard/summary"):
        assert f"/api/{resource}/" in paths, resource
    patch = paths["/api/projects/{id}/"]["patch"]
    assert {"200", "400", "401", "403", "404", "409", "412", "429"} <= set(patch["responses"])
    assert any(p["name"] == "If-Match" for p in patch["parameters"])
    listing = paths["/api/projects/"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"park", "level", "ordering", "page", "page_size", "year", "month", "q", "lagging"} <= names
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"',
    }
    project = schema["components"]["schemas"]["Project"]["properties"]
    assert (
        project["total_investment"]["type"] == "string" and project["total_investment"]["format"] == "decimal"
    )
    assert schema["components"]["schemas"]["Stage"]["enum"] == list(range(1, 10))


def test_signed_out_the_docs_pages_send_the_browser_to_log_in(client, db, api_as):
    for page in ("/api/docs/", "/api/redoc/", "/api/docs/?script="):
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"] == "/accounts/login/?next=" + quote(page, safe="/"), page
    # API clients keep the API's answers: the schema is a 401, and a token opens the docs.
    assert client.get("/api/schema/").status_code == 401
    assert api_as("leader").get("/api/docs/").status_code == 200


def test_the_schema_and_docs_are_for_signed_in_users(client, db, api_as):
    assert api_as(None).get("/api/schema/").status_code == 401
    response = api_as("leader").get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "/api/projects/" in response.json()["paths"]

    from core.roles import Role
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="docs_reader", roles=[Role.STAFF]))
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    assert all(s.startswith("/") for s in sources), sources  # no CDN: everything from our own server
    assert client.get("/api/redoc/").status_code == 200
