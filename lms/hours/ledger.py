"""The hours ledger: the only code that writes hours entries.

A course's nominal hours are credited to a learner once every rule is met: every lesson complete
with all of its time confirmed by passed face checks (none provisional or in review), and the
course test passed (at least 80). ``sync_course`` is the only path that credits; it also takes a
credit back (a reversal) when a rule stops being met, e.g. staff fail a doubtful face check after
the test. Staff correct with compensating entries and a reason. Nothing is updated or deleted.
"""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..audit.services import learner_ref, record
from ..core.context import Actor
from ..core.errors import RuleViolation
from ..extensions import db
from ..institutions.models import APPROVED, Application, TrainingClass
from ..learners.models import Learner
from ..player.models import ClassCourse, Course
from ..player.progress import study_day
from ..quiz import attempts as quiz_attempts
from ..quiz.models import Attempt
from .models import CORRECTION, CREDIT, REVERSAL, HoursEntry, allow_ledger_write

MAX_REASON = 500
SYSTEM_KINDS = (CREDIT, REVERSAL)


class HoursError(RuleViolation):
    """A correction or revocation refused; ``code`` names why (lms.hours.messages has the text)."""


def tenths_of(hours: float) -> int:
    return int(round(hours * 10))


# --- reading -----------------------------------------------------------------------------------

def entries(learner_id: int, course_ids=None) -> list[HoursEntry]:
    query = select(HoursEntry).where(HoursEntry.learner_id == learner_id)
    if course_ids is not None:
        query = query.where(HoursEntry.course_id.in_(list(course_ids)))
    return list(db.session.scalars(query.order_by(HoursEntry.created_at, HoursEntry.id)))


def balances(learner_id: int, course_ids=None) -> dict[int, int]:
    """Tenths of an hour credited per course (every kind of entry summed)."""
    query = select(HoursEntry.course_id, func.sum(HoursEntry.tenths)).where(HoursEntry.learner_id == learner_id)
    if course_ids is not None:
        query = query.where(HoursEntry.course_id.in_(list(course_ids)))
    return {course_id: int(total or 0) for course_id, total in db.session.execute(query.group_by(HoursEntry.course_id))}


def _system_total(learner_id: int, course_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(HoursEntry.tenths), 0)).where(
        HoursEntry.learner_id == learner_id, HoursEntry.course_id == course_id,
        HoursEntry.kind.in_(SYSTEM_KINDS))) or 0)


def passing_attempt(learner_id: int, course_id: int) -> Attempt | None:
    """The best passing attempt (its score goes on the certificate)."""
    return db.session.scalar(select(Attempt).where(
        Attempt.learner_id == learner_id, Attempt.course_id == course_id, Attempt.passed.is_(True))
        .order_by(Attempt.score.desc(), Attempt.id).limit(1))


def course_eligible(learner_id: int, course: Course) -> bool:
    """Every rule for crediting a course's hours: lessons complete and confirmed, test passed."""
    return quiz_attempts.course_passed(learner_id, course.id) and quiz_attempts.lessons_confirmed(learner_id, course)


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
    credited = _system_total(learner_id, course.id)
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


def _hours_changed(learner: Learner, course: Course, now: datetime) -> None:
    from . import certificates  # the certificates read the ledger: imported late to keep one direction
    for training_class in classes_with_course(learner.id, course.id):
        certificates.reconcile(learner, training_class, now)


# --- progress toward a class ----------------------------------------------------------------------

def approved_classes(learner_id: int) -> list[TrainingClass]:
    return list(db.session.scalars(select(TrainingClass).join(Application, Application.class_id == TrainingClass.id)
                                   .where(Application.learner_id == learner_id, Application.status == APPROVED)
                                   .order_by(TrainingClass.id)))


def classes_with_course(learner_id: int, course_id: int) -> list[TrainingClass]:
    return [c for c in approved_classes(learner_id)
            if db.session.scalar(select(ClassCourse.id).where(ClassCourse.class_id == c.id,
                                                              ClassCourse.course_id == course_id)) is not None]


@dataclass(frozen=True)
class CourseProgress:
    course: Course
    credited_tenths: int
    nominal_tenths: int
    passed: bool
    score: int | None        # best passing score

    @property
    def credited(self) -> float:
        return self.credited_tenths / 10


@dataclass(frozen=True)
class ClassProgress:
    training_class: TrainingClass
    courses: list
    credited_tenths: int
    required_tenths: int
    first_credit: date | None
    reached_on: date | None  # the day the credited hours first reached the requirement (None: not yet)

    @property
    def credited(self) -> float:
        return self.credited_tenths / 10

    @property
    def required(self) -> float:
        return self.required_tenths / 10

    @property
    def complete(self) -> bool:
        return self.credited_tenths >= self.required_tenths

    @property
    def percent(self) -> int:
        return min(100, int(self.credited_tenths * 100 / self.required_tenths)) if self.required_tenths else 100


def class_progress(learner_id: int, training_class: TrainingClass) -> ClassProgress:
    courses = list(db.session.scalars(select(Course).join(ClassCourse, ClassCourse.course_id == Course.id)
                                      .where(ClassCourse.class_id == training_class.id).order_by(Course.id)))
    course_ids = [c.id for c in courses]
    totals = balances(learner_id, course_ids)
    rows = []
    for course in courses:
        attempt = passing_attempt(learner_id, course.id)
        rows.append(CourseProgress(course, totals.get(course.id, 0), tenths_of(course.nominal_hours),
                                   attempt is not None, attempt.score if attempt else None))
    running, first, reached = 0, None, None
    required = training_class.required_online_hours * 10
    for entry in entries(learner_id, course_ids):
        running += entry.tenths
        if entry.tenths > 0 and first is None:
            first = study_day(entry.created_at)
        if reached is None and running >= required:
            reached = study_day(entry.created_at)
        elif running < required:
            reached = None
    return ClassProgress(training_class, rows, sum(r.credited_tenths for r in rows), required, first, reached)
