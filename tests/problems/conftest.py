"""Fixtures the problem-ticket tests share: the office, a collector, a leader and two units."""

import pytest

from core.roles import Role
from tests.factories import DepartmentFactory, UserFactory


@pytest.fixture
def staff():
    return UserFactory(username="zhuanyuan", roles=[Role.STAFF])


@pytest.fixture
def office():
    return UserFactory(username="duban", roles=[Role.SUPERVISOR])


@pytest.fixture
def leader():
    return UserFactory(username="lingdao", roles=[Role.LEADER])


@pytest.fixture
def unit():
    return DepartmentFactory(name="区自然资源局")


@pytest.fixture
def handler(unit):
    return UserFactory(username="ziranziyuan", roles=[Role.UNIT], department=unit)


@pytest.fixture
def other_unit():
    return DepartmentFactory(name="区住建局")


@pytest.fixture
def other_handler(other_unit):
    return UserFactory(username="zhujian", roles=[Role.UNIT], department=other_unit)
