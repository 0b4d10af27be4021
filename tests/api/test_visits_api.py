"""Visits through the API: zone-wide readers read them, collectors record them with their problems —
all of them or nothing, a refused row answered at its index."""

import datetime

import pytest
from django.utils import timezone

from problems.choices import EventKind, ProblemSource, TicketStatus
from problems.models import ProblemTicket, TicketEvent, Visit
from tests.api.matrix import CALLERS, expected_codes
from tests.factories import DepartmentFactory, EnterpriseFactory, ProjectFactory, VisitFactory, make_ticket

pytestmark = pytest.mark.django_db

ZONE_WIDE = {"admin", "leader", "reviewer", "supervisor", "staff_in", "staff_out"}
COLLECTORS = {"admin", "supervisor", "staff_in", "staff_out"}
LIST = "/api/visits/"


def url(visit):
    return f"{LIST}{visit.pk}/"


@pytest.fixture
def visit(people, units):
    visit = VisitFactory(visited_on=datetime.date(2026, 3, 2), unit=units.U1, notes="座谈")
    visit.visitors.set([people["staff_in"]])
    make_ticket(user=people["staff_in"], visit=visit, enterprise=visit.enterprise, title="招工难")
    make_ticket(user=people["staff_in"], visit=visit, enterprise=visit.enterprise, title="融资难")
    return visit


def test_read_role_matrix(api_as, people, visit):
    listed = {who: api_as(who).get(LIST).status_code for who in CALLERS}
    detail = {who: api_as(who).get(url(visit)).status_code for who in CALLERS}

    # Responsible units handle tickets, not visit records.
    assert listed == expected_codes(ZONE_WIDE, 200)
    assert detail == expected_codes(ZONE_WIDE, 200)


def test_detail_lists_its_problems(api_as, people, units, visit):
    data = api_as("leader").get(url(visit)).json()

    assert data["enterprise"] == visit.enterprise_id
    assert data["enterprise_name"] == visit.enterprise.name
    assert data["visited_on"] == "2026-03-02"
    assert (data["unit"], data["unit_name"]) == (units.U1.pk, "经济发展局")
    assert data["visitors"] == [people["staff_in"].pk]
    assert data["problem_ids"] == sorted(visit.problems.values_list("pk", flat=True))
    assert len(data["problem_ids"]) == 2


def test_create_role_matrix(api_as, people, units):
    enterprise = EnterpriseFactory()
    today = timezone.localdate()
    codes = {}
    for who in CALLERS:
        before = (Visit.objects.count(), ProblemTicket.objects.count())
        response = api_as(who).post(
            LIST,
            {
                "enterprise": enterprise.pk,
                "visited_on": today.isoformat(),
                "unit": units.U1.pk,
                "visitors": [people["staff_in"].pk],
                "notes": f"{who} 走访",
                "problems": [{"title": "用电增容", "category": "utilities"}],
            },
            format="json",
        )
        codes[who] = response.status_code
        if response.status_code == 201:
            visit = Visit.objects.get(pk=response.json()["id"])
            assert (visit.enterprise, visit.visited_on, visit.unit, visit.created_by) == (
                enterprise,
                today,
                units.U1,
                people[who],
            )
            assert list(visit.visitors.all()) == [people["staff_in"]]
            assert visit.history.first().history_user == people[who]
            problem = visit.problems.get()
            assert response.json()["problem_ids"] == [problem.pk]
            assert (problem.enterprise, problem.source, problem.status, problem.created_by) == (
                enterprise,
                ProblemSource.VISIT,
                TicketStatus.PENDING,
                people[who],
            )
            assert TicketEvent.objects.get(ticket=problem).kind == EventKind.CREATED
        else:
            assert (Visit.objects.count(), ProblemTicket.objects.count()) == before
    assert codes == expected_codes(COLLECTORS, 201)


def test_problems_of_an_earlier_visit_count_from_its_day(api_as, people):
    enterprise = EnterpriseFactory()
    day = timezone.localdate() - datetime.timedelta(days=3)

    response = api_as("staff_out").post(
        LIST,
        {
            "enterprise": enterprise.pk,
            "visited_on": day.isoformat(),
            "problems": [
                {"title": "招工难", "category": "labour", "description": "缺熟练工 50 人"},
                {"title": "融资难", "category": "financing", "is_major": True},
            ],
        },
        format="json",
    )

    assert response.status_code == 201
    problems = ProblemTicket.objects.order_by("pk")
    assert [(p.title, p.is_major, timezone.localdate(p.collected_at)) for p in problems] == [
        ("招工难", False, day),
        ("融资难", True, day),
    ]
    # "1": assigned by the day after the visit.
    assert {p.assign_due for p in problems} == {day + datetime.timedelta(days=1)}


def test_a_row_the_serializer_refuses_saves_nothing(api_as, people):
    enterprise = EnterpriseFactory()

    response = api_as("staff_in").post(
        LIST,
        {
            "enterprise": enterprise.pk,
            "visited_on": timezone.localdate().isoformat(),
            "problems": [
                {"title": "招工难", "category": "labour"},
                {"category": "land", "description": "只写了描述"},
            ],
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"problems": [{}, {"title": ["这个字段是必填项。"]}]}
    assert (Visit.objects.count(), ProblemTicket.objects.count(), TicketEvent.objects.count()) == (0, 0, 0)


def test_a_row_the_service_refuses_saves_nothing(api_as, people):
    """The project is another enterprise's: the service refuses the row after the visit and the good
    row were written; the whole visit is rolled back and the row's message comes back at its index."""
    enterprise = EnterpriseFactory()
    own_project = ProjectFactory(enterprise=enterprise)
    foreign_project = ProjectFactory()

    response = api_as("staff_in").post(
        LIST,
        {
            "enterprise": enterprise.pk,
            "visited_on": timezone.localdate().isoformat(),
            "problems": [
                {"title": "招工难", "category": "labour", "project": own_project.pk},
                {"title": "用地", "category": "land", "project": foreign_project.pk},
                {"title": "融资难", "category": "financing"},
            ],
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"problems": [{}, {"project": ["该项目不属于这家企业。"]}, {}]}
    assert (Visit.objects.count(), ProblemTicket.objects.count(), TicketEvent.objects.count()) == (0, 0, 0)
    assert Visit.history.count() == 0


def test_visit_refusals_name_the_field(api_as, people):
    enterprise = EnterpriseFactory()
    client = api_as("supervisor")

    future = client.post(
        LIST,
        {
            "enterprise": enterprise.pk,
            "visited_on": (timezone.localdate() + datetime.timedelta(days=1)).isoformat(),
        },
        format="json",
    )
    missing = client.post(LIST, {"visited_on": timezone.localdate().isoformat()}, format="json")
    inactive = client.post(
        LIST,
        {
            "enterprise": enterprise.pk,
            "visited_on": timezone.localdate().isoformat(),
            "unit": DepartmentFactory(name="已撤销单位", is_active=False).pk,
        },
        format="json",
    )

    assert (future.status_code, future.json()) == (400, {"visited_on": ["走访日期不能晚于今天。"]})
    assert (missing.status_code, list(missing.json())) == (400, ["enterprise"])
    assert (inactive.status_code, list(inactive.json())) == (400, ["unit"])
    assert Visit.objects.count() == 0


def test_visits_are_not_changed_or_deleted(api_as, people, visit):
    client = api_as("admin")

    assert client.put(url(visit), {"notes": "改"}, format="json").status_code == 405
    assert client.patch(url(visit), {"notes": "改"}, format="json").status_code == 405
    assert client.delete(url(visit)).status_code == 405
    assert Visit.objects.get(pk=visit.pk).notes == "座谈"


def test_filters(api_as, people, units):
    enterprise = EnterpriseFactory()
    march = VisitFactory(enterprise=enterprise, visited_on=datetime.date(2026, 3, 2), unit=units.U1)
    april = VisitFactory(enterprise=enterprise, visited_on=datetime.date(2026, 4, 10), unit=units.U2)
    elsewhere = VisitFactory(visited_on=datetime.date(2026, 3, 20), unit=units.U1)
    client = api_as("reviewer")

    def ids(**query):
        response = client.get(LIST, query)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [april.pk, elsewhere.pk, march.pk]
    assert ids(enterprise=enterprise.pk) == [april.pk, march.pk]
    assert ids(unit=units.U1.pk) == [elsewhere.pk, march.pk]
    assert ids(visited_on_after="2026-03-02", visited_on_before="2026-03-31") == [elsewhere.pk, march.pk]
    assert ids(visited_on_after="2026-03-03") == [april.pk, elsewhere.pk]
    assert client.get(LIST, {"enterprise": 999999}).status_code == 400


def test_list_queries_do_not_grow_with_rows(api_as, people, units, django_assert_max_num_queries):
    enterprises = [EnterpriseFactory() for _ in range(4)]
    for number in range(60):
        visit = VisitFactory(enterprise=enterprises[number % 4], unit=units.U1, created_by=people["staff_in"])
        visit.visitors.set([people["staff_in"], people["staff_out"]][: number % 3])
        if number % 5 == 0:
            make_ticket(user=people["staff_in"], visit=visit, enterprise=visit.enterprise)
    client = api_as("leader")

    # Token (read, last use), roles, count, rows, visitors, problems.
    with django_assert_max_num_queries(8):
        response = client.get(LIST, {"page_size": 500})

    assert response.json()["count"] == 60
    assert sum(len(row["problem_ids"]) for row in response.json()["results"]) == 12
