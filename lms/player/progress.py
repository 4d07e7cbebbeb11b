"""A lesson's totals (effective time, coverage, furthest point, completion) and the per-day totals
behind the daily cap: one implementation for the two ways they are kept.

The heartbeat path (heartbeats.py, SQLAlchemy Core, the hot path) applies each credited heartbeat
as it arrives with credit_heartbeat() and study_day(). Rebuilding, when credit is voided or given
back after a face check, folds the same functions over the heartbeats that still count, in the
order they arrived. tests/test_player_progress_property.py checks that both give the same totals.
"""
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from ..core.clock import china_date
from ..extensions import db
from . import accounting
from .models import DailyStudy, Heartbeat, Lesson, LessonProgress

COVERAGE_DECIMALS = 3  # as stored (accounting.dump_intervals), so a reloaded total merges the same way


@dataclass(frozen=True)
class LessonTotals:
    effective: float = 0.0
    intervals: list = field(default_factory=list)  # merged [start, end] pairs of the video covered
    furthest: float = 0.0
    completed_at: datetime | None = None

    @property
    def covered(self) -> float:
        return accounting.covered_seconds(self.intervals)


def credit_heartbeat(totals: LessonTotals, credited: float, covered: tuple[float, float] | None,
                     received_at: datetime, duration: float, rules: accounting.Rules) -> LessonTotals:
    """The totals after one credited heartbeat: its credit and covered stretch are added; the lesson
    is complete from the first heartbeat after which the whole video is covered and the effective
    time reaches its length (accounting.is_complete)."""
    intervals = totals.intervals
    if covered:
        intervals = [[round(a, COVERAGE_DECIMALS), round(b, COVERAGE_DECIMALS)]
                     for a, b in accounting.merge_interval(intervals, covered)]
    effective = totals.effective + credited
    completed_at = totals.completed_at
    if completed_at is None and accounting.is_complete(accounting.covered_seconds(intervals), effective,
                                                       duration, rules):
        completed_at = received_at
    furthest = max(totals.furthest, covered[1]) if covered else totals.furthest
    return LessonTotals(effective, intervals, furthest, completed_at)


def study_day(received_at: datetime) -> date:
    """The day a credit counts towards for the daily cap: the China calendar day it arrived."""
    return china_date(received_at)


# --- rebuilding from the heartbeats ----------------------------------------------------------------

def progress_for(learner_id: int, lesson_id: int) -> LessonProgress | None:
    return db.session.scalar(select(LessonProgress).filter_by(learner_id=learner_id, lesson_id=lesson_id))


def _counting(learner_id: int):
    """Heartbeats that still count: credited and not voided."""
    return Heartbeat.learner_id == learner_id, Heartbeat.voided.is_(False), Heartbeat.credited > 0


def lesson_totals(learner_id: int, lesson_id: int, duration: float, rules: accounting.Rules) -> LessonTotals:
    """Fold credit_heartbeat over the lesson's heartbeats that still count, in arrival order."""
    totals = LessonTotals()
    for credited, covered_from, covered_to, received_at in db.session.execute(
            select(Heartbeat.credited, Heartbeat.covered_from, Heartbeat.covered_to, Heartbeat.received_at)
            .where(*_counting(learner_id), Heartbeat.lesson_id == lesson_id).order_by(Heartbeat.id)):
        covered = (covered_from, covered_to) if covered_from is not None else None
        totals = credit_heartbeat(totals, credited, covered, received_at, duration, rules)
    return totals


def rebuild_progress(learner_id: int, lesson_id: int, rules: accounting.Rules) -> LessonProgress:
    """Recompute a lesson's totals from its heartbeats that still count (used when time is voided);
    the resume point is left as it is."""
    totals = lesson_totals(learner_id, lesson_id, db.session.get(Lesson, lesson_id).video.duration, rules)
    progress = progress_for(learner_id, lesson_id) or LessonProgress(learner_id=learner_id, lesson_id=lesson_id)
    db.session.add(progress)
    progress.effective_seconds, progress.coverage = totals.effective, accounting.dump_intervals(totals.intervals)
    progress.covered_seconds, progress.furthest = totals.covered, totals.furthest
    progress.completed_at = totals.completed_at
    return progress


def daily_totals(learner_id: int) -> dict[date, float]:
    """Credited seconds per study day from the heartbeats that still count, added in arrival order."""
    totals: dict[date, float] = {}
    for received_at, credited in db.session.execute(select(Heartbeat.received_at, Heartbeat.credited).where(
            *_counting(learner_id)).order_by(Heartbeat.id)):
        day = study_day(received_at)
        totals[day] = totals.get(day, 0.0) + credited
    return totals


def rebuild_daily(learner_id: int) -> None:
    """Recompute the learner's per-day totals (the daily cap) from the heartbeats that still count."""
    totals = daily_totals(learner_id)
    for daily in db.session.scalars(select(DailyStudy).where(DailyStudy.learner_id == learner_id)):
        daily.seconds = totals.get(daily.day, 0.0)


def rebuild_learner(learner_id: int, lesson_ids, rules: accounting.Rules) -> None:
    """After credit was voided or given back: the totals of the lessons concerned and of every day."""
    db.session.flush()
    for lesson_id in lesson_ids:
        if lesson_id is not None:
            rebuild_progress(learner_id, lesson_id, rules)
    rebuild_daily(learner_id)
