"""Writes to enterprises, visits and problem tickets. Pages, the admin, the API and importers call these.

Every ticket transition goes through ``_begin``: the row is locked, the
``TRANSITIONS`` table says from which statuses the action is allowed and who
may take it, and the event is appended to the timeline in the same transaction.
"""

from __future__ import annotations

from typing import TypedDict

from django.db import transaction

from core import history
from core.locking import apply_changes, check_fields, stamp
from enterprises import permissions
from enterprises.models import Enterprise
from reference.models import Department, Industry, Leader, Park

# --- Enterprises ----------------------------------------------------------------------------


class EnterpriseChanges(TypedDict, total=False):
    """What enterprise_create and enterprise_update set."""

    name: str
    short_name: str
    parent: Enterprise | None
    credit_code: str
    legal_representative: str
    industry: Industry | None
    park: Park | None
    address: str
    contact_person: str
    contact_phone: str
    is_above_scale: bool
    on_white_list: bool
    liaison_leader: Leader | None
    liaison_unit: Department | None
    description: str


ENTERPRISE_FIELDS = tuple(EnterpriseChanges.__annotations__)


@transaction.atomic
def enterprise_create(*, user, data: EnterpriseChanges, honours=None) -> Enterprise:
    """Register an enterprise; its credit code is checked and stored in one spelling (the model's clean)."""
    permissions.ensure_can_edit_enterprises(user)
    check_fields(data, EnterpriseChanges)
    enterprise = Enterprise(**data)
    enterprise.full_clean()
    stamp(enterprise, user)
    history.save_with_links(enterprise, {"honours": honours} if honours is not None else {})
    return enterprise


@transaction.atomic
def enterprise_update(*, enterprise: Enterprise, user, data: EnterpriseChanges, honours=None) -> Enterprise:
    """Change an enterprise's record; ``honours`` (when given) replaces its titles. A credit code
    respelled by the model's clean into the one it had is no change."""
    permissions.ensure_can_edit_enterprises(user)
    honours_changed = honours is not None and {getattr(h, "pk", h) for h in honours} != set(
        enterprise.honours.values_list("pk", flat=True)
    )
    links = {"honours": honours} if honours_changed else {}
    apply_changes(
        enterprise,
        data,
        user=user,
        allowed=EnterpriseChanges,
        always=honours_changed,  # the titles alone are a change, saved with the record
        save=lambda locked, fields: history.save_with_links(locked, links, update_fields=fields),
    )
    return enterprise


@transaction.atomic
def enterprise_delete(*, enterprise: Enterprise, user) -> None:
    """Administrators delete an enterprise entered by mistake; one with projects, visits, problems or
    subsidiaries is refused (ProtectedError): those records need it."""
    permissions.ensure_can_delete_enterprises(user)
    locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    stamp(locked, user)
    locked.delete()
