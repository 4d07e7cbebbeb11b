"""The phone photos fallback (lms/proctor/fallback.py): the page's word that it has no camera is limited
(per learner per rolling day; never after the same session had a camera challenge), refused in Chinese
with what to do, and every check that photos would pass goes to the staff of the check's institution.
Time is passed in, except over HTTP, where the server reads its own clock."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from lms.audit.models import AuditLog
from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.proctor import decisions, tries
from lms.proctor import services as proctor
from lms.proctor.models import PASSED, REVIEW, START, FaceCheck
from lms.proctor.services import FaceError

from .conftest import login, signed_in
from .face_frames import following

T0 = datetime(2026, 3, 2, 1, 30)  # a fixed time zero (naive UTC) for the rule and the service
DAY = timedelta(days=1)


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


@pytest.fixture()
def rule():
    """The rule's module, imported by the tests that need it (so that the HTTP tests below run, and fail
    for their own reason, on code without it)."""
    from lms.proctor import fallback
    return fallback


def facts(rule, *uses, camera=False):
    return rule.Facts(list(uses), camera)


# --- the rule -------------------------------------------------------------------------------------------

def test_the_limit_is_reached_after_per_day_photo_challenges(rule):
    now = at(0)
    three = [now - timedelta(hours=h) for h in (1, 5, 20)]
    assert rule.refusal(facts(rule, *three), now, 4) is None
    assert rule.refusal(facts(rule, *three, now - timedelta(minutes=1)), now, 4) == rule.PHOTO_LIMIT
    assert rule.refusal(facts(rule), now, 0) == rule.PHOTOS_OFF   # 0 turns photos off


def test_the_window_rolls(rule):
    now = at(0)
    uses = [now - DAY, now - timedelta(hours=23), now - timedelta(hours=2), now - timedelta(minutes=5)]
    assert rule.refusal(facts(rule, *uses), now, 4) is None   # the oldest is exactly a day old: out
    assert rule.refusal(facts(rule, *uses), now - timedelta(seconds=1), 4) == rule.PHOTO_LIMIT
    assert rule.refusal(facts(rule, *uses), now + timedelta(hours=1), 3) is None  # 23 h ago has left too


def test_a_session_that_had_a_camera_gets_no_photos(rule):
    assert rule.refusal(facts(rule, camera=True), at(0), 4) == rule.CAMERA_SEEN


def test_photos_that_pass_or_are_doubtful_go_to_review(rule):
    passed = decisions.AttemptVerdict(decisions.PASS, None, 0.3, "ok", 0.2)
    doubtful = decisions.AttemptVerdict(decisions.DOUBTFUL, "doubtful", 0.57, "ok", 0.2)
    failed = decisions.failed("replayed")
    for verdict in (passed, doubtful):
        sent = rule.for_check(verdict, decisions.PHOTOS)
        assert (sent.outcome, sent.reason, sent.distance) == (decisions.DOUBTFUL, "photo_fallback", verdict.distance)
        assert rule.review_kind(sent) == "photo_fallback"
    assert rule.for_check(passed, decisions.CAMERA) == passed
    assert rule.for_check(failed, decisions.PHOTOS) == failed
    assert rule.review_kind(doubtful) == "doubtful"


# --- issuing challenges -----------------------------------------------------------------------------------

def _check(db, learner, context_id, seconds, institution_id=None) -> FaceCheck:
    check = proctor.open_check(learner.id, "test_context", context_id, START, at(seconds), "10.0.0.9",
                               owner_institution_id=institution_id)
    db.session.commit()
    return check


def test_no_photos_after_a_camera_challenge_in_the_same_session(db, learner, institution, face_checks_on):
    me = Actor(learner.user, "10.0.0.9", "pytest")
    first = _check(db, learner, 1, 0, institution.id)
    tries.issue_challenge(first, True, at(1), me)           # the page had a camera
    later = _check(db, learner, 1, 400, institution.id)        # the same session's next check
    with pytest.raises(FaceError) as refused:
        tries.issue_challenge(later, False, at(401), me)
    assert refused.value.code == "camera_seen"
    db.session.expire_all()
    assert db.session.get(FaceCheck, later.id).attempts == 0   # a refusal costs no try
    logged = db.session.scalar(select(AuditLog).where(AuditLog.action == "face_check_fallback"))
    assert (logged.result, logged.detail, logged.institution_id) == ("failure", "refused: camera_seen",
                                                                     institution.id)
    other_session = _check(db, learner, 2, 402, institution.id)
    assert tries.issue_challenge(other_session, False, at(403), me).mode == "photos"


def test_photo_challenges_are_limited_per_learner_over_a_rolling_day(app, db, learner, monkeypatch,
                                                                       face_checks_on):
    monkeypatch.setitem(app.config, "LMS_FACE_PHOTO_FALLBACK_PER_DAY", 2)
    me = Actor(learner.user, "10.0.0.9", "pytest")
    morning = _check(db, learner, 1, 0)
    tries.issue_challenge(morning, False, at(1), me)
    tries.issue_challenge(morning, False, at(60), me)
    afternoon = _check(db, learner, 2, 3600)                   # another session, another course: counted too
    with pytest.raises(FaceError) as refused:
        tries.issue_challenge(afternoon, False, at(3601), me)
    assert refused.value.code == "photo_limit"
    assert tries.issue_challenge(afternoon, True, at(3602), me).mode == "camera"   # the camera still works
    next_day = _check(db, learner, 3, 86_401)                  # the first use is now more than a day old
    assert tries.issue_challenge(next_day, False, at(86_402), me).mode == "photos"


# --- over HTTP: the refusal is a JSON error in Chinese that says what to do --------------------------------

def _due_now(db, learner, context_id=1, institution_id=None) -> FaceCheck:
    check = proctor.open_check(learner.id, "test_context", context_id, START, utcnow(), "10.0.0.9",
                               owner_institution_id=institution_id)
    db.session.commit()
    return check


def test_the_refusal_says_in_chinese_that_a_camera_is_needed(app, db, learner, monkeypatch, face_checks_on):
    monkeypatch.setitem(app.config, "LMS_FACE_PHOTO_FALLBACK_PER_DAY", 1)
    client = app.test_client()
    login(client, learner.id_number)
    check = _due_now(db, learner)
    url = f"/api/proctor/checks/{check.id}/challenges"
    assert client.post(url, json={"camera": False}).get_json()["mode"] == "photos"
    refused = client.post(url, json={"camera": False})
    body = refused.get_json()
    assert refused.status_code == 409 and body["code"] == "photo_limit", body
    assert "摄像头" in body["error"] and "微信" in body["error"] and "培训机构" in body["error"], body
    other = _due_now(db, learner, context_id=2)
    client.post(f"/api/proctor/checks/{other.id}/challenges", json={"camera": True})
    seen = client.post(f"/api/proctor/checks/{other.id}/challenges", json={"camera": False}).get_json()
    assert seen["code"] == "camera_seen" and "允许使用摄像头" in seen["error"], seen


# --- a check passed by photos waits for the staff of its institution -----------------------------------------

@pytest.mark.usefixtures("faces_dir")
def test_photos_that_pass_go_to_the_institutions_staff(app, db, approved_learner, institution, staff, other_staff,
                                                       face_checks_on):
    client = app.test_client()
    login(client, approved_learner.id_number)
    check = _due_now(db, approved_learner, institution_id=institution.id)
    base = f"/api/proctor/checks/{check.id}"
    issued = client.post(base + "/challenges", json={"camera": False}).get_json()
    challenge = tries.current_challenge(check.id)
    sent = client.post(base + "/attempts", json={"nonce": issued["nonce"], "frames": _data_urls(
        following(challenge, pair=1))}).get_json()
    assert (sent["status"], sent["reason"]) == ("review", "photo_fallback"), sent
    assert "工作人员审核" in sent["message"] and "待审核确认后计入" in sent["message"], sent
    db.session.expire_all()
    check = db.session.get(FaceCheck, check.id)
    (review,) = check.reviews
    assert (check.status, check.reason, review.kind) == (REVIEW, "photo_fallback", "photo_fallback")
    assert check.attempt_rows[0].outcome == decisions.PASS   # the try keeps its own verdict as evidence
    assert "照片代替摄像头，待人工审核" in client.get("/me/face").get_data(as_text=True)

    queue = signed_in(app, staff.username).get("/proctor/reviews").get_data(as_text=True)
    assert "photo-fallback" in queue and "照片代替摄像头" in queue
    assert f"/proctor/reviews/{review.id}" in queue
    elsewhere = signed_in(app, other_staff.username)
    assert "photo-fallback" not in elsewhere.get("/proctor/reviews").get_data(as_text=True)
    assert elsewhere.get(f"/proctor/reviews/{review.id}").status_code == 404

    proctor.decide_review(review, True, "", utcnow(), Actor(staff, "10.0.0.1", "pytest"))
    db.session.expire_all()
    assert db.session.get(FaceCheck, check.id).status == PASSED


def _data_urls(frames):
    import base64
    return ["data:image/jpeg;base64," + base64.b64encode(f).decode() for f in frames]
