"""Question banks, paper settings, test attempts with every question served, and practice records."""
import json
from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import utcnow
from ..extensions import db

# Question kinds. A true/false question has no stored options: "A" is true, "B" is false.
TRUE_FALSE, SINGLE, MULTIPLE = "true_false", "single", "multiple"
KINDS = (TRUE_FALSE, SINGLE, MULTIPLE)

# Paper modes
AUTO, MANUAL = "auto", "manual"

# Attempt states and why an attempt ended
OPEN, FINISHED = "open", "finished"
SUBMITTED, EXPIRED, FACE_FAILED, FACE_MISSED, FACE_REVIEW_FAILED = (
    "submitted", "expired", "face_failed", "face_missed", "face_review_failed")


class Question(db.Model):
    """A question of a course's bank. Edited in place; attempts keep their own copy of what they served,
    and a question used by an attempt is retired, never deleted."""

    __tablename__ = "quiz_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(db.ForeignKey("courses.id"), index=True)
    lesson_id: Mapped[int | None] = mapped_column(db.ForeignKey("lessons.id"))
    kind: Mapped[str] = mapped_column(db.String(16))
    stem: Mapped[str] = mapped_column(db.Text)
    options: Mapped[str] = mapped_column(db.Text, default="[]")  # JSON list of option texts, A first
    answer: Mapped[str] = mapped_column(db.String(8))            # letters of the correct options, sorted
    explanation: Mapped[str] = mapped_column(db.Text, default="")
    knowledge_point: Mapped[str] = mapped_column(db.String(64), default="")
    retired: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    lesson = relationship("Lesson")

    @property
    def option_list(self) -> list[str]:
        return json.loads(self.options or "[]")


class QuizSettings(db.Model):
    """How a course's papers are composed: automatically by question counts and points per kind,
    or by hand (ManualPaperItem). Either way a paper is worth 100 points."""

    __tablename__ = "quiz_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(db.ForeignKey("courses.id"), unique=True)
    mode: Mapped[str] = mapped_column(db.String(8), default=AUTO)
    true_false_count: Mapped[int] = mapped_column(default=0)
    true_false_points: Mapped[int] = mapped_column(default=0)
    single_count: Mapped[int] = mapped_column(default=0)
    single_points: Mapped[int] = mapped_column(default=0)
    multiple_count: Mapped[int] = mapped_column(default=0)
    multiple_points: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ManualPaperItem(db.Model):
    """A question staff put on a course's hand-made paper, with its points."""

    __tablename__ = "quiz_manual_items"
    __table_args__ = (db.UniqueConstraint("course_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(db.ForeignKey("courses.id"), index=True)
    question_id: Mapped[int] = mapped_column(db.ForeignKey("quiz_questions.id"))
    points: Mapped[int]
    position: Mapped[int]

    question = relationship("Question")


class Attempt(db.Model):
    """One sitting of a course's test. Counted as used from the moment it starts."""

    __tablename__ = "quiz_attempts"
    # Two starts at the same moment cannot both become attempt number n.
    __table_args__ = (db.UniqueConstraint("learner_id", "course_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"), index=True)
    course_id: Mapped[int] = mapped_column(db.ForeignKey("courses.id"), index=True)
    number: Mapped[int]                      # 1..max attempts
    status: Mapped[str] = mapped_column(db.String(16), default=OPEN)
    started_at: Mapped[datetime]
    deadline: Mapped[datetime]               # an attempt left open is ended after this
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(db.String(24))
    score: Mapped[int | None]
    passed: Mapped[bool] = mapped_column(default=False)
    current: Mapped[int] = mapped_column(default=0)   # position of the question served now (0: none yet)
    question_count: Mapped[int] = mapped_column(default=0)
    tab_token: Mapped[str] = mapped_column(db.String(64), default="")  # only the newest page may answer
    open_check_id: Mapped[int | None] = mapped_column(db.ForeignKey("face_checks.id"))
    next_check_at: Mapped[datetime | None]
    ip: Mapped[str] = mapped_column(db.String(64), default="")
    user_agent: Mapped[str] = mapped_column(db.String(300), default="")

    course = relationship("Course")
    learner = relationship("Learner")
    questions = relationship("AttemptQuestion", order_by="AttemptQuestion.position", back_populates="attempt")


class AttemptQuestion(db.Model):
    """A question of an attempt as served: a copy of its text, options in the order shown, the key,
    the points, when it was served and answered, the answer and its score (the audit record)."""

    __tablename__ = "quiz_attempt_questions"
    __table_args__ = (db.UniqueConstraint("attempt_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(db.ForeignKey("quiz_attempts.id"), index=True)
    position: Mapped[int]                    # 1-based order in this attempt
    question_id: Mapped[int] = mapped_column(db.ForeignKey("quiz_questions.id"))
    kind: Mapped[str] = mapped_column(db.String(16))
    stem: Mapped[str] = mapped_column(db.Text)
    options: Mapped[str] = mapped_column(db.Text, default="[]")       # original options, as in the bank then
    option_order: Mapped[str] = mapped_column(db.String(64), default="[]")  # shown i-th: original index
    answer_key: Mapped[str] = mapped_column(db.String(8))              # original letters
    explanation: Mapped[str] = mapped_column(db.Text, default="")
    points: Mapped[int]
    served_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    response: Mapped[str | None] = mapped_column(db.String(8))         # original letters chosen
    late: Mapped[bool] = mapped_column(default=False)
    correct: Mapped[bool | None]
    score: Mapped[int] = mapped_column(default=0)

    attempt = relationship("Attempt", back_populates="questions")

    @property
    def option_list(self) -> list[str]:
        return json.loads(self.options or "[]")

    @property
    def order(self) -> list[int]:
        return json.loads(self.option_order or "[]")


class PracticeAnswer(db.Model):
    """An answer given in practice (sequential, mock exam or wrong-question replay)."""

    __tablename__ = "quiz_practice_answers"
    __table_args__ = (db.Index("ix_quiz_practice_learner_question", "learner_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"))
    question_id: Mapped[int] = mapped_column(db.ForeignKey("quiz_questions.id"))
    mode: Mapped[str] = mapped_column(db.String(16))
    response: Mapped[str] = mapped_column(db.String(8))
    correct: Mapped[bool]
    answered_at: Mapped[datetime]


class MockSubmission(db.Model):
    """A mock exam paper as graded and recorded. A signed paper is recorded once: ``paper_digest`` (the
    SHA-256 of the signed text of its token) is unique, so a second submission of the same paper, also
    one at the same moment, records nothing and is shown this result."""

    __tablename__ = "quiz_mock_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"), index=True)
    course_id: Mapped[int] = mapped_column(db.ForeignKey("courses.id"))
    paper_digest: Mapped[str] = mapped_column(db.String(64), unique=True)
    score: Mapped[int]
    passed: Mapped[bool]
    fallback: Mapped[bool] = mapped_column(default=False)
    # JSON: [[question_id, points, [shown order], response, correct, score], ...] in the paper's order
    rows: Mapped[str] = mapped_column(db.Text)
    submitted_at: Mapped[datetime]

    @property
    def row_list(self) -> list:
        return json.loads(self.rows)


class WrongQuestion(db.Model):
    """A question the learner got wrong (in practice or a finished test) and has not since cleared."""

    __tablename__ = "quiz_wrong_questions"
    __table_args__ = (db.UniqueConstraint("learner_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"), index=True)
    question_id: Mapped[int] = mapped_column(db.ForeignKey("quiz_questions.id"))
    last_response: Mapped[str] = mapped_column(db.String(8), default="")
    times_wrong: Mapped[int] = mapped_column(default=1)
    last_wrong_at: Mapped[datetime]

    question = relationship("Question")


class Favourite(db.Model):
    __tablename__ = "quiz_favourites"
    __table_args__ = (db.UniqueConstraint("learner_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"), index=True)
    question_id: Mapped[int] = mapped_column(db.ForeignKey("quiz_questions.id"))
    created_at: Mapped[datetime]

    question = relationship("Question")
