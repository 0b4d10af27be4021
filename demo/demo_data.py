"""The demo world that ``manage.py load_demo`` loads, read from the TOML files in demo/data/.

Names and headline figures come from the seed reports (see DOMAIN.md, "Reference data from the
seeds"); everything else — people's names, credit codes, dates, monthly amounts, document numbers —
is invented but plausible. People's names are invented on purpose so that no real official or
manager is tied to made-up responsibilities.

The files are what an administrator edits to adapt the demo; this module only reads and checks
them: every key known, every value of the right kind, every reference (a unit's short name, an
enterprise's key, a leader's name …) to a row that exists. A file that does not pass raises
``DemoDataError`` naming the file and the entry. The world is read on first use of one of its
names (``demo_data.PROJECTS``), not at import, so a broken file stops ``load_demo`` with that
message instead of the portal's start-up. Money comes back as ``Decimal``, choices as their
``TextChoices`` members, dates as ``datetime.date``.
"""

from __future__ import annotations

import datetime
import functools
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import models

from core import roles
from problems.choices import Fence, ProblemCategory, ProblemSource, Satisfaction
from projects.choices import BatchRole, Level, MilestoneKind, MilestoneStatus, Nature, PlanCategory, Stage

DATA_DIR = Path(__file__).resolve().parent / "data"

# How far each current problem has got (its ``state``): (hours after collection at noon, step).
# With the ``days_ago`` its row gives, the last step falls before today began; load_demo refuses a
# moment in the future should the two ever disagree.
CURRENT_STEPS: dict[str, list[tuple[int, str]]] = {
    "pending": [],
    "assigned": [(3, "assign")],
    "in_progress": [(3, "assign"), (22, "reply")],
    "planned": [(4, "assign"), (24, "reply"), (50, "plan")],
    "under_review": [(3, "assign"), (22, "reply"), (120, "resolve")],
    "sent_back": [(3, "assign"), (22, "reply"), (72, "first_resolve"), (96, "send_back"), (120, "reply2")],
    "resolved": [(3, "assign"), (22, "reply"), (96, "resolve"), (120, "close")],
    "reopened": [
        (3, "assign"),
        (22, "reply"),
        (120, "first_resolve"),
        (144, "close"),
        (264, "unsatisfied"),
        (288, "reply2"),
    ],
    "escalated": [(3, "assign"), (24, "reply"), (72, "escalate"), (144, "reply2")],
}
# What a current problem's row must give for each step it has taken.
STEP_NEEDS = {
    "assign": ["unit"],
    "reply": ["reply"],
    "reply2": ["reply2"],
    "plan": ["plan", "plan_days"],
    "resolve": ["resolution"],
    "first_resolve": ["first_resolution"],
    "send_back": ["sent_back"],
    "unsatisfied": ["unsatisfied"],
    "escalate": ["escalation"],
    "close": [],
}


class DemoDataError(ValueError):
    """A demo data file that cannot be loaded; the message names the file and the entry."""


# --- Reading values: each converter returns the value or raises ValueError saying why ----------

Convert = Callable[[Any], Any]
_REQUIRED = object()
_LEFT_OUT = object()  # an optional key that stays out of the row when the file leaves it out


@dataclass(frozen=True)
class OptionalKey:
    """A key a file may leave out; the row then holds ``default`` (or lacks the key)."""

    convert: Convert
    default: Any = _LEFT_OUT


Spec = dict[str, Convert | OptionalKey]


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text in quotes, not {value!r}")
    return value


def integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, not {value!r}")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, not {value!r}")
    return value


def day(value: Any) -> datetime.date:
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise ValueError(f"expected a date such as 2023-11-10, not {value!r}")
    return value


def money(value: Any) -> Decimal:
    """万元 in quotes with at most two decimals ("1500.00"): quoted, so no float rounds it."""
    try:
        amount = Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        amount = None
    exponent = amount.as_tuple().exponent if amount is not None else None
    if not isinstance(exponent, int) or exponent < -2:
        raise ValueError(
            f'expected an amount in quotes with at most two decimals, such as "1500.00", not {value!r}'
        )
    return amount


def choice(choices: type[models.Choices]) -> Convert:
    """One of the values of ``choices``, returned as its member."""

    def convert(value: Any) -> Any:
        if value not in choices.values:
            raise ValueError(f"{value!r} is not one of {', '.join(map(str, choices.values))}")
        return choices(value)

    return convert


def stage(value: Any) -> Stage:
    names = [member.name.lower() for member in Stage]
    if value not in names:
        raise ValueError(f"{value!r} is not one of {', '.join(names)}")
    return Stage[value.upper()]


def one_of(known: Iterable[str], what: str) -> Convert:
    """A reference to a row of another section, by the key the files use for it."""
    known = frozenset(known)

    def convert(value: Any) -> str:
        if text(value) not in known:
            raise ValueError(f"there is no {what} {value!r}")
        return value

    return convert


def list_of(convert: Convert, label: str | None = None) -> Convert:
    """A list; with ``label``, of tables, each named in an error by its ``label`` key."""

    def convert_list(values: Any) -> list:
        if not isinstance(values, list):
            raise ValueError(f"expected a list [...], not {values!r}")
        result = []
        for number, value in enumerate(values, start=1):
            name = f" ({value.get(label)})" if label and isinstance(value, dict) and label in value else ""
            try:
                result.append(convert(value))
            except ValueError as error:
                raise ValueError(f"entry {number}{name}: {error}") from None
        return result

    return convert_list


def table(spec: Spec) -> Convert:
    """A table with the keys of ``spec``: each converted, none unknown, the required ones there."""

    def convert(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValueError(f"expected a table {{ ... }}, not {value!r}")
        unknown = [key for key in value if key not in spec]
        if unknown:
            raise ValueError(f"unknown key {', '.join(unknown)} (known: {', '.join(spec)})")
        row = {}
        for key, rule in spec.items():
            convert_one, default = (
                (rule.convert, rule.default) if isinstance(rule, OptionalKey) else (rule, _REQUIRED)
            )
            if key in value:
                try:
                    row[key] = convert_one(value[key])
                except ValueError as error:
                    raise ValueError(f"{key}: {error}") from None
            elif default is _REQUIRED:
                raise ValueError(f"{key} is missing")
            elif default is not _LEFT_OUT:
                row[key] = default
        return row

    return convert


def rows(spec: Spec, label: str) -> Convert:
    return list_of(table(spec), label)


def by(key: str, spec: Spec, label: str | None = None) -> Convert:
    """A list of tables turned into a dict by one of their keys, which must not repeat."""
    convert_rows = list_of(table(spec), label or key)

    def convert(values: Any) -> dict:
        result: dict = {}
        for number, row in enumerate(convert_rows(values), start=1):
            if row[key] in result:
                raise ValueError(f"entry {number}: {key} {row[key]} is given twice")
            result[row.pop(key)] = row
        return result

    return convert


def month_texts(value: Any) -> dict[int, str]:
    """``month = "text"`` lines (1 to 12)."""
    if not isinstance(value, dict):
        raise ValueError(f'expected month = "text" lines, not {value!r}')
    result = {}
    for key, note in value.items():
        if not key.isdigit() or not 1 <= int(key) <= 12:
            raise ValueError(f"{key!r} is not a month from 1 to 12")
        try:
            result[int(key)] = text(note)
        except ValueError as error:
            raise ValueError(f"{key}: {error}") from None
    return result


def amounts(value: Any) -> list[Decimal]:
    """Amounts in one string, separated by spaces."""
    return [money(part) for part in text(value).split()]


def satisfaction(value: Any) -> Satisfaction | None:
    """A rating, or ``not_rated`` (None)."""
    return None if value == "not_rated" else choice(Satisfaction)(value)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def read(directory: Path, name: str, spec: Spec, *checks: Callable[[dict], None]) -> dict[str, Any]:
    """The file ``name`` of ``directory``, converted by ``spec`` and passed through ``checks``."""
    path = directory / name
    try:
        with path.open("rb") as file:
            content = tomllib.load(file)
        result = table(spec)(content)
        for run_check in checks:
            run_check(result)
    except FileNotFoundError:
        raise DemoDataError(f"{path}: the file is missing") from None
    except tomllib.TOMLDecodeError as error:
        raise DemoDataError(f"{path}: not valid TOML: {error}") from None
    except ValueError as error:
        raise DemoDataError(f"{path}: {error}") from None
    return result


# --- The files -------------------------------------------------------------------------------


def read_world(directory: Path = DATA_DIR) -> dict[str, Any]:
    """Every section of the demo world, under the names this module offers (``PROJECTS`` …)."""

    def leaders_units(content: dict) -> None:
        known = {row["short_name"] for row in content["units"]}
        for number, row in enumerate(content["leaders"], start=1):
            check(
                row["unit"] in known,
                f"leaders: entry {number} ({row['name']}): unit: there is no unit with the short name "
                f"{row['unit']!r}",
            )

    industry_spec: Spec = {
        "name": text,
        "is_leading": OptionalKey(boolean, False),
        "is_strategic_emerging": OptionalKey(boolean, False),
    }
    reference = read(
        directory,
        "reference.toml",
        {
            "units": rows({"name": text, "short_name": text}, "short_name"),
            "parks": rows({"name": text, "alias": OptionalKey(text, ""), "description": text}, "name"),
            "clusters": rows(
                {"name": text, "description": text, "industries": rows(industry_spec, "name")}, "name"
            ),
            "honours": rows({"name": text, "rank": integer}, "name"),
            "leaders": rows({"name": text, "title": text, "unit": text}, "name"),
        },
        leaders_units,
    )
    units = one_of((row["short_name"] for row in reference["units"]), "unit with the short name")
    industries = one_of(
        (industry["name"] for cluster in reference["clusters"] for industry in cluster["industries"]),
        "industry",
    )
    parks = one_of((row["name"] for row in reference["parks"]), "park")
    leaders = one_of((row["name"] for row in reference["leaders"]), "leader")
    honours = one_of((row["name"] for row in reference["honours"]), "honour")

    users = read(
        directory,
        "users.toml",
        {
            "login_url": text,
            "users": rows(
                {
                    "username": text,
                    "password": text,
                    "role": one_of(roles.GROUP_NAMES, "role"),
                    "display_name": text,
                    "unit": units,
                    "is_superuser": OptionalKey(boolean, False),
                    "leader": OptionalKey(leaders),
                },
                "username",
            ),
        },
    )

    def parents_first(content: dict) -> None:
        seen: set[str] = set()
        for number, row in enumerate(content["enterprises"], start=1):
            parent = row["parent"]
            check(
                parent is None or parent in seen,
                f"enterprises: entry {number} ({row['key']}): parent {parent!r} is not an enterprise "
                "listed before it",
            )
            seen.add(row["key"])

    enterprises = read(
        directory,
        "enterprises.toml",
        {
            "credit_code_prefix": text,
            "enterprises": rows(
                {
                    "key": text,
                    "name": text,
                    "parent": OptionalKey(text, None),
                    "org_code": text,
                    "legal_representative": text,
                    "industry": industries,
                    "park": parks,
                    "is_above_scale": boolean,
                    "on_white_list": boolean,
                    "honours": OptionalKey(list_of(honours), []),
                    "liaison_leader": leaders,
                    "liaison_unit": units,
                    "description": text,
                    "figures": OptionalKey(
                        by(
                            "year",
                            {
                                "year": integer,
                                "output_value": OptionalKey(money, None),
                                "revenue": money,
                                "taxes": money,
                                "employees": integer,
                            },
                        ),
                        {},
                    ),
                },
                "key",
            ),
        },
        parents_first,
    )
    enterprise = one_of((row["key"] for row in enterprises["enterprises"]), "enterprise with the key")

    calendar_spec: Spec = {
        "as_of": day,
        "progress_year": integer,
        "progress_months": integer,
        "approved_through_month": integer,
    }
    milestone_kind = choice(MilestoneKind)

    def milestones(value: Any) -> dict[MilestoneKind, tuple[MilestoneStatus, str]]:
        overrides = table(
            {
                kind.value: OptionalKey(table({"status": choice(MilestoneStatus), "note": text}))
                for kind in MilestoneKind
            }
        )(value)
        return {MilestoneKind(kind): (row["status"], row["note"]) for kind, row in overrides.items()}

    def milestone_rules(value: Any) -> dict[MilestoneKind, tuple[str, str]]:
        rules = table(
            {kind.value: table({"unit": units, "document_number": text}) for kind in MilestoneKind}
        )(value)
        for kind, rule in rules.items():
            try:
                rule["document_number"].format(year=2023, number=1, day=datetime.date(2023, 1, 1), phase=1)
            except (KeyError, IndexError, ValueError) as error:
                raise ValueError(
                    f"{kind}: document_number: {{year}}, {{number}}, {{day}} and {{phase}} only ({error})"
                ) from None
        return {milestone_kind(kind): (rule["unit"], rule["document_number"]) for kind, rule in rules.items()}

    def stages(value: Any) -> list[tuple[Stage, datetime.date]]:
        return [(row["stage"], row["on"]) for row in rows({"stage": stage, "on": day}, "stage")(value)]

    def monthly_reports(content: dict) -> None:
        year, months = content["progress_year"], content["progress_months"]
        for number, row in enumerate(content["projects"], start=1):
            if "monthly" in row:
                where = f"projects: entry {number} ({row['name']})"
                check(len(row["monthly"]) == months, f"{where}: monthly: expected {months} amounts")
                check(year in row["plans"], f"{where}: monthly figures need the plan of {year}")

    projects = read(
        directory,
        "projects.toml",
        {
            **calendar_spec,
            "land_not_needed": text,
            "milestone_rules": milestone_rules,
            "projects": rows(
                {
                    "name": text,
                    "enterprise": OptionalKey(enterprise, None),
                    "code": OptionalKey(text, None),
                    "nature": choice(Nature),
                    "industry": OptionalKey(industries, None),
                    "park": OptionalKey(parks, None),
                    "level": choice(Level),
                    "total_investment": money,
                    "land_area": OptionalKey(money, None),
                    "location": text,
                    "construction_content": text,
                    "planned_start": day,
                    "planned_completion": day,
                    "actual_start": OptionalKey(day, None),
                    "actual_completion": OptionalKey(day, None),
                    "leader": leaders,
                    "unit": units,
                    "on_white_list": boolean,
                    "stages": stages,
                    "plans": OptionalKey(
                        by(
                            "year",
                            {
                                "year": integer,
                                "investment": money,
                                "category": choice(PlanCategory),
                                "goals": text,
                            },
                        ),
                        {},
                    ),
                    "monthly": OptionalKey(amounts),
                    "notes": OptionalKey(month_texts, {}),
                    "problems": OptionalKey(month_texts, {}),
                    "permit_phases": OptionalKey(list_of(day)),
                    "milestones": OptionalKey(milestones, {}),
                    "october_draft": OptionalKey(boolean, False),
                    "partly_in_production": OptionalKey(boolean, False),
                },
                "name",
            ),
        },
        monthly_reports,
    )
    project = one_of((row["name"] for row in projects["projects"]), "project named")

    batches = read(
        directory,
        "batches.toml",
        {
            "batches": rows(
                {
                    "number": integer,
                    "announced_on": day,
                    "note": text,
                    "members": OptionalKey(
                        rows({"project": project, "role": choice(BatchRole)}, "project"), []
                    ),
                },
                "number",
            ),
        },
    )

    problem_spec: Spec = {
        "title": text,
        "description": OptionalKey(text, ""),
        "category": choice(ProblemCategory),
        "fence": choice(Fence),
        "unit": units,
        "escalations": OptionalKey(list_of(text), []),
        "plan": OptionalKey(table({"text": text, "committed": day})),
        "followed": OptionalKey(rows({"on": day, "text": text}, "on"), []),
        "resolution": OptionalKey(text, None),
        "satisfaction": OptionalKey(satisfaction, Satisfaction.SATISFIED),
        "declined": OptionalKey(table({"unit": units, "reason": text})),
        "sent_back": OptionalKey(table({"reason": text, "first_resolution": text})),
        "unsatisfied": OptionalKey(table({"comment": text, "first_resolution": text})),
    }

    def month_day(value: Any) -> tuple[int, int]:
        parts = list_of(integer)(value)
        check(len(parts) == 2, f"expected [month, day], not {value!r}")
        datetime.date(2024, *parts)  # a leap year: any real day passes
        return (parts[0], parts[1])

    def current_steps(content: dict) -> None:
        for number, row in enumerate(content["current_problems"], start=1):
            where = f"current_problems: entry {number} ({row['title']})"
            check(
                ("hours_ago" in row) != ("days_ago" in row), f"{where}: give hours_ago or days_ago, not both"
            )
            for _hours, step in CURRENT_STEPS[row["state"]]:
                for key in STEP_NEEDS[step]:
                    check(key in row, f"{where}: state {row['state']} needs {key}")

    problems = read(
        directory,
        "problems.toml",
        {
            "problem_year": integer,
            "first_replies": list_of(text),
            "past_visits": rows(
                {
                    "enterprise": enterprise,
                    "visited_on": day,
                    "notes": text,
                    "problems": rows(problem_spec, "title"),
                },
                "enterprise",
            ),
            "visits_this_year": rows(
                {
                    "enterprise": enterprise,
                    "on": month_day,
                    "notes": text,
                    "problems": rows(problem_spec, "title"),
                },
                "enterprise",
            ),
            "current_problems": rows(
                {
                    "enterprise": enterprise,
                    "source": OptionalKey(choice(ProblemSource)),
                    "hours_ago": OptionalKey(integer),
                    "days_ago": OptionalKey(integer),
                    "state": one_of(CURRENT_STEPS, "state"),
                    "major": OptionalKey(boolean, False),
                    "unit": OptionalKey(units),
                    "title": text,
                    "description": OptionalKey(text, ""),
                    "category": choice(ProblemCategory),
                    "fence": choice(Fence),
                    "reply": OptionalKey(text),
                    "plan": OptionalKey(text),
                    "plan_days": OptionalKey(integer),
                    "resolution": OptionalKey(text),
                    "first_resolution": OptionalKey(text),
                    "sent_back": OptionalKey(text),
                    "unsatisfied": OptionalKey(text),
                    "reply2": OptionalKey(text),
                    "escalation": OptionalKey(text),
                },
                "title",
            ),
        },
        current_steps,
    )

    return {
        "DEPARTMENTS": reference["units"],
        "PARKS": reference["parks"],
        "CLUSTERS": reference["clusters"],
        "HONOURS": [(row["name"], row["rank"]) for row in reference["honours"]],
        "LEADERS": reference["leaders"],
        "LOGIN_URL": users["login_url"],
        "USERS": users["users"],
        "CREDIT_CODE_PREFIX": enterprises["credit_code_prefix"],
        "ENTERPRISES": enterprises["enterprises"],
        "AS_OF": projects["as_of"],
        "PROGRESS_YEAR": projects["progress_year"],
        "PROGRESS_MONTHS": projects["progress_months"],
        "APPROVED_THROUGH_MONTH": projects["approved_through_month"],
        "_LAND_NOT_NEEDED": projects["land_not_needed"],
        "MILESTONE_RULES": projects["milestone_rules"],
        "PROJECTS": projects["projects"],
        "BATCHES": batches["batches"],
        "PROBLEM_YEAR": problems["problem_year"],
        "FIRST_REPLIES": problems["first_replies"],
        "VISITS_2021": problems["past_visits"],
        "VISITS_THIS_YEAR": problems["visits_this_year"],
        "CURRENT_PROBLEMS": problems["current_problems"],
    }


@functools.cache
def world() -> dict[str, Any]:
    """The demo world from DATA_DIR, read once."""
    return read_world(DATA_DIR)


# The names the world offers (``demo_data.PROJECTS``), read from the files on first use.
DEPARTMENTS: list[dict[str, Any]]
PARKS: list[dict[str, Any]]
CLUSTERS: list[dict[str, Any]]
HONOURS: list[tuple[str, int]]
LEADERS: list[dict[str, Any]]
LOGIN_URL: str
USERS: list[dict[str, Any]]
CREDIT_CODE_PREFIX: str
ENTERPRISES: list[dict[str, Any]]
AS_OF: datetime.date
PROGRESS_YEAR: int
PROGRESS_MONTHS: int
APPROVED_THROUGH_MONTH: int
_LAND_NOT_NEEDED: str
MILESTONE_RULES: dict[MilestoneKind, tuple[str, str]]
PROJECTS: list[dict[str, Any]]
BATCHES: list[dict[str, Any]]
PROBLEM_YEAR: int
FIRST_REPLIES: list[str]
VISITS_2021: list[dict[str, Any]]
VISITS_THIS_YEAR: list[dict[str, Any]]
CURRENT_PROBLEMS: list[dict[str, Any]]


def __getattr__(name: str) -> Any:
    if name not in __annotations__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return world()[name]
