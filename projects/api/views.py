"""Projects and their stage history through the API: the list's FilterSet, the services' writes."""

import django_filters
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core.api.base import (
    RulesMixin,
    SerializerPerActionMixin,
    ServiceWritesMixin,
    VersionedMixin,
    api_denial,
    post_action,
    read_body,
)
from core.api.history import ObjectHistoryView, documented_history
from core.filtersets import FilterForm
from core.roles import ensure_admin
from projects import selectors, services
from projects.api import months, records
from projects.api.fields import PeriodQuerySerializer, period_from
from projects.api.serializers import (
    ProjectCreateSerializer,
    ProjectSerializer,
    StageChangeSerializer,
    StageMoveSerializer,
)
from projects.choices import Stage
from projects.filtersets import ProjectFilterSet
from projects.models import ProgressPhoto, Project, StageChange
from projects.permissions import ensure_can_create, ensure_can_edit, ensure_can_read
from projects.selectors import Period
from projects.views import photo_response

PERIOD_PARAMETERS = [PeriodQuerySerializer]
WRITE_ACTIONS = {"update", "partial_update", "stage"}


@extend_schema_view(
    list=extend_schema(summary="Projects, filtered as the project list", parameters=PERIOD_PARAMETERS),
    retrieve=extend_schema(summary="A project with its figures", parameters=PERIOD_PARAMETERS),
    create=extend_schema(summary="Create a project (project staff, administrators)"),
    update=extend_schema(summary="Change a project (in your charge or your unit's)"),
    partial_update=extend_schema(summary="Change some of a project's fields"),
    destroy=extend_schema(summary="Delete a project with no plans or reports (administrators)"),
)
class ProjectViewSet(
    RulesMixin, ServiceWritesMixin, VersionedMixin, SerializerPerActionMixin, viewsets.ModelViewSet
):
    """Investment projects. ``?year=&month=`` choose the period of the nested figures; the filters
    and ``ordering`` are the project list's (``?park=…&level=…`` mean the same everywhere)."""

    filterset_class = ProjectFilterSet
    action_rules = {
        "list": ensure_can_read,
        "retrieve": ensure_can_read,
        "create": ensure_can_create,
        "destroy": ensure_admin,
    }
    record_keyword = "project"
    write_services = {"update": services.project_update, "destroy": services.project_delete}
    serializer_class = ProjectSerializer
    serializer_classes = {"create": ProjectCreateSerializer}

    def get_queryset(self):
        period, include_submitted = self.period
        return selectors.project_rows(
            Project.objects.order_by("name", "pk"), period=period, include_submitted=include_submitted
        )

    @property
    def period(self):
        if not hasattr(self, "_period"):
            # The schema generator reads the queryset's shape without a request to take a period from.
            fake = getattr(self, "swagger_fake_view", False)
            self._period = (Period(2000, 1), False) if fake else period_from(self.request)
        return self._period

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["period"] = self.period[0]
        return context

    def check_object_permissions(self, request, obj):
        # Before the body is read (get_object asks here); the browsable API asks too, to hide forms.
        super().check_object_permissions(request, obj)
        if self.action in WRITE_ACTIONS:
            with api_denial():
                ensure_can_edit(request.user, obj)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        stage = int(data.pop("stage"))
        changed_on = data.pop("stage_changed_on", None)
        data.pop("version", None)
        project = services.project_create(
            user=self.request.user, data=data, stage=stage, stage_changed_on=changed_on
        )
        serializer.instance = self.reread(project)

    @post_action(
        "Move the project to another stage (going back needs a reason)",
        StageMoveSerializer,
        {201: StageChangeSerializer},
    )
    def stage(self, request, pk=None):
        project = self.get_object()
        move = read_body(StageMoveSerializer, request)
        with transaction.atomic():
            change = services.project_change_stage(
                project=project,
                user=request.user,
                stage=int(move["stage"]),
                changed_on=move.get("changed_on"),
                reason=move.get("reason", ""),
                expected_version=self.expected_version(request, move, required=False),
            )
        return Response(StageChangeSerializer(change).data, status=status.HTTP_201_CREATED)


@extend_schema(
    summary="A progress photo's file (kind `full` or `thumb`), for whoever may read projects",
    parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=["full", "thumb"])],
    responses={(200, "image/*"): OpenApiTypes.BINARY},
)
class PhotoFileView(GenericAPIView):
    """Photos are never public files: the page's view serves them to signed-in users, this one to
    token clients, both after the same check."""

    queryset = ProgressPhoto.objects.all()
    pagination_class = None
    filter_backends = []

    def get(self, request, pk, kind):
        ensure_can_read(request.user)
        return photo_response(self.get_object(), kind)


class StageChangeFilterSet(django_filters.FilterSet):
    project = django_filters.ModelChoiceFilter(queryset=Project.objects.all())
    to_stage = django_filters.MultipleChoiceFilter(choices=Stage.choices)
    changed_on = django_filters.DateFromToRangeFilter()

    class Meta:
        model = StageChange
        fields = []
        form = FilterForm


@extend_schema_view(list=extend_schema(summary="Stage changes: every project's lifecycle history"))
class StageChangeViewSet(
    RulesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Read-only: stages move through ``POST /api/projects/{id}/stage/``."""

    serializer_class = StageChangeSerializer
    filterset_class = StageChangeFilterSet
    action_rules = {"list": ensure_can_read, "retrieve": ensure_can_read}
    queryset = StageChange.objects.order_by("-changed_on", "-recorded_at", "-pk")


ROUTES = [
    ("projects", ProjectViewSet, "project"),
    ("stage-changes", StageChangeViewSet, "stagechange"),
    ("annual-plans", records.AnnualPlanViewSet, "annualplan"),
    ("progress", records.ProgressViewSet, "progress"),
    ("milestones", records.MilestoneViewSet, "milestone"),
    ("batches", records.BatchViewSet, "batch"),
    ("batch-memberships", records.BatchMembershipViewSet, "batchmembership"),
    ("months", months.MonthViewSet, "month"),
]


@documented_history("A project's change history, with its plans, reports, photos, milestones and batches")
class ProjectHistoryView(ObjectHistoryView):
    def readable(self, pk):
        ensure_can_read(self.request.user)
        return get_object_or_404(Project, pk=pk)

    def rows(self, obj):
        return selectors.project_history_rows(obj.pk)
