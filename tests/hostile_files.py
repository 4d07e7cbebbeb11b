"""Hostile spreadsheets, built in memory by writing an XLSX's XML parts straight into a zip (openpyxl
would refuse to write most of them): the files of issue 21 that kept a worker busy for hours or
filled its memory. Used by the tests and by bench/import_limits_bench.py."""
import io
import random
import zipfile
from functools import cache

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HEADER = ("题型", "题干", "答案")

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '</Types>')
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{RELS}">'
    '<sheets><sheet name="题库" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
    '</Relationships>')


def inline(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def header_row() -> str:
    return '<row r="1">' + "".join(inline(f"{letter}1", text) for letter, text in zip("ABC", HEADER, strict=True)) + "</row>"


def workbook(rows_xml: str, strings: list[str] | None = None, strings_xml: bytes | None = None,
             prolog: str = "") -> bytes:
    """An XLSX whose first sheet's <sheetData> holds ``rows_xml``, with a shared string table of
    ``strings`` (or the raw ``strings_xml``)."""
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{MAIN}">'
             f"<sheetData>{rows_xml}</sheetData></worksheet>")
    if strings_xml is None:
        strings_xml = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{len(strings or [])}">'
                       + "".join(f"<si><t>{text}</t></si>" for text in strings or []) + "</sst>").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", strings_xml)
    return buffer.getvalue()


@cache
def far_row() -> bytes:
    """About 1 KB: one row, numbered 99,999,999,999 (openpyxl yields every missing row before it)."""
    return workbook('<row r="99999999999">' + inline("A99999999999", "判断题") + "</row>")


@cache
def last_column(rows: int = 5000) -> bytes:
    """A header and ``rows`` rows each holding a cell in column XFD, the last one (openpyxl pads every
    row to 16,384 values)."""
    return workbook(header_row() + "".join(f'<row r="{n}"><c r="XFD{n}"><v>1</v></c></row>'
                                           for n in range(2, rows + 2)))


@cache
def shared_strings_bomb(megabytes: int = 60) -> bytes:
    """A small workbook whose shared string table unpacks to ``megabytes`` MB."""
    one = "<si><t>判断题</t></si>"
    count = megabytes * 1024 * 1024 // len(one.encode())
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">' + one * count + "</sst>").encode()
    return workbook(header_row(), strings_xml=xml)


@cache
def many_strings(count: int = 100_500) -> bytes:
    """A shared string table of ``count`` distinct short strings, not saying how many: it does not
    compress well, so it passes the zip's size checks, and must be stopped while it is read."""
    rng = random.Random(21)
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'
           + "".join(f"<si><t>{rng.getrandbits(40):010x}</t></si>" for _ in range(count)) + "</sst>")
    return workbook(header_row(), strings_xml=xml.encode())


@cache
def long_string(chars: int = 40_000) -> bytes:
    """One shared string longer than a cell may be (Excel: 32,767 characters)."""
    rng = random.Random(21)
    text = "".join(rng.choice("安全生产培训考试题库") for _ in range(chars))
    return workbook(header_row() + '<row r="2"><c r="B2" t="s"><v>0</v></c></row>', strings=[text])


@cache
def deep_nesting(levels: int = 5000) -> bytes:
    """A worksheet whose XML nests ``levels`` elements in one cell."""
    return workbook(header_row() + '<row r="2"><c r="A2" t="inlineStr"><is>' + "<r>" * levels + "</r>" * levels
                    + "</is></c></row>")


@cache
def entity_expansion() -> bytes:
    """A worksheet with a document type declaring nested entities ("billion laughs")."""
    entities = '<!ENTITY a0 "判断题判断题判断题判断题">' + "".join(
        f'<!ENTITY a{n} "{("&a" + str(n - 1) + ";") * 10}">' for n in range(1, 8))
    return workbook(header_row() + '<row r="2">' + inline("A2", "&a7;") + "</row>",
                    prolog=f"<!DOCTYPE worksheet [{entities}]>")


@cache
def blank_lines_csv(megabytes: int = 4) -> bytes:
    """A CSV of a header and megabytes of empty lines."""
    return "题型,题干,答案\n".encode() + b"\n" * (megabytes * 1024 * 1024)


@cache
def wide_csv(columns: int = 200_000) -> bytes:
    """A CSV whose second row holds a value in its last of ``columns`` columns."""
    return ("题型,题干,答案\n" + "," * (columns - 1) + "x\n").encode()
