"""Who may see and manage classes and applications, and which institutions a learner belongs to."""
from sqlalchemy import false, select

from ..catalogue.services import in_region, region_covers
from ..core.roles import ADMIN, LEARNER, REGULATOR, STAFF
from ..extensions import db
from .models import APPROVED, PUBLISHED, Application, Institution, TrainingClass

# --- a learner's institutions --------------------------------------------------------------------

def applied_institution_ids(learner_id: int):
    """Institutions the learner applied to (in any state): a select of ids."""
    return select(TrainingClass.institution_id).join(Application, Application.class_id == TrainingClass.id).where(
        Application.learner_id == learner_id)


def approving_institution_ids(learner_id: int):
    """Institutions that approved the learner into a class: they may act on the learner's account."""
    return applied_institution_ids(learner_id).where(Application.status == APPROVED)


def learners_approved_by(institution_id: int | None):
    """Learners an institution approved into one of its classes: a select of ids."""
    return select(Application.learner_id).join(TrainingClass).where(
        TrainingClass.institution_id == institution_id, Application.status == APPROVED)


def learner_applied_to(learner_id: int, institution_id: int | None) -> bool:
    return institution_id is not None and db.session.scalar(
        applied_institution_ids(learner_id).where(TrainingClass.institution_id == institution_id).limit(1)) is not None


def learner_approved_by(learner_id: int, institution_id: int | None) -> bool:
    return institution_id is not None and db.session.scalar(
        approving_institution_ids(learner_id).where(TrainingClass.institution_id == institution_id).limit(1)) is not None


def institution_regions_of_learner(learner_id: int) -> list[str]:
    return list(db.session.scalars(select(Institution.region_code).where(
        Institution.id.in_(applied_institution_ids(learner_id)))))


# --- classes -------------------------------------------------------------------------------------

def can_see_class(user, training_class: TrainingClass) -> bool:
    if user.role == ADMIN:
        return True
    if user.role == LEARNER:
        return training_class.status == PUBLISHED
    if user.role == STAFF:
        return training_class.institution_id == user.institution_id
    if user.role == REGULATOR:
        return region_covers(user.region_code, training_class.institution.region_code)
    return False


def can_manage_class(user, training_class: TrainingClass) -> bool:
    """Review its applications: staff of the class's institution, or the admin."""
    return user.role == ADMIN or (user.role == STAFF and user.institution_id == training_class.institution_id)


def can_edit_class(user, training_class: TrainingClass) -> bool:
    """Publish it, set its curriculum: staff of the class's institution."""
    return user.role == STAFF and user.institution_id == training_class.institution_id


def can_apply(user, training_class: TrainingClass) -> bool:
    return user.role == LEARNER and training_class.status == PUBLISHED


def visible_classes(user):
    """Classes a user may list: learners the published ones, staff their own, regulators their region's."""
    query = select(TrainingClass).join(Institution).order_by(TrainingClass.enrol_start.desc(), TrainingClass.id.desc())
    if user.role == ADMIN:
        return query
    if user.role == LEARNER:
        return query.where(TrainingClass.status == PUBLISHED)
    if user.role == STAFF:
        return query.where(TrainingClass.institution_id == user.institution_id)
    if user.role == REGULATOR:
        return query.where(in_region(Institution.region_code, user.region_code))
    return query.where(false())


# --- applications --------------------------------------------------------------------------------

def can_see_application(user, application: Application) -> bool:
    """Staff of the class's institution, regulators of its region, the admin (learners see theirs on the class page)."""
    return user.role != LEARNER and can_see_class(user, application.training_class)


def can_review_application(user, application: Application) -> bool:
    return can_manage_class(user, application.training_class)


def can_see_full_id(user, application: Application) -> bool:
    """The full ID number is shown only to whoever reviews that application (to compare with the ID image)."""
    return can_review_application(user, application)


def visible_applications(user, status: str | None = None, class_id: int | None = None):
    query = select(Application).join(TrainingClass).join(Institution).order_by(Application.submitted_at.desc())
    if user.role == LEARNER:
        query = query.where(Application.learner_id == user.learner.id)
    elif user.role == STAFF:
        query = query.where(TrainingClass.institution_id == user.institution_id)
    elif user.role == REGULATOR:
        query = query.where(in_region(Institution.region_code, user.region_code))
    elif user.role != ADMIN:
        query = query.where(false())
    if status:
        query = query.where(Application.status == status)
    if class_id:
        query = query.where(Application.class_id == class_id)
    return query
