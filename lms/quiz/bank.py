"""A course's question bank: validating, adding, editing and retiring questions, the bank-size
rule for publishing, and the paper settings. Each state change writes its audit row."""
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from ..audit.services import record
from ..core.context import Actor
from ..core.errors import RuleViolation
from ..extensions import db
from ..player.models import PUBLISHED, Course, Lesson, Video
from . import grading, papers
from .models import AUTO, KINDS, MANUAL, TRUE_FALSE, ManualPaperItem, Question, QuizSettings

MAX_STEM = 2000
MAX_OPTION = 500
MAX_EXPLANATION = 2000
MAX_POINT = 64


class QuizError(RuleViolation):
    """A quiz rule refused the action."""


@dataclass(frozen=True)
class QuestionDraft:
    kind: str
    stem: str
    options: list = field(default_factory=list)
    answer: str = ""
    explanation: str = ""
    knowledge_point: str = ""
    lesson_id: int | None = None


def draft_problems(draft: QuestionDraft, lesson_ids: set[int]) -> list[tuple[str, str]]:
    """(field, code) pairs of what is wrong with a draft, empty when it may be saved. ``lesson_ids``
    are the lessons of the bank's course."""
    problems = []
    if draft.kind not in KINDS:
        return [("kind", "kind")]
    if not draft.stem.strip():
        problems.append(("stem", "required"))
    elif len(draft.stem) > MAX_STEM:
        problems.append(("stem", "too_long"))
    if draft.kind == TRUE_FALSE:
        if draft.options:
            problems.append(("options", "true_false_options"))
    elif not grading.MIN_OPTIONS <= len(draft.options) <= grading.MAX_OPTIONS:
        problems.append(("options", "option_count"))
    elif any(not option.strip() or len(option) > MAX_OPTION for option in draft.options):
        problems.append(("options", "option_text"))
    elif len({option.strip() for option in draft.options}) != len(draft.options):
        problems.append(("options", "option_repeat"))
    count = grading.option_count(draft.kind, draft.options)
    if not grading.valid_key(draft.kind, draft.answer, count):
        problems.append(("answer", "answer_" + draft.kind))
    if len(draft.explanation) > MAX_EXPLANATION:
        problems.append(("explanation", "too_long"))
    if len(draft.knowledge_point) > MAX_POINT:
        problems.append(("knowledge_point", "too_long"))
    if draft.lesson_id is not None and draft.lesson_id not in lesson_ids:
        problems.append(("lesson", "lesson"))
    return problems


def lesson_ids_of(course: Course) -> set[int]:
    return {lesson.id for lesson in course.lessons}


def _apply(question: Question, draft: QuestionDraft, now: datetime) -> None:
    question.kind, question.stem = draft.kind, draft.stem.strip()
    question.options = json.dumps([o.strip() for o in draft.options], ensure_ascii=False)
    question.answer, question.explanation = draft.answer, draft.explanation.strip()
    question.knowledge_point, question.lesson_id = draft.knowledge_point.strip(), draft.lesson_id
    question.updated_at = now


def _refuse_if_invalid(course: Course, draft: QuestionDraft) -> None:
    problems = draft_problems(draft, lesson_ids_of(course))
    if problems:
        raise QuizError("invalid_question", problems=problems)


def add_question(course: Course, draft: QuestionDraft, now: datetime, actor: Actor) -> Question:
    """Add a question to the course's bank; logged and committed."""
    _refuse_if_invalid(course, draft)
    question = Question(course_id=course.id, created_at=now)
    _apply(question, draft, now)
    db.session.add(question)
    db.session.flush()
    record(actor, "quiz_question_add", now, target=f"course:{course.id} question:{question.id}",
           detail=question.stem[:100], institution_id=course.institution_id)
    db.session.commit()
    return question


def add_questions(course: Course, drafts: list[QuestionDraft], now: datetime, actor: Actor,
                  action: str = "quiz_import") -> list[Question]:
    """Add many questions (an import) in one transaction: all of them or, when any draft is invalid,
    none. One audit row with the count. Committed."""
    lesson_ids = lesson_ids_of(course)
    for index, draft in enumerate(drafts):
        problems = draft_problems(draft, lesson_ids)
        if problems:
            raise QuizError("invalid_question", problems=problems, index=index)
    questions = []
    for draft in drafts:
        question = Question(course_id=course.id, created_at=now)
        _apply(question, draft, now)
        questions.append(question)
    db.session.add_all(questions)
    db.session.flush()
    record(actor, action, now, target=f"course:{course.id}", detail=str(len(questions)),
           institution_id=course.institution_id)
    db.session.commit()
    return questions


def edit_question(question: Question, draft: QuestionDraft, now: datetime, actor: Actor) -> None:
    """Change a question; attempts already made keep the copy they served. Refused when a published
    course would be left without papers its learners can be tested with. Logged and committed."""
    course = db.session.get(Course, question.course_id)
    _refuse_if_invalid(course, draft)
    _apply(question, draft, now)
    _refuse_if_untestable(course)
    record(actor, "quiz_question_edit", now, target=f"course:{course.id} question:{question.id}",
           detail=question.stem[:100], institution_id=course.institution_id)
    db.session.commit()


def _refuse_if_untestable(course: Course) -> None:
    """A published course keeps the bank size and the papers the publishing rule asked for: undo the
    change in progress and refuse it otherwise."""
    if course.status != PUBLISHED:
        return
    db.session.flush()
    problems = publish_problems(course)
    if problems:
        db.session.rollback()
        raise QuizError("paper", problems=problems)


def remove_question(question: Question, now: datetime, actor: Actor) -> None:
    """Take a question out of the bank. It is retired, not deleted: attempts and practice records refer
    to it. Refused while the hand-made paper in use holds it, or when a published course would be left
    without a bank or papers its learners can be tested with. A hand-made paper not in use (papers are
    composed automatically) just loses it. Logged and committed."""
    course = db.session.get(Course, question.course_id)
    held = db.session.scalars(select(ManualPaperItem).where(ManualPaperItem.question_id == question.id)).all()
    if held and getattr(settings_of(course.id), "mode", None) == MANUAL:
        raise QuizError("on_manual_paper")
    for item in held:
        db.session.delete(item)
    question.retired = True
    question.updated_at = now
    _refuse_if_untestable(course)
    record(actor, "quiz_question_remove", now, target=f"course:{course.id} question:{question.id}",
           detail=question.stem[:100], institution_id=course.institution_id)
    db.session.commit()


def bank(course_id: int, include_retired: bool = False) -> list[Question]:
    query = select(Question).where(Question.course_id == course_id)
    if not include_retired:
        query = query.where(Question.retired.is_(False))
    return list(db.session.scalars(query.order_by(Question.id)))


def matching(questions, text: str = "", kind: str = "", point: str = "", explanations: bool = False) -> list:
    """The questions whose stem or an option contains ``text`` (ignoring case; with ``explanations``
    also the explanation and the knowledge point: staff search those, learners must not), of
    ``kind`` and knowledge point ``point`` when they are given, in the order given."""
    needle = text.casefold()

    def says(question) -> bool:
        texts = [question.stem, *question.option_list]
        if explanations:
            texts += [question.explanation, question.knowledge_point]
        return any(needle in t.casefold() for t in texts)

    return [q for q in questions if (not kind or q.kind == kind) and (not point or q.knowledge_point == point)
            and (not needle or says(q))]


def active_count(course_id: int) -> int:
    return db.session.scalar(select(func.count(Question.id)).where(
        Question.course_id == course_id, Question.retired.is_(False))) or 0


def counts_by_kind(course_id: int) -> dict[str, int]:
    return dict(db.session.execute(select(Question.kind, func.count(Question.id)).where(
        Question.course_id == course_id, Question.retired.is_(False)).group_by(Question.kind)).all())


def ids_by_kind(course_id: int) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {kind: [] for kind in KINDS}
    for qid, kind in db.session.execute(select(Question.id, Question.kind).where(
            Question.course_id == course_id, Question.retired.is_(False)).order_by(Question.id)):
        found[kind].append(qid)
    return found


def video_seconds(course_id: int) -> float:
    return float(db.session.scalar(select(func.coalesce(func.sum(Video.duration), 0.0))
                                   .select_from(Lesson).join(Video, Video.id == Lesson.video_id)
                                   .where(Lesson.course_id == course_id)) or 0.0)


def required_size(course: Course) -> int:
    return papers.required_bank_size(video_seconds(course.id))


# --- paper settings -------------------------------------------------------------------------------

def settings_of(course_id: int) -> QuizSettings | None:
    return db.session.scalar(select(QuizSettings).where(QuizSettings.course_id == course_id))


def rules_of(settings: QuizSettings) -> papers.PaperRules:
    return papers.PaperRules(papers.KindRule(settings.true_false_count, settings.true_false_points),
                             papers.KindRule(settings.single_count, settings.single_points),
                             papers.KindRule(settings.multiple_count, settings.multiple_points))


def manual_items(course_id: int) -> list[ManualPaperItem]:
    return list(db.session.scalars(select(ManualPaperItem).where(ManualPaperItem.course_id == course_id)
                                   .order_by(ManualPaperItem.position)))


def manual_paper(course_id: int) -> list[papers.PaperItem]:
    return [papers.PaperItem(item.question_id, item.question.kind, item.points)
            for item in manual_items(course_id) if not item.question.retired]


def paper_problems(course_id: int) -> list[tuple[str, dict]]:
    """What stops the course's papers from being composed (empty when they can be)."""
    settings = settings_of(course_id)
    if settings is None:
        return [("no_settings", {})]
    if settings.mode == MANUAL:
        return papers.manual_problems(manual_paper(course_id))
    return papers.rule_problems(rules_of(settings), counts_by_kind(course_id))


def save_auto_settings(course: Course, rules: papers.PaperRules, now: datetime, actor: Actor) -> QuizSettings:
    """Compose papers automatically by these counts and points. Refused unless they total 100 points
    and the bank holds enough questions of each kind. Logged and committed."""
    problems = papers.rule_problems(rules, counts_by_kind(course.id))
    if problems:
        raise QuizError("paper", problems=problems)
    settings = settings_of(course.id) or QuizSettings(course_id=course.id)
    db.session.add(settings)
    settings.mode = AUTO
    for kind in KINDS:
        setattr(settings, f"{kind}_count", rules.of(kind).count)
        setattr(settings, f"{kind}_points", rules.of(kind).points)
    settings.updated_at = now
    record(actor, "quiz_paper_settings", now, target=f"course:{course.id}",
           detail="auto " + " ".join(f"{k}:{rules.of(k).count}x{rules.of(k).points}" for k in KINDS),
           institution_id=course.institution_id)
    db.session.commit()
    return settings


def save_manual_paper(course: Course, chosen: list[tuple[int, int]], now: datetime, actor: Actor) -> None:
    """Use a hand-made paper: (question id, points) pairs in order, questions of this course's bank,
    totalling 100 points. Logged and committed."""
    questions = {q.id: q for q in bank(course.id)}
    if any(qid not in questions for qid, _ in chosen) or len({qid for qid, _ in chosen}) != len(chosen):
        raise QuizError("manual_question")
    items = [papers.PaperItem(qid, questions[qid].kind, points) for qid, points in chosen]
    problems = papers.manual_problems(items)
    if problems:
        raise QuizError("paper", problems=problems)
    for item in manual_items(course.id):
        db.session.delete(item)
    db.session.flush()
    for position, (qid, points) in enumerate(chosen, start=1):
        db.session.add(ManualPaperItem(course_id=course.id, question_id=qid, points=points, position=position))
    settings = settings_of(course.id) or QuizSettings(course_id=course.id)
    db.session.add(settings)
    settings.mode, settings.updated_at = MANUAL, now
    record(actor, "quiz_paper_settings", now, target=f"course:{course.id}",
           detail="manual " + " ".join(f"{qid}:{points}" for qid, points in chosen)[:250],
           institution_id=course.institution_id)
    db.session.commit()


def publish_problems(course: Course) -> list[tuple[str, dict]]:
    """Why the course's test keeps it from being published: the bank-size rule and a paper that can
    be composed."""
    problems = []
    needed, available = required_size(course), active_count(course.id)
    if available < needed:
        problems.append(("bank_too_small", {"needed": needed, "available": available}))
    return problems + paper_problems(course.id)


def on_course_publishing(course: Course) -> list[str]:
    """Receiver of lms.player.signals.course_publishing: the reasons, for staff, in their language."""
    from .messages import problem_text
    return [problem_text(code, details) for code, details in publish_problems(course)]
