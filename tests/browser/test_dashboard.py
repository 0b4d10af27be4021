"""The dashboard in a real browser: the charts draw, nothing errs in the console, a card leads to its list."""

import datetime
from decimal import Decimal

import pytest

from core.roles import Role, sync_role_groups
from projects.choices import Level
from projects.models import Project
from tests.browser.helpers import log_in, wait_until
from tests.factories import (
    AnnualPlanFactory,
    MonthlyProgressFactory,
    ParkFactory,
    ProjectFactory,
    UserFactory,
)


@pytest.fixture
def zone(transactional_db):
    sync_role_groups()
    UserFactory(username="lingdao", display_name="王领导", roles=[Role.LEADER])
    parks = [ParkFactory(name="甲园区"), ParkFactory(name="乙园区"), ParkFactory(name="丙园区")]
    for i, (park, level, plan, done) in enumerate(
        [
            (parks[0], Level.PROVINCIAL, 10000, 3110),
            (parks[0], Level.MUNICIPAL, 8000, 1000),
            (parks[1], Level.ZONE, 4000, 1100),
            (parks[2], Level.PROVINCIAL, 6000, 900),
        ]
    ):
        project = ProjectFactory(
            name=f"项目{i}", park=park, level=level, actual_start=datetime.date(2024, 2, 1)
        )
        AnnualPlanFactory(project=project, year=2024, planned_investment=Decimal(plan))
        MonthlyProgressFactory(project=project, year=2024, month=3, completed_investment=Decimal(done))


@pytest.mark.parametrize("viewport", [{"width": 1600, "height": 1000}, {"width": 390, "height": 844}])
def test_dashboard_draws_its_charts_and_a_card_leads_to_the_list(
    zone, live_server, browser, artifacts, viewport
):
    base = live_server.url
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    log_in(page, base, "lingdao")

    page.goto(f"{base}/dashboard/")
    page.wait_for_selector("[data-dashboard-chart=trend] svg")
    charts = page.locator("[data-dashboard-chart]")
    assert charts.count() >= 4
    for index in range(charts.count()):
        chart = charts.nth(index)
        assert chart.locator("svg").count() == 1, chart.get_attribute("data-dashboard-chart")
        assert chart.bounding_box()["height"] > 150
    assert page.locator("#card-count .fs-3").inner_text() == "4"
    assert page.locator("#card-rate .fs-3").inner_text() == "21.82%"  # 6110 / 28000 = 0.2182
    name = "dashboard-phone" if viewport["width"] < 500 else "dashboard-desktop"
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)

    page.click("#card-lagging")
    page.wait_for_url("**/projects/?*lagging=true*")
    # 项目1 (12.5%), 项目3 (15%) are behind the 25% schedule; 项目0 and 项目2 are not.
    assert page.locator("#sum-count").inner_text() == "2"
    assert sorted(page.locator(".project-table tbody a.fw-medium").all_inner_texts()) == ["项目1", "项目3"]

    page.goto(f"{base}/dashboard/")
    page.wait_for_selector("[data-dashboard-chart=split][data-dimension=park] svg")
    # A bar of the park chart links to that park's projects on the plan.
    bar = page.locator("[data-dashboard-chart=split][data-dimension=park] svg path[fill='#0d6efd']").first
    bar.click()
    page.wait_for_url("**/projects/?*park=*")
    assert page.locator("#sum-count").inner_text() in {"1", "2"}
    assert problems == []
    context.close()


def test_each_chart_is_named_described_and_leads_to_its_table_by_keyboard(zone, live_server, browser):
    """Issue 22: a screen reader hears each chart's title and figures (ECharts' aria on, a summary
    beside it), and the keyboard reaches the chart's table, whose figures link where its bars do."""
    base = live_server.url
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    log_in(page, base, "lingdao")
    page.goto(f"{base}/dashboard/")
    page.wait_for_selector("[data-dashboard-chart=split][data-dimension=level] svg")

    def described(selector):
        chart = page.locator(selector)
        assert chart.get_attribute("role") == "img"
        summary = page.locator(f"#{chart.get_attribute('aria-describedby')}")
        aria = chart.evaluate("element => echarts.getInstanceByDom(element).getOption().aria")
        assert aria["enabled"] is True
        assert aria["label"]["description"] == chart.get_attribute("aria-label")  # ECharts' name = the title
        return chart.get_attribute("aria-label"), summary.text_content()

    # 2024 to March: 28000 planned, 6110 (0.61亿) completed in March; schedule 25% = 7000 (0.70亿).
    name, summary = described("[data-dashboard-chart=trend]")
    assert name == "逐月累计完成投资与时序进度"
    assert "1月当月完成 0.00、累计 0.00" in summary
    assert "3月当月完成 0.61、累计 0.61、时序进度 0.70" in summary
    name, summary = described("[data-dashboard-chart=funnel]")
    assert "建设 4 个" in summary and "谋划 0 个" in summary
    # Provincial 4010 / 16000, municipal 1000 / 8000, zone 1100 / 4000.
    name, summary = described("[data-dashboard-chart=split][data-dimension=level]")
    assert "省重点 25.06%" in summary and "市重点 12.50%" in summary and "区重点 27.50%" in summary
    assert "时序进度 25.00%" in summary
    # 甲园区 4110 / 18000, 乙园区 1100 / 4000, 丙园区 900 / 6000.
    name, summary = described("[data-dashboard-chart=split][data-dimension=park]")
    assert "甲园区 22.83%" in summary and "乙园区 27.50%" in summary and "丙园区 15.00%" in summary

    # Tab from the top of the page to the trend chart's table link; Enter shows the table and
    # moves the focus into it, and its figures link where the chart's points do.
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == "#trend-table":
            break
    else:
        raise AssertionError("the trend chart's table link is not reached by Tab")
    assert page.locator("#trend-table").is_hidden()  # printed, shown on request
    page.keyboard.press("Enter")
    wait_until(page, "() => document.activeElement.id === 'trend-table'")
    assert page.locator("#trend-table").is_visible()
    chart_urls = page.evaluate(
        "JSON.parse(document.getElementById('dashboard-charts').textContent).trend.urls"
    )
    table_urls = page.locator("#trend-table tbody a").evaluate_all("links => links.map(a => a.href)")
    assert [base + url if url.startswith("/") else url for url in chart_urls] == table_urls
    page.keyboard.press("Tab")  # the way back to the chart, first in the table
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#trend"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the first month's figure: the drill-down of the chart's first point
    page.wait_for_url(table_urls[0])

    # The level chart's table: its planned figures link where the bars do.
    page.goto(f"{base}/dashboard/")
    page.locator("a[href='#split-level-table']").focus()
    page.keyboard.press("Enter")
    wait_until(page, "() => document.activeElement.id === 'split-level-table'")
    chart_urls = page.evaluate(
        "JSON.parse(document.getElementById('dashboard-charts').textContent).splits.level.urls"
    )
    table_urls = page.locator("#split-level-table a.fig-planned").evaluate_all(
        "links => links.map(a => a.href)"
    )
    assert sorted(base + url for url in chart_urls) == sorted(table_urls)

    # The project page's chart: 项目0 planned 10000, completed 3110 in March.
    project = Project.objects.get(name="项目0")
    page.goto(f"{base}/projects/{project.pk}/?year=2024&month=3")
    page.wait_for_selector("[data-chart] svg")
    chart = page.locator("[data-chart]")
    assert chart.get_attribute("role") == "img"
    assert chart.evaluate("element => echarts.getInstanceByDom(element).getOption().aria.enabled")
    summary = page.locator(f"#{chart.get_attribute('aria-describedby')}").text_content()
    assert (
        "2024年1–3月累计完成 3,110.00 万元，年度计划 10,000.00 万元，完成率 31.10%，时序进度 25.00%"
        in summary
    )
    assert "3月 3,110.00（已审核）" in summary
    page.locator("a[href='#progress-table']").focus()
    page.keyboard.press("Enter")
    wait_until(page, "() => document.activeElement.id === 'progress-table'")
    context.close()
