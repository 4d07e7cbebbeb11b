"""Labels that share an English word keep their own meaning in Chinese (message contexts): a failed
face check is 未通过, not 转码失败 (a failed transcoding). And the evidence page labels each try by what
the server received and checked, never 摄像头: that the page found a camera is only its own claim."""
from datetime import datetime, timedelta

import pytest

from lms.core.context import Actor
from lms.core.labels import attempt_source, label
from lms.proctor import tries
from lms.proctor import services as proctor
from lms.proctor.models import FAILED, START

from .conftest import image_bytes, signed_in

T0 = datetime(2026, 3, 2, 1, 30)  # a fixed time zero (naive UTC): the proctor's functions take `now`


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def labels_in(app, lang: str | None) -> dict[str, str]:
    with app.test_request_context(f"/?lang={lang}" if lang else "/"):
        return {"video": label("video_status", "failed"), "check": label("face_status", "failed"),
                "outcome": label("face_outcome", "fail"), "decision": label("face_review_decision", "failed"),
                "camera": attempt_source("camera", 10), "photos": attempt_source("photos", 2)}


def test_failed_has_its_own_chinese_per_context(app):
    chinese = labels_in(app, None)  # zh_CN, the default
    assert chinese["video"] == "转码失败"
    assert chinese["check"] == chinese["outcome"] == chinese["decision"] == "未通过"
    assert chinese["camera"] == "10 帧连续画面（按转头挑战判定）" and chinese["photos"] == "2 张照片（按转头挑战判定）"
    english = labels_in(app, "en")
    assert english["video"] == english["check"] == english["outcome"] == english["decision"] == "Failed"
    assert english["camera"] == "10 frames in sequence (judged by the head-turn challenge)"
    assert all("摄像头" not in text and "Camera" not in text for text in (*chinese.values(), *english.values()))


@pytest.fixture()
def failed_check(app, db, approved_learner, institution, staff, face_checks_on, monkeypatch):
    """A check of the staff's institution failed for good after two tries, one answered as photos and one
    as a frame sequence; the learner appealed and staff upheld the failure. The answers carry another
    try's nonce (failed as "stale"), so that no face needs to be judged."""
    monkeypatch.setitem(app.config, "LMS_FACE_CHECK_ATTEMPTS", 2)
    monkeypatch.setitem(app.config, "LMS_FACE_HOLD_FRAMES", (2, 2))   # 10 frames: 2 still, 8 in the burst
    monkeypatch.setitem(app.config, "LMS_FACE_BURST_FRAMES", 8)
    me = Actor(approved_learner.user, "10.0.0.9", "pytest")
    check = proctor.open_check(approved_learner.id, "test_context", 1, START, at(0), "10.0.0.9",
                               owner_institution_id=institution.id)
    db.session.commit()
    frame = image_bytes(size=(640, 480))
    for second, camera in ((1, False), (10, True)):
        challenge = tries.issue_challenge(check, camera, at(second), me)
        result = tries.submit_attempt(check, [frame] * challenge.frame_count, "not-the-nonce", at(second + 4), me)
        assert result.reason == "stale"
    assert result.status == FAILED
    review = proctor.appeal(check, "确为本人", at(30), me)
    proctor.decide_review(review, False, "画面不可用", at(40), Actor(staff, "10.0.0.1", "pytest"))
    db.session.commit()
    return check


def test_a_failed_check_shows_not_passed_and_not_transcoding_failed(app, failed_check, approved_learner, staff):
    page = signed_in(app, staff.username).get(f"/learners/{approved_learner.id}/face-checks")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "未通过" in html and "转码失败" not in html
    assert html.count("未通过") >= 4  # the check's status, both tries' outcomes, the staff decision


def test_the_evidence_labels_each_try_by_what_the_server_received(app, failed_check, approved_learner, staff):
    client = signed_in(app, staff.username)
    review = failed_check.reviews[0]
    for url in (f"/learners/{approved_learner.id}/face-checks", f"/proctor/reviews/{review.id}"):
        html = client.get(url).get_data(as_text=True)
        evidence = html[html.index('<div class="evidence">'):]
        assert "摄像头" not in evidence, url
        assert "2 张照片（按转头挑战判定）" in evidence and "10 帧连续画面（按转头挑战判定）" in evidence, url
        assert evidence.count('class="frame"') == 12, url
    client.get("/login?lang=en")
    english = client.get(f"/learners/{approved_learner.id}/face-checks").get_data(as_text=True)
    assert "10 frames in sequence (judged by the head-turn challenge)" in english and "Camera" not in english
