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
