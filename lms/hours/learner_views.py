"""Thin handlers for a learner's own hours and certificates, and a certificate's page."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..core.access import role_required
from ..core.clock import utcnow
from ..core.context import current_actor
from ..core.roles import LEARNER
from ..extensions import db
from . import certificates, permissions, progress
from .blueprint import bp
from .errors import HoursError
from .messages import REVOKED, REVOKED_HOW, STATUS, hours_error
from .models import VALID, Certificate


@bp.route("/hours/")
@role_required(LEARNER)
def my_hours():
    learner = current_user.learner
    if learner is None:
        abort(404)
    mine = certificates.certificates_of(learner.id)
    issued = {c.class_id: c for c in mine if c.status == VALID}
    classes = [(progress.class_progress(learner.id, c), issued.get(c.id)) for c in progress.approved_classes(learner.id)]
    revoked = [c for c in mine if c.status != VALID]
    return render_template("hours/my_hours.html", classes=classes, revoked=revoked, status_text=STATUS)


def _certificate(certificate_id) -> Certificate:
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or not permissions.can_see_certificate(current_user, certificate):
        abort(404)
    return certificate


@bp.route("/hours/certificates/<int:certificate_id>")
@login_required
def certificate_page(certificate_id):
    certificate = _certificate(certificate_id)
    return render_template("hours/certificate.html", certificate=certificate,
                           facts=certificates.facts_of(certificate), status_text=STATUS, revoked_how=REVOKED_HOW,
                           may_revoke=permissions.can_revoke(current_user, certificate))


@bp.route("/hours/certificates/<int:certificate_id>/revoke", methods=["POST"])
@login_required
def revoke_certificate(certificate_id):
    certificate = _certificate(certificate_id)
    if not permissions.can_revoke(current_user, certificate):
        abort(403)
    try:
        certificates.revoke(certificate, request.form.get("reason", ""), utcnow(), current_actor())
    except HoursError as error:
        flash(hours_error(error), "error")
    else:
        flash(REVOKED, "success")
    return redirect(url_for("hours.certificate_page", certificate_id=certificate.id))


def credited_hours(course) -> float | None:
    """The signed-in learner's credited hours of a course from the ledger (None for anyone else)."""
    if not current_user.is_authenticated or current_user.role != LEARNER or current_user.learner is None:
        return None
    return progress.balances(current_user.learner.id, [course.id]).get(course.id, 0) / 10


@bp.app_context_processor
def _hours_template_helpers():
    return {"hours_credited": credited_hours}
