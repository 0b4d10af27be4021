"""What the attack tests share."""

import pytest
from django.test import Client

# The API tests' role matrix (units U1 and U2, one user per role) and their token clients, so the
# web, admin and API attacks test the same people.
from tests.api.conftest import api_as, people, units  # noqa: F401


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Uploads made by these tests go to a temporary folder, never the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def web_as(people):  # noqa: F811
    """``web_as("staff_in")``: a browser session signed in as that user of the matrix; ``web_as(None)``
    is anonymous. One client per user for the whole test."""
    clients = {}

    def make(who):
        if who not in clients:
            client = Client()
            if who is not None:
                client.force_login(people[who])
            clients[who] = client
        return clients[who]

    return make
