"""Publishing a month (月报发布) through the API: each month's review state, publish, reopen.

The same service as the page (``services.month_publish`` / ``month_reopen``), which checks who may
publish, that the month is over and that no report still waits for review."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from core.api.base import RulesMixin, post_action, read_body
from projects import selectors, services
from projects.models import MonthPublication
from projects.permissions import ensure_can_publish_months, ensure_can_read
from projects.selectors import MonthReview, Period


class MonthStateSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    published = serializers.BooleanField(help_text="Published: the month's figures are the official ones.")
    on_plan = serializers.IntegerField(help_text="Projects on the year's plan.")
    approved = serializers.IntegerField()
    submitted = serializers.IntegerField(help_text="Waiting for review.")
    returned = serializers.IntegerField()
    draft = serializers.IntegerField()
    not_reported = serializers.IntegerField()
    published_by = serializers.CharField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    reopen_reason = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField(
        allow_null=True,
        help_text="Send it back when publishing or reopening; null before the first publication.",
    )


def month_state(review: MonthReview) -> dict:
    publication = review.publication
    return {
        "year": review.year,
        "month": review.month,
        "published": review.published,
        **{
            name: getattr(review, name)
            for name in ("on_plan", "approved", "submitted", "returned", "draft", "not_reported")
        },
        "published_by": publication.published_by.username
        if publication and publication.published_by
        else None,
        "published_at": publication.published_at if publication else None,
        "reopen_reason": publication.reopen_reason if publication else "",
        "version": publication.version if publication else None,
    }


class MonthSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    month = serializers.IntegerField(min_value=1, max_value=12)
    version = serializers.IntegerField(min_value=1, required=False, help_text="The version you read.")


class MonthReopenSerializer(MonthSerializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the month is reopened (in the history).")


class YearQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)


class MonthViewSet(RulesMixin, viewsets.GenericViewSet):
    """Reporting months: how far each month's reports are, and publishing them (reviewers and
    administrators). Pages, bulletins and the dashboard summary default to the latest published month."""

    serializer_class = MonthStateSerializer
    pagination_class = None
    filter_backends = []
    action_rules = {
        "list": ensure_can_read,
        "publish": ensure_can_publish_months,
        "reopen": ensure_can_publish_months,
    }

    def get_queryset(self):
        return MonthPublication.objects.none()

    def _state(self, year: int, month: int) -> Response:
        review = selectors.month_review(Period(year, month))
        return Response(MonthStateSerializer(month_state(review)).data)

    @extend_schema(
        summary="Each month of a year that has begun, latest first, with its review state",
        parameters=[OpenApiParameter("year", int, description="Default: this year.")],
        responses={200: MonthStateSerializer(many=True)},
    )
    def list(self, request):
        query = YearQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data.get("year") or timezone.localdate().year
        return Response(
            MonthStateSerializer([month_state(r) for r in selectors.month_reviews(year)], many=True).data
        )

    @post_action(
        "Publish a month that is over and has no report waiting for review (reviewers)",
        MonthSerializer,
        {200: MonthStateSerializer},
        detail=False,
    )
    def publish(self, request):
        data = read_body(MonthSerializer, request)
        services.month_publish(
            year=data["year"], month=data["month"], user=request.user, expected_version=data.get("version")
        )
        return self._state(data["year"], data["month"])

    @post_action(
        "Reopen a published month for a correction, with the reason (reviewers)",
        MonthReopenSerializer,
        {200: MonthStateSerializer},
        detail=False,
    )
    def reopen(self, request):
        data = read_body(MonthReopenSerializer, request)
        publication = get_object_or_404(MonthPublication, year=data["year"], month=data["month"])
        services.month_reopen(
            publication=publication,
            user=request.user,
            reason=data["reason"],
            expected_version=data.get("version"),
        )
        return self._state(data["year"], data["month"])
