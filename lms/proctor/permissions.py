"""Who may see and decide face checks, their frames, reviews and appeals, and face photo replacements.

A check belongs to the institution that owns the context that asked for it (the course's
institution for study, later the quiz's); that institution's staff review it, not every
institution the learner applied to. A replacement face photo changes the learner's identity for
every institution, so only one that approved the learner (or the admin) may accept it.
"""
from sqlalchemy import false, select, true

from ..catalogue.services import region_covers
from ..core.roles import ADMIN, LEARNER, REGULATOR, STAFF
from ..extensions import db
from ..institutions.models import Institution
from ..institutions.permissions import learners_approved_by
from ..learners.models import Learner
from ..learners.permissions import can_act_for_learner, can_view_learner
from .models import FaceCheck, FaceEnrolment, FaceReview


def _owner_region(check: FaceCheck) -> str | None:
    if check.owner_institution_id is None:
        return None
    return db.session.scalar(select(Institution.region_code).where(Institution.id == check.owner_institution_id))


def can_see_check(user, check: FaceCheck) -> bool:
    """The learner, staff of the owning institution, regulators of the learner's or the owner's region, the admin."""
    if user.role == ADMIN:
        return True
    if user.role == LEARNER:
        return user.learner is not None and check.learner_id == user.learner.id
    if user.role == STAFF:
        return check.owner_institution_id is not None and check.owner_institution_id == user.institution_id
    if user.role == REGULATOR:
        learner = db.session.get(Learner, check.learner_id)
        return region_covers(user.region_code, learner.region_code) or \
            region_covers(user.region_code, _owner_region(check))
    return False


def can_decide_check(user, check: FaceCheck) -> bool:
    """Decide a doubtful result or an appeal: staff of the owning institution, or the admin."""
    if user.role == ADMIN:
        return True
    return user.role == STAFF and check.owner_institution_id is not None and \
        check.owner_institution_id == user.institution_id


def can_see_review(user, review: FaceReview) -> bool:
    return user.role != LEARNER and can_see_check(user, review.check)


def can_decide_review(user, review: FaceReview) -> bool:
    return can_decide_check(user, review.check)


def can_answer_check(user, check: FaceCheck) -> bool:
    """Only the learner the check is for may post frames for it."""
    return user.role == LEARNER and user.learner is not None and check.learner_id == user.learner.id


def can_appeal(user, check: FaceCheck) -> bool:
    return can_answer_check(user, check)


def can_see_enrolment_photo(user, enrolment: FaceEnrolment) -> bool:
    return can_view_learner(user, db.session.get(Learner, enrolment.learner_id))


def can_decide_enrolment(user, enrolment: FaceEnrolment) -> bool:
    return user.role in (STAFF, ADMIN) and can_act_for_learner(user, db.session.get(Learner, enrolment.learner_id))


def visible_checks(user):
    """A filter on FaceCheck for lists: staff see only their institution's checks."""
    if user.role == STAFF:
        return FaceCheck.owner_institution_id == user.institution_id
    return true()


def decidable_checks(user):
    """A filter on FaceCheck for the review queue."""
    if user.role == ADMIN:
        return true()
    if user.role == STAFF:
        return FaceCheck.owner_institution_id == user.institution_id
    return false()


def decidable_enrolments(user):
    """A filter on FaceEnrolment for the photo-replacement queue."""
    if user.role == ADMIN:
        return true()
    if user.role == STAFF:
        return FaceEnrolment.learner_id.in_(learners_approved_by(user.institution_id))
    return false()
