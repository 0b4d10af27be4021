"""The dashboard's chart tooltips show a park's or unit's name as text: a name made of markup is
displayed, never run (ECharts builds tooltips as HTML)."""

from decimal import Decimal

import pytest

from core.roles import Role, sync_role_groups
from tests.browser.helpers import log_in, wait_until
from tests.factories import (
    AnnualPlanFactory,
    DepartmentFactory,
    MonthlyProgressFactory,
    ParkFactory,
    ProjectFactory,
    UserFactory,
)

PARK = "<img src=x onerror=window.__xss=1>园区"
UNIT = "<img src=y onerror=window.__xss=2>局"
YEAR = 2024

# The tooltip ECharts puts in the chart's element: the one div it floats above everything.
TOOLTIP_ELEMENT = (
    """(chart) => [...chart.querySelectorAll("div")].find((d) => d.style.zIndex === "9999999")"""
)
TOOLTIP_TEXT = f"""(chart) => {{
  const tip = ({TOOLTIP_ELEMENT})(chart);
  return tip && tip.style.display !== "none" && tip.style.opacity !== "0" ? tip.innerText : null;
}}"""


@pytest.fixture
def zone(transactional_db):
    sync_role_groups()  # a transactional test's flush empties the groups migrate made
    UserFactory(username="lingdao", roles=[Role.LEADER])
    parks = [ParkFactory(name=PARK), ParkFactory(name="乙园区")]
    units = [DepartmentFactory(name=UNIT), DepartmentFactory(name="乙局")]
    for index, (park, unit) in enumerate(zip(parks, units, strict=True)):
        project = ProjectFactory(
            name=f"<img src=z onerror=window.__xss=3>项目{index}", park=park, responsible_unit=unit
        )
        AnnualPlanFactory(project=project, year=YEAR, planned_investment=Decimal(10000))
        MonthlyProgressFactory(
            project=project, year=YEAR, month=3, completed_investment=Decimal(1000 * (index + 1))
        )


@pytest.mark.parametrize("dimension, name", [("park", PARK), ("unit", UNIT)])
def test_hovering_a_bar_shows_the_hostile_name_as_text(
    zone, live_server, browser, artifacts, dimension, name
):
    base = live_server.url
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, base, "lingdao")
    page.goto(f"{base}/dashboard/?year={YEAR}&month=3")
    selector = f"[data-dashboard-chart=split][data-dimension={dimension}]"
    page.wait_for_selector(f"{selector} svg")
    chart = page.locator(selector)
    chart.scroll_into_view_if_needed()
    names = page.evaluate(
        f"JSON.parse(document.getElementById('dashboard-charts').textContent).splits.{dimension}.names"
    )
    assert sorted(names) == sorted([name, "乙园区" if dimension == "park" else "乙局"])
    bars = chart.locator("svg path[fill='#0d6efd']")
    assert bars.count() == 2
    bars.nth(names.index(name)).hover()  # bars are drawn in the order of the axis' names
    wait_until(page, f"() => ({TOOLTIP_TEXT})(document.querySelector({selector!r})) !== null")
    page.screenshot(path=str(artifacts / f"xss-tooltip-{dimension}.png"))
    assert chart.evaluate(TOOLTIP_TEXT).splitlines()[0] == name, "the tooltip does not show the name as text"
    assert chart.evaluate(f"(c) => ({TOOLTIP_ELEMENT})(c).querySelector('img')") is None
    assert page.evaluate("window.__xss") is None, "a name's markup ran in the page"
    assert page.locator("img[src=x], img[src=y], img[src=z]").count() == 0
    assert errors == []
    context.close()
