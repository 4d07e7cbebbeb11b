"""The phone photos fallback: when a try may be answered with two photos instead of live frames.

The server has only the page's word that it found no camera, and two photos can come from the
album. So the fallback is limited, and every use is shown to the staff of the check's institution:
- at most ``LMS_FACE_PHOTO_FALLBACK_PER_DAY`` photo challenges per learner in any 24 hours, counted
  over all of the learner's checks (every course and institution: stricter than a count per course,
  which the proctor cannot make since it knows a check's owner, not its course); 0 turns it off;
- never in a context (a learning session, a test attempt) whose page already asked for a camera
  challenge: a page that had a camera and now says it has none is not believed;
- a refusal costs no try, is logged, and tells the learner that a camera is needed and how to get one;
- each photo challenge is logged for the owning institution (audit ``face_check_fallback``), and a
  try that photos pass (or leave doubtful) does not pass the check: it goes to staff review as a
  PHOTO_FALLBACK review, and its study time waits for staff like a doubtful result's.
"""
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ..audit.services import record
from ..core.context import Actor
from ..extensions import db
from . import decisions
from .models import DOUBTFUL_RESULT, PHOTO_FALLBACK, FaceChallenge, FaceCheck
from .services import FaceError

WINDOW = timedelta(days=1)
# Why the fallback is refused (FaceError codes, messages.FACE_ERRORS).
PHOTOS_OFF, CAMERA_SEEN, PHOTO_LIMIT = "photos_off", "camera_seen", "photo_limit"


@dataclass(frozen=True)
class Facts:
    """What the rule needs to know about the learner and the check's context."""
    photo_challenges: list[datetime]   # when the learner was given photo challenges (any check)
    camera_in_context: bool            # the check's context already had a camera challenge


def per_day() -> int:
    return int(current_app.config["LMS_FACE_PHOTO_FALLBACK_PER_DAY"])


def refusal(facts: Facts, now: datetime, limit: int) -> str | None:
    """Why the learner may not answer this try with photos, or None when they may."""
    if limit <= 0:
        return PHOTOS_OFF
    if facts.camera_in_context:
        return CAMERA_SEEN
    if sum(1 for issued in facts.photo_challenges if now - WINDOW < issued <= now) >= limit:
        return PHOTO_LIMIT
    return None


def facts_of(check: FaceCheck, now: datetime) -> Facts:
    """Read the facts for ``check`` from the database."""
    learner_challenges = select(FaceChallenge.issued_at).join(FaceCheck, FaceCheck.id == FaceChallenge.check_id)
    recent = db.session.scalars(learner_challenges.where(
        FaceCheck.learner_id == check.learner_id, FaceChallenge.mode == decisions.PHOTOS,
        FaceChallenge.issued_at > now - WINDOW)).all()
    camera = db.session.scalar(learner_challenges.where(
        FaceCheck.learner_id == check.learner_id, FaceCheck.context_kind == check.context_kind,
        FaceCheck.context_id == check.context_id, FaceChallenge.mode == decisions.CAMERA).limit(1))
    return Facts(list(recent), camera is not None)


def ensure_allowed(check: FaceCheck, now: datetime, actor: Actor) -> None:
    """Raise FaceError when this try may not be answered with photos; the refusal is logged and
    committed (for the check's institution), and uses none of the check's tries."""
    reason = refusal(facts_of(check, now), now, per_day())
    if reason is None:
        return
    record(actor, "face_check_fallback", now, target=f"face_check:{check.id}", result="failure",
           detail=f"refused: {reason}", institution_id=check.owner_institution_id)
    db.session.commit()
    raise FaceError(reason)


def log_use(check: FaceCheck, now: datetime, actor: Actor) -> None:
    """Log a photo challenge for the check's institution (not committed: it lands with the challenge)."""
    record(actor, "face_check_fallback", now, target=f"face_check:{check.id}", detail="no camera found",
           institution_id=check.owner_institution_id)


def for_check(verdict: decisions.AttemptVerdict, mode: str) -> decisions.AttemptVerdict:
    """What a try's verdict does to its check: photos that pass, or are doubtful, go to staff review
    (reason PHOTO_FALLBACK); the try itself keeps its own verdict as evidence."""
    if mode == decisions.PHOTOS and verdict.outcome in (decisions.PASS, decisions.DOUBTFUL):
        return replace(verdict, outcome=decisions.DOUBTFUL, reason=PHOTO_FALLBACK)
    return verdict


def review_kind(verdict: decisions.AttemptVerdict) -> str:
    """The kind of review a doubtful verdict (after for_check) opens."""
    return PHOTO_FALLBACK if verdict.reason == PHOTO_FALLBACK else DOUBTFUL_RESULT
