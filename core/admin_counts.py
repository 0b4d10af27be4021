"""Changelist columns that count a row's related records, sortable, in the list's one query."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest


def count_column(name: str, relation: str, description: Any) -> Callable[[Any], int]:
    """A column ``name`` with how many ``relation`` records a row has (CountedAdmin annotates it)."""
    key = f"{relation}_total"

    @admin.display(description=description, ordering=key)
    def column(obj: Any) -> int:
        return getattr(obj, key)

    column.__name__ = name
    column.count_of = relation  # type: ignore[attr-defined]  # read by CountedAdmin
    return column


class CountedAdmin(admin.ModelAdmin):
    """Annotates the counts its ``list_display`` count columns show; distinct, since a row may
    count two relations at once (a join per relation)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        relations = [getattr(column, "count_of", None) for column in self.list_display]
        counts = {f"{relation}_total": Count(relation, distinct=True) for relation in relations if relation}
        return super().get_queryset(request).annotate(**counts)
