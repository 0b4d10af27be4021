"""Filters in words (core.filtering), as the printed dashboard's title says them."""

from django.http import QueryDict
from django.utils import translation

from core.filtering import applied_filters, filter_chips
from projects.filtersets import ProjectFilterSet
from projects.models import Project
from tests.factories import IndustryFactory, ParkFactory


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


# --- Chips -----------------------------------------------------------------------------------------


def chips(query: str, path: str = "/projects/") -> list[tuple[str, str, str]]:
    with translation.override("zh-hans"):
        filterset = ProjectFilterSet(QueryDict(query), queryset=Project.objects.all())
        return [
            (chip.label, chip.value, chip.url) for chip in filter_chips(filterset, QueryDict(query), path)
        ]


def test_a_chip_per_value_whose_link_drops_that_value_only_and_the_page(db):
    food, logistics = ParkFactory(name="健康食品产业园"), ParkFactory(name="现代物流园")

    given = (
        f"year=2025&month=9&park={food.pk}&park={logistics.pk}&level=provincial&q=益海&on_plan=false&page=3"
    )
    assert chips(f"{given}&ordering=-rate") == [
        ("搜索", "益海", f"/projects/?year=2025&month=9&park={food.pk}&park={logistics.pk}"
                         "&level=provincial&on_plan=false&ordering=-rate"),
        ("项目级别", "省重点", f"/projects/?year=2025&month=9&park={food.pk}&park={logistics.pk}"
                              "&q=%E7%9B%8A%E6%B5%B7&on_plan=false&ordering=-rate"),
        ("园区", "健康食品产业园", f"/projects/?year=2025&month=9&park={logistics.pk}&level=provincial"
                                 "&q=%E7%9B%8A%E6%B5%B7&on_plan=false&ordering=-rate"),
        ("园区", "现代物流园", f"/projects/?year=2025&month=9&park={food.pk}&level=provincial"
                             "&q=%E7%9B%8A%E6%B5%B7&on_plan=false&ordering=-rate"),
        ("列入年度计划", "否", f"/projects/?year=2025&month=9&park={food.pk}&park={logistics.pk}"
                              "&level=provincial&q=%E7%9B%8A%E6%B5%B7&ordering=-rate"),
    ]  # fmt: skip


def test_chips_of_no_park_a_range_and_the_last_filter(db):
    assert chips("park=null&level=zone&level=municipal") == [
        ("项目级别", "区重点", "/projects/?park=null&level=municipal"),
        ("项目级别", "市重点", "/projects/?park=null&level=zone"),
        ("园区", "未归属园区", "/projects/?level=zone&level=municipal"),
    ]
    # A range is one chip; its link drops both ends.
    assert chips("started_after=2025-01-01&started_before=2025-10-31&month=10") == [
        ("开工日期", "2025-01-01 至 2025-10-31", "/projects/?month=10")
    ]
    assert chips("started_after=2025-01-01&started_before=") == [("开工日期", "2025-01-01 至 ", "/projects/")]
    # The last filter's link is the bare page.
    assert chips("on_white_list=true&page=2") == [("白名单", "是", "/projects/")]


def test_no_chips_without_filters_or_with_one_not_understood(db):
    assert chips("") == []
    assert chips("year=2025&month=9&ordering=name&park=&level=") == []
    assert chips("park=999999&level=provincial") == []  # the page applies none of them either
