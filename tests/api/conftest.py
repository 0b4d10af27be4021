"""The API's role matrix: one user per role, two units, and clients that call as them with a token."""

import pytest
from rest_framework.test import APIClient

from core.api.tokens import create_token
from core.roles import Role
from tests.factories import DepartmentFactory, UserFactory

# Who, in the matrix: (role, unit). "staff_in" and "unit_in" belong to unit U1, where the test
# objects are; "staff_out" and "unit_out" to U2.
ROLES = {
    "admin": ([Role.ADMIN], "U1"),
    "leader": ([Role.LEADER], None),
    "reviewer": ([Role.REVIEWER], None),
    "supervisor": ([Role.SUPERVISOR], None),
    "staff_in": ([Role.STAFF], "U1"),
    "staff_out": ([Role.STAFF], "U2"),
    "unit_in": ([Role.UNIT], "U1"),
    "unit_out": ([Role.UNIT], "U2"),
    "norole": ([], "U1"),
}


class Units:
    def __init__(self):
        self.U1 = DepartmentFactory(name="经济发展局")
        self.U2 = DepartmentFactory(name="住房和城乡建设局")


@pytest.fixture
def units(db):
    return Units()


@pytest.fixture
def people(units):
    """username → user, one per entry of ROLES."""
    return {
        name: UserFactory(
            username=f"api_{name}",
            roles=roles,
            department=getattr(units, unit) if unit else None,
        )
        for name, (roles, unit) in ROLES.items()
    }


@pytest.fixture
def api_as(people):
    """``api_as("staff_in")``: an APIClient authenticated with a fresh token of that user;
    ``api_as(None)`` is anonymous. Chinese unless ``language="en"``."""

    def make(who, language=None):
        client = APIClient()
        headers = {}
        if who is not None:
            _instance, secret = create_token(people[who], name="tests", days=1)
            headers["HTTP_AUTHORIZATION"] = f"Token {secret}"
        if language:
            headers["HTTP_ACCEPT_LANGUAGE"] = language
        client.credentials(**headers)
        return client

    return make
