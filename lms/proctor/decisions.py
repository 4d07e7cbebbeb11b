"""The rules of face enrolment and face checks: pure functions of measurements and settings.

Default thresholds come from measurements on the test photos (see README, "Face checks"):
same person 0.22-0.52, different people 0.73-0.99 (Euclidean distance of dlib encodings).
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random

import numpy as np

from .faces import Analysis, Face, distance, nose_parallax, patch_difference, proportions
from .motion import DEFAULT_CONTINUITY, Continuity, Step, continuous

PASS, DOUBTFUL, FAIL = "pass", "doubtful", "fail"
CAMERA, PHOTOS = "camera", "photos"   # frames from getUserMedia, or two photos from <input capture>
LEFT, RIGHT = "left", "right"         # the learner's own left or right (a turn: faces.Face.yaw)
UP, DOWN = "up", "down"               # look up or down (a nod: faces.Face.pitch)
ACTIONS = (LEFT, RIGHT, UP, DOWN)
HARD_MAX_INTERVAL = 15 * 60           # regulators: never more than 15 minutes between checks


@dataclass(frozen=True)
class Thresholds:
    match_distance: float = 0.60       # below: the enrolled person
    doubtful_band: float = 0.05        # within this of the threshold: a person decides
    min_yaw_change: float = 0.12       # the asked head turn (see faces._yaw); also the most a head may move before the prompt
    min_pitch_change: float = 0.08     # the asked nod (see faces._pitch)
    min_parallax: float = 0.06         # the turn must move the nose off the flat-picture place (faces.nose_parallax)
    still_burst_frames: int = 2        # burst frames taken before anyone can react (2 x 80 ms): no movement yet
    max_step_share: float = 0.7        # no step between two frames makes more than this share of the whole turn
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
        min_pitch_change=float(config["LMS_FACE_MIN_PITCH_CHANGE"]),
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
    """What the server asked for. CAMERA: ``prompt_frame`` frames are taken while the head holds still
    (interval_ms apart), then the page shows "turn toward ``action``" and takes the rest of the
    ``frame_count`` frames as a dense burst (burst_interval_ms apart), in which the move must be seen
    happening and be reached within ``reaction_frames`` frames. PHOTOS: photo 0 faces the camera and
    photo 1 is turned (prompt_frame 0, reaction_frames 1)."""
    mode: str
    action: str
    prompt_frame: int
    frame_count: int
    reaction_frames: int


def pick_challenge(mode: str, rng: Random, hold_frames: tuple[int, int], burst_frames: int,
                   actions: tuple[str, ...] = ACTIONS) -> Challenge:
    """A move and a prompt moment the learner cannot know in advance (rng: SystemRandom): one of
    ``actions``, after a random number of hold frames. Photos can only show a head turned sideways."""
    if mode == PHOTOS:
        return Challenge(PHOTOS, rng.choice((LEFT, RIGHT)), 0, 2, 1)
    hold = rng.randint(*hold_frames)
    return Challenge(CAMERA, rng.choice(actions), hold, hold + burst_frames, burst_frames)


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


def judge_attempt(analyses: list[Analysis], enrolled: np.ndarray, challenge: Challenge, t: Thresholds,
                  steps: list[Step] | None = None, c: Continuity = DEFAULT_CONTINUITY) -> AttemptVerdict:
    """Exactly one large enough face in each frame, all of them the enrolled person, and a live head
    that did what the challenge asked, when it asked; ``steps`` (motion.step between consecutive camera
    frames) show it as one continuous movement."""
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
    if challenge.mode == PHOTOS:
        liveness, change = judge_photos(faces, challenge, t)
    else:
        liveness, change = judge_liveness(faces, steps or [], challenge, t, c)
    if worst > t.match_distance + t.doubtful_band:
        return AttemptVerdict(FAIL, "mismatch", worst, liveness, change, counts, distances)
    if liveness != "ok":
        return AttemptVerdict(FAIL, liveness, worst, liveness, change, counts, distances)
    if worst >= t.match_distance - t.doubtful_band:
        return AttemptVerdict(DOUBTFUL, "doubtful", worst, liveness, change, counts, distances)
    return AttemptVerdict(PASS, None, worst, liveness, change, counts, distances)


def measure_of(action: str, t: Thresholds):
    """(what the action moves, which sign is the asked way, the least change that counts). The learner's
    own left is the image's right in an unmirrored frame, where the nose moves right: yaw grows. Looking
    down moves the nose tip toward the chin: pitch grows."""
    if action in (UP, DOWN):
        return (lambda face: face.pitch), (1.0 if action == DOWN else -1.0), t.min_pitch_change
    return (lambda face: face.yaw), (1.0 if action == LEFT else -1.0), t.min_yaw_change


def moving_frames(faces: list[Face], challenge: Challenge, t: Thresholds) -> list[bool]:
    """Which frames show the head moved off its hold pose by at least half the asked change: the frames a
    replay would have to reuse (fingerprints), unlike the still frames any two checks share."""
    measure, _, least = measure_of(challenge.action, t)
    values = [measure(face) for face in faces]
    hold = values[:max(challenge.prompt_frame, 1)]
    baseline = float(np.median(hold))
    return [index >= challenge.prompt_frame and abs(value - baseline) >= least / 2
            for index, value in enumerate(values)]


def judge_liveness(faces: list[Face], steps: list[Step], challenge: Challenge, t: Thresholds,
                   c: Continuity = DEFAULT_CONTINUITY) -> tuple[str, float]:
    """The head holds still up to the prompt, then moves the asked way, continuously, after a person
    could react and in time, and the move is a real one. Returns the liveness word and the change
    toward the asked side:
      identical  the same picture again and again (a still image fed as the camera);
      cut        two frames in a row are not one scene with one head moved a little (motion.py), or the
                 pose jumps most of the way in one step: pictures switched, not a head that moved;
      challenge  the head moved before the prompt, before anyone could react to it, or the other way;
      no_motion  no move, or not far enough in time;
      flat       the move is what tilting or turning a flat picture gives (faces.nose_parallax)."""
    pairs = list(zip(faces, faces[1:], strict=False))
    same = sum(1 for a, b in pairs if patch_difference(a, b) < t.identical_difference)
    if pairs and same * 2 > len(pairs):
        return "identical", 0.0
    if any(not continuous(s, c) for s in steps):
        return "cut", 0.0
    measure, side, least = measure_of(challenge.action, t)
    values = [measure(face) for face in faces]
    still, after = values[:challenge.prompt_frame], values[challenge.prompt_frame:]
    if not still or not after or any(abs(value - still[0]) >= least for value in still):
        return "challenge", 0.0  # the motion came before the prompt: an answer made in advance
    baseline = float(np.median(still))
    turns = [side * (value - baseline) for value in after]
    if any(abs(turn) >= least / 2 for turn in turns[:t.still_burst_frames]):
        return "challenge", round(turns[0], 4)  # moving before anyone could have seen the prompt
    reached = next((i for i, turn in enumerate(turns) if abs(turn) >= least), None)
    if reached is None or reached >= challenge.reaction_frames:
        return "no_motion", round(max(turns), 4)
    turn = round(turns[reached], 4)
    if turn < 0:
        return "challenge", turn  # the other way
    peak = int(np.argmax(turns))
    path = [0.0, *turns]
    if max(abs(b - a) for a, b in zip(path, path[1:], strict=False)) > t.max_step_share * turns[peak]:
        return "cut", turn
    reference = faces[int(np.argmin([abs(value - baseline) for value in still]))]
    moved = faces[challenge.prompt_frame + peak]
    if nose_parallax(reference, moved) < t.min_parallax:
        return "flat", turn
    if challenge.action in (LEFT, RIGHT) and not turned_like_a_head(reference, moved, t):
        return "flat", turn
    if challenge.action in (UP, DOWN) and not nodded_like_a_head(reference, moved):
        return "flat", turn
    return "ok", turn


def judge_photos(faces: list[Face], challenge: Challenge, t: Thresholds) -> tuple[str, float]:
    """Two photos from the album: the first faces the camera, the second is turned the asked way by a
    real head (no continuity can be asked of two photos; staff review every pass, fallback.py)."""
    if len(faces) != 2:
        return "challenge", 0.0
    if patch_difference(faces[0], faces[1]) < t.identical_difference:
        return "identical", 0.0
    side = 1.0 if challenge.action == LEFT else -1.0
    turn = round(side * (faces[1].yaw - faces[0].yaw), 4)
    if abs(turn) < t.min_yaw_change:
        return "no_motion", turn
    if turn < 0:
        return "challenge", turn
    if nose_parallax(faces[0], faces[1]) < t.min_parallax or not turned_like_a_head(faces[0], faces[1], t):
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


def nodded_like_a_head(before: Face, after: Face, max_aspect_change: float = 0.10,
                       max_proportion_rate: float = 0.8, noise: float = 0.02) -> bool:
    """The face's shape changed as a head nodding changes it. Measured on webcam footage (tests/footage.py):
    a real nod of pitch +-0.2 keeps the face's height over its width within 0.94-1.03 and moves
    faces.proportions against the pitch (log change 0.44-0.67 per unit of pitch: down narrows it, up widens
    it). Flat photos squashed, sheared or turned until the pitch measure moves by 0.08 or more change the
    height over width by 0.72-0.87, or move proportions with the pitch, or 0.88 per unit against it."""
    def aspect(face: Face) -> float:
        points = face.points
        eyes = (points[36:42].mean(axis=0) + points[42:48].mean(axis=0)) / 2
        return float(np.linalg.norm(points[8] - eyes) / (np.linalg.norm(points[16] - points[0]) + 1e-9))
    if abs(np.log(aspect(after) / aspect(before))) > max_aspect_change:
        return False
    change = after.pitch - before.pitch
    proportion = float(np.log(proportions(after) / proportions(before)))
    if abs(proportion) <= noise:
        return True
    rate = -proportion / change if change else float("inf")
    return 0.0 <= rate <= max_proportion_rate


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
