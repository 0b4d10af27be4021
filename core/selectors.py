"""Reads of the people and reference data that every app's pages pick from."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from core.models import User

# ``people(role=ANY_ROLE)``: whoever has some role in the portal.
ANY_ROLE = "any"


def people(*, role: str | None = None, unit_id: int | None = None, active_only: bool = True) -> QuerySet:
    """Users as the pickers offer them: with ``role`` (a Role, or ANY_ROLE), of the unit ``unit_id``,
    active ones only unless ``active_only`` is off (a filter over past records names former staff).
    The forms' querysets and the people lookup (core.lookups) both come from here, so whoever
    the lookup offers, the form accepts."""
    users = User.objects.select_related("department").order_by("username")
    if active_only:
        users = users.filter(is_active=True)
    if role is not None:
        memberships = User.groups.through.objects.filter(user_id=OuterRef("pk"))
        if role != ANY_ROLE:
            memberships = memberships.filter(group__role__code=role)
        users = users.filter(Exists(memberships))
    if unit_id is not None:
        users = users.filter(department_id=unit_id)
    return users


def person_label(user: User) -> str:
    """A person as pickers show them: the name, and the unit when they have one (two 王伟 differ)."""
    return f"{user}（{user.department}）" if user.department_id else str(user)
