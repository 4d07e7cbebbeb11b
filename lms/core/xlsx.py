"""The rows of an uploaded workbook's first worksheet, read within lms.core.limits.

openpyxl's read-only mode is not safe on a hostile file: it yields every missing row up to a row
numbered 99,999,999,999, pads each row to its last cell (column XFD: 16,384 values a row), holds a
row's cells and a whole string table in memory and has no clock. Here the zip is checked by its
central directory first (lms.core.limits.check_zip), then the parts are parsed by expat as streams,
bounded in bytes, depth and time, with no tree built: only the rows present are read, and each row,
column, cell and string is counted against its limit as it comes. openpyxl still finds the worksheet
(WorkbookParser, on small parts) and converts numbers and dates as it would.
"""
import io
import zipfile

from . import limits
from .limits import BoundedStream, Deadline, LimitExceeded

MAX_META_BYTES = 2 * 1024 * 1024   # [Content_Types].xml, workbook.xml and its relationships: a few KB


class WorkbookUnreadable(Exception):
    """Not a workbook that can be read (damaged, or not an XLSX at all)."""


def open_checked(data: bytes) -> zipfile.ZipFile:
    """The zip of an XLSX, refused (LimitExceeded) by its declared sizes before anything is inflated."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise WorkbookUnreadable() from None
    try:
        limits.check_zip(archive)
    except LimitExceeded:
        archive.close()
        raise
    return archive


def first_sheet_rows(data: bytes, deadline: Deadline | None = None):
    """(row number, [cell values]) of each row present in the first worksheet, in file order, each
    list as long as the row's last non-empty cell (openpyxl's values: str, int, float, bool,
    datetime or None). An empty list when the workbook has no worksheet. Raises LimitExceeded or
    WorkbookUnreadable."""
    deadline = deadline or Deadline.after()
    with open_checked(data) as archive:
        try:
            names = set(archive.namelist())
            for name in _meta_parts(archive, names):
                if archive.getinfo(name).file_size > MAX_META_BYTES:
                    raise LimitExceeded("unpacked_too_large")
            sheet_path, strings_path, styles_path, epoch = _locate(archive, names)
            if sheet_path is None:
                return []
            strings = _shared_strings(archive, strings_path, deadline) if strings_path in names else []
            dates, timedeltas = _date_styles(archive, styles_path, deadline) if styles_path in names else (set(), set())
            return _rows(archive, sheet_path, strings, dates, timedeltas, epoch, deadline)
        except LimitExceeded:
            raise
        except Exception:  # noqa: BLE001 - a damaged or hostile part fails in openpyxl with many exception types
            raise WorkbookUnreadable() from None


def _meta_parts(archive, names):
    from openpyxl.xml.constants import ARC_CONTENT_TYPES
    return [name for name in names if name == ARC_CONTENT_TYPES or name.endswith((".rels", "workbook.xml"))]


def _locate(archive, names):
    """(first worksheet's path or None, shared strings' path, styles' path, date epoch)."""
    from openpyxl.packaging.manifest import Manifest
    from openpyxl.reader.excel import _find_workbook_part
    from openpyxl.reader.workbook import WorkbookParser
    from openpyxl.xml.constants import ARC_CONTENT_TYPES, SHARED_STRINGS, STYLES_TYPE
    from openpyxl.xml.functions import fromstring

    package = Manifest.from_tree(fromstring(archive.read(ARC_CONTENT_TYPES)))
    parser = WorkbookParser(archive, _find_workbook_part(package).PartName[1:], keep_links=False)
    parser.parse()
    sheet_path = next((rel.target for _sheet, rel in parser.find_sheets()
                       if rel.target in names and "chartsheet" not in rel.Type), None)
    strings, styles = package.find(SHARED_STRINGS), package.find(STYLES_TYPE)
    return (sheet_path, strings.PartName[1:] if strings is not None else None,
            styles.PartName[1:] if styles is not None else "xl/styles.xml", parser.wb.epoch)


def _tag(element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _parse(archive, path, deadline, start, end, text) -> None:
    with archive.open(path) as raw:
        limits.parse_xml(BoundedStream(raw, limits.MAX_MEMBER_BYTES, deadline), start, end, text)


def _shared_strings(archive, path, deadline) -> list[str]:
    """The shared string table: each string's plain text (its runs joined, phonetic hints left out,
    as openpyxl reads it), counted against MAX_STRINGS and MAX_CELL_CHARS as it comes."""
    strings: list[str] = []
    parts: list[str] = []
    state = {"t": False, "phonetic": 0, "chars": 0}

    def start(name, attributes):
        if name == "sst":
            _check_declared_count(attributes)
        elif name == "si":
            parts.clear()
            state["chars"] = 0
        elif name == "t":
            state["t"] = True
        elif name == "rPh":
            state["phonetic"] += 1

    def end(name):
        if name == "t":
            state["t"] = False
        elif name == "rPh":
            state["phonetic"] -= 1
        elif name == "si":
            strings.append("".join(parts).replace("x005F_", ""))
            if len(strings) > limits.MAX_STRINGS:
                raise LimitExceeded("too_many_strings", limit=limits.MAX_STRINGS)
            if len(strings) % 1000 == 0:
                deadline.check()

    def text(data):
        if state["t"] and not state["phonetic"]:
            state["chars"] += len(data)
            if state["chars"] > limits.MAX_CELL_CHARS:
                raise LimitExceeded("cell_too_long", limit=limits.MAX_CELL_CHARS)
            parts.append(data)

    _parse(archive, path, deadline, start, end, text)
    return strings


def _check_declared_count(attributes) -> None:
    """The table says how many strings it holds: too many is refused before the first is read."""
    declared = attributes.get("uniqueCount") or attributes.get("count") or "0"
    if declared.isdigit() and len(declared) < 12 and int(declared) > limits.MAX_STRINGS:
        raise LimitExceeded("too_many_strings", limit=limits.MAX_STRINGS)


def _date_styles(archive, path, deadline) -> tuple[set[int], set[int]]:
    """The cell style ids (indices of cellXfs) whose number format is a date, and a duration."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
    custom: dict[int, str] = {}
    formats: list[int] = []
    inside = {"cellXfs": False}

    def start(name, attributes):
        if name == "cellXfs":
            inside["cellXfs"] = True
        elif name == "numFmt":
            custom[int(attributes.get("numFmtId", -1))] = attributes.get("formatCode", "")[:256]
        elif name == "xf" and inside["cellXfs"]:
            formats.append(int(attributes.get("numFmtId", 0)))
            if len(formats) > limits.MAX_CELLS:
                raise LimitExceeded("too_many_cells", limit=limits.MAX_CELLS)

    def end(name):
        if name == "cellXfs":
            inside["cellXfs"] = False

    _parse(archive, path, deadline, start, end, lambda data: None)
    dates, timedeltas = set(), set()
    for style_id, format_id in enumerate(formats):
        code = custom.get(format_id, BUILTIN_FORMATS.get(format_id, "General"))
        if is_date_format(code):
            dates.add(style_id)
            if is_timedelta_format(code):
                timedeltas.add(style_id)
    return dates, timedeltas


class _SheetReader:
    """expat callbacks turning a worksheet's rows into (number, values), counted by a TableCounter
    cell by cell; a cell beyond the limits is dropped when empty (a styled empty cell), refused
    otherwise. Values as openpyxl gives them with data_only=True."""

    def __init__(self, strings, dates, timedeltas, epoch, deadline):
        self.strings, self.dates, self.timedeltas, self.epoch = strings, dates, timedeltas, epoch
        self.counter = limits.TableCounter(deadline)
        self.rows: list[tuple[int, list]] = []
        self.number, self.column, self.values = 0, 0, {}
        self.cell: dict | None = None
        self.parts: list[str] = []
        self.chars = self.phonetic = 0
        self.collect = False

    def start(self, name, attributes):
        if name == "row":
            self.counter.record()
            self.number = int(attributes.get("r") or self.number + 1)
            self.column, self.values = 0, {}
        elif name == "c":
            self.counter.cell()
            reference = attributes.get("r")
            self.column = _column_of(reference) if reference else self.column + 1
            self.cell = {"type": attributes.get("t", "n"), "style": int(attributes.get("s") or 0)}
            self.parts, self.chars = [], 0
        elif name in ("v", "t") and self.cell is not None:
            self.collect = (name == "v" or self.cell["type"] == "inlineStr") and not self.phonetic
        elif name == "rPh":
            self.phonetic += 1

    def end(self, name):
        if name in ("v", "t"):
            self.collect = False
        elif name == "rPh":
            self.phonetic -= 1
        elif name == "c" and self.cell is not None:
            value = self._value("".join(self.parts))
            self.cell = None
            if value is not None and value != "":
                self.counter.value(self.number, self.column, value)
                self.values[self.column] = value
        elif name == "row" and self.values:
            self.rows.append((self.number, [self.values.get(c) for c in range(1, max(self.values) + 1)]))
            self.values = {}

    def text(self, data):
        if self.collect:
            self.parts.append(data)
            self.chars += len(data)
            if self.chars > limits.MAX_CELL_CHARS:
                raise LimitExceeded("cell_too_long", limit=limits.MAX_CELL_CHARS)

    def _value(self, text: str):
        from openpyxl.utils.datetime import from_excel, from_ISO8601
        from openpyxl.worksheet._reader import _cast_number
        kind = self.cell["type"]
        if kind == "inlineStr":
            return text
        if not text:
            return None
        if kind == "s":
            return self.strings[int(text)]
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            return from_ISO8601(text)
        if kind in ("str", "e"):
            return text
        number = _cast_number(text)
        if self.cell["style"] in self.dates:
            try:
                return from_excel(number, self.epoch, timedelta=self.cell["style"] in self.timedeltas)
            except (OverflowError, ValueError):
                return "#VALUE!"
        return number


def _column_of(reference: str) -> int:
    from openpyxl.utils.cell import column_index_from_string
    letters = reference.rstrip("0123456789")
    if not letters or len(letters) > 3:
        raise ValueError(f"not a cell reference: {reference[:20]}")
    return column_index_from_string(letters)


def _rows(archive, path, strings, dates, timedeltas, epoch, deadline):
    reader = _SheetReader(strings, dates, timedeltas, epoch, deadline)
    _parse(archive, path, deadline, reader.start, reader.end, reader.text)
    return reader.rows
