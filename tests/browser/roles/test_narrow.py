"""At 375 px every page of every role fits the phone: nothing scrolls sideways and no button's label
breaks over two lines (筛/选, 打/印, 导出月通/报) — issue 20, item 12.

The pages are those of tests/browser/roles/pages.py (the URL conf's), walked once per role for this
test and test_wcag.py together (the role_walk fixture); the menu's links must all be among them.
"""

import pytest

from tests.browser.helpers import layout_problems
from tests.browser.roles.pages import PHONE, ROLES

# Run alone after the parallel pass (make test): a whole first week in two windows per role, whose
# steps wait on a live server that a second worker's tests would slow past its time-outs.
pytestmark = pytest.mark.serial


def test_login_page_fits(browser, demo_server):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{demo_server}/accounts/login/")
    assert layout_problems(page) == []
    context.close()


@pytest.mark.parametrize("role", ROLES)
def test_every_page_fits_a_phone(role, role_walk):
    walk = role_walk(role)
    assert walk.refused == []
    assert walk.menu <= set(walk.walked), f"menu links not walked: {walk.menu - set(walk.walked)}"
    assert not walk.layout, "\n".join(walk.layout)
