"""Face checks as a service and over HTTP: enrolment, the start and random checks of a learning
session, provisional time confirmed or voided, retries and sign-out, reviews, appeals, scope and
evidence. Real photos, real dlib, real database; time is passed in explicitly."""
import io
import sys
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from lms.app import create_app
from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.files.models import StoredFile
from lms.files.storage import _path_for
from lms.player import heartbeats, services, sessions
from lms.player.accounting import Beat, Rules
from lms.player.models import Heartbeat, LessonProgress, StudySession
from lms.proctor import faces, tries
from lms.proctor import services as proctor
from lms.proctor.models import (
    ACTIVE,
    FAILED,
    IN_VIDEO,
    MISSED,
    OPEN,
    PASSED,
    RANDOM,
    REVIEW,
    START,
    FaceCheck,
    FaceCheckAttempt,
    FaceEnrolment,
    FaceReview,
)

from .conftest import face_bytes, login
from .face_frames import clip_frame, following, forget_prints, frame, posed
from .test_registration import assert_nothing_written
from .test_registration import post as post_registration

RULES = Rules(heartbeat_interval=2, max_gap=10, daily_cap_seconds=3600)
pytestmark = pytest.mark.usefixtures("quick_capture")   # lesson, me, quick_capture: tests/conftest.py
T0 = None  # each test's time zero: set by the fixture t0


@pytest.fixture(autouse=True)
def t0(monkeypatch):
    """Time zero, taken when the test starts. Tests mix times passed in (``at``) with requests that read the
    server clock (utcnow): both stay seconds apart, however long ago the module was imported."""
    now = utcnow()
    monkeypatch.setattr(sys.modules[__name__], "T0", now)
    return now


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def beat(seq, position, playing=True):
    return Beat(seq=seq, position=position, playing=playing, visible=True, focused=True, rate=1.0, client_time=None)


def send(learner, token, seq, position, seconds):
    return heartbeats.record_heartbeat(learner.user_id, token, beat(seq, position), True, at(seconds), "10.0.0.9",
                                       RULES, 600.0)


def begin(learner, lesson, actor, seconds=0):
    """Start studying; the in-video check point is moved out of the way unless a test wants it."""
    playback = services.start_playback(learner, lesson, at(seconds), actor)
    playback.check_at_position = None
    from lms.extensions import db
    db.session.commit()
    return playback


def open_check(db, learner) -> FaceCheck:
    return db.session.scalar(select(FaceCheck).where(FaceCheck.learner_id == learner.id, FaceCheck.status == OPEN))


def credited(db, learner, **filters) -> float:
    db.session.expire_all()
    return sum(b.credited for b in db.session.scalars(select(Heartbeat).filter_by(learner_id=learner.id, **filters)))


def effective(db, learner, lesson) -> float:
    db.session.expire_all()
    row = db.session.scalar(select(LessonProgress).filter_by(learner_id=learner.id, lesson_id=lesson.id))
    return row.effective_seconds if row else 0.0


def answer(check, frames_for, now, actor, camera=True):
    """One try: a challenge issued at ``now`` and answered with ``frames_for(challenge)`` 4 s later (the
    page needs 3.15 s to take 10 frames; a sooner answer fails as early)."""
    challenge = tries.issue_challenge(check, camera, now, actor)
    return tries.submit_attempt(check, frames_for(challenge), challenge.nonce, now + timedelta(seconds=4), actor)


def pass_check(db, learner, actor, seconds, pair=0):
    """The learner follows the prompt. The server refuses pictures it has seen from the learner before,
    so a later pass (``pair`` above 0) is played as a new capture (tests/face_frames.py forget_prints)."""
    if pair:
        forget_prints(learner.id)
    result = answer(open_check(db, learner), lambda challenge: following(challenge, pair), at(seconds), actor)
    assert result.status == PASSED, result
    return result


OTHERS = {"biden": (("biden_2.jpg", False), ("biden_2.jpg", True)),  # biden_1's face is at the size limit
          "alex": (("alex_1.png", False), ("alex_2.jpg", False))}


def another_person(challenge, who="biden"):
    """A live head that is not the enrolled learner's (obama). Each person's pictures are new to the
    server once per learner; sent again they are a replay."""
    before, after = OTHERS[who]
    return [posed(*(before if index <= challenge.prompt_frame else after), index)
            for index in range(challenge.frame_count)]


def still_image(challenge):
    """One picture of the learner fed as the camera, as many times as the challenge asks for frames (a frame of
    the clip that its answers do not use)."""
    return [clip_frame(28)] * challenge.frame_count


def watch(learner, token, seq, start_position, start_seconds, steps=2, step=2.0):
    """Play on for a few heartbeats at 1x; returns the next free sequence number."""
    for i in range(steps + 1):
        send(learner, token, seq + i, start_position + i * step, start_seconds + i * step)
    return seq + steps + 1


# --- enrolment ----------------------------------------------------------------------------------

def test_registration_enrols_the_photo_with_an_encrypted_encoding(db, learner):
    enrolment = proctor.active_enrolment(learner.id)
    assert enrolment.status == ACTIVE and enrolment.photo_file_id == learner.photo_file_id
    assert len(faces.encoding_from_text(enrolment.encoding)) == 128 and enrolment.sharpness >= 25
    raw = db.session.execute(text("SELECT encoding FROM face_enrolments")).scalar()
    assert "," not in raw and enrolment.encoding.split(",")[0] not in raw  # ciphertext, not the numbers


def test_registration_with_two_faces_is_refused_with_a_message_and_writes_nothing(client, db):
    response = post_registration(client, photo=(io.BytesIO(face_bytes("two_people.jpg")), "photo.jpg"))
    assert response.status_code == 200 and "检测到不止一张人脸" in response.get_data(as_text=True)
    assert_nothing_written(db)


def test_without_a_usable_enrolment_a_learner_cannot_study(app, db, lesson, approved_learner, me):
    db.session.execute(text("UPDATE face_enrolments SET status = 'superseded'"))
    db.session.commit()
    with pytest.raises(services.StudyError) as refused:
        services.start_playback(approved_learner, lesson, at(0), me)
    assert refused.value.code == "face_not_enrolled"
    client = app.test_client()
    login(client, approved_learner.id_number)
    page = client.get(f"/study/lessons/{lesson.id}")
    assert page.status_code == 302 and page.headers["Location"].endswith("/me/face")
    assert client.post("/api/player/start", json={"lesson_id": lesson.id}).get_json()["code"] == "face_not_enrolled"


def test_replacing_the_photo_needs_staff_approval(app, db, approved_learner, staff, face_checks_on):
    old = proctor.active_enrolment(approved_learner.id)
    client = app.test_client()
    login(client, approved_learner.id_number)
    response = client.post("/me/face", data={"photo": (io.BytesIO(face_bytes("obama_2.jpg")), "new.jpg")},
                           content_type="multipart/form-data", follow_redirects=True)
    pending = proctor.pending_enrolment(approved_learner.id)
    assert pending is not None and pending.status == "pending" and pending.id != old.id
    assert proctor.active_enrolment(approved_learner.id).id == old.id  # the old photo stays in use meanwhile
    html = response.get_data(as_text=True)
    assert '<div class="flash flash-success" role="status">新照片已提交，等待培训机构审核后生效。</div>' in html
    waiting = html.split('id="enrolment-pending"')[1].split("</figure>")[0]
    assert f"/proctor/enrolments/{pending.id}/photo" in waiting and "等待审核" in waiting
    refused = client.post("/me/face", data={"photo": (io.BytesIO(face_bytes("no_face.jpg")), "x.jpg")},
                          content_type="multipart/form-data")
    assert "未找到人脸" in refused.get_data(as_text=True)
    with pytest.raises(proctor.FaceError):
        proctor.decide_replacement(pending, False, "", utcnow(), Actor(staff))  # a rejection needs a reason
    staff_client = app.test_client()
    login(staff_client, staff.username)
    queue = staff_client.get("/proctor/reviews").get_data(as_text=True).split('id="photo-requests"')[1]
    assert f'href="/proctor/enrolments/{pending.id}"' in queue and approved_learner.name in queue
    assert "暂无待审核的照片" not in queue
    staff_client.post(f"/proctor/enrolments/{pending.id}", data={"decision": "pass", "note": ""})
    db.session.expire_all()
    assert proctor.active_enrolment(approved_learner.id).id == pending.id
    assert db.session.get(FaceEnrolment, old.id).status == "superseded"
    assert db.session.get(type(approved_learner), approved_learner.id).photo_file_id == pending.photo_file_id


# --- the start check and time that waits for it ----------------------------------------------------

def test_a_session_starts_with_a_check_and_no_time_counts_until_it_passes(db, lesson, approved_learner, me):
    playback = begin(approved_learner, lesson, me)
    check = open_check(db, approved_learner)
    assert check.purpose == START and check.context_kind == "study_session" and check.context_id == playback.session_id
    assert check.details == {"lesson_id": lesson.id, "position": 0.0, "where": "0:00",
                             "title": f"{lesson.course.title} · {lesson.title}"}
    send(approved_learner, playback.token, 1, 0.0, 0)
    blocked = send(approved_learner, playback.token, 2, 2.0, 2)
    assert blocked.verdict.reason == "check_due" and blocked.verdict.credited == 0 and blocked.check_id == check.id
    pass_check(db, approved_learner, me, 3)
    session = db.session.get(StudySession, playback.session_id)
    db.session.refresh(session)
    assert session.open_check_id is None
    # The next random check is at most 15 minutes (less the longest report gap) away.
    assert timedelta(seconds=1) <= session.next_check_at - at(3) <= timedelta(seconds=900)
    send(approved_learner, playback.token, 3, 2.0, 4)
    assert send(approved_learner, playback.token, 4, 4.0, 6).verdict.credited == pytest.approx(2.0)
    attempt = db.session.scalar(select(FaceCheckAttempt))
    assert attempt.ip == "10.0.0.9" and attempt.liveness == "ok" and attempt.mode == "camera"
    assert len(attempt.frame_ids) == attempt.challenge.frame_count >= 20 and attempt.challenge.answered_at == at(3 + 4)
    assert attempt.distance == max(attempt.distance_list) < 0.55



def test_the_next_random_check_counts_from_the_verdict_and_slow_judging_costs_no_try(app, db, lesson,
                                                                                   approved_learner, me):
    """Judging an answer can take seconds on a busy server. The answer is judged by when it arrived (in
    time, however long the judging took), and the learner's interval of study before the next check
    starts when the verdict is reached, not when the frames arrived."""
    app.config.update(LMS_FACE_CHECK_MIN_SECONDS=60, LMS_FACE_CHECK_MAX_SECONDS=70)
    playback = begin(approved_learner, lesson, me)
    check = open_check(db, approved_learner)
    challenge = tries.issue_challenge(check, True, at(0), me)
    arrived, decided = at(4), challenge.deadline + timedelta(seconds=30)   # judged long after its deadline
    result = tries.submit_attempt(check, following(challenge), challenge.nonce, arrived, me, clock=lambda: decided)
    assert result.status == PASSED, result
    session = db.session.get(StudySession, playback.session_id)
    db.session.refresh(session)
    gap = app.config["LMS_HEARTBEAT_MAX_GAP"]
    assert decided + timedelta(seconds=min(60, 70 - gap)) <= session.next_check_at <= decided + timedelta(seconds=70)
    assert db.session.get(FaceCheck, check.id).decided_at == decided


def test_provisional_time_is_confirmed_by_the_next_passed_check(db, lesson, approved_learner, me):
    playback = begin(approved_learner, lesson, me)
    pass_check(db, approved_learner, me, 1)
    watch(approved_learner, playback.token, 1, 0.0, 2)
    summary = services.course_summary(approved_learner, lesson.course)[0]
    assert summary.provisional == pytest.approx(4.0) == summary.effective  # nothing confirmed yet
    session = db.session.get(StudySession, playback.session_id)
    session.next_check_at = at(6)  # the random moment has come
    db.session.commit()
    paused = heartbeats.record_heartbeat(approved_learner.user_id, playback.token, beat(4, 4.0, playing=False), True,
                                         at(6.5), "10.0.0.9", RULES, 600.0)
    assert paused.check_id is None  # not while the video is paused: the check waits for it to play
    triggered = send(approved_learner, playback.token, 5, 4.0, 7)   # playing again
    check = open_check(db, approved_learner)
    assert triggered.check_id == check.id and check.purpose == RANDOM
    assert triggered.verdict.reason != "check_due"  # the report that found it due is judged as usual
    assert send(approved_learner, playback.token, 6, 5.0, 8).verdict.reason == "check_due"
    pass_check(db, approved_learner, me, 10, pair=1)
    summary = services.course_summary(approved_learner, lesson.course)[0]
    assert summary.provisional == 0 and summary.effective == pytest.approx(4.0)
    assert {b.check_id for b in db.session.scalars(select(Heartbeat).where(Heartbeat.credited > 0))} == {check.id}


def test_a_check_falls_inside_the_video_at_the_chosen_point(db, lesson, approved_learner, me):
    playback = services.start_playback(approved_learner, lesson, at(0), me)
    assert 0 <= playback.check_at_position <= lesson.video.duration
    playback.check_at_position = 3.0
    db.session.commit()
    pass_check(db, approved_learner, me, 1)
    send(approved_learner, playback.token, 1, 0.0, 2)
    send(approved_learner, playback.token, 2, 2.0, 4)
    assert open_check(db, approved_learner) is None
    result = send(approved_learner, playback.token, 3, 4.0, 6)
    check = open_check(db, approved_learner)
    assert result.check_id == check.id and check.purpose == IN_VIDEO and check.details["position"] == 4.0
    pass_check(db, approved_learner, me, 7, pair=1)
    db.session.refresh(playback)
    assert playback.check_at_position is None  # this video had its check


# --- failure: retries, sign-out, voided time ----------------------------------------------------------

def test_another_person_fails_retries_and_the_provisional_time_is_voided(db, lesson, approved_learner, me):
    playback = begin(approved_learner, lesson, me)
    pass_check(db, approved_learner, me, 1, pair=1)  # pair 0 would make still() a replay, not a still image
    watch(approved_learner, playback.token, 1, 0.0, 2)
    confirmed_before = effective(db, approved_learner, lesson)
    session = db.session.get(StudySession, playback.session_id)
    session.next_check_at = at(7)
    db.session.commit()
    send(approved_learner, playback.token, 4, 6.0, 8)
    check = open_check(db, approved_learner)
    first = answer(check, another_person, at(20), me)
    assert (first.status, first.reason, first.attempts_left) == ("retry", "mismatch", 2)
    assert answer(check, still_image, at(30), me).reason == "identical"
    last = answer(check, lambda challenge: another_person(challenge, "alex"), at(40), me)
    assert (last.status, last.reason, last.attempts_left) == (FAILED, "mismatch", 0)
    db.session.expire_all()
    session = db.session.get(StudySession, playback.session_id)
    assert session.ended_at is not None and session.end_reason == "face_failed"
    assert effective(db, approved_learner, lesson) == 0 < confirmed_before  # all of it was provisional
    assert credited(db, approved_learner, voided=True) == pytest.approx(confirmed_before + 2.0)
    assert [a.outcome for a in db.session.get(FaceCheck, check.id).attempt_rows] == ["fail", "fail", "fail"]
    with pytest.raises(proctor.FaceError) as closed:
        answer(check, lambda challenge: following(challenge, 0), at(41), me)  # a finished check stays finished
    assert closed.value.code == "check_closed"


def test_time_confirmed_before_a_failed_check_is_kept(db, lesson, approved_learner, me):
    playback = begin(approved_learner, lesson, me)
    pass_check(db, approved_learner, me, 1)
    watch(approved_learner, playback.token, 1, 0.0, 2)          # 4 s, provisional
    session = db.session.get(StudySession, playback.session_id)
    session.next_check_at = at(6)
    db.session.commit()
    send(approved_learner, playback.token, 4, 5.0, 7)            # opens a check; +1 s
    pass_check(db, approved_learner, me, 8, pair=1)           # confirms 5 s
    send(approved_learner, playback.token, 5, 5.0, 9)
    session.next_check_at = at(9)
    db.session.commit()
    send(approved_learner, playback.token, 6, 6.0, 10)           # +1 s provisional, opens another
    check = open_check(db, approved_learner)
    for seconds in (11, 12, 13):
        answer(check, another_person, at(seconds), me)  # a mismatch, then replays of it: three failures
    assert db.session.get(FaceCheck, check.id).status == FAILED
    assert effective(db, approved_learner, lesson) == pytest.approx(5.0)
    assert credited(db, approved_learner, voided=True) == pytest.approx(1.0)


def start_with_an_overdue_check(app, db, learner, lesson):
    """The learner starts the lesson over HTTP and lets the start check run out: (client, token, check)."""
    client = app.test_client()
    login(client, learner.id_number)
    token = client.post("/api/player/start", json={"lesson_id": lesson.id}).get_json()["playback"]
    check = open_check(db, learner)
    check.due_at = utcnow() - timedelta(seconds=app.config["LMS_FACE_CHECK_WINDOW_SECONDS"] + 1)
    db.session.commit()
    return client, token, check


def test_an_unanswered_check_is_missed_and_signs_the_learner_out(app, db, lesson, approved_learner):
    client, token, check = start_with_an_overdue_check(app, db, approved_learner, lesson)
    answer = client.post("/api/player/heartbeat", json=dict(playback=token, seq=1, position=0.0, playing=True,
                                                             visible=True, focused=True, rate=1.0)).get_json()
    assert answer["session_ended"] == "face_missed" and answer["signed_out"] is True and "未在规定时间" in answer["message"]
    db.session.expire_all()
    assert db.session.get(FaceCheck, check.id).status == MISSED
    assert client.get("/study").status_code == 302  # signed out


def test_ending_the_session_with_a_check_open_voids_the_provisional_time(db, lesson, approved_learner, me):
    playback = begin(approved_learner, lesson, me)
    pass_check(db, approved_learner, me, 1)
    watch(approved_learner, playback.token, 1, 0.0, 2)
    session = db.session.get(StudySession, playback.session_id)
    session.next_check_at = at(6)
    db.session.commit()
    send(approved_learner, playback.token, 4, 6.0, 8)
    sessions.end_learner_sessions(approved_learner, "logout", at(9))
    assert open_check(db, approved_learner) is None
    assert effective(db, approved_learner, lesson) == 0


def test_the_worker_marks_forgotten_checks_missed(app, db, lesson, approved_learner, me):
    begin(approved_learner, lesson, me)
    window = app.config["LMS_FACE_CHECK_WINDOW_SECONDS"]
    assert proctor.sweep_overdue(at(window - 1)) == 0
    assert proctor.sweep_overdue(at(window + 1)) == 1
    db.session.expire_all()
    assert db.session.scalar(select(StudySession)).end_reason == "face_missed"


# --- over HTTP: the attempt API -----------------------------------------------------------------------

def data_urls(frames):
    import base64
    return ["data:image/jpeg;base64," + base64.b64encode(f).decode() for f in frames]


def start_try(client, check_id, camera=True):
    """Ask for a challenge, as the page does once it knows whether it has a camera."""
    response = client.post(f"/api/proctor/checks/{check_id}/challenges", json={"camera": camera})
    assert response.status_code == 200, response.get_json()
    return SimpleNamespace(**response.get_json())


def answer_over_http(client, check_id, frames_for, camera=True):
    """One try over HTTP: a challenge, then the frames ``frames_for(challenge)`` with its nonce."""
    challenge = start_try(client, check_id, camera)
    return client.post(f"/api/proctor/checks/{check_id}/attempts",
                       json={"nonce": challenge.nonce, "frames": data_urls(frames_for(challenge))}).get_json()


def tries_used(db, check_id) -> int:
    db.session.expire_all()
    return db.session.get(FaceCheck, check_id).attempts


def test_attempt_api_passes_fails_and_signs_out(app, db, lesson, approved_learner, other_learner):
    client = app.test_client()
    login(client, approved_learner.id_number)
    started = client.post("/api/player/start", json={"lesson_id": lesson.id}).get_json()
    check_id = started["check"]
    url, challenges = f"/api/proctor/checks/{check_id}/attempts", f"/api/proctor/checks/{check_id}/challenges"
    for body in ({}, {"camera": "yes"}, {"camera": 1}, {"camera": None}):
        refused = client.post(challenges, json=body)
        assert refused.status_code == 400 and refused.get_json()["code"] == "malformed", body
    early = client.post(url, json={"nonce": "x" * 32, "frames": data_urls([frame("obama_2.jpg")] * 10)})
    assert early.status_code == 409 and early.get_json()["code"] == "no_challenge"  # no try started yet
    assert tries_used(db, check_id) == 0  # malformed input costs no try
    challenge = start_try(client, check_id)
    assert challenge.mode == "camera" and challenge.action in ("left", "right")
    assert 2 <= challenge.prompt_frame == challenge.hold_frames <= 4 and challenge.interval_ms > 0
    assert challenge.frame_count == challenge.hold_frames + challenge.burst_frames == challenge.hold_frames + 18
    assert challenge.answer_within == pytest.approx(
        (challenge.interval_ms * challenge.hold_frames + challenge.burst_interval_ms * challenge.burst_frames) / 1000
        + app.config["LMS_FACE_ANSWER_SLACK_SECONDS"])
    assert tries_used(db, check_id) == 1  # the challenge uses the try
    frames = data_urls(following(challenge))
    assert client.post(url, json={"nonce": challenge.nonce, "frames": ["not base64!"]}).status_code == 400
    for body in ({"frames": frames}, {"nonce": "", "frames": frames}, {"nonce": challenge.nonce},
                 {"nonce": challenge.nonce, "frames": frames + frames[:1] * 5}):  # no nonce, no frames, too many
        refused = client.post(url, json=body)
        assert refused.status_code == 400 and refused.get_json()["code"] == "frames"
    bad = client.post(url, json={"nonce": challenge.nonce, "frames": data_urls([b"%PDF-1.4 not an image"] * 10)})
    assert bad.status_code == 400 and bad.get_json()["code"] == "frame_invalid"
    assert tries_used(db, check_id) == 1 and db.session.scalar(select(FaceCheckAttempt)) is None  # still waiting
    # Another learner cannot touch this check: neither start a try nor answer the open one, even with its nonce.
    stranger = app.test_client()
    login(stranger, other_learner.id_number)
    for path, body in ((challenges, {"camera": True}), (url, {"nonce": challenge.nonce, "frames": frames})):
        refused = stranger.post(path, json=body)
        assert refused.status_code == 404 and refused.get_json()["code"] == "not_found", path
    assert tries_used(db, check_id) == 1 and db.session.scalar(select(FaceCheckAttempt)) is None  # untouched
    ok = client.post(url, json={"nonce": challenge.nonce, "frames": frames}).get_json()
    assert ok["status"] == "passed" and "身份核验通过" in ok["message"]
    again = client.post(url, json={"nonce": challenge.nonce, "frames": frames})
    assert again.status_code == 409 and again.get_json()["code"] == "check_closed"
    assert client.post(challenges, json={"camera": True}).get_json()["code"] == "check_closed"
    db.session.expire_all()
    assert db.session.get(FaceCheck, check_id).status == PASSED and tries_used(db, check_id) == 1


def test_phone_fallback_two_photos(app, db, lesson, approved_learner):
    client = app.test_client()
    login(client, approved_learner.id_number)
    check_id = client.post("/api/player/start", json={"lesson_id": lesson.id}).get_json()["check"]
    url = f"/api/proctor/checks/{check_id}/attempts"
    photos = start_try(client, check_id, camera=False)  # the page found no camera
    assert (photos.mode, photos.frame_count, photos.prompt_frame) == ("photos", 2, 0)
    assert photos.answer_within == app.config["LMS_FACE_PHOTO_SECONDS"]
    same = client.post(url, json={"nonce": photos.nonce, "frames": data_urls([clip_frame(1)] * 2)}).get_json()
    assert same["status"] == "retry" and same["reason"] == "identical" and "画面" in same["message"]
    # A photo facing the camera, then one turned to the asked side (pair 1: obama_2 is on record now).
    turned = answer_over_http(client, check_id, lambda challenge: following(challenge, pair=1), camera=False)
    # Photos the server would pass go to the staff of the course's institution (lms/proctor/fallback.py).
    assert (turned["status"], turned["reason"]) == (REVIEW, "photo_fallback"), turned
    assert "工作人员审核" in turned["message"]
    assert [r.kind for r in db.session.scalars(select(FaceReview))] == ["photo_fallback"]
    from lms.audit.models import AuditLog
    assert len(db.session.scalars(select(AuditLog).where(AuditLog.action == "face_check_fallback")).all()) == 2
    assert {a.mode for a in db.session.scalars(select(FaceCheckAttempt))} == {"photos"}


def test_three_failures_over_http_sign_out(app, db, lesson, approved_learner):
    client = app.test_client()
    login(client, approved_learner.id_number)
    check_id = client.post("/api/player/start", json={"lesson_id": lesson.id}).get_json()["check"]
    answers = [answer_over_http(client, check_id, another_person),  # each failure is its own challenge
               answer_over_http(client, check_id, lambda challenge: another_person(challenge, "alex"))]
    signed_in_cookie = client.get_cookie("lms_session").value  # what a late heartbeat answer could re-send
    answers.append(answer_over_http(client, check_id, another_person))  # also a replay of the first by now
    assert [a["status"] for a in answers] == ["retry", "retry", "failed"]
    assert [a["reason"] for a in answers] == ["mismatch", "mismatch", "replayed"]
    assert answers[-1]["signed_out"] is True and "已退出登录" in answers[-1]["message"]
    assert client.get("/study").status_code == 302
    client.set_cookie("lms_session", signed_in_cookie)
    assert client.get("/study").status_code == 302  # signed out everywhere, not only in this cookie


# --- review, appeal, evidence and scope ---------------------------------------------------------------

def test_doubtful_result_goes_to_review_and_staff_decide(app, db, lesson, approved_learner, me, staff,
                                                          other_staff, regulator, monkeypatch):
    playback = begin(approved_learner, lesson, me)
    pass_check(db, approved_learner, me, 1)
    watch(approved_learner, playback.token, 1, 0.0, 2)                  # 4 s, provisional
    session = db.session.get(StudySession, playback.session_id)
    session.next_check_at = at(6)
    db.session.commit()
    send(approved_learner, playback.token, 4, 4.0, 6)                   # opens a check
    monkeypatch.setitem(app.config, "LMS_FACE_MATCH_DISTANCE", 0.52)  # the clip's frames are 0.48-0.50 from its frame 26
    forget_prints(approved_learner.id)
    result = answer(open_check(db, approved_learner), lambda challenge: following(challenge, pair=1), at(7), me)
    assert result.status == REVIEW, result
    send(approved_learner, playback.token, 5, 4.0, 8)
    send(approved_learner, playback.token, 6, 6.0, 10)                  # study goes on while staff look
    assert effective(db, approved_learner, lesson) == pytest.approx(6.0)
    summary = services.course_summary(approved_learner, lesson.course)[0]
    assert summary.provisional == pytest.approx(6.0)                   # 4 s held by the review, 2 s after it
    review = db.session.scalar(select(FaceReview))
    assert review.kind == "doubtful" and review.decision is None
    staff_client, other_client, regulator_client = app.test_client(), app.test_client(), app.test_client()
    login(staff_client, staff.username)
    login(other_client, other_staff.username)
    login(regulator_client, regulator.username)
    queue = staff_client.get("/proctor/reviews").get_data(as_text=True)
    assert f"/proctor/reviews/{review.id}" in queue
    assert f"/proctor/reviews/{review.id}" not in other_client.get("/proctor/reviews").get_data(as_text=True)
    assert other_client.get(f"/proctor/reviews/{review.id}").status_code == 404
    page = staff_client.get(f"/proctor/reviews/{review.id}").get_data(as_text=True)
    frame_url = page.split('class="frame"')[1].split('src="')[1].split('"')[0]
    assert staff_client.get(frame_url).data[:2] == b"\xff\xd8"      # decrypted for staff
    assert other_client.get(frame_url).status_code == 404
    assert regulator_client.get(f"/proctor/reviews/{review.id}").status_code == 200  # read-only
    assert regulator_client.post(f"/proctor/reviews/{review.id}", data={"decision": "pass"}).status_code == 403
    refused = staff_client.post(f"/proctor/reviews/{review.id}", data={"decision": "fail", "note": ""})
    assert "请填写原因" in refused.get_data(as_text=True)
    staff_client.post(f"/proctor/reviews/{review.id}", data={"decision": "fail", "note": "不是本人"})
    db.session.expire_all()
    assert db.session.scalar(select(FaceCheck).where(FaceCheck.status == FAILED)) is not None
    assert effective(db, approved_learner, lesson) == pytest.approx(2.0)  # the 4 s it held are voided; the next
    # check decides the 2 s after it
    # Frames are encrypted at rest.
    for attempt in db.session.scalars(select(FaceCheckAttempt)):
        for file_id in attempt.frame_ids:
            assert _path_for(db.session.get(StoredFile, file_id).storage_name).read_bytes()[:2] != b"\xff\xd8"


def test_an_upheld_appeal_gives_the_time_back(app, db, lesson, approved_learner, me, staff):
    playback = begin(approved_learner, lesson, me)
    pass_check(db, approved_learner, me, 1, pair=1)  # keeps obama_2 unseen: the still image is not a replay
    watch(approved_learner, playback.token, 1, 0.0, 2)
    session = db.session.get(StudySession, playback.session_id)
    session.next_check_at = at(6)
    db.session.commit()
    send(approved_learner, playback.token, 4, 6.0, 8)
    check = open_check(db, approved_learner)
    reasons = [answer(check, still_image, at(seconds), me).reason for seconds in (9, 10, 11)]
    assert reasons == ["identical", "replayed", "replayed"]  # a frozen camera, then the same picture again
    assert effective(db, approved_learner, lesson) == 0
    client = app.test_client()
    login(client, approved_learner.id_number)
    assert "请说明" in client.post(f"/me/face/checks/{check.id}/appeal", data={"statement": ""},
                                   follow_redirects=True).get_data(as_text=True)
    client.post(f"/me/face/checks/{check.id}/appeal", data={"statement": "网络摄像头卡顿，确为本人学习"})
    review = db.session.scalar(select(FaceReview).where(FaceReview.kind == "appeal"))
    assert review.statement == "网络摄像头卡顿，确为本人学习"
    proctor.decide_review(review, True, "", utcnow(), Actor(staff))
    db.session.expire_all()
    assert db.session.get(FaceCheck, check.id).status == PASSED and db.session.get(FaceCheck, check.id).decided_by_id
    assert effective(db, approved_learner, lesson) == pytest.approx(6.0)
    with pytest.raises(proctor.FaceError):
        proctor.decide_review(review, False, "x", utcnow(), Actor(staff))  # decided once


def test_staff_and_regulators_see_the_evidence_beside_the_enrolment_photo(app, db, lesson, approved_learner, me,
                                                                         staff, regulator, other_staff):
    begin(approved_learner, lesson, me)
    pass_check(db, approved_learner, me, 1)
    for user, status in ((staff, 200), (regulator, 200), (other_staff, 404)):
        client = app.test_client()
        login(client, user.username)
        page = client.get(f"/learners/{approved_learner.id}/face-checks")
        assert page.status_code == status
        if status == 200:
            html = page.get_data(as_text=True)
            assert "/proctor/enrolments/" in html and html.count('class="frame"') >= 20 and "10.0.0.9" in html
    from lms.audit.models import AuditLog
    actions = {row.action for row in db.session.scalars(select(AuditLog))}
    assert {"face_enrol", "face_check", "study_session_start"} <= actions


def test_frames_are_deleted_after_the_retention_period(db, lesson, approved_learner, me):
    begin(approved_learner, lesson, me)
    pass_check(db, approved_learner, me, 1)
    attempt = db.session.scalar(select(FaceCheckAttempt))
    paths = [_path_for(db.session.get(StoredFile, i).storage_name) for i in attempt.frame_ids]
    assert proctor.purge_old_frames(at(1) + timedelta(days=30), retention_days=60) == 0
    assert proctor.purge_old_frames(at(1) + timedelta(days=61), retention_days=60) == 1
    assert not any(path.exists() for path in paths)
    db.session.refresh(attempt)
    assert attempt.frames_purged_at is not None and attempt.distance is not None  # the scores stay


def test_an_interval_above_fifteen_minutes_is_refused(app):
    with pytest.raises(ValueError):
        create_app("testing", dict(app.config, LMS_FACE_CHECK_MAX_SECONDS=901))
