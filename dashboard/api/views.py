"""API views that belong to no single app: the dashboard summary."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core.routers import read_from_replica
from dashboard import selectors as dashboard
from dashboard.api.serializers import SummarySerializer, rollup_fields

DASHBOARD_PARAMETERS = [
    OpenApiParameter(
        "year", int, description="Year of the figures; default: the latest published month's (月报发布)."
    ),
    OpenApiParameter("month", int, description="Figures are year-to-date up to this month (1–12)."),
    OpenApiParameter("include_submitted", bool, description="Count submitted (not yet approved) reports."),
    OpenApiParameter("level", str, many=True, description="Project level(s), as in the project list."),
    OpenApiParameter("park", str, many=True, description="Park id(s); `null` for projects without one."),
    OpenApiParameter("cluster", str, description="Industrial cluster id; `null` for none."),
    OpenApiParameter("industry", str, description="Industry id; `null` for none."),
    OpenApiParameter("responsible_leader", str, description="Leader id; `null` for none."),
    OpenApiParameter("batch", int, description="“三个一批” batch id."),
]


class DashboardSummaryView(GenericAPIView):
    """The dashboard's headline and its level and park splits, with the dashboard's filters and the
    same scope rules (a unit-scoped reader sees its unit's projects)."""

    serializer_class = SummarySerializer
    filter_backends = []
    pagination_class = None

    @extend_schema(
        summary="Dashboard summary: plan, completed, 完成率 against 时序进度, by level and park",
        parameters=DASHBOARD_PARAMETERS,
    )
    @read_from_replica()
    def get(self, request):
        selection = dashboard.select(request.user, request.query_params)
        if selection.errors:
            raise ValidationError(selection.errors)
        headline, splits = dashboard.summary(selection)
        data = {
            **rollup_fields(headline),
            "year": selection.period.year,
            "month": selection.period.month,
            "include_submitted": selection.include_submitted,
            "published": selection.review.published,
            "review": {
                name: getattr(selection.review, name)
                for name in ("on_plan", "approved", "submitted", "returned", "draft", "not_reported")
            },
            "by_level": [
                {**rollup_fields(r.rollup), "key": r.key, "label": r.label} for r in splits["level"].rows
            ],
            "by_park": [
                {**rollup_fields(r.rollup), "key": r.key, "label": r.label} for r in splits["park"].rows
            ],
        }
        return Response(SummarySerializer(data).data)
