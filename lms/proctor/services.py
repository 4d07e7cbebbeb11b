"""Face enrolment and face checks: the service other modules call.

A module that needs proof of presence (the player at the start of a learning session and at
random during it, the quiz likewise for a test attempt) opens a check for its own context with open_check(), and
connects a receiver to signals.check_changed for its context kind that hears every change of a
check's status, so it can confirm or void what happened since the previous check. The proctor
knows the context only as kind, id and a few details to show. Each function changes state,
writes its audit row in the same transaction, and says in its docstring what it did.
"""
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ..accounts.services import sign_out_everywhere
from ..audit.services import record
from ..core.context import Actor
from ..core.errors import RuleViolation
from ..extensions import db
from ..files.models import StoredFile
from ..files.storage import CheckedImage, discard_file, read_file, store_image
from ..learners.models import Learner
from . import decisions, faces, fingerprints, permissions
from .models import (ACTIVE, APPEAL, FAILED, MISSED, OPEN, PASSED, PENDING, REJECTED, REVIEW,
                     SUPERSEDED, FaceCheck, FaceCheckAttempt, FaceEnrolment, FaceReview)
from .signals import check_changed

MAX_FRAME_BYTES = 2 * 1024 * 1024
FRAME_KIND = "face_frame"


class FaceError(RuleViolation):
    """A face rule refused the action."""


def _set_status(check: FaceCheck, status: str, now: datetime, decided_by=None) -> None:
    """Change the status and tell the module that asked for the check (signals.check_changed),
    inside this transaction, so that what it confirms or voids lands with the change."""
    previous = check.status
    check.status = status
    if status in (PASSED, FAILED, MISSED):
        check.decided_at, check.decided_by_id = now, getattr(decided_by, "id", None)
    check_changed.send(check.context_kind, check=check, previous=previous, now=now)


def thresholds() -> decisions.Thresholds:
    return decisions.thresholds_from_config(current_app.config)


def policy() -> decisions.Policy:
    return decisions.policy_from_config(current_app.config)


# --- enrolment ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class EnrolmentCandidate:
    encoding: str
    face_width: int
    sharpness: float
    fingerprint: fingerprints.Fingerprint | None = None  # the photo must not come back as a check photo


def assess_photo(data: bytes, t: decisions.Thresholds | None = None) -> EnrolmentCandidate:
    """Check an enrolment photo (one whole face, large and sharp enough) and encode it.
    Raises FaceError with the reason; writes nothing."""
    try:
        rgb = faces.load_rgb(data, faces.ENROL_MAX_SIDE)
        original = faces.image_size(data)
    except faces.FaceImageError:
        raise FaceError("unreadable") from None
    analysis = faces.analyse(rgb)
    refusal = decisions.enrolment_refusal(analysis, original, t or thresholds())
    if refusal:
        raise FaceError(refusal)
    scale = max(original) / max(analysis.size)
    return EnrolmentCandidate(faces.encoding_to_text(analysis.face.encoding), round(analysis.face.width * scale),
                              round(analysis.sharpness, 1), fingerprints.of_face(data, analysis.face))


def active_enrolment(learner_id: int) -> FaceEnrolment | None:
    return db.session.scalar(select(FaceEnrolment).where(
        FaceEnrolment.learner_id == learner_id, FaceEnrolment.status == ACTIVE).order_by(FaceEnrolment.id.desc()))


def pending_enrolment(learner_id: int) -> FaceEnrolment | None:
    return db.session.scalar(select(FaceEnrolment).where(
        FaceEnrolment.learner_id == learner_id, FaceEnrolment.status == PENDING).order_by(FaceEnrolment.id.desc()))


def add_enrolment(learner: Learner, photo: StoredFile, candidate: EnrolmentCandidate, now: datetime,
                  actor: Actor, status: str = ACTIVE) -> FaceEnrolment:
    """Add (not commit) an enrolment for a photo already stored; logged."""
    enrolment = FaceEnrolment(learner_id=learner.id, photo_file_id=photo.id, encoding=candidate.encoding,
                              status=status, face_width=candidate.face_width, sharpness=candidate.sharpness,
                              created_at=now)
    db.session.add(enrolment)
    if candidate.fingerprint is not None:
        db.session.flush()
        fingerprints.keep(learner.id, [candidate.fingerprint], now, enrolment_id=enrolment.id)
    record(actor, "face_enrol" if status == ACTIVE else "face_enrol_request", now, user=learner.user,
           target=f"learner:{learner.id}", region_code=learner.region_code)
    return enrolment


def submit_photo(learner: Learner, image: CheckedImage, candidate: EnrolmentCandidate, now: datetime,
                 actor: Actor) -> FaceEnrolment:
    """A learner uploads a new enrolment photo. Without a usable enrolment it takes effect at once
    (it is also their 1-inch photo); replacing an active one waits for staff approval."""
    current = active_enrolment(learner.id)
    photo = store_image(image, "photo", learner.user_id)
    try:
        db.session.flush()
        if current is None:
            old_photo_id = learner.photo_file_id
            learner.photo_file_id = photo.id
            enrolment = add_enrolment(learner, photo, candidate, now, actor)
        else:
            old_photo_id = None
            for waiting in db.session.scalars(select(FaceEnrolment).where(
                    FaceEnrolment.learner_id == learner.id, FaceEnrolment.status == PENDING)):
                waiting.status, waiting.decided_at, waiting.note = SUPERSEDED, now, "replaced by a newer request"
            enrolment = add_enrolment(learner, photo, candidate, now, actor, status=PENDING)
        db.session.commit()
    except Exception:
        db.session.rollback()
        discard_file(photo)
        raise
    _drop_unreferenced_photo(old_photo_id)
    return enrolment


def _drop_unreferenced_photo(file_id: int | None) -> None:
    """A 1-inch photo replaced before any enrolment used it is deleted; enrolment photos are kept."""
    if file_id is None or db.session.scalar(select(FaceEnrolment.id).where(FaceEnrolment.photo_file_id == file_id)):
        return
    old = db.session.get(StoredFile, file_id)
    if old is not None:
        discard_file(old)
        db.session.delete(old)
        db.session.commit()


def decide_replacement(enrolment: FaceEnrolment, approve: bool, note: str, now: datetime, actor: Actor) -> None:
    """Staff approve a pending enrolment photo (the old one is superseded and the learner's 1-inch photo
    becomes the new one) or reject it with a reason; logged."""
    if actor.user is None or not permissions.can_decide_enrolment(actor.user, enrolment):
        raise FaceError("forbidden")
    if enrolment.status != PENDING:
        raise FaceError("not_pending")
    learner = db.session.get(Learner, enrolment.learner_id)
    if approve:
        for old in db.session.scalars(select(FaceEnrolment).where(
                FaceEnrolment.learner_id == learner.id, FaceEnrolment.status == ACTIVE)):
            old.status = SUPERSEDED
        enrolment.status = ACTIVE
        learner.photo_file_id = enrolment.photo_file_id
    else:
        if not note.strip():
            raise FaceError("note_required")
        enrolment.status = REJECTED
    enrolment.decided_at, enrolment.decided_by_id, enrolment.note = now, actor.user.id, note.strip()[:300]
    record(actor, "face_enrol_decision", now, target=f"learner:{learner.id}",
           detail="approved" if approve else "rejected", region_code=learner.region_code)
    db.session.commit()


# --- checks ------------------------------------------------------------------------------------

def open_check(learner_id: int, context_kind: str, context_id: int, purpose: str, now: datetime, ip: str, *,
               owner_institution_id: int | None, details: dict | None = None) -> FaceCheck:
    """Ask for a check, due now (not committed: it lands with what caused it). ``owner_institution_id``
    names the institution whose context asked for it: its staff review the check. ``details`` is a
    small JSON-able dict kept with the check (FaceCheck.details): the asking module's own keys, and
    "title" and "where" (text), which the proctor's pages show."""
    enrolment = active_enrolment(learner_id)
    if enrolment is None:
        raise FaceError("not_enrolled")
    check = FaceCheck(learner_id=learner_id, enrolment_id=enrolment.id, context_kind=context_kind,
                      context_id=context_id, purpose=purpose,
                      context_details=json.dumps(details or {}, ensure_ascii=False, sort_keys=True),
                      owner_institution_id=owner_institution_id,
                      status=OPEN, due_at=now, ip=ip[:64])
    db.session.add(check)
    db.session.flush()
    return check


def _sign_out(check: FaceCheck, now: datetime) -> None:
    """A check failed or went unanswered: the learner is signed out on every device."""
    sign_out_everywhere(db.session.get(Learner, check.learner_id).user_id, now)


def miss_check(check: FaceCheck, now: datetime, actor: Actor) -> None:
    """An open check went unanswered (time ran out, or its context ended first); logged, not committed."""
    if check.status != OPEN:
        return
    check.reason = check.reason or "overdue"
    _set_status(check, MISSED, now)
    _sign_out(check, now)
    record(actor, "face_check", now, target=f"face_check:{check.id}", result="failure", detail="missed",
           user=db.session.get(Learner, check.learner_id).user)


def expire_if_overdue(check: FaceCheck, now: datetime) -> bool:
    if check.status == OPEN and decisions.overdue(check.due_at, now, policy()):
        miss_check(check, now, Actor(None, check.ip, ""))
        return True
    return False


def sweep_overdue(now: datetime) -> int:
    """Checks whose page went away without an answer: missed (run by the worker)."""
    cutoff = now - timedelta(seconds=policy().window_seconds)
    overdue = db.session.scalars(select(FaceCheck).where(FaceCheck.status == OPEN, FaceCheck.due_at <= cutoff)).all()
    for check in overdue:
        miss_check(check, now, Actor(None, "worker", ""))
    db.session.commit()
    return len(overdue)


# --- reviews and appeals ------------------------------------------------------------------------------

def appeal(check: FaceCheck, statement: str, now: datetime, actor: Actor) -> FaceReview:
    """The learner asks a person to look again at a failed check; logged."""
    if actor.user is None or not permissions.can_appeal(actor.user, check):
        raise FaceError("forbidden")
    if check.status != FAILED:
        raise FaceError("not_appealable")
    if any(review.kind == APPEAL for review in check.reviews):
        raise FaceError("already_appealed")
    if not statement.strip():
        raise FaceError("statement_required")
    review = FaceReview(check_id=check.id, kind=APPEAL, opened_at=now, statement=statement.strip()[:500])
    db.session.add(review)
    record(actor, "face_appeal", now, target=f"face_check:{check.id}")
    db.session.commit()
    return review


def decide_review(review: FaceReview, passed: bool, note: str, now: datetime, actor: Actor) -> None:
    """Staff decide a doubtful result or an appeal with the frames in front of them: the check becomes
    passed or failed, and the module that asked for it confirms or voids the time; logged."""
    if actor.user is None or not permissions.can_decide_review(actor.user, review):
        raise FaceError("forbidden")
    if review.decision is not None:
        raise FaceError("already_decided")
    if not passed and not note.strip():
        raise FaceError("note_required")
    check = review.check
    review.decision = PASSED if passed else FAILED
    review.decided_at, review.decided_by_id, review.note = now, actor.user.id, note.strip()[:300]
    if check.status in (REVIEW, FAILED) and (check.status != FAILED or passed):
        _set_status(check, PASSED if passed else FAILED, now, decided_by=actor.user)
    learner = db.session.get(Learner, check.learner_id)
    record(actor, "face_review_decision", now, target=f"face_check:{check.id}",
           detail=f"{review.kind} {review.decision}", region_code=learner.region_code)
    db.session.commit()


def open_reviews(scope) -> list[FaceReview]:
    """Undecided reviews of the checks a filter on FaceCheck admits (permissions.decidable_checks)."""
    return list(db.session.scalars(select(FaceReview).join(FaceCheck).where(
        FaceReview.decision.is_(None), scope).order_by(FaceReview.opened_at)))


def pending_replacements(scope) -> list[FaceEnrolment]:
    """Replacement photos waiting for a decision that a filter on FaceEnrolment admits."""
    return list(db.session.scalars(select(FaceEnrolment).where(FaceEnrolment.status == PENDING, scope)
                                   .order_by(FaceEnrolment.id)))


def enrolment_history(learner_id: int) -> list[FaceEnrolment]:
    """Every face photo the learner gave, newest first, with who decided what."""
    return list(db.session.scalars(select(FaceEnrolment).where(FaceEnrolment.learner_id == learner_id)
                                   .order_by(FaceEnrolment.id.desc())))


def checks_of(learner_id: int, limit: int = 100, scope=None) -> list[FaceCheck]:
    query = select(FaceCheck).where(FaceCheck.learner_id == learner_id)
    if scope is not None:
        query = query.where(scope)
    return list(db.session.scalars(query.order_by(FaceCheck.id.desc()).limit(limit)))


def frame_bytes(check: FaceCheck, file_id: int) -> bytes | None:
    """One captured frame of the check, or None if it is not the check's or retention removed it."""
    if not any(file_id in attempt.frame_ids and attempt.frames_purged_at is None for attempt in check.attempt_rows):
        return None
    stored = db.session.get(StoredFile, file_id)
    return read_file(stored) if stored is not None else None


# --- retention ---------------------------------------------------------------------------------------

def purge_old_frames(now: datetime, retention_days: int) -> int:
    """Delete captured frames older than the retention period; the decision, distance and liveness stay."""
    cutoff = now - timedelta(days=retention_days)
    attempts = db.session.scalars(select(FaceCheckAttempt).where(
        FaceCheckAttempt.at < cutoff, FaceCheckAttempt.frames_purged_at.is_(None))).all()
    for attempt in attempts:
        for file_id in attempt.frame_ids:
            stored = db.session.get(StoredFile, file_id)
            if stored is not None:
                discard_file(stored)
                db.session.delete(stored)
        attempt.frames_purged_at = now
    fingerprints.purge(now, retention_days)
    db.session.commit()
    return len(attempts)


def has_usable_enrolment(learner_id: int) -> bool:
    return active_enrolment(learner_id) is not None

