"""Enterprises through the API: everyone with a role reads them, the office keeps them, administrators
delete them; the list filters as the enterprise list page does."""

import pytest
from django.http import QueryDict

from enterprises.filtersets import EnterpriseFilterSet
from enterprises.models import Enterprise
from problems import selectors
from tests.api.matrix import CALLERS, expected_codes
from tests.factories import (
    EnterpriseFactory,
    HonourFactory,
    IndustryFactory,
    LeaderFactory,
    ParkFactory,
    ProjectFactory,
    VisitFactory,
    make_ticket,
)

pytestmark = pytest.mark.django_db

READERS = {"admin", "leader", "reviewer", "supervisor", "staff_in", "staff_out", "unit_in", "unit_out"}
OFFICE = {"admin", "supervisor"}
LIST = "/api/enterprises/"
# A valid code (check character D), written as people type it.
CODE = "91411600MA0000004D"


def url(enterprise):
    return f"{LIST}{enterprise.pk}/"


@pytest.fixture
def enterprise(units):
    honour = HonourFactory(name="高新技术企业")
    enterprise = EnterpriseFactory(
        name="周口天子铝业有限公司",
        short_name="天子铝业",
        park=ParkFactory(name="金属新材料产业园"),
        industry=IndustryFactory(name="金属新材料"),
        liaison_unit=units.U1,
        liaison_leader=LeaderFactory(name="王主任", title=""),
        is_above_scale=True,
    )
    enterprise.honours.set([honour])
    return enterprise


def snapshot(enterprise):
    fresh = Enterprise.objects.get(pk=enterprise.pk)
    return (
        fresh.name,
        fresh.short_name,
        fresh.credit_code,
        fresh.park_id,
        sorted(fresh.honours.values_list("pk", flat=True)),
        fresh.history.count(),
    )


def test_read_role_matrix(api_as, people, enterprise):
    listed = {who: api_as(who).get(LIST).status_code for who in CALLERS}
    detail = {who: api_as(who).get(url(enterprise)).status_code for who in CALLERS}

    assert listed == expected_codes(READERS, 200)
    assert detail == expected_codes(READERS, 200)


def test_detail_names_the_related_records_and_counts_open_problems(api_as, people, units, enterprise):
    staff = people["staff_in"]
    for title in ("用电增容", "招工难"):
        make_ticket(user=staff, enterprise=enterprise, title=title)
    make_ticket(user=staff, title="别家的问题")

    data = api_as("unit_out").get(url(enterprise)).json()

    assert data["name"] == "周口天子铝业有限公司"
    assert (data["park_name"], data["industry_name"]) == ("金属新材料产业园", "金属新材料")
    assert (data["liaison_unit"], data["liaison_unit_name"]) == (units.U1.pk, "经济发展局")
    assert data["liaison_leader_name"] == "王主任"
    assert data["honours"] == list(enterprise.honours.values_list("pk", flat=True))
    assert data["honour_names"] == ["高新技术企业"]
    assert (data["open_problems"], data["problem_total"], data["has_overdue"]) == (2, 2, False)
    assert data["is_above_scale"] is True


def test_create_role_matrix(api_as, people):
    honour = HonourFactory(name="省级专精特新")
    park = ParkFactory(name="健康食品产业园")
    codes = {}
    for number, who in enumerate(CALLERS):
        before = Enterprise.objects.count()
        response = api_as(who).post(
            LIST,
            {"name": f"周口益海粮油{number}有限公司", "park": park.pk, "honours": [honour.pk]},
            format="json",
        )
        codes[who] = response.status_code
        if response.status_code == 201:
            created = Enterprise.objects.get(pk=response.json()["id"])
            assert (created.name, created.park, list(created.honours.all())) == (
                f"周口益海粮油{number}有限公司",
                park,
                [honour],
            )
            assert created.history.first().history_user == people[who]
            assert response.json()["park_name"] == "健康食品产业园"
            assert response.json()["open_problems"] == 0
        else:
            assert Enterprise.objects.count() == before
    assert codes == expected_codes(OFFICE, 201)


def test_the_credit_code_is_stored_in_capitals(api_as, people):
    response = api_as("supervisor").post(
        LIST, {"name": "周口五得利面粉有限公司", "credit_code": " " + CODE.lower() + " "}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["credit_code"] == CODE
    assert Enterprise.objects.get(name="周口五得利面粉有限公司").credit_code == CODE


def test_create_refusals_name_the_field(api_as, people, enterprise):
    client = api_as("supervisor", language="en")
    before = Enterprise.objects.count()

    wrong_check = client.post(
        LIST, {"name": "周口鲁花有限公司", "credit_code": CODE[:-1] + "A"}, format="json"
    )
    duplicate = client.post(LIST, {"name": "周口天子铝业有限公司"}, format="json")
    same_code = client.post(
        LIST, {"name": "甲", "credit_code": enterprise.credit_code.lower()}, format="json"
    )
    nameless = client.post(LIST, {"short_name": "无名"}, format="json")

    assert wrong_check.status_code == 400
    assert wrong_check.json() == {
        "credit_code": [
            "The check character of this unified social credit code is wrong: the last character should be D."
        ]
    }
    assert (duplicate.status_code, list(duplicate.json())) == (400, ["name"])
    assert (same_code.status_code, list(same_code.json())) == (400, ["credit_code"])
    assert (nameless.status_code, list(nameless.json())) == (400, ["name"])
    assert Enterprise.objects.count() == before


def test_update_role_matrix(api_as, people, units):
    honour = HonourFactory(name="头雁企业")
    codes = {}
    for who in CALLERS:
        enterprise = EnterpriseFactory(short_name="旧简称")
        before = snapshot(enterprise)
        response = api_as(who).patch(
            url(enterprise), {"short_name": "新简称", "honours": [honour.pk]}, format="json"
        )
        codes[who] = response.status_code
        if response.status_code == 200:
            fresh = Enterprise.objects.get(pk=enterprise.pk)
            assert (fresh.short_name, list(fresh.honours.all())) == ("新简称", [honour])
            assert fresh.name == enterprise.name
            assert fresh.history.count() == before[-1] + 1
            assert fresh.history.first().history_user == people[who]
            assert response.json()["honour_names"] == ["头雁企业"]
        else:
            assert snapshot(enterprise) == before
    assert codes == expected_codes(OFFICE, 200)


def test_put_needs_the_name_and_keeps_what_it_leaves_out(api_as, people, enterprise):
    nameless = api_as("supervisor").put(url(enterprise), {"short_name": "天子"}, format="json")
    assert (nameless.status_code, list(nameless.json())) == (400, ["name"])

    response = api_as("supervisor").put(
        url(enterprise), {"name": "周口天子铝业集团有限公司", "credit_code": CODE.lower()}, format="json"
    )

    assert response.status_code == 200
    fresh = Enterprise.objects.get(pk=enterprise.pk)
    assert (fresh.name, fresh.credit_code) == ("周口天子铝业集团有限公司", CODE)
    # Optional fields left out (as DRF's PUT does) stay as they were.
    assert (fresh.short_name, fresh.honours.count()) == ("天子铝业", 1)


def test_an_enterprise_cannot_be_its_own_parent(api_as, people, enterprise):
    response = api_as("supervisor").patch(url(enterprise), {"parent": enterprise.pk}, format="json")

    assert (response.status_code, response.json()) == (400, {"parent": ["企业不能隶属于自身或其下属企业。"]})


def test_delete_role_matrix(api_as, people):
    codes = {}
    for who in CALLERS:
        enterprise = EnterpriseFactory()
        response = api_as(who).delete(url(enterprise))
        codes[who] = response.status_code
        exists = Enterprise.objects.filter(pk=enterprise.pk).exists()
        assert exists is (response.status_code != 204)
        if not exists:
            assert Enterprise.history.filter(id=enterprise.pk).first().history_user == people[who]
    assert codes == expected_codes({"admin"}, 204)


@pytest.mark.parametrize("used_by", ["project", "visit", "ticket", "subsidiary"])
def test_an_enterprise_in_use_is_not_deleted(api_as, people, used_by):
    enterprise = EnterpriseFactory()
    if used_by == "project":
        ProjectFactory(enterprise=enterprise)
    elif used_by == "visit":
        VisitFactory(enterprise=enterprise)
    elif used_by == "ticket":
        make_ticket(user=people["staff_in"], enterprise=enterprise)
    else:
        EnterpriseFactory(parent=enterprise)

    response = api_as("admin").delete(url(enterprise))

    assert (response.status_code, response.json()["code"]) == (409, "protected")
    assert Enterprise.objects.filter(pk=enterprise.pk).exists()


def query_dict(query: dict) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in query.items():
        data[name] = str(value)
    return data


@pytest.mark.parametrize(
    "query",
    [
        {"q": "铝业"},
        {"q": CODE[:8]},
        {"open_problems": "true"},
        {"open_problems": "false", "is_above_scale": "true"},
        {"park": "park"},
        {"liaison_unit": "U1"},
    ],
)
def test_filters_are_the_list_pages(api_as, people, units, enterprise, client, query):
    EnterpriseFactory(name="周口海熙药业有限公司", credit_code=CODE)
    with_problem = EnterpriseFactory(name="周口益常青生物有限公司", is_above_scale=True)
    make_ticket(user=people["staff_in"], enterprise=with_problem)
    if query.get("park") == "park":
        query = {"park": enterprise.park_id}
    if query.get("liaison_unit") == "U1":
        query = {"liaison_unit": units.U1.pk}

    response = api_as("unit_in").get(LIST, query)

    ids = [row["id"] for row in response.json()["results"]]
    rows = selectors.enterprise_rows(Enterprise.objects.all())
    expected = EnterpriseFilterSet(query_dict(query), queryset=rows).qs.order_by("name", "pk")
    assert ids == [row.pk for row in expected]
    client.force_login(people["unit_in"])
    page = client.get("/enterprises/", query).context["page"]
    assert ids == [row.pk for row in page.object_list]


def test_open_problems_filter_by_hand(api_as, people, enterprise):
    quiet = EnterpriseFactory(name="周口安静企业有限公司")
    make_ticket(user=people["staff_in"], enterprise=enterprise)

    with_open = api_as("leader").get(LIST, {"open_problems": "true"}).json()["results"]
    without = api_as("leader").get(LIST, {"open_problems": "false"}).json()["results"]

    assert [row["id"] for row in with_open] == [enterprise.pk]
    assert [row["id"] for row in without] == [quiet.pk]


def test_list_queries_do_not_grow_with_rows(api_as, people, django_assert_max_num_queries):
    honours = [HonourFactory(name="高新技术企业"), HonourFactory(name="星级企业")]
    for number in range(205):
        enterprise = EnterpriseFactory(parent=None)
        enterprise.honours.set(honours[: number % 3])
        if number % 10 == 0:
            make_ticket(user=people["staff_in"], enterprise=enterprise)
    client = api_as("reviewer")

    # Token (read, last use), roles, count, rows, honours: the same for 205 rows as for one.
    with django_assert_max_num_queries(7):
        response = client.get(LIST, {"page_size": 500})

    assert response.json()["count"] == 205
    assert sum(row["open_problems"] for row in response.json()["results"]) == 21
