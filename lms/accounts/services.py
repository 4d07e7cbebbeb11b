"""Sign-in, lockout, password policy and one-time links."""
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit.services import record
from ..core.clock import china_date
from ..core.context import Actor
from ..core.crypto import cipher
from ..core.errors import RuleViolation
from ..core.iddocs import DOCUMENT_TYPES, InvalidDocument, normalize, parse_document
from ..core.roles import LEARNER, REGULATOR, STAFF
from ..extensions import db
from .models import LoginFailure, OneTimeToken, User, UserSession
from .permissions import can_issue_reset_link, creatable_roles

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
    """Learners sign in with their ID document number, others with a username (any case).

    The document holder comes first: new usernames can never look like a document number
    (create_account), and an older one that does must not take over its holder's sign-in.
    """
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    from ..learners.models import Learner  # learners depend on accounts, not the reverse
    learner = db.session.scalar(select(Learner).where(
        Learner.id_number_hash == cipher().lookup_hash(normalize(identifier))))
    if learner is not None:
        return learner.user
    return db.session.scalar(select(User).where(func.lower(User.username) == identifier.lower()))


def unknown_login_ref(identifier: str) -> str:
    """Names a sign-in attempt for an unknown account in the log. What was typed is often an ID
    number, so not even a prefix of it is kept: a keyed hash (apart from the ID lookup hash) lets
    staff see repeated tries of the same identifier without being able to read it."""
    return "unknown:" + cipher().lookup_hash("login-attempt:" + normalize(identifier or ""))[:16]


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    reason: str | None  # None on success; invalid | locked | inactive
    locked_until: datetime | None = None
    session_secret: str | None = None  # on success: what the session cookie keeps (start_session)


def _hash_method() -> str:
    """scrypt (werkzeug's default cost); the test settings may name a cheap method, which nothing else may."""
    if current_app.testing:
        return current_app.config.get("LMS_TEST_PASSWORD_HASH_METHOD", "scrypt")
    return "scrypt"


@cache
def _dummy_password_hash(method: str) -> str:
    """A hash of a password nobody knows, made by the same method as real ones."""
    return generate_password_hash(secrets.token_urlsafe(16), method)


def _password_matches(user: User | None, password: str) -> bool:
    """Always one hash verification, so that an unknown or not yet activated account answers
    as slowly as a wrong password and timing does not tell which accounts exist."""
    stored = user.password_hash if user is not None else None
    matched = check_password_hash(stored or _dummy_password_hash(_hash_method()), password or "")
    return stored is not None and matched


def authenticate(identifier: str, password: str, now: datetime, actor: Actor,
                 policy: LoginPolicy) -> LoginOutcome:
    """Check a sign-in attempt and start a session; logs and commits.

    Failures count per account and source address (actor.ip) and lock that pair for a while.
    Every failure gets the same answer, "invalid", unless the right password was given: only
    then does the caller learn that the account is locked (and until when) or disabled.
    """
    user = find_user_by_login(identifier)
    password_ok = _password_matches(user, password)
    if user is None:
        return _refuse(actor, now, None, "unknown_account", LoginOutcome(None, "invalid"),
                       target=unknown_login_ref(identifier))
    locked_until = _locked_until(user.id, actor.ip, now)
    if locked_until is not None:
        answer = LoginOutcome(None, "locked", locked_until) if password_ok else LoginOutcome(None, "invalid")
        return _refuse(actor, now, user, "locked", answer)
    if not password_ok:
        return _refuse(actor, now, user, _count_failure(user.id, actor.ip, now, policy), LoginOutcome(None, "invalid"))
    if not user.enabled:
        return _refuse(actor, now, user, "disabled", LoginOutcome(None, "inactive"))
    db.session.execute(delete(LoginFailure).where(LoginFailure.user_id == user.id, LoginFailure.ip == actor.ip))
    user.last_login_at = now
    secret = start_session(user, now, actor)
    record(actor, "login", now, user=user)
    db.session.commit()
    return LoginOutcome(user, None, session_secret=secret)


def _refuse(actor: Actor, now: datetime, user: User | None, detail: str, answer: LoginOutcome,
            target: str = "") -> LoginOutcome:
    record(actor, "login", now, user=user, target=target, result="failure", detail=detail)
    db.session.commit()
    return answer


def _failures_from(user_id: int, ip: str) -> LoginFailure | None:
    return db.session.scalar(select(LoginFailure).where(LoginFailure.user_id == user_id, LoginFailure.ip == ip))


def _locked_until(user_id: int, ip: str, now: datetime) -> datetime | None:
    failures = _failures_from(user_id, ip)
    if failures is None or failures.locked_until is None or failures.locked_until <= now:
        return None
    return failures.locked_until


def _count_failure(user_id: int, ip: str, now: datetime, policy: LoginPolicy) -> str:
    """Add a failure for the account from this address; the last one allowed locks the pair."""
    failures = _failures_from(user_id, ip) or _new_failures_row(user_id, ip)
    failures.failures += 1
    if failures.failures < policy.max_failures:
        return "wrong_password"
    failures.failures = 0
    failures.locked_until = now + timedelta(minutes=policy.lock_minutes)
    return "wrong_password_locked"


def _new_failures_row(user_id: int, ip: str) -> LoginFailure:
    try:
        with db.session.begin_nested():  # two first failures at once: the later one uses the earlier's row
            row = LoginFailure(user_id=user_id, ip=ip, failures=0)
            db.session.add(row)
        return row
    except IntegrityError:
        return _failures_from(user_id, ip)


# --- sessions -------------------------------------------------------------------------------------

SESSION_LOGOUT = "logout"
SESSION_IDLE = "idle"
SESSION_EVERYWHERE = "sign_out_everywhere"
SESSION_PASSWORD_SET = "password_set"
SESSION_FACE_CHECK = "face_check"


def start_session(user: User, now: datetime, actor: Actor) -> str:
    """Record a new sign-in and return the secret its cookie keeps (only its hash is stored)."""
    secret = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=_hash_token(secret), user_id=user.id, created_at=now, last_seen_at=now,
                               ip=actor.ip[:64], user_agent=actor.user_agent[:300]))
    return secret


@dataclass(frozen=True)
class Principal:
    """Who a request's session belongs to, as its server-side record says: enough for the idle gate and the
    hot JSON endpoints (heartbeat, ping), which need no account object."""
    user_id: int
    role: str
    last_seen: datetime


# Every signed-in request runs this lookup, so it is built once and run through Core: the ORM's loading
# of a User cost more than the query itself (issue 22). The account is loaded only when a view asks for it.
_USERS, _SESSIONS = User.__table__, UserSession.__table__
_SESSION_PRINCIPAL = (select(_USERS.c.id, _USERS.c.role, _SESSIONS.c.last_seen_at)
                      .select_from(_USERS.join(_SESSIONS, _SESSIONS.c.user_id == _USERS.c.id))
                      .where(_SESSIONS.c.token_hash == bindparam("token_hash"), _USERS.c.id == bindparam("user_id"),
                             _USERS.c.session_epoch == bindparam("epoch"), _SESSIONS.c.ended_at.is_(None)))


def session_principal(user_id: int, epoch: int, secret: str | None) -> Principal | None:
    """The user behind a cookie and when its session record last noted activity, in one indexed lookup;
    None once the record has ended or the user was signed out everywhere since (session_epoch)."""
    if not secret:
        return None
    row = db.session.connection().execute(
        _SESSION_PRINCIPAL, {"token_hash": _hash_token(secret), "user_id": user_id, "epoch": epoch}).first()
    return None if row is None else Principal(row.id, row.role, row.last_seen_at)


def session_seen(secret: str, now: datetime) -> None:
    """The session was used at ``now``; callers throttle this (not committed)."""
    db.session.execute(update(UserSession).where(UserSession.token_hash == _hash_token(secret))
                       .values(last_seen_at=now))


def end_session(secret: str | None, now: datetime, reason: str) -> None:
    """End one session (sign-out, idle timeout); not committed: it lands with its log row."""
    if secret:
        db.session.execute(update(UserSession).where(
            UserSession.token_hash == _hash_token(secret), UserSession.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason))


def sign_out_everywhere(user_id: int, now: datetime | None = None, reason: str = SESSION_FACE_CHECK) -> None:
    """Every session of the user ends at its next request (not committed: it lands with its cause).

    Raising the epoch is enough to refuse them; given ``now``, their records are closed as well.
    """
    db.session.execute(update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1))
    if now is not None:
        db.session.execute(update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
                           .values(ended_at=now, end_reason=reason))


def sign_out_all_devices(user: User, now: datetime, actor: Actor) -> None:
    """The user ends every session of their account, this one included; logged and committed."""
    sign_out_everywhere(user.id, now, SESSION_EVERYWHERE)
    record(actor, "sign_out_everywhere", now, user=user, target=f"user:{user.id}")
    db.session.commit()


def set_password(user: User, password: str) -> None:
    user.password_hash = generate_password_hash(password, _hash_method())


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


LINK_INVALID = "link_invalid"                    # unknown, used, replaced or expired
LINK_OPENED_ELSEWHERE = "link_opened_elsewhere"  # claimed by another browser


def open_link(raw: str, browser_secret: str, now: datetime, actor: Actor) -> OneTimeToken:
    """The first browser to open a one-time link claims it: the link keeps the hash of
    ``browser_secret`` (a random value in that browser's session) and from then on works only with it,
    so a copy of the token (from a log, a chat, a shoulder) is refused. Opening it again in the same
    browser is fine. Raises RuleViolation LINK_INVALID or LINK_OPENED_ELSEWHERE; a claim and a refused
    claim are logged; committed."""
    token = usable_token(raw, now)
    if token is None:
        raise RuleViolation(LINK_INVALID)
    mark = _hash_token(browser_secret)
    if token.opened_by_hash is None:
        # Two browsers at once: the conditional update lets exactly one of them claim the link.
        db.session.execute(update(OneTimeToken).where(OneTimeToken.id == token.id,
                                                      OneTimeToken.opened_by_hash.is_(None))
                           .values(opened_at=now, opened_by_hash=mark))
        db.session.refresh(token)
        if hmac.compare_digest(token.opened_by_hash, mark):
            record(actor, "password_link_open", now, user=token.user, target=f"user:{token.user_id}")
            db.session.commit()
            return token
    if not hmac.compare_digest(token.opened_by_hash, mark):
        record(actor, "password_link_open", now, user=token.user, target=f"user:{token.user_id}",
               result="failure", detail="opened_elsewhere")
        db.session.commit()
        raise RuleViolation(LINK_OPENED_ELSEWHERE)
    return token


def opened_link(token_id, browser_secret: str, now: datetime) -> OneTimeToken | None:
    """The one-time link this browser claimed (open_link), while it can still be used."""
    if not isinstance(token_id, int) or not browser_secret:
        return None
    token = db.session.get(OneTimeToken, token_id)
    if token is None or token.used_at is not None or token.expires_at <= now or token.opened_by_hash is None:
        return None
    return token if hmac.compare_digest(token.opened_by_hash, _hash_token(browser_secret)) else None


def redeem_token(token: OneTimeToken, password: str, now: datetime, actor: Actor) -> None:
    """Set the password chosen through a one-time link and burn the link. Every session of the
    account ends (whoever held the old password is out), every lock is lifted, and the owner
    hears of a reset at their next sign-in (reset_notices)."""
    set_password(token.user, password)
    token.used_at = token.redeemed_at = now
    token.owner_notified_at = None  # told again, now that the link was used
    db.session.execute(delete(LoginFailure).where(LoginFailure.user_id == token.user_id))
    sign_out_everywhere(token.user_id, now, SESSION_PASSWORD_SET)
    record(actor, f"password_{token.purpose}", now, user=token.user, target=f"user:{token.user_id}")
    db.session.commit()


@dataclass(frozen=True)
class ResetNotice:
    issued_at: datetime
    issued_by: User | None
    redeemed_at: datetime | None  # None: the link was issued but not (yet) used


def take_reset_notices(user: User, now: datetime) -> list[ResetNotice]:
    """Reset links issued for the user that they have not heard of yet, oldest first. Each is
    returned once, to be shown at sign-in (committed)."""
    tokens = list(db.session.scalars(select(OneTimeToken).where(
        OneTimeToken.user_id == user.id, OneTimeToken.purpose == RESET, OneTimeToken.owner_notified_at.is_(None))
        .order_by(OneTimeToken.created_at)))
    notices = [ResetNotice(token.created_at, token.created_by, token.redeemed_at) for token in tokens]
    for token in tokens:
        token.owner_notified_at = now
    db.session.commit()
    return notices


def check_username(username: str, now: datetime) -> None:
    """A new username must be free in any case, and must not be taken for an ID document number
    at sign-in: not a learner's number, nor anything that parses as an ID, passport or permit."""
    if username_taken(username):
        raise RuleViolation("username_taken")
    if looks_like_document(username, china_date(now)) or _learner_document_exists(username):
        raise RuleViolation("username_like_document")


def looks_like_document(text: str, today) -> bool:
    for doc_type in DOCUMENT_TYPES:
        try:
            parse_document(doc_type, text, today)
        except InvalidDocument:
            continue
        return True
    return False


def _learner_document_exists(text: str) -> bool:
    from ..learners.models import Learner
    return db.session.scalar(select(Learner.id).where(
        Learner.id_number_hash == cipher().lookup_hash(normalize(text)))) is not None


def create_account(role: str, username: str, display_name: str, now: datetime, actor: Actor, *,
                   institution_id: int | None = None, region_code: str | None = None,
                   token_lifetime: timedelta) -> tuple[User, str]:
    """Create a staff/regulator/admin account without a password; return its activation token.

    The admin creates any of the three; a staff member only colleagues of their own institution,
    whatever they asked for; no creator (``actor.user`` None) is the command line. A staff account
    belongs to an institution, a regulator account to a region. Raises RuleViolation: forbidden,
    institution_required, region_required, or the username rules (check_username)."""
    creator = actor.user
    if creator is not None and creator.role == STAFF:
        role, institution_id, region_code = STAFF, creator.institution_id, None
    if role == LEARNER or (creator is not None and role not in creatable_roles(creator)):
        raise RuleViolation("forbidden")
    if role == STAFF and not institution_id:
        raise RuleViolation("institution_required")
    if role == REGULATOR and not region_code:
        raise RuleViolation("region_required")
    check_username(username, now)
    user = User(role=role, username=username, display_name=display_name,
                institution_id=institution_id if role == STAFF else None,
                region_code=region_code if role == REGULATOR else None, created_at=now)
    db.session.add(user)
    db.session.flush()
    raw = issue_token(user, ACTIVATION, actor.user, now, token_lifetime)
    record(actor, "account_create", now, target=f"user:{user.id} {username}", detail=role,
           institution_id=user.institution_id or getattr(actor.user, "institution_id", None),
           region_code=user.region_code)
    db.session.commit()
    return user, raw


def username_taken(username: str) -> bool:
    return db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None


def issue_reset_link(target: User, now: datetime, actor: Actor, lifetime: timedelta) -> str:
    """Staff or the admin issue a one-time password link for ``target``; refused unless the
    permission rule allows it (see accounts/permissions.py); logged and committed."""
    if actor.user is None or not can_issue_reset_link(actor.user, target):
        raise RuleViolation("forbidden")
    raw = issue_token(target, RESET, actor.user, now, lifetime)
    record(actor, "password_reset_link", now, target=f"user:{target.id}")
    db.session.commit()
    return raw
