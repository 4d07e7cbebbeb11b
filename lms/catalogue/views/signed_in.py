"""The qualification catalogue, readable by every signed-in user."""
from flask import render_template
from flask_login import login_required
from sqlalchemy import select

from ...catalogue.models import QualificationType
from ...extensions import db
from . import bp


@bp.route("/catalogue")
@login_required
def qualifications():
    rows = list(db.session.scalars(select(QualificationType).order_by(
        QualificationType.audience, QualificationType.category, QualificationType.id)))
    return render_template("catalogue/qualifications.html", qualifications=rows)
