"""The six roles and the Django groups that carry them.

A role is a group membership; a superuser counts as an administrator. The
groups are created (and given at least their baseline permissions) after every
``migrate``, so every install has them; an administrator may grant more.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _


class Role:
    ADMIN = "admin"
    LEADER = "leader"
    REVIEWER = "reviewer"
    STAFF = "staff"
    UNIT = "unit"
    SUPERVISOR = "supervisor"


# Group names are what admins see and pick; they stay Chinese in every language.
GROUP_NAMES = {
    Role.ADMIN: "管理员",
    Role.LEADER: "领导",
    Role.REVIEWER: "审核员",
    Role.STAFF: "项目专员",
    Role.UNIT: "责任单位",
    Role.SUPERVISOR: "督办",
}
ROLE_BY_GROUP = {name: role for role, name in GROUP_NAMES.items()}

ROLE_LABELS = {
    Role.ADMIN: _("administrator"),
    Role.LEADER: _("leader"),
    Role.REVIEWER: _("reviewer"),
    Role.STAFF: _("project staff"),
    Role.UNIT: _("responsible unit"),
    Role.SUPERVISOR: _("supervision office"),
}

ZONE_APPS = ["core", "reference", "enterprises", "projects", "problems"]


def roles_of(user) -> frozenset[str]:
    """The user's roles, read once per request and kept on the user object."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_zone_roles", None)
    if cached is None:
        # Lists of users prefetch their groups; one user alone reads just the names.
        prefetched = getattr(user, "_prefetched_objects_cache", {}).get("groups")
        names = (
            [group.name for group in prefetched]
            if prefetched is not None
            else user.groups.values_list("name", flat=True)
        )
        cached = frozenset(ROLE_BY_GROUP[name] for name in names if name in ROLE_BY_GROUP)
        if user.is_superuser:
            cached |= {Role.ADMIN}
        user._zone_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def is_admin(user) -> bool:
    return has_role(user, Role.ADMIN)


# The roles that keep records in Django admin: administrators (users, reference data, batches),
# project staff (annual plans, which have no page) and the 万人助万企 office (the enterprise
# records). Leaders, reviewers and units only read there what the pages show them already.
ADMIN_SITE_ROLES = (Role.ADMIN, Role.STAFF, Role.SUPERVISOR)


def uses_admin_site(user) -> bool:
    """Whether the menu offers 管理后台: a role that keeps records there, and an account the admin
    lets in (``is_staff``)."""
    return user.is_staff and has_role(user, *ADMIN_SITE_ROLES)


def baseline_permissions() -> dict[str, Q]:
    """The model permissions each role needs in Django admin, as filters on Permission."""
    zone = Q(content_type__app_label__in=ZONE_APPS)
    view = zone & Q(codename__startswith="view_")
    return {
        Role.ADMIN: Q(content_type__app_label__in=[*ZONE_APPS, "auth"]),
        Role.LEADER: view,
        Role.REVIEWER: view | Q(content_type__app_label="projects", codename="review_monthlyprogress"),
        Role.STAFF: view
        | Q(
            content_type__app_label="projects",
            codename__regex=r"^(add|change)_(project|annualplan|monthlyprogress|approvalmilestone|progressphoto)$",
        )
        # A plan entered by mistake is deleted by its project's staff, as in the API.
        | Q(content_type__app_label="projects", codename="delete_annualplan"),
        Role.UNIT: view,
        # The 万人助万企 office keeps the enterprise records (enterprises/permissions.py), and has
        # visits and tickets in admin too (transitions stay on the pages).
        Role.SUPERVISOR: view
        | Q(content_type__app_label="enterprises", codename__regex=r"^(add|change)_enterprise$")
        | Q(content_type__app_label="problems", codename__regex=r"^(add|change)_(visit|problemticket)$"),
    }


def sync_role_groups(**kwargs) -> None:
    """Create the role groups and add their baseline permissions (never removes any)."""
    for role, condition in baseline_permissions().items():
        group, _created = Group.objects.get_or_create(name=GROUP_NAMES[role])
        group.permissions.add(*Permission.objects.filter(condition))


def ensure_admin(user) -> None:
    if not is_admin(user):
        raise PermissionDenied(gettext_now("Only administrators may do this."))
