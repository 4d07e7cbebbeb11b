"""Thin handlers: course management for staff, study pages and the heartbeat API for learners."""

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from sqlalchemy import select

from ..core.access import learner_api, role_required
from ..core.clock import china_date, utcnow
from ..core.context import current_actor
from ..core.inputs import as_id, large_body
from ..core.roles import ADMIN, LEARNER, REGULATOR, STAFF
from ..extensions import db
from ..institutions.models import TrainingClass
from ..institutions.permissions import can_edit_class
from ..learners.models import Learner
from . import accounting, checks, heartbeats, permissions, services, sessions, signing
from .forms import CourseForm, CurriculumForm, LessonForm
from .jobs import rendition_path
from .messages import REASONS, reason_text, study_error, video_error
from .models import PUBLISHED, WITHDRAWN, ClassCourse, Course, Heartbeat, Lesson, Rendition, Video
from .progress import progress_for

bp = Blueprint("player", __name__, template_folder="templates", static_folder="static",
               static_url_path="/player/static")


# --- staff: courses -----------------------------------------------------------------------

def _own_course(course_id) -> Course:
    course = db.session.get(Course, course_id)
    if course is None or not permissions.can_manage_course(current_user, course):
        abort(404)
    return course


@bp.route("/courses")
@role_required(STAFF)
def courses():
    today = china_date(utcnow())
    rows = services.courses_of_institution(current_user.institution_id)
    stale = {c.id for c in rows if services.needs_review(c, today, current_app.config["LMS_COURSE_REVIEW_DAYS"])}
    return render_template("player/courses.html", courses=rows, stale=stale)


@bp.route("/courses/new", methods=["GET", "POST"])
@role_required(STAFF)
def new_course():
    form = CourseForm()
    if form.validate_on_submit():
        draft = services.CourseDraft(form.title.data.strip(), form.category.data.strip(),
                                     float(form.nominal_hours.data), form.description.data.strip(),
                                     form.version.data.strip(), form.last_reviewed_on.data)
        course = services.create_course(current_user.institution_id, draft, utcnow(), current_actor())
        flash(_("Course created. Add lessons with their videos."), "success")
        return redirect(url_for("player.course_detail", course_id=course.id))
    return render_template("player/course_form.html", form=form)


@bp.route("/courses/<int:course_id>", methods=["GET", "POST"])
@large_body("LMS_MAX_VIDEO_BYTES")  # raised before CSRFProtect reads the form
@role_required(STAFF)
def course_detail(course_id):
    course = _own_course(course_id)
    form = LessonForm()
    if form.validate_on_submit():
        upload = form.video.data
        if not upload or not upload.filename:
            form.video.errors.append(_("Please choose a video file."))
        else:
            try:
                services.add_lesson(course, form.title.data, upload.filename, upload.stream, utcnow(),
                                    current_actor(), current_app.config["LMS_MAX_VIDEO_BYTES"])
                flash(_("The lesson was added. Its video is being transcoded in the background."), "success")
                return redirect(url_for("player.course_detail", course_id=course.id))
            except services.StudyError as error:
                form.video.errors.append(study_error(error))
    return render_template("player/course_detail.html", course=course, form=form, video_error=video_error,
                           stale=services.needs_review(course, china_date(utcnow()),
                                                       current_app.config["LMS_COURSE_REVIEW_DAYS"]))


@bp.route("/courses/<int:course_id>/status", methods=["POST"])
@role_required(STAFF)
def course_status(course_id):
    course = _own_course(course_id)
    status = request.form.get("status")
    if status not in (PUBLISHED, WITHDRAWN):
        abort(400)
    try:
        services.set_course_status(course, status, utcnow(), current_actor())
        flash(_("Saved."), "success")
    except services.StudyError as error:
        flash(study_error(error), "error")
    return redirect(url_for("player.course_detail", course_id=course.id))


@bp.route("/courses/<int:course_id>/videos.json")
@role_required(STAFF)
def video_status(course_id):
    """Transcoding progress of every lesson, polled by the course page."""
    course = _own_course(course_id)
    return jsonify(videos=[{"lesson": lesson.id, "status": lesson.video.status,
                            "progress": round(lesson.video.progress * 100),
                            "error": video_error(lesson.video.error) if lesson.video.error else None}
                           for lesson in course.lessons if lesson.video])


@bp.route("/classes/<int:class_id>/curriculum", methods=["GET", "POST"])
@role_required(STAFF)
def curriculum(class_id):
    training_class = db.session.get(TrainingClass, class_id)
    if training_class is None or not can_edit_class(current_user, training_class):
        abort(404)
    form = CurriculumForm()
    form.course_id.choices = [(c.id, c.title) for c in services.courses_of_institution(current_user.institution_id)
                              if c.status == PUBLISHED]
    if form.validate_on_submit():
        try:
            services.assign_to_class(training_class, db.session.get(Course, form.course_id.data), utcnow(),
                                     current_actor())
            flash(_("Saved."), "success")
            return redirect(url_for("player.curriculum", class_id=class_id))
        except services.StudyError as error:
            flash(study_error(error), "error")
    assigned = db.session.scalars(select(ClassCourse).where(ClassCourse.class_id == class_id)).all()
    return render_template("player/curriculum.html", training_class=training_class, form=form, assigned=assigned)


@bp.route("/learners/<int:learner_id>/study")
@role_required(STAFF, REGULATOR, ADMIN)
def learner_study(learner_id):
    """What happened to a learner's time: refusals by reason and the latest heartbeats."""
    learner = db.session.get(Learner, learner_id)
    if learner is None or not permissions.can_see_study_record(current_user, learner):
        abort(404)
    beats = db.session.scalars(select(Heartbeat).where(Heartbeat.learner_id == learner.id,
                                                       permissions.visible_heartbeats(current_user))
                               .order_by(Heartbeat.id.desc()).limit(200)).all()
    lessons = {lesson.id: lesson for lesson in db.session.scalars(select(Lesson).where(
        Lesson.id.in_({b.lesson_id for b in beats})))}
    return render_template("player/learner_study.html", learner=learner, beats=beats, lessons=lessons,
                           refusals=services.refusal_counts(learner.id), reasons=REASONS)


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
    course = db.session.get(Course, course_id)
    if course is None or not (permissions.can_enrol_optional(current_user, course)
                              or permissions.can_study(current_user, course)):
        abort(404)
    try:
        services.enrol_optional(current_user.learner, course, utcnow(), current_actor())
        flash(_("The course was added to your study."), "success")
    except services.StudyError as error:
        flash(study_error(error), "error")
    return redirect(url_for("player.study"))


def _studyable_course(course_id) -> Course:
    course = db.session.get(Course, course_id)
    if course is None or not permissions.can_study(current_user, course):
        abort(404)
    return course


@bp.route("/study/courses/<int:course_id>")
@role_required(LEARNER)
def course_page(course_id):
    course = _studyable_course(course_id)
    return render_template("player/course_page.html", course=course,
                           summaries=services.course_summary(current_user.learner, course))


@bp.route("/study/lessons/<int:lesson_id>")
@role_required(LEARNER)
def lesson_page(lesson_id):
    lesson = db.session.get(Lesson, lesson_id) or abort(404)
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


# --- learners: the player API ------------------------------------------------------------------

def _api_error(message: str, status: int, code: str):
    return jsonify(error=message, code=code), status


@bp.route("/api/player/start", methods=["POST"])
@learner_api
def api_start():
    learner = current_user.learner
    payload = request.get_json(silent=True) or {}
    lesson_id = as_id(payload.get("lesson_id"))  # an int that fits the column, not a bool
    lesson = db.session.get(Lesson, lesson_id) if lesson_id else None
    if lesson is None or not permissions.can_study(current_user, lesson.course):
        return _api_error(_("The lesson does not exist."), 404, "not_found")
    try:
        playback = services.start_playback(learner, lesson, utcnow(), current_actor())
    except services.StudyError as error:
        return _api_error(study_error(error), 409, error.code)
    progress = progress_for(learner.id, lesson.id)
    renditions = lesson.video.renditions
    effective = progress.effective_seconds if progress else 0.0
    provisional = checks.provisional_seconds(learner.id, [lesson.id]).get(lesson.id, 0.0)
    check = checks.open_check_of(playback.session_id)
    return jsonify(
        playback=playback.token, duration=lesson.video.duration, check=check.id if check else None,
        effective=round(effective, 1), confirmed=round(effective - provisional, 1),
        resume=progress.resume_position if progress else 0.0, furthest=progress.furthest if progress else 0.0,
        sources=[{"name": r.name, "height": r.height, "url": signing.signed_url(r.id, current_user.id)}
                 for r in renditions])


MAX_SEQ = 2 ** 31 - 1        # the column is a 32-bit integer on PostgreSQL
MAX_POSITION = 24 * 3600.0   # seconds: longer than any lesson video
MAX_RATE = 16.0              # browsers refuse faster playback
MAX_PLAYBACK_TOKEN = 64


def _number(value, high: float) -> float:
    """A JSON number (not a boolean, not a string of digits) from 0 to ``high``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= high:
        raise ValueError(value)
    return float(value)


def _flag(value) -> bool:
    """A JSON boolean: the string "false" is not false."""
    if not isinstance(value, bool):
        raise ValueError(value)
    return value


def _beat_from(payload) -> accounting.Beat | None:
    """The claimed heartbeat, or None when a field is missing, of the wrong JSON type or out of range."""
    try:
        seq, client_time = payload["seq"], payload.get("client_time")
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 < seq <= MAX_SEQ:
            return None
        return accounting.Beat(
            seq=seq, position=_number(payload["position"], MAX_POSITION), playing=_flag(payload["playing"]),
            visible=_flag(payload["visible"]), focused=_flag(payload["focused"]),
            rate=_number(payload["rate"], MAX_RATE),
            client_time=None if client_time is None else _number(client_time, 1e11),
            buffering=_flag(payload.get("buffering", False)))
    except (KeyError, ValueError):
        return None


def _playback_token(payload) -> str | None:
    token = payload.get("playback") if isinstance(payload, dict) else None
    return token if isinstance(token, str) and 0 < len(token) <= MAX_PLAYBACK_TOKEN else None


@bp.route("/api/player/heartbeat", methods=["POST"])
def api_heartbeat():
    payload = request.get_json(silent=True)
    if not current_user.is_authenticated:
        return _stopped_answer(_playback_token(payload))
    if current_user.role != LEARNER:
        return _api_error(_("Please sign in as a learner."), 403, "forbidden")
    beat = _beat_from(payload) if isinstance(payload, dict) else None
    token = _playback_token(payload)
    interacted = payload.get("interacted", False) if isinstance(payload, dict) else None
    if beat is None or token is None or not isinstance(interacted, bool):
        return _api_error(_("The heartbeat is malformed."), 400, "malformed")
    config = current_app.config
    try:
        result = heartbeats.record_heartbeat(
            current_user.id, token, beat, interacted, utcnow(), request.remote_addr or "",
            accounting.rules_from_config(config), config["LMS_IDLE_SECONDS"] + config["LMS_IDLE_GRACE_SECONDS"])
    except heartbeats.UnknownPlayback as error:
        return _api_error(study_error(error), 409, error.code)
    signed_out = result.session_ended in ("face_missed", "face_failed")
    if signed_out:  # an identity check went unanswered: signed out, as after failing one
        logout_user()
    verdict = result.verdict
    return jsonify(credited=verdict.credited, reason=verdict.reason,
                   message=reason_text(result.session_ended) or reason_text(verdict.reason),
                   session_ended=result.session_ended, check=result.check_id, signed_out=signed_out,
                   effective=round(result.effective, 1),
                   confirmed=None if result.confirmed is None else round(result.confirmed, 1),
                   covered=round(result.covered, 1), furthest=round(result.furthest, 1), complete=result.complete,
                   accepted_position=verdict.anchor_position if verdict.accepted_seq else None)


def _stopped_answer(token: str | None):
    """A heartbeat from a page whose learner is no longer signed in (a missed check settled by the
    worker, a sign-out elsewhere): the holder of the playback's token is told why study stopped and
    the figures that stand, so that the page never just says "sign in"."""
    stopped = heartbeats.stopped_playback(token) if token else None
    if stopped is None:
        return _api_error(_("Please sign in as a learner."), 403, "forbidden")
    message = reason_text(stopped.reason)
    return jsonify(error=message, code="session_ended", session_ended=stopped.reason, message=message,
                   signed_out=True, effective=round(stopped.effective, 1),
                   confirmed=round(stopped.confirmed, 1), covered=round(stopped.covered, 1),
                   complete=stopped.complete), 401


@bp.route("/api/player/still-here", methods=["POST"])
@learner_api
def api_still_here():
    learner = current_user.learner
    if not sessions.still_here(learner, utcnow()):
        return _api_error(reason_text("idle"), 409, "session_ended")
    return jsonify(ok=True)


@bp.route("/api/player/idle-timeout", methods=["POST"])
@learner_api
def api_idle_timeout():
    """The page's idle prompt went unanswered: end the learning session now."""
    learner = current_user.learner
    sessions.end_learner_sessions(learner, "idle", utcnow())
    return jsonify(ended=True, message=reason_text("idle"))


@bp.route("/api/ping")
def api_ping():
    """A no-op JSON endpoint: the stack's ceiling for the heartbeat benchmark."""
    return jsonify(ok=True)


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
