"""Shapes of enterprises, visits and problem tickets in the API. Checks of shape only: the rules
(who, which status, which dates) are the services'."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import label_field, maybe_choice, name_field, version_field
from core.models import User
from problems import services
from problems.choices import ClosureGrade, ProblemLevel, Satisfaction, TicketStatus
from problems.models import ProblemTicket, TicketAttachment, TicketEvent, Visit
from reference.models import Department

# --- Visits ------------------------------------------------------------------------------------


def _active_units():
    return Department.objects.filter(is_active=True)


def _handlers():
    return User.objects.filter(is_active=True, department__isnull=False)


PROBLEM_ROW_FIELDS = [name for name in services.TICKET_FIELDS if name not in ("enterprise", "source")]


def aligned_row_errors(errors: dict[int, dict], count: int) -> list[dict]:
    """Rows' messages as a list aligned with the rows sent, ``{}`` for a row that was fine."""
    return [errors.get(index, {}) for index in range(count)]


class ProblemRowListSerializer(serializers.ListSerializer):
    """A refused row answers at its index in a list, the same shape the service's refusals take
    (DRF would key them by index in an object)."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            if isinstance(error.detail, dict) and all(isinstance(key, int) for key in error.detail):
                raise serializers.ValidationError(aligned_row_errors(error.detail, len(data))) from None
            raise


class ProblemRowSerializer(serializers.ModelSerializer):
    """A problem collected on the visit: it belongs to the visited enterprise, its source is the visit."""

    class Meta:
        model = ProblemTicket
        fields = PROBLEM_ROW_FIELDS
        list_serializer_class = ProblemRowListSerializer


class VisitSerializer(serializers.ModelSerializer):
    enterprise_name = name_field("enterprise.name")
    unit_name = name_field("unit")
    visitors = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=User.objects.filter(is_active=True, groups__isnull=False).distinct(),
        required=False,
        help_text=_("The ids of the visiting cadres."),
    )
    created_by_name = name_field("created_by")
    problem_ids = serializers.PrimaryKeyRelatedField(
        source="problems", many=True, read_only=True, help_text=_("The problems collected on the visit.")
    )

    class Meta:
        model = Visit
        fields = [
            "id",
            "enterprise",
            "enterprise_name",
            "visited_on",
            "visitors",
            "unit",
            "unit_name",
            "notes",
            "problem_ids",
            "created_by",
            "created_by_name",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_by"]
        extra_kwargs = {"unit": {"queryset": _active_units()}}


class VisitCreateSerializer(VisitSerializer):
    problems = ProblemRowSerializer(
        many=True,
        required=False,
        write_only=True,
        help_text=_(
            "The problems collected on the visit, saved with it or not at all; a refused row's "
            "messages come back at its index."
        ),
    )

    class Meta(VisitSerializer.Meta):
        fields = [*VisitSerializer.Meta.fields, "problems"]


# --- Problem tickets ---------------------------------------------------------------------------


class TicketSerializer(serializers.ModelSerializer):
    enterprise_name = name_field("enterprise.name")
    park = serializers.IntegerField(
        source="enterprise.park_id", read_only=True, allow_null=True, help_text=_("The enterprise's park.")
    )
    park_name = name_field("enterprise.park")
    project_name = name_field("project.name")
    unit_name = name_field("unit")
    handler_name = name_field("handler")
    responsible_leader_name = name_field("responsible_leader")
    created_by_name = name_field("created_by")
    source_label = label_field("source")
    category_label = label_field("category")
    fence_label = label_field("fence")
    level_label = label_field("level")
    status_label = label_field("status")
    closure_grade = maybe_choice(ClosureGrade.choices)
    closure_grade_label = label_field("closure_grade")
    satisfaction = maybe_choice(Satisfaction.choices)
    satisfaction_label = label_field("satisfaction")
    is_overdue = serializers.BooleanField(
        read_only=True, help_text=_("An unfinished “13710” step is past its last day.")
    )
    version = version_field()

    class Meta:
        model = ProblemTicket
        fields = [
            "id",
            "enterprise",
            "enterprise_name",
            "park",
            "park_name",
            "project",
            "project_name",
            "visit",
            "source",
            "source_label",
            "category",
            "category_label",
            "title",
            "description",
            "fence",
            "fence_label",
            "level",
            "level_label",
            "is_major",
            "status",
            "status_label",
            "unit",
            "unit_name",
            "handler",
            "handler_name",
            "responsible_leader",
            "responsible_leader_name",
            "collected_at",
            "created_by",
            "created_by_name",
            "assigned_at",
            "first_reply_at",
            "resolved_at",
            "closed_at",
            "rated_at",
            "assign_due",
            "report_due",
            "resolve_due",
            "review_due",
            "resolve_clock_from",
            "is_overdue",
            "plan",
            "committed_date",
            "resolution",
            "closure_grade",
            "closure_grade_label",
            "satisfaction",
            "satisfaction_label",
            "satisfaction_comment",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [name for name in fields if name not in services.TICKET_FIELDS]


class TicketDetailSerializer(TicketSerializer):
    allowed_actions = serializers.SerializerMethodField(
        help_text=_("The actions you may take on the problem now: the names of its action endpoints.")
    )

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "allowed_actions"]

    def get_allowed_actions(self, ticket) -> list[str]:
        return services.allowed_actions(self.context["request"].user, ticket)


class TicketCreateSerializer(TicketDetailSerializer):
    """A problem recorded on its own, or one more from a visit (its enterprise and day)."""

    collected_at = serializers.DateTimeField(
        required=False,
        help_text=_("When the problem was collected; now if left out. The “13710” clock starts here."),
    )

    class Meta(TicketDetailSerializer.Meta):
        read_only_fields = [
            name for name in TicketDetailSerializer.Meta.read_only_fields if name not in ("visit",)
        ]
        extra_kwargs = {
            "enterprise": {
                "required": False,
                "help_text": _("Required unless the problem comes from a visit (then it is the visit's)."),
            }
        }


class TicketUpdateSerializer(TicketDetailSerializer):
    """The details that may be corrected; the enterprise is fixed once collected."""

    class Meta(TicketDetailSerializer.Meta):
        read_only_fields = [*TicketDetailSerializer.Meta.read_only_fields, "enterprise"]


# --- Actions on a ticket: one request shape each -------------------------------------------------


class VersionedActionSerializer(serializers.Serializer):
    version = version_field()


class AssignSerializer(VersionedActionSerializer):
    unit = serializers.PrimaryKeyRelatedField(queryset=_active_units(), help_text=_("The responsible unit."))
    handler = serializers.PrimaryKeyRelatedField(
        queryset=_handlers(), required=False, allow_null=True, help_text=_("A person of that unit.")
    )
    is_major = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Mark it major or complex (a month to resolve); left out: unchanged."),
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text=_("Instructions."))


class ReassignSerializer(VersionedActionSerializer):
    unit = serializers.PrimaryKeyRelatedField(queryset=_active_units(), help_text=_("The new unit."))
    handler = serializers.PrimaryKeyRelatedField(queryset=_handlers(), required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonSerializer(VersionedActionSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class TextSerializer(VersionedActionSerializer):
    text = serializers.CharField(required=False, allow_blank=True, default="")


class PlanSerializer(VersionedActionSerializer):
    plan = serializers.CharField(required=False, allow_blank=True, default="")
    committed_date = serializers.DateField(required=False, allow_null=True, default=None)


class ResolveSerializer(VersionedActionSerializer):
    resolution = serializers.CharField(required=False, allow_blank=True, default="")


class CloseSerializer(VersionedActionSerializer):
    grade = serializers.ChoiceField(
        choices=ClosureGrade.choices, required=False, allow_blank=True, default=""
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class GradeSerializer(VersionedActionSerializer):
    grade = serializers.ChoiceField(choices=ClosureGrade.choices)


class RateSerializer(VersionedActionSerializer):
    satisfaction = serializers.ChoiceField(
        choices=Satisfaction.choices, help_text=_("“unsatisfied” reopens the problem for the same unit.")
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class CommentSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, default="")


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=_("PDF, an image, Word, Excel, PowerPoint or zip; its type is read from its content.")
    )


class TicketEventSerializer(serializers.ModelSerializer):
    kind_label = label_field("kind")
    actor_name = name_field("actor")
    from_status = maybe_choice(TicketStatus.choices)
    to_status = maybe_choice(TicketStatus.choices)
    from_level = maybe_choice(ProblemLevel.choices)
    to_level = maybe_choice(ProblemLevel.choices)
    from_status_label = label_field("from_status")
    to_status_label = label_field("to_status")
    from_level_label = label_field("from_level")
    to_level_label = label_field("to_level")
    unit_name = name_field("unit")
    value_label = serializers.CharField(
        source="value_display", read_only=True, help_text=_("The rating or grade, in words.")
    )

    class Meta:
        model = TicketEvent
        fields = [
            "id",
            "ticket",
            "kind",
            "kind_label",
            "actor",
            "actor_name",
            "at",
            "text",
            "from_status",
            "from_status_label",
            "to_status",
            "to_status_label",
            "from_level",
            "from_level_label",
            "to_level",
            "to_level_label",
            "unit",
            "unit_name",
            "date",
            "value",
            "value_label",
        ]
        read_only_fields = fields


class TicketAttachmentSerializer(serializers.ModelSerializer):
    uploaded_by_name = name_field("uploaded_by")
    url = serializers.SerializerMethodField(
        help_text=_("Where the portal serves the file to those who may open the problem (signed in).")
    )

    class Meta:
        model = TicketAttachment
        fields = [
            "id",
            "ticket",
            "name",
            "content_type",
            "size",
            "uploaded_by",
            "uploaded_by_name",
            "uploaded_at",
            "url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, attachment) -> str:
        path = reverse("api:attachment-file", kwargs={"pk": attachment.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path
