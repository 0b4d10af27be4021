"""What the browser tests share."""

from urllib.parse import unquote

PASSWORD = "test-pass-123"  # the factories' password


def log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/")


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
