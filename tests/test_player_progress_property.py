"""Property: the totals the heartbeat path keeps incrementally equal the ones rebuilt from the
heartbeats (lms/player/progress.py), whatever the page reports.

Random heartbeat streams (playing, pauses, seeks back and forward, beyond the end, hidden pages,
other rates, replayed sequence numbers, short and long gaps across several China days, under a
small daily cap) go through the real record path (accounting.judge, heartbeats.record_heartbeat)
against the real database. Then the lesson's totals (effective, coverage, covered, furthest,
completed_at) and the per-day seconds are compared with what rebuild_progress and rebuild_daily make
of the same heartbeats. Deterministic (derandomize) and bounded, for CI.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from lms.core.context import Actor
from lms.extensions import db as _db
from lms.player import heartbeats, progress, services
from lms.player.accounting import Beat, Rules
from lms.player.models import (PUBLISHED, READY, ClassCourse, Course, DailyStudy, Heartbeat, Lesson, LessonProgress,
                               Playback, StudySession, Video)

START = datetime(2026, 3, 1, 15, 59)  # 23:59 in China: most streams cross midnight as they play
NEVER_IDLE = 10.0 ** 9               # idle endings are tested elsewhere; here every report is judged


@dataclass(frozen=True)
class Step:
    """One report of the page: ``wait`` server seconds after the previous one, then ``action``."""
    wait: float
    action: str      # play | pause | hidden | unfocused | rate | seek | seek_back | replay
    value: float     # the rate for "rate"; the target for "seek" (of the video) and "seek_back" (of the position)


# Mostly reports a heartbeat apart (some a little late), now and then a gap of up to 30 hours.
WAITS = {"on_time": st.floats(0.2, 8.0), "late": st.floats(8.0, 20.0), "gap": st.floats(20.0, 110_000.0)}
waits = st.sampled_from(["on_time"] * 14 + ["late", "gap"]).flatmap(WAITS.get)
actions = st.sampled_from(["play"] * 12 + ["pause", "hidden", "unfocused", "rate", "seek", "seek_back", "seek_back",
                           "replay"])
steps = st.builds(Step, waits, actions, st.floats(0.0, 1.2))
streams = st.lists(steps, min_size=10, max_size=50)


def _course(staff, open_class) -> Lesson:
    """A published lesson in the learner's curriculum, without transcoding (only its duration matters)."""
    course = Course(institution_id=staff.institution_id, title="性质测试", nominal_hours=1.0,
                    last_reviewed_on=date(2026, 1, 1), status=PUBLISHED)
    video = Video(source_name="source.mp4", status=READY, duration=60.0)
    _db.session.add_all([course, video])
    _db.session.flush()
    lesson = Lesson(course_id=course.id, position=1, title="第1讲", video_id=video.id)
    _db.session.add_all([lesson, ClassCourse(class_id=open_class.id, course_id=course.id)])
    _db.session.commit()
    return lesson


def _forget_study(learner_id: int) -> None:
    for model in (Heartbeat, Playback, StudySession, LessonProgress, DailyStudy):
        _db.session.execute(delete(model).where(model.learner_id == learner_id))
    _db.session.commit()


def _play(learner, lesson, stream: list[Step], rules: Rules) -> None:
    """Send the stream as a page would, after the first report at the start of the video; the position
    follows what the page claims it did."""
    now, seq, position, duration = START, 1, 0.0, lesson.video.duration
    token = services.start_playback(learner, lesson, now, Actor(learner.user, "127.0.0.1")).token
    heartbeats.record_heartbeat(learner.user_id, token, Beat(seq, 0.0, True, True, True, 1.0), True, now,
                                "127.0.0.1", rules, NEVER_IDLE)
    for step in stream:
        now += timedelta(seconds=step.wait)
        rate = step.value * 2 + 0.25 if step.action == "rate" else 1.0
        if step.action == "seek":
            position = step.value * duration
        elif step.action == "seek_back":
            position = min(step.value, 1.0) * position
        elif step.action not in ("pause", "replay"):  # the video plays on
            position = min(position + step.wait * rate, duration)
        if step.action != "replay":
            seq += 1
        beat = Beat(seq=seq, position=position, playing=step.action != "pause", visible=step.action != "hidden",
                    focused=step.action != "unfocused", rate=rate)
        heartbeats.record_heartbeat(learner.user_id, token, beat, True, now, "127.0.0.1", rules, NEVER_IDLE)


def _totals(learner_id: int, lesson_id: int):
    _db.session.expire_all()
    row = _db.session.scalar(select(LessonProgress).filter_by(learner_id=learner_id, lesson_id=lesson_id))
    lesson = (row.effective_seconds, row.coverage, row.covered_seconds, row.furthest, row.completed_at) if row \
        else (0.0, "[]", 0.0, 0.0, None)
    days = {d.day: d.seconds for d in _db.session.scalars(select(DailyStudy).filter_by(learner_id=learner_id))}
    return lesson, days


def test_incremental_totals_equal_the_rebuilt_ones(db, approved_learner, staff, open_class):
    lesson = _course(staff, open_class)

    # Nested so that the learner and the course are built once; each example starts with no study.
    @settings(max_examples=80, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(stream=streams, duration=st.floats(4.0, 120.0), cap_minutes=st.sampled_from([0.25, 0.5, 2.0, 60.0]))
    def incremental_equals_rebuilt(stream, duration, cap_minutes):
        _forget_study(approved_learner.id)
        lesson.video.duration = round(duration, 2)
        _db.session.commit()
        rules = Rules(heartbeat_interval=5, max_gap=15, daily_cap_seconds=cap_minutes * 60)
        _play(approved_learner, lesson, stream, rules)
        incremental = _totals(approved_learner.id, lesson.id)
        progress.rebuild_progress(approved_learner.id, lesson.id, rules)
        progress.rebuild_daily(approved_learner.id)
        _db.session.commit()
        assert _totals(approved_learner.id, lesson.id) == incremental
        assert all(seconds <= rules.daily_cap_seconds + 1e-6 for seconds in incremental[1].values())

    incremental_equals_rebuilt()
