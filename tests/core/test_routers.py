"""Dashboard reads on the read replica (core/routers.py), on both databases.

The replica in these tests is a second connection, with its own alias and its own query log, to the
test database, as Django makes a TEST MIRROR: what the dashboard reads through it is provably not
read through ``default``. The tests commit their data (``transactional_db``), since a second
connection cannot see a test's open transaction, just as a real replica sees only committed rows.

One project, 2024, in 万元: plan 4000; approved January 400, February 400, March 300 → 1100 by March,
完成率 1100 / 4000 = 27.50%, 时序进度 3/12 = 25.00%, +2.50 points.
"""

import copy
import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.test.utils import CaptureQueriesContext

from core.roles import Role
from core.routers import REPLICA_DB_ALIAS, ReplicaRouter, read_from_replica
from projects.choices import ProgressStatus
from projects.models import MonthlyProgress, Project
from tests.factories import AnnualPlanFactory, MonthlyProgressFactory, ProjectFactory, UserFactory

FIGURES_TABLE = '"projects_monthlyprogress"'


@pytest.fixture
def replica(transactional_db, settings):
    """The alias "replica" on a connection of its own to the test database, and the router on, as
    DATABASE_REPLICA_URL sets them."""
    primary = connections[DEFAULT_DB_ALIAS].settings_dict
    # connections.settings is settings.DATABASES: the router sees the alias too.
    connections.settings[REPLICA_DB_ALIAS] = {**copy.deepcopy(primary), "TEST": {"MIRROR": DEFAULT_DB_ALIAS}}
    settings.DATABASE_ROUTERS = ["core.routers.ReplicaRouter"]
    try:
        # Connected here: Django lets a test open connections only to the aliases it declared when
        # it started, and this one did not exist yet.
        connections[REPLICA_DB_ALIAS].connect()
        yield connections[REPLICA_DB_ALIAS]
    finally:
        connections[REPLICA_DB_ALIAS].close()
        del connections[REPLICA_DB_ALIAS]
        del connections.settings[REPLICA_DB_ALIAS]


@pytest.fixture
def figures():
    project = ProjectFactory(name="周口智能装备产业园")
    AnnualPlanFactory(project=project, year=2024, planned_investment=Decimal("4000"))
    for month, amount in ((1, "400"), (2, "400"), (3, "300")):
        MonthlyProgressFactory(
            project=project,
            year=2024,
            month=month,
            completed_investment=Decimal(amount),
            status=ProgressStatus.APPROVED,
        )
    return project


@pytest.fixture
def leader_client(client, transactional_db):
    client.force_login(UserFactory(username="lingdao", roles=[Role.LEADER]))
    return client


def run_on_both(replica, call):
    """The response of ``call()`` and the SQL each connection ran for it."""
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary,
        CaptureQueriesContext(replica) as secondary,
    ):
        response = call()
    return (
        response,
        [q["sql"] for q in primary.captured_queries],
        [q["sql"] for q in secondary.captured_queries],
    )


# --- Through the dashboard ------------------------------------------------------------------


def test_the_dashboard_api_reads_its_figures_from_the_replica(replica, figures, leader_client):
    response, on_primary, on_replica = run_on_both(
        replica, lambda: leader_client.get("/api/dashboard/summary/?year=2024&month=3")
    )

    assert response.status_code == 200
    data = response.json()
    assert (data["planned_investment"], data["completed_investment"]) == ("4000.00", "1100.00")
    assert (data["completion_rate"], data["schedule_progress"], data["gap_points"]) == (
        "0.2750",
        "0.2500",
        "2.50",
    )
    assert any(FIGURES_TABLE in sql for sql in on_replica)
    assert not any(FIGURES_TABLE in sql for sql in on_primary), on_primary
    # The replica only ever reads.
    assert all(sql.lstrip().upper().startswith(("SELECT", "WITH")) for sql in on_replica)


def test_the_dashboard_page_and_its_workbook_read_from_the_replica(replica, figures, leader_client):
    page, page_primary, page_replica = run_on_both(
        replica, lambda: leader_client.get("/dashboard/?year=2024&month=3")
    )
    export, export_primary, export_replica = run_on_both(
        replica, lambda: leader_client.get("/dashboard/export/?report=bulletin&year=2024&month=3")
    )

    assert page.status_code == 200
    assert "27.50%" in page.content.decode()
    assert export.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content)))
    cells = {cell for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row}
    assert {Decimal("4000"), Decimal("1100"), Decimal("0.275")} <= {
        Decimal(str(c)) for c in cells if isinstance(c, int | float)
    }
    for on_primary, on_replica in ((page_primary, page_replica), (export_primary, export_replica)):
        assert any(FIGURES_TABLE in sql for sql in on_replica)
        assert not any(FIGURES_TABLE in sql for sql in on_primary)


def test_other_pages_read_from_default(replica, figures, leader_client):
    response, on_primary, on_replica = run_on_both(
        replica, lambda: leader_client.get(f"/projects/{figures.pk}/")
    )

    assert response.status_code == 200
    assert on_replica == []
    assert any(FIGURES_TABLE in sql for sql in on_primary)


# --- Writes, transactions, and no replica -------------------------------------------------------


def test_inside_the_context_writes_and_transactions_use_default(replica, figures):
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary,
        CaptureQueriesContext(replica) as secondary,
    ):
        with read_from_replica():
            report = MonthlyProgress.objects.get(project=figures, month=3)  # the replica
            assert report._state.db == REPLICA_DB_ALIAS
            report.problems = "已核实"
            report.save(update_fields=["problems"])  # default, though read from the replica
            with transaction.atomic():
                # In a transaction on default, reads take part in it (and see its writes).
                assert Project.objects.get(pk=figures.pk)._state.db == DEFAULT_DB_ALIAS
        # Outside, the object read from the replica goes to default too.
        assert MonthlyProgress.objects.filter(pk=report.pk, problems="已核实").exists()

    on_primary = [q["sql"].upper() for q in primary.captured_queries]
    on_replica = [q["sql"].upper() for q in secondary.captured_queries]
    assert len(on_replica) == 1 and on_replica[0].startswith("SELECT")
    assert any(sql.startswith("UPDATE") and FIGURES_TABLE.upper() in sql for sql in on_primary)
    assert not any(sql.startswith(("UPDATE", "INSERT", "DELETE")) for sql in on_replica)


def test_migrations_only_on_default(replica):
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "projects", model_name="project")
    assert not router.allow_migrate(REPLICA_DB_ALIAS, "projects", model_name="project")


def test_the_context_ends_on_an_error(replica):
    with pytest.raises(ZeroDivisionError), read_from_replica():
        assert router.db_for_read(Project) == REPLICA_DB_ALIAS
        1 / 0  # noqa: B018

    assert router.db_for_read(Project) == DEFAULT_DB_ALIAS


def test_without_a_replica_everything_reads_from_default(db, settings):
    # The router installed but no replica alias (a half-done configuration), and no router at all.
    settings.DATABASE_ROUTERS = ["core.routers.ReplicaRouter"]
    with read_from_replica():
        assert ReplicaRouter().db_for_read(Project) == DEFAULT_DB_ALIAS
        assert router.db_for_read(Project) == DEFAULT_DB_ALIAS
    settings.DATABASE_ROUTERS = []
    with read_from_replica():
        assert router.db_for_read(Project) == DEFAULT_DB_ALIAS
        assert Project.objects.count() == 0
