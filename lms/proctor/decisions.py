"""The rules of face enrolment and face checks: pure functions of measurements and settings.

Default thresholds come from measurements on the test photos (see README, "Face checks"):
same person 0.22-0.52, different people 0.73-0.99 (Euclidean distance of dlib encodings).
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random

import numpy as np

from .faces import Analysis, distance, patch_difference

PASS, DOUBTFUL, FAIL = "pass", "doubtful", "fail"
CAMERA, PHOTOS = "camera", "photos"   # frames from getUserMedia, or two photos from <input capture>
HARD_MAX_INTERVAL = 15 * 60           # regulators: never more than 15 minutes between checks


@dataclass(frozen=True)
class Thresholds:
    match_distance: float = 0.60       # below: the enrolled person
    doubtful_band: float = 0.05        # within this of the threshold: a person decides
    min_yaw_change: float = 0.10       # head turn across the frames (see faces._yaw)
    blink_ratio: float = 0.65          # eyes closed in a frame: eye ratio below this part of the widest
    identical_difference: float = 0.5  # grey levels: frames closer than this are the same picture
    frame_min_face_fraction: float = 0.15
    enrol_min_face_fraction: float = 0.20
    enrol_min_face_pixels: int = 80
    enrol_min_sharpness: float = 25.0
    camera_frames: tuple[int, int] = (3, 8)


def thresholds_from_config(config) -> Thresholds:
    return Thresholds(
        match_distance=float(config["LMS_FACE_MATCH_DISTANCE"]),
        doubtful_band=float(config["LMS_FACE_DOUBTFUL_BAND"]),
        min_yaw_change=float(config["LMS_FACE_MIN_YAW_CHANGE"]),
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


# --- one attempt at a check -------------------------------------------------------------------

@dataclass(frozen=True)
class AttemptVerdict:
    outcome: str                       # PASS | DOUBTFUL | FAIL
    reason: str | None                 # why it failed or is doubtful
    distance: float | None             # the worst (largest) frame distance: every frame must be the person
    liveness: str | None               # "ok" | "identical" | "no_motion" | None when not judged
    yaw_change: float | None
    face_counts: list[int] = field(default_factory=list)
    distances: list[float] = field(default_factory=list)


def judge_attempt(analyses: list[Analysis], enrolled: np.ndarray, mode: str, t: Thresholds) -> AttemptVerdict:
    """Exactly one large enough face in each frame, all of them the enrolled person, and a live head."""
    counts = [len(a.faces) for a in analyses]
    if any(count == 0 for count in counts):
        return AttemptVerdict(FAIL, "no_face", None, None, None, counts)
    if any(count > 1 for count in counts):
        return AttemptVerdict(FAIL, "multiple_faces", None, None, None, counts)
    faces = [a.face for a in analyses]
    if any(face.width < t.frame_min_face_fraction * min(a.size) for face, a in zip(faces, analyses, strict=True)):
        return AttemptVerdict(FAIL, "face_too_small", None, None, None, counts)
    distances = [round(distance(face.encoding, enrolled), 4) for face in faces]
    worst = max(distances)
    liveness, yaw_change = judge_liveness(faces, t)
    if worst > t.match_distance + t.doubtful_band:
        return AttemptVerdict(FAIL, "mismatch", worst, liveness, yaw_change, counts, distances)
    if liveness != "ok":
        return AttemptVerdict(FAIL, liveness, worst, liveness, yaw_change, counts, distances)
    if worst >= t.match_distance - t.doubtful_band:
        return AttemptVerdict(DOUBTFUL, "doubtful", worst, liveness, yaw_change, counts, distances)
    return AttemptVerdict(PASS, None, worst, liveness, yaw_change, counts, distances)


def judge_liveness(faces, t: Thresholds) -> tuple[str, float]:
    """A still picture gives the same frame again and again; a photo moved, tilted or zoomed in
    front of the camera keeps the nose where it is between the jaw's ends. A real head that
    turns, or eyes that blink, change that."""
    pairs = list(zip(faces, faces[1:], strict=False))
    same = sum(1 for a, b in pairs if patch_difference(a, b) < t.identical_difference)
    yaws = [face.yaw for face in faces]
    yaw_change = round(max(yaws) - min(yaws), 4)
    if pairs and same * 2 > len(pairs):
        return "identical", yaw_change
    ratios = [face.eye_ratio for face in faces]
    blinked = len(faces) >= 3 and min(ratios) < t.blink_ratio * max(ratios)
    if yaw_change < t.min_yaw_change and not blinked:
        return "no_motion", yaw_change
    return "ok", yaw_change


def frame_count_ok(count: int, mode: str, t: Thresholds) -> bool:
    if mode == PHOTOS:
        return count == 2
    low, high = t.camera_frames
    return low <= count <= high


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


def check_position(rng: Random, resume: float, duration: float) -> float:
    """A random position in the part of the video still ahead, so that a check falls inside every
    video, however short. The last report of a video carries its end, so even the end is reached."""
    start = min(max(resume, 0.0), duration * 0.8)
    return round(rng.uniform(start, start + (duration - start) * 0.9), 2)
