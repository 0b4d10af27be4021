"""The load test (bench/load/run.py): simulated users against the production stack of
`make serve-prod` (deploy/serve_prod.py: gunicorn, Redis cache and sessions) on loopback.

The run itself is PostgreSQL's (the issue asks for it there, the production database) and needs a
Redis; the check it makes afterwards is tested here on both databases, so a lost or doubled write
cannot slip through it.
"""

import os
import secrets
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from bench.load.run import DEFAULT_REDIS, check_saves, drop_database
from projects import services
from tests.factories import ProjectFactory, UserFactory
from tests.redis_helpers import redis_or_skip

ROOT = Path(settings.BASE_DIR)
ARTIFACTS = ROOT / "test-artifacts" / "load"
REDIS_URL = os.environ.get("LOAD_REDIS_URL") or os.environ.get("REDIS_URL") or DEFAULT_REDIS


@pytest.mark.slow
@pytest.mark.serial
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the issue asks for the load test on PostgreSQL; it runs in the PostgreSQL pass of .ci/run",
)
def test_simulated_users_browse_and_save_with_no_error_and_no_lost_or_doubled_write():
    """LOAD_USERS (50) users for LOAD_SECONDS (120 s): zero failed requests or page checks, every
    accepted save in the database once with its value, one history row per save (the script checks
    and exits 1 otherwise)."""
    redis_or_skip(REDIS_URL, "the production stack keeps its cache and sessions in Redis")
    seconds = int(os.environ.get("LOAD_SECONDS", "120"))
    database = f"zp_loadtest_{secrets.token_hex(4)}"
    results = ARTIFACTS / "LOAD_RESULTS.md"
    results.unlink(missing_ok=True)
    # Its own process group: on a time-out the script, the server and locust all go.
    run = subprocess.Popen(
        [sys.executable, "bench/load/run.py", "--database", database, "--results", str(results)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = run.communicate(timeout=seconds + 600)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGTERM)
            try:
                run.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()
        # The script drops its database itself; this covers a script that was killed.
        drop_database(connection.settings_dict, database)

    assert run.returncode == 0, output
    assert "**Errors: 0.**" in output
    section = results.read_text()
    assert "| **all** |" in section and "p95 ms" in section
    assert "accepted saves" in section and "no project-month twice" in section
    assert (ARTIFACTS / "locust_stats.csv").exists()


# --- The check made after the run ---------------------------------------------------------


def saved(project, *values, status="draft"):
    return [{"project": project.pk, "year": 2024, "month": 3, "value": v, "status": status} for v in values]


@pytest.fixture
def two_saves(db):
    """A report saved twice through the service, as two accepted form posts would."""
    admin = UserFactory(is_superuser=True)
    project = ProjectFactory()
    for value in ("10.00", "12.50"):
        services.progress_save(
            project=project, year=2024, month=3, user=admin, data={"completed_investment": Decimal(value)}
        )
    return admin, project


def test_the_check_passes_when_every_save_is_there_once(two_saves):
    _, project = two_saves

    problems, summary = check_saves(saved(project, "10.00", "12.50"), 2024)

    assert problems == []
    assert summary == {"saves": 2, "submitted": 0, "project_months": 1, "reports": 1, "history_rows": 2}


def test_the_check_finds_a_lost_save(two_saves):
    _, project = two_saves

    problems, _ = check_saves(saved(project, "10.00", "12.50", "13.00"), 2024)

    where = f"project {project.pk}, 2024-03"
    assert f"{where}: 12.50 stored, 13.00 saved last" in problems
    assert f"{where}: version 2 after 3 accepted saves" in problems
    assert "2 history rows for 3 accepted saves" in problems


def test_the_check_finds_a_write_nobody_made_and_a_save_with_no_report(two_saves):
    admin, project = two_saves
    other = ProjectFactory()
    services.progress_save(
        project=other, year=2024, month=5, user=admin, data={"completed_investment": Decimal("1")}
    )

    problems, _ = check_saves(saved(project, "10.00") + [saved(project, "7.00")[0] | {"month": 4}], 2024)

    assert f"project {project.pk}, 2024-04: 1 accepted saves, no report in the database" in problems
    assert f"project {other.pk}, 2024-05: a report nobody saved" in problems
    # The report saved twice when one save was accepted: a doubled write.
    assert f"project {project.pk}, 2024-03: version 2 after 1 accepted saves" in problems
