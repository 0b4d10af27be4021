"""/api/annual-plans/: the role matrix, the history every change of an official figure leaves,
the unique year, filters and queries. The test project belongs to unit U1."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.choices import PlanCategory
from projects.models import AnnualPlan
from tests.api.conftest import ROLES
from tests.api.matrix import CALLERS
from tests.api.matrix import expected_codes as expected
from tests.factories import AnnualPlanFactory, ProjectFactory

WHO = CALLERS
READERS = set(ROLES) - {"norole"}
EDITORS = {"admin", "staff_in"}


@pytest.fixture
def project(units):
    return ProjectFactory(name="天子铝业新能源汽车配套零部件项目", responsible_unit=units.U1)


def url(plan=None):
    return "/api/annual-plans/" if plan is None else f"/api/annual-plans/{plan.pk}/"


def test_every_role_reads_plans(api_as, project):
    plan = AnnualPlanFactory(project=project, year=2023, planned_investment=Decimal("1200.00"))
    assert {who: api_as(who).get(url()).status_code for who in WHO} == expected(READERS, 200)
    assert {who: api_as(who).get(url(plan)).status_code for who in WHO} == expected(READERS, 200)
    data = api_as("leader").get(url(plan)).json()
    assert {k: data[k] for k in ("project", "project_name", "year", "planned_investment", "category")} == {
        "project": project.pk,
        "project_name": "天子铝业新能源汽车配套零部件项目",
        "year": 2023,
        "planned_investment": "1200.00",
        "category": "continuing",
    }


def test_filters(api_as, project):
    other = ProjectFactory()
    a = AnnualPlanFactory(project=project, year=2023)
    b = AnnualPlanFactory(project=project, year=2024, category=PlanCategory.DUE_TO_COMPLETE)
    c = AnnualPlanFactory(project=other, year=2024, category=PlanCategory.NEW_START)
    client = api_as("leader")

    def ids(query):
        response = client.get(url() + "?" + query)
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert ids("") == {a.pk, b.pk, c.pk}
    assert ids(f"project={project.pk}") == {a.pk, b.pk}
    assert ids("year=2024") == {b.pk, c.pk}
    assert ids("category=new_start&category=due_to_complete") == {b.pk, c.pk}
    assert client.get(url() + "?project=999999").status_code == 400


@pytest.mark.history_bypass("bulk test data")
def test_the_list_runs_a_fixed_number_of_queries(api_as, units, django_assert_max_num_queries):
    projects = [ProjectFactory(responsible_unit=units.U1) for _ in range(25)]
    AnnualPlan.objects.bulk_create(
        AnnualPlan(project=projects[0], year=y, planned_investment=Decimal("10")) for y in (2022, 2023)
    )
    client = api_as("leader")
    client.get(url())
    with CaptureQueriesContext(connection) as few:
        client.get(url() + "?page_size=500")
    AnnualPlan.objects.bulk_create(
        AnnualPlan(project=p, year=y, planned_investment=Decimal("10"))
        for p in projects[1:]
        for y in range(2015, 2024)
    )
    assert AnnualPlan.objects.count() >= 200
    with django_assert_max_num_queries(len(few)):
        response = client.get(url() + "?page_size=500")
    assert len(response.json()["results"]) == AnnualPlan.objects.count()
    assert len(few) <= 5  # token, user, roles, count, page


def test_who_may_record_a_plan(api_as, people, units):
    got = {}
    for who in WHO:
        target = ProjectFactory(responsible_unit=units.U1)
        body = {"project": target.pk, "year": 2024, "planned_investment": "8000.00", "category": "new_start"}
        response = api_as(who).post(url(), body, format="json")
        got[who] = response.status_code
        plans = AnnualPlan.objects.filter(project=target)
        if response.status_code == 201:
            plan = plans.get()
            assert (plan.year, plan.planned_investment, plan.category) == (
                2024,
                Decimal("8000.00"),
                "new_start",
            )
            assert response.json()["id"] == plan.pk
            history = plan.history.get()
            assert (history.history_type, history.history_user) == ("+", people[who])
        else:
            assert not plans.exists()
    assert got == expected(EDITORS, 201)


def test_one_plan_a_year_and_no_negative_amounts(api_as, project):
    AnnualPlanFactory(project=project, year=2024, planned_investment=Decimal("100.00"))
    client = api_as("staff_in")
    twice = client.post(
        url(), {"project": project.pk, "year": 2024, "planned_investment": "5"}, format="json"
    )
    assert twice.status_code == 400
    assert twice.json() == {"non_field_errors": ["该项目已有该年度的计划。"]}

    english = api_as("staff_in", language="en")
    negative = english.post(
        url(), {"project": project.pk, "year": 2025, "planned_investment": "-1"}, format="json"
    )
    assert negative.status_code == 400
    assert negative.json() == {"planned_investment": ["Ensure this value is greater than or equal to 0."]}
    early = english.post(
        url(), {"project": project.pk, "year": 1999, "planned_investment": "1"}, format="json"
    )
    assert early.status_code == 400 and set(early.json()) == {"year"}
    assert list(AnnualPlan.objects.values_list("year", "planned_investment")) == [(2024, Decimal("100.00"))]


def test_who_may_change_a_plan_and_each_change_is_in_its_history(api_as, project, people):
    got = {}
    for who in WHO:
        plan = AnnualPlanFactory(
            project=project, year=2000 + WHO.index(who), planned_investment=Decimal("1200")
        )
        response = api_as(who).patch(url(plan), {"planned_investment": "1500.00"}, format="json")
        got[who] = response.status_code
        plan.refresh_from_db()
        if response.status_code == 200:
            assert plan.planned_investment == Decimal("1500.00")
            assert response.json()["planned_investment"] == "1500.00"
            change = plan.history.first()
            assert (change.history_type, change.history_user) == ("~", people[who])
            assert change.prev_record.planned_investment == Decimal("1200.00")
        else:
            assert plan.planned_investment == Decimal("1200.00")
            assert plan.history.count() == 1
    assert got == expected(EDITORS, 200)


def test_put_changes_the_year_but_not_the_project(api_as, project, units, people):
    plan = AnnualPlanFactory(project=project, year=2023, planned_investment=Decimal("1200"))
    client = api_as("staff_in", language="en")
    body = {"project": project.pk, "year": 2024, "planned_investment": "900.00", "category": "continuing"}
    response = client.put(url(plan), body, format="json")
    assert response.status_code == 200, response.json()
    plan.refresh_from_db()
    assert (plan.year, plan.planned_investment) == (2024, Decimal("900.00"))
    assert plan.history.first().history_user == people["staff_in"]

    other = ProjectFactory(responsible_unit=units.U1)
    moved = client.patch(url(plan), {"project": other.pk}, format="json")
    assert moved.status_code == 400
    assert moved.json() == {"project": ["This cannot be changed once the record exists."]}
    AnnualPlanFactory(project=project, year=2025)
    clash = client.patch(url(plan), {"year": 2025}, format="json")
    assert clash.status_code == 400
    assert clash.json() == {"non_field_errors": ["This project already has a plan for that year."]}
    plan.refresh_from_db()
    assert (plan.project, plan.year) == (project, 2024)


def test_who_may_delete_a_plan_and_the_deletion_is_recorded(api_as, project, people):
    got = {}
    for who in WHO:
        plan = AnnualPlanFactory(project=project, year=2000 + WHO.index(who))
        pk = plan.pk
        response = api_as(who).delete(url(plan))
        got[who] = response.status_code
        if response.status_code == 204:
            assert not AnnualPlan.objects.filter(pk=pk).exists()
            gone = AnnualPlan.history.filter(id=pk).first()
            assert (gone.history_type, gone.history_user) == ("-", people[who])
        else:
            assert AnnualPlan.objects.filter(pk=pk).exists()
    assert got == expected(EDITORS, 204)


def test_missing_plans_are_404(api_as):
    assert api_as("admin").get(url() + "999999/").status_code == 404
    assert api_as("admin").patch(url() + "999999/", {"goals": "x"}, format="json").status_code == 404
