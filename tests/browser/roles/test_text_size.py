"""适老化 (issue 22): the main pages of each role stay usable with the browser's text at 200 % and
with the user's own 特大 setting, in a desktop window and a phone's: nothing scrolls sideways (a
table scrolls inside its own box) and no button's label breaks over lines (layout_check.js).

The browser's text size is set as Chromium's own setting is (its default font size, which
Bootstrap's rem follow), through the DevTools protocol, so the page's CSS is not touched. The pages
are the ones each role opens most, not every page: the whole walk at 375 px is test_narrow's.
"""

import base64
import io

import pytest
from django.urls import reverse
from PIL import Image

from core.models import TextSize, User
from problems.models import ProblemTicket
from projects.models import Project
from tests.browser.helpers import layout_problems

pytestmark = pytest.mark.serial
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}


def main_pages() -> dict[str, list[str]]:
    """The pages each role opens most, as URLs; "" is the logged-out visitor."""
    staff = User.objects.get(username="staff")
    project = Project.objects.filter(staff_in_charge=staff).order_by("pk").first()
    ticket = ProblemTicket.objects.order_by("pk").first()
    return {
        "": [reverse("login")],
        "staff": [
            reverse("home"),
            reverse("projects:list"),
            reverse("projects:detail", args=[project.pk]),
            reverse("projects:grid"),
            reverse("enterprises:ticket_list"),
            reverse("enterprises:ticket_detail", args=[ticket.pk]),
            reverse("enterprises:list"),
        ],
        "leader": [reverse("dashboard")],
        "reviewer": [reverse("projects:review")],
    }


def larger_browser_text(page, percent):
    """The browser's text size, as its settings set it: the default font size (16 px at 100 %).
    Set once the page has loaded a document (before, Chromium drops it); a screenshot resets it."""
    session = page.context.new_cdp_session(page)
    session.send(
        "Page.setFontSizes", {"fontSizes": {"standard": 16 * percent // 100, "fixed": 13 * percent // 100}}
    )


def screenshot(page, path, most=6):
    """The page's first ``most`` screens, one under the other, to look at. Each as the window shows
    it: Playwright's screenshots, and DevTools' beyond the window, reset the browser's text size."""
    session = page.context.new_cdp_session(page)
    height = page.viewport_size["height"]
    screens = []
    for top in range(0, min(page.evaluate("document.documentElement.scrollHeight"), most * height), height):
        page.evaluate("top => window.scrollTo(0, top)", top)
        shot = session.send("Page.captureScreenshot", {"format": "png"})
        screens.append(Image.open(io.BytesIO(base64.b64decode(shot["data"]))))
    session.detach()
    page.evaluate("window.scrollTo(0, 0)")
    whole = Image.new("RGB", (screens[0].width, sum(screen.height for screen in screens)), "white")
    for index, screen in enumerate(screens):
        whole.paste(screen, (0, index * screens[0].height))
    whole.save(path)


def walk(page, base, urls, root_font_size, shots=None):
    """Open each URL in the page; the layout problems found, by URL. ``shots``: a path prefix for a
    full-page screenshot of each, to look at (test-artifacts/)."""
    problems = []
    for number, url in enumerate(urls):
        response = page.goto(base + url)
        assert response.status == 200, f"{url}: {response.status}"
        # The text size took: Bootstrap's rem follow the root's font size.
        assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == root_font_size, url
        problems += [f"{url}: {problem}" for problem in layout_problems(page, unfold=True)]
        if shots:
            screenshot(page, f"{shots}-{number}.png")
    return problems


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_main_pages_at_200_percent_browser_text(
    viewport, demo_world, demo_server, open_as, browser, artifacts
):
    problems = []
    for role, urls in main_pages().items():
        if role:
            page = open_as(role, viewport)
        else:
            phone = viewport["width"] < 600
            context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone, locale="zh-CN")
            page = context.new_page()
            page.goto(demo_server + urls[0])
        larger_browser_text(page, 200)
        shots = artifacts / f"text-200-{role or 'visitor'}-{viewport['width']}"
        problems += walk(page, demo_server, urls, "32px", shots=shots)
        if not role:
            context.close()
    assert not problems, "\n".join(problems)


def test_main_pages_with_the_extra_large_setting(demo_world, demo_server, open_as, artifacts):
    """Staff choose 特大 in 显示设置 (the menu's page, a plain form) and every page follows, at 150 %
    of the browser's standard size; the setting is put back afterwards for the other tests. At the
    phone's width only: a desktop window at 150 % is less than the 200 % walked above."""
    page = open_as("staff", PHONE)
    try:
        page.goto(demo_server + reverse("display_settings"))
        page.check("input[name=text_size][value=larger]")
        with page.expect_navigation():
            page.click("#display-settings button[type=submit]")
        assert page.locator(".alert-success").is_visible()
        assert page.evaluate("document.documentElement.className") == "text-larger"
        # The admin's pages follow the setting too (their own templates and styles).
        urls = [reverse("display_settings"), *main_pages()["staff"], reverse("admin:index")]
        problems = walk(page, demo_server, urls, "24px", shots=artifacts / "text-larger-staff-375")
    finally:
        User.objects.filter(username="staff").update(text_size=TextSize.STANDARD)
    assert not problems, "\n".join(problems)
