"""The player's JSON API: start, heartbeat, still-here, idle timeout, ping."""
from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from ...accounts.sessions import current_principal
from ...core.roles import LEARNER
from ...core.access import learner_api, row_or_404
from ...core.clock import utcnow
from ...core.context import current_actor
from ...core.errors import ApiError
from ...core.inputs import as_id
from .. import accounting, checks, heartbeats, permissions, services, sessions, signing
from ..messages import reason_text, study_error
from ..models import Lesson
from ..progress import progress_for
from . import bp


# --- learners: the player API ------------------------------------------------------------------

@bp.route("/api/player/start", methods=["POST"])
@learner_api
def api_start():
    learner = current_user.learner
    payload = request.get_json(silent=True) or {}
    lesson_id = as_id(payload.get("lesson_id"))  # an int that fits the column, not a bool
    lesson = row_or_404(Lesson, lesson_id, lambda user, lesson: permissions.can_study(user, lesson.course),
                        message=_("The lesson does not exist."))
    try:
        playback = services.start_playback(learner, lesson, utcnow(), current_actor())
    except services.StudyError as error:
        raise ApiError(409, error.code, study_error(error)) from error
    progress = progress_for(learner.id, lesson.id)
    renditions = lesson.video.renditions
    study_time = checks.lesson_time(learner.id, lesson.id, progress.effective_seconds if progress else 0.0)
    check = checks.open_check_of(playback.session_id)
    return jsonify(
        playback=playback.token, duration=lesson.video.duration, check=check.id if check else None,
        effective=round(study_time.effective, 1), confirmed=round(study_time.confirmed, 1),
        provisional=round(study_time.provisional, 1),
        resume=progress.resume_position if progress else 0.0, furthest=progress.furthest if progress else 0.0,
        sources=[{"name": r.name, "height": r.height, "url": signing.signed_url(r.id, current_user.id)}
                 for r in renditions])


MAX_SEQ = 2 ** 31 - 1        # the column is a 32-bit integer on PostgreSQL
MAX_POSITION = 24 * 3600.0   # seconds: longer than any lesson video
MAX_RATE = 16.0              # browsers refuse faster playback
MAX_PLAYBACK_TOKEN = 64


def _number(value, high: float) -> float:
    """A JSON number (not a boolean, not a string of digits) from 0 to ``high``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= high:
        raise ValueError(value)
    return float(value)


def _flag(value) -> bool:
    """A JSON boolean: the string "false" is not false."""
    if not isinstance(value, bool):
        raise ValueError(value)
    return value


def _beat_from(payload) -> accounting.Beat | None:
    """The claimed heartbeat, or None when a field is missing, of the wrong JSON type or out of range."""
    try:
        seq, client_time = payload["seq"], payload.get("client_time")
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 < seq <= MAX_SEQ:
            return None
        return accounting.Beat(
            seq=seq, position=_number(payload["position"], MAX_POSITION), playing=_flag(payload["playing"]),
            visible=_flag(payload["visible"]), focused=_flag(payload["focused"]),
            rate=_number(payload["rate"], MAX_RATE),
            client_time=None if client_time is None else _number(client_time, 1e11),
            buffering=_flag(payload.get("buffering", False)))
    except (KeyError, ValueError):
        return None


def _playback_token(payload) -> str | None:
    token = payload.get("playback") if isinstance(payload, dict) else None
    return token if isinstance(token, str) and 0 < len(token) <= MAX_PLAYBACK_TOKEN else None


@bp.route("/api/player/heartbeat", methods=["POST"])
def api_heartbeat():
    payload = request.get_json(silent=True)
    principal = current_principal()   # the session's user without loading the account: every few seconds per learner
    if principal is None:
        return _stopped_answer(_playback_token(payload))
    if principal.role != LEARNER:
        raise ApiError(403, "forbidden", _("Please sign in as a learner."))
    beat = _beat_from(payload) if isinstance(payload, dict) else None
    token = _playback_token(payload)
    interacted = payload.get("interacted", False) if isinstance(payload, dict) else None
    if beat is None or token is None or not isinstance(interacted, bool):
        raise ApiError(400, "malformed", _("The heartbeat is malformed."))
    config = current_app.config
    try:
        result = heartbeats.record_heartbeat(
            principal.user_id, token, beat, interacted, utcnow(), request.remote_addr or "",
            accounting.rules_from_config(config), config["LMS_IDLE_SECONDS"] + config["LMS_IDLE_GRACE_SECONDS"])
    except heartbeats.UnknownPlayback as error:
        raise ApiError(409, error.code, study_error(error)) from error
    signed_out = result.session_ended in ("face_missed", "face_failed")
    if signed_out:  # an identity check went unanswered: signed out, as after failing one
        logout_user()
    verdict = result.verdict
    return jsonify(credited=verdict.credited, reason=verdict.reason,
                   message=reason_text(result.session_ended) or reason_text(verdict.reason),
                   session_ended=result.session_ended, check=result.check_id, signed_out=signed_out,
                   effective=round(result.effective, 1),
                   confirmed=None if result.confirmed is None else round(result.confirmed, 1),
                   provisional=None if result.provisional is None else round(result.provisional, 1),
                   covered=round(result.covered, 1), furthest=round(result.furthest, 1), complete=result.complete,
                   accepted_position=verdict.anchor_position if verdict.accepted_seq else None)


def _stopped_answer(token: str | None):
    """A heartbeat from a page whose learner is no longer signed in (a missed check settled by the
    worker, a sign-out elsewhere): the holder of the playback's token is told why study stopped and
    the figures that stand, so that the page never just says "sign in"."""
    stopped = heartbeats.stopped_playback(token) if token else None
    if stopped is None:
        raise ApiError(403, "forbidden", _("Please sign in as a learner."))
    message = reason_text(stopped.reason)
    raise ApiError(401, "session_ended", message, session_ended=stopped.reason, message=message,
                   signed_out=True, effective=round(stopped.effective, 1),
                   confirmed=round(stopped.confirmed, 1), provisional=round(stopped.provisional, 1),
                   covered=round(stopped.covered, 1),
                   complete=stopped.complete)


@bp.route("/api/player/still-here", methods=["POST"])
@learner_api
def api_still_here():
    learner = current_user.learner
    if not sessions.still_here(learner, utcnow()):
        raise ApiError(409, "session_ended", reason_text("idle"))
    return jsonify(ok=True)


@bp.route("/api/player/idle-timeout", methods=["POST"])
@learner_api
def api_idle_timeout():
    """The page's idle prompt went unanswered: end the learning session now."""
    learner = current_user.learner
    sessions.end_learner_sessions(learner, "idle", utcnow())
    return jsonify(ended=True, message=reason_text("idle"))


@bp.route("/api/ping")
def api_ping():
    """A no-op JSON endpoint: the stack's ceiling for the heartbeat benchmark."""
    return jsonify(ok=True)
