"""Reference data (units, parks, clusters, industries, leaders, users): all read, administrators write."""

import pytest

from core.roles import Role
from reference.models import Cluster, Department, Industry, Leader, Park
from tests.factories import (
    ClusterFactory,
    IndustryFactory,
    LeaderFactory,
    ParkFactory,
    ProjectFactory,
    UserFactory,
)

READERS = ["admin", "leader", "reviewer", "supervisor", "staff_in", "staff_out", "unit_in", "unit_out"]


@pytest.fixture
def refs(units):
    cluster = ClusterFactory(name="健康食品")
    return {
        "parks": ParkFactory(name="健康食品产业园"),
        "clusters": cluster,
        "industries": IndustryFactory(name="食品加工", cluster=cluster),
        "leaders": LeaderFactory(name="王主任", department=units.U1),
        "departments": units.U1,
    }


NEW = {
    "parks": lambda refs: {"name": "高新技术产业园", "area_km2": "12.50"},
    "clusters": lambda refs: {"name": "生物医药"},
    "industries": lambda refs: {"name": "中药", "cluster": refs["clusters"].pk, "is_leading": True},
    "leaders": lambda refs: {"name": "赵书记", "title": "书记"},
    "departments": lambda refs: {"name": "自然资源局", "short_name": "自然资源"},
}
MODELS = {
    "parks": Park,
    "clusters": Cluster,
    "industries": Industry,
    "leaders": Leader,
    "departments": Department,
}


@pytest.mark.parametrize("resource", sorted(NEW))
def test_every_role_reads_only_administrators_write(resource, refs, api_as):
    obj = refs[resource]
    for who in READERS:
        listed = api_as(who).get(f"/api/{resource}/")
        assert listed.status_code == 200, who
        assert obj.pk in [row["id"] for row in listed.json()["results"]]
        assert api_as(who).get(f"/api/{resource}/{obj.pk}/").status_code == 200
    assert api_as(None).get(f"/api/{resource}/").status_code == 401
    assert api_as("norole").get(f"/api/{resource}/").status_code == 403

    model = MODELS[resource]
    count = model.objects.count()
    for who in READERS[1:] + ["norole"]:
        assert api_as(who).post(f"/api/{resource}/", NEW[resource](refs), format="json").status_code == 403
        assert (
            api_as(who).patch(f"/api/{resource}/{obj.pk}/", {"name": "改"}, format="json").status_code == 403
        )
        assert api_as(who).delete(f"/api/{resource}/{obj.pk}/").status_code == 403
    assert model.objects.count() == count

    created = api_as("admin").post(f"/api/{resource}/", NEW[resource](refs), format="json")
    assert created.status_code == 201, created.json()
    new = model.objects.get(pk=created.json()["id"])
    assert new.name == NEW[resource](refs)["name"]
    changed = api_as("admin").patch(f"/api/{resource}/{new.pk}/", {"name": "改名"}, format="json")
    assert changed.status_code == 200
    new.refresh_from_db()
    assert new.name == "改名"
    assert api_as("admin").delete(f"/api/{resource}/{new.pk}/").status_code == 204
    assert not model.objects.filter(pk=new.pk).exists()


def test_duplicates_and_bad_values_are_400(refs, api_as):
    response = api_as("admin").post("/api/parks/", {"name": "健康食品产业园"}, format="json")
    assert response.status_code == 400 and "name" in response.json()
    response = api_as("admin", language="en").post(
        "/api/industries/", {"name": "新产业", "cluster": 999999}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["cluster"] == ['Invalid pk "999999" - object does not exist.']


def test_reference_data_in_use_cannot_be_deleted(refs, api_as):
    ProjectFactory(park=refs["parks"], industry=refs["industries"])
    response = api_as("admin").delete(f"/api/parks/{refs['parks'].pk}/")
    assert response.status_code == 409
    assert response.json() == {"detail": "该记录仍被其他记录引用，不能删除。", "code": "protected"}
    assert Park.objects.filter(pk=refs["parks"].pk).exists()


def test_users_show_roles_and_unit_but_no_contact_details(
    api_as, people, units, django_assert_max_num_queries
):
    client = api_as("staff_in")
    client.get("/api/users/")
    for i in range(200):
        UserFactory(username=f"extra{i}", roles=[Role.UNIT], department=units.U2)
    with django_assert_max_num_queries(6):
        data = client.get("/api/users/?page_size=500").json()
    rows = {row["username"]: row for row in data["results"]}
    assert rows["api_staff_in"]["roles"] == ["staff"]
    assert rows["api_staff_in"]["department"] == units.U1.pk
    assert rows["extra5"]["roles"] == ["unit"]
    assert "email" not in rows["api_staff_in"] and "phone" not in rows["api_staff_in"]
    assert api_as("admin").post("/api/users/", {"username": "x"}, format="json").status_code == 405


@pytest.mark.history_bypass("bulk test data")
def test_reference_lists_run_a_fixed_number_of_queries(api_as, refs, django_assert_max_num_queries):
    client = api_as("leader")
    client.get("/api/industries/")
    cluster = refs["clusters"]
    Industry.objects.bulk_create(Industry(name=f"产业{i}", cluster=cluster) for i in range(250))
    with django_assert_max_num_queries(5):
        assert len(client.get("/api/industries/?page_size=500").json()["results"]) == 251
