"""The monthly progress grid for a screen reader: a table whose every field is named by its
project and its column, and whose refused figures say so on the field (issue 22)."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from core.roles import Role
from projects import selectors
from tests.factories import MonthlyProgressFactory, ProjectFactory, UserFactory
from tests.html_forms import form_data

pytestmark = pytest.mark.django_db


class _Page(HTMLParser):
    """The text of every element with an id, the roles used, and the grid's fields' attributes."""

    VOID = {"input", "br", "img", "hr", "meta", "link"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: dict[str, str] = {}
        self.roles: list[str] = []
        self.fields: dict[str, dict] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("role"):
            self.roles.append(attrs["role"])
        if "data-grid-cell" in attrs:
            self.fields[attrs["name"]] = attrs
        if tag in self.VOID:
            return
        self._open.append(attrs.get("id"))
        if attrs.get("id"):
            self.text[attrs["id"]] = ""

    def handle_endtag(self, tag):
        if tag not in self.VOID and self._open:
            self._open.pop()

    def handle_data(self, data):
        for element_id in filter(None, self._open):
            self.text[element_id] += data


def read(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def name_of(page: _Page, field: str) -> str:
    """The field's accessible name from its aria-labelledby, as the browser joins it."""
    ids = page.fields[field]["aria-labelledby"].split()
    return " ".join(page.text[element_id].strip() for element_id in ids)


@pytest.fixture
def staff():
    return UserFactory(username="zhang", roles=[Role.STAFF])


def grid_url(period):
    return f"{reverse('projects:grid')}?year={period.year}&month={period.month}"


def test_every_grid_field_is_named_by_its_project_and_its_column(client, staff):
    period = selectors.current_month()
    first = ProjectFactory(name="益海特油项目", staff_in_charge=staff)
    second = ProjectFactory(name="中兴新业港项目", staff_in_charge=staff)
    locked = ProjectFactory(name="已审项目", staff_in_charge=staff)
    MonthlyProgressFactory(project=locked, year=period.year, month=period.month)  # approved: read-only
    client.force_login(staff)

    page = read(client.get(grid_url(period)).content.decode())

    assert {name: name_of(page, name) for name in page.fields} == {
        f"p{first.pk}-completed_investment": "益海特油项目 本月完成（万元）",
        f"p{first.pk}-physical_progress": "益海特油项目 形象进度",
        f"p{first.pk}-problems": "益海特油项目 存在问题",
        f"p{second.pk}-completed_investment": "中兴新业港项目 本月完成（万元）",
        f"p{second.pk}-physical_progress": "中兴新业港项目 形象进度",
        f"p{second.pk}-problems": "中兴新业港项目 存在问题",
    }
    # One header row of five columns, then a row per project headed by its name.
    assert page.roles.count("table") == 1
    assert page.roles.count("columnheader") == 5
    assert page.roles.count("row") == 1 + 3
    assert page.roles.count("rowheader") == 3
    assert page.roles.count("cell") == 3 * 4
    # The figure is a text box (the arrow keys need its caret), with the decimal keypad on phones.
    figure = page.fields[f"p{first.pk}-completed_investment"]
    assert (figure["type"], figure["inputmode"]) == ("text", "decimal")


def test_a_refused_figure_is_marked_invalid_and_described_by_its_error(client, staff):
    period = selectors.current_month()
    bad = ProjectFactory(name="甲项目", staff_in_charge=staff)
    good = ProjectFactory(name="乙项目", staff_in_charge=staff)
    client.force_login(staff)
    data = form_data(client.get(grid_url(period)).content.decode(), "progress-grid")
    data.update({f"p{bad.pk}-completed_investment": "-5", f"p{good.pk}-completed_investment": "10"})
    data["save"] = "1"

    page = read(client.post(grid_url(period), data).content.decode())

    field = page.fields[f"p{bad.pk}-completed_investment"]
    assert field["aria-invalid"] == "true"
    assert page.text[field["aria-describedby"]].strip() == "确保该值大于或等于0。"
    assert name_of(page, f"p{bad.pk}-completed_investment") == "甲项目 本月完成（万元）"
    others = [attrs for name, attrs in page.fields.items() if name != f"p{bad.pk}-completed_investment"]
    assert not [attrs for attrs in others if "aria-invalid" in attrs or "aria-describedby" in attrs]
