"""Shapes of the dashboard's figures in JSON: amounts in 万元 and rates as decimal strings."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from projects import figures

MONEY = {"max_digits": 16, "decimal_places": 2}
# A rate or gap that has no value without a plan.
NULLABLE_RATIO = {"max_digits": 9, "allow_null": True}


class FiguresSerializer(serializers.Serializer):
    project_count = serializers.IntegerField(help_text="Projects selected.")
    total_investment = serializers.DecimalField(**MONEY, help_text="Sum of total investment, 万元.")
    roster_count = serializers.IntegerField(help_text="Projects with a plan for the year.")
    planned_investment = serializers.DecimalField(**MONEY, help_text="Annual planned investment, 万元.")
    completed_investment = serializers.DecimalField(
        **MONEY, help_text="Year-to-date completed investment of the projects with a plan, 万元."
    )
    unplanned_completed_investment = serializers.DecimalField(
        **MONEY, help_text="Year-to-date completed investment of the projects without a plan, 万元."
    )
    completion_rate = serializers.DecimalField(
        **NULLABLE_RATIO, decimal_places=4, help_text="完成率 as a fraction; null without a plan."
    )
    schedule_progress = serializers.DecimalField(
        max_digits=5, decimal_places=4, help_text="时序进度 as a fraction (March: 0.2500)."
    )
    gap_points = serializers.DecimalField(
        **NULLABLE_RATIO, decimal_places=2, help_text="Percentage points above (+) or below (−) schedule."
    )
    lagging_count = serializers.IntegerField(
        help_text="Projects whose completion rate is below the schedule."
    )


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": True})
class GroupKeyField(serializers.ReadOnlyField):
    pass


class GroupSerializer(FiguresSerializer):
    key = GroupKeyField(help_text="The level's code or the park's id; null for the projects without one.")
    label = serializers.CharField()


class MonthReviewSerializer(serializers.Serializer):
    on_plan = serializers.IntegerField(help_text="Projects on the year's plan.")
    approved = serializers.IntegerField(help_text="Of them, with the month's report approved.")
    submitted = serializers.IntegerField(help_text="Waiting for review.")
    returned = serializers.IntegerField(help_text="Returned to the reporter.")
    draft = serializers.IntegerField(help_text="Saved as drafts, not submitted.")
    not_reported = serializers.IntegerField(help_text="Without a report for the month.")


class SummarySerializer(FiguresSerializer):
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    published = serializers.BooleanField(
        help_text="The month is published (月报发布): its figures are the official ones. Without year and "
        "month the summary is for the latest published month."
    )
    review = MonthReviewSerializer(help_text="Where the month's reports stand.")
    include_submitted = serializers.BooleanField(
        help_text="Submitted (not yet approved) reports counted too."
    )
    by_level = GroupSerializer(many=True)
    by_park = GroupSerializer(many=True)


def rollup_fields(rollup: figures.Rollup) -> dict:
    return {name: getattr(rollup, name) for name in FiguresSerializer._declared_fields}
