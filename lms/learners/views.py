"""Registration, the learner's home page and materials."""
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.roles import LEARNER
from ..accounts.policy import password_errors
from ..audit.services import record as audit_record
from ..catalogue.services import region_choices, region_name
from ..core.access import role_required
from ..core.clock import china_date, utcnow
from ..core.context import current_actor
from ..core.iddocs import InvalidDocument, age_on, parse_document
from ..extensions import db, limiter
from ..files.messages import upload_error
from ..files.models import StoredFile
from ..files.storage import UploadRejected, check_image, read_file
from ..institutions.permissions import visible_applications
from ..proctor import services as proctor
from ..proctor.messages import face_error
from ..proctor.models import PENDING
from . import permissions, services
from .forms import MaterialForm, RegistrationForm
from .models import EDUCATION, MATERIAL_KINDS, PHOTO, Learner

bp = Blueprint("learners", __name__, template_folder="templates", static_folder="static",
               static_url_path="/learners/static")

ID_ERRORS = {
    "format": lambda: _("The number has the wrong format for this document type."),
    "region": lambda: _("The first digit of an ID number must be 1 to 8."),
    "birth_date": lambda: _("The birth date inside the ID number is not a valid date."),
    "checksum": lambda: _("The last character does not match: please check the ID number digit by digit."),
    "type": lambda: _("Please choose a document type."),
}


def _registration_received() -> str:
    """Said for a new number and for one already registered alike: an anonymous visitor must not
    learn which numbers have accounts. The holder of an earlier account learns what to do."""
    return _("Registration received. Please sign in with your ID number and the password you chose. If this ID "
             "number was registered before, that account is unchanged: sign in with its password, or ask your "
             "training institution to reset it.")


def _register_rate_limit():
    return current_app.config["LMS_REGISTER_RATE_LIMIT"]


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_rate_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.index"))
    form = RegistrationForm(region_choices((3,)))
    if form.validate_on_submit():
        profile, images, enrolment = _read_registration(form)
        if profile is not None:
            try:
                services.register_learner(profile, form.password.data, images, utcnow(), current_actor(),
                                          enrolment=enrolment)
            except services.DuplicateRegistration:
                pass   # answered exactly as a new registration
            flash(_registration_received(), "success")
            return redirect(url_for("accounts.login"))
    return render_template("learners/register.html", form=form)


def _read_registration(form):
    """Turn the form into a Profile and checked images, or add field errors and return None."""
    today = china_date(utcnow())
    document = None
    try:
        document = parse_document(form.id_type.data, form.id_number.data, today)
    except InvalidDocument as error:
        form.id_number.errors.append(ID_ERRORS[error.code]())
    if document is not None:
        born = document.birth_date or form.birth_date.data
        if born is None:
            form.birth_date.errors.append(_("Please enter your date of birth."))
        elif not 16 <= age_on(born, today) <= 100:
            form.birth_date.errors.append(_("Learners must be at least 16 years old."))
        if document.gender is None and not form.gender.data:
            form.gender.errors.append(_("Please choose your gender."))
    for problem in password_errors(form.password.data, (form.id_number.data or "",)):
        form.password.errors.append(problem)
    images = {}
    for kind in MATERIAL_KINDS:
        storage = getattr(form, kind).data
        if not storage or not storage.filename:
            if kind != EDUCATION:
                getattr(form, kind).errors.append(_("Please upload this image."))
            continue
        try:
            images[kind] = check_image(storage.read(), current_app.config["LMS_MAX_UPLOAD_BYTES"])
        except UploadRejected as error:
            getattr(form, kind).errors.append(upload_error(error.code))
    enrolment = None
    if PHOTO in images:  # the 1-inch photo is also the face enrolment photo
        try:
            enrolment = proctor.assess_photo(images[PHOTO].data)
        except proctor.FaceError as error:
            form.photo.errors.append(face_error(error.code))
    if any(field.errors for field in form):
        return None, None, None
    profile = services.Profile(
        name=form.name.data.strip(), id_type=form.id_type.data, document=document,
        birth_date=form.birth_date.data, gender=form.gender.data or None,
        work_unit=form.work_unit.data.strip(), unit_category=form.unit_category.data,
        position=form.position.data, region_code=form.region_code.data,
        education_level=form.education_level.data)
    return profile, images, enrolment


@bp.route("/me")
@role_required(LEARNER)
def home():
    learner = current_user.learner
    applications = list(db.session.scalars(visible_applications(current_user)))
    missing = services.missing_materials(learner, education_required=False)
    return render_template("learners/home.html", learner=learner, applications=applications, missing=missing,
                           region=region_name(learner.region_code))


@bp.route("/me/materials", methods=["GET", "POST"])
@role_required(LEARNER)
def materials():
    learner = current_user.learner
    form = MaterialForm()
    if request.method == "GET":  # offer the material just replaced, else the first one missing
        missing = services.missing_materials(learner, education_required=True)
        form.kind.data = request.args.get("kind") or (missing[0] if missing else None)
    if form.validate_on_submit():
        storage = form.file.data
        try:
            if not storage or not storage.filename:
                raise UploadRejected("empty")
            image = check_image(storage.read(), current_app.config["LMS_MAX_UPLOAD_BYTES"])
            candidate = proctor.assess_photo(image.data) if form.kind.data == PHOTO else None
        except UploadRejected as error:
            form.file.errors.append(upload_error(error.code))
        except proctor.FaceError as error:
            form.file.errors.append(face_error(error.code))
        else:
            if candidate is not None:  # the photo is the face enrolment: replacing it needs approval
                enrolment = proctor.submit_photo(learner, image, candidate, utcnow(), current_actor())
                flash(_("The new photo was sent to your training institution for approval.")
                      if enrolment.status == PENDING else _("The image was uploaded."), "success")
            else:
                services.replace_material(learner, form.kind.data, image, utcnow(), current_actor())
                flash(_("The image was uploaded."), "success")
            return redirect(url_for("learners.materials", kind=form.kind.data))
    return render_template("learners/materials.html", learner=learner, form=form, kinds=MATERIAL_KINDS)


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
