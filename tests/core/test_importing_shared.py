"""The pieces of the import workflow every importer shares (core.importing): header patterns,
lookups by name, the planner's cell reading and repetition checks, and what apply returns."""

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone, translation

from core import importing
from reference.models import Department


def _sheet(**headers: str) -> importing.Sheet:
    return importing.Sheet(
        title_text="", headers=headers, rows=[], unknown_headers=[], columns=dict.fromkeys(headers, 0)
    )


def test_header_matcher_reads_full_width_brackets_and_needs_the_whole_header():
    match = importing.header_matcher([("name", r"企业名称(\(全称\))?"), ("code", r"信用代码")])

    assert match("企业名称（全称）") == "name"
    assert match("企业名称") == "name"
    assert match("统一信用代码") is None  # the pattern must match the whole header


def test_by_name_keys_by_normalised_name_and_a_name_wins_over_anothers_short_name():
    first = SimpleNamespace(name="甲 公司", short_name="乙")
    second = SimpleNamespace(name="乙", short_name="")

    found = importing.by_name([first, second], also="short_name")

    assert found == {"甲公司": first, "乙": second}


def test_the_planner_reads_a_cell_or_reports_the_bad_value_under_the_files_header():
    planner = importing.RowPlanner(_sheet(flag="规上企业"))
    values: dict = {}

    planner.parse_cell(3, {"flag": "是"}, "flag", importing.parse_bool, values)
    planner.parse_cell(4, {"flag": "也许"}, "flag", importing.parse_bool, values)

    assert values == {"flag": True}
    assert [(issue.row, issue.column, issue.value) for issue in planner.errors] == [(4, "规上企业", "也许")]


def test_the_planner_reports_text_longer_than_its_field_takes():
    planner = importing.RowPlanner(_sheet(name="企业名称"))

    planner.check_length(2, "name", "甲乙丙", "甲乙丙", 3)
    planner.check_length(3, "name", "甲乙丙丁", "甲乙丙丁", 3)
    planner.check_length(4, "name", "甲乙丙丁", "甲乙丙丁", None)

    assert [issue.row for issue in planner.errors] == [3]


def test_a_repeated_row_is_an_error_naming_the_first():
    planner = importing.RowPlanner(_sheet(name="项目名称"))
    seen = {"甲": 5}

    assert not planner.already_on_row(seen, "乙", 7, "name", "乙", "again, see row %(row)s")
    assert planner.already_on_row(seen, "甲", 8, "name", "甲", "again, see row %(row)s")
    assert [(issue.row, issue.message) for issue in planner.errors] == [(8, "again, see row 5")]


@dataclass
class _Preview(importing.PreviewRows):
    rows: list
    errors: list = field(default_factory=list)


def test_counts_and_notes_of_a_preview():
    rows = [SimpleNamespace(action=action) for action in ("create", "update", "update", "unchanged")]

    assert _Preview(rows).counts() == {"created": 1, "updated": 2, "unchanged": 1}
    assert importing.named_lists([("新建单位", ["甲", "乙"]), ("新建领导", [])]) == ["新建单位：甲、乙"]


def test_a_preview_with_errors_is_not_importable():
    preview = _Preview([], errors=[importing.Issue(row=2, column="名称", value="", message="empty")])

    with translation.override("en"), pytest.raises(ValidationError, match="rows with errors"):
        importing.ensure_importable(preview, confirm_erasures=True, confirm_warnings=True)


def test_a_database_refusal_reads_as_nothing_imported():
    with translation.override("en"), pytest.raises(ValidationError, match=r"\(duplicate key\); nothing was"):
        with importing.database_refusal():
            raise IntegrityError("duplicate key")


def test_a_rows_new_names_are_replaced_by_the_objects_created_for_them():
    unit = object()

    data = importing.with_created({"name": "甲"}, {"unit": "经发 局"}, {"unit": {"经发局": unit}})

    assert data == {"name": "甲", "unit": unit}


@pytest.mark.django_db
def test_objects_created_by_name_are_checked_keyed_loosely_and_have_history(django_user_model):
    user = django_user_model.objects.create(username="importer")
    checked = []
    history = importing.history_options(user=user, reason="Excel导入 #1", now=timezone.now())

    created = importing.create_named(Department, ["经济 发展局"], history, check=checked.append)

    assert [obj.name for obj in checked] == ["经济 发展局"]
    assert created == {"经济发展局": Department.objects.get(name="经济 发展局")}
    record = Department.history.get(name="经济 发展局")
    assert (record.history_user, record.history_change_reason) == (user, "Excel导入 #1")
