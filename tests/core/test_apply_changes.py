"""core.locking.apply_changes: the lock → compare version → apply → clean → rule → bump → stamp →
save sequence every service shares. Shown on an approval milestone (versioned, with history) and a
batch (neither)."""

import datetime
from typing import TypedDict

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from core.locking import StaleVersion, apply_changes, check_fields
from projects.choices import MilestoneStatus
from tests.factories import ApprovalMilestoneFactory, BatchFactory, UserFactory


class NoteChanges(TypedDict, total=False):
    note: str
    document_number: str


@pytest.fixture
def user(db):
    return UserFactory(username="bianjiyuan")


@pytest.fixture
def milestone(db):
    return ApprovalMilestoneFactory(note="旧备注")


def _apply(instance, data, **options):
    with transaction.atomic():
        return apply_changes(instance, data, **options)


def test_saves_the_changed_fields_bumps_the_version_and_names_the_user(milestone, user):
    locked = _apply(milestone, {"note": "新备注", "document_number": ""}, user=user, expected_version=1)
    assert locked is not milestone
    assert (milestone.note, milestone.version) == ("新备注", 2)  # the caller's instance follows
    milestone.refresh_from_db()
    assert (milestone.note, milestone.version) == ("新备注", 2)
    latest = milestone.history.latest()
    assert (latest.history_user, latest.note) == (user, "新备注")


def test_a_stale_version_is_refused_and_nothing_changes(milestone, user):
    with pytest.raises(StaleVersion):
        _apply(milestone, {"note": "新备注"}, user=user, expected_version=0)
    milestone.refresh_from_db()
    assert (milestone.note, milestone.version) == ("旧备注", 1)


def test_nothing_different_saves_nothing(milestone, user, django_assert_num_queries):
    with transaction.atomic(), django_assert_num_queries(1):  # the lock only: no clean, no save
        apply_changes(milestone, {"note": "旧备注"}, user=user, expected_version=1)
    milestone.refresh_from_db()
    assert milestone.version == 1
    assert milestone.history.count() == 1


def test_the_keys_come_from_the_typed_dict(milestone, user):
    check_fields({"note": "x"}, NoteChanges)
    with pytest.raises(ValueError, match="status"):
        _apply(milestone, {"status": MilestoneStatus.DONE}, user=user, allowed=NoteChanges)


def test_the_model_rules_are_checked(milestone, user):
    with pytest.raises(ValidationError):
        _apply(milestone, {"status": "no-such-status"}, user=user)
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.NOT_STARTED


def test_check_sees_the_locked_row_before_anything_is_set(milestone, user):
    seen = []

    def refuse(locked):
        seen.append(locked.note)
        raise ValidationError("no")

    with pytest.raises(ValidationError):
        _apply(milestone, {"note": "新备注"}, user=user, check=refuse)
    assert seen == ["旧备注"]


def test_the_rule_may_set_more_fields(milestone, user):
    def rule(locked, changed):
        assert changed == ["status"]
        locked.planned_date = datetime.date(2026, 1, 5)
        return ["planned_date"]

    _apply(milestone, {"status": MilestoneStatus.IN_PROGRESS}, user=user, rule=rule, reason="已受理")
    milestone.refresh_from_db()
    assert (milestone.status, milestone.planned_date) == (
        MilestoneStatus.IN_PROGRESS,
        datetime.date(2026, 1, 5),
    )
    assert milestone.history.latest().history_change_reason == "已受理"


def test_always_writes_a_transition_even_without_a_difference(milestone, user):
    _apply(milestone, {"note": "旧备注"}, user=user, always=True, clean=False)
    milestone.refresh_from_db()
    assert milestone.version == 2


def test_a_custom_save_gets_the_fields(milestone, user):
    calls = []
    _apply(milestone, {"note": "新备注"}, user=user, save=lambda locked, fields: calls.append(fields))
    assert calls == [["note", "version", "updated_at"]]


def test_a_model_without_version_or_timestamps(db, user):
    batch = BatchFactory(number=7, note="")
    _apply(batch, {"note": "第七批", "announced_on": datetime.date(2026, 3, 1)}, user=user)
    batch.refresh_from_db()
    assert (batch.note, batch.announced_on) == ("第七批", datetime.date(2026, 3, 1))
