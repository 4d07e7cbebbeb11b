"""The answer hot path: one read, the rules, three writes, one commit.

Every learner sitting a test calls it once per question, so it is written with SQLAlchemy Core,
as lms/player/heartbeats.py is. It takes only the common case: an answer to the question being
served, in the newest tab, with no face check due and more questions to come. Anything else (the
last question, a check falling due, a refusal, a deadline passed) goes to attempts.answer, which
decides it and says why; the rules both use are attempts.is_late and grading.
"""
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, select, update

from ..core.errors import RuleViolation
from ..extensions import db
from ..learners.models import Learner
from . import grading
from .attempts import TestRules, is_late
from .models import OPEN, Attempt, AttemptQuestion

ATTEMPTS, QUESTIONS = Attempt.__table__, AttemptQuestion.__table__

_LOAD = (select(ATTEMPTS.c.status, ATTEMPTS.c.deadline, ATTEMPTS.c.tab_token, ATTEMPTS.c.open_check_id,
                ATTEMPTS.c.next_check_at, ATTEMPTS.c.current, ATTEMPTS.c.question_count, Learner.user_id,
                QUESTIONS.c.id.label("question_id"), QUESTIONS.c.kind, QUESTIONS.c.option_order,
                QUESTIONS.c.answer_key, QUESTIONS.c.points, QUESTIONS.c.served_at, QUESTIONS.c.answered_at,
                QUESTIONS.c.late)
         .select_from(ATTEMPTS).join(Learner, Learner.id == ATTEMPTS.c.learner_id)
         .outerjoin(QUESTIONS, and_(QUESTIONS.c.attempt_id == ATTEMPTS.c.id,
                                    QUESTIONS.c.position == ATTEMPTS.c.current))
         .where(ATTEMPTS.c.id == bindparam("attempt_id")))

_ANSWER = (update(QUESTIONS)  # bind names differ from the column names, as Core requires
           .where(QUESTIONS.c.id == bindparam("b_question"), QUESTIONS.c.answered_at.is_(None),
                  QUESTIONS.c.late.is_(False))
           .values(answered_at=bindparam("b_now"), response=bindparam("b_response"), late=bindparam("b_late"),
                   score=bindparam("b_score"), correct=bindparam("b_correct")))

_MOVE_ON = (update(ATTEMPTS)
            .where(ATTEMPTS.c.id == bindparam("attempt_id"), ATTEMPTS.c.current == bindparam("position"),
                   ATTEMPTS.c.status == OPEN)
            .values(current=bindparam("position") + 1))

_SERVE = (update(QUESTIONS)
          .where(QUESTIONS.c.attempt_id == bindparam("b_attempt"), QUESTIONS.c.position == bindparam("b_next"))
          .values(served_at=bindparam("b_now"))
          .returning(QUESTIONS.c.id, QUESTIONS.c.position, QUESTIONS.c.kind, QUESTIONS.c.stem, QUESTIONS.c.options,
                     QUESTIONS.c.option_order, QUESTIONS.c.points))


class NotYours(RuleViolation):
    """No such attempt for this learner (the view answers 404)."""

    def __init__(self):
        super().__init__("not_found")


@dataclass(frozen=True)
class Served:
    """The next question, served at ``served_at``: what the page shows of it."""
    question: object          # a row with id, position, kind, stem, options, option_order, points
    served_at: datetime
    total: int


def quick_answer(attempt_id: int, user_id: int, tab: str, question_id: int, shown: list, now: datetime,
                 rules: TestRules, face_checks: bool) -> Served | None:
    """Record the answer and serve the next question, committed; None when the case is not the
    common one (nothing written: attempts.answer takes it). Raises NotYours for another user's
    attempt or none."""
    connection = db.session.connection()  # Core statements on the session's connection: no ORM layer
    row = connection.execute(_LOAD, {"attempt_id": attempt_id}).first()
    if row is None or row.user_id != user_id:
        raise NotYours()
    if not _common_case(row, tab, question_id, now, face_checks):
        return None
    response = grading.response_from_shown(row.kind, shown, json.loads(row.option_order))
    if response is None:
        return None
    late = is_late(row.served_at, now, rules)
    answered = connection.execute(_ANSWER, {
        "b_question": question_id, "b_now": now, "b_response": response, "b_late": late,
        "b_score": grading.score_of(row.answer_key, response, row.points, late),
        "b_correct": grading.is_correct(row.answer_key, response)})
    moved = answered.rowcount == 1 and connection.execute(
        _MOVE_ON, {"attempt_id": attempt_id, "position": row.current}).rowcount == 1
    if not moved:  # another request answered or served meanwhile: the general path says what happened
        db.session.rollback()
        return None
    served = connection.execute(_SERVE, {"b_attempt": attempt_id, "b_next": row.current + 1, "b_now": now}).first()
    db.session.commit()
    return Served(served, now, row.question_count)


def _common_case(row, tab: str, question_id: int, now: datetime, face_checks: bool) -> bool:
    return (row.status == OPEN and now <= row.deadline and row.open_check_id is None
            and row.question_id == question_id and row.served_at is not None and row.answered_at is None
            and not row.late and row.current < row.question_count
            and not (face_checks and row.next_check_at is not None and now >= row.next_check_at)
            and bool(tab) and secrets.compare_digest(str(tab), row.tab_token or ""))
