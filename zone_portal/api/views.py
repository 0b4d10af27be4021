"""API views that belong to no single app: the dashboard summary."""

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from zone_portal import dashboard

from .serializers import SummarySerializer, rollup_fields


class DashboardSummaryView(APIView):
    """The dashboard's headline and its level and park splits, with the dashboard's filters
    (``year``, ``month``, ``include_submitted``, ``level``, ``park``, ``cluster``, ``industry``,
    ``responsible_leader``, ``batch``) and the same scope rules."""

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
            "by_level": [
                {**rollup_fields(r.rollup), "key": r.key, "label": r.label} for r in splits["level"].rows
            ],
            "by_park": [
                {**rollup_fields(r.rollup), "key": r.key, "label": r.label} for r in splits["park"].rows
            ],
        }
        return Response(SummarySerializer(data).data)
