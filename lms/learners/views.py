"""The learner's home page, and a learner's materials for those allowed to see them. Registering and
uploading materials (the 1-inch photo is the face enrolment) are lms.registration."""
from flask import Blueprint, Response, abort, render_template
from flask_login import current_user

from ..audit.services import record as audit_record
from ..catalogue.services import region_name
from ..core.access import role_required
from ..core.clock import utcnow
from ..core.context import current_actor
from ..core.roles import LEARNER
from ..extensions import db
from ..files.models import StoredFile
from ..files.storage import read_file
from ..institutions.permissions import visible_applications
from . import permissions
from .models import MATERIAL_KINDS, Learner

bp = Blueprint("learners", __name__, template_folder="templates")


@bp.route("/me")
@role_required(LEARNER)
def home():
    learner = current_user.learner
    applications = list(db.session.scalars(visible_applications(current_user)))
    missing = learner.missing_materials(education_required=False)
    return render_template("learners/home.html", learner=learner, applications=applications, missing=missing,
                           region=region_name(learner.region_code))


@bp.route("/learners/<int:learner_id>/materials/<kind>")
@role_required(LEARNER, "staff", "regulator", "admin")
def material_file(learner_id, kind):
    """Decrypt and send one material to a viewer allowed to see that learner."""
    learner = db.session.get(Learner, learner_id) or abort(404)
    if kind not in MATERIAL_KINDS or not permissions.can_view_learner(current_user, learner):
        abort(404)
    file_id = learner.file_id(kind)
    record = db.session.get(StoredFile, file_id) if file_id else None
    if record is None:
        abort(404)
    if current_user.role != LEARNER:
        audit_record(current_actor(), "material_view", utcnow(), target=f"learner:{learner.id}", detail=kind,
                     region_code=learner.region_code)
        db.session.commit()
    response = Response(read_file(record), mimetype=record.content_type)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
