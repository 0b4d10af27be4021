"""Existing databases migrate forward with nothing lost (issue 23's "what must not change").

A database is built with the code of OLD_COMMIT (the last commit before the restructure into
core/reference/dashboard/demo/problems): its migrations, ``load_demo`` and
``generate_data --profile zone --append``. It is then migrated with the code of this tree. Every
table keeps its rows; the dashboard summary, the project ledger and ``check_history`` read the same
before and after; and the migrated database has exactly the schema (columns, constraints, indexes)
and the content types and permissions a fresh database of this tree gets.

Every step runs ``manage.py`` of one tree or the other in a subprocess with the same Python, on a
database of its own (a file under a temporary folder, or a ``zp_rt_…`` PostgreSQL database the
test creates and drops); snapshot.py reads each database the same way in both trees.

Environment:
  ROUND_TRIP_NEW_TREE   the tree to migrate with, instead of this one (the harness is checked
                        with a second extraction of OLD_COMMIT: old → old must pass)
  ROUND_TRIP_OLD_COMMIT the commit to build the database with (default OLD_COMMIT)
  ROUND_TRIP_KEEP=1     keep the temporary folder (and print it) to look at the snapshots
"""

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

OLD_COMMIT = os.environ.get("ROUND_TRIP_OLD_COMMIT", "45c95fb")
HERE = Path(__file__).resolve().parent
SNAPSHOT = HERE / "snapshot.py"
SEED = HERE / "seed_old.py"
REPO = HERE.parent.parent
# The zone profile (500 projects, 1,000 enterprises, 2 years, 1,000 tickets) beside the demo
# world: it takes a few seconds, so the whole profile is used.
GENERATE = ["generate_data", "--profile", "zone", "--seed", "7", "--append", "--verbosity", "0"]
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
# What the subprocesses must not inherit: the suite's own database, Redis, settings of a deployment.
NOT_INHERITED = {
    "DATABASE_URL",
    "DATABASE_REPLICA_URL",
    "REDIS_URL",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ENV",
    "DEBUG",
    "ALLOWED_HOSTS",
    "MEDIA_ROOT",
    "MEDIA_S3_BUCKET",
    "TASKS_BACKEND",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "MAKEFLAGS",
    "MFLAGS",
}
STEP_TIMEOUT = 900


def postgres_reachable() -> bool:
    try:
        import psycopg2

        psycopg2.connect(dbname="postgres", connect_timeout=3, **POSTGRES).close()
    except Exception:  # noqa: BLE001 - any failure means: not here
        return False
    return True


def suite_on_postgresql() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgres")


def database_params():
    # The SQLite case runs in the suite's SQLite pass; the PostgreSQL case wherever a PostgreSQL
    # at 127.0.0.1:5432 answers (.ci/run starts it before its PostgreSQL pass, which must run it).
    sqlite_skip = pytest.mark.skipif(
        suite_on_postgresql(), reason="the SQLite round trip runs in the suite's SQLite pass"
    )
    postgres_skip = pytest.mark.skipif(
        not suite_on_postgresql() and not postgres_reachable(),
        reason="no PostgreSQL at 127.0.0.1:5432 (user postgres)",
    )
    return [
        pytest.param("sqlite", marks=sqlite_skip, id="sqlite"),
        pytest.param("postgresql", marks=postgres_skip, id="postgresql"),
    ]


# Databases --------------------------------------------------------------------------------------


class Databases:
    """Databases for one round trip, dropped (PostgreSQL) or deleted with the folder (SQLite)."""

    def __init__(self, vendor: str, folder: Path):
        self.vendor = vendor
        self.folder = folder
        self.created: list[str] = []

    def new(self, label: str) -> str:
        if self.vendor == "sqlite":
            return f"sqlite:///{self.folder / f'{label}.sqlite3'}"
        name = f"zp_rt_{uuid.uuid4().hex[:12]}_{label}"
        self._admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"postgres://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{name}"

    def drop(self, url: str) -> None:
        """Drop one database as soon as it is read (PostgreSQL checkpoints on each drop: seconds)."""
        name = url.rsplit("/", 1)[-1]
        if self.vendor == "postgresql" and name in self.created:
            assert name.startswith("zp_rt_")
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.created.remove(name)

    def drop_all(self) -> None:
        for name in list(self.created):
            assert name.startswith("zp_rt_")
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.created.remove(name)

    @staticmethod
    def _admin(sql: str) -> None:
        import psycopg2

        connection = psycopg2.connect(dbname="postgres", connect_timeout=10, **POSTGRES)
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()


# Trees and steps --------------------------------------------------------------------------------


def extract(commit: str, target: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        pytest.skip(f"git archive {commit} failed (not a full clone?): {archive.stderr.decode()[-500:]}")
    target.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return target


def run_script(script: Path) -> list[str]:
    """manage.py arguments that run ``script`` with Django set up, in any tree."""
    return [
        "shell",
        "--no-imports",
        "-c",
        f"import runpy; runpy.run_path({str(script)!r}, run_name='__main__')",
    ]


class Steps:
    """Runs manage.py commands and records how long each took."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.timings: list[tuple[str, float]] = []
        self.lock = threading.Lock()

    def environment(self, database_url: str, label: str) -> dict:
        env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
        media = self.folder / f"media-{label}"
        media.mkdir(exist_ok=True)
        env.update(
            DATABASE_URL=database_url,
            MEDIA_ROOT=str(media),
            TASKS_BACKEND="database",
            # The ledger is written in the request, whatever its size, not by a background job.
            EXCEL_SYNC_EXPORT_ROWS="10000000",
            EXCEL_EXPORT_MAX_ROWS="10000000",
            LOG_LEVEL="ERROR",
        )
        return env

    def run(self, name: str, tree: Path, env: dict, *args: str) -> None:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, str(tree / "manage.py"), *args],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
        self.record(name, time.perf_counter() - started)
        assert result.returncode == 0, (
            f"{name} failed ({tree}: manage.py {' '.join(args)}), exit status {result.returncode}\n"
            f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-6000:]}"
        )

    def record(self, name: str, seconds: float) -> None:
        with self.lock:
            self.timings.append((name, seconds))

    def snapshot(self, name: str, tree: Path, env: dict, target: Path) -> dict:
        self.run(name, tree, {**env, "ROUND_TRIP_SNAPSHOT": str(target)}, *run_script(SNAPSHOT))
        return json.loads(target.read_text(encoding="utf-8"))

    def report(self) -> str:
        width = max(len(name) for name, _ in self.timings)
        return "\n".join(f"  {name:<{width}} {seconds:7.1f} s" for name, seconds in self.timings)


# Readable differences ---------------------------------------------------------------------------


def differences(before, after, path="", limit=40) -> list[str]:
    """Where two JSON values differ, as ``path: before → after`` lines (at most ``limit``)."""
    found: list[str] = []

    def walk(a, b, where):
        if len(found) >= limit or a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                if key not in b:
                    found.append(f"{where}/{key}: only before: {_short(a[key])}")
                elif key not in a:
                    found.append(f"{where}/{key}: only after: {_short(b[key])}")
                else:
                    walk(a[key], b[key], f"{where}/{key}")
        elif isinstance(a, list) and isinstance(b, list):
            for index in range(max(len(a), len(b))):
                if index >= len(b):
                    found.append(f"{where}[{index}]: only before: {_short(a[index])}")
                elif index >= len(a):
                    found.append(f"{where}[{index}]: only after: {_short(b[index])}")
                else:
                    walk(a[index], b[index], f"{where}[{index}]")
        else:
            found.append(f"{where}: {_short(a)} → {_short(b)}")

    walk(before, after, path)
    return found[:limit]


def _short(value, width=400) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= width else text[:width] + "…"


# Rows the migrations add since OLD_COMMIT: each of the six role groups takes its role's code
# (core/migrations/0004_role_codes.py), and that new model has its content type.
ADDED_ROWS = {"core_rolegroup": 6}
ADDED_CONTENT_TYPES = 1


def row_differences(before: dict, after: dict) -> list[str]:
    return [
        f"  {table}: {before.get(table, 'no table')} → {after.get(table, 'no table')}"
        for table in sorted(set(before) | set(after))
        if before.get(table) != after.get(table)
    ]


def schema_differences(migrated: dict, fresh: dict) -> list[str]:
    lines = []
    for table in sorted(set(migrated) | set(fresh)):
        if table not in fresh:
            lines.append(f"{table}: only in the migrated database")
            continue
        if table not in migrated:
            lines.append(f"{table}: only in the fresh database")
            continue
        m, f = migrated[table], fresh[table]
        if m == f:
            continue
        lines.append(f"{table}:")
        for column in sorted(set(m["columns"]) | set(f["columns"])):
            a, b = m["columns"].get(column), f["columns"].get(column)
            if a != b:
                lines.append(f"  column {column}: migrated {_short(a)}")
                lines.append(f"  {' ' * len('column ' + column)}  fresh    {_short(b)}")
        a = {json.dumps(item, ensure_ascii=False, sort_keys=True) for item in m["constraints"]}
        b = {json.dumps(item, ensure_ascii=False, sort_keys=True) for item in f["constraints"]}
        lines += [f"  constraint only migrated: {item}" for item in sorted(a - b)]
        lines += [f"  constraint only fresh:    {item}" for item in sorted(b - a)]
        for key in sorted((set(m) | set(f)) - {"columns", "constraints"}):
            if m.get(key) != f.get(key):
                lines.append(f"  {key}: migrated {_short(m.get(key))}")
                lines.append(f"  {' ' * len(key)}  fresh    {_short(f.get(key))}")
    return lines


def set_differences(one: list, other: list, names=("migrated", "fresh")) -> list[str]:
    width = max(len(name) for name in names)
    return [f"  only {names[0]:<{width}} {item}" for item in sorted(set(one) - set(other))] + [
        f"  only {names[1]:<{width}} {item}" for item in sorted(set(other) - set(one))
    ]


def check_readable(snapshot: dict, label: str) -> None:
    """The snapshot read real figures: a summary and a ledger with projects in them, not errors
    that would compare equal."""
    summary = snapshot["summary"]
    assert snapshot["reader"], f"{label}: no administrator or leader to read the dashboard as"
    assert summary and "by_level" in summary["default"], f"{label}: no dashboard summary: {_short(summary)}"
    assert summary["default"]["project_count"] > 0, f"{label}: the summary counts no project"
    for url, ledger in snapshot["ledger"].items():
        assert "sheets" in ledger, f"{label}: {url} gave no workbook: {ledger}"
        assert sum(len(rows) for rows in ledger["sheets"].values()) > 100, (
            f"{label}: {url}: a near-empty ledger"
        )
    assert snapshot["rows"] == snapshot["rows_after_reading"], (
        f"{label}: the snapshot's reads changed rows:\n"
        + "\n".join(row_differences(snapshot["rows"], snapshot["rows_after_reading"]))
    )


# The test ---------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("vendor", database_params())
def test_existing_database_migrates_forward_with_nothing_lost(vendor):
    keep = os.environ.get("ROUND_TRIP_KEEP") == "1"
    folder = Path(tempfile.mkdtemp(prefix=f"zp_round_trip_{vendor}_"))
    databases = Databases(vendor, folder)
    steps = Steps(folder)
    new_tree = Path(os.environ.get("ROUND_TRIP_NEW_TREE") or REPO).resolve()
    try:
        started = time.perf_counter()
        old_tree = extract(OLD_COMMIT, folder / "old")
        steps.timings.append(("git archive (old tree)", time.perf_counter() - started))
        existing = steps.environment(databases.new("existing"), "existing")
        fresh_env = steps.environment(databases.new("fresh"), "fresh")

        # c. runs beside a and b: a fresh database of the new tree, on a database of its own.
        fresh: dict = {}
        failure: list[BaseException] = []

        def build_fresh():
            try:
                steps.run(
                    "new tree: migrate (fresh database)", new_tree, fresh_env, "migrate", "--no-input", "-v0"
                )
                fresh.update(
                    steps.snapshot("new tree: snapshot (fresh)", new_tree, fresh_env, folder / "fresh.json")
                )
                dropping = time.perf_counter()
                databases.drop(fresh_env["DATABASE_URL"])
                steps.record("drop the fresh database", time.perf_counter() - dropping)
            except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
                failure.append(error)

        beside = threading.Thread(target=build_fresh)
        beside.start()
        try:
            # a. The database as the old code leaves it.
            steps.run("old tree: migrate", old_tree, existing, "migrate", "--no-input", "-v0")
            steps.run("old tree: load_demo", old_tree, existing, "load_demo", "-v0")
            steps.run("old tree: generate_data", old_tree, existing, *GENERATE)
            steps.run("old tree: seed_old.py", old_tree, existing, *run_script(SEED))
            before = steps.snapshot("old tree: snapshot (before)", old_tree, existing, folder / "before.json")
            # b. The same database, migrated by the new code.
            steps.run(
                "new tree: migrate (existing database)", new_tree, existing, "migrate", "--no-input", "-v0"
            )
            after = steps.snapshot("new tree: snapshot (after)", new_tree, existing, folder / "after.json")
        finally:
            beside.join()
        if failure:
            raise failure[0]
        steps.timings.append(("total", time.perf_counter() - started))

        # d. Nothing lost, nothing changed.
        check_readable(before, "before")
        check_readable(after, "after")
        assert before["check_history"]["raised"] is None, (
            "check_history reported problems on the old code's database:\n"
            + _short(before["check_history"], 4000)
        )
        # (An old → old run of the harness has no added tables; the schema check below holds them.)
        expected_rows = {**before["rows"], **{t: n for t, n in ADDED_ROWS.items() if t in after["rows"]}}
        if "core_rolegroup" in after["rows"]:  # the new tree, not the harness's old → old run
            expected_rows["django_content_type"] += ADDED_CONTENT_TYPES
        assert expected_rows == after["rows"], (
            "Row counts changed by the migration (before → after):\n"
            + "\n".join(row_differences(expected_rows, after["rows"]))
        )
        assert before["references"] == after["references"], (
            "Permissions or the admin log point elsewhere after the migration:\n"
            + "\n".join(
                f"{key}:\n"
                + "\n".join(
                    set_differences(
                        before["references"][key], after["references"].get(key, []), ("before", "after")
                    )
                )
                for key in sorted(before["references"])
                if before["references"][key] != after["references"].get(key)
            )
        )
        assert before["summary"] == after["summary"], "The dashboard summary changed:\n" + "\n".join(
            differences(before["summary"], after["summary"], "summary")
        )
        assert before["ledger"] == after["ledger"], (
            "The project ledger changed (sheet[row][column], from 0):\n"
            + "\n".join(differences(before["ledger"], after["ledger"], "ledger"))
        )
        assert before["check_history"] == after["check_history"], "check_history changed:\n" + "\n".join(
            differences(before["check_history"], after["check_history"], "check_history")
        )
        assert after["schema"] == fresh["schema"], (
            "The migrated database's schema is not a fresh database's:\n"
            + "\n".join(schema_differences(after["schema"], fresh["schema"]))
        )
        assert after["content_types"] == fresh["content_types"], (
            "The migrated database's content types are not a fresh database's:\n"
            + "\n".join(set_differences(after["content_types"], fresh["content_types"]))
        )
        assert after["permissions"] == fresh["permissions"], (
            "The migrated database's permissions are not a fresh database's:\n"
            + "\n".join(set_differences(after["permissions"], fresh["permissions"]))
        )
    finally:
        if vendor == "postgresql":
            dropping = time.perf_counter()
            databases.drop_all()
            steps.record("drop the databases", time.perf_counter() - dropping)
        if steps.timings:
            print(f"\nRound trip on {vendor}, {OLD_COMMIT} → {new_tree}:\n{steps.report()}")
        if keep:
            print(f"Snapshots kept in {folder}")
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
