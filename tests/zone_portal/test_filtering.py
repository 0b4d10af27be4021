"""Filters in words (zone_portal.filtering), as the printed dashboard's title says them."""

from django.http import QueryDict
from django.utils import translation

from projects.filtersets import ProjectFilterSet
from projects.models import Project
from tests.factories import IndustryFactory, ParkFactory
from zone_portal.filtering import applied_filters


def words(query: str) -> list[tuple[str, str]]:
    with translation.override("zh-hans"):
        return applied_filters(ProjectFilterSet(QueryDict(query), queryset=Project.objects.all()))


def test_each_filter_that_narrows_the_rows_in_words_in_the_forms_order(db):
    food, logistics = ParkFactory(name="健康食品产业园"), ParkFactory(name="现代物流园")
    IndustryFactory(name="休闲食品")

    given = f"park={food.pk}&park={logistics.pk}&level=provincial&level=zone&on_plan=false&q=益海"
    assert words(f"{given}&ordering=-rate") == [
        ("搜索", "益海"),
        ("项目级别", "省重点、区重点"),
        ("园区", "健康食品产业园、现代物流园"),
        ("列入年度计划", "否"),
    ]
    assert words("park=null&industry=null") == [("园区", "未归属园区"), ("产业", "无产业")]
    assert words("started_after=2025-01-01&started_before=2025-10-31") == [
        ("开工日期", "2025-01-01 至 2025-10-31")
    ]


def test_no_filter_or_a_filter_not_understood_gives_no_words(db):
    assert words("") == []
    assert words("ordering=name&park=") == []
    assert words("park=999999&level=provincial") == []  # the page applies none of them either
