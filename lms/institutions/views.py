"""Classes, applications and their review."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..catalogue.models import TRAINING_TYPES, QualificationType
from ..catalogue.services import hours_plan
from ..core.access import role_required
from ..core.clock import utcnow
from ..core.context import current_actor
from ..core.labels import label
from ..core.roles import ADMIN, LEARNER, REGULATOR, STAFF
from ..extensions import db
from . import permissions, services
from .forms import ApplyForm, ClassForm, ReturnForm
from .messages import enrolment_error
from .models import APPROVED, RETURNED, SUBMITTED, Application, TrainingClass

bp = Blueprint("institutions", __name__, template_folder="templates")


def _class_or_404(class_id) -> TrainingClass:
    training_class = db.session.get(TrainingClass, class_id)
    if training_class is None or not permissions.can_see_class(current_user, training_class):
        abort(404)
    return training_class


@bp.route("/institution")
@role_required(STAFF)
def dashboard():
    counts = dict(db.session.execute(select(Application.status, func.count(Application.id)).join(
        TrainingClass).where(TrainingClass.institution_id == current_user.institution_id).group_by(
        Application.status)).all())
    classes = list(db.session.scalars(permissions.visible_classes(current_user).limit(10)))
    return render_template("institutions/dashboard.html", counts=counts, classes=classes)


@bp.route("/region")
@role_required(REGULATOR)
def overview():
    classes = list(db.session.scalars(permissions.visible_classes(current_user)))
    counts = dict(db.session.execute(select(Application.status, func.count(Application.id)).where(
        Application.id.in_(permissions.visible_applications(current_user).with_only_columns(Application.id))
    ).group_by(Application.status)).all())
    return render_template("institutions/overview.html", classes=classes, counts=counts)


@bp.route("/classes")
@role_required(LEARNER, STAFF, REGULATOR, ADMIN)
def classes():
    rows = list(db.session.scalars(permissions.visible_classes(current_user)))
    now = utcnow()
    return render_template("institutions/classes.html", classes=rows,
                           open_ids={c.id for c in rows if services.enrolment_open(c, now)},
                           approved={c.id: services.approved_count(c) for c in rows})


@bp.route("/classes/new", methods=["GET", "POST"])
@role_required(STAFF)
def new_class():
    form = ClassForm()
    form.training_type.choices = [(t, label("training_type", t)) for t in TRAINING_TYPES]
    form.qualification_type_id.choices = [(q.id, f"{label('audience', q.audience)} · {q.label}")
                                          for q in services.qualification_choices()]
    if form.validate_on_submit():
        institution = current_user.institution
        qualification = db.session.get(QualificationType, form.qualification_type_id.data)
        plan = hours_plan(qualification, form.training_type.data, institution.region_code)
        if plan is None:
            form.training_type.errors.append(enrolment_error(services.EnrolmentError("no_hours_rule")))
        else:
            class_plan = services.ClassPlan(
                title=form.title.data.strip(), training_type=form.training_type.data,
                qualification_type_id=qualification.id, enrol_start=form.enrol_start.data,
                enrol_end=form.enrol_end.data, train_start=form.train_start.data, train_end=form.train_end.data,
                capacity=form.capacity.data, offline_location=form.offline_location.data.strip(),
                total_hours=plan.total, required_online_hours=form.required_online_hours.data or plan.online)
            try:
                training_class = services.create_class(institution, class_plan, utcnow(), current_actor())
            except services.EnrolmentError as error:
                flash(enrolment_error(error), "error")
            else:
                flash(_("The class was created as a draft. Publish it when it is ready."), "success")
                return redirect(url_for("institutions.class_detail", class_id=training_class.id))
    return render_template("institutions/class_form.html", form=form)


@bp.route("/classes/<int:class_id>")
@role_required(LEARNER, STAFF, REGULATOR, ADMIN)
def class_detail(class_id):
    training_class = _class_or_404(class_id)
    context = {"training_class": training_class, "approved": services.approved_count(training_class),
               "is_open": services.enrolment_open(training_class, utcnow())}
    if current_user.role == LEARNER:
        context["application"] = db.session.scalar(select(Application).where(
            Application.class_id == class_id, Application.learner_id == current_user.learner.id))
        context["missing"] = current_user.learner.missing_materials(
            training_class.qualification.requires_education_cert)
        context["apply_form"] = ApplyForm()
    else:
        context["applications"] = list(db.session.scalars(
            permissions.visible_applications(current_user, class_id=class_id)))
    return render_template("institutions/class_detail.html", **context)


@bp.route("/classes/<int:class_id>/publish", methods=["POST"])
@role_required(STAFF)
def publish(class_id):
    training_class = _class_or_404(class_id)
    if not permissions.can_edit_class(current_user, training_class):
        abort(403)
    try:
        services.publish_class(training_class, utcnow(), current_actor())
        flash(_("The class is published; learners can apply inside the enrolment window."), "success")
    except services.EnrolmentError as error:
        flash(enrolment_error(error), "error")
    return redirect(url_for("institutions.class_detail", class_id=class_id))


@bp.route("/classes/<int:class_id>/apply", methods=["POST"])
@role_required(LEARNER)
def apply(class_id):
    training_class = _class_or_404(class_id)
    if not permissions.can_apply(current_user, training_class):
        abort(404)
    form = ApplyForm()
    if not form.validate_on_submit():
        flash(_("Please check the form."), "error")
    else:
        try:
            services.apply_to_class(current_user.learner, training_class, form.previous_certificate_no.data,
                                    utcnow(), current_actor())
            flash(_("Your application was submitted. The institution will review your materials."), "success")
        except services.EnrolmentError as error:
            flash(enrolment_error(error), "error")
    return redirect(url_for("institutions.class_detail", class_id=class_id))


@bp.route("/applications")
@role_required(STAFF, REGULATOR, ADMIN)
def applications():
    status = request.args.get("status") or (SUBMITTED if current_user.role == STAFF else None)
    if status not in (None, SUBMITTED, RETURNED, APPROVED, "all"):
        status = None
    rows = list(db.session.scalars(permissions.visible_applications(
        current_user, status=None if status == "all" else status)))
    return render_template("institutions/applications.html", applications=rows, status=status)


def _application_or_404(application_id) -> Application:
    application = db.session.get(Application, application_id)
    if application is None or not permissions.can_see_application(current_user, application):
        abort(404)
    return application


def _reviewable_or_403(application_id) -> Application:
    application = _application_or_404(application_id)
    if not permissions.can_review_application(current_user, application):
        abort(403)
    return application


@bp.route("/applications/<int:application_id>")
@role_required(STAFF, REGULATOR, ADMIN)
def application_detail(application_id):
    application = _application_or_404(application_id)
    return render_template("institutions/application_detail.html", application=application,
                           learner=application.learner, return_form=ReturnForm(),
                           can_review=permissions.can_review_application(current_user, application))


@bp.route("/applications/<int:application_id>/approve", methods=["POST"])
@role_required(STAFF, ADMIN)
def approve(application_id):
    application = _reviewable_or_403(application_id)
    try:  # CSRFProtect has already checked the token of this POST
        services.approve_application(application, utcnow(), current_actor())
        flash(_("Approved."), "success")
    except services.EnrolmentError as error:
        flash(enrolment_error(error), "error")
    return redirect(url_for("institutions.application_detail", application_id=application_id))


@bp.route("/applications/<int:application_id>/return", methods=["POST"])
@role_required(STAFF, ADMIN)
def return_(application_id):
    application = _reviewable_or_403(application_id)
    form = ReturnForm()
    if not form.validate_on_submit():
        return render_template("institutions/application_detail.html", application=application,
                               learner=application.learner, return_form=form, can_review=True), 400
    try:
        services.return_application(application, form.reason.data, utcnow(), current_actor())
        flash(_("Returned to the learner with your reason."), "success")
    except services.EnrolmentError as error:
        flash(enrolment_error(error), "error")
    return redirect(url_for("institutions.application_detail", application_id=application_id))

