from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import utcnow
from ..core.roles import LEARNER
from ..core.types import EncryptedText
from ..extensions import db


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
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Raised to sign the user out everywhere (e.g. a failed face check): sessions carry the epoch
    # they were made in, and a stale one is refused even if a late response re-sent its cookie.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    institution = relationship("Institution")
    learner = relationship("Learner", back_populates="user", uselist=False)

    # "Wang.Li" and "wang.li" are one name: sign-in compares usernames case-insensitively.
    __table_args__ = (db.Index("uq_users_username_lower", func.lower(username), unique=True),)

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
    used_at: Mapped[datetime | None]  # redeemed, or replaced by a newer link
    redeemed_at: Mapped[datetime | None]  # a password was set through it
    # When the account's owner was told at sign-in that a reset link was issued or used
    owner_notified_at: Mapped[datetime | None]
    # The first browser to open the link: its session keeps a random secret, this column its hash.
    # The link then works only in that browser (a copy of the token is no use anywhere else).
    opened_at: Mapped[datetime | None]
    opened_by_hash: Mapped[str | None] = mapped_column(db.String(64))

    user = relationship("User", foreign_keys=[user_id])
    created_by = relationship("User", foreign_keys=[created_by_id])


class UserSession(db.Model):
    """One sign-in on one browser. The cookie holds a random secret and only its hash is kept here;
    signing out, a password reset or "sign out on all devices" ends the row, so a saved copy of
    the cookie is refused afterwards."""

    __tablename__ = "user_sessions"

    token_hash: Mapped[str] = mapped_column(db.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(db.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]  # refreshed every LAST_SEEN_RESOLUTION seconds, not every request
    ip: Mapped[str] = mapped_column(db.String(64), default="")
    user_agent: Mapped[str] = mapped_column(db.String(300), default="")
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(db.String(32))  # accounts.services.SESSION_*


class LoginFailure(db.Model):
    """Failed sign-ins to one account from one address. The lock holds for that address only, so a
    stranger guessing from elsewhere cannot lock the owner out."""

    __tablename__ = "login_failures"
    __table_args__ = (db.UniqueConstraint("user_id", "ip"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(db.ForeignKey("users.id"))
    ip: Mapped[str] = mapped_column(db.String(64))
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
