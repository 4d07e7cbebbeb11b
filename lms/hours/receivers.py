"""Signal receivers: the ledger follows the quiz's results and the proctor's reviewed checks.

A receiver only notes the learner; the ledger is brought up to date just before the transaction
commits, after every other receiver of the same event has done its part (blinker does not order
receivers, and the player voids reviewed study time in its own receiver).
"""
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..core.clock import utcnow
from ..extensions import db
from ..proctor.models import REVIEW
from . import ledger

_PENDING = "hours_pending"


def _note(learner_id: int, course_id: int | None, now: datetime) -> None:
    pending = db.session.info.setdefault(_PENDING, {})
    courses, _ = pending.get(learner_id, (set(), now))
    courses.add(course_id)
    pending[learner_id] = (courses, now)


def on_result_changed(attempt, *, now: datetime) -> None:
    """An attempt ended or lost its pass (inside the quiz's transaction): the course's hours follow."""
    _note(attempt.learner_id, attempt.course_id, now)


def on_check_reviewed(context_kind: str, *, check, previous: str, now: datetime) -> None:
    """Staff decided a doubtful check: study time it covered was voided or given back, which can
    change whether a course's lessons are confirmed. Other check changes never touch credited courses
    (a course is credited only once all its time is confirmed)."""
    if previous == REVIEW:
        _note(check.learner_id, None, now)


@event.listens_for(Session, "before_commit")
def _sync_pending(session):
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    for learner_id, (courses, now) in pending.items():
        ledger.sync_learner(learner_id, now or utcnow(), None if None in courses else courses)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session):
    session.info.pop(_PENDING, None)
