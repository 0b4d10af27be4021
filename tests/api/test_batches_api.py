"""/api/batches/ and /api/batch-memberships/: the "三个一批" batches and their lists — every role
reads, administrators change; a batch's whole list is replaced in one PUT, all or nothing, each
change recorded with who made it."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.choices import BatchRole
from projects.models import Batch, BatchMembership
from tests.api.conftest import ROLES
from tests.api.matrix import CALLERS
from tests.api.matrix import expected_codes as expected
from tests.factories import BatchFactory, BatchMembershipFactory, ProjectFactory

WHO = CALLERS
READERS = set(ROLES) - {"norole"}
ADMINS = {"admin"}


@pytest.fixture
def batch(db):
    return BatchFactory(number=7, announced_on=datetime.date(2023, 3, 20), note="第七期")


@pytest.fixture
def projects(units):
    return [ProjectFactory(name=f"项目{n}", responsible_unit=units.U1) for n in range(1, 5)]


def batch_url(batch=None, action=None):
    path = "/api/batches/" if batch is None else f"/api/batches/{batch.pk}/"
    return f"{path}{action}/" if action else path


def membership_url(membership=None):
    return "/api/batch-memberships/" if membership is None else f"/api/batch-memberships/{membership.pk}/"


# --- Batches -------------------------------------------------------------------------------------


def test_every_role_reads_batches(api_as, batch, projects):
    BatchMembershipFactory(batch=batch, project=projects[0])
    BatchMembershipFactory(batch=batch, project=projects[1], role=BatchRole.SIGN)
    assert {who: api_as(who).get(batch_url()).status_code for who in WHO} == expected(READERS, 200)
    assert {who: api_as(who).get(batch_url(batch)).status_code for who in WHO} == expected(READERS, 200)
    assert api_as("leader").get(batch_url(batch)).json() == {
        "id": batch.pk,
        "number": 7,
        "announced_on": "2023-03-20",
        "note": "第七期",
        "member_count": 2,
    }


def test_only_administrators_add_change_and_delete_batches(api_as):
    created = {}
    for who in WHO:
        number = 100 + WHO.index(who)
        response = api_as(who).post(batch_url(), {"number": number, "note": "新一期"}, format="json")
        created[who] = response.status_code
        assert Batch.objects.filter(number=number).exists() == (response.status_code == 201)
    assert created == expected(ADMINS, 201)

    changed, deleted = {}, {}
    for who in WHO:
        batch = BatchFactory(number=200 + WHO.index(who))
        response = api_as(who).patch(batch_url(batch), {"note": "已调整"}, format="json")
        changed[who] = response.status_code
        batch.refresh_from_db()
        assert batch.note == ("已调整" if response.status_code == 200 else "")
        response = api_as(who).delete(batch_url(batch))
        deleted[who] = response.status_code
        assert Batch.objects.filter(pk=batch.pk).exists() == (response.status_code != 204)
    assert changed == expected(ADMINS, 200)
    assert deleted == expected(ADMINS, 204)


def test_a_batch_number_is_unique_and_a_batch_with_a_list_is_not_deleted(api_as, batch, projects):
    client = api_as("admin", language="en")
    twice = client.post(batch_url(), {"number": 7}, format="json")
    assert twice.status_code == 400 and set(twice.json()) == {"number"}
    membership = BatchMembershipFactory(batch=batch, project=projects[0])
    response = client.delete(batch_url(batch))
    assert response.status_code == 409
    assert response.json()["code"] == "protected"
    assert Batch.objects.filter(pk=batch.pk).exists()
    assert BatchMembership.objects.filter(pk=membership.pk).exists()


@pytest.mark.history_bypass("bulk test data")
def test_the_batch_list_runs_a_fixed_number_of_queries(api_as, projects, django_assert_max_num_queries):
    client = api_as("leader")
    BatchFactory(number=1)
    client.get(batch_url())
    with CaptureQueriesContext(connection) as few:
        client.get(batch_url() + "?page_size=500")
    Batch.objects.bulk_create(Batch(number=n) for n in range(2, 230))
    BatchMembership.objects.bulk_create(
        BatchMembership(batch=b, project=p, role=BatchRole.START)
        for b in Batch.objects.all()
        for p in projects[:2]
    )
    with django_assert_max_num_queries(len(few)):
        response = client.get(batch_url() + "?page_size=500")
    assert len(response.json()["results"]) == 229
    assert {row["member_count"] for row in response.json()["results"]} == {2}


# --- Memberships ----------------------------------------------------------------------------------


def test_every_role_reads_memberships_with_filters(api_as, batch, projects):
    batch8 = BatchFactory(number=8)
    a = BatchMembershipFactory(batch=batch, project=projects[0], role=BatchRole.START)
    b = BatchMembershipFactory(batch=batch, project=projects[1], role=BatchRole.SIGN)
    c = BatchMembershipFactory(batch=batch8, project=projects[0], role=BatchRole.PRODUCE)
    assert {who: api_as(who).get(membership_url()).status_code for who in WHO} == expected(READERS, 200)
    assert {who: api_as(who).get(membership_url(a)).status_code for who in WHO} == expected(READERS, 200)
    client = api_as("unit_out")

    def ids(query):
        response = client.get(membership_url() + "?" + query)
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert ids("") == {a.pk, b.pk, c.pk}
    assert ids(f"batch={batch.pk}") == {a.pk, b.pk}
    assert ids(f"project={projects[0].pk}") == {a.pk, c.pk}
    assert ids("role=sign&role=produce") == {b.pk, c.pk}
    assert api_as("unit_out", language="en").get(membership_url(a)).json() == {
        "id": a.pk,
        "batch": batch.pk,
        "batch_number": 7,
        "project": projects[0].pk,
        "project_name": "项目1",
        "role": "start",
        "role_label": "To start construction",
    }


@pytest.mark.history_bypass("bulk test data")
def test_the_membership_list_runs_a_fixed_number_of_queries(api_as, units, django_assert_max_num_queries):
    projects = [ProjectFactory(responsible_unit=units.U1) for _ in range(20)]
    batches = Batch.objects.bulk_create(Batch(number=n) for n in range(1, 12))
    BatchMembership.objects.bulk_create(
        BatchMembership(batch=batches[0], project=p, role=BatchRole.SIGN) for p in projects[:2]
    )
    client = api_as("leader")
    client.get(membership_url())
    with CaptureQueriesContext(connection) as few:
        client.get(membership_url() + "?page_size=500")
    BatchMembership.objects.bulk_create(
        BatchMembership(batch=b, project=p, role=BatchRole.START) for b in batches[1:] for p in projects
    )
    assert BatchMembership.objects.count() >= 200
    with django_assert_max_num_queries(len(few)):
        response = client.get(membership_url() + "?page_size=500")
    assert len(response.json()["results"]) == BatchMembership.objects.count()
    assert len(few) <= 5  # token, user, roles, count, page


def test_only_administrators_change_memberships_and_history_names_them(api_as, batch, people, units):
    created, changed, deleted = {}, {}, {}
    for who in WHO:
        project = ProjectFactory(responsible_unit=units.U1)
        response = api_as(who).post(
            membership_url(), {"batch": batch.pk, "project": project.pk, "role": "sign"}, format="json"
        )
        created[who] = response.status_code
        memberships = BatchMembership.objects.filter(project=project)
        if response.status_code == 201:
            assert memberships.get().history.get().history_user == people[who]
        else:
            assert not memberships.exists()

        membership = BatchMembershipFactory(batch=batch, project=ProjectFactory(), role=BatchRole.SIGN)
        response = api_as(who).patch(membership_url(membership), {"role": "start"}, format="json")
        changed[who] = response.status_code
        membership.refresh_from_db()
        if response.status_code == 200:
            change = membership.history.first()
            assert (membership.role, change.history_type, change.history_user) == ("start", "~", people[who])
        else:
            assert membership.role == "sign"

        pk = membership.pk
        response = api_as(who).delete(membership_url(membership))
        deleted[who] = response.status_code
        if response.status_code == 204:
            gone = BatchMembership.history.filter(id=pk).first()
            assert (gone.history_type, gone.history_user) == ("-", people[who])
        else:
            assert BatchMembership.objects.filter(pk=pk).exists()
    assert created == expected(ADMINS, 201)
    assert changed == expected(ADMINS, 200)
    assert deleted == expected(ADMINS, 204)


def test_a_project_is_once_in_a_batch_and_stays_in_its_batch(api_as, batch, projects):
    membership = BatchMembershipFactory(batch=batch, project=projects[0], role=BatchRole.START)
    client = api_as("admin", language="en")
    twice = client.post(
        membership_url(), {"batch": batch.pk, "project": projects[0].pk, "role": "sign"}, format="json"
    )
    assert twice.status_code == 400
    assert twice.json() == {
        "non_field_errors": ["Batch membership with this Batch and Project already exists."]
    }
    bad_role = client.post(
        membership_url(), {"batch": batch.pk, "project": projects[1].pk, "role": "x"}, format="json"
    )
    assert bad_role.status_code == 400 and set(bad_role.json()) == {"role"}
    moved = client.patch(membership_url(membership), {"batch": BatchFactory(number=9).pk}, format="json")
    assert moved.status_code == 400
    assert moved.json() == {"batch": ["This cannot be changed once the record exists."]}
    assert list(BatchMembership.objects.values_list("batch", "project", "role")) == [
        (batch.pk, projects[0].pk, "start")
    ]


# --- A batch's whole list ---------------------------------------------------------------------------


def test_every_role_reads_a_batch_list(api_as, batch, projects):
    BatchMembershipFactory(batch=batch, project=projects[1], role=BatchRole.SIGN)
    BatchMembershipFactory(batch=batch, project=projects[0], role=BatchRole.START)
    assert {who: api_as(who).get(batch_url(batch, "members")).status_code for who in WHO} == expected(
        READERS, 200
    )
    rows = api_as("leader").get(batch_url(batch, "members")).json()
    assert [(row["project"], row["role"]) for row in rows] == [
        (projects[1].pk, "sign"),
        (projects[0].pk, "start"),
    ]


def test_only_administrators_replace_a_batch_list(api_as, batch, projects):
    got = {}
    for who in WHO:
        BatchMembership.objects.all().delete()
        BatchMembershipFactory(batch=batch, project=projects[0], role=BatchRole.START)
        rows = [{"project": projects[1].pk, "role": "sign"}]
        response = api_as(who).put(batch_url(batch, "members"), rows, format="json")
        got[who] = response.status_code
        listed = list(batch.memberships.values_list("project", "role"))
        if response.status_code == 200:
            assert listed == [(projects[1].pk, "sign")]
        else:
            assert listed == [(projects[0].pk, "start")]
    assert got == expected(ADMINS, 200)


def test_replacing_a_list_joins_changes_and_removes_with_history(api_as, batch, projects, people):
    """Before: 1 to start, 2 to sign, 3 to produce. The province's new list: 2 to produce, 3 to
    produce (unchanged), 4 to start. So 1 leaves, 2 changes role, 4 joins; 3 is left alone."""
    p1, p2, p3, p4 = projects
    BatchMembershipFactory(batch=batch, project=p1, role=BatchRole.START)
    BatchMembershipFactory(batch=batch, project=p2, role=BatchRole.SIGN)
    kept = BatchMembershipFactory(batch=batch, project=p3, role=BatchRole.PRODUCE)
    other_batch = BatchMembershipFactory(batch=BatchFactory(number=8), project=p1, role=BatchRole.SIGN)
    rows = [
        {"project": p2.pk, "role": "produce"},
        {"project": p3.pk, "role": "produce"},
        {"project": p4.pk, "role": "start"},
    ]
    response = api_as("admin").put(batch_url(batch, "members"), rows, format="json")
    assert response.status_code == 200, response.json()
    assert sorted((row["project"], row["role"]) for row in response.json()) == [
        (p2.pk, "produce"),
        (p3.pk, "produce"),
        (p4.pk, "start"),
    ]
    assert sorted(batch.memberships.values_list("project", "role")) == [
        (p2.pk, "produce"),
        (p3.pk, "produce"),
        (p4.pk, "start"),
    ]
    admin = people["admin"]
    latest = {
        project: BatchMembership.history.filter(batch=batch, project=project).first()
        for project in (p1, p2, p4)
    }
    assert (latest[p1].history_type, latest[p1].history_user) == ("-", admin)
    assert (latest[p2].history_type, latest[p2].role, latest[p2].history_user) == ("~", "produce", admin)
    assert (latest[p4].history_type, latest[p4].history_user) == ("+", admin)
    assert kept.history.count() == 1  # unchanged: no history row
    assert BatchMembership.objects.filter(pk=other_batch.pk).exists()  # another batch's list stays

    emptied = api_as("admin").put(batch_url(batch, "members"), [], format="json")
    assert emptied.status_code == 200 and emptied.json() == []
    assert not batch.memberships.exists()


def test_a_list_with_errors_changes_nothing_and_names_every_bad_row(api_as, batch, projects):
    p1, p2, p3, _ = projects
    BatchMembershipFactory(batch=batch, project=p1, role=BatchRole.START)
    client = api_as("admin", language="en")

    shape = client.put(
        batch_url(batch, "members"),
        [
            {"project": p2.pk, "role": "sign"},
            {"project": 999999, "role": "sign"},
            {"project": p3.pk, "role": "x"},
        ],
        format="json",
    )
    assert shape.status_code == 400
    assert set(shape.json()) == {"1", "2"}
    assert set(shape.json()["1"]) == {"project"} and set(shape.json()["2"]) == {"role"}

    twice = client.put(
        batch_url(batch, "members"),
        [
            {"project": p2.pk, "role": "sign"},
            {"project": p3.pk, "role": "start"},
            {"project": p2.pk, "role": "produce"},
            {"project": p3.pk, "role": "start"},
        ],
        format="json",
    )
    assert twice.status_code == 400
    assert twice.json() == {
        "2": {"project": ["This project is already listed (at index 0)."]},
        "3": {"project": ["This project is already listed (at index 1)."]},
    }

    not_a_list = client.put(batch_url(batch, "members"), {"project": p2.pk, "role": "sign"}, format="json")
    assert not_a_list.status_code == 400

    assert list(BatchMembership.objects.values_list("project", "role")) == [(p1.pk, "start")]
    assert BatchMembership.history.count() == 1
