import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.roles import Role
from projects import services
from projects.choices import Level, Stage
from projects.models import Batch, Project, StageChange
from tests.factories import EnterpriseFactory, ParkFactory, UserFactory


@pytest.fixture
def staff(db):  # an administrator: these tests are about the rules, not the scope
    return UserFactory(username="zhuanyuan", roles=[Role.ADMIN])


@pytest.fixture
def project(staff):
    return services.project_create(
        user=staff,
        data={
            "name": "益海特油项目",
            "enterprise": EnterpriseFactory(),
            "total_investment": Decimal("30000.00"),
        },
        stage=Stage.SIGNED,
        stage_changed_on=datetime.date(2022, 1, 10),
    )


class TestProjectCreate:
    def test_records_the_starting_stage(self, project, staff):
        change = StageChange.objects.get(project=project)
        assert (change.from_stage, change.to_stage) == (None, Stage.SIGNED)
        assert change.changed_on == datetime.date(2022, 1, 10)
        assert change.changed_by == staff

    def test_invalid_data_creates_nothing(self, staff):
        with pytest.raises(ValidationError) as error:
            services.project_create(
                user=staff, data={"name": "坏项目", "total_investment": Decimal("-1")}, stage=Stage.PLANNING
            )
        assert "total_investment" in error.value.message_dict
        assert not Project.objects.exists()
        assert not StageChange.objects.exists()

    def test_stage_cannot_be_smuggled_in_data(self, staff):
        with pytest.raises(ValueError):
            services.project_create(
                user=staff, data={"name": "x", "stage": Stage.STARTED}, stage=Stage.PLANNING
            )


class TestStageChanges:
    def test_forward(self, project, staff):
        services.project_change_stage(
            project=project, user=staff, stage=Stage.STARTED, changed_on=datetime.date(2022, 3, 1)
        )
        project.refresh_from_db()
        assert project.stage == Stage.STARTED
        latest = StageChange.objects.filter(project=project).latest()
        assert (latest.from_stage, latest.to_stage, latest.reason) == (Stage.SIGNED, Stage.STARTED, "")

    def test_backwards_without_reason_is_refused_and_changes_nothing(self, project, staff):
        with pytest.raises(ValidationError) as error:
            services.project_change_stage(project=project, user=staff, stage=Stage.RESERVE, reason="  ")
        assert "reason" in error.value.message_dict
        project.refresh_from_db()
        assert project.stage == Stage.SIGNED
        assert StageChange.objects.filter(project=project).count() == 1

    def test_backwards_with_reason(self, project, staff):
        services.project_change_stage(
            project=project, user=staff, stage=Stage.RESERVE, reason="签约主体变更，重新洽谈"
        )
        project.refresh_from_db()
        assert project.stage == Stage.RESERVE
        assert StageChange.objects.filter(project=project).latest().reason == "签约主体变更，重新洽谈"

    def test_same_stage_is_refused(self, project, staff):
        with pytest.raises(ValidationError):
            services.project_change_stage(project=project, user=staff, stage=Stage.SIGNED)


class TestProjectUpdate:
    def test_updates_fields_and_moves_stage_together(self, project, staff):
        park = ParkFactory(name="健康食品产业园")
        services.project_update(
            project=project,
            user=staff,
            data={"park": park, "level": Level.MUNICIPAL},
            stage=Stage.LANDED,
            stage_changed_on=datetime.date(2022, 2, 1),
        )
        project.refresh_from_db()
        assert (project.park, project.level, project.stage) == (park, Level.MUNICIPAL, Stage.LANDED)
        assert StageChange.objects.filter(project=project).count() == 2

    def test_the_callers_project_shows_the_new_related_objects(self, project, staff):
        old_park = ParkFactory(name="金属新材料产业园")
        project.park = old_park
        project.save()
        loaded = Project.objects.select_related("park").get(pk=project.pk)
        assert loaded.park == old_park
        new_park = ParkFactory(name="健康食品产业园")

        services.project_update(project=loaded, user=staff, data={"park": new_park})

        assert loaded.park == new_park  # not the park loaded before the change

    def test_a_refused_stage_change_rolls_back_the_field_changes(self, project, staff):
        with pytest.raises(ValidationError):
            services.project_update(
                project=Project.objects.get(pk=project.pk),
                user=staff,
                data={"level": Level.PROVINCIAL},
                stage=Stage.PLANNING,
            )
        project.refresh_from_db()
        assert project.level == Level.ORDINARY
        assert project.stage == Stage.SIGNED

    def test_history_records_who(self, project, staff):
        services.project_update(project=project, user=staff, data={"level": Level.ZONE})
        assert project.history.count() == 2
        latest = project.history.first()
        assert (latest.level, latest.history_user) == (Level.ZONE, staff)


class TestStageDates:
    def test_not_in_the_future(self, project, staff):
        from django.utils import timezone

        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        with pytest.raises(ValidationError) as error:
            services.project_change_stage(
                project=project, user=staff, stage=Stage.LANDED, changed_on=tomorrow
            )
        assert "changed_on" in error.value.message_dict
        with pytest.raises(ValidationError):
            services.project_create(
                user=staff, data={"name": "未来项目"}, stage=Stage.PLANNING, stage_changed_on=tomorrow
            )
        assert not Project.objects.filter(name="未来项目").exists()

    def test_not_before_the_previous_change(self, project, staff):
        # The project was created at 签约 on 2022-01-10.
        with pytest.raises(ValidationError) as error:
            services.project_change_stage(
                project=project, user=staff, stage=Stage.LANDED, changed_on=datetime.date(2021, 12, 31)
            )
        assert "2022-01-10" in error.value.message_dict["changed_on"][0]
        services.project_change_stage(
            project=project, user=staff, stage=Stage.LANDED, changed_on=datetime.date(2022, 1, 10)
        )


@pytest.mark.django_db
def test_a_batch_created_outside_a_request_names_its_creator_in_the_history():
    """Like every creating service, batch_create says who (an import or a script has no request
    for the history's middleware to read the user from)."""
    admin = UserFactory(username="guanliyuan", roles=[Role.ADMIN])
    batch = services.batch_create(user=admin, data={"number": 7, "announced_on": datetime.date(2024, 3, 1)})
    created = batch.history.get()
    assert (created.history_type, created.history_user, created.number) == ("+", admin, 7)
    staff = UserFactory(username="zhuanyuan", roles=[Role.STAFF])
    with pytest.raises(PermissionDenied):
        services.batch_create(user=staff, data={"number": 8})
    assert not Batch.objects.filter(number=8).exists()


@pytest.mark.django_db
def test_a_month_created_by_another_session_after_the_look_up_is_refused_as_stale():
    """progress_save looks the month's report up, finds none, and checks the new one whole. If
    another session created it in between, that check fails on the unique month: the answer is
    the "reload" of a stale form (the two-session race in tests/security/test_concurrency.py),
    while a new report wrong for any other reason keeps its own message."""
    from core.locking import StaleVersion
    from projects.models import MonthlyProgress
    from projects.services import _clean_new
    from tests.factories import MonthlyProgressFactory

    theirs = MonthlyProgressFactory(year=2024, month=3)
    same = MonthlyProgress.objects.filter(project=theirs.project, year=2024, month=3)
    ours = MonthlyProgress(project=theirs.project, year=2024, month=3, completed_investment=Decimal("5"))
    with pytest.raises(StaleVersion) as refused:
        _clean_new(ours, same)
    assert refused.value.code == "stale"
    other_month = MonthlyProgress(
        project=theirs.project, year=2024, month=13, completed_investment=Decimal("5")
    )
    with pytest.raises(ValidationError) as wrong:
        _clean_new(other_month, MonthlyProgress.objects.filter(project=theirs.project, year=2024, month=13))
    assert not isinstance(wrong.value, StaleVersion) and "month" in wrong.value.message_dict
    assert MonthlyProgress.objects.filter(project=theirs.project).count() == 1
