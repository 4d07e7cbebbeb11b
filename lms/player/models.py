"""Courses, lessons, videos and the records of study time."""
from datetime import date, datetime

from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import utcnow
from ..extensions import db

DRAFT = "draft"
PUBLISHED = "published"
WITHDRAWN = "withdrawn"
COURSE_STATES = (DRAFT, PUBLISHED, WITHDRAWN)

# Video job states
PENDING = "pending"
PROCESSING = "processing"
READY = "ready"
FAILED = "failed"


class Course(db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(db.ForeignKey("institutions.id"), index=True)
    title: Mapped[str] = mapped_column(db.String(128))
    category: Mapped[str] = mapped_column(db.String(64), default="")
    nominal_hours: Mapped[float]
    description: Mapped[str] = mapped_column(db.Text, default="")
    version: Mapped[str] = mapped_column(db.String(32), default="1.0")
    last_reviewed_on: Mapped[date]
    status: Mapped[str] = mapped_column(db.String(16), default=DRAFT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    institution = relationship("Institution")
    lessons = relationship("Lesson", order_by="Lesson.position", back_populates="course")


class Lesson(db.Model):
    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(db.ForeignKey("courses.id"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(db.String(128))
    video_id: Mapped[int | None] = mapped_column(db.ForeignKey("videos.id"))

    course = relationship("Course", back_populates="lessons")
    video = relationship("Video")


class Video(db.Model):
    """An uploaded source and its transcoding job; renditions appear when it is ready."""

    __tablename__ = "videos"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_name: Mapped[str] = mapped_column(db.String(200))
    status: Mapped[str] = mapped_column(db.String(16), default=PENDING, index=True)
    progress: Mapped[float] = mapped_column(default=0.0)
    error: Mapped[str | None] = mapped_column(db.String(300))
    duration: Mapped[float | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    renditions = relationship("Rendition", order_by="Rendition.height", back_populates="video")


class Rendition(db.Model):
    __tablename__ = "renditions"
    __table_args__ = (db.UniqueConstraint("video_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[int] = mapped_column(db.ForeignKey("videos.id"), index=True)
    name: Mapped[str] = mapped_column(db.String(16))  # 360p | 480p | 720p
    height: Mapped[int]
    width: Mapped[int]
    size: Mapped[int]

    video = relationship("Video", back_populates="renditions")


class ClassCourse(db.Model):
    """The prescribed curriculum of a class."""

    __tablename__ = "class_courses"
    __table_args__ = (db.UniqueConstraint("class_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(db.ForeignKey("training_classes.id"), index=True)
    course_id: Mapped[int] = mapped_column(db.ForeignKey("courses.id"), index=True)

    course = relationship("Course")


class SelfEnrolment(db.Model):
    """An optional course a learner chose for themselves."""

    __tablename__ = "self_enrolments"
    __table_args__ = (db.UniqueConstraint("learner_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"), index=True)
    course_id: Mapped[int] = mapped_column(db.ForeignKey("courses.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StudySession(db.Model):
    """A learning session: from opening the study screen to sign-out, idle or takeover."""

    __tablename__ = "study_sessions"
    # At most one live session per learner, enforced by the database: two starts at the same moment
    # must not both create one (see services.start_playback).
    __table_args__ = (db.Index("uq_study_sessions_one_live_per_learner", "learner_id", unique=True,
                               sqlite_where=db.text("ended_at IS NULL"),
                               postgresql_where=db.text("ended_at IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"), index=True)
    started_at: Mapped[datetime]
    last_interaction_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(db.String(32))
    ip: Mapped[str] = mapped_column(db.String(64), default="")
    user_agent: Mapped[str] = mapped_column(db.String(300), default="")
    # Face checks (lms/proctor): the one due and unanswered, and when the next random one falls.
    open_check_id: Mapped[int | None] = mapped_column(db.ForeignKey("face_checks.id"))
    next_check_at: Mapped[datetime | None]


class Playback(db.Model):
    """One player on one page. Only the newest playback of a learner earns time."""

    __tablename__ = "playbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(db.String(64), unique=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"), index=True)
    session_id: Mapped[int] = mapped_column(db.ForeignKey("study_sessions.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(db.ForeignKey("lessons.id"))
    started_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(default=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    anchor_at: Mapped[datetime | None]       # server time of the last accepted heartbeat
    anchor_position: Mapped[float | None]    # video position at that time
    clock_reserve: Mapped[float] = mapped_column(default=0.0)  # server seconds elapsed but not yet credited
    anchor_playing: Mapped[bool] = mapped_column(default=False)  # the video was playing at the anchor
    check_at_position: Mapped[float | None]  # a face check falls due when the video reaches this point


class Heartbeat(db.Model):
    """Every heartbeat as received, with what it earned or why it earned nothing."""

    __tablename__ = "heartbeats"
    __table_args__ = (db.Index("ix_heartbeats_learner_reason", "learner_id", "reason"),
                      db.Index("ix_heartbeats_learner_check", "learner_id", "check_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    playback_id: Mapped[int | None] = mapped_column(db.ForeignKey("playbacks.id"), index=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"))
    lesson_id: Mapped[int | None]
    received_at: Mapped[datetime]
    seq: Mapped[int | None]
    client_time: Mapped[float | None]
    position: Mapped[float | None]
    playing: Mapped[bool | None]
    visible: Mapped[bool | None]
    focused: Mapped[bool | None]
    rate: Mapped[float | None]
    credited: Mapped[float] = mapped_column(default=0.0)
    covered_from: Mapped[float | None]
    covered_to: Mapped[float | None]
    reason: Mapped[str | None] = mapped_column(db.String(32))  # None when fully credited
    voided: Mapped[bool] = mapped_column(default=False)  # set by a later rule (failed face check)
    ip: Mapped[str] = mapped_column(db.String(64), default="")
    # The face check that decided this credit: NULL while provisional (no check since); its
    # status says whether the credit stands (passed), waits (review) or was voided.
    check_id: Mapped[int | None] = mapped_column(db.ForeignKey("face_checks.id"))


class LessonProgress(db.Model):
    """Running totals for one learner and lesson, rebuilt from heartbeats when time is voided."""

    __tablename__ = "lesson_progress"
    __table_args__ = (db.UniqueConstraint("learner_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(db.ForeignKey("lessons.id"))
    effective_seconds: Mapped[float] = mapped_column(default=0.0)
    coverage: Mapped[str] = mapped_column(db.Text, default="[]")  # merged [start, end] intervals, JSON
    covered_seconds: Mapped[float] = mapped_column(default=0.0)
    furthest: Mapped[float] = mapped_column(default=0.0)
    resume_position: Mapped[float] = mapped_column(default=0.0)
    completed_at: Mapped[datetime | None]


class DailyStudy(db.Model):
    """Credited seconds per learner per China calendar day, for the daily cap."""

    __tablename__ = "daily_study"
    __table_args__ = (db.UniqueConstraint("learner_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"))
    day: Mapped[date]
    seconds: Mapped[float] = mapped_column(default=0.0)
