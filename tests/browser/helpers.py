"""What the browser tests share."""

from pathlib import Path
from urllib.parse import unquote

from django.conf import settings

PASSWORD = "test-pass-123"  # the factories' password


def log_in(page, base, username, password=PASSWORD):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/")


_LAYOUT_CHECK = (Path(__file__).parent / "layout_check.js").read_text()


def layout_problems(page, unfold=False) -> list[str]:
    """What is wrong with the page's layout at its window's width; [] when nothing is."""
    return page.evaluate(_LAYOUT_CHECK, unfold)


_AXE_CHECK = (Path(__file__).parent / "axe_check.js").read_text()


def axe_start(page, exclude=()):
    """Start axe-core's WCAG 2.0/2.1 A and AA checks on the page as it is now (axe_check.js) and
    return at once, so that several tabs check at the same time; ``axe_result`` waits for them.
    axe-core (static/vendor/axe-core) is added as a script from the site's own origin, which the CSP
    allows (inline script would be blocked). ``exclude``: selectors of elements axe skips."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(url=f"{settings.STATIC_URL}vendor/axe-core/axe.min.js")
    page.evaluate(f"exclude => {{ window.__axeRun = ({_AXE_CHECK})(exclude); }}", list(exclude))


def axe_result(page) -> list[dict]:
    """The violations the check ``axe_start`` started on the page found (axe_check.js says how)."""
    return page.evaluate("() => window.__axeRun")


def axe_violations(page, exclude=()) -> list[dict]:
    """axe-core's violations on the page as it is now, waited for (one page; see axe_start)."""
    axe_start(page, exclude)
    return axe_result(page)


def wait_until(page, expression, arg=None, timeout=10_000):
    """Wait until a page function (``"() => …"`` or ``"arg => …"``) returns something true.
    Not page.wait_for_function: under our CSP (no 'unsafe-eval') Playwright's polling evaluates the
    predicate's text again on later frames, which the page refuses (EvalError); page.evaluate only
    compiles it in the synchronous part of a DevTools call, which the CSP lets through."""
    waited = 0
    while not page.evaluate(expression, arg):
        if waited >= timeout:
            raise AssertionError(f"still false after {timeout} ms: {expression}")
        page.wait_for_timeout(50)
        waited += 50


def pick(page, select, typed, option_text):
    """Choose in a searchable select (Tom Select, static/js/selects.js): type into its box, click the
    option that shows up. ``select``: the id of the <select> it replaces."""
    page.click(f"#{select}-ts-control")
    remote = page.locator(f"#{select}").get_attribute("data-remote")
    if remote:
        # Wait for the lookup's answer to the typed text: options shown before it may be replaced.
        with page.expect_response(
            lambda response: "/lookup/" in response.url and typed in unquote(response.url)
        ):
            page.keyboard.type(typed)
    else:
        page.keyboard.type(typed)
    option = page.locator(f"#{select}-ts-dropdown .option", has_text=option_text)
    option.wait_for()
    option.click()


def act(page, action, fields):
    """Open an action's form on the ticket page, fill it by field name, submit, expect success.
    A select's value is an option's value, or a dict of select_option's arguments (``label=…``)."""
    # The buttons open their form through Bootstrap's collapse, which works once the script at the
    # end of the page has run; the form is filled once it has finished opening.
    page.wait_for_load_state("load")
    page.click(f"button[data-action={action}]")
    form = page.locator(f"#form-{action}")
    form.wait_for(state="visible")
    opened = "id => document.getElementById(id).classList.contains('show')"
    wait_until(page, opened, f"action-{action}")
    for name, value in fields.items():
        field = form.locator(f"[name={action}-{name}]")
        if field.evaluate("element => element.tagName") == "SELECT":
            options = value if isinstance(value, dict) else {"value": value}
            field.select_option(**options, force=True)  # a searchable select keeps its <select>
        else:
            field.fill(value)
    with page.expect_navigation():  # the page may still show the last action's success message
        form.locator("button[name=go]").click()
    page.wait_for_selector(".alert-success")
