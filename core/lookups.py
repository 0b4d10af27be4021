"""The JSON lookups behind the searchable pickers (core.forms.RemoteSelect, static/js/selects.js):
``?q=`` text in, at most LOOKUP_LIMIT ``[{"value": id, "text": label}]`` out, in a fixed number of
queries. Each app's lookup checks who may read its rows with the same rules as its list; this
module has what they share and the people lookup."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from core.roles import ROLE_LABELS, roles_of
from core.selectors import ANY_ROLE, people, person_label

LOOKUP_LIMIT = 20
MAX_TERM = 100
MAX_ID = 2**63 - 1


class BadLookup(Exception):
    """A parameter the lookup does not understand: answered 400."""


def search_term(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:MAX_TERM]


def id_param(request: HttpRequest, name: str) -> int | None:
    """An id parameter: None when absent or empty, BadLookup when it is no id."""
    text = request.GET.get(name, "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
        raise BadLookup(name)
    return int(text)


def search(rows: QuerySet, term: str, fields: list[str], *, order: str = "name") -> QuerySet:
    """``rows`` whose ``fields`` contain ``term`` (all rows for no term); those whose ``order`` field
    starts with it first, then by that field."""
    if not term:
        return rows.order_by(order, "pk")
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__icontains": term})
    first = Case(
        When(**{f"{order}__istartswith": term}, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return rows.filter(condition).order_by(first, order, "pk")


def lookup_response(rows: QuerySet[Any] | Sequence[Any], label: Callable = str) -> JsonResponse:
    """The first LOOKUP_LIMIT of ``rows`` as pickers read them."""
    items = [{"value": row.pk, "text": label(row)} for row in rows[:LOOKUP_LIMIT]]
    return JsonResponse(items, safe=False)


def lookup_view(view):
    """A lookup: logged in (else to the login page), GET only, 400 on a parameter it does not understand."""

    @login_required
    @require_safe
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except BadLookup as error:
            return JsonResponse({"detail": _("Unknown value of %(name)s.") % {"name": error}}, status=400)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@lookup_view
def user_lookup(request):
    """People by username or name, for anyone with a role (the pages show names already).
    ``role``: a role, or ``any`` for any role; ``unit``: a unit's id; ``inactive=1``: former users too."""
    if not roles_of(request.user):
        raise PermissionDenied(_("You have no role in this portal yet: ask an administrator."))
    role = request.GET.get("role") or None
    if role is not None and role != ANY_ROLE and role not in ROLE_LABELS:
        raise BadLookup("role")
    users = people(
        role=role, unit_id=id_param(request, "unit"), active_only=request.GET.get("inactive") != "1"
    )
    users = search(users, search_term(request), ["username", "display_name"], order="username")
    return lookup_response(users, person_label)
