"""Who may see or change a question bank, a paper, a test attempt and its result, and practise.

A bank and its papers belong to the course's institution: its staff manage them. A learner sits
the test and practises in a course they may study, and sees their own attempts. An attempt's
record is seen by the learner, staff of the course's institution, regulators of the learner's or
the institution's region, and the admin. Nobody else learns that it exists (404).
"""
from sqlalchemy import false, or_, select, true

from ..catalogue.services import in_region, region_covers
from ..core.roles import ADMIN, LEARNER, REGULATOR, STAFF
from ..extensions import db
from ..institutions.models import Institution
from ..learners.models import Learner
from ..player import permissions as player_permissions
from ..player.models import Course
from .models import Attempt


def can_manage_bank(user, course: Course) -> bool:
    return player_permissions.can_manage_course(user, course)


def can_take_test(user, course: Course) -> bool:
    return player_permissions.can_study(user, course)


def can_practise(user, course: Course) -> bool:
    return player_permissions.can_study(user, course)


def can_answer(user, attempt: Attempt) -> bool:
    return user.role == LEARNER and user.learner is not None and attempt.learner_id == user.learner.id


def can_see_attempt(user, attempt: Attempt) -> bool:
    if user.role == ADMIN:
        return True
    if user.role == LEARNER:
        return can_answer(user, attempt)
    course = db.session.get(Course, attempt.course_id)
    if user.role == STAFF:
        return course.institution_id == user.institution_id
    if user.role == REGULATOR:
        institution_region = db.session.scalar(select(Institution.region_code).where(
            Institution.id == course.institution_id))
        return region_covers(user.region_code, attempt.learner.region_code) or \
            region_covers(user.region_code, institution_region)
    return False


def can_see_course_results(user, course: Course) -> bool:
    return user.role == ADMIN or (user.role == STAFF and course.institution_id == user.institution_id)


def visible_attempts(user):
    """A filter on Attempt for lists of results."""
    if user.role == STAFF:
        return Attempt.course_id.in_(select(Course.id).where(Course.institution_id == user.institution_id))
    if user.role == LEARNER:
        return Attempt.learner_id == (user.learner.id if user.learner else -1)
    if user.role == REGULATOR:
        return or_(Attempt.learner_id.in_(select(Learner.id).where(in_region(Learner.region_code, user.region_code))),
                   Attempt.course_id.in_(select(Course.id).join(Institution, Institution.id == Course.institution_id)
                                         .where(in_region(Institution.region_code, user.region_code))))
    return true() if user.role == ADMIN else false()
