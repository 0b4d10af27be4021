"""Field types shared by every app."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class MoneyField(models.DecimalField):
    """An amount in 万元 (10,000 yuan) with two decimals; never negative.

    Up to 999,999,999,999.99 万元 — far above any province's total.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("validators", [MinValueValidator(Decimal("0"))])
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        for key, default in (("max_digits", 14), ("decimal_places", 2)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        if kwargs.get("validators") == [MinValueValidator(Decimal("0"))]:
            kwargs.pop("validators")
        return name, path, args, kwargs


def optional_link(
    to: Any, verbose_name: Any, *, related_name: str, on_delete: Any = models.PROTECT, **kwargs: Any
) -> models.ForeignKey:
    """An optional link (NULL allowed, blank in forms): most of the portal's links are one, and a
    referenced record is protected unless the caller says otherwise."""
    return models.ForeignKey(
        to,
        verbose_name=verbose_name,
        on_delete=on_delete,
        null=True,
        blank=True,
        related_name=related_name,
        **kwargs,
    )


def user_link(
    verbose_name: Any, *, related_name: str = "+", on_delete: Any = models.PROTECT
) -> models.ForeignKey:
    """Who did something (recorded by, reviewed by …): optional, since imports and the generator
    write records without a user; no reverse accessor unless one is named."""
    return optional_link(
        settings.AUTH_USER_MODEL, verbose_name, related_name=related_name, on_delete=on_delete
    )
