"""The production topology (docs/deploy.md): Redis cache and sessions, S3 media, the HTTPS switch and
the launcher of `make serve-prod` (deploy/serve_prod.py).

The Redis tests use database 14 of the local Redis and flush only that one; they are skipped, saying
so, when no Redis answers there. No test reaches S3: signing a URL is done locally by boto3.
"""

import io
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import redis
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from PIL import Image

from core.roles import Role
from deploy import serve_prod
from problems import services as ticket_services
from problems.choices import TicketStatus
from projects import services as project_services
from tests import redis_helpers
from tests.factories import DepartmentFactory, ProjectFactory, UserFactory, make_ticket
from zone_portal.settings import cache_settings, media_storage, replica_database

ROOT = Path(django_settings.BASE_DIR)
REDIS_TEST_URL = "redis://127.0.0.1:6379/14"


def redis_or_skip() -> redis.Redis:
    return redis_helpers.redis_or_skip(REDIS_TEST_URL, "the Redis cache and sessions are not tested")


@pytest.fixture
def redis_db(db, settings):
    """The portal's cache and sessions on Redis database 14, as REDIS_URL sets them; emptied before
    and after."""
    client = redis_or_skip()
    client.flushdb()
    settings.CACHES, settings.SESSION_ENGINE = cache_settings({"REDIS_URL": REDIS_TEST_URL})
    yield client
    client.flushdb()
    client.close()


# --- Settings from the environment ---------------------------------------------------------------


def test_without_redis_the_cache_is_local_memory_and_sessions_are_in_the_database():
    caches, engine = cache_settings({})

    assert caches == {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert engine == "django.contrib.sessions.backends.db"


def test_redis_url_puts_the_cache_and_sessions_in_redis():
    caches, engine = cache_settings({"REDIS_URL": "redis://cache.internal:6379/2", "CACHE_KEY_PREFIX": "zk"})

    default = caches["default"]
    assert default["BACKEND"] == "core.cache_backends.ForgivingRedisCache"
    assert (default["LOCATION"], default["KEY_PREFIX"], default["TIMEOUT"]) == (
        "redis://cache.internal:6379/2",
        "zk",
        300,
    )
    assert default["OPTIONS"] == {"socket_connect_timeout": 2, "socket_timeout": 2}
    assert engine == "django.contrib.sessions.backends.cached_db"


def test_the_replica_is_a_test_mirror_of_default():
    assert replica_database({}, 60) is None
    replica = replica_database({"DATABASE_REPLICA_URL": "postgres://reader:pw@10.0.0.2:5432/zone_portal"}, 60)

    assert (replica["HOST"], replica["PORT"], replica["NAME"], replica["USER"]) == (
        "10.0.0.2",
        5432,
        "zone_portal",
        "reader",
    )
    assert replica["CONN_MAX_AGE"] == 60
    assert replica["TEST"] == {"MIRROR": "default"}


S3_ENV = {
    "MEDIA_S3_BUCKET": "zone-portal-media",
    "MEDIA_S3_ENDPOINT_URL": "https://s3.example.gov.cn",
    "MEDIA_S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "MEDIA_S3_SECRET_ACCESS_KEY": "not-a-real-secret",
    "MEDIA_S3_REGION": "cn-central-1",
}


def test_without_a_bucket_uploads_stay_on_disk():
    assert media_storage({}) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_a_bucket_keeps_uploads_private_on_s3_and_signs_urls_locally():
    config = media_storage(S3_ENV)

    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    options = config["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"], options["region_name"]) == (
        "zone-portal-media",
        "https://s3.example.gov.cn",
        "cn-central-1",
    )
    assert (options["default_acl"], options["querystring_auth"], options["file_overwrite"]) == (
        "private",
        True,
        False,
    )
    from storages.backends.s3 import S3Storage

    storage = S3Storage(**options)
    url = urllib.parse.urlsplit(storage.url("progress/2024/ab12cd.jpg"))
    query = urllib.parse.parse_qs(url.query)
    assert url.scheme == "https" and url.hostname == "s3.example.gov.cn"
    assert url.path == "/zone-portal-media/progress/2024/ab12cd.jpg"
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-Credential"][0].startswith("AKIAEXAMPLE/")
    assert "/cn-central-1/s3/aws4_request" in query["X-Amz-Credential"][0]
    assert len(query["X-Amz-Signature"][0]) == 64


def evaluated_settings(env: dict) -> dict:
    """zone_portal.settings as a new process with ``env`` reads them."""
    names = [
        "CACHES",
        "SESSION_ENGINE",
        "DATABASE_ROUTERS",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_PROXY_SSL_HEADER",
    ]
    code = (
        "import json, django\n"
        "from django.conf import settings as s\n"
        "django.setup()\n"
        f"out = {{n: getattr(s, n, None) for n in {names!r}}}\n"
        "out['storage'] = s.STORAGES['default']\n"
        "out['replica'] = s.DATABASES.get('replica')\n"
        "print(json.dumps(out, default=str))\n"
    )
    keep = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MEDIA_S3", "REDIS", "DATABASE"))
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**keep, "DJANGO_SETTINGS_MODULE": "zone_portal.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.slow
def test_the_settings_module_wires_redis_the_replica_s3_and_the_https_switch():
    production = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "portal.example.gov.cn",
    }

    wired = evaluated_settings(
        {
            **production,
            **S3_ENV,
            "REDIS_URL": "redis://10.0.0.3:6379/0",
            "DATABASE_URL": "postgres://app@10.0.0.1:5432/zone_portal",
            "DATABASE_REPLICA_URL": "postgres://reader@10.0.0.2:5432/zone_portal",
            "DJANGO_BEHIND_HTTPS": "0",
        }
    )
    behind_https = evaluated_settings(production)

    assert wired["CACHES"]["default"]["LOCATION"] == "redis://10.0.0.3:6379/0"
    assert wired["SESSION_ENGINE"] == "django.contrib.sessions.backends.cached_db"
    assert wired["replica"]["HOST"] == "10.0.0.2" and wired["replica"]["TEST"]["MIRROR"] == "default"
    assert wired["DATABASE_ROUTERS"] == ["core.routers.ReplicaRouter"]
    assert wired["storage"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert wired["storage"]["OPTIONS"]["bucket_name"] == "zone-portal-media"
    # Plain HTTP on loopback: no redirect, cookies not secure-only, no HSTS, no proxy header believed.
    assert [wired[n] for n in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")] == [
        False
    ] * 3
    assert (wired["SECURE_HSTS_SECONDS"], wired["SECURE_PROXY_SSL_HEADER"]) == (0, None)
    # Without the switch, production is HTTPS behind the proxy, and nothing else is configured.
    assert [
        behind_https[n] for n in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
    ] == [True] * 3
    assert behind_https["SECURE_HSTS_SECONDS"] == 31536000
    assert behind_https["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert behind_https["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert behind_https["replica"] is None and behind_https["DATABASE_ROUTERS"] == []
    assert behind_https["storage"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


# --- Redis: sessions, throttles, logins --------------------------------------------------------------


def test_a_session_in_redis_survives_a_redis_flush(client, redis_db):
    user = UserFactory(roles=[Role.STAFF])
    client.force_login(user)
    assert client.get(reverse("home")).status_code == 200
    key = client.session.session_key
    assert any(key.encode() in name for name in redis_db.keys("zone_portal:*"))
    assert Session.objects.filter(session_key=key).exists()  # written through to the database

    redis_db.flushdb()

    response = client.get(reverse("home"))
    assert response.status_code == 200  # still signed in: read back from the database
    assert response.wsgi_request.user == user


def test_api_throttles_count_in_redis_shared_by_every_worker(client, redis_db, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle

    # DRF reads the rates once per class; monkeypatch leaves the class as it found it, so later tests
    # (tests/api/test_throttling.py) still set theirs on SimpleRateThrottle.
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "1200/minute"})
    statuses = [client.get("/api/projects/").status_code for _ in range(3)]

    assert statuses == [401, 401, 429]
    # The count is in Redis, where another worker or server would read it.
    assert [name for name in redis_db.keys("zone_portal:*") if b"throttle_anon" in name]


def test_login_lockouts_are_counted_in_the_database_with_redis(client, redis_db, settings):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="zhang", roles=[Role.STAFF])
    url = reverse("login")

    statuses = [
        client.post(url, {"username": "zhang", "password": "wrong-pass-1"}).status_code for _ in range(3)
    ]

    assert statuses == [200, 429, 429]
    # Each attempt is counted, the refused one too.
    assert AccessAttempt.objects.get(username="zhang").failures_since_start == 3
    assert not [name for name in redis_db.keys("*") if b"axes" in name]
    assert cache.get("anything") is None  # the cache itself works


# --- Uploads on a storage that is not a folder ------------------------------------------------------


@pytest.fixture
def memory_storage(db, settings):
    """Uploads in memory: like S3, a storage with no local path."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }


def test_photos_are_served_from_a_storage_that_is_not_a_folder(client, memory_storage):
    staff = UserFactory(roles=[Role.STAFF])
    project = ProjectFactory(staff_in_charge=staff)
    report = project_services.progress_save(
        project=project, year=2024, month=3, user=staff, data={"completed_investment": "1"}
    )
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(buffer, "PNG")
    photo = project_services.photo_add(
        report=report, user=staff, upload=SimpleUploadedFile("现场.png", buffer.getvalue())
    )
    client.force_login(staff)

    full = client.get(reverse("projects:photo_file", args=[photo.pk, "full"]))
    thumb = client.get(reverse("projects:photo_file", args=[photo.pk, "thumb"]))

    assert full.status_code == 200 and full["Content-Type"] == "image/png"
    assert b"".join(full.streaming_content) == buffer.getvalue()
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(b"".join(thumb.streaming_content))).size == (64, 48)
    # Served from the storage, not from a file on disk.
    assert not (Path(django_settings.MEDIA_ROOT) / photo.image.name).exists()


def test_ticket_attachments_are_served_from_a_storage_that_is_not_a_folder(client, memory_storage):
    unit = DepartmentFactory()
    office = UserFactory(roles=[Role.SUPERVISOR])
    handler = UserFactory(roles=[Role.UNIT], department=unit)
    ticket = make_ticket(user=office)
    ticket = ticket_services.ticket_assign(ticket=ticket, user=office, unit=unit)
    content = b"%PDF-1.4\n% a reply\n"
    attachment = ticket_services.attachment_add(
        ticket=ticket, user=handler, upload=SimpleUploadedFile("答复.pdf", content)
    )
    client.force_login(handler)

    response = client.get(reverse("enterprises:attachment", args=[attachment.pk]))

    assert ticket.status == TicketStatus.ASSIGNED
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == content
    # Someone who may not open the ticket still gets nothing.
    client.force_login(UserFactory(roles=[Role.UNIT], department=DepartmentFactory()))
    assert client.get(reverse("enterprises:attachment", args=[attachment.pk])).status_code in (403, 404)


# --- The launcher ------------------------------------------------------------------------------------


def test_the_secret_key_file_is_made_once_and_private(tmp_path):
    path = tmp_path / ".secret_key"

    first = serve_prod.stored_secret_key(path)
    second = serve_prod.stored_secret_key(path)

    assert first == second and len(first) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_environment_defaults_to_the_local_production_stack():
    env = serve_prod.production_env(
        {"SECRET_KEY": "k" * 50}, base={"PATH": "/usr/bin", "REDIS_URL": "redis://x/1"}
    )

    assert env["DJANGO_ENV"] == "production"
    assert env["DATABASE_URL"] == "postgres://postgres@127.0.0.1:5432/zone_portal"
    assert env["REDIS_URL"] == "redis://x/1"  # what the environment says wins
    assert (env["DJANGO_BEHIND_HTTPS"], env["TRUSTED_PROXY_COUNT"]) == ("0", "0")
    assert env["SECRET_KEY"] == "k" * 50 and env["PATH"] == "/usr/bin"


def test_static_files_are_collected_again_only_when_one_changed(settings, tmp_path):
    source = tmp_path / "static"
    (source / "css").mkdir(parents=True)
    (source / "css" / "portal.css").write_text("body { color: #123; }")
    settings.STATICFILES_DIRS = [source]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATIC_ROOT = tmp_path / "collected"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }

    ran = [serve_prod.collect_static(), serve_prod.collect_static()]
    (source / "css" / "portal.css").write_text("body { color: #456; }")
    ran.append(serve_prod.collect_static())

    assert ran == [True, False, True]
    manifest = json.loads((tmp_path / "collected" / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/portal.css"]
    assert (tmp_path / "collected" / hashed).read_text() == "body { color: #456; }"


def free_port(first: int = 8600, last: int = 8639) -> int:
    for port in range(first, last + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}–{last}")


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = (
        Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if Path(f"/proc/{pid}").exists()
        else "X"
    )
    return state != "Z"


def test_supervisord_stops_when_what_started_it_is_killed():
    """A launcher or benchmark killed outright (SIGKILL, no clean-up) takes supervisord with it, and
    supervisord its programs: nothing is left serving on the port."""
    code = (
        "import subprocess, sys\n"
        "from deploy.serve_prod import _stop_with_parent\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],"
        " preexec_fn=_stop_with_parent, start_new_session=True)\n"
        "print(child.pid, flush=True)\n"
        "child.wait()\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert alive(child)

    parent.kill()
    parent.wait()

    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


@pytest.mark.slow
@pytest.mark.serial
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the production stack runs on PostgreSQL")
def test_serve_prod_runs_the_stack_and_sigterm_stops_all_of_it(django_db_blocker):
    """`make serve-prod` as a process: it answers on loopback over plain HTTP with the production
    settings, runs gunicorn and the task worker under supervisord, and a SIGTERM stops every process
    with exit 0."""
    redis_or_skip()
    from bench.load.run import create_database, database_url, drop_database

    config = connection.settings_dict
    name = f"zp_h2_serveprod_{os.getpid()}"
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE", "REDIS", "PYTEST"))
    }
    env.update(
        DATABASE_URL=database_url(config, name),
        REDIS_URL=REDIS_TEST_URL,
        CACHE_KEY_PREFIX=f"zp_h2_serveprod_{os.getpid()}",
        SECRET_KEY="s" * 60,
        MEDIA_ROOT=str(Path("/tmp") / name),
    )
    with django_db_blocker.unblock():
        create_database(config, name)
    launcher = subprocess.Popen(
        [sys.executable, "deploy/serve_prod.py", "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 400  # a first collectstatic compresses for minutes
        while time.monotonic() < deadline:
            line = launcher.stdout.readline()
            lines.append(line)
            if "Ctrl-C stops" in line or not line:
                break
        assert f"http://127.0.0.1:{port}/" in lines[-1], "".join(lines)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as health:
            assert json.loads(health.read())["status"] == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10) as login:
            cookie = login.headers["Set-Cookie"]
            assert login.status == 200 and "csrftoken=" in cookie and "Secure" not in cookie
            assert "Strict-Transport-Security" not in login.headers
        (supervisord,) = children(launcher.pid)
        processes = children(supervisord)
        assert len(processes) == 2  # gunicorn's master and the task worker, under supervisord
        gunicorn_workers = [pid for pid in processes for pid in children(pid)]
        assert len(gunicorn_workers) == 1

        launcher.send_signal(signal.SIGTERM)
        output = launcher.communicate(timeout=60)[0]

        assert launcher.returncode == 0, output
        assert not [pid for pid in [supervisord, *processes, *gunicorn_workers] if alive(pid)]
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        with django_db_blocker.unblock():
            drop_database(config, name)
        client = redis.Redis.from_url(REDIS_TEST_URL)
        for key in client.scan_iter(match=f"zp_h2_serveprod_{os.getpid()}:*"):
            client.delete(key)
