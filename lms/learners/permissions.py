"""Who may see a learner's record and who may act on the learner's account.

Seeing and acting differ on purpose: every institution the learner applied to reviews the
materials, but only an institution that approved the learner into a class (or the admin) may
reset the password or approve a new face photo; an institution the learner merely applied to
could otherwise take the account over and defeat every other institution's face checks.
"""
from sqlalchemy import false, or_, select

from ..catalogue.services import in_region, region_covers
from ..core.roles import ADMIN, LEARNER, REGULATOR, STAFF
from ..institutions.models import Application, Institution, TrainingClass
from ..institutions.permissions import institution_regions_of_learner, learner_applied_to, learner_approved_by
from .models import Learner


def can_view_learner(user, learner: Learner) -> bool:
    """Learners see themselves; staff the learners who applied to their institution; regulators
    learners of their region or applying to an institution in it; the admin everyone."""
    if user.role == ADMIN:
        return True
    if user.role == LEARNER:
        return learner.user_id == user.id
    if user.role == STAFF:
        return learner_applied_to(learner.id, user.institution_id)
    if user.role == REGULATOR:
        return region_covers(user.region_code, learner.region_code) or any(
            region_covers(user.region_code, code) for code in institution_regions_of_learner(learner.id))
    return False


def can_act_for_learner(user, learner: Learner) -> bool:
    """Reset the learner's password, approve a replacement face photo: an approving institution's staff or the admin."""
    if user.role == ADMIN:
        return True
    return user.role == STAFF and learner_approved_by(learner.id, user.institution_id)


def viewable_learner_ids(user):
    """The ids of the learners a user may see, as a select (for lists)."""
    if user.role == ADMIN:
        return select(Learner.id)
    if user.role == LEARNER:
        return select(Learner.id).where(Learner.user_id == user.id)
    if user.role == STAFF:
        return select(Application.learner_id).join(TrainingClass).where(
            TrainingClass.institution_id == user.institution_id)
    if user.role == REGULATOR:
        regional_institutions = select(Institution.id).where(in_region(Institution.region_code, user.region_code))
        applying = select(Application.learner_id).join(TrainingClass).where(
            TrainingClass.institution_id.in_(regional_institutions))
        return select(Learner.id).where(or_(in_region(Learner.region_code, user.region_code), Learner.id.in_(applying)))
    return select(Learner.id).where(false())

