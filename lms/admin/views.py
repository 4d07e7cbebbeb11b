"""Platform admin pages."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..accounts.models import User
from ..catalogue.models import TRAINING_TYPES, HoursRule, QualificationType, RegionHoursSplit
from ..catalogue.services import region_choices
from ..core.access import role_required
from ..core.clock import utcnow
from ..core.context import current_actor
from ..core.labels import label
from ..core.roles import ADMIN
from ..extensions import db
from ..institutions.models import Institution
from . import services
from .forms import HoursRuleForm, InstitutionForm, RegionSplitForm

bp = Blueprint("admin", __name__, template_folder="templates", url_prefix="/admin")


@bp.route("/")
@role_required(ADMIN)
def home():
    users_by_role = dict(db.session.execute(select(User.role, func.count(User.id)).group_by(User.role)).all())
    return render_template("admin/home.html", users_by_role=users_by_role,
                           institutions=db.session.scalar(select(func.count(Institution.id))),
                           qualifications=db.session.scalar(select(func.count(QualificationType.id))))


@bp.route("/institutions", methods=["GET", "POST"])
@role_required(ADMIN)
def institutions():
    form = InstitutionForm()
    form.region_code.choices = region_choices((1, 2, 3))
    if form.validate_on_submit():
        try:
            services.create_institution(form.name.data, form.region_code.data, utcnow(), current_actor())
            flash(_("Institution created. Now create a staff account for it."), "success")
            return redirect(url_for("admin.institutions"))
        except services.AdminError:
            form.name.errors.append(_("An institution with this name exists already."))
    rows = list(db.session.scalars(select(Institution).order_by(Institution.name)))
    return render_template("admin/institutions.html", form=form, institutions=rows)


@bp.route("/hours", methods=["GET", "POST"])
@role_required(ADMIN)
def hours():
    split_form = RegionSplitForm(prefix="split")
    split_form.region_code.choices = region_choices((1, 2, 3))
    split_form.training_type.choices = [(t, label("training_type", t)) for t in TRAINING_TYPES]
    if split_form.validate_on_submit():
        try:
            services.save_region_split(split_form.region_code.data, split_form.training_type.data,
                                       split_form.online_hours.data, split_form.offline_hours.data,
                                       utcnow(), current_actor())
            flash(_("Saved."), "success")
            return redirect(url_for("admin.hours"))
        except services.AdminError:
            split_form.online_hours.errors.append(_("Online and offline hours cannot both be zero."))
    rules = list(db.session.scalars(select(HoursRule).order_by(
        HoursRule.audience_group, HoursRule.industry_group, HoursRule.training_type)))
    splits = list(db.session.scalars(select(RegionHoursSplit).order_by(RegionHoursSplit.region_code)))
    return render_template("admin/hours.html", rules=rules, splits=splits, split_form=split_form,
                           rule_form=HoursRuleForm(), regions=dict(region_choices((1, 2, 3))))


@bp.route("/hours/rules/<int:rule_id>", methods=["POST"])
@role_required(ADMIN)
def update_rule(rule_id):
    rule = db.session.get(HoursRule, rule_id) or abort(404)
    form = HoursRuleForm()
    if form.validate_on_submit():
        services.update_hours_rule(rule, form.total_hours.data, utcnow(), current_actor())
        flash(_("Saved."), "success")
    else:
        flash(_("Hours must be a whole number between 1 and 500."), "error")
    return redirect(url_for("admin.hours"))
