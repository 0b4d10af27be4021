"""Admin addresses from before the app split (bookmarks, links in old mails) still open the page."""

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/admin/zone_portal/park/", "/admin/reference/park/"),
        (
            "/admin/zone_portal/department/?q=%E5%8F%91%E6%94%B9",
            "/admin/reference/department/?q=%E5%8F%91%E6%94%B9",
        ),
        ("/admin/zone_portal/user/7/change/", "/admin/core/user/7/change/"),
        ("/admin/enterprises/problemticket/12/history/", "/admin/problems/problemticket/12/history/"),
        ("/admin/enterprises/visit/", "/admin/problems/visit/"),
        ("/admin/zone_portal/", "/admin/"),
    ],
)
def test_old_admin_addresses_move_permanently(client, old, new):
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == new


@pytest.mark.django_db
def test_models_that_stayed_are_not_redirected(admin_client_zh):
    assert admin_client_zh.get("/admin/enterprises/enterprise/").status_code == 200
    # A model that was never in the old app is not invented a new address.
    assert admin_client_zh.get("/admin/enterprises/project/").status_code == 404


@pytest.mark.django_db
def test_a_redirected_page_opens_at_its_new_address(admin_client_zh):
    response = admin_client_zh.get("/admin/zone_portal/park/", follow=True)
    assert response.redirect_chain == [("/admin/reference/park/", 301)]
    assert response.status_code == 200
    assert "园区" in response.content.decode()
