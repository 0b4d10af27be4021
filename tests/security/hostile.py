"""A corpus of hostile files, generated in code (no binary blobs): workbooks that declare or hold
far more than they weigh, zip bombs whose headers tell the truth or lie, XXE and entity bombs
hidden after a long comment, files under another type's name, polyglots, deep nesting, and
images whose header promises more pixels than a worker can hold.

Each builder returns bytes; CORPUS names them with the file name an attacker would upload. Its
sizes are meant for the lowered limits tests/security/test_hostile_files.py runs with (100,000
cells, 32 MB unpacked), so that a file beyond them stays quick to build.
"""

from __future__ import annotations

import binascii
import io
import struct
import zipfile
import zlib

from PIL import Image

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET = f"{DOC_RELS}/worksheet"
HEADER = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _content_types() -> bytes:
    return (
        HEADER + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    ).encode()


def workbook_parts(sheet: str | bytes, *, shared: str | bytes | None = None) -> dict[str, bytes]:
    """The parts of a one-sheet workbook whose sheet XML is ``sheet`` (and shared strings ``shared``)."""
    workbook = (
        HEADER + f'<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets>'
        '<sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    relationships = f'<Relationship Id="rId1" Type="{WORKSHEET}" Target="worksheets/sheet1.xml"/>'
    if shared is not None:
        relationships += (
            f'<Relationship Id="rId2" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
        )
    parts = {
        "[Content_Types].xml": _content_types(),
        "_rels/.rels": (
            HEADER + f'<Relationships xmlns="{RELS}">'
            f'<Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ).encode(),
        "xl/workbook.xml": workbook.encode(),
        "xl/_rels/workbook.xml.rels": (
            HEADER + f'<Relationships xmlns="{RELS}">{relationships}</Relationships>'
        ).encode(),
        "xl/worksheets/sheet1.xml": sheet if isinstance(sheet, bytes) else sheet.encode(),
    }
    if shared is not None:
        parts["xl/sharedStrings.xml"] = shared if isinstance(shared, bytes) else shared.encode()
    return parts


def zipped(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def sheet_xml(cells: str, *, before: str = "", dimension: str = "") -> str:
    """A worksheet whose sheetData is ``cells`` (rows of <c> elements)."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'{HEADER}<worksheet xmlns="{MAIN}">{before}{dim}<sheetData>{cells}</sheetData></worksheet>'


def text_cell(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def header_row() -> str:
    return (
        '<row r="1">'
        + text_cell("A1", "序号")
        + text_cell("B1", "项目名称")
        + text_cell("C1", "企业名称")
        + "</row>"
    )


def workbook(cells: str, **options) -> bytes:
    return zipped(workbook_parts(sheet_xml(cells, **options)))


# --- Workbooks ----------------------------------------------------------------------------------


def far_corner() -> bytes:
    """Issue 21's 5 KB workbook: 项目名称 in A1 and a number in XFD1048576, nothing else. A reader
    sizing its grid by the extent asks for 1,048,576 × 16,384 cells (512 GB)."""
    return workbook(
        '<row r="1">' + text_cell("A1", "项目名称") + "</row>"
        '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
        dimension="A1:XFD1048576",
    )


def million_rows() -> bytes:
    """The million-row variant: values in A1 and CV1000000 (1,000,000 × 100 cells, 3.2 GB)."""
    return workbook(
        '<row r="1">' + text_cell("A1", "项目名称") + "</row>"
        '<row r="1000000"><c r="CV1000000"><v>1</v></c></row>'
    )


def wide_sheet() -> bytes:
    """A header row with a value in each of Excel's 16,384 columns."""
    cells = "".join(f"<c><v>{n}</v></c>" for n in range(16_384))
    return workbook(header_row() + f'<row r="2">{cells}</row>')


def formula_then_empty_cells() -> bytes:
    """Issue 21's 45 KB workbook: one formula cell, then 20,000 formatted empty cells (the formula
    check's old regular expression took a minute over it)."""
    empty = "".join(f'<row r="{n}"><c r="B{n}" s="1"/></row>' for n in range(3, 20_003))
    return workbook(header_row() + '<row r="2"><c r="A2"><v>1</v></c><c r="D2"><f>1+1</f></c></row>' + empty)


def many_shared_strings(count: int) -> bytes:
    """A shared-strings table of ``count`` texts (each kept in memory by a reader)."""
    shared = (
        f'{HEADER}<sst xmlns="{MAIN}" count="{count}" uniqueCount="{count}">'
        + "<si><t>x</t></si>" * count
        + "</sst>"
    )
    return zipped(workbook_parts(sheet_xml(header_row()), shared=shared))


def long_shared_string() -> bytes:
    """One shared text of a million characters, 30 times what Excel allows in a cell."""
    shared = f'{HEADER}<sst xmlns="{MAIN}"><si><t>{"项" * 1_000_000}</t></si></sst>'
    cells = header_row() + '<row r="2"><c r="B2" t="s"><v>0</v></c></row>'
    return zipped(workbook_parts(sheet_xml(cells), shared=shared))


def deeply_nested() -> bytes:
    """100,000 nested elements in the sheet, where recursive readers run out of stack."""
    depth = 100_000
    return workbook(header_row(), before="<extLst>" + "<x>" * depth + "</x>" * depth + "</extLst>")


COMMENT = "<!--" + "注" * 2_000 + "-->"  # about 6 KB: past a check of the first 4 KB


def xxe_after_comment() -> bytes:
    """An external entity reading /etc/passwd, declared after a 6 KB comment."""
    shared = (
        f'<?xml version="1.0" encoding="UTF-8"?>{COMMENT}'
        '<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        f'<sst xmlns="{MAIN}"><si><t>&xxe;</t></si></sst>'
    )
    cells = header_row() + '<row r="2"><c r="B2" t="s"><v>0</v></c></row>'
    return zipped(workbook_parts(sheet_xml(cells), shared=shared))


def entity_bomb_in_sheet() -> bytes:
    """A billion laughs in the sheet itself, after the comment."""
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">' for n in range(9)
    )
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?>{COMMENT}<!DOCTYPE worksheet [{entities}]>'
        f'<worksheet xmlns="{MAIN}"><sheetData>{header_row()}'
        '<row r="2"><c r="B2" t="inlineStr"><is><t>&j;</t></is></c></row></sheetData></worksheet>'
    )
    return zipped(workbook_parts(sheet))


def honest_zip_bomb(unpacked: int) -> bytes:
    """A workbook with a part of ``unpacked`` zero bytes, its size declared truthfully."""
    parts = workbook_parts(sheet_xml(header_row()))
    parts["xl/media/padding.bin"] = b"\0" * unpacked
    return zipped(parts)


def lying_zip_bomb(unpacked: int) -> bytes:
    """A workbook whose sheet unpacks to ``unpacked`` bytes of cells while its zip headers (local and
    central) declare only its first 2 KB, with the CRC of those 2 KB: a reader that trusts the
    header sees a small sheet, one that inflates the stream gets millions of cells."""
    start = f'{HEADER}<worksheet xmlns="{MAIN}"><sheetData><row r="1">'.encode()
    row = "".join(f"<c><v>{n}</v></c>" for n in range(100)).encode() * 100
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    packed = [packer.compress(start)]
    head = start + row
    packed += [packer.compress(row) for _ in range(unpacked // len(row) + 1)]
    packed.append(packer.flush())
    declared = 2048
    parts = workbook_parts(b"")
    del parts["xl/worksheets/sheet1.xml"]
    return raw_zip(parts, lie={}, packed={"xl/worksheets/sheet1.xml": (b"".join(packed), head[:declared])})


def raw_zip(parts: dict[str, bytes], *, lie: dict[str, int], packed: dict | None = None) -> bytes:
    """A zip written by hand, so that a part's declared size and CRC can cover only its first
    ``lie[name]`` bytes (or, for ``packed`` parts given as (deflated stream, what the headers
    describe), only what the headers describe)."""
    out = io.BytesIO()
    central = []
    entries = []
    for name, content in parts.items():
        packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        size = lie.get(name, len(content))
        entries.append((name, packer.compress(content) + packer.flush(), content[:size], size))
    for name, (stream, described) in (packed or {}).items():
        entries.append((name, stream, described, len(described)))
    for name, stream, described, size in entries:
        crc = binascii.crc32(described)
        encoded = name.encode()
        offset = out.tell()
        out.write(
            struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(stream), size, len(encoded), 0)
        )
        out.write(encoded)
        out.write(stream)
        central.append(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(stream),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start = out.tell()
    for entry in central:
        out.write(entry)
    end = out.tell()
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), end - start, start, 0))
    return out.getvalue()


def declares_more_than_it_holds() -> bytes:
    """A part whose header claims more bytes than its stream holds: a damaged (or doctored) file."""
    parts = workbook_parts(sheet_xml(header_row()))
    return raw_zip(parts, lie={"xl/workbook.xml": len(parts["xl/workbook.xml"]) + 10})


def csv_named_xlsx() -> bytes:
    return "序号,项目名称,企业名称\n1,益海特油项目,益海嘉里\n".encode()


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


# --- Images -------------------------------------------------------------------------------------


def png(width: int, height: int) -> bytes:
    """A valid black-and-white PNG of width × height pixels, written row by row (a few KB for
    13000 × 13000: 169 megapixels, below the 179 at which Pillow stops warning and refuses)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">L", len(data)) + kind + data + struct.pack(">L", binascii.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">2L5B", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg(size=(300, 200), *, orientation: int | None = None, colour=(200, 60, 40)) -> bytes:
    """A JPEG whose left half is ``colour`` and right half white, with an EXIF orientation if given."""
    image = Image.new("RGB", size, (255, 255, 255))
    image.paste(colour, (0, 0, size[0] // 2, size[1]))
    buffer = io.BytesIO()
    options = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        exif[0x8825] = {1: "N"}  # a GPS block: where the photo was taken
        options["exif"] = exif
    image.save(buffer, "JPEG", quality=95, **options)
    return buffer.getvalue()


def jpeg_zip_polyglot() -> bytes:
    """A real JPEG with a workbook appended: an image to Pillow, a zip to unzip (it reads from the end)."""
    return jpeg() + workbook(header_row())


def gif_html_polyglot() -> bytes:
    """GIF89a followed by a script: a GIF by its first bytes, a page to a browser that sniffs."""
    return b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;" + HTML


CORPUS = {
    "far-corner": ("台账.xlsx", far_corner),
    "million-rows": ("台账.xlsx", million_rows),
    "16384-columns": ("台账.xlsx", wide_sheet),
    "formula-then-empty": ("台账.xlsx", formula_then_empty_cells),
    "shared-strings": ("台账.xlsx", lambda: many_shared_strings(150_000)),
    "long-shared-string": ("台账.xlsx", long_shared_string),
    "deep-nesting": ("台账.xlsx", deeply_nested),
    "xxe-after-comment": ("台账.xlsx", xxe_after_comment),
    "entity-bomb": ("台账.xlsx", entity_bomb_in_sheet),
    "honest-zip-bomb": ("台账.xlsx", lambda: honest_zip_bomb(48 * 1_048_576)),
    "lying-zip-bomb": ("台账.xlsx", lambda: lying_zip_bomb(48 * 1_048_576)),
    "declares-more": ("台账.xlsx", declares_more_than_it_holds),
    "csv-as-xlsx": ("台账.xlsx", csv_named_xlsx),
    "html-as-xlsx": ("台账.xlsx", lambda: HTML),
    "html-as-jpg": ("现场.jpg", lambda: HTML),
    "13000px-png": ("现场.png", lambda: png(13_000, 13_000)),
    "jpeg-zip-polyglot": ("现场.jpg", jpeg_zip_polyglot),
    "gif-html-polyglot": ("现场.gif", gif_html_polyglot),
}
