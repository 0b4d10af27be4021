"""A job whose worker died does not stay "running" forever (issue 21, item 8): running jobs
heartbeat, one silent for JOB_STALE_SECONDS is failed with a message its page shows, and its owner
(or an administrator) runs it again from that page; the task worker's own heartbeat tells /healthz
whether a worker is alive.

Real transactions (``transaction=True``): the heartbeat is written by a thread on its own
connection, and a job is enqueued when its request's transaction commits."""

from __future__ import annotations

import datetime
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from core import jobs
from core.models import Job, WorkerHeartbeat
from core.roles import Role
from projects.choices import ProjectJobKind
from tests.core.test_jobs import run_worker
from tests.factories import ProjectFactory, UserFactory
from tests.redis_helpers import redis_or_skip

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime.datetime(2026, 12, 4, 10, 0, tzinfo=datetime.UTC)
STALE_ZH = "后台任务进程在运行本任务时停止了"
# A Redis database of this module's own: it empties it, and pytest-xdist may run test_jobs.py (db 15)
# at the same time.
REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture(autouse=True)
def stale_after_two_minutes(settings, tmp_path):
    settings.JOB_STALE_SECONDS = 120
    settings.EXCEL_SYNC_EXPORT_ROWS = 5
    settings.MEDIA_ROOT = tmp_path / "media"


def running(
    owner, *, beat_seconds_ago: float | None, kind=ProjectJobKind.PROJECT_LEDGER_EXPORT, **fields
) -> Job:
    """A job a worker claimed; its last heartbeat ``beat_seconds_ago`` before NOW (None: never)."""
    beat = None if beat_seconds_ago is None else NOW - datetime.timedelta(seconds=beat_seconds_ago)
    return Job.objects.create(
        owner=owner,
        kind=kind,
        status=Job.Status.RUNNING,
        language="zh-hans",
        started_at=NOW - datetime.timedelta(minutes=10),
        heartbeat_at=beat,
        **fields,
    )


def test_a_running_job_silent_for_longer_than_the_setting_is_failed_with_a_message():
    owner = UserFactory(roles=[Role.LEADER])
    dead = running(owner, beat_seconds_ago=121)
    alive = running(owner, beat_seconds_ago=119)
    never = running(owner, beat_seconds_ago=None)  # claimed before heartbeats existed
    queued = Job.objects.create(owner=owner, kind=ProjectJobKind.PROJECT_LEDGER_EXPORT)

    failed = jobs.fail_stale(now=NOW)

    assert failed == 2
    statuses = {job.pk: job.status for job in Job.objects.all()}
    assert statuses == {dead.pk: "failed", never.pk: "failed", alive.pk: "running", queued.pk: "queued"}
    dead.refresh_from_db()
    assert dead.error.startswith(STALE_ZH) and "120秒" in dead.error
    assert dead.finished_at == NOW


def test_a_heartbeat_that_arrives_in_time_keeps_the_job_running():
    owner = UserFactory(roles=[Role.LEADER])
    job = running(owner, beat_seconds_ago=200)

    jobs.beat(job.pk, worker="w1", now=NOW)
    jobs.fail_stale(now=NOW + datetime.timedelta(seconds=119))

    job.refresh_from_db()
    assert (job.status, job.heartbeat_at) == ("running", NOW)


def test_the_heartbeat_thread_beats_for_the_job_while_the_block_runs(settings):
    owner = UserFactory(roles=[Role.LEADER])
    job = running(owner, beat_seconds_ago=500)
    before = timezone.now()

    with jobs.Heartbeat(job.pk, interval=0.05):
        deadline = time.monotonic() + 10
        while Job.objects.get(pk=job.pk).heartbeat_at < before and time.monotonic() < deadline:
            time.sleep(0.05)

    job.refresh_from_db()
    assert job.heartbeat_at >= before
    assert jobs.worker_last_heartbeat() >= before
    assert WorkerHeartbeat.objects.get().worker == jobs.worker_name()


def test_the_worker_last_heartbeat_is_the_newest_of_any_worker_or_none():
    assert jobs.worker_last_heartbeat() is None
    assert not jobs.worker_alive()

    jobs.beat(worker="host-a:1", now=NOW - datetime.timedelta(minutes=5))
    jobs.beat(worker="host-b:2", now=NOW)

    seen = jobs.worker_last_heartbeat()
    assert seen == NOW and seen.tzinfo is not None
    assert jobs.worker_alive(now=NOW + datetime.timedelta(seconds=25))  # within 3 × 10 s
    assert not jobs.worker_alive(now=NOW + datetime.timedelta(seconds=31))


def test_the_job_page_fails_a_job_whose_worker_died_and_offers_to_run_it_again(client, settings):
    owner = UserFactory(username="lingdao", roles=[Role.LEADER])
    ProjectFactory.create_batch(7)
    job = running(owner, beat_seconds_ago=None, parameters={"query": ""})
    Job.objects.filter(pk=job.pk).update(started_at=timezone.now() - datetime.timedelta(seconds=121))
    client.force_login(owner)

    status = client.get(reverse("job_status", args=[job.pk])).json()
    page = client.get(reverse("job_detail", args=[job.pk])).content.decode()

    assert status["status"] == "failed" and status["error"].startswith(STALE_ZH)
    assert STALE_ZH in page and 'id="job-rerun"' in page and "重新运行" in page

    response = client.post(reverse("job_rerun", args=[job.pk]))

    again = Job.objects.exclude(pk=job.pk).get()
    assert response.status_code == 302 and response["Location"] == reverse("job_detail", args=[again.pk])
    assert (again.owner, again.kind, again.parameters, again.status) == (
        owner,
        job.kind,
        {"query": ""},
        "queued",
    )
    run_worker()
    again.refresh_from_db()
    assert again.status == "done" and again.result_name.endswith(".xlsx")


def test_only_the_owner_or_an_administrator_can_run_a_failed_job_again(client):
    owner = UserFactory(roles=[Role.LEADER])
    job = Job.objects.create(
        owner=owner, kind=ProjectJobKind.PROJECT_LEDGER_EXPORT, status="failed", error="x"
    )
    url = reverse("job_rerun", args=[job.pk])

    client.force_login(UserFactory(roles=[Role.LEADER]))
    assert client.post(url).status_code == 404
    assert client.get(reverse("job_detail", args=[job.pk])).status_code == 404
    client.force_login(owner)
    assert client.get(url).status_code == 405  # a POST only
    assert Job.objects.count() == 1

    client.force_login(UserFactory(is_superuser=True))
    assert 'id="job-rerun"' in client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert client.post(url).status_code == 302
    again = Job.objects.exclude(pk=job.pk).get()
    assert again.owner == owner  # run as the owner, with the owner's permissions


def test_a_job_that_did_not_fail_cannot_be_run_again(client):
    owner = UserFactory(roles=[Role.LEADER])
    done = Job.objects.create(owner=owner, kind=ProjectJobKind.PROJECT_LEDGER_EXPORT, status="done")
    client.force_login(owner)

    page = client.get(reverse("job_detail", args=[done.pk])).content.decode()
    response = client.post(reverse("job_rerun", args=[done.pk]), follow=True)

    assert 'id="job-rerun"' not in page
    assert "只有失败的任务才能重新运行" in response.content.decode()
    assert Job.objects.count() == 1


def test_a_stale_import_check_is_run_again_with_its_upload(client):
    owner = UserFactory(roles=[Role.STAFF])
    job = running(
        owner,
        beat_seconds_ago=None,
        kind=Job.Kind.IMPORT_CHECK,
        parameters={"import_kind": "enterprises", "file_name": "企业.xlsx"},
    )
    job.source.save("upload.xlsx", ContentFile(b"the uploaded bytes"))
    jobs.fail_stale(now=timezone.now() + datetime.timedelta(minutes=11))
    job.refresh_from_db()
    assert job.status == "failed" and job.source  # kept for the second run

    again = jobs.rerun(job=job, user=owner)

    assert again.source.read() == b"the uploaded bytes"
    job.refresh_from_db()
    assert not job.source  # the new job owns the upload now
    with pytest.raises(ValidationError, match="已不再保留"):
        jobs.rerun(job=Job.objects.get(pk=job.pk), user=owner)  # only once: and it is still failed


def test_under_rq_the_rq_workers_own_heartbeats_count(settings):
    connection = redis_or_skip(REDIS_URL, "the RQ backend is not tested")
    connection.flushdb()  # db 11 is this test's own
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60}}
    import django_rq
    from rq import Worker

    jobs.beat(worker="db-worker:1", now=timezone.now() - datetime.timedelta(hours=1))
    worker = Worker([django_rq.get_queue("default")], connection=connection)
    try:
        worker.register_birth()  # what `manage.py rqworker` does first, and then every few seconds
        seen = jobs.worker_last_heartbeat()

        assert seen.tzinfo is not None
        assert abs((seen - timezone.now()).total_seconds()) < 5  # the RQ worker's, not the old row
        assert jobs.worker_alive()
    finally:
        worker.register_death()
        connection.flushdb()
