"""Every JSON error has one body, {"error": message, "code": code} (README, "JSON errors"): an HTTP
error of a caller that wants JSON (lms/errors.py) and a view's ApiError alike; the page scripts read
``error`` to show and ``code`` to decide."""
from lms.core.errors import ApiError


def test_an_http_error_and_an_api_refusal_have_the_same_shape(client):
    missing = client.get("/api/no-such-endpoint")
    assert missing.status_code == 404
    assert set(missing.get_json()) == {"error", "code"} and missing.get_json()["code"] == "not_found"

    refused = client.post("/api/player/start", json={})  # not signed in: the learner API refuses
    assert refused.status_code == 403
    assert set(refused.get_json()) == {"error", "code"} and refused.get_json()["code"] == "forbidden"

    wants_json = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert wants_json.status_code == 404 and set(wants_json.get_json()) == {"error", "code"}


def test_an_api_error_carries_its_status_code_message_and_extra_fields(app):
    error = ApiError(409, "session_ended", "Stopped.", message="Stopped.", signed_out=True)
    with app.test_request_context("/api/player/heartbeat", method="POST"):
        answer = app.make_response(app.handle_user_exception(error))
    assert answer.status_code == 409
    assert answer.get_json() == {"error": "Stopped.", "code": "session_ended", "message": "Stopped.",
                                 "signed_out": True}
