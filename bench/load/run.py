"""Load test on loopback: simulated users against a real server and a fresh PostgreSQL database.

    make load-test                                          # 50 users for 120 s (the issue's numbers)
    LOAD_SECONDS=20 LOAD_USERS=10 .venv/bin/python bench/load/run.py --results test-artifacts/load.md

What it does, and undoes whatever happens:

1. creates a PostgreSQL database of its own (``zp_load_<random>``, or ``--database``) on the server
   of LOAD_DATABASE_URL, else of DATABASE_URL when that is PostgreSQL, else the local
   postgres://postgres@127.0.0.1:5432; migrates it and seeds a zone (``--projects`` projects from
   bench/load/seed.py, one 项目专员 account per simulated user, each in charge of its own projects,
   so two users never save the same report);
2. starts the production stack on 127.0.0.1 at a free port through the launcher of ``make serve-prod``
   (deploy/serve_prod.py: DJANGO_ENV=production, the cache and sessions in Redis, gunicorn with
   zone_portal/gunicorn.conf.py and ``--workers``, the task worker, static files collected unless
   unchanged); Redis is LOAD_REDIS_URL, else REDIS_URL, else the local one, under a key prefix of
   its own that is deleted afterwards;
3. runs locust headless (bench/load/locustfile.py) for LOAD_SECONDS (default 120) with LOAD_USERS
   users (default 50), at most ``--max-requests`` requests: they log in through the form, browse
   project lists with filters and pages, open projects, the dashboard and their home page, and save
   monthly progress through the real form, each accepted save written down;
4. checks in the database that every accepted save is there with its last value, status and version,
   that no other report was written and no project-month is there twice, and that there is one
   history row per save, in order;
5. appends the table (requests, failures, median, p95, p99 per endpoint, requests/s) with the date
   and commit to ``--results`` (default bench/LOAD_RESULTS.md); locust's CSVs and the server's log
   go to test-artifacts/load/;
6. stops the stack, deletes its Redis keys and drops the database.

It exits 0 only with zero failed requests, zero failed checks, and every check above passed.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.parse
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import dj_database_url  # noqa: E402
import psycopg2  # noqa: E402
import redis  # noqa: E402
from psycopg2 import sql  # noqa: E402

from deploy.serve_prod import Stack, production_env, start  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
PROJECTS_PER_USER = 4


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("LOAD_SECONDS", "120")))
    parser.add_argument("--users", type=int, default=int(os.environ.get("LOAD_USERS", "50")))
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--projects", type=int, default=int(os.environ.get("LOAD_PROJECTS", "400")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("LOAD_WORKERS", "4")))
    parser.add_argument(
        "--max-requests",
        type=int,
        default=None,
        help="Stop the simulated users after this many requests (default: 20 per user per second).",
    )
    parser.add_argument(
        "--database", default=None, help="The database to create (default: zp_load_<random>)."
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=Path(os.environ.get("LOAD_RESULTS", ROOT / "bench" / "LOAD_RESULTS.md")),
        help="The Markdown file the results are appended to.",
    )
    parser.add_argument("--artifacts", type=Path, default=ROOT / "test-artifacts" / "load")
    parser.add_argument(
        "--keep-database", action="store_true", help="Leave the database for a look afterwards."
    )
    args = parser.parse_args(argv)
    if args.users < 1 or args.seconds < 1:
        parser.error("--users and --seconds must be at least 1")
    if args.projects < args.users * PROJECTS_PER_USER:
        parser.error(f"--projects must be at least {PROJECTS_PER_USER} per user")
    if args.max_requests is None:
        args.max_requests = 20 * args.users * args.seconds
    return args


def server_url() -> str:
    for name in ("LOAD_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql://")):
            return url
    return DEFAULT_SERVER


def database_url(config: dict, name: str) -> str:
    user = config.get("USER") or ""
    password = config.get("PASSWORD") or ""
    auth = (
        f"{urllib.parse.quote(user)}:{urllib.parse.quote(password)}@"
        if password
        else (f"{user}@" if user else "")
    )
    host = config.get("HOST") or "127.0.0.1"
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{name}"


def connect_maintenance(config: dict):
    connection = psycopg2.connect(
        dbname="postgres",
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
    )
    connection.autocommit = True
    return connection


def create_database(config: dict, name: str) -> None:
    connection = connect_maintenance(config)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def drop_database(config: dict, name: str) -> None:
    connection = connect_maintenance(config)
    try:
        with connection.cursor() as cursor:
            # FORCE ends connections a killed server may have left behind.
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit} (with uncommitted changes)" if dirty else commit


# --- The zone ---------------------------------------------------------------------------


def seed(*, users: int, projects: int, year: int) -> dict:
    """Projects from bench/load/seed.py (approved reports the year before ``year``), one staff account
    per simulated user in charge of its own projects; returns the plan the locustfile reads.

    The accounts are in units, so they may change their unit's projects too; each saves only to its
    own, which is what makes every save's outcome known."""
    from django.contrib.auth.hashers import make_password

    from bench.load.seed import generate
    from core.models import User
    from core.roles import Role, role_group, sync_role_groups
    from projects.choices import Level, Stage
    from projects.models import Project
    from reference.models import Department, Park

    generate(projects=projects, year=year - 1, month=12, prefix="压测")
    sync_role_groups()
    password = secrets.token_urlsafe(12) + "a1"
    hashed = make_password(password)  # hashed once: the production hasher is slow on purpose
    staff = role_group(Role.STAFF)
    # In a unit, as staff are: the dashboard shows them their unit's projects.
    units = list(Department.objects.order_by("pk"))
    accounts = []
    for i in range(users):
        account = User.objects.create(
            username=f"load{i:03d}",
            display_name=f"压测用户{i}",
            password=hashed,
            department=units[i % len(units)],
        )
        account.groups.add(staff)
        accounts.append(account)
    ids = list(Project.objects.order_by("pk").values_list("pk", flat=True))
    plan_users = []
    for index, account in enumerate(accounts):
        mine = ids[index * PROJECTS_PER_USER : (index + 1) * PROJECTS_PER_USER]
        Project.objects.filter(pk__in=mine).update(staff_in_charge=account)
        plan_users.append({"username": account.username, "projects": mine})
    return {
        "password": password,
        "year": year,
        "users": plan_users,
        "projects": {str(pk): name for pk, name in Project.objects.values_list("pk", "name")},
        "parks": list(Park.objects.values_list("pk", flat=True)),
        "stages": [str(value) for value in Stage.values],
        "levels": list(Level.values),
        "pages": -(-len(ids) // 25),
    }


# --- The server -------------------------------------------------------------------------


def stop(stack: Stack | None) -> None:
    """gunicorn's graceful stop and the worker's (SIGTERM), SIGKILL if that takes too long."""
    if stack is not None:
        stack.stop()


def delete_redis_keys(url: str, prefix: str) -> None:
    """The run's cache entries and sessions (Django's keys are ``<prefix>:<version>:<key>``)."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _exit_on_sigterm(signum, frame):
    # A SIGTERM (a caller's time-out) unwinds main(), whose finally stops the server and drops the database.
    raise SystemExit(128 + signum)


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


# --- After the run ----------------------------------------------------------------------


def read_saves(folder: Path) -> list[dict]:
    saves = []
    for path in sorted(folder.glob("saves-*.jsonl")):
        saves += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return saves


def check_saves(saves: list[dict], year: int) -> tuple[list[str], dict]:
    """Every accepted save is in the database, nothing else was written, none is there twice."""
    from django.db.models import Count

    from projects.models import MonthlyProgress

    problems = []
    expected = defaultdict(list)
    for save in saves:  # each project belongs to one user, whose saves are in the order made
        expected[(save["project"], save["month"])].append(save)
    twice = list(
        MonthlyProgress.objects.filter(year=year)
        .values("project", "month")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("project", "month", "n")
    )
    problems += [f"project {p}, month {m}: {n} reports" for p, m, n in twice]
    rows = {(r.project_id, r.month): r for r in MonthlyProgress.objects.filter(year=year)}
    history = defaultdict(list)
    for report_id, value in (
        MonthlyProgress.history.filter(year=year)
        .order_by("history_date", "history_id")
        .values_list("id", "completed_investment")
    ):
        history[report_id].append(value)
    for (project, month), made in sorted(expected.items()):
        where = f"project {project}, {year}-{month:02d}"
        row = rows.get((project, month))
        if row is None:
            problems.append(f"{where}: {len(made)} accepted saves, no report in the database")
            continue
        last = made[-1]
        if row.completed_investment != Decimal(last["value"]):
            problems.append(f"{where}: {row.completed_investment} stored, {last['value']} saved last")
        if row.status != last["status"]:
            problems.append(f"{where}: status {row.status}, {last['status']} saved last")
        if row.version != len(made):
            problems.append(f"{where}: version {row.version} after {len(made)} accepted saves")
        if history[row.pk] != [Decimal(save["value"]) for save in made]:
            problems.append(f"{where}: history {history[row.pk]} for saves {[s['value'] for s in made]}")
    unexpected = sorted(set(rows) - set(expected))
    problems += [f"project {p}, {year}-{m:02d}: a report nobody saved" for p, m in unexpected]
    history_rows = sum(len(values) for values in history.values())
    if history_rows != len(saves):
        problems.append(f"{history_rows} history rows for {len(saves)} accepted saves")
    summary = {
        "saves": len(saves),
        "submitted": sum(save["status"] == "submitted" for save in saves),
        "project_months": len(expected),
        "reports": len(rows),
        "history_rows": history_rows,
    }
    return problems, summary


def percentile(times: dict[int, int], count: int, fraction: float) -> int:
    """The response time that ``fraction`` of the requests finished within (locust's own reckoning)."""
    within = int(count * fraction)
    seen = 0
    for time_ms in sorted(times, reverse=True):
        seen += times[time_ms]
        if count - seen <= within:
            return time_ms
    return 0


def read_stats(path: Path) -> list[dict]:
    """Requests, failures, median, p95 and p99 (ms) and requests/s per endpoint and for all, from the
    JSON locust writes once every user has stopped. (Its CSV is rewritten every second and can miss
    the requests of the last second and of the graceful stop.)"""
    entries = sorted(json.loads(path.read_text()), key=lambda entry: (entry["name"], entry["method"]))
    started = min(entry["start_time"] for entry in entries)
    ended = max(entry["last_request_timestamp"] or entry["start_time"] for entry in entries)
    seconds = max(ended - started, 1e-9)

    def row(name, requests, failures, times):
        return {
            "name": name,
            "requests": requests,
            "failures": failures,
            "median": percentile(times, requests, 0.5),
            "p95": percentile(times, requests, 0.95),
            "p99": percentile(times, requests, 0.99),
            "rps": requests / seconds,
        }

    rows, every = [], Counter()
    for entry in entries:
        times = {int(ms): n for ms, n in entry["response_times"].items()}
        every.update(times)
        rows.append(
            row(f"{entry['method']} {entry['name']}", entry["num_requests"], entry["num_failures"], times)
        )
    rows.append(row("all", sum(r["requests"] for r in rows), sum(r["failures"] for r in rows), every))
    return rows


def write_summary_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def results_section(
    *, args, stats, summary, problems, started, commit, capped, server_version, load_before, worker_class
) -> str:
    lines = [
        f"## {started:%Y-%m-%d %H:%M %Z} — commit {commit}",
        "",
        f"{args.users} users for {args.seconds} s against `make serve-prod`'s stack (deploy/serve_prod.py: "
        f"DJANGO_ENV=production, cache and sessions in Redis, gunicorn {worker_class} with {args.workers} "
        "workers) on 127.0.0.1, "
        f"PostgreSQL {server_version}, {os.cpu_count()} cores; {args.projects} projects, "
        f"{PROJECTS_PER_USER} in each user's charge; load average {load_before:.1f} before the run "
        "(other work on the machine slows the server). "
        f"`LOAD_SECONDS={args.seconds} LOAD_USERS={args.users} python bench/load/run.py`",
        "",
        "| endpoint | requests | failures | median ms | p95 ms | p99 ms | req/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in stats:
        name = "**all**" if row["name"] == "all" else row["name"]
        lines.append(
            f"| {name} | {row['requests']} | {row['failures']} | {row['median']} | {row['p95']} "
            f"| {row['p99']} | {row['rps']:.1f} |"
        )
    lines += [
        "",
        f"Checked in the database afterwards: {summary['saves']} accepted saves ({summary['submitted']} "
        f"submitting) on {summary['project_months']} project-months; {summary['reports']} reports, each "
        f"with its last saved value, status and version; {summary['history_rows']} history rows, one per "
        "save in order; no project-month twice, no report nobody saved.",
    ]
    if capped:
        lines.append(f"The run stopped at the cap of {args.max_requests} requests.")
    failed = stats[-1]["failures"]
    verdict = (
        "**Errors: 0.**"
        if not failed and not problems
        else f"**Errors: {failed} failed requests, {len(problems)} problems found:**"
    )
    lines += ["", verdict]
    lines += [f"- {problem}" for problem in problems[:50]]
    return "\n".join(lines) + "\n"


def append_results(path: Path, section: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(
            "# Load test results\n\n"
            "Each entry: `bench/load/run.py` (see its docstring), the date, the commit, the table as "
            "locust measured it, and the checks made in the database afterwards. Times are milliseconds.\n\n"
            "Each simulated user waits 1 to 3 s between steps, so 50 of them ask for up to about 35 "
            "requests a second: more than a 2-core machine that also runs locust serves, so the server works "
            "flat out and the times include the wait in its queue. The run is there to show that "
            "nothing fails and no write is lost under that pressure; compare times only between runs "
            "on the same machine with a similar load average. Logins are slow on purpose (the "
            "password hasher).\n"
        )
    with path.open("a") as handle:
        handle.write("\n" + section)


# --- The run ----------------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    config = dj_database_url.parse(server_url())
    name = args.database or f"zp_load_{secrets.token_hex(4)}"
    args.artifacts.mkdir(parents=True, exist_ok=True)
    (args.artifacts / "failures.txt").unlink(missing_ok=True)
    work = Path(tempfile.mkdtemp(prefix="zp-load-"))
    saves_dir = work / "saves"
    saves_dir.mkdir()
    started = datetime.datetime.now().astimezone()
    year = started.year - 1  # every month of last year has begun: progress may be saved for each
    redis_url = os.environ.get("LOAD_REDIS_URL") or os.environ.get("REDIS_URL") or DEFAULT_REDIS
    cache_prefix = f"zp_load_{secrets.token_hex(4)}"
    # What `make serve-prod` runs, on this run's database, Redis key prefix and upload folder.
    env = production_env(
        {
            "DATABASE_URL": database_url(config, name),
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": cache_prefix,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_BEHIND_HTTPS": "0",
            "TRUSTED_PROXY_COUNT": "0",
            "MEDIA_ROOT": str(work / "media"),
        },
        base={k: v for k, v in os.environ.items() if k not in ("DJANGO_ENV", "DJANGO_SETTINGS_MODULE")},
    )
    env.update(DJANGO_ENV="production", DJANGO_SETTINGS_MODULE="zone_portal.settings")
    worker_class = env.get("GUNICORN_WORKER_CLASS", "sync")
    if worker_class == "gthread":
        worker_class += f" ×{env.get('GUNICORN_THREADS', '1')} threads"
    server = None
    print(f"load test: database {name}, {args.users} users, {args.seconds} s", flush=True)
    create_database(config, name)
    try:
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        call_command("migrate", verbosity=0, interactive=False)
        plan = seed(users=args.users, projects=args.projects, year=year)
        with connection.cursor() as cursor:
            # Planner statistics, as a database in use has them: a freshly bulk-loaded one has none
            # until autovacuum comes round, and the dashboard's queries then take seconds, not ms.
            cursor.execute("ANALYZE")
        server_version = "{}.{}".format(*divmod(connection.pg_version, 10000))
        connections.close_all()
        plan_path = work / "plan.json"
        plan_path.write_text(json.dumps(plan, ensure_ascii=False))

        load_before = os.getloadavg()[0]
        port = free_port()
        log = args.artifacts / "gunicorn.log"
        log.unlink(missing_ok=True)
        server = start(env, port, args.workers, log, migrate=False)
        prefix = args.artifacts / "locust"
        locust_env = {
            **env,
            "LOAD_PLAN": str(plan_path),
            "LOAD_SAVES_DIR": str(saves_dir),
            "LOAD_MAX_REQUESTS": str(args.max_requests),
        }
        with open(args.artifacts / "locust.log", "w") as log:
            try:
                locust = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "locust",
                        "-f",
                        str(HERE / "locustfile.py"),
                        "--headless",
                        f"--users={args.users}",
                        f"--spawn-rate={args.spawn_rate}",
                        f"--run-time={args.seconds}s",
                        f"--host=http://127.0.0.1:{port}",
                        f"--csv={prefix}",
                        f"--json-file={prefix}",
                        "--only-summary",
                        "--stop-timeout=15",
                        "--loglevel=WARNING",
                    ],
                    cwd=ROOT,
                    env=locust_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=args.seconds + 120,
                )
            except subprocess.TimeoutExpired:
                print("locust did not stop in time", file=sys.stderr)
                return 1
        stop(server)
        server = None
        stats = read_stats(Path(f"{prefix}.json"))
        write_summary_csv(args.artifacts / "summary.csv", stats)
        problems, summary = check_saves(read_saves(saves_dir), year)
        capped = (saves_dir / "capped").exists()
        if locust.returncode not in (0, 1):
            problems.append(f"locust exited with {locust.returncode}:\n{tail(args.artifacts / 'locust.log')}")
        log_text = (args.artifacts / "gunicorn.log").read_text(errors="replace")
        for marker in ("Traceback", "WORKER TIMEOUT", "[ERROR]"):
            if marker in log_text:
                problems.append(f"the server log has “{marker}” (see {args.artifacts / 'gunicorn.log'})")
        failures = saves_dir / "failures.txt"
        if failures.exists():
            shutil.copy(failures, args.artifacts / "failures.txt")
            problems += failures.read_text().splitlines()[:20]
        if stats[-1]["requests"] == 0 or summary["saves"] == 0:
            problems.append("no requests or no saves were made")
        section = results_section(
            args=args,
            stats=stats,
            summary=summary,
            problems=problems,
            started=started,
            commit=git_commit(),
            capped=capped,
            server_version=server_version,
            load_before=load_before,
            worker_class=worker_class,
        )
        append_results(args.results, section)
        print(section)
        print(f"results appended to {args.results}; locust's CSVs in {args.artifacts}")
        failed = stats[-1]["failures"]
        return 0 if failed == 0 and not problems and locust.returncode == 0 else 1
    finally:
        stop(server)
        delete_redis_keys(redis_url, cache_prefix)
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if not args.keep_database:
            drop_database(config, name)
        else:
            print(f"database {name} kept")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
