"""The staff's question bank pages over HTTP (lms/quiz/views/bank.py): who may open them, adding, editing
and removing questions with bad input shown per field in Chinese, import (XLSX, CSV, GBK) all or nothing
with errors per row, export and the template, the paper settings and their preview, and the bank-size
rule that keeps a course from being published (Guangdong checklist 32)."""
import io
import re
from datetime import date

import openpyxl
import pytest
from sqlalchemy import select

from lms.audit.models import AuditLog
from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.player.models import DRAFT, PUBLISHED, READY, Course, Lesson, Video
from lms.quiz import bank, papers, transfer
from lms.quiz.models import MANUAL, MULTIPLE, SINGLE, TRUE_FALSE, ManualPaperItem, Question

from .conftest import signed_in
from .quizdata import csv_text, stock_bank, xlsx_bytes

HEADER = list(transfer.HEADERS)


def make_course(db, institution_id, seconds=(601.0,), title="危险化学品安全管理") -> Course:
    """A draft course whose lessons have ready videos of the given lengths (no transcoding)."""
    course = Course(institution_id=institution_id, title=title, nominal_hours=1.0, last_reviewed_on=date(2026, 1, 1),
                    status=DRAFT)
    db.session.add(course)
    db.session.flush()
    for position, duration in enumerate(seconds, start=1):
        video = Video(source_name="source.mp4", status=READY, duration=duration)
        db.session.add(video)
        db.session.flush()
        db.session.add(Lesson(course_id=course.id, position=position, title=f"课时{position}：法规与标准",
                              video_id=video.id))
    db.session.commit()
    return course


@pytest.fixture()
def course(db, staff):
    return make_course(db, staff.institution_id)


@pytest.fixture()
def stocked(db, course, staff):
    """The course with the five questions of tests/quizdata.py and an automatic paper of 5 x 20 points."""
    stock_bank(course, Actor(staff, "127.0.0.1", "pytest"))
    return course


@pytest.fixture()
def other_client(app, other_staff):
    return signed_in(app, other_staff.username)


def page(response) -> str:
    return response.get_data(as_text=True)


def questions_of(db, course) -> list[Question]:
    db.session.expire_all()
    return bank.bank(course.id)


def row(kind, stem, options=(), answer="", explanation="", point="", lesson=""):
    return [kind, stem, *options, *[""] * (8 - len(options)), answer, explanation, point, lesson]


GOOD_ROWS = [
    row("判断题", "动火作业前必须办理动火作业许可证。", answer="正确", explanation="动火作业许可制度。", point="特殊作业",
        lesson="1"),
    row("单选题", "发生火灾时首先应当？", ["立即报警", "继续工作", "乘坐电梯"], "A", "先报警。", "应急处置"),
    row("多选题", "受限空间作业应当？", ["先通风", "先检测", "单人进入", "设监护人"], "ABD", "", "特殊作业",
        "课时1：法规与标准"),
]


def upload(client, course, data: bytes, filename: str):
    return client.post(f"/quiz/courses/{course.id}/bank/import",
                       data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


# --- who may open what ----------------------------------------------------------------------------

def routes(course, question):
    base = f"/quiz/courses/{course.id}"
    gets = [f"{base}/bank", f"{base}/bank/new", f"{base}/bank/{question.id}/edit", f"{base}/bank/import",
            f"{base}/bank/export.xlsx", f"{base}/bank/export.csv", f"{base}/bank/template.xlsx", f"{base}/paper",
            f"{base}/paper/preview"]
    posts = [f"{base}/bank/new", f"{base}/bank/{question.id}/edit", f"{base}/bank/{question.id}/remove",
             f"{base}/bank/import", f"{base}/paper"]
    return gets, posts


def test_only_staff_of_the_course_institution_may_open_the_bank_pages(app, db, stocked, staff_client, other_client,
                                                                      learner_client, admin_client):
    question = bank.bank(stocked.id)[0]
    gets, posts = routes(stocked, question)
    for url in gets:
        assert staff_client.get(url).status_code == 200, url
        assert other_client.get(url).status_code == 404, url     # another institution's course: not revealed
        assert learner_client.get(url).status_code == 403, url   # another role
        assert admin_client.get(url).status_code == 403, url
        assert app.test_client().get(url).status_code == 302, url  # not signed in: to the sign-in page
    for url in posts:
        assert other_client.post(url, data={}).status_code == 404, url
        assert learner_client.post(url, data={}).status_code == 403, url
    assert len(questions_of(db, stocked)) == 5  # none of the refused posts removed anything
    assert staff_client.get(f"/quiz/courses/{stocked.id}/bank/999999/edit").status_code == 404


def test_a_question_of_another_course_is_not_found_through_this_one(app, db, staff, stocked, staff_client):
    other_course = make_course(db, staff.institution_id, title="另一门课")
    foreign = bank.bank(stocked.id)[0]
    assert staff_client.get(f"/quiz/courses/{other_course.id}/bank/{foreign.id}/edit").status_code == 404
    assert staff_client.post(f"/quiz/courses/{other_course.id}/bank/{foreign.id}/remove").status_code == 404
    assert not questions_of(db, stocked)[0].retired


def test_forms_need_csrf(app, stocked, staff_client):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        question = bank.bank(stocked.id)[0]
        assert staff_client.post(f"/quiz/courses/{stocked.id}/bank/{question.id}/remove").status_code == 400
        assert upload(staff_client, stocked, xlsx_bytes([HEADER, *GOOD_ROWS]), "bank.xlsx").status_code == 400
        assert staff_client.post(f"/quiz/courses/{stocked.id}/paper", data={"mode": "auto"}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


# --- the list -------------------------------------------------------------------------------------

def test_the_bank_lists_questions_with_counts_and_the_required_size(db, stocked, staff_client):
    html = page(staff_client.get(f"/quiz/courses/{stocked.id}/bank"))
    assert "题库 5 题 / 至少需要 2 题" in html and "试卷已就绪" in html
    assert re.search(r'id="count-true_false"><b>2</b>判断题', html)
    assert re.search(r'id="count-single"><b>2</b>单选题', html)
    assert re.search(r'id="count-multiple"><b>1</b>多选题', html)
    assert html.count("data-question=") == 5 and "单选题1：本题的正确答案是“选项乙”。" in html
    assert "导出 Excel" in html and "下载导入模板" in html


def test_the_bank_can_be_searched_by_text_kind_and_knowledge_point(db, stocked, staff_client):
    url = f"/quiz/courses/{stocked.id}/bank"
    assert page(staff_client.get(url, query_string={"q": "选项丙"})).count("data-question=") == 3  # in options too
    assert page(staff_client.get(url, query_string={"kind": "true_false"})).count("data-question=") == 2
    assert page(staff_client.get(url, query_string={"point": "危险化学品"})).count("data-question=") == 1
    assert page(staff_client.get(url, query_string={"q": "判断题2", "kind": "single"})).count("data-question=") == 0
    # a stray course_id in the query string must not break the page links
    assert staff_client.get(url, query_string={"course_id": "7", "page": "1"}).status_code == 200


# --- add, edit, remove ----------------------------------------------------------------------------

def question_form(**fields):
    data = {"kind": SINGLE, "stem": "安全帽的主要作用是？", "option_a": "防止头部受伤", "option_b": "装饰", "option_c": "遮阳",
            "answer_letters": ["A"], "explanation": "安全帽保护头部。", "knowledge_point": "防护用品", "lesson": ""}
    data.update(fields)
    return data


def test_staff_add_questions_of_each_kind(db, course, staff_client):
    url = f"/quiz/courses/{course.id}/bank/new"
    assert "添加试题" in page(staff_client.get(url))
    lesson = course.lessons[0]
    assert staff_client.post(url, data=question_form(lesson=str(lesson.id))).status_code == 302
    assert staff_client.post(url, data=question_form(
        kind=MULTIPLE, stem="应急预案包括？", option_d="第四项", answer_letters=["C", "A"])).status_code == 302
    assert staff_client.post(url, data={"kind": TRUE_FALSE, "stem": "安全生产人人有责。", "true_false_answer": "A",
                                        "answer_letters": ["B", "C"]}).status_code == 302
    saved = [(q.kind, q.answer, q.option_list, q.lesson_id) for q in questions_of(db, course)]
    assert saved == [(SINGLE, "A", ["防止头部受伤", "装饰", "遮阳"], lesson.id),
                     (MULTIPLE, "AC", ["防止头部受伤", "装饰", "遮阳", "第四项"], None),
                     (TRUE_FALSE, "A", [], None)]
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.action.like("quiz_%"))).all()
    assert actions == ["quiz_question_add"] * 3


@pytest.mark.parametrize("fields, field, message", [
    ({"stem": "  "}, "stem", "此项为必填项。"),
    ({"option_b": "", "option_c": ""}, "options", "选择题需要 2 至 8 个选项。"),
    ({"option_b": "", "option_c": "遮阳"}, "options", "每个选项都需要填写，且不超过 500 字。"),
    ({"option_b": "防止头部受伤"}, "options", "有两个选项内容相同。"),
    ({"answer_letters": []}, "answer", "单选题的答案为其选项中的一个字母。"),
    ({"answer_letters": ["A", "B"]}, "answer", "单选题的答案为其选项中的一个字母。"),
    ({"answer_letters": ["D"]}, "answer", "单选题的答案为其选项中的一个字母。"),
    ({"kind": MULTIPLE, "answer_letters": ["A"]}, "answer", "多选题的答案为其选项中的两个或更多字母。"),
    ({"kind": TRUE_FALSE, "option_a": "", "option_b": "", "option_c": ""}, "answer",
     "判断题的答案为“正确”或“错误”（A 或 B）。"),
    ({"kind": TRUE_FALSE, "true_false_answer": "A"}, "options", "判断题不设选项。"),
    ({"kind": "essay"}, "kind", "题型必须是判断题、单选题或多选题。"),
    ({"knowledge_point": "长" * 65}, "knowledge_point", "文字过长。"),
    ({"stem": "长" * 2001}, "stem", "文字过长。"),
    ({"lesson": "999999"}, "lesson", "该课时不属于本课程。"),
    ({"lesson": "abc"}, "lesson", "该课时不属于本课程。"),
    ({"lesson": "²"}, "lesson", "该课时不属于本课程。"),  # a digit to str.isdigit, not to int()
])
def test_bad_input_is_shown_by_field_in_chinese_and_nothing_is_saved(db, course, staff_client, fields, field, message):
    response = staff_client.post(f"/quiz/courses/{course.id}/bank/new", data=question_form(**fields))
    assert response.status_code == 200
    end = "</fieldset>" if field in ("options", "answer") else '<(?:div|fieldset) class="field|<button'
    block = re.search(rf'id="field-{field}".*?(?={end})', page(response), re.S)
    assert block and message in block.group(0), page(response)
    assert questions_of(db, course) == []


def test_staff_edit_a_question_and_bad_input_leaves_it_as_it_was(db, stocked, staff_client):
    question = bank.bank(stocked.id)[2]  # single choice, answer B
    url = f"/quiz/courses/{stocked.id}/bank/{question.id}/edit"
    form_page = page(staff_client.get(url))
    assert "单选题1：本题的正确答案是“选项乙”。" in form_page and 'value="选项丁"' in form_page
    assert re.search(r'<input checked[^>]*value="B"|<input[^>]*value="B"[^>]*checked', form_page)
    bad = staff_client.post(url, data=question_form(stem="", answer_letters=[]))
    assert "此项为必填项。" in page(bad) and "单选题的答案为其选项中的一个字母。" in page(bad)
    assert questions_of(db, stocked)[2].stem == "单选题1：本题的正确答案是“选项乙”。"
    assert staff_client.post(url, data=question_form(stem="改过的题干", answer_letters=["C"])).status_code == 302
    edited = questions_of(db, stocked)[2]
    assert (edited.stem, edited.answer, edited.option_list) == ("改过的题干", "C", ["防止头部受伤", "装饰", "遮阳"])
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.action == "quiz_question_edit"))


def test_an_edit_that_would_leave_a_published_course_without_its_paper_is_refused(db, stocked, staff_client):
    assert staff_client.post(f"/courses/{stocked.id}/status", data={"status": "published"}).status_code == 302
    question = bank.bank(stocked.id)[0]  # true/false; the paper takes both true/false questions
    response = staff_client.post(f"/quiz/courses/{stocked.id}/bank/{question.id}/edit", data=question_form())
    assert response.status_code == 200 and "判断题：试卷需要 2 道，题库只有 1 道。" in page(response)
    assert questions_of(db, stocked)[0].kind == TRUE_FALSE


def test_staff_remove_a_question_and_a_refusal_is_explained(db, course, staff, staff_client):
    actor = Actor(staff, "127.0.0.1", "pytest")
    for draft in list(__import__("tests.quizdata", fromlist=["drafts"]).drafts(2, 2, 1)):
        bank.add_question(course, draft, utcnow(), actor)
    questions = bank.bank(course.id)
    bank.save_manual_paper(course, [(questions[0].id, 50), (questions[2].id, 50)], utcnow(), actor)
    url = f"/quiz/courses/{course.id}/bank"
    refused = staff_client.post(f"{url}/{questions[0].id}/remove", follow_redirects=True)
    assert "该题在手工组卷的试卷中，请先从试卷中移除。" in page(refused)
    assert not questions_of(db, course)[0].retired
    removed = staff_client.post(f"{url}/{questions[1].id}/remove", follow_redirects=True)
    assert "试题已从题库中移除。" in page(removed) and "已移除的试题（1）" in page(removed)
    assert len(questions_of(db, course)) == 4
    assert staff_client.get(f"{url}/{questions[1].id}/edit").status_code == 404  # a removed question stays removed


def test_a_published_course_cannot_lose_the_questions_its_size_rule_needs(db, course, staff, staff_client):
    actor = Actor(staff, "127.0.0.1", "pytest")
    stock_bank(course, actor, true_false=2, single=0, multiple=0, points=(50, 0, 0))
    assert staff_client.post(f"/courses/{course.id}/status", data={"status": "published"}).status_code == 302
    questions = bank.bank(course.id)
    refused = staff_client.post(f"/quiz/courses/{course.id}/bank/{questions[0].id}/remove", follow_redirects=True)
    assert "题库至少需要 2 道题（视频每 10 分钟一道），目前有 1 道。" in page(refused)
    assert len(questions_of(db, course)) == 2


# --- publishing and the course page ---------------------------------------------------------------

def test_publishing_waits_for_one_question_per_ten_minutes_of_video(db, course, staff, staff_client):
    """601 s of video need 2 questions (rounded up); the course page says why publishing is refused."""
    actor = Actor(staff, "127.0.0.1", "pytest")
    bank.add_question(course, bank.QuestionDraft(TRUE_FALSE, "第一题", [], "A"), utcnow(), actor)
    bank.save_auto_settings(course, papers.PaperRules(papers.KindRule(1, 100), papers.KindRule(0, 0),
                                                      papers.KindRule(0, 0)), utcnow(), actor)
    detail = page(staff_client.get(f"/courses/{course.id}"))
    assert "题库 1 题 / 至少需要 2 题" in detail and "试卷已就绪" in detail
    assert f'href="/quiz/courses/{course.id}/bank"' in detail and f'href="/quiz/courses/{course.id}/paper"' in detail
    refused = staff_client.post(f"/courses/{course.id}/status", data={"status": "published"}, follow_redirects=True)
    assert "题库至少需要 2 道题（视频每 10 分钟一道），目前有 1 道。" in page(refused)
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == DRAFT
    assert staff_client.post(f"/quiz/courses/{course.id}/bank/new", data={
        "kind": TRUE_FALSE, "stem": "第二题", "true_false_answer": "B"}).status_code == 302
    assert "题库 2 题 / 至少需要 2 题" in page(staff_client.get(f"/courses/{course.id}"))
    staff_client.post(f"/courses/{course.id}/status", data={"status": "published"})
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == PUBLISHED


def test_the_course_page_says_when_the_paper_is_not_ready(db, course, staff_client):
    detail = page(staff_client.get(f"/courses/{course.id}"))
    assert "题库 0 题 / 至少需要 2 题" in detail and "试卷未就绪" in detail and "请先设置组卷方式。" in detail


# --- paper settings and preview -------------------------------------------------------------------

def auto_form(tf=(0, 0), single=(0, 0), multiple=(0, 0)):
    return {"mode": "auto", "true_false_count": tf[0], "true_false_points": tf[1], "single_count": single[0],
            "single_points": single[1], "multiple_count": multiple[0], "multiple_points": multiple[1]}


def test_automatic_paper_settings_good_and_bad(db, stocked, staff_client):
    url = f"/quiz/courses/{stocked.id}/paper"
    shown = page(staff_client.get(url))
    assert "自动组卷" in shown and "合计：100 分" in shown
    not_100 = staff_client.post(url, data=auto_form((2, 10), (2, 20), (1, 30)))
    assert "试卷总分为 90 分，必须为 100 分。" in page(not_100) and "合计：90 分" in page(not_100)
    too_few = staff_client.post(url, data=auto_form((1, 10), (2, 20), (2, 25)))
    assert "多选题：试卷需要 2 道，题库只有 1 道。" in page(too_few)
    half = staff_client.post(url, data=auto_form((2, 0), (2, 30), (1, 40)))
    assert "判断题：题数和每题分值须同时填写或同时为零。" in page(half)
    not_a_number = staff_client.post(url, data=auto_form(("两", 10), (2, 20), (1, 40)))
    assert "请填写 0 至 1000 的整数。" in page(not_a_number)
    db.session.expire_all()
    assert bank.rules_of(bank.settings_of(stocked.id)).of(TRUE_FALSE) == papers.KindRule(2, 20)  # unchanged
    good = staff_client.post(url, data=auto_form((2, 10), (2, 25), (1, 30)), follow_redirects=True)
    assert "组卷设置已保存。" in page(good)
    db.session.expire_all()
    assert bank.rules_of(bank.settings_of(stocked.id)) == papers.PaperRules(
        papers.KindRule(2, 10), papers.KindRule(2, 25), papers.KindRule(1, 30))


def test_manual_paper_settings_good_and_bad(db, stocked, staff_client):
    url = f"/quiz/courses/{stocked.id}/paper"
    ids = [q.id for q in bank.bank(stocked.id)]
    bad = staff_client.post(url, data={"mode": "manual", f"points_{ids[0]}": "40", f"points_{ids[3]}": "50"})
    assert "试卷总分为 90 分，必须为 100 分。" in page(bad) and "合计：90 分" in page(bad)
    empty = staff_client.post(url, data={"mode": "manual"})
    assert "手工组卷的试卷中还没有试题。" in page(empty)
    negative = staff_client.post(url, data={"mode": "manual", f"points_{ids[0]}": "-5"})
    assert "请填写 0 至 1000 的整数。" in page(negative)
    assert bank.manual_items(stocked.id) == []
    good = staff_client.post(url, data={"mode": "manual", f"points_{ids[0]}": "40", f"points_{ids[3]}": "60",
                                        f"points_{ids[4]}": "0"}, follow_redirects=True)
    assert "组卷设置已保存。" in page(good) and "手工组卷" in page(good)
    db.session.expire_all()
    assert bank.settings_of(stocked.id).mode == MANUAL
    assert [(i.question_id, i.points) for i in db.session.scalars(select(ManualPaperItem))] == [(ids[0], 40),
                                                                                               (ids[3], 60)]


def preview_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<li class="card" data-question="(\d+)"', html)]


def test_the_preview_shows_a_random_paper_with_answers_and_explanations(db, course, staff, staff_client):
    actor = Actor(staff, "127.0.0.1", "pytest")
    stock_bank(course, actor, true_false=2, single=2, multiple=1)
    for n in range(3, 13):  # more true/false questions than the paper takes, so that papers differ
        bank.add_question(course, bank.QuestionDraft(TRUE_FALSE, f"补充判断题{n}", [], "B", f"补充解析{n}"), utcnow(), actor)
    url = f"/quiz/courses/{course.id}/paper/preview"
    html = page(staff_client.get(url))
    assert "共 5 道题，总分 100 分" in html and "本题的正确答案是" in html
    assert "答案: 正确" in html or "答案: 错误" in html
    assert "答案: B" in html and "答案: AC" in html and "解析: 解析1：选乙。" in html
    drawn = {tuple(sorted(preview_ids(page(staff_client.get(url))))) for _ in range(12)}
    assert len(drawn) > 1  # a fresh draw each time (12 draws of 2 from 12: all alike has odds ~1e-20)


def test_the_preview_of_a_manual_paper_and_of_no_paper(db, course, staff, staff_client):
    url = f"/quiz/courses/{course.id}/paper/preview"
    assert "请先设置组卷方式。" in page(staff_client.get(url))
    actor = Actor(staff, "127.0.0.1", "pytest")
    stock_bank(course, actor)
    ids = [q.id for q in bank.bank(course.id)]
    bank.save_manual_paper(course, [(ids[4], 70), (ids[1], 30)], utcnow(), actor)
    html = page(staff_client.get(url))
    assert preview_ids(html) == [ids[4], ids[1]] and "共 2 道题，总分 100 分" in html and "70 分" in html


# --- import and export over HTTP ------------------------------------------------------------------

def test_import_a_good_workbook(db, course, staff_client):
    response = upload(staff_client, course, xlsx_bytes([HEADER, *GOOD_ROWS]), "题库.xlsx")
    assert response.status_code == 302
    assert "已导入 3 道试题。" in page(staff_client.get(response.headers["Location"]))
    saved = [(q.kind, q.answer, q.lesson_id) for q in questions_of(db, course)]
    lesson_id = course.lessons[0].id
    assert saved == [(TRUE_FALSE, "A", lesson_id), (SINGLE, "A", None), (MULTIPLE, "ABD", lesson_id)]
    assert db.session.scalar(select(AuditLog.detail).where(AuditLog.action == "quiz_import")) == "3"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_import_a_good_csv_in_utf8_or_gbk(db, course, staff_client, encoding):
    response = upload(staff_client, course, csv_text([HEADER, *GOOD_ROWS]).encode(encoding), "题库.csv")
    assert response.status_code == 302
    assert [q.stem for q in questions_of(db, course)] == [r[1] for r in GOOD_ROWS]


def test_a_file_with_bad_rows_imports_nothing_and_lists_each_error(db, course, staff_client):
    rows = [HEADER, GOOD_ROWS[0], row("单选题", "", ["甲"], "C"), GOOD_ROWS[1], row("判断题", "是非", answer="也许")]
    response = upload(staff_client, course, xlsx_bytes(rows), "有错.xlsx")
    html = page(response)
    assert response.status_code == 200 and "未导入任何试题" in html
    assert "有错.xlsx 中有 2 行存在错误（共 4 处）" in html
    found = re.findall(r'<tr data-row="(\d+)" data-field="(\w+)"><td>\d+</td><td>([^<]+)</td><td>([^<]+)</td>', html)
    assert found == [("3", "stem", "试题", "此项为必填项。"), ("3", "options", "选项", "选择题需要 2 至 8 个选项。"),
                     ("3", "answer", "答案", "单选题的答案为其选项中的一个字母。"),
                     ("5", "answer", "答案", "判断题的答案为“正确”或“错误”（A 或 B）。")]
    assert questions_of(db, course) == []
    assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "quiz_import")) is None


@pytest.mark.parametrize("data, filename, message", [
    (b"", "bank.xlsx", "文件中没有试题。"),
    (b"plain words", "bank.txt", "请选择 Excel 工作簿（.xlsx）或 CSV 文件（.csv）。"),
    (b"PK\x03\x04 not really a zip", "bank.xlsx", "无法作为 Excel 工作簿（.xlsx）读取该文件"),
    ("题型,题干\n判断题,缺答案列\n".encode(), "bank.csv", "第一行必须是模板的列标题；缺少：答案。"),
    (b"\x80\x81\xff\xfe" * 10, "bank.csv", "无法识别该 CSV 文件的文字编码"),
])
def test_files_refused_as_a_whole_say_why_in_chinese(db, course, staff_client, data, filename, message):
    response = upload(staff_client, course, data, filename)
    assert response.status_code == 200 and message in page(response)
    assert questions_of(db, course) == []


def test_an_import_over_the_size_limit_or_without_a_file_is_refused(app, db, course, staff_client, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_QUIZ_MAX_IMPORT_BYTES", 1024 * 1024)
    big = csv_text([HEADER] + [GOOD_ROWS[1]] * 12_000).encode()
    assert len(big) > 1024 * 1024
    assert "文件超过 1 MB，请拆分为多个文件。" in page(upload(staff_client, course, big, "big.csv"))
    no_file = staff_client.post(f"/quiz/courses/{course.id}/bank/import", data={},
                                content_type="multipart/form-data")
    assert no_file.status_code == 200 and "请选择文件。" in page(no_file)
    assert questions_of(db, course) == []


def test_too_many_rows_are_refused(db, course, staff_client):
    data = csv_text([HEADER] + [GOOD_ROWS[1]] * (transfer.MAX_ROWS + 1)).encode()
    assert "文件中的试题超过 5000 道，请拆分为多个文件。" in page(upload(staff_client, course, data, "many.csv"))
    assert questions_of(db, course) == []


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_export_then_import_through_the_pages_gives_the_same_questions(db, staff, stocked, staff_client, file_format):
    exported = staff_client.get(f"/quiz/courses/{stocked.id}/bank/export.{file_format}")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    assert exported.headers["Cache-Control"] == "no-store"  # the file holds the test's answers
    if file_format == "csv":
        assert exported.data.startswith(b"\xef\xbb\xbf") and exported.mimetype == "text/csv"
    target = make_course(db, staff.institution_id, title="导入目标")
    assert upload(staff_client, target, exported.data, f"export.{file_format}").status_code == 302

    def content(questions):
        return [(q.kind, q.stem, q.option_list, q.answer, q.explanation, q.knowledge_point) for q in questions]
    assert content(questions_of(db, target)) == content(questions_of(db, stocked))
    assert db.session.scalar(select(AuditLog.detail).where(AuditLog.action == "quiz_export")) == f"{file_format} 5"


def test_the_template_download_opens_in_openpyxl_and_imports(db, course, staff_client):
    response = staff_client.get(f"/quiz/courses/{course.id}/bank/template.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER and len(rows) == 3
    assert upload(staff_client, course, response.data, "template.xlsx").status_code == 302
    assert [q.kind for q in questions_of(db, course)] == [SINGLE, TRUE_FALSE]
