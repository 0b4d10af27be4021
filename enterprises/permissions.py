"""Who may read and act on visits and problem tickets. Pages, services and the admin ask here.

* The 万人助万企 office — administrators and the 督办 (supervision) group —
  reads everything, assigns tickets, reviews resolutions, escalates.
* Leaders read everything, comment and reassign.
* Project staff and reviewers read everything; staff collect problems (visits,
  tickets), follow them up and record the enterprise's rating.
* A responsible unit's handlers read and act only on tickets assigned to their unit.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from core.roles import Role, has_role, is_admin

ZONE_WIDE_READERS = (Role.ADMIN, Role.SUPERVISOR, Role.LEADER, Role.STAFF, Role.REVIEWER)


def is_office(user) -> bool:
    return has_role(user, Role.ADMIN, Role.SUPERVISOR)


def can_read_enterprises(user) -> bool:
    return has_role(user, *ZONE_WIDE_READERS, Role.UNIT)


def ensure_can_read_enterprises(user) -> None:
    if not can_read_enterprises(user):
        raise PermissionDenied(_("You have no role in this portal yet: ask an administrator."))


def has_zone_wide_read(user) -> bool:
    return has_role(user, *ZONE_WIDE_READERS)


def can_edit_enterprises(user) -> bool:
    """The 万人助万企 office keeps the enterprise records; only administrators delete one."""
    return is_office(user)


def ensure_can_edit_enterprises(user) -> None:
    if not can_edit_enterprises(user):
        raise PermissionDenied(_("Only administrators and the supervision office change enterprise records."))


def ensure_can_delete_enterprises(user) -> None:
    if not is_admin(user):
        raise PermissionDenied(_("Only administrators delete enterprises."))
