"""A search typed into the project list's box and sent with 筛选 finds what ``?q=`` finds: the browser
sends every filter of the form, and the untouched ones must mean "all" (issue 20)."""

import pytest

from core.roles import Role, sync_role_groups
from tests.browser.helpers import log_in
from tests.factories import EnterpriseFactory, ProjectFactory, UserFactory


@pytest.fixture
def zone(transactional_db):
    sync_role_groups()
    UserFactory(username="lingdao", roles=[Role.LEADER])
    oil = EnterpriseFactory(name="益海嘉里（周口）粮油工业有限公司")
    ProjectFactory(name="特种油脂精炼项目", enterprise=oil, on_white_list=False)
    ProjectFactory(name="益海饲料扩建项目", on_white_list=True)
    ProjectFactory(name="城区燃气管网改造项目")


def test_typing_a_search_and_pressing_filter_finds_the_projects(zone, live_server, browser):
    base = live_server.url
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    log_in(page, base, "lingdao")

    page.goto(f"{base}/projects/")
    page.locator("#project-filters [name=q]").fill("益海")
    page.locator("#project-filters button[type=submit]").click()
    page.wait_for_url("**/projects/?*q=*")
    page.wait_for_selector(".project-table")

    names = page.locator(".project-table tbody a.fw-medium").all_inner_texts()
    assert sorted(names) == sorted(["特种油脂精炼项目", "益海饲料扩建项目"])
    # The yes/no filters were sent, as 全部.
    assert "on_plan=&" in page.url or page.url.endswith("on_plan=")
    assert page.locator("#id_on_plan option:checked").inner_text() == "全部"
    context.close()
