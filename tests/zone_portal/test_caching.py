"""The dashboard's figures are cached until the data under them changes (zone_portal/caching.py)."""

from decimal import Decimal as D

import pytest
from django.test import override_settings

from projects import figures, services
from projects.choices import ProgressStatus
from projects.models import MonthlyProgress, Project
from tests.factories import AnnualPlanFactory, ProjectFactory, UserFactory
from tests.projects.test_figures import march_world  # noqa: F401  (the fixture)
from zone_portal.roles import Role


def test_a_second_rollup_reads_only_the_data_version(march_world, django_assert_num_queries):  # noqa: F811
    first = figures.rollup(Project.objects.all(), year=2023, month=3)
    with django_assert_num_queries(1):
        again = figures.rollup(Project.objects.all(), year=2023, month=3)
    assert again == first
    assert again.completed_investment == D("800.00")  # 300 + 100 + 400, as test_figures works out


def test_approving_a_report_shows_at_once(march_world):  # noqa: F811
    assert figures.rollup(Project.objects.all(), year=2023, month=3).completed_investment == D("800.00")
    submitted = MonthlyProgress.objects.get(
        project=march_world["B"], month=3, status=ProgressStatus.SUBMITTED
    )

    services.progress_approve(report=submitted, user=UserFactory(roles=[Role.REVIEWER]))

    after = figures.rollup(Project.objects.all(), year=2023, month=3)
    assert after.completed_investment == D("900.00")  # B's March 100 now counts
    assert after.completion_rate == D("0.3000")  # 900 / 3000
    assert after.lagging_count == 1  # B: 200 × 12 = 2400 < 1000 × 3, still behind


def test_a_new_plan_and_a_new_project_show_at_once(march_world):  # noqa: F811
    before = figures.rollup(Project.objects.all(), year=2023, month=3)
    project = ProjectFactory(name="F", total_investment=D("100.00"))
    AnnualPlanFactory(project=project, year=2023, planned_investment=D("400.00"))

    after = figures.rollup(Project.objects.all(), year=2023, month=3)
    assert after.project_count == before.project_count + 1 == 6
    assert after.planned_investment == before.planned_investment + D("400.00") == D("3400.00")
    assert after.lagging_count == before.lagging_count + 1  # F completed nothing of its plan


def test_filters_and_periods_have_their_own_entries(march_world):  # noqa: F811
    everything = figures.rollup(Project.objects.all(), year=2023, month=3)
    only_a = figures.rollup(Project.objects.filter(name="A"), year=2023, month=3)
    february = figures.rollup(Project.objects.all(), year=2023, month=2)
    assert (everything.project_count, only_a.project_count) == (5, 1)
    assert only_a.completed_investment == D("300.00")
    assert february.completed_investment == D("700.00")  # A 200 + B 100 + C 400


@override_settings(FIGURES_CACHE_SECONDS=0)
def test_no_cache_when_turned_off(march_world, django_assert_num_queries):  # noqa: F811
    figures.rollup(Project.objects.all(), year=2023, month=3)
    with django_assert_num_queries(1):  # the rollup itself, no version
        figures.rollup(Project.objects.all(), year=2023, month=3)


@pytest.mark.parametrize("by", [["level"], ["park", "level", "industry__cluster"]])
def test_groupings_add_up_to_the_headline(march_world, by):  # noqa: F811
    result = figures.rollups(Project.objects.all(), year=2023, month=3, by=by)
    for field in by:
        groups = result.by[field].values()
        assert sum(g.project_count for g in groups) == result.headline.project_count == 5
        assert sum(g.completed_investment for g in groups) == result.headline.completed_investment
        assert sum(g.planned_investment for g in groups) == result.headline.planned_investment
