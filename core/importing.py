"""Reading the workbooks zones keep: file checks, the header row, and cell values.

Ledgers arrive as zones really keep them: title rows above the header, two-level merged
headers, numbers stored as text with thousands separators or full-width digits, dates as
Excel dates or as text (2023年3月, 2023.03, 2023-03-15), subtotal and 合计 rows. This module
turns a sheet into header → column and rows of raw values; each importer (project ledger,
enterprise list) says which headers it knows and what a row means; what their previews and
``apply`` share (the planner's checks, the confirmations, creating what rows name) is here too.

Files are checked before any parser sees them: size, the zip signature (an encrypted or old
.xls workbook is an OLE file, not a zip), what each zip part really unpacks to (a zip bomb,
whether its headers are honest or lie), and DTDs anywhere in the XML parts (entity expansion).
Then every sheet's XML is read as a stream (expat, no DTD) to count what it really holds: a
reader sizes its grid by the cells' extent, so a 5 KB file with values in A1 and XFD1048576
would ask for half a terabyte. Only within the limits in settings (IMPORT_MAX_ROWS, _COLUMNS,
_CELLS, _UNPACKED_BYTES) does python-calamine (Rust, no entity expansion) read the values,
five to ten times faster than openpyxl's read-only mode, one row at a time.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import posixpath
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import chain, islice
from typing import TYPE_CHECKING, Any
from xml.parsers import expat

from defusedxml import DefusedXmlException, ElementTree
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils.translation import gettext as _
from python_calamine import CalamineError, CalamineWorkbook
from simple_history.utils import bulk_create_with_history

HEADER_SCAN_ROWS = 20
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
    names = [info.filename for info in infos]
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
        raise BadFile(_("This is not an Excel workbook (.xlsx)."))
    if len(set(names)) != len(names) or any(
        info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 0x1
        for info in infos
    ):
        # Two parts of one name (readers may pick different ones), or packing Excel never uses.
        raise BadFile(_("The workbook is damaged and cannot be read."))
    # The sizes the zip declares first: an honest bomb is refused without unpacking a byte.
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > settings.IMPORT_MAX_UNPACKED_BYTES or (
            info.file_size > 10 * 1_048_576 and ratio > MAX_RATIO
        ):
            raise BadFile(_bomb_message())
    # Then what the parts really unpack to, since a zip's headers can lie.
    _check_unpacked(data, infos)


def _bomb_message() -> str:
    return _("The workbook unpacks to far more data than it should (a zip bomb?); it was not read.")


def _damaged() -> BadFile:
    return BadFile(_("The workbook is damaged and cannot be read."))


def _declarations() -> BadFile:
    return BadFile(_("The workbook contains XML declarations Excel never writes; it was not read."))


UNPACK_CHUNK = 1_048_576
# A DTD is where entity expansion and external entities live; Excel never writes one. Looked for in
# the whole of each part (an attacker puts it after a long comment), in UTF-8 and UTF-16.
DECLARATIONS = tuple(
    word.encode(encoding)
    for word in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
OVERLAP = max(len(word) for word in DECLARATIONS)


def _check_unpacked(data: bytes, infos: list[zipfile.ZipInfo]) -> None:
    """Unpack every part as a stream, as the readers will, and count what comes out: a part that
    unpacks to more than its header says, or parts beyond IMPORT_MAX_UNPACKED_BYTES together, are a
    bomb; less is a damaged file; a DTD anywhere in an XML part is refused. Memory stays at one chunk
    and time is bounded by the limit, whatever the headers claim."""
    budget = settings.IMPORT_MAX_UNPACKED_BYTES
    for info in infos:
        start = _data_offset(data, info)
        raw = memoryview(data)[start : start + info.compress_size]
        if len(raw) != info.compress_size:
            raise _damaged()
        scan = not info.filename.startswith("xl/media/")  # pictures may embed an SVG with a DOCTYPE
        size, tail = 0, b""
        for chunk in _unpacked_chunks(raw, info.compress_type):
            size += len(chunk)
            budget -= len(chunk)
            if size > info.file_size or budget < 0:
                raise BadFile(_bomb_message())
            if scan:
                window = tail + chunk
                if any(word in window for word in DECLARATIONS):
                    raise _declarations()
                tail = window[-OVERLAP:]
        if size != info.file_size:
            raise _damaged()


def _data_offset(data: bytes, info: zipfile.ZipInfo) -> int:
    """Where a part's packed bytes begin: after its local header, found as zip readers find it."""
    zf: Any = zipfile  # its local-header constants are private, absent from typeshed
    header = data[info.header_offset : info.header_offset + zf.sizeFileHeader]
    if len(header) != zf.sizeFileHeader:
        raise _damaged()
    fields = struct.unpack(zf.structFileHeader, header)
    if fields[zf._FH_SIGNATURE] != zf.stringFileHeader:
        raise _damaged()
    return (
        info.header_offset
        + zf.sizeFileHeader
        + fields[zf._FH_FILENAME_LENGTH]
        + fields[zf._FH_EXTRA_FIELD_LENGTH]
    )


def _unpacked_chunks(raw: memoryview, method: int):
    if method == zipfile.ZIP_STORED:
        for offset in range(0, len(raw), UNPACK_CHUNK):
            yield raw[offset : offset + UNPACK_CHUNK].tobytes()
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    offset = 0
    try:
        while not inflater.eof:
            if inflater.unconsumed_tail:
                packed = inflater.unconsumed_tail
            elif offset < len(raw):
                packed = raw[offset : offset + UNPACK_CHUNK].tobytes()
                offset += UNPACK_CHUNK
            else:
                break
            chunk = inflater.decompress(packed, UNPACK_CHUNK)
            if chunk:
                yield chunk
    except zlib.error:
        raise _damaged() from None


# --- Streaming the XML parts ------------------------------------------------------------------

MAX_XML_DEPTH = 64  # Excel's sheets nest six deep; nesting is where recursive readers fall over
EXCEL_MAX_TEXT = 32_767  # the most characters Excel puts in a cell


def _local(tag: str) -> str:
    """A tag or attribute name without its namespace: transitional and strict Open XML alike."""
    return tag.rpartition("}")[2]


def _stream(part):
    """(event, element) for each start and end in an XML part, read as a stream: no DTD, nesting
    bounded, and each element dropped from its parent once its end is handled, so memory stays flat
    whatever the part's shape (read an element's text and attributes, never its children)."""
    stack = []
    try:
        for event, element in ElementTree.iterparse(part, events=("start", "end"), forbid_dtd=True):
            if event == "start":
                stack.append(element)
                if len(stack) > MAX_XML_DEPTH:
                    raise _damaged()
                yield event, element
            else:
                yield event, element
                stack.pop()
                if stack:
                    stack[-1].remove(element)
    except DefusedXmlException:
        raise _declarations() from None
    except (ElementTree.ParseError, zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _damaged() from None


def _sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each sheet's name → its part's path in the zip, in the order workbook.xml lists them (the order
    readers number sheets in), through the workbook's relationships: a worksheet may be stored under
    any name."""
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return {}
    sheets = []
    with archive.open("xl/workbook.xml") as part:
        for event, element in _stream(part):
            if event == "end" and _local(element.tag) == "sheet":
                rel_id = next(
                    (v for k, v in element.attrib.items() if k.startswith("{") and _local(k) == "id"), None
                )
                sheets.append((element.get("name") or "", rel_id))
    targets = {}
    with archive.open("xl/_rels/workbook.xml.rels") as part:
        for event, element in _stream(part):
            if event == "end" and _local(element.tag) == "Relationship":
                targets[element.get("Id")] = element.get("Target") or ""
    if len({sheet_name for sheet_name, _rel_id in sheets}) != len(sheets):
        # Excel never repeats a sheet's name; a reader could open another part than the one counted.
        raise _damaged()
    paths = {}
    for sheet_name, rel_id in sheets:
        target = targets.get(rel_id)
        if not target:
            continue
        # Targets are relative to xl/, or absolute within the package ("/xl/worksheets/…").
        path = (
            target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        )
        if path in names:
            paths[sheet_name] = path
    return paths


@dataclass
class SheetScan:
    """What a sheet really holds, counted from its XML: the last row and column with a value (what a
    reader sizes its grid by) and the cells holding a formula without a calculated value."""

    rows: int = 0
    columns: int = 0
    formula_cells: set[tuple[int, int]] = field(default_factory=set)


def scan_sheet(part) -> SheetScan:
    """Read a sheet's XML as a stream, linear in its size, and refuse it as soon as it reaches beyond
    IMPORT_MAX_ROWS, IMPORT_MAX_COLUMNS or IMPORT_MAX_CELLS (rows × columns, what a reader allocates),
    holds a text longer than Excel allows, or more merged ranges than four a row. Its declared
    dimension is never looked at."""
    max_rows, max_columns = settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_COLUMNS
    max_cells = settings.IMPORT_MAX_CELLS
    scan = SheetScan()
    # Elements read, values or not: bounds the time spent on millions of empty formatted cells.
    budget = 4 * max_cells + max_rows
    # A reader keeps every merged range (about 28 bytes each); a ledger merges a few cells a row.
    max_merges, merges = 4 * max_rows, 0
    row_number = col_number = 0  # 1-based, as the sheet numbers them
    has_value = has_formula = in_text = False
    text_length = 0

    def start(name, attributes):
        nonlocal budget, row_number, col_number, has_value, has_formula, in_text, text_length, merges
        budget -= 1
        if budget < 0:
            raise _too_many_cells()
        local = name.rpartition(":")[2]
        if local == "c":
            reference = attributes.get("r")
            col_number = _column_number(reference) if reference else col_number + 1
            has_value = has_formula = False
            text_length = 0
        elif local == "v" or local == "t":
            in_text = True
            has_value = has_value or local == "t"
        elif local == "f":
            has_formula = True
        elif local == "row":
            row_number = _number(attributes.get("r"), row_number + 1)
            col_number = 0
        elif local == "mergeCell":
            merges += 1
            if merges > max_merges:
                raise BadFile(
                    _(
                        "A sheet has more than %(limit)s merged ranges; an import reads no more: "
                        "unmerge the cells and try again."
                    )
                    % {"limit": max_merges}
                )

    def text(data):
        nonlocal has_value, text_length
        if in_text:
            has_value = True
            text_length += len(data)

    def end(name):
        nonlocal in_text
        local = name.rpartition(":")[2]
        if local == "v" or local == "t":
            in_text = False
        elif local == "c":
            if text_length > EXCEL_MAX_TEXT:
                raise _text_too_long()
            if not has_value:
                if has_formula:
                    scan.formula_cells.add((row_number - 1, col_number - 1))
                return
            if row_number > scan.rows:
                scan.rows = row_number
                if row_number > max_rows:
                    raise BadFile(
                        _(
                            "A sheet has values down to row %(row)s; an import reads at most %(limit)s "
                            "rows: split the file and try again."
                        )
                        % {"row": row_number, "limit": max_rows}
                    )
            if col_number > scan.columns:
                scan.columns = col_number
                if col_number > max_columns:
                    raise BadFile(
                        _(
                            "A sheet has values as far right as column %(column)s; an import reads at "
                            "most %(limit)s columns."
                        )
                        % {"column": column_letters(col_number), "limit": max_columns}
                    )
            if scan.rows * scan.columns > max_cells:
                raise _too_many_cells()

    _parse(part, start, end, text)
    return scan


def _parse(part, start, end, text) -> None:
    """Feed an XML part, as a stream, to expat's callbacks (far faster than building elements):
    a DTD, and so any entity, is refused before it is read, and nesting is bounded."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    depth = 0

    def refuse(*args):
        raise _declarations()

    def opened(name, attributes):
        nonlocal depth
        depth += 1
        if depth > MAX_XML_DEPTH:
            raise _damaged()
        start(name, attributes)

    def closed(name):
        nonlocal depth
        depth -= 1
        end(name)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = opened
    parser.EndElementHandler = closed
    parser.CharacterDataHandler = text
    try:
        while chunk := part.read(UNPACK_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except (expat.ExpatError, zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _damaged() from None


def _too_many_cells() -> BadFile:
    return BadFile(
        _(
            "A sheet spans more than %(limit)s cells (rows × columns); an import reads no more: delete "
            "what lies outside the table, or split the file, and try again."
        )
        % {"limit": settings.IMPORT_MAX_CELLS}
    )


def _text_too_long() -> BadFile:
    return BadFile(
        _("A cell holds more than %(limit)s characters, more than Excel allows; the workbook was not read.")
        % {"limit": EXCEL_MAX_TEXT}
    )


def _number(text: str | None, default: int) -> int:
    if text is None:
        return default
    if not text.isdigit() or len(text) > 9:
        raise _damaged()
    return int(text)


def check_shared_strings(archive: zipfile.ZipFile) -> None:
    """A reader keeps every shared text in memory: at most IMPORT_MAX_CELLS of them, each no longer
    than Excel allows, counted as a stream."""
    limit = settings.IMPORT_MAX_CELLS
    count = length = 0
    in_text = False

    def start(name, attributes):
        nonlocal in_text, count, length
        local = name.rpartition(":")[2]
        if local == "t":
            in_text = True
        elif local == "si":
            count += 1
            length = 0
            if count > limit:
                raise BadFile(
                    _("The workbook holds more than %(limit)s different texts; an import reads no more.")
                    % {"limit": limit}
                )

    def text(data):
        nonlocal length
        if in_text:
            length += len(data)
            if length > EXCEL_MAX_TEXT:
                raise _text_too_long()

    def end(name):
        nonlocal in_text
        if name.rpartition(":")[2] == "t":
            in_text = False

    for path in archive.namelist():
        if path.lower().endswith("sharedstrings.xml"):
            with archive.open(path) as part:
                _parse(part, start, end, text)


_last_scan: tuple[tuple, dict] | None = None


def scan_workbook(data: bytes) -> dict[str, SheetScan]:
    """Each sheet's name → what it holds, for a file check_file accepted; BadFile beyond the limits.
    The last workbook's answer is kept: an upload is counted (row_count), then read."""
    global _last_scan
    limits = (settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_COLUMNS, settings.IMPORT_MAX_CELLS)
    key = (hashlib.sha256(data).digest(), limits)
    last = _last_scan
    if last is not None and last[0] == key:
        return last[1]
    archive = zipfile.ZipFile(io.BytesIO(data))
    check_shared_strings(archive)
    scans = {}
    for sheet_name, path in _sheet_paths(archive).items():
        with archive.open(path) as part:
            scans[sheet_name] = scan_sheet(part)
    _last_scan = (key, scans)
    return scans


def column_letters(number: int) -> str:
    """The letters of a 1-based column (16384 → XFD)."""
    letters = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _column_number(reference: str) -> int:
    """The 1-based column of a cell reference (B7 → 2)."""
    col = 0
    for char in reference[:8]:
        if not char.isalpha():
            break
        col = col * 26 + ord(char.upper()) - 64
    return col


def normalise(text: object) -> str:
    """Header or label text compared loosely: NFKC (full-width → half-width), no spaces or line breaks."""
    value = unicodedata.normalize("NFKC", str(text or ""))
    return re.sub(r"\s+", "", value)


def header_matcher(headers: Iterable[tuple[str, str]]) -> Callable[[str], str | None]:
    """A ``match_header`` for ``read_sheet`` from (key, pattern) pairs: the key of the first pattern
    the whole header matches, its brackets read half-width as the patterns write them."""
    compiled = [(key, re.compile(rf"^(?:{pattern})$")) for key, pattern in headers]

    def match(text: str) -> str | None:
        text = text.replace("（", "(").replace("）", ")")
        for key, pattern in compiled:
            if pattern.match(text):
                return key
        return None

    return match


def by_name(objects: Iterable[Any], *, also: str | None = None) -> dict[str, Any]:
    """Objects by their normalised ``name`` and, where it is set, by their ``also`` attribute (an
    alias, a short name), the names files give rows' references. An other name never displaces a
    name or an earlier other name; a later object's name does displace it."""
    found: dict[str, Any] = {}
    for obj in objects:
        found[normalise(obj.name)] = obj
        other = getattr(obj, also) if also else None
        if other:
            found.setdefault(normalise(other), obj)
    return found


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
    # Counted before the reader opens a sheet: it sizes its grid by the cells' extent.
    scans = scan_workbook(data)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (CalamineError, ValueError, OSError) as error:
        message = str(error).lower()
        if "password" in message or "encrypt" in message:
            raise BadFile(
                _("The workbook is protected by a password: save it without one and try again.")
            ) from None
        raise _damaged() from None
    for sheet_name in book.sheet_names:
        scan = scans.get(sheet_name)
        if scan is None:
            continue  # not a worksheet part we counted: never handed to the reader
        try:
            rows = _rows(book.get_sheet_by_name(sheet_name))
            head = list(islice(rows, HEADER_SCAN_ROWS + 1))
        except (CalamineError, ValueError, OSError):
            raise _damaged() from None
        header_at = _find_anchor(head, anchors)
        if header_at is None:
            continue
        try:
            sheet = _read_table(chain(head, rows), header_at, match_header, known_ignored)
        except (CalamineError, ValueError, OSError):
            raise _damaged() from None
        sheet.formula_cells = scan.formula_cells
        return sheet
    raise BadFile(
        _("No sheet has a header row with “%(anchor)s”: is this the right file?") % {"anchor": anchors[0]}
    )


def _rows(sheet) -> Iterator[list]:
    """A sheet's rows from A1, one at a time (the reader leaves out the empty columns on the left)."""
    start = sheet.start
    pad = [""] * start[1] if start else []
    for row in sheet.iter_rows():
        yield pad + row if pad else row


def workbook_rows(data: bytes) -> int:
    """The rows of the workbook's longest sheet, counted from its XML: BadFile if refused."""
    check_file(data)
    return max((scan.rows for scan in scan_workbook(data).values()), default=0)


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


def _read_table(rows: Iterator[list], header_at, match_header, known_ignored) -> Sheet:
    above = list(islice(rows, header_at))
    top = next(rows, [])
    below = next(rows, None)
    has_below = below is not None
    below = below or []
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
    title_text = " ".join(normalise(cell) for row in above for cell in row if cell not in ("", None))
    records = []
    first_data = header_at + 2  # Excel's number of the row below the header
    if has_below and not two_level:
        records.append((first_data, _record(below, columns)))
    for number, row in enumerate(rows, start=header_at + 3):
        records.append((number, _record(row, columns)))
    return Sheet(
        title_text=title_text, headers=headers, rows=records, unknown_headers=unknown, columns=columns
    )


def _record(row: list, columns: dict[str, int]) -> dict[str, object]:
    return {key: (row[col] if col < len(row) else "") for key, col in columns.items()}


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


@dataclass
class RowPlan:
    """What one row of a file will do, as every importer's preview reads it (``PreviewRows``, the
    preview page): its Excel row, its name, its action ("create", "update" or "unchanged") and the
    changes it makes. Each importer's own row plan adds what applying it needs."""

    row: int
    name: str
    action: str
    refs: dict = field(default_factory=dict)  # field → name of a reference object to create
    changes: list[Change] = field(default_factory=list)


def erases(old: object, new: object) -> bool:
    """Whether writing ``new`` over ``old`` sets a figure to zero or clears a value."""
    had_value = old not in (None, "") and not (isinstance(old, int | float | Decimal) and old == 0)
    return had_value and (new in (None, "") or (isinstance(new, int | float | Decimal) and new == 0))


class PreviewRows:
    """A preview's rows by what they will do, and its fingerprint (mixed into each importer's
    preview dataclass, which has ``rows`` and ``errors``)."""

    if TYPE_CHECKING:  # the importer's dataclass declares them
        rows: list[Any]
        errors: list[Issue]

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

    def counts(self) -> dict[str, int]:
        """What ``apply`` returns: how many rows it created, updated and left unchanged."""
        return {"created": len(self.created), "updated": len(self.updated), "unchanged": len(self.unchanged)}

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


def named_lists(labelled: Iterable[tuple[str, list[str]]]) -> list[str]:
    """A preview's notes on the names it will create: a line per label that has any."""
    return [f"{label}：{'、'.join(names)}" for label, names in labelled if names]


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


def ensure_importable(preview, *, confirm_erasures: bool, confirm_warnings: bool) -> None:
    """ValidationError, and nothing written, for a preview with errors, or with figures to clear or
    to check that the user did not confirm (checked in that order)."""
    if preview.errors:
        raise ValidationError(_("The file has rows with errors; nothing was imported."))
    ensure_erasures_confirmed(preview, confirm_erasures)
    ensure_held_confirmed(preview, confirm_warnings)


def history_options(*, user, reason: str, now: datetime.datetime) -> dict[str, Any]:
    """simple-history's bulk helpers' options: every history row of an import carries its user,
    reason and time."""
    return {"default_user": user, "default_change_reason": reason, "default_date": now}


@contextmanager
def database_refusal() -> Iterator[None]:
    """An IntegrityError while writing an import becomes a ValidationError the user can read; the
    caller's transaction rolls every row back."""
    try:
        yield
    except IntegrityError as error:
        raise ValidationError(
            _("The database refused the import (%(error)s); nothing was imported.") % {"error": error}
        ) from None


def create_named(
    model: type, names: Iterable[str], history: dict[str, Any], *, check: Callable[[Any], None] | None = None
) -> dict[str, Any]:
    """The objects a preview listed as new, created by name (each passed to ``check`` first) with
    their history rows, by normalised name as the rows name them."""
    objects = [model(name=name) for name in names]
    if check is not None:
        for obj in objects:
            check(obj)
    return {normalise(obj.name): obj for obj in bulk_create_with_history(objects, model, **history)}


def with_created(data: dict, names: dict[str, str], created: dict[str, dict[str, Any]]) -> dict:
    """A row's values to write, with each field it names a new object for (``names``: field → name)
    set to the object ``created`` holds for that name."""
    data = dict(data)
    for field_name, text in names.items():
        data[field_name] = created[field_name][normalise(text)]
    return data


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

    def parse_cell(self, row: int, raw: dict, key: str, parse: Callable[[object], Any], values: dict) -> None:
        """``values[key]`` set to the cell read by ``parse``, or the BadValue it raises reported."""
        try:
            values[key] = parse(raw[key])
        except BadValue as error:
            self.error(row, key, raw[key], str(error))

    def check_length(self, row: int, key: str, value, text: str, limit: int | None) -> None:
        """An error when ``text``, read from the cell ``value``, is longer than its field takes."""
        if limit and len(text) > limit:
            self.error(row, key, value, _("at most %(limit)s characters") % {"limit": limit})

    def already_on_row(self, seen: dict, target, row: int, key: str, value, message: str) -> bool:
        """Whether ``target`` was on an earlier row (``seen``: target → row); if it was, an error on
        this row naming that one (``message`` has ``%(row)s``)."""
        if target not in seen:
            return False
        self.error(row, key, value, message % {"row": seen[target]})
        return True

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
