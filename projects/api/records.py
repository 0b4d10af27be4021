"""A project's records through the API: annual plans, monthly progress (with its review and photos),
approval milestones, and the "三个一批" batches with their lists.

As in ``views``: the FilterSet of the page chooses, a serializer checks the shape, the services
write with their own permission checks. Role checks that need no record come first
(``action_rules``); writes to one record check the project's edit scope before the body is read.
"""

import copy

from django.db.models import Count
from django.utils.translation import gettext as _
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from core.api.base import (
    FilterSetBackend,
    RereadMixin,
    RulesMixin,
    SerializerPerActionMixin,
    ServiceWritesMixin,
    StepsMixin,
    VersionedMixin,
    api_denial,
    post_action,
    read_body,
    service_error_detail,
    step_action,
    updated_by,
)
from projects import selectors, services
from projects.api.fields import PeriodQuerySerializer, period_from
from projects.api.record_serializers import (
    AnnualPlanSerializer,
    AnnualPlanUpdateSerializer,
    BatchMemberRowSerializer,
    BatchMembershipSerializer,
    BatchMembershipUpdateSerializer,
    BatchSerializer,
    MilestoneSerializer,
    MilestoneUpdateSerializer,
    ProgressApproveSerializer,
    ProgressBulkReviewResultSerializer,
    ProgressBulkReviewSerializer,
    ProgressCreateSerializer,
    ProgressPhotoSerializer,
    ProgressPhotoUploadSerializer,
    ProgressReasonSerializer,
    ProgressSerializer,
    ProgressSubmitSerializer,
)
from projects.choices import FigureCheck
from projects.filtersets import (
    AnnualPlanFilterSet,
    BatchMembershipFilterSet,
    MilestoneFilterSet,
    ProgressFilterSet,
    ProjectFilterSet,
)
from projects.models import AnnualPlan, ApprovalMilestone, Batch, BatchMembership, MonthlyProgress, Project
from projects.permissions import (
    ensure_can_edit,
    ensure_can_keep_records,
    ensure_can_manage_batches,
    ensure_can_read,
    ensure_can_review,
)

READS = {"list": ensure_can_read, "retrieve": ensure_can_read}


class ProjectScopeMixin(RereadMixin):
    """Changes to one record need its project in the caller's charge (403), checked before the
    request body is read; the service checks again inside its transaction."""

    scoped_actions: frozenset[str] = frozenset()

    def check_object_permissions(self, request, obj):
        # Before the body is read (get_object asks here); the browsable API asks too, to hide forms.
        super().check_object_permissions(request, obj)
        if self.action in self.scoped_actions:
            with api_denial():
                ensure_can_edit(request.user, obj.project)


# --- Annual plans ------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Annual plans (年度计划投资) of the projects"),
    retrieve=extend_schema(summary="An annual plan"),
    create=extend_schema(summary="Record a project's plan for a year (its staff, administrators)"),
    update=extend_schema(summary="Change a plan (the project stays)"),
    partial_update=extend_schema(summary="Change some of a plan's fields"),
    destroy=extend_schema(summary="Delete a plan entered by mistake (its history stays)"),
)
class AnnualPlanViewSet(
    ProjectScopeMixin, ServiceWritesMixin, SerializerPerActionMixin, RulesMixin, viewsets.ModelViewSet
):
    """A project's planned investment for a year: the denominator of 完成率. Every change is kept in
    the plan's history with the user who made it."""

    filterset_class = AnnualPlanFilterSet
    action_rules = {**READS, "create": ensure_can_keep_records}
    scoped_actions = frozenset({"update", "partial_update", "destroy"})

    queryset = AnnualPlan.objects.select_related("project").order_by("project__name", "project_id", "-year")
    serializer_class = AnnualPlanSerializer
    serializer_classes = updated_by(AnnualPlanUpdateSerializer)
    record_keyword = "plan"
    write_services = {"update": services.plan_update, "destroy": services.plan_delete}

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        project = data.pop("project")
        plan = services.plan_create(project=project, user=self.request.user, data=data)
        serializer.instance = self.reread(plan)


# --- Monthly progress ------------------------------------------------------------------------

# A figure the sanity checks hold back (projects.checks) answers 400 in this shape (the API's
# exception handler writes it); any other refusal is the usual field → messages.
FIGURE_REFUSED = OpenApiResponse(
    response={
        "anyOf": [
            {"$ref": "#/components/schemas/ValidationError"},
            {
                "type": "object",
                "description": (
                    "The figure was held back for confirmation; nothing was saved. Send the same "
                    "request with `confirm_warnings: true` if the figure is right."
                ),
                "properties": {
                    "detail": {"type": "string"},
                    "code": {"type": "string", "enum": ["needs_confirmation"]},
                    "warnings": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string", "enum": list(FigureCheck.values)},
                                "message": {"type": "string"},
                            },
                            "required": ["code", "message"],
                        },
                    },
                },
                "required": ["detail", "code", "warnings"],
            },
        ]
    },
    description=(
        "The input was refused; nothing changed. A figure the sanity checks hold back (`code` "
        "`needs_confirmation`) lists its `warnings`: `above_total` (cumulative completion above the "
        "project's total investment), `above_plan` (year to date above the year's plan), "
        "`looks_like_yuan` (1,000 times the project's typical month). A figure above ten times the "
        "total investment is refused outright, as a field error of `completed_investment`."
    ),
)


def _step(service, body_class, summary: str, *, name: str, **route):
    return step_action(service, body_class, summary, name=name, answer=ProgressSerializer, **route)


@extend_schema_view(
    list=extend_schema(summary="Monthly progress reports"),
    retrieve=extend_schema(summary="A monthly report with its photos"),
    create=extend_schema(
        summary="Start a project's report for a month (refused if the month has one)",
        request=ProgressCreateSerializer,
        responses={201: ProgressSerializer, 400: FIGURE_REFUSED},
    ),
    update=extend_schema(
        summary="Change a draft or returned report (send its version)",
        responses={200: ProgressSerializer, 400: FIGURE_REFUSED},
    ),
    partial_update=extend_schema(
        summary="Change some of a draft or returned report's fields",
        responses={200: ProgressSerializer, 400: FIGURE_REFUSED},
    ),
)
class ProgressViewSet(
    ProjectScopeMixin,
    SerializerPerActionMixin,
    RulesMixin,
    StepsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """What each project achieved in a month. Approved reports are the official figures: reporters
    save and submit, reviewers approve, return or reopen. Reports are never deleted (405)."""

    filterset_class = ProgressFilterSet
    action_rules = {
        **READS,
        "create": ensure_can_keep_records,
        "approve": ensure_can_review,
        "return_": ensure_can_review,
        "reopen": ensure_can_review,
        "review": ensure_can_review,
    }
    scoped_actions = frozenset({"update", "partial_update", "submit", "photos"})
    record_keyword = "report"

    queryset = (
        MonthlyProgress.objects.select_related("project")
        .prefetch_related("photos")
        .order_by("-year", "-month", "project__name", "project_id")
    )
    serializer_class = ProgressSerializer
    serializer_classes = {"create": ProgressCreateSerializer}

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        submit = data.pop("submit", False)
        confirm_warnings = data.pop("confirm_warnings", False)
        data.pop("version", None)
        report = services.progress_create(
            project=data.pop("project"),
            year=data.pop("year"),
            month=data.pop("month"),
            user=self.request.user,
            data=data,
            submit=submit,
            confirm_warnings=confirm_warnings,
        )
        serializer.instance = self.reread(report)

    def perform_update(self, serializer):
        report = serializer.instance
        validated = serializer.validated_data
        report = services.progress_save(
            project=report.project,
            year=report.year,
            month=report.month,
            user=self.request.user,
            data={name: validated[name] for name in services.PROGRESS_FIELDS if name in validated},
            expected_version=self.expected_version(self.request, validated),
            submit=validated.get("submit", False),
            confirm_warnings=validated.get("confirm_warnings", False),
        )
        serializer.instance = self.reread(report)

    submit = _step(
        services.progress_submit,
        ProgressSubmitSerializer,
        "Submit a draft or returned report to the reviewers",
        name="submit",
    )
    # approve, return and reopen: a body with the reviewer's words and the version read.
    approve = _step(
        services.progress_approve,
        ProgressApproveSerializer,
        "Approve a submitted report: its figure becomes official (reviewers)",
        name="approve",
    )
    return_ = _step(
        services.progress_return,
        ProgressReasonSerializer,
        "Return a submitted report to its reporter with the reason (reviewers)",
        name="return_",
        url_path="return",
        url_name="return",
    )
    reopen = _step(
        services.progress_reopen,
        ProgressReasonSerializer,
        "Reopen an approved report for correction, with the reason (reviewers)",
        name="reopen",
    )

    # JSON only: a list of ids is not a form, and a long one would trip Django's limit on form fields.
    @post_action(
        "Approve or return several submitted reports: all of them, or none (reviewers)",
        ProgressBulkReviewSerializer,
        {200: ProgressBulkReviewResultSerializer},
        detail=False,
        parser_classes=[JSONParser],
    )
    def review(self, request):
        body = read_body(ProgressBulkReviewSerializer, request)
        ids = list(dict.fromkeys(body["ids"]))
        reports = {
            report.pk: report
            for report in MonthlyProgress.objects.filter(pk__in=ids).select_related("project")
        }
        missing = [str(pk) for pk in ids if pk not in reports]
        if missing:
            raise exceptions.ValidationError(
                {"ids": [_("No report has the id %(ids)s.") % {"ids": ", ".join(missing)}]}
            )
        count = services.progress_review_many(
            reports=[reports[pk] for pk in ids],
            user=request.user,
            approve=body["approve"],
            reason=body["reason"],
        )
        fresh = self.get_queryset().filter(pk__in=ids)
        return Response(
            {
                "count": count,
                "reports": ProgressSerializer(fresh, many=True, context=self.get_serializer_context()).data,
            }
        )

    @post_action(
        "Attach a photo of what is built (形象进度) to a report",
        {"multipart/form-data": ProgressPhotoUploadSerializer},
        {201: ProgressPhotoSerializer},
        parser_classes=[MultiPartParser, FormParser],
    )
    def photos(self, request, pk=None):
        report = self.get_object()
        body = read_body(ProgressPhotoUploadSerializer, request)
        photo = services.photo_add(
            report=report,
            user=request.user,
            upload=body["image"],
            caption=body["caption"],
            expected_version=self.expected_version(request, body, required=False),
        )
        return Response(
            ProgressPhotoSerializer(photo, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


# --- Approval milestones ----------------------------------------------------------------------


class MilestoneSelectionBackend(FilterSetBackend):
    """The procedure list's selection, as on the page and in its export
    (``selectors.milestone_selection``): the project list's filters choose the projects (with the
    period's figures, so ``lagging`` or ``on_plan`` mean what they mean there), MilestoneFilterSet
    chooses among their procedures."""

    def filter_queryset(self, request, queryset, view):
        if view.action != "list":
            return queryset
        period, include_submitted = period_from(request)
        selection = selectors.milestone_selection(
            request.query_params, period=period, include_submitted=include_submitted
        )
        if selection.errors:
            raise exceptions.ValidationError(
                {name: list(errors) for name, errors in selection.errors.items()}
            )
        return queryset.filter(pk__in=selection.milestones.values("pk"))


class _ProjectRowsView:
    """Stands in for the view while the project filters are documented: the fields they filter on
    that are figures (``lagging``, ``reported``) are annotations of the project rows."""

    swagger_fake_view = True

    def get_queryset(self):
        return selectors.projects_with_figures(period=selectors.Period(2000, 1))


class MilestoneSelectionFilters(DjangoFilterExtension):
    """Documents both FilterSets of the selection, each against its own rows."""

    target_class = MilestoneSelectionBackend
    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        project_schema = copy.copy(auto_schema)
        project_schema.view = _ProjectRowsView()
        parameters = []
        for schema, model, filterset_class in (
            (project_schema, Project, ProjectFilterSet),
            (auto_schema, ApprovalMilestone, MilestoneFilterSet),
        ):
            for name, field in filterset_class.base_filters.items():
                if name != "ordering":  # the projects' order; procedures are listed by project and kind
                    parameters += self.resolve_filter_field(schema, model, filterset_class, name, field)
        return parameters


@extend_schema_view(
    list=extend_schema(
        summary="Approval milestones, filtered as the procedure list (project filters included)",
        parameters=[PeriodQuerySerializer],
    ),
    retrieve=extend_schema(summary="An approval milestone"),
    create=extend_schema(summary="Add an approval procedure to a project"),
    update=extend_schema(summary="Record how far a procedure has got (send its version)"),
    partial_update=extend_schema(summary="Change some of a procedure's fields"),
)
class MilestoneViewSet(
    ProjectScopeMixin,
    SerializerPerActionMixin,
    RulesMixin,
    VersionedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The approval procedures (审批手续) of the projects. ``?park=…&kind=…`` select as on the
    procedure list; ``year``/``month`` are the period of its figure filters (``lagging`` …).
    Procedures are not deleted (405): one that does not concern the project is 不涉及."""

    filter_backends = [MilestoneSelectionBackend]
    action_rules = {**READS, "create": ensure_can_keep_records}
    scoped_actions = frozenset({"update", "partial_update"})

    queryset = ApprovalMilestone.objects.select_related("project", "department").order_by(
        "project__name", "project_id", "kind", "phase"
    )
    serializer_class = MilestoneSerializer
    serializer_classes = updated_by(MilestoneUpdateSerializer)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        project = data.pop("project")
        milestone = services.milestone_create(project=project, user=self.request.user, data=data)
        serializer.instance = self.reread(milestone)

    def perform_update(self, serializer):
        validated = serializer.validated_data
        milestone = services.milestone_update(
            milestone=serializer.instance,
            user=self.request.user,
            data={name: validated[name] for name in services.MILESTONE_FIELDS if name in validated},
            expected_version=self.expected_version(self.request, validated),
        )
        serializer.instance = self.reread(milestone)


# --- "三个一批" batches -----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="“三个一批” batches"),
    retrieve=extend_schema(summary="A batch"),
    create=extend_schema(summary="Add a batch (administrators)"),
    update=extend_schema(summary="Change a batch (administrators)"),
    partial_update=extend_schema(summary="Change some of a batch's fields (administrators)"),
    destroy=extend_schema(summary="Delete a batch whose list is empty (administrators)"),
)
class BatchViewSet(RulesMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """The province's numbered batches. ``/members/`` reads a batch's list, and replaces it whole
    (PUT) as provincial systems publish it."""

    serializer_class = BatchSerializer
    action_rules = {
        **READS,
        "members": ensure_can_read,
        **dict.fromkeys(
            ["create", "update", "partial_update", "destroy", "replace_members"], ensure_can_manage_batches
        ),
    }

    queryset = Batch.objects.annotate(member_count=Count("memberships")).order_by("number")
    record_keyword = "batch"
    write_services = {
        "create": services.batch_create,
        "update": services.batch_update,
        "destroy": services.batch_delete,
    }

    def _members(self, batch):
        memberships = batch.memberships.select_related("batch", "project").order_by("role", "project__name")
        return Response(BatchMembershipSerializer(memberships, many=True).data)

    @extend_schema(
        summary="A batch's list of projects", responses={200: BatchMembershipSerializer(many=True)}
    )
    @action(
        detail=True, methods=["get"], pagination_class=None, filter_backends=[], parser_classes=[JSONParser]
    )
    def members(self, request, pk=None):
        return self._members(self.get_object())

    @extend_schema(
        summary="Replace a batch's whole list (administrators): all rows, or none",
        request=BatchMemberRowSerializer(many=True),
        responses={200: BatchMembershipSerializer(many=True)},
    )
    @members.mapping.put
    def replace_members(self, request, pk=None):
        batch = self.get_object()
        rows = BatchMemberRowSerializer(data=request.data, many=True)
        if not rows.is_valid():
            errors = rows.errors
            if isinstance(errors, list):  # one entry per row: keep those with errors, by index
                errors = {str(index): row for index, row in enumerate(errors) if row}
            raise exceptions.ValidationError(errors)
        try:
            services.batch_replace_members(batch=batch, user=request.user, rows=rows.validated_data)
        except services.GridErrors as refused:
            raise exceptions.ValidationError(
                {str(index): service_error_detail(error) for index, error in refused.errors.items()}
            ) from None
        return self._members(batch)


@extend_schema_view(
    list=extend_schema(summary="Projects' places in the batches"),
    retrieve=extend_schema(summary="A project's place in a batch"),
    create=extend_schema(summary="Put a project in a batch (administrators)"),
    update=extend_schema(summary="Change a project's role in its batch (administrators)"),
    partial_update=extend_schema(summary="Change a project's role in its batch (administrators)"),
    destroy=extend_schema(summary="Take a project out of a batch (administrators)"),
)
class BatchMembershipViewSet(SerializerPerActionMixin, RulesMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """A project's role in a batch: to sign, to start construction or to go into production."""

    filterset_class = BatchMembershipFilterSet
    action_rules = {
        **READS,
        **dict.fromkeys(["create", "update", "partial_update", "destroy"], ensure_can_manage_batches),
    }

    queryset = BatchMembership.objects.select_related("batch", "project").order_by(
        "batch__number", "role", "project__name", "pk"
    )
    serializer_class = BatchMembershipSerializer
    serializer_classes = updated_by(BatchMembershipUpdateSerializer)
    record_keyword = "membership"
    write_services = {"create": services.membership_create, "destroy": services.membership_delete}

    def perform_update(self, serializer):
        membership = serializer.instance
        role = serializer.validated_data.get("role", membership.role)
        services.membership_update(membership=membership, user=self.request.user, role=role)
        serializer.instance = self.reread(membership)
