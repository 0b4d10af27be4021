"""Serializer pieces the API's resources share: money, rates and the reporting period."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

MONEY: dict[str, Any] = {"max_digits": 16, "decimal_places": 2}


def money(**kwargs) -> serializers.DecimalField:
    """An amount in 万元, rendered as a decimal string such as ``"1234.50"``."""
    return serializers.DecimalField(**MONEY, **kwargs)


def rate(**kwargs) -> serializers.DecimalField:
    """A fraction such as completion rate, as a decimal string (``"0.2500"`` is 25 %)."""
    return serializers.DecimalField(max_digits=9, decimal_places=4, **kwargs)


VERSION_HELP = _("The version you read; a change to an older version is refused with 409.")


def name_field(source: str, **kwargs) -> serializers.CharField:
    """A related record's name, read-only, beside its id."""
    return serializers.CharField(source=source, read_only=True, allow_null=True, **kwargs)


def label_field(source: str) -> serializers.CharField:
    """A choice's words in the request's language, beside its code."""
    return serializers.CharField(source=f"get_{source}_display", read_only=True)


def maybe_choice(choices) -> serializers.ChoiceField:
    """A read-only choice that may be empty (not graded, not rated yet …); declared so the schema
    says so: DRF drops ``allow_blank`` from read-only model fields."""
    return serializers.ChoiceField(choices=choices, allow_blank=True, read_only=True)


def version_field() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, required=False, help_text=VERSION_HELP)
