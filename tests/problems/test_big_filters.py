"""Filters over big tables (a province's 100,000 enterprises, 50,000 projects) render only the
chosen option (core.forms.ChosenOnlySelect), yet filter exactly as a full select would."""

import re

import pytest

from tests.factories import EnterpriseFactory, ProjectFactory, make_ticket

pytestmark = pytest.mark.django_db


def options(page: str, select_id: str) -> list[tuple[str, str]]:
    select = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)


def test_the_problem_list_renders_only_the_chosen_enterprise(client, office):
    enterprises = [EnterpriseFactory(name=f"周口企业{i}有限公司") for i in range(30)]
    for enterprise in enterprises[:3]:
        make_ticket(user=office, enterprise=enterprise, title=f"{enterprise.name}的用地问题")
    client.force_login(office)

    unfiltered = client.get("/problems/").content.decode()
    assert [value for value, _ in options(unfiltered, "id_enterprise")] == [""]
    assert unfiltered.count("的用地问题") == 3

    chosen = enterprises[1]
    page = client.get(f"/problems/?enterprise={chosen.pk}").content.decode()
    assert options(page, "id_enterprise")[1:] == [(str(chosen.pk), chosen.name)]
    assert re.search(rf'<option value="{chosen.pk}"[^>]*selected', page)
    assert page.count("的用地问题") == 1 and "周口企业1有限公司的用地问题" in page


@pytest.mark.parametrize("value", ["999999", "abc", "1.5", "-1", "99999999999999999999999"])
def test_an_unknown_enterprise_is_a_field_error_not_a_crash(client, office, value):
    client.force_login(office)
    response = client.get(f"/problems/?enterprise={value}")
    assert response.status_code == 200
    page = response.content.decode()
    assert "选择一个有效的选项" in page
    assert [v for v, _ in options(page, "id_enterprise")] == [""]


@pytest.mark.parametrize("value", ["abc", "99999999999999999999999"])
def test_the_api_answers_400_to_a_project_that_is_no_id(client, admin_user, value):
    client.force_login(admin_user)
    assert client.get(f"/api/progress/?project={value}", HTTP_ACCEPT="text/html").status_code == 400


def test_the_progress_api_filter_form_lists_only_the_chosen_project(client, admin_user):
    projects = [ProjectFactory(name=f"重点项目{i}") for i in range(20)]
    client.force_login(admin_user)
    page = client.get(f"/api/progress/?project={projects[4].pk}", HTTP_ACCEPT="text/html").content.decode()
    assert options(page, "id_project")[1:] == [(str(projects[4].pk), str(projects[4]))]
