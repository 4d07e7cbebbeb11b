"""Face enrolments, face checks, their attempts (the evidence) and staff reviews."""
import json
from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import utcnow
from ..core.types import EncryptedText
from ..extensions import db

# Enrolment states: a learner has at most one ACTIVE enrolment; a replacement waits as PENDING.
ACTIVE, PENDING, REJECTED, SUPERSEDED = "active", "pending", "rejected", "superseded"

# Check states. OPEN: due and unanswered. REVIEW: a person decides (doubtful result or appeal).
OPEN, PASSED, REVIEW, FAILED, MISSED = "open", "passed", "review", "failed", "missed"
DECIDED = (PASSED, FAILED, MISSED)

# Why a check was asked for.
START, RANDOM, IN_VIDEO = "start", "random", "in_video"

# Review kinds. PHOTO_FALLBACK: two photos sent without a camera would have passed (fallback.py).
DOUBTFUL_RESULT, APPEAL, PHOTO_FALLBACK = "doubtful", "appeal", "photo_fallback"


class FaceEnrolment(db.Model):
    """The reference face of a learner: the photo and its 128-d encoding (encrypted)."""

    __tablename__ = "face_enrolments"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"), index=True)
    photo_file_id: Mapped[int] = mapped_column(db.ForeignKey("stored_files.id"))
    encoding: Mapped[str] = mapped_column(EncryptedText)
    status: Mapped[str] = mapped_column(db.String(16))
    face_width: Mapped[int]
    sharpness: Mapped[float]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(db.String(300), default="")

    learner = relationship("Learner")
    decided_by = relationship("User")


class FaceCheck(db.Model):
    """One identity check, asked for by another module (a learning session, later a test)."""

    __tablename__ = "face_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"), index=True)
    enrolment_id: Mapped[int] = mapped_column(db.ForeignKey("face_enrolments.id"))
    context_kind: Mapped[str] = mapped_column(db.String(32))   # "study_session", "quiz_attempt", ...
    context_id: Mapped[int]
    # The institution that owns the context (the course's, for study and for its test): its staff review it.
    owner_institution_id: Mapped[int | None] = mapped_column(db.ForeignKey("institutions.id"), index=True)
    purpose: Mapped[str] = mapped_column(db.String(16))        # START | RANDOM | IN_VIDEO
    # What the asking module wants shown beside the check (a JSON object, e.g. the player's lesson
    # and video position); the proctor's pages show it, its rules never read it.
    context_details: Mapped[str] = mapped_column(db.Text, default="{}", server_default="{}")
    status: Mapped[str] = mapped_column(db.String(16), default=OPEN, index=True)
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    distance: Mapped[float | None]                             # of the attempt that decided it
    liveness: Mapped[str | None] = mapped_column(db.String(16))
    reason: Mapped[str | None] = mapped_column(db.String(32))  # why it failed or went to review
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("users.id"))  # None: the system
    ip: Mapped[str] = mapped_column(db.String(64), default="")

    attempt_rows = relationship("FaceCheckAttempt", order_by="FaceCheckAttempt.id", back_populates="check")
    reviews = relationship("FaceReview", order_by="FaceReview.id", back_populates="check")
    enrolment = relationship("FaceEnrolment")
    learner = relationship("Learner")
    decided_by = relationship("User")

    @property
    def details(self) -> dict:
        return json.loads(self.context_details or "{}")


class FaceCheckAttempt(db.Model):
    """What the camera showed and what the server made of it: the evidence of one try."""

    __tablename__ = "face_check_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(db.ForeignKey("face_checks.id"), index=True)
    challenge_id: Mapped[int | None] = mapped_column(db.ForeignKey("face_challenges.id"))  # None: before challenges
    at: Mapped[datetime]
    ip: Mapped[str] = mapped_column(db.String(64), default="")
    mode: Mapped[str] = mapped_column(db.String(16))
    frame_file_ids: Mapped[str] = mapped_column(db.Text, default="[]")   # JSON list of stored_files ids
    frames_purged_at: Mapped[datetime | None]                              # retention removed the frames
    face_counts: Mapped[str] = mapped_column(db.String(100), default="[]")
    distances: Mapped[str] = mapped_column(db.String(300), default="[]")
    distance: Mapped[float | None]
    yaw_change: Mapped[float | None]
    liveness: Mapped[str | None] = mapped_column(db.String(16))
    outcome: Mapped[str] = mapped_column(db.String(16))
    reason: Mapped[str | None] = mapped_column(db.String(32))

    check = relationship("FaceCheck", back_populates="attempt_rows")
    challenge = relationship("FaceChallenge")

    @property
    def frame_ids(self) -> list[int]:
        return json.loads(self.frame_file_ids)

    @property
    def distance_list(self) -> list[float]:
        return json.loads(self.distances)


class FaceChallenge(db.Model):
    """What the server asked one attempt to show, and until when: the answer must carry the nonce.
    Issuing it uses one of the check's tries, so asking again for a more convenient challenge costs."""

    __tablename__ = "face_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(db.ForeignKey("face_checks.id"), index=True)
    nonce: Mapped[str] = mapped_column(db.String(64), unique=True)
    mode: Mapped[str] = mapped_column(db.String(16))          # camera | photos (the page found no camera)
    action: Mapped[str] = mapped_column(db.String(16))        # left | right (the learner's own side) | up | down
    prompt_frame: Mapped[int]
    frame_count: Mapped[int]
    reaction_frames: Mapped[int]
    interval_ms: Mapped[int]                                   # between the frames before the prompt
    burst_interval_ms: Mapped[int] = mapped_column(server_default="80")  # between the frames after it
    issued_at: Mapped[datetime]
    deadline: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ip: Mapped[str] = mapped_column(db.String(64), default="")


class FaceReview(db.Model):
    """A person's decision on a check: a doubtful result, or the learner's appeal of a failure."""

    __tablename__ = "face_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(db.ForeignKey("face_checks.id"), index=True)
    kind: Mapped[str] = mapped_column(db.String(16))
    opened_at: Mapped[datetime]
    statement: Mapped[str | None] = mapped_column(EncryptedText)   # the learner's words, for an appeal
    decision: Mapped[str | None] = mapped_column(db.String(16))    # PASSED | FAILED, None while open
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(db.String(300), default="")

    check = relationship("FaceCheck", back_populates="reviews")
    decided_by = relationship("User")


class FaceFingerprint(db.Model):
    """A compact print of one analysed face (a check frame or an enrolment photo), kept for the
    evidence-retention period so that a recycled frame is recognised (see fingerprints.py)."""

    __tablename__ = "face_fingerprints"

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(db.ForeignKey("face_check_attempts.id"))
    enrolment_id: Mapped[int | None] = mapped_column(db.ForeignKey("face_enrolments.id"))
    created_at: Mapped[datetime] = mapped_column(index=True)
    digest: Mapped[str] = mapped_column(db.String(64), index=True)   # sha256 hex of the image bytes
    phash: Mapped[int] = mapped_column(db.BigInteger)                 # 64-bit hash as a signed integer
    patch: Mapped[bytes] = mapped_column(db.LargeBinary)              # 16x16 uint8
    geometry: Mapped[bytes] = mapped_column(db.LargeBinary)           # 68x2 float16
    # How the patch and geometry were normalised (fingerprints.PRINT_VERSION): rows compare only with
    # prints of their own version. Rows from before the column are version 1.
    version: Mapped[int] = mapped_column(db.SmallInteger, server_default="1")
