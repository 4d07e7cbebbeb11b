"""Practice in a course's question bank: sequential practice, mock exams, the wrong-question book,
favourites and search. Plain functions; the views only parse requests and render.

Grading happens here, on the server. The key and the explanation of a question are revealed only
once the learner's answer to it is recorded, now or before (in practice or a finished test).
A mock exam's paper (question ids, points, option orders) travels to the page and back signed with
the app's secret, so that a paper changed in the browser is refused; it never counts as a test attempt.
A signed paper is graded and recorded once (quiz_mock_submissions, unique by the paper's digest): sent again,
also at the same moment, it records nothing and the result recorded the first time is shown.
Practice closes while the learner's test of the course is in progress: its questions come from the
same bank.
"""
import hashlib
import json
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from random import Random

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from .. import bank, grading, papers
from ..bank import QuizError
from ..models import (FINISHED, MANUAL, OPEN, Attempt, AttemptQuestion, Favourite, MockSubmission, PracticeAnswer,
                     Question, WrongQuestion)

SEQUENTIAL, MOCK, WRONG, FAVOURITE, SEARCH = "sequential", "mock", "wrong", "favourite", "search"
SINGLE_MODES = (SEQUENTIAL, WRONG, FAVOURITE, SEARCH)   # one question answered at a time
MOCK_SALT = "lms.quiz.practice.mock-paper"
MOCK_MAX_AGE = timedelta(hours=24)   # a paper left open longer is refused: start a new one
FALLBACK_QUESTIONS = 20              # a mock paper drawn from the bank when the paper settings cannot be used
MAX_SEARCH_TEXT = 100
MAX_SEARCH_RESULTS = 100


# --- questions and answers ----------------------------------------------------------------------------

def practice_question(course_id: int, question_id: int | None) -> Question:
    """A question of the course's bank that may be practised (not retired), else QuizError unknown_question."""
    question = db.session.get(Question, question_id) if question_id else None
    if question is None or question.course_id != course_id or question.retired:
        raise QuizError("unknown_question")
    return question


def original_order(question: Question) -> list[int]:
    """Practice shows the options in their original order."""
    return list(range(grading.option_count(question.kind, question.option_list)))


def shown_letters(letters: str, order: list[int]) -> str:
    """Original letters as the letters of the positions they were shown at."""
    return "".join(sorted(grading.LETTERS[order.index(index)] for index in grading.indices_of(letters)))


def test_in_progress(learner_id: int, course_id: int, now: datetime) -> bool:
    """An open attempt of the course's test still within its deadline."""
    return db.session.scalar(select(Attempt.id).where(
        Attempt.learner_id == learner_id, Attempt.course_id == course_id, Attempt.status == OPEN,
        Attempt.deadline >= now).limit(1)) is not None


def record_answer(learner_id: int, question: Question, shown: list, mode: str, now: datetime) -> PracticeAnswer:
    """Grade one answer given in practice (``shown``: the positions chosen, options in original order),
    record it and update the wrong-question book. Refused: an unknown mode, a malformed choice, no
    choice at all. Committed."""
    if mode not in SINGLE_MODES:
        raise QuizError("bad_mode")
    response = grading.response_from_shown(question.kind, shown, original_order(question))
    if response is None:
        raise QuizError("bad_answer")
    if not response:
        raise QuizError("no_choice")
    correct = grading.is_correct(question.answer, response)
    return _save(learner_id, [(question.id, response, correct)], mode, now)[0]


class MockAlreadyRecorded(Exception):
    """The mock paper was recorded by another submission (a concurrent one, or one just before)."""


def _save(learner_id: int, graded: list[tuple[int, str, bool]], mode: str, now: datetime,
          submission: MockSubmission | None = None) -> list[PracticeAnswer]:
    """Record graded answers and note them in the wrong-question book, all in one transaction. A
    concurrent request that added the same wrong question first makes the insert fail: once more,
    then the entry exists and is counted up. A mock paper's ``submission`` is inserted first: when the
    database already holds its paper, nothing is written and MockAlreadyRecorded is raised."""
    for tries_left in (1, 0):
        try:
            if submission is not None:
                db.session.add(submission)
                db.session.flush()   # the paper's unique digest: a second submission fails here
            answers = []
            for question_id, response, correct in graded:
                answer = PracticeAnswer(learner_id=learner_id, question_id=question_id, mode=mode, response=response,
                                        correct=correct, answered_at=now)
                db.session.add(answer)
                answers.append(answer)
                _note_in_wrong_book(learner_id, question_id, response, correct, mode, now)
            db.session.commit()
            return answers
        except IntegrityError:
            db.session.rollback()
            if submission is not None and recorded_mock(learner_id, submission.paper_digest) is not None:
                raise MockAlreadyRecorded() from None
            if not tries_left:
                raise QuizError("practice_conflict") from None
    raise AssertionError("unreachable")


def _note_in_wrong_book(learner_id: int, question_id: int, response: str, correct: bool, mode: str,
                        now: datetime) -> None:
    """A wrong answer adds the question to the book or counts it up; a right one in wrong-book replay
    takes it out."""
    entry = wrong_entry(learner_id, question_id)
    if not correct:
        if entry is None:
            db.session.add(WrongQuestion(learner_id=learner_id, question_id=question_id, last_response=response,
                                         times_wrong=1, last_wrong_at=now))
            db.session.flush()
        else:
            entry.times_wrong += 1
            entry.last_response, entry.last_wrong_at = response, now
    elif mode == WRONG and entry is not None:
        db.session.delete(entry)


def own_answer(learner_id: int, answer_id: int | None, question_id: int) -> PracticeAnswer | None:
    """The learner's recorded answer to this question with this id (for the page shown after answering)."""
    answer = db.session.get(PracticeAnswer, answer_id) if answer_id else None
    if answer is None or answer.learner_id != learner_id or answer.question_id != question_id:
        return None
    return answer


def answered_ids(learner_id: int, question_ids) -> set[int]:
    """Which of these questions the learner has answered: in practice, or in a finished test attempt.
    Only for those may a list show the key and the explanation."""
    ids = list(set(question_ids))
    if not ids:
        return set()
    practised = set(db.session.scalars(select(PracticeAnswer.question_id).where(
        PracticeAnswer.learner_id == learner_id, PracticeAnswer.question_id.in_(ids))))
    tested = set(db.session.scalars(select(AttemptQuestion.question_id).join(Attempt).where(
        Attempt.learner_id == learner_id, Attempt.status == FINISHED, AttemptQuestion.question_id.in_(ids),
        AttemptQuestion.answered_at.is_not(None))))
    return practised | tested


# --- sequential practice and the counts of the practice home ------------------------------------------

def bank_ids(course_id: int) -> list[int]:
    """The questions practised in sequence: the active bank in its order (by id)."""
    return list(db.session.scalars(select(Question.id).where(
        Question.course_id == course_id, Question.retired.is_(False)).order_by(Question.id)))


def sequential_answered(learner_id: int, course_id: int) -> set[int]:
    return set(db.session.scalars(select(PracticeAnswer.question_id).join(Question).where(
        PracticeAnswer.learner_id == learner_id, PracticeAnswer.mode == SEQUENTIAL, Question.course_id == course_id)))


def resume_position(ids: list[int], answered: set[int]) -> int:
    """Where sequential practice resumes (1-based): the first question not yet answered in sequence;
    the first question again when every one was."""
    return next((position for position, qid in enumerate(ids, start=1) if qid not in answered), 1)


@dataclass(frozen=True)
class PracticeCounts:
    bank_size: int
    answered: int            # distinct questions of the bank answered in practice
    answers: int             # practice answers given to the bank's questions
    correct_answers: int
    wrong: int               # questions in the wrong-question book
    favourites: int
    sequential_done: int     # questions of the bank answered in sequential practice
    resume: int              # where sequential practice goes on

    @property
    def correct_rate(self) -> int | None:
        return round(100 * self.correct_answers / self.answers) if self.answers else None


def practice_counts(learner_id: int, course_id: int) -> PracticeCounts:
    ids = bank_ids(course_id)
    active = select(Question.id).where(Question.course_id == course_id, Question.retired.is_(False))
    mine = (PracticeAnswer.learner_id == learner_id, PracticeAnswer.question_id.in_(active))
    answers, correct = db.session.execute(select(
        func.count(PracticeAnswer.id),
        func.coalesce(func.sum(case((PracticeAnswer.correct.is_(True), 1), else_=0)), 0)).where(*mine)).one()
    answered = db.session.scalar(select(func.count(func.distinct(PracticeAnswer.question_id))).where(*mine))
    in_sequence = sequential_answered(learner_id, course_id)
    return PracticeCounts(
        bank_size=len(ids), answered=answered or 0, answers=answers or 0, correct_answers=int(correct or 0),
        wrong=len(wrong_book(learner_id, course_id)), favourites=len(favourite_list(learner_id, course_id)),
        sequential_done=len(in_sequence & set(ids)), resume=resume_position(ids, in_sequence))


# --- the wrong-question book --------------------------------------------------------------------------

def wrong_entry(learner_id: int, question_id: int) -> WrongQuestion | None:
    return db.session.scalar(select(WrongQuestion).where(WrongQuestion.learner_id == learner_id,
                                                         WrongQuestion.question_id == question_id))


def wrong_book(learner_id: int, course_id: int) -> list[WrongQuestion]:
    """The learner's wrong questions of this course's active bank, in bank order."""
    return list(db.session.scalars(select(WrongQuestion).join(Question).where(
        WrongQuestion.learner_id == learner_id, Question.course_id == course_id, Question.retired.is_(False))
        .order_by(WrongQuestion.question_id)))


def next_wrong(learner_id: int, course_id: int, after_question_id: int = 0) -> WrongQuestion | None:
    """The entry replayed after this question (the first one without it)."""
    return next((entry for entry in wrong_book(learner_id, course_id) if entry.question_id > after_question_id), None)


# --- favourites ---------------------------------------------------------------------------------------

def favourite_list(learner_id: int, course_id: int) -> list[Favourite]:
    return list(db.session.scalars(select(Favourite).join(Question).where(
        Favourite.learner_id == learner_id, Question.course_id == course_id, Question.retired.is_(False))
        .order_by(Favourite.created_at.desc(), Favourite.id.desc())))


def favourite_ids(learner_id: int, question_ids) -> set[int]:
    ids = list(set(question_ids))
    return set(db.session.scalars(select(Favourite.question_id).where(
        Favourite.learner_id == learner_id, Favourite.question_id.in_(ids)))) if ids else set()


def set_favourite(learner_id: int, question: Question, on: bool, now: datetime) -> bool:
    """Star (on) or unstar a question; doing it twice is harmless, also at the same moment. Committed."""
    existing = db.session.scalar(select(Favourite).where(Favourite.learner_id == learner_id,
                                                         Favourite.question_id == question.id))
    if on and existing is None:
        db.session.add(Favourite(learner_id=learner_id, question_id=question.id, created_at=now))
    elif not on and existing is not None:
        db.session.delete(existing)
    try:
        db.session.commit()
    except IntegrityError:  # starred by a concurrent request: it is starred
        db.session.rollback()
    return on


# --- search -------------------------------------------------------------------------------------------

def knowledge_points(course_id: int) -> list[str]:
    return sorted(set(db.session.scalars(select(Question.knowledge_point).where(
        Question.course_id == course_id, Question.retired.is_(False), Question.knowledge_point != ""))))


def search_bank(course_id: int, text: str, point: str) -> list[Question]:
    """Active questions whose stem or an option contains ``text`` (ignoring case) and whose knowledge
    point is ``point`` (when given), in bank order. Nothing asked, nothing found."""
    needle = (text or "").strip().casefold()
    point = (point or "").strip()
    if len(needle) > MAX_SEARCH_TEXT or len(point) > bank.MAX_POINT:
        raise QuizError("search_too_long")
    if not needle and not point:
        return []
    return bank.matching(bank.bank(course_id), needle, point=point)


# --- mock exams ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MockItem:
    question_id: int
    points: int
    order: tuple[int, ...]   # shown i-th: original index


@dataclass(frozen=True)
class MockPaper:
    items: tuple[MockItem, ...]
    fallback: bool           # drawn from the bank because the course's paper settings cannot be used


def compose_mock(course_id: int, rng: Random) -> MockPaper:
    """A paper composed as the course's test composes it (its settings or its hand-made paper), the
    questions and their options shuffled. When the settings cannot compose a paper now, up to
    FALLBACK_QUESTIONS questions drawn from the bank share 100 points. An empty bank: mock_unavailable."""
    fallback = bool(bank.paper_problems(course_id))
    if not fallback:
        settings = bank.settings_of(course_id)
        if settings.mode == MANUAL:
            chosen = [(item.question_id, item.points) for item in bank.manual_paper(course_id)]
        else:
            chosen = [(item.question_id, item.points)
                      for item in papers.compose(bank.rules_of(settings), bank.ids_by_kind(course_id), rng)]
    else:
        ids = bank_ids(course_id)
        if not ids:
            raise QuizError("mock_unavailable")
        drawn = rng.sample(ids, min(len(ids), FALLBACK_QUESTIONS))
        chosen = list(zip(drawn, split_points(papers.PAPER_TOTAL, len(drawn)), strict=True))
    rng.shuffle(chosen)
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_([q for q, _ in chosen])))}
    items = []
    for question_id, points in chosen:
        question = questions[question_id]
        count = grading.option_count(question.kind, question.option_list)
        items.append(MockItem(question_id, points, tuple(grading.shuffled_order(question.kind, count, rng))))
    return MockPaper(tuple(items), fallback)


def split_points(total: int, count: int) -> list[int]:
    """``total`` points over ``count`` questions as evenly as whole points allow."""
    base, extra = divmod(total, count)
    return [base + 1 if i < extra else base for i in range(count)]


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=MOCK_SALT)


def _epoch(moment: datetime) -> int:
    return int(moment.replace(tzinfo=timezone.utc).timestamp())


def sign_mock(paper: MockPaper, learner_id: int, course_id: int, now: datetime, secret: str,
              nonce: str | None = None) -> str:
    """The paper as a signed token for the page (readable, but holds no keys: ids, points, orders). The
    random ``nonce`` makes each paper one of its own, even two equal drawings in the same second."""
    return _serializer(secret).dumps({
        "l": learner_id, "c": course_id, "i": _epoch(now), "f": paper.fallback,
        "n": nonce if nonce is not None else secrets.token_urlsafe(12),
        "q": [[item.question_id, item.points, list(item.order)] for item in paper.items]})


def paper_digest(token: str) -> str:
    """What identifies a signed paper: the SHA-256 of the text its signature covers. Only the signature
    part of a token can be written in more than one way (base64 padding bits), so it is left out."""
    return hashlib.sha256(token.rsplit(".", 1)[0].encode()).hexdigest()


def _signed_data(token: str, learner_id: int, course_id: int, secret: str) -> dict:
    """The content of a token signed by us for this learner and course, else QuizError mock_tampered."""
    try:
        data = _serializer(secret).loads(token if isinstance(token, str) else "")
    except BadSignature:
        raise QuizError("mock_tampered") from None
    if not isinstance(data, dict) or data.get("l") != learner_id or data.get("c") != course_id:
        raise QuizError("mock_tampered")
    return data


def open_mock(token: str, learner_id: int, course_id: int, now: datetime, secret: str) -> MockPaper:
    """The paper a page sent back. Refused: a token not signed by us (mock_tampered), one issued to
    another learner or course (mock_tampered), older than MOCK_MAX_AGE (mock_expired), or one the bank
    no longer fits (mock_stale: a question retired or its options changed since)."""
    data = _signed_data(token, learner_id, course_id, secret)
    issued = data.get("i")
    if type(issued) is not int or _epoch(now) - issued > MOCK_MAX_AGE.total_seconds():
        raise QuizError("mock_expired")
    raw = data.get("q")
    try:
        items = tuple(MockItem(qid, points, tuple(order)) for qid, points, order in raw)
    except (TypeError, ValueError):
        raise QuizError("mock_tampered") from None
    questions = _mock_questions(items, course_id)
    if questions is None:
        raise QuizError("mock_stale")
    return MockPaper(items, bool(data.get("f")))


def _mock_questions(items: tuple[MockItem, ...], course_id: int) -> dict[int, Question] | None:
    """The paper's questions, when each is of this course's active bank, once, with an order of all
    its options and positive points summing to 100; else None."""
    ids = [item.question_id for item in items]
    if not items or any(type(qid) is not int for qid in ids) or len(set(ids)) != len(ids):
        return None
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids)))}
    for item in items:
        question = questions.get(item.question_id)
        if question is None or question.course_id != course_id or question.retired:
            return None
        count = grading.option_count(question.kind, question.option_list)
        if any(type(i) is not int for i in item.order) or sorted(item.order) != list(range(count)):
            return None
        if type(item.points) is not int or item.points <= 0:
            return None
    if sum(item.points for item in items) != papers.PAPER_TOTAL:
        return None
    return questions


def mock_questions(paper: MockPaper, course_id: int) -> dict[int, Question]:
    return _mock_questions(paper.items, course_id) or {}


@dataclass(frozen=True)
class MockRow:
    position: int
    question: Question
    item: MockItem
    response: str            # original letters chosen ("" unanswered)
    correct: bool
    score: int


@dataclass(frozen=True)
class MockResult:
    rows: tuple[MockRow, ...]
    score: int
    passed: bool
    fallback: bool
    submitted_at: datetime | None = None
    already_recorded: bool = False   # this paper had been submitted before: the result recorded then


def grade_mock(paper: MockPaper, questions: dict[int, Question], choices: dict[int, list], pass_score: int,
               ) -> MockResult:
    """Grade every question of the paper: ``choices`` maps a position (1-based) to the shown positions
    chosen; a question left out scores zero. A malformed choice refuses the whole paper (bad_mock_answer)."""
    rows = []
    for position, item in enumerate(paper.items, start=1):
        question = questions[item.question_id]
        response = grading.response_from_shown(question.kind, choices.get(position, []), list(item.order))
        if response is None:
            raise QuizError("bad_mock_answer", position=position)
        correct = grading.is_correct(question.answer, response)
        rows.append(MockRow(position, question, item, response, correct,
                            grading.score_of(question.answer, response, item.points, late=False)))
    score = sum(row.score for row in rows)
    return MockResult(tuple(rows), score, score >= pass_score, paper.fallback)


def submit_mock(token: str, choices: dict[int, list], learner_id: int, course_id: int, now: datetime, secret: str,
                pass_score: int) -> MockResult:
    """Grade a mock paper sent back by the page, record it with every answer (mode mock) and note the
    wrong ones in the wrong-question book. A paper recorded before (also by a submission at the same
    moment) is not graded or recorded again: its recorded result comes back, ``already_recorded``.
    Refused as open_mock and grade_mock refuse, with nothing written. Committed."""
    _signed_data(token, learner_id, course_id, secret)
    digest = paper_digest(token)
    recorded = recorded_mock(learner_id, digest)
    if recorded is not None:
        return recorded
    paper = open_mock(token, learner_id, course_id, now, secret)
    result = grade_mock(paper, mock_questions(paper, course_id), choices, pass_score)
    submission = MockSubmission(learner_id=learner_id, course_id=course_id, paper_digest=digest, score=result.score,
                                passed=result.passed, fallback=result.fallback, rows=_rows_json(result),
                                submitted_at=now)
    try:
        _save(learner_id, [(row.question.id, row.response, row.correct) for row in result.rows], MOCK, now,
              submission)
    except MockAlreadyRecorded:
        return recorded_mock(learner_id, digest)
    return replace(result, submitted_at=now)


def _rows_json(result: MockResult) -> str:
    return json.dumps([[row.question.id, row.item.points, list(row.item.order), row.response, row.correct, row.score]
                       for row in result.rows])


def recorded_mock(learner_id: int, digest: str) -> MockResult | None:
    """The learner's mock paper recorded under this digest, as it was graded then; None if not recorded."""
    submission = db.session.scalar(select(MockSubmission).where(MockSubmission.paper_digest == digest,
                                                                MockSubmission.learner_id == learner_id))
    if submission is None:
        return None
    rows = submission.row_list
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_([r[0] for r in rows])))}
    return MockResult(
        tuple(MockRow(position, questions[qid], MockItem(qid, points, _order_now(questions[qid], order)), response,
                      correct, score)
              for position, (qid, points, order, response, correct, score) in enumerate(rows, start=1)),
        submission.score, submission.passed, submission.fallback, submission.submitted_at, already_recorded=True)


def _order_now(question: Question, order: list[int]) -> tuple[int, ...]:
    """The recorded order of the options, or the original order when the question's options changed since."""
    count = grading.option_count(question.kind, question.option_list)
    return tuple(order) if sorted(order) == list(range(count)) else tuple(original_order(question))
