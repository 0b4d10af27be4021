"""The reference data both importers look rows' names up in (reference.lookup)."""

import pytest

from reference.lookup import References
from tests.factories import DepartmentFactory, IndustryFactory, ParkFactory

pytestmark = pytest.mark.django_db


def test_parks_units_and_industries_are_found_by_name_alias_and_short_name_written_loosely():
    # Given a park with an alias, a unit with a short name and an industry
    park = ParkFactory(name="高新产业园（东区）", alias="东区")
    unit = DepartmentFactory(name="经济发展局", short_name="经发局")
    industry = IndustryFactory(name="装备制造")

    # When the reference data is loaded
    found = References()

    # Then each is known by its normalised name (half-width brackets, no spaces) and its other name
    assert found.parks["高新产业园(东区)"] == park
    assert found.parks["东区"] == park
    assert found.units["经济发展局"] == unit
    assert found.units["经发局"] == unit
    assert found.industries["装备制造"] == industry


def test_a_name_wins_over_another_records_alias_of_the_same_spelling():
    # Given a park whose alias is the name of another park
    named = ParkFactory(name="西区")
    ParkFactory(name="西区产业园", alias="西区")

    # Then the name is the one a file means
    assert References().parks["西区"] == named
