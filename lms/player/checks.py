"""Face checks during study: when the player asks lms.proctor for one, and what the outcome
does to study time.

Time credited since the last check is provisional. The check that follows decides it: passed,
it stands; failed or missed, it is voided and the learning session ends; sent to review, it
waits for staff. Heartbeat.check_id ties each credit to the check that decided it.

The player hears outcomes through lms.proctor.signals.check_changed (connected in
lms/player/__init__.py init_app) and never calls the proctor back from there: see sessions.py.
When a person's decision changed whether time stands, it says so in turn with its own
signals.study_time_changed (lms.hours follows it).
"""
from dataclasses import dataclass
from datetime import datetime
from random import Random, SystemRandom

from flask import current_app
from sqlalchemy import func, or_, select, update

from ..extensions import db
from ..proctor import decisions
from ..proctor import services as proctor
from ..proctor.models import FAILED, IN_VIDEO, MISSED, OPEN, PASSED, RANDOM, REVIEW, START, FaceCheck
from . import progress, sessions
from .accounting import rules_from_config
from .models import Course, Heartbeat, Lesson, Playback, StudySession
from .signals import study_time_changed

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
        session.open_check_id = _open_check(session.learner_id, session.id, START, lesson_id, position, now, ip).id


def display_details(course_title: str, lesson_title: str, position: float | None) -> dict:
    """What the proctor's pages show of a check: a title and where in the content it was asked."""
    shown = {"title": f"{course_title} · {lesson_title}"}
    if position is not None:
        shown["where"] = "{:d}:{:02d}".format(*divmod(int(position), 60))
    return shown


def _open_check(learner_id: int, session_id: int, purpose: str, lesson_id: int, position: float, now: datetime,
                ip: str) -> FaceCheck:
    """Ask the proctor for a check of this learning session. It belongs to the institution whose course
    the lesson is part of; the lesson and video position go with it for the pages that show it."""
    lesson_title, course_title, institution_id = db.session.execute(
        select(Lesson.title, Course.title, Course.institution_id).join(Course, Course.id == Lesson.course_id)
        .where(Lesson.id == lesson_id)).one()
    details = {"lesson_id": lesson_id, "position": position, **display_details(course_title, lesson_title, position)}
    return proctor.open_check(learner_id, CONTEXT, session_id, purpose, now, ip,
                              owner_institution_id=institution_id, details=details)


def in_video_position(rng: Random, resume: float, duration: float) -> float:
    """A random position in the part of the video still ahead, so that a check falls inside every
    video, however short. The last report of a video carries its end, so even the end is reached."""
    start = min(max(resume, 0.0), duration * 0.8)
    return round(rng.uniform(start, start + (duration - start) * 0.9), 2)


def plan_in_video_check(playback: Playback, resume: float, duration: float | None) -> None:
    """At least one check falls inside every video: pick the point where it will."""
    if enabled() and duration:
        playback.check_at_position = in_video_position(_rng, resume, duration)


def open_check_of(session_id: int) -> FaceCheck | None:
    session = db.session.get(StudySession, session_id)
    return db.session.get(FaceCheck, session.open_check_id) if session and session.open_check_id else None


# --- the heartbeat path ---------------------------------------------------------------------------

def settle_overdue(row, now: datetime) -> bool:
    """An open check whose time ran out is missed (on_check_changed ends the session); True if so."""
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
    check = _open_check(row.learner_id, row.session_id, purpose, row.lesson_id, position, now, ip)
    db.session.execute(update(StudySession).where(StudySession.id == row.session_id).values(
        open_check_id=check.id, next_check_at=None))
    return check.id


# --- what a decided check does ----------------------------------------------------------------------

def on_check_changed(context_kind: str, *, check: FaceCheck, previous: str, now: datetime) -> None:
    """Receiver of lms.proctor.signals.check_changed for learning sessions (sender CONTEXT), inside the
    proctor's transaction: confirm or void the provisional time. A failed or missed check also ends
    the session, without calling the proctor back. A person's later decision (a doubtful check
    failed or passed, a failed one passed) voids, confirms or gives back time, which is then told
    through study_time_changed, in the same transaction."""
    session = db.session.get(StudySession, check.context_id)
    if session is None:
        return
    if previous == OPEN:
        _on_answered(session, check, now)
        return
    if previous == REVIEW and check.status == FAILED:
        _revoid(check, voided=True)
    elif previous == FAILED and check.status == PASSED:
        _revoid(check, voided=False)
    elif previous != REVIEW:  # passed after review: the time it decided now counts as confirmed
        return
    study_time_changed.send(check.learner_id, now=now)


def _on_answered(session: StudySession, check: FaceCheck, now: datetime) -> None:
    """The check that was due is decided, or sent to staff (which lets the learner go on meanwhile)."""
    if session.open_check_id == check.id:
        session.open_check_id = None
    if check.status in (PASSED, REVIEW):
        _settle_provisional(check, void=False)
        session.next_check_at = decisions.next_check_at(now, _rng, proctor.policy(), _report_gap())
        _forget_in_video_point(session, check)
    elif check.status in (FAILED, MISSED):
        _settle_provisional(check, void=True)
        if session.ended_at is None:  # already closed when the player ended it and missed the check itself
            sessions.close_session(session, "face_failed" if check.status == FAILED else "face_missed", now)


def _forget_in_video_point(session: StudySession, check: FaceCheck) -> None:
    """A check answered while a video played is that video's in-video check."""
    lesson_id = check.details.get("lesson_id")
    if check.purpose != START and lesson_id is not None:
        db.session.execute(update(Playback).where(
            Playback.session_id == session.id, Playback.lesson_id == lesson_id).values(check_at_position=None))


def _settle_provisional(check: FaceCheck, void: bool) -> None:
    """Tie the learner's provisional credit to this check (voiding it if the check failed)."""
    lessons = set(db.session.scalars(select(Heartbeat.lesson_id).where(*_provisional_filter(check.learner_id))
                                     .distinct()))
    db.session.execute(update(Heartbeat).where(*_provisional_filter(check.learner_id)).values(
        check_id=check.id, voided=void))
    if void:
        progress.rebuild_learner(check.learner_id, lessons, rules_from_config(current_app.config))


def _provisional_filter(learner_id: int):
    return (Heartbeat.learner_id == learner_id, Heartbeat.check_id.is_(None), Heartbeat.credited > 0,
            Heartbeat.voided.is_(False))


def _revoid(check: FaceCheck, voided: bool) -> None:
    """A person changed the outcome: the credit the check decided is voided, or given back."""
    lessons = set(db.session.scalars(select(Heartbeat.lesson_id).where(Heartbeat.check_id == check.id).distinct()))
    db.session.execute(update(Heartbeat).where(Heartbeat.check_id == check.id).values(voided=voided))
    progress.rebuild_learner(check.learner_id, lessons, rules_from_config(current_app.config))


# --- figures for the learner ------------------------------------------------------------------------

def confirmed_seconds(effective: float, provisional: float) -> float:
    """The part of credited (effective) time that passed face checks confirmed: the only place this is
    worked out. The pages, the study record (PDF) and player.js (through the JSON) take it from here."""
    return effective - provisional


@dataclass(frozen=True)
class StudyTime:
    """A lesson's credited time, and the part of it still waiting for a face check."""
    effective: float
    provisional: float

    @property
    def confirmed(self) -> float:
        return confirmed_seconds(self.effective, self.provisional)


def lesson_time(learner_id: int, lesson_id: int, effective: float) -> StudyTime:
    return StudyTime(effective, provisional_seconds(learner_id, [lesson_id]).get(lesson_id, 0.0))


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
