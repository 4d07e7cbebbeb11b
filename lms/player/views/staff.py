"""Staff's pages: courses, lessons and videos, class curricula, a learner's study record."""
from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ...accounts.models import ADMIN, REGULATOR, STAFF
from ...core.access import role_required, row_or_404
from ...core.clock import china_date, utcnow
from ...core.context import current_actor
from ...core.inputs import large_body
from ...core.refusals import flash_refusal
from ...extensions import db
from ...institutions.models import TrainingClass
from ...institutions.permissions import can_edit_class
from ...learners.models import Learner
from .. import permissions, services
from ..forms import CourseForm, CurriculumForm, LessonForm
from ..messages import REASONS, study_error, video_error
from ..models import PUBLISHED, WITHDRAWN, ClassCourse, Course, Heartbeat, Lesson
from . import bp


# --- staff: courses -----------------------------------------------------------------------

def _own_course(course_id) -> Course:
    return row_or_404(Course, course_id, permissions.can_manage_course)


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
    with flash_refusal(services.StudyError, study_error):
        services.set_course_status(course, status, utcnow(), current_actor())
        flash(_("Saved."), "success")
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
    training_class = row_or_404(TrainingClass, class_id, can_edit_class)
    form = CurriculumForm()
    form.course_id.choices = [(c.id, c.title) for c in services.courses_of_institution(current_user.institution_id)
                              if c.status == PUBLISHED]
    if form.validate_on_submit():
        with flash_refusal(services.StudyError, study_error):
            services.assign_to_class(training_class, db.session.get(Course, form.course_id.data), utcnow(),
                                     current_actor())
            flash(_("Saved."), "success")
            return redirect(url_for("player.curriculum", class_id=class_id))
    assigned = db.session.scalars(select(ClassCourse).where(ClassCourse.class_id == class_id)).all()
    return render_template("player/curriculum.html", training_class=training_class, form=form, assigned=assigned)


@bp.route("/learners/<int:learner_id>/study")
@role_required(STAFF, REGULATOR, ADMIN)
def learner_study(learner_id):
    """What happened to a learner's time: refusals by reason and the latest heartbeats."""
    learner = row_or_404(Learner, learner_id, permissions.can_see_study_record)
    beats = db.session.scalars(select(Heartbeat).where(Heartbeat.learner_id == learner.id,
                                                       permissions.visible_heartbeats(current_user))
                               .order_by(Heartbeat.id.desc()).limit(200)).all()
    lessons = {lesson.id: lesson for lesson in db.session.scalars(select(Lesson).where(
        Lesson.id.in_({b.lesson_id for b in beats})))}
    return render_template("player/learner_study.html", learner=learner, beats=beats, lessons=lessons,
                           refusals=services.refusal_counts(learner.id), reasons=REASONS)
