"""Is a series of camera frames one continuous scene with one head moving in it? (issue 21)

A head turn shown by switching between two pictures (a photo until the prompt, a turned one after it;
a photo and its mirror image) has the right poses in the right frames; what it lacks is the motion in
between. The page takes a dense burst of frames after the prompt (80 ms apart), so between two
consecutive frames a real head moves a few pixels, and the points of the face and of the room can be
followed from one frame to the next by optical flow (pyramidal Lucas-Kanade, opencv). Between two
different pictures they cannot: points tracked forward and then back do not come home, and the face's
landmarks do not land where the flow carried them.

Pure functions of grey images and dlib landmarks; the rule that uses the figures is in decisions.py.
"""
from dataclasses import dataclass

import cv2
import numpy as np

_LK = dict(winSize=(21, 21), maxLevel=3,
           criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))
FORWARD_BACKWARD_PX = 2.0    # a point tracked to the next frame and back must come home this close
MIN_SCENE_POINTS = 12        # fewer corners outside the face (a plain wall): the scene is not judged
_SCENE_CORNERS = dict(maxCorners=80, qualityLevel=0.01, minDistance=8, blockSize=7)


@dataclass(frozen=True)
class Step:
    """How one frame follows the one before it."""
    landmarks_followed: float     # share of the 68 landmarks the flow follows there and back
    landmark_error: float         # median distance, flow-carried landmarks to the detected ones, per face width
    scene_followed: float | None  # share of corners outside the face followed there and back; None: too few


def step(before: np.ndarray, after: np.ndarray, points_before: np.ndarray, points_after: np.ndarray,
         box_before: tuple[int, int, int, int]) -> Step:
    """Follow the face's landmarks and the scene's corners from ``before`` to ``after`` (uint8 grey
    images) and back. Frames of different sizes are no continuous scene."""
    if before.shape != after.shape:
        return Step(0.0, 1.0, 0.0)
    followed, carried = _track(before, after, points_before.astype(np.float32))
    width = max(float(np.linalg.norm(points_after[16] - points_after[0])), 1.0)
    errors = np.linalg.norm(carried[followed] - points_after[followed], axis=1) / width
    error = float(np.median(errors)) if len(errors) else 1.0
    corners = cv2.goodFeaturesToTrack(before, mask=_outside(before.shape, box_before), **_SCENE_CORNERS)
    scene = None
    if corners is not None and len(corners) >= MIN_SCENE_POINTS:
        scene_followed, _ = _track(before, after, corners.reshape(-1, 2))
        scene = float(scene_followed.mean())
    return Step(round(float(followed.mean()), 4), round(error, 4), None if scene is None else round(scene, 4))


def _track(before: np.ndarray, after: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(followed: bool per point, where the forward flow put each point)."""
    start = points.reshape(-1, 1, 2)
    ahead, found, _ = cv2.calcOpticalFlowPyrLK(before, after, start, None, **_LK)
    back, found_back, _ = cv2.calcOpticalFlowPyrLK(after, before, ahead, None, **_LK)
    home = np.linalg.norm((back - start).reshape(-1, 2), axis=1)
    followed = (found.ravel() == 1) & (found_back.ravel() == 1) & (home <= FORWARD_BACKWARD_PX)
    return followed, ahead.reshape(-1, 2)


def _outside(shape: tuple[int, ...], box: tuple[int, int, int, int]) -> np.ndarray:
    """A mask of the image without the face and a margin around it (hair, neck, shoulders move with it)."""
    left, top, right, bottom = box
    margin_x, margin_y = (right - left) // 2, (bottom - top) // 2
    mask = np.full(shape[:2], 255, dtype=np.uint8)
    mask[max(top - margin_y, 0):bottom + 2 * margin_y, max(left - margin_x, 0):right + margin_x] = 0
    return mask


@dataclass(frozen=True)
class Continuity:
    """Thresholds measured with bench/motion_threshold.py (README, "Face checks"). Consecutive frames of real
    head moves (turn_a.gif 66 and 200 ms apart, the latter a page whose timers ran late; webcam footage
    80 ms apart): landmarks followed 0.41-1.0, error 0.0005-0.018 of the face's width, scene followed
    0.44-1.0 (0.44 when the man looks up and his shoulders move; 0.69 otherwise). Pictures switched (another photo of the person, a photo or a clip frame and its mirror image):
    landmarks followed 0.0-0.87, error 0.0099-2.3, scene 0.0-0.61, and no switch passes all three but a
    frontal photo and its own mirror image, which hardly changes the pose; the mirror image of a turned face
    jumps the pose most of the way in one step, which decisions.judge_liveness refuses as a cut too."""
    min_landmarks_followed: float = 0.35
    max_landmark_error: float = 0.05
    min_scene_followed: float = 0.35


DEFAULT_CONTINUITY = Continuity()


def continuous(s: Step, c: Continuity) -> bool:
    """The next frame shows the same head, moved by flow, in the same scene."""
    if s.landmarks_followed < c.min_landmarks_followed or s.landmark_error > c.max_landmark_error:
        return False
    return s.scene_followed is None or s.scene_followed >= c.min_scene_followed


def grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
