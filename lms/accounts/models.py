from datetime import datetime

from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import utcnow
from ..core.types import EncryptedText
from ..extensions import db

LEARNER = "learner"
STAFF = "staff"
REGULATOR = "regulator"
ADMIN = "admin"
ROLES = (LEARNER, STAFF, REGULATOR, ADMIN)


class User(UserMixin, db.Model):
    """Anyone who signs in. Learners sign in with their ID number, others with a username."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(db.String(16), index=True)
    username: Mapped[str | None] = mapped_column(db.String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(EncryptedText)
    password_hash: Mapped[str | None] = mapped_column(db.String(256))
    enabled: Mapped[bool] = mapped_column(default=True)
    institution_id: Mapped[int | None] = mapped_column(db.ForeignKey("institutions.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(db.String(6))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Raised to sign the user out everywhere (e.g. a failed face check): sessions carry the epoch
    # they were made in, and a stale one is refused even if a late response re-sent its cookie.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    institution = relationship("Institution")
    learner = relationship("Learner", back_populates="user", uselist=False)

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled or not yet activated accounts cannot sign in
        return self.enabled and self.password_hash is not None

    def get_id(self) -> str:  # Flask-Login keeps this in the session cookie
        return f"{self.id}:{self.session_epoch}"

    @property
    def label(self) -> str:
        if self.role == LEARNER and self.learner is not None:
            return self.learner.name
        return self.display_name or self.username or f"#{self.id}"


class OneTimeToken(db.Model):
    """A single-use link to set a password (activation or institution-issued reset)."""

    __tablename__ = "one_time_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(db.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(db.ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(db.String(16))  # activation | reset
    created_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user = relationship("User", foreign_keys=[user_id])
