"""Writes to enterprises, visits and problem tickets. Pages, the admin, the API and importers call these.

Every ticket transition goes through ``_begin``: the row is locked, the
``TRANSITIONS`` table says from which statuses the action is allowed and who
may take it, and the event is appended to the timeline in the same transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.db import transaction

from core import history
from core.locking import check_fields, copy_state
from enterprises import permissions
from enterprises.models import Enterprise

if TYPE_CHECKING:
    from django.db.models import Field

# --- Enterprises ----------------------------------------------------------------------------

ENTERPRISE_FIELDS = (
    "name",
    "short_name",
    "parent",
    "credit_code",
    "legal_representative",
    "industry",
    "park",
    "address",
    "contact_person",
    "contact_phone",
    "is_above_scale",
    "on_white_list",
    "liaison_leader",
    "liaison_unit",
    "description",
)


@transaction.atomic
def enterprise_create(*, user, data: dict[str, Any], honours=None) -> Enterprise:
    """Register an enterprise; its credit code is checked and stored in one spelling (the model's clean)."""
    permissions.ensure_can_edit_enterprises(user)
    check_fields(data, ENTERPRISE_FIELDS)
    enterprise = Enterprise(**data)
    enterprise.full_clean()
    enterprise._history_user = user  # type: ignore[attr-defined]  # simple-history's hook for who made the change
    history.save_with_links(enterprise, {"honours": honours} if honours is not None else {})
    return enterprise


@transaction.atomic
def enterprise_update(*, enterprise: Enterprise, user, data: dict[str, Any], honours=None) -> Enterprise:
    """Change an enterprise's record; ``honours`` (when given) replaces its titles."""
    permissions.ensure_can_edit_enterprises(user)
    check_fields(data, ENTERPRISE_FIELDS)
    locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    columns = [cast("Field[Any, Any]", Enterprise._meta.get_field(name)) for name in ENTERPRISE_FIELDS]
    before = {field.attname: getattr(locked, field.attname) for field in columns}
    for name, value in data.items():
        setattr(locked, name, value)
    locked.full_clean()
    # Compared after clean, which may respell the credit code.
    changed = [field.name for field in columns if getattr(locked, field.attname) != before[field.attname]]
    honours_changed = honours is not None and {getattr(h, "pk", h) for h in honours} != set(
        locked.honours.values_list("pk", flat=True)
    )
    if changed or honours_changed:
        locked._history_user = user  # type: ignore[attr-defined]  # simple-history's hook for who made the change
        links = {"honours": honours} if honours_changed else {}
        history.save_with_links(locked, links, update_fields=[*changed, "updated_at"])
    copy_state(locked, enterprise)
    return enterprise


@transaction.atomic
def enterprise_delete(*, enterprise: Enterprise, user) -> None:
    """Administrators delete an enterprise entered by mistake; one with projects, visits, problems or
    subsidiaries is refused (ProtectedError): those records need it."""
    permissions.ensure_can_delete_enterprises(user)
    locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    locked._history_user = user  # type: ignore[attr-defined]  # simple-history's hook for who made the change
    locked.delete()
