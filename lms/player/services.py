"""Course management, who may study what, and starting a playback. Learning sessions live in
sessions.py, the lesson and daily totals in progress.py, face checks during study in checks.py."""
import secrets
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..core.context import Actor
from ..core.errors import RuleViolation
from ..extensions import db
from ..institutions.models import APPROVED, Application, TrainingClass
from ..learners.models import Learner
from . import accounting, checks, transcode
from .jobs import video_dir
from .models import (PUBLISHED, READY, WITHDRAWN, ClassCourse, Course, Heartbeat, Lesson, LessonProgress, Playback,
                     SelfEnrolment, StudySession, Video)
from .progress import progress_for
from .signals import course_publishing
from .sessions import live_session

VIDEO_EXTENSIONS = {".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi", ".flv", ".3gp", ".ts"}  # transcode.CONTAINERS


class StudyError(RuleViolation):
    """A course or study rule refused the action."""


# --- courses ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CourseDraft:
    title: str
    category: str
    nominal_hours: float
    description: str
    version: str
    last_reviewed_on: date


def create_course(institution_id: int, draft: CourseDraft, now: datetime, actor: Actor) -> Course:
    if draft.nominal_hours <= 0:
        raise StudyError("hours")
    course = Course(institution_id=institution_id, created_at=now, **draft.__dict__)
    db.session.add(course)
    db.session.flush()
    record(actor, "course_create", now, target=f"course:{course.id} {draft.title}", institution_id=institution_id)
    db.session.commit()
    return course


def add_lesson(course: Course, title: str, filename: str, stream, now: datetime, actor: Actor,
               max_bytes: int) -> Lesson:
    """Save the uploaded video as-is and queue it; the worker transcodes it later."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in VIDEO_EXTENSIONS:
        raise StudyError("video_type")
    if course.status == WITHDRAWN:
        raise StudyError("withdrawn")
    video = Video(source_name="source" + suffix, created_at=now, updated_at=now)
    db.session.add(video)
    db.session.flush()
    folder = video_dir(video.id)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        size = _save_stream(stream, folder / video.source_name, max_bytes)
        if size == 0:
            raise StudyError("video_empty")
        position = (db.session.scalar(select(func.max(Lesson.position)).where(Lesson.course_id == course.id)) or 0) + 1
        lesson = Lesson(course_id=course.id, position=position, title=title.strip(), video_id=video.id)
        db.session.add(lesson)
        db.session.flush()
        record(actor, "lesson_add", now, target=f"course:{course.id} lesson:{lesson.id}", detail=title[:100],
               institution_id=course.institution_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return lesson


def _save_stream(stream, path: Path, max_bytes: int) -> int:
    size = 0
    with open(path, "wb") as out:
        while chunk := stream.read(1024 * 1024):
            if size == 0 and transcode.container_of(chunk) is None:
                raise StudyError("video_format")  # e.g. an HLS playlist renamed .mp4: refused at once
            size += len(chunk)
            if size > max_bytes:
                raise StudyError("video_too_large")
            out.write(chunk)
    return size


def set_course_status(course: Course, status: str, now: datetime, actor: Actor) -> None:
    if status == PUBLISHED:
        if not course.lessons:
            raise StudyError("no_lessons")
        if any(lesson.video is None or lesson.video.status != READY for lesson in course.lessons):
            raise StudyError("videos_not_ready")
        reasons = [reason for _receiver, found in course_publishing.send(course) for reason in found]
        if reasons:  # e.g. the quiz's bank-size rule
            raise StudyError("not_publishable", reasons=reasons)
    course.status = status
    record(actor, f"course_{status}", now, target=f"course:{course.id}", institution_id=course.institution_id)
    db.session.commit()


def needs_review(course: Course, today: date, max_age_days: int) -> bool:
    return course.last_reviewed_on < today - timedelta(days=max_age_days)


def assign_to_class(training_class: TrainingClass, course: Course, now: datetime, actor: Actor) -> None:
    if course.institution_id != training_class.institution_id:
        raise StudyError("other_institution")
    if course.status != PUBLISHED:
        raise StudyError("not_published")
    exists = db.session.scalar(select(ClassCourse.id).filter_by(class_id=training_class.id, course_id=course.id))
    if exists:
        raise StudyError("already_assigned")
    db.session.add(ClassCourse(class_id=training_class.id, course_id=course.id))
    record(actor, "curriculum_add", now, target=f"class:{training_class.id} course:{course.id}",
           institution_id=course.institution_id)
    db.session.commit()


# --- access -----------------------------------------------------------------------------

def prescribed_course_ids(learner: Learner) -> set[int]:
    return set(db.session.scalars(select(ClassCourse.course_id).join(
        Application, Application.class_id == ClassCourse.class_id).where(
        Application.learner_id == learner.id, Application.status == APPROVED)))


def optional_courses(learner: Learner) -> list[Course]:
    """Published courses of institutions that approved the learner, outside their curriculum."""
    institution_ids = select(TrainingClass.institution_id).join(
        Application, Application.class_id == TrainingClass.id).where(
        Application.learner_id == learner.id, Application.status == APPROVED)
    prescribed = prescribed_course_ids(learner)
    courses = db.session.scalars(select(Course).where(
        Course.status == PUBLISHED, Course.institution_id.in_(institution_ids)).order_by(Course.id))
    return [c for c in courses if c.id not in prescribed]


def self_enrolled_ids(learner: Learner) -> set[int]:
    return set(db.session.scalars(select(SelfEnrolment.course_id).where(SelfEnrolment.learner_id == learner.id)))


def my_courses(learner: Learner) -> list[Course]:
    ids = prescribed_course_ids(learner) | self_enrolled_ids(learner)
    if not ids:
        return []
    return list(db.session.scalars(select(Course).where(Course.id.in_(ids), Course.status == PUBLISHED)
                                   .order_by(Course.id)))


def can_study(learner: Learner, course: Course) -> bool:
    return course.status == PUBLISHED and (
        course.id in prescribed_course_ids(learner) or course.id in self_enrolled_ids(learner))


def enrol_optional(learner: Learner, course: Course, now: datetime, actor: Actor) -> None:
    if course not in optional_courses(learner):
        raise StudyError("not_optional")
    if course.id in self_enrolled_ids(learner):
        raise StudyError("already_enrolled")
    db.session.add(SelfEnrolment(learner_id=learner.id, course_id=course.id, created_at=now))
    record(actor, "course_self_enrol", now, target=f"course:{course.id}", institution_id=course.institution_id)
    db.session.commit()


def lesson_unlocked(learner: Learner, lesson: Lesson) -> bool:
    """The first lesson is open; each next one opens when the one before it is complete."""
    previous = db.session.scalar(select(Lesson).where(
        Lesson.course_id == lesson.course_id, Lesson.position < lesson.position).order_by(Lesson.position.desc()))
    if previous is None:
        return True
    progress = progress_for(learner.id, previous.id)
    return progress is not None and progress.completed_at is not None


# --- playbacks (learning sessions: sessions.py) ------------------------------------------------

def start_playback(learner: Learner, lesson: Lesson, now: datetime, actor: Actor) -> Playback:
    """Open a player for the lesson. It becomes the learner's only active playback."""
    if not can_study(learner, lesson.course):
        raise StudyError("not_enrolled")
    if not lesson_unlocked(learner, lesson):
        raise StudyError("locked")
    if lesson.video is None or lesson.video.status != READY:
        raise StudyError("video_not_ready")
    if not checks.ready_to_study(learner.id):
        raise StudyError("face_not_enrolled")
    progress = progress_for(learner.id, lesson.id)
    resume = progress.resume_position if progress else 0.0
    session = _live_or_new_session(learner, lesson.id, resume, now, actor)
    # Two starts in one live session take turns (PostgreSQL row lock; SQLite has one writer anyway), so
    # that the later one sees the earlier's playback and leaves exactly one active.
    db.session.execute(select(StudySession.id).where(StudySession.id == session.id).with_for_update())
    session.last_interaction_at = now
    previous = db.session.scalar(select(Playback).where(Playback.learner_id == learner.id,
                                                        Playback.active.is_(True)).order_by(Playback.id.desc()))
    db.session.execute(update(Playback).where(Playback.learner_id == learner.id, Playback.active.is_(True))
                       .values(active=False))
    playback = Playback(token=secrets.token_urlsafe(24), learner_id=learner.id, session_id=session.id,
                        lesson_id=lesson.id, started_at=now)
    _continue_viewing(playback, previous)
    checks.plan_in_video_check(playback, resume, lesson.video.duration)
    db.session.add(playback)
    db.session.commit()
    return playback


def _continue_viewing(playback: Playback, previous: Playback | None) -> None:
    """A new player for the lesson the learner is watching in this session (fresh video links after one
    expired, a reload) goes on from the old one's anchor: its first report is judged as the next report
    of the same viewing, not as a jump past the last credited point. The old one stops counting, so the
    time is counted once."""
    if previous is None or (previous.session_id, previous.lesson_id) != (playback.session_id, playback.lesson_id):
        return
    playback.anchor_at, playback.anchor_position = previous.anchor_at, previous.anchor_position
    playback.clock_reserve, playback.anchor_playing = previous.clock_reserve, previous.anchor_playing


SESSION_START_ATTEMPTS = 3


def _live_or_new_session(learner: Learner, lesson_id: int, resume: float, now: datetime,
                         actor: Actor) -> StudySession:
    """The learner's live session, or a new one (logged, with its start check). The database keeps one
    live session per learner (a partial unique index): when another start created it at the same
    moment, this insert is refused and the start joins the session that won, so that no orphan is left
    whose start check would later be missed. Nothing is written before the insert (live_session commits
    what it ends itself), so the rollback undoes only the refused insert."""
    for attempt in range(SESSION_START_ATTEMPTS):
        session = live_session(learner, now)
        if session is not None:
            return session
        session = StudySession(learner_id=learner.id, started_at=now, last_interaction_at=now,
                               ip=actor.ip, user_agent=actor.user_agent)
        db.session.add(session)
        try:
            db.session.flush()
            break
        except IntegrityError:
            db.session.rollback()  # the winner has committed (the index waited for it): read it next turn
            if attempt == SESSION_START_ATTEMPTS - 1:
                raise
    record(actor, "study_session_start", now, target=f"study_session:{session.id}")
    checks.open_start_check(session, lesson_id, resume, now, actor.ip)
    return session


# --- summaries ----------------------------------------------------------------------------

@dataclass(frozen=True)
class LessonSummary:
    lesson: Lesson
    effective: float
    provisional: float  # part of effective that the next face check still has to confirm
    covered: float
    duration: float
    complete: bool
    unlocked: bool
    resume: float

    @property
    def confirmed(self) -> float:
        return checks.confirmed_seconds(self.effective, self.provisional)


@dataclass(frozen=True)
class CourseTotals:
    """A course's figures for the learner, summed over its lessons."""
    lessons: int
    complete: int
    effective: float
    provisional: float
    covered: float
    duration: float

    @property
    def confirmed(self) -> float:
        return checks.confirmed_seconds(self.effective, self.provisional)


def course_totals(summaries: list[LessonSummary]) -> CourseTotals:
    return CourseTotals(len(summaries), sum(1 for row in summaries if row.complete),
                        sum(row.effective for row in summaries), sum(row.provisional for row in summaries),
                        sum(row.covered for row in summaries), sum(row.duration for row in summaries))


def lessons_confirmed(learner_id: int, course: Course) -> bool:
    """Every lesson complete, and none of its time still provisional (waiting for a face check): one
    of the rules for sitting the course test (lms.quiz) and for crediting its hours (lms.hours)."""
    lesson_ids = [lesson.id for lesson in course.lessons]
    if not lesson_ids:
        return False
    done = db.session.scalar(select(func.count(LessonProgress.id)).where(
        LessonProgress.learner_id == learner_id, LessonProgress.lesson_id.in_(lesson_ids),
        LessonProgress.completed_at.is_not(None)))
    if done != len(lesson_ids):
        return False
    return not any(seconds > 0 for seconds in checks.provisional_seconds(learner_id, lesson_ids).values())


def course_summary(learner: Learner, course: Course) -> list[LessonSummary]:
    rows = {p.lesson_id: p for p in db.session.scalars(select(LessonProgress).where(
        LessonProgress.learner_id == learner.id,
        LessonProgress.lesson_id.in_([lesson.id for lesson in course.lessons])))}
    provisional = checks.provisional_seconds(learner.id, [lesson.id for lesson in course.lessons])
    summaries, previous_complete = [], True
    for lesson in course.lessons:
        progress = rows.get(lesson.id)
        complete = bool(progress and progress.completed_at)
        summaries.append(LessonSummary(
            lesson, progress.effective_seconds if progress else 0.0, provisional.get(lesson.id, 0.0),
            progress.covered_seconds if progress else 0.0,
            lesson.video.duration or 0.0 if lesson.video else 0.0, complete, previous_complete,
            progress.resume_position if progress else 0.0))
        previous_complete = complete
    return summaries


def refusal_counts(learner_id: int) -> dict[str, int]:
    rows = db.session.execute(select(Heartbeat.reason, func.count(Heartbeat.id)).where(
        Heartbeat.learner_id == learner_id, Heartbeat.reason.in_(accounting.REFUSALS)).group_by(Heartbeat.reason))
    return dict(rows.all())


def courses_of_institution(institution_id: int) -> list[Course]:
    return list(db.session.scalars(select(Course).where(Course.institution_id == institution_id)
                                   .order_by(Course.id.desc())))
