"""Why study stops, told every time and at the right moment: an open face check has its own window
(the idle rule waits for it), a check missed while nobody reported is told to the page even after
sign-out, with the figures after voiding; reports that the server refuses open no check."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.core.clock import utcnow
from lms.player import heartbeats, services
from lms.player.accounting import Beat, Rules
from lms.player.models import StudySession
from lms.proctor import tries
from lms.proctor import services as proctor
from lms.proctor.models import IN_VIDEO, MISSED, OPEN, PASSED, FaceCheck

from .face_frames import following
from .test_proctor_checks import start_with_an_overdue_check

RULES = Rules(heartbeat_interval=2, max_gap=10, daily_cap_seconds=3600)
pytestmark = pytest.mark.usefixtures("quick_capture")   # lesson, me, quick_capture: tests/conftest.py
IDLE_LIMIT = 150.0   # shorter than the check's 180 s window, as in the report that found the bug


@pytest.fixture()
def clock():
    """Seconds from the start of the test, on the server's own time (checks are opened at utcnow())."""
    start = utcnow()
    return lambda seconds: start + timedelta(seconds=seconds)


def send(learner, token, seq, position, now, playing=True, idle_limit=IDLE_LIMIT, interacted=False):
    beat = Beat(seq=seq, position=position, playing=playing, visible=True, focused=True, rate=1.0, client_time=None)
    return heartbeats.record_heartbeat(learner.user_id, token, beat, interacted, now, "10.0.0.9", RULES, idle_limit)


def open_check(db, learner):
    return db.session.scalar(select(FaceCheck).where(FaceCheck.learner_id == learner.id, FaceCheck.status == OPEN))


def pass_check(db, learner, actor, now, pair=0):
    check = open_check(db, learner)
    challenge = tries.issue_challenge(check, True, now, actor)
    result = tries.submit_attempt(check, following(challenge, pair), challenge.nonce, now + timedelta(seconds=4),
                                     actor)
    assert result.status == PASSED, result


def begin(learner, lesson, actor, now):
    playback = services.start_playback(learner, lesson, now, actor)
    playback.check_at_position = None
    from lms.extensions import db
    db.session.commit()
    return playback


def session_of(db, playback):
    db.session.expire_all()
    return db.session.get(StudySession, playback.session_id)


# --- idle and the check window ----------------------------------------------------------------------

def test_the_idle_rule_waits_for_an_open_checks_window_and_then_the_check_is_missed(
        app, db, lesson, approved_learner, me, clock):
    """No camera and no answer: before, the session ended as idle at 150 s, before the check's 180 s."""
    window = app.config["LMS_FACE_CHECK_WINDOW_SECONDS"]
    assert window > IDLE_LIMIT
    playback = begin(approved_learner, lesson, me, clock(0))
    send(approved_learner, playback.token, 1, 0.0, clock(1))
    waiting = send(approved_learner, playback.token, 2, 0.0, clock(IDLE_LIMIT + 10))
    assert waiting.session_ended is None and waiting.verdict.reason == "check_due"
    assert session_of(db, playback).ended_at is None
    missed = send(approved_learner, playback.token, 3, 0.0, clock(window + 5))
    assert missed.session_ended == "face_missed"
    assert session_of(db, playback).end_reason == "face_missed"


def test_idle_still_ends_a_session_without_an_open_check(app, db, lesson, approved_learner, me, clock):
    playback = begin(approved_learner, lesson, me, clock(0))
    pass_check(db, approved_learner, me, clock(1))
    send(approved_learner, playback.token, 1, 0.0, clock(6), interacted=True)
    idle = send(approved_learner, playback.token, 2, 0.0, clock(6 + IDLE_LIMIT + 1), playing=False)
    assert idle.session_ended == "idle"


def test_opening_the_study_page_again_settles_an_overdue_check_as_missed_not_idle(
        app, db, lesson, approved_learner, me, clock):
    window = app.config["LMS_FACE_CHECK_WINDOW_SECONDS"]
    first = begin(approved_learner, lesson, me, clock(0))
    app.config["LMS_IDLE_SECONDS"], saved = 60, app.config["LMS_IDLE_SECONDS"]
    try:
        second = services.start_playback(approved_learner, lesson, clock(window - 30), me)
        assert second.session_id == first.session_id   # the check's window is still open
        third = services.start_playback(approved_learner, lesson, clock(window + 5), me)
    finally:
        app.config["LMS_IDLE_SECONDS"] = saved
    assert third.session_id != first.session_id
    assert session_of(db, first).end_reason == "face_missed"


# --- the page is always told why -------------------------------------------------------------------

def test_the_heartbeat_that_ends_a_session_reports_the_figures_after_voiding(
        app, db, lesson, approved_learner, me, clock):
    window = app.config["LMS_FACE_CHECK_WINDOW_SECONDS"]
    playback = begin(approved_learner, lesson, me, clock(0))
    pass_check(db, approved_learner, me, clock(1))
    for seq, seconds in enumerate((6, 8, 10), start=1):
        send(approved_learner, playback.token, seq, seconds - 6.0, clock(seconds), interacted=True)
    session = session_of(db, playback)
    session.next_check_at = clock(11)
    db.session.commit()
    opened = send(approved_learner, playback.token, 4, 5.0, clock(11), interacted=True)
    assert opened.check_id is not None and opened.effective == pytest.approx(5.0)
    ended = send(approved_learner, playback.token, 5, 5.0, clock(11 + window + 1))
    assert ended.session_ended == "face_missed"
    assert ended.effective == 0 and ended.confirmed == 0   # before: 5.0, the figure before voiding


def test_a_page_signed_out_by_the_worker_is_told_why_study_stopped(app, db, lesson, approved_learner):
    """The worker settles the missed check before the page's next report, and signs the learner out:
    the report gets the reason and figures, not only "please sign in as a learner"."""
    client, token, check = start_with_an_overdue_check(app, db, approved_learner, lesson)
    assert proctor.sweep_overdue(utcnow()) == 1
    response = client.post("/api/player/heartbeat", json=dict(playback=token, seq=1, position=0.0, playing=True,
                                                               visible=True, focused=True, rate=1.0))
    body = response.get_json()
    assert response.status_code == 401 and body["code"] == "session_ended" and body["session_ended"] == "face_missed"
    assert "未在规定时间" in body["message"] and body["effective"] == 0 and body["confirmed"] == 0
    db.session.expire_all()
    assert db.session.get(FaceCheck, check.id).status == MISSED


def test_a_signed_out_page_without_a_valid_token_learns_nothing(app, db, lesson, approved_learner):
    client = app.test_client()
    for token in (None, "no-such-token", "x" * 500):
        response = client.post("/api/player/heartbeat", json={"playback": token, "seq": 1})
        assert response.status_code == 403 and response.get_json()["code"] == "forbidden"


def test_staff_holding_a_learners_playback_token_learn_nothing(app, db, lesson, approved_learner, staff_client):
    client, token, _check = start_with_an_overdue_check(app, db, approved_learner, lesson)
    assert proctor.sweep_overdue(utcnow()) == 1
    response = staff_client.post("/api/player/heartbeat", json={"playback": token, "seq": 1})
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
    assert client.post("/api/player/heartbeat", json={"playback": token, "seq": 1}).status_code == 401


# --- refused reports open no check -----------------------------------------------------------------

def test_a_refused_position_does_not_open_the_in_video_check(app, db, lesson, approved_learner, me, clock):
    playback = begin(approved_learner, lesson, me, clock(0))
    playback.check_at_position = 3.0
    db.session.commit()
    pass_check(db, approved_learner, me, clock(1))
    send(approved_learner, playback.token, 1, 0.0, clock(6))
    for seq, claim in ((2, 1e308), (3, 5.9)):   # beyond the video; beyond what was watched
        refused = send(approved_learner, playback.token, seq, claim, clock(6.5 + seq))
        assert refused.verdict.reason in ("beyond_length", "jump") and refused.check_id is None
    assert open_check(db, approved_learner) is None
    send(approved_learner, playback.token, 4, 0.0, clock(10))
    reached = send(approved_learner, playback.token, 5, 3.5, clock(13.5))
    assert reached.check_id is not None and open_check(db, approved_learner).purpose == IN_VIDEO
