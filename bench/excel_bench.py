"""Excel export and import benchmark, side by side with django-import-export.

    .venv/bin/pip install -r bench/requirements.txt
    .venv/bin/python bench/excel_bench.py                 # 10,000 and 50,000 projects, SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zone_portal .venv/bin/python bench/excel_bench.py

It creates a throw-away test database (test_<name>), generates the projects with
demo.generator (a plan and monthly reports for this year, up to this month), and measures
the ledger at the generator's latest approved month:

* the 重点项目台账 export (database reads included) — our xlsxwriter writer against
  django-import-export exporting the same annotated rows to xlsx (tablib + openpyxl);
* the import of a 10,000-row ledger, preview and confirm, as ``import_ledger`` does it.

Time is wall-clock (median of ``--repeat`` runs); memory is the peak of Python allocations
(tracemalloc, in a separate untimed run) and the growth of the process's resident memory, each
measured in a forked child so one run cannot inherit another's peak. Targets (the Excel issue):
a 50,000-row ledger under 15 s and 100 MB, at least 2.5× faster than django-import-export;
10,000 rows imported in 30 s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zone_portal.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, connections  # noqa: E402

# The reporting month of the exports: the latest with approved figures, set once the data exist.
PERIOD = (2023, 9)


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1_048_576


def _measure_in_child(target, queue, trace: bool):
    connections.close_all()
    start_rss = _rss_mb()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    detail = target()
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cleanup = getattr(target, "cleanup", None)
    if cleanup is not None:
        cleanup()
    queue.put((elapsed, peak / 1_048_576, max(peak_rss - start_rss, 0), detail))


def _run_child(target, trace: bool):
    connections.close_all()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_measure_in_child, args=(target, queue, trace))
    child.start()
    result = queue.get()
    child.join()
    if child.exitcode:
        raise RuntimeError(f"benchmark child failed with {child.exitcode}")
    return result


def measure(target, repeat: int) -> dict:
    """The median time of ``repeat`` runs, each in a forked child; then one more run under
    tracemalloc for the peak of Python allocations (tracing slows a run several times, so it is
    never timed). Resident memory growth is the largest seen in any run."""
    timed = [_run_child(target, trace=False) for _ in range(repeat)]
    traced = _run_child(target, trace=True)
    return {
        "seconds": statistics.median(r[0] for r in timed),
        "traced_mb": traced[1],
        "rss_mb": max(r[2] for r in [*timed, traced]),
        "detail": timed[-1][3],
    }


def ours_export():
    from core.excel import Workbook
    from projects import selectors
    from projects.excel import ledger
    from projects.models import Project

    period = selectors.Period(*PERIOD)
    book = Workbook()
    rows = ledger.write_ledger(
        book, selectors.project_rows(Project.objects.all(), period=period), period=period
    )
    book.close()
    book.file.seek(0, os.SEEK_END)
    return f"{rows} rows, {book.file.tell() / 1_048_576:.1f} MB file"


def baseline_export():
    """django-import-export exporting the same rows and columns to xlsx, as its admin action does."""
    from import_export import fields, resources

    from projects import figures, selectors
    from projects.models import Project

    period = selectors.Period(*PERIOD)

    class LedgerResource(resources.ModelResource):
        enterprise_name = fields.Field(attribute="enterprise__name", column_name="建设单位")
        park_name = fields.Field(attribute="park__name", column_name="所属园区")
        industry_name = fields.Field(attribute="industry__name", column_name="产业")
        planned = fields.Field(attribute="planned_investment", column_name="年度计划投资")
        month = fields.Field(attribute="month_completed", column_name="本月完成投资")
        ytd = fields.Field(attribute="ytd_completed", column_name="累计完成投资")
        rate = fields.Field(column_name="完成率")
        leader = fields.Field(attribute="responsible_leader__name", column_name="责任领导")
        unit = fields.Field(attribute="responsible_unit__name", column_name="责任单位")

        class Meta:
            model = Project
            fields = [
                "id", "code", "name", "enterprise_name", "nature", "level", "park_name", "industry_name",
                "construction_content", "total_investment", "planned", "month", "ytd", "rate",
                "planned_start", "actual_start", "planned_completion", "actual_completion", "stage",
                "leader", "unit",
            ]  # fmt: skip
            export_order = fields

        def dehydrate_rate(self, project):
            return figures.completion_rate(project.ytd_completed, project.planned_investment)

    rows = selectors.project_rows(Project.objects.all(), period=period)
    dataset = LedgerResource().export(queryset=rows)
    data = dataset.export("xlsx")
    return f"{len(dataset)} rows, {len(data) / 1_048_576:.1f} MB file"


def make_ledger_file(rows: int, path: Path) -> None:
    """A 10,000-row ledger of new projects, as a zone would send it (written with xlsxwriter)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet()
    ws.write_row(0, 0, ["周口经济开发区2023年1—9月重点项目台账"])
    headers = ["序号", "项目名称", "建设单位", "项目级别", "所属园区", "总投资（万元）",
               "2023年计划投资（万元）", "1-9月累计完成投资（万元）", "形象进度", "责任单位"]  # fmt: skip
    ws.write_row(1, 0, headers)
    for i in range(rows):
        ws.write_row(
            i + 2,
            0,
            [
                i + 1,
                f"导入项目{i}",
                f"导入企业{i % 500}有限公司",
                "区重点",
                "健康食品产业园",
                10000 + i,
                2000,
                1500,
                "主体结构施工",
                "经发局",
            ],  # fmt: skip
        )
    book.close()


def import_run(path: Path):
    def run():
        from django.contrib.auth import get_user_model

        from core.imports import record_import

        user = get_user_model().objects.get(username="bench-admin")
        record, result = record_import(
            kind="project_ledger",
            data=path.read_bytes(),
            file_name=path.name,
            user=user,
            origin="command",
            apply=True,
        )
        assert record is not None, [str(e) for e in result.errors[:5]]
        return f"{record.created_count} created"

    def cleanup():
        """Undo, untimed, so the next run imports the same rows again."""
        from projects.models import AnnualPlan, MonthlyProgress, Project, StageChange

        new = Project.objects.filter(name__startswith="导入项目")
        MonthlyProgress.objects.filter(project__in=new).delete()
        AnnualPlan.objects.filter(project__in=new).delete()
        StageChange.objects.filter(project__in=new).delete()
        new.delete()

    run.cleanup = cleanup
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--import-rows", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of ours (the median is shown)")
    parser.add_argument(
        "--baseline-repeat", type=int, default=1, help="runs of django-import-export (minutes each at 50,000)"
    )
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()

    from django.contrib.auth import get_user_model

    from demo.generator import Profile, generate
    from projects import selectors

    global PERIOD
    old_name = connection.settings_dict["NAME"]
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    print(f"database: {connection.vendor} {test_name}")
    get_user_model().objects.create_superuser("bench-admin", password="x")
    results = []
    made = 0
    try:
        for size in sorted(int(s) for s in args.sizes.split(",")):
            started = time.perf_counter()
            count = size - made
            profile = Profile(projects=count, enterprises=max(count // 3, 1), years=1, tickets=0)
            generate(profile, seed=size, append=made > 0)
            made = size
            period = selectors.default_period()
            PERIOD = (period.year, period.month)
            print(f"generated {size} projects in {time.perf_counter() - started:.0f} s", flush=True)
            ours = measure(ours_export, args.repeat)
            results.append((f"ledger export, {size} rows", "xlsxwriter (ours)", ours))
            print(f"  ours: {ours['seconds']:.1f} s, {ours['traced_mb']:.1f} MB traced", flush=True)
            if not args.skip_baseline:
                base = measure(baseline_export, args.baseline_repeat)
                print(f"  django-import-export: {base['seconds']:.1f} s", flush=True)
                results.append((f"ledger export, {size} rows", "django-import-export", base))
                results.append(
                    (
                        f"ledger export, {size} rows",
                        f"→ {base['seconds'] / ours['seconds']:.1f}× faster, "
                        f"{base['traced_mb'] / max(ours['traced_mb'], 0.1):.1f}× less memory",
                        None,
                    )
                )
        path = Path(f"/tmp/zone-portal-bench-{os.getpid()}.xlsx")
        make_ledger_file(args.import_rows, path)
        imported = measure(import_run(path), max(1, args.repeat - 1))
        print(f"  import: {imported['seconds']:.1f} s", flush=True)
        results.append((f"ledger import, {args.import_rows} rows", "preview + confirm", imported))
        path.unlink()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    print()
    print(f"{time.strftime('%Y-%m-%d')}, {connection.vendor}, {os.cpu_count()} cores")
    print(f"| {'measure':<28} | {'how':<44} | {'seconds':>8} | {'traced MB':>9} | {'RSS +MB':>8} | detail")
    print(f"|{'-' * 30}|{'-' * 46}|{'-' * 10}|{'-' * 11}|{'-' * 10}|--------")
    for what, how, figures in results:
        if figures is None:
            print(f"| {what:<28} | {how:<44} | {'':>8} | {'':>9} | {'':>8} |")
        else:
            print(
                f"| {what:<28} | {how:<44} | {figures['seconds']:8.1f} | {figures['traced_mb']:9.1f} "
                f"| {figures['rss_mb']:8.1f} | {figures['detail']}"
            )


if __name__ == "__main__":
    main()
