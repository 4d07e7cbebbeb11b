"""Registration and the learner's own materials page: the pages that write to both lms.learners and
lms.proctor (the 1-inch photo is the face enrolment photo)."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.policy import password_errors
from ..catalogue.services import region_choices
from ..core.access import role_required
from ..core.clock import china_date, utcnow
from ..core.context import current_actor
from ..core.iddocs import InvalidDocument, parse_document
from ..core.roles import LEARNER
from ..extensions import limiter
from ..files.messages import upload_error
from ..files.storage import UploadRejected, check_image
from ..learners import services as learners
from ..learners.forms import MaterialForm, RegistrationForm
from ..learners.models import EDUCATION, MATERIAL_KINDS, PHOTO
from ..proctor import services as proctor
from ..proctor.messages import face_error
from ..proctor.models import PENDING
from .services import register_learner

bp = Blueprint("registration", __name__, template_folder="templates", static_folder="static",
               static_url_path="/registration/static")


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
                register_learner(profile, form.password.data, images, utcnow(), current_actor(),
                                 enrolment=enrolment)
            except learners.DuplicateRegistration:
                pass   # answered exactly as a new registration
            flash(_registration_received(), "success")
            return redirect(url_for("accounts.login"))
    return render_template("registration/register.html", form=form)


def _read_registration(form):
    """Turn the form into a Profile and checked images, or add field errors and return None."""
    today = china_date(utcnow())
    document = None
    try:
        document = parse_document(form.id_type.data, form.id_number.data, today)
    except InvalidDocument as error:
        form.id_number.errors.append(ID_ERRORS[error.code]())
    if document is not None:
        refusal = learners.age_refusal(document.birth_date or form.birth_date.data, today)
        if refusal == "birth_date_missing":
            form.birth_date.errors.append(_("Please enter your date of birth."))
        elif refusal is not None:
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
    profile = learners.Profile(
        name=form.name.data.strip(), id_type=form.id_type.data, document=document,
        birth_date=form.birth_date.data, gender=form.gender.data or None,
        work_unit=form.work_unit.data.strip(), unit_category=form.unit_category.data,
        position=form.position.data, region_code=form.region_code.data,
        education_level=form.education_level.data)
    return profile, images, enrolment


@bp.route("/me/materials", methods=["GET", "POST"])
@role_required(LEARNER)
def materials():
    learner = current_user.learner
    form = MaterialForm()
    if request.method == "GET":  # offer the material just replaced, else the first one missing
        missing = learner.missing_materials(education_required=True)
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
                learners.replace_material(learner, form.kind.data, image, utcnow(), current_actor())
                flash(_("The image was uploaded."), "success")
            return redirect(url_for("registration.materials", kind=form.kind.data))
    return render_template("registration/materials.html", learner=learner, form=form, kinds=MATERIAL_KINDS)
