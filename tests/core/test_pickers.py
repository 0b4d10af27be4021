"""Pickers over big tables (enterprises, projects, people) render only the chosen option(s) and
load the rest from their lookup as one types (core.forms.RemoteSelect); filters and
pickers are marked searchable; no picker says "---------"; the applied filters show as chips."""

import re

import pytest

from core.roles import Role
from tests.factories import (
    DepartmentFactory,
    EnterpriseFactory,
    ParkFactory,
    ProjectFactory,
    UserFactory,
    make_ticket,
)

pytestmark = pytest.mark.django_db

MANY = 300


def select_tag(page: str, name: str) -> str:
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>.*?</select>', page, re.S)
    assert match, f"no select named {name}"
    return match.group(0)


def options(page: str, name: str) -> list[tuple[str, str]]:
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select_tag(page, name))


def attribute(page: str, name: str, attr: str) -> str | None:
    match = re.search(rf'{attr}="([^"]*)"', select_tag(page, name).split(">")[0])
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.fixture
def unit():
    return DepartmentFactory(name="企业服务中心")


@pytest.fixture
def staff(unit):
    return UserFactory(username="zhang", display_name="张浩然", department=unit, roles=[Role.STAFF])


@pytest.fixture
def crowd(unit):
    """Enough enterprises, projects and people that a page listing them all would show it."""
    enterprises = EnterpriseFactory.create_batch(MANY)
    ProjectFactory.create_batch(40, enterprise=enterprises[0])
    UserFactory.create_batch(40, department=unit, roles=[Role.STAFF])
    return enterprises


def test_the_visit_form_renders_only_the_chosen_enterprise_and_visitor(client, staff, crowd):
    client.force_login(staff)
    chosen = crowd[123]

    page = client.get(f"/visits/new/?enterprise={chosen.pk}").content.decode()
    assert options(page, "enterprise") == [("", "输入名称搜索…"), (str(chosen.pk), chosen.name)]
    assert attribute(page, "enterprise", "data-remote") == "/lookup/enterprises/"
    assert options(page, "visitors") == [(str(staff.pk), "张浩然（企业服务中心）")]
    assert attribute(page, "visitors", "data-remote") == "/lookup/users/?role=any"
    assert attribute(page, "visitors", "data-placeholder") == "输入名称搜索…"
    assert options(client.get("/visits/new/").content.decode(), "enterprise") == [("", "输入名称搜索…")]
    assert page.count("周口测试企业") == 1
    assert "---------" not in page


def test_a_visit_saves_an_enterprise_the_page_did_not_list(client, staff, crowd):
    client.force_login(staff)
    chosen = crowd[250]
    response = client.post(
        "/visits/new/",
        {
            "enterprise": chosen.pk,
            "visited_on": "2026-01-05",
            "visitors": [staff.pk],
            "unit": staff.department_id,
            "problems-TOTAL_FORMS": "0",
            "problems-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert chosen.visits.count() == 1


def test_the_ticket_form_offers_the_enterprises_projects_through_the_lookup(client, staff, crowd):
    client.force_login(staff)
    page = client.get("/problems/new/").content.decode()
    assert options(page, "enterprise") == [("", "输入名称搜索…")]
    assert options(page, "project") == [("", "输入名称搜索…")]
    assert attribute(page, "project", "data-remote") == "/lookup/projects/"
    assert attribute(page, "project", "data-remote-with") == "enterprise=id_enterprise"
    assert page.count("周口测试企业") == 0 and page.count("测试项目") == 0
    assert "---------" not in page


def test_the_ticket_edit_form_looks_up_the_tickets_enterprises_projects(client, crowd, staff):
    office = UserFactory(username="duban", roles=[Role.SUPERVISOR])
    enterprise = crowd[0]
    ticket = make_ticket(user=office, enterprise=enterprise, title="用地问题")
    client.force_login(office)
    page = client.get(f"/problems/{ticket.pk}/edit/").content.decode()
    assert options(page, "project") == [("", "输入名称搜索…")]
    assert attribute(page, "project", "data-remote") == f"/lookup/projects/?enterprise={enterprise.pk}"


def test_the_project_form_renders_only_the_chosen_enterprise_and_staff(client, staff, crowd):
    client.force_login(staff)
    page = client.get("/projects/new/").content.decode()
    assert options(page, "enterprise") == [("", "输入名称搜索…")]
    assert options(page, "staff_in_charge") == [
        ("", "输入名称搜索…"),
        (str(staff.pk), "张浩然（企业服务中心）"),
    ]
    assert attribute(page, "staff_in_charge", "data-remote") == "/lookup/users/?role=staff"
    # Small tables stay whole, but searchable, and say 请选择… rather than ---------.
    assert options(page, "park")[0] == ("", "请选择…")
    assert attribute(page, "park", "data-select") == ""
    assert "---------" not in page

    project = ProjectFactory(enterprise=crowd[7], staff_in_charge=staff)
    page = client.get(f"/projects/{project.pk}/edit/").content.decode()
    assert options(page, "enterprise") == [("", "输入名称搜索…"), (str(crowd[7].pk), crowd[7].name)]
    assert page.count("周口测试企业") == 1


def test_filters_over_people_render_only_the_chosen_one(client, staff, crowd):
    client.force_login(staff)
    page = client.get("/projects/").content.decode()
    assert options(page, "staff_in_charge") == [("", "全部")]
    assert attribute(page, "staff_in_charge", "data-remote") == "/lookup/users/?role=staff&inactive=1"
    page = client.get(f"/projects/?staff_in_charge={staff.pk}").content.decode()
    assert options(page, "staff_in_charge") == [("", "全部"), (str(staff.pk), "张浩然（企业服务中心）")]

    admin = UserFactory(username="admin", roles=[Role.ADMIN])
    client.force_login(admin)
    page = client.get("/changes/").content.decode()
    assert options(page, "user") == [("", "全部")]
    assert attribute(page, "user", "data-remote") == "/lookup/users/?inactive=1"


def test_every_select_of_a_filter_form_is_searchable_and_multiple_ones_say_all(client, staff):
    client.force_login(staff)
    for url, form_id in [
        ("/projects/", "project-filters"),
        ("/problems/", "ticket-filters"),
        ("/enterprises/", "enterprise-filters"),
        ("/projects/milestones/", "milestone-filters"),
    ]:
        page = client.get(url).content.decode()
        form = re.search(rf'<form[^>]*id="{form_id}".*?</form>', page, re.S).group(0)
        selects = re.findall(r"<select[^>]*>", form)
        names = [re.search(r'name="([^"]*)"', tag).group(1) for tag in selects]
        unmarked = [name for name, tag in zip(names, selects, strict=True) if "data-select" not in tag]
        assert unmarked == (["month"] if url == "/projects/" else []), url  # the period's month stays plain
        for tag in selects:
            if "multiple" in tag:
                assert 'data-placeholder="全部"' in tag, tag


def test_the_lists_show_their_filters_as_chips(client, staff):
    food, logistics = ParkFactory(name="健康食品产业园"), ParkFactory(name="现代物流园")
    ProjectFactory(name="特种油脂精炼项目", park=food)
    client.force_login(staff)

    page = client.get(f"/projects/?park={food.pk}&park={logistics.pk}&page=1").content.decode()
    chips = re.findall(
        r'<span class="filter-chip[^"]*" data-filter="(\w+)">([^<]*)<a[^>]*href="([^"]*)"', page
    )
    assert chips == [
        ("park", "园区：健康食品产业园", f"/projects/?park={logistics.pk}"),
        ("park", "园区：现代物流园", f"/projects/?park={food.pk}"),
    ]
    assert 'id="filter-chips"' not in client.get("/projects/").content.decode()

    page = client.get("/problems/?status=pending&overdue=true").content.decode()
    assert "状态：待交办" in page and "超期：是" in page
    assert 'href="/problems/?overdue=true"' in page and 'href="/problems/?status=pending"' in page

    page = client.get(f"/enterprises/?park={food.pk}&q=周口").content.decode()
    assert "园区：健康食品产业园" in page and 'href="/enterprises/?q=%E5%91%A8%E5%8F%A3"' in page

    leader = UserFactory(username="lingdao", roles=[Role.LEADER])
    client.force_login(leader)
    page = client.get(f"/dashboard/?year=2025&month=9&park={food.pk}&level=provincial").content.decode()
    assert "园区：健康食品产业园" in page and "项目级别：省重点" in page
    assert f'href="/dashboard/?year=2025&amp;month=9&amp;park={food.pk}"' in page
