"""One live learning session per learner, even when two starts arrive at the same moment (issue 11):
the database refuses a second live session, and the start that loses joins the one that won."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.audit.models import AuditLog
from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.learners.models import Learner
from lms.player import services, sessions
from lms.player.models import Lesson, Playback, StudySession
from lms.proctor.models import START, FaceCheck

from .conftest import signed_in

ROUNDS = 5


def live_session_row(learner_id: int, now) -> StudySession:
    return StudySession(learner_id=learner_id, started_at=now, last_interaction_at=now)


def test_the_database_allows_one_live_session_per_learner(db, learner, other_learner):
    now = utcnow()
    first = live_session_row(learner.id, now)
    db.session.add_all([first, live_session_row(other_learner.id, now)])  # one each: allowed
    db.session.commit()
    db.session.add(live_session_row(learner.id, now))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    first.ended_at, first.end_reason = now, "logout"
    db.session.commit()
    db.session.add(live_session_row(learner.id, now))  # the first has ended: a new one may start
    db.session.commit()
    assert db.session.query(StudySession).filter_by(learner_id=learner.id).count() == 2


def run_together(work, count=2):
    """Run ``work(index)`` in ``count`` threads released at once by a barrier; their results in order."""
    barrier = threading.Barrier(count, timeout=10)

    def lined_up(index):
        barrier.wait()
        return work(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return [future.result() for future in [pool.submit(lined_up, index) for index in range(count)]]


def end_live_session(db, learner_id: int) -> None:
    """Close the round's session without missing its start check (that would sign the learner out)."""
    db.session.expire_all()
    for session in db.session.scalars(select(StudySession).where(
            StudySession.learner_id == learner_id, StudySession.ended_at.is_(None))):
        sessions.close_session(session, "logout", utcnow())
    db.session.commit()


def assert_one_session_for(db, learner_id: int, playback_session_ids: list[int]) -> StudySession:
    db.session.expire_all()
    live = db.session.scalars(select(StudySession).where(
        StudySession.learner_id == learner_id, StudySession.ended_at.is_(None))).all()
    assert len(live) == 1, [session.id for session in live]
    assert set(playback_session_ids) == {live[0].id}
    start_checks = db.session.scalars(select(FaceCheck).where(
        FaceCheck.context_id == live[0].id, FaceCheck.purpose == START)).all()
    assert [check.id for check in start_checks] == [live[0].open_check_id]
    assert db.session.query(AuditLog).filter_by(action="study_session_start",
                                                target=f"study_session:{live[0].id}").count() == 1
    return live[0]


def test_parallel_starts_share_one_live_session(app, db, lesson, approved_learner):
    learner_id, lesson_id = approved_learner.id, lesson.id

    def start(_index):
        with app.app_context():
            learner = db.session.get(Learner, learner_id)
            playback = services.start_playback(learner, db.session.get(Lesson, lesson_id), utcnow(),
                                               Actor(learner.user, "127.0.0.1", "pytest"))
            return playback.session_id

    for _ in range(ROUNDS):
        session_ids = run_together(start)
        assert_one_session_for(db, learner_id, session_ids)
        end_live_session(db, learner_id)
    assert db.session.query(StudySession).count() == ROUNDS
    assert db.session.query(AuditLog).filter_by(action="study_session_start").count() == ROUNDS


def test_parallel_starts_in_a_live_session_leave_one_active_playback(app, db, lesson, approved_learner):
    """Two devices start while the session is already live: only the later playback may count time."""
    learner_id, lesson_id = approved_learner.id, lesson.id
    services.start_playback(approved_learner, lesson, utcnow(), Actor(approved_learner.user, "127.0.0.1", "pytest"))

    def start(_index):
        with app.app_context():
            learner = db.session.get(Learner, learner_id)
            return services.start_playback(learner, db.session.get(Lesson, lesson_id), utcnow(),
                                           Actor(learner.user, "127.0.0.1", "pytest")).id

    for _ in range(ROUNDS):
        run_together(start)
        db.session.expire_all()
        active = db.session.scalars(select(Playback.id).where(Playback.learner_id == learner_id,
                                                              Playback.active.is_(True))).all()
        assert len(active) == 1, active


def test_two_devices_starting_at_once_get_the_same_session_and_check(app, db, lesson, approved_learner):
    devices = [signed_in(app, approved_learner.id_number) for _ in range(2)]
    lesson_id = lesson.id  # the threads must not touch this thread's database session

    def start(index):
        response = devices[index].post("/api/player/start", json={"lesson_id": lesson_id})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    for _ in range(ROUNDS):
        answers = run_together(start)
        tokens = [answer["playback"] for answer in answers]
        session_ids = list(db.session.scalars(select(Playback.session_id).where(Playback.token.in_(tokens))))
        session = assert_one_session_for(db, approved_learner.id, session_ids)
        assert [answer["check"] for answer in answers] == [session.open_check_id] * 2
        end_live_session(db, approved_learner.id)


def test_the_migration_ends_duplicate_live_sessions_before_adding_the_index(app, db, lesson, approved_learner):
    from flask_migrate import downgrade, upgrade
    learner_id, lesson_id = approved_learner.id, lesson.id
    db.session.remove()  # no open transaction may hold the table while the schema changes
    downgrade(revision="10a03_face_challenges")
    try:
        learner = db.session.get(Learner, learner_id)
        older = services.start_playback(learner, db.session.get(Lesson, lesson_id), utcnow(), Actor(learner.user))
        older_id, older_session_id = older.id, older.session_id
        older_check_id = db.session.get(StudySession, older_session_id).open_check_id
        newer = live_session_row(learner_id, utcnow())
        db.session.add(newer)
        db.session.commit()
        newer_id, epoch = newer.id, learner.user.session_epoch
        db.session.remove()
    finally:
        upgrade()
    ended, kept = db.session.get(StudySession, older_session_id), db.session.get(StudySession, newer_id)
    assert (ended.end_reason, ended.ended_at) == ("superseded", ended.last_interaction_at)
    assert kept.ended_at is None
    assert not db.session.get(Playback, older_id).active
    check = db.session.get(FaceCheck, older_check_id)
    assert (check.status, check.reason) == ("missed", "superseded")
    assert db.session.get(Learner, learner_id).user.session_epoch == epoch  # closed without signing out
