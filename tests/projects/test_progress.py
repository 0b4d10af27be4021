"""Monthly progress: entry, the batch grid, review, locking and photos, through the services."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import translation
from PIL import Image

from core.roles import Role
from projects import permissions, services
from projects.choices import FigureCheck, ProgressStatus
from projects.models import MonthlyProgress, MonthPublication, ProgressPhoto
from tests.factories import (
    AnnualPlanFactory,
    DepartmentFactory,
    MonthlyProgressFactory,
    ProjectFactory,
    UserFactory,
)
from tests.security import hostile

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit():
    return DepartmentFactory(name="经发局")


@pytest.fixture
def staff(unit):
    return UserFactory(username="zhang", department=unit, roles=[Role.STAFF])


@pytest.fixture
def reviewer():
    return UserFactory(username="yang", roles=[Role.REVIEWER])


@pytest.fixture
def project(staff):
    return ProjectFactory(name="益海特油项目", staff_in_charge=staff)


def save(project, user, amount, *, month=3, submit=False, version=None, confirm_warnings=False, **extra):
    data = {"completed_investment": Decimal(amount), "physical_progress": "主体封顶", "problems": ""} | extra
    return services.progress_save(
        project=project,
        year=2023,
        month=month,
        user=user,
        data=data,
        submit=submit,
        expected_version=version,
        confirm_warnings=confirm_warnings,
    )


def test_staff_saves_a_draft_then_submits_it(project, staff):
    report = save(project, staff, "350.00")
    assert (report.status, report.completed_investment, report.version) == (
        ProgressStatus.DRAFT,
        Decimal("350.00"),
        1,
    )
    services.progress_submit(report=report, user=staff)
    report.refresh_from_db()
    assert report.status == ProgressStatus.SUBMITTED
    assert report.submitted_by == staff and report.submitted_at is not None


def test_staff_outside_the_project_cannot_report(project):
    stranger = UserFactory(department=DepartmentFactory(name="住建局"), roles=[Role.STAFF])
    with pytest.raises(PermissionDenied):
        save(project, stranger, "10")
    assert not MonthlyProgress.objects.exists()


def test_staff_of_the_responsible_unit_may_report(unit):
    colleague = UserFactory(department=unit, roles=[Role.STAFF])
    project = ProjectFactory(responsible_unit=unit)
    assert save(project, colleague, "10").pk


def test_leaders_and_reviewers_cannot_report(project, reviewer):
    leader = UserFactory(roles=[Role.LEADER])
    for user in (leader, reviewer):
        with pytest.raises(PermissionDenied):
            save(project, user, "10")


def test_a_submitted_report_is_locked_for_the_reporter(project, staff):
    save(project, staff, "350.00", submit=True)
    with pytest.raises(ValidationError, match="等待审核|waiting for review"):
        save(project, staff, "999.00")
    assert MonthlyProgress.objects.get().completed_investment == Decimal("350.00")


def test_approve_makes_the_figure_official_and_locks_it(project, staff, reviewer):
    report = save(project, staff, "350.00", submit=True)
    services.progress_approve(report=report, user=reviewer)
    report.refresh_from_db()
    assert (report.status, report.reviewed_by) == (ProgressStatus.APPROVED, reviewer)
    with pytest.raises(ValidationError):
        save(project, staff, "1.00")
    assert MonthlyProgress.objects.get().completed_investment == Decimal("350.00")


def test_return_needs_a_reason_which_the_reporter_sees(project, staff, reviewer):
    report = save(project, staff, "350.00", submit=True)
    with pytest.raises(ValidationError) as refused:
        services.progress_return(report=report, user=reviewer, reason="  ")
    assert "review_comment" in refused.value.message_dict
    assert MonthlyProgress.objects.get().status == ProgressStatus.SUBMITTED
    services.progress_return(report=report, user=reviewer, reason="本月投资与形象进度不符")
    report.refresh_from_db()
    assert (report.status, report.review_comment) == (ProgressStatus.RETURNED, "本月投资与形象进度不符")
    # The reporter corrects and resubmits.
    save(project, staff, "280.00", submit=True, version=report.version)
    report.refresh_from_db()
    assert (report.status, report.completed_investment) == (ProgressStatus.SUBMITTED, Decimal("280.00"))


def test_only_reviewers_review(project, staff):
    report = save(project, staff, "350.00", submit=True)
    with pytest.raises(PermissionDenied):
        services.progress_approve(report=report, user=staff)
    assert MonthlyProgress.objects.get().status == ProgressStatus.SUBMITTED


def test_a_draft_cannot_be_approved(project, staff, reviewer):
    report = save(project, staff, "350.00")
    with pytest.raises(ValidationError):
        services.progress_approve(report=report, user=reviewer)
    assert MonthlyProgress.objects.get().status == ProgressStatus.DRAFT


def test_reopening_an_approved_report_is_recorded_with_reason(project, staff, reviewer):
    report = save(project, staff, "350.00", submit=True)
    services.progress_approve(report=report, user=reviewer)
    services.progress_reopen(report=report, user=reviewer, reason="统计局核减")
    report.refresh_from_db()
    assert report.status == ProgressStatus.RETURNED
    latest = report.history.latest()
    assert latest.history_user == reviewer
    assert "统计局核减" in latest.history_change_reason
    assert report.history.filter(status=ProgressStatus.APPROVED).exists()


def test_second_save_from_a_stale_page_is_refused(project, staff):
    report = save(project, staff, "100.00")
    loaded_version = report.version
    save(project, staff, "200.00", version=loaded_version)  # the first editor saves
    with pytest.raises(services.StaleVersion):
        save(project, staff, "300.00", version=loaded_version)  # the second, from the same old page
    assert MonthlyProgress.objects.get().completed_investment == Decimal("200.00")


def test_stale_project_edit_is_refused(project, staff):
    version = project.version
    services.project_update(project=project, user=staff, data={"location": "东区"}, expected_version=version)
    with pytest.raises(services.StaleVersion):
        services.project_update(
            project=project, user=staff, data={"location": "西区"}, expected_version=version
        )
    project.refresh_from_db()
    assert project.location == "东区"


def test_future_month_is_refused(project, staff):
    with pytest.raises(ValidationError) as refused:
        services.progress_save(
            project=project,
            year=2099,
            month=1,
            user=staff,
            data={"completed_investment": Decimal("1")},
        )
    assert "month" in refused.value.message_dict


# --- The batch grid -------------------------------------------------------------


def test_grid_saves_all_rows_or_none(staff):
    first, second, third = (ProjectFactory(staff_in_charge=staff) for _ in range(3))
    rows = [
        services.GridRow(project=first, data={"completed_investment": Decimal("10.00")}),
        services.GridRow(project=second, data={"completed_investment": Decimal("-1.00")}),
        services.GridRow(project=third, data={"completed_investment": Decimal("30.00")}),
    ]
    with pytest.raises(services.GridErrors) as refused:
        services.progress_save_many(rows=rows, year=2023, month=4, user=staff)
    assert list(refused.value.errors) == [1]
    assert not MonthlyProgress.objects.exists()

    rows[1].data["completed_investment"] = Decimal("20.00")
    services.progress_save_many(rows=rows, year=2023, month=4, user=staff, submit=True)
    assert sorted(MonthlyProgress.objects.values_list("completed_investment", "status")) == [
        (Decimal("10.00"), ProgressStatus.SUBMITTED),
        (Decimal("20.00"), ProgressStatus.SUBMITTED),
        (Decimal("30.00"), ProgressStatus.SUBMITTED),
    ]


def test_grid_row_outside_scope_is_an_error_and_nothing_is_saved(staff):
    mine = ProjectFactory(staff_in_charge=staff)
    not_mine = ProjectFactory()
    rows = [
        services.GridRow(project=mine, data={"completed_investment": Decimal("10.00")}),
        services.GridRow(project=not_mine, data={"completed_investment": Decimal("10.00")}),
    ]
    with pytest.raises(services.GridErrors) as refused:
        services.progress_save_many(rows=rows, year=2023, month=4, user=staff)
    assert list(refused.value.errors) == [1]
    assert not MonthlyProgress.objects.exists()


def test_bulk_approval_is_all_or_none(project, staff, reviewer):
    submitted = save(project, staff, "100.00", month=3, submit=True)
    draft = save(project, staff, "100.00", month=4)
    with pytest.raises(ValidationError):
        services.progress_review_many(reports=[submitted, draft], user=reviewer, approve=True)
    assert MonthlyProgress.objects.get(pk=submitted.pk).status == ProgressStatus.SUBMITTED
    other = save(project, staff, "50.00", month=5, submit=True)
    assert services.progress_review_many(reports=[submitted, other], user=reviewer, approve=True) == 2
    assert set(MonthlyProgress.objects.filter(month__in=[3, 5]).values_list("status", flat=True)) == {
        ProgressStatus.APPROVED
    }


# --- Photos -----------------------------------------------------------------------


def image_upload(name="site.jpg", size=(1600, 1200), fmt="JPEG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 160, 200)).save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_photo_gets_a_random_name_and_a_thumbnail(project, staff, media):
    report = save(project, staff, "100.00")
    photo = services.photo_add(
        report=report, user=staff, upload=image_upload("我的照片.PNG"), caption="主体封顶"
    )
    assert photo.image.name.endswith(".jpg")  # named by its content (JPEG), not the upload's name
    assert "我的照片" not in photo.image.name
    with Image.open(photo.thumbnail.path) as thumb:
        assert thumb.width <= 480 and thumb.height <= 360
    assert (media / photo.image.name).exists()


def test_a_file_that_is_not_an_image_is_refused(project, staff, media):
    report = save(project, staff, "100.00")
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not an image", content_type="image/jpeg")
    with pytest.raises(ValidationError) as refused:
        services.photo_add(report=report, user=staff, upload=fake)
    assert "image" in refused.value.message_dict
    assert not ProgressPhoto.objects.exists()
    assert not any(media.rglob("*.*"))


@override_settings(MAX_PHOTO_BYTES=1000)
def test_a_photo_over_the_size_limit_is_refused(project, staff, media):
    report = save(project, staff, "100.00")
    with pytest.raises(ValidationError):
        services.photo_add(report=report, user=staff, upload=image_upload())
    assert not ProgressPhoto.objects.exists()


def test_a_photo_with_too_many_pixels_is_refused_before_it_is_decoded(project, staff, media, settings):
    """13000 × 13000 pixels in a 20 KB PNG (2 GB once decoded as RGB) is refused from its header."""
    settings.IMAGE_MAX_PIXELS = 50_000_000
    report = save(project, staff, "100.00")
    upload = SimpleUploadedFile("site.png", hostile.png(13_000, 13_000), content_type="image/png")
    assert upload.size < 50_000
    with pytest.raises(ValidationError) as refused, translation.override("zh-hans"):
        with pytest.warns(Image.DecompressionBombWarning):  # Pillow only warns, below 179 megapixels
            services.photo_add(report=report, user=staff, upload=upload)
    assert refused.value.message_dict["image"] == [
        "照片为 13000 × 13000 像素，超过了 50 百万像素的上限：请缩小后重试。"
    ]
    assert not ProgressPhoto.objects.exists()
    assert not any(media.rglob("*.*"))


def test_a_photo_is_stored_upright_downscaled_and_without_its_exif(project, staff, media, settings):
    """Orientation 6 (the camera held turned right): 300 × 200 as stored by the camera, shown
    200 × 300 with the red left half on top. Kept at most 150 px on its longer side: 100 × 150."""
    settings.PHOTO_MAX_SIDE = 150
    report = save(project, staff, "100.00")
    upload = SimpleUploadedFile(
        "site.jpg", hostile.jpeg((300, 200), orientation=6), content_type="image/jpeg"
    )

    photo = services.photo_add(report=report, user=staff, upload=upload)

    with Image.open(photo.image.path) as stored:
        assert stored.format == "JPEG" and stored.size == (100, 150)
        assert 0x0112 not in stored.getexif() and 0x8825 not in stored.getexif()
        red, green, blue = stored.convert("RGB").getpixel((50, 20))
        assert red > 150 and green < 120 and blue < 120  # the red half is on top
        assert stored.convert("RGB").getpixel((50, 130)) > (230, 230, 230)
    with Image.open(photo.thumbnail.path) as thumb:
        assert thumb.size == (100, 150)


def test_a_small_photo_keeps_its_size_and_format(project, staff, media):
    report = save(project, staff, "100.00")
    photo = services.photo_add(report=report, user=staff, upload=image_upload("site.png", (120, 80), "PNG"))
    assert photo.image.name.endswith(".png")
    with Image.open(photo.image.path) as stored:
        assert stored.format == "PNG" and stored.size == (120, 80)


def test_no_photos_on_an_approved_report(project, staff, media):
    report = MonthlyProgressFactory(project=project, status=ProgressStatus.APPROVED)
    with pytest.raises(ValidationError):
        services.photo_add(report=report, user=staff, upload=image_upload())
    assert not ProgressPhoto.objects.exists()


def photo_on(report, staff):
    """A photo of ``report``, whatever its status (the row only: the files are not needed here)."""
    photo = report.photos.create(
        image="progress/site.jpg", thumbnail="progress/site-t.jpg", uploaded_by=staff
    )
    return ProgressPhoto.objects.select_related("report__project").get(pk=photo.pk)


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (ProgressStatus.DRAFT, True),
        (ProgressStatus.RETURNED, True),
        (ProgressStatus.SUBMITTED, True),  # photos may still come while the figure waits for review
        (ProgressStatus.APPROVED, False),
    ],
)
def test_deleting_a_photo_as_the_permission_says(project, staff, media, status, allowed):
    photo = photo_on(MonthlyProgressFactory(project=project, year=2023, month=3, status=status), staff)

    assert permissions.can_change_photos(staff, photo.report) is allowed
    if allowed:
        services.photo_delete(photo=photo, user=staff)
        assert not ProgressPhoto.objects.exists()
    else:
        with pytest.raises(ValidationError) as refused:
            services.photo_delete(photo=photo, user=staff)
        assert refused.value.code == "locked"
        assert refused.value.message == "2023-03 月报已审核并锁定，需由审核员重新打开后才能修改。"
        assert ProgressPhoto.objects.filter(pk=photo.pk).exists()


def test_photos_of_a_published_month_are_locked_even_on_a_draft(project, staff, media):
    photo = photo_on(
        MonthlyProgressFactory(project=project, year=2023, month=3, status=ProgressStatus.DRAFT), staff
    )
    MonthPublication.objects.create(year=2023, month=3, is_published=True)

    assert permissions.can_change_photos(staff, photo.report) is False
    with pytest.raises(ValidationError) as refused:
        services.photo_delete(photo=photo, user=staff)
    assert refused.value.code == "published"
    with pytest.raises(ValidationError):
        services.photo_add(report=photo.report, user=staff, upload=image_upload())
    assert ProgressPhoto.objects.count() == 1


def test_only_who_may_change_the_project_changes_its_photos(project, staff, reviewer, media):
    photo = photo_on(
        MonthlyProgressFactory(project=project, year=2023, month=3, status=ProgressStatus.DRAFT), staff
    )
    outsider = UserFactory(username="li", roles=[Role.STAFF])

    for user in (outsider, reviewer):
        assert permissions.can_change_photos(user, photo.report) is False
        with pytest.raises(PermissionDenied):
            services.photo_delete(photo=photo, user=user)
    assert ProgressPhoto.objects.filter(pk=photo.pk).exists()
    assert permissions.can_change_photos(staff, None) is False  # no report yet: nothing to attach to


def test_review_and_photos_refuse_a_report_changed_since_it_was_read(project, staff, reviewer, tmp_path):
    report = services.progress_save(
        project=project,
        year=2024,
        month=3,
        user=staff,
        data={"completed_investment": Decimal("500")},
        submit=True,
    )
    read = report.version
    # One reviewer returns the report as read; a second, still holding that version, cannot approve it.
    services.progress_return(report=report, user=reviewer, reason="数据有误", expected_version=read)
    with pytest.raises(services.StaleVersion):
        services.progress_approve(report=report, user=reviewer, expected_version=read)
    report.refresh_from_db()
    assert report.status == ProgressStatus.RETURNED and report.version == read + 1

    with override_settings(MEDIA_ROOT=tmp_path), pytest.raises(services.StaleVersion):
        services.photo_add(report=report, user=staff, upload=image_upload(), expected_version=read)
    assert not ProgressPhoto.objects.exists()


# --- Sanity checks of the figure (projects.checks) --------------------------------------------------


@pytest.fixture
def planned(staff):
    """The issue's project: 30,000 万元 in all; 12,000 planned for 2023; 2,000 reported for January."""
    project = ProjectFactory(
        name="天子铝业新能源汽车配套零部件", staff_in_charge=staff, total_investment="30000"
    )
    AnnualPlanFactory(project=project, year=2023, planned_investment=Decimal("12000"))
    MonthlyProgressFactory(project=project, year=2023, month=1, completed_investment=Decimal("2000"))
    return project


def test_the_issues_figure_is_refused_even_confirmed(planned, staff):
    for confirmed in (False, True):
        with pytest.raises(ValidationError) as refused:
            save(planned, staff, "99999999999", confirm_warnings=confirmed)
        assert not isinstance(refused.value, services.NeedsConfirmation)
        assert "十倍" in refused.value.message_dict["completed_investment"][0]
    assert not MonthlyProgress.objects.filter(month=3).exists()


def test_a_figure_with_warnings_is_held_back_then_saved_once_confirmed(planned, staff):
    # 2,000 + 28,500 = 30,500: above the total (30,000) and the year's plan (12,000).
    with pytest.raises(services.NeedsConfirmation) as held:
        save(planned, staff, "28500.00", submit=True)
    assert [w.code for w in held.value.warnings] == [FigureCheck.ABOVE_TOTAL, FigureCheck.ABOVE_PLAN]
    assert held.value.warnings[0].message == (
        "累计完成投资将达到 30,500.00 万元，超过项目总投资（30,000.00 万元）。"
    )
    assert not MonthlyProgress.objects.filter(month=3).exists()

    report = save(planned, staff, "28500.00", submit=True, confirm_warnings=True)

    assert (report.completed_investment, report.status) == (Decimal("28500.00"), ProgressStatus.SUBMITTED)
    record = report.history.get()
    assert (record.history_user, record.history_change_reason) == (
        staff,
        "经用户核实确认保存：累计完成投资超过总投资、超过本年度计划投资",
    )


def test_a_confirmed_figure_is_not_asked_again_when_only_the_text_changes(planned, staff):
    report = save(planned, staff, "28500.00", confirm_warnings=True)
    save(planned, staff, "28500.00", physical_progress="设备调试", version=report.version)
    latest = MonthlyProgress.objects.get(month=3).history.first()
    assert (latest.physical_progress, latest.history_change_reason) == ("设备调试", None)
    with pytest.raises(services.NeedsConfirmation):
        save(planned, staff, "28600.00", version=report.version + 1)


def test_a_figure_without_warnings_keeps_a_plain_history(planned, staff):
    report = save(planned, staff, "800.00", confirm_warnings=True)  # nothing to confirm
    assert report.history.get().history_change_reason is None


def test_create_checks_the_figure_as_save_does(planned, staff):
    def create(**extra):
        return services.progress_create(
            project=planned,
            year=2023,
            month=2,
            user=staff,
            data={"completed_investment": Decimal("10500.00")},
            **extra,
        )

    # 2,000 + 10,500 = 12,500 for months 1–2: above the year's plan of 12,000.
    with pytest.raises(services.NeedsConfirmation) as held:
        create()
    assert [w.code for w in held.value.warnings] == [FigureCheck.ABOVE_PLAN]
    assert create(confirm_warnings=True).history.get().history_change_reason == (
        "经用户核实确认保存：超过本年度计划投资"
    )


def test_grid_rows_with_warnings_hold_back_the_whole_grid(planned, staff):
    other = ProjectFactory(staff_in_charge=staff)
    rows = [
        services.GridRow(project=other, data={"completed_investment": Decimal("10.00")}),
        services.GridRow(project=planned, data={"completed_investment": Decimal("10500.00")}),
    ]
    with pytest.raises(services.GridErrors) as refused:
        services.progress_save_many(rows=rows, year=2023, month=2, user=staff)
    assert refused.value.errors == {}
    assert {i: [w.code for w in ws] for i, ws in refused.value.warnings.items()} == {
        1: [FigureCheck.ABOVE_PLAN]
    }
    assert not MonthlyProgress.objects.filter(month=2).exists()

    rows[1].confirm_warnings = True
    services.progress_save_many(rows=rows, year=2023, month=2, user=staff)

    reasons = dict(MonthlyProgress.history.filter(month=2).values_list("project_id", "history_change_reason"))
    assert reasons == {other.pk: None, planned.pk: "经用户核实确认保存：超过本年度计划投资"}


def test_grid_refusals_and_errors_are_reported_together(planned, staff):
    not_mine = ProjectFactory()
    rows = [
        services.GridRow(project=planned, data={"completed_investment": Decimal("99999999999")}),
        services.GridRow(project=not_mine, data={"completed_investment": Decimal("10.00")}),
    ]
    with pytest.raises(services.GridErrors) as refused:
        services.progress_save_many(rows=rows, year=2023, month=2, user=staff)
    assert sorted(refused.value.errors) == [0, 1]
    assert "completed_investment" in refused.value.errors[0].message_dict


def test_grid_checks_every_row_in_one_query(staff):
    """However many rows, the figures' history is read in one grouped query (and the plans in one)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def aggregations(count):
        projects = [ProjectFactory(staff_in_charge=staff) for _ in range(count)]
        rows = [services.GridRow(project=p, data={"completed_investment": Decimal("1")}) for p in projects]
        with CaptureQueriesContext(connection) as queries:
            services.progress_save_many(rows=rows, year=2023, month=6, user=staff)
        return sum(1 for q in queries.captured_queries if "AVG(" in q["sql"].upper())

    assert aggregations(2) == aggregations(20) == 1
