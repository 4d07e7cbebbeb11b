"""Limits on what parsing an uploaded file may cost, in one place for every parser of the platform.

A small hostile file must not make a worker loop, fill its memory or hang: a spreadsheet whose only
row is numbered 99,999,999,999, one cell in the last column of every row, a zip member that unpacks
to gigabytes, megabytes of strings. Each limit is checked before parsing where the file says how big
it is (a zip's central directory) and again while parsing (bytes read, rows, columns, cells, string
lengths, nesting, time), so that a file is refused within a second or two with a clear message
(MESSAGES) instead of being read to its end.

The numbers are generous for real files: a question bank of 5,000 questions in a few dozen columns.
"""
import time
import zipfile
from dataclasses import dataclass
from xml.parsers import expat

from flask_babel import lazy_gettext as _l

from .errors import RuleViolation

MAX_ROW_NUMBER = 100_000         # the last spreadsheet row that may hold anything
MAX_RECORDS = 100_000            # rows read, blank ones included
MAX_COLUMNS = 64                 # the last column that may hold anything (the bank's template has 14)
MAX_CELLS = 300_000              # cells read, empty ones included; 5,000 questions x 14 columns is 70,000
MAX_CELL_CHARS = 32_767          # Excel's own limit for one cell
MAX_STRINGS = 100_000            # distinct texts of a workbook (its shared strings); 5,000 questions need 40,000
MAX_ZIP_MEMBERS = 1000
MAX_MEMBER_BYTES = 24 * 1024 * 1024   # one member of a zip (an XLSX part) unpacked
MAX_UNPACKED = 48 * 1024 * 1024       # all members unpacked
MAX_RATIO = 100                  # unpacked / packed, for a member over RATIO_FROM bytes unpacked
RATIO_FROM = 1024 * 1024
MAX_XML_DEPTH = 32               # elements nested in one XML part (a worksheet needs 6)
MAX_SECONDS = 20.0               # parsing one file: 5,000 questions take 1.5 s, 7 s on a machine loaded 8-fold
CHUNK = 64 * 1024
PROBE_SECONDS = 60               # ffprobe on an uploaded video (it reads a few MB; a FIFO or a hostile file hangs)
MAX_VIDEO_SIDE = 8192            # a video frame's side: 8K; one frame of 16,384 x 16,384 decodes to 400 MB
MAX_VIDEO_PIXELS = 8192 * 4320

MESSAGES = {
    "unpacked_too_large": _l("The workbook is too large when unpacked. Please split it into several files."),
    "row_beyond": _l("Row %(row)s holds data: rows after row %(limit)s are not read. Please move the questions up "
                     "or split the file."),
    "too_many_records": _l("The file holds more than %(limit)s rows (blank rows included). Please delete the "
                           "empty rows or split the file."),
    "column_beyond": _l("Row %(row)s holds data in column %(column)s: at most %(limit)s columns are read. Please "
                        "delete the columns that do not belong to the template."),
    "too_many_cells": _l("The file holds more than %(limit)s cells. Please delete the empty rows and columns or "
                         "split the file."),
    "too_many_strings": _l("The workbook holds more than %(limit)s different texts. Please copy the questions "
                           "into the template or split the file."),
    "cell_too_long": _l("A cell holds more than %(limit)s characters."),
    "too_complex": _l("The file is structured in a way that cannot be read (too deeply nested or with a "
                      "document type declaration). Please save it again in Excel and retry."),
    "too_slow": _l("Reading the file took longer than %(seconds)s seconds. Please split it into several files."),
}


class LimitExceeded(RuleViolation):
    """A file goes beyond one of the limits; ``code`` is a key of MESSAGES."""


def limit_text(error: LimitExceeded) -> str:
    return str(MESSAGES[error.code]) % error.details if error.details else str(MESSAGES[error.code])


@dataclass
class Deadline:
    """The moment by which parsing must have finished (time.monotonic seconds)."""
    at: float
    seconds: float

    @classmethod
    def after(cls, seconds: float = MAX_SECONDS, now: float | None = None) -> "Deadline":
        return cls((time.monotonic() if now is None else now) + seconds, seconds)

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise LimitExceeded("too_slow", seconds=f"{self.seconds:g}")


def check_zip(archive: zipfile.ZipFile, max_member: int = MAX_MEMBER_BYTES, max_total: int = MAX_UNPACKED) -> None:
    """Refuse a zip by what its central directory declares, before any member is inflated. zipfile
    never inflates a member beyond its declared size, so these numbers bound what reading it costs."""
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise LimitExceeded("unpacked_too_large")
    total = 0
    for info in members:
        total += info.file_size
        ratio_too_high = info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1)
        if info.file_size > max_member or total > max_total or ratio_too_high:
            raise LimitExceeded("unpacked_too_large")


class BoundedStream:
    """A binary stream read up to ``max_bytes`` and until ``deadline``."""

    def __init__(self, raw, max_bytes: int, deadline: Deadline):
        self.raw, self.left, self.deadline = raw, max_bytes, deadline

    def read(self, size: int = CHUNK) -> bytes:
        self.deadline.check()
        data = self.raw.read(min(size if size and size > 0 else CHUNK, self.left + 1))
        self.left -= len(data)
        if self.left < 0:
            raise LimitExceeded("unpacked_too_large")
        return data


def parse_xml(stream: BoundedStream, start, end, text) -> None:
    """Parse an XML stream chunk by chunk with expat, calling ``start(name, attributes)``,
    ``end(name)`` and ``text(data)`` (names without their namespace): no tree is built, so memory
    holds what the callbacks keep. Refuses nesting deeper than MAX_XML_DEPTH and any document type
    declaration (entities: an XML part of an office file never has one). Raises ExpatError on bad XML."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    depth = [0]

    def on_start(name, attributes):
        depth[0] += 1
        if depth[0] > MAX_XML_DEPTH:
            raise LimitExceeded("too_complex")
        start(name.rpartition(" ")[2], attributes)

    def on_end(name):
        depth[0] -= 1
        end(name.rpartition(" ")[2])

    def refuse(*_args):
        raise LimitExceeded("too_complex")

    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = on_start, on_end, text
    parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = refuse
    while chunk := stream.read(CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


class TableCounter:
    """Counts the rows and cells of a table as a parser reads them and refuses the first one beyond
    a limit: MAX_RECORDS rows, MAX_CELLS cells, a value after row MAX_ROW_NUMBER or column
    MAX_COLUMNS, a text longer than MAX_CELL_CHARS. Looks at the clock every thousand cells."""

    def __init__(self, deadline: Deadline):
        self.deadline, self.records, self.cells = deadline, 0, 0

    def record(self) -> None:
        self.records += 1
        if self.records > MAX_RECORDS:
            raise LimitExceeded("too_many_records", limit=MAX_RECORDS)
        if self.records % 1000 == 0:
            self.deadline.check()

    def cell(self) -> None:
        self.cells += 1
        if self.cells > MAX_CELLS:
            raise LimitExceeded("too_many_cells", limit=MAX_CELLS)
        if self.cells % 1000 == 0:
            self.deadline.check()

    def value(self, row: int, column: int, value) -> None:
        """A non-empty value at (row, column), both counted from 1."""
        if not 1 <= row <= MAX_ROW_NUMBER:
            raise LimitExceeded("row_beyond", row=row, limit=MAX_ROW_NUMBER)
        if column > MAX_COLUMNS:
            raise LimitExceeded("column_beyond", row=row, column=column_letters(column), limit=MAX_COLUMNS)
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            raise LimitExceeded("cell_too_long", limit=MAX_CELL_CHARS)


def column_letters(column: int) -> str:
    """A spreadsheet column's letters: 1 is A, 27 AA, 16384 XFD."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
