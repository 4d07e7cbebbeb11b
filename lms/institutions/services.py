"""Rules for classes and enrolment review."""
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from ..accounts.models import User
from ..audit.services import record
from ..catalogue.models import REFRESHER, QualificationType
from ..core.clock import china_date
from ..core.context import Actor
from ..core.errors import RuleViolation
from ..extensions import db
from .models import APPROVED, PUBLISHED, RETURNED, SUBMITTED, Application, Institution, TrainingClass
from .permissions import can_edit_class, can_manage_class


class EnrolmentError(RuleViolation):
    """A class or enrolment rule refused the action."""


@dataclass(frozen=True)
class ClassPlan:
    title: str
    training_type: str
    qualification_type_id: int
    enrol_start: date
    enrol_end: date
    train_start: date
    train_end: date
    capacity: int
    offline_location: str
    total_hours: int
    required_online_hours: int


def plan_problems(plan: ClassPlan) -> list[str]:
    problems = []
    if plan.enrol_end < plan.enrol_start:
        problems.append("enrol_window")
    if plan.train_end < plan.train_start:
        problems.append("train_window")
    if plan.train_end < plan.enrol_start:
        problems.append("train_before_enrol")
    if plan.capacity < 1:
        problems.append("capacity")
    if not 0 < plan.required_online_hours <= plan.total_hours:
        problems.append("online_hours")
    return problems


def create_class(institution: Institution, plan: ClassPlan, now: datetime, actor: Actor) -> TrainingClass:
    problems = plan_problems(plan)
    if problems:
        raise EnrolmentError(problems[0])
    training_class = TrainingClass(institution_id=institution.id, created_by_id=actor.user.id,
                                   created_at=now, **plan.__dict__)
    db.session.add(training_class)
    db.session.flush()
    record(actor, "class_create", now, target=f"class:{training_class.id} {plan.title}",
           institution_id=institution.id, region_code=institution.region_code)
    db.session.commit()
    return training_class


def publish_class(training_class: TrainingClass, now: datetime, actor: Actor) -> None:
    if not can_edit_class(actor.user, training_class):
        raise EnrolmentError("forbidden")
    if training_class.status == PUBLISHED:
        raise EnrolmentError("already_published")
    training_class.status = PUBLISHED
    training_class.published_at = now
    record(actor, "class_publish", now, target=f"class:{training_class.id}",
           institution_id=training_class.institution_id,
           region_code=training_class.institution.region_code)
    db.session.commit()


def approved_count(training_class: TrainingClass) -> int:
    return db.session.scalar(select(func.count(Application.id)).where(
        Application.class_id == training_class.id, Application.status == APPROVED))


def enrolment_open(training_class: TrainingClass, now: datetime) -> bool:
    today = china_date(now)
    return training_class.status == PUBLISHED and \
        training_class.enrol_start <= today <= training_class.enrol_end


CERTIFICATE_NO = re.compile(r"^[A-Za-z0-9-]{6,32}$")


def _check_can_apply(learner, training_class: TrainingClass, previous_certificate_no: str | None,
                     now: datetime) -> None:
    if training_class.status != PUBLISHED:
        raise EnrolmentError("not_published")
    today = china_date(now)
    if today < training_class.enrol_start:
        raise EnrolmentError("not_open_yet")
    if today > training_class.enrol_end:
        raise EnrolmentError("closed")
    if approved_count(training_class) >= training_class.capacity:
        raise EnrolmentError("full")
    missing = learner.missing_materials(training_class.qualification.requires_education_cert)
    if missing:
        raise EnrolmentError("materials_missing", missing=missing)
    if training_class.training_type == REFRESHER and not CERTIFICATE_NO.match(previous_certificate_no or ""):
        raise EnrolmentError("certificate_required")


def apply_to_class(learner, training_class: TrainingClass, previous_certificate_no: str | None,
                   now: datetime, actor: Actor) -> Application:
    """Apply, or re-apply after being returned, inside the window and capacity."""
    previous_certificate_no = (previous_certificate_no or "").strip().upper() or None
    application = db.session.scalar(select(Application).where(
        Application.class_id == training_class.id, Application.learner_id == learner.id))
    if application is not None and application.status != RETURNED:
        raise EnrolmentError("already_applied")
    _check_can_apply(learner, training_class, previous_certificate_no, now)
    action = "application_resubmit" if application is not None else "application_submit"
    if application is None:
        application = Application(class_id=training_class.id, learner_id=learner.id)
        db.session.add(application)
    application.status = SUBMITTED
    application.previous_certificate_no = previous_certificate_no
    application.submitted_at = now
    db.session.flush()
    record(actor, action, now, target=f"application:{application.id} class:{training_class.id}",
           institution_id=training_class.institution_id, region_code=training_class.institution.region_code)
    db.session.commit()
    return application


def _check_reviewable(application: Application, reviewer: User) -> None:
    if not can_manage_class(reviewer, application.training_class):
        raise EnrolmentError("forbidden")
    if application.status != SUBMITTED:
        raise EnrolmentError("not_pending")


def approve_application(application: Application, now: datetime, actor: Actor) -> None:
    _check_reviewable(application, actor.user)
    # Lock the class row where the database can, so two approvals cannot overfill it.
    db.session.execute(select(TrainingClass.id).where(
        TrainingClass.id == application.class_id).with_for_update())
    if approved_count(application.training_class) >= application.training_class.capacity:
        raise EnrolmentError("full")
    _decide(application, APPROVED, None, now, actor)


def return_application(application: Application, reason: str, now: datetime, actor: Actor) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise EnrolmentError("reason_required")
    _check_reviewable(application, actor.user)
    _decide(application, RETURNED, reason, now, actor)


def _decide(application: Application, status: str, reason: str | None, now: datetime, actor: Actor) -> None:
    application.status = status
    application.return_reason = reason
    application.reviewed_at = now
    application.reviewed_by_id = actor.user.id
    record(actor, f"application_{status}", now, target=f"application:{application.id}",
           detail=reason or "", institution_id=application.training_class.institution_id,
           region_code=application.training_class.institution.region_code)
    db.session.commit()


def qualification_choices() -> list[QualificationType]:
    return list(db.session.scalars(select(QualificationType).order_by(
        QualificationType.audience, QualificationType.category, QualificationType.id)))
