"""Everything under /api/: the router of every resource, the schema and its docs pages."""

from csp.constants import SELF
from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from core.api import history, tokens
from core.api.docs import RedocView, SwaggerView
from dashboard.api.views import DashboardSummaryView
from problems.api import views as problem_api
from problems.api.views import ROUTES as PROBLEM_ROUTES
from problems.api.views import AttachmentFileView
from projects.api import views as project_api
from projects.api.views import ROUTES as PROJECT_ROUTES
from projects.api.views import PhotoFileView
from reference.api import views as reference

REFERENCE_ROUTES = [
    ("departments", reference.DepartmentViewSet, "department"),
    ("parks", reference.ParkViewSet, "park"),
    ("clusters", reference.ClusterViewSet, "cluster"),
    ("industries", reference.IndustryViewSet, "industry"),
    ("leaders", reference.LeaderViewSet, "leader"),
    ("users", reference.UserViewSet, "user"),
    ("tokens", tokens.TokenViewSet, "token"),
]


class Router(DefaultRouter):
    """Record ids are numbers: anything else in their place is not a route (a JSON 404), never a lookup."""

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if not hasattr(viewset, "lookup_value_regex"):
            viewset.lookup_value_regex = r"[0-9]+"
        return super().get_lookup_regex(viewset, lookup_prefix)


router = Router()
for prefix, viewset, basename in [*REFERENCE_ROUTES, *PROJECT_ROUTES, *PROBLEM_ROUTES]:
    router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="api:schema"), name="docs"),
    # ReDoc builds its search index in a worker started from a blob: allowed on this page only.
    path(
        "redoc/",
        csp_update({"worker-src": [SELF, "blob:"]})(RedocView.as_view(url_name="api:schema")),
        name="redoc",
    ),
    path("dashboard/summary/", DashboardSummaryView.as_view(), name="dashboard-summary"),
    path("photos/<int:pk>/<str:kind>/", PhotoFileView.as_view(), name="photo-file"),
    path("attachments/<int:pk>/file/", AttachmentFileView.as_view(), name="attachment-file"),
    path("changes/", history.ChangeLogView.as_view(), name="changes"),
    path("projects/<int:pk>/history/", project_api.ProjectHistoryView.as_view(), name="project-history"),
    path(
        "enterprises/<int:pk>/history/",
        problem_api.EnterpriseHistoryView.as_view(),
        name="enterprise-history",
    ),
    path("tickets/<int:pk>/history/", problem_api.TicketHistoryView.as_view(), name="ticket-history"),
    *router.urls,
]
