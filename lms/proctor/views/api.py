"""The face-check JSON API the learner's page calls: challenges and attempts."""
import base64
import binascii

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from ...core.roles import LEARNER
from ...core.access import row_or_404
from ...core.clock import utcnow
from ...core.context import current_actor
from ...core.errors import ApiError
from ...core.inputs import large_body
from .. import permissions, services, tries
from ..messages import attempt_message, face_error
from ..models import FAILED, MISSED, FaceCheck
from . import bp


def _answerable_check(check_id: int) -> FaceCheck:
    """The check when the signed-in learner may answer it; else an API error."""
    if not current_user.is_authenticated or current_user.role != LEARNER:
        raise ApiError(403, "forbidden", _("Please sign in as a learner."))
    return row_or_404(FaceCheck, check_id, permissions.can_answer_check, message=_("This check does not exist."))


@bp.route("/api/proctor/checks/<int:check_id>/challenges", methods=["POST"])
def api_challenge(check_id):
    """Start a try: the server says what to do and when. The page says whether it found a camera."""
    check = _answerable_check(check_id)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("camera"), bool):
        raise ApiError(400, "malformed", face_error("frames"))
    try:
        challenge = tries.issue_challenge(check, payload["camera"], utcnow(), current_actor())
    except services.FaceError as error:
        raise ApiError(409, error.code, face_error(error.code)) from error
    return jsonify(nonce=challenge.nonce, mode=challenge.mode, action=challenge.action,
                   prompt_frame=challenge.prompt_frame, frame_count=challenge.frame_count,
                   hold_frames=challenge.prompt_frame, burst_frames=challenge.frame_count - challenge.prompt_frame,
                   interval_ms=challenge.interval_ms, burst_interval_ms=challenge.burst_interval_ms,
                   answer_within=(challenge.deadline - challenge.issued_at).total_seconds())


@bp.route("/api/proctor/checks/<int:check_id>/attempts", methods=["POST"])
@large_body("LMS_MAX_FACE_ATTEMPT_BYTES", overhead=0)  # ten frames as base64: above LMS_MAX_JSON_BYTES
def api_attempt(check_id):
    """The frames the page captured for the current challenge; the server decides."""
    check = _answerable_check(check_id)
    payload = request.get_json(silent=True)
    frames = _frames_from(payload)
    if frames is None or not isinstance(payload.get("nonce"), str) or not 0 < len(payload["nonce"]) <= 64:
        raise ApiError(400, "frames", face_error("frames"))
    try:
        result = tries.submit_attempt(check, frames, payload["nonce"], utcnow(), current_actor(), clock=utcnow)
    except services.FaceError as error:
        conflict = error.code in ("check_closed", "busy", "no_challenge")
        raise ApiError(409 if conflict else 400, error.code, face_error(error.code)) from error
    signed_out = result.status in (FAILED, MISSED)
    if signed_out:
        logout_user()
    return jsonify(status=result.status, reason=result.reason, attempts_left=result.attempts_left,
                   message=attempt_message(result), signed_out=signed_out)


def _frames_from(payload) -> list[bytes] | None:
    """The frames as bytes, from data URLs or plain base64; None when malformed."""
    if not isinstance(payload, dict) or not isinstance(payload.get("frames"), list) or \
            len(payload["frames"]) > tries.max_frames():
        return None
    frames = []
    for item in payload["frames"]:
        if not isinstance(item, str) or len(item) > services.MAX_FRAME_BYTES * 4 // 3 + 100:
            return None
        try:
            frames.append(base64.b64decode(item.split(",", 1)[-1], validate=True))
        except (binascii.Error, ValueError):
            return None
    return frames
