"""The hours ledger, study-hours certificates and the keys that sign them.

The ledger is append-only: rows are only ever added, by lms.hours.ledger. A guard on the app's
session (guard_ledger, put there by lms.hours.init_app) refuses any other insert, every update and
every delete of a ledger row; database triggers refuse UPDATE and DELETE of hours_entries for
everyone else (migration h22hours01).
"""
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..core.clock import utcnow
from ..core.types import EncryptedText
from ..extensions import db

# Ledger entry kinds
CREDIT = "credit"          # a course's nominal hours, when every rule is met (the system)
REVERSAL = "reversal"      # the system takes a credit back when a rule stops being met
CORRECTION = "correction"  # staff, with a reason

# Certificate states
VALID, REVOKED = "valid", "revoked"
# Who revoked it: staff (with their reason) or the system, when the credited hours fell below the requirement
BY_STAFF, HOURS_WITHDRAWN = "staff", "hours_withdrawn"


class HoursEntry(db.Model):
    """One line of a learner's hours ledger for one course, in tenths of an hour."""

    __tablename__ = "hours_entries"
    __table_args__ = (db.UniqueConstraint("learner_id", "course_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"), index=True)
    course_id: Mapped[int] = mapped_column(db.ForeignKey("courses.id"), index=True)
    seq: Mapped[int]            # 1, 2, ... per learner and course: two writers racing collide here
    kind: Mapped[str] = mapped_column(db.String(16))
    tenths: Mapped[int]         # signed: +credit, -reversal, +/- correction
    reason: Mapped[str] = mapped_column(db.Text, default="")
    attempt_id: Mapped[int | None] = mapped_column(db.ForeignKey("quiz_attempts.id"))  # the pass behind a credit
    corrects_id: Mapped[int | None] = mapped_column(db.ForeignKey("hours_entries.id"))
    created_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("users.id"))   # None: the system
    ip: Mapped[str] = mapped_column(db.String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course = relationship("Course")
    created_by = relationship("User")

    @property
    def hours(self) -> float:
        return self.tenths / 10


class Certificate(db.Model):
    """A study-hours certificate (学时证明) of one learner for one class. Its signed payload holds
    every certified fact; the row adds what changes after issue (revocation)."""

    __tablename__ = "hours_certificates"
    # One valid certificate per learner and class: ``live`` is True while valid and NULL once
    # revoked (NULLs never collide in a unique constraint).
    __table_args__ = (db.UniqueConstraint("learner_id", "class_id", "live"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(db.String(32), unique=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"), index=True)
    class_id: Mapped[int] = mapped_column(db.ForeignKey("training_classes.id"), index=True)
    institution_id: Mapped[int] = mapped_column(db.ForeignKey("institutions.id"), index=True)
    region_code: Mapped[str] = mapped_column(db.String(6), index=True)   # the institution's
    key_id: Mapped[str] = mapped_column(db.String(16))
    token: Mapped[str] = mapped_column(EncryptedText)   # the signed payload: names a person, so encrypted at rest
    issued_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(db.String(16), default=VALID)
    live: Mapped[bool | None] = mapped_column(default=True)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("users.id"))
    revoked_how: Mapped[str | None] = mapped_column(db.String(16))   # BY_STAFF | HOURS_WITHDRAWN
    revoke_reason: Mapped[str | None] = mapped_column(db.Text)

    learner = relationship("Learner")
    training_class = relationship("TrainingClass")


class SigningKey(db.Model):
    """An Ed25519 key pair. The newest key not retired signs; every key ever used stays published so
    that certificates signed with it keep verifying after a rotation."""

    __tablename__ = "hours_signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(db.String(16), unique=True)
    public_key: Mapped[str] = mapped_column(db.String(64))         # raw 32 bytes, base64
    private_key: Mapped[str] = mapped_column(EncryptedText)        # raw 32 bytes, base64, encrypted at rest
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


# --- the ledger is append-only, and only the ledger service appends ------------------------------

_WRITER = "hours_ledger_writer"


def allow_ledger_write(session: Session) -> None:
    """Called by lms.hours.ledger just before it adds an entry: the next flush may insert ledger rows."""
    session.info[_WRITER] = True


def guard_ledger(session_factory) -> None:
    """Refuse, at flush, ledger rows not added by lms.hours.ledger, and any change or deletion of one,
    in sessions made by ``session_factory`` (the app's scoped db.session) only. Once per factory:
    the tests build several apps on the same db.session."""
    if not event.contains(session_factory, "before_flush", _ledger_is_append_only):
        event.listen(session_factory, "before_flush", _ledger_is_append_only)


def _ledger_is_append_only(session, _flush_context, _instances):
    allowed = session.info.pop(_WRITER, False)
    for entry in session.new:
        if isinstance(entry, HoursEntry) and not allowed:
            raise PermissionError("hours entries are written only by lms.hours.ledger")
    for entry in list(session.dirty) + list(session.deleted):
        if isinstance(entry, HoursEntry) and (entry in session.deleted or session.is_modified(entry)):
            raise PermissionError("hours entries are never changed or deleted")
