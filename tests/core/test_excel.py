"""The shared workbook writer: the fast worksheet writes the XML xlsxwriter writes, text stays text."""

import datetime
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from core.excel import Column, LedgerWorksheet, Workbook, display_width

SAMPLES = [
    ("string", "周口经济开发区"),
    ("string", "  leading and trailing  "),
    ("string", "a & b < c > d \"quoted\" 'single'"),
    ("string", "control\x01char and _x0041_ literal"),
    ("string", "line one\nline two"),
    ("string", "=SUM(A1:A2)"),
    ("number", 1234567.891),
    ("number", 0.3110),
    ("number", -5),
    ("blank", None),
    ("formula", '=SUMIFS(B1:B9,$A$1:$A$9,">0")'),
    ("formula", '=IF(C2>0,D2/C2,"")'),
]


def sheet_xml(worksheet_class, tmp_path, *, constant_memory=True) -> str:
    path = tmp_path / f"{worksheet_class.__name__}-{constant_memory}.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory, "tmpdir": str(tmp_path)})
    ws = book.add_worksheet("s", worksheet_class=worksheet_class)
    fmt = book.add_format({"border": 1, "num_format": "#,##0.00"})
    for row, (kind, value) in enumerate(SAMPLES):
        if kind == "string":
            ws.write_string(row, 0, value, fmt)
        elif kind == "number":
            ws.write_number(row, 0, value, fmt)
        elif kind == "blank":
            ws.write_blank(row, 0, None, fmt)
        else:
            ws.write_formula(row, 0, value, fmt, 12.5 if "SUMIFS" in value else "")
        ws.write_string(row, 1, "no format")  # falls back to xlsxwriter's own writer
    book.close()
    return zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()


@pytest.mark.parametrize("constant_memory", [True, False])
def test_fast_worksheet_writes_the_same_xml_as_xlsxwriter(tmp_path, constant_memory):
    ours = sheet_xml(LedgerWorksheet, tmp_path, constant_memory=constant_memory)
    assert ours == sheet_xml(Worksheet, tmp_path, constant_memory=constant_memory)
    assert ours.count("<c ") == 2 * len(SAMPLES)


def test_rich_text_lookalikes_and_formula_lookalikes_stay_text():
    with Workbook() as book:
        sheet = book.add_sheet("测试")
        fmt = book.formats["plain"]["text"]
        for row, text in enumerate(["<r><t>x</t></r>", '=HYPERLINK("http://x","y")', "+1", "-1", "@A1"]):
            sheet.cell(row, 0, text, fmt)
        data = book.read()
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    values = [(c.value, c.data_type) for c in ws["A"]]
    assert values == [
        ("<r><t>x</t></r>", "s"),
        ('=HYPERLINK("http://x","y")', "s"),
        ("+1", "s"),
        ("-1", "s"),
        ("@A1", "s"),
    ]


def test_cells_keep_their_types_and_sheet_names_are_made_legal():
    with Workbook() as book:
        sheet = book.add_sheet("按园区/按单位[汇总]*很长很长很长很长很长很长很长很长很长很长")
        sheet.columns = [Column("a", "甲")]
        fmt = book.formats["plain"]["money"]
        values = [Decimal("1.25"), 7, True, datetime.date(2024, 3, 1), "", None]
        for row, value in enumerate(values):
            sheet.cell(row, 0, value, fmt)
        data = book.read()
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws.title == "按园区 按单位 汇总  很长很长很长很长很长很长很长很长很长很长"[:31]
    # The date under a money format reads back as its serial number: 1 March 2024 is day 45352.
    assert [c.value for c in ws["A"]][:4] == [1.25, 7, "是", 45352]


def test_display_width_counts_chinese_as_two():
    assert display_width("合计") == 4 and display_width("ab") == 2 and display_width("1—9月") == 6
