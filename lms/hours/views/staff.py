"""Thin handlers for staff, regulators and the admin: a class's hours, a learner's ledger, corrections."""
from decimal import Decimal, InvalidOperation

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ...core.access import row_or_404
from ...core.clock import utcnow
from ...core.context import current_actor
from ...core.refusals import flash_refusal
from ...institutions.models import TrainingClass
from ...learners.models import Learner
from ...player.models import Course
from .. import certificates, ledger, permissions, progress
from . import bp
from ..messages import CORRECTED, ENTRY_KINDS, STATUS, HoursError, hours_error

MAX_CORRECTION_HOURS = Decimal("1000")


@bp.route("/hours/classes/<int:class_id>")
@login_required
def class_hours(class_id):
    training_class = row_or_404(TrainingClass, class_id, permissions.can_see_class_hours)
    rows = [(learner, progress.class_progress(learner.id, training_class),
             certificates.valid_certificate(learner.id, training_class.id))
            for learner in progress.approved_learners(training_class.id)]
    return render_template("hours/class_hours.html", training_class=training_class, rows=rows, status_text=STATUS)


def _learner_for(learner_id) -> Learner:
    return row_or_404(Learner, learner_id, permissions.can_see_learner_hours)


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
    course = row_or_404(Course, course_id, lambda user, course: permissions.can_correct(user, learner, course))
    with flash_refusal(HoursError, hours_error):
        ledger.correct(learner, course, _tenths_from(request.form.get("hours")), request.form.get("reason", ""),
                       utcnow(), current_actor())
        flash(CORRECTED, "success")
    return redirect(url_for("hours.learner_hours", learner_id=learner.id))
