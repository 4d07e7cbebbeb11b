"""Face checks during study: when the player asks lms.proctor for one, and what the outcome
does to study time.

Time credited since the last check is provisional. The check that follows decides it: passed,
it stands; failed or missed, it is voided and the learning session ends; sent to review, it
waits for staff. Heartbeat.check_id ties each credit to the check that decided it.
"""
from datetime import datetime
from random import SystemRandom

from flask import current_app
from sqlalchemy import func, or_, select, update

from ..extensions import db
from ..proctor import decisions
from ..proctor import services as proctor
from ..proctor.models import FAILED, IN_VIDEO, MISSED, OPEN, PASSED, RANDOM, REVIEW, START, FaceCheck
from .models import Course, Heartbeat, Lesson, Playback, StudySession

CONTEXT = "study_session"
_rng = SystemRandom()  # the learner must not be able to predict the next check


def enabled() -> bool:
    return bool(current_app.config["LMS_FACE_CHECKS"])


def _report_gap() -> float:
    return float(current_app.config["LMS_HEARTBEAT_MAX_GAP"])


def ready_to_study(learner_id: int) -> bool:
    """A learner without a usable enrolment photo cannot study."""
    return not enabled() or proctor.has_usable_enrolment(learner_id)


def open_start_check(session: StudySession, lesson_id: int, position: float, now: datetime, ip: str) -> None:
    """Every learning session begins with a check, due at once."""
    if enabled():
        check = proctor.open_check(session.learner_id, CONTEXT, session.id, START, now, ip, lesson_id, position,
                                   owner_institution_id=_course_institution(lesson_id))
        session.open_check_id = check.id


def _course_institution(lesson_id: int) -> int:
    """A study check belongs to the institution whose course the lesson is part of."""
    return db.session.scalar(select(Course.institution_id).join(Lesson).where(Lesson.id == lesson_id))


def plan_in_video_check(playback: Playback, resume: float, duration: float | None) -> None:
    """At least one check falls inside every video: pick the point where it will."""
    if enabled() and duration:
        playback.check_at_position = decisions.check_position(_rng, resume, duration)


def open_check_of(session_id: int) -> FaceCheck | None:
    session = db.session.get(StudySession, session_id)
    return db.session.get(FaceCheck, session.open_check_id) if session and session.open_check_id else None


# --- the heartbeat path ---------------------------------------------------------------------------

def settle_overdue(row, now: datetime) -> bool:
    """An open check whose time ran out is missed (the listener ends the session); True if so."""
    if row.open_check_id is None:
        return False
    return proctor.expire_if_overdue(db.session.get(FaceCheck, row.open_check_id), now)


def maybe_open_check(row, position: float, playing: bool, now: datetime, ip: str) -> int | None:
    """Open a check when the random moment has come or the video reached the chosen point.
    The report that triggers it still counts (it ends before the check); later ones wait.
    A random moment that comes while the video is paused waits for it to play again: nothing is
    credited meanwhile, and a learner on a short break is not signed out for a check they never saw."""
    if not enabled() or row.open_check_id is not None:
        return None
    if row.next_check_at is not None and now >= row.next_check_at and playing:
        purpose = RANDOM
    elif row.check_at_position is not None and position >= row.check_at_position:
        purpose = IN_VIDEO
    else:
        return None
    check = proctor.open_check(row.learner_id, CONTEXT, row.session_id, purpose, now, ip, row.lesson_id, position,
                               owner_institution_id=_course_institution(row.lesson_id))
    db.session.execute(update(StudySession).where(StudySession.id == row.session_id).values(
        open_check_id=check.id, next_check_at=None))
    return check.id


# --- what a decided check does ----------------------------------------------------------------------

def on_check_changed(check: FaceCheck, previous: str, now: datetime) -> None:
    """Listener registered with lms.proctor for learning sessions."""
    session = db.session.get(StudySession, check.context_id)
    if previous == OPEN:
        if session.open_check_id == check.id:
            session.open_check_id = None
        if check.status in (PASSED, REVIEW):
            _settle_provisional(check, void=False)
            session.next_check_at = decisions.next_check_at(now, _rng, proctor.policy(), _report_gap())
            if check.purpose != START and check.lesson_id is not None:
                db.session.execute(update(Playback).where(
                    Playback.session_id == session.id, Playback.lesson_id == check.lesson_id).values(
                    check_at_position=None))
        elif check.status in (FAILED, MISSED):
            _settle_provisional(check, void=True)
            if session.ended_at is None:
                from .services import end_session
                end_session(session, "face_failed" if check.status == FAILED else "face_missed", now)
    elif previous == REVIEW and check.status == FAILED:
        _revoid(check, voided=True)
    elif previous == FAILED and check.status == PASSED:
        _revoid(check, voided=False)


def _settle_provisional(check: FaceCheck, void: bool) -> None:
    """Tie the learner's provisional credit to this check (voiding it if the check failed)."""
    lessons = set(db.session.scalars(select(Heartbeat.lesson_id).where(*_provisional_filter(check.learner_id))
                                     .distinct()))
    db.session.execute(update(Heartbeat).where(*_provisional_filter(check.learner_id)).values(
        check_id=check.id, voided=void))
    if void:
        _rebuild(check.learner_id, lessons)


def _provisional_filter(learner_id: int):
    return (Heartbeat.learner_id == learner_id, Heartbeat.check_id.is_(None), Heartbeat.credited > 0,
            Heartbeat.voided.is_(False))


def _revoid(check: FaceCheck, voided: bool) -> None:
    """A person changed the outcome: the credit the check decided is voided, or given back."""
    lessons = set(db.session.scalars(select(Heartbeat.lesson_id).where(Heartbeat.check_id == check.id).distinct()))
    db.session.execute(update(Heartbeat).where(Heartbeat.check_id == check.id).values(voided=voided))
    _rebuild(check.learner_id, lessons)


def _rebuild(learner_id: int, lesson_ids) -> None:
    from .services import rebuild_daily, rebuild_progress, rules_from_config
    db.session.flush()
    rules = rules_from_config(current_app.config)
    for lesson_id in lesson_ids:
        if lesson_id is not None:
            rebuild_progress(learner_id, lesson_id, rules)
    rebuild_daily(learner_id)


# --- figures for the learner ------------------------------------------------------------------------

def provisional_seconds(learner_id: int, lesson_ids) -> dict[int, float]:
    """Credit per lesson that no passed check has confirmed yet (none, or one still in review)."""
    if not enabled() or not lesson_ids:
        return {}
    rows = db.session.execute(
        select(Heartbeat.lesson_id, func.sum(Heartbeat.credited))
        .outerjoin(FaceCheck, FaceCheck.id == Heartbeat.check_id)
        .where(Heartbeat.learner_id == learner_id, Heartbeat.lesson_id.in_(list(lesson_ids)),
               Heartbeat.voided.is_(False), Heartbeat.credited > 0,
               or_(Heartbeat.check_id.is_(None), FaceCheck.status.in_((OPEN, REVIEW))))
        .group_by(Heartbeat.lesson_id))
    return {lesson_id: float(total or 0.0) for lesson_id, total in rows}


def register() -> None:
    proctor.listen(CONTEXT, on_check_changed)
