"""Thin handlers for exporting certificates as a ZIP (PDFs and an XLSX summary): by date range for
staff (their institution), regulators (their region) and the admin; by class for whoever may see
the class's hours. Another role gets a 403; a class the user may not export, a 404. A refused
export goes back to the form with the reason."""
from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ..core.access import role_required
from ..core.clock import china_date, utcnow
from ..core.context import current_actor
from ..core.roles import ADMIN, REGULATOR, STAFF
from ..extensions import db
from ..institutions.models import TrainingClass
from . import export, permissions
from .blueprint import bp
from .export import ExportError, export_error_text
from .models import Certificate

DEFAULT_RANGE_DAYS = 30


def _refused(error: ExportError, **form_args):
    flash(export_error_text(error), "error")
    return redirect(url_for("hours.export_form", **{k: v for k, v in form_args.items() if v}))


def _zip_response(spool, filename: str):
    response = send_file(spool, mimetype=export.ZIP_MIMETYPE, as_attachment=True, download_name=filename,
                         max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _class_rows(user) -> list[tuple[TrainingClass, int]]:
    """Staff: their institution's classes, newest first, each with its number of certificates."""
    if user.role != STAFF or user.institution_id is None:
        return []
    counts = (select(Certificate.class_id, func.count(Certificate.id).label("n"))
              .group_by(Certificate.class_id).subquery())
    rows = db.session.execute(select(TrainingClass, func.coalesce(counts.c.n, 0))
                              .outerjoin(counts, counts.c.class_id == TrainingClass.id)
                              .where(TrainingClass.institution_id == user.institution_id)
                              .order_by(TrainingClass.id.desc()))
    return [(training_class, int(count)) for training_class, count in rows]


@bp.route("/hours/export")
@role_required(STAFF, REGULATOR, ADMIN)
def export_form():
    if not permissions.can_export(current_user):
        abort(403)
    today = china_date(utcnow())
    start = request.args.get("start") or (today - timedelta(days=DEFAULT_RANGE_DAYS - 1)).isoformat()
    end = request.args.get("end") or today.isoformat()
    return render_template("hours/export.html", start=start[:10], end=end[:10], classes=_class_rows(current_user),
                           max_days=export.MAX_RANGE_DAYS,
                           max_certificates=current_app.config["LMS_EXPORT_MAX_CERTIFICATES"])


@bp.route("/hours/export.zip")
@role_required(STAFF, REGULATOR, ADMIN)
def export_range():
    if not permissions.can_export(current_user):
        abort(403)
    start_text, end_text = request.args.get("start", "")[:32], request.args.get("end", "")[:32]
    try:
        start, end = export.parse_day(start_text), export.parse_day(end_text)
        found = export.certificates_for_export(current_user, start=start, end=end)
    except ExportError as error:
        return _refused(error, start=start_text, end=end_text)
    now = utcnow()
    spool = export.export_zip(found, scope=f"range:{start}..{end}", now=now, actor=current_actor())
    return _zip_response(spool, export.zip_filename(f"{start:%Y%m%d}-{end:%Y%m%d}", now))


@bp.route("/hours/classes/<int:class_id>/export.zip")
@role_required(STAFF, REGULATOR, ADMIN)
def export_class(class_id):
    training_class = db.session.get(TrainingClass, class_id)
    if training_class is None or not permissions.can_export_class(current_user, training_class):
        abort(404)
    try:
        found = export.certificates_for_export(current_user, class_id=training_class.id)
    except ExportError as error:
        return _refused(error)
    now = utcnow()
    spool = export.export_zip(found, scope=f"class:{training_class.id}", now=now, actor=current_actor())
    return _zip_response(spool, export.zip_filename(f"class-{training_class.id}", now))
