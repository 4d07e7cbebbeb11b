"""Sign-in, lockout, password policy and one-time links."""
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit.services import record
from ..core.context import Actor
from ..core.crypto import cipher
from ..core.iddocs import normalize
from ..extensions import db
from .models import LEARNER, OneTimeToken, User

ACTIVATION = "activation"
RESET = "reset"


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lock_minutes: int = 15


def password_problems(password: str, forbidden: tuple[str, ...] = ()) -> list[str]:
    """Codes of the policy rules a password breaks (GB/T 22239 level 3 complexity).

    At least 8 characters, at least three of: lower case, upper case, digits,
    symbols; not containing the account's username or ID number.
    """
    problems = []
    if len(password) < 8:
        problems.append("length")
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]"))
    if classes < 3:
        problems.append("classes")
    lowered = password.lower()
    if any(word and len(word) >= 4 and word.lower() in lowered for word in forbidden):
        problems.append("personal")
    return problems


def find_user_by_login(identifier: str) -> User | None:
    """Staff sign in with a username, learners with their ID number."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    user = db.session.scalar(select(User).where(User.username == identifier))
    if user is not None:
        return user
    from ..learners.models import Learner  # learners depend on accounts, not the reverse
    learner = db.session.scalar(select(Learner).where(
        Learner.id_number_hash == cipher().lookup_hash(normalize(identifier))))
    return learner.user if learner is not None else None


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    reason: str | None  # None on success; invalid | locked | inactive
    locked_until: datetime | None = None


def authenticate(identifier: str, password: str, now: datetime, actor: Actor,
                 policy: LoginPolicy) -> LoginOutcome:
    """Check a sign-in attempt, count failures, lock after too many; logs and commits."""
    user = find_user_by_login(identifier)
    target = (identifier or "")[:4] + "***"
    if user is None:
        record(actor, "login", now, target=target, result="failure", detail="unknown_account")
        db.session.commit()
        return LoginOutcome(None, "invalid")
    if user.locked_until and user.locked_until > now:
        record(actor, "login", now, user=user, result="failure", detail="locked")
        db.session.commit()
        return LoginOutcome(None, "locked", user.locked_until)
    if not user.password_hash or not check_password_hash(user.password_hash, password or ""):
        user.failed_logins += 1
        detail = "wrong_password"
        if user.failed_logins >= policy.max_failures:
            user.locked_until = now + timedelta(minutes=policy.lock_minutes)
            user.failed_logins = 0
            detail = "wrong_password_locked"
        record(actor, "login", now, user=user, result="failure", detail=detail)
        db.session.commit()
        if user.locked_until and user.locked_until > now:
            return LoginOutcome(None, "locked", user.locked_until)
        return LoginOutcome(None, "invalid")
    if not user.enabled:
        record(actor, "login", now, user=user, result="failure", detail="disabled")
        db.session.commit()
        return LoginOutcome(None, "inactive")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record(actor, "login", now, user=user)
    db.session.commit()
    return LoginOutcome(user, None)


def sign_out_everywhere(user_id: int) -> None:
    """Every session of the user ends at its next request (not committed: it lands with its cause)."""
    db.session.execute(update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1))


def set_password(user: User, password: str) -> None:
    user.password_hash = generate_password_hash(password)


def forbidden_words(user: User) -> tuple[str, ...]:
    words = [user.username or ""]
    if user.learner is not None:
        words.append(user.learner.id_number)
    return tuple(words)


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User, purpose: str, created_by: User | None, now: datetime,
                lifetime: timedelta) -> str:
    """Create a one-time link token; only its hash is stored. Earlier unused ones expire."""
    for old in db.session.scalars(select(OneTimeToken).where(
            OneTimeToken.user_id == user.id, OneTimeToken.used_at.is_(None))):
        old.used_at = now
    raw = secrets.token_urlsafe(32)
    db.session.add(OneTimeToken(token_hash=_hash_token(raw), user=user, purpose=purpose,
                                created_by_id=getattr(created_by, "id", None),
                                created_at=now, expires_at=now + lifetime))
    return raw


def usable_token(raw: str, now: datetime) -> OneTimeToken | None:
    token = db.session.scalar(select(OneTimeToken).where(OneTimeToken.token_hash == _hash_token(raw or "")))
    if token is None or token.used_at is not None or token.expires_at <= now:
        return None
    return token


def redeem_token(token: OneTimeToken, password: str, now: datetime, actor: Actor) -> None:
    """Set the password chosen through a one-time link and burn the link."""
    set_password(token.user, password)
    token.used_at = now
    token.user.failed_logins = 0
    token.user.locked_until = None
    record(actor, f"password_{token.purpose}", now, user=token.user, target=f"user:{token.user_id}")
    db.session.commit()


def create_account(role: str, username: str, display_name: str, now: datetime, actor: Actor, *,
                   institution_id: int | None = None, region_code: str | None = None,
                   token_lifetime: timedelta) -> tuple[User, str]:
    """Create a staff/regulator/admin account without a password; return its activation token."""
    assert role != LEARNER
    user = User(role=role, username=username, display_name=display_name,
                institution_id=institution_id, region_code=region_code, created_at=now)
    db.session.add(user)
    db.session.flush()
    raw = issue_token(user, ACTIVATION, actor.user, now, token_lifetime)
    record(actor, "account_create", now, target=f"user:{user.id} {username}", detail=role,
           institution_id=institution_id or getattr(actor.user, "institution_id", None),
           region_code=region_code)
    db.session.commit()
    return user, raw


def username_taken(username: str) -> bool:
    return db.session.scalar(select(User.id).where(User.username == username)) is not None
