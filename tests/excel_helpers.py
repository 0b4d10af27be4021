"""Reading back the workbooks the portal writes, and opening them in LibreOffice.

A download is a streaming response that can be read once: take its bytes with ``workbook_bytes``
when a test needs both the cached values (``read_workbook``) and the formulas (``read_formulas``).
"""

from __future__ import annotations

import datetime
import html
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest

LIBREOFFICE_TIMEOUT = 120  # seconds; a cold start of soffice takes a few


def workbook_bytes(source) -> bytes:
    """The bytes of a workbook from a response (streaming or not), a ``core.excel.Workbook``
    or bytes."""
    if isinstance(source, bytes | bytearray):
        return bytes(source)
    if getattr(source, "streaming", False):
        return b"".join(source.streaming_content)
    if hasattr(source, "content"):
        return source.content
    return source.read()


def read_workbook(source) -> openpyxl.Workbook:
    """The workbook with formulas' cached values, as a reader that does not calculate sees it."""
    return openpyxl.load_workbook(BytesIO(workbook_bytes(source)), data_only=True)


def read_formulas(source) -> openpyxl.Workbook:
    """The workbook with the formulas' text in their cells."""
    return openpyxl.load_workbook(BytesIO(workbook_bytes(source)), data_only=False)


def header_row(ws, first_header: str = "序号") -> int:
    """The (1-based) row holding the table's headers: the first whose first cell is ``first_header``."""
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].value == first_header:
            return row[0].row
    raise AssertionError(f"no header row starting with {first_header} in {ws.title}")


def table(ws, first_header: str = "序号") -> list[dict]:
    """The rows below the headers as dicts by header text (``"group/header"`` under a two-level
    header), each with its row number under ``"_row"``."""
    top = header_row(ws, first_header)
    two_levels = any(
        r.min_row == top and r.max_row == top + 1 and r.min_col == 1 for r in ws.merged_cells.ranges
    )
    keys, group = [], None
    for col in range(1, ws.max_column + 1):
        upper = ws.cell(top, col).value
        lower = ws.cell(top + 1, col).value if two_levels else None
        if not lower:
            keys.append(upper)
            group = None
        else:
            group = upper if upper else group
            keys.append(f"{group}/{lower}")
    first = top + (2 if two_levels else 1)
    rows = []
    for cells in ws.iter_rows(min_row=first, max_row=ws.max_row):
        values = {key: cell.value for key, cell in zip(keys, cells, strict=False) if key}
        values["_row"] = cells[0].row
        rows.append(values)
    return rows


def libreoffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_libreoffice() -> str:
    """LibreOffice's binary; skips the test without it, unless CI_REQUIRE_LIBREOFFICE=1 says it must run."""
    binary = libreoffice()
    if binary is None:
        if os.environ.get("CI_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("CI_REQUIRE_LIBREOFFICE=1 but neither soffice nor libreoffice is on the PATH")
        pytest.skip(
            "LibreOffice (soffice or libreoffice) is not installed: the PDF conversion check needs it"
        )
    return binary


def convert_to_pdf(source, tmp_path: Path, *, name: str = "workbook") -> Path:
    """Convert a workbook (a path, or bytes / a response / a Workbook) to PDF with headless LibreOffice,
    in a private profile so parallel runs and a user's open LibreOffice do not interfere; returns the
    PDF's path after checking it is one."""
    return convert_all_to_pdf({name: source}, tmp_path)[name]


def convert_all_to_pdf(sources: dict, tmp_path: Path) -> dict[str, Path]:
    """Several workbooks (name → as ``convert_to_pdf`` takes) to PDF in one LibreOffice run: it
    starts in a few seconds and then converts each in a fraction of one."""
    binary = require_libreoffice()
    paths = {}
    for name, source in sources.items():
        if isinstance(source, str | Path):
            paths[name] = Path(source)
        else:
            paths[name] = tmp_path / f"{name}.xlsx"
            paths[name].write_bytes(workbook_bytes(source))
    outdir = tmp_path / "pdf"
    outdir.mkdir(exist_ok=True)
    profile = tmp_path / "libreoffice-profile"
    result = subprocess.run(
        [
            binary,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            *(str(path) for path in paths.values()),
        ],
        capture_output=True,
        timeout=LIBREOFFICE_TIMEOUT,
        check=False,
    )
    pdfs = {name: outdir / f"{path.stem}.pdf" for name, path in paths.items()}
    for pdf in pdfs.values():
        assert result.returncode == 0 and pdf.exists(), (result.returncode, result.stdout, result.stderr)
        assert pdf.read_bytes().startswith(b"%PDF"), f"{pdf} is not a PDF"
    return pdfs


# --- Reading a printed workbook back ---------------------------------------------------------


def require_poppler() -> None:
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("CI_REQUIRE_LIBREOFFICE=1 but pdftotext (poppler-utils) is not on the PATH")
        pytest.skip("pdftotext (poppler-utils) is not installed: reading the PDF needs it")


def squeeze(text: str) -> str:
    """Text without blanks: a cell's text wrapped over lines reads whole."""
    return re.sub(r"\s+", "", text)


def pdf_pages(pdf: Path) -> list[str]:
    """Each page's text in the order LibreOffice drew it (a cell's lines one after another, where
    reading order would interleave the lines of cells side by side), squeezed."""
    require_poppler()
    text = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    return [squeeze(page) for page in text.split("\f")[:-1]]


@dataclass(frozen=True)
class Word:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


def pdf_words(pdf: Path) -> list[Word]:
    """Every word (a run of text without blanks) with its box, in points."""
    require_poppler()
    xhtml = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    words, page = [], 0
    for line in xhtml.splitlines():
        if "<page " in line:
            page += 1
        found = WORD.search(line)
        if found:
            x0, y0, x1, y1, text = found.groups()
            words.append(Word(page, float(x0), float(y0), float(x1), float(y1), html.unescape(text)))
    return words


WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>')


def overlapping_words(words: list[Word], tolerance: float = 1.5) -> list[tuple[Word, Word]]:
    """Pairs of words printed over each other (boxes crossing by more than ``tolerance`` points each
    way): a row too short for its wrapped text, whose lines run over the next row's."""
    found = []
    ordered = sorted(words, key=lambda w: (w.page, w.y0))
    for index, word in enumerate(ordered):
        for other in ordered[index + 1 :]:
            if other.page != word.page or other.y0 > word.y1 - tolerance:
                break
            crossing_x = min(word.x1, other.x1) - max(word.x0, other.x0)
            crossing_y = min(word.y1, other.y1) - max(word.y0, other.y0)
            if crossing_x > tolerance and crossing_y > tolerance:
                found.append((word, other))
    return found


def shown_texts(workbook) -> list[tuple[str, str]]:
    """(sheet, text) for every cell with a value, as the cell's number format shows it (amounts
    with thousands separators and two decimals, rates as percentages, dates as yyyy-mm-dd)."""
    texts = []
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                text = _shown(cell.value, cell.number_format)
                if text:
                    texts.append((ws.title, text))
    return texts


def _shown(value, number_format: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, int | float):
        if number_format == "0.00%":
            return f"{value * 100:.2f}%"
        if number_format == "#,##0.00":
            return f"{value:,.2f}"
        if number_format == "#,##0":
            return f"{value:,.0f}"
        return f"{value:g}"
    return str(value)
