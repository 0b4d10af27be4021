"""Figures written for people: a zero is a figure and shows as one (0.00, 0.00%); only a figure that
does not exist (None) shows as "—"."""

import re
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from problems import services
from tests.factories import DepartmentFactory, EnterpriseYearlyFigureFactory, UserFactory, make_ticket


def render(expression: str, value) -> str:
    return Template("{% load portal %}{{ value|" + expression + " }}").render(Context({"value": value}))


@pytest.mark.parametrize(
    ("expression", "zero", "shown"),
    [
        ("money", Decimal("0"), "0.00"),
        ("money", 0, "0.00"),
        ("yi", Decimal("0.00"), "0.00"),  # 0 万元 = 0.00 亿元
        ("percent", Decimal("0"), "0.00%"),
        ("points", Decimal("0"), "0.00"),
        ("points_size", Decimal("-0.00"), "0.00"),
    ],
)
def test_zero_is_a_figure(expression, zero, shown):
    assert render(expression, zero) == shown


@pytest.mark.parametrize("expression", ["money", "yi", "percent", "points", "points_size"])
def test_no_figure_is_a_dash(expression):
    assert render(expression, None) == "—"


@pytest.mark.django_db
def test_zero_employees_and_zero_days_to_resolve_show_as_0(client):
    office = UserFactory(username="duban", roles=[Role.SUPERVISOR])
    figure = EnterpriseYearlyFigureFactory(employees=0)
    # Collected and resolved the same day: 0 days to resolve on average.
    unit = DepartmentFactory(name="区住建局")
    handler = UserFactory(username="zhujian", roles=[Role.UNIT], department=unit)
    ticket = make_ticket(user=office, enterprise=figure.enterprise, collected_at=timezone.now())
    services.ticket_assign(ticket=ticket, user=office, unit=unit)
    services.ticket_resolve(ticket=ticket, user=handler, resolution="当天协调解决")
    services.ticket_close(ticket=ticket, user=office)
    client.force_login(office)

    enterprise = client.get(reverse("enterprises:detail", args=[figure.enterprise_id])).content.decode()
    stats = client.get(reverse("enterprises:stats")).content.decode()

    row = re.search(r"<tr><td>2023</td>.*?</tr>", enterprise).group(0)
    assert row.endswith('<td class="text-end">0</td></tr>')
    assert re.search(r'id="kpi-days">0(?:\.0+)?</div>', stats)
