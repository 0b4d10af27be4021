"""Importing an enterprise list (企业名录): preview first, then all rows or none.

Rules decided here, the same as the project ledger's where they overlap:

* An enterprise is matched by its unified social credit code when the row gives one that is on
  record, else by its full name, else by its short name. Unmatched rows create enterprises.
  Matched by code, a row with a new name renames the enterprise (更名); a name that belongs to
  another enterprise is an error, as is a code that differs from the one on record.
* A credit code must pass the GB 32100-2015 check; the same code or the same enterprise twice in
  the file is an error on the later row.
* An unknown park or industry is an error (the zone's reference data); missing liaison leaders,
  liaison units and honours are created by name, and the preview lists them as new.
* A blank cell changes nothing: the import fills and corrects, it never erases. A filled 荣誉
  cell is the enterprise's whole list of honours.
* Every write is made in one transaction with simple-history's bulk helpers, each history row
  carrying the importing user and the import's reason; enterprises changed since the preview
  stop the import.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import zip_longest

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from core import importing
from core.importing import BadFile, BadValue, Issue, normalise
from core.imports import can_import
from core.locking import check_fields
from enterprises.models import Enterprise, Honour
from enterprises.services import EnterpriseChanges
from enterprises.validators import validate_credit_code
from reference.lookup import References
from reference.models import Department, Leader

# Header rows are found by the name column; lists call it by any of these.
ANCHORS = ("企业名称", "单位名称", "企业全称", "企业名称(全称)")

# (key, pattern over the normalised header; an upper header and the one below are joined)
ENTERPRISE_HEADERS = [
    ("seq", r"序号|编号"),
    ("name", r"(企业|单位)(名称|全称)(\(全称\))?"),
    ("short_name", r"(企业)?简称"),
    ("credit_code", r"(统一)?(社会)?信用代码(证)?|统一代码"),
    ("legal_representative", r"法定代表人|法人(代表)?"),
    ("park", r"(所属|所在)?园区"),
    ("industry", r"(所属|所在)?(产业|行业)(类别|分类)?"),
    ("address", r"(企业|注册|经营|办公)?地址"),
    ("contact_person", r"(企业)?联系人(姓名)?"),
    ("contact_phone", r"(联系)?电话|联系方式|(企业)?联系人(电话|手机|联系方式)"),
    ("is_above_scale", r"(是否)?(规上|规模以上)(工业)?(企业)?"),
    ("on_white_list", r"(是否)?(四保)?白名单(企业)?"),
    ("liaison_leader", r"(包联|联系)(情况)?领导"),
    ("liaison_unit", r"(包联|联系)(情况)?单位"),
    ("honours", r"(企业)?荣誉(称号|情况)?"),
    ("description", r"(企业)?简介|备注"),
]
_match_header = importing.header_matcher(ENTERPRISE_HEADERS)
QUOTES = re.compile(r"[\"'“”‘’「」『』]")

# Text columns: (key, longest value the model takes; None for no limit)
TEXT_KEYS = {
    "short_name": 50,
    "legal_representative": 50,
    "address": 200,
    "contact_person": 50,
    "contact_phone": 30,
    "description": None,
}
BOOL_KEYS = ("is_above_scale", "on_white_list")
REF_KEYS = ("park", "industry", "liaison_leader", "liaison_unit")
NAME_LIMITS = {"name": 200, "liaison_leader": 50, "liaison_unit": 100}
HONOUR_SEPARATORS = re.compile(r"[、，,;；\s]+")
CHUNK = 5000  # values per IN (…) list: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters

# What the preview calls each field (the lists' own words).
FIELD_LABELS = {
    "name": "企业名称",
    "short_name": "企业简称",
    "credit_code": "统一社会信用代码",
    "legal_representative": "法定代表人",
    "park": "所属园区",
    "industry": "所属产业",
    "address": "地址",
    "contact_person": "联系人",
    "contact_phone": "联系电话",
    "is_above_scale": "规上企业",
    "on_white_list": "四保白名单",
    "liaison_leader": "包联领导",
    "liaison_unit": "包联单位",
    "honours": "企业荣誉",
    "description": "企业简介",
}
COLUMN_LABELS = {"seq": "序号", **FIELD_LABELS}


def match_header(text: str) -> str | None:
    return _match_header(QUOTES.sub("", text))


def _change(field: str, old, new) -> importing.Change:
    return importing.Change(field, old, new, FIELD_LABELS.get(field, field))


@dataclass
class RowPlan(importing.RowPlan):
    """What one row of the list will do (``refs``: field → name of a leader or unit to create)."""

    enterprise: Enterprise | None = None
    seen_updated_at: object = None  # the matched enterprise's updated_at when previewed
    data: dict = field(default_factory=dict)  # field → value to write
    honours: list[str] | None = None  # the honours' names, when the row sets them


@dataclass
class EnterprisePreview(importing.PreviewRows):
    rows: list[RowPlan]
    errors: list[Issue]
    unknown_headers: list[str]
    new_units: list[str]
    new_leaders: list[str]
    new_honours: list[str]
    skipped: int = 0

    def notes(self) -> list[str]:
        """What the preview says before the rows: the names that will be created."""
        return importing.named_lists(
            (
                ("将新建的包联单位", self.new_units),
                ("将新建的包联领导", self.new_leaders),
                ("将新建的企业荣誉", self.new_honours),
            )
        )

    def fingerprint(self) -> str:
        new = ("、".join(names) for names in (self.new_units, self.new_leaders, self.new_honours))
        return self.digest("enterprises", lambda row: row.enterprise, new)


def preview(data: bytes, *, user, year: int | None = None, month: int | None = None) -> EnterprisePreview:
    """Read an enterprise list and work out, without writing anything, what importing it would do.

    ``year`` and ``month`` are accepted for the shared workflow and ignored: a list has no period.
    Messages are in the active language; the web request and the command set it."""
    if not can_import(user):
        raise PermissionDenied(_("Only project staff and administrators import enterprise lists."))
    return _Planner(_read(data)).plan()


def _read(data: bytes) -> importing.Sheet:
    """The list's sheet, its header row found by any of the names the enterprise column goes by."""
    return importing.read_sheet(data, anchor=ANCHORS, match_header=match_header)


def _chunks(values: Iterable, size: int = CHUNK) -> Iterator[list]:
    values = sorted(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _spellings(name: str) -> set[str]:
    """The spellings a stored name may have for a name in the file: as written, or with
    half-width or full-width brackets and no spaces (matching itself is on ``normalise``)."""
    loose = normalise(name)
    return {name, loose, loose.replace("(", "（").replace(")", "）")}


def _one_line(value: object) -> str:
    return re.sub(r"\s+", " ", importing.parse_text(value))


class _Lookup(References):
    """Reference data and the enterprises a list names, each loaded once."""

    def __init__(self, *, names: set[str], codes: set[str], leaders: set[str]):
        super().__init__()
        self.leaders = defaultdict(list)
        for chunk in _chunks(set().union(*(_spellings(n) for n in leaders)) if leaders else ()):
            for leader in Leader.objects.filter(name__in=chunk):
                self.leaders[normalise(leader.name)].append(leader)
        self.honours = importing.by_name(Honour.objects.all())
        self._load_enterprises(names, codes)

    def _load_enterprises(self, names: set[str], codes: set[str]) -> None:
        spellings = set().union(*(_spellings(n) for n in names)) if names else set()
        found = {}
        for name_chunk, code_chunk in zip_longest(_chunks(spellings), _chunks(codes), fillvalue=[]):
            query = Q(name__in=name_chunk) | Q(short_name__in=name_chunk) | Q(credit_code__in=code_chunk)
            for enterprise in Enterprise.objects.filter(query).select_related(*REF_KEYS):
                found[enterprise.pk] = enterprise
        self.by_code, self.by_name, self.by_short = {}, {}, defaultdict(list)
        for enterprise in sorted(found.values(), key=lambda e: e.pk):
            if enterprise.credit_code:
                self.by_code[enterprise.credit_code] = enterprise
            self.by_name.setdefault(normalise(enterprise.name), enterprise)
            if enterprise.short_name:
                self.by_short[normalise(enterprise.short_name)].append(enterprise)
        by_id = {h.pk: h for h in self.honours.values()}
        self.honours_of = defaultdict(list)
        through = Enterprise.honours.through
        for chunk in _chunks(found):
            pairs = through.objects.filter(enterprise_id__in=chunk).values_list("enterprise_id", "honour_id")
            for enterprise_id, honour_id in pairs:
                self.honours_of[enterprise_id].append(by_id[honour_id])


class _Planner(importing.RowPlanner):
    column_labels = COLUMN_LABELS

    def __init__(self, sheet: importing.Sheet):
        super().__init__(sheet)
        self.new_names = {"liaison_unit": {}, "liaison_leader": {}, "honours": {}}

    def plan(self) -> EnterprisePreview:
        if "name" not in self.sheet.columns:
            raise BadFile(_("The header has no “企业名称” column."))
        records, skipped = self.data_rows(empty_name=_("the enterprise name is empty"))
        parsed = []
        for row_number, raw in records:
            before = len(self.errors)
            parsed.append((row_number, self._parse(row_number, raw), len(self.errors) == before))
        self.lookup = _Lookup(
            names={v["name"] for _n, v, ok in parsed if ok},
            codes={v["credit_code"] for _n, v, ok in parsed if ok and v.get("credit_code")},
            leaders={v["liaison_leader"] for _n, v, _ok in parsed if v.get("liaison_leader")},
        )
        rows, seen_codes, seen_enterprises, seen_names = [], {}, {}, {}
        for row_number, values, ok in parsed:
            if not ok:
                # Report the row's reference errors too, so one correction round fixes the row.
                for key in REF_KEYS:
                    self._reference(row_number, values, key)
                continue
            plan = self._plan_row(row_number, values)
            if plan is None:
                continue
            code = values.get("credit_code")
            target = plan.enterprise.pk if plan.enterprise else normalise(plan.name)
            final_name = normalise(plan.data.get("name") or plan.enterprise.name)
            # The first repetition found is the row's one error; a row without a code repeats none
            # (seen_codes holds codes only).
            text = values["name"]
            repeats = (
                (seen_codes, code, "credit_code", code, _("the same credit code is already on row %(row)s")),
                (seen_enterprises, target, "name", text, _("the same enterprise is already on row %(row)s")),
                (seen_names, final_name, "name", text, _("the same name is already on row %(row)s")),
            )
            if any(self.already_on_row(seen, key, row_number, *rest) for seen, key, *rest in repeats):
                continue
            if code:
                seen_codes[code] = row_number
            seen_enterprises[target] = seen_names[final_name] = row_number
            rows.append(plan)
        order = {key: index for index, key in enumerate(self.sheet.columns)}
        column_order = {self.sheet.headers.get(k) or COLUMN_LABELS.get(k, k): i for k, i in order.items()}
        self.errors.sort(key=lambda issue: (issue.row, column_order.get(issue.column, len(order))))
        used = {name for row in rows for name in (*row.refs.values(), *(row.honours or []))}
        return EnterprisePreview(
            rows=rows,
            errors=self.errors,
            unknown_headers=self.sheet.unknown_headers,
            new_units=self._new("liaison_unit", used),
            new_leaders=self._new("liaison_leader", used),
            new_honours=self._new("honours", used),
            skipped=skipped,
        )

    def _new(self, kind: str, used: set[str]) -> list[str]:
        """The names to create, leaving out those only rows with errors asked for."""
        return sorted(name for name in self.new_names[kind].values() if name in used)

    # --- one row's values -------------------------------------------------------------

    def _parse(self, row: int, raw: dict) -> dict:
        """The row's values, read without the database; what cannot be read is left out and
        reported."""
        values = {}
        values["name"] = _one_line(raw.get("name"))
        if "credit_code" in raw and not importing.is_blank(raw["credit_code"]):
            self.parse_cell(row, raw, "credit_code", _credit_code, values)
        for key, limit in TEXT_KEYS.items():
            if key in raw and not importing.is_blank(raw[key]):
                if key == "description":
                    values[key] = importing.parse_text(raw[key])
                elif key == "contact_phone":
                    values[key] = unicodedata.normalize("NFKC", _one_line(raw[key])).strip()
                else:
                    values[key] = _one_line(raw[key])
                self.check_length(row, key, raw[key], values[key], limit)
        for key in BOOL_KEYS:
            if key in raw:
                self.parse_cell(row, raw, key, importing.parse_bool, values)
        for key in REF_KEYS:
            if key in raw and not importing.is_blank(raw[key]):
                values[key] = _one_line(raw[key])
        for key, limit in NAME_LIMITS.items():
            self.check_length(row, key, raw.get(key), values.get(key) or "", limit)
        if "honours" in raw and not importing.is_blank(raw["honours"]):
            names = [n for n in HONOUR_SEPARATORS.split(importing.parse_text(raw["honours"])) if n]
            values["honours"] = list({normalise(n): n for n in names}.values())
            for name in values["honours"]:
                if len(name) > 50:
                    self.error(row, "honours", name, _("an honour's name has at most 50 characters"))
        return values

    def _reference(self, row: int, values: dict, key: str):
        """The park, industry, leader or unit a row names: an object, a name to create, or False."""
        text = values.get(key)
        if not text:
            return None
        loose = normalise(text)
        if key == "park":
            found = self.lookup.parks.get(loose)
            if found is None:
                names = "、".join(sorted({p.name for p in self.lookup.parks.values()}))
                self.error(row, key, text, _("no such park; the parks are %(names)s") % {"names": names})
                return False
            return found
        if key == "industry":
            found = self.lookup.industries.get(loose)
            if found is None:
                self.error(row, key, text, _("no such industry in the reference data"))
                return False
            return found
        if key == "liaison_leader":
            matches = self.lookup.leaders.get(loose, [])
            if len(matches) > 1:
                self.error(
                    row, key, text, _("several leaders have this name; set it on the enterprise's page")
                )
                return False
            found = matches[0] if matches else None
        else:
            found = self.lookup.units.get(loose)
        if found is None:
            return self.new_names[key].setdefault(loose, text)
        return found

    def _match(self, row: int, values: dict) -> tuple[Enterprise | None, bool] | None:
        """The enterprise a row is about and whether it was found by its code; None on an error."""
        name, code = values["name"], values.get("credit_code")
        loose = normalise(name)
        by_name = self.lookup.by_name.get(loose)
        if code and code in self.lookup.by_code:
            enterprise = self.lookup.by_code[code]
            others = [by_name] if by_name else self.lookup.by_short.get(loose, [])
            if loose != normalise(enterprise.short_name) and any(e.pk != enterprise.pk for e in others):
                other = next(e for e in others if e.pk != enterprise.pk)
                self.error(
                    row,
                    "credit_code",
                    code,
                    _("this credit code belongs to another enterprise, %(owner)s, not to %(name)s")
                    % {"owner": enterprise.name, "name": other.name},
                )
                return None
            return enterprise, True
        enterprise = by_name
        if enterprise is None:
            shorts = self.lookup.by_short.get(loose, [])
            if len(shorts) > 1:
                self.error(
                    row,
                    "name",
                    name,
                    _("several enterprises have this short name: write the full name or the credit code"),
                )
                return None
            enterprise = shorts[0] if shorts else None
        if enterprise is not None and code and enterprise.credit_code and enterprise.credit_code != code:
            self.error(
                row,
                "credit_code",
                code,
                _("%(name)s is on record with the credit code %(code)s: correct the file or the enterprise")
                % {"name": enterprise.name, "code": enterprise.credit_code},
            )
            return None
        return enterprise, False

    def _plan_row(self, row: int, values: dict) -> RowPlan | None:
        before = len(self.errors)
        refs = {key: self._reference(row, values, key) for key in REF_KEYS}
        matched = self._match(row, values)
        if matched is None or len(self.errors) != before:
            return None
        enterprise, by_code = matched
        plan = RowPlan(row=row, name=values["name"], action="update" if enterprise else "create")
        if enterprise is not None:
            plan.enterprise, plan.seen_updated_at = enterprise, enterprise.updated_at
            plan.name = enterprise.name
        wanted = {
            key: values[key] for key in ("credit_code", *TEXT_KEYS, *BOOL_KEYS) if values.get(key) is not None
        }
        if enterprise is None:
            wanted = {"name": values["name"], **wanted}
        elif by_code and normalise(values["name"]) not in {
            normalise(enterprise.name),
            normalise(enterprise.short_name),
        }:
            wanted = {"name": values["name"], **wanted}  # a renamed enterprise, known by its code
        for name, value in wanted.items():
            old = getattr(enterprise, name) if enterprise else None
            if enterprise is None or old != value:
                plan.data[name] = value
                plan.changes.append(_change(name, _show(old), _show(value)))
        for name, ref in refs.items():
            if ref is None:
                continue
            old = getattr(enterprise, name) if enterprise else None
            if isinstance(ref, str):
                plan.refs[name] = ref
                plan.changes.append(_change(name, _show(old), f"{ref}（新建）"))
            elif enterprise is None or old != ref:
                plan.data[name] = ref
                plan.changes.append(_change(name, _show(old), _show(ref)))
        if values.get("honours"):
            self._plan_honours(values["honours"], plan)
        if enterprise is not None and not plan.changes:
            plan.action = "unchanged"
        return plan

    def _plan_honours(self, names: list[str], plan: RowPlan) -> None:
        wanted, shown = [], []
        for name in names:
            honour = self.lookup.honours.get(normalise(name))
            if honour is None:
                name = self.new_names["honours"].setdefault(normalise(name), name)
                wanted.append(name)
                shown.append(f"{name}（新建）")
            else:
                wanted.append(honour.name)
                shown.append(honour.name)
        held = self.lookup.honours_of.get(plan.enterprise.pk, []) if plan.enterprise else []
        if {normalise(n) for n in wanted} != {normalise(h.name) for h in held}:
            plan.honours = wanted
            old = "、".join(h.name for h in sorted(held, key=lambda h: (h.rank, h.name)))
            plan.changes.append(_change("honours", old or "—", "、".join(shown)))


def _credit_code(value: object) -> str:
    """A credit code as stored (half-width capitals), or BadValue saying what is wrong, in the
    active language."""
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= 1e15:
        raise BadValue(
            _(
                "the code is stored as a number, so Excel has dropped its last digits: "
                "format the column as text and type the code again"
            )
        )
    code = normalise(importing.parse_text(value)).upper()
    try:
        validate_credit_code(code)
    except ValidationError as error:
        raise BadValue(" ".join(str(m) for m in error.messages)) from None
    return code


def _show(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Leader | Department):
        return value.name
    return str(value)


# --- Applying ---------------------------------------------------------------------------


@transaction.atomic
def apply(
    result: EnterprisePreview,
    *,
    user,
    reason: str,
    confirm_erasures: bool = False,
    confirm_warnings: bool = False,
) -> dict[str, int]:
    """Write a preview with no errors: every row, or (on any failure) none; values it would clear,
    if any, only with ``confirm_erasures`` (blank cells never clear, so a list has none today).
    ``confirm_warnings`` is the shared workflow's: an enterprise list has no figure checks.

    The shared workflow re-plans inside this transaction (``preview`` then ``apply``); the rows
    to update are locked here and refused if they changed after that preview."""
    importing.ensure_importable(result, confirm_erasures=confirm_erasures, confirm_warnings=confirm_warnings)
    now = timezone.now()
    history = importing.history_options(user=user, reason=reason, now=now)
    with importing.database_refusal():
        refs = _create_refs(result, history)
        locked = _lock(result)
        created, updated = [], defaultdict(list)
        for row in result.rows:
            if row.action == "unchanged":
                continue
            data = importing.with_created(row.data, row.refs, refs)
            check_fields(data, EnterpriseChanges)  # a list sets what the registry's service may set
            if row.enterprise is None:
                enterprise = Enterprise(**data)
                created.append((row, enterprise))
            else:
                enterprise = locked[row.enterprise.pk]
                for name, value in data.items():
                    setattr(enterprise, name, value)
                enterprise.updated_at = now
                updated[tuple(sorted({*data, "updated_at"}))].append(enterprise)
                row.enterprise = enterprise
            # The references were checked by the preview; validating them again queries each one.
            enterprise.clean_fields(exclude=[*REF_KEYS, "parent", "honours"])
        saved = bulk_create_with_history([e for _r, e in created], Enterprise, batch_size=500, **history)
        for (row, _unsaved), enterprise in zip(created, saved, strict=True):
            row.enterprise = enterprise
        for fields, enterprises in updated.items():  # rows write only the fields they change
            bulk_update_with_history(enterprises, Enterprise, list(fields), batch_size=500, **history)
        _write_honours(result, refs["honours"])
    return result.counts()


def _create_refs(result: EnterprisePreview, history) -> dict[str, dict[str, object]]:
    units = importing.create_named(Department, result.new_units, history)
    leaders = importing.create_named(Leader, result.new_leaders, history)
    importing.create_named(Honour, result.new_honours, history)
    wanted = {name for row in result.rows if row.honours for name in row.honours}
    honours = [h for chunk in _chunks(wanted) for h in Honour.objects.filter(name__in=chunk)]
    return {"liaison_unit": units, "liaison_leader": leaders, "honours": {h.name: h for h in honours}}


def _lock(result: EnterprisePreview) -> dict[int, Enterprise]:
    """The enterprises to update, locked, each as it was when previewed (or the import stops)."""
    rows = {row.enterprise.pk: row for row in result.updated}
    locked = {}
    for chunk in _chunks(rows):
        for enterprise in Enterprise.objects.select_for_update().filter(pk__in=chunk):
            locked[enterprise.pk] = enterprise
    for pk, row in rows.items():
        if pk not in locked or locked[pk].updated_at != row.seen_updated_at:
            raise ValidationError(
                _("%(name)s changed while the import was being confirmed; preview the file again.")
                % {"name": row.enterprise.name},
                code="stale",
            )
    return locked


def _write_honours(result: EnterprisePreview, honours: dict[str, Honour]) -> None:
    """Each row that lists honours gets exactly those (the through table, in bulk)."""
    through = Enterprise.honours.through
    rows = [row for row in result.rows if row.honours is not None and row.action != "unchanged"]
    for chunk in _chunks({row.enterprise.pk for row in rows}):
        through.objects.filter(enterprise_id__in=chunk).delete()
    links = [
        through(enterprise_id=row.enterprise.pk, honour_id=honours[name].pk)
        for row in rows
        for name in row.honours
    ]
    through.objects.bulk_create(links, batch_size=1000)
