"""Thin handlers: the learner's face photo and check history, the check API, and staff review."""
import base64
import binascii

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from ..audit.services import record
from ..core.access import role_required
from ..core.clock import utcnow
from ..core.context import current_actor
from ..core.inputs import large_body
from ..core.roles import ADMIN, LEARNER, REGULATOR, STAFF
from ..extensions import db
from ..files.messages import upload_error
from ..files.models import StoredFile
from ..files.storage import UploadRejected, check_image, read_file
from ..learners.models import Learner
from ..learners.permissions import can_view_learner
from . import attempts, permissions, services
from .forms import AppealForm, DecisionForm, PhotoForm
from .messages import attempt_message, face_error
from .models import FAILED, MISSED, PENDING, FaceCheck, FaceEnrolment, FaceReview

bp = Blueprint("proctor", __name__, template_folder="templates", static_folder="static",
               static_url_path="/proctor/static")


# --- learners: the face photo and the checks ---------------------------------------------------

@bp.route("/me/face", methods=["GET", "POST"])
@role_required(LEARNER)
def my_face():
    learner = current_user.learner
    form = PhotoForm()
    if form.validate_on_submit():
        try:
            storage = form.photo.data
            if not storage or not storage.filename:
                raise UploadRejected("empty")
            image = check_image(storage.read(), current_app.config["LMS_MAX_UPLOAD_BYTES"])
            candidate = services.assess_photo(image.data)
        except UploadRejected as error:
            form.photo.errors.append(upload_error(error.code))
        except services.FaceError as error:
            form.photo.errors.append(face_error(error.code))
        else:
            enrolment = services.submit_photo(learner, image, candidate, utcnow(), current_actor())
            flash(_("Your face photo is enrolled. You can study now.") if enrolment.status != PENDING else
                  _("The new photo was sent to your training institution for approval."), "success")
            return redirect(url_for("proctor.my_face"))
    return render_template("proctor/my_face.html", form=form, appeal_form=AppealForm(),
                           active=services.active_enrolment(learner.id),
                           pending=services.pending_enrolment(learner.id), checks=services.checks_of(learner.id),
                           history=services.enrolment_history(learner.id))


@bp.route("/me/face/checks/<int:check_id>/appeal", methods=["POST"])
@role_required(LEARNER)
def appeal(check_id):
    check = db.session.get(FaceCheck, check_id)
    if check is None or not permissions.can_appeal(current_user, check):
        abort(404)
    form = AppealForm()
    try:
        if not form.validate_on_submit():
            raise services.FaceError("statement_required")
        services.appeal(check, form.statement.data or "", utcnow(), current_actor())
        flash(_("Your appeal was sent to your training institution."), "success")
    except services.FaceError as error:
        flash(face_error(error.code), "error")
    return redirect(url_for("proctor.my_face"))


def _answerable_check():
    """The check named in the URL when the signed-in learner may answer it, else an API error response."""
    if not current_user.is_authenticated or current_user.role != LEARNER:
        return None, _api_error(_("Please sign in as a learner."), 403, "forbidden")
    check = db.session.get(FaceCheck, request.view_args["check_id"])
    if check is None or not permissions.can_answer_check(current_user, check):
        return None, _api_error(_("This check does not exist."), 404, "not_found")
    return check, None


@bp.route("/api/proctor/checks/<int:check_id>/challenges", methods=["POST"])
def api_challenge(check_id):
    """Start a try: the server says what to do and when. The page says whether it found a camera."""
    check, error = _answerable_check()
    if error:
        return error
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("camera"), bool):
        return _api_error(face_error("frames"), 400, "malformed")
    try:
        challenge = attempts.issue_challenge(check, payload["camera"], utcnow(), current_actor())
    except services.FaceError as error:
        return _api_error(face_error(error.code), 409, error.code)
    return jsonify(nonce=challenge.nonce, mode=challenge.mode, action=challenge.action,
                   prompt_frame=challenge.prompt_frame, frame_count=challenge.frame_count,
                   hold_frames=challenge.prompt_frame, burst_frames=challenge.frame_count - challenge.prompt_frame,
                   interval_ms=challenge.interval_ms, burst_interval_ms=challenge.burst_interval_ms,
                   answer_within=(challenge.deadline - challenge.issued_at).total_seconds())


@bp.route("/api/proctor/checks/<int:check_id>/attempts", methods=["POST"])
@large_body("LMS_MAX_FACE_ATTEMPT_BYTES", overhead=0)  # ten frames as base64: above LMS_MAX_JSON_BYTES
def api_attempt(check_id):
    """The frames the page captured for the current challenge; the server decides."""
    check, error = _answerable_check()
    if error:
        return error
    payload = request.get_json(silent=True)
    frames = _frames_from(payload)
    if frames is None or not isinstance(payload.get("nonce"), str) or not 0 < len(payload["nonce"]) <= 64:
        return _api_error(face_error("frames"), 400, "frames")
    try:
        result = attempts.submit_attempt(check, frames, payload["nonce"], utcnow(), current_actor())
    except services.FaceError as error:
        conflict = error.code in ("check_closed", "busy", "no_challenge")
        return _api_error(face_error(error.code), 409 if conflict else 400, error.code)
    signed_out = result.status in (FAILED, MISSED)
    if signed_out:
        logout_user()
    return jsonify(status=result.status, reason=result.reason, attempts_left=result.attempts_left,
                   message=attempt_message(result), signed_out=signed_out)


def _frames_from(payload) -> list[bytes] | None:
    """The frames as bytes, from data URLs or plain base64; None when malformed."""
    if not isinstance(payload, dict) or not isinstance(payload.get("frames"), list) or \
            len(payload["frames"]) > attempts.max_frames():
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


def _api_error(message: str, status: int, code: str):
    return jsonify(error=message, code=code), status


# --- staff and regulators: evidence, reviews, photo replacements ----------------------------------

def _viewable_learner(learner_id: int) -> Learner:
    learner = db.session.get(Learner, learner_id)
    if learner is None or not can_view_learner(current_user, learner):
        abort(404)
    return learner


@bp.route("/proctor/reviews")
@role_required(STAFF, ADMIN)
def reviews():
    return render_template("proctor/reviews.html",
                           reviews=services.open_reviews(permissions.decidable_checks(current_user)),
                           pending=services.pending_replacements(permissions.decidable_enrolments(current_user)))


@bp.route("/proctor/reviews/<int:review_id>", methods=["GET", "POST"])
@role_required(STAFF, ADMIN, REGULATOR)
def review(review_id):
    item = db.session.get(FaceReview, review_id)
    if item is None or not permissions.can_see_review(current_user, item):
        abort(404)
    learner = db.session.get(Learner, item.check.learner_id)
    form = DecisionForm()
    if request.method == "POST" and not permissions.can_decide_review(current_user, item):
        abort(403)
    if _take_decision(form, lambda passed, note: services.decide_review(item, passed, note, utcnow(),
                                                                         current_actor())):
        return redirect(url_for("proctor.reviews"))
    return render_template("proctor/review.html", review=item, check=item.check, learner=learner, form=form)


@bp.route("/proctor/enrolments/<int:enrolment_id>", methods=["GET", "POST"])
@role_required(STAFF, ADMIN)
def enrolment_request(enrolment_id):
    enrolment = db.session.get(FaceEnrolment, enrolment_id)
    if enrolment is None or not permissions.can_decide_enrolment(current_user, enrolment):
        abort(404)
    learner = db.session.get(Learner, enrolment.learner_id)
    form = DecisionForm()
    if _take_decision(form, lambda passed, note: services.decide_replacement(enrolment, passed, note, utcnow(),
                                                                              current_actor())):
        return redirect(url_for("proctor.reviews"))
    return render_template("proctor/enrolment_request.html", enrolment=enrolment, learner=learner, form=form,
                           active=services.active_enrolment(learner.id))


def _take_decision(form: DecisionForm, decide) -> bool:
    """Pass a submitted decision to ``decide(passed, note)``; a refusal lands on the form's note field."""
    if not form.validate_on_submit():
        return False
    try:
        decide(form.decision.data == "pass", form.note.data or "")
    except services.FaceError as error:
        form.note.errors.append(face_error(error.code))
        return False
    flash(_("The decision was recorded."), "success")
    return True


@bp.route("/learners/<int:learner_id>/face-checks")
@role_required(STAFF, REGULATOR, ADMIN)
def learner_checks(learner_id):
    learner = _viewable_learner(learner_id)
    return render_template("proctor/learner_checks.html", learner=learner,
                           checks=services.checks_of(learner.id, scope=permissions.visible_checks(current_user)),
                           history=services.enrolment_history(learner.id),
                           active=services.active_enrolment(learner.id))


@bp.route("/proctor/checks/<int:check_id>/frames/<int:file_id>.jpg")
@role_required(STAFF, REGULATOR, ADMIN, LEARNER)
def frame(check_id, file_id):
    """One captured frame, decrypted for someone allowed to see the learner; viewing is logged."""
    check = db.session.get(FaceCheck, check_id)
    if check is None or not permissions.can_see_check(current_user, check):
        abort(404)
    learner = db.session.get(Learner, check.learner_id)
    data = services.frame_bytes(check, file_id)
    if data is None:
        abort(404)
    if current_user.role != LEARNER:
        record(current_actor(), "face_evidence_view", utcnow(), target=f"face_check:{check.id}",
               region_code=learner.region_code)
        db.session.commit()
    return _private_image(data, "image/jpeg")


@bp.route("/proctor/enrolments/<int:enrolment_id>/photo")
@role_required(STAFF, REGULATOR, ADMIN, LEARNER)
def enrolment_photo(enrolment_id):
    enrolment = db.session.get(FaceEnrolment, enrolment_id)
    if enrolment is None or not permissions.can_see_enrolment_photo(current_user, enrolment):
        abort(404)
    learner = db.session.get(Learner, enrolment.learner_id)
    stored = db.session.get(StoredFile, enrolment.photo_file_id) or abort(404)
    if current_user.role != LEARNER:
        record(current_actor(), "material_view", utcnow(), target=f"learner:{learner.id}", detail="face_enrolment",
               region_code=learner.region_code)
        db.session.commit()
    return _private_image(read_file(stored), stored.content_type)


def _private_image(data: bytes, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, no-store"
    return response
