"""Question banks as spreadsheets (lms/quiz/transfer.py): reading XLSX and CSV (UTF-8 with or without a
BOM, GBK) into drafts with errors per spreadsheet row, refusing whole files that cannot be read, importing
all or nothing, and exporting in the template's columns, guarded against formulas, so that an export
imports back to the same questions."""
import csv
import io
import zipfile
from dataclasses import replace
from datetime import date

import openpyxl
import pytest
from sqlalchemy import select

from lms.audit.models import AuditLog
from lms.core import limits
from lms.core.cells import guard, unguard
from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.player.models import DRAFT, READY, Course, Lesson, Video
from lms.quiz import bank, transfer
from lms.quiz.models import MULTIPLE, SINGLE, TRUE_FALSE, Question

from .quizdata import csv_text, xlsx_bytes

LIMIT = 5 * 1024 * 1024
LESSONS = [(11, 1, "安全生产法律法规"), (12, 2, "危险化学品基础")]
HEADER = list(transfer.HEADERS)


def row(kind, stem, options=(), answer="", explanation="", point="", lesson=""):
    return [kind, stem, *options, *[""] * (8 - len(options)), answer, explanation, point, lesson]


GOOD_ROWS = [
    row("判断题", "特种作业人员必须持证上岗。", answer="正确", explanation="《安全生产法》规定。", point="安全生产法",
        lesson="安全生产法律法规"),
    row("判断题", "发现事故隐患可以不报告。", answer="×", lesson="2"),
    row("单选题", "危险化学品仓库应当设置什么标志？", ["安全警示标志", "广告标志", "交通标志"], "A", point="危险化学品"),
    row("多选题", "下列属于个人防护用品的有？", ["安全帽", "防护手套", "茶杯", "护目镜"], "a, b，D", "甲乙丁。", "防护用品",
        "第1讲"),
]


def parse(data: bytes, filename: str, lessons=LESSONS, limit=LIMIT) -> transfer.ParsedImport:
    return transfer.parse_import(data, filename, lessons, limit)


def refusal(data: bytes, filename: str, limit=LIMIT) -> str:
    with pytest.raises(transfer.TransferError) as caught:
        parse(data, filename, limit=limit)
    return caught.value.code


def expected_drafts():
    return [
        bank.QuestionDraft(TRUE_FALSE, "特种作业人员必须持证上岗。", [], "A", "《安全生产法》规定。", "安全生产法", 11),
        bank.QuestionDraft(TRUE_FALSE, "发现事故隐患可以不报告。", [], "B", "", "", 12),
        bank.QuestionDraft(SINGLE, "危险化学品仓库应当设置什么标志？", ["安全警示标志", "广告标志", "交通标志"], "A", "",
                           "危险化学品", None),
        bank.QuestionDraft(MULTIPLE, "下列属于个人防护用品的有？", ["安全帽", "防护手套", "茶杯", "护目镜"], "ABD", "甲乙丁。",
                           "防护用品", 11),
    ]


# --- reading --------------------------------------------------------------------------------------

def test_a_good_workbook_becomes_drafts_with_answers_and_lessons_understood(app):
    parsed = parse(xlsx_bytes([HEADER, *GOOD_ROWS]), "题库.xlsx")
    assert parsed.errors == []
    assert parsed.drafts == expected_drafts()
    assert parsed.rows == [2, 3, 4, 5]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk", "gb18030"])
def test_a_good_csv_in_utf8_with_or_without_bom_or_gbk_reads_the_same(app, encoding):
    parsed = parse(csv_text([HEADER, *GOOD_ROWS]).encode(encoding), "题库.CSV")
    assert parsed.errors == [] and parsed.drafts == expected_drafts()


def test_csv_saved_as_unicode_text_with_tabs_is_read_too(app):
    text = "\n".join("\t".join(cells) for cells in [HEADER, *GOOD_ROWS[2:3]])
    parsed = parse(b"\xff\xfe" + text.encode("utf-16-le"), "bank.csv")
    assert parsed.errors == [] and parsed.drafts == expected_drafts()[2:3]


def test_headers_may_come_in_another_order_with_spaces_and_extra_columns(app):
    order = [5, 0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13]
    header = [HEADER[i] for i in order]
    header[0] = "选项 d"  # spaces and lower case in a header are forgiven
    rows = [header + ["备注"]] + [[r[i] for i in order] + ["本列被忽略"] for r in GOOD_ROWS]
    parsed = parse(xlsx_bytes(rows), "bank.xlsx")
    assert parsed.errors == [] and parsed.drafts == expected_drafts()


def test_optional_columns_may_be_left_out(app):
    parsed = parse(csv_text([["题型", "题干", "答案"], ["判断题", "安全第一。", "对"]]).encode(), "bank.csv")
    assert parsed.drafts == [bank.QuestionDraft(TRUE_FALSE, "安全第一。", [], "A", "", "", None)]


def test_bad_rows_are_each_reported_by_spreadsheet_row_field_and_message(app):
    rows = [HEADER,
            GOOD_ROWS[0],                                                        # row 2: fine
            row("问答题", "这是什么题型？", answer="A"),                             # row 3
            ["", "", "", "", "", "", "", "", "", "", "", "", "", ""],           # row 4: blank, skipped
            row("单选题", "", ["甲"], "C"),                                       # row 5
            row("多选题", "多选只给一个答案", ["甲", "乙", "丙"], "B", lesson="第9讲"),  # row 6
            row("判断题", "判断题带了选项", ["甲", "乙"], "正确的"),                   # row 7
            row("单选题", "选项重复", ["甲", "甲"], "A", point="长" * 65),            # row 8
            row("单选题", "中间空一个选项", ["甲", "", "丙"], "A"),                   # row 9
            ]
    with app.test_request_context():  # the messages in the default language, Chinese
        parsed = parse(xlsx_bytes(rows), "bank.xlsx")
        found = {(e.row, e.field, e.code) for e in parsed.errors}
        assert found == {(3, "kind", "kind"),
                         (5, "stem", "required"), (5, "options", "option_count"), (5, "answer", "answer_single"),
                         (6, "answer", "answer_multiple"), (6, "lesson", "lesson"),
                         (7, "options", "true_false_options"), (7, "answer", "answer_true_false"),
                         (8, "options", "option_repeat"), (8, "knowledge_point", "too_long"),
                         (9, "options", "option_text")}
        assert parsed.rows == [2] and parsed.error_rows == 6
        stem_error = next(e for e in parsed.errors if e.row == 5 and e.field == "stem")
        assert (stem_error.field_name, stem_error.message) == ("试题", "此项为必填项。")
        assert next(e for e in parsed.errors if e.row == 3).message == "题型必须是判断题、单选题或多选题。"
        assert next(e for e in parsed.errors if e.field == "lesson").message == "该课时不属于本课程。"


def test_control_characters_in_a_csv_are_a_row_error(app):
    parsed = parse(csv_text([HEADER, row("判断题", "带\x07控制字符", answer="对")]).encode(), "bank.csv")
    assert [(e.row, e.field, e.code) for e in parsed.errors] == [(2, "stem", "control")]


def test_a_lesson_number_of_any_length_is_only_a_lesson_not_found(app):
    rows = [HEADER, row("判断题", "甲", answer="对", lesson="9" * 5000), row("判断题", "乙", answer="对", lesson="２")]
    parsed = parse(xlsx_bytes(rows), "bank.xlsx")
    assert [(e.row, e.field) for e in parsed.errors] == [(2, "lesson")] and parsed.drafts[0].lesson_id == 12


def test_a_template_row_count_is_capped(app):
    assert refusal(csv_text([HEADER] + [GOOD_ROWS[0]] * (transfer.MAX_ROWS + 1)).encode(), "bank.csv") == \
        "too_many_rows"
    parsed = parse(csv_text([HEADER] + [GOOD_ROWS[0]] * transfer.MAX_ROWS).encode(), "bank.csv")
    assert len(parsed.drafts) == transfer.MAX_ROWS and parsed.rows[-1] == transfer.MAX_ROWS + 1


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_files_that_cannot_be_read_as_a_whole_are_refused_with_a_reason(app):
    good = xlsx_bytes([HEADER, *GOOD_ROWS])
    assert refusal(b"", "bank.xlsx") == "empty"
    assert refusal(good, "bank.xlsx", limit=len(good) - 1) == "too_large"
    assert parse(good, "bank").drafts == parse(good, "bank.txt").drafts == expected_drafts()  # known by its bytes
    assert refusal(b"some words", "bank.txt") == "format"
    assert refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500, "bank.xls") == "format"
    assert refusal(b"not a zip at all", "bank.xlsx") == "broken"
    assert refusal(good[: len(good) // 2], "bank.xlsx") == "broken"
    assert refusal(zip_bytes({"hello.txt": b"hi"}), "bank.xlsx") == "broken"
    assert refusal(zip_bytes({"xl/worksheets/sheet1.xml": b"\0" * (limits.MAX_MEMBER_BYTES + 1)}), "bank.xlsx") == \
        "unpacked_too_large"
    assert refusal(xlsx_bytes([]), "bank.xlsx") == "empty"
    assert refusal(xlsx_bytes([HEADER]), "bank.xlsx") == "empty"
    assert refusal("\n\n".encode(), "bank.csv") == "empty"
    assert refusal(xlsx_bytes([["题型", "题干"], ["判断题", "没有答案列"]]), "bank.xlsx") == "headers"
    assert refusal(xlsx_bytes([[], HEADER, GOOD_ROWS[0]]), "bank.xlsx") == "headers"  # the header is row 1
    assert refusal(xlsx_bytes([HEADER + ["题干"], GOOD_ROWS[0]]), "bank.xlsx") == "duplicate_header"
    assert refusal(b"\x80\x81\xff\xfe\x00\x01" * 10, "bank.csv") == "encoding"
    assert refusal(("题型,题干,答案\n判断题,\"" + "长" * 200_000 + "\",对\n").encode(), "bank.csv") == "broken_csv"


def test_every_file_refusal_has_a_chinese_message(app):
    with app.test_request_context():
        texts = {code: transfer.transfer_error_text(transfer.TransferError(code, **details)) for code, details in [
            ("empty", {}), ("too_large", {"bytes": 5 * 1024 * 1024}), ("unpacked_too_large", {}), ("format", {}),
            ("broken", {}), ("broken_csv", {}), ("encoding", {}), ("headers", {"missing": "答案"}),
            ("duplicate_header", {"name": "题干"}), ("too_many_rows", {"limit": 5000})]}
    assert texts["too_large"] == "文件超过 5 MB，请拆分为多个文件。"
    assert texts["headers"] == "第一行必须是模板的列标题；缺少：答案。"
    assert texts["too_many_rows"] == "文件中的试题超过 5000 道，请拆分为多个文件。"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in texts.values()), texts


# --- writing --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["=1+2", "+86", "-5℃", "@SUM(A1)", "'=x", "''-y", "'plain", "普通文字", "", "a=b"])
def test_the_formula_guard_is_undone_exactly_on_import(text):
    guarded = guard(text)
    assert guarded[:1] not in ("=", "+", "-", "@")
    assert unguard(guarded) == text


def test_the_template_opens_in_openpyxl_with_the_headers_two_examples_and_notes(app):
    with app.test_request_context():
        data = transfer.template_xlsx()
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    rows = [list(values) for values in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADER and len(rows) == 3
    assert "填写说明" in workbook.sheetnames
    parsed = parse(data, "template.xlsx", lessons=[])
    assert parsed.errors == [] and [d.kind for d in parsed.drafts] == [SINGLE, TRUE_FALSE]


# --- with the database: import all or nothing, export and back ----------------------------------

def make_course(db, institution_id, lessons=("安全生产法律法规", "危险化学品基础"), seconds=300.0) -> Course:
    course = Course(institution_id=institution_id, title="题库导入测试", nominal_hours=1.0,
                    last_reviewed_on=date(2026, 1, 1), status=DRAFT)
    db.session.add(course)
    db.session.flush()
    for position, title in enumerate(lessons, start=1):
        video = Video(source_name="source.mp4", status=READY, duration=seconds)
        db.session.add(video)
        db.session.flush()
        db.session.add(Lesson(course_id=course.id, position=position, title=title, video_id=video.id))
    db.session.commit()
    return course


def content(question: Question) -> tuple:
    return (question.kind, question.stem, question.option_list, question.answer, question.explanation,
            question.knowledge_point, question.lesson.title if question.lesson else None)


def test_import_adds_every_row_in_one_transaction_with_one_audit_row(app, db, staff):
    course = make_course(db, staff.institution_id)
    parsed = transfer.import_questions(course, xlsx_bytes([HEADER, *GOOD_ROWS]), "bank.xlsx", utcnow(),
                                       Actor(staff, "127.0.0.1", "pytest"), LIMIT)
    assert parsed.errors == [] and len(parsed.drafts) == 4
    questions = bank.bank(course.id)
    assert [content(q) for q in questions][1] == (TRUE_FALSE, "发现事故隐患可以不报告。", [], "B", "", "", "危险化学品基础")
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action.like("quiz_%"))).all()
    assert [(row.action, row.detail, row.target) for row in audit] == [("quiz_import", "4", f"course:{course.id}")]


def test_an_import_with_one_bad_row_adds_nothing(app, db, staff):
    course = make_course(db, staff.institution_id)
    rows = [HEADER, *GOOD_ROWS, row("单选题", "没有选项", answer="A")]
    parsed = transfer.import_questions(course, xlsx_bytes(rows), "bank.xlsx", utcnow(),
                                       Actor(staff, "127.0.0.1", "pytest"), LIMIT)
    assert [(e.row, e.field) for e in parsed.errors] == [(6, "options"), (6, "answer")]
    assert bank.bank(course.id) == []
    assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "quiz_import")) is None


def test_add_questions_refuses_a_bad_draft_and_adds_none(app, db, staff):
    course = make_course(db, staff.institution_id)
    drafts = [expected_drafts()[2], replace(expected_drafts()[1], lesson_id=course.lessons[1].id),
              bank.QuestionDraft(SINGLE, "", ["甲", "乙"], "A")]
    with pytest.raises(bank.QuizError) as caught:
        bank.add_questions(course, drafts, utcnow(), Actor(staff))
    assert caught.value.details["index"] == 2 and caught.value.details["problems"] == [("stem", "required")]
    assert bank.bank(course.id) == []


def tricky_questions(course, staff):
    """Questions whose texts a spreadsheet would take for formulas, with line breaks and quotes."""
    lesson = course.lessons[1]
    drafts = [
        bank.QuestionDraft(SINGLE, "=HYPERLINK(\"http://evil\",\"点我\")", ["-5℃以下", "+10℃", "@室温", "'=引号"], "B",
                           "换行\n第二行，含\"引号\"", "-温度-", lesson.id),
        bank.QuestionDraft(TRUE_FALSE, "储存区域严禁烟火。", [], "A", "", "", None),
        bank.QuestionDraft(MULTIPLE, "选出正确的两项", ["甲", "乙", "丙"], "AC", "", "", course.lessons[0].id),
    ]
    for draft in drafts:
        bank.add_question(course, draft, utcnow(), Actor(staff))
    return bank.bank(course.id)


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_export_then_import_gives_the_same_questions(app, db, staff, file_format):
    source = make_course(db, staff.institution_id)
    original = [content(q) for q in tricky_questions(source, staff)]
    data = transfer.export_bank(source, file_format, utcnow(), Actor(staff))
    target = make_course(db, staff.institution_id)
    parsed = transfer.import_questions(target, data, f"export.{file_format}", utcnow(), Actor(staff), LIMIT)
    assert parsed.errors == []
    assert [content(q) for q in bank.bank(target.id)] == original
    assert db.session.scalar(select(AuditLog.detail).where(AuditLog.action == "quiz_export")) == f"{file_format} 3"


def test_exported_cells_are_never_formulas(app, db, staff):
    course = make_course(db, staff.institution_id)
    tricky_questions(course, staff)
    text = transfer.export_bank(course, "csv", utcnow(), Actor(staff)).decode("utf-8")
    assert text.startswith("\ufeff题型,题干,")
    cells = [cell for record in csv.reader(io.StringIO(text[1:])) for cell in record]
    assert "'=HYPERLINK(\"http://evil\",\"点我\")" in cells and "'-5℃以下" in cells and "'+10℃" in cells
    assert "'@室温" in cells and "''=引号" in cells and "'-温度-" in cells
    assert not any(cell[:1] in "=+-@" and cell for cell in cells)
    sheet = openpyxl.load_workbook(io.BytesIO(transfer.export_bank(course, "xlsx", utcnow(), Actor(staff)))).active
    assert all(cell.data_type != "f" for cells in sheet.iter_rows() for cell in cells)
    assert sheet["B2"].value == "'=HYPERLINK(\"http://evil\",\"点我\")"
