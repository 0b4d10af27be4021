"""The report arithmetic, checked against numbers worked out by hand."""

from decimal import Decimal

import pytest

from projects import figures
from projects.choices import BatchRole, MilestoneStatus, ProgressStatus, Stage
from projects.models import ApprovalMilestone, BatchMembership, Project
from tests.factories import (
    AnnualPlanFactory,
    ApprovalMilestoneFactory,
    BatchFactory,
    BatchMembershipFactory,
    MonthlyProgressFactory,
    ProjectFactory,
)

D = Decimal


class TestPureFormulas:
    def test_schedule_progress_is_months_over_twelve(self):
        assert figures.schedule_progress(3) == D("0.2500")
        assert figures.schedule_progress(1) == D("0.0833")
        assert figures.schedule_progress(10) == D("0.8333")
        assert figures.schedule_progress(12) == D("1.0000")

    @pytest.mark.parametrize("month", [0, 13, -1])
    def test_schedule_progress_rejects_impossible_months(self, month):
        with pytest.raises(ValueError):
            figures.schedule_progress(month)

    def test_seed_march_report_shape(self):
        # Seed 001: 550亿 completed by March = 31.1% of the annual target,
        # 6 points above the time schedule. 550 / 0.311 ≈ 1768.49亿 planned.
        completed, planned = D("5500000.00"), D("17684900.00")
        assert figures.completion_rate(completed, planned) == D("0.3110")
        assert figures.schedule_progress(3) == D("0.2500")
        # 550 / 1768.49 = 0.311005…; minus 0.25 is 6.1005… points.
        assert figures.gap_points(completed, planned, 3) == D("6.10")
        assert figures.is_lagging(completed, planned, 3) is False
        assert figures.lag_colour(D("6.10")) == "green"

    def test_seed_2022_figure(self):
        # Seed 001: 1546.18亿 completed = 109.42% of the 2022 plan (≈1413.07亿).
        assert figures.completion_rate(D("15461800.00"), D("14130700.00")) == D("1.0942")
        assert figures.to_yi(D("15461800.00")) == D("1546.18")

    def test_no_plan_gives_no_rate_and_never_lags(self):
        assert figures.completion_rate(D("100"), None) is None
        assert figures.completion_rate(D("100"), D("0")) is None
        assert figures.gap_points(D("100"), None, 6) is None
        assert figures.is_lagging(D("0"), None, 12) is False
        assert figures.lag_colour(None) is None

    def test_lagging_is_strictly_below_schedule(self):
        # 300 of 1200 by March is exactly 25%: on schedule, not lagging.
        assert figures.is_lagging(D("300"), D("1200"), 3) is False
        assert figures.is_lagging(D("299.99"), D("1200"), 3) is True
        assert figures.gap_points(D("299.99"), D("1200"), 3) == D("0.00")

    @pytest.mark.parametrize(
        ("points", "colour"),
        [
            (D("5.00"), "green"),
            (D("-9.99"), "green"),
            (D("-10.00"), "yellow"),
            (D("-30.00"), "yellow"),
            (D("-30.01"), "red"),
        ],
    )
    def test_lag_colour_bands(self, points, colour):
        assert figures.lag_colour(points) == colour

    def test_investment_per_mu(self):
        # 20亿 on 300亩: 200000 / 300 = 666.666… → 666.67 万元/亩.
        assert figures.investment_per_mu(D("200000.00"), D("300")) == D("666.67")
        assert figures.investment_per_mu(D("200000.00"), None) is None

    def test_rate_of_counts(self):
        # Seed 000: 50 of 51 problems solved = 98.04%.
        assert figures.rate_of(50, 51) == D("0.9804")
        assert figures.rate_of(0, 0) is None


@pytest.fixture
def march_world(db):
    """Five projects worked out by hand for a March 2023 report.

    A: plan 1200, approved 100+100+100 = 300 → 25.00%, on schedule.
    B: plan 1000, approved 50+50, March 100 only submitted → 10.00%, lagging.
    C: plan 800, approved 400 → 50.00%, ahead.
    D: no 2023 plan, approved 70 → out-of-plan investment.
    E: only a 2022 plan and 2022 progress → nothing in 2023.
    """
    a, b, c, d, e = (
        ProjectFactory(name=name, total_investment=total)
        for name, total in [
            ("A", D("10000.00")),
            ("B", D("20000.00")),
            ("C", D("5000.00")),
            ("D", D("3000.00")),
            ("E", D("2000.00")),
        ]
    )
    AnnualPlanFactory(project=a, year=2023, planned_investment=D("1200.00"))
    AnnualPlanFactory(project=b, year=2023, planned_investment=D("1000.00"))
    AnnualPlanFactory(project=c, year=2023, planned_investment=D("800.00"))
    AnnualPlanFactory(project=e, year=2022, planned_investment=D("900.00"))
    for month in (1, 2, 3):
        MonthlyProgressFactory(project=a, month=month, completed_investment=D("100.00"))
    MonthlyProgressFactory(project=b, month=1, completed_investment=D("50.00"))
    MonthlyProgressFactory(project=b, month=2, completed_investment=D("50.00"))
    MonthlyProgressFactory(
        project=b, month=3, completed_investment=D("100.00"), status=ProgressStatus.SUBMITTED
    )
    MonthlyProgressFactory(project=c, month=1, completed_investment=D("400.00"))
    # April is after the reporting month and must not count.
    MonthlyProgressFactory(project=c, month=4, completed_investment=D("999.00"))
    MonthlyProgressFactory(project=d, month=1, completed_investment=D("70.00"))
    MonthlyProgressFactory(project=e, year=2022, month=5, completed_investment=D("500.00"))
    # A draft and a returned report never count.
    MonthlyProgressFactory(project=c, month=2, completed_investment=D("1.00"), status=ProgressStatus.DRAFT)
    MonthlyProgressFactory(project=c, month=3, completed_investment=D("2.00"), status=ProgressStatus.RETURNED)
    return {"A": a, "B": b, "C": c, "D": d, "E": e}


class TestDatabaseFigures:
    def test_annotations_per_project(self, march_world):
        rows = {p.name: p for p in figures.annotate_year_figures(Project.objects.all(), year=2023, month=3)}
        assert rows["A"].planned_investment == D("1200.00")
        assert rows["A"].ytd_completed == D("300.00")
        assert rows["A"].month_completed == D("100.00")
        assert rows["B"].ytd_completed == D("100.00")
        assert rows["B"].month_completed == D("0.00")
        assert rows["C"].ytd_completed == D("400.00")
        assert rows["D"].planned_investment is None
        assert rows["D"].ytd_completed == D("70.00")
        assert rows["E"].planned_investment is None
        assert rows["E"].ytd_completed == D("0.00")
        assert {name for name, row in rows.items() if row.is_lagging} == {"B"}

    def test_rollup_of_approved_figures(self, march_world, django_assert_num_queries):
        # The data version (core.caching) and the rollup itself.
        with django_assert_num_queries(2):
            result = figures.rollup(Project.objects.all(), year=2023, month=3)
        assert result.project_count == 5
        assert result.total_investment == D("40000.00")
        assert result.roster_count == 3
        assert result.planned_investment == D("3000.00")
        assert result.completed_investment == D("800.00")  # 300 + 100 + 400
        assert result.unplanned_completed_investment == D("70.00")
        assert result.completion_rate == D("0.2667")  # 800 / 3000
        assert result.schedule_progress == D("0.2500")
        assert result.gap_points == D("1.67")  # 26.666… − 25
        assert result.lagging_count == 1  # B only; A is exactly on schedule

    def test_rollup_including_submitted(self, march_world):
        result = figures.rollup(Project.objects.all(), year=2023, month=3, include_submitted=True)
        assert result.completed_investment == D("900.00")
        assert result.completion_rate == D("0.3000")
        assert result.gap_points == D("5.00")
        assert result.lagging_count == 1  # B: 200 of 1000 is still below 25%

    def test_rollup_of_a_filtered_set(self, march_world):
        result = figures.rollup(Project.objects.filter(name__in=["A", "B"]), year=2023, month=2)
        # February: A 200 of 1200 (16.67%), B 100 of 1000 (10%); schedule 16.67%.
        assert result.planned_investment == D("2200.00")
        assert result.completed_investment == D("300.00")
        assert result.completion_rate == D("0.1364")
        assert result.lagging_count == 1

    def test_lagging_projects(self, march_world):
        names = set(
            figures.lagging_projects(Project.objects.all(), year=2023, month=3).values_list("name", flat=True)
        )
        assert names == {"B"}

    def test_empty_set(self, db):
        result = figures.rollup(Project.objects.all(), year=2023, month=3)
        assert result.project_count == 0
        assert result.planned_investment == D("0.00")
        assert result.completion_rate is None
        assert result.lagging_count == 0

    def test_exact_tie_is_not_lagging_despite_floating_point(self, db):
        # 0.01 + 0.01 + 0.12 = 0.14 of a 0.56 plan is exactly 25% in March;
        # summed as binary floats (SQLite) it comes out a hair below.
        project = ProjectFactory()
        AnnualPlanFactory(project=project, planned_investment=D("0.56"))
        for month, amount in [(1, "0.01"), (2, "0.01"), (3, "0.12")]:
            MonthlyProgressFactory(project=project, month=month, completed_investment=D(amount))
        result = figures.rollup(Project.objects.all(), year=2023, month=3)
        assert result.completed_investment == D("0.14")
        assert result.lagging_count == 0
        assert result.is_lagging is False


class TestBatchRates:
    def test_rates_by_role(self, db):
        batch = BatchFactory(number=7)
        for stage in [Stage.STARTED, Stage.UNDER_CONSTRUCTION, Stage.LANDED, Stage.SIGNED]:
            BatchMembershipFactory(batch=batch, role=BatchRole.START, project=ProjectFactory(stage=stage))
        for stage in [Stage.IN_PRODUCTION, Stage.AT_CAPACITY, Stage.UNDER_CONSTRUCTION]:
            BatchMembershipFactory(batch=batch, role=BatchRole.PRODUCE, project=ProjectFactory(stage=stage))
        BatchMembershipFactory(batch=batch, role=BatchRole.SIGN, project=ProjectFactory(stage=Stage.RESERVE))

        rates = figures.batch_rates(BatchMembership.objects.all())

        assert (rates["start_rate"].achieved, rates["start_rate"].total) == (2, 4)
        assert rates["start_rate"].rate == D("0.5000")
        assert (rates["production_rate"].achieved, rates["production_rate"].total) == (2, 3)
        assert rates["production_rate"].rate == D("0.6667")
        assert rates["capacity_rate"].rate == D("0.3333")
        assert rates["signing_rate"].rate == D("0.0000")

    def test_seed_002_all_rates_full(self, db):
        # Seed 002: the 36 projects of the first six batches all started,
        # went into production and reached capacity: every rate 100%.
        batches = [BatchFactory(number=n) for n in range(1, 7)]
        roles = [BatchRole.START, BatchRole.PRODUCE]
        for i in range(36):
            BatchMembershipFactory(
                batch=batches[i % 6], role=roles[i % 2], project=ProjectFactory(stage=Stage.AT_CAPACITY)
            )
        rates = figures.batch_rates(BatchMembership.objects.filter(batch__number__lte=6))
        assert rates["start_rate"].total + rates["production_rate"].total == 36
        for name in ("start_rate", "production_rate", "capacity_rate"):
            assert rates[name].rate == D("1.0000")
        assert rates["signing_rate"].rate is None


class TestMilestoneFigures:
    def test_completion_rate_leaves_out_not_applicable(self, db):
        project = ProjectFactory()
        kinds = iter(
            [
                "filing",
                "land_preapproval",
                "land_use_planning",
                "land_title",
                "environment",
                "energy",
                "works_planning",
            ]
        )
        for status in [MilestoneStatus.DONE] * 3 + [
            MilestoneStatus.IN_PROGRESS,
            MilestoneStatus.NOT_STARTED,
            MilestoneStatus.NOT_APPLICABLE,
            MilestoneStatus.NOT_APPLICABLE,
        ]:
            ApprovalMilestoneFactory(
                project=project,
                kind=next(kinds),
                status=status,
                completed_date="2023-03-01" if status == MilestoneStatus.DONE else None,
            )
        result = figures.milestone_completion(ApprovalMilestone.objects.all())
        assert (result.achieved, result.total) == (3, 5)
        assert result.rate == D("0.6000")

    def test_overdue(self, db):
        import datetime

        project = ProjectFactory()
        late = ApprovalMilestoneFactory(
            project=project, kind="filing", planned_date=datetime.date(2023, 3, 1)
        )
        ApprovalMilestoneFactory(
            project=project,
            kind="energy",
            planned_date=datetime.date(2023, 3, 1),
            status=MilestoneStatus.DONE,
            completed_date=datetime.date(2023, 3, 5),
        )
        ApprovalMilestoneFactory(project=project, kind="environment", planned_date=datetime.date(2023, 5, 1))
        overdue = figures.overdue_milestones(ApprovalMilestone.objects.all(), today=datetime.date(2023, 4, 1))
        assert list(overdue) == [late]
