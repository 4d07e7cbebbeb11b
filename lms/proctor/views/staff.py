"""Staff and regulators: evidence, reviews, photo replacements."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...accounts.models import ADMIN, LEARNER, REGULATOR, STAFF
from ...audit.services import record
from ...core.access import found_or_404, role_required, row_or_404
from ...core.clock import utcnow
from ...core.context import current_actor
from ...extensions import db
from ...files.models import StoredFile
from ...files.storage import read_file
from ...learners.models import Learner
from ...learners.permissions import can_view_learner
from .. import permissions, services
from ..forms import DecisionForm
from ..messages import face_error
from ..models import FaceCheck, FaceEnrolment, FaceReview
from . import bp


# --- staff and regulators: evidence, reviews, photo replacements ----------------------------------

def _viewable_learner(learner_id: int) -> Learner:
    return row_or_404(Learner, learner_id, can_view_learner)


@bp.route("/proctor/reviews")
@role_required(STAFF, ADMIN)
def reviews():
    return render_template("proctor/reviews.html",
                           reviews=services.open_reviews(permissions.decidable_checks(current_user)),
                           pending=services.pending_replacements(permissions.decidable_enrolments(current_user)))


@bp.route("/proctor/reviews/<int:review_id>", methods=["GET", "POST"])
@role_required(STAFF, ADMIN, REGULATOR)
def review(review_id):
    item = row_or_404(FaceReview, review_id, permissions.can_see_review)
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
    enrolment = row_or_404(FaceEnrolment, enrolment_id, permissions.can_decide_enrolment)
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
    check = row_or_404(FaceCheck, check_id, permissions.can_see_check)
    learner = db.session.get(Learner, check.learner_id)
    data = found_or_404(services.frame_bytes(check, file_id))
    if current_user.role != LEARNER:
        record(current_actor(), "face_evidence_view", utcnow(), target=f"face_check:{check.id}",
               region_code=learner.region_code)
        db.session.commit()
    return _private_image(data, "image/jpeg")


@bp.route("/proctor/enrolments/<int:enrolment_id>/photo")
@role_required(STAFF, REGULATOR, ADMIN, LEARNER)
def enrolment_photo(enrolment_id):
    enrolment = row_or_404(FaceEnrolment, enrolment_id, permissions.can_see_enrolment_photo)
    learner = db.session.get(Learner, enrolment.learner_id)
    stored = row_or_404(StoredFile, enrolment.photo_file_id)
    if current_user.role != LEARNER:
        record(current_actor(), "material_view", utcnow(), target=f"learner:{learner.id}", detail="face_enrolment",
               region_code=learner.region_code)
        db.session.commit()
    return _private_image(read_file(stored), stored.content_type)


def _private_image(data: bytes, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, no-store"
    return response
