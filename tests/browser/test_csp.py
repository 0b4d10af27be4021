"""The Content-Security-Policy in a real browser: every kind of page works under it and the browser
reports no violation (a blocked script, style, image, worker or form target), charts' tooltips included.

Run with styles limited to 'self', this test shows why the policy keeps 'unsafe-inline' for styles:
ECharts' tooltips, Swagger UI's and the browsable API's <style> blocks are blocked and ReDoc does not
render at all."""

import datetime
from decimal import Decimal

import pytest

from core.roles import Role, sync_role_groups
from tests.browser.helpers import log_in
from tests.factories import (
    AnnualPlanFactory,
    MonthlyProgressFactory,
    ProjectFactory,
    UserFactory,
)

# Runs in each page before its own scripts (through the DevTools protocol, so the policy does not
# apply to it) and keeps every violation the browser reports.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${where}`);
});
"""


# ReDoc's bundle always shows Redocly's logo from Redocly's site; the policy blocks that request to a
# third party and ReDoc then leaves the logo out. The one violation expected.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def unexpected(message: str) -> bool:
    return REDOC_LOGO not in message


@pytest.fixture
def zone(transactional_db):
    sync_role_groups()
    UserFactory(username="guanli", is_staff=True, is_superuser=True, roles=[Role.ADMIN])
    project = ProjectFactory(name="益海特油项目", actual_start=datetime.date(2024, 2, 1))
    AnnualPlanFactory(project=project, year=2024, planned_investment=Decimal("10000"))
    for month, done in [(1, "800"), (2, "1200"), (3, "1500")]:
        MonthlyProgressFactory(project=project, year=2024, month=month, completed_investment=Decimal(done))
    return project


def visit(page, url, ready):
    """Open the page and wait for the element that shows it rendered. ``goto`` returns after the load
    event (every resource of the document fetched, so blocked ones are reported); what scripts fetch
    later (the schema, chart data) is in by the time ``ready`` shows. Not "network idle" (half a
    second without a request): on a busy machine that state timed out although the page was there."""
    page.goto(url, wait_until="load")
    page.wait_for_selector(ready)


def test_every_kind_of_page_works_under_the_policy(zone, live_server, browser):
    base = live_server.url
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    problems = []

    def on_console(message):
        # Pages without an icon link make the browser ask for /favicon.ico: not a policy matter.
        if message.location["url"].endswith("/favicon.ico"):
            return
        if (message.type == "error" or "Content Security Policy" in message.text) and unexpected(
            message.text
        ):
            problems.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    violations = []

    def check():
        reported = page.evaluate("window.__cspViolations")
        violations.extend(f"{page.url}: {v}" for v in reported if unexpected(v))

    log_in(page, base, "guanli")
    check()

    # The dashboard's charts, and a tooltip (ECharts writes it as HTML with style attributes).
    visit(page, f"{base}/dashboard/?year=2024&month=3", "[data-dashboard-chart=trend] svg")
    assert "累计完成投资" in tooltip(page, "[data-dashboard-chart=trend]")
    check()

    # A project page: its progress chart and its tooltip.
    visit(page, f"{base}/projects/{zone.pk}/", "[data-chart] svg")
    assert "计划时序进度" in tooltip(page, "[data-chart]")
    check()

    # The admin: its index, a change form with its widgets, and a changelist with filters.
    visit(page, f"{base}/admin/", "#content-main")
    check()
    visit(page, f"{base}/admin/projects/project/{zone.pk}/change/", "#project_form")
    check()
    visit(page, f"{base}/admin/projects/project/", "#changelist")
    check()

    # The API's documentation (Swagger UI and ReDoc) and the browsable API.
    visit(page, f"{base}/api/docs/", ".swagger-ui .opblock")
    check()
    visit(page, f"{base}/api/redoc/", "redoc .api-content, #redoc-container .api-content")
    check()
    visit(page, f"{base}/api/projects/", ".response-info")
    check()

    context.close()
    assert violations == []
    assert problems == []


def tooltip(page, chart) -> str:
    """Hover over the middle of a chart and return the text of the tooltip ECharts shows."""
    box = page.locator(chart).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    shown = page.locator(f"{chart} div[style*='position: absolute']").filter(has_text="月")
    shown.first.wait_for(state="visible")
    return shown.first.inner_text()
