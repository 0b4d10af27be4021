"""The demo world (``manage.py load_demo``) for the tests that use the portal as each of its users.

Loaded once for this folder and committed, served by a live server of its own, and emptied when
the folder is done. pytest-django's ``live_server`` would empty the database after every test (it
brings ``transactional_db``), and loading the demo takes a quarter of a minute, so the folder's
tests share one world and run in order on it: the journeys do a first week's work, then the
narrow-screen walk reads every page with what they left.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.servers.basehttp import WSGIServer
from django.db import DEFAULT_DB_ALIAS
from django.test import override_settings
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler
from django.test.utils import setup_databases, teardown_databases
from playwright.sync_api import expect
from pytest_django.fixtures import _get_databases_for_setup
from pytest_django.live_server_helper import LiveServer

from core.roles import sync_role_groups
from demo import demo_data
from tests.browser.helpers import log_in
from tests.browser.roles.pages import PHONE, page_urls, walk_role

# A step's page can take longer than expect()'s default 5 s on a machine running other tests too.
expect.set_options(timeout=20_000)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as tests/conftest.py sets per test
PASSWORDS = {row["username"]: row["password"] for row in demo_data.USERS}


@pytest.fixture(scope="package")
def test_database(request, django_db_setup, django_db_blocker, django_db_keepdb, django_db_createdb):
    """The test database. pytest-django creates it only when a collected test asks for it (``db``,
    a marker, ``live_server``), and these tests use it through the fixtures here, so when they run
    alone they create it themselves, the way pytest-django does."""
    aliases, _serialized = _get_databases_for_setup(request.session.items)
    if DEFAULT_DB_ALIAS in aliases:
        yield
        return
    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=0,
            interactive=False,
            aliases={DEFAULT_DB_ALIAS},
            keepdb=django_db_keepdb and not django_db_createdb,
        )
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=0)


@pytest.fixture(scope="package")
def demo_world(test_database, django_db_blocker, tmp_path_factory):
    """The demo world in the test database; photos and uploads go to a temporary folder."""
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=FAST_HASHERS):
        with override_settings(DEBUG=True):  # load_demo refuses to run without it
            call_command("load_demo", stdout=StringIO())
        try:
            yield PASSWORDS
        finally:
            call_command("flush", interactive=False, verbosity=0)
            sync_role_groups()  # the groups migrate made, for the tests that come after


class SerialServerThread(LiveServerThread):
    """A live server that answers one request at a time when its threads would share the test's
    database connection (in-memory SQLite): two requests at once on one SQLite connection (a page
    and its menu badges, two tabs) hang. With its own connections (PostgreSQL) it stays threaded."""

    def _create_server(self, connections_override=None):
        if not connections_override:
            return super()._create_server(connections_override=connections_override)
        return WSGIServer((self.host, self.port), QuietWSGIRequestHandler, allow_reuse_address=False)


@pytest.fixture(scope="package")
def demo_server(demo_world):
    """The base URL of a live server on the demo world."""
    server = LiveServer("localhost", start=False)
    threaded = server.thread
    server.thread = SerialServerThread(
        threaded.host, threaded.static_handler, threaded.connections_override, threaded.port
    )
    server.thread.daemon = True
    server.start()
    server._live_server_modified_settings.enable()
    yield server.url
    server._live_server_modified_settings.disable()
    server.stop()


@pytest.fixture
def open_as(browser, demo_server):
    """``open_as(username, viewport)``: a page logged in as that demo user, in a context of its own."""
    contexts = []

    def open_page(username, viewport):
        phone = viewport["width"] < 600
        context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        log_in(page, demo_server, username, PASSWORDS[username])
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture(scope="package")
def pages(demo_world, demo_server):
    """Every page the walks open (tests/browser/roles/pages.py), as URLs, read once the tests that
    run before the walks (the journeys) have done their work."""
    return page_urls()


@pytest.fixture(scope="package")
def role_walk(browser, pages, demo_server):
    """``role_walk(role)``: what the walk of every page as that role found (pages.walk_role), walked
    once for the package: the phone-layout and the accessibility tests read the same walk."""
    walks = {}

    def walked(role):
        if role not in walks:
            context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
            try:
                home = context.new_page()
                log_in(home, demo_server, role, PASSWORDS[role])
                links = "links => links.map(link => link.getAttribute('href').split('?')[0])"
                menu = set(home.eval_on_selector_all("#main-nav a[href^='/']", links))
                walks[role] = walk_role(context, demo_server, pages)
                walks[role].menu = menu
            finally:
                context.close()
        return walks[role]

    return walked
