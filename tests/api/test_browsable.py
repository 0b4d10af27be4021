"""The browsable API: a signed-in browser reads every list and record as HTML, forms it may not use
left out, never a 403 page for something it may read."""

import pytest

from tests.factories import ProjectFactory, make_ticket


@pytest.mark.parametrize("who", ["leader", "staff_out", "unit_in"])
def test_readers_browse_the_api_in_html(who, client, people, units):
    project = ProjectFactory(responsible_unit=units.U1)
    ticket = make_ticket(user=people["admin"])
    client.force_login(people[who])
    urls = ["/api/", "/api/projects/", f"/api/projects/{project.pk}/", "/api/parks/", "/api/progress/"]
    if who != "unit_in":
        urls.append(f"/api/tickets/{ticket.pk}/")
    for url in urls:
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html")
    # The staff member outside the unit sees no PUT form on the project; nobody without the role a POST.
    page = client.get(f"/api/projects/{project.pk}/", HTTP_ACCEPT="text/html").content.decode()
    assert ('id="put-generic-content-form"' in page) is False
