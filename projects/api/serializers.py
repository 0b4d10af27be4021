"""Shapes of projects and their records in the API. Checks of shape only: the rules are the services'."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import label_field, name_field, version_field
from projects.api.fields import ProjectFiguresSerializer, project_figures_data
from projects.choices import Stage
from projects.forms import PROJECT_FIELDS
from projects.models import Project, StageChange


class ProjectSerializer(serializers.ModelSerializer):
    enterprise_name = name_field("enterprise", help_text=_("The builder's name."))
    park_name = name_field("park")
    industry_name = name_field("industry")
    responsible_unit_name = name_field("responsible_unit")
    stage_label = label_field("stage")
    figures = serializers.SerializerMethodField(
        help_text=_("This year's plan and year-to-date figures for the reporting period.")
    )
    version = version_field()

    class Meta:
        model = Project
        fields = [
            "id",
            *PROJECT_FIELDS,
            "enterprise_name",
            "park_name",
            "industry_name",
            "responsible_unit_name",
            "stage",
            "stage_label",
            "figures",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["stage"]
        # The model's unique constraints are checked by the service (full_clean), with its messages.
        validators = []

    @extend_schema_field(ProjectFiguresSerializer)
    def get_figures(self, project) -> dict:
        return ProjectFiguresSerializer(project_figures_data(project, self.context["period"])).data


class ProjectCreateSerializer(ProjectSerializer):
    stage = serializers.ChoiceField(choices=Stage.choices, default=Stage.PLANNING)
    stage_changed_on = serializers.DateField(
        required=False, write_only=True, help_text=_("When the project reached its stage; default today.")
    )

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "stage_changed_on"]
        read_only_fields = []


class StageMoveSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    changed_on = serializers.DateField(required=False, help_text=_("Default today; never in the future."))
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text=_("Required when moving back (a correction).")
    )
    version = version_field()


class StageChangeSerializer(serializers.ModelSerializer):
    from_stage_label = serializers.CharField(source="get_from_stage_display", read_only=True, allow_null=True)
    to_stage_label = label_field("to_stage")

    class Meta:
        model = StageChange
        fields = [
            "id",
            "project",
            "from_stage",
            "from_stage_label",
            "to_stage",
            "to_stage_label",
            "changed_on",
            "reason",
            "changed_by",
            "recorded_at",
        ]
        read_only_fields = fields
