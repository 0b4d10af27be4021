"""The dashboard in a real browser: the charts draw, nothing errs in the console, a card leads to its list."""

import datetime
from decimal import Decimal

import pytest

from projects.choices import Level
from tests.browser.helpers import log_in
from tests.factories import (
    AnnualPlanFactory,
    MonthlyProgressFactory,
    ParkFactory,
    ProjectFactory,
    UserFactory,
)
from zone_portal.roles import Role, sync_role_groups


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
