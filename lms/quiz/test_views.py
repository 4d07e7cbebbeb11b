"""Thin handlers for the course test: its page, starting an attempt, and the question/answer API."""
import json

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.access import learner_api, role_required
from ..core.clock import utcnow
from ..core.context import current_actor
from ..core.inputs import as_id
from ..core.roles import LEARNER
from ..extensions import db
from ..player import checks as study_checks
from ..player.models import Course
from . import answers, attempts, grading, permissions
from .bank import QuizError
from .blueprint import bp
from .messages import KIND_NAMES, option_texts, quiz_error
from .models import OPEN, Attempt

MAX_TAB_TOKEN = 64


def _course_for_test(course_id) -> Course:
    course = db.session.get(Course, course_id)
    if course is None or not permissions.can_take_test(current_user, course):
        abort(404)
    return course


def course_test_summary(course: Course):
    """The test's state for the signed-in learner (the study pages show it); None for anyone else."""
    if not current_user.is_authenticated or current_user.role != LEARNER or current_user.learner is None:
        return None
    return attempts.test_status(current_user.learner, course, utcnow())


@bp.app_context_processor
def _test_template_helpers():
    return {"quiz_summary": course_test_summary}


@bp.route("/courses/<int:course_id>/test")
@role_required(LEARNER)
def test_home(course_id):
    course = _course_for_test(course_id)
    status = attempts.test_status(current_user.learner, course, utcnow())
    return render_template("quiz/test_home.html", course=course, status=status, rules=attempts.rules(),
                           blocked_text=quiz_error(QuizError(status.blocked)) if status.blocked else "")


@bp.route("/courses/<int:course_id>/test/start", methods=["POST"])
@role_required(LEARNER)
def start_test(course_id):
    course = _course_for_test(course_id)
    try:
        attempt = attempts.start_attempt(current_user.learner, course, utcnow(), current_actor())
    except QuizError as error:
        flash(quiz_error(error), "error")
        return redirect(url_for("quiz.test_home", course_id=course.id))
    return redirect(url_for("quiz.sit", attempt_id=attempt.id))


def _own_attempt(attempt_id) -> Attempt:
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or not permissions.can_answer(current_user, attempt):
        abort(404)
    return attempt


@bp.route("/attempts/<int:attempt_id>/sit")
@role_required(LEARNER)
def sit(attempt_id):
    """The test screen. Opening it makes this page the one that answers (an older tab is refused)."""
    attempt = _own_attempt(attempt_id)
    attempts.settle(attempt, utcnow())
    if attempt.status != OPEN:
        return redirect(url_for("quiz.attempt_record", attempt_id=attempt.id))
    tab = attempts.claim(attempt)
    r = attempts.rules()
    return render_template("quiz/sit.html", attempt=attempt, course=attempt.course, rules=r,
                           face_checks=study_checks.enabled(),
                           settings={"tab": tab, "seconds": r.seconds_per_question,
                                     "nextUrl": url_for("quiz.api_next", attempt_id=attempt.id),
                                     "answerUrl": url_for("quiz.api_answer", attempt_id=attempt.id),
                                     "resultUrl": url_for("quiz.attempt_record", attempt_id=attempt.id),
                                     "faceChecks": study_checks.enabled()})


# --- the JSON API -----------------------------------------------------------------------------------

def _api_error(message: str, status: int, code: str):
    return jsonify(error=message, code=code), status


def _payload():
    payload = request.get_json(silent=True)
    return payload if isinstance(payload, dict) else None


def _tab(payload) -> str | None:
    tab = payload.get("tab")
    return tab if isinstance(tab, str) and 0 < len(tab) <= MAX_TAB_TOKEN else None


def _no_such_attempt():
    return _api_error(_("The test attempt does not exist."), 404, "not_found")


def _api_attempt(attempt_id):
    """The signed-in learner's own attempt, or an error answer."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or not permissions.can_answer(current_user, attempt):
        return None, _no_such_attempt()
    return attempt, None


def _shown(question) -> dict:
    """A question as the page shows it: no key, no explanation, options in this attempt's order. Takes
    an AttemptQuestion or a row with the same columns (answers.quick_answer)."""
    texts = option_texts(question.kind, json.loads(question.options or "[]"))
    return {"id": question.id, "position": question.position, "kind": question.kind,
            "kind_name": str(KIND_NAMES[question.kind]), "stem": question.stem,
            "options": [texts[index] for index in json.loads(question.option_order)], "points": question.points}


def _question_answer(question, served_at, total: int, now):
    return jsonify(state="question", server_time=now.isoformat() + "Z", total=total, question=_shown(question),
                   served_at=served_at.isoformat() + "Z",
                   seconds_left=round(attempts.time_left(served_at, now, attempts.rules()), 1))


def _step_answer(step: attempts.Step, now):
    attempt = step.attempt
    if step.state == "question":
        return _question_answer(step.question, step.question.served_at, step.total, now)
    body = {"state": step.state, "server_time": now.isoformat() + "Z", "total": step.total}
    if step.state == "face_check":
        body.update(check=step.check_id)
    else:
        body.update(score=attempt.score, passed=attempt.passed, reason=attempt.end_reason,
                    result_url=url_for("quiz.attempt_record", attempt_id=attempt.id))
    return jsonify(body)


def _refusal(error: QuizError):
    status = 409 if error.code in ("other_tab", "already_answered", "conflict", "finished") else 400
    return _api_error(quiz_error(error), status, error.code)


@bp.route("/api/attempts/<int:attempt_id>/next", methods=["POST"])
@learner_api
def api_next(attempt_id):
    attempt, refused = _api_attempt(attempt_id)
    if refused:
        return refused
    payload = _payload()
    if payload is None or _tab(payload) is None:
        return _api_error(_("The request is malformed."), 400, "malformed")
    now = utcnow()
    try:
        step = attempts.next_step(attempt, _tab(payload), now, request.remote_addr or "")
    except QuizError as error:
        return _refusal(error)
    return _step_answer(step, now)


@bp.route("/api/attempts/<int:attempt_id>/answer", methods=["POST"])
@learner_api
def api_answer(attempt_id):
    """The hot path (answers.quick_answer) takes the common case; attempts.answer everything else."""
    payload = _payload()
    question_id = as_id(payload.get("question")) if payload else None
    if payload is None or _tab(payload) is None or question_id is None or not isinstance(payload.get("choice"), list) \
            or len(payload["choice"]) > grading.MAX_OPTIONS:
        _attempt, refused = _api_attempt(attempt_id)  # someone else's attempt stays unknown, however malformed the body
        return refused or _api_error(_("The request is malformed."), 400, "malformed")
    now = utcnow()
    try:
        served = answers.quick_answer(attempt_id, current_user.id, _tab(payload), question_id, payload["choice"], now,
                                      attempts.rules(), study_checks.enabled())
    except answers.NotYours:
        return _no_such_attempt()
    if served is not None:
        return _question_answer(served.question, served.served_at, served.total, now)
    attempt, refused = _api_attempt(attempt_id)
    if refused:
        return refused
    try:
        step = attempts.answer(attempt, _tab(payload), question_id, payload["choice"], now,
                               request.remote_addr or "")
    except QuizError as error:
        return _refusal(error)
    return _step_answer(step, now)
