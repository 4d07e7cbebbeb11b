"""A question bank as a spreadsheet: reading an import (XLSX or CSV) into question drafts with its
errors per row, and writing the export and the template in the same columns.

Plain functions on bytes, so that tests can call them. The columns carry fixed Chinese headers (the
file format staff fill in, whatever the page's language); rows are numbered as the spreadsheet
shows them, the header being row 1.
"""
import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit.services import record
from ..core import limits, xlsx
from ..core.cells import guard, unguard
from ..core.context import Actor
from ..core.inputs import CONTROL_CHARACTERS
from ..extensions import db
from ..player.models import Course
from . import bank, grading
from .messages import DRAFT_PROBLEMS, FIELD_NAMES
from .models import KINDS, MULTIPLE, SINGLE, TRUE_FALSE, Question

OPTION_COLUMNS = tuple(f"选项{letter}" for letter in grading.LETTERS)
HEADERS = ("题型", "题干", *OPTION_COLUMNS, "答案", "解析", "知识点", "所属课时")
REQUIRED_HEADERS = ("题型", "题干", "答案")
HEADER_ALIASES = {"题目": "题干", "正确答案": "答案", "答案解析": "解析", "课时": "所属课时"}
KIND_WORDS = {TRUE_FALSE: "判断题", SINGLE: "单选题", MULTIPLE: "多选题"}
KIND_OF_WORD = {**{word: kind for kind, word in KIND_WORDS.items()},
                "判断": TRUE_FALSE, "单选": SINGLE, "多选": MULTIPLE, **{kind: kind for kind in KINDS}}
TRUE_WORDS = {"正确", "对", "√", "✓", "✔", "A", "TRUE", "T"}
FALSE_WORDS = {"错误", "错", "×", "✗", "✘", "X", "B", "FALSE", "F"}
ANSWER_SEPARATORS = re.compile(r"[\s,，、;；/|]+")

MAX_ROWS = 5000                    # questions in one file; what parsing a file may cost: lms.core.limits

FILE_PROBLEMS = {
    "empty": _l("The file holds no questions."),
    "too_large": _l("The file is larger than %(megabytes)s MB. Please split it into several files."),
    "format": _l("Please choose an Excel workbook (.xlsx) or a CSV file (.csv). An old .xls workbook: save it as "
                 ".xlsx in Excel first."),
    "broken": _l("The file could not be read as an Excel workbook (.xlsx); it may be damaged. Please save it again "
                 "in Excel and retry."),
    "broken_csv": _l("The CSV file could not be read. Please save it again from Excel as CSV and retry."),
    "encoding": _l("The text encoding of the CSV file is not recognised. Please save it as CSV in UTF-8 or GBK."),
    "headers": _l("The first row must hold the column headers of the template; missing: %(missing)s."),
    "duplicate_header": _l("The column %(name)s appears twice in the first row."),
    "too_many_rows": _l("The file holds more than %(limit)s questions. Please split it into several files."),
    **limits.MESSAGES,
}
ROW_PROBLEMS = {
    "control": _l("The text contains characters that are not allowed (control characters)."),
}


class TransferError(bank.QuizError):
    """The file as a whole cannot be imported (its format, size or headers)."""


def transfer_error_text(error: TransferError) -> str:
    details = dict(error.details)
    if "bytes" in details:
        details["megabytes"] = f"{details.pop('bytes') / (1024 * 1024):g}"
    return str(FILE_PROBLEMS[error.code]) % details if details else str(FILE_PROBLEMS[error.code])


@dataclass(frozen=True)
class RowError:
    row: int      # as the spreadsheet shows it; the header is row 1
    field: str    # a key of messages.FIELD_NAMES
    code: str     # a key of messages.DRAFT_PROBLEMS or ROW_PROBLEMS

    @property
    def field_name(self) -> str:
        return str(FIELD_NAMES.get(self.field, self.field))

    @property
    def message(self) -> str:
        return str(DRAFT_PROBLEMS.get(self.code) or ROW_PROBLEMS.get(self.code) or self.code)


@dataclass
class ParsedImport:
    drafts: list = field(default_factory=list)   # QuestionDraft, in file order
    rows: list = field(default_factory=list)     # the spreadsheet row of each draft
    errors: list = field(default_factory=list)   # RowError

    @property
    def error_rows(self) -> int:
        return len({error.row for error in self.errors})


# --- reading ------------------------------------------------------------------------------------

def read_table(data: bytes, filename: str, max_bytes: int) -> list[tuple[int, list[str]]]:
    """The non-blank rows of an uploaded file as (spreadsheet row, cell texts); the header row first.
    Raises TransferError when the file cannot be read as a whole."""
    if not data:
        raise TransferError("empty")
    if len(data) > max_bytes:
        raise TransferError("too_large", bytes=max_bytes)
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix == "xlsx" or (suffix not in ("csv", "xls") and data[:4] == b"PK\x03\x04"):
        return _xlsx_table(data)
    if suffix == "csv":
        return _csv_table(data)
    raise TransferError("format")


def _collect(rows) -> list[tuple[int, list[str]]]:
    """Row 1 (the header) and every non-blank row after it, from (spreadsheet row, values) in file
    order; at most MAX_ROWS questions."""
    table = []
    for number, values in rows:
        cells = [_cell_text(value) for value in values]
        if number == 1 or any(cells):
            table.append((number, cells))
            if len(table) > MAX_ROWS + 1:
                raise TransferError("too_many_rows", limit=MAX_ROWS)
    return table


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").strip()


def _xlsx_table(data: bytes) -> list[tuple[int, list[str]]]:
    try:
        return _collect(xlsx.first_sheet_rows(data, limits.Deadline.after()))
    except xlsx.WorkbookUnreadable:
        raise TransferError("broken") from None
    except limits.LimitExceeded as error:
        raise TransferError(error.code, **error.details) from None


def decode_csv(data: bytes) -> str:
    """The text of a CSV file: UTF-8 with or without a BOM, UTF-16 with a BOM (Excel's "Unicode text"),
    or GB18030 (a superset of GBK, as Chinese Excel saves CSV)."""
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8):].decode("utf-8")
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
    except UnicodeDecodeError:
        raise TransferError("encoding") from None
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TransferError("encoding")


def _csv_table(data: bytes) -> list[tuple[int, list[str]]]:
    deadline = limits.Deadline.after()
    text = decode_csv(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        return _collect(_csv_records(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), deadline))
    except csv.Error:
        raise TransferError("broken_csv") from None
    except limits.LimitExceeded as error:
        raise TransferError(error.code, **error.details) from None


def _csv_records(reader, deadline: limits.Deadline):
    """(row number, cells) of each CSV record, counted against the limits of lms.core.limits; empty
    cells after the last non-empty one are dropped."""
    counter = limits.TableCounter(deadline)
    for number, cells in enumerate(reader, start=1):
        counter.record()
        last = 0
        for column, text in enumerate(cells, start=1):
            counter.cell()
            if text.strip():
                counter.value(number, column, text)
                last = column
        yield number, cells[:last]


def _header_name(text: str) -> str:
    name = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()
    return HEADER_ALIASES.get(name, name)


def _columns(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, text in enumerate(header):
        name = _header_name(text)
        if name not in HEADERS:
            continue  # a column of the staff's own is ignored
        if name in columns:
            raise TransferError("duplicate_header", name=name)
        columns[name] = index
    missing = [name for name in REQUIRED_HEADERS if name not in columns]
    if missing:
        raise TransferError("headers", missing="、".join(missing))
    return columns


def _answer(kind: str, text: str) -> str:
    plain = unicodedata.normalize("NFKC", text).strip().upper()
    if kind == TRUE_FALSE:
        return "A" if plain in TRUE_WORDS else "B" if plain in FALSE_WORDS else plain[:16]
    letters = ANSWER_SEPARATORS.sub("", plain)
    if letters and all(letter in grading.LETTERS for letter in letters):
        return grading.letters_of(grading.indices_of(letters))
    return letters[:16]


def _lesson(text: str, lessons) -> tuple[int | None, bool]:
    """(lesson id, found) for the 所属课时 cell: a lesson's title or its position number; empty is no lesson."""
    if not text:
        return None, True
    for lesson_id, _position, title in lessons:
        if title.strip() == text:
            return lesson_id, True
    number = unicodedata.normalize("NFKC", text)
    number = number.removeprefix("第").removesuffix("讲").removesuffix("课").removesuffix("课时")
    if number.isascii() and number.isdigit() and len(number) <= 6:
        for lesson_id, position, _title in lessons:
            if int(number) == position:
                return lesson_id, True
    return None, False


def drafts_from_table(table: list[tuple[int, list[str]]], lessons) -> ParsedImport:
    """Question drafts from a read table (read_table), each checked by bank.draft_problems.
    ``lessons`` are (id, position, title) of the course's lessons."""
    if not table or (len(table) == 1 and not any(table[0][1])):
        raise TransferError("empty")
    if table[0][0] != 1 or not any(table[0][1]):
        raise TransferError("headers", missing="、".join(REQUIRED_HEADERS))
    columns = _columns(table[0][1])
    if len(table) == 1:
        raise TransferError("empty")
    lesson_ids = {lesson[0] for lesson in lessons}
    parsed = ParsedImport()
    for number, cells in table[1:]:
        def cell(name, cells=cells):
            index = columns.get(name)
            return unguard(cells[index]) if index is not None and index < len(cells) else ""
        row_errors = [RowError(number, _column_field(name), "control") for name in columns
                      if CONTROL_CHARACTERS.search(cell(name))]
        kind = KIND_OF_WORD.get(unicodedata.normalize("NFKC", cell("题型")).strip(), cell("题型")[:16])
        options = [cell(name) for name in OPTION_COLUMNS]
        while options and not options[-1].strip():
            options.pop()
        lesson_id, lesson_found = _lesson(cell("所属课时"), lessons)
        if not lesson_found:
            row_errors.append(RowError(number, "lesson", "lesson"))
        draft = bank.QuestionDraft(kind=kind, stem=cell("题干"), options=options, answer=_answer(kind, cell("答案")),
                                   explanation=cell("解析"), knowledge_point=cell("知识点"), lesson_id=lesson_id)
        row_errors += [RowError(number, name, code) for name, code in bank.draft_problems(draft, lesson_ids)]
        if row_errors:
            parsed.errors.extend(row_errors)
        else:
            parsed.drafts.append(draft)
            parsed.rows.append(number)
    return parsed


def _column_field(name: str) -> str:
    return {"题型": "kind", "题干": "stem", "答案": "answer", "解析": "explanation", "知识点": "knowledge_point",
            "所属课时": "lesson"}.get(name, "options")


def parse_import(data: bytes, filename: str, lessons, max_bytes: int) -> ParsedImport:
    """Drafts and errors per row of an uploaded file; TransferError when the file as a whole is refused."""
    return drafts_from_table(read_table(data, filename, max_bytes), lessons)


def course_lessons(course: Course) -> list[tuple[int, int, str]]:
    return [(lesson.id, lesson.position, lesson.title) for lesson in course.lessons]


def import_questions(course: Course, data: bytes, filename: str, now: datetime, actor: Actor,
                     max_bytes: int) -> ParsedImport:
    """Add every question of the file to the course's bank in one transaction, or, when any row is
    invalid, none (the errors are in the result). Logged ("quiz_import") and committed."""
    parsed = parse_import(data, filename, course_lessons(course), max_bytes)
    if not parsed.errors:
        bank.add_questions(course, parsed.drafts, now, actor)
    return parsed


# --- writing ------------------------------------------------------------------------------------

def question_row(question: Question, lessons) -> list[str]:
    options = question.option_list
    answer = ("正确" if question.answer == "A" else "错误") if question.kind == TRUE_FALSE else question.answer
    return [KIND_WORDS.get(question.kind, question.kind), question.stem,
            *(options + [""] * (len(OPTION_COLUMNS) - len(options))), answer, question.explanation,
            question.knowledge_point, _lesson_ref(question.lesson_id, lessons)]


def _lesson_ref(lesson_id: int | None, lessons) -> str:
    """A lesson's title, or its position when another lesson has the same title."""
    if lesson_id is None:
        return ""
    for found_id, position, title in lessons:
        if found_id == lesson_id:
            same_title = sum(1 for _id, _position, other in lessons if other.strip() == title.strip())
            return title if same_title == 1 and not title.strip().isdigit() else str(position)
    return ""


def table_of(questions, lessons) -> list[list[str]]:
    return [list(HEADERS)] + [question_row(question, lessons) for question in questions]


def to_csv(rows: list[list[str]]) -> bytes:
    """CSV in UTF-8 with a BOM, so that Excel opens the Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([guard(str(cell)) for cell in row])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def to_xlsx(rows: list[list[str]], notes: list[str] | None = None) -> bytes:
    """A workbook with the rows on its first sheet (every cell text, never a formula) and, when given,
    notes on a second sheet."""
    import openpyxl
    from openpyxl.styles import Font
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "题库"
    for row in rows:
        sheet.append([guard(str(cell)) for cell in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFGHIJKLMN", [8, 48] + [16] * 8 + [8, 36, 14, 12], strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    if notes:
        notes_sheet = workbook.create_sheet("填写说明")
        notes_sheet.column_dimensions["A"].width = 100
        for line in notes:
            notes_sheet.append([line])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


EXAMPLE_ROWS = (
    ["单选题", "生产经营单位的主要负责人对本单位的安全生产工作负有什么责任？", "全面负责", "部分负责", "领导责任",
     "间接责任", "", "", "", "", "A", "《安全生产法》：生产经营单位的主要负责人是本单位安全生产第一责任人，对本单位的安全生产工作全面负责。",
     "安全生产法", ""],
    ["判断题", "从业人员发现直接危及人身安全的紧急情况时，有权停止作业或者在采取可能的应急措施后撤离作业场所。",
     "", "", "", "", "", "", "", "", "正确", "《安全生产法》规定的从业人员紧急避险权。", "从业人员权利", ""],
)


def template_notes() -> list[str]:
    return [
        _("How to fill in this template"),
        _("One question per row, from row 2; keep the header row as it is. Delete the two example rows."),
        _("题型: 判断题 (true/false), 单选题 (single choice) or 多选题 (multiple choice)."),
        _("选项A to 选项H: the options of a choice question, 2 to 8, from 选项A on; leave them empty for a "
          "true/false question."),
        _("答案: the letters of the correct options, such as A or ACD (a multiple-choice question needs two or "
          "more); for a true/false question 正确 or 错误 (also 对/错, √/×, A/B)."),
        _("解析 (explanation) and 知识点 (knowledge point) are optional."),
        _("所属课时: the lesson's title or its number in the course (1, 2, ...); optional."),
        _("If any row is invalid, nothing is imported and each error is listed by its row number."),
        _("At most %(limit)s questions per file.", limit=MAX_ROWS),
    ]


def template_xlsx() -> bytes:
    return to_xlsx([list(HEADERS), *EXAMPLE_ROWS], notes=template_notes())


def export_bank(course: Course, file_format: str, now: datetime, actor: Actor) -> bytes:
    """The course's active questions as XLSX or CSV in the template's columns. The file holds every
    answer of the course's test, so who took it is logged ("quiz_export"); committed."""
    questions = bank.bank(course.id)
    rows = table_of(questions, course_lessons(course))
    body = to_xlsx(rows) if file_format == "xlsx" else to_csv(rows)
    record(actor, "quiz_export", now, target=f"course:{course.id}", detail=f"{file_format} {len(questions)}",
           institution_id=course.institution_id)
    db.session.commit()
    return body
