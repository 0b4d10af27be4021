"""Background jobs (django-tasks): large exports and imports run as tasks a worker picks up, the
page follows their progress, the result is downloaded by its owner only, failures say why, and
old jobs are purged with their files.

Tasks run for real: the database backend's queue is worked through by django-tasks-db's own
worker in this process (``db_worker --batch``), and the RQ backend's by rq's SimpleWorker in burst
mode against the local Redis (db 15). The tests use real transactions (``transaction=True``), so a
job is enqueued when its request's transaction commits, as it is in production.
"""

from __future__ import annotations

import datetime
import io
import os

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from core import imports, jobs, tasks
from core.models import ImportRecord, Job
from core.roles import Role
from enterprises.models import Enterprise
from problems.choices import ProblemJobKind
from projects.choices import ProjectImportKind, ProjectJobKind
from projects.models import Project
from tests.enterprises.test_import import broken, code, flat_book, flat_row
from tests.factories import (
    EnterpriseFactory,
    MonthlyProgressFactory,
    ProjectFactory,
    UserFactory,
    make_ticket,
)
from tests.redis_helpers import redis_or_skip

pytestmark = pytest.mark.django_db(transaction=True)

MARCH = {"year": "2024", "month": "3"}
REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.EXCEL_SYNC_EXPORT_ROWS = 5
    settings.IMPORT_SYNC_ROWS = 5


def run_worker() -> None:
    """django-tasks-db's worker, as ``db_worker --batch`` runs it: every queued task, then stop."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


def rows_of(data: bytes, skip: int) -> list[tuple]:
    """The sheet's rows below its ``skip`` title and header rows."""
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [tuple(row) for row in sheet.iter_rows(min_row=skip + 1, values_only=True)]


def project_rows(data: bytes) -> int:
    return sum(1 for row in rows_of(data, 0) if any(str(cell).startswith("测试项目") for cell in row))


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def leader(client):
    user = UserFactory(username="lingdao", roles=[Role.LEADER])
    client.force_login(user)
    return user


@pytest.fixture
def seven_projects():
    return [ProjectFactory(name=f"测试项目{n}", total_investment=1000 + n) for n in range(7)]


def job_of(response) -> Job:
    assert response.status_code == 302, response.content[:300]
    job = Job.objects.get()
    assert response["Location"] == reverse("job_detail", args=[job.pk])
    return job


# --- Exports -----------------------------------------------------------------------------------------


def test_a_ledger_above_the_sync_limit_is_written_by_a_job_and_matches_the_direct_download(
    client, leader, seven_projects, settings
):
    settings.EXCEL_SYNC_EXPORT_ROWS = 100
    direct = body(client.get(reverse("projects:export"), MARCH))
    settings.EXCEL_SYNC_EXPORT_ROWS = 5

    job = job_of(client.get(reverse("projects:export"), MARCH))
    assert (job.kind, job.status, job.owner) == (
        ProjectJobKind.PROJECT_LEDGER_EXPORT,
        Job.Status.QUEUED,
        leader,
    )
    assert job.parameters == {"query": "year=2024&month=3"}
    assert DBTaskResult.objects.get().task_path == "core.tasks.export_task"
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'id="job-queued"' in page and "js/jobs.js" in page
    assert client.get(reverse("job_status", args=[job.pk])).json()["status"] == "queued"

    run_worker()

    job.refresh_from_db()
    assert (job.status, job.progress_done, job.progress_total, job.error) == ("done", 7, 7, "")
    assert job.result_name == "重点项目台账-2024年1—3月.xlsx"
    status = client.get(reverse("job_status", args=[job.pk])).json()
    assert (status["finished"], status["done"], status["total"], status["percent"]) == (True, 7, 7, 100)
    page = client.get(job.get_absolute_url()).content.decode()
    assert reverse("job_download", args=[job.pk]) in page and "<script>" not in page
    response = client.get(reverse("job_download", args=[job.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    background = body(response)
    # Same title, header, seven project rows and subtotals, cell for cell.
    assert rows_of(background, 0) == rows_of(direct, 0)
    assert project_rows(background) == 7


def test_the_status_shows_progress_while_the_workbook_is_written(client, leader, seven_projects, monkeypatch):
    job = job_of(client.get(reverse("projects:export"), MARCH))
    seen = []
    write = jobs.write_progress

    def spy(reported):
        write(reported)
        if reported.progress_done == 3:  # the page asks while the fourth row is being written
            seen.append(client.get(reverse("job_status", args=[job.pk])).json())

    monkeypatch.setattr(jobs, "PROGRESS_SECONDS", 0)
    monkeypatch.setattr(jobs, "write_progress", spy)

    run_worker()

    with translation.override("zh-hans"):
        step = gettext("Writing the workbook")
    assert seen == [
        {
            "status": "running",
            "status_label": str(Job.Status.RUNNING.label),
            "finished": False,
            "step": step,
            "done": 3,
            "total": 7,
            "percent": 42,  # 3 × 100 // 7
            "error": "",
        }
    ]


def test_another_user_cannot_see_or_download_the_job(
    client, leader, seven_projects, django_assert_max_num_queries
):
    job = job_of(client.get(reverse("projects:export"), MARCH))
    run_worker()
    urls = [reverse(name, args=[job.pk]) for name in ("job_detail", "job_status", "job_download")]
    for url in urls:
        with django_assert_max_num_queries(6):
            assert client.get(url).status_code == 200

    client.force_login(UserFactory(username="other", roles=[Role.LEADER]))
    assert [client.get(url).status_code for url in urls] == [404, 404, 404]
    assert job.get_absolute_url() not in client.get(reverse("job_list")).content.decode()

    client.force_login(UserFactory(username="root", is_superuser=True, roles=[Role.ADMIN]))
    assert [client.get(url).status_code for url in urls] == [200, 200, 200]


def test_the_task_rechecks_the_owners_permission(client, leader, seven_projects):
    job = job_of(client.get(reverse("projects:export"), MARCH))
    leader.groups.clear()  # the role was taken away while the job waited

    run_worker()

    job.refresh_from_db()
    with translation.override("zh-hans"):
        expected = gettext("You have no role in this portal yet: ask an administrator.")
    assert (job.status, job.error, job.result.name) == ("failed", expected, "")


def test_above_the_maximum_the_export_is_still_refused(client, leader, seven_projects, settings):
    settings.EXCEL_EXPORT_MAX_ROWS = 6

    response = client.get(reverse("projects:export"), MARCH, follow=True)

    assert not Job.objects.exists()
    assert "7" in response.content.decode()  # "7 rows are more than one download holds (6)"


@pytest.mark.parametrize(
    ("url_name", "kind", "skip"),
    [
        ("enterprises:ticket_export", ProblemJobKind.TICKET_LEDGER_EXPORT, 0),
        ("change_log_export", Job.Kind.CHANGE_LOG_EXPORT, 2),  # its title says when it was exported
    ],
)
def test_the_problem_ledger_and_the_change_log_go_to_jobs_too(client, leader, settings, url_name, kind, skip):
    staff = UserFactory(username="zhuanyuan", roles=[Role.STAFF])
    for n in range(7):
        make_ticket(user=staff, title=f"问题{n}")
    settings.EXCEL_SYNC_EXPORT_ROWS = 1000
    direct = body(client.get(reverse(url_name)))
    settings.EXCEL_SYNC_EXPORT_ROWS = 5

    job = job_of(client.get(reverse(url_name)))
    run_worker()

    job.refresh_from_db()
    assert (job.kind, job.status) == (kind, "done")
    background = body(client.get(reverse("job_download", args=[job.pk])))
    assert rows_of(background, skip) == rows_of(direct, skip)
    assert len(rows_of(background, skip)) >= 7


def test_the_rq_backend_runs_the_same_export_from_redis(client, leader, seven_projects, settings):
    connection = redis_or_skip(REDIS_URL, "the RQ backend is not tested")
    connection.flushdb()  # db 15 is this test's own
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60}}
    import django_rq
    from django_tasks_rq import Job as RQJob
    from rq import SimpleWorker

    try:
        job = job_of(client.get(reverse("projects:export"), MARCH))
        queue = django_rq.get_queue("default", job_class=RQJob)
        assert queue.count == 1
        assert not DBTaskResult.objects.exists()

        SimpleWorker([queue], connection=queue.connection, job_class=RQJob).work(burst=True)

        job.refresh_from_db()
        assert (job.status, job.progress_done, job.progress_total) == ("done", 7, 7)
        assert tasks.export_task.get_result(job.task_id).status == "SUCCESSFUL"
        data = body(client.get(reverse("job_download", args=[job.pk])))
        assert project_rows(data) == 7
    finally:
        connection.flushdb()


# --- Imports -----------------------------------------------------------------------------------------


@pytest.fixture
def staff(client):
    user = UserFactory(username="zhuanyuan", roles=[Role.STAFF])
    client.force_login(user)
    return user


def enterprise_list(count: int, *, bad_row: int | None = None) -> bytes:
    rows = []
    for n in range(1, count + 1):
        credit_code = broken(code(n)) if n == bad_row else code(n)
        rows.append(flat_row(n, f"周口后台导入企业{n}有限公司", credit_code))
    return flat_book(rows)


def upload(client, data: bytes):
    return client.post(
        reverse("import_upload", args=["enterprises"]),
        {"file": ContentFile(data, name="企业名录.xlsx")},
    )


def test_a_large_import_is_checked_and_applied_in_the_background(client, staff):
    check = job_of(upload(client, enterprise_list(8)))
    assert check.kind == Job.Kind.IMPORT_CHECK and check.source.name
    assert not ImportRecord.objects.exists()

    run_worker()

    check.refresh_from_db()
    record = ImportRecord.objects.get()
    assert (check.status, check.import_record, check.source.name) == ("done", record, "")
    assert (record.status, record.created_count, record.file_name) == ("previewed", 8, "企业名录.xlsx")
    page = client.get(check.get_absolute_url()).content.decode()
    assert reverse("import_detail", args=[record.pk]) in page
    preview = client.get(reverse("import_detail", args=[record.pk])).content.decode()
    assert 'id="import-large"' in preview and 'id="confirm-form"' in preview
    assert Enterprise.objects.count() == 0

    response = client.post(reverse("import_confirm", args=[record.pk]))
    apply = Job.objects.exclude(pk=check.pk).get()
    assert response["Location"] == apply.get_absolute_url()
    assert (apply.kind, apply.import_record) == (Job.Kind.IMPORT_APPLY, record)
    # A second click while it waits goes to the same job.
    assert client.post(reverse("import_confirm", args=[record.pk]))["Location"] == apply.get_absolute_url()
    assert Job.objects.count() == 2

    run_worker()

    apply.refresh_from_db()
    record.refresh_from_db()
    assert (apply.status, record.status) == ("done", "applied")
    assert sorted(Enterprise.objects.values_list("name", flat=True)) == sorted(
        f"周口后台导入企业{n}有限公司" for n in range(1, 9)
    )
    assert Enterprise.history.filter(history_import=record).count() == 8


def test_a_large_file_with_a_bad_row_fails_with_its_errors_and_writes_nothing(client, staff):
    check = job_of(upload(client, enterprise_list(8, bad_row=4)))

    run_worker()

    check.refresh_from_db()
    assert check.status == "failed"
    with translation.override("zh-hans"):
        assert check.error == gettext(
            "%(rows)s rows have errors: nothing will be imported. "
            "Correct them in the file and upload it again."
        ) % {"rows": 1}
    assert len(check.details) == 1 and check.details[0].startswith(
        gettext("Row %(row)s, %(column)s “%(value)s”: %(message)s").split("%")[0]
    )
    assert broken(code(4)) in check.details[0] and "6" in check.details[0]  # row 6: title, header, rows 1–3
    assert check.import_record.status == ImportRecord.Status.FAILED
    page = client.get(check.get_absolute_url()).content.decode()
    assert 'id="job-error"' in page and broken(code(4)) in page
    assert Enterprise.objects.count() == 0


def test_an_import_whose_data_changed_after_the_check_fails_and_writes_nothing(client, staff):
    job_of(upload(client, enterprise_list(8)))
    run_worker()
    record = ImportRecord.objects.get()
    # Someone records one of the enterprises meanwhile: the row would now update, not create.
    EnterpriseFactory(name="周口后台导入企业2有限公司", credit_code=code(2))

    client.post(reverse("import_confirm", args=[record.pk]))
    run_worker()

    apply = Job.objects.get(kind=Job.Kind.IMPORT_APPLY)
    record.refresh_from_db()
    assert apply.status == "failed"
    with translation.override("zh-hans"):
        assert apply.error == gettext(
            "The data changed after the preview was made: check the new preview and confirm again."
        )
    assert record.status == "previewed"
    assert Enterprise.objects.count() == 1


def test_a_large_import_that_sets_figures_to_zero_lists_them_and_needs_the_box(client):
    """The background check keeps the figures the import would set to zero; the page lists them,
    and the confirmation goes to the background job only with the box ticked."""
    admin = UserFactory(username="guanli", roles=[Role.ADMIN])
    client.force_login(admin)
    projects = [ProjectFactory(name=f"后台清零项目{n}", enterprise=None) for n in range(8)]
    report = MonthlyProgressFactory(
        project=projects[0], year=2023, month=3, completed_investment="3920.00", status="approved"
    )
    book = openpyxl.Workbook()
    book.active.append(["周口经济开发区2023年1—3月重点项目台账"])
    book.active.append(["序号", "项目名称", "本月完成投资"])
    for n, project in enumerate(projects):
        book.active.append([n + 1, project.name, 0 if n == 0 else None])
    buffer = io.BytesIO()
    book.save(buffer)
    response = client.post(
        reverse("import_upload", args=["project_ledger"]),
        {"file": ContentFile(buffer.getvalue(), name="台账.xlsx")},
    )
    job_of(response)
    run_worker()

    record = ImportRecord.objects.get()
    assert (record.status, record.updated_count, record.erasure_count) == ("previewed", 1, 1)
    page = client.get(reverse("import_detail", args=[record.pk])).content.decode()
    assert 'id="import-large"' in page and 'id="import-erasures"' in page
    assert "后台清零项目0" in page and "3,920.00 → 0.00" in page and 'name="confirm_erasures"' in page

    response = client.post(reverse("import_confirm", args=[record.pk]), follow=True)
    assert "请在“将清零或清空的数值”下勾选确认" in response.content.decode()
    assert not Job.objects.filter(kind=Job.Kind.IMPORT_APPLY).exists()

    client.post(reverse("import_confirm", args=[record.pk]), {"confirm_erasures": "1"})
    apply = Job.objects.get(kind=Job.Kind.IMPORT_APPLY)
    assert apply.parameters == {"confirm_erasures": True, "confirm_warnings": False}
    run_worker()

    apply.refresh_from_db()
    record.refresh_from_db()
    report.refresh_from_db()
    assert (apply.status, record.status, str(report.completed_investment)) == ("done", "applied", "0.00")


def test_a_large_import_lists_the_figures_to_check_and_needs_their_box(client):
    """The background check keeps the figures the sanity checks hold back, with their warnings; the
    page lists them, and the confirmation goes to the background job only with their box ticked."""
    admin = UserFactory(username="guanli", roles=[Role.ADMIN])
    client.force_login(admin)
    # 1,000 in all: 1,500 in one month goes above it.
    projects = [
        ProjectFactory(name=f"后台核实项目{n}", enterprise=None, total_investment="1000") for n in range(8)
    ]
    book = openpyxl.Workbook()
    book.active.append(["周口经济开发区2023年1—3月重点项目台账"])
    book.active.append(["序号", "项目名称", "本月完成投资"])
    for n, project in enumerate(projects):
        book.active.append([n + 1, project.name, 1500 if n == 0 else None])
    buffer = io.BytesIO()
    book.save(buffer)
    response = client.post(
        reverse("import_upload", args=["project_ledger"]),
        {"file": ContentFile(buffer.getvalue(), name="台账.xlsx")},
    )
    job_of(response)
    run_worker()

    record = ImportRecord.objects.get()
    assert (record.status, record.updated_count, record.held_count) == ("previewed", 1, 1)
    page = client.get(reverse("import_detail", args=[record.pk])).content.decode()
    assert 'id="import-large"' in page and 'id="import-held"' in page
    assert "后台核实项目0" in page and "累计完成投资超过总投资" in page and 'name="confirm_warnings"' in page

    response = client.post(reverse("import_confirm", args=[record.pk]), follow=True)
    assert "请在“需核实的数值”下勾选确认" in response.content.decode()
    assert not Job.objects.filter(kind=Job.Kind.IMPORT_APPLY).exists()

    client.post(reverse("import_confirm", args=[record.pk]), {"confirm_warnings": "1"})
    apply = Job.objects.get(kind=Job.Kind.IMPORT_APPLY)
    assert apply.parameters == {"confirm_erasures": False, "confirm_warnings": True}
    run_worker()

    apply.refresh_from_db()
    record.refresh_from_db()
    report = projects[0].monthly_progress.get()
    assert (apply.status, record.status, str(report.completed_investment)) == ("done", "applied", "1500.00")
    assert report.history.get().history_change_reason.startswith("经用户核实确认保存：累计完成投资超过总投资")


def test_an_apply_job_without_the_confirmation_writes_no_zero(client):
    """A job queued without the box (say, by a page from before the figures were listed) refuses."""
    admin = UserFactory(username="guanli", roles=[Role.ADMIN])
    project = ProjectFactory(name="后台清零项目", enterprise=None)
    report = MonthlyProgressFactory(project=project, year=2023, month=3, completed_investment="3920.00")
    book = openpyxl.Workbook()
    book.active.append(["周口经济开发区2023年1—3月重点项目台账"])
    book.active.append(["序号", "项目名称", "本月完成投资"])
    book.active.append([1, "后台清零项目", 0])
    buffer = io.BytesIO()
    book.save(buffer)
    result = imports.preview(ProjectImportKind.PROJECT_LEDGER, buffer.getvalue(), user=admin)
    record = imports.save_preview(
        ProjectImportKind.PROJECT_LEDGER, buffer.getvalue(), file_name="台账.xlsx", user=admin, result=result
    )
    apply = jobs.start(owner=admin, kind=Job.Kind.IMPORT_APPLY, import_record=record)
    run_worker()

    apply.refresh_from_db()
    record.refresh_from_db()
    report.refresh_from_db()
    assert (apply.status, record.status, str(report.completed_investment)) == (
        "failed",
        "previewed",
        "3920.00",
    )
    with translation.override("zh-hans"):
        assert "勾选确认" in apply.error


def test_a_small_import_stays_synchronous(client, staff):
    response = upload(client, enterprise_list(2))

    record = ImportRecord.objects.get()
    assert response["Location"] == reverse("import_detail", args=[record.pk])
    assert not Job.objects.exists()


# --- Failures, the generator, lists and purging ------------------------------------------------------


def exploding_export(user, query):
    raise RuntimeError("disk on fire")


def test_a_task_that_raises_marks_the_job_failed_with_a_message(client, leader, seven_projects, monkeypatch):
    monkeypatch.setitem(tasks.EXPORTERS, ProjectJobKind.PROJECT_LEDGER_EXPORT, f"{__name__}.exploding_export")
    job = job_of(client.get(reverse("projects:export"), MARCH))

    run_worker()

    job.refresh_from_db()
    with translation.override("zh-hans"):
        expected = gettext(
            "The job stopped because of an unexpected error; an import changed nothing. "
            "Try again; if it happens again, tell the administrator (job %(id)s)."
        ) % {"id": job.pk}
    assert (job.status, job.error) == ("failed", expected)
    assert "disk on fire" not in job.error
    # The traceback is kept where administrators look: the task backend's record.
    task_result = DBTaskResult.objects.get()
    assert task_result.status == "FAILED" and "disk on fire" in task_result.traceback
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'id="job-error"' in page and 'id="job-download"' not in page
    assert client.get(reverse("job_download", args=[job.pk])).status_code == 404


def test_generate_data_in_the_background_generates_with_progress(client):
    owner = UserFactory(username="root", roles=[Role.ADMIN])
    out = io.StringIO()
    call_command(
        "generate_data", projects=6, enterprises=8, years=1, tickets=5, seed=7,
        background=True, owner="root", stdout=out,
    )  # fmt: skip
    job = Job.objects.get()
    assert f"job {job.pk}" in out.getvalue() and job.get_absolute_url() in out.getvalue()
    assert job.parameters == {
        "projects": 6, "enterprises": 8, "years": 1, "tickets": 5, "seed": 7, "append": False
    }  # fmt: skip
    assert not Project.objects.exists()  # nothing until the worker runs it

    run_worker()

    job.refresh_from_db()
    assert job.status == "done", job.error
    assert job.progress_total and job.progress_done == job.progress_total
    assert Project.objects.count() == 6 and Enterprise.objects.count() == 8
    client.force_login(owner)
    assert "100%" in client.get(job.get_absolute_url()).content.decode()


def test_generate_data_in_the_background_needs_an_administrator():
    UserFactory(username="staff", roles=[Role.STAFF])
    for owner in (None, "staff", "nobody"):
        with pytest.raises(CommandError, match="--owner"):
            call_command("generate_data", profile="zone", background=True, owner=owner)
    assert not Job.objects.exists()


def test_my_jobs_lists_my_own_with_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    me = UserFactory(username="me", roles=[Role.STAFF])
    other = UserFactory(username="other", roles=[Role.STAFF])
    client.force_login(me)

    def page():
        with django_assert_max_num_queries(8):
            return client.get(reverse("job_list")).content.decode().split('id="job-list"')[1]

    Job.objects.create(owner=other, kind=Job.Kind.CHANGE_LOG_EXPORT, status="done")
    Job.objects.create(owner=me, kind=ProjectJobKind.PROJECT_LEDGER_EXPORT, status="failed", error="出错了")
    few = page()
    for _n in range(20):
        Job.objects.create(owner=me, kind=ProblemJobKind.TICKET_LEDGER_EXPORT)
    many = page()

    assert "出错了" in few and few.count('href="/jobs/') == 2  # one job: its number and its kind
    assert many.count('href="/jobs/') == 42
    home = client.get(reverse("home")).content.decode()  # the user menu links to the list
    assert f'href="{reverse("job_list")}"' in home


def test_purge_deletes_old_jobs_and_their_files(media):
    owner = UserFactory(username="me")
    now = timezone.now()
    old = Job.objects.create(owner=owner, kind=ProjectJobKind.PROJECT_LEDGER_EXPORT, status="done")
    old.result.save("a.xlsx", ContentFile(b"old"))
    recent = Job.objects.create(owner=owner, kind=ProjectJobKind.PROJECT_LEDGER_EXPORT, status="done")
    recent.result.save("b.xlsx", ContentFile(b"new"))
    Job.objects.filter(pk=old.pk).update(finished_at=now - datetime.timedelta(days=8))
    Job.objects.filter(pk=recent.pk).update(finished_at=now - datetime.timedelta(days=6))
    waiting = Job.objects.create(owner=owner, kind=ProjectJobKind.PROJECT_LEDGER_EXPORT)
    old_path, recent_path = old.result.path, recent.result.path

    call_command("purge_jobs", verbosity=0)  # JOB_RESULT_DAYS = 7

    assert set(Job.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert not os.path.exists(old_path)
    assert os.path.exists(recent_path)


def test_progress_is_written_at_most_once_a_second_and_always_at_a_new_step_and_the_end(monkeypatch):
    written = []
    monkeypatch.setattr(jobs, "write_progress", lambda job: written.append((job.step, job.progress_done)))
    progress = jobs.Progress(Job(pk=1))

    for done in range(1001):  # well within a second
        progress("写入", done, 1000)
    progress("保存", 0, 0)
    progress("保存", 0, 0)

    assert written == [("写入", 0), ("写入", 1000), ("保存", 0)]
