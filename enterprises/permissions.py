"""Who may read and keep the enterprise registry, and the reading roles the 万人助万企 pages share.

* Every role reads the registry.
* The 万人助万企 office — administrators and the 督办 (supervision) group — keeps the enterprise
  records; only administrators delete one.
* Zone-wide readers (every role but a responsible unit's handlers) read everything of 万人助万企;
  a unit's handlers read their unit's tickets (problems/permissions.py).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from core.roles import Role, has_role, is_admin

ZONE_WIDE_READERS = (Role.ADMIN, Role.SUPERVISOR, Role.LEADER, Role.STAFF, Role.REVIEWER)


def is_office(user) -> bool:
    return has_role(user, Role.ADMIN, Role.SUPERVISOR)


def ensure_can_read_enterprises(user) -> None:
    if not has_role(user, *ZONE_WIDE_READERS, Role.UNIT):
        raise PermissionDenied(_("You have no role in this portal yet: ask an administrator."))


def has_zone_wide_read(user) -> bool:
    return has_role(user, *ZONE_WIDE_READERS)


def ensure_can_edit_enterprises(user) -> None:
    if not is_office(user):
        raise PermissionDenied(_("Only administrators and the supervision office change enterprise records."))


def ensure_can_delete_enterprises(user) -> None:
    if not is_admin(user):
        raise PermissionDenied(_("Only administrators delete enterprises."))
