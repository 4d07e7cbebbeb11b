"""Study-hours certificates: issued by the system when a class's online hours are reached,
revoked by staff with a reason (or by the system when credited hours are taken back), and
verified from their signed payload by anyone."""
import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..audit.services import learner_ref, record
from ..core.context import Actor
from ..core.iddocs import public_mask
from ..core.labels import label
from ..extensions import db
from ..institutions.models import TrainingClass
from ..learners.models import Learner
from . import keys, payload, progress as hours_progress
from .messages import HoursError
from .models import BY_STAFF, HOURS_WITHDRAWN, REVOKED, VALID, Certificate

NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U to misread
NUMBER_RANDOM = 8                                     # 40 bits: numbers cannot be guessed
MAX_REASON = 500


def new_number(now: datetime) -> str:
    return f"XS{now.year}" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_RANDOM))


def valid_certificate(learner_id: int, class_id: int) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.learner_id == learner_id,
                                                       Certificate.class_id == class_id, Certificate.live.is_(True)))


def certificates_of(learner_id: int) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.learner_id == learner_id)
                                   .order_by(Certificate.issued_at.desc(), Certificate.id.desc())))


def _revoked_by_staff(learner_id: int, class_id: int) -> bool:
    return db.session.scalar(select(Certificate.id).where(
        Certificate.learner_id == learner_id, Certificate.class_id == class_id,
        Certificate.revoked_how == BY_STAFF).limit(1)) is not None


def facts_for(learner: Learner, training_class: TrainingClass, progress: hours_progress.ClassProgress, number: str,
              key_id: str, now: datetime) -> payload.CertificateFacts:
    """What the certificate certifies, in the platform's default language (it is signed once)."""
    qualification = training_class.qualification
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        training_type = str(label("training_type", training_class.training_type))
    courses = tuple(payload.CourseLine(row.course.title, row.credited, row.score)
                    for row in progress.courses if row.credited_tenths > 0)
    return payload.CertificateFacts(
        number=number, name=learner.name, masked_id=public_mask(learner.id_number),
        institution=training_class.institution.name, class_title=training_class.title,
        training_type=training_type, category=" ".join(filter(None, (qualification.category, qualification.item))),
        hours=progress.credited, required_hours=training_class.required_online_hours, courses=courses,
        start=progress.first_credit, completed=progress.reached_on, issued_at=now.replace(microsecond=0),
        key_id=key_id)


def reconcile(learner: Learner, training_class: TrainingClass, now: datetime) -> Certificate | None:
    """After the learner's hours changed: issue the class's certificate when the credited online
    hours reach the requirement (unless staff revoked one: that stands until they act), and revoke
    it when they fall below. Runs in the caller's transaction. Returns a certificate issued now."""
    progress = hours_progress.class_progress(learner.id, training_class)
    current = valid_certificate(learner.id, training_class.id)
    if current is not None and not progress.complete:
        _revoke(current, HOURS_WITHDRAWN, "", now, Actor(None, "system", ""))
        return None
    if current is None and progress.complete and not _revoked_by_staff(learner.id, training_class.id):
        return issue(learner, training_class, progress, now)
    return None


def issue(learner: Learner, training_class: TrainingClass, progress: hours_progress.ClassProgress,
          now: datetime) -> Certificate | None:
    """Sign and store the certificate (only reconcile calls this, once the requirement is met).
    A second writer at the same moment collides on the one-valid-certificate constraint."""
    if not progress.complete:
        raise HoursError("not_complete")
    key_id, private_key = keys.signing_key(now)
    number = new_number(now)
    facts = facts_for(learner, training_class, progress, number, key_id, now)
    certificate = Certificate(number=number, learner_id=learner.id, class_id=training_class.id,
                              institution_id=training_class.institution_id,
                              region_code=training_class.institution.region_code, key_id=key_id,
                              token=payload.sign(facts, private_key), issued_at=facts.issued_at, status=VALID, live=True)
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError:
        return None
    record(Actor(None, "system", ""), "hours_certificate_issue", now,
           target=f"{learner_ref(learner.id)} certificate:{number}", detail=f"{progress.credited:.1f} h",
           institution_id=training_class.institution_id, region_code=learner.region_code)
    return certificate


def _revoke(certificate: Certificate, how: str, reason: str, now: datetime, actor: Actor) -> None:
    certificate.status, certificate.live = REVOKED, None
    certificate.revoked_at, certificate.revoked_how, certificate.revoke_reason = now, how, reason
    certificate.revoked_by_id = getattr(actor.user, "id", None)
    record(actor, "hours_certificate_revoke", now, target=f"certificate:{certificate.number}",
           detail=f"{how}: {reason}"[:500], institution_id=certificate.institution_id,
           region_code=certificate.region_code)


def revoke(certificate: Certificate, reason: str, now: datetime, actor: Actor) -> None:
    """Staff revoke a certificate with a reason; the verification page and API then say revoked.
    Logged and committed."""
    reason = (reason or "").strip()
    if not reason:
        raise HoursError("reason_required")
    if len(reason) > MAX_REASON:
        raise HoursError("reason_too_long", limit=MAX_REASON)
    if certificate.status == REVOKED:
        raise HoursError("already_revoked")
    _revoke(certificate, BY_STAFF, reason, now, actor)
    db.session.commit()


def as_shown(facts: payload.CertificateFacts) -> payload.CertificateFacts:
    """The facts as pages, the API and printed documents show them: certificates signed before
    ``public_mask`` carry the first and last four characters of the ID number, shown as the last three."""
    return replace(facts, masked_id=public_mask(facts.masked_id))


def facts_of(certificate: Certificate) -> payload.CertificateFacts:
    """The facts the platform signed for this certificate (read from its own stored payload), as shown."""
    return as_shown(payload.peek(certificate.token))


def by_number(number: str) -> Certificate | None:
    number = (number or "").strip().upper()
    if not number or len(number) > 32:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.number == number))


# --- verification --------------------------------------------------------------------------------

UNKNOWN, INVALID = "unknown", "invalid"


@dataclass(frozen=True)
class Verdict:
    status: str                 # valid | revoked | unknown | invalid
    facts: payload.CertificateFacts | None   # what the platform certified (its own record when it has one)
    certificate: Certificate | None
    reason: str = ""            # for invalid: format | version | unknown_key | signature; for revoked: how


def _verdict_of(certificate: Certificate | None, facts=None) -> Verdict:
    """``facts``: already read from a payload that matches the record (it is not read again)."""
    facts = as_shown(facts) if facts is not None else None
    if certificate is None:
        return Verdict(UNKNOWN, facts, None)
    return Verdict(certificate.status, facts or facts_of(certificate), certificate,
                   certificate.revoked_how or "" if certificate.status == REVOKED else "")


def verify_token(token: str) -> Verdict:
    """The verdict on a scanned or pasted payload: its signature first (with the published keys),
    then the platform's record of that certificate number. A payload whose signature checks but
    that differs from the platform's record is not this certificate: invalid."""
    try:
        facts = payload.verify(token, keys.public_keys())
    except payload.PayloadError as error:
        return Verdict(INVALID, None, None, error.reason)
    certificate = by_number(facts.number)
    # Compared as the signed bytes (payload.verify has already refused any other encoding of them).
    if certificate is not None and payload.open_token(certificate.token) != payload.open_token(token):
        return Verdict(INVALID, None, None, "not_on_record")
    return _verdict_of(certificate, facts)


def verify_number(number: str) -> Verdict:
    return _verdict_of(by_number(number))
