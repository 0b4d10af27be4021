"""The six roles and the Django groups that carry them.

A role is a group membership; a superuser counts as an administrator. A group carries a role by the
role's code (core.models.RoleGroup), not by its name, so an administrator may rename a group and
its members keep the role. The groups are created (and given at least their baseline permissions)
after every ``migrate``, so every install has them; an administrator may grant more.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as gettext_now

from core.choices import ROLE_LABELS as ROLE_LABELS  # re-exported: the roles' labels live with them
from core.choices import Role
from core.models import RoleGroup

# The role groups' names on a new install: what admins see and pick (Chinese in every language).
# Only sync_role_groups reads them, to create a missing group; the role goes by its code.
GROUP_NAMES = {
    Role.ADMIN: "管理员",
    Role.LEADER: "领导",
    Role.REVIEWER: "审核员",
    Role.STAFF: "项目专员",
    Role.UNIT: "责任单位",
    Role.SUPERVISOR: "督办",
}

ZONE_APPS = ["core", "reference", "enterprises", "projects", "problems"]


def roles_of(user) -> frozenset[str]:
    """The user's roles, read once per request and kept on the user object."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_zone_roles", None)
    if cached is None:
        prefetched = getattr(user, "_prefetched_objects_cache", {}).get("groups")
        if prefetched is not None and all(Group.role.is_cached(group) for group in prefetched):
            codes = [group.role.code for group in prefetched if hasattr(group, "role")]
        else:  # one user alone: just the codes, in one query
            codes = list(RoleGroup.objects.filter(group__user=user).values_list("code", flat=True))
        cached = frozenset(codes)
        if user.is_superuser:
            cached |= {Role.ADMIN}
        user._zone_roles = cached
    return cached


def with_roles(users: QuerySet) -> QuerySet:
    """``users`` for a list that shows roles: every user's groups and their codes in one query, from
    which roles_of reads."""
    return users.prefetch_related(Prefetch("groups", queryset=Group.objects.select_related("role")))


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


def role_group(role: str) -> Group:
    """The group that carries ``role``, whatever it is called now."""
    return Group.objects.get(role__code=role)


def _new_role_group(role: str) -> Group:
    """The group of the default name takes the role, unless it carries another (an administrator
    renamed groups): then a new group, the code in its name to tell them apart."""
    name = GROUP_NAMES[role]
    group, _created = Group.objects.get_or_create(name=name)
    if hasattr(group, "role"):
        group = Group.objects.create(name=f"{name}（{role}）")
    RoleGroup.objects.create(group=group, code=role)
    return group


def sync_role_groups(**kwargs) -> None:
    """Give every role a group and its baseline permissions (never removes any).

    A role's group is the one holding its code; a role without one takes the group of its default
    name, created if missing. A renamed group keeps its name."""
    for role, condition in baseline_permissions().items():
        try:
            group = role_group(role)
        except Group.DoesNotExist:
            group = _new_role_group(role)
        group.permissions.add(*Permission.objects.filter(condition))


def ensure_admin(user) -> None:
    if not is_admin(user):
        raise PermissionDenied(gettext_now("Only administrators may do this."))
