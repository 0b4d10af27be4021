import pytest

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests make many users; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def admin_client_zh(client, superuser):
    """A logged-in superuser's client that asks for Chinese, the default language."""
    client.force_login(superuser)
    return client


@pytest.fixture(autouse=True)
def fresh_cache():
    """The API's throttles count requests in the cache: each test starts from zero."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def history_is_complete(request):
    """Every write any test makes, by whatever path, must leave history rows that match the data.

    A test that sets up data behind the services' back on purpose says so with
    ``@pytest.mark.history_bypass(reason)``."""
    names = request.fixturenames
    database = next((name for name in ("transactional_db", "db") if name in names), None)
    marked = request.node.get_closest_marker("django_db") is not None
    if (database is None and not marked) or request.node.get_closest_marker("history_bypass"):
        yield
        return
    if database:
        # Set up the database first, so this check runs before its rollback.
        request.getfixturevalue(database)
    yield
    from core.history import unrecorded_changes

    problems = unrecorded_changes()
    assert not problems, "Changes without history:\n" + "\n".join(problems[:20])
