"""What every API endpoint shares: who may call it, pages, filters, errors and record versions.

Endpoints are thin: a FilterSet chooses (the same one the HTML list uses), a
serializer checks the shape of the input, and the app's services write — the
same functions the pages call, with the same permission checks.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from core.locking import NeedsConfirmation, StaleVersion

if TYPE_CHECKING:  # what the mixins below are mixed into
    from collections.abc import Callable

    from rest_framework.request import Request
    from rest_framework.serializers import BaseSerializer
    from rest_framework.viewsets import GenericViewSet

    _ViewSetBase = GenericViewSet[Any]
else:
    _ViewSetBase = object

logger = logging.getLogger(__name__)


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"

    @property  # the setting read per request, where DRF declares a plain attribute
    def max_page_size(self):  # type: ignore[override]
        return settings.API_MAX_PAGE_SIZE


class FilterSetBackend(DjangoFilterBackend):
    """django-filter's backend; FilterSets that narrow by the user (``mine``) get it as ``user``."""

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and getattr(filterset_class, "takes_user", False):
            kwargs["user"] = request.user
        return kwargs


def service_error_detail(error: DjangoValidationError) -> dict:
    """A service's refusal as the API shows it: field → messages, and ``non_field_errors`` for the
    model's whole-record rules (constraints, clean()), which Django keys "__all__"."""
    detail = as_serializer_error(error)
    if NON_FIELD_ERRORS in detail:
        detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
    return detail


def exception_handler(exc, context):
    """DRF's handler, taught the services' exceptions: a stale version is a conflict (409, or 412
    when the client sent If-Match), a rule broken is a 400 with field messages, a record still in
    use cannot be deleted (409), a database failure in the middle of a write is a 503 saying that
    nothing was saved. A figure the sanity checks hold back is a 400 listing the named ``warnings``."""
    request = context.get("request")
    if isinstance(exc, StaleVersion):
        code = (
            status.HTTP_412_PRECONDITION_FAILED
            if request is not None and request.headers.get("If-Match")
            else status.HTTP_409_CONFLICT
        )
        return Response({"detail": " ".join(exc.messages), "code": "stale"}, status=code)
    if isinstance(exc, NeedsConfirmation):
        return Response(
            {
                "detail": _(
                    "The figure needs checking; nothing was saved. If it is right, send it again "
                    "with confirm_warnings set to true."
                ),
                "code": "needs_confirmation",
                "warnings": [{"code": str(w.code), "message": w.message} for w in exc.warnings],
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(service_error_detail(exc))
    if isinstance(exc, OverflowError):
        # SQLite cannot even look up an id this large; PostgreSQL answers "not found". Same answer here.
        exc = exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [_("A number is too large.")]})
    if isinstance(exc, ProtectedError | RestrictedError):
        return Response(
            {
                "detail": _("This record is still used by other records and cannot be deleted."),
                "code": "protected",
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, IntegrityError):  # after ProtectedError, one of its kind
        # Two requests created the same record at the same moment: the database's unique index decided.
        return Response(
            {
                "detail": _("Someone saved the same record at the same moment; reload and try again."),
                "code": "conflict",
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DatabaseError) and request is not None and request.method not in SAFE_METHODS:
        # The write's transaction was rolled back whole; the client may try again.
        logger.exception("An API write failed in the database")
        return Response(
            {
                "detail": _(
                    "Nothing was saved: the database could not finish the save. "
                    "Try again; if it happens again, tell the administrator."
                ),
                "code": "database",
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return drf_exception_handler(exc, context)


def _parse_etag(value: str) -> int:
    tag = value.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    try:
        version = int(tag)
    except ValueError:
        raise exceptions.ValidationError(
            {"If-Match": [_('If-Match must be the ETag the record was read with, such as "3".')]}
        ) from None
    return version


@contextmanager
def api_denial():
    """Django's PermissionDenied as DRF's: the same 403, and the browsable API then hides the form the
    user may not use instead of failing the whole page."""
    try:
        yield
    except DjangoPermissionDenied as denial:
        raise exceptions.PermissionDenied(str(denial) or None) from None


class RulesMixin(_ViewSetBase):
    """Role checks that come before the input is read: ``action_rules`` maps an action to an
    ``ensure_*`` function of the app's permissions module (it raises PermissionDenied → 403)."""

    action_rules: dict = {}

    def check_permissions(self, request):
        super().check_permissions(request)
        rule = self.action_rules.get(self.action)
        if rule is not None:
            with api_denial():
                rule(request.user)


def updated_by(serializer_class) -> dict:
    """``serializer_classes`` of a viewset whose changes take their own body (PUT and PATCH)."""
    return {"update": serializer_class, "partial_update": serializer_class}


class SerializerPerActionMixin(_ViewSetBase):
    """``serializer_classes`` maps an action to its serializer; others use ``serializer_class``."""

    serializer_classes: dict = {}

    def get_serializer_class(self):
        return self.serializer_classes.get(self.action) or super().get_serializer_class()


def read_body(serializer_class: type[BaseSerializer], request: Request) -> dict:
    """The request body as ``serializer_class`` checks it: a 400 with field messages if it is not."""
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


def post_action(
    summary: str, body: Any, responses: dict, *, name: str | None = None, detail: bool = True, **route
):
    """``@action`` for a POST of its own (a workflow step, an upload, publishing a month), with its
    schema: the ``body`` it reads and its ``responses``. ``name`` names a method a factory built:
    DRF routes to the viewset's attribute named as the function."""

    def decorate(method):
        if name is not None:
            method.__name__ = name
        schema = extend_schema(summary=summary, request=body, responses=responses)
        return schema(action(detail=detail, methods=["post"], **route)(method))

    return decorate


class RereadMixin(_ViewSetBase):
    """A write answers with the record as the endpoint reads it (its annotations and related rows),
    which the service's own instance does not carry."""

    record_keyword = ""  # the services' keyword for the record: ``ticket``, ``report`` …

    def reread(self, record):
        return self.get_queryset().get(pk=record.pk)


class VersionedMixin(_ViewSetBase):
    """Records with a ``version``: reads carry it as the ETag, changes must say which version they
    change — the ``version`` field of the body, or If-Match — so nobody overwrites a newer save."""

    def expected_version(
        self, request, validated: dict | None = None, *, required: bool = True
    ) -> int | None:
        header = request.headers.get("If-Match")
        if header:
            return _parse_etag(header)
        version: Any = (validated or {}).get("version")
        if version is None and hasattr(request.data, "get"):
            version = request.data.get("version")
        if version in (None, ""):
            if required:
                raise exceptions.ValidationError(
                    {
                        "version": [
                            _(
                                "Send the version you read (or If-Match with its ETag), "
                                "so a newer save is not overwritten."
                            )
                        ]
                    }
                )
            return None
        try:
            return int(version)
        except (TypeError, ValueError):
            raise exceptions.ValidationError({"version": [_("A valid integer is required.")]}) from None

    def split_version(self, request, validated: dict, *, required: bool = True) -> tuple[dict, int | None]:
        """The body without its ``version`` (the services take it apart), and the version expected."""
        data = dict(validated)
        expected = self.expected_version(request, data, required=required)
        data.pop("version", None)
        return data, expected

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        if (
            self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
            and isinstance(data, dict)
            and isinstance(data.get("version"), int)
            and response.status_code < 300
        ):
            response["ETag"] = f'"{data["version"]}"'
        return response


class ServiceWritesMixin(RereadMixin):
    """Create, change and delete through the app's services, named by action in ``write_services``
    (``create``, ``update``, ``destroy``). Each takes the user; create and update take the body as
    ``data``, update and destroy the record by ``record_keyword``. The fields in ``keyword_fields``
    go to the service as keywords of their own, not in ``data``. A versioned record's change passes
    the version the client read as ``expected_version``. Writes answer with the record reread."""

    write_services: dict[str, Callable[..., Any]] = {}
    keyword_fields: tuple[str, ...] = ()

    def _service_body(self, validated) -> tuple[dict, dict]:
        data = dict(validated)
        return data, {name: data.pop(name, None) for name in self.keyword_fields}

    def perform_create(self, serializer):
        data, keywords = self._service_body(serializer.validated_data)
        record = self.write_services["create"](user=self.request.user, data=data, **keywords)
        serializer.instance = self.reread(record)

    def perform_update(self, serializer):
        data, keywords = self._service_body(serializer.validated_data)
        if isinstance(self, VersionedMixin):
            data, keywords["expected_version"] = self.split_version(self.request, data)
        record = self.write_services["update"](
            **{self.record_keyword: serializer.instance}, user=self.request.user, data=data, **keywords
        )
        serializer.instance = self.reread(record)

    def perform_destroy(self, instance):
        self.write_services["destroy"](**{self.record_keyword: instance}, user=self.request.user)


class StepsMixin(RereadMixin, VersionedMixin):
    """Workflow steps of one record, each its own POST built by ``step_action``: the body goes to the
    step's service with the version the client read, the answer is the record as the step left it."""

    def take_step(self, request, service: Callable[..., Any], body_class: type[BaseSerializer]) -> Response:
        record = self.get_object()
        data, expected = self.split_version(request, read_body(body_class, request), required=False)
        self.perform_step(
            service, **{self.record_keyword: record}, user=request.user, expected_version=expected, **data
        )
        return self.step_answer(record)

    def perform_step(self, service: Callable[..., Any], **arguments: Any) -> None:
        service(**arguments)

    def step_answer(self, record) -> Response:
        return Response(self.get_serializer(self.reread(record)).data)


def step_action(
    service: Callable[..., Any],
    body_class: type[BaseSerializer],
    summary: str,
    *,
    name: str,
    answer: Any,
    **route,
):
    """A ``StepsMixin`` step as a viewset attribute: ``name`` must be the attribute's name."""

    def step(self, request, pk=None):
        return self.take_step(request, service, body_class)

    return post_action(summary, body_class, {200: answer}, name=name, **route)(step)
