"""The production stack on one machine: migrate, collect static files (skipped when none changed),
then gunicorn and the background-task worker, supervised together (docs/deploy.md).

    make serve-prod                                     # http://127.0.0.1:8000, Ctrl-C stops it all
    .venv/bin/python deploy/serve_prod.py --port 8001 --workers 2

DJANGO_ENV=production against the local PostgreSQL and Redis unless the environment says otherwise
(``DEFAULTS``). SECRET_KEY comes from the environment, else from the git-ignored file .secret_key,
made on first use. It serves plain HTTP on loopback, so DJANGO_BEHIND_HTTPS defaults to 0 here: no
redirect to HTTPS, no secure-only cookies; behind nginx with TLS set DJANGO_BEHIND_HTTPS=1 and
TRUSTED_PROXY_COUNT=1.

If gunicorn or the worker stops, the other is stopped too and the launcher exits with 1 (systemd, if
it runs this, starts it all again). SIGTERM stops gracefully: requests in flight and the task being
run are finished first.

Benchmarks start the same stack from Python:

    from deploy.serve_prod import production_env, start
    stack = start(production_env({"DATABASE_URL": ...}), port=8123, workers=4, log=Path("server.log"))
    ...                                                 # stack.url is http://127.0.0.1:8123
    stack.stop()
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY_FILE = ROOT / ".secret_key"
GUNICORN_CONFIG = ROOT / "zone_portal" / "gunicorn.conf.py"
# In STATIC_ROOT: what the last collectstatic collected.
STATIC_FINGERPRINT = ".collected-fingerprint"
START_TIMEOUT = 60
STOP_TIMEOUT = 30

DEFAULTS = {
    "DJANGO_ENV": "production",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/zone_portal",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    # Plain HTTP on loopback, nobody in front: see the docstring.
    "DJANGO_BEHIND_HTTPS": "0",
    "TRUSTED_PROXY_COUNT": "0",
}


def production_env(overrides: dict | None = None, base: dict | None = None) -> dict:
    """``base`` (default: this process's environment) with ``overrides`` applied, DEFAULTS for what
    neither sets, and a SECRET_KEY."""
    env = {**(os.environ if base is None else base), **(overrides or {})}
    for name, value in DEFAULTS.items():
        env.setdefault(name, value)
    if not env.get("SECRET_KEY"):
        env["SECRET_KEY"] = stored_secret_key()
    env["PYTHONUNBUFFERED"] = "1"
    return env


def stored_secret_key(path: Path = SECRET_KEY_FILE) -> str:
    """The key in ``path``, written there first (readable by its owner only) if it does not exist."""
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50) + "\n")
    return path.read_text().strip()


# --- Preparing: migrations, static files, which worker -------------------------------------


def static_fingerprint() -> str:
    """A hash of every static file the finders collect (names and contents) and of the storage that
    post-processes them: when it is unchanged, collectstatic would produce the same STATIC_ROOT."""
    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders

    digest = hashlib.sha256(settings.STORAGES["staticfiles"]["BACKEND"].encode())
    found = {}
    for finder in get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            found.setdefault(path, storage)  # the first finder's file wins, as in collectstatic
    for path in sorted(found):
        with found[path].open(path) as handle:
            data = handle.read()
        digest.update(f"\0{path}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def collect_static() -> bool:
    """collectstatic unless the files and STATIC_ROOT's last collection match; True if it ran.

    whitenoise compresses every file with gzip and brotli each time (minutes on two cores)."""
    from django.conf import settings
    from django.core.management import call_command

    root = Path(settings.STATIC_ROOT)
    marker = root / STATIC_FINGERPRINT
    fingerprint = static_fingerprint()
    manifest_ok = (root / "staticfiles.json").exists() or "Manifest" not in (
        settings.STORAGES["staticfiles"]["BACKEND"]
    )
    if manifest_ok and marker.exists() and marker.read_text().strip() == fingerprint:
        return False
    call_command("collectstatic", interactive=False, verbosity=0)
    marker.write_text(fingerprint + "\n")
    return True


def worker_command() -> tuple[list[str] | None, str]:
    """The background-task worker for the configured tasks backend, or None and why there is none."""
    from django.conf import settings
    from django.core.management import get_commands

    backend = getattr(settings, "TASKS", {}).get("default", {}).get("BACKEND", "")
    commands = get_commands()
    if backend.startswith("django_tasks_rq"):
        if "rqworker" not in commands:
            return None, "the RQ tasks backend is configured but django_rq's rqworker is not installed"
        queues = list(getattr(settings, "RQ_QUEUES", {})) or ["default"]
        return ["rqworker", "--job-class", "django_tasks_rq.Job", *queues], "rqworker"
    if backend.startswith("django_tasks_db"):
        if "db_worker" not in commands:
            return None, "the database tasks backend is configured but django_tasks_db is not installed"
        # The worker takes every queue.
        return ["db_worker", "--queue-name", "*"], "db_worker"
    if not backend:
        return None, "no background tasks are configured (settings.TASKS)"
    return None, f"the tasks backend {backend} needs no worker"


def prepare(*, migrate: bool) -> dict:
    """Run in a child with the stack's environment (``serve_prod.py prepare``)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zone_portal.settings")
    django.setup()
    from django.core.management import call_command

    if migrate:
        call_command("migrate", interactive=False, verbosity=0)
    collected = collect_static()
    command, worker = worker_command()
    return {"collected": collected, "worker": command, "worker_note": worker}


def run_prepare(env: dict, *, migrate: bool) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        subprocess.run(
            [
                sys.executable,
                __file__,
                "prepare",
                "--report",
                report.name,
                *([] if migrate else ["--no-migrate"]),
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        return json.loads(Path(report.name).read_text())


# --- Running: gunicorn and the worker, together -------------------------------------------


@dataclass
class Stack:
    """gunicorn and the task worker (when there is one), started by ``start()``."""

    url: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    worker_note: str = ""
    collected_static: bool = False

    def stopped(self) -> str | None:
        """The name of a process that has exited, if any."""
        return next((name for name, process in self.processes.items() if process.poll() is not None), None)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM to each (gunicorn and db_worker stop gracefully), SIGKILL after ``timeout``."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start(
    env: dict,
    port: int,
    workers: int,
    log: Path | None = None,
    *,
    host: str = "127.0.0.1",
    migrate: bool = True,
) -> Stack:
    """Migrate, collect static files if they changed, start gunicorn on ``host:port`` with
    ``workers`` processes and the task worker, and return once /healthz answers 200.

    ``env`` is the whole environment of the stack (``production_env()`` makes one). ``log``: the
    file gunicorn's log (with the application's output) and the worker's go to, ``<log>`` and
    ``<log stem>-worker<suffix>``; None leaves them on this process's output."""
    prepared = run_prepare(env, migrate=migrate)
    stack = Stack(
        url=f"http://{host}:{port}",
        worker_note=prepared["worker_note"],
        collected_static=prepared["collected"],
    )
    gunicorn = [
        sys.executable,
        "-m",
        "gunicorn",
        f"--config={GUNICORN_CONFIG}",
        f"--bind={host}:{port}",
        f"--workers={workers}",
    ]
    if log is not None:
        gunicorn += [f"--error-logfile={log}", "--capture-output"]
    try:
        stack.processes["gunicorn"] = subprocess.Popen(gunicorn, cwd=ROOT, env=env)
        if prepared["worker"]:
            worker_log = None
            if log is not None:
                worker_log = open(log.with_name(f"{log.stem}-worker{log.suffix}"), "ab")
            stack.processes["worker"] = subprocess.Popen(
                [sys.executable, "manage.py", *prepared["worker"]],
                cwd=ROOT,
                env=env,
                stdout=worker_log,
                stderr=subprocess.STDOUT if worker_log else None,
            )
            if worker_log:
                worker_log.close()  # the child has its own copy
        wait_until_healthy(stack, env, log)
    except BaseException:
        stack.stop()
        raise
    return stack


def wait_until_healthy(stack: Stack, env: dict, log: Path | None) -> None:
    hosts = [h.strip().lstrip(".") for h in env.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = next((h for h in hosts if h != "*"), "localhost")
    request = urllib.request.Request(f"{stack.url}/healthz", headers={"Host": host})
    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer"
    while True:
        dead = stack.stopped()
        if dead:
            raise RuntimeError(
                f"{dead} stopped ({stack.processes[dead].returncode}) while starting{tail(log)}"
            )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            last = f"HTTP {error.code}"
        except OSError as error:
            last = str(error)
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{stack.url}/healthz did not answer 200 within {START_TIMEOUT} s ({last}){tail(log)}"
            )
        time.sleep(0.3)


def tail(log: Path | None, lines: int = 30) -> str:
    if log is None or not log.exists():
        return ""
    return ":\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# --- The command ------------------------------------------------------------------------------


def _stop_on_sigterm(signum, frame):
    # Unwinds like Ctrl-C: serve()'s finally stops the stack and the launcher exits 0, a clean stop.
    raise KeyboardInterrupt


def serve(args: argparse.Namespace) -> int:
    env = production_env()
    print(
        f"serve-prod: DJANGO_ENV={env['DJANGO_ENV']}, database {redacted(env['DATABASE_URL'])}, "
        f"Redis {redacted(env.get('REDIS_URL', '')) or '(none: memory cache)'}; migrating and "
        "checking static files (collectstatic compresses for minutes when they changed)",
        flush=True,
    )
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    stack = None
    try:
        stack = start(env, args.port, args.workers, host=args.host, migrate=not args.no_migrate)
        worker = stack.worker_note if "worker" in stack.processes else f"no task worker: {stack.worker_note}"
        print(
            f"serve-prod: {stack.url}/ ({args.workers} gunicorn workers; {worker}); Ctrl-C stops", flush=True
        )
        while not (dead := stack.stopped()):
            time.sleep(0.5)
        print(
            f"serve-prod: {dead} stopped ({stack.processes[dead].returncode}); stopping the rest",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"serve-prod: could not start: {error}", file=sys.stderr)
        return 1
    finally:
        if stack is not None:
            print("serve-prod: stopping", flush=True)
            stack.stop()


def redacted(url: str) -> str:
    """A database or Redis URL without its password, for the console."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="step")
    internal = sub.add_parser(
        "prepare", help="(internal) migrate and collect static files in this environment"
    )
    internal.add_argument("--report", type=Path, required=True)
    internal.add_argument("--no-migrate", action="store_true")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "4")))
    parser.add_argument("--no-migrate", action="store_true", help="Do not run migrations first.")
    args = parser.parse_args(argv)
    if args.step == "prepare":
        sys.path.insert(0, str(ROOT))
        args.report.write_text(json.dumps(prepare(migrate=not args.no_migrate)))
        return 0
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
