"""Shapes of enterprises, visits and problem tickets in the API. Checks of shape only: the rules
(who, which status, which dates) are the services'."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api.fields import name_field
from enterprises import services
from enterprises.models import Enterprise, Honour

# --- Enterprises -------------------------------------------------------------------------------


class EnterpriseSerializer(serializers.ModelSerializer):
    parent_name = name_field("parent.name")
    industry_name = name_field("industry")
    park_name = name_field("park")
    liaison_leader_name = name_field("liaison_leader")
    liaison_unit_name = name_field("liaison_unit")
    honours = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Honour.objects.all(),
        required=False,
        help_text=_("The ids of the enterprise's honours; a change replaces the whole list."),
    )
    honour_names = serializers.SlugRelatedField(
        source="honours", many=True, read_only=True, slug_field="name"
    )
    open_problems = serializers.IntegerField(read_only=True, help_text=_("Problems not yet resolved."))
    problem_total = serializers.IntegerField(read_only=True, help_text=_("Problems ever collected."))
    has_overdue = serializers.BooleanField(
        read_only=True, help_text=_("At least one problem is past a “13710” deadline.")
    )

    class Meta:
        model = Enterprise
        fields = [
            "id",
            *services.ENTERPRISE_FIELDS,
            "parent_name",
            "industry_name",
            "park_name",
            "liaison_leader_name",
            "liaison_unit_name",
            "honours",
            "honour_names",
            "open_problems",
            "problem_total",
            "has_overdue",
            "created_at",
            "updated_at",
        ]
        # Uniqueness and the credit code are checked by the service (full_clean, after the code is
        # respelt in capitals), with the model's messages.
        validators = []
        extra_kwargs = {"name": {"validators": []}, "credit_code": {"validators": []}}
