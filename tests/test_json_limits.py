"""JSON bodies are capped app-wide (lms/core/inputs.py): nesting at MAX_JSON_DEPTH levels, size at
LMS_MAX_JSON_BYTES under /api/, with its own larger LMS_MAX_FACE_ATTEMPT_BYTES for a face-check answer
(ten camera frames as base64). Every refusal is a JSON body with a code, never a 500."""
import base64
import io
import json
import os

import pytest
from flask import request
from PIL import Image
from sqlalchemy import select
from werkzeug.exceptions import BadRequest

from lms.core.clock import utcnow
from lms.core.inputs import MAX_JSON_DEPTH, json_depth
from lms.proctor import services as proctor
from lms.proctor.models import START, FaceCheck, FaceCheckAttempt

from .conftest import signed_in

DEEP = ("[" * 5000, '{"a":' * 5000, "[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000)
HEARTBEAT = {"playback": "no-such-playback", "seq": 1, "position": 0.0, "playing": True, "visible": True,
             "focused": True, "rate": 1.0}


def nested(levels: int, inner: str = "{}") -> str:
    """An object ``levels`` objects deep: nested(1) is {}."""
    return '{"a":' * (levels - 1) + inner + "}" * (levels - 1)


def is_json_error(response, status: int, code: str) -> bool:
    body = response.get_json(silent=True)
    return response.status_code == status and response.is_json and isinstance(body, dict) and \
        body.get("code") == code and bool(body.get("error"))


@pytest.fixture()
def check(db, learner, face_checks_on) -> FaceCheck:
    """A check due now at the server's clock, for the learner to answer over HTTP."""
    opened = proctor.open_check(learner.id, "test_context", 1, START, utcnow(), "10.0.0.9", owner_institution_id=None)
    db.session.commit()
    return opened


@pytest.fixture()
def api_urls(check):
    return ("/api/player/heartbeat", "/api/player/start", f"/api/proctor/checks/{check.id}/challenges",
            f"/api/proctor/checks/{check.id}/attempts")


def tries_used(db, check_id) -> int:
    db.session.expire_all()
    return db.session.get(FaceCheck, check_id).attempts


# --- nesting -------------------------------------------------------------------------------------------

def test_the_decoder_refuses_more_than_the_cap_without_recursing(app):
    assert MAX_JSON_DEPTH == 20
    with app.app_context():
        assert json_depth(app.json.loads(nested(20))) == 20
        assert app.json.loads('{"wide": [' + ",".join(["[1]"] * 5000) + "]}")["wide"][0] == [1]  # wide is fine
        for body in (nested(21), "[" * 21 + "]" * 21, '{"a": [{"b": ' + nested(19) + "}]}", *DEEP):
            with pytest.raises(ValueError):
                app.json.loads(body)
    assert json_depth(5) == 0 and json_depth({}) == 1 and json_depth([[], {"a": [1]}]) == 3
    deep = []
    for _ in range(100_000):  # far deeper than Python's recursion limit
        deep = [deep]
    assert json_depth(deep) == 100_001


def test_get_json_gives_none_when_silent_and_a_400_otherwise(app):
    for body in (*DEEP, nested(21)):
        with app.test_request_context("/api/player/heartbeat", method="POST", data=body,
                                      content_type="application/json"):
            assert request.get_json(silent=True) is None
            with pytest.raises(BadRequest):
                request.get_json()
    with app.test_request_context("/api/player/heartbeat", method="POST", data=nested(20),
                                  content_type="application/json"):
        assert json_depth(request.get_json()) == 20


def test_deeply_nested_bodies_are_a_json_400_not_a_500(app, learner, api_urls):
    client = signed_in(app, learner.id_number)
    for url in api_urls:
        for body in (*DEEP, nested(21)):
            response = client.post(url, data=body, content_type="application/json")
            assert is_json_error(response, 400, "bad_request"), (url, body[:12], response.status_code)
            assert "JSON" in response.get_json()["error"]  # 请求内容必须是 JSON 对象。


def test_21_levels_are_refused_and_20_accepted(app, db, learner, check):
    client = signed_in(app, learner.id_number)
    url = f"/api/proctor/checks/{check.id}/challenges"
    refused = client.post(url, data='{"camera": true, "extra": ' + nested(20) + "}", content_type="application/json")
    assert is_json_error(refused, 400, "bad_request") and tries_used(db, check.id) == 0
    accepted = client.post(url, data='{"camera": true, "extra": ' + nested(19) + "}", content_type="application/json")
    assert accepted.status_code == 200 and accepted.get_json()["mode"] == "camera"
    assert tries_used(db, check.id) == 1


def test_normal_bodies_still_reach_the_views(app, learner, check):
    client = signed_in(app, learner.id_number)
    heartbeat = client.post("/api/player/heartbeat", json=HEARTBEAT)  # no such playback: the view answers
    assert heartbeat.is_json and heartbeat.status_code not in (400, 413) and heartbeat.get_json().get("code") != "bad_request"
    start = client.post("/api/player/start", json={"lesson_id": 999})
    assert is_json_error(start, 404, "not_found")
    challenge = client.post(f"/api/proctor/checks/{check.id}/challenges", json={"camera": True})
    assert challenge.status_code == 200 and challenge.get_json()["nonce"]


# --- size ----------------------------------------------------------------------------------------------

def padded(body: dict, size: int) -> bytes:
    """``body`` with a "pad" field that makes its JSON exactly ``size`` bytes."""
    empty = json.dumps({**body, "pad": ""}).encode()
    return json.dumps({**body, "pad": "x" * (size - len(empty))}).encode()


def test_an_oversize_api_body_is_a_json_413(app, db, learner, check):
    limit = app.config["LMS_MAX_JSON_BYTES"]
    assert limit == 64 * 1024
    client = signed_in(app, learner.id_number)
    url = f"/api/proctor/checks/{check.id}/challenges"
    over = client.post(url, data=padded({"camera": True}, limit + 1), content_type="application/json")
    assert is_json_error(over, 413, "too_large") and over.get_json()["error"] == "请求内容过大，无法接收。"
    assert tries_used(db, check.id) == 0  # refused before the view
    at_limit = client.post(url, data=padded({"camera": True}, limit), content_type="application/json")
    assert at_limit.status_code == 200 and tries_used(db, check.id) == 1
    for url in ("/api/player/heartbeat", "/api/player/start"):
        response = client.post(url, data=padded(HEARTBEAT, limit + 1), content_type="application/json")
        assert is_json_error(response, 413, "too_large"), url
    anonymous = app.test_client().post("/api/player/start", data=padded({}, 10 * limit), content_type="application/json")
    assert is_json_error(anonymous, 413, "too_large")
    english = signed_in(app, learner.id_number)
    english.get("/login?lang=en")
    assert english.post("/api/player/start", data=padded({}, limit + 1),
                        content_type="application/json").get_json()["error"] == "The request is too large to be accepted."


def test_pages_outside_the_api_keep_the_general_limit(app, db):
    response = app.test_client().post("/login", data={"identifier": "x" * (200 * 1024), "password": "x"})
    assert response.status_code == 200  # the sign-in form again, not a 413


def noise_frame(size=(640, 480)) -> str:
    """The largest camera frame a browser sends: pure sensor noise, 640x480 JPEG at quality 0.85, as a data URL."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_a_face_answer_of_realistic_size_is_accepted(app, db, learner, check, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_FACE_FRAME_INTERVAL_MS", 1)  # the answer may come at once
    monkeypatch.setitem(app.config, "LMS_FACE_BURST_INTERVAL_MS", 1)
    monkeypatch.setitem(app.config, "LMS_FACE_HOLD_FRAMES", (4, 4))   # the most frames an answer has
    client = signed_in(app, learner.id_number)
    challenge = client.post(f"/api/proctor/checks/{check.id}/challenges", json={"camera": True}).get_json()
    frames = [noise_frame() for _ in range(challenge["frame_count"])]
    body = json.dumps({"nonce": challenge["nonce"], "frames": frames}).encode()
    assert 2 * 1024 ** 2 < len(body) < app.config["LMS_MAX_FACE_ATTEMPT_BYTES"]  # far above LMS_MAX_JSON_BYTES
    response = client.post(f"/api/proctor/checks/{check.id}/attempts", data=body, content_type="application/json")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "retry" and response.get_json()["reason"] == "no_face"  # judged
    attempt = db.session.scalar(select(FaceCheckAttempt).where(FaceCheckAttempt.check_id == check.id))
    assert len(attempt.frame_ids) == challenge["frame_count"]


def test_a_face_answer_above_its_own_limit_is_a_json_413(app, db, learner, check):
    limit = app.config["LMS_MAX_FACE_ATTEMPT_BYTES"]
    client = signed_in(app, learner.id_number)
    challenge = client.post(f"/api/proctor/checks/{check.id}/challenges", json={"camera": True}).get_json()
    body = padded({"nonce": challenge["nonce"], "frames": []}, limit + 1)
    response = client.post(f"/api/proctor/checks/{check.id}/attempts", data=body, content_type="application/json")
    assert is_json_error(response, 413, "too_large")
    assert db.session.scalar(select(FaceCheckAttempt)) is None
    for body in DEEP:  # its larger limit does not lift the nesting cap
        response = client.post(f"/api/proctor/checks/{check.id}/attempts", data=body, content_type="application/json")
        assert is_json_error(response, 400, "bad_request")
