"""Writing the workbooks leaders take to meetings: shared layout, formats and the download.

Workbooks are written with xlsxwriter in constant-memory mode into a temporary file, so a
50,000-row ledger never sits in memory as a whole (openpyxl was 2× slower, see the Excel
issue's measurements). Constant-memory mode writes row by row: every sheet here is written
top to bottom, and merged header cells are registered without writing out of order.

Text always goes through ``write_string``, never ``write``: a project called ``=HYPERLINK(…)``
stays text in Excel (no formula injection), and a number stays a number.

Printing: every sheet prints legibly on its paper from Excel and LibreOffice. Text wraps in its
column and each row is written as tall as its longest text needs (neither application grows a
written row by itself: LibreOffice draws the lines over the next rows). A sheet is printed at a
fixed scale, never below ``MIN_PRINT_SCALE`` percent: a sheet too wide for one page at that scale
goes over several pages across, cut between columns, with its key columns (序号, name …) and its
header rows repeated on each; see ``print_layout``.
"""

from __future__ import annotations

import datetime
import math
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.conf import settings
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from xlsxwriter.utility import _preserve_whitespace, xl_col_to_name, xl_range, xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import (
    CellBlankTuple,
    CellFormulaTuple,
    CellNumberTuple,
    CellStringTuple,
    Worksheet,
)

MAX_CELL_TEXT = 32_767  # Excel's limit for one cell

# Number formats as Chinese ledgers print them.
MONEY_FORMAT = "#,##0.00"
RATE_FORMAT = "0.00%"
COUNT_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd"

KINDS = ("text", "wrap", "money", "rate", "count", "date", "center")

# Printing (see the module's docstring).
MIN_PRINT_SCALE = 70  # percent: smaller type is unreadable on paper
LINE_HEIGHT = 13.5  # points a line of 10-point 宋体 takes in a row
ROW_PADDING = 3  # points above and below a row's lines
MAX_ROW_HEIGHT = 409  # points, Excel's limit
MARGIN_SIDE = 0.4  # inches, left and right
MARGIN_TOP = 0.6  # inches, top and bottom


@dataclass(frozen=True)
class Paper:
    """A paper size as a sheet is printed on it: Excel's paper code, its width across in millimetres
    (the long side in landscape) and its orientation."""

    code: int
    across_mm: float
    landscape: bool


A3_LANDSCAPE = Paper(8, 420, True)
A4_LANDSCAPE = Paper(9, 297, True)
A4_PORTRAIT = Paper(9, 210, False)


_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")


class LedgerWorksheet(Worksheet):
    """xlsxwriter's worksheet with a leaner inner loop for the cells ledgers are made of.

    Measured on a 10,000-row ledger, xlsxwriter's generic cell serialiser and its formula
    preparation (29 regular-expression passes per formula, for Excel 365 function names we never
    use) were half the export time. Cells with a format are written here with the same XML;
    anything else goes to xlsxwriter. One difference on purpose: a text that looks like
    ``<r>…</r>`` is escaped as text, where xlsxwriter's constant-memory mode would copy it into
    the file as raw rich-text XML. tests/core/test_excel.py compares the output with
    xlsxwriter's own.
    """

    def _write_cell(self, row, col, cell):
        kind = type(cell)
        fmt = cell.format
        if fmt is None or kind not in _FAST_KINDS:
            return super()._write_cell(row, col, cell)
        head = f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{fmt._get_xf_index()}"'
        if kind is CellNumberTuple:
            self.fh.write(f"{head}><v>{cell.number:.16G}</v></c>")
        elif kind is CellStringTuple:
            if not self.constant_memory:  # a shared-string index, not the text
                return super()._write_cell(row, col, cell)
            text = cell.string
            if _NEEDS_ESCAPE.search(text):
                text = self._escape_data(self._escape_control_characters(text))
            space = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
            self.fh.write(f'{head} t="inlineStr"><is><t{space}>{text}</t></is></c>')
        elif kind is CellBlankTuple:
            self.fh.write(f"{head}/>")
        else:
            value = cell.value
            if isinstance(value, bool) or (isinstance(value, str) and value):
                return super()._write_cell(row, col, cell)
            self.fh.write(f"{head}><f>{self._escape_data(cell.formula)}</f><v>{value}</v></c>")
        return None

    def write_plain_formula(self, row: int, col: int, formula: str, fmt, value) -> None:
        """A formula of classic functions only (SUMIFS, IF, + …), without the Excel 365 renaming pass."""
        if self._check_dimensions(row, col):
            return
        if row > self.previous_row:
            self._write_single_row(row)
        self.table[row][col] = CellFormulaTuple(formula.removeprefix("="), fmt, value)


_FAST_KINDS = (CellNumberTuple, CellStringTuple, CellBlankTuple, CellFormulaTuple)


def display_width(text: str) -> int:
    """Columns a text takes in Excel: Chinese (wide) characters count two."""
    # Ambiguous-width characters (—, ×, ①) are wide in Chinese fonts too.
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in str(text))


def text_lines(text: str, width: float) -> int:
    """Lines a text wraps to in a column ``width`` characters wide, a little generously (each
    paragraph of its own, a wide character two columns, a column of padding). GB 18030 counts a
    Chinese character two bytes and a Latin one one, as ``display_width`` does, at C speed: this
    runs for every long text of a 50,000-row ledger."""
    usable = max(width - 1, 1)
    if "\n" not in text:
        return max(1, math.ceil(len(text.encode("gb18030")) / usable))
    return sum(max(1, math.ceil(len(line.encode("gb18030")) / usable)) for line in text.split("\n"))


def row_height(lines: int) -> float:
    return min(lines * LINE_HEIGHT + ROW_PADDING, MAX_ROW_HEIGHT)


def column_mm(width: float) -> float:
    """A column's printed width at 100 %: Excel's pixels for ``width`` characters of its default font
    (Calibri 11: 7 pixels a character and 5 of padding), at 96 pixels an inch."""
    pixels = int(width * 7 + 0.5) + 5 if width >= 1 else int(width * 12 + 0.5)
    return pixels * 25.4 / 96


@dataclass(frozen=True)
class PrintLayout:
    """How a sheet prints across: at ``scale`` percent, each page holding the columns
    ``pages[i]`` (first, last), after the key columns repeated on every page but the first."""

    scale: int
    pages: tuple[tuple[int, int], ...]


def print_layout(
    widths: Sequence[float],
    *,
    paper: Paper,
    key_columns: int = 0,
    groups: Sequence[str | None] = (),
) -> PrintLayout:
    """The fewest pages across at no less than ``MIN_PRINT_SCALE`` percent, and the largest scale
    that keeps to them (at most 100 %). Pages are cut between columns, where Excel and LibreOffice
    are told to (manual breaks), not inside a group of columns under one upper header (``groups``,
    one per column) unless the group alone is wider than a page; with leeway for LibreOffice, whose
    columns come out a few percent wider than Excel's."""
    printable = (paper.across_mm - 2 * MARGIN_SIDE * 25.4) * 0.93
    widths_mm = [column_mm(width) for width in widths]
    key_mm = sum(widths_mm[:key_columns])
    groups = list(groups) or [None] * len(widths_mm)
    # A page may start at a column that does not continue its left neighbour's group.
    starts = [i == 0 or groups[i] is None or groups[i] != groups[i - 1] for i in range(len(widths_mm))]

    def pages_at(scale: int) -> tuple[tuple[int, int], ...]:
        room = printable * 100 / scale
        pages, first, used, index = [], 0, 0.0, 0
        while index < len(widths_mm):
            if index > first and index >= key_columns and used + widths_mm[index] > room:
                cut = next((i for i in range(index, first, -1) if starts[i] and i >= key_columns), index)
                pages.append((first, cut - 1))
                first, used, index = cut, key_mm, cut
            used += widths_mm[index]
            index += 1
        pages.append((first, len(widths_mm) - 1))
        return tuple(pages)

    fewest = len(pages_at(MIN_PRINT_SCALE))
    scale = next(s for s in range(100, MIN_PRINT_SCALE - 1, -1) if len(pages_at(s)) == fewest)
    return PrintLayout(scale=scale, pages=pages_at(scale))


@dataclass(frozen=True)
class Formula:
    """A cell formula with the value it comes to; ``{row}`` in ``text`` is the cell's own row (1-based)."""

    text: str
    cached: object


@dataclass
class Column:
    """One column of a table sheet.

    ``group`` is the upper header spanning consecutive columns that share it (a two-level
    header); ``value`` reads the cell from a row object; ``total`` says how subtotal and total
    rows fill the column: ``"sum"`` (a SUMIFS over the data rows) or ``"ratio"`` with
    ``ratio_of`` naming the numerator and denominator columns' keys.
    """

    key: str
    header: str
    kind: str = "text"
    width: float | None = None
    group: str | None = None
    value: Callable[[Any], Any] | None = None
    total: str | None = None
    ratio_of: tuple[str, str] | None = None
    ratio_filter: str | None = None  # only denominator rows > 0 count in the numerator

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind}")


class Workbook:
    """An xlsxwriter workbook in a temporary file, with the house formats.

    Use as ``with Workbook() as book: …; return book.response("台账.xlsx")``.
    """

    def __init__(self):
        self.file = tempfile.TemporaryFile(prefix="zone-portal-", suffix=".xlsx")
        self.book = xlsxwriter.Workbook(
            self.file,
            {
                "constant_memory": True,
                "tmpdir": tempfile.gettempdir(),
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "default_date_format": DATE_FORMAT,
            },
        )
        self.book.set_properties(
            {"title": "", "company": settings.ZONE_NAME, "created": timezone.now().replace(tzinfo=None)}
        )
        self.formats = self._formats()
        self._closed = False

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.file.close()
        return False

    def _formats(self) -> dict[str, Any]:
        base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter", "border": 1}
        add = self.book.add_format
        # Every text wraps: a text wider than its column is never cut off by the next cell.
        plain = {
            "text": add({**base, "text_wrap": True}),
            "wrap": add({**base, "text_wrap": True}),
            "center": add({**base, "align": "center", "text_wrap": True}),
            "money": add({**base, "num_format": MONEY_FORMAT}),
            "rate": add({**base, "num_format": RATE_FORMAT}),
            "count": add({**base, "num_format": COUNT_FORMAT}),
            "date": add({**base, "num_format": DATE_FORMAT, "align": "center"}),
        }
        bold = {**base, "bold": True, "bg_color": "#F2F2F2"}
        totals = {
            "text": add({**bold, "text_wrap": True}),
            "wrap": add({**bold, "text_wrap": True}),
            "center": add({**bold, "align": "center", "text_wrap": True}),
            "money": add({**bold, "num_format": MONEY_FORMAT}),
            "rate": add({**bold, "num_format": RATE_FORMAT}),
            "count": add({**bold, "num_format": COUNT_FORMAT}),
            "date": add({**bold, "num_format": DATE_FORMAT}),
        }
        return {
            "plain": plain,
            "total": totals,
            "title": add(
                {"font_name": "黑体", "font_size": 16, "bold": True, "align": "center", "valign": "vcenter"}
            ),
            "subtitle": add({"font_name": "宋体", "font_size": 10, "valign": "vcenter"}),
            "subtitle_right": add(
                {"font_name": "宋体", "font_size": 10, "align": "right", "valign": "vcenter"}
            ),
            "header": add(
                {
                    **base,
                    "bold": True,
                    "align": "center",
                    "text_wrap": True,
                    "bg_color": "#DDEBF7",
                }
            ),
            "red": add({**base, "font_color": "#C00000", "bold": True, "align": "center", "text_wrap": True}),
            "yellow": add({**base, "bg_color": "#FFEB9C", "align": "center", "text_wrap": True}),
        }

    def add_sheet(
        self,
        name: str,
        *,
        columns: Sequence[Column] = (),
        paper: Paper = A3_LANDSCAPE,
        key_columns: int = 0,
    ) -> Sheet:
        """A sheet printed on ``paper``; when it takes several pages across, its first
        ``key_columns`` are repeated on each. Give ``columns`` when a title comes before the header,
        so the title is centred on the first page rather than across all of them."""
        # Excel sheet names: at most 31 characters, none of []:*?/\
        clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in name)[:31]
        ws = self.book.add_worksheet(clean, worksheet_class=LedgerWorksheet)
        return Sheet(self, ws, columns=list(columns), paper=paper, key_columns=key_columns)

    def close(self) -> None:
        if not self._closed:
            self.book.close()
            self._closed = True
            self.file.seek(0)

    def response(self, filename: str) -> FileResponse:
        """The finished workbook as a download, streamed from its temporary file."""
        self.close()
        return FileResponse(
            self.file,
            as_attachment=True,
            filename=filename,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )

    def read(self) -> bytes:
        """The finished workbook's bytes (for commands and tests)."""
        self.close()
        data = self.file.read()
        self.file.seek(0)
        return data


@dataclass
class Sheet:
    """A worksheet written top to bottom; ``row`` is the next row to write."""

    workbook: Workbook
    ws: Any
    row: int = 0
    columns: list[Column] = field(default_factory=list)
    first_data_row: int | None = None
    header_rows: tuple[int, int] | None = None
    paper: Paper = A3_LANDSCAPE
    key_columns: int = 0
    _widths: list[float] = field(default_factory=list)  # set by header()
    # Widths a total row's figures need (column index → characters), applied by finish().
    _number_widths: dict[int, int] = field(default_factory=dict)

    @property
    def formats(self):
        return self.workbook.formats

    def widths(self) -> list[float]:
        """The columns' widths in characters, as header() sets them."""
        return [column.width or max(display_width(column.header) + 2, 8) for column in self.columns]

    def layout(self) -> PrintLayout:
        return print_layout(
            self.widths(),
            paper=self.paper,
            key_columns=self.key_columns,
            groups=[column.group for column in self.columns],
        )

    def span_last(self, width: int) -> int:
        """The last column of a title or note line over ``width`` columns: within the first page
        when the sheet prints over several pages across, so it is centred where it is read."""
        if not self.columns:
            return width - 1
        return min(width - 1, self.layout().pages[0][1])

    def text_height(self, values: Sequence[tuple[Any, float]]) -> float | None:
        """The height a row needs for its (value, column width) pairs, or None when one line will do."""
        lines = 1
        for value, width in values:
            if type(value) is str and ("\n" in value or len(value) * 2 > width - 1):
                lines = max(lines, text_lines(value, width))
        return row_height(lines) if lines > 1 else None

    def fit_row(self, row: int, values: Sequence[Any]) -> None:
        """Make ``row`` as tall as its texts (``values`` in column order) need when they wrap."""
        height = self.text_height(list(zip(values, self._widths, strict=False)))
        if height is not None:
            self.ws.set_row(row, height)

    def col_index(self, key: str) -> int:
        for index, column in enumerate(self.columns):
            if column.key == key:
                return index
        raise KeyError(key)

    def cell(self, row: int, col: int, value: Any, fmt=None) -> None:
        """Write one value as what it is: text as text, amounts and rates as numbers, dates as dates."""
        # xlsxwriter's underscored writers skip the public methods' argument parsing: this is
        # the innermost loop of a 50,000-row ledger.
        ws = self.ws
        kind = type(value)
        if kind is str:
            if value:
                ws._write_string(row, col, value[:MAX_CELL_TEXT], fmt)
            else:
                ws._write_blank(row, col, None, fmt)
        elif kind is Decimal or kind is int or kind is float:
            ws._write_number(row, col, float(value), fmt)
        elif value is None:
            ws._write_blank(row, col, None, fmt)
        elif kind is Formula:
            cached = value.cached
            cached = "" if cached is None else float(cached) if isinstance(cached, Decimal | int) else cached
            ws.write_plain_formula(row, col, value.text.format(row=row + 1), fmt, cached)
        elif kind is bool:
            ws._write_string(row, col, "是" if value else "否", fmt)
        elif kind is datetime.date:
            # Excel dates have no time zone: a calendar day is written as its naive midnight.
            day = datetime.datetime(value.year, value.month, value.day)  # noqa: DTZ001
            ws._write_datetime(row, col, day, fmt)
        elif isinstance(value, datetime.datetime):
            ws._write_datetime(row, col, timezone.localtime(value).replace(tzinfo=None), fmt)
        elif isinstance(value, Decimal | int | float):
            ws._write_number(row, col, float(value), fmt)
        else:
            text = str(value)
            if text:
                ws._write_string(row, col, text[:MAX_CELL_TEXT], fmt)
            else:
                ws._write_blank(row, col, None, fmt)

    def merged(self, first_row, first_col, last_row, last_col, value, fmt) -> None:
        """A merged cell on the current row (one row high): constant memory allows no more."""
        if first_row != last_row:
            raise ValueError("use header() for merges spanning rows")
        if first_col == last_col:
            self.cell(first_row, first_col, value, fmt)
        else:
            self.ws.merge_range(first_row, first_col, last_row, last_col, "", fmt)
            self.cell(first_row, first_col, value, fmt)

    def title(self, text: str, *, left: str = "", right: str = "", width: int | None = None) -> None:
        """A merged title row, then a row with the reporting period (left) and the unit (right)."""
        last = self.span_last(width or len(self.columns) or 8)
        self.ws.set_row(self.row, 30)
        self.merged(self.row, 0, self.row, last, text, self.formats["title"])
        self.row += 1
        if left or right:
            middle = max(last // 2, 0)
            if middle > 0:
                self.merged(self.row, 0, self.row, middle, left, self.formats["subtitle"])
            else:
                self.cell(self.row, 0, left, self.formats["subtitle"])
            if last > middle:
                self.merged(self.row, middle + 1, self.row, last, right, self.formats["subtitle_right"])
            self.row += 1

    def header(self, columns: Sequence[Column]) -> None:
        """The column headers: one row, or two when any column has a ``group``.

        A grouped column's group is merged across its neighbours with the same group; an
        ungrouped column's header is merged over both rows."""
        self.columns = list(columns)
        two_rows = any(c.group for c in self.columns)
        top = self.row
        fmt = self.formats["header"]
        self._widths = self.widths()
        for index, width in enumerate(self._widths):
            self.ws.set_column(index, index, width)
        headers = [(column.header, width) for column, width in zip(self.columns, self._widths, strict=True)]
        header_height = max(32, self.text_height(headers) or 0)
        if not two_rows:
            for index, column in enumerate(self.columns):
                self.cell(top, index, column.header, fmt)
            self.ws.set_row(top, header_height)
            self.row = top + 1
        else:
            cells: dict[tuple[int, int], str] = {}
            index = 0
            while index < len(self.columns):
                column = self.columns[index]
                if column.group:
                    end = index
                    while end + 1 < len(self.columns) and self.columns[end + 1].group == column.group:
                        end += 1
                    cells[top, index] = column.group
                    for c in range(index + 1, end + 1):
                        cells[top, c] = ""
                    if end > index:
                        self._register_merge(top, index, top, end)
                    for c in range(index, end + 1):
                        cells[top + 1, c] = self.columns[c].header
                    index = end + 1
                else:
                    cells[top, index] = column.header
                    cells[top + 1, index] = ""
                    self._register_merge(top, index, top + 1, index)
                    index += 1
            self.ws.set_row(top, 24)
            self.ws.set_row(top + 1, header_height)
            for r, c in sorted(cells):
                self.cell(r, c, cells[r, c], fmt)
            self.row = top + 2
        self.header_rows = (top, self.row - 1)
        self.first_data_row = self.row

    def _register_merge(self, first_row, first_col, last_row, last_col) -> None:
        # xlsxwriter's merge_range writes the blank cells of the lower row at once, which in
        # constant-memory mode would flush the upper row before the rest of it is written; the
        # header's cells are written in order by header() instead.
        self.ws.merge.append([first_row, first_col, last_row, last_col])
        cell_range = xl_range(first_row, first_col, last_row, last_col)
        for r in range(first_row, last_row + 1):
            for c in range(first_col, last_col + 1):
                self.ws.merged_cells[(r, c)] = cell_range

    def data_row(self, obj, *, values: dict[str, Any] | None = None, fmt_kind: str = "plain") -> int:
        """Write one row of the table from ``obj`` through the columns' ``value``; returns its index."""
        formats = self.formats[fmt_kind]
        row = self.row
        cell = self.cell
        lines = 1
        for index, column in enumerate(self.columns):
            if values and column.key in values:
                value = values[column.key]
            elif column.value is not None:
                value = column.value(obj)
            else:
                value = None
            cell(row, index, value, formats[column.kind])
            if type(value) is str and ("\n" in value or len(value) * 2 > self._widths[index] - 1):
                lines = max(lines, text_lines(value, self._widths[index]))
        if lines > 1:
            self.ws.set_row(row, row_height(lines))
        self.row += 1
        counter = _row_counter.get()
        if counter is not None:
            counter()
        return row

    def rows(self, objects: Iterable) -> int:
        count = 0
        for obj in objects:
            self.data_row(obj)
            count += 1
        return count

    def total_row(
        self,
        *,
        label: str,
        label_key: str,
        first: int,
        last: int | None = None,
        cached: dict[str, Any],
        marker_key: str = "seq",
        extra: dict[str, Any] | None = None,
    ) -> int:
        """A subtotal or total row over data rows ``first``–``last`` (0-based, inclusive; by
        default up to the row above).

        Sums are ``SUMIFS(column, marker column, ">0")``: only rows whose marker (the 序号
        column) is a number count, so subtotal rows inside the range are never added twice.
        ``cached`` holds the values the formulas must come to (from the figures module), written
        as the cells' cached results so a reader that does not calculate sees the same figure.
        """
        formats = self.formats["total"]
        last = self.row - 1 if last is None else last
        marker = self.col_index(marker_key)
        marker_range = _abs_col_range(marker, first, last)
        extra = extra or {}
        self.fit_row(self.row, [label if column.key == label_key else None for column in self.columns])
        for index, column in enumerate(self.columns):
            if column.total == "sum" and column.kind == "money":
                # A sum outgrows the rows' figures: "#,##0.00" with a digit to spare.
                digits = len(f"{_number(cached.get(column.key)):,.2f}") + 3
                self._number_widths[index] = max(self._number_widths.get(index, 0), digits)
            fmt = formats[column.kind]
            if column.key == label_key:
                self.cell(self.row, index, label, fmt)
            elif column.key in extra:
                self.cell(self.row, index, extra[column.key], fmt)
            elif column.total == "sum":
                formula = f'=SUMIFS({xl_range(first, index, last, index)},{marker_range},">0")'
                self.ws.write_plain_formula(self.row, index, formula, fmt, _number(cached.get(column.key)))
            elif column.total == "ratio" and column.ratio_of:
                num, den = (self.col_index(k) for k in column.ratio_of)
                num_range = xl_range(first, num, last, num)
                den_range = xl_range(first, den, last, den)
                numerator = f'SUMIFS({num_range},{marker_range},">0",{den_range},">0")'
                denominator = f'SUMIFS({den_range},{marker_range},">0")'
                formula = f'=IF({denominator}>0,{numerator}/{denominator},"")'
                value = cached.get(column.key)
                self.ws.write_plain_formula(
                    self.row, index, formula, fmt, "" if value is None else _number(value)
                )
            else:
                self.cell(self.row, index, None, fmt)
        self.row += 1
        return self.row - 1

    def finish(self, *, freeze_cols: int = 0) -> None:
        """Frozen header, and the print set-up (``print_layout``): the sheet's paper, a scale no
        smaller than MIN_PRINT_SCALE, pages across cut between columns with the key columns and
        the header rows on each, page numbers."""
        ws = self.ws
        for index, width in self._number_widths.items():
            if width > self._widths[index]:
                self.columns[index].width = width
                ws.set_column(index, index, width)
        if self.header_rows:
            ws.freeze_panes(self.header_rows[1] + 1, freeze_cols)
            ws.repeat_rows(0, self.header_rows[1])
        if self.paper.landscape:
            ws.set_landscape()
        else:
            ws.set_portrait()
        ws.set_paper(self.paper.code)
        layout = self.layout()
        ws.set_print_scale(layout.scale)
        if len(layout.pages) > 1:
            ws.set_v_pagebreaks([first for first, _ in layout.pages[1:]])
            if self.key_columns:
                ws.repeat_columns(0, self.key_columns - 1)
            ws.print_across()  # a page's rows, then the same rows' other columns
        ws.set_margins(left=MARGIN_SIDE, right=MARGIN_SIDE, top=MARGIN_TOP, bottom=MARGIN_TOP)
        ws.set_footer("&C第 &P 页，共 &N 页")


def _abs_col_range(col: int, first: int, last: int) -> str:
    name = xl_col_to_name(col)
    return f"${name}${first + 1}:${name}${last + 1}"


def _number(value) -> float:
    return float(value or 0)


# Set by a background export (core.tasks) around the writing, to report its progress.
_row_counter: ContextVar[Callable[[], None] | None] = ContextVar("excel_row_counter", default=None)


@contextmanager
def counting_rows(report: Callable[[int], None]) -> Iterator[None]:
    """Call ``report(n)`` after each table row ``Sheet.data_row`` writes inside the block, n the
    rows written so far: how a background export moves its progress bar without every workbook
    function taking a callback."""
    written = 0

    def counter() -> None:
        nonlocal written
        written += 1
        report(written)

    token = _row_counter.set(counter)
    try:
        yield
    finally:
        _row_counter.reset(token)


def too_many_rows(count: int) -> str | None:
    """Why a download of ``count`` rows is refused, or None: one synchronous download writes at
    most ``EXCEL_EXPORT_MAX_ROWS`` rows."""
    limit = settings.EXCEL_EXPORT_MAX_ROWS
    if count <= limit:
        return None
    return _("%(count)s rows are more than one download holds (%(limit)s): narrow the filters.") % {
        "count": count,
        "limit": limit,
    }


def period_label(year: int, month: int) -> str:
    """How ledgers name the reporting period: 2023年1—9月."""
    return f"{year}年1—{month}月" if month > 1 else f"{year}年1月"


OFFICIAL_LANGUAGE = "zh-hans"
# --- Layout shared by the project reports --------------------------------------------------


def heading(sheet: Sheet, *, title: str, left: str, right: str, note: str, width: int) -> None:
    """Title, a period/unit line and a wrapped note line, each merged across ``width`` columns."""
    sheet.title(title, left=left, right=right, width=width)
    formats = sheet.formats
    if "note" not in formats:
        formats["note"] = sheet.workbook.book.add_format(
            {"font_name": "宋体", "font_size": 9, "valign": "vcenter", "text_wrap": True}
        )
    last = sheet.span_last(width)
    spanned = sum(sheet.widths()[: last + 1]) if sheet.columns else 8 * width
    sheet.ws.set_row(sheet.row, max(30, sheet.text_height([(note, spanned)]) or 0))
    sheet.merged(sheet.row, 0, sheet.row, last, note, formats["note"])
    sheet.row += 1


def styled_row(sheet: Sheet, values: dict[str, Any], styles: dict[str, Any] | None = None) -> int:
    """A data row from ``values`` by column key; ``styles`` replaces the format of some cells
    (a red flag in red). Written left to right on the current row, as constant memory wants."""
    styles = styles or {}
    plain = sheet.formats["plain"]
    sheet.fit_row(sheet.row, [values.get(column.key) for column in sheet.columns])
    for index, column in enumerate(sheet.columns):
        sheet.cell(sheet.row, index, values.get(column.key), styles.get(column.key) or plain[column.kind])
    sheet.row += 1
    return sheet.row - 1
