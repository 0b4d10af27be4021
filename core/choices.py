"""The six roles' stable codes and their labels (core/roles.py says what each role may do)."""

from django.utils.translation import gettext_lazy as _


class Role:
    """A role's code: stored with its group (core.models.RoleGroup) and never renamed."""

    ADMIN = "admin"
    LEADER = "leader"
    REVIEWER = "reviewer"
    STAFF = "staff"
    UNIT = "unit"
    SUPERVISOR = "supervisor"


ROLE_LABELS = {
    Role.ADMIN: _("administrator"),
    Role.LEADER: _("leader"),
    Role.REVIEWER: _("reviewer"),
    Role.STAFF: _("project staff"),
    Role.UNIT: _("responsible unit"),
    Role.SUPERVISOR: _("supervision office"),
}
