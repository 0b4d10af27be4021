"""At 375 px every page of every role fits the phone: nothing scrolls sideways and no button's label
breaks over two lines (筛/选, 打/印, 导出月通/报) — issue 20, item 12.

The pages are those of tests/browser/roles/pages.py (the URL conf's). Each role walks them in one
browser context; the menu's links must all be among them.
"""

import pytest

from tests.browser.helpers import layout_problems
from tests.browser.roles.conftest import PHONE
from tests.browser.roles.pages import ROLES, walk

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
def test_every_page_fits_a_phone(role, pages, open_as, demo_server):
    home = open_as(role, PHONE)
    menu = set(
        home.eval_on_selector_all(
            "#main-nav a[href^='/']", "links => links.map(link => link.getAttribute('href').split('?')[0])"
        )
    )
    walked, problems = set(), []
    for url, status, tab in walk(home.context, demo_server, pages):
        if status in (403, 404):
            continue  # not one of this role's pages
        assert status == 200, f"{url}: {status}"
        walked.add(url)
        problems += [f"{url}: {problem}" for problem in layout_problems(tab, unfold=True)]
    assert menu <= walked, f"menu links not walked: {menu - walked}"
    assert not problems, "\n".join(problems)
