"""The player over HTTP: forged heartbeats, signed media URLs with Range, access rules, staff pages."""
import io
import re
import time
from datetime import timedelta
from unittest import mock

import pytest

from lms.player.models import Heartbeat, LessonProgress

from .conftest import login, ready_course


@pytest.fixture()
def course(db, staff, open_class, approved_learner, short_video):
    return ready_course(db, staff, open_class, [short_video, short_video])


def start(client, lesson_id):
    response = client.post("/api/player/start", json={"lesson_id": lesson_id})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def heartbeat(client, token, seq, position, **extra):
    body = dict(playback=token, seq=seq, position=position, playing=True, visible=True, focused=True, rate=1.0,
                client_time=time.time(), interacted=True)
    body.update(extra)
    return client.post("/api/player/heartbeat", json=body)


def test_forged_heartbeats_earn_nothing(app, db, course, learner_client, approved_learner):
    lesson = course.lessons[0]
    token = start(learner_client, lesson.id)["playback"]
    assert heartbeat(learner_client, token, 1, 0.0).get_json()["reason"] == "started"
    far_ahead = heartbeat(learner_client, token, 2, 5.9).get_json()
    assert far_ahead["credited"] == 0 and far_ahead["reason"] == "jump"
    future = heartbeat(learner_client, token, 3, 0.1, client_time=time.time() + 86400).get_json()
    assert future["credited"] == 0 and future["reason"] == "client_clock"
    replayed = heartbeat(learner_client, token, 2, 0.2).get_json()
    assert replayed["credited"] == 0 and replayed["reason"] == "replay"
    # Claims of progress much faster than the server clock allow earn nothing, whatever the page says.
    fast = heartbeat(learner_client, token, 4, 4.0, rate=1.0).get_json()
    assert fast["credited"] == 0
    beyond = heartbeat(learner_client, token, 5, 600.0).get_json()
    assert beyond["reason"] == "beyond_length"
    total = db.session.query(LessonProgress).filter_by(learner_id=approved_learner.id).one()
    assert total.effective_seconds == 0 and total.completed_at is None


def test_real_time_progress_is_credited(app, db, course, learner_client):
    token = start(learner_client, course.lessons[0].id)["playback"]
    heartbeat(learner_client, token, 1, 0.0)
    time.sleep(1.2)
    credited = heartbeat(learner_client, token, 2, 1.0).get_json()
    assert credited["reason"] is None and 0.9 <= credited["credited"] <= 1.0 + 1e-6


def test_malformed_heartbeats_get_json_errors(course, learner_client):
    assert learner_client.post("/api/player/heartbeat", data="not json").status_code == 400
    response = learner_client.post("/api/player/heartbeat", json={"playback": "x", "seq": "a"})
    assert response.status_code == 400 and "error" in response.get_json()
    token = start(learner_client, course.lessons[0].id)["playback"]
    for bad in (dict(seq=10 ** 30), dict(seq=-1), dict(position=float("nan")), dict(rate=float("inf")),
                dict(client_time=float("nan")), dict(position="ahead")):
        fields = {"seq": 1, "position": 0.0, **bad}
        response = heartbeat(learner_client, token, fields.pop("seq"), fields.pop("position"), **fields)
        assert response.status_code == 400 and response.get_json()["code"] == "malformed", bad
    unknown = heartbeat(learner_client, "no-such-token", 1, 0.0)
    assert unknown.status_code == 409 and unknown.get_json()["code"] == "unknown_playback"


def test_heartbeat_fields_must_have_their_json_types_and_ranges(db, course, learner_client, approved_learner):
    """Before, "false" was stored as playing = true, "12" as a number and 1e308 as a position."""
    token = start(learner_client, course.lessons[0].id)["playback"]
    for bad in (dict(playing="false"), dict(visible=0), dict(focused=None), dict(position="12"), dict(rate="1"),
                dict(seq=True), dict(seq=1.0), dict(seq="1"), dict(position=1e308), dict(position=-1.0),
                dict(rate=100.0), dict(client_time="now"), dict(interacted="yes"), dict(playback=["x"]),
                dict(buffering="true"), dict(buffering=1), dict(buffering=None)):
        fields = {"seq": 1, "position": 0.0, **bad}
        response = heartbeat(learner_client, fields.pop("playback", token), fields.pop("seq"), fields.pop("position"),
                             **fields)
        assert response.status_code == 400 and response.get_json()["code"] == "malformed", bad
    assert db.session.query(Heartbeat).count() == 0   # nothing of them was kept


def test_a_stall_said_as_buffering_earns_nothing_and_is_not_flagged_frozen(db, course, learner_client,
                                                                              approved_learner):
    token = start(learner_client, course.lessons[0].id)["playback"]
    assert heartbeat(learner_client, token, 1, 0.0).get_json()["reason"] == "started"
    time.sleep(2.1)   # the video waits for data: no progress
    stalled = heartbeat(learner_client, token, 2, 0.0, buffering=True).get_json()
    assert (stalled["reason"], stalled["credited"]) == ("buffering", 0)
    assert stalled["message"] == "视频正在加载（缓冲中），播放恢复后继续计时。"
    time.sleep(2.1)
    again = heartbeat(learner_client, token, 3, 0.0, buffering=True).get_json()
    assert (again["reason"], again["credited"]) == ("buffering", 0)
    # A page that does not say buffering (an older one) is judged as before: playing without moving is frozen.
    heartbeat(learner_client, token, 4, 0.0)
    time.sleep(2.1)
    assert heartbeat(learner_client, token, 5, 0.0).get_json()["reason"] == "frozen"
    reasons = [b.reason for b in db.session.query(Heartbeat).order_by(Heartbeat.seq)]
    assert reasons == ["started", "buffering", "buffering", None, "frozen"]
    assert db.session.query(LessonProgress).filter_by(learner_id=approved_learner.id).one().effective_seconds == 0


def test_a_report_numbered_far_ahead_does_not_end_the_playback(db, course, learner_client):
    """Before, seq 2**31-1 was accepted, and then every later report of the page was a replay."""
    token = start(learner_client, course.lessons[0].id)["playback"]
    assert heartbeat(learner_client, token, 1, 0.0).get_json()["reason"] == "started"
    assert heartbeat(learner_client, token, 2 ** 31 - 1, 0.0).get_json()["reason"] == "sequence"
    assert heartbeat(learner_client, token, 2, 0.0).get_json()["reason"] not in ("replay", "sequence")


def test_heartbeats_need_a_learner_and_csrf(app, course, staff_client, learner_client):
    assert staff_client.post("/api/player/heartbeat", json={}).status_code == 403
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert learner_client.post("/api/player/heartbeat", json={}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_locked_lesson_and_not_enrolled(app, db, course, learner_client, other_learner):
    response = learner_client.post("/api/player/start", json={"lesson_id": course.lessons[1].id})
    assert response.status_code == 409 and response.get_json()["code"] == "locked"
    stranger = app.test_client()
    login(stranger, other_learner.id_number)
    refused = stranger.post("/api/player/start", json={"lesson_id": course.lessons[0].id})
    assert refused.status_code == 404 and refused.get_json()["code"] == "not_found"  # not theirs: not revealed
    assert stranger.get(f"/study/lessons/{course.lessons[0].id}").status_code == 404


def test_media_is_served_with_range_only_through_a_fresh_signed_url(app, course, learner_client, other_learner):
    data = start(learner_client, course.lessons[0].id)
    url = data["sources"][0]["url"]
    whole = learner_client.get(url)
    assert whole.status_code == 200 and whole.mimetype == "video/mp4"
    part = learner_client.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.data) == 100 and part.headers["Content-Range"].startswith("bytes 0-99/")
    tampered = re.sub(r"/(\d+)/", lambda m: f"/{int(m.group(1)) + 1000}/", url, count=1)
    assert learner_client.get(tampered).status_code == 403
    stranger = app.test_client()
    login(stranger, other_learner.id_number)
    assert stranger.get(url).status_code == 403  # signed for someone else
    assert app.test_client().get(url).status_code == 302  # not signed in
    later = __import__("lms.core.clock", fromlist=["utcnow"]).utcnow() + timedelta(
        seconds=app.config["LMS_MEDIA_URL_SECONDS"] + 5)
    with mock.patch("lms.player.views.learner.utcnow", return_value=later):
        assert learner_client.get(url).status_code == 403  # a copied link stops working


def test_x_accel_redirect_in_production(app, course, learner_client):
    url = start(learner_client, course.lessons[0].id)["sources"][0]["url"]
    app.config["LMS_X_ACCEL_PREFIX"] = "/protected-media/"
    try:
        response = learner_client.get(url)
        assert response.headers["X-Accel-Redirect"].startswith("/protected-media/videos/")
        assert response.data == b""
    finally:
        app.config["LMS_X_ACCEL_PREFIX"] = None


def test_staff_upload_course_through_http(app, db, staff_client, short_video):
    response = staff_client.post("/courses/new", data={
        "title": "特种作业安全技术", "category": "电工", "nominal_hours": "1.5", "version": "2.0",
        "last_reviewed_on": "2024-01-01", "description": "低压电工"})
    assert response.status_code == 302
    course_url = response.headers["Location"]
    bad = staff_client.post(course_url, data={"title": "坏", "video": (io.BytesIO(b"%PDF-1.4"), "notes.pdf")},
                            content_type="multipart/form-data")
    assert bad.status_code == 200 and "视频" in bad.get_data(as_text=True)
    with open(short_video, "rb") as handle:
        ok = staff_client.post(course_url, data={"title": "第一讲", "video": (handle, "lesson.mp4")},
                               content_type="multipart/form-data")
    assert ok.status_code == 302
    page = staff_client.get(course_url).get_data(as_text=True)
    assert "需复审" in page or "复审" in page  # reviewed in 2024: flagged
    status = staff_client.get(course_url + "/videos.json").get_json()
    assert status["videos"][0]["status"] == "pending"  # never transcoded inside the request


def test_staff_see_refusal_counters(app, db, course, learner_client, staff_client, approved_learner, other_staff):
    token = start(learner_client, course.lessons[0].id)["playback"]
    heartbeat(learner_client, token, 1, 0.0)
    heartbeat(learner_client, token, 2, 5.5)
    heartbeat(learner_client, token, 2, 0.1)
    page = staff_client.get(f"/learners/{approved_learner.id}/study").get_data(as_text=True)
    assert 'data-reason="jump"' in page and 'data-reason="replay"' in page
    other = app.test_client()
    login(other, other_staff.username)
    assert other.get(f"/learners/{approved_learner.id}/study").status_code == 404
    assert db.session.query(Heartbeat).count() == 3


def test_learner_pages(course, learner_client):
    assert "危险化学品安全基础" in learner_client.get("/study").get_data(as_text=True)
    lesson_page = learner_client.get(f"/study/lessons/{course.lessons[0].id}").get_data(as_text=True)
    for attribute in ("playsinline", "webkit-playsinline", "x5-playsinline", 'x5-video-player-type="h5"'):
        assert attribute in lesson_page
    assert 'id="integrity-notice"' in lesson_page
    locked = learner_client.get(f"/study/lessons/{course.lessons[1].id}")
    assert locked.status_code == 302


def test_logout_ends_the_learning_session(app, db, course, learner_client, approved_learner, other_learner):
    token = start(learner_client, course.lessons[0].id)["playback"]
    learner_client.post("/logout")
    from lms.player.models import Playback, StudySession
    session = db.session.query(StudySession).one()
    assert session.end_reason == "logout"
    # The token names this learner's playback of this lesson, in the session the sign-out ended ...
    playback = db.session.query(Playback).filter_by(token=token).one()
    assert (playback.learner_id, playback.lesson_id, playback.session_id) == (
        approved_learner.id, course.lessons[0].id, session.id)
    # ... so the signed-out page that sends it is told why study stopped ...
    stopped = heartbeat(learner_client, token, 1, 0.0)
    assert stopped.status_code == 401 and stopped.get_json()["code"] == "session_ended"
    assert stopped.get_json()["session_ended"] == "logout"
    # ... it earns nothing once the learner is back ...
    login(learner_client, approved_learner.id_number)
    again = heartbeat(learner_client, token, 1, 0.0).get_json()
    assert again["credited"] == 0 and again["reason"] == "session_ended"
    # ... and it is nobody else's: another signed-in learner's report with it is an unknown playback.
    stranger = app.test_client()
    login(stranger, other_learner.id_number)
    refused = heartbeat(stranger, token, 2, 0.0)
    assert refused.status_code == 409 and refused.get_json()["code"] == "unknown_playback"
    assert db.session.query(Heartbeat).filter_by(playback_id=playback.id).count() == 1  # the learner's refused one


def test_course_pages_get_other_packages_extras_from_their_view_not_app_wide_globals(app, course, learner_client,
                                                                                      staff_client):
    """The test's state (lms.quiz), the hours credited (lms.hours) and the bank's state (lms.quiz, staff)
    reach the player's templates through lms.player.cards and the view, not as template globals."""
    with app.test_request_context():
        context = {}
        app.update_template_context(context)
    assert not {"quiz_summary", "hours_credited", "quiz_bank_status"} & (set(context) | set(app.jinja_env.globals))
    study = learner_client.get("/study").get_data(as_text=True)
    assert 'class="course-test" data-passed="false"' in study
    assert 'id="course-test"' in learner_client.get(f"/study/courses/{course.id}").get_data(as_text=True)
    assert 'id="bank-size"' in staff_client.get(f"/courses/{course.id}").get_data(as_text=True)
