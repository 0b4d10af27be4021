"""/api/progress/: monthly reports — the role matrix of every action, the review workflow, photos,
versions, all-or-none bulk review, and the figures an approved report adds to its project.

The test project belongs to unit U1: staff_in (U1) may report on it, staff_out (U2) may not;
reviewers and administrators review.
"""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from projects.choices import ProgressStatus
from projects.models import MonthlyProgress, ProgressPhoto
from tests.api.conftest import ROLES
from tests.api.matrix import CALLERS
from tests.api.matrix import expected_codes as expected
from tests.factories import AnnualPlanFactory, MonthlyProgressFactory, ProjectFactory

WHO = CALLERS
READERS = set(ROLES) - {"norole"}
EDITORS = {"admin", "staff_in"}
REVIEWERS = {"admin", "reviewer"}


@pytest.fixture
def project(units):
    return ProjectFactory(name="益海特油项目", responsible_unit=units.U1)


def draft(project, month=3, **extra):
    values = {"status": ProgressStatus.DRAFT, "submitted_at": None, "reviewed_at": None} | extra
    return MonthlyProgressFactory(project=project, year=2023, month=month, **values)


def submitted(project, month=3, **extra):
    return draft(project, month, status=ProgressStatus.SUBMITTED, **extra)


def approved(project, month=3, **extra):
    return draft(project, month, status=ProgressStatus.APPROVED, **extra)


def url(report=None, action=None):
    path = "/api/progress/" if report is None else f"/api/progress/{report.pk}/"
    return f"{path}{action}/" if action else path


# --- Reading -------------------------------------------------------------------------------------


def test_every_role_reads_reports_roleless_and_anonymous_do_not(api_as, project):
    report = approved(project)
    got_list = {who: api_as(who).get(url()).status_code for who in WHO}
    got_detail = {who: api_as(who).get(url(report)).status_code for who in WHO}
    assert got_list == expected(READERS, 200)
    assert got_detail == expected(READERS, 200)


def test_a_report_reads_with_its_figures_status_and_photos(api_as, project, people):
    report = approved(project, completed_investment=Decimal("350.50"), reviewed_by=people["reviewer"])
    photo = ProgressPhoto.objects.create(report=report, image="progress/a.jpg", thumbnail="progress/a-t.jpg")
    response = api_as("leader").get(url(report))
    data = response.json()
    assert response["ETag"] == '"1"'
    assert {k: data[k] for k in ("project", "project_name", "year", "month", "completed_investment")} == {
        "project": project.pk,
        "project_name": "益海特油项目",
        "year": 2023,
        "month": 3,
        "completed_investment": "350.50",
    }
    assert (data["status"], data["is_editable"], data["reviewed_by"], data["version"]) == (
        "approved",
        False,
        people["reviewer"].pk,
        1,
    )
    assert "submit" not in data
    [shown] = data["photos"]
    assert shown["id"] == photo.pk
    assert shown["image_url"] == "http://testserver" + reverse("api:photo-file", args=[photo.pk, "full"])
    assert shown["thumbnail_url"].endswith(f"/photos/{photo.pk}/thumb/")


def test_filters(api_as, units, project):
    from tests.factories import ParkFactory

    park = ParkFactory(name="健康食品产业园")
    other = ProjectFactory(park=park, level="provincial")
    a = approved(project, month=1)
    b = submitted(project, month=2)
    c = submitted(other, month=2)
    d = draft(other, month=3)
    client = api_as("leader")

    def ids(query):
        response = client.get(url() + "?" + query)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids("") == {a.pk, b.pk, c.pk, d.pk}
    assert ids(f"project={project.pk}") == {a.pk, b.pk}
    assert ids("year=2023&month=2") == {b.pk, c.pk}
    assert ids("status=submitted") == {b.pk, c.pk}
    assert ids("status=submitted&status=draft") == {b.pk, c.pk, d.pk}
    assert ids(f"park={park.pk}") == {c.pk, d.pk}
    assert ids("level=provincial&month=3") == {d.pk}
    assert ids(f"responsible_unit={units.U1.pk}") == {a.pk, b.pk}
    assert client.get(url() + "?status=lost").status_code == 400


@pytest.mark.history_bypass("bulk test data")
def test_the_list_runs_a_fixed_number_of_queries(api_as, units, django_assert_max_num_queries):
    projects = [ProjectFactory(responsible_unit=units.U1) for _ in range(3)]
    reports = MonthlyProgress.objects.bulk_create(
        MonthlyProgress(project=projects[0], year=2023, month=m, completed_investment=Decimal("1"))
        for m in (1, 2)
    )
    ProgressPhoto.objects.create(report=reports[0], image="progress/a.jpg", thumbnail="progress/b.jpg")
    client = api_as("leader")
    client.get(url())  # the token's first use is recorded once

    with CaptureQueriesContext(connection) as few:
        assert client.get(url() + "?page_size=500").status_code == 200

    more = [ProjectFactory(responsible_unit=units.U1) for _ in range(17)]
    many = MonthlyProgress.objects.bulk_create(
        MonthlyProgress(project=p, year=y, month=m, completed_investment=Decimal("1"))
        for p in [*projects[1:], *more]
        for y in (2022, 2023)
        for m in range(1, 7)
    )
    ProgressPhoto.objects.bulk_create(
        ProgressPhoto(report=r, image="progress/x.jpg", thumbnail="progress/y.jpg") for r in many[::3]
    )
    assert MonthlyProgress.objects.count() >= 200
    with django_assert_max_num_queries(len(few)):
        response = client.get(url() + "?page_size=500")
    assert len(response.json()["results"]) == MonthlyProgress.objects.count()
    assert len(few) <= 6  # token, user, roles, count, page, photos


# --- Creating ------------------------------------------------------------------------------------


def test_who_may_start_a_report(api_as, people, units):
    got = {}
    for who in WHO:
        target = ProjectFactory(responsible_unit=units.U1)
        response = api_as(who).post(
            url(),
            {
                "project": target.pk,
                "year": 2023,
                "month": 3,
                "completed_investment": "350.00",
                "physical_progress": "主体封顶",
            },
            format="json",
        )
        got[who] = response.status_code
        reports = MonthlyProgress.objects.filter(project=target)
        if response.status_code == 201:
            report = reports.get()
            assert response.json()["id"] == report.pk
            assert (report.completed_investment, report.status, report.version) == (
                Decimal("350.00"),
                ProgressStatus.DRAFT,
                1,
            )
            assert report.history.first().history_user == people[who]
        else:
            assert not reports.exists()
    assert got == expected(EDITORS, 201)


def test_a_report_can_be_submitted_as_it_is_started(api_as, project, people):
    response = api_as("staff_in").post(
        url(),
        {"project": project.pk, "year": 2023, "month": 4, "completed_investment": "10", "submit": True},
        format="json",
    )
    assert response.status_code == 201
    report = MonthlyProgress.objects.get(project=project)
    assert (report.status, report.submitted_by) == (ProgressStatus.SUBMITTED, people["staff_in"])
    assert response.json()["status"] == "submitted"


def test_a_month_that_already_has_a_report_is_refused_not_overwritten(api_as, project):
    existing = draft(project, month=3, completed_investment=Decimal("100.00"))
    response = api_as("staff_in").post(
        url(), {"project": project.pk, "year": 2023, "month": 3, "completed_investment": "999"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["该项目已有该月的进度报告。"]}
    existing.refresh_from_db()
    assert (existing.completed_investment, existing.version) == (Decimal("100.00"), 1)
    assert MonthlyProgress.objects.count() == 1


def test_bad_reports_answer_400_with_the_field(api_as, project):
    client = api_as("staff_in", language="en")
    today = timezone.localdate()
    next_year, next_month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    base = {"project": project.pk, "year": 2023, "month": 3, "completed_investment": "10"}

    def refused(**changes):
        response = client.post(url(), base | changes, format="json")
        assert response.status_code == 400
        return response.json()

    assert refused(completed_investment="-1") == {
        "completed_investment": ["Ensure this value is greater than or equal to 0."]
    }
    assert refused(year=next_year, month=next_month) == {
        "month": ["Progress cannot be reported for a month that has not begun."]
    }
    assert set(refused(month=13)) == {"month"}
    assert set(refused(project=999999)) == {"project"}
    assert set(refused(completed_investment=None)) == {"completed_investment"}
    assert not MonthlyProgress.objects.exists()


# --- Changing ------------------------------------------------------------------------------------


def test_who_may_change_a_report(api_as, project, people):
    got = {}
    for who in WHO:
        report = draft(project, month=1 + WHO.index(who), completed_investment=Decimal("100.00"))
        response = api_as(who).patch(
            url(report), {"completed_investment": "400.00", "version": 1}, format="json"
        )
        got[who] = response.status_code
        report.refresh_from_db()
        if response.status_code == 200:
            assert (report.completed_investment, report.version) == (Decimal("400.00"), 2)
            assert response.json()["completed_investment"] == "400.00"
            assert response["ETag"] == '"2"'
            assert report.history.first().history_user == people[who]
        else:
            assert (report.completed_investment, report.version) == (Decimal("100.00"), 1)
    assert got == expected(EDITORS, 200)


def test_put_changes_the_report_and_may_submit_it(api_as, project, people):
    report = draft(project)
    body = {
        "project": project.pk,  # sent back as read: allowed, unchanged
        "year": 2023,
        "month": 3,
        "completed_investment": "120.00",
        "physical_progress": "设备安装",
        "problems": "",
        "version": 1,
        "submit": True,
    }
    response = api_as("staff_in").put(url(report), body, format="json")
    assert response.status_code == 200, response.json()
    report.refresh_from_db()
    assert (report.completed_investment, report.physical_progress, report.status) == (
        Decimal("120.00"),
        "设备安装",
        ProgressStatus.SUBMITTED,
    )
    assert report.submitted_by == people["staff_in"]


def test_a_change_must_name_its_version_and_a_stale_one_is_refused(api_as, project):
    report = draft(project, completed_investment=Decimal("100.00"))
    client = api_as("staff_in", language="en")
    missing = client.patch(url(report), {"completed_investment": "1"}, format="json")
    assert missing.status_code == 400 and set(missing.json()) == {"version"}

    assert (
        client.patch(url(report), {"completed_investment": "200", "version": 1}, format="json").status_code
        == 200
    )
    stale = client.patch(url(report), {"completed_investment": "300", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    stale_header = client.patch(
        url(report), {"completed_investment": "300"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert stale_header.status_code == 412
    report.refresh_from_db()
    assert (report.completed_investment, report.version) == (Decimal("200.00"), 2)

    fresh = client.patch(url(report), {"completed_investment": "300"}, format="json", HTTP_IF_MATCH='"2"')
    assert fresh.status_code == 200 and fresh["ETag"] == '"3"'


def test_the_project_and_month_of_a_report_are_fixed(api_as, project, units):
    report = draft(project)
    other = ProjectFactory(responsible_unit=units.U1)
    client = api_as("staff_in", language="en")
    for change in ({"month": 4}, {"year": 2022}, {"project": other.pk}):
        response = client.patch(url(report), {"version": 1, **change}, format="json")
        assert response.status_code == 400
        assert response.json() == {next(iter(change)): ["This cannot be changed once the record exists."]}
    report.refresh_from_db()
    assert (report.project, report.month, report.version) == (project, 3, 1)


def test_a_submitted_report_is_locked(api_as, project):
    report = submitted(project, completed_investment=Decimal("100.00"))
    response = api_as("staff_in").patch(
        url(report), {"completed_investment": "1", "version": 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["2023-03 月报正在等待审核，暂时不能修改。"]}
    report.refresh_from_db()
    assert report.completed_investment == Decimal("100.00")


def test_reports_are_never_deleted(api_as, project):
    report = approved(project)
    assert api_as("admin").delete(url(report)).status_code == 405
    assert MonthlyProgress.objects.filter(pk=report.pk).exists()


# --- Submitting and reviewing ------------------------------------------------------------------------


def test_who_may_submit(api_as, project, people):
    got = {}
    for who in WHO:
        report = draft(project, month=1 + WHO.index(who))
        response = api_as(who).post(url(report, "submit"), {}, format="json")
        got[who] = response.status_code
        report.refresh_from_db()
        if response.status_code == 200:
            assert (report.status, report.submitted_by) == (ProgressStatus.SUBMITTED, people[who])
            assert response.json()["status"] == "submitted" and response.json()["version"] == 2
        else:
            assert (report.status, report.version) == (ProgressStatus.DRAFT, 1)
    assert got == expected(EDITORS, 200)


@pytest.mark.parametrize(
    ("action", "start", "body", "end"),
    [
        ("approve", ProgressStatus.SUBMITTED, {"comment": "数据准确"}, ProgressStatus.APPROVED),
        ("return", ProgressStatus.SUBMITTED, {"reason": "金额与台账不符"}, ProgressStatus.RETURNED),
        ("reopen", ProgressStatus.APPROVED, {"reason": "统计口径调整"}, ProgressStatus.RETURNED),
    ],
)
def test_only_reviewers_and_administrators_review(api_as, project, people, action, start, body, end):
    got = {}
    for who in WHO:
        report = draft(project, month=1 + WHO.index(who), status=start)
        response = api_as(who).post(url(report, action), body, format="json")
        got[who] = response.status_code
        report.refresh_from_db()
        if response.status_code == 200:
            assert (report.status, report.reviewed_by, report.version) == (end, people[who], 2)
            assert report.review_comment == next(iter(body.values()))
            assert report.history.first().history_user == people[who]
            assert response.json()["status"] == end
        else:
            assert (report.status, report.version) == (start, 1)
    assert got == expected(REVIEWERS, 200)


@pytest.mark.parametrize(("action", "start"), [("return", "submitted"), ("reopen", "approved")])
def test_returning_or_reopening_needs_a_reason(api_as, project, action, start):
    report = draft(project, status=start)
    for body in ({}, {"reason": "  "}):
        response = api_as("reviewer").post(url(report, action), body, format="json")
        assert response.status_code == 400
        assert response.json() == {"reason": ["请填写原因，以便填报人知道需要修改什么。"]}
    report.refresh_from_db()
    assert (report.status, report.version) == (start, 1)


def test_only_a_submitted_report_is_approved(api_as, project):
    report = draft(project)
    response = api_as("reviewer", language="en").post(url(report, "approve"), {}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Only a Submitted report can be approved; this one is Draft."]
    }
    report.refresh_from_db()
    assert report.status == ProgressStatus.DRAFT


def test_a_review_of_a_stale_version_is_refused(api_as, project):
    report = submitted(project)
    client = api_as("reviewer")
    assert client.post(url(report, "approve"), {"version": 2}, format="json").status_code == 409
    assert client.post(url(report, "approve"), {}, format="json", HTTP_IF_MATCH='"5"').status_code == 412
    report.refresh_from_db()
    assert (report.status, report.version) == (ProgressStatus.SUBMITTED, 1)
    assert client.post(url(report, "approve"), {"version": 1}, format="json").status_code == 200


def test_who_may_review_several_at_once(api_as, project, people):
    got = {}
    for who in WHO:
        first = submitted(project, month=1 + WHO.index(who))
        second = submitted(ProjectFactory(), month=1 + WHO.index(who))
        response = api_as(who).post(
            url() + "review/", {"ids": [first.pk, second.pk], "approve": True}, format="json"
        )
        got[who] = response.status_code
        statuses = set(
            MonthlyProgress.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)
        )
        if response.status_code == 200:
            assert statuses == {ProgressStatus.APPROVED}
            assert response.json()["count"] == 2
            assert {r["id"] for r in response.json()["reports"]} == {first.pk, second.pk}
            first.refresh_from_db()
            assert first.reviewed_by == people[who]
        else:
            assert statuses == {ProgressStatus.SUBMITTED}
    assert got == expected(REVIEWERS, 200)


def test_bulk_review_is_all_or_none(api_as, project):
    a, b = submitted(project, month=1), submitted(project, month=2)
    c = draft(project, month=3)  # not waiting for review: refused, so nothing changes
    client = api_as("reviewer", language="en")
    response = client.post(url() + "review/", {"ids": [a.pk, b.pk, c.pk], "approve": True}, format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert list(MonthlyProgress.objects.order_by("month").values_list("status", "version")) == [
        ("submitted", 1),
        ("submitted", 1),
        ("draft", 1),
    ]

    unknown = client.post(url() + "review/", {"ids": [a.pk, 999999], "approve": True}, format="json")
    assert unknown.status_code == 400 and unknown.json() == {"ids": ["No report has the id 999999."]}
    no_reason = client.post(url() + "review/", {"ids": [a.pk, b.pk], "approve": False}, format="json")
    assert no_reason.status_code == 400 and set(no_reason.json()) == {"reason"}
    assert set(MonthlyProgress.objects.values_list("status", flat=True)) == {"submitted", "draft"}

    returned = client.post(
        url() + "review/", {"ids": [a.pk, b.pk], "approve": False, "reason": "请附照片"}, format="json"
    )
    assert returned.status_code == 200 and returned.json()["count"] == 2
    assert list(MonthlyProgress.objects.order_by("month").values_list("status", "review_comment")) == [
        ("returned", "请附照片"),
        ("returned", "请附照片"),
        ("draft", ""),
    ]


# --- Figures ---------------------------------------------------------------------------------------


def test_an_approved_report_counts_in_the_project_figures(api_as, project):
    """Plan 1200; January approved 100; February 250.50 reported through the API. Before approval
    February counts only with include_submitted; after, year-to-date is 350.50 = 0.2921 of the plan
    (时序进度 2/12 = 0.1667)."""
    AnnualPlanFactory(project=project, year=2023, planned_investment=Decimal("1200.00"))
    approved(project, month=1, completed_investment=Decimal("100.00"))
    created = api_as("staff_in").post(
        url(),
        {"project": project.pk, "year": 2023, "month": 2, "completed_investment": "250.50", "submit": True},
        format="json",
    )
    assert created.status_code == 201
    leader = api_as("leader")
    figures_url = f"/api/projects/{project.pk}/?year=2023&month=2"

    before = leader.get(figures_url).json()["figures"]
    assert (before["completed_investment"], before["month_completed"]) == ("100.00", "0.00")
    counted = leader.get(figures_url + "&include_submitted=1").json()["figures"]
    assert (counted["completed_investment"], counted["month_completed"]) == ("350.50", "250.50")

    report_url = url(MonthlyProgress.objects.get(project=project, month=2), "approve")
    assert api_as("reviewer").post(report_url, {}, format="json").status_code == 200
    after = leader.get(figures_url).json()["figures"]
    assert after == {
        "year": 2023,
        "month": 2,
        "planned_investment": "1200.00",
        "completed_investment": "350.50",
        "month_completed": "250.50",
        "completion_rate": "0.2921",
        "schedule_progress": "0.1667",
        "gap_points": "12.54",
        "is_lagging": False,
    }


# --- Photos --------------------------------------------------------------------------------------


def image_upload(name="现场.jpg"):
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), "teal").save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_who_may_add_a_photo(api_as, project, people, media):
    got = {}
    for who in WHO:
        report = draft(project, month=1 + WHO.index(who))
        response = api_as(who).post(
            url(report, "photos"), {"image": image_upload(), "caption": "主体封顶"}, format="multipart"
        )
        got[who] = response.status_code
        if response.status_code == 201:
            photo = report.photos.get()
            data = response.json()
            assert (data["id"], data["caption"], data["uploaded_by"]) == (
                photo.pk,
                "主体封顶",
                people[who].pk,
            )
            assert data["image_url"].endswith(reverse("api:photo-file", args=[photo.pk, "full"]))
            assert photo.history.first().history_user == people[who]
        else:
            assert not report.photos.exists()
    assert got == expected(EDITORS, 201)


def test_the_photo_urls_serve_the_image_to_readers(api_as, client, project, people, media):
    report = draft(project)
    data = (
        api_as("staff_in").post(url(report, "photos"), {"image": image_upload()}, format="multipart").json()
    )
    assert api_as("leader").get(url(report)).json()["photos"][0]["id"] == data["id"]
    # A script with a token reads the files; anonymous callers and people without a role do not.
    for key in ("image_url", "thumbnail_url"):
        response = api_as("unit_out").get(data[key])
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        assert b"".join(response.streaming_content)[:3] == b"\xff\xd8\xff"
        assert api_as(None).get(data[key]).status_code == 401
        assert api_as("norole").get(data[key]).status_code == 403
    assert api_as("leader").get(data["image_url"].replace("/full/", "/other/")).status_code == 404
    # The page's own address still serves signed-in users.
    client.force_login(people["leader"])
    page_url = reverse("projects:photo_file", args=[data["id"], "thumb"])
    assert client.get(page_url)["Content-Type"] == "image/jpeg"


def test_a_file_that_is_not_a_photo_is_refused(api_as, project, media):
    report = draft(project)
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not an image", content_type="image/jpeg")
    response = api_as("staff_in", language="en").post(
        url(report, "photos"), {"image": fake}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json() == {"image": ["This file is not a photo (JPEG, PNG, WebP or GIF)."]}
    missing = api_as("staff_in").post(url(report, "photos"), {"caption": "x"}, format="multipart")
    assert missing.status_code == 400 and set(missing.json()) == {"image"}
    assert not ProgressPhoto.objects.exists()
    assert not any(media.rglob("*.jpg"))


def test_no_photos_on_an_approved_report(api_as, project, media):
    report = approved(project)
    response = api_as("staff_in").post(url(report, "photos"), {"image": image_upload()}, format="multipart")
    assert response.status_code == 400
    assert not ProgressPhoto.objects.exists()


def test_bulk_review_ids_out_of_range_are_refused(api_as, project):
    report = submitted(project)
    response = api_as("reviewer").post(
        url() + "review/", {"ids": [report.pk, 2**63], "approve": True}, format="json"
    )
    assert response.status_code == 400 and set(response.json()) == {"ids"}
    report.refresh_from_db()
    assert report.status == ProgressStatus.SUBMITTED


# --- Sanity checks of the figure -------------------------------------------------------------------


@pytest.fixture
def checked_project(units):
    """30,000 万元 in all, 12,000 planned for 2023, 2,000 reported for January."""
    project = ProjectFactory(
        name="中兴新业港产业园", responsible_unit=units.U1, total_investment=Decimal("30000")
    )
    AnnualPlanFactory(project=project, year=2023, planned_investment=Decimal("12000"))
    approved(project, month=1, completed_investment=Decimal("2000.00"))
    return project


def test_a_figure_with_warnings_answers_400_until_confirmed(api_as, checked_project, people):
    client = api_as("staff_in")
    body = {"project": checked_project.pk, "year": 2023, "month": 2, "completed_investment": "10500.00"}

    held = client.post(url(), body, format="json")

    # 2,000 + 10,500 = 12,500: above the plan of 12,000, within the total of 30,000.
    assert held.status_code == 400
    assert held.json() == {
        "detail": "数据需要核实，未保存任何数据。如核实无误，请将 confirm_warnings 设为 true 后重新提交。",
        "code": "needs_confirmation",
        "warnings": [
            {
                "code": "above_plan",
                "message": "2023年1–2月累计完成投资将达到 12,500.00 万元，"
                "超过本年度计划投资（12,000.00 万元）。",
            }
        ],
    }
    assert not MonthlyProgress.objects.filter(month=2).exists()

    created = client.post(url(), body | {"confirm_warnings": True}, format="json")

    assert created.status_code == 201, created.json()
    assert "confirm_warnings" not in created.json()
    report = MonthlyProgress.objects.get(month=2)
    assert report.completed_investment == Decimal("10500.00")
    record = report.history.get()
    assert (record.history_user, record.history_change_reason) == (
        people["staff_in"],
        "经用户核实确认保存：超过本年度计划投资",
    )


def test_a_change_with_warnings_answers_400_until_confirmed(api_as, checked_project):
    report = draft(checked_project, month=2, completed_investment=Decimal("100.00"))
    client = api_as("staff_in", language="en")

    # February's old 100 no longer counts: 2,000 + 28,000 = 30,000 is the total (not above it) but
    # above the year's plan of 12,000.
    held = client.patch(url(report), {"completed_investment": "28000", "version": 1}, format="json")

    assert held.status_code == 400
    assert [w["code"] for w in held.json()["warnings"]] == ["above_plan"]
    report.refresh_from_db()
    assert (report.completed_investment, report.version) == (Decimal("100.00"), 1)

    confirmed = client.patch(
        url(report), {"completed_investment": "28000", "version": 1, "confirm_warnings": True}, format="json"
    )

    assert confirmed.status_code == 200, confirmed.json()
    report.refresh_from_db()
    assert (report.completed_investment, report.version) == (Decimal("28000.00"), 2)
    assert report.history.first().history_change_reason.startswith("经用户核实确认保存")


def test_a_figure_beyond_ten_times_the_total_is_refused_even_confirmed(api_as, checked_project):
    body = {
        "project": checked_project.pk,
        "year": 2023,
        "month": 2,
        "completed_investment": "99999999999",
        "confirm_warnings": True,
    }

    response = api_as("staff_in").post(url(), body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "completed_investment": [
            "单月完成投资 99,999,999,999.00 万元，超过项目总投资（30,000.00 万元）的十倍，不予保存："
            "请核对数字及单位（万元）。"
        ]
    }
    assert not MonthlyProgress.objects.filter(month=2).exists()
