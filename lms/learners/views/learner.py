"""The learner's home page, and a learner's materials for those allowed to see them. Registering and
uploading materials (the 1-inch photo is the face enrolment) are lms.registration."""
from flask import Response, render_template
from flask_login import current_user

from ...audit.services import record as audit_record
from ...catalogue.services import region_name
from ...core.access import role_required, row_or_404
from ...core.clock import utcnow
from ...core.context import current_actor
from ...core.roles import LEARNER
from ...extensions import db
from ...files.models import StoredFile
from ...files.storage import read_file
from ...institutions.permissions import visible_applications
from .. import permissions
from ..models import MATERIAL_KINDS, Learner
from . import bp


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
    learner = row_or_404(Learner, learner_id,
                         lambda user, learner: kind in MATERIAL_KINDS and permissions.can_view_learner(user, learner))
    record = row_or_404(StoredFile, learner.file_id(kind))
    if current_user.role != LEARNER:
        audit_record(current_actor(), "material_view", utcnow(), target=f"learner:{learner.id}", detail=kind,
                     region_code=learner.region_code)
        db.session.commit()
    response = Response(read_file(record), mimetype=record.content_type)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
