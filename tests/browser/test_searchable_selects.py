"""Searchable selects in a real browser (Tom Select, static/js/selects.js): an enterprise found by
typing part of its name and saved on a visit; two parks picked without Ctrl, shown as chips above
the project list, one chip removed. Screenshots at 1366 and 375 px go to test-artifacts/."""

import pytest
from playwright.sync_api import expect

from core.roles import Role, sync_role_groups
from problems.models import Visit
from tests.browser.helpers import log_in
from tests.factories import (
    DepartmentFactory,
    EnterpriseFactory,
    ParkFactory,
    ProjectFactory,
    UserFactory,
    make_ticket,
)

WIDTHS = [1366, 375]


@pytest.fixture
def zone(transactional_db):
    sync_role_groups()  # a transactional test's flush empties the groups migrate made
    office = DepartmentFactory(name="企业服务中心")
    UserFactory(username="zhang", display_name="张浩然", department=office, roles=[Role.STAFF])
    for i in range(30):
        EnterpriseFactory(name=f"周口园区企业{i:02d}有限公司")
    oil = EnterpriseFactory(name="益海嘉里（周口）粮油工业有限公司", short_name="益海嘉里")
    food, medicine, logistics = (
        ParkFactory(name="周口数字经济双创孵化园健康食品产业园"),
        ParkFactory(name="生物医药产业园"),
        ParkFactory(name="现代物流园"),
    )
    ProjectFactory(name="特种油脂精炼项目", park=food, enterprise=oil)
    ProjectFactory(name="生物疫苗研发中心项目", park=medicine)
    ProjectFactory(name="冷链物流仓储项目", park=logistics)
    return {"oil": oil, "food": food, "medicine": medicine}


@pytest.mark.parametrize("width", WIDTHS)
def test_an_enterprise_typed_in_and_picked_is_saved_on_the_visit(
    zone, live_server, browser, artifacts, width
):
    base = live_server.url
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    log_in(page, base, "zhang")

    page.goto(f"{base}/visits/new/")
    # The page names no enterprise but the placeholder: they come from the lookup as one types.
    assert page.locator("#id_enterprise option").all_inner_texts() == ["输入名称搜索…"]
    page.click("#id_enterprise-ts-control")
    page.keyboard.type("益海")
    found = page.locator("#id_enterprise-ts-dropdown .option")
    expect(found).to_have_text(["益海嘉里（周口）粮油工业有限公司"])
    page.screenshot(path=artifacts / f"visit-form-search-{width}.png", full_page=True)
    found.first.click()
    assert page.locator("#id_enterprise-ts-dropdown").is_hidden()
    assert page.locator("#id_enterprise").input_value() == str(zone["oil"].pk)
    # The visitor chosen for the user shows as an item with its remove button, not a Ctrl-click list.
    assert page.locator("#id_visitors + .ts-wrapper .item", has_text="张浩然").is_visible()
    page.screenshot(path=artifacts / f"visit-form-picked-{width}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    with page.expect_navigation():
        page.click("#visit-form button[type=submit]")
    page.wait_for_selector(".alert-success")
    visit = Visit.objects.get()
    assert visit.enterprise == zone["oil"]
    assert page.url == f"{base}/visits/{visit.pk}/"
    assert [user.username for user in visit.visitors.all()] == ["zhang"]
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_two_parks_picked_without_ctrl_show_as_chips_and_one_is_removed(
    zone, live_server, browser, artifacts, width
):
    base = live_server.url
    food, medicine = zone["food"], zone["medicine"]
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    log_in(page, base, "zhang")

    page.goto(f"{base}/projects/")
    page.click("#project-filters [data-bs-target='#more-filters']")
    page.wait_for_selector("#more-filters.show")
    page.click("#id_park-ts-control")
    page.locator("#id_park-ts-dropdown .option", has_text=food.name).click()
    page.locator("#id_park-ts-dropdown .option", has_text=medicine.name).click()
    # Both chosen, each whole (a long park name is not cut off) with its remove button.
    items = page.locator("#id_park + .ts-wrapper .item")
    assert [text.replace("×", "").strip() for text in items.all_inner_texts()] == [food.name, medicine.name]
    page.screenshot(path=artifacts / f"project-filters-parks-{width}.png", full_page=True)
    page.keyboard.press("Escape")

    with page.expect_navigation():
        page.click("#project-filters button[type=submit]")
    chips = page.locator("#filter-chips .filter-chip")
    assert chips.all_inner_texts() == [f"园区：{food.name}×", f"园区：{medicine.name}×"]
    names = page.locator(".project-table tbody a.fw-medium").all_inner_texts()
    assert sorted(names) == ["特种油脂精炼项目", "生物疫苗研发中心项目"]
    page.screenshot(path=artifacts / f"project-list-chips-{width}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    with page.expect_navigation():
        chips.filter(has_text=food.name).locator(".filter-chip-remove").click()
    assert page.locator("#filter-chips .filter-chip").all_inner_texts() == [f"园区：{medicine.name}×"]
    assert page.locator(".project-table tbody a.fw-medium").all_inner_texts() == ["生物疫苗研发中心项目"]
    assert f"park={medicine.pk}" in page.url and f"park={food.pk}" not in page.url
    context.close()


def test_the_handler_picker_offers_the_chosen_units_people(zone, live_server, browser, artifacts):
    base = live_server.url
    power = DepartmentFactory(name="供电公司")
    water = DepartmentFactory(name="自来水公司")
    wang = UserFactory(username="wang", display_name="王建军", department=power, roles=[Role.UNIT])
    UserFactory(username="wangshui", display_name="王水生", department=water, roles=[Role.UNIT])
    UserFactory(username="li", display_name="李督办", roles=[Role.SUPERVISOR])
    ticket = make_ticket(user=UserFactory(username="zhang"), enterprise=zone["oil"], title="专线未接通")
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    log_in(page, base, "li")

    page.goto(f"{base}/problems/{ticket.pk}/")
    page.click("button[data-action=assign]")
    page.wait_for_selector("#form-assign", state="visible")
    assert page.locator("#id_assign-handler").is_disabled()  # no unit yet
    page.click("#id_assign-unit-ts-control")
    page.locator("#id_assign-unit-ts-dropdown .option", has_text="供电公司").click()
    page.click("#id_assign-handler-ts-control")
    page.keyboard.type("王")
    found = page.locator("#id_assign-handler-ts-dropdown .option")
    expect(found).to_have_text(["王建军（供电公司）"])  # not 王水生, of another unit
    page.screenshot(path=artifacts / "assign-handler-1366.png", full_page=True)
    found.first.click()
    with page.expect_navigation():
        page.locator("#form-assign button[name=go]").click()
    page.wait_for_selector(".alert-success")
    ticket.refresh_from_db()
    assert (ticket.unit, ticket.handler) == (power, wang)
    context.close()
