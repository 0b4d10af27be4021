"""Reading back the workbooks the portal writes, and opening them in LibreOffice.

A download is a streaming response that can be read once: take its bytes with ``workbook_bytes``
when a test needs both the cached values (``read_workbook``) and the formulas (``read_formulas``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest

LIBREOFFICE_TIMEOUT = 120  # seconds; a cold start of soffice takes a few


def workbook_bytes(source) -> bytes:
    """The bytes of a workbook from a response (streaming or not), a ``zone_portal.excel.Workbook``
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
    binary = require_libreoffice()
    if isinstance(source, str | Path):
        path = Path(source)
    else:
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(workbook_bytes(source))
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
            str(path),
        ],
        capture_output=True,
        timeout=LIBREOFFICE_TIMEOUT,
        check=False,
    )
    pdf = outdir / f"{path.stem}.pdf"
    assert result.returncode == 0 and pdf.exists(), (result.returncode, result.stdout, result.stderr)
    assert pdf.read_bytes().startswith(b"%PDF"), f"{pdf} is not a PDF"
    return pdf
