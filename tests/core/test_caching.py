"""The dashboard's figures are cached until the data under them changes (core/caching.py)."""

from decimal import Decimal as D

import pytest
from django.test import override_settings

from core.roles import Role
from dashboard.selectors import DashboardFilterSet
from projects import figures, services
from projects.choices import BatchRole, ProgressStatus
from projects.filtersets import ProjectFilterSet
from projects.models import MonthlyProgress, Project
from tests.factories import (
    AnnualPlanFactory,
    BatchFactory,
    BatchMembershipFactory,
    ProjectFactory,
    UserFactory,
)
from tests.projects.test_figures import march_world  # noqa: F401  (the fixture)


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


def test_a_batch_filtered_figure_follows_the_batch_at_once(march_world):  # noqa: F811
    """The 三个一批 filters read the memberships: a project put in, moved or taken out of a batch
    shows on the next request, not when the cache expires."""
    admin = UserFactory(roles=[Role.ADMIN])
    batch = BatchFactory()
    in_a = BatchMembershipFactory(batch=batch, project=march_world["A"], role=BatchRole.START)

    def batch_rollup(**query):
        filterset = DashboardFilterSet({"batch": batch.pk, **query}, queryset=Project.objects.all())
        assert filterset.is_valid(), filterset.errors
        return figures.rollup(filterset.qs, year=2023, month=3)

    assert (batch_rollup().project_count, batch_rollup().completed_investment) == (1, D("300.00"))

    services.membership_create(
        user=admin, data={"batch": batch, "project": march_world["C"], "role": BatchRole.START}
    )
    after_joining = batch_rollup()
    assert after_joining.project_count == 2
    assert after_joining.completed_investment == D("700.00")  # A 300 + C 400

    services.membership_delete(membership=in_a, user=admin)
    after_leaving = batch_rollup()
    assert (after_leaving.project_count, after_leaving.completed_investment) == (1, D("400.00"))


def test_a_batch_role_filtered_figure_follows_a_role_change_at_once(march_world):  # noqa: F811
    admin = UserFactory(roles=[Role.ADMIN])
    membership = BatchMembershipFactory(project=march_world["A"], role=BatchRole.START)
    starting = ProjectFilterSet({"batch_role": BatchRole.START}, queryset=Project.objects.all())
    assert figures.rollup(starting.qs, year=2023, month=3).project_count == 1

    services.membership_update(membership=membership, user=admin, role=BatchRole.PRODUCE)

    starting = ProjectFilterSet({"batch_role": BatchRole.START}, queryset=Project.objects.all())
    assert figures.rollup(starting.qs, year=2023, month=3).project_count == 0
