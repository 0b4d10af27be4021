"""Who may read and change which projects. Pages, services and the API all ask here.

* Every role reads every project.
* Administrators change everything.
* Project staff (项目专员) create projects, and change projects — attributes,
  stage, milestones, monthly progress — where they are the staff member in
  charge or that belong to their unit.
* Reviewers (审核员) and administrators approve, return and reopen reports.
* Administrators keep the "三个一批" batches and their lists (the province's).
* Leaders and responsible units read; every role may comment on a project
  (a leader's comment is an instruction, 批示).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from core.permissions import allowed, restrict, rule
from core.roles import Role, has_role, is_admin, roles_of
from projects.choices import ProgressStatus
from projects.models import MonthlyProgress, MonthPublication, Project


@rule("project.read", Project)
def read_scope(user) -> Q | None:
    """Every role reads every project."""
    return Q() if roles_of(user) else None


@rule("project.edit", Project)
def edit_scope(user) -> Q | None:
    """The projects a user may change, as a filter; None when they may change none."""
    if is_admin(user):
        return Q()
    if not has_role(user, Role.STAFF):
        return None
    scope = Q(staff_in_charge=user)
    if user.department_id:
        scope |= Q(responsible_unit_id=user.department_id)
    return scope


def can_read_projects(user) -> bool:
    return read_scope(user) is not None


def readable_projects(user) -> QuerySet:
    return restrict(user, "project.read")


def editable_projects(user, projects: QuerySet | None = None) -> QuerySet:
    return restrict(user, "project.edit", projects)


def can_edit_project(user, project: Project) -> bool:
    return allowed(user, "project.edit", project)


def is_leader(user) -> bool:
    return has_role(user, Role.LEADER)


def can_create_project(user) -> bool:
    return has_role(user, Role.ADMIN, Role.STAFF)


def can_review(user) -> bool:
    return has_role(user, Role.ADMIN, Role.REVIEWER)


def ensure_can_read(user) -> None:
    if not can_read_projects(user):
        raise PermissionDenied(_("You have no role in this portal yet: ask an administrator."))


def _edit_refusal(project: Project) -> PermissionDenied:
    return PermissionDenied(
        _("You may not change “%(project)s”: it is not in your charge or your unit's.")
        % {"project": project.name}
    )


def ensure_can_edit(user, project: Project) -> None:
    if not can_edit_project(user, project):
        raise _edit_refusal(project)


def report_locked_message(report: MonthlyProgress) -> str:
    if report.status == ProgressStatus.APPROVED:
        return _("The report for %(year)s-%(month)02d is approved and locked; a reviewer must reopen it.") % {
            "year": report.year,
            "month": report.month,
        }
    return _("The report for %(year)s-%(month)02d is waiting for review and cannot be changed now.") % {
        "year": report.year,
        "month": report.month,
    }


def published_month_refusal(year: int, month: int) -> ValidationError | None:
    """A published month's reports are locked (its figures are the official ones): the refusal of a
    change to one, or None while the month is open."""
    if not MonthPublication.objects.filter(year=year, month=month, is_published=True).exists():
        return None
    return ValidationError(
        _(
            "The figures for %(year)s-%(month)02d are published and locked; a reviewer must reopen "
            "the month before a report can change."
        )
        % {"year": year, "month": month},
        code="published",
    )


def photo_refusal(user, report: MonthlyProgress) -> Exception | None:
    """Why ``user`` may not add or remove photos of ``report`` now, as the error the photo services
    raise; None when they may. The report page offers 添加照片 and 删除 only when this is None.

    Photos change with the report: by whoever may change its project, until the report is approved
    or its month published (a report waiting for review may still get its photos)."""
    if not can_edit_project(user, report.project):
        return _edit_refusal(report.project)
    if report.status == ProgressStatus.APPROVED:
        return ValidationError(report_locked_message(report), code="locked")
    return published_month_refusal(report.year, report.month)


def can_change_photos(user, report: MonthlyProgress | None) -> bool:
    return report is not None and photo_refusal(user, report) is None


def ensure_can_create(user) -> None:
    if not can_create_project(user):
        raise PermissionDenied(_("Only project staff and administrators create projects."))


def ensure_can_review(user) -> None:
    if not can_review(user):
        raise PermissionDenied(_("Only reviewers approve, return or reopen monthly reports."))


def can_publish_months(user) -> bool:
    """Publishing a month (月报发布) and reopening it are the reviewers' and administrators', as the
    reviews are."""
    return can_review(user)


def ensure_can_publish_months(user) -> None:
    if not can_publish_months(user):
        raise PermissionDenied(_("Only reviewers and administrators publish or reopen a month's figures."))


def ensure_can_manage_batches(user) -> None:
    if not is_admin(user):
        raise PermissionDenied(_("Only administrators change the “three batches” batches and their lists."))


def ensure_can_keep_records(user) -> None:
    """Before it is known which project a new plan, report or milestone is for: only the roles that
    may change some project (project staff, administrators) get further."""
    if not can_create_project(user):
        raise PermissionDenied(
            _("Only project staff and administrators record plans, progress and approvals.")
        )
