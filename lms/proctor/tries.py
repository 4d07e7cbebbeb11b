"""One try at a face check: the server's challenge, then the learner's answer to it. (Tries, not
attempts: lms/quiz/attempts.py is a learner's attempts at a test.)

An attempt starts when the page has its camera (or knows it has none) and asks for a challenge:
the server picks at random which way to turn and when the prompt appears, and gives a nonce
and a deadline. Issuing it uses one of the check's tries. The answer must carry that nonce and
arrive in time; its frames must be new (fingerprints.py) and must show the asked turn, after the
prompt, by the enrolled person alone. Every answer that could be read is kept as evidence, with
its reason. Each state change commits with its audit row and says in its docstring what it did.
"""
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from random import SystemRandom

from flask import current_app
from sqlalchemy import select, update

from ..audit.services import record
from ..core.context import Actor
from ..extensions import db
from ..files.storage import CheckedImage, UploadRejected, check_image, files_kept_only_if_committed, store_image
from . import decisions, faces, fallback, fingerprints, motion, replays
from .models import FAILED, MISSED, OPEN, PASSED, REVIEW, FaceChallenge, FaceCheck, FaceCheckAttempt, \
    FaceReview
from .services import (FRAME_KIND, MAX_FRAME_BYTES, FaceError, _set_status, _sign_out, expire_if_overdue, miss_check,
                       policy, thresholds)

_rng = SystemRandom()  # the learner must not be able to predict the challenge or the frames searched closely


@dataclass(frozen=True)
class CaptureSettings:
    hold_frames: tuple[int, int]  # fewest and most frames before the prompt ...
    interval_ms: int              # ... this far apart
    burst_frames: int             # frames after the prompt ...
    burst_interval_ms: int        # ... this far apart
    actions: tuple[str, ...]
    answer_slack: float           # seconds after the last frame is due
    photo_seconds: float          # no camera: time to take and send two photos
    upsampled_frames: int         # frames per attempt searched for small second faces

    @property
    def most_frames(self) -> int:
        return self.hold_frames[1] + self.burst_frames


def capture_settings() -> CaptureSettings:
    config = current_app.config
    low, high = (int(value) for value in config["LMS_FACE_HOLD_FRAMES"])
    actions = tuple(config["LMS_FACE_ACTIONS"])
    if not 1 <= low <= high or not actions or set(actions) - set(decisions.ACTIONS):
        raise ValueError("LMS_FACE_HOLD_FRAMES needs 1 <= fewest <= most; LMS_FACE_ACTIONS some of "
                         f"{decisions.ACTIONS}")
    return CaptureSettings((low, high), int(config["LMS_FACE_FRAME_INTERVAL_MS"]), int(config["LMS_FACE_BURST_FRAMES"]),
                           int(config["LMS_FACE_BURST_INTERVAL_MS"]), actions,
                           float(config["LMS_FACE_ANSWER_SLACK_SECONDS"]), float(config["LMS_FACE_PHOTO_SECONDS"]),
                           int(config["LMS_FACE_UPSAMPLED_FRAMES"]))


# --- the challenge ------------------------------------------------------------------------------------

def issue_challenge(check: FaceCheck, camera: bool, now: datetime, actor: Actor) -> FaceChallenge:
    """Start a try: pick the challenge, use one of the check's tries, and commit. ``camera`` is what the
    page found; without a camera the challenge asks for two photos if fallback.py allows it (a refusal
    costs no try), and the fallback is logged."""
    settings = capture_settings()
    _still_open(check, now)
    if check.attempts >= policy().attempts:
        raise FaceError("no_attempts_left")
    if not camera:
        fallback.ensure_allowed(check, now, actor)
    claimed = db.session.execute(update(FaceCheck).where(
        FaceCheck.id == check.id, FaceCheck.status == OPEN, FaceCheck.attempts == check.attempts).values(
        attempts=FaceCheck.attempts + 1)).rowcount
    if claimed != 1:
        db.session.rollback()
        raise FaceError("busy")  # another try of this check started meanwhile
    chosen = decisions.pick_challenge(decisions.CAMERA if camera else decisions.PHOTOS, _rng, settings.hold_frames,
                                      settings.burst_frames, settings.actions)
    challenge = FaceChallenge(check_id=check.id, nonce=secrets.token_urlsafe(24), mode=chosen.mode,
                              action=chosen.action, prompt_frame=chosen.prompt_frame, frame_count=chosen.frame_count,
                              reaction_frames=chosen.reaction_frames, interval_ms=settings.interval_ms,
                              burst_interval_ms=settings.burst_interval_ms, issued_at=now, ip=actor.ip[:64])
    challenge.deadline = (earliest_answer(challenge) + timedelta(seconds=settings.answer_slack) if camera
                          else now + timedelta(seconds=settings.photo_seconds))
    db.session.add(challenge)
    if not camera:
        fallback.log_use(check, now, actor)
    db.session.commit()
    db.session.refresh(check)
    return challenge


def _still_open(check: FaceCheck, now: datetime) -> None:
    if expire_if_overdue(check, now):
        db.session.commit()
    if check.status != OPEN:
        raise FaceError("check_closed")


def current_challenge(check_id: int) -> FaceChallenge | None:
    """The check's newest challenge while it waits for its answer; earlier ones have lapsed."""
    newest = db.session.scalar(select(FaceChallenge).where(FaceChallenge.check_id == check_id)
                               .order_by(FaceChallenge.id.desc()))
    return newest if newest is not None and newest.answered_at is None else None


def earliest_answer(challenge: FaceChallenge) -> datetime:
    """Once it has the challenge the page takes the hold frames interval_ms apart, shows the prompt one
    interval after the last, and takes the burst frames burst_interval_ms apart: no answer comes sooner."""
    burst = challenge.frame_count - challenge.prompt_frame
    return challenge.issued_at + timedelta(milliseconds=challenge.interval_ms * challenge.prompt_frame
                                           + challenge.burst_interval_ms * burst)


def as_rule(challenge: FaceChallenge) -> decisions.Challenge:
    return decisions.Challenge(challenge.mode, challenge.action, challenge.prompt_frame, challenge.frame_count,
                               challenge.reaction_frames)


# --- the answer -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AttemptResult:
    status: str                  # PASSED | REVIEW | FAILED | MISSED | "retry"
    reason: str | None
    attempts_left: int
    distance: float | None


def submit_attempt(check: FaceCheck, frames: list[bytes], nonce: str, now: datetime, actor: Actor,
                   clock: Callable[[], datetime] | None = None) -> AttemptResult:
    """Judge the frames posted as the answer to the check's current challenge, keep them encrypted as
    evidence with their fingerprints, and move the check on: passed, to staff review, another try, or
    failed for good; logged. Unreadable input raises FaceError and costs nothing.

    ``now`` is when the answer arrived: the deadlines are judged by it, so the server's judging time never
    costs the learner a try. ``clock`` (default: ``now``) tells the moment the verdict is reached, after the
    judging, which can take seconds on a busy server: the check is decided then, and the next random check
    is counted from then, so the learner gets the whole interval of study between two checks."""
    if check.status == OPEN and decisions.overdue(check.due_at, now, policy()):
        miss_check(check, now, actor)
        db.session.commit()
        return AttemptResult(MISSED, "overdue", 0, None)
    if check.status != OPEN:
        raise FaceError("check_closed")
    challenge = current_challenge(check.id)
    if challenge is None:
        raise FaceError("no_challenge")
    if not 1 <= len(frames) <= max_frames():
        raise FaceError("frames")
    images = [_checked_frame(data) for data in frames]
    verdict, prints = _judge(check, challenge, images, nonce, now)
    decided_at = clock() if clock is not None else now
    return _keep_attempt(check, challenge, images, verdict, prints, now, decided_at, actor)


def max_frames() -> int:
    """The most frames an answer may hold (a camera attempt's; two photos otherwise)."""
    return max(capture_settings().most_frames, 2)


def _checked_frame(data: bytes) -> CheckedImage:
    try:
        return check_image(data, MAX_FRAME_BYTES, min_side=120, max_side=5000)
    except UploadRejected:
        raise FaceError("frame_invalid") from None


def _judge(check, challenge, images, nonce, now) -> tuple[decisions.AttemptVerdict, list]:
    """The verdict, and the fingerprints to keep (none when the answer was refused unread)."""
    if not secrets.compare_digest(nonce.encode(), challenge.nonce.encode()):
        return decisions.failed("stale"), []
    if now > challenge.deadline:
        return decisions.failed("late"), []
    rule = as_rule(challenge)
    if rule.mode == decisions.CAMERA and now < earliest_answer(challenge):
        return decisions.failed("early"), []   # sooner than the camera can take the frames: a script
    if not decisions.frame_count_ok(len(images), rule):
        return decisions.failed("challenge"), []
    if fingerprints.byte_replay(check.learner_id, [fingerprints.digest_of(image.data) for image in images]):
        return decisions.failed("replayed"), []
    analyses, greys = _analyse(images, rule)
    steps = _steps(analyses, greys) if rule.mode == decisions.CAMERA else None
    verdict = decisions.judge_attempt(analyses, faces.encoding_from_text(check.enrolment.encoding), rule,
                                      thresholds(), steps)
    if any(a.face is None for a in analyses):
        return verdict, []
    found = [(image.data, a.faces) for image, a in zip(images, analyses, strict=True)]
    if rule.mode == decisions.CAMERA:
        moving = decisions.moving_frames([a.face for a in analyses], rule, thresholds())
    else:
        moving = [True] * len(found)   # two photos: each is compared and kept
    if replays.replayed_answer(check.learner_id, found, moving, rule.mode):
        verdict = replace(verdict, outcome=decisions.FAIL, reason="replayed")  # whatever else it showed
    return verdict, replays.prints_to_keep(found, moving, rule.mode)


def _steps(analyses: list[faces.Analysis], greys: list) -> list[motion.Step] | None:
    """How each frame follows the one before (motion.py), when every frame shows one face."""
    if any(a.face is None for a in analyses):
        return None
    return [motion.step(greys[i], greys[i + 1], analyses[i].face.points, analyses[i + 1].face.points,
                        analyses[i].face.box) for i in range(len(analyses) - 1)]


def _analyse(images: list[CheckedImage], rule: decisions.Challenge) -> tuple[list[faces.Analysis], list]:
    """Every frame at the usual cost, and its grey image for the motion rules; some frames, picked at
    random, are also searched for a small second face (every photo in PHOTOS mode: there are only two)."""
    count = len(images) if rule.mode == decisions.PHOTOS else min(capture_settings().upsampled_frames, len(images))
    closer = set(_rng.sample(range(len(images)), count))
    analyses, greys = [], []
    try:
        for index, image in enumerate(images):
            rgb = faces.load_rgb(image.data, faces.FRAME_MAX_SIDE)
            analyses.append(faces.analyse(rgb, search_small=index in closer))
            greys.append(motion.grey(rgb) if rule.mode == decisions.CAMERA else None)
    except faces.FaceImageError:
        raise FaceError("frame_invalid") from None
    return analyses, greys


def _keep_attempt(check, challenge, images, verdict, prints, now, decided_at, actor) -> AttemptResult:
    with files_kept_only_if_committed() as stored:
        claimed = db.session.execute(update(FaceChallenge).where(
            FaceChallenge.id == challenge.id, FaceChallenge.answered_at.is_(None)).values(answered_at=now)).rowcount
        if claimed != 1:
            raise FaceError("busy")  # another answer to this challenge landed meanwhile
        for image in images:
            stored.append(store_image(image, FRAME_KIND, actor.user.id if actor.user else None))
        db.session.flush()
        attempt = FaceCheckAttempt(
            check_id=check.id, challenge_id=challenge.id, at=now, ip=actor.ip[:64], mode=challenge.mode,
            frame_file_ids=json.dumps([frame.id for frame in stored]), face_counts=json.dumps(verdict.face_counts),
            distances=json.dumps(verdict.distances), distance=verdict.distance, yaw_change=verdict.yaw_change,
            liveness=verdict.liveness, outcome=verdict.outcome, reason=verdict.reason)
        db.session.add(attempt)
        db.session.flush()
        fingerprints.keep(check.learner_id, prints, now, attempt_id=attempt.id)
        check.ip = actor.ip[:64]
        decided = fallback.for_check(verdict, challenge.mode)   # photos go to staff even when they pass
        status = _apply_verdict(check, decided, now, decided_at)
        record(actor, "face_check", decided_at, target=f"face_check:{check.id}",
               result="success" if status in (PASSED, REVIEW) else "failure",
               detail=f"{status} {decided.reason or ''} d={verdict.distance}".strip())
        db.session.commit()
    return AttemptResult(status, decided.reason, max(policy().attempts - check.attempts, 0), verdict.distance)


def _apply_verdict(check: FaceCheck, verdict: decisions.AttemptVerdict, received_at: datetime,
                   decided_at: datetime) -> str:
    check.distance, check.liveness, check.reason = verdict.distance, verdict.liveness, verdict.reason
    if verdict.outcome == decisions.PASS:
        _set_status(check, PASSED, decided_at)
        return PASSED
    if verdict.outcome == decisions.DOUBTFUL:
        db.session.add(FaceReview(check_id=check.id, kind=fallback.review_kind(verdict), opened_at=decided_at))
        _set_status(check, REVIEW, decided_at)
        return REVIEW
    if decisions.after_failed_attempt(check.attempts, check.due_at, received_at, policy()):
        return "retry"
    _set_status(check, FAILED, decided_at)
    _sign_out(check, decided_at)
    return FAILED
