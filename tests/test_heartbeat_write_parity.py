"""The heartbeat's two writes (lms/player/heartbeats.py) leave identical rows.

PostgreSQL writes the common case in one statement (WRITE_IN_ONE), every other case and SQLite step by
step. Two learners send the same heartbeats at the same moments, one through each write, and every column
of every row they leave is compared. SQLite has only the step-by-step write: there both learners take it,
and the test shows the sequence itself is sound."""
from datetime import timedelta

from sqlalchemy import select

from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.extensions import db as sa
from lms.institutions.services import apply_to_class, approve_application
from lms.player import heartbeats, services
from lms.player.accounting import Beat, Rules

from .conftest import ready_course

RULES = Rules(heartbeat_interval=2, max_gap=10, daily_cap_seconds=3600)
IDLE_LIMIT = 60.0
# (seconds after the start, seq, position, playing): plays, repeats a report, jumps ahead, pauses, goes on.
SEQUENCE = ((0, 1, 0.0, True), (2, 2, 2.0, True), (4, 3, 4.0, True), (4.5, 3, 4.0, True), (6, 4, 5.9, True),
            (8, 5, 5.9, False), (10, 6, 1.0, True), (12, 7, 3.0, True), (14, 8, 5.5, True), (16, 9, 6.0, False))
PER_LEARNER = {"id", "learner_id", "playback_id", "session_id", "token"}  # differ between the two learners


def rows(table, learner_id: int) -> list[dict]:
    found = sa.session.execute(select(table).where(table.c.learner_id == learner_id).order_by(table.c.id))
    return [{k: v for k, v in row._mapping.items() if k not in PER_LEARNER} for row in found]


def test_the_one_statement_write_and_the_step_by_step_write_leave_identical_rows(
        db, monkeypatch, staff, open_class, approved_learner, other_learner, short_video):
    approve_application(apply_to_class(other_learner, open_class, "T440604197403121236", utcnow(),
                                       Actor(other_learner.user)), utcnow(), Actor(staff))
    lesson = ready_course(db, staff, open_class, [short_video]).lessons[0]
    stepwise, in_one = approved_learner, other_learner
    fits, taken = heartbeats._fits_one_statement, []

    def only_for_in_one(connection, row, *args):
        chosen = row.learner_id == in_one.id and fits(connection, row, *args)
        taken.append(chosen)
        return chosen

    monkeypatch.setattr(heartbeats, "_fits_one_statement", only_for_in_one)
    start = utcnow().replace(microsecond=0)
    for learner in (stepwise, in_one):
        playback = services.start_playback(learner, lesson, start, Actor(learner.user, "127.0.0.1"))
        for second, seq, position, playing in SEQUENCE:
            beat = Beat(seq, position, playing, True, True, 1.0, None)
            heartbeats.record_heartbeat(learner.user_id, playback.token, beat, True, start + timedelta(seconds=second),
                                        "10.1.2.3", RULES, IDLE_LIMIT)

    if db.engine.dialect.name == "postgresql":
        assert sum(taken) >= 5  # the one-statement write really ran for most of the sequence
    written = rows(heartbeats.HEARTBEATS, stepwise.id)
    assert len(written) == len(SEQUENCE) and any(r["credited"] > 0 for r in written) \
        and any(r["reason"] for r in written)  # a sequence that earns and refuses
    for table in (heartbeats.HEARTBEATS, heartbeats.PLAYBACKS, heartbeats.PROGRESS, heartbeats.DAILY):
        assert rows(table, in_one.id) == rows(table, stepwise.id), table.name
        assert rows(table, stepwise.id), table.name
