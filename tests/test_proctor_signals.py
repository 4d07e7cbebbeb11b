"""The proctor tells the module that asked for a check through lms.proctor.signals.check_changed,
connected in that module's init_app; the player's receiver never calls the proctor back."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from lms import player
from lms.app import create_app
from lms.audit.models import AuditLog
from lms.core.context import Actor
from lms.extensions import db as _db
from lms.player import checks, services, sessions
from lms.player.models import StudySession
from lms.proctor import services as proctor
from lms.proctor.models import MISSED, OPEN, FaceCheck
from lms.proctor.signals import check_changed

T0 = datetime(2026, 3, 2, 1, 30)  # a fixed time zero (naive UTC): the player's and proctor's functions take `now`


@pytest.fixture()
def heard():
    """Every check_changed the player's context sends, as (check id, previous, status)."""
    seen = []

    def spy(sender, *, check, previous, now):
        seen.append((check.id, previous, check.status))
    check_changed.connect(spy, sender=checks.CONTEXT)
    yield seen
    check_changed.disconnect(spy, sender=checks.CONTEXT)


@pytest.fixture()
def proctor_calls(monkeypatch):
    """Count the calls to proctor.miss_check, from the player and from the proctor itself."""
    calls = []
    real = proctor.miss_check

    def counting(check, now, actor):
        calls.append(check.id)
        return real(check, now, actor)
    monkeypatch.setattr(proctor, "miss_check", counting)
    return calls


def _start(learner, lesson) -> StudySession:
    playback = services.start_playback(learner, lesson, T0, Actor(learner.user, "10.0.0.9", "pytest"))
    return _db.session.get(StudySession, playback.session_id)


def _ends_logged(db, session) -> list[str]:
    return [row.detail for row in db.session.scalars(select(AuditLog).where(
        AuditLog.action == "study_session_end", AuditLog.target == f"study_session:{session.id}"))]


def test_building_more_apps_keeps_one_player_receiver(app):
    # The factory calls lms.player.init_app again (rate limits stay off: the limiter is shared).
    create_app("testing", dict(app.config, RATELIMIT_ENABLED=False))
    player.init_app(app)
    receivers = list(check_changed.receivers_for(checks.CONTEXT))   # lms.hours also listens, to every context
    assert receivers.count(checks.on_check_changed) == 1


def test_the_player_ends_its_session_first_then_the_check_is_missed_once(db, lesson, approved_learner, heard,
                                                                         proctor_calls):
    session = _start(approved_learner, lesson)
    check_id = session.open_check_id
    sessions.end_learner_sessions(approved_learner, "logout", T0 + timedelta(seconds=5))
    db.session.expire_all()
    session = db.session.get(StudySession, session.id)
    assert heard == [(check_id, OPEN, MISSED)] and proctor_calls == [check_id]
    assert session.end_reason == "logout" and session.open_check_id is None  # the receiver found it closed
    assert _ends_logged(db, session) == ["logout"]


def test_a_missed_check_closes_the_session_without_calling_the_proctor_back(app, db, lesson, approved_learner,
                                                                           heard, proctor_calls):
    session = _start(approved_learner, lesson)
    check = db.session.get(FaceCheck, session.open_check_id)
    later = T0 + timedelta(seconds=app.config["LMS_FACE_CHECK_WINDOW_SECONDS"] + 1)
    assert proctor.expire_if_overdue(check, later)
    db.session.commit()
    db.session.expire_all()
    session = db.session.get(StudySession, session.id)
    assert heard == [(check.id, OPEN, MISSED)] and proctor_calls == [check.id]  # once: from the proctor
    assert session.end_reason == "face_missed" and session.open_check_id is None
    assert _ends_logged(db, session) == ["face_missed"]


def test_checks_of_another_context_kind_do_not_reach_the_player(db, lesson, approved_learner, heard):
    session = _start(approved_learner, lesson)
    other = proctor.open_check(approved_learner.id, "quiz_attempt", session.id, "start", T0, "10.0.0.9",
                               owner_institution_id=lesson.course.institution_id, details={"title": "测验"})
    proctor.miss_check(other, T0 + timedelta(seconds=1), Actor(None, "10.0.0.9", ""))
    db.session.commit()
    assert heard == [] and db.session.get(StudySession, session.id).ended_at is None
    assert db.session.get(FaceCheck, other.id).details == {"title": "测验"}
