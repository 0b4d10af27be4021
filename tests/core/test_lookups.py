"""The searchable pickers' lookups (/lookup/…/?q=): what they find, how many, for whom, in how many
queries."""

import factory
import pytest

from core.lookups import LOOKUP_LIMIT
from core.roles import Role
from tests.factories import DepartmentFactory, EnterpriseFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = [Role.ADMIN, Role.LEADER, Role.REVIEWER, Role.SUPERVISOR, Role.STAFF, Role.UNIT]


def found(client, url) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def texts(client, url) -> list[str]:
    return [item["text"] for item in found(client, url)]


def numbered(prefix):
    return factory.Sequence(lambda n: f"{prefix}{n:03d}有限公司")


@pytest.fixture
def staff(client):
    user = UserFactory(username="zhuanyuan", display_name="张专员", roles=[Role.STAFF])
    client.force_login(user)
    return user


# --- Enterprises -----------------------------------------------------------------------------------


def test_enterprises_are_found_by_name_short_name_or_credit_code(client, staff):
    oil = EnterpriseFactory(name="周口益海粮油有限公司", short_name="益海粮油")
    feed = EnterpriseFactory(name="益海嘉里饲料有限公司")
    steel = EnterpriseFactory(name="天子铝业有限公司", short_name="天子铝业")
    EnterpriseFactory(name="周口中兴新业有限公司")

    # Those starting with the words first, then by name.
    assert found(client, "/lookup/enterprises/?q=益海") == [
        {"value": feed.pk, "text": "益海嘉里饲料有限公司"},
        {"value": oil.pk, "text": "周口益海粮油有限公司"},
    ]
    assert texts(client, "/lookup/enterprises/?q=天子") == ["天子铝业有限公司"]
    assert texts(client, f"/lookup/enterprises/?q={steel.credit_code[-8:]}") == ["天子铝业有限公司"]
    assert texts(client, "/lookup/enterprises/?q=%20%20") == sorted(
        ["周口益海粮油有限公司", "益海嘉里饲料有限公司", "天子铝业有限公司", "周口中兴新业有限公司"]
    )
    assert found(client, "/lookup/enterprises/?q=没有这家") == []


def test_at_most_twenty_enterprises_in_a_fixed_number_of_queries(
    client, staff, django_assert_max_num_queries
):
    EnterpriseFactory.create_batch(3, name=numbered("园区企业"))
    with django_assert_max_num_queries(4) as few:
        assert len(found(client, "/lookup/enterprises/?q=园区")) == 3
    EnterpriseFactory.create_batch(40, name=numbered("园区企业"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(found(client, "/lookup/enterprises/?q=园区")) == LOOKUP_LIMIT == 20


# --- Projects --------------------------------------------------------------------------------------


def test_projects_are_found_by_name_or_code_and_narrowed_to_an_enterprise(client, staff):
    oil = EnterpriseFactory(name="周口益海粮油有限公司")
    refinery = ProjectFactory(name="特种油脂精炼项目", code="2025-411600-01", enterprise=oil)
    ProjectFactory(name="益海饲料扩建项目", code="2025-411600-02")
    ProjectFactory(name="城区燃气管网改造项目", code="2024-411600-77")

    assert texts(client, "/lookup/projects/?q=项目") == [
        "城区燃气管网改造项目",
        "特种油脂精炼项目",
        "益海饲料扩建项目",
    ]
    assert texts(client, "/lookup/projects/?q=2025-411600") == ["特种油脂精炼项目", "益海饲料扩建项目"]
    assert found(client, f"/lookup/projects/?q=&enterprise={oil.pk}") == [
        {"value": refinery.pk, "text": "特种油脂精炼项目"}
    ]
    assert client.get("/lookup/projects/?enterprise=abc").status_code == 400


def test_at_most_twenty_projects_in_a_fixed_number_of_queries(client, staff, django_assert_max_num_queries):
    ProjectFactory.create_batch(2)
    with django_assert_max_num_queries(4) as few:
        assert len(found(client, "/lookup/projects/?q=测试项目")) == 2
    ProjectFactory.create_batch(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(found(client, "/lookup/projects/?q=测试项目")) == 20


# --- People ----------------------------------------------------------------------------------------


def test_people_by_username_or_name_with_their_unit(client, staff):
    power = DepartmentFactory(name="供电公司")
    wang = UserFactory(username="wangjj", display_name="王建军", department=power, roles=[Role.UNIT])
    UserFactory(username="wangli", display_name="王丽", roles=[Role.STAFF])
    UserFactory(username="former", display_name="王离职", roles=[Role.STAFF], is_active=False)

    assert found(client, "/lookup/users/?q=王建") == [{"value": wang.pk, "text": "王建军（供电公司）"}]
    assert texts(client, "/lookup/users/?q=wang") == ["王建军（供电公司）", "王丽"]
    # Former users only when asked for (the change log's filter names them).
    assert texts(client, "/lookup/users/?q=王离") == []
    assert texts(client, "/lookup/users/?q=王离&inactive=1") == ["王离职"]


def test_people_of_a_role_or_of_a_unit(client, staff):
    power = DepartmentFactory(name="供电公司")
    water = DepartmentFactory(name="自来水公司")
    UserFactory(username="wangjj", display_name="王建军", department=power, roles=[Role.UNIT])
    UserFactory(username="wangshui", display_name="王水", department=water, roles=[Role.UNIT])
    UserFactory(username="wangli", display_name="王丽", roles=[Role.STAFF])
    UserFactory(username="wangnone", display_name="王无角色")

    assert texts(client, "/lookup/users/?q=王&role=staff") == ["王丽"]
    assert texts(client, "/lookup/users/?q=王&role=any") == [
        "王建军（供电公司）",
        "王丽",
        "王水（自来水公司）",
    ]
    assert texts(client, f"/lookup/users/?q=王&unit={water.pk}") == ["王水（自来水公司）"]
    assert client.get("/lookup/users/?role=boss").status_code == 400
    assert client.get("/lookup/users/?unit=1x").status_code == 400


def test_at_most_twenty_people_in_a_fixed_number_of_queries(client, staff, django_assert_max_num_queries):
    unit = DepartmentFactory(name="供电公司")
    UserFactory.create_batch(2, department=unit, roles=[Role.UNIT])
    with django_assert_max_num_queries(5) as few:
        assert len(found(client, "/lookup/users/?q=用户&role=unit")) == 2
    UserFactory.create_batch(30, department=unit, roles=[Role.UNIT])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(found(client, "/lookup/users/?q=用户&role=unit")) == 20


# --- Who may look up --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/lookup/enterprises/?q=a", "/lookup/projects/?q=a", "/lookup/users/?q=a"])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("lookup", "listing"),
    [("/lookup/enterprises/", "/enterprises/"), ("/lookup/projects/", "/projects/")],
)
@pytest.mark.parametrize("roles", [[], *[[role] for role in ROLES]])
def test_a_lookup_answers_whoever_may_read_its_list_and_finds_what_the_list_shows(
    client, lookup, listing, roles
):
    """The scope is the list's: a user the list refuses gets 403 and no names."""
    unit = DepartmentFactory(name="供电公司")
    user = UserFactory(username="someone", department=unit, roles=roles)
    project = ProjectFactory(name="特种油脂精炼项目", enterprise=EnterpriseFactory(name="特种油脂有限公司"))
    client.force_login(user)

    allowed = client.get(listing).status_code == 200
    response = client.get(f"{lookup}?q=特种油脂")
    if not allowed:
        assert response.status_code == 403
        assert "特种油脂" not in response.content.decode()
        return
    assert response.status_code == 200
    shown = client.get(f"{listing}?q=特种油脂").content.decode()
    for item in response.json():
        assert item["text"] in shown
    assert [item["text"] for item in response.json()] == [
        "特种油脂有限公司" if lookup == "/lookup/enterprises/" else project.name
    ]


def test_someone_without_a_role_cannot_list_people(client):
    client.force_login(UserFactory(username="nobody"))
    UserFactory(username="wangli", display_name="王丽", roles=[Role.STAFF])
    response = client.get("/lookup/users/?q=王")
    assert response.status_code == 403
    assert "王丽" not in response.content.decode()
