"""Thin handlers for the printed documents: a certificate's PDF, a learner's study record and test results."""
from flask import Response, abort
from flask_login import current_user

from ..audit.services import record
from ..core.access import role_required
from ..core.clock import utcnow
from ..core.context import current_actor
from ..core.roles import ADMIN, LEARNER, REGULATOR, STAFF
from ..extensions import db
from . import pdf, permissions
from .blueprint import bp
from .models import Certificate

# The site's policy (lms/core/headers.py) has object-src 'none' and no inline styles: Chrome would then
# block its own PDF viewer, which shows the document in an <embed> of a generated page with inline
# styles. A PDF is no HTML an attacker could inject into, so its policy allows just that viewer.
PDF_CONTENT_SECURITY_POLICY = ("default-src 'none'; object-src 'self'; style-src 'unsafe-inline'; img-src 'self'; "
                               "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")


def _pdf_response(data: bytes, filename: str) -> Response:
    """Shown in the browser's PDF viewer (inline). Never kept in a cache (every one holds personal data):
    lms/core/headers.py sends Cache-Control: no-store with every response that is not a static file."""
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Security-Policy"] = PDF_CONTENT_SECURITY_POLICY
    response.headers["Content-Disposition"] = f"inline; filename={filename}"
    return response


@bp.route("/hours/certificates/<int:certificate_id>.pdf")
@role_required(LEARNER, STAFF, REGULATOR, ADMIN)
def certificate_pdf(certificate_id):
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or not permissions.can_see_certificate(current_user, certificate):
        abort(404)
    data = pdf.certificate_pdf_for(certificate)
    record(current_actor(), "hours_certificate_download", utcnow(), target=f"certificate:{certificate.number}",
           institution_id=certificate.institution_id, region_code=certificate.region_code)
    db.session.commit()
    return _pdf_response(data, f"{certificate.number}.pdf")


@bp.route("/hours/me/study-record.pdf")
@role_required(LEARNER)
def study_record_pdf():
    learner = current_user.learner or abort(404)
    return _pdf_response(pdf.study_record_pdf(learner, utcnow()), "study-record.pdf")


@bp.route("/hours/me/test-results.pdf")
@role_required(LEARNER)
def test_results_pdf():
    learner = current_user.learner or abort(404)
    return _pdf_response(pdf.test_results_pdf(learner, utcnow()), "test-results.pdf")
