"""Who may manage courses, study them, and see a learner's study record."""
from sqlalchemy import select, true

from ..core.roles import LEARNER, STAFF
from ..learners.models import Learner
from ..learners.permissions import can_view_learner
from . import services
from .models import Course, Heartbeat, Lesson


def can_manage_course(user, course: Course) -> bool:
    return user.role == STAFF and course.institution_id == user.institution_id


def can_study(user, course: Course) -> bool:
    return user.role == LEARNER and user.learner is not None and services.can_study(user.learner, course)


def can_enrol_optional(user, course: Course) -> bool:
    """Only a course the learner could take: one of an institution that approved them."""
    return user.role == LEARNER and user.learner is not None and \
        course.id in {c.id for c in services.optional_courses(user.learner)}


def can_see_study_record(user, learner: Learner) -> bool:
    return user.role != LEARNER and can_view_learner(user, learner)


def visible_heartbeats(user):
    """A filter on Heartbeat: staff see the time spent on their own institution's courses."""
    if user.role == STAFF:
        return Heartbeat.lesson_id.in_(select(Lesson.id).join(Course).where(Course.institution_id == user.institution_id))
    return true()
