"""Browser tests drive Debian's Chromium through pytest-playwright; nothing is downloaded."""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: apt-get install chromium fonts-wqy-zenhei (see README)"
    browser_tests = [item for item in items if Path(str(item.fspath)).is_relative_to(Path(__file__).parent)]
    if browser_tests and os.environ.get("CI_REQUIRE_BROWSER") == "1":
        # CI must run them: a missing browser fails the run instead of skipping quietly.
        raise pytest.UsageError(f"CI_REQUIRE_BROWSER=1 but {reason}")
    for item in browser_tests:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
