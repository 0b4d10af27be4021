"""axe-core over every page of every role, at 375 px and at 1366 px (issue 22): no serious or
critical violation of the WCAG 2.0 and 2.1 A and AA rules; the log-in page and the error pages too.

The pages are walked once per role for this test and test_narrow.py together (pages.walk_role: each
page loaded once, checked at 375 px, widened to 1366 px and checked again). The API documentation
is checked with its operations folded, and again with one opened. A failure names, per page and
width, the rule, its help text and each element's selector and HTML; moderate and minor
violations are printed (``pytest -rP`` shows them) but do not fail the test.
"""

import pytest
from django.template import loader
from django.test import override_settings
from django.utils import translation

from tests.browser.helpers import log_in
from tests.browser.roles.conftest import PASSWORDS
from tests.browser.roles.pages import DESKTOP, PHONE, ROLES, RoleWalk, axe_check

# Run alone after the parallel pass (make test), like the other walks of the demo world.
pytestmark = pytest.mark.serial


def report(found: RoleWalk):
    if found.axe_other:
        print("Moderate and minor axe violations (not failing):", *found.axe_other, sep="\n  ")
    assert not found.axe_failing, "\n".join(found.axe_failing)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_has_no_serious_violation(role, role_walk):
    found = role_walk(role)
    assert len(found.walked) > 10  # the role's pages were checked, not its refusals
    report(found)


def check(pages, found):
    axe_check(pages, found, PHONE)
    axe_check(pages, found, DESKTOP)
    for _label, page in pages:
        page.set_viewport_size(PHONE)


def answer_with(body):
    """A route handler answering with the HTML."""
    return lambda route: route.fulfill(body=body, content_type="text/html")


def test_login_and_error_pages_have_no_serious_violation(browser, demo_server):
    """The log-in page and a 404 logged out; 403 and 404 as a user sees them; the 500 and 503 pages,
    which the live server cannot be made to answer, rendered as their handlers render them."""
    found = RoleWalk()
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{demo_server}/accounts/login/")
    check([("/accounts/login/", page)], found)
    assert page.goto(f"{demo_server}/no-such-page/").status == 404
    check([("404, logged out", page)], found)
    with translation.override("zh-hans"), override_settings(DEBUG=False):
        rendered = {
            "/500/": loader.get_template("500.html").render({}),
            "/503/": loader.get_template("503.html").render({"zone_name": "周口经济开发区"}),
        }
    for url, body in rendered.items():
        page.route(demo_server + url, answer_with(body))
        page.goto(demo_server + url)
        check([(url, page)], found)

    log_in(page, demo_server, "unit", PASSWORDS["unit"])
    assert page.goto(f"{demo_server}/no-such-page/").status == 404
    check([("404, as unit", page)], found)
    assert page.goto(f"{demo_server}/projects/progress/review/").status == 403
    check([("403, as unit", page)], found)
    context.close()
    report(found)


def test_an_opened_operation_of_the_api_documentation_has_no_serious_violation(demo_server, open_as):
    """Swagger UI draws an operation's parameters and examples only once it is opened: a parameter's
    list box, its source ((query)), the example's colours and scrolling."""
    found = RoleWalk()
    page = open_as("staff", PHONE)
    page.goto(f"{demo_server}/api/docs/")
    page.locator(".opblock-summary-control").first.click()
    page.locator(".opblock-body .parameters").first.wait_for()
    check([("/api/docs/, an operation opened", page)], found)
    report(found)
