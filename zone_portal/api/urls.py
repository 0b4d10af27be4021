"""Everything under /api/: the router of every resource, the schema and its docs pages."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from enterprises.api.views import ROUTES as ENTERPRISE_ROUTES
from enterprises.api.views import AttachmentFileView
from projects.api.views import ROUTES as PROJECT_ROUTES
from projects.api.views import PhotoFileView

from . import reference, tokens
from .views import DashboardSummaryView

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
for prefix, viewset, basename in [*REFERENCE_ROUTES, *PROJECT_ROUTES, *ENTERPRISE_ROUTES]:
    router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("dashboard/summary/", DashboardSummaryView.as_view(), name="dashboard-summary"),
    path("photos/<int:pk>/<str:kind>/", PhotoFileView.as_view(), name="photo-file"),
    path("attachments/<int:pk>/file/", AttachmentFileView.as_view(), name="attachment-file"),
    *router.urls,
]
