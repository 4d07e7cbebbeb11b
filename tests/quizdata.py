"""A small question bank for tests: questions whose answers a test (or a browser test) can find by
their text, and the paper settings that use them; lessons marked complete so that the test opens;
the right and wrong choices of a served question; spreadsheet files for imports."""
import csv
import io

import openpyxl

from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.extensions import db
from lms.player.models import LessonProgress
from lms.quiz import bank, papers

# Each stem says its answer, so that a browser test can answer right or wrong on purpose.
TRUE_FALSE_STEM = "判断题{n}：本题的正确答案是“正确”。"
SINGLE_STEM = "单选题{n}：本题的正确答案是“选项乙”。"
MULTIPLE_STEM = "多选题{n}：本题的正确答案是“选项甲”和“选项丙”。"
SINGLE_OPTIONS = ["选项甲", "选项乙", "选项丙", "选项丁"]
MULTIPLE_OPTIONS = ["选项甲", "选项乙", "选项丙", "选项丁"]


def drafts(true_false=2, single=2, multiple=1):
    for n in range(1, true_false + 1):
        yield bank.QuestionDraft("true_false", TRUE_FALSE_STEM.format(n=n), [], "A", f"解析{n}：依法应当如此。", "安全生产法")
    for n in range(1, single + 1):
        yield bank.QuestionDraft("single", SINGLE_STEM.format(n=n), SINGLE_OPTIONS, "B", f"解析{n}：选乙。", "应急管理")
    for n in range(1, multiple + 1):
        yield bank.QuestionDraft("multiple", MULTIPLE_STEM.format(n=n), MULTIPLE_OPTIONS, "AC", f"解析{n}：甲丙。",
                                 "危险化学品")


def stock_bank(course, actor: Actor, true_false=2, single=2, multiple=1, points=(20, 20, 20)):
    """Add the questions and compose papers of (true_false x points[0], single x points[1], multiple x
    points[2]); the counts and points must total 100."""
    for draft in drafts(true_false, single, multiple):
        bank.add_question(course, draft, utcnow(), actor)
    rules = papers.PaperRules(papers.KindRule(true_false, points[0]), papers.KindRule(single, points[1]),
                              papers.KindRule(multiple, points[2]))
    bank.save_auto_settings(course, rules, utcnow(), actor)


def complete_lessons(learner, course, when=None):
    """Every lesson of the course complete, its time confirmed: the test opens."""
    for lesson in course.lessons:
        db.session.add(LessonProgress(learner_id=learner.id, lesson_id=lesson.id, effective_seconds=10.0,
                                      covered_seconds=10.0, completed_at=when or utcnow()))
    db.session.commit()


def right_choice(question) -> list[int]:
    """The shown positions of an AttemptQuestion's key (what a learner who knows the answer clicks)."""
    originals = ["ABCDEFGH".index(letter) for letter in question.answer_key]
    return [question.order.index(index) for index in originals]


def wrong_choice(question) -> list[int]:
    right = set(right_choice(question))
    return [next(i for i in range(len(question.order)) if i not in right)]


def xlsx_bytes(rows) -> bytes:
    workbook = openpyxl.Workbook()
    for values in rows:
        workbook.active.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_text(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
