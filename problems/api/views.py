"""Enterprises, visits and problem tickets through the API: the pages' FilterSets and scopes for
reading, the services (the pages' own) for every write and every step of a ticket's workflow."""

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.api.base import (
    RereadMixin,
    RulesMixin,
    SerializerPerActionMixin,
    ServiceWritesMixin,
    StepsMixin,
    api_denial,
    post_action,
    read_body,
    service_error_detail,
    step_action,
    updated_by,
)
from core.api.history import ObjectHistoryView, documented_history
from core.filtersets import FilterForm
from enterprises import permissions as enterprise_permissions
from enterprises import services as enterprise_services
from enterprises.api.serializers import EnterpriseSerializer
from enterprises.filtersets import EnterpriseFilterSet
from enterprises.models import Enterprise
from problems import permissions, selectors, services
from problems.api.serializers import (
    AssignSerializer,
    AttachmentUploadSerializer,
    CloseSerializer,
    CommentSerializer,
    GradeSerializer,
    PlanSerializer,
    RateSerializer,
    ReasonSerializer,
    ReassignSerializer,
    ResolveSerializer,
    TextSerializer,
    TicketAttachmentSerializer,
    TicketCreateSerializer,
    TicketDetailSerializer,
    TicketEventSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
    VersionedActionSerializer,
    VisitCreateSerializer,
    VisitSerializer,
    aligned_row_errors,
)
from problems.filtersets import TicketFilterSet
from problems.models import ProblemTicket, TicketAttachment, Visit
from problems.views import attachment_response
from reference.models import Department

# --- Enterprises ---------------------------------------------------------------------------------


# --- Visits ------------------------------------------------------------------------------------


class VisitFilterSet(django_filters.FilterSet):
    enterprise = django_filters.ModelChoiceFilter(queryset=Enterprise.objects.only("pk"))
    unit = django_filters.ModelChoiceFilter(queryset=Department.objects.all())
    visited_on = django_filters.DateFromToRangeFilter()

    class Meta:
        model = Visit
        fields = []
        form = FilterForm


@extend_schema_view(
    list=extend_schema(summary="Enterprise visits (走访)"),
    retrieve=extend_schema(summary="A visit and the problems collected on it"),
    create=extend_schema(
        summary="Record a visit and the problems collected on it (all or nothing)",
        request=VisitCreateSerializer,
        responses={201: VisitSerializer},
    ),
)
class VisitViewSet(
    RulesMixin,
    RereadMixin,
    SerializerPerActionMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Visits are recorded once, as they happened: no changes or deletion through the API."""

    filterset_class = VisitFilterSet
    action_rules = {
        "list": permissions.ensure_can_read_visits,
        "retrieve": permissions.ensure_can_read_visits,
        "create": permissions.ensure_can_collect,
    }

    queryset = (
        Visit.objects.select_related("enterprise", "unit", "created_by")
        .prefetch_related(
            "visitors",
            Prefetch("problems", queryset=ProblemTicket.objects.only("pk", "visit_id").order_by("pk")),
        )
        .order_by("-visited_on", "-pk")
    )
    serializer_class = VisitSerializer
    serializer_classes = {"create": VisitCreateSerializer}

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        visitors = data.pop("visitors", [])
        problems = data.pop("problems", [])
        try:
            visit = services.visit_create(
                user=self.request.user, data=data, visitors=visitors, problems=problems
            )
        except services.ProblemRowErrors as refused:
            rows = {index: service_error_detail(error) for index, error in refused.errors.items()}
            raise exceptions.ValidationError({"problems": aligned_row_errors(rows, len(problems))}) from None
        serializer.instance = self.reread(visit)


# --- Problem tickets ---------------------------------------------------------------------------

# The service check that decides who may take each endpoint's step (see services.TRANSITIONS).
TRANSITION_OF_ACTION = {
    "update": "edit",
    "partial_update": "edit",
    "assign": "assign",
    "accept": "accept",
    "decline": "decline",
    "reply": "reply",
    "plan": "plan",
    "resolve": "resolve",
    "close": "close",
    "send_back": "send_back",
    "grade": "grade",
    "rate": "rate",
    "escalate": "escalate",
    "reassign": "reassign",
    "comment": "comment",
}
# The rows whose ``reason`` the services report as the field ``text``; the API names it ``reason``.
REASON_ACTIONS = {
    name
    for name, rule in services.TRANSITIONS.items()
    if any(need.argument == "reason" and need.field == "text" for need in rule.given)
}


def _step(service, body_class, summary: str, *, name: str):
    return step_action(service, body_class, summary, name=name, answer=TicketDetailSerializer)


@extend_schema_view(
    list=extend_schema(summary="Problem tickets, filtered and sorted as the problem list"),
    retrieve=extend_schema(summary="A problem ticket, its deadlines and the actions you may take"),
    create=extend_schema(
        summary="Record a problem (zone staff, supervision office)",
        request=TicketCreateSerializer,
        responses={201: TicketDetailSerializer},
    ),
    update=extend_schema(summary="Correct a problem's details (office; the collector before assignment)"),
    partial_update=extend_schema(summary="Correct some of a problem's details"),
)
class TicketViewSet(
    RulesMixin,
    StepsMixin,
    ServiceWritesMixin,
    SerializerPerActionMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """ "万人助万企" problems on the "13710" clock. A responsible unit sees its unit's problems only.
    Every step is its own POST (``/assign/``, ``/accept/`` …) that may send the ``version`` it read;
    ``allowed_actions`` on the detail says which steps you may take now. Problems are never deleted."""

    filterset_class = TicketFilterSet
    action_rules = {
        "list": permissions.ensure_can_read_tickets,
        "retrieve": permissions.ensure_can_read_tickets,
        "create": permissions.ensure_can_collect,
    }
    record_keyword = "ticket"
    write_services = {"update": services.ticket_update}
    serializer_class = TicketDetailSerializer
    serializer_classes = {
        "list": TicketSerializer,
        "create": TicketCreateSerializer,
        **updated_by(TicketUpdateSerializer),
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProblemTicket.objects.none()
        tickets = permissions.readable_tickets(self.request.user)
        # The list page's order unless ``ordering`` asks for another.
        return selectors.ticket_rows(tickets).order_by("-collected_at", "-pk")

    def get_object(self):
        """Outside the read scope: 404. Not the role for the step: 403, before the body is read."""
        ticket = super().get_object()
        step = TRANSITION_OF_ACTION.get(self.action)
        if self.action == "attachments" and self.request.method == "POST":
            step = "attach"
        if step is not None:
            with api_denial():
                services.ensure_actor(step, self.request.user, ticket)
        return ticket

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        visit = data.pop("visit", None)
        collected_at = data.pop("collected_at", None)
        data.pop("version", None)
        ticket = services.ticket_create(
            user=self.request.user, data=data, visit=visit, collected_at=collected_at
        )
        serializer.instance = self.reread(ticket)

    def step_answer(self, record: ProblemTicket) -> Response:
        # Read outside the caller's scope on purpose: a unit that declined a problem is answered
        # with the problem as its step left it, though the problem is no longer with the unit.
        fresh = selectors.ticket_rows(ProblemTicket.objects.filter(pk=record.pk)).get()
        return Response(TicketDetailSerializer(fresh, context=self.get_serializer_context()).data)

    def perform_step(self, service, **arguments):
        try:
            service(**arguments)
        except DjangoValidationError as error:
            if self.action in REASON_ACTIONS and "text" in getattr(error, "error_dict", {}):
                raise DjangoValidationError({"reason": error.error_dict["text"]}) from None
            raise

    assign = _step(
        services.ticket_assign,
        AssignSerializer,
        "Assign the problem to a responsible unit (office)",
        name="assign",
    )
    accept = _step(
        services.ticket_accept,
        VersionedActionSerializer,
        "Accept the problem (the assigned unit)",
        name="accept",
    )
    decline = _step(
        services.ticket_decline,
        ReasonSerializer,
        "Send the problem back as not your unit's, saying why (the assigned unit)",
        name="decline",
    )
    reply = _step(
        services.ticket_reply,
        TextSerializer,
        "Report the measures taken and the progress (the assigned unit)",
        name="reply",
    )
    plan = _step(
        services.ticket_plan,
        PlanSerializer,
        "Record the plan and committed date of a major problem (the assigned unit)",
        name="plan",
    )
    resolve = _step(
        services.ticket_resolve,
        ResolveSerializer,
        "Submit the resolution for review (the assigned unit)",
        name="resolve",
    )
    close = _step(
        services.ticket_close,
        CloseSerializer,
        "Approve the resolution: close the problem out, optionally graded (office)",
        name="close",
    )
    send_back = _step(
        services.ticket_send_back,
        ReasonSerializer,
        "Send the resolution back to the unit, saying what is missing (office)",
        name="send_back",
    )
    grade = _step(services.ticket_grade, GradeSerializer, "Grade a closed problem (office)", name="grade")
    rate = _step(
        services.ticket_rate,
        RateSerializer,
        "Record the enterprise's rating; “unsatisfied” reopens it (zone staff, office)",
        name="rate",
    )
    escalate = _step(
        services.ticket_escalate,
        ReasonSerializer,
        "Escalate to the city, then the province, saying why (office)",
        name="escalate",
    )
    reassign = _step(
        services.ticket_reassign,
        ReassignSerializer,
        "Move the problem to another unit (office, leaders)",
        name="reassign",
    )

    @post_action(
        "Comment on the problem (anyone who may open it)", CommentSerializer, {201: TicketEventSerializer}
    )
    def comment(self, request, pk=None):
        ticket = self.get_object()
        text = read_body(CommentSerializer, request)["text"]
        event = services.ticket_comment(ticket=ticket, user=request.user, text=text)
        return Response(TicketEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The problem's timeline, oldest first", responses={200: TicketEventSerializer(many=True)}
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def events(self, request, pk=None):
        ticket = self.get_object()
        return Response(TicketEventSerializer(selectors.ticket_timeline(ticket), many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="The problem's files (their details; each file is downloaded from its url)",
        request=None,
        responses={200: TicketAttachmentSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a file to the problem (zone staff, office, the assigned unit)",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: TicketAttachmentSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser],
        pagination_class=None,
        filter_backends=[],
    )
    def attachments(self, request, pk=None):
        ticket = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            files = ticket.attachments.select_related("uploaded_by").order_by("uploaded_at", "pk")
            return Response(TicketAttachmentSerializer(files, many=True, context=context).data)
        upload = read_body(AttachmentUploadSerializer, request)["file"]
        attachment = services.attachment_add(ticket=ticket, user=request.user, upload=upload)
        return Response(
            TicketAttachmentSerializer(attachment, context=context).data, status=status.HTTP_201_CREATED
        )


@extend_schema(
    summary="A ticket attachment's file, for whoever may open the ticket",
    # The type the file was stored with: PDF, an image, an Office document, a zip.
    responses={(200, "*/*"): OpenApiTypes.BINARY},
)
class AttachmentFileView(GenericAPIView):
    """Attachments are never public files: the page serves them to signed-in users, this view to
    token clients; a ticket outside the caller's scope is a 404."""

    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TicketAttachment.objects.none()
        tickets = permissions.readable_tickets(self.request.user)
        return TicketAttachment.objects.filter(ticket__in=tickets.values("pk"))

    def get(self, request, pk):
        return attachment_response(self.get_object())


@documented_history("An enterprise's change history, with its yearly figures and visits")
class EnterpriseHistoryView(ObjectHistoryView):
    def readable(self, pk):
        enterprise_permissions.ensure_can_read_enterprises(self.request.user)
        return get_object_or_404(Enterprise, pk=pk)

    def rows(self, obj):
        with_visits = enterprise_permissions.has_zone_wide_read(self.request.user)
        return selectors.enterprise_history_rows(obj.pk, with_visits=with_visits)


@documented_history("A problem's change history")
class TicketHistoryView(ObjectHistoryView):
    def readable(self, pk):
        # As /api/tickets/{id}/: a problem the caller may not read is not found.
        return get_object_or_404(permissions.readable_tickets(self.request.user), pk=pk)

    def rows(self, obj):
        return selectors.ticket_history_rows(obj.pk)


@extend_schema_view(
    list=extend_schema(summary="Enterprises, filtered as the enterprise list"),
    retrieve=extend_schema(summary="An enterprise with its counts of problems"),
    create=extend_schema(summary="Register an enterprise (administrators, supervision office)"),
    update=extend_schema(summary="Change an enterprise (administrators, supervision office)"),
    partial_update=extend_schema(summary="Change some of an enterprise's fields"),
    destroy=extend_schema(summary="Delete an enterprise nothing refers to (administrators)"),
)
class EnterpriseViewSet(RulesMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """The zone's enterprises. Every role reads them (responsible units too); the office keeps them.
    ``open_problems``, ``problem_total`` and ``has_overdue`` count every problem of the enterprise."""

    serializer_class = EnterpriseSerializer
    filterset_class = EnterpriseFilterSet
    action_rules = {
        "list": enterprise_permissions.ensure_can_read_enterprises,
        "retrieve": enterprise_permissions.ensure_can_read_enterprises,
        "create": enterprise_permissions.ensure_can_edit_enterprises,
        "update": enterprise_permissions.ensure_can_edit_enterprises,
        "partial_update": enterprise_permissions.ensure_can_edit_enterprises,
        "destroy": enterprise_permissions.ensure_can_delete_enterprises,
    }
    record_keyword = "enterprise"
    write_services = {
        "create": enterprise_services.enterprise_create,
        "update": enterprise_services.enterprise_update,
        "destroy": enterprise_services.enterprise_delete,
    }
    keyword_fields = ("honours",)

    def get_queryset(self):
        # The list page's rows: open_problems is what its "with open problems" filter reads.
        rows = selectors.enterprise_rows(Enterprise.objects.all())
        return rows.select_related("parent").prefetch_related("honours").order_by("name", "pk")


# The registry's list reads each enterprise's problem counts, so its endpoint is here, where both are known.
ROUTES = [
    ("enterprises", EnterpriseViewSet, "enterprise"),
    ("visits", VisitViewSet, "visit"),
    ("tickets", TicketViewSet, "ticket"),
]
