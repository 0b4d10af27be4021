"""Writes to projects. Admin, pages, the API and importers all call these."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Project, StageChange

# Fields a caller may not set through project_create/project_update: the
# stage moves only through project_change_stage, which records why.
_PROTECTED_FIELDS = {"id", "pk", "stage", "created_at", "updated_at"}


def _check_fields(data: dict[str, Any]) -> None:
    unknown = set(data) - {field.name for field in Project._meta.concrete_fields}
    if unknown or _PROTECTED_FIELDS & set(data):
        raise ValueError(f"cannot set {sorted(unknown | (_PROTECTED_FIELDS & set(data)))}")


@transaction.atomic
def project_create(
    *,
    user,
    data: dict[str, Any],
    stage: int,
    stage_changed_on: datetime.date | None = None,
) -> Project:
    """Create a project and record the stage it starts at."""
    _check_fields(data)
    stage_changed_on = stage_changed_on or timezone.localdate()
    validate_not_future(stage_changed_on)
    project = Project(**data, stage=stage)
    project.full_clean()
    project._history_user = user  # simple-history's hook for who made the change
    project.save()
    StageChange.objects.create(
        project=project,
        from_stage=None,
        to_stage=stage,
        changed_on=stage_changed_on,
        changed_by=user,
    )
    return project


@transaction.atomic
def project_update(
    *,
    project: Project,
    user,
    data: dict[str, Any],
    stage: int | None = None,
    stage_changed_on: datetime.date | None = None,
    stage_reason: str = "",
) -> Project:
    """Change a project's attributes and, if ``stage`` differs, move its stage."""
    _check_fields(data)
    changed = [name for name, value in data.items() if getattr(project, name) != value]
    for name in changed:
        setattr(project, name, data[name])
    if changed:
        project.full_clean()
        project._history_user = user
        project.save(update_fields=[*changed, "updated_at"])
    if stage is not None and stage != project.stage:
        project_change_stage(
            project=project, user=user, stage=stage, changed_on=stage_changed_on, reason=stage_reason
        )
    return project


def validate_not_future(changed_on: datetime.date) -> None:
    """Stage history records what happened, never what is planned."""
    if changed_on > timezone.localdate():
        raise ValidationError({"changed_on": _("A stage change cannot be dated in the future.")})


def validate_stage_change(*, project: Project, to_stage: int, reason: str, changed_on: datetime.date) -> None:
    """Every rule of a stage move, keyed by ``stage``, ``reason`` or ``changed_on``.

    A project moves forward; going back is a correction and needs a reason; the
    history reads in date order and records nothing ahead of time.
    """
    if to_stage == project.stage:
        raise ValidationError({"stage": _("The project is already at this stage.")})
    if to_stage < project.stage and not (reason or "").strip():
        raise ValidationError(
            {"reason": _("Moving a project back to an earlier stage is a correction: give the reason.")}
        )
    validate_not_future(changed_on)
    previous = project.stage_changes.order_by("-changed_on").values_list("changed_on", flat=True).first()
    if previous and changed_on < previous:
        raise ValidationError(
            {
                "changed_on": _("A stage change cannot be dated before the previous one (%(date)s).")
                % {"date": previous.isoformat()}
            }
        )


@transaction.atomic
def project_change_stage(
    *,
    project: Project,
    user,
    stage: int,
    changed_on: datetime.date | None = None,
    reason: str = "",
) -> StageChange:
    """Move a project along its lifecycle. Going back is a correction and needs a reason."""
    # Lock the row so two people moving the same project cannot both record
    # a change from the same old stage.
    locked = Project.objects.select_for_update().get(pk=project.pk)
    reason = (reason or "").strip()
    changed_on = changed_on or timezone.localdate()
    validate_stage_change(project=locked, to_stage=stage, reason=reason, changed_on=changed_on)
    change = StageChange(
        project=locked,
        from_stage=locked.stage,
        to_stage=stage,
        changed_on=changed_on,
        reason=reason,
        changed_by=user,
    )
    change.full_clean()
    change.save()
    locked.stage = stage
    locked._history_user = user
    locked.save(update_fields=["stage", "updated_at"])
    project.stage = stage
    return change
