"""The production stack on one machine: migrate, collect static files (skipped when none changed),
then gunicorn and the background-task worker, supervised together (docs/deploy.md).

    make serve-prod                                     # http://127.0.0.1:8000, Ctrl-C stops it all
    .venv/bin/python deploy/serve_prod.py --port 8001 --workers 2

DJANGO_ENV=production against the local PostgreSQL and Redis unless the environment says otherwise
(``DEFAULTS``). SECRET_KEY comes from the environment, else from the git-ignored file .secret_key,
made on first use. It serves plain HTTP on loopback, so DJANGO_BEHIND_HTTPS defaults to 0 here: no
redirect to HTTPS, no secure-only cookies; behind nginx with TLS set DJANGO_BEHIND_HTTPS=1 and
TRUSTED_PROXY_COUNT=1.

supervisord (deploy/supervisord.conf) runs gunicorn and the task worker and restarts whichever stops;
the launcher exits (1) only if supervisord itself does. SIGTERM or Ctrl-C stops gracefully: requests
in flight and the task being run are finished first.

Benchmarks start the same stack from Python:

    from deploy.serve_prod import production_env, start
    stack = start(production_env({"DATABASE_URL": ...}), port=8123, workers=4, log=Path("server.log"))
    ...                                                 # stack.url is http://127.0.0.1:8123
    stack.stop()
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import hashlib
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY_FILE = ROOT / ".secret_key"
SUPERVISOR_CONFIG = ROOT / "deploy" / "supervisord.conf"
# In STATIC_ROOT: what the last collectstatic collected.
STATIC_FINGERPRINT = ".collected-fingerprint"
START_TIMEOUT = 60
STOP_TIMEOUT = 30
PR_SET_PDEATHSIG = 1  # linux/prctl.h

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
        # db_worker made to survive the database blinking, with a heartbeat; it takes every queue.
        return ["task_worker"], "task_worker"
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


# --- Running: supervisord with gunicorn and the worker ---------------------------------------


@dataclass
class Stack:
    """supervisord running gunicorn and the task worker (deploy/supervisord.conf), from ``start()``."""

    url: str
    supervisor: subprocess.Popen
    run_dir: Path
    worker_note: str = ""
    collected_static: bool = False
    has_worker: bool = False

    @property
    def processes(self) -> dict[str, subprocess.Popen]:
        return {"supervisord": self.supervisor}

    def stopped(self) -> str | None:
        """ "supervisord" if it has exited (it restarts gunicorn and the worker itself)."""
        return "supervisord" if self.supervisor.poll() is not None else None

    def rpc(self):
        """supervisord's XML-RPC interface, over its unix socket (what supervisorctl uses)."""
        from supervisor.xmlrpc import SupervisorTransport

        transport = SupervisorTransport(None, None, f"unix://{self.run_dir / 'supervisor.sock'}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def program(self, name: str) -> dict:
        """supervisord's state of ``gunicorn`` or ``worker``: ``statename``, ``pid`` …"""
        return self.rpc().supervisor.getProcessInfo(name)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM to supervisord, which stops gunicorn and the worker gracefully; SIGKILL to all
        of them if that takes too long."""
        # supervisord runs each program in a process group of its own: killing supervisord alone
        # would leave them running.
        groups = []
        try:
            groups = [info["pid"] for info in self.rpc().supervisor.getAllProcessInfo() if info["pid"]]
        except (OSError, xmlrpc.client.Error):
            pass  # supervisord is gone already, or not answering: its own group is all we know
        if self.supervisor.poll() is None:
            self.supervisor.terminate()
        try:
            self.supervisor.wait(timeout=timeout + 60)  # supervisord's own stopwaitsecs come first
        except subprocess.TimeoutExpired:
            for group in [self.supervisor.pid, *groups]:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)
            self.supervisor.wait()
        shutil.rmtree(self.run_dir, ignore_errors=True)


def _stop_with_parent() -> None:
    """In supervisord's process before it starts (Linux): SIGTERM when the process that started it
    dies, so a launcher or benchmark killed with SIGKILL leaves no stack running behind it."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def supervisor_env(
    env: dict,
    *,
    host: str,
    port: int,
    workers: int,
    worker: list[str] | None,
    log: Path | None,
    run_dir: Path,
) -> dict:
    """``env`` with the ZP_ settings deploy/supervisord.conf reads."""
    worker_log = log.with_name(f"{log.stem}-worker{log.suffix}") if log is not None else None
    return {
        **env,
        "ZP_RUN_DIR": str(run_dir),
        "ZP_PYTHON": sys.executable,
        "ZP_BIND": f"{host}:{port}",
        "ZP_WEB_WORKERS": str(workers),
        "ZP_WEB_LOG": str(log) if log is not None else "/dev/stdout",
        "ZP_WORKER_ARGS": shlex.join(worker or ["help"]),
        "ZP_WORKER_LOG": str(worker_log) if worker_log is not None else "/dev/stdout",
        "ZP_WORKER_AUTOSTART": "true" if worker else "false",
    }


def start(
    env: dict,
    port: int,
    workers: int,
    log: Path | None = None,
    *,
    host: str = "127.0.0.1",
    migrate: bool = True,
) -> Stack:
    """Migrate, collect static files if they changed, start supervisord with gunicorn on
    ``host:port`` (``workers`` processes) and the task worker, and return once /healthz answers 200.

    ``env`` is the whole environment of the stack (``production_env()`` makes one). ``log``: the
    file gunicorn's log (with the application's output) and the worker's go to, ``<log>`` and
    ``<log stem>-worker<suffix>``; None leaves them on this process's output. supervisord's own log
    and socket are in a temporary folder, removed by ``stop()``."""
    prepared = run_prepare(env, migrate=migrate)
    run_dir = Path(tempfile.mkdtemp(prefix="zp-supervisor-"))
    supervisor = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "supervisor.supervisord",
            "--nodaemon",
            f"--configuration={SUPERVISOR_CONFIG}",
        ],
        cwd=ROOT,
        env=supervisor_env(
            env, host=host, port=port, workers=workers, worker=prepared["worker"], log=log, run_dir=run_dir
        ),
        start_new_session=True,  # its own process group: stop() can kill what is left of it
        preexec_fn=_stop_with_parent,
    )
    stack = Stack(
        url=f"http://{host}:{port}",
        supervisor=supervisor,
        run_dir=run_dir,
        worker_note=prepared["worker_note"],
        collected_static=prepared["collected"],
        has_worker=bool(prepared["worker"]),
    )
    try:
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
                f"{dead} stopped ({stack.processes[dead].returncode}) while starting"
                f"{tail(stack.run_dir / 'supervisord.log')}{tail(log)}"
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
        worker = stack.worker_note if stack.has_worker else f"no task worker: {stack.worker_note}"
        print(
            f"serve-prod: {stack.url}/ ({args.workers} gunicorn workers; {worker}; supervisord restarts "
            f"either if it stops, its log in {stack.run_dir}); Ctrl-C stops",
            flush=True,
        )
        while not stack.stopped():
            time.sleep(0.5)
        print(f"serve-prod: supervisord stopped ({stack.supervisor.returncode})", file=sys.stderr)
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
