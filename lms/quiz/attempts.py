"""The course test: who may sit it, starting an attempt, serving questions one at a time on the
server's clock, judging answers, ending the attempt, and what its face checks do to it.

The server is the clock. A question is served with the server time, and its answer is judged
against that time: one arriving after the limit (plus a small allowance for the network) scores
zero. Questions are served strictly in order; the next is served only when the current one is
answered or its time ran out. Only the newest page of an attempt (its tab token) may answer, and
each write is a compare-and-set on the row, so two tabs or a replayed request cannot both answer.
"""
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random, SystemRandom

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from ..audit.services import record
from ..core.context import Actor
from ..extensions import db
from ..learners.models import Learner
from ..player import checks as study_checks
from ..player.models import Course
from ..player.services import lessons_confirmed
from ..proctor import decisions
from ..proctor import services as proctor
from ..proctor.models import FAILED, MISSED, OPEN as CHECK_OPEN, PASSED, RANDOM, REVIEW, START, FaceCheck
from . import bank, grading, papers
from .bank import QuizError
from .signals import result_changed
from .models import (EXPIRED, FACE_FAILED, FACE_MISSED, FACE_REVIEW_FAILED, FINISHED, MANUAL, OPEN, SUBMITTED,
                     Attempt, AttemptQuestion, WrongQuestion)

CONTEXT = "quiz_attempt"
_rng = SystemRandom()  # neither the paper nor the next check may be predictable


@dataclass(frozen=True)
class TestRules:
    seconds_per_question: int = 60
    grace_seconds: float = 2.0       # network allowance: an answer sent at 0 s left still counts
    max_attempts: int = 5
    pass_score: int = 80
    slack_minutes: int = 30          # beyond the questions' time, for face checks; then the attempt ends

    @property
    def answer_limit(self) -> timedelta:
        return timedelta(seconds=self.seconds_per_question + self.grace_seconds)


def rules_from_config(config) -> TestRules:
    return TestRules(int(config["LMS_QUIZ_SECONDS_PER_QUESTION"]), float(config["LMS_QUIZ_GRACE_SECONDS"]),
                     int(config["LMS_QUIZ_MAX_ATTEMPTS"]), int(config["LMS_QUIZ_PASS_SCORE"]),
                     int(config["LMS_QUIZ_SLACK_MINUTES"]))


def rules() -> TestRules:
    return rules_from_config(current_app.config)


# --- pure rules -------------------------------------------------------------------------------------

def is_late(served_at: datetime, answered_at: datetime, r: TestRules) -> bool:
    return answered_at - served_at > r.answer_limit


def time_left(served_at: datetime, now: datetime, r: TestRules) -> float:
    """Seconds the page shows as left (the allowance is not shown)."""
    return max(0.0, r.seconds_per_question - (now - served_at).total_seconds())


def passes(score: int, r: TestRules) -> bool:
    return score >= r.pass_score


def deadline_for(started_at: datetime, question_count: int, r: TestRules) -> datetime:
    return started_at + question_count * r.answer_limit + timedelta(minutes=r.slack_minutes)


# --- who may sit the test ---------------------------------------------------------------------------

def attempts_of(learner_id: int, course_id: int) -> list[Attempt]:
    return list(db.session.scalars(select(Attempt).where(Attempt.learner_id == learner_id,
                                                         Attempt.course_id == course_id).order_by(Attempt.number)))


@dataclass(frozen=True)
class TestStatus:
    lessons_confirmed: bool
    attempts: list
    open_attempt: Attempt | None
    passed: bool
    best_score: int | None
    attempts_left: int
    blocked: str | None     # why a new attempt cannot start now (None: it can)


def test_status(learner: Learner, course: Course, now: datetime) -> TestStatus:
    r = rules()
    for attempt in attempts_of(learner.id, course.id):
        settle(attempt, now)
    attempts = attempts_of(learner.id, course.id)
    open_attempt = next((a for a in attempts if a.status == OPEN), None)
    passed = any(a.passed for a in attempts)
    scores = [a.score for a in attempts if a.score is not None]
    left = max(0, r.max_attempts - len(attempts))
    confirmed = lessons_confirmed(learner.id, course)
    blocked = None
    if passed:
        blocked = "passed"
    elif open_attempt is None and left == 0:
        blocked = "locked"
    elif open_attempt is None and not confirmed:
        blocked = "lessons"
    elif open_attempt is None and bank.paper_problems(course.id):
        blocked = "no_paper"
    elif open_attempt is None and study_checks.enabled() and not proctor.has_usable_enrolment(learner.id):
        blocked = "face_not_enrolled"
    return TestStatus(confirmed, attempts, open_attempt, passed, max(scores) if scores else None, left, blocked)


def course_passed(learner_id: int, course_id: int) -> bool:
    """Whether the learner passed the course's test: only then do the course's hours count."""
    return db.session.scalar(select(Attempt.id).where(Attempt.learner_id == learner_id, Attempt.course_id == course_id,
                                                      Attempt.passed.is_(True)).limit(1)) is not None


# --- starting -------------------------------------------------------------------------------------

def _paper(course: Course, rng: Random) -> list[papers.PaperItem]:
    settings = bank.settings_of(course.id)
    if settings.mode == MANUAL:
        items = bank.manual_paper(course.id)
    else:
        items = papers.compose(bank.rules_of(settings), bank.ids_by_kind(course.id), rng)
    rng.shuffle(items)
    return items


def start_attempt(learner: Learner, course: Course, now: datetime, actor: Actor, rng: Random | None = None) -> Attempt:
    """Start the next attempt (or return the one still open): compose its paper, copy every question
    with its options in a shuffled order, and ask for the start face check. The attempt counts as
    used from now. Logged and committed."""
    rng = rng or _rng
    status = test_status(learner, course, now)
    if status.open_attempt is not None:
        return status.open_attempt
    if status.blocked:
        raise QuizError(status.blocked)
    items = _paper(course, rng)
    r = rules()
    attempt = Attempt(learner_id=learner.id, course_id=course.id, number=len(status.attempts) + 1, status=OPEN,
                      question_count=len(items), started_at=now, deadline=deadline_for(now, len(items), r),
                      ip=actor.ip[:64], user_agent=actor.user_agent[:300])
    db.session.add(attempt)
    try:
        db.session.flush()
    except IntegrityError:  # a second start at the same moment made this number first: use that one
        db.session.rollback()
        return next(a for a in attempts_of(learner.id, course.id) if a.number == len(status.attempts) + 1)
    questions = {q.id: q for q in db.session.scalars(select(bank.Question).where(
        bank.Question.id.in_([item.question_id for item in items])))}
    for position, item in enumerate(items, start=1):
        question = questions[item.question_id]
        order = grading.shuffled_order(question.kind, grading.option_count(question.kind, question.option_list), rng)
        db.session.add(AttemptQuestion(
            attempt_id=attempt.id, position=position, question_id=question.id, kind=question.kind,
            stem=question.stem, options=question.options, option_order=json.dumps(order), answer_key=question.answer,
            explanation=question.explanation, points=item.points))
    if study_checks.enabled():
        attempt.open_check_id = _open_check(attempt, course, START, now, actor.ip).id
    record(actor, "quiz_attempt_start", now, target=f"course:{course.id} attempt:{attempt.id}",
           detail=f"attempt {attempt.number}", institution_id=course.institution_id, region_code=learner.region_code)
    db.session.commit()
    return attempt


def _open_check(attempt: Attempt, course: Course, purpose: str, now: datetime, ip: str) -> FaceCheck:
    details = {"attempt_id": attempt.id, "course_id": course.id, "position": attempt.current,
               "title": f"{course.title} #{attempt.number}"}
    return proctor.open_check(attempt.learner_id, CONTEXT, attempt.id, purpose, now, ip,
                              owner_institution_id=course.institution_id, details=details)


def claim(attempt: Attempt) -> str:
    """The page that opens the attempt now is the only one that may answer; an older tab is refused."""
    attempt.tab_token = secrets.token_urlsafe(24)
    db.session.commit()
    return attempt.tab_token


# --- serving and answering --------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """What the page does next: answer ``question``, pass the face check ``check_id``, or show the result."""
    state: str                                  # "question" | "face_check" | "finished"
    attempt: Attempt
    total: int                                  # questions in the attempt
    question: AttemptQuestion | None = None
    check_id: int | None = None


def settle(attempt: Attempt, now: datetime) -> bool:
    """End an open attempt whose deadline passed (unanswered questions score zero), and miss a face
    check whose time ran out (the proctor's signal then ends the attempt). Committed when it changed
    anything; True if so."""
    if attempt.status != OPEN:
        return False
    changed = False
    if attempt.open_check_id is not None:
        changed = proctor.expire_if_overdue(db.session.get(FaceCheck, attempt.open_check_id), now)
    if attempt.status == OPEN and now > attempt.deadline:
        finish(attempt, EXPIRED, now)
        changed = True
    if changed:
        db.session.commit()
    return changed


def sweep_expired(now: datetime) -> int:
    """End the attempts whose page went away and whose deadline passed (run by the worker), so that
    staff's lists do not show them as still in progress."""
    expired = db.session.scalars(select(Attempt).where(Attempt.status == OPEN, Attempt.deadline < now)).all()
    for attempt in expired:
        settle(attempt, now)
    return len(expired)


def _question_at(attempt: Attempt, position: int) -> AttemptQuestion | None:
    return db.session.scalar(select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt.id,
                                                           AttemptQuestion.position == position))


def _own_tab(attempt: Attempt, tab: str) -> None:
    if not tab or not secrets.compare_digest(str(tab), attempt.tab_token or ""):
        raise QuizError("other_tab")


def next_step(attempt: Attempt, tab: str, now: datetime, ip: str = "") -> Step:
    """Serve the question the page should show now, or say why not. The question already served and
    still within its time is served again with its original time; one whose time ran out scores zero
    and the next is served. When a random face check is due it is asked for between two questions.
    Committed."""
    settle(attempt, now)
    if attempt.status != OPEN:
        return Step("finished", attempt, attempt.question_count)
    _own_tab(attempt, tab)
    step = _advance(attempt, now, ip, _question_at(attempt, attempt.current) if attempt.current else None)
    db.session.commit()
    return step


def _advance(attempt: Attempt, now: datetime, ip: str, current: AttemptQuestion | None) -> Step:
    """The step after ``current`` (the question served now, or None), within the caller's transaction."""
    total = attempt.question_count
    if attempt.open_check_id is not None:
        return Step("face_check", attempt, total, check_id=attempt.open_check_id)
    if current is not None and current.answered_at is None and not current.late:
        if not is_late(current.served_at, now, rules()):
            return Step("question", attempt, total, question=current)
        current.late = True  # its time ran out unanswered: zero, and the next one
    if attempt.current >= total:
        finish(attempt, SUBMITTED, now)
        return Step("finished", attempt, total)
    if study_checks.enabled() and attempt.next_check_at is not None and now >= attempt.next_check_at:
        check = _open_check(attempt, attempt.course, RANDOM, now, ip)
        attempt.open_check_id, attempt.next_check_at = check.id, None
        return Step("face_check", attempt, total, check_id=check.id)
    position = attempt.current + 1
    served = db.session.execute(update(Attempt).where(Attempt.id == attempt.id, Attempt.current == attempt.current,
                                                      Attempt.status == OPEN)
                                .values(current=position).execution_options(synchronize_session=False))
    if served.rowcount != 1:  # another request served or ended it meanwhile
        db.session.rollback()
        raise QuizError("conflict")
    set_committed_value(attempt, "current", position)  # what the row now holds, without a second UPDATE
    question = _question_at(attempt, position)
    question.served_at = now
    return Step("question", attempt, total, question=question)


def answer(attempt: Attempt, tab: str, attempt_question_id: int, shown: list, now: datetime, ip: str = "") -> Step:
    """Record the answer to the question being served, judged against the time it was served (late:
    zero), then serve what comes next, in one transaction. Refused: another tab, a question of another
    attempt or not yet served, one already answered or timed out, a malformed choice. Committed."""
    settle(attempt, now)
    if attempt.status != OPEN:
        raise QuizError("finished")
    _own_tab(attempt, tab)
    question = db.session.get(AttemptQuestion, attempt_question_id)
    if question is None or question.attempt_id != attempt.id or question.served_at is None:
        raise QuizError("not_served")
    if question.answered_at is not None or question.late or question.position != attempt.current:
        raise QuizError("already_answered")
    response = grading.response_from_shown(question.kind, shown, question.order)
    if response is None:
        raise QuizError("bad_answer")
    late = is_late(question.served_at, now, rules())
    values = dict(answered_at=now, response=response, late=late,
                  score=grading.score_of(question.answer_key, response, question.points, late),
                  correct=grading.is_correct(question.answer_key, response))
    written = db.session.execute(update(AttemptQuestion).where(
        AttemptQuestion.id == question.id, AttemptQuestion.answered_at.is_(None), AttemptQuestion.late.is_(False))
        .values(**values).execution_options(synchronize_session=False))
    if written.rowcount != 1:  # a second tab or a replayed request answered it first
        db.session.rollback()
        raise QuizError("already_answered")
    for name, value in values.items():  # the object as the row now is, for finish() and the caller
        set_committed_value(question, name, value)
    step = _advance(attempt, now, ip, question)
    db.session.commit()
    return step


# --- ending ---------------------------------------------------------------------------------------

def finish(attempt: Attempt, reason: str, now: datetime) -> None:
    """End the attempt: its score is the sum of its questions' scores; it passes only when it was
    answered to the end (not ended by a face check or its deadline) and reaches the pass mark.
    Wrong answers go to the learner's wrong-question book. Logged, not committed."""
    if attempt.status != OPEN:
        return
    db.session.flush()
    questions = list(db.session.scalars(select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt.id)))
    attempt.score = sum(q.score for q in questions)
    attempt.passed = reason == SUBMITTED and passes(attempt.score, rules())
    attempt.status, attempt.ended_at, attempt.end_reason = FINISHED, now, reason
    _note_wrong_answers(attempt.learner_id, [q for q in questions if q.served_at is not None], now)
    course = db.session.get(Course, attempt.course_id)
    learner = db.session.get(Learner, attempt.learner_id)
    record(Actor(None, attempt.ip, ""), "quiz_attempt_finish", now, target=f"course:{course.id} attempt:{attempt.id}",
           result="success" if attempt.passed else "failure", detail=f"{reason} score {attempt.score}",
           institution_id=course.institution_id, region_code=learner.region_code, user=learner.user)
    result_changed.send(attempt, now=now)


def _note_wrong_answers(learner_id: int, questions: list[AttemptQuestion], now: datetime) -> None:
    for question in questions:
        if question.correct:
            continue
        entry = db.session.scalar(select(WrongQuestion).where(WrongQuestion.learner_id == learner_id,
                                                              WrongQuestion.question_id == question.question_id))
        if entry is None:
            db.session.add(WrongQuestion(learner_id=learner_id, question_id=question.question_id,
                                         last_response=question.response or "", last_wrong_at=now))
        else:
            entry.times_wrong += 1
            entry.last_response, entry.last_wrong_at = question.response or "", now


# --- face checks ----------------------------------------------------------------------------------

def on_check_changed(context_kind: str, *, check: FaceCheck, previous: str, now: datetime) -> None:
    """Receiver of lms.proctor.signals.check_changed for test attempts (sender CONTEXT), inside the
    proctor's transaction. Passed or sent to review: the test goes on and the next random check is
    drawn. Failed or missed: the attempt ends and counts as used. A doubtful check that staff later
    fail takes the attempt's pass away."""
    attempt = db.session.get(Attempt, check.context_id)
    if attempt is None:
        return
    if previous == CHECK_OPEN:
        if attempt.open_check_id == check.id:
            attempt.open_check_id = None
        if check.status in (PASSED, REVIEW) and attempt.status == OPEN:
            attempt.next_check_at = decisions.next_check_at(now, _rng, proctor.policy(),
                                                            rules().answer_limit.total_seconds())
        elif check.status in (FAILED, MISSED):
            finish(attempt, FACE_FAILED if check.status == FAILED else FACE_MISSED, now)
    elif previous == REVIEW and check.status == FAILED:
        if attempt.status == OPEN:
            finish(attempt, FACE_REVIEW_FAILED, now)
        elif attempt.passed:  # staff judged the doubtful check a failure after the test: no pass
            attempt.passed, attempt.end_reason = False, FACE_REVIEW_FAILED
            result_changed.send(attempt, now=now)
