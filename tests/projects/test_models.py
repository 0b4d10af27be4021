"""The registry's rules hold in the model and, underneath, in the database."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from projects.choices import MilestoneKind, MilestoneStatus, Stage
from projects.models import AnnualPlan, ApprovalMilestone, MonthlyProgress, StageChange
from tests.factories import (
    AnnualPlanFactory,
    ApprovalMilestoneFactory,
    MonthlyProgressFactory,
    ProjectFactory,
)

D = Decimal


def assert_refused_everywhere(obj, field=None):
    """Model validation refuses it, and so does the database if validation is skipped."""
    with pytest.raises(ValidationError) as error:
        obj.full_clean()
    if field:
        assert field in error.value.message_dict, error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        obj.save()


class TestProject:
    def test_negative_total_investment(self, db):
        assert_refused_everywhere(
            ProjectFactory.build(total_investment=D("-0.01"), enterprise=None, park=None, industry=None),
            "total_investment",
        )

    def test_land_area_must_be_positive(self, db):
        assert_refused_everywhere(
            ProjectFactory.build(land_area=D("0"), enterprise=None, park=None, industry=None), "land_area"
        )

    def test_land_area_may_be_unknown(self, db):
        ProjectFactory.build(land_area=None, enterprise=None, park=None, industry=None).full_clean()

    def test_planned_completion_after_start(self, db):
        project = ProjectFactory.build(
            enterprise=None,
            park=None,
            industry=None,
            planned_start=datetime.date(2023, 5, 1),
            planned_completion=datetime.date(2023, 4, 1),
        )
        assert_refused_everywhere(project)

    def test_investment_per_mu(self, db):
        project = ProjectFactory.build(total_investment=D("30000.00"), land_area=D("120.00"))
        assert project.investment_per_mu == D("250.00")


class TestAnnualPlan:
    def test_one_plan_per_project_and_year(self, db):
        plan = AnnualPlanFactory(year=2023)
        assert_refused_everywhere(AnnualPlan(project=plan.project, year=2023, planned_investment=D("1.00")))

    def test_negative_plan(self, db):
        assert_refused_everywhere(
            AnnualPlan(project=ProjectFactory(), year=2023, planned_investment=D("-5.00")),
            "planned_investment",
        )


class TestMonthlyProgress:
    def test_duplicate_month(self, db):
        report = MonthlyProgressFactory(year=2023, month=3)
        duplicate = MonthlyProgress(project=report.project, year=2023, month=3)
        with pytest.raises(ValidationError) as error:
            duplicate.full_clean()
        assert error.value.messages
        with pytest.raises(IntegrityError), transaction.atomic():
            duplicate.save()

    @pytest.mark.parametrize("month", [0, 13])
    def test_month_out_of_range(self, db, month):
        assert_refused_everywhere(MonthlyProgress(project=ProjectFactory(), year=2023, month=month), "month")

    def test_negative_completed_investment(self, db):
        assert_refused_everywhere(
            MonthlyProgress(project=ProjectFactory(), year=2023, month=1, completed_investment=D("-1.00")),
            "completed_investment",
        )

    def test_the_same_month_of_another_year_is_fine(self, db):
        report = MonthlyProgressFactory(year=2023, month=3)
        MonthlyProgress(project=report.project, year=2022, month=3).full_clean()


class TestApprovalMilestone:
    def test_only_construction_permit_has_phases(self, db):
        project = ProjectFactory()
        assert_refused_everywhere(ApprovalMilestone(project=project, kind=MilestoneKind.ENVIRONMENT, phase=2))
        for phase in (1, 2, 3):
            ApprovalMilestoneFactory(project=project, kind=MilestoneKind.CONSTRUCTION_PERMIT, phase=phase)
        assert_refused_everywhere(
            ApprovalMilestone(project=project, kind=MilestoneKind.CONSTRUCTION_PERMIT, phase=4), "phase"
        )

    def test_same_procedure_twice(self, db):
        milestone = ApprovalMilestoneFactory(kind=MilestoneKind.ENERGY)
        assert_refused_everywhere(ApprovalMilestone(project=milestone.project, kind=MilestoneKind.ENERGY))

    def test_done_needs_a_date(self, db):
        assert_refused_everywhere(
            ApprovalMilestone(
                project=ProjectFactory(), kind=MilestoneKind.ENERGY, status=MilestoneStatus.DONE
            )
        )


class TestStageChangeConstraint:
    def test_database_refuses_backwards_change_without_reason(self, db):
        project = ProjectFactory(stage=Stage.STARTED)
        change = StageChange(
            project=project,
            from_stage=Stage.STARTED,
            to_stage=Stage.LANDED,
            changed_on=datetime.date(2023, 3, 1),
        )
        assert_refused_everywhere(change)

    def test_forward_change_needs_no_reason(self, db):
        project = ProjectFactory(stage=Stage.LANDED)
        StageChange(
            project=project,
            from_stage=Stage.LANDED,
            to_stage=Stage.STARTED,
            changed_on=datetime.date(2023, 3, 1),
        ).full_clean()


class TestAddedRules:
    def test_project_names_without_a_builder_are_unique(self, db):
        ProjectFactory(name="东城便民服务中心", enterprise=None)
        assert_refused_everywhere(
            ProjectFactory.build(name="东城便民服务中心", enterprise=None, park=None, industry=None)
        )

    def test_completion_date_only_when_done(self, db):
        assert_refused_everywhere(
            ApprovalMilestone(
                project=ProjectFactory(),
                kind=MilestoneKind.ENERGY,
                status=MilestoneStatus.IN_PROGRESS,
                completed_date=datetime.date(2023, 3, 1),
            )
        )

    def test_no_report_for_a_month_that_has_not_begun(self, db):
        from django.utils import timezone

        today = timezone.localdate()
        next_month = (today.year + today.month // 12, today.month % 12 + 1)
        report = MonthlyProgress(project=ProjectFactory(), year=next_month[0], month=next_month[1])
        with pytest.raises(ValidationError) as error:
            report.full_clean()
        assert "month" in error.value.message_dict
        MonthlyProgress(project=report.project, year=today.year, month=today.month).full_clean()
