"""/api/projects/ and /api/stage-changes/: the role matrix, the figures, filters, versions and queries.

The figures use the dashboard tests' hand-built zone (March 2024, 时序进度 25 %):
P1 plan 10000, approved Jan–Mar 3110 → 完成率 0.3110, 6.10 points above schedule;
P2 plan 8000, approved 1000 (+600 submitted in March) → 0.1250, −12.50 points (with the submitted
600: 1600 → 0.2000, −5.00); P4 has no plan → no rate; P5 plan 6000, 900 → 0.1500, −10.00.
"""

import datetime
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.utils import timezone

from core.roles import Role
from projects import figures, selectors
from projects.choices import Level, Stage
from projects.filtersets import ProjectFilterSet
from projects.models import Project, StageChange
from tests.dashboard.test_dashboard import zone  # noqa: F401  (the fixture)
from tests.factories import (
    AnnualPlanFactory,
    EnterpriseFactory,
    MonthlyProgressFactory,
    ParkFactory,
    ProjectFactory,
    StageChangeFactory,
    UserFactory,
)

EVERYONE = ["admin", "leader", "reviewer", "supervisor", "staff_in", "staff_out", "unit_in", "unit_out"]
EDITORS = {"admin", "staff_in"}  # of a project whose responsible unit is U1


@pytest.fixture
def project(units):
    """A project of unit U1, with its stage history."""
    p = ProjectFactory(
        name="年产10万吨食品加工项目", responsible_unit=units.U1, level=Level.ZONE, stage=Stage.SIGNED
    )
    StageChangeFactory(
        project=p, from_stage=None, to_stage=Stage.SIGNED, changed_on=datetime.date(2024, 1, 5)
    )
    return p


def status_of(response) -> int:
    return response.status_code


# --- Reading ------------------------------------------------------------------------------------


def test_every_role_reads_projects_anonymous_and_roleless_do_not(api_as, project):
    for who in EVERYONE:
        assert status_of(api_as(who).get("/api/projects/")) == 200, who
        assert status_of(api_as(who).get(f"/api/projects/{project.pk}/")) == 200, who
    assert status_of(api_as(None).get("/api/projects/")) == 401
    assert api_as(None).get("/api/projects/")["WWW-Authenticate"] == "Token"
    assert status_of(api_as("norole").get("/api/projects/")) == 403
    assert status_of(api_as("norole").get(f"/api/projects/{project.pk}/")) == 403


def test_project_figures_equal_the_calculation_module(zone, api_as):  # noqa: F811
    data = api_as("leader").get("/api/projects/?year=2024&month=3&page_size=100").json()
    rows = {row["name"]: row for row in data["results"]}
    assert data["count"] == 6

    p1 = rows["P1"]["figures"]
    assert p1 == {
        "year": 2024,
        "month": 3,
        "planned_investment": "10000.00",
        "completed_investment": "3110.00",
        "month_completed": "1110.00",
        "completion_rate": "0.3110",
        "schedule_progress": "0.2500",
        "gap_points": "6.10",
        "is_lagging": False,
    }
    p2 = rows["P2"]["figures"]
    assert (p2["completed_investment"], p2["completion_rate"], p2["gap_points"]) == (
        "1000.00",
        "0.1250",
        "-12.50",
    )
    assert p2["is_lagging"] is True
    assert rows["P4"]["figures"]["planned_investment"] is None
    assert rows["P4"]["figures"]["completion_rate"] is None
    assert rows["P5"]["figures"]["gap_points"] == "-10.00"

    # The same figures as the calculation module gives for the same period, project by project.
    annotated = selectors.project_rows(Project.objects.all(), period=selectors.Period(2024, 3))
    for project in annotated:
        expected = figures.figures_of(project, month=3)
        got = rows[project.name]["figures"]
        assert Decimal(got["completed_investment"]) == expected.completed
        assert (got["completion_rate"] and Decimal(got["completion_rate"])) == (
            expected.completion_rate and expected.completion_rate.quantize(Decimal("0.0001"))
        )
    # … and the roster's sum is the dashboard summary's completed figure.
    summary = api_as("leader").get("/api/dashboard/summary/?year=2024&month=3").json()
    roster = [row for row in rows.values() if row["figures"]["planned_investment"] is not None]
    assert sum(Decimal(r["figures"]["completed_investment"]) for r in roster) == Decimal(
        summary["completed_investment"]
    )


def test_submitted_figures_only_when_asked(zone, api_as):  # noqa: F811
    url = f"/api/projects/{zone.P2.pk}/?year=2024&month=3"
    assert api_as("leader").get(url).json()["figures"]["completed_investment"] == "1000.00"
    counted = api_as("leader").get(url + "&include_submitted=true").json()["figures"]
    assert (counted["completed_investment"], counted["completion_rate"], counted["gap_points"]) == (
        "1600.00",
        "0.2000",
        "-5.00",
    )


def test_default_period_is_the_latest_approved_month(zone, api_as):  # noqa: F811
    figures_ = api_as("leader").get(f"/api/projects/{zone.P1.pk}/").json()["figures"]
    assert (figures_["year"], figures_["month"]) == (2024, 3)


def test_amounts_are_strings_dates_iso_and_times_in_the_zone(api_as, project):
    project.planned_start = datetime.date(2024, 3, 1)
    project.save()
    data = api_as("leader").get(f"/api/projects/{project.pk}/").json()
    assert data["total_investment"] == "10000.00"
    assert data["planned_start"] == "2024-03-01"
    assert data["created_at"].endswith("+08:00")
    assert data["stage"] == Stage.SIGNED and data["stage_label"] == "签约"
    assert data["responsible_unit_name"] == "经济发展局"


def test_filters_mean_what_the_project_list_means(zone, api_as):  # noqa: F811
    query = {"park": [zone.A.pk, zone.B.pk], "level": ["zone", "municipal"], "year": 2024, "month": 3}
    data = api_as("leader").get("/api/projects/", query).json()

    rows = selectors.project_rows(Project.objects.all(), period=selectors.Period(2024, 3))
    params = QueryDict(mutable=True)
    params.setlist("park", [str(zone.A.pk), str(zone.B.pk)])
    params.setlist("level", ["zone", "municipal"])
    expected = ProjectFilterSet(params, queryset=rows).qs
    assert {row["id"] for row in data["results"]} == set(expected.values_list("pk", flat=True))
    assert {row["name"] for row in data["results"]} == {"P2", "P3", "P4"}

    lagging = api_as("leader").get("/api/projects/?year=2024&month=3&lagging=true").json()
    assert {row["name"] for row in lagging["results"]} == {"P2", "P5", "P6"}
    assert [r["name"] for r in api_as("leader").get("/api/projects/?q=P3").json()["results"]] == ["P3"]


def test_ordering_and_pages(zone, api_as):  # noqa: F811
    by_rate = api_as("leader").get("/api/projects/?year=2024&month=3&ordering=-rate&lagging=false").json()
    assert [row["name"] for row in by_rate["results"]][:2] == ["P1", "P3"]  # 0.3110, 0.2750
    first = api_as("leader").get("/api/projects/?page_size=4").json()
    assert first["count"] == 6 and len(first["results"]) == 4 and first["next"]
    second = api_as("leader").get(first["next"]).json()
    assert len(second["results"]) == 2
    names = [r["name"] for r in first["results"] + second["results"]]
    assert names == sorted(names)  # by name by default, each once


def test_page_size_is_capped(api_as, settings, units):
    settings.API_MAX_PAGE_SIZE = 3
    for i in range(5):
        ProjectFactory(name=f"项目{i}")
    assert len(api_as("leader").get("/api/projects/?page_size=1000").json()["results"]) == 3


def test_bad_filters_and_periods_answer_400_with_the_field(api_as, project):
    response = api_as("leader").get("/api/projects/?park=999999&level=nonsense")
    assert response.status_code == 400
    assert set(response.json()) == {"park", "level"}
    response = api_as("leader").get("/api/projects/?month=13")
    assert response.status_code == 400 and "month" in response.json()


@pytest.mark.history_bypass("bulk test data")
def test_list_runs_a_fixed_number_of_queries(api_as, units, django_assert_max_num_queries):
    client = api_as("leader")
    ProjectFactory()
    client.get("/api/projects/")  # warm: the role lookup and the default period
    park = ParkFactory()
    enterprise = EnterpriseFactory(park=park)
    projects = Project.objects.bulk_create(
        Project(
            name=f"批量项目{i}", enterprise=enterprise, park=park, level=Level.ZONE, responsible_unit=units.U1
        )
        for i in range(220)
    )
    for p in projects[:50]:
        AnnualPlanFactory(project=p, year=2024)
        MonthlyProgressFactory(project=p, year=2024, month=1)
    with django_assert_max_num_queries(8):
        data = client.get("/api/projects/?page_size=500&year=2024&month=1").json()
    assert data["count"] == 221 and len(data["results"]) == 221
    with django_assert_max_num_queries(8):
        assert client.get("/api/stage-changes/?page_size=500").status_code == 200


# --- Writing ------------------------------------------------------------------------------------


def test_who_may_create_a_project(api_as, units):
    for who in EVERYONE + ["norole"]:
        response = api_as(who).post(
            "/api/projects/", {"name": f"新建项目-{who}", "total_investment": "2500.50"}, format="json"
        )
        allowed = who in {"admin", "staff_in", "staff_out"}
        assert response.status_code == (201 if allowed else 403), who
        assert Project.objects.filter(name=f"新建项目-{who}").exists() == allowed, who
    created = Project.objects.get(name="新建项目-staff_in")
    assert created.total_investment == Decimal("2500.50")
    # Its first stage is recorded, by the API caller.
    change = StageChange.objects.get(project=created)
    assert (change.from_stage, change.to_stage, change.changed_by.username) == (
        None,
        Stage.PLANNING,
        "api_staff_in",
    )
    assert created.history.first().history_user.username == "api_staff_in"


def test_create_with_a_stage_and_bad_input(api_as, units):
    client = api_as("staff_in")
    response = client.post(
        "/api/projects/",
        {
            "name": "签约项目",
            "stage": Stage.SIGNED,
            "stage_changed_on": "2024-05-01",
            "responsible_unit": units.U1.pk,
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["stage"] == Stage.SIGNED
    assert StageChange.objects.get(project_id=response.json()["id"]).changed_on == datetime.date(2024, 5, 1)

    before = Project.objects.count()
    bad = client.post(
        "/api/projects/",
        {
            "name": "",
            "total_investment": "-1",
            "planned_start": "2024-05-01",
            "planned_completion": "2024-01-01",
        },
        format="json",
    )
    assert bad.status_code == 400
    assert {"name", "total_investment"} <= set(bad.json())
    dates = client.post(
        "/api/projects/",
        {"name": "日期颠倒", "planned_start": "2024-05-01", "planned_completion": "2024-01-01"},
        format="json",
    )
    assert dates.status_code == 400
    assert dates.json() == {"non_field_errors": ["计划竣工时间不能早于计划开工时间。"]}
    duplicate = client.post("/api/projects/", {"name": "签约项目"}, format="json")
    assert duplicate.status_code == 400
    assert Project.objects.count() == before


def test_who_may_change_a_project(api_as, project):
    for who in EVERYONE + ["norole"]:
        project.refresh_from_db()
        response = api_as(who).patch(
            f"/api/projects/{project.pk}/",
            {"location": f"经开区-{who}", "version": project.version},
            format="json",
        )
        allowed = who in EDITORS
        assert response.status_code == (200 if allowed else 403), (who, response.json())
        project.refresh_from_db()
        assert (project.location == f"经开区-{who}") == allowed, who
    assert project.history.first().history_user.username == "api_staff_in"
    assert project.version == 3  # created 1, two changes


def test_staff_in_charge_outside_the_unit_may_change_it(api_as, project, people):
    project.staff_in_charge = people["staff_out"]
    project.save()
    response = api_as("staff_out").patch(
        f"/api/projects/{project.pk}/", {"location": "二期", "version": project.version}, format="json"
    )
    assert response.status_code == 200


def test_a_stale_version_is_refused_and_nothing_is_lost(api_as, project):
    first = api_as("staff_in").patch(
        f"/api/projects/{project.pk}/", {"location": "甲", "version": 1}, format="json"
    )
    assert first.status_code == 200 and first["ETag"] == '"2"'

    stale = api_as("admin").patch(
        f"/api/projects/{project.pk}/", {"location": "乙", "version": 1}, format="json"
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale"
    assert "其他人已保存了该项目" in stale.json()["detail"]

    stale_etag = api_as("admin").patch(
        f"/api/projects/{project.pk}/", {"location": "乙"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert stale_etag.status_code == 412
    project.refresh_from_db()
    assert project.location == "甲" and project.version == 2

    fresh = api_as("admin").patch(
        f"/api/projects/{project.pk}/", {"location": "乙"}, format="json", HTTP_IF_MATCH='"2"'
    )
    assert fresh.status_code == 200 and fresh.json()["location"] == "乙"

    missing = api_as("admin").patch(f"/api/projects/{project.pk}/", {"location": "丙"}, format="json")
    assert missing.status_code == 400 and "version" in missing.json()
    garbage = api_as("admin").patch(
        f"/api/projects/{project.pk}/", {"location": "丙"}, format="json", HTTP_IF_MATCH="abc"
    )
    assert garbage.status_code == 400
    project.refresh_from_db()
    assert project.location == "乙"


def test_the_etag_of_a_read_is_the_version(api_as, project):
    response = api_as("leader").get(f"/api/projects/{project.pk}/")
    assert response["ETag"] == f'"{project.version}"'


def test_put_replaces_and_stage_cannot_be_set_by_an_update(api_as, project):
    data = api_as("staff_in").get(f"/api/projects/{project.pk}/").json()
    data.update(name="改名后的项目", stage=Stage.IN_PRODUCTION)
    response = api_as("staff_in").put(f"/api/projects/{project.pk}/", data, format="json")
    assert response.status_code == 200
    project.refresh_from_db()
    assert project.name == "改名后的项目"
    assert project.stage == Stage.SIGNED  # stages move through the stage action only


def test_only_administrators_delete_and_never_a_project_with_figures(api_as, project, zone):  # noqa: F811
    for who in EVERYONE:
        if who == "admin":
            continue
        assert api_as(who).delete(f"/api/projects/{project.pk}/").status_code == 403, who
    assert Project.objects.filter(pk=project.pk).exists()
    assert api_as("admin").delete(f"/api/projects/{project.pk}/").status_code == 204
    assert not Project.objects.filter(pk=project.pk).exists()
    assert Project.history.filter(id=project.pk, history_type="-").get().history_user.username == "api_admin"

    refused = api_as("admin").delete(f"/api/projects/{zone.P1.pk}/")
    assert refused.status_code == 409 and refused.json()["code"] == "protected"
    assert Project.objects.filter(pk=zone.P1.pk).exists()


def test_missing_projects_are_404(api_as):
    assert api_as("leader").get("/api/projects/999999/").status_code == 404
    assert (
        api_as("admin").patch("/api/projects/999999/", {"name": "x", "version": 1}, format="json").status_code
        == 404
    )


# --- Stages ---------------------------------------------------------------------------------------


def test_who_may_move_a_stage(api_as, project):
    today = timezone.localdate().isoformat()
    for who in EVERYONE + ["norole"]:
        project.refresh_from_db()
        target = project.stage + 1
        response = api_as(who).post(
            f"/api/projects/{project.pk}/stage/", {"stage": target, "changed_on": today}, format="json"
        )
        allowed = who in EDITORS
        assert response.status_code == (201 if allowed else 403), (who, response.json())
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED + 2
    changes = list(project.stage_changes.order_by("pk").values_list("to_stage", "changed_by__username"))
    assert changes[-2:] == [(Stage.LANDED, "api_admin"), (Stage.STARTED, "api_staff_in")]


def test_moving_back_needs_a_reason_and_is_recorded(api_as, project):
    client = api_as("staff_in")
    refused = client.post(f"/api/projects/{project.pk}/stage/", {"stage": Stage.RESERVE}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"reason": ["将项目退回到之前的阶段属于更正，请填写原因。"]}
    english = api_as("staff_in", language="en").post(
        f"/api/projects/{project.pk}/stage/", {"stage": Stage.RESERVE}, format="json"
    )
    assert english.json() == {
        "reason": ["Moving a project back to an earlier stage is a correction: give the reason."]
    }
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED

    moved = client.post(
        f"/api/projects/{project.pk}/stage/", {"stage": Stage.RESERVE, "reason": "签约作废"}, format="json"
    )
    assert moved.status_code == 201
    body = moved.json()
    assert (body["from_stage"], body["to_stage"], body["reason"]) == (Stage.SIGNED, Stage.RESERVE, "签约作废")

    listed = api_as("leader").get(f"/api/stage-changes/?project={project.pk}").json()["results"]
    assert [(row["from_stage"], row["to_stage"]) for row in listed] == [
        (Stage.SIGNED, Stage.RESERVE),
        (None, Stage.SIGNED),
    ]


def test_stage_change_with_a_stale_version(api_as, project):
    response = api_as("staff_in").post(
        f"/api/projects/{project.pk}/stage/", {"stage": Stage.LANDED, "version": 7}, format="json"
    )
    assert response.status_code == 409
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED


def test_stage_changes_are_read_only(api_as, project):
    change = project.stage_changes.get()
    assert api_as("admin").get(f"/api/stage-changes/{change.pk}/").status_code == 200
    assert api_as("admin").post("/api/stage-changes/", {}, format="json").status_code == 405
    assert api_as("admin").delete(f"/api/stage-changes/{change.pk}/").status_code == 405
    assert api_as("norole").get("/api/stage-changes/").status_code == 403


def test_inactive_users_tokens_stop_working(api_as, people):
    client = api_as("leader")
    people["leader"].is_active = False
    people["leader"].save()
    assert client.get("/api/projects/").status_code == 401


def test_a_user_with_a_role_but_no_unit_still_reads(api_as, db):
    user = UserFactory(username="nounit", roles=[Role.STAFF])
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/api/projects/").status_code == 200
    assert client.post("/api/projects/", {"name": "无单位也能新建"}, format="json").status_code == 201


def test_huge_ids_are_bad_input_not_server_errors(api_as, project, client, people):
    huge = "99999999999999999999999"
    response = api_as("leader").get(f"/api/projects/?park={huge}")
    assert response.status_code == 400 and "park" in response.json()
    # "²" is a digit to Python's isdigit() but no number to int().
    response = api_as("leader").get("/api/dashboard/summary/?park=²&batch=²")
    assert response.status_code == 400 and set(response.json()) == {"park", "batch"}
    for listing, name in (("stage-changes", "project"), ("visits", "enterprise")):
        response = api_as("leader").get(f"/api/{listing}/?{name}={huge}")
        assert response.status_code == 400 and set(response.json()) == {name}, listing
    created = api_as("staff_in").post("/api/projects/", {"name": "大号", "park": int(huge)}, format="json")
    assert created.status_code == 400
    assert not Project.objects.filter(name="大号").exists()
    client.force_login(people["leader"])
    page = client.get(f"/projects/?park={huge}")
    assert page.status_code == 200 and page.context["filterset"].errors["park"]


def test_a_record_created_twice_at_once_is_a_conflict_not_a_server_error(api_as, units, monkeypatch):
    from django.db import IntegrityError

    from projects import services

    def racing(**kwargs):
        raise IntegrityError("UNIQUE constraint failed: projects_project.name")

    monkeypatch.setattr(services, "project_create", racing)
    response = api_as("staff_in", language="en").post("/api/projects/", {"name": "同时新建"}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Someone saved the same record at the same moment; reload and try again.",
        "code": "conflict",
    }
