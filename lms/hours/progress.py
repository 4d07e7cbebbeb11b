"""Reading the hours ledger: balances, entries and each learner's progress toward a class."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from ..extensions import db
from ..institutions.models import APPROVED, Application, TrainingClass
from ..learners.models import Learner
from ..player.models import ClassCourse, Course
from ..player.progress import study_day
from ..quiz.models import Attempt
from .models import CREDIT, REVERSAL, HoursEntry

SYSTEM_KINDS = (CREDIT, REVERSAL)   # the entries the system writes; staff write corrections


def tenths_of(hours: float) -> int:
    return int(round(hours * 10))


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


def credited_hours(learner: Learner, course: Course, _now=None) -> float:
    """A learner's credited hours of a course (the ledger's balance), for the player's course cards."""
    return balances(learner.id, [course.id]).get(course.id, 0) / 10


def system_total(learner_id: int, course_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(HoursEntry.tenths), 0)).where(
        HoursEntry.learner_id == learner_id, HoursEntry.course_id == course_id,
        HoursEntry.kind.in_(SYSTEM_KINDS))) or 0)


def passing_attempt(learner_id: int, course_id: int) -> Attempt | None:
    """The best passing attempt (its score goes on the certificate)."""
    return db.session.scalar(select(Attempt).where(
        Attempt.learner_id == learner_id, Attempt.course_id == course_id, Attempt.passed.is_(True))
        .order_by(Attempt.score.desc(), Attempt.id).limit(1))


# --- progress toward a class ----------------------------------------------------------------------

def approved_classes(learner_id: int) -> list[TrainingClass]:
    return list(db.session.scalars(select(TrainingClass).join(Application, Application.class_id == TrainingClass.id)
                                   .where(Application.learner_id == learner_id, Application.status == APPROVED)
                                   .order_by(TrainingClass.id)))


def approved_learners(class_id: int) -> list[Learner]:
    return list(db.session.scalars(select(Learner).join(Application, Application.learner_id == Learner.id)
                                   .where(Application.class_id == class_id, Application.status == APPROVED)
                                   .order_by(Learner.id)))


def credited_or_class_courses(learner_id: int) -> list[Course]:
    """The courses of the learner's approved classes and any course with ledger entries."""
    class_ids = select(Application.class_id).where(Application.learner_id == learner_id,
                                                   Application.status == APPROVED)
    in_classes = select(ClassCourse.course_id).where(ClassCourse.class_id.in_(class_ids))
    with_entries = select(HoursEntry.course_id).where(HoursEntry.learner_id == learner_id)
    return list(db.session.scalars(select(Course).where(Course.id.in_(in_classes.union(with_entries)))
                                   .order_by(Course.id)))


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


def best_scores(learner_id: int, course_ids) -> dict[int, int]:
    """The best passing score per course (what the certificate shows), in one query."""
    rows = db.session.execute(select(Attempt.course_id, func.max(Attempt.score)).where(
        Attempt.learner_id == learner_id, Attempt.course_id.in_(list(course_ids)), Attempt.passed.is_(True))
        .group_by(Attempt.course_id))
    return {course_id: int(score) for course_id, score in rows}


def class_progress(learner_id: int, training_class: TrainingClass) -> ClassProgress:
    """Three queries whatever the number of courses: the curriculum, the ledger entries, the best scores."""
    courses = list(db.session.scalars(select(Course).join(ClassCourse, ClassCourse.course_id == Course.id)
                                      .where(ClassCourse.class_id == training_class.id).order_by(Course.id)))
    course_ids = [c.id for c in courses]
    totals, running, first, reached = {}, 0, None, None
    required = training_class.required_online_hours * 10
    for entry in entries(learner_id, course_ids):
        totals[entry.course_id] = totals.get(entry.course_id, 0) + entry.tenths
        running += entry.tenths
        if entry.tenths > 0 and first is None:
            first = study_day(entry.created_at)
        if reached is None and running >= required:
            reached = study_day(entry.created_at)
        elif running < required:
            reached = None
    scores = best_scores(learner_id, course_ids)
    rows = [CourseProgress(course, totals.get(course.id, 0), tenths_of(course.nominal_hours), course.id in scores,
                           scores.get(course.id)) for course in courses]
    return ClassProgress(training_class, rows, sum(r.credited_tenths for r in rows), required, first, reached)
