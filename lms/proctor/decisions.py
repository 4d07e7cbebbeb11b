"""The rules of face enrolment and face checks: pure functions of measurements and settings.

Default thresholds come from measurements on the test photos (see README, "Face checks"):
same person 0.22-0.52, different people 0.73-0.99 (Euclidean distance of dlib encodings).
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random

import numpy as np

from .faces import Analysis, Face, distance, nose_parallax, patch_difference, proportions

PASS, DOUBTFUL, FAIL = "pass", "doubtful", "fail"
CAMERA, PHOTOS = "camera", "photos"   # frames from getUserMedia, or two photos from <input capture>
LEFT, RIGHT = "left", "right"         # the learner's own left or right
HARD_MAX_INTERVAL = 15 * 60           # regulators: never more than 15 minutes between checks


@dataclass(frozen=True)
class Thresholds:
    match_distance: float = 0.60       # below: the enrolled person
    doubtful_band: float = 0.05        # within this of the threshold: a person decides
    min_yaw_change: float = 0.12       # the asked head turn (see faces._yaw); also the most a head may move before the prompt
    min_parallax: float = 0.06         # the turn must move the nose off the flat-picture place (faces.nose_parallax)
    max_proportion_error: float = 0.12 # log of observed over expected change of faces.proportions across the turn
    identical_difference: float = 0.5  # grey levels: frames closer than this are the same picture
    frame_min_face_fraction: float = 0.15
    enrol_min_face_fraction: float = 0.20
    enrol_min_face_pixels: int = 80
    enrol_min_sharpness: float = 25.0


def thresholds_from_config(config) -> Thresholds:
    return Thresholds(
        match_distance=float(config["LMS_FACE_MATCH_DISTANCE"]),
        doubtful_band=float(config["LMS_FACE_DOUBTFUL_BAND"]),
        min_yaw_change=float(config["LMS_FACE_MIN_YAW_CHANGE"]),
        min_parallax=float(config["LMS_FACE_MIN_PARALLAX"]),
        enrol_min_sharpness=float(config["LMS_FACE_MIN_SHARPNESS"]),
    )


# --- enrolment -----------------------------------------------------------------------------

def enrolment_refusal(analysis: Analysis, original_size: tuple[int, int], t: Thresholds) -> str | None:
    """Why a photo cannot be an enrolment photo, or None when it can."""
    if not analysis.faces:
        return "no_face"
    if len(analysis.faces) > 1:
        return "multiple_faces"
    face = analysis.face
    if not face.whole:
        return "face_cut_off"
    scale = max(original_size) / max(analysis.size)
    if face.width < t.enrol_min_face_fraction * min(analysis.size) or face.width * scale < t.enrol_min_face_pixels:
        return "face_too_small"
    if analysis.sharpness < t.enrol_min_sharpness:
        return "blurry"
    return None


# --- the challenge of one attempt -------------------------------------------------------------

@dataclass(frozen=True)
class Challenge:
    """What the server asked for. The page shows "turn toward ``action``" between frames
    ``prompt_frame - 1`` and ``prompt_frame``; up to that frame the head holds still, and the turn must
    be reached within the ``reaction_frames`` frames that follow it. In PHOTOS mode photo 0 faces the
    camera and photo 1 is turned (prompt_frame 0, reaction_frames 1)."""
    mode: str
    action: str
    prompt_frame: int
    frame_count: int
    reaction_frames: int


def pick_challenge(mode: str, rng: Random, frame_count: int, reaction_frames: int) -> Challenge:
    """A direction and a prompt moment the learner cannot know in advance (rng: SystemRandom). At least
    two frames come before the prompt, and the last prompt still leaves ``reaction_frames`` after it.
    A recording that turns at one moment can only answer the prompts that came just before it, on one
    side: with 10 frames and 3 reaction frames at most 3 of the 10 possible challenges."""
    action = rng.choice((LEFT, RIGHT))
    if mode == PHOTOS:
        return Challenge(PHOTOS, action, 0, 2, 1)
    latest = max(frame_count - 1 - reaction_frames, 2)
    return Challenge(CAMERA, action, rng.randint(2, latest), frame_count, reaction_frames)


# --- one attempt at a check -------------------------------------------------------------------

@dataclass(frozen=True)
class AttemptVerdict:
    outcome: str                       # PASS | DOUBTFUL | FAIL
    reason: str | None                 # why it failed or is doubtful
    distance: float | None             # the worst (largest) frame distance: every frame must be the person
    liveness: str | None               # "ok" | "identical" | "challenge" | "no_motion" | "flat" | None when not judged
    yaw_change: float | None           # the turn toward the asked side (negative: the other way)
    face_counts: list[int] = field(default_factory=list)
    distances: list[float] = field(default_factory=list)


def failed(reason: str, counts: list[int] | None = None) -> AttemptVerdict:
    """A verdict reached without judging the faces (a stale answer, a replay)."""
    return AttemptVerdict(FAIL, reason, None, None, None, counts or [])


def judge_attempt(analyses: list[Analysis], enrolled: np.ndarray, challenge: Challenge,
                  t: Thresholds) -> AttemptVerdict:
    """Exactly one large enough face in each frame, all of them the enrolled person, and a live head
    that did what the challenge asked, when it asked."""
    counts = [a.face_count for a in analyses]
    if any(count == 0 for count in counts):
        return AttemptVerdict(FAIL, "no_face", None, None, None, counts)
    if any(count > 1 for count in counts):
        return AttemptVerdict(FAIL, "multiple_faces", None, None, None, counts)
    faces = [a.face for a in analyses]
    if any(face.width < t.frame_min_face_fraction * min(a.size) for face, a in zip(faces, analyses, strict=True)):
        return AttemptVerdict(FAIL, "face_too_small", None, None, None, counts)
    distances = [round(distance(face.encoding, enrolled), 4) for face in faces]
    worst = max(distances)
    liveness, yaw_change = judge_liveness(faces, challenge, t)
    if worst > t.match_distance + t.doubtful_band:
        return AttemptVerdict(FAIL, "mismatch", worst, liveness, yaw_change, counts, distances)
    if liveness != "ok":
        return AttemptVerdict(FAIL, liveness, worst, liveness, yaw_change, counts, distances)
    if worst >= t.match_distance - t.doubtful_band:
        return AttemptVerdict(DOUBTFUL, "doubtful", worst, liveness, yaw_change, counts, distances)
    return AttemptVerdict(PASS, None, worst, liveness, yaw_change, counts, distances)


def judge_liveness(faces: list[Face], challenge: Challenge, t: Thresholds) -> tuple[str, float]:
    """The head holds still up to the prompt, then turns the asked way in time, and the turn is a real one.

    Returns the liveness word and the turn toward the asked side. The learner's own left is the
    image's right in an unmirrored frame, where the nose moves right: yaw grows.
      identical  the same picture again and again (a still image fed as the camera);
      challenge  the head turned before the prompt, the other way, or too late to be an answer to it;
      no_motion  no turn;
      flat       the turn is what tilting or turning a flat picture gives (faces.nose_parallax)."""
    pairs = list(zip(faces, faces[1:], strict=False))
    same = sum(1 for a, b in pairs if patch_difference(a, b) < t.identical_difference)
    if pairs and same * 2 > len(pairs):
        return "identical", 0.0
    yaws = [face.yaw for face in faces]
    end_still = challenge.prompt_frame + 1
    still, after = yaws[:end_still], yaws[end_still:]
    if not after or any(abs(yaw - still[0]) >= t.min_yaw_change for yaw in still):
        return "challenge", 0.0  # the motion came before the prompt: an answer made in advance
    baseline = float(np.median(still))
    side = 1.0 if challenge.action == LEFT else -1.0
    turns = [side * (yaw - baseline) for yaw in after]
    reached = next((i for i, turn in enumerate(turns) if abs(turn) >= t.min_yaw_change), None)
    if reached is None:
        return "no_motion", round(max(turns), 4)
    turn = round(turns[reached], 4)
    if turn < 0 or reached >= challenge.reaction_frames:
        return "challenge", turn  # the other way, or long after the prompt
    reference = faces[int(np.argmin([abs(yaw - baseline) for yaw in still]))]
    turned = faces[end_still + reached]
    if nose_parallax(reference, turned) < t.min_parallax or not turned_like_a_head(reference, turned, t):
        return "flat", turn
    return "ok", turn


def turned_like_a_head(before: Face, after: Face, t: Thresholds) -> bool:
    """The face's proportions changed as a head turning between the two yaws changes them (within
    max_proportion_error). Measured on the test photos: real turns 0.94-1.06 of the expected change;
    a turned photo squashed or tilted back until its yaw moves by 0.12 or more, 0.70-0.85."""
    def foreshortening(yaw: float) -> float:
        return float(np.sqrt(max(1.0 - (2 * yaw) ** 2, 0.05)))
    expected = foreshortening(after.yaw) / foreshortening(before.yaw)
    observed = proportions(after) / proportions(before)
    return abs(np.log(observed / expected)) <= t.max_proportion_error


def frame_count_ok(count: int, challenge: Challenge) -> bool:
    return count == challenge.frame_count


# --- retries and scheduling ---------------------------------------------------------------------

@dataclass(frozen=True)
class Policy:
    attempts: int = 3                  # tries per check
    window_seconds: int = 180          # from the moment the check is due
    min_interval: int = 300            # between checks, seconds
    max_interval: int = HARD_MAX_INTERVAL


def policy_from_config(config) -> Policy:
    policy = Policy(attempts=int(config["LMS_FACE_CHECK_ATTEMPTS"]),
                    window_seconds=int(config["LMS_FACE_CHECK_WINDOW_SECONDS"]),
                    min_interval=int(config["LMS_FACE_CHECK_MIN_SECONDS"]),
                    max_interval=int(config["LMS_FACE_CHECK_MAX_SECONDS"]))
    if not 0 < policy.min_interval <= policy.max_interval <= HARD_MAX_INTERVAL:
        raise ValueError("LMS_FACE_CHECK_MIN_SECONDS <= LMS_FACE_CHECK_MAX_SECONDS <= 900 is required")
    return policy


def after_failed_attempt(attempts_used: int, due_at: datetime, now: datetime, policy: Policy) -> bool:
    """True when the learner may try again; false when the check has failed for good."""
    return attempts_used < policy.attempts and now < due_at + timedelta(seconds=policy.window_seconds)


def overdue(due_at: datetime, now: datetime, policy: Policy) -> bool:
    return now >= due_at + timedelta(seconds=policy.window_seconds)


def next_check_at(now: datetime, rng: Random, policy: Policy, report_gap: float) -> datetime:
    """A random moment for the next check. The page reports at most report_gap seconds apart, and a
    check can only start at a report, so the latest moment is moved in by that much: the check
    starts no later than max_interval after the last one."""
    latest = max(policy.max_interval - report_gap, 1.0)
    earliest = min(policy.min_interval, latest)
    return now + timedelta(seconds=rng.uniform(earliest, latest))
