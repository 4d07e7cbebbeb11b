"""The learner's face photo, check history and appeals."""

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...accounts.models import LEARNER
from ...core.access import role_required, row_or_404
from ...core.clock import utcnow
from ...core.context import current_actor
from ...core.refusals import flash_refusal
from ...files.messages import upload_error
from ...files.storage import UploadRejected, check_image
from .. import permissions, services
from ..forms import AppealForm, PhotoForm
from ..messages import face_error
from ..models import PENDING, FaceCheck
from . import bp


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
    check = row_or_404(FaceCheck, check_id, permissions.can_appeal)
    form = AppealForm()
    with flash_refusal(services.FaceError, _face_error_text):
        if not form.validate_on_submit():
            raise services.FaceError("statement_required")
        services.appeal(check, form.statement.data or "", utcnow(), current_actor())
        flash(_("Your appeal was sent to your training institution."), "success")
    return redirect(url_for("proctor.my_face"))


def _face_error_text(error: services.FaceError) -> str:
    return face_error(error.code)
