"""Faults: the database failing in the middle of an Excel import, a grid save, a bulk approval or a
batch list replacement leaves nothing half-written — every table, history included, is exactly as
before — and the user is told so in a message (the API: a 503), never shown a 500.

The failure is real: on the Nth write the database is sent a statement it refuses, so on
PostgreSQL the transaction is aborted as it would be by a lost connection or a full disk.
"""

from __future__ import annotations

import datetime
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from unittest import mock

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.db.models.query import QuerySet
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from core.api.tokens import create_token
from core.models import ImportRecord
from core.roles import Role
from enterprises.choices import EnterpriseImportKind
from projects import selectors
from projects.choices import BatchRole, ProgressStatus, ProjectImportKind
from projects.models import BatchMembership, MonthlyProgress
from tests.enterprises.test_import import zone, zone_list  # noqa: F401
from tests.factories import (
    BatchFactory,
    BatchMembershipFactory,
    DepartmentFactory,
    MonthlyProgressFactory,
    ProjectFactory,
    UserFactory,
)
from tests.html_forms import form_data
from tests.projects.test_ledger_import import GOOD_ROWS, ledger, reference  # noqa: F401

OUR_APPS = ("core", "reference", "enterprises", "projects", "problems")


def database_failed() -> str:
    """The refusal of a save the database could not finish, in the active language."""
    return gettext(
        "Nothing was saved: the database could not finish the save. "
        "Try again; if it happens again, tell the administrator."
    )


def import_failed() -> str:
    return gettext(
        "Nothing was imported: the database could not finish the import. "
        "Try again; if it happens again, tell the administrator."
    )


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def snapshot() -> dict:
    """Every row of every table of the portal, history tables and import records included."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values())
        for app in OUR_APPS
        for model in apps.get_app_config(app).get_models()
    }


class Fault:
    """Counts the calls of the methods it wraps; the Nth fails in the database itself (``fail_at``
    None: only count)."""

    def __init__(self, fail_at: int | None = None):
        self.fail_at = fail_at
        self.calls = 0

    def wrap(self, real):
        fault = self

        def wrapper(*args, **kwargs):
            fault.calls += 1
            if fault.calls == fault.fail_at:
                with connection.cursor() as cursor:
                    cursor.execute("UPDATE zp_fault_injection_no_such_table SET x = 1")
            return real(*args, **kwargs)

        return wrapper


@contextmanager
def injected(fault: Fault, targets):
    """``targets``: (class, method name) pairs whose calls the fault counts."""
    with ExitStack() as stack:
        for owner, name in targets:
            stack.enter_context(mock.patch.object(owner, name, fault.wrap(getattr(owner, name))))
        yield fault


def writes_in_a_clean_run(targets, run) -> int:
    """How many wrapped calls the operation makes when nothing fails (rolled back afterwards)."""
    with transaction.atomic():
        with injected(Fault(), targets) as counter:
            run()
        transaction.set_rollback(True)
    assert counter.calls >= 2, "the operation writes too little for a failure in its middle"
    return counter.calls


def failing_at(which: str, total: int) -> int:
    return {"second": 2, "middle": max(2, total // 2), "last": total}[which]


BULK = [(QuerySet, "bulk_create"), (QuerySet, "bulk_update")]
WHEN = ["second", "middle", "last"]


# --- Excel imports -----------------------------------------------------------------------------


def _upload(client, kind, data: bytes) -> ImportRecord:
    response = client.post(
        reverse("import_upload", args=[kind]), {"file": SimpleUploadedFile("名录.xlsx", data)}
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    record = ImportRecord.objects.latest("pk")
    assert record.status == ImportRecord.Status.PREVIEWED
    return record


def _import_fails_cleanly(client, record, which):
    url = reverse("import_confirm", args=[record.pk])
    total = writes_in_a_clean_run(BULK, lambda: client.post(url))
    before = snapshot()
    with injected(Fault(failing_at(which, total)), BULK) as fault:
        response = client.post(url, follow=True)
    assert fault.calls >= fault.fail_at, "the failure was never injected"
    assert response.status_code == 200
    assert import_failed() in response.content.decode()
    assert snapshot() == before, "a failed import left rows behind"

    # Nothing is spoilt: the same preview is confirmed afterwards and writes its rows.
    response = client.post(url, follow=True)
    assert "已导入" in response.content.decode()
    assert ImportRecord.objects.get(pk=record.pk).status == ImportRecord.Status.APPLIED
    after = snapshot()
    assert after["projects.HistoricalProject"] != before["projects.HistoricalProject"] or (
        after["enterprises.HistoricalEnterprise"] != before["enterprises.HistoricalEnterprise"]
    )


@pytest.mark.parametrize("which", WHEN)
def test_a_database_failure_in_a_ledger_import_leaves_nothing_written(reference, which):  # noqa: F811
    client = Client()
    client.force_login(reference.admin)
    record = _upload(client, ProjectImportKind.PROJECT_LEDGER, ledger(GOOD_ROWS))
    _import_fails_cleanly(client, record, which)


@pytest.mark.parametrize("which", WHEN)
def test_a_database_failure_in_an_enterprise_import_leaves_nothing_written(db, zone, which):  # noqa: F811
    admin = UserFactory(username="guanli", roles=[Role.ADMIN])
    client = Client()
    client.force_login(admin)
    record = _upload(client, EnterpriseImportKind.ENTERPRISES, zone_list())
    _import_fails_cleanly(client, record, which)


# --- The progress grid and bulk approval ------------------------------------------------------


@pytest.fixture
def desk(db):
    """A staff member's three projects; the first has a draft for this month already."""
    unit = DepartmentFactory(name="经济发展局")
    desk = type("Desk", (), {})()
    desk.staff = UserFactory(username="zhang", roles=[Role.STAFF], department=unit)
    desk.reviewer = UserFactory(username="shen", roles=[Role.REVIEWER])
    desk.projects = [ProjectFactory(name=f"项目{i}", responsible_unit=unit) for i in range(3)]
    desk.period = selectors.current_month()
    desk.draft = MonthlyProgressFactory(
        project=desk.projects[0],
        year=desk.period.year,
        month=desk.period.month,
        status=ProgressStatus.DRAFT,
        completed_investment=Decimal("10.00"),
        version=1,
    )
    return desk


SAVES = [(MonthlyProgress, "save")]


@pytest.mark.parametrize("which", WHEN)
def test_a_database_failure_in_a_grid_save_leaves_nothing_written(desk, which):
    client = Client()
    client.force_login(desk.staff)
    url = reverse("projects:grid") + f"?year={desk.period.year}&month={desk.period.month}"
    form = form_data(client.get(url).content.decode(), "progress-grid")
    for project, amount in zip(desk.projects, ("20", "30", "40"), strict=True):
        form[f"p{project.pk}-completed_investment"] = amount
    form["submit"] = "1"
    total = writes_in_a_clean_run(SAVES, lambda: client.post(url, form))
    assert total == 3
    before = snapshot()

    with injected(Fault(failing_at(which, total)), SAVES):
        response = client.post(url, form)

    assert response.status_code == 200
    html = response.content.decode()
    assert database_failed() in html
    assert 'value="30"' in html and 'value="40"' in html  # what was typed is still in the grid
    assert snapshot() == before
    draft = MonthlyProgress.objects.get(pk=desk.draft.pk)
    assert (draft.completed_investment, draft.status, draft.version) == (Decimal("10.00"), "draft", 1)


def _submitted(desk) -> list[MonthlyProgress]:
    """Last month's reports of the three projects, waiting for review."""
    last = datetime.date(desk.period.year, desk.period.month, 1) - datetime.timedelta(days=1)
    return [
        MonthlyProgressFactory(
            project=project,
            year=last.year,
            month=last.month,
            status=ProgressStatus.SUBMITTED,
            reviewed_by=None,
        )
        for project in desk.projects
    ]


@pytest.mark.parametrize("which", WHEN)
def test_a_database_failure_in_a_bulk_approval_leaves_nothing_approved(desk, which):
    reports = _submitted(desk)
    client = Client()
    client.force_login(desk.reviewer)
    url = reverse("projects:review")
    data = {"report": [str(report.pk) for report in reports], "approve": "1", "reason": ""}
    total = writes_in_a_clean_run(SAVES, lambda: client.post(url, data))
    before = snapshot()

    with injected(Fault(failing_at(which, total)), SAVES):
        response = client.post(url, data)

    assert response.status_code == 200
    assert database_failed() in response.content.decode()
    assert snapshot() == before
    assert set(
        MonthlyProgress.objects.filter(pk__in=[r.pk for r in reports]).values_list("status", flat=True)
    ) == {ProgressStatus.SUBMITTED}


def token_client(user) -> Client:
    _instance, secret = create_token(user, name="故障测试", days=1)
    return Client(HTTP_AUTHORIZATION=f"Token {secret}")


@pytest.mark.parametrize("which", WHEN)
def test_a_database_failure_in_an_api_bulk_review_answers_503_and_changes_nothing(desk, which):
    reports = _submitted(desk)
    client = token_client(desk.reviewer)
    url = reverse("api:progress-review")
    body = {"ids": [report.pk for report in reports], "approve": True, "reason": ""}
    total = writes_in_a_clean_run(SAVES, lambda: client.post(url, body, content_type="application/json"))
    before = snapshot()
    with injected(Fault(failing_at(which, total)), SAVES):
        response = client.post(url, body, content_type="application/json")
    assert response.status_code == 503
    assert response.json()["code"] == "database" and database_failed() in response.json()["detail"]
    assert _without_token_use(snapshot()) == _without_token_use(before)


def _without_token_use(rows: dict) -> dict:
    for row in rows["core.ApiToken"]:
        row["last_used_at"] = None  # a token's use is noted on it, failure or not
    return rows


# --- Replacing a batch's list -----------------------------------------------------------------

MEMBERSHIP_WRITES = [(BatchMembership, "save"), (BatchMembership, "delete")]


@pytest.mark.parametrize("which", WHEN)
def test_a_database_failure_while_replacing_a_batch_list_changes_nothing(db, which):
    admin = UserFactory(username="guanli", roles=[Role.ADMIN])
    batch = BatchFactory(number=5)
    leaving, staying, joining = (ProjectFactory(name=name) for name in ("退出项目", "留下项目", "新进项目"))
    BatchMembershipFactory(batch=batch, project=leaving, role=BatchRole.START)
    BatchMembershipFactory(batch=batch, project=staying, role=BatchRole.SIGN)
    client = token_client(admin)
    url = reverse("api:batch-members", args=[batch.pk])
    rows = [
        {"project": staying.pk, "role": BatchRole.PRODUCE},
        {"project": joining.pk, "role": BatchRole.START},
    ]
    total = writes_in_a_clean_run(
        MEMBERSHIP_WRITES, lambda: client.put(url, rows, content_type="application/json")
    )
    assert total == 3  # one leaves, one changes role, one joins
    before = snapshot()

    with injected(Fault(failing_at(which, total)), MEMBERSHIP_WRITES):
        response = client.put(url, rows, content_type="application/json")

    assert response.status_code == 503
    assert database_failed() in response.json()["detail"]
    assert _without_token_use(snapshot()) == _without_token_use(before)
    assert sorted(batch.memberships.values_list("project__name", "role")) == [
        ("留下项目", BatchRole.SIGN),
        ("退出项目", BatchRole.START),
    ]
