"""The scale benchmarks, each side by side with a baseline in the same run, printed as one table.

    make bench                                  # BENCH_DATABASE (zone_portal_province), PostgreSQL
    .venv/bin/python bench/run.py --database zone_portal_province --repeat 5 [--only dashboard,list]

It runs against an existing database holding the province profile (make it once with
``manage.py generate_data --profile province``; ``--generate`` does that first if the database is
empty). Each figure is the median of ``--repeat`` warm runs (one untimed run first); baselines that
take minutes run ``--baseline-repeat`` times. What is measured (issue 9's targets in brackets):

* dashboard summary (/api/dashboard/summary/), unfiltered and by park: server time (the request
  through Django's whole stack, in process) and query count, served from the figures cache and
  recomputed (cache emptied before each run), against a naive ORM loop over the projects that
  computes the same figures in Python [< 300 ms, ≤ 15 queries, ≥ 20× the baseline];
* project list page 1 with three filters and sorting, at two sizes of result, to show the query
  count does not grow [< 150 ms], and a project's page [< 100 ms]; their baseline is the floor
  (/healthz: one query through the same stack);
* the ledger export of every project (50,000 rows) against django-import-export exporting the same
  rows (bench/excel_bench.py's functions) [< 15 s, < 100 MB, ≥ 2.5× faster, ≤ 1/5 memory];
* a 10,000-row ledger import, preview and confirm [< 30 s];
* requests per second for the dashboard summary and the project list at concurrency 16 against
  the production stack (deploy/serve_prod.py: gunicorn with 4 workers, Redis) on loopback, against
  /healthz on the same server.

The results go to stdout and, with --results, are appended to bench/RESULTS.md with the date and
commit.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zone_portal.settings")

BENCH_USER = "bench-leader"
BENCH_STAFF = "bench-staff"  # a staff member of the unit with the most projects
TARGETS = {
    "summary": "< 300 ms, ≤ 15 queries, ≥ 20× baseline",
    "list": "< 150 ms, queries independent of N",
    "detail": "< 100 ms",
    "export": "< 15 s, < 100 MB, ≥ 2.5× faster, ≤ 1/5 memory",
    "import": "< 30 s",
    "throughput": "requests per second",
}


def database_url(name: str) -> str:
    return os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{name}")


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class Table:
    def __init__(self):
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(self, measure: str, how: str, figure: str, queries="", note=""):
        self.rows.append((measure, how, figure, str(queries), note))
        print(f"  {measure} | {how} | {figure} | {queries} | {note}", flush=True)

    def render(self) -> str:
        header = ("measure", "how", "figure", "queries", "note / target")
        widths = [max(len(str(r[i])) for r in [header, *self.rows]) for i in range(5)]
        lines = [
            "| " + " | ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)) + " |",
            "|" + "|".join("-" * (w + 2) for w in widths) + "|",
        ]
        for row in self.rows:
            lines.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        return "\n".join(lines)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def timed(call, repeat: int, before=None, warm_up=True) -> tuple[float, int, object]:
    """Median wall time of ``call()`` over ``repeat`` runs (after an untimed one unless ``warm_up``
    is off), with the query count of the last run and its result."""
    from django.db import connection

    if warm_up:
        if before:
            before()
        call()
    times, count, result = [], 0, None
    for _ in range(repeat):
        if before:
            before()
        counter = [0]

        def count_query(execute, sql, params, many, context, counter=counter):
            counter[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count_query):
            started = time.perf_counter()
            result = call()
            times.append(time.perf_counter() - started)
        count = counter[0]
    return statistics.median(times), count, result


# --- The baseline of the dashboard: a loop over the projects in Python ---------------------------


def naive_summary(projects, *, year: int, month: int) -> dict:
    """The headline, by level and by park, the way a first version would: every project's plan and
    reports read one project at a time and added up in Python."""
    from projects.choices import ProgressStatus
    from projects.models import AnnualPlan

    groups: dict[tuple, dict] = {}
    for project in projects:
        plan = AnnualPlan.objects.filter(project=project, year=year).first()
        planned = plan.planned_investment if plan else None
        ytd = sum(
            (
                r.completed_investment
                for r in project.monthly_progress.filter(
                    year=year, month__lte=month, status=ProgressStatus.APPROVED
                )
            ),
            Decimal(0),
        )
        on_roster = planned is not None and planned > 0
        for key in (("all",), ("level", project.level), ("park", project.park_id)):
            g = groups.setdefault(
                key, {"count": 0, "planned": Decimal(0), "completed": Decimal(0), "lagging": 0}
            )
            g["count"] += 1
            if on_roster:
                g["planned"] += planned
                g["completed"] += ytd
                g["lagging"] += round(ytd * 12 - planned * month, 2) < 0
    return groups


# --- HTTP at concurrency ----------------------------------------------------------------------


def throughput(
    base_url: str, path: str, cookie: str, *, concurrency: int, seconds: float
) -> tuple[float, int, int, list[float]]:
    """Requests per second answered 200, their count, the other answers by status and the
    latencies of the 200s (seconds, sorted), from ``concurrency`` threads, each with its own
    keep-alive connection, for ``seconds``."""
    parts = urlsplit(base_url)
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()
    done, errors, latencies = [0], {}, []

    def worker():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        ok, bad, mine = 0, {}, []
        while time.perf_counter() < deadline:
            try:
                sent = time.perf_counter()
                conn.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    ok += 1
                    mine.append(time.perf_counter() - sent)
                else:
                    bad[response.status] = bad.get(response.status, 0) + 1
            except (OSError, http.client.HTTPException) as error:
                bad[type(error).__name__] = bad.get(type(error).__name__, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        conn.close()
        with lock:
            done[0] += ok
            latencies.extend(mine)
            for key, count in bad.items():
                errors[key] = errors.get(key, 0) + count

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    elapsed = time.perf_counter() - started
    return done[0] / elapsed, done[0], errors, sorted(latencies)


def percentile(sorted_values: list[float], share: float) -> float:
    """The nearest-rank percentile (0.95: p95) of sorted values; NaN when there are none."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * share // 1))
    return sorted_values[int(rank) - 1]


# --- The run ------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "zone_portal_province"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline-repeat", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated: summary,list,export,import,throughput")
    parser.add_argument("--seconds", type=float, default=20, help="each throughput run")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, help="the throughput stack's port (default 8700 + pid % 200)")
    parser.add_argument("--generate", action="store_true", help="generate the province profile if empty")
    parser.add_argument("--results", type=Path, help="append the table to this file (bench/RESULTS.md)")
    args = parser.parse_args(argv)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    wanted = lambda name: not only or name in only  # noqa: E731

    os.environ["DATABASE_URL"] = database_url(args.database)
    from deploy.serve_prod import stored_secret_key

    # The production stack's key, so the session made here is valid there (throughput).
    os.environ.setdefault("SECRET_KEY", stored_secret_key())
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    from core.models import User
    from core.roles import Role, role_group
    from projects import selectors
    from projects.models import Project
    from reference.models import Department, Park

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)
    if not Project.objects.exists():
        if not args.generate:
            print(
                f"{args.database} has no projects: run generate_data --profile province, or pass --generate"
            )
            return 2
        call_command("generate_data", profile="province", seed=1)
    total = Project.objects.count()
    period = selectors.default_period()
    print(f"{connection.vendor} {args.database}: {total} projects; period {period.year}-{period.month:02d}")

    def signed_in(username: str, role, **defaults) -> Client:
        """A client signed in as the bench's own user (no password: it cannot log in otherwise)."""
        user, created = User.objects.get_or_create(username=username, defaults=defaults)
        if created:
            user.set_unusable_password()
            user.save()
            user.groups.add(role_group(role))
        signed = Client()
        signed.force_login(user)
        return signed

    client = signed_in(BENCH_USER, Role.LEADER, first_name="基准")
    # The staff member of the unit with the most projects: the heaviest home page and grid.
    staff_client = signed_in(
        BENCH_STAFF,
        Role.STAFF,
        first_name="基准专员",
        department=Department.objects.annotate(n=Count("projects")).order_by("-n", "pk").first(),
    )
    park = Park.objects.order_by("pk").first()
    year_month = f"year={period.year}&month={period.month}"
    table = Table()

    def get(url):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    if wanted("summary"):
        for label, extra, scope in (
            ("unfiltered", "", Project.objects.all()),
            (f"park {park.pk}", f"&park={park.pk}", Project.objects.filter(park=park)),
        ):
            url = f"/api/dashboard/summary/?{year_month}{extra}"
            cached_t, cached_q, response = timed(lambda url=url: get(url), args.repeat)
            fresh_t, fresh_q, _ = timed(lambda url=url: get(url), args.repeat, before=cache.clear)
            data = response.json()
            base_t, base_q, naive = timed(
                lambda scope=scope: naive_summary(scope.order_by("pk"), year=period.year, month=period.month),
                args.baseline_repeat,
                warm_up=False,
            )
            # The two ways must agree, or the comparison means nothing.
            assert Decimal(data["completed_investment"]) == naive[("all",)]["completed"], (
                data,
                naive[("all",)],
            )
            assert data["lagging_count"] == naive[("all",)]["lagging"]
            measure = f"dashboard summary, {label}"
            table.add(measure, "ours, from the figures cache", ms(cached_t), cached_q, TARGETS["summary"])
            table.add(measure, "ours, recomputed", ms(fresh_t), fresh_q)
            table.add(measure, "naive ORM loop (baseline)", ms(base_t), base_q)
            table.add(measure, f"→ {base_t / cached_t:.0f}× cached, {base_t / fresh_t:.0f}× recomputed", "")

    # Three filters (cluster, level, nature) that a province's list answers with thousands of rows;
    # then the same with the search box narrowed to one project. The list and throughput use them.
    first = Project.objects.filter(industry__isnull=False, nature="new", level__in=["ordinary", "zone"])
    first = first.order_by("pk").first()
    broad = f"cluster={first.industry.cluster_id}&level=ordinary&level=zone&nature=new"
    filters = [("many rows", broad), ("one row", f"{broad}&q={first.code}")]

    if wanted("list"):
        floor_t, floor_q, _ = timed(lambda: get("/healthz"), args.repeat)
        table.add("floor", "/healthz (baseline)", ms(floor_t), floor_q)
        for label, query in filters:
            url = f"/projects/?{query}&ordering=-total_investment&{year_month}"
            t, q, response = timed(lambda url=url: get(url), args.repeat)
            shown = re.search(r'id="sum-count" data-value="(\d+)"', response.content.decode()).group(1)
            table.add(f"project list, {label}", f"{shown} rows match", ms(t), q, TARGETS["list"])
        t, q, _ = timed(lambda: get(f"/projects/{first.pk}/"), args.repeat)
        table.add("project page", "ours", ms(t), q, TARGETS["detail"])

    if wanted("export") or wanted("import"):
        from bench import excel_bench

        excel_bench.PERIOD = (period.year, period.month)
        User.objects.get_or_create(username="bench-admin", defaults={"is_superuser": True, "is_staff": True})
        if wanted("export"):
            ours = excel_bench.measure(excel_bench.ours_export, args.repeat)
            base = excel_bench.measure(excel_bench.baseline_export, args.baseline_repeat)
            measure = f"ledger export, {total} rows"
            table.add(
                measure,
                "xlsxwriter (ours)",
                f"{ours['seconds']:.1f} s, {ours['traced_mb']:.0f} MB",
                "",
                TARGETS["export"],
            )
            table.add(
                measure,
                "django-import-export (baseline)",
                f"{base['seconds']:.1f} s, {base['traced_mb']:.0f} MB",
            )
            table.add(
                measure,
                f"→ {base['seconds'] / ours['seconds']:.1f}× faster, "
                f"{base['traced_mb'] / max(ours['traced_mb'], 0.1):.1f}× less memory",
                "",
            )
        if wanted("import"):
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "ledger-10000.xlsx"
                excel_bench.make_ledger_file(10000, path)
                result = excel_bench.measure(excel_bench.import_run(path), args.repeat)
            table.add(
                "ledger import, 10000 rows",
                "preview + confirm",
                f"{result['seconds']:.1f} s",
                "",
                TARGETS["import"],
            )

    if wanted("throughput"):
        from django.conf import settings as django_settings

        from deploy.serve_prod import production_env, start

        name = django_settings.SESSION_COOKIE_NAME
        session_cookie = f"{name}={client.cookies[name].value}"
        staff_cookie = f"{name}={staff_client.cookies[name].value}"
        port = args.port or 8700 + os.getpid() % 200
        log = Path(tempfile.gettempdir()) / "bench-serve-prod.log"
        # One simulated caller sends far more than a person: without this the API's per-user
        # throttle (API_USER_RATE, 1200 a minute) answers most of them 429.
        env = production_env({"DATABASE_URL": os.environ["DATABASE_URL"], "API_USER_RATE": "1000000/minute"})
        stack = start(env, port=port, workers=args.workers, log=log)
        try:
            # The session made in process is in the database, where the stack's cached_db
            # sessions fall back to when Redis does not have it.
            # The pages a leader or staff member opens first, as they open them (no filters),
            # and issue 21's target for them: p95 under 1 s at concurrency 20.
            for label, path, cookie in (
                ("floor /healthz (baseline)", "/healthz", session_cookie),
                ("home page", "/", session_cookie),
                ("home page, staff", "/", staff_cookie),
                ("dashboard page", "/dashboard/", session_cookie),
                ("dashboard page, staff", "/dashboard/", staff_cookie),
                ("dashboard summary", f"/api/dashboard/summary/?{year_month}", session_cookie),
                ("project list", "/projects/", session_cookie),
                ("project list, staff", "/projects/", staff_cookie),
                (
                    "project list, many rows",
                    f"/projects/?{filters[0][1]}&ordering=-total_investment&{year_month}",
                    session_cookie,
                ),
                ("enterprise list", "/enterprises/", session_cookie),
                ("problem figures (问题统计)", "/problems/figures/", session_cookie),
                ("problem list", "/problems/", session_cookie),
                ("problem list, staff", "/problems/", staff_cookie),
                ("progress grid, staff", "/projects/progress/", staff_cookie),
                # Asked by every page's script once it has loaded.
                ("menu counts, staff", "/badges/", staff_cookie),
            ):
                rps, answered, errors, latencies = throughput(
                    stack.url, path, cookie, concurrency=args.concurrency, seconds=args.seconds
                )
                p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
                table.add(
                    f"throughput, concurrency {args.concurrency}",
                    label,
                    f"{rps:.1f} req/s, p50 {ms(p50)}, p95 {ms(p95)}",
                    "",
                    f"{answered} answered 200, others {errors or 'none'}; {args.workers} workers; p95 < 1 s",
                )
        finally:
            stack.stop()

    rendered = table.render()
    print()
    print(rendered)
    if args.results:
        section = (
            f"\n## Scale benchmarks — {timezone.localdate().isoformat()}, commit {git_commit()}\n\n"
            f"`.venv/bin/python bench/run.py --database {args.database} --repeat {args.repeat}"
            f"{' --only ' + args.only if args.only else ''}` on {connection.vendor}, {os.cpu_count()} cores, "
            f"{total} projects, period {period.year}-{period.month:02d}:\n\n{rendered}\n"
        )
        with args.results.open("a", encoding="utf-8") as handle:
            handle.write(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
