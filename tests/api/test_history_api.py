"""/api/changes/ and /api/{projects,enterprises,tickets}/{id}/history/: read-only history, with the
pages' permissions and the same entries (core/changelog.py builds both)."""

import pytest

from problems import services
from tests.api.matrix import CALLERS, expected_codes
from tests.factories import EnterpriseFactory, ProjectFactory, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(people, units):
    project = ProjectFactory(name="历史项目", responsible_unit=units.U1, location="一期")
    project.location = "二期"
    project._history_user = people["staff_in"]
    project.save()
    return project


def test_only_leaders_and_admins_read_the_change_log(api_as, project):
    codes = {who: api_as(who).get("/api/changes/").status_code for who in CALLERS}
    assert codes == expected_codes({"admin", "leader"}, 200)


def test_the_change_log_lists_field_changes_with_who_and_via_what(api_as, people, project):
    response = api_as("leader").get(
        "/api/changes/", {"model": "projects.project", "user": people["staff_in"].pk}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    change = body["results"][0]
    assert (change["model"], change["object_id"], change["object"], change["action"]) == (
        "projects.project",
        project.pk,
        "历史项目",
        "changed",
    )
    assert change["user"] == people["staff_in"].pk and change["origin"] == "command"
    assert change["changes"] == [{"field": "location", "label": "建设地点", "old": "一期", "new": "二期"}]


def test_bad_filters_are_field_errors(api_as, project):
    response = api_as("leader").get("/api/changes/", {"date_from": "2024-13-01", "origin": "fax"})
    assert response.status_code == 400
    assert set(response.json()) >= {"date_from", "origin"}


def test_a_records_history_follows_the_records_own_read_permission(api_as, people, units, project):
    enterprise = EnterpriseFactory(name="历史企业")
    ticket = make_ticket(user=people["supervisor"], enterprise=enterprise, title="历史问题")
    services.ticket_assign(ticket=ticket, user=people["supervisor"], unit=units.U1)
    for record, history in [
        (f"/api/projects/{project.pk}/", f"/api/projects/{project.pk}/history/"),
        (f"/api/enterprises/{enterprise.pk}/", f"/api/enterprises/{enterprise.pk}/history/"),
        (f"/api/tickets/{ticket.pk}/", f"/api/tickets/{ticket.pk}/history/"),
    ]:
        for who in CALLERS:
            client = api_as(who)
            assert client.get(history).status_code == client.get(record).status_code, (history, who)


def test_a_projects_history_has_its_changes_and_narrows_by_field(api_as, project):
    client = api_as("reviewer")
    body = client.get(f"/api/projects/{project.pk}/history/").json()
    assert [c["action"] for c in body["results"]] == ["changed", "created"]
    assert body["results"][0]["changes"][0]["new"] == "二期"
    # Set at creation and changed once; its name only at creation.
    narrowed = client.get(f"/api/projects/{project.pk}/history/", {"field": "location"}).json()
    assert [[c["new"] for c in e["changes"] if c["field"] == "location"] for e in narrowed["results"]] == [
        ["二期"],
        ["一期"],
    ]
    assert client.get(f"/api/projects/{project.pk}/history/", {"field": "name"}).json()["count"] == 1
    assert client.get(f"/api/projects/{project.pk}/history/", {"field": "nonsense"}).status_code == 400
    assert client.get("/api/projects/999999/history/").status_code == 404


def test_history_cannot_be_written_through_the_api(api_as, project):
    client = api_as("admin")
    for url in ("/api/changes/", f"/api/projects/{project.pk}/history/"):
        for method in ("post", "put", "patch", "delete"):
            assert getattr(client, method)(url, {}, format="json").status_code == 405, (method, url)
    assert project.history.count() == 2
