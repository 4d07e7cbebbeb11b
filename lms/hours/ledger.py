"""The hours ledger: the only code that writes hours entries.

A course's nominal hours are credited to a learner once every rule is met: every lesson complete
with all of its time confirmed by passed face checks (none provisional or in review), and the
course test passed (at least 80). ``sync_course`` is the only path that credits; it also takes a
credit back (a reversal) when a rule stops being met, e.g. staff fail a doubtful face check after
the test. Staff correct with compensating entries and a reason. Nothing is updated or deleted.
"""
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..audit.services import learner_ref, record
from ..core.context import Actor
from ..extensions import db
from ..learners.models import Learner
from ..player.models import Course
from ..player.services import lessons_confirmed
from ..quiz import attempts as quiz_attempts
from ..quiz.models import Attempt
from . import certificates
from .messages import HoursError
from .models import CORRECTION, CREDIT, REVERSAL, HoursEntry, allow_ledger_write
from .progress import (approved_classes, balances, class_progress, classes_with_course, entries, passing_attempt,
                       system_total, tenths_of)

__all__ = ["HoursError", "approved_classes", "balances", "class_progress", "correct", "entries", "sync_course",
           "sync_learner"]

MAX_REASON = 500
RESENT_WITHIN = timedelta(minutes=2)   # the same correction again this soon is a resent form, not a new one


def course_eligible(learner_id: int, course: Course) -> bool:
    """Every rule for crediting a course's hours: lessons complete and confirmed, test passed."""
    return quiz_attempts.course_passed(learner_id, course.id) and lessons_confirmed(learner_id, course)


# --- writing (the only place) ------------------------------------------------------------------------

def _append(learner_id: int, course_id: int, kind: str, tenths: int, now: datetime, *, reason: str = "",
            attempt_id: int | None = None, actor: Actor | None = None, corrects_id: int | None = None) -> HoursEntry:
    """Add one entry with the next sequence number, in a savepoint: a writer racing on the same
    learner and course collides on (learner, course, seq) and gets IntegrityError."""
    seq = (db.session.scalar(select(func.max(HoursEntry.seq)).where(
        HoursEntry.learner_id == learner_id, HoursEntry.course_id == course_id)) or 0) + 1
    entry = HoursEntry(learner_id=learner_id, course_id=course_id, seq=seq, kind=kind, tenths=tenths,
                       reason=reason, attempt_id=attempt_id, corrects_id=corrects_id, created_at=now,
                       created_by_id=getattr(actor.user, "id", None) if actor else None,
                       ip=(actor.ip if actor else "")[:64])
    with db.session.begin_nested():
        allow_ledger_write(db.session)
        db.session.add(entry)
    return entry


def sync_course(learner_id: int, course: Course, now: datetime) -> HoursEntry | None:
    """Bring the system's part of the ledger in line with the rules: credit the nominal hours when
    every rule is met and they are not credited, reverse them when a rule is no longer met. Returns
    the entry written (None: nothing to do). Logged; not committed (runs in the caller's transaction)."""
    credited = system_total(learner_id, course.id)
    eligible = course_eligible(learner_id, course)
    if eligible and credited <= 0:
        attempt = passing_attempt(learner_id, course.id)
        kind, tenths, attempt_id = CREDIT, tenths_of(course.nominal_hours), attempt.id
    elif not eligible and credited > 0:
        kind, tenths, attempt_id = REVERSAL, -credited, None
    else:
        return None
    try:
        entry = _append(learner_id, course.id, kind, tenths, now, attempt_id=attempt_id)
    except IntegrityError:
        return None  # another writer appended at the same moment; its entry decided it
    learner = db.session.get(Learner, learner_id)
    record(Actor(None, "system", ""), f"hours_{kind}", now, target=f"{learner_ref(learner_id)} course:{course.id}",
           detail=f"{tenths / 10:+.1f} h", institution_id=course.institution_id, region_code=learner.region_code)
    _hours_changed(learner, course, now)
    return entry


def sync_learner(learner_id: int, now: datetime, course_ids=None) -> None:
    """sync_course for every course the learner passed or was credited for (or the given ones)."""
    if course_ids is None:
        passed = select(Attempt.course_id).where(Attempt.learner_id == learner_id, Attempt.passed.is_(True))
        credited = select(HoursEntry.course_id).where(HoursEntry.learner_id == learner_id)
        course_ids = set(db.session.scalars(passed.union(credited)))
    for course_id in sorted(course_ids):
        course = db.session.get(Course, course_id)
        if course is not None:
            sync_course(learner_id, course, now)


def correct(learner: Learner, course: Course, tenths: int, reason: str, now: datetime, actor: Actor) -> HoursEntry:
    """A staff correction: a compensating entry of ``tenths`` (signed) with a reason. The course's
    balance stays between 0 and its nominal hours. Logged and committed."""
    reason = (reason or "").strip()
    if not reason:
        raise HoursError("reason_required")
    if len(reason) > MAX_REASON:
        raise HoursError("reason_too_long", limit=MAX_REASON)
    if tenths == 0:
        raise HoursError("zero_correction")
    if _resent(learner.id, course.id, tenths, reason, now, actor):
        raise HoursError("resent")
    nominal = tenths_of(course.nominal_hours)
    balance = balances(learner.id, [course.id]).get(course.id, 0)
    if not 0 <= balance + tenths <= nominal:
        raise HoursError("out_of_range", balance=balance / 10, nominal=nominal / 10)
    try:
        entry = _append(learner.id, course.id, CORRECTION, tenths, now, reason=reason, actor=actor)
    except IntegrityError:
        db.session.rollback()
        raise HoursError("conflict") from None
    record(actor, "hours_correction", now, target=f"{learner_ref(learner.id)} course:{course.id}",
           detail=f"{tenths / 10:+.1f} h: {reason}"[:500], institution_id=course.institution_id,
           region_code=learner.region_code)
    _hours_changed(learner, course, now)
    db.session.commit()
    return entry


def _resent(learner_id: int, course_id: int, tenths: int, reason: str, now: datetime, actor: Actor) -> bool:
    """The same person made the same correction a moment ago: a form sent twice on a slow network."""
    return db.session.scalar(select(HoursEntry.id).where(
        HoursEntry.learner_id == learner_id, HoursEntry.course_id == course_id, HoursEntry.kind == CORRECTION,
        HoursEntry.tenths == tenths, HoursEntry.reason == reason,
        HoursEntry.created_by_id == getattr(actor.user, "id", None),
        HoursEntry.created_at >= now - RESENT_WITHIN).limit(1)) is not None


def _hours_changed(learner: Learner, course: Course, now: datetime) -> None:
    for training_class in classes_with_course(learner.id, course.id):
        certificates.reconcile(learner, training_class, now)


