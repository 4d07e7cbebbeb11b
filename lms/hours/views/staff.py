"""Thin handlers for staff, regulators and the admin: a class's hours, a learner's ledger, corrections."""
from decimal import Decimal, InvalidOperation

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ...core.clock import utcnow
from ...core.context import current_actor
from ...extensions import db
from ...institutions.models import TrainingClass
from ...learners.models import Learner
from ...player.models import Course
from .. import certificates, ledger, permissions, progress
from . import bp
from ..errors import HoursError
from ..messages import CORRECTED, ENTRY_KINDS, STATUS, hours_error

MAX_CORRECTION_HOURS = Decimal("1000")


@bp.route("/hours/classes/<int:class_id>")
@login_required
def class_hours(class_id):
    training_class = db.session.get(TrainingClass, class_id)
    if training_class is None or not permissions.can_see_class_hours(current_user, training_class):
        abort(404)
    rows = [(learner, progress.class_progress(learner.id, training_class),
             certificates.valid_certificate(learner.id, training_class.id))
            for learner in progress.approved_learners(training_class.id)]
    return render_template("hours/class_hours.html", training_class=training_class, rows=rows, status_text=STATUS)


def _learner_for(learner_id) -> Learner:
    learner = db.session.get(Learner, learner_id)
    if learner is None or not permissions.can_see_learner_hours(current_user, learner):
        abort(404)
    return learner


@bp.route("/hours/learners/<int:learner_id>")
@login_required
def learner_hours(learner_id):
    learner = _learner_for(learner_id)
    courses = {course.id: course for course in progress.credited_or_class_courses(learner.id)}
    lines_of = [c.id for c in courses.values() if permissions.can_see_ledger_lines(current_user, learner, c)]
    entries = progress.entries(learner.id, lines_of)
    totals_only = [c for c in courses.values() if c.id not in lines_of]
    totals = progress.balances(learner.id)
    classes = [progress.class_progress(learner.id, c) for c in progress.approved_classes(learner.id)]
    correctable = [c for c in courses.values() if permissions.can_correct(current_user, learner, c)]
    return render_template("hours/learner_hours.html", learner=learner, entries=entries, courses=courses,
                           totals=totals, totals_only=totals_only, progress=classes, correctable=correctable, kinds=ENTRY_KINDS,
                           certificates=[c for c in certificates.certificates_of(learner.id)
                                         if permissions.can_see_certificate(current_user, c)],
                           status_text=STATUS)


def _tenths_from(text: str) -> int:
    """Signed tenths of an hour from the form's text. Only exact operations on the Decimal (no
    context arithmetic, which overflows on "1e999999999"): a non-number, an infinity, a NaN or more
    than one decimal is a format error, a finite number beyond the limit is out of range."""
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        raise HoursError("hours_format") from None
    if not value.is_finite():
        raise HoursError("hours_format")
    if value.copy_abs() > MAX_CORRECTION_HOURS:   # comparisons are exact
        raise HoursError("out_of_range")
    tenths = value.quantize(Decimal("0.1"))       # at most 5 digits now: cannot overflow
    if tenths != value:
        raise HoursError("hours_format")
    return int(tenths.scaleb(1))


@bp.route("/hours/learners/<int:learner_id>/courses/<int:course_id>/corrections", methods=["POST"])
@login_required
def correct_hours(learner_id, course_id):
    learner = _learner_for(learner_id)
    course = db.session.get(Course, course_id)
    if course is None or not permissions.can_correct(current_user, learner, course):
        abort(404)
    try:
        ledger.correct(learner, course, _tenths_from(request.form.get("hours")), request.form.get("reason", ""),
                       utcnow(), current_actor())
    except HoursError as error:
        flash(hours_error(error), "error")
    else:
        flash(CORRECTED, "success")
    return redirect(url_for("hours.learner_hours", learner_id=learner.id))
