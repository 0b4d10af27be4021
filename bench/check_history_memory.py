"""Peak memory of ``manage.py check_history`` (streaming, issue 23) against the audit as it was
before: every history row of a table held in one dict.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zone_portal_province \\
        .venv/bin/python bench/check_history_memory.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zp_bench .venv/bin/python bench/check_history_memory.py \\
        --generate --projects 5000 --enterprises 10000 --years 2 --tickets 5000

It runs against the database DATABASE_URL names (``--generate`` first fills it, when it holds no
projects, with ``manage.py generate_data`` at the sizes given). Each side runs in its own fresh
Python process, which reports its own peak resident memory (``ru_maxrss``) and wall-clock time, so
one cannot inherit the other's peak; the floor is a process that sets Django up and runs one
query. Both sides must report the same problems (compared as sets: the order differs).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRELUDE = """
import io, json, os, resource, sys, time
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zone_portal.settings")
import django
django.setup()
from django.db import connection
start = time.perf_counter()
"""

FLOOR = """
with connection.cursor() as cursor:
    cursor.execute("SELECT 1")
problems = []
"""

STREAMING = """
from django.core.management import CommandError, call_command
out = io.StringIO()
try:
    call_command("check_history", stdout=out)
except CommandError:
    pass
problems = [line for line in out.getvalue().splitlines() if line != "The history matches every record."]
"""

# The audit before issue 23, verbatim but for its name.
BASELINE = """
from core.history import tracked_models

def all_in_memory():
    problems = []
    for model in tracked_models():
        history_model = model.history.model
        pk = model._meta.pk.attname
        fields = [f.attname for f in history_model.tracked_fields]
        latest = {}
        rows = history_model.objects.order_by("history_date", "history_id")
        for row in rows.values("history_type", *fields):
            latest[row[pk]] = row
        label = model._meta.label
        seen = set()
        for row in model._default_manager.values(*fields):
            seen.add(row[pk])
            last = latest.get(row[pk])
            if last is None:
                problems.append(f"{label} {row[pk]}: written without a history row")
            elif last["history_type"] == "-":
                problems.append(f"{label} {row[pk]}: exists, but its history says it was deleted")
            else:
                changed = [f for f in fields if last[f] != row[f]]
                if changed:
                    problems.append(f"{label} {row[pk]}: {', '.join(changed)} changed without a history row")
        problems += [
            f"{label} {key}: deleted without a history row"
            for key, last in latest.items()
            if key not in seen and last["history_type"] != "-"
        ]
    return problems

problems = all_in_memory()
"""

REPORT = """
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "problems": sorted(problems)}))
"""


def run(body: str) -> dict:
    code = PRELUDE.format(root=str(ROOT)) + body + REPORT
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def counts() -> tuple[int, int]:
    code = PRELUDE.format(root=str(ROOT)) + (
        "from core.history import tracked_models\n"
        "rows = sum(m._default_manager.count() for m in tracked_models())\n"
        "history = sum(m.history.model.objects.count() for m in tracked_models())\n"
        "print(json.dumps([rows, history]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return tuple(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", action="store_true", help="Fill an empty database first.")
    for size in ("projects", "enterprises", "years", "tickets"):
        parser.add_argument(f"--{size}", type=int)
    parser.add_argument("--profile", help="generate_data's preset sizes (instead of the four above).")
    parser.add_argument("--no-baseline", action="store_true", help="Skip the in-memory audit.")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zone_portal.settings")

    records, history_rows = counts()
    if args.generate and records == 0:
        sizes = [f"--{s}={getattr(args, s)}" for s in ("projects", "enterprises", "years", "tickets")]
        command = [sys.executable, str(ROOT / "manage.py"), "generate_data", "--verbosity=0"]
        command += [f"--profile={args.profile}"] if args.profile else sizes
        subprocess.run(command, check=True)
        records, history_rows = counts()
    print(f"{records:,} tracked records, {history_rows:,} history rows")

    sides = [("floor (django.setup + 1 query)", FLOOR), ("check_history, streaming", STREAMING)]
    if not args.no_baseline:
        sides.append(("baseline: the audit before issue 23", BASELINE))
    results = {}
    for name, body in sides:
        results[name] = run(body)
        print(
            f"{name:40} peak RSS {results[name]['peak_mb']:8.1f} MB   {results[name]['seconds']:7.1f} s"
            f"   {len(results[name]['problems'])} problems"
        )
    if not args.no_baseline:
        streaming, baseline = results[sides[1][0]], results[sides[2][0]]
        same = streaming["problems"] == baseline["problems"]
        print(f"same problems on both sides: {same}")
        floor = results[sides[0][0]]["peak_mb"]
        print(
            f"above the floor: streaming {streaming['peak_mb'] - floor:.1f} MB, "
            f"baseline {baseline['peak_mb'] - floor:.1f} MB"
        )
        if not same:
            sys.exit(1)


if __name__ == "__main__":
    main()
