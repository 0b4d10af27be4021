"""Reading the workbooks zones keep: file checks, the header row, and cell values.

Ledgers arrive as zones really keep them: title rows above the header, two-level merged
headers, numbers stored as text with thousands separators or full-width digits, dates as
Excel dates or as text (2023年3月, 2023.03, 2023-03-15), subtotal and 合计 rows. This module
turns a sheet into header → column and rows of raw values; each importer (project ledger,
enterprise list) says which headers it knows and what a row means.

Files are checked before any parser sees them: size, the zip signature (an encrypted or old
.xls workbook is an OLE file, not a zip), the zip's uncompressed size and ratio (a zip bomb),
and DTDs in the XML parts (entity expansion). python-calamine (Rust, no entity expansion)
then reads the values, five to ten times faster than openpyxl's read-only mode.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import posixpath
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from defusedxml import DefusedXmlException, ElementTree
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from python_calamine import CalamineError, CalamineWorkbook

HEADER_SCAN_ROWS = 20
MAX_UNCOMPRESSED = 400 * 1_048_576  # what a 10 MB xlsx can honestly hold, with room
MAX_RATIO = 200  # xlsx XML compresses 10–30×; a bomb compresses thousands of times
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"


class BadFile(Exception):
    """The file cannot be read as a workbook; the message says why, in the user's language."""


@dataclass
class Cell:
    row: int  # 1-based, as Excel numbers rows
    column: str  # the header it sits under
    value: object


@dataclass
class Issue:
    """A problem with one row (or, with row 0, with the whole file)."""

    row: int
    column: str
    value: str
    message: str


@dataclass
class Sheet:
    """A sheet's header and data rows: ``rows`` are (Excel row number, {key: raw value})."""

    title_text: str
    headers: dict[str, str]  # key → the header text as written
    rows: list[tuple[int, dict[str, object]]]
    unknown_headers: list[str]
    formula_cells: set[tuple[int, int]] = field(default_factory=set)
    columns: dict[str, int] = field(default_factory=dict)  # key → 0-based column


def check_file(data: bytes, name: str = "") -> None:
    """Refuse what is not a plain, reasonable xlsx before any parser opens it."""
    limit = settings.MAX_IMPORT_BYTES
    if not data:
        raise BadFile(_("The file is empty."))
    if len(data) > limit:
        raise BadFile(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": f"{len(data) / 1_048_576:.1f}", "limit": f"{limit / 1_048_576:.0f}"}
        )
    if data.startswith(OLE_SIGNATURE):
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise BadFile(_("The workbook is protected by a password: save it without one and try again."))
        raise BadFile(_("This is an old Excel (.xls) file: save it as an .xlsx workbook and try again."))
    if not data.startswith(ZIP_SIGNATURE):
        raise BadFile(_("This is not an Excel workbook (.xlsx)."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise BadFile(_("The workbook is damaged and cannot be read.")) from None
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
        raise BadFile(_("This is not an Excel workbook (.xlsx)."))
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > MAX_UNCOMPRESSED or (info.file_size > 10 * 1_048_576 and ratio > MAX_RATIO):
            raise BadFile(
                _("The workbook unpacks to far more data than it should (a zip bomb?); it was not read.")
            )
    for info in infos:
        if info.filename.endswith((".xml", ".rels")) and info.file_size:
            with archive.open(info) as part:
                head = part.read(4096)
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise BadFile(
                    _("The workbook contains XML declarations Excel never writes; it was not read.")
                )


def _formula_cells_without_values(data: bytes, sheet_index: int) -> set[tuple[int, int]]:
    """Cells (0-based row, col) holding a formula but no calculated value: a reader sees them empty.

    The sheet's part is found through the workbook's relationships (a worksheet may be stored
    under any name), and read as a stream: memory and time stay linear in the sheet's size."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    path = _worksheet_path(archive, sheet_index)
    if path is None:
        return set()
    found = set()
    try:
        with archive.open(path) as part:
            found = _scan_formula_cells(part)
    except (ElementTree.ParseError, DefusedXmlException, zipfile.BadZipFile, OSError, ValueError):
        raise BadFile(_("The workbook is damaged and cannot be read.")) from None
    return found


def _local(tag: str) -> str:
    """A tag or attribute name without its namespace: transitional and strict Open XML alike."""
    return tag.rpartition("}")[2]


def _worksheet_path(archive: zipfile.ZipFile, sheet_index: int) -> str | None:
    """The zip path of the workbook's ``sheet_index``-th sheet (in the order workbook.xml lists them,
    the order readers number sheets in), from xl/workbook.xml and its relationships."""
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return None
    rel_id = None
    index = 0
    with archive.open("xl/workbook.xml") as part:
        for _event, element in ElementTree.iterparse(part, events=("end",)):
            if _local(element.tag) == "sheet":
                if index == sheet_index:
                    rel_id = next(
                        (v for k, v in element.attrib.items() if k.startswith("{") and _local(k) == "id"),
                        None,
                    )
                    break
                index += 1
                element.clear()
    if rel_id is None:
        return None
    target = None
    with archive.open("xl/_rels/workbook.xml.rels") as part:
        for _event, element in ElementTree.iterparse(part, events=("end",)):
            if _local(element.tag) == "Relationship" and element.get("Id") == rel_id:
                target = element.get("Target")
                break
    if not target:
        return None
    # Targets are relative to xl/, or absolute within the package ("/xl/worksheets/…").
    path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
    return path if path in names else None


def _scan_formula_cells(part) -> set[tuple[int, int]]:
    found = set()
    sheet_data = None
    row_number = 0  # 1-based, as the sheet numbers rows
    col_number = 0
    for event, element in ElementTree.iterparse(part, events=("start", "end")):
        name = _local(element.tag)
        if event == "start":
            if name == "sheetData":
                sheet_data = element
            elif name == "row":
                row_number = int(element.get("r") or row_number + 1)
                col_number = 0
            elif name == "c":
                reference = element.get("r")
                col_number = _column_number(reference) if reference else col_number + 1
            continue
        if name == "c":
            formula = value = None
            for child in element:
                child_name = _local(child.tag)
                if child_name == "f":
                    formula = child
                elif child_name == "v":
                    value = child
            if formula is not None and (value is None or not value.text):
                found.add((row_number - 1, col_number - 1))
        elif name == "row" and sheet_data is not None:
            sheet_data.clear()  # rows already read are dropped: memory stays flat
    return found


def _column_number(reference: str) -> int:
    """The 1-based column of a cell reference (B7 → 2)."""
    col = 0
    for char in reference:
        if not char.isalpha():
            break
        col = col * 26 + ord(char.upper()) - 64
    return col


def normalise(text: object) -> str:
    """Header or label text compared loosely: NFKC (full-width → half-width), no spaces or line breaks."""
    value = unicodedata.normalize("NFKC", str(text or ""))
    return re.sub(r"\s+", "", value)


def read_sheet(
    data: bytes,
    *,
    anchor: str | tuple[str, ...],
    match_header: Callable[[str], str | None],
    known_ignored: Callable[[str], bool] = lambda text: False,
) -> Sheet:
    """Find the header row by ``anchor`` (a header every such sheet has, such as 项目名称, or a
    tuple of the names it goes by) in the first sheet that has it, and read the rows below it.

    ``match_header`` maps a normalised header (an upper header and the one below joined, or a
    single one) to a column key or None. Two-level headers are read whether or not their upper
    cells are merged."""
    anchors = (anchor,) if isinstance(anchor, str) else tuple(anchor)
    check_file(data)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (CalamineError, ValueError, OSError) as error:
        message = str(error).lower()
        if "password" in message or "encrypt" in message:
            raise BadFile(
                _("The workbook is protected by a password: save it without one and try again.")
            ) from None
        raise BadFile(_("The workbook is damaged and cannot be read.")) from None
    for index in range(len(book.sheet_names)):
        try:
            values = book.get_sheet_by_index(index).to_python(skip_empty_area=False)
        except (CalamineError, ValueError, OSError):
            raise BadFile(_("The workbook is damaged and cannot be read.")) from None
        header_at = _find_anchor(values, anchors)
        if header_at is None:
            continue
        sheet = _read_table(values, header_at, match_header, known_ignored)
        sheet.formula_cells = _formula_cells_without_values(data, index)
        return sheet
    raise BadFile(
        _("No sheet has a header row with “%(anchor)s”: is this the right file?") % {"anchor": anchors[0]}
    )


def _find_anchor(values: list[list], anchors: tuple[str, ...]) -> int | None:
    for index, row in enumerate(values[:HEADER_SCAN_ROWS]):
        if any(normalise(cell) in anchors for cell in row):
            return index
    return None


def _is_header_like(row: list) -> bool:
    filled = [cell for cell in row if cell not in ("", None)]
    return bool(filled) and all(isinstance(cell, str) and not _looks_numeric(cell) for cell in filled)


def _looks_numeric(text: str) -> bool:
    return bool(re.fullmatch(r"[\d,.\s%-]+", normalise(text)))


def _read_table(values, header_at, match_header, known_ignored) -> Sheet:
    top = values[header_at]
    below = values[header_at + 1] if header_at + 1 < len(values) else []
    two_level = _is_header_like(below) and any(
        top[i] in ("", None) or normalise(top[i]) != normalise(below[i])
        for i in range(min(len(top), len(below)))
    )
    width = max(len(top), len(below) if two_level else 0)
    headers, columns, unknown = {}, {}, []
    upper = upper_raw = ""
    for col in range(width):
        top_text = normalise(top[col]) if col < len(top) else ""
        low_text = normalise(below[col]) if two_level and col < len(below) else ""
        top_raw = " ".join(str(top[col]).split()) if top_text else ""
        low_raw = " ".join(str(below[col]).split()) if low_text else ""
        if top_text:
            upper, upper_raw = top_text, top_raw
        elif not low_text:
            upper = upper_raw = ""
        candidates = []
        if low_text:
            group = top_text or upper
            candidates = [group + low_text, low_text] if group else [low_text]
        elif top_text:
            candidates = [top_text]
        if not candidates:
            continue
        written = " / ".join(filter(None, [top_raw or (upper_raw if low_text else ""), low_raw]))
        key = None
        for candidate in candidates:
            key = match_header(candidate)
            if key:
                break
        if key and key not in columns:
            columns[key] = col
            headers[key] = written
        elif not key and not any(known_ignored(c) for c in candidates):
            unknown.append(written)
    first_data = header_at + (2 if two_level else 1)
    title_text = " ".join(
        normalise(cell) for row in values[:header_at] for cell in row if cell not in ("", None)
    )
    rows = []
    for index in range(first_data, len(values)):
        row = values[index]
        record = {key: (row[col] if col < len(row) else "") for key, col in columns.items()}
        rows.append((index + 1, record))
    return Sheet(title_text=title_text, headers=headers, rows=rows, unknown_headers=unknown, columns=columns)


# --- Values -------------------------------------------------------------------

EMPTY_MARKERS = {"", "-", "—", "--", "——", "/", "无", "暂无", "none", "null"}
UNIT_FACTORS = {"亿元": Decimal("10000"), "万元": Decimal("1"), "元": Decimal("0.0001")}
MONEY_PLACES = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # MoneyField's 14 digits


class BadValue(ValueError):
    pass


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return normalise(value).lower() in EMPTY_MARKERS
    return False


def parse_decimal(value: object, *, factor: Decimal = Decimal(1)) -> Decimal | None:
    """An amount from a number or text ("1,234.5", "１２３４", "12.3万元"), times ``factor``."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise BadValue(_("not a number"))
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
    else:
        text = normalise(value).replace(",", "").replace("，", "")
        for unit, unit_factor in UNIT_FACTORS.items():
            if text.endswith(unit):
                text, factor = text[: -len(unit)], unit_factor
                break
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise BadValue(_("not a number")) from None
    if not number.is_finite():
        raise BadValue(_("not a number"))
    if number < 0:
        raise BadValue(_("cannot be negative"))
    number *= factor
    if number > MAX_AMOUNT:
        raise BadValue(_("too large for an amount in 10k yuan"))
    return number.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)


DATE_PATTERNS = [
    re.compile(r"^(\d{4})年(\d{1,2})月(?:(\d{1,2})日?)?$"),
    re.compile(r"^(\d{4})[.\-/](\d{1,2})(?:[.\-/](\d{1,2}))?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})?$"),
]


def parse_date(value: object) -> datetime.date | None:
    """A date from an Excel date or text: 2023-03-15, 2023/3/15, 2023.03, 2023年3月 (→ 1 March)."""
    if is_blank(value):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, float | int | Decimal) and not isinstance(value, bool):
        # 2023.03 typed into a number cell: year and month.
        text = f"{Decimal(str(value)):.2f}"
    else:
        text = normalise(value)
    text = text.split("T")[0].split(" ")[0]
    for pattern in DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = match.group(1), match.group(2), match.group(3)
            try:
                return datetime.date(int(year), int(month), int(day or 1))
            except ValueError:
                break
    raise BadValue(_("not a date (write it as 2023-03-15 or 2023年3月)"))


def parse_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).strip()


def parse_bool(value: object) -> bool | None:
    if is_blank(value):
        return None
    text = normalise(value).lower()
    if text in {"是", "√", "✓", "yes", "y", "true", "1", "有"}:
        return True
    if text in {"否", "×", "no", "n", "false", "0"}:
        return False
    raise BadValue(_("write 是 or 否"))


def cell_text(value: object) -> str:
    """How a raw value is quoted back in an error message."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value if value is not None else "")


PERIOD_PATTERN = re.compile(r"(\d{4})年(?:度)?(?:1[-—–~至到])?(\d{1,2})月")


def period_in(text: str) -> tuple[int, int] | None:
    """The reporting period a title states ("2023年1—9月", "2023年9月")."""
    match = PERIOD_PATTERN.search(normalise(text))
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return year, month
    return None


def unit_factor_in(text: str) -> Decimal | None:
    """The money unit a header or title states: (亿元), 单位：万元 …"""
    text = normalise(text)
    for unit in ("亿元", "万元"):
        if unit in text:
            return UNIT_FACTORS[unit]
    if re.search(r"[(（:：]元[)）]?", text):
        return UNIT_FACTORS["元"]
    return None


SUBTOTAL_WORDS = ("合计", "小计", "总计", "累计合计")
HEADING = re.compile(r"^[一二三四五六七八九十]+[、.．]?")


def is_subtotal_or_heading(seq: object, name: object) -> bool:
    """合计/小计 rows and group headings ("一、省重点项目") are not projects."""
    seq_text, name_text = normalise(seq), normalise(name)
    if any(word in seq_text or word in name_text for word in SUBTOTAL_WORDS):
        return True
    if seq_text and HEADING.match(seq_text) and not seq_text.isdigit():
        return True
    return bool(
        name_text and HEADING.match(name_text) and re.match(r"^[一二三四五六七八九十]+[、.．]", name_text)
    )


def all_blank(values: Iterable[object]) -> bool:
    return all(is_blank(v) for v in values)


# --- What every importer's preview and planner share -----------------------------------


@dataclass
class Change:
    """One field a row changes, old → new as the preview shows them. ``erases`` marks a figure
    lowered to zero or a value cleared; ``warnings`` are the named reasons an importer's sanity
    checks hold a figure back (each ``{"code", "label", "message"}``). The preview lists both
    apart and the user confirms them."""

    field: str
    old: str
    new: str
    label: str
    erases: bool = False
    warnings: tuple[dict, ...] = ()


def erases(old: object, new: object) -> bool:
    """Whether writing ``new`` over ``old`` sets a figure to zero or clears a value."""
    had_value = old not in (None, "") and not (isinstance(old, int | float | Decimal) and old == 0)
    return had_value and (new in (None, "") or (isinstance(new, int | float | Decimal) and new == 0))


class PreviewRows:
    """A preview's rows by what they will do, and its fingerprint (mixed into each importer's
    preview dataclass, which has ``rows`` and ``errors``)."""

    @property
    def created(self) -> list:
        return [r for r in self.rows if r.action == "create"]

    @property
    def updated(self) -> list:
        return [r for r in self.rows if r.action == "update"]

    @property
    def unchanged(self) -> list:
        return [r for r in self.rows if r.action == "unchanged"]

    @property
    def error_rows(self) -> int:
        return len({issue.row for issue in self.errors})

    @property
    def erasures(self) -> list[tuple]:
        """(row, change) for each figure the import would set to zero or value it would clear."""
        return [(row, change) for row in self.rows for change in row.changes if change.erases]

    @property
    def held(self) -> list[tuple]:
        """(row, change) for each figure the sanity checks hold back until the user confirms it."""
        return [(row, change) for row in self.rows for change in row.changes if change.warnings]

    def digest(self, seed: str, target_of: Callable, extra: Iterable[str] = ()) -> str:
        """A hash of what would change: data changed after the preview changes it, so the
        confirmation of a stale preview is caught."""
        digest = hashlib.sha256(seed.encode())
        for row in self.rows:
            target = target_of(row)
            digest.update(f"{row.row}|{row.action}|{target.pk if target else ''}".encode())
            for change in row.changes:
                digest.update(f"|{change.field}:{change.old}>{change.new}".encode())
                # By code: the messages are in the language of whoever previewed.
                for warning in change.warnings:
                    digest.update(f"!{warning['code']}".encode())
        for issue in self.errors:
            digest.update(f"E{issue.row}{issue.column}{issue.message}".encode())
        for text in extra:
            digest.update(f"N{text}".encode())
        return digest.hexdigest()


def erasures_not_confirmed(count: int) -> str:
    return _(
        "The import would set %(count)s figures to zero or clear them: tick the box under "
        "“Figures to be set to zero or cleared” to confirm them. Nothing was imported."
    ) % {"count": count}


def ensure_erasures_confirmed(preview, confirmed: bool) -> None:
    """ValidationError, and nothing written, when a preview sets figures to zero or clears values
    and the user did not confirm those (the preview lists them apart, with a box to tick)."""
    if preview.erasures and not confirmed:
        raise ValidationError(erasures_not_confirmed(len(preview.erasures)), code="erasures")


def held_not_confirmed(count: int) -> str:
    return _(
        "%(count)s figures need checking: tick the box under “Figures to check” to confirm them. "
        "Nothing was imported."
    ) % {"count": count}


def ensure_held_confirmed(preview, confirmed: bool) -> None:
    """ValidationError, and nothing written, when the sanity checks hold figures of a preview back
    and the user did not confirm them (the preview lists them with their warnings and a box)."""
    if preview.held and not confirmed:
        raise ValidationError(held_not_confirmed(len(preview.held)), code="held")


class RowPlanner:
    """The part of an importer's planner that is the same for every kind of row: errors quoted
    with the file's own header, and the data rows sorted from blank, total and heading rows."""

    column_labels: dict[str, str] = {}

    def __init__(self, sheet: Sheet):
        self.sheet = sheet
        self.errors: list[Issue] = []

    def error(self, row: int, key: str, value, message: str) -> None:
        column = self.sheet.headers.get(key) or self.column_labels.get(key, key)
        self.errors.append(Issue(row=row, column=column, value=cell_text(value), message=message))

    def data_rows(self, *, empty_name: str) -> tuple[list[tuple[int, dict]], int]:
        """(Excel row number, raw values) of the rows to import, and how many were skipped.

        A numbered row without a name is an error (``empty_name``); an unnumbered one is a heading."""
        records, skipped = [], 0
        for row_number, raw in self.sheet.rows:
            if all_blank(raw.values()):
                continue
            if is_subtotal_or_heading(raw.get("seq"), raw.get("name")):
                skipped += 1
                continue
            if is_blank(raw.get("name")):
                if isinstance(raw.get("seq"), int | float) or normalise(raw.get("seq")).isdigit():
                    self.error(row_number, "name", "", empty_name)
                else:
                    skipped += 1
                continue
            records.append((row_number, raw))
        return records, skipped
