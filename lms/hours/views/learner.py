"""Thin handlers for a learner's own hours and certificates, and a certificate's page."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ...core.roles import LEARNER
from ...core.access import found_or_404, role_required, row_or_404
from ...core.clock import utcnow
from ...core.context import current_actor
from ...core.refusals import flash_refusal
from .. import certificates, permissions, progress
from . import bp
from ..messages import REVOKED, REVOKED_HOW, STATUS, HoursError, hours_error
from ..models import VALID, Certificate


@bp.route("/hours/")
@role_required(LEARNER)
def my_hours():
    learner = found_or_404(current_user.learner)
    mine = certificates.certificates_of(learner.id)
    issued = {c.class_id: c for c in mine if c.status == VALID}
    classes = [(progress.class_progress(learner.id, c), issued.get(c.id)) for c in progress.approved_classes(learner.id)]
    revoked = [c for c in mine if c.status != VALID]
    return render_template("hours/my_hours.html", classes=classes, revoked=revoked, status_text=STATUS)


def _certificate(certificate_id) -> Certificate:
    return row_or_404(Certificate, certificate_id, permissions.can_see_certificate)


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
    with flash_refusal(HoursError, hours_error):
        certificates.revoke(certificate, request.form.get("reason", ""), utcnow(), current_actor())
        flash(REVOKED, "success")
    return redirect(url_for("hours.certificate_page", certificate_id=certificate.id))
