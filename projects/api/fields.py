"""Serializer pieces the API's resources share: money, rates and the reporting period."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api.fields import money, rate
from projects import figures
from projects.selectors import Period, default_period


class PeriodQuerySerializer(serializers.Serializer):
    """``year`` and ``month`` of the figures (year-to-date up to the month); default: the latest
    published month (月报发布). ``include_submitted`` counts submitted reports too."""

    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)
    month = serializers.IntegerField(min_value=1, max_value=12, required=False)
    include_submitted = serializers.BooleanField(required=False, default=False)

    def period(self) -> tuple[Period, bool]:
        data = self.validated_data
        default = default_period() if not ("year" in data and "month" in data) else None
        year = data.get("year") or default.year
        month = data.get("month") or default.month
        return Period(year, month), data.get("include_submitted", False)


def period_from(request) -> tuple[Period, bool]:
    """The period asked for in the query string; bad values answer 400 (not a silent default)."""
    query = PeriodQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.period()


class ProjectFiguresSerializer(serializers.Serializer):
    """A project's figures for the reporting period, from the calculation module (``projects.figures``)."""

    year = serializers.IntegerField()
    month = serializers.IntegerField()
    planned_investment = money(allow_null=True, help_text=_("The year's planned investment, 万元."))
    completed_investment = money(help_text=_("Completed investment, year to date, 万元."))
    month_completed = money(help_text=_("Completed in the month, 万元."))
    completion_rate = rate(allow_null=True, help_text=_("完成率 as a fraction; null without a plan."))
    schedule_progress = rate(help_text=_("时序进度 as a fraction (March: 0.2500)."))
    gap_points = serializers.DecimalField(
        max_digits=9,
        decimal_places=2,
        allow_null=True,
        help_text=_("Percentage points above (+) or below (−) schedule."),
    )
    is_lagging = serializers.BooleanField()


def project_figures_data(project, period: Period) -> dict:
    """The figures of a project annotated by ``figures.annotate_year_figures`` for ``period``."""
    numbers = figures.figures_of(project, month=period.month)
    return {
        "year": period.year,
        "month": period.month,
        "planned_investment": numbers.planned,
        "completed_investment": numbers.completed,
        "month_completed": numbers.month_completed,
        "completion_rate": numbers.completion_rate,
        "schedule_progress": numbers.schedule_progress,
        "gap_points": numbers.gap_points,
        "is_lagging": numbers.is_lagging,
    }
