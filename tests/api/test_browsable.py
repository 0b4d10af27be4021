"""The browsable API: a signed-in browser reads every list and record as HTML, forms it may not use
left out, never a 403 page for something it may read."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.api.tokens import create_token
from problems.services import attachment_add
from projects.choices import ProgressStatus
from projects.services import photo_add
from tests.factories import (
    AnnualPlanFactory,
    ApprovalMilestoneFactory,
    BatchMembershipFactory,
    ClusterFactory,
    LeaderFactory,
    MonthlyProgressFactory,
    ProjectFactory,
    StageChangeFactory,
    VisitFactory,
    make_ticket,
)
from tests.security.test_anonymous import routes


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


def image_upload():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, "PNG")
    return SimpleUploadedFile("现场.png", buffer.getvalue(), content_type="image/png")


def records_by_prefix(people, units) -> dict[str, int]:
    """One record behind each route that takes an id, by the route's first segment under /api/."""
    admin = people["admin"]
    project = ProjectFactory(responsible_unit=units.U1)
    report = MonthlyProgressFactory(project=project, status=ProgressStatus.DRAFT)
    membership = BatchMembershipFactory(project=project)
    ticket = make_ticket(user=admin, enterprise=project.enterprise)
    token, _secret = create_token(admin, name="浏览", days=1)
    photo = photo_add(report=report, user=admin, upload=image_upload())
    attachment = attachment_add(
        ticket=ticket, user=admin, upload=SimpleUploadedFile("回复.pdf", b"%PDF-1.4\n%%EOF\n")
    )
    return {
        "departments": units.U1.pk,
        "parks": project.park_id,
        "clusters": ClusterFactory().pk,
        "industries": project.industry_id,
        "leaders": LeaderFactory().pk,
        "users": admin.pk,
        "tokens": token.pk,
        "projects": project.pk,
        "stage-changes": StageChangeFactory(project=project).pk,
        "annual-plans": AnnualPlanFactory(project=project).pk,
        "progress": report.pk,
        "photos": photo.pk,
        "milestones": ApprovalMilestoneFactory(project=project).pk,
        "batches": membership.batch_id,
        "batch-memberships": membership.pk,
        "enterprises": project.enterprise_id,
        "visits": VisitFactory(enterprise=project.enterprise).pk,
        "tickets": ticket.pk,
        "attachments": attachment.pk,
    }


def test_every_api_endpoint_renders_as_html_for_an_administrator(client, people, units, settings, tmp_path):
    """Every route under /api/ (the router's and the hand-written ones, walked from the URL conf so a
    new endpoint is covered), asked for HTML by a signed-in administrator: whatever the answer, it
    is not a server error."""
    settings.MEDIA_ROOT = tmp_path
    ids = records_by_prefix(people, units)
    client.force_login(people["admin"])
    client.raise_request_exception = False  # collect every failing route, not only the first
    checked, failures = 0, []
    for name, namespaces, address in routes():
        if "api" not in namespaces or address is None or address.endswith(("json", "json/")):
            continue
        segments = address.removeprefix("/api/").split("/")
        if len(segments) > 1 and segments[1] == "1":
            if segments[0] not in ids:
                failures.append(f"{name}: add a {segments[0]} record to records_by_prefix")
                continue
            segments[1] = str(ids[segments[0]])
        url = "/api/" + "/".join(segments)
        response = client.get(url, HTTP_ACCEPT="text/html")
        checked += 1
        if response.status_code >= 500:
            failures.append(f"{name} {url} → {response.status_code}")
    assert not failures, "\n".join(failures)
    # The router's routes and the hand-written ones: a walk that found nothing would pass too.
    assert checked > 60
