from datetime import date, datetime

from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import utcnow
from ..core.iddocs import mask
from ..core.types import EncryptedText
from ..extensions import db

DRAFT = "draft"
PUBLISHED = "published"

SUBMITTED = "submitted"
RETURNED = "returned"
APPROVED = "approved"


class Institution(db.Model):
    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(db.String(128), unique=True)
    region_code: Mapped[str] = mapped_column(db.String(6))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingClass(db.Model):
    """A training plan (班级) that learners apply to."""

    __tablename__ = "training_classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(db.ForeignKey("institutions.id"), index=True)
    title: Mapped[str] = mapped_column(db.String(128))
    training_type: Mapped[str] = mapped_column(db.String(16))
    qualification_type_id: Mapped[int] = mapped_column(db.ForeignKey("qualification_types.id"))
    enrol_start: Mapped[date]
    enrol_end: Mapped[date]
    train_start: Mapped[date]
    train_end: Mapped[date]
    capacity: Mapped[int]
    offline_location: Mapped[str] = mapped_column(db.String(200), default="")
    total_hours: Mapped[int]
    required_online_hours: Mapped[int]
    status: Mapped[str] = mapped_column(db.String(16), default=DRAFT)
    created_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]

    institution = relationship("Institution")
    qualification = relationship("QualificationType")

    @property
    def offline_hours(self) -> int:
        return max(self.total_hours - self.required_online_hours, 0)


class Application(db.Model):
    """A learner's application to a class, reviewed by the class's institution."""

    __tablename__ = "applications"
    __table_args__ = (db.UniqueConstraint("class_id", "learner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(db.ForeignKey("training_classes.id"), index=True)
    learner_id: Mapped[int] = mapped_column(db.ForeignKey("learners.id"), index=True)
    status: Mapped[str] = mapped_column(db.String(16), default=SUBMITTED)
    # Special-operations certificates are numbered "T" + the holder's ID number: encrypted.
    previous_certificate_no: Mapped[str | None] = mapped_column(EncryptedText)
    return_reason: Mapped[str | None] = mapped_column(db.Text)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("users.id"))

    training_class = relationship("TrainingClass")
    learner = relationship("Learner")

    @property
    def masked_certificate_no(self) -> str:
        return mask(self.previous_certificate_no or "")
