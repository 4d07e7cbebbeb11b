"""Learning sessions: from opening the study screen to sign-out, idle, or a failed face check.

Two ways a session ends, so that the player and the proctor never call each other back:
- the player ends it for its own reasons (idle, logout): end_session() closes it first, then tells
  the proctor that the check still open went unanswered; the proctor's signal reaches
  checks.on_check_changed, which finds the session already closed and only voids the time;
- the proctor decides a check failed or was missed: checks.on_check_changed voids the time and
  closes the session with close_session(), which does not call the proctor.
"""
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update

from ..audit.services import record
from ..core.context import Actor
from ..extensions import db
from ..learners.models import Learner
from ..proctor import services as proctor
from ..proctor.models import FaceCheck
from .models import Playback, StudySession


def live_session(learner: Learner, now: datetime) -> StudySession | None:
    """The learner's open session, or None (one idle too long is ended now, and committed). The database
    allows one open session per learner (StudySession.__table_args__)."""
    session = db.session.scalar(select(StudySession).where(
        StudySession.learner_id == learner.id, StudySession.ended_at.is_(None)).order_by(StudySession.id.desc()))
    if session is not None and _ended_by_time(session, now):
        db.session.commit()
        return None
    return session


def _ended_by_time(session: StudySession, now: datetime) -> bool:
    """End the session if its time is up. An open face check keeps its own window and is then missed
    (the proctor's signal closes the session as "face_missed"); otherwise idle time ends it."""
    if session.open_check_id is not None:
        return proctor.expire_if_overdue(db.session.get(FaceCheck, session.open_check_id), now)
    if _idle_expired(session, now):
        end_session(session, "idle", now)
        return True
    return False


def _idle_expired(session: StudySession, now: datetime) -> bool:
    limit = current_app.config["LMS_IDLE_SECONDS"] + current_app.config["LMS_IDLE_GRACE_SECONDS"]
    return (now - session.last_interaction_at).total_seconds() > limit


def close_session(session: StudySession, reason: str, now: datetime) -> None:
    """Mark the session ended: its playbacks stop counting; logged. Not committed, and the proctor is
    not told (see the module docstring)."""
    session.ended_at, session.end_reason = now, reason
    db.session.execute(update(Playback).where(Playback.session_id == session.id).values(active=False))
    learner = db.session.get(Learner, session.learner_id)
    record(_system(session), "study_session_end", now, user=learner.user, target=f"study_session:{session.id}",
           detail=reason)


def end_session(session: StudySession, reason: str, now: datetime) -> None:
    """End a learning session for the player's own reasons (idle, logout, ...). Ending it does not dodge
    an open face check: the check is missed and the time since the last one voided. The caller
    commits, so that the end and what caused it land together."""
    close_session(session, reason, now)
    if session.open_check_id is not None:
        proctor.miss_check(db.session.get(FaceCheck, session.open_check_id), now, _system(session))


def end_learner_sessions(learner: Learner, reason: str, now: datetime) -> None:
    for session in db.session.scalars(select(StudySession).where(
            StudySession.learner_id == learner.id, StudySession.ended_at.is_(None))):
        end_session(session, reason, now)
    db.session.commit()


def still_here(learner: Learner, now: datetime) -> bool:
    """The learner answered the idle prompt; false if the session had already ended."""
    session = live_session(learner, now)
    if session is None:
        return False
    session.last_interaction_at = now
    db.session.commit()
    return True


def _system(session: StudySession) -> Actor:
    """The platform acting on the session, from the learner's address."""
    return Actor(None, session.ip, session.user_agent)
