"""The learner's study pages and the signed video files."""
from flask import abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ...accounts.models import LEARNER
from ...core.access import role_required, row_or_404
from ...core.clock import utcnow
from ...core.context import current_actor
from ...core.refusals import flash_refusal
from ...extensions import db
from .. import checks, permissions, services, signing
from ..jobs import rendition_path
from ..messages import REASONS, study_error
from ..models import Course, Lesson, Rendition, Video
from . import bp


# --- learners: study ------------------------------------------------------------------------

@bp.route("/study")
@role_required(LEARNER)
def study():
    learner = current_user.learner
    courses = services.my_courses(learner)
    return render_template("player/study.html", courses=courses, optional=services.optional_courses(learner),
                           enrolled=services.self_enrolled_ids(learner),
                           summaries={c.id: services.course_summary(learner, c) for c in courses})


@bp.route("/study/courses/<int:course_id>/enrol", methods=["POST"])
@role_required(LEARNER)
def enrol(course_id):
    course = row_or_404(Course, course_id, lambda user, course: (permissions.can_enrol_optional(user, course)
                                                                 or permissions.can_study(user, course)))
    with flash_refusal(services.StudyError, study_error):
        services.enrol_optional(current_user.learner, course, utcnow(), current_actor())
        flash(_("The course was added to your study."), "success")
    return redirect(url_for("player.study"))


def _studyable_course(course_id) -> Course:
    return row_or_404(Course, course_id, permissions.can_study)


@bp.route("/study/courses/<int:course_id>")
@role_required(LEARNER)
def course_page(course_id):
    course = _studyable_course(course_id)
    return render_template("player/course_page.html", course=course,
                           summaries=services.course_summary(current_user.learner, course))


@bp.route("/study/lessons/<int:lesson_id>")
@role_required(LEARNER)
def lesson_page(lesson_id):
    lesson = row_or_404(Lesson, lesson_id)
    course = _studyable_course(lesson.course_id)
    if not services.lesson_unlocked(current_user.learner, lesson):
        flash(study_error(services.StudyError("locked")), "error")
        return redirect(url_for("player.course_page", course_id=course.id))
    if not checks.ready_to_study(current_user.learner.id):
        flash(study_error(services.StudyError("face_not_enrolled")), "error")
        return redirect(url_for("proctor.my_face"))
    config = current_app.config
    return render_template("player/lesson.html", lesson=lesson, course=course,
                           summaries=services.course_summary(current_user.learner, course),
                           settings={"heartbeatSeconds": config["LMS_HEARTBEAT_SECONDS"],
                                     "idleSeconds": config["LMS_IDLE_SECONDS"],
                                     "graceSeconds": config["LMS_IDLE_GRACE_SECONDS"],
                                     "faceChecks": checks.enabled()},
                           reasons={code: str(text) for code, text in REASONS.items()})


@bp.route("/player/media/<int:rendition_id>/<int(max=4102444800):expires>/<signature>.mp4")  # a time, not an id
@role_required(LEARNER)
def media(rendition_id, expires, signature):
    """Serve a rendition with Range support to the enrolled learner the URL was signed for."""
    if not media_access_ok(rendition_id, expires, signature):
        abort(403)
    rendition = db.session.get(Rendition, rendition_id)
    prefix = current_app.config.get("LMS_X_ACCEL_PREFIX")
    if prefix:
        response = current_app.response_class(mimetype="video/mp4")
        response.headers["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/videos/{rendition.video_id}/{rendition.name}.mp4"
        return response
    response = send_file(rendition_path(rendition), mimetype="video/mp4", conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def media_access_ok(rendition_id: int, expires: int, signature: str) -> bool:
    if not signing.signature_valid(rendition_id, current_user.id, expires, signature, utcnow()):
        return False
    rendition = db.session.get(Rendition, rendition_id)
    if rendition is None:
        return False
    lesson = db.session.scalar(select(Lesson).join(Video).where(Video.id == rendition.video_id))
    return lesson is not None and permissions.can_study(current_user, lesson.course)
