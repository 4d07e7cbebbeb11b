"""Thin handlers for test records: one attempt in full, a learner's results, a course's results."""
from flask import abort, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ..core.access import role_required
from ..core.clock import utcnow
from ..core.roles import ADMIN, LEARNER, REGULATOR, STAFF
from ..extensions import db
from ..learners.models import Learner
from ..learners.permissions import can_view_learner
from ..player.models import Course
from ..proctor.models import FaceCheck
from . import attempts, grading, permissions
from .blueprint import bp
from .messages import option_texts
from .models import OPEN, Attempt


def answer_texts(question, letters: str | None) -> list[str]:
    """The options a key or response names, as text ("A. ..."), for the record."""
    texts = option_texts(question.kind, question.option_list)
    return [f"{letter}. {texts[grading.LETTERS.index(letter)]}" for letter in letters or ""]


@bp.route("/attempts/<int:attempt_id>")
@role_required(LEARNER, STAFF, REGULATOR, ADMIN)
def attempt_record(attempt_id):
    """Everything the attempt served and received, for the learner (once it has ended) and for audit."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or not permissions.can_see_attempt(current_user, attempt):
        abort(404)
    attempts.settle(attempt, utcnow())
    if attempt.status == OPEN and current_user.role == LEARNER:
        return redirect(url_for("quiz.sit", attempt_id=attempt.id))  # the key stays hidden until it ends
    checks = db.session.scalars(select(FaceCheck).where(FaceCheck.context_kind == attempts.CONTEXT,
                                                        FaceCheck.context_id == attempt.id)
                                .order_by(FaceCheck.id)).all()
    return render_template("quiz/attempt_record.html", attempt=attempt, checks=checks, answer_texts=answer_texts,
                           rules=attempts.rules())


@bp.route("/results")
@role_required(LEARNER)
def my_results():
    rows = db.session.scalars(select(Attempt).where(Attempt.learner_id == current_user.learner.id)
                              .order_by(Attempt.started_at.desc())).all()
    return render_template("quiz/results.html", rows=rows, learner=current_user.learner, course=None)


@bp.route("/learners/<int:learner_id>/results")
@role_required(STAFF, REGULATOR, ADMIN)
def learner_results(learner_id):
    learner = db.session.get(Learner, learner_id)
    if learner is None or not can_view_learner(current_user, learner):
        abort(404)
    rows = db.session.scalars(select(Attempt).where(Attempt.learner_id == learner.id,
                                                    permissions.visible_attempts(current_user))
                              .order_by(Attempt.started_at.desc())).all()
    return render_template("quiz/results.html", rows=rows, learner=learner, course=None)


@bp.route("/courses/<int:course_id>/results")
@role_required(STAFF, ADMIN)
def course_results(course_id):
    course = db.session.get(Course, course_id)
    if course is None or not permissions.can_see_course_results(current_user, course):
        abort(404)
    rows = db.session.scalars(select(Attempt).where(Attempt.course_id == course.id)
                              .order_by(Attempt.started_at.desc())).all()
    return render_template("quiz/results.html", rows=rows, learner=None, course=course)
