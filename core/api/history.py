"""The change history through the API: read-only, as on the pages (core/changelog.py builds
the entries for both)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView

from core import changelog
from core.history import Origin
from core.history_views import ChangeLogFilter, ensure_can_read_change_log

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField(source="name", help_text="The field's name in the API and the models.")
    # A field named like DRF's Field.label attribute, as the API has always called it.
    label = serializers.CharField(help_text="The field's label in the request's language.")  # type: ignore[assignment]
    old = serializers.CharField(help_text="The value before, as the pages show it (— for none).")
    new = serializers.CharField(help_text="The value after, as the pages show it (— for none).")


class ChangeSerializer(serializers.Serializer):
    """One recorded change of one record."""

    id = serializers.IntegerField(
        source="record.history_id", help_text="The history row's id (per kind of record)."
    )
    time = serializers.DateTimeField(source="when")
    user = serializers.IntegerField(source="record.history_user_id", allow_null=True)
    user_name = serializers.SerializerMethodField()
    origin = serializers.ChoiceField(choices=Origin.choices, source="record.history_origin")
    model = serializers.SerializerMethodField(help_text="The kind of record, as app_label.model.")
    model_label = serializers.CharField()
    object_id = serializers.SerializerMethodField()
    object = serializers.CharField(source="object_label")
    action = serializers.SerializerMethodField()
    reason = serializers.CharField()
    import_record = serializers.IntegerField(source="record.history_import_id", allow_null=True)
    batch = serializers.UUIDField(source="record.history_batch", allow_null=True)
    changes = FieldChangeSerializer(many=True)

    def get_user_name(self, entry) -> str:
        return str(entry.user) if entry.user else ""

    def get_model(self, entry) -> str:
        return changelog.model_key(entry.model)

    def get_object_id(self, entry) -> int:
        return getattr(entry.record, entry.model._meta.pk.attname)

    def get_action(self, entry) -> str:
        return ACTIONS[entry.action]


class HistoryAPIView(GenericAPIView):
    """Entries are read from a union of history tables (core/changelog.py), not one queryset,
    and filtered by a form of their own, not by filter backends."""

    serializer_class = ChangeSerializer
    filter_backends = []

    def get_queryset(self):
        # The browsable API asks for a queryset to build its filter form from the filter backends,
        # of which there are none: an empty list answers without touching any history table.
        return []


class ChangeLogView(HistoryAPIView):
    """Every recorded change in the zone, newest first: leaders and administrators."""

    @extend_schema(
        summary="The zone's change log (leaders and administrators)",
        responses=ChangeSerializer(many=True),
        parameters=[
            OpenApiParameter("user", int, description="Changes made by this user id."),
            OpenApiParameter("model", str, description="Kind of record, e.g. projects.project."),
            OpenApiParameter("origin", str, enum=Origin.values, description="How the change was made."),
            OpenApiParameter("date_from", str, description="From this day (YYYY-MM-DD), zone time."),
            OpenApiParameter("date_to", str, description="Up to and including this day (YYYY-MM-DD)."),
            OpenApiParameter("import_record", int, description="Changes written by this Excel import."),
            OpenApiParameter("batch", str, description="Changes of this bulk operation (a UUID)."),
        ],
    )
    def get(self, request):
        ensure_can_read_change_log(request.user)
        form = ChangeLogFilter(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors)  # type: ignore[arg-type]  # a Django ErrorDict: a dict to DRF
        rows = self.paginate_queryset(changelog.union(form.querysets()))
        entries = changelog.page_entries(rows)
        return self.get_paginated_response(ChangeSerializer(entries, many=True).data)


class ObjectHistoryView(HistoryAPIView):
    """One record's change history with what belongs to it, newest first."""

    def readable(self, pk: int):
        """The record, if the caller may read it (as its own endpoint decides)."""
        raise NotImplementedError

    def rows(self, obj) -> list:
        raise NotImplementedError

    def get(self, request, pk):
        querysets = self.rows(self.readable(pk))
        field_name = request.query_params.get("field") or None
        if field_name and field_name not in dict(changelog.field_choices_of(querysets)):
            raise ValidationError({"field": [_("Not a field of this record's history.")]})
        entries = changelog.page_entries(changelog.union(querysets), field_name)
        # DRF's paginators slice any sequence, not only querysets.
        page: list[changelog.Entry] | None = self.paginate_queryset(entries)  # type: ignore[arg-type]
        return self.get_paginated_response(ChangeSerializer(page, many=True).data)


FIELD_PARAMETER = OpenApiParameter("field", str, description="Only changes of this field (its name).")


def documented_history(summary: str):
    """Documents an ``ObjectHistoryView`` subclass, whose GET is inherited: its summary, the
    ``field`` filter and the entries it answers."""
    return extend_schema_view(
        get=extend_schema(
            summary=summary, parameters=[FIELD_PARAMETER], responses=ChangeSerializer(many=True)
        )
    )
