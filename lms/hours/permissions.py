"""Who may see, issue, revoke, correct or export hours and certificates.

A learner sees their own hours and certificates. Staff see the hours of learners who applied to
their institution, correct the hours of their institution's courses for learners it approved,
and revoke and export their institution's certificates. Regulators read and export everything of
their region (a certificate's institution or its learner in it). The admin sees everything.
Certificates are issued by the system only: no person may issue one. Verification is public.
"""
from sqlalchemy import false, or_, select, true

from ..catalogue.services import in_region, region_covers
from ..core.roles import ADMIN, LEARNER, REGULATOR, STAFF
from ..institutions.models import TrainingClass
from ..institutions.permissions import learner_approved_by
from ..learners.models import Learner
from ..learners.permissions import can_view_learner
from ..player.models import Course
from .models import Certificate


def _own(user, learner_id: int) -> bool:
    return user.role == LEARNER and user.learner is not None and user.learner.id == learner_id


def can_see_own_hours(user) -> bool:
    return user.role == LEARNER and user.learner is not None


def can_see_learner_hours(user, learner: Learner) -> bool:
    """The staff/regulator/admin view of a learner's ledger (learners use their own page)."""
    return user.role != LEARNER and can_view_learner(user, learner)


def can_see_ledger_lines(user, learner: Learner, course: Course) -> bool:
    """The lines of a course's ledger (each entry, its reason, who wrote it) belong to the course's
    institution: its staff and the admin read them, and regulators, who audit, read them when the
    course's institution or the learner is in their region. Anyone else who may see the learner's
    hours (staff of another institution the learner applied to) sees the course's total only."""
    if user.role == ADMIN:
        return True
    if user.role == STAFF:
        return course.institution_id == user.institution_id
    if user.role == REGULATOR:
        return region_covers(user.region_code, course.institution.region_code) or \
            region_covers(user.region_code, learner.region_code)
    return False


def can_correct(user, learner: Learner, course: Course) -> bool:
    """Staff of the course's institution, for a learner that institution approved."""
    return user.role == STAFF and course.institution_id == user.institution_id and \
        learner_approved_by(learner.id, user.institution_id)


def can_see_certificate(user, certificate: Certificate) -> bool:
    if user.role == ADMIN:
        return True
    if user.role == LEARNER:
        return _own(user, certificate.learner_id)
    if user.role == STAFF:
        return certificate.institution_id == user.institution_id
    if user.role == REGULATOR:
        return region_covers(user.region_code, certificate.region_code) or \
            region_covers(user.region_code, certificate.learner.region_code)
    return False


def can_revoke(user, certificate: Certificate) -> bool:
    return user.role == ADMIN or (user.role == STAFF and certificate.institution_id == user.institution_id)


def can_see_class_hours(user, training_class: TrainingClass) -> bool:
    if user.role == ADMIN:
        return True
    if user.role == STAFF:
        return training_class.institution_id == user.institution_id
    if user.role == REGULATOR:
        return region_covers(user.region_code, training_class.institution.region_code)
    return False


def can_export_class(user, training_class: TrainingClass) -> bool:
    return can_see_class_hours(user, training_class)


def can_export(user) -> bool:
    """Export certificates by date range: staff (their institution), regulators (their region), admin."""
    return user.role in (STAFF, REGULATOR, ADMIN)


def visible_certificates(user):
    """A filter on Certificate for lists and exports."""
    if user.role == ADMIN:
        return true()
    if user.role == STAFF:
        return Certificate.institution_id == (user.institution_id or -1)
    if user.role == REGULATOR:
        return or_(in_region(Certificate.region_code, user.region_code),
                   Certificate.learner_id.in_(select(Learner.id).where(in_region(Learner.region_code,
                                                                               user.region_code))))
    if user.role == LEARNER:
        return Certificate.learner_id == (user.learner.id if user.learner else -1)
    return false()
