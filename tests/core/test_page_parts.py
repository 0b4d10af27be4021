"""Whole parts of the pages leaders and staff open first (the dashboard's body, the project and
enterprise lists) come from the figures cache (core.caching.Part), issue 21 item 16: each is
the same for every reader with the same scope, and a change under it shows on the very next view.
A figure missing from the cache is computed by one request while the others wait for it."""

import threading
import time

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import translation

from core import caching
from core.roles import Role
from projects.models import MonthlyProgress
from projects.services import progress_approve
from tests.dashboard.test_dashboard import by_id, leader_client, zone  # noqa: F401  (fixtures)
from tests.factories import EnterpriseFactory, ProjectFactory, UserFactory, make_ticket

# --- One computation at a time --------------------------------------------------------------


def test_a_figure_being_computed_is_waited_for_not_computed_again():
    cache.clear()
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow():
        calls.append("slow")
        started.set()
        release.wait(5)
        return "figures"

    results = {}
    first = threading.Thread(target=lambda: results.update(first=caching._compute_once("k1", slow, 60)))
    first.start()
    assert started.wait(5)
    second = threading.Thread(
        target=lambda: results.update(second=caching._compute_once("k1", lambda: calls.append("again"), 60))
    )
    second.start()
    time.sleep(0.3)  # the second is waiting, not computing
    assert calls == ["slow"]
    release.set()
    first.join(5)
    second.join(5)

    assert results == {"first": "figures", "second": "figures"}
    assert calls == ["slow"]
    assert cache.get("k1") == "figures"
    assert cache.get("k1:computing") is None  # the lock is gone with the computation


def test_a_failed_computation_lets_the_next_one_try():
    cache.clear()

    def broken():
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        caching._compute_once("k2", broken, 60)
    assert cache.get("k2:computing") is None
    assert caching._compute_once("k2", lambda: 42, 60) == 42


@override_settings(FIGURES_COMPUTE_WAIT=2)
def test_a_waiter_computes_itself_when_the_first_never_finishes():
    cache.clear()
    cache.add("k3:computing", 1, 60)  # a worker that died mid-computation (its lock outlives it)
    began = time.monotonic()
    assert caching._compute_once("k3", lambda: "mine", 60) == "mine"
    assert 1.9 <= time.monotonic() - began < 4


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "core.cache_backends.ForgivingRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
)
def test_without_the_cache_nobody_waits():
    from django.core.cache import caches

    caches._settings = None  # noqa: SLF001  (re-read CACHES)
    try:
        began = time.monotonic()
        assert caching._compute_once("k4", lambda: "computed", 60) == "computed"
        assert caching._compute_once("k4", lambda: "again", 60) == "again"  # nothing was kept
        assert time.monotonic() - began < 2
    finally:
        caches._settings = None  # noqa: SLF001


# --- The dashboard's body ----------------------------------------------------------------


def test_a_second_dashboard_view_reads_only_the_version(zone, leader_client, django_assert_max_num_queries):  # noqa: F811
    first = leader_client.get("/dashboard/")
    # The session, the user, their roles, the data version and the month's publication.
    with django_assert_max_num_queries(6):
        second = leader_client.get("/dashboard/")
    assert by_id(second) == by_id(first)
    assert by_id(second)["card-count"] == "6"


def test_an_approval_shows_on_the_next_dashboard_view(zone, leader_client):  # noqa: F811
    before = by_id(leader_client.get("/dashboard/?include_submitted=1"))
    approved_only = by_id(leader_client.get("/dashboard/"))
    assert approved_only["card-completed"] != before["card-completed"]  # P2's March is submitted

    report = MonthlyProgress.objects.get(project=zone.P2, year=2024, month=3)
    progress_approve(report=report, user=UserFactory(roles=[Role.REVIEWER]))

    assert by_id(leader_client.get("/dashboard/"))["card-completed"] == before["card-completed"]


def test_a_unit_reader_never_gets_the_zone_wide_body(zone, leader_client, client):  # noqa: F811
    assert by_id(leader_client.get("/dashboard/"))["card-count"] == "6"

    client.force_login(UserFactory(username="zhuanyuan", roles=[Role.STAFF], department=zone.U1))
    response = client.get("/dashboard/")

    assert by_id(response)["card-count"] == "3"  # P1 P3 P5
    assert 'id="scope-note"' in response.content.decode()


def test_each_language_has_its_own_body(zone, leader_client):  # noqa: F811
    chinese = leader_client.get("/dashboard/").content.decode()
    leader_client.cookies["django_language"] = "en"
    english = leader_client.get("/dashboard/").content.decode()

    with translation.override("zh-hans"):
        assert translation.gettext("Projects behind schedule") in chinese
    assert "Projects behind schedule" in english


# --- The lists ---------------------------------------------------------------------------


def test_a_second_list_view_reads_only_the_version(zone, leader_client, django_assert_max_num_queries):  # noqa: F811
    first = leader_client.get("/projects/")
    with django_assert_max_num_queries(6):
        second = leader_client.get("/projects/")
    assert by_id(second)["sum-count"] == by_id(first)["sum-count"] == "6"


def test_a_new_project_and_a_renamed_park_show_on_the_next_list_view(zone, leader_client):  # noqa: F811
    assert by_id(leader_client.get("/projects/"))["sum-count"] == "6"

    ProjectFactory(name="新来的项目", park=zone.A)
    zone.A.name = "改了名的园区"
    zone.A.save()

    html = leader_client.get("/projects/").content.decode()
    assert "新来的项目" in html
    assert "改了名的园区" in html
    assert by_id(leader_client.get("/projects/"))["sum-count"] == "7"


def test_the_import_button_is_not_shared_between_roles(zone, leader_client, client):  # noqa: F811
    assert 'id="import-ledger"' not in leader_client.get("/projects/").content.decode()

    client.force_login(UserFactory(username="zhuanyuan", roles=[Role.STAFF], department=zone.U1))
    assert 'id="import-ledger"' in client.get("/projects/").content.decode()


def test_a_new_problem_shows_on_the_next_enterprise_list_view(db, client):
    enterprise = EnterpriseFactory(name="甲企业")
    leader = UserFactory(roles=[Role.LEADER])
    client.force_login(leader)
    before = client.get(f"/enterprises/?q={enterprise.name}").content.decode()
    assert "甲企业" in before

    make_ticket(user=UserFactory(roles=[Role.STAFF]), enterprise=enterprise)

    after = client.get(f"/enterprises/?q={enterprise.name}")
    assert after.context["page"][0].open_problems == 1
    assert after.content.decode() != before
