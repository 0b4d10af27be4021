"""The change history: every write path leaves rows saying who, when, via what, from what to what;
the 变更记录 tabs and the zone-wide change log read them back; nobody can rewrite them.

(The suite-wide ``history_is_complete`` check in tests/conftest.py also fails any test whose
writes, by whatever path, leave data that its history does not match.)
"""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from core import changelog
from core.api.tokens import create_token
from core.history import Origin, unrecorded_changes
from core.models import User
from core.roles import Role, role_group
from projects import selectors
from projects.choices import ProgressStatus
from projects.models import MonthlyProgress, Project
from reference.models import Department
from tests.factories import (
    DepartmentFactory,
    EnterpriseYearlyFigureFactory,
    MonthlyProgressFactory,
    ProjectFactory,
    UserFactory,
    VisitFactory,
)
from tests.html_forms import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit():
    return DepartmentFactory(name="经发局")


@pytest.fixture
def staff(unit):
    return UserFactory(username="zhang", display_name="张专员", department=unit, roles=[Role.STAFF])


@pytest.fixture
def reviewer():
    return UserFactory(username="yang", display_name="杨审核", roles=[Role.REVIEWER])


@pytest.fixture
def leader():
    return UserFactory(username="sun", display_name="孙主任", roles=[Role.LEADER])


@pytest.fixture
def admin():
    return UserFactory(username="guan", display_name="管理员甲", roles=[Role.ADMIN], is_staff=True)


@pytest.fixture
def project(staff, unit):
    return ProjectFactory(name="益海特油项目", staff_in_charge=staff, responsible_unit=unit, location="一期")


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def last(model, **filters):
    return model.history.filter(**filters).order_by("-history_date", "-history_id").first()


# --- Every write path records who, via what, before and after ------------------------------------


def test_a_web_form_edit_is_recorded_with_user_origin_and_both_values(project, staff):
    client = client_of(staff)
    url = reverse("projects:edit", args=[project.pk])
    data = form_data(client.get(url).content.decode())
    data["location"] = "二期厂区"
    assert client.post(url, data).status_code == 302

    row = last(Project, id=project.pk)
    assert (row.history_type, row.history_user, row.history_origin) == ("~", staff, Origin.WEB)
    entry = changelog.entries(
        changelog.load({Project: [row.history_id]}), [("projects.project", row.history_id)]
    )[0]
    assert [(c.name, c.old, c.new) for c in entry.changes] == [("location", "一期", "二期厂区")]
    assert entry.origin == "网页"


def test_a_grid_save_is_one_bulk_operation_with_a_row_per_report(staff):
    period = selectors.current_month()
    first = ProjectFactory(name="甲项目", staff_in_charge=staff)
    second = ProjectFactory(name="乙项目", staff_in_charge=staff)
    client = client_of(staff)
    url = f"{reverse('projects:grid')}?year={period.year}&month={period.month}"
    data = form_data(client.get(url).content.decode(), "progress-grid")
    data.update({f"p{first.pk}-completed_investment": "120", f"p{second.pk}-completed_investment": "80.5"})
    assert client.post(url, data).status_code == 302

    rows = list(MonthlyProgress.history.all())
    assert len(rows) == 2
    assert {r.history_origin for r in rows} == {Origin.WEB}
    assert {r.history_user for r in rows} == {staff}
    assert rows[0].history_batch is not None and rows[0].history_batch == rows[1].history_batch
    assert sorted(r.completed_investment for r in rows) == [Decimal("80.50"), Decimal("120.00")]


def test_a_bulk_approval_is_one_operation_and_a_second_one_another(reviewer):
    reports = [MonthlyProgressFactory(month=4, status=ProgressStatus.SUBMITTED) for _ in range(3)]
    client = client_of(reviewer)
    assert (
        client.post(
            reverse("projects:review"), {"report": [r.pk for r in reports[:2]], "approve": "1"}
        ).status_code
        == 302
    )
    assert (
        client.post(reverse("projects:review"), {"report": [reports[2].pk], "approve": "1"}).status_code
        == 302
    )

    approvals = MonthlyProgress.history.filter(status=ProgressStatus.APPROVED).order_by("history_id")
    assert [a.history_user for a in approvals] == [reviewer] * 3
    batches = [a.history_batch for a in approvals]
    assert batches[0] == batches[1] and batches[0] is not None
    assert batches[2] is not None and batches[2] != batches[0]


def test_an_api_change_is_recorded_as_made_through_the_api(project, staff):
    _token, secret = create_token(staff, name="tests", days=1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    response = api.patch(
        f"/api/projects/{project.pk}/", {"location": "三期", "version": project.version}, format="json"
    )
    assert response.status_code == 200, response.content

    row = last(Project, id=project.pk)
    assert (row.history_user, row.history_origin, row.location) == (staff, Origin.API, "三期")
    assert row.prev_record.location == "一期"


def test_admin_changes_to_reference_data_and_to_a_users_roles_are_recorded(admin):
    client = client_of(admin)
    unit = DepartmentFactory(name="住建局")
    url = reverse("admin:reference_department_change", args=[unit.pk])
    data = form_data(client.get(url).content.decode(), "department_form")
    data["short_name"] = "住建"
    assert client.post(url, data).status_code == 302
    row = last(Department, id=unit.pk)
    assert (row.history_user, row.history_origin, row.short_name) == (admin, Origin.ADMIN, "住建")

    person = UserFactory(username="li", roles=[Role.STAFF])
    url = reverse("admin:core_user_change", args=[person.pk])
    data = form_data(client.get(url).content.decode(), "user_form")
    data["groups"] = [str(role_group(Role.REVIEWER).pk)]
    assert client.post(url, data).status_code == 302

    row = last(User, id=person.pk)
    assert (row.history_user, row.history_origin) == (admin, Origin.ADMIN)
    entry = changelog.page_entries([("core.user", row.history_id, row.history_date)])[0]
    roles = next(c for c in entry.changes if c.name == "groups")
    assert (roles.old, roles.new) == ("项目专员", "审核员")


def test_a_command_records_its_changes_as_made_by_a_command(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", "--force", stdout=io.StringIO())
    origins = set(Project.history.values_list("history_origin", flat=True).distinct())
    assert origins == {Origin.COMMAND}
    assert User.history.filter(history_origin=Origin.COMMAND).exists()
    assert unrecorded_changes() == []


def test_logging_in_is_not_a_change_to_the_user(staff):
    before = User.history.filter(id=staff.pk).count()
    Client().post(reverse("login"), {"username": "zhang", "password": "test-pass-123"})
    staff.refresh_from_db()
    assert staff.last_login is not None
    assert User.history.filter(id=staff.pk).count() == before


def test_the_audit_finds_writes_that_bypassed_the_history(project):
    assert unrecorded_changes([Project]) == []
    Project.objects.filter(pk=project.pk).update(location="无记录的修改")
    Project.objects.bulk_create([Project(name="批量无记录")])
    problems = unrecorded_changes([Project])
    created = Project.objects.get(name="批量无记录")
    assert set(problems) == {
        f"projects.Project {project.pk}: location changed without a history row",
        f"projects.Project {created.pk}: written without a history row",
    }
    # Put right so the suite-wide check passes.
    Project.objects.get(pk=created.pk).delete()
    Project.objects.get(pk=project.pk).save()


# --- The 变更记录 tab ------------------------------------------------------------------------------


def test_the_project_tab_shows_the_project_and_its_reports_readably_and_filters_by_field(
    project, staff, leader, django_assert_max_num_queries
):
    client = client_of(staff)
    url = reverse("projects:edit", args=[project.pk])
    data = form_data(client.get(url).content.decode())
    data["location"] = "二期厂区"
    client.post(url, data)
    period = selectors.current_month()
    entry_url = reverse("projects:progress", args=[project.pk, period.year, period.month])
    data = form_data(client.get(entry_url).content.decode(), "progress-form")
    data["completed_investment"] = "321.5"
    assert client.post(entry_url, data).status_code == 302

    history_url = reverse("projects:history", args=[project.pk])
    reader = client_of(leader)
    with django_assert_max_num_queries(30):
        html = reader.get(history_url).content.decode()
    assert "变更记录" in html
    assert "建设地点" in html and "一期" in html and "二期厂区" in html
    assert "本月完成投资（万元）" in html
    assert "321.50" in html
    assert "张专员" in html and "网页" in html

    html = reader.get(history_url, {"field": "location"}).content.decode()
    assert "二期厂区" in html and "321.50" not in html
    # The overview links to the tab.
    assert history_url in reader.get(reverse("projects:detail", args=[project.pk])).content.decode()


def test_the_tab_runs_a_fixed_number_of_queries_however_long_the_history(
    project, staff, leader, django_assert_max_num_queries
):
    for month in range(1, 13):
        MonthlyProgressFactory(project=project, year=2023, month=month, completed_investment=Decimal(month))
    for n in range(40):
        project.location = f"地点{n}"
        project._history_user = staff
        project.save()
    client = client_of(leader)
    with django_assert_max_num_queries(30):
        response = client.get(reverse("projects:history", args=[project.pk]))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 1 + 12 + 40


def test_ticket_and_enterprise_tabs_follow_their_read_permissions(staff, leader):
    from tests.factories import EnterpriseFactory, make_ticket

    enterprise = EnterpriseFactory(name="周口测试企业")
    collector = UserFactory(username="collector", roles=[Role.SUPERVISOR])
    ticket = make_ticket(user=collector, enterprise=enterprise, title="用地指标不足")
    outsider = UserFactory(
        username="outsider", department=DepartmentFactory(name="税务局"), roles=[Role.UNIT]
    )

    assert client_of(leader).get(reverse("enterprises:history", args=[enterprise.pk])).status_code == 200
    html = client_of(leader).get(reverse("enterprises:ticket_history", args=[ticket.pk])).content.decode()
    assert "用地指标不足" in html
    assert client_of(outsider).get(reverse("enterprises:ticket_history", args=[ticket.pk])).status_code == 403
    assert Client().get(reverse("enterprises:ticket_history", args=[ticket.pk])).status_code == 302


# --- The zone-wide change log ----------------------------------------------------------------------


def test_only_leaders_and_admins_read_the_change_log(staff, leader, admin, reviewer):
    url = reverse("change_log")
    assert client_of(leader).get(url).status_code == 200
    assert client_of(admin).get(url).status_code == 200
    assert client_of(staff).get(url).status_code == 403
    assert client_of(reviewer).get(reverse("change_log_export")).status_code == 403


def test_the_change_log_filters_by_user_kind_origin_and_date(project, staff, leader, admin):
    client = client_of(staff)
    url = reverse("projects:edit", args=[project.pk])
    data = form_data(client.get(url).content.decode())
    data["location"] = "网页改的地点"
    client.post(url, data)
    unit = DepartmentFactory(name="税务局")
    admin_client = client_of(admin)
    change = reverse("admin:reference_department_change", args=[unit.pk])
    data = form_data(admin_client.get(change).content.decode(), "department_form")
    data["phone"] = "0394-1234567"
    admin_client.post(change, data)

    log = client_of(leader)
    by_staff = log.get(reverse("change_log"), {"user": staff.pk}).context["entries"]
    assert {e.user for e in by_staff} == {staff}
    assert any(c.new == "网页改的地点" for e in by_staff for c in e.changes)

    via_admin = log.get(reverse("change_log"), {"origin": "admin"}).context["entries"]
    assert [(e.model_label, e.object_label) for e in via_admin] == [("责任单位", "税务局")]

    units = log.get(reverse("change_log"), {"model": "reference.department"}).context["entries"]
    assert {e.model_label for e in units} == {"责任单位"}

    today = timezone.localdate()
    assert (
        log.get(reverse("change_log"), {"date_to": str(today - datetime.timedelta(days=1))}).context[
            "entries"
        ]
        == []
    )
    assert len(log.get(reverse("change_log"), {"date_from": str(today)}).context["entries"]) >= 3

    response = log.get(reverse("change_log"), {"date_from": "2024-05-01", "date_to": "2024-04-01"})
    assert response.status_code == 200 and "结束日期早于开始日期" in response.content.decode()


def test_the_change_log_export_has_a_row_per_changed_field(project, staff, leader):
    client = client_of(staff)
    url = reverse("projects:edit", args=[project.pk])
    data = form_data(client.get(url).content.decode())
    data.update(location='=HYPERLINK("http://x","y")', contact_person="王经理")
    client.post(url, data)

    response = client_of(leader).get(reverse("change_log_export"), {"user": staff.pk})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    header = [c.value for c in sheet[3]]
    assert header[:9] == ["时间", "用户", "修改途径", "记录类型", "变更对象", "操作", "字段", "原值", "新值"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    changed = {(r[6], r[7], r[8]) for r in rows}
    assert ("建设地点", "一期", '=HYPERLINK("http://x","y")') in changed
    assert ("联系人", "—", "王经理") in changed
    assert all(r[1] == "张专员" and r[2] == "网页" for r in rows)
    # Text that looks like a formula stays text.
    cell = next(
        c for row in sheet.iter_rows(min_row=4) for c in row if c.value == '=HYPERLINK("http://x","y")'
    )
    assert cell.data_type == "s"


# --- Nobody rewrites history -----------------------------------------------------------------------


def test_history_pages_only_read(project, leader, admin):
    assert client_of(leader).post(reverse("projects:history", args=[project.pk])).status_code == 405
    assert client_of(leader).post(reverse("change_log")).status_code == 405


def test_the_admin_shows_a_past_version_but_does_not_revert_to_it(project, admin, staff):
    old = last(Project, id=project.pk)
    project.location = "现在的地点"
    project._history_user = staff
    project.save()
    client = client_of(admin)
    url = reverse("admin:projects_project_simple_history", args=[project.pk, old.history_id])
    page = client.get(url)
    assert page.status_code == 200
    data = form_data(page.content.decode(), "project_form")
    assert client.post(url, data).status_code == 403
    project.refresh_from_db()
    assert project.location == "现在的地点"
    # The page offers no way back: simple-history's "Revert" submit button is left out.
    assert 'name="_save"' not in page.content.decode()


def test_no_admin_page_or_api_route_writes_history():
    from django.contrib import admin as django_admin

    history_models = {m.history.model for m in changelog.models_by_key().values()}
    assert not history_models & set(django_admin.site._registry)
    # The API's history is read-only: any path about history answers GET and nothing else.
    import yaml

    schema = yaml.safe_load((settings.BASE_DIR / "docs" / "openapi.yaml").read_text())
    for path, operations in schema["paths"].items():
        if "history" in path:
            assert set(operations) - {"parameters"} == {"get"}, path


@pytest.mark.history_bypass("writes behind the history's back on purpose")
def test_the_audit_command_reports_and_fails(project):
    out = io.StringIO()
    call_command("check_history", stdout=out)
    assert "matches" in out.getvalue()
    Project.objects.filter(pk=project.pk).update(location="悄悄改的")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 records"):
        call_command("check_history", stdout=out)
    assert f"projects.Project {project.pk}: location changed without a history row" in out.getvalue()


def test_roles_given_from_the_groups_side_are_recorded_on_the_user(admin):
    person = UserFactory(username="wu", roles=[])
    group = role_group(Role.LEADER)
    group.user_set.add(person)
    row = last(User, id=person.pk)
    entry = changelog.page_entries([("core.user", row.history_id, row.history_date)])[0]
    assert [(c.name, c.old, c.new) for c in entry.changes] == [("groups", "—", "领导")]
    group.user_set.remove(person)
    assert last(User, id=person.pk).history_id != row.history_id


def test_the_change_log_runs_a_fixed_number_of_queries_however_many_changes(leader, staff):
    def counted() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("change_log")).status_code == 200
        return len(queries)

    def more_changes(n: int) -> None:
        for i in range(n):
            project = ProjectFactory(name=f"日志项目{Project.objects.count()}", staff_in_charge=staff)
            project.location = f"地点{i}"
            project._history_user = staff
            project.save()
            MonthlyProgressFactory(project=project, year=2023, month=1 + i % 12)

    client = client_of(leader)
    more_changes(5)
    few = counted()
    more_changes(30)
    assert counted() == few


@pytest.mark.django_db
def test_records_that_belong_to_another_are_named_in_the_readers_language():
    """The apps name their records for the change log (AppConfig.ready: changelog.describe_as); the
    names are translated like the rest of the page."""
    visit = VisitFactory(visited_on=datetime.date(2024, 3, 5))
    figure = EnterpriseYearlyFigureFactory(enterprise=visit.enterprise, year=2023)
    rows = [
        (key, row.history_id, row.history_date)
        for key, row in (
            ("problems.visit", visit.history.latest()),
            ("enterprises.enterpriseyearlyfigure", figure.history.latest()),
        )
    ]
    with translation.override("zh-hans"):
        labels = sorted(entry.object_label for entry in changelog.page_entries(rows))
    name = visit.enterprise.name
    assert labels == sorted([f"{name} · 2024-03-05走访", f"{name} · 2023年经营数据"])
    with translation.override("en"):
        labels = sorted(entry.object_label for entry in changelog.page_entries(rows))
    assert labels == sorted([f"{name} · visit on 2024-03-05", f"{name} · figures for 2023"])
