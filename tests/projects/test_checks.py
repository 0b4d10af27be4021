"""The sanity checks of a month's completed investment (projects.checks), with the numbers worked out
by hand. The project: 30,000 万元 in all, 12,000 planned for 2023."""

from decimal import Decimal

import pytest
from django.utils import translation

from projects import checks
from projects.choices import FigureCheck, ProgressStatus
from tests.factories import AnnualPlanFactory, MonthlyProgressFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def project():
    project = ProjectFactory(name="益海特油项目", total_investment=Decimal("30000.00"))
    AnnualPlanFactory(project=project, year=2023, planned_investment=Decimal("12000.00"))
    return project


def report(project, year, month, amount, status=ProgressStatus.APPROVED):
    return MonthlyProgressFactory(
        project=project, year=year, month=month, completed_investment=Decimal(amount), status=status
    )


@pytest.fixture
def history(project):
    """Earlier figures in every status: 2022 5,000 + 3,000; 2023 1,000 + 2,000; a later month 500."""
    report(project, 2022, 11, "5000.00")
    report(project, 2022, 12, "3000.00", ProgressStatus.DRAFT)
    report(project, 2023, 1, "1000.00", ProgressStatus.SUBMITTED)
    report(project, 2023, 2, "2000.00", ProgressStatus.RETURNED)
    report(project, 2023, 5, "500.00")


def check(project, amount, *, year=2023, month=3):
    return checks.check_figure(project=project, year=year, month=month, amount=Decimal(amount))


def codes(verdict):
    return [warning.code for warning in verdict.warnings]


def test_the_issues_example_is_refused_outright(project):
    verdict = check(project, "99999999999")
    assert verdict.refusal is not None and not verdict.warnings
    [message] = verdict.refusal.message_dict["completed_investment"]
    assert "99,999,999,999.00" in message and "30,000.00" in message and "十倍" in message


def test_ten_times_the_total_is_the_limit(project):
    # 10 × 30,000 = 300,000: that much is held back for confirmation; a cent more is refused.
    assert check(project, "300000.00").refusal is None
    assert codes(check(project, "300000.00")) == [FigureCheck.ABOVE_TOTAL, FigureCheck.ABOVE_PLAN]
    assert check(project, "300000.01").refusal is not None


def test_above_the_total_counts_every_other_month_in_any_status(project, history):
    # Others: 5,000 + 3,000 + 1,000 + 2,000 + 500 = 11,500; 30,000 − 11,500 = 18,500 still fits.
    assert FigureCheck.ABOVE_TOTAL not in codes(check(project, "18500.00"))
    verdict = check(project, "18500.01")
    assert FigureCheck.ABOVE_TOTAL in codes(verdict)
    [warning] = [w for w in verdict.warnings if w.code == FigureCheck.ABOVE_TOTAL]
    assert warning.message == "累计完成投资将达到 30,000.01 万元，超过项目总投资（30,000.00 万元）。"


def test_the_month_being_changed_does_not_count_twice(project, history):
    report(project, 2023, 3, "18000.00", ProgressStatus.DRAFT)
    # Changing March from 18,000 to 18,500: others are still 11,500.
    assert FigureCheck.ABOVE_TOTAL not in codes(check(project, "18500.00"))


def test_above_the_plan_counts_the_years_earlier_months(project, history):
    # 2023 before March: 1,000 + 2,000 = 3,000 (May and 2022 do not count); plan 12,000 → 9,000 fits.
    assert codes(check(project, "9000.00")) == []
    verdict = check(project, "9000.01")
    assert codes(verdict) == [FigureCheck.ABOVE_PLAN]
    assert verdict.warnings[0].message == (
        "2023年1–3月累计完成投资将达到 12,000.01 万元，超过本年度计划投资（12,000.00 万元）。"
    )


def test_no_plan_no_plan_warning(project, history):
    assert codes(check(project, "9000.01", year=2022, month=10)) == []


def test_looks_entered_in_yuan(project):
    # Typical month: (8 + 12) / 2 = 10 万元, the zero month left out; 1,000 × 10 = 10,000.
    report(project, 2023, 1, "8.00")
    report(project, 2023, 2, "12.00")
    report(project, 2022, 12, "0.00")
    assert codes(check(project, "9999.99")) == []
    verdict = check(project, "10000.00")
    assert codes(verdict) == [FigureCheck.LOOKS_LIKE_YUAN]
    assert verdict.warnings[0].message == (
        "该数字是该项目通常月度完成额（10.00 万元）的 1,000 倍，疑似以“元”而非“万元”为单位填报。"
    )


def test_no_history_no_yuan_check(project):
    assert codes(check(project, "9000.00")) == []


def test_without_a_total_investment_neither_refused_nor_above_total():
    project = ProjectFactory(total_investment=Decimal("0"))
    verdict = check(project, "99999999999")
    assert verdict.refusal is None and verdict.warnings == []


def test_zero_and_unchanged_figures_are_not_checked(project, history):
    report(project, 2023, 3, "99999.00", ProgressStatus.DRAFT)
    assert check(project, "99999.00").ok  # saved before (and confirmed then)
    assert check(project, "0").ok
    assert not check(project, "99999.01").ok


def test_a_project_about_to_be_created_has_no_history():
    verdict = checks.check_figures(
        [checks.Proposed(ProjectFactory.build(total_investment=Decimal("100")), 2023, 3, Decimal("150"))]
    )[0]
    assert codes(verdict) == [FigureCheck.ABOVE_TOTAL]


def test_a_total_and_plan_set_in_the_same_change_are_the_ones_that_count(project, history):
    # Others 11,500; 2023 before March 3,000. Set alongside, a total of 40,000 holds 30,000.01 and a
    # plan of 22,000 holds 21,500.01. With only the plan set, to 20,000: the stored total (30,000)
    # and the new plan are both exceeded.
    proposed = checks.Proposed(
        project, 2023, 3, Decimal("18500.01"), total=Decimal("40000"), plan=Decimal("22000")
    )
    assert checks.check_figures([proposed])[0].ok
    lower_plan = checks.Proposed(project, 2023, 3, Decimal("18500.01"), plan=Decimal("20000"))
    assert codes(checks.check_figures([lower_plan])[0]) == [FigureCheck.ABOVE_TOTAL, FigureCheck.ABOVE_PLAN]


def test_many_figures_cost_two_queries(django_assert_num_queries):
    projects = [ProjectFactory(total_investment=Decimal("100")) for _ in range(30)]
    for project in projects:
        report(project, 2023, 1, "10.00")
        AnnualPlanFactory(project=project, year=2023, planned_investment=Decimal("50"))
    proposed = [checks.Proposed(project, 2023, 2, Decimal("60")) for project in projects]
    with django_assert_num_queries(2):
        verdicts = checks.check_figures(proposed)
    # 10 + 60 = 70: within the total (100), above the plan (50).
    assert {tuple(codes(v)) for v in verdicts} == {(FigureCheck.ABOVE_PLAN,)}


def test_the_confirmation_reason_names_the_checks():
    warnings = [
        checks.FigureWarning(FigureCheck.ABOVE_TOTAL, "…"),
        checks.FigureWarning(FigureCheck.LOOKS_LIKE_YUAN, "…"),
    ]
    with translation.override("en"):
        reason = checks.confirmation_reason(warnings)
    assert reason == "经用户核实确认保存：累计完成投资超过总投资、疑似以“元”为单位填报"
