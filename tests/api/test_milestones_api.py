"""/api/milestones/: approval procedures — the procedure list's filters (the project filters
included, as on the page), the role matrix, versions and queries.

The filters use the dashboard tests' zone (March 2024): P1 and P2 are in park 甲, P5 in 丙; behind
schedule in March are P2 (12.5 % against 25 %), P5 (15 %) and P6 (5 %); P1 (31.1 %) and P3 (27.5 %)
are ahead and P4 has no plan.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.choices import MilestoneKind, MilestoneStatus
from projects.models import ApprovalMilestone
from tests.api.conftest import ROLES
from tests.api.matrix import CALLERS
from tests.api.matrix import expected_codes as expected
from tests.dashboard.test_dashboard import zone  # noqa: F401  (the fixture)
from tests.factories import ApprovalMilestoneFactory, DepartmentFactory, ProjectFactory

WHO = CALLERS
READERS = set(ROLES) - {"norole"}
EDITORS = {"admin", "staff_in"}
FILING, PERMIT = MilestoneKind.PROJECT_FILING, MilestoneKind.CONSTRUCTION_PERMIT


@pytest.fixture
def project(units):
    return ProjectFactory(name="海熙药业药品研发与智能生产项目", responsible_unit=units.U1)


def url(milestone=None):
    return "/api/milestones/" if milestone is None else f"/api/milestones/{milestone.pk}/"


# --- Reading -------------------------------------------------------------------------------------


def test_every_role_reads_milestones(api_as, project):
    unit = DepartmentFactory(name="发展改革委")
    milestone = ApprovalMilestoneFactory(project=project, department=unit, status=MilestoneStatus.IN_PROGRESS)
    assert {who: api_as(who).get(url()).status_code for who in WHO} == expected(READERS, 200)
    assert {who: api_as(who).get(url(milestone)).status_code for who in WHO} == expected(READERS, 200)
    response = api_as("leader").get(url(milestone))
    data = response.json()
    assert response["ETag"] == '"1"'
    assert {k: data[k] for k in ("project", "kind", "phase", "department", "department_name", "status")} == {
        "project": project.pk,
        "kind": "filing",
        "phase": 1,
        "department": unit.pk,
        "department_name": "发展改革委",
        "status": "in_progress",
    }


@pytest.fixture
def procedures(zone):  # noqa: F811
    """The zone's procedures by name, with three more: P3's filing (不涉及) and P6's permit in two phases."""
    z = zone
    ApprovalMilestoneFactory(project=z.P3, kind=FILING, status=MilestoneStatus.NOT_APPLICABLE)
    ApprovalMilestoneFactory(project=z.P6, kind=PERMIT, phase=1)
    ApprovalMilestoneFactory(project=z.P6, kind=PERMIT, phase=2)
    names = {
        (z.P1, FILING, 1): "p1_filing",  # done
        (z.P1, MilestoneKind.ENVIRONMENT, 1): "p1_environment",  # done
        (z.P1, PERMIT, 1): "p1_permit",  # in progress, planned 2024-02-01: overdue
        (z.P2, FILING, 1): "p2_filing",  # done
        (z.P2, MilestoneKind.LAND_TITLE, 1): "p2_land_title",  # not started, due in 2099
        (z.P2, MilestoneKind.ENERGY, 1): "p2_energy",  # 不涉及, planned 2024-01-01: never overdue
        (z.P3, FILING, 1): "p3_filing",
        (z.P5, FILING, 1): "p5_filing",  # in progress
        (z.P6, PERMIT, 1): "p6_permit_1",
        (z.P6, PERMIT, 2): "p6_permit_2",
    }
    return {
        names[(m.project, m.kind, m.phase)]: m for m in ApprovalMilestone.objects.select_related("project")
    }


def test_filters_mean_what_the_procedure_list_means(api_as, zone, procedures):  # noqa: F811
    client = api_as("leader")

    def names(query):
        response = client.get(url() + "?" + query)
        assert response.status_code == 200, response.json()
        found = {row["id"] for row in response.json()["results"]}
        return {name for name, m in procedures.items() if m.pk in found}

    assert names("") == set(procedures)
    assert names(f"park={zone.A.pk}&kind=filing") == {"p1_filing", "p2_filing"}
    assert names(f"park={zone.A.pk}") == {
        "p1_filing",
        "p1_environment",
        "p1_permit",
        "p2_filing",
        "p2_land_title",
        "p2_energy",
    }
    assert names("kind=filing&status=in_progress") == {"p5_filing"}
    assert names("overdue=true") == {"p1_permit"}
    assert names("lagging=true&year=2024&month=3") == {
        "p2_filing",
        "p2_land_title",
        "p2_energy",
        "p5_filing",
        "p6_permit_1",
        "p6_permit_2",
    }
    assert names("level=provincial&kind=filing") == {"p1_filing", "p5_filing"}
    assert names(f"responsible_unit={zone.U1.pk}&status=done&status=not_applicable") == {
        "p1_filing",
        "p1_environment",
        "p3_filing",
    }
    assert names(f"batch={zone.batch8.pk}&kind=construction_permit") == {"p6_permit_1", "p6_permit_2"}


def test_the_same_query_selects_the_same_rows_as_the_page(api_as, client, people, zone, procedures):  # noqa: F811
    query = {"park": zone.A.pk, "kind": "filing", "year": 2024, "month": 3}
    client.force_login(people["leader"])
    page = client.get(reverse("projects:milestone_list"), query).context["page"]
    api = api_as("leader").get(url(), query).json()["results"]
    assert (
        [row["id"] for row in api]
        == [m.pk for m in page]
        == [
            procedures["p1_filing"].pk,
            procedures["p2_filing"].pk,
        ]
    )


def test_filters_that_are_not_understood_answer_400(api_as, zone, procedures):  # noqa: F811
    client = api_as("leader")
    for query in ("park=999999", "kind=nothing", "overdue=maybe", "year=abc", "month=13"):
        response = client.get(url() + "?" + query)
        assert response.status_code == 400, query
        assert set(response.json()) == {query.split("=")[0]}


@pytest.mark.history_bypass("bulk test data")
def test_the_list_runs_a_fixed_number_of_queries(api_as, units, django_assert_max_num_queries):
    unit = DepartmentFactory(name="自然资源局")
    projects = [ProjectFactory(responsible_unit=units.U1) for _ in range(21)]
    ApprovalMilestone.objects.bulk_create(
        ApprovalMilestone(project=projects[0], kind=kind, department=unit) for kind in (FILING, PERMIT)
    )
    client = api_as("leader")
    client.get(url())
    with CaptureQueriesContext(connection) as few:
        client.get(url() + "?page_size=500")
    ApprovalMilestone.objects.bulk_create(
        ApprovalMilestone(project=p, kind=kind, department=unit)
        for p in projects[1:]
        for kind in MilestoneKind
    )
    assert ApprovalMilestone.objects.count() >= 200
    with django_assert_max_num_queries(len(few)):
        response = client.get(url() + "?page_size=500&level=zone")
    assert len(response.json()["results"]) == ApprovalMilestone.objects.count()
    # token, user, roles, the default period (the latest published month, none here: then the latest
    # approved one), count, page
    assert len(few) <= 7


# --- Creating ------------------------------------------------------------------------------------


def test_who_may_add_a_procedure(api_as, people, units):
    got = {}
    for who in WHO:
        target = ProjectFactory(responsible_unit=units.U1)
        body = {
            "project": target.pk,
            "kind": "environment",
            "status": "in_progress",
            "planned_date": "2024-05-01",
        }
        response = api_as(who).post(url(), body, format="json")
        got[who] = response.status_code
        milestones = ApprovalMilestone.objects.filter(project=target)
        if response.status_code == 201:
            milestone = milestones.get()
            assert (milestone.kind, milestone.status, milestone.planned_date, milestone.version) == (
                "environment",
                "in_progress",
                datetime.date(2024, 5, 1),
                1,
            )
            assert milestone.history.get().history_user == people[who]
        else:
            assert not milestones.exists()
    assert got == expected(EDITORS, 201)


def test_bad_procedures_answer_400(api_as, project):
    ApprovalMilestoneFactory(project=project, kind=FILING)
    client = api_as("staff_in", language="en")

    def refused(body):
        response = client.post(url(), {"project": project.pk, **body}, format="json")
        assert response.status_code == 400
        return response.json()

    assert refused({"kind": "energy", "status": "done"}) == {
        "non_field_errors": ["A procedure that is done needs its completion date."]
    }
    assert refused({"kind": "energy", "phase": 2}) == {
        "non_field_errors": ["Only the construction permit has phases, and at most three."]
    }
    assert set(refused({"kind": PERMIT, "phase": 4})) == {"phase"}
    assert refused({"kind": "filing"}) == {"non_field_errors": ["This project already has that procedure."]}
    assert set(refused({"kind": "visa"})) == {"kind"}
    assert ApprovalMilestone.objects.count() == 1
    in_chinese = api_as("staff_in").post(url(), {"project": project.pk, "kind": "filing"}, format="json")
    assert in_chinese.json() == {"non_field_errors": ["该项目已有这项审批手续。"]}


# --- Changing ------------------------------------------------------------------------------------


def test_who_may_record_progress_on_a_procedure(api_as, project, people):
    got = {}
    for who in WHO:
        milestone = ApprovalMilestoneFactory(project=project, kind=PERMIT, phase=1 + WHO.index(who) % 3)
        body = {
            "status": "done",
            "completed_date": "2024-03-01",
            "document_number": "周开建〔2024〕3号",
            "version": 1,
        }
        response = api_as(who).patch(url(milestone), body, format="json")
        got[who] = response.status_code
        milestone.refresh_from_db()
        if response.status_code == 200:
            assert (milestone.status, milestone.completed_date, milestone.version) == (
                "done",
                datetime.date(2024, 3, 1),
                2,
            )
            assert response["ETag"] == '"2"'
            assert milestone.history.first().history_user == people[who]
        else:
            assert (milestone.status, milestone.version) == ("not_started", 1)
        milestone.delete()
    assert got == expected(EDITORS, 200)


def test_versions_and_the_fields_that_name_the_procedure(api_as, project):
    milestone = ApprovalMilestoneFactory(project=project, kind=FILING)
    client = api_as("staff_in", language="en")
    missing = client.patch(url(milestone), {"status": "in_progress"}, format="json")
    assert missing.status_code == 400 and set(missing.json()) == {"version"}
    assert (
        client.patch(url(milestone), {"status": "in_progress", "version": 1}, format="json").status_code
        == 200
    )
    assert client.patch(url(milestone), {"note": "x", "version": 1}, format="json").status_code == 409
    assert client.patch(url(milestone), {"note": "x"}, format="json", HTTP_IF_MATCH='"1"').status_code == 412
    kind = client.patch(url(milestone), {"kind": "energy", "version": 2}, format="json")
    assert kind.status_code == 400
    assert kind.json() == {"kind": ["This cannot be changed once the record exists."]}
    milestone.refresh_from_db()
    assert (milestone.kind, milestone.status, milestone.note, milestone.version) == (
        FILING,
        "in_progress",
        "",
        2,
    )

    full = {
        "project": project.pk,
        "kind": "filing",
        "phase": 1,
        "department": None,
        "status": "done",
        "planned_date": None,
        "completed_date": "2024-04-02",
        "document_number": "豫周开备〔2024〕12号",
        "note": "",
    }
    response = client.put(url(milestone), full, format="json", HTTP_IF_MATCH='"2"')
    assert response.status_code == 200, response.json()
    milestone.refresh_from_db()
    assert (milestone.status, milestone.document_number, milestone.version) == (
        "done",
        "豫周开备〔2024〕12号",
        3,
    )


def test_procedures_are_never_deleted(api_as, project):
    milestone = ApprovalMilestoneFactory(project=project)
    assert api_as("admin").delete(url(milestone)).status_code == 405
    assert ApprovalMilestone.objects.filter(pk=milestone.pk).exists()
