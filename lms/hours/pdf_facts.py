"""What the hours module's printed documents show, gathered from the database as plain data.

pdf.py renders these facts; nothing here knows about reportlab, and nothing there reads the database.
"""
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidTag
from flask import current_app
from sqlalchemy import select

from ..core.iddocs import public_mask
from ..extensions import db
from ..files.models import StoredFile
from ..files.storage import read_file
from ..player.models import Course
from ..player.services import course_summary, my_courses
from ..quiz.models import OPEN, SUBMITTED, Attempt
from . import payload
from . import progress as hours_progress
from .certificates import certificates_of, facts_of
from .models import REVOKED


# --- the certificate -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CertificatePrint:
    """A certificate as printed: its signed facts, and what is printed beside them unsigned."""
    facts: payload.CertificateFacts
    qr_text: str                # the verification URL with the signed payload
    photo: bytes | None         # the learner's current photo; None prints a framed placeholder
    work_unit: str              # the learner's profile, not signed
    revoked: bool


def certificate_print(certificate) -> CertificatePrint:
    """A stored certificate's signed facts, the learner's current photo and work unit, and its
    verification URL at the platform's public address."""
    learner = certificate.learner
    return CertificatePrint(
        facts_of(certificate), payload.verification_url(current_app.config["LMS_PUBLIC_URL"], certificate.token),
        _photo_of(learner), learner.work_unit, certificate.status == REVOKED)


def _photo_of(learner) -> bytes | None:
    record = db.session.get(StoredFile, learner.photo_file_id) if learner.photo_file_id else None
    if record is None:
        return None
    try:
        return read_file(record)
    except (OSError, ValueError, InvalidTag):   # missing or damaged on disk: printed with the placeholder
        current_app.logger.warning("photo file %s of learner %s unreadable", record.id, learner.id)
        return None


# --- a learner's study record and test results -----------------------------------------------------------

@dataclass(frozen=True)
class LearnerHeading:
    name: str
    masked_id_number: str
    work_unit: str


@dataclass(frozen=True)
class LessonLine:
    title: str
    confirmed_seconds: float    # credited study time that no face check can still void
    covered_seconds: float
    duration: float
    complete: bool


@dataclass(frozen=True)
class CourseLine:
    title: str
    lessons: tuple[LessonLine, ...]
    score: int | None           # best passing test score, None while not passed
    credited_tenths: int        # hours credited to the course, in tenths
    nominal_hours: float

    @property
    def confirmed_seconds(self) -> float:
        return sum(lesson.confirmed_seconds for lesson in self.lessons)

    @property
    def covered_seconds(self) -> float:
        return sum(lesson.covered_seconds for lesson in self.lessons)

    @property
    def duration(self) -> float:
        return sum(lesson.duration for lesson in self.lessons)

    @property
    def lessons_complete(self) -> int:
        return sum(1 for lesson in self.lessons if lesson.complete)


@dataclass(frozen=True)
class ClassSection:
    title: str
    institution: str
    training_type: str          # a code; pdf.py prints its label
    credited_hours: float
    required_hours: float
    courses: tuple[CourseLine, ...]


@dataclass(frozen=True)
class CertificateLine:
    number: str
    class_title: str
    hours: float
    issued_at: datetime | None
    status: str                 # a code; pdf.py prints its label


@dataclass(frozen=True)
class StudyRecord:
    learner: LearnerHeading
    classes: tuple[ClassSection, ...]       # the approved classes, each with its curriculum
    other_courses: tuple[CourseLine, ...]   # courses studied outside those classes
    certificates: tuple[CertificateLine, ...]


@dataclass(frozen=True)
class AttemptLine:
    course_title: str
    number: int
    started_at: datetime | None
    ended_at: datetime | None
    score: int | None
    in_progress: bool
    passed: bool
    ended_how: str | None       # how it ended when not submitted by the learner (an attempt_end code)


@dataclass(frozen=True)
class ResultsSheet:
    learner: LearnerHeading
    attempts: tuple[AttemptLine, ...]   # oldest first


def learner_heading(learner) -> LearnerHeading:
    return LearnerHeading(learner.name, public_mask(learner.id_number), learner.work_unit or "")


def study_record(learner) -> StudyRecord:
    """For each approved class its courses and their lessons, credited against nominal hours, and the
    class's progress toward its required online hours; then the other courses, and the certificates."""
    credited = hours_progress.balances(learner.id)
    classes, shown = [], set()
    for training_class in hours_progress.approved_classes(learner.id):
        progress = hours_progress.class_progress(learner.id, training_class)
        shown.update(row.course.id for row in progress.courses)
        classes.append(ClassSection(
            training_class.title, training_class.institution.name, training_class.training_type, progress.credited,
            progress.required, tuple(_course_line(learner, row.course, credited, row.score)
                                     for row in progress.courses)))
    others = [course for course in my_courses(learner) if course.id not in shown]
    scores = hours_progress.best_scores(learner.id, [course.id for course in others]) if others else {}
    return StudyRecord(learner_heading(learner), tuple(classes),
                       tuple(_course_line(learner, course, credited, scores.get(course.id)) for course in others),
                       tuple(_certificate_line(certificate) for certificate in certificates_of(learner.id)))


def _course_line(learner, course, credited: dict[int, int], score: int | None) -> CourseLine:
    lessons = tuple(LessonLine(row.lesson.title, row.confirmed, row.covered, row.duration,
                               row.complete) for row in course_summary(learner, course))
    return CourseLine(course.title, lessons, score, credited.get(course.id, 0), course.nominal_hours)


def _certificate_line(certificate) -> CertificateLine:
    facts = facts_of(certificate)
    return CertificateLine(certificate.number, facts.class_title, facts.hours, certificate.issued_at,
                           certificate.status)


def results_sheet(learner) -> ResultsSheet:
    """Every test attempt of the learner, oldest first."""
    attempts = db.session.execute(select(Attempt, Course.title).join(Course, Course.id == Attempt.course_id)
                                  .where(Attempt.learner_id == learner.id)
                                  .order_by(Attempt.started_at, Attempt.id)).all()
    return ResultsSheet(learner_heading(learner), tuple(
        AttemptLine(title, attempt.number, attempt.started_at, attempt.ended_at, attempt.score,
                    attempt.status == OPEN, bool(attempt.passed),
                    attempt.end_reason if attempt.end_reason and attempt.end_reason != SUBMITTED else None)
        for attempt, title in attempts))
