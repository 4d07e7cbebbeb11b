"""The heartbeat hot path: one read, the rules, a few writes, one commit.

Written with SQLAlchemy Core rather than the ORM because every studying
learner calls it every few seconds; the rules themselves live in accounting.py,
and how a credit adds to the lesson's and the day's totals in progress.py.
"""
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Boolean, and_, bindparam, cast, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..core.errors import RuleViolation
from ..extensions import db
from ..learners.models import Learner
from . import accounting, checks, progress, sessions
from .models import DailyStudy, Heartbeat, Lesson, LessonProgress, Playback, StudySession, Video

PLAYBACKS, SESSIONS, LESSONS = Playback.__table__, StudySession.__table__, Lesson.__table__
VIDEOS, PROGRESS, DAILY = Video.__table__, LessonProgress.__table__, DailyStudy.__table__
HEARTBEATS, LEARNERS = Heartbeat.__table__, Learner.__table__
INTERACTION_WRITE_EVERY = 5.0  # seconds; fresher interaction times are not worth a write per heartbeat


ATTEMPTS = 3  # heartbeats of one playback that arrive together are judged one after the other


class _Raced(Exception):
    """Another heartbeat of the same playback moved it on between our read and our write."""


class UnknownPlayback(RuleViolation):
    def __init__(self):
        super().__init__("unknown_playback")


@dataclass(frozen=True)
class HeartbeatResult:
    verdict: accounting.Verdict
    effective: float
    covered: float
    furthest: float
    complete: bool
    session_ended: str | None
    check_id: int | None  # a face check is due: the page must run it before time counts again
    confirmed: float | None = None  # when the session ended: the part of ``effective`` that stands
    provisional: float | None = None  # when the session ended: the part still waiting for a face check


@dataclass(frozen=True)
class StoppedStudy:
    """Why a playback no longer counts, and the lesson's figures that stand."""
    reason: str
    effective: float
    confirmed: float
    provisional: float
    covered: float
    complete: bool


def record_heartbeat(user_id: int, token: str, beat: accounting.Beat, interacted: bool, now: datetime, ip: str,
                     rules: accounting.Rules, idle_limit_seconds: float) -> HeartbeatResult:
    """Judge one heartbeat of the signed-in user's playback, keep it with its verdict, add what it earned.

    Two heartbeats of one playback read at the same moment must not both earn from the same
    anchor: the anchor moves only from the state that was judged, and the loser is judged again
    on the new state; one that keeps losing is kept as a "concurrent" refusal."""
    for _ in range(ATTEMPTS):
        try:
            return _record(user_id, token, beat, interacted, now, ip, rules, idle_limit_seconds)
        except (IntegrityError, _Raced):
            db.session.rollback()
    return _record(user_id, token, beat, interacted, now, ip, rules, idle_limit_seconds, refuse="concurrent")


def _build_load_statement():
    p, g, d = PLAYBACKS, PROGRESS, DAILY
    return (
        select(p.c.id, p.c.learner_id, p.c.session_id, p.c.lesson_id, p.c.active, p.c.last_seq, p.c.anchor_at,
               p.c.anchor_position, p.c.clock_reserve, p.c.anchor_playing, p.c.check_at_position, SESSIONS.c.ended_at,
               SESSIONS.c.end_reason, SESSIONS.c.last_interaction_at, SESSIONS.c.open_check_id,
               SESSIONS.c.next_check_at, VIDEOS.c.duration, g.c.id.label("progress_id"),
               g.c.effective_seconds, g.c.coverage, g.c.covered_seconds, g.c.furthest, g.c.resume_position,
               g.c.completed_at, d.c.id.label("daily_id"), d.c.seconds.label("daily_seconds"))
        .select_from(
            p.join(LEARNERS, LEARNERS.c.id == p.c.learner_id)
            .join(SESSIONS, SESSIONS.c.id == p.c.session_id)
            .join(LESSONS, LESSONS.c.id == p.c.lesson_id)
            .join(VIDEOS, VIDEOS.c.id == LESSONS.c.video_id)
            .outerjoin(g, and_(g.c.learner_id == p.c.learner_id, g.c.lesson_id == p.c.lesson_id))
            .outerjoin(d, and_(d.c.learner_id == p.c.learner_id, d.c.day == bindparam("day"))))
        .where(p.c.token == bindparam("token"), LEARNERS.c.user_id == bindparam("user_id")))


# Built once: statement construction and cache-key generation would otherwise dominate the request.
LOAD = _build_load_statement()
# On PostgreSQL the read also turns off the wait for the WAL flush at this transaction's commit
# (set_config(..., true) is SET LOCAL): a crash may lose the last fraction of a second of
# heartbeats, which can only lose credit, never add it; and it costs no extra round trip.
LOAD_ASYNC_COMMIT = LOAD.add_columns(func.set_config("synchronous_commit", "off", True).label("async_commit"))
# The columns each write sets, named once: both databases' statements below are built from them.
# Every heartbeat column but the key is given a value, so a column added to the model and not to
# _heartbeat_values fails loudly on both databases alike (a missing bind parameter).
HEARTBEAT_COLUMNS = tuple(c for c in HEARTBEATS.c if not c.primary_key)
ANCHOR_COLUMNS = (PLAYBACKS.c.last_seq, PLAYBACKS.c.anchor_at, PLAYBACKS.c.anchor_position, PLAYBACKS.c.clock_reserve,
                  PLAYBACKS.c.anchor_playing)
PROGRESS_COLUMNS = (PROGRESS.c.coverage, PROGRESS.c.covered_seconds, PROGRESS.c.furthest, PROGRESS.c.resume_position,
                    PROGRESS.c.completed_at)  # effective_seconds is added to in SQL (see _progress_change)

INSERT_HEARTBEAT = insert(HEARTBEATS).values({c: bindparam(c.name) for c in HEARTBEAT_COLUMNS})
MOVE_ANCHOR = (update(PLAYBACKS)
               .where(PLAYBACKS.c.id == bindparam("playback_id"), PLAYBACKS.c.last_seq == bindparam("judged_seq"))
               .values({c: bindparam(c.name) for c in ANCHOR_COLUMNS}))
TOUCH_SESSION = update(SESSIONS).where(SESSIONS.c.id == bindparam("session_id"))
INSERT_PROGRESS = insert(PROGRESS)
UPDATE_PROGRESS = update(PROGRESS).where(PROGRESS.c.id == bindparam("progress_id")).values(
    {PROGRESS.c.effective_seconds: PROGRESS.c.effective_seconds + bindparam("credited"),
     **{c: bindparam(c.name) for c in PROGRESS_COLUMNS}})
INSERT_DAILY = insert(DAILY)
ADD_DAILY = update(DAILY).where(DAILY.c.id == bindparam("daily_id")).values(
    seconds=DAILY.c.seconds + bindparam("credited"))


def _build_write_in_one():
    """PostgreSQL only: MOVE_ANCHOR, INSERT_HEARTBEAT, UPDATE_PROGRESS and ADD_DAILY as one statement of
    data-modifying CTEs, made of the statements above. Every part depends on the anchor having moved, so a
    raced heartbeat writes nothing (count 0) and is judged again."""
    moved = MOVE_ANCHOR.returning(PLAYBACKS.c.id).cte("moved")
    anchor_moved = exists(select(moved.c.id))
    # INSERT ... SELECT: PostgreSQL cannot infer the parameters' types from the columns, so each is cast.
    # The parameters are named beat_<column>: SQLAlchemy would turn a parameter named like a column of a
    # table updated here (learner_id, lesson_id) into one more SET of that UPDATE.
    beat = insert(HEARTBEATS).from_select(
        [c.name for c in HEARTBEAT_COLUMNS],
        select(*[moved.c.id if c is HEARTBEATS.c.playback_id else cast(bindparam(f"beat_{c.name}"), c.type)
                 for c in HEARTBEAT_COLUMNS])).cte("beat")
    lesson = UPDATE_PROGRESS.where(cast(bindparam("write_progress"), Boolean), anchor_moved).cte("lesson")
    day = ADD_DAILY.where(cast(bindparam("add_daily"), Boolean), anchor_moved).cte("day")
    return select(func.count()).select_from(moved).add_cte(beat, lesson, day)


WRITE_IN_ONE = _build_write_in_one()


def _load(connection, user_id: int, token: str, day):
    statement = LOAD_ASYNC_COMMIT if connection.dialect.name == "postgresql" else LOAD
    return connection.execute(statement, {"token": token, "user_id": user_id, "day": day}).one_or_none()


def _record(user_id, token, beat, interacted, now, ip, rules, idle_limit_seconds, refuse=None) -> HeartbeatResult:
    day = progress.study_day(now)
    connection = db.session.connection()
    row = _load(connection, user_id, token, day)
    if row is None:
        raise UnknownPlayback()
    session_live, end_reason = row.ended_at is None, row.end_reason
    quiet = (now - row.last_interaction_at).total_seconds()
    # An open face check has its own window: until it runs out the learner is not idle but being
    # checked (a refused or missing camera takes time), and then the check is missed, not "idle".
    if session_live and quiet > idle_limit_seconds and row.open_check_id is None:
        _end_idle_session(row.session_id, now)
        session_live, end_reason = False, "idle"
    elif session_live and interacted and quiet >= INTERACTION_WRITE_EVERY:
        connection.execute(TOUCH_SESSION, {"session_id": row.session_id, "last_interaction_at": now})
    if session_live and checks.settle_overdue(row, now):
        session_live, end_reason = False, "face_missed"
    if not session_live and row.ended_at is None:
        row = _reload_after_voiding(connection, user_id, token, day)
    blocked = "check_due" if session_live and row.open_check_id is not None else None
    state = accounting.PlaybackState(
        session_live=session_live, active=row.active and session_live, last_seq=row.last_seq,
        anchor_at=row.anchor_at, anchor_position=row.anchor_position, clock_reserve=row.clock_reserve,
        furthest=row.furthest or 0.0, duration=row.duration, credited_today=row.daily_seconds or 0.0,
        anchor_playing=row.anchor_playing, blocked_reason=blocked)
    verdict = accounting.judge(state, beat, now, rules)
    if refuse:
        verdict = accounting.Verdict(0.0, refuse, None, row.anchor_at, row.anchor_position, row.clock_reserve,
                                     False, row.anchor_playing)
    if end_reason in ("idle", "face_missed") and verdict.reason == "session_ended":
        verdict = replace(verdict, reason=end_reason)
    check_id = row.open_check_id if blocked else None
    if session_live and row.active and not blocked and not refuse and _counts(verdict):
        check_id = checks.maybe_open_check(row, verdict.anchor_position, beat.playing, now, ip)
    totals = _write(connection, row, beat, verdict, now, ip, day, rules)
    db.session.commit()
    if session_live:
        return HeartbeatResult(verdict, *totals, None, check_id)
    study_time = checks.lesson_time(row.learner_id, row.lesson_id, totals[0])
    return HeartbeatResult(verdict, *totals, end_reason, None, study_time.confirmed, study_time.provisional)


def stopped_playback(token: str) -> StoppedStudy | None:
    """For a page whose learner is no longer signed in: why its playback stopped counting (the
    session's end, or "signed_out" while the session is still open) and the lesson's figures.
    None for an unknown token. The token is the page's secret; nothing else about the learner is told."""
    row = db.session.execute(
        select(PLAYBACKS.c.learner_id, PLAYBACKS.c.lesson_id, SESSIONS.c.ended_at, SESSIONS.c.end_reason,
               PROGRESS.c.effective_seconds, PROGRESS.c.covered_seconds, PROGRESS.c.completed_at)
        .select_from(PLAYBACKS.join(SESSIONS, SESSIONS.c.id == PLAYBACKS.c.session_id).outerjoin(
            PROGRESS, and_(PROGRESS.c.learner_id == PLAYBACKS.c.learner_id,
                           PROGRESS.c.lesson_id == PLAYBACKS.c.lesson_id)))
        .where(PLAYBACKS.c.token == token)).one_or_none()
    if row is None:
        return None
    effective = row.effective_seconds or 0.0
    reason = row.end_reason if row.ended_at is not None else "signed_out"
    study_time = checks.lesson_time(row.learner_id, row.lesson_id, effective)
    return StoppedStudy(reason, effective, study_time.confirmed, study_time.provisional,
                        row.covered_seconds or 0.0, row.completed_at is not None)


def _counts(verdict: accounting.Verdict) -> bool:
    """Whether the report's position was accepted as real (only such a position may reach a check point)."""
    return verdict.accepted_seq and verdict.reason not in accounting.REFUSALS and verdict.anchor_position is not None


def _reload_after_voiding(connection, user_id: int, token: str, day):
    """The session ended in this request and the check it missed voided time: read the lesson's totals
    again, so that the page is told the figures after voiding, not before."""
    db.session.flush()
    return _load(connection, user_id, token, day)


def _end_idle_session(session_id: int, now: datetime) -> None:
    sessions.end_session(db.session.get(StudySession, session_id), "idle", now)


def _write(connection, row, beat: accounting.Beat, verdict: accounting.Verdict, now: datetime, ip: str, day,
           rules: accounting.Rules):
    """Move the anchor (only from the state that was judged, else _Raced), keep the heartbeat, add what it
    earned to the lesson and the day; returns the lesson's totals for the page."""
    totals, progress_write, progress_values = _progress_change(row, verdict, now, rules)
    heartbeat = _heartbeat_values(row, beat, verdict, now, ip)
    anchor = dict(playback_id=row.id, judged_seq=row.last_seq, last_seq=beat.seq, anchor_at=verdict.anchor_at,
                  anchor_position=verdict.anchor_position, clock_reserve=verdict.clock_reserve,
                  anchor_playing=verdict.anchor_playing)
    add_daily = verdict.credited > 0
    if _fits_one_statement(connection, row, verdict, progress_write, add_daily):
        # The common case in one statement: one round trip instead of four (BENCHMARKS.md, issue 11).
        moved = connection.execute(WRITE_IN_ONE, dict(
            anchor, **{f"beat_{key}": value for key, value in heartbeat.items()},
            **_without(progress_values, "effective_seconds"), credited=verdict.credited, progress_id=row.progress_id,
            write_progress=progress_write == "update", daily_id=row.daily_id, add_daily=add_daily)).scalar_one()
        if moved != 1:
            raise _Raced()
        return totals
    if verdict.accepted_seq and connection.execute(MOVE_ANCHOR, anchor).rowcount != 1:
        raise _Raced()
    connection.execute(INSERT_HEARTBEAT, heartbeat)
    if progress_write == "insert":
        connection.execute(INSERT_PROGRESS, dict(progress_values, learner_id=row.learner_id, lesson_id=row.lesson_id))
    elif progress_write == "update":
        connection.execute(UPDATE_PROGRESS, dict(_without(progress_values, "effective_seconds"),
                                                 progress_id=row.progress_id, credited=verdict.credited))
    if add_daily:
        _add_daily(connection, row, day, verdict.credited)
    return totals


def _fits_one_statement(connection, row, verdict: accounting.Verdict, progress_write: str | None,
                        add_daily: bool) -> bool:
    """Whether WRITE_IN_ONE can do the write: on PostgreSQL, when the anchor moves and no row is to be created."""
    return (connection.dialect.name == "postgresql" and verdict.accepted_seq and progress_write != "insert"
            and (row.daily_id is not None or not add_daily))


def _without(values: dict, key: str) -> dict:
    return {k: v for k, v in values.items() if k != key}


def _heartbeat_values(row, beat: accounting.Beat, verdict: accounting.Verdict, now: datetime, ip: str) -> dict:
    return dict(
        playback_id=row.id, learner_id=row.learner_id, lesson_id=row.lesson_id, received_at=now, seq=beat.seq,
        client_time=beat.client_time, position=beat.position, playing=beat.playing, visible=beat.visible,
        focused=beat.focused, rate=beat.rate, credited=verdict.credited,
        covered_from=verdict.covered[0] if verdict.covered else None,
        covered_to=verdict.covered[1] if verdict.covered else None, reason=verdict.reason, voided=False,
        ip=ip[:64], check_id=None)  # provisional until the next face check passes


def _progress_change(row, verdict: accounting.Verdict, now: datetime, rules: accounting.Rules):
    """The heartbeat applied to the lesson's totals as a rebuild would (progress.credit_heartbeat), with the
    resume point moved: (totals for the page, "insert" | "update" | None, the row's new values).
    effective_seconds is added in SQL on update, so that the total never loses a concurrent credit."""
    totals = progress.LessonTotals(row.effective_seconds or 0.0, accounting.load_intervals(row.coverage),
                                   row.furthest or 0.0, row.completed_at)
    if verdict.credited > 0:
        totals = progress.credit_heartbeat(totals, verdict.credited, verdict.covered, now, row.duration, rules)
    resume = verdict.anchor_position if verdict.accepted_seq and verdict.anchor_position is not None \
        else row.resume_position
    values = dict(effective_seconds=totals.effective, coverage=accounting.dump_intervals(totals.intervals),
                  covered_seconds=totals.covered, furthest=totals.furthest, resume_position=resume or 0.0,
                  completed_at=totals.completed_at)
    if row.progress_id is None:
        write = "insert" if verdict.accepted_seq else None
    elif verdict.credited > 0 or verdict.covered or resume != row.resume_position:
        write = "update"
    else:
        write = None
    return (totals.effective, totals.covered, totals.furthest, totals.completed_at is not None), write, values


def _add_daily(connection, row, day, credited: float) -> None:
    """Add the credit to its study day (progress.study_day), as progress.daily_totals does."""
    if row.daily_id is None:
        connection.execute(INSERT_DAILY, dict(learner_id=row.learner_id, day=day, seconds=credited))
    else:
        connection.execute(ADD_DAILY, dict(daily_id=row.daily_id, credited=credited))
