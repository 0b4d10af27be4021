"""Shapes of a project's records in the API: plans, monthly reports and their photos, approval
milestones, batches and batch lists. Checks of shape only: the rules are the services'."""

from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import label_field, money, name_field, version_field
from projects.choices import BatchRole
from projects.models import (
    AnnualPlan,
    ApprovalMilestone,
    Batch,
    BatchMembership,
    MonthlyProgress,
    ProgressPhoto,
    Project,
)

ZERO = Decimal("0")
# The services' own message (already translated), so the API and the review page say the same.
REASON_REQUIRED = _("Give the reason, so the reporter knows what to fix.")


class FixedFieldsMixin:
    """On a change, the fields that name the record (its project, its month …) are shown but fixed.
    Sending them back unchanged is fine (a client may PUT what it read); a different value is
    refused rather than silently ignored."""

    fixed_fields: tuple[str, ...] = ()

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is None:
            return attrs
        errors = {}
        for name in self.fixed_fields:
            if name not in self.initial_data:
                continue
            current = getattr(self.instance, self.Meta.model._meta.get_field(name).attname)
            if str(self.initial_data.get(name)) != str(current):
                errors[name] = [_("This cannot be changed once the record exists.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


# --- Annual plans ---------------------------------------------------------------------


class AnnualPlanSerializer(serializers.ModelSerializer):
    project_name = serializers.CharField(source="project.name", read_only=True)
    planned_investment = money(min_value=ZERO, help_text=_("The year's planned investment, 万元."))
    category_label = label_field("category")

    class Meta:
        model = AnnualPlan
        fields = [
            "id",
            "project",
            "project_name",
            "year",
            "planned_investment",
            "category",
            "category_label",
            "goals",
            "created_at",
            "updated_at",
        ]
        # The model's unique constraint is checked by the service (full_clean), with its message.
        validators = []


class AnnualPlanUpdateSerializer(FixedFieldsMixin, AnnualPlanSerializer):
    fixed_fields = ("project",)

    class Meta(AnnualPlanSerializer.Meta):
        read_only_fields = ["project"]


# --- Monthly progress -------------------------------------------------------------------


class ProgressPhotoSerializer(serializers.ModelSerializer):
    """A photo's description; the files are at ``image_url`` and ``thumbnail_url`` (API addresses:
    a token or a session reads them, if it may read projects)."""

    image_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = ProgressPhoto
        fields = ["id", "caption", "uploaded_by", "uploaded_at", "image_url", "thumbnail_url"]
        read_only_fields = fields

    def _url(self, photo, kind: str) -> str:
        path = reverse("api:photo-file", kwargs={"pk": photo.pk, "kind": kind})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(OpenApiTypes.URI)
    def get_image_url(self, photo) -> str:
        return self._url(photo, "full")

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, photo) -> str:
        return self._url(photo, "thumb")


class ProgressSerializer(FixedFieldsMixin, serializers.ModelSerializer):
    """A monthly report as read, and as changed with PUT/PATCH (amount, progress, problems)."""

    project_name = serializers.CharField(source="project.name", read_only=True)
    completed_investment = money(min_value=ZERO, help_text=_("Investment completed in the month, 万元."))
    status_label = label_field("status")
    is_editable = serializers.BooleanField(
        read_only=True, help_text=_("Drafts and returned reports can be changed; the others are locked.")
    )
    photos = ProgressPhotoSerializer(many=True, read_only=True)
    version = version_field()
    submit = serializers.BooleanField(
        write_only=True, default=False, help_text=_("Send the report to the reviewers once saved.")
    )
    confirm_warnings = serializers.BooleanField(
        write_only=True,
        default=False,
        help_text=_(
            "Save the figure although the sanity checks warn about it (cumulative completion above the "
            "total investment, above the year's plan, or entered in yuan). Without it such a figure "
            "answers 400 with the named warnings and nothing is saved."
        ),
    )

    fixed_fields = ("project", "year", "month")

    class Meta:
        model = MonthlyProgress
        fields = [
            "id",
            "project",
            "project_name",
            "year",
            "month",
            "completed_investment",
            "physical_progress",
            "problems",
            "status",
            "status_label",
            "is_editable",
            "submitted_by",
            "submitted_at",
            "reviewed_by",
            "reviewed_at",
            "review_comment",
            "photos",
            "version",
            "submit",
            "confirm_warnings",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "project",
            "year",
            "month",
            "status",
            "submitted_by",
            "submitted_at",
            "reviewed_by",
            "reviewed_at",
            "review_comment",
        ]
        validators = []


class ProgressCreateSerializer(ProgressSerializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())

    class Meta(ProgressSerializer.Meta):
        read_only_fields = [
            name for name in ProgressSerializer.Meta.read_only_fields if name not in ("year", "month")
        ]


class ProgressApproveSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    version = version_field()


class ProgressReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        error_messages={"required": REASON_REQUIRED, "blank": REASON_REQUIRED},
        help_text=_("Why: the reporter reads it."),
    )
    version = version_field()


class ProgressSubmitSerializer(serializers.Serializer):
    version = version_field()


class ProgressBulkReviewSerializer(serializers.Serializer):
    ids = serializers.ListField(
        # Bounded as the ids are (64 bits), so no id is out of the database's range.
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=500,
        help_text=_("The reports to approve or return: all of them, or none if one is refused."),
    )
    approve = serializers.BooleanField(help_text=_("true approves them, false returns them."))
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("Required when returning.")
    )

    def validate(self, attrs):
        if not attrs["approve"] and not attrs["reason"].strip():
            raise serializers.ValidationError({"reason": [REASON_REQUIRED]})
        return attrs


class ProgressBulkReviewResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    reports = ProgressSerializer(many=True)


class ProgressPhotoUploadSerializer(serializers.Serializer):
    # A plain file: the service reads the content to decide whether it is a photo.
    image = serializers.FileField(help_text=_("JPEG, PNG, WebP or GIF."))
    caption = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    version = version_field()


# --- Approval milestones -------------------------------------------------------------------


class MilestoneSerializer(FixedFieldsMixin, serializers.ModelSerializer):
    project_name = serializers.CharField(source="project.name", read_only=True)
    kind_label = label_field("kind")
    department_name = name_field("department")
    status_label = label_field("status")
    version = version_field()

    fixed_fields = ("project", "kind", "phase")

    class Meta:
        model = ApprovalMilestone
        fields = [
            "id",
            "project",
            "project_name",
            "kind",
            "kind_label",
            "phase",
            "department",
            "department_name",
            "status",
            "status_label",
            "planned_date",
            "completed_date",
            "document_number",
            "note",
            "version",
            "created_at",
            "updated_at",
        ]
        validators = []


class MilestoneUpdateSerializer(MilestoneSerializer):
    """Kind and phase name the procedure: fixed once it exists, as on the page."""

    class Meta(MilestoneSerializer.Meta):
        read_only_fields = ["project", "kind", "phase"]


# --- "三个一批" batches -----------------------------------------------------------------------


class BatchSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True, help_text=_("Projects in the batch's list."))

    class Meta:
        model = Batch
        fields = ["id", "number", "announced_on", "note", "member_count"]
        validators = []


class BatchMembershipSerializer(FixedFieldsMixin, serializers.ModelSerializer):
    batch_number = serializers.IntegerField(source="batch.number", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    role_label = label_field("role")

    fixed_fields = ("batch", "project")

    class Meta:
        model = BatchMembership
        fields = ["id", "batch", "batch_number", "project", "project_name", "role", "role_label"]
        validators = []


class BatchMembershipUpdateSerializer(BatchMembershipSerializer):
    """Only the role changes; a project moves to another batch by leaving and joining."""

    class Meta(BatchMembershipSerializer.Meta):
        read_only_fields = ["batch", "project"]


class BatchMemberRowSerializer(serializers.Serializer):
    """One line of a batch's list as the province publishes it."""

    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    role = serializers.ChoiceField(choices=BatchRole.choices)
