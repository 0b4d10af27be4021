"""A month's progress logged and approved with the keyboard alone (issue 22): staff log in, reach the
monthly progress grid from the menu, fill two projects' figures with Tab, the arrow keys, Enter and
typing, and submit; a reviewer logs in, opens the review queue from the menu, ticks the reports
with Space and approves them. Never a click: only keyboard.press and keyboard.type. Every element
that takes the focus on the way is checked: on screen, not covered (the sticky menu and the
grid's sticky save bar), and ringed by a visible outline. Screenshots of the focused grid go to
test-artifacts/."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from core.roles import Role, sync_role_groups
from projects import selectors
from projects.choices import ProgressStatus
from projects.models import MonthlyProgress
from tests.browser.helpers import PASSWORD, wait_until
from tests.factories import (
    AnnualPlanFactory,
    DepartmentFactory,
    EnterpriseFactory,
    ProjectFactory,
    UserFactory,
    make_ticket,
)

# What the focused element looks like: whether it (or the searchable select's frame around its
# typing box) has an outline, and whether it is the element seen at its middle once scrolled to.
FOCUS = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return {problem: "nothing has the focus"};
  // A searchable select's typing box may be moved aside once an item is chosen: its frame is seen.
  const ringed = element.matches(".ts-control > input") ? element.closest(".ts-control") : element;
  const style = getComputedStyle(ringed);
  const rect = ringed.getClientRects()[0] || ringed.getBoundingClientRect();  // a link's first line
  const x = rect.left + rect.width / 2, y = rect.top + rect.height / 2;
  const seen = document.elementFromPoint(x, y);
  const label =
    element.getAttribute("aria-labelledby") || element.name || element.id || element.textContent.trim();
  if (rect.width < 1 || rect.height < 1) return {label, problem: "has no size"};
  if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) return {label, problem: "is off screen"};
  if (!seen || !ringed.contains(seen))
    return {label, problem: "is covered by " + (seen ? seen.outerHTML.slice(0, 80) : "nothing")};
  if (style.outlineStyle === "none" || parseFloat(style.outlineWidth) < 2)
    return {label, problem: "has no visible outline"};
  return {label, problem: null};
}"""


# Bootstrap scrolls smoothly unless motion is reduced: the focused element would be checked while
# still on its way into view.
WINDOW = {"viewport": {"width": 1366, "height": 700}, "locale": "zh-CN", "reduced_motion": "reduce"}


def focused(page, wait=2_000) -> str:
    """What has the focus, after checking that it can be seen; its label, name or text. Checked
    again for up to ``wait`` ms: a searchable picker draws its ring (its .focus class) a moment after
    the focus moves, which a loaded machine makes visible."""
    state = page.evaluate(FOCUS)
    for _ in range(wait // 50):
        if state["problem"] is None:
            break
        page.wait_for_timeout(50)
        state = page.evaluate(FOCUS)
    assert state["problem"] is None, f"the focused element {state.get('label')!r} {state['problem']}"
    return state["label"]


def tab_to(page, selector, *, most=60):
    """Press Tab until the element matching ``selector`` has the focus, checking every stop."""
    for _ in range(most):
        page.keyboard.press("Tab")
        focused(page)
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} not reached in {most} presses of Tab")


def press(page, key, *, navigates=False):
    """Press a key; then what has the focus, or None for a key that opens another page."""
    if navigates:
        with page.expect_navigation():
            page.keyboard.press(key)
        return None
    page.keyboard.press(key)
    return focused(page)


def log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    # The login page puts the focus in the first field (autofocus, applied as the page is drawn).
    wait_until(page, "() => document.activeElement !== document.body")
    assert focused(page) == "username"
    page.keyboard.type(username)
    press(page, "Tab")
    page.keyboard.type(PASSWORD)
    press(page, "Enter", navigates=True)
    assert page.url == f"{base}/"


@pytest.fixture
def world(transactional_db):
    sync_role_groups()  # a transactional test's flush empties the groups migrate made
    period = selectors.current_month()
    staff = UserFactory(username="zhang", department=DepartmentFactory(name="经发局"), roles=[Role.STAFF])
    UserFactory(username="yang", roles=[Role.REVIEWER])
    # Named so that the grid (by name) lists them in this order under any database's collation.
    projects = [ProjectFactory(name=f"{number}号厂房项目", staff_in_charge=staff) for number in (1, 2, 3)]
    for project in projects:
        AnnualPlanFactory(project=project, year=period.year, planned_investment=Decimal("1200.00"))
    return {"period": period, "projects": projects}


def test_a_month_logged_submitted_and_approved_with_the_keyboard_only(world, live_server, browser, artifacts):
    base = live_server.url
    first, second, third = world["projects"]
    cell = lambda project, column: f"grid-name-{project.pk} grid-col-{column}"  # noqa: E731

    staff = browser.new_context(**WINDOW)
    page = staff.new_page()
    log_in(page, base, "zhang")

    # The menu's 月度进度 link, then the grid's first figure, by Tab.
    tab_to(page, "nav a[href='/projects/progress/']")
    press(page, "Enter", navigates=True)
    page.wait_for_load_state("load")  # the grid's keys are set up by its script
    # The browser names the fields as a screen reader reads them: project, then column.
    assert page.get_by_role("textbox", name="1号厂房项目 本月完成（万元）", exact=True).count() == 1
    tab_to(page, "[data-grid-cell]")
    assert focused(page) == cell(first, "completed_investment")

    page.keyboard.type("120.5")
    assert press(page, "Enter") == cell(second, "completed_investment")  # Enter goes down a figure
    page.keyboard.type("80")
    assert press(page, "ArrowUp") == cell(first, "completed_investment")
    assert page.evaluate("document.activeElement.value") == "120.5"  # Enter did not save the page
    assert press(page, "ArrowRight") == cell(first, "physical_progress")  # the figure was selected
    page.keyboard.type("主体结构封顶")
    # Inside a text the arrows move the caret: Left stays in the cell until the caret is at its start.
    assert press(page, "ArrowLeft") == cell(first, "physical_progress")
    assert press(page, "ArrowDown") == cell(first, "physical_progress")  # the caret goes to the end
    assert press(page, "ArrowDown") == cell(second, "physical_progress")
    page.keyboard.type("设备安装")
    assert press(page, "ArrowLeft") == cell(second, "physical_progress")
    page.screenshot(path=artifacts / "keyboard-grid-1366.png")
    # Down past the last row (the third, left empty) is nowhere; Tab goes on through the row in page order.
    assert press(page, "Tab") == cell(second, "problems")
    assert press(page, "Tab") == "grid-name-" + str(third.pk)  # the next row's project link
    assert press(page, "Tab") == cell(third, "completed_investment")
    assert press(page, "Enter") == "save"  # after the last row Enter reaches the save buttons
    assert press(page, "Tab") == "submit"
    press(page, "Enter", navigates=True)
    assert page.locator(".alert-success").is_visible()
    staff.close()

    saved = {
        row.project_id: (row.completed_investment, row.physical_progress, row.status)
        for row in MonthlyProgress.objects.all()
    }
    assert saved == {
        first.pk: (Decimal("120.50"), "主体结构封顶", ProgressStatus.SUBMITTED),
        second.pk: (Decimal("80.00"), "设备安装", ProgressStatus.SUBMITTED),
    }

    review = browser.new_context(**WINDOW)
    page = review.new_page()
    log_in(page, base, "yang")
    tab_to(page, "nav a[href='/projects/progress/review/']")
    press(page, "Enter", navigates=True)
    tab_to(page, "input[name=report]")
    page.keyboard.press("Space")
    press(page, "Tab")  # the project's link, then the next report's box
    tab_to(page, "input[name=report]")
    page.keyboard.press("Space")
    assert page.locator("input[name=report]:checked").count() == 2
    tab_to(page, "button[name=approve]")
    press(page, "Enter", navigates=True)
    assert page.locator(".alert-success").is_visible()
    review.close()

    assert set(MonthlyProgress.objects.values_list("project_id", "status", "reviewed_by__username")) == {
        (first.pk, ProgressStatus.APPROVED, "yang"),
        (second.pk, ProgressStatus.APPROVED, "yang"),
    }


def test_an_action_form_and_its_searchable_pickers_work_from_the_keyboard(
    transactional_db, live_server, browser
):
    sync_role_groups()
    power = DepartmentFactory(name="供电公司")
    water = DepartmentFactory(name="自来水公司")
    UserFactory(username="wangshui", display_name="王水生", department=water, roles=[Role.UNIT])
    wang = UserFactory(username="wang", display_name="王建军", department=power, roles=[Role.UNIT])
    UserFactory(username="li", roles=[Role.SUPERVISOR])
    enterprise = EnterpriseFactory(name="益海嘉里（周口）粮油工业有限公司")
    zhang = UserFactory(username="zhang", roles=[Role.STAFF])
    ticket = make_ticket(user=zhang, enterprise=enterprise, title="专线未接通")
    context = browser.new_context(**WINDOW)
    page = context.new_page()
    log_in(page, live_server.url, "li")
    page.goto(f"{live_server.url}/problems/{ticket.pk}/")
    page.wait_for_load_state("load")  # Bootstrap's collapse works once the page's scripts have run

    # Enter on 交办 opens its form and takes the focus into it: its first field, the unit's picker,
    # named by its label (and the required mark); Escape closes the form, the focus back on 交办.
    tab_to(page, "button[data-action=assign]")
    page.keyboard.press("Enter")
    wait_until(page, "() => document.activeElement.closest('#form-assign') !== null")
    assert focused(page) == "id_assign-unit-ts-label"
    assert page.get_by_role("combobox", name="责任单位 *", exact=True).evaluate(
        "e => e === document.activeElement"
    )
    page.keyboard.press("Escape")  # the open list first
    page.keyboard.press("Escape")
    wait_until(page, "() => document.activeElement.dataset.action === 'assign'")
    focused(page)
    # Closed, and done closing: Bootstrap ignores a toggle while the part is still sliding shut.
    wait_until(page, "() => !document.querySelector('#action-assign').matches('.show, .collapsing')")
    assert page.locator("#action-assign").is_hidden()

    page.keyboard.press("Enter")
    wait_until(page, "() => document.activeElement.closest('#form-assign') !== null")
    page.keyboard.type("供电")
    page.locator("#id_assign-unit-ts-dropdown .option", has_text="供电公司").wait_for()
    press(page, "Enter")
    assert page.locator("#id_assign-unit").input_value() == str(power.pk)
    # The chosen unit is read with the box, as its description.
    described = (
        "box => box.getAttribute('aria-describedby').split(' ').map(id => document.getElementById(id))"
    )
    assert page.locator("#id_assign-unit-ts-control").evaluate(
        f"b => ({described})(b).map(e => e.textContent)"
    ) == ["供电公司"]
    tab_to(page, "#id_assign-handler-ts-control")  # enabled now that a unit is chosen
    page.keyboard.type("王")
    # Only the chosen unit's people are offered (王水生 of another unit is not).
    expect(page.locator("#id_assign-handler-ts-dropdown .option")).to_have_text(["王建军（供电公司）"])
    press(page, "Enter")
    tab_to(page, "#form-assign button[name=go]")
    press(page, "Enter", navigates=True)
    assert page.locator(".alert-success").is_visible()
    context.close()
    ticket.refresh_from_db()
    assert (ticket.unit, ticket.handler) == (power, wang)
