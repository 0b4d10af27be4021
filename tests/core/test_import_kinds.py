"""The import pages read the kinds the apps register (core.kinds): each kind's button, title, help
and whether its form asks for a period come from its registration, not from core."""

import re

import pytest
from django.urls import reverse

from core.roles import Role
from tests.factories import UserFactory


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(roles=[Role.STAFF]))
    return client


def test_the_import_list_offers_every_registered_kind_ledger_first(staff_client):
    html = staff_client.get(reverse("import_list")).content.decode()
    buttons = re.findall(
        r'<a class="btn (btn-[a-z-]+)" href="/imports/new/([a-z_]+)/">.*?</i> ([^<]+)</a>', html
    )
    assert buttons == [
        ("btn-primary", "project_ledger", "导入项目台账"),
        ("btn-outline-primary", "enterprises", "导入企业名录"),
    ]


def test_only_the_ledger_form_asks_for_the_period_and_each_says_what_its_file_holds(staff_client):
    ledger = staff_client.get(reverse("import_upload", args=["project_ledger"])).content.decode()
    listing = staff_client.get(reverse("import_upload", args=["enterprises"])).content.decode()
    assert 'name="year"' in ledger and 'name="month"' in ledger
    assert 'name="year"' not in listing and 'name="month"' not in listing
    assert "项目名称" in ledger and "企业名称" not in ledger
    assert "企业名称" in listing and "项目名称" not in listing
    assert "<h1" in ledger and "导入项目台账" in ledger and "导入企业名录" in listing
