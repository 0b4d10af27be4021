from django.apps import apps
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from core import account_views, history_views, import_views, job_views, lookups, token_views
from core import views as core_views
from dashboard import views
from enterprises import views as enterprise_views
from projects import views as project_views

# The apps whose models moved to another in the split (docs/architecture.md): from, to.
APP_SPLIT = (("zone_portal", "core"), ("zone_portal", "reference"), ("enterprises", "problems"))


def moved_admin(old: str, new: str):
    """Bookmarks to the admin pages of ``new``'s models under their old app go to the new address,
    with what follows the model's name and the query kept."""
    names = "|".join(model._meta.model_name for model in apps.get_app_config(new).get_models())
    return re_path(
        rf"^admin/{old}/(?P<model>{names})/(?P<rest>.*)$",
        RedirectView.as_view(url=f"/admin/{new}/%(model)s/%(rest)s", permanent=True, query_string=True),
        name=f"admin_moved_to_{new}",
    )


urlpatterns = [
    path("", views.home, name="home"),
    path("badges/", views.badges, name="badges"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export/", views.dashboard_export, name="dashboard_export"),
    path("api/", include(("zone_portal.api_urls", "api"))),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", core_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", core_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/display/", account_views.display_settings, name="display_settings"),
    path("accounts/tokens/", token_views.token_list, name="api_tokens"),
    path("accounts/tokens/<str:key>/revoke/", token_views.token_revoke, name="api_token_revoke"),
    path("changes/", history_views.change_log, name="change_log"),
    path("changes/export/", history_views.change_log_export, name="change_log_export"),
    path("imports/", import_views.import_list, name="import_list"),
    path("imports/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:pk>/confirm/", import_views.import_confirm, name="import_confirm"),
    path("imports/new/<str:kind>/", import_views.import_upload, name="import_upload"),
    path("jobs/", job_views.job_list, name="job_list"),
    path("jobs/<int:pk>/", job_views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/status/", job_views.job_status, name="job_status"),
    path("jobs/<int:pk>/download/", job_views.job_download, name="job_download"),
    path("jobs/<int:pk>/rerun/", job_views.job_rerun, name="job_rerun"),
    # The searchable pickers' options (core.lookups).
    path("lookup/enterprises/", enterprise_views.enterprise_lookup, name="lookup_enterprises"),
    path("lookup/projects/", project_views.project_lookup, name="lookup_projects"),
    path("lookup/users/", lookups.user_lookup, name="lookup_users"),
    path("projects/", include("projects.urls")),
    # The registry's and the problems' pages share the "enterprises" URL namespace they were
    # published under (enterprises:ticket_list …): their names did not change when problems became an app.
    path("", include("problems.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    *[moved_admin(old, new) for old, new in APP_SPLIT],
    path(
        "admin/zone_portal/",
        RedirectView.as_view(pattern_name="admin:index", permanent=True),
        name="admin_moved_to_index",
    ),
    path("admin/", admin.site.urls),
    path("healthz", core_views.healthz, name="healthz"),
]

# Unknown addresses under /api/ answer in JSON like the API's own 404s; pages keep the 404 page.
handler404 = "core.views.not_found"
# A database that cannot be reached answers 503 (the page, or JSON under /api/); other errors 500.
handler500 = "core.resilience.server_error"
