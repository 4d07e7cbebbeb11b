"""Replayed frames (issue 21): album photos stretched, sheared, seen at an angle or flipped are still found;
camera answers are compared at the copy thresholds, so re-encoded and rescaled copies of a recorded move are
found and a genuine repeat of the same move is not taken for one (README, "Face checks").
Real dlib on the real test photos and the real head-turn clip; skipped without them."""
import io
from datetime import timedelta
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageSequence
from sqlalchemy import select

from lms.core.clock import utcnow
from lms.extensions import db
from lms.proctor import decisions, faces, fingerprints, replays
from lms.proctor.fingerprints import Source
from lms.proctor.models import FaceEnrolment

ROOT = Path(__file__).resolve().parent.parent
HEADTURN = ROOT.parent / "shared" / "testdata" / "headturn" / "turn_a.gif"
FRAME_SIZE = (640, 480)
PADDING = (30, 30, 30)


# --- what an attacker can make of a recorded frame (used by bench/fingerprint_threshold.py too) -----------

def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def affine_copy(data: bytes, stretch_x: float = 1.0, stretch_y: float = 1.0, shear: float = 0.0,
                quality: int = 85) -> bytes:
    """The frame stretched along x and y and sheared (x moves by ``shear`` times y) about its middle."""
    forward = np.array([[stretch_x, shear], [0.0, stretch_y]])
    return _warped(data, np.block([[forward, np.zeros((2, 1))], [np.zeros((1, 2)), np.ones((1, 1))]]), quality)


def perspective_copy(data: bytes, degrees_about_vertical: float = 0.0, degrees_about_horizontal: float = 0.0,
                     quality: int = 85) -> bytes:
    """The frame as a camera sees it on a flat screen turned by these angles about its middle lines (focal
    length the frame's width, about a webcam's 53 degrees of view)."""
    width, height = FRAME_SIZE
    focal = float(width)
    yaw, pitch = np.radians(degrees_about_vertical), np.radians(degrees_about_horizontal)
    turn = (np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
            @ np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]]))
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    centred = np.column_stack([corners - [width / 2, height / 2], np.zeros(4)]) @ turn.T
    seen = centred[:, :2] * focal / (focal + centred[:, 2:3]) + [width / 2, height / 2]
    return _warped(data, cv2.getPerspectiveTransform(corners.astype(np.float32), seen.astype(np.float32)), quality)


def _warped(data: bytes, forward: np.ndarray, quality: int) -> bytes:
    """Apply the 3x3 map ``forward`` (source pixel -> output pixel; affine ones about the frame's middle when
    its last row is 0 0 1 and it came from affine_copy) and save as JPEG."""
    image = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    height, width = image.shape[:2]
    if np.allclose(forward[2], [0, 0, 1]) and np.allclose(forward[:2, 2], 0):
        middle = np.array([[1, 0, width / 2], [0, 1, height / 2], [0, 0, 1]])
        forward = middle @ forward @ np.linalg.inv(middle)
    out = cv2.warpPerspective(image, forward, (width, height), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=PADDING)
    return jpeg(Image.fromarray(out), quality)


def rescaled_copy(data: bytes, scale: float, quality: int = 85) -> bytes:
    """The frame scaled about its middle and put back into a 640x480 canvas."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image = image.resize((round(FRAME_SIZE[0] * scale), round(FRAME_SIZE[1] * scale)), Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", FRAME_SIZE, PADDING)
    canvas.paste(image, ((FRAME_SIZE[0] - image.width) // 2, (FRAME_SIZE[1] - image.height) // 2))
    return jpeg(canvas, quality)


@cache
def clip_frames() -> tuple[bytes, ...]:
    """The 30 frames of the head-turn clip, scaled to 640x480 as a webcam frame (JPEG quality 85)."""
    with Image.open(HEADTURN) as clip:
        return tuple(jpeg(frame.convert("RGB").resize(FRAME_SIZE, Image.Resampling.BILINEAR))
                     for frame in ImageSequence.Iterator(clip))


# --- the tests ------------------------------------------------------------------------------------------

needs_clip = pytest.mark.skipif(not HEADTURN.is_file(), reason=f"head-turn clip not found at {HEADTURN}")
HOLD, TURN = range(0, 3), range(3, 10)   # turn_a.gif: looking ahead, then turning away (yaw 0 -> -0.26)
TURN_AGAIN, DRIFT_BACK = range(10, 17), range(17, 30)


@cache
def clip_face(index: int):
    return faces.analyse_bytes(clip_frames()[index]).face


def found(data: bytes) -> tuple[bytes, tuple]:
    return data, faces.analyse_bytes(data).faces


def answer(hold: list[bytes], turning: list[bytes]):
    """An answer as the lead's capture posts it: the hold frames, then the frames of the turn."""
    return [found(data) for data in hold + turning], [False] * len(hold) + [True] * len(turning)


def store_attempt(learner_id: int, indexes, days_ago: int = 1, mode: str = decisions.CAMERA) -> None:
    """An earlier attempt of the learner with these clip frames on record (what prints_to_keep kept)."""
    frames = [(clip_frames()[index], (clip_face(index),)) for index in indexes]
    prints = replays.prints_to_keep(frames, [True] * len(frames), mode)
    fingerprints.keep(learner_id, prints, utcnow() - timedelta(days=days_ago))
    db.session.commit()


def enrol_on_clip_frame(learner_id: int, index: int) -> bytes:
    """Put clip frame ``index`` on record as the learner's enrolment photo print; returns the frame."""
    enrolment = db.session.scalar(select(FaceEnrolment).where(FaceEnrolment.learner_id == learner_id))
    photo = clip_frames()[index]
    fingerprints.keep(learner_id, [fingerprints.of_face(photo, clip_face(index))], utcnow(), enrolment_id=enrolment.id)
    db.session.commit()
    return photo


def replayed(learner_id: int, frames, moving, mode=decisions.CAMERA) -> bool:
    return replays.replayed_answer(learner_id, frames, moving, mode)


@needs_clip
@pytest.mark.usefixtures("db")
@pytest.mark.parametrize("copy", [
    lambda data: affine_copy(data, stretch_x=1.2),
    lambda data: affine_copy(data, stretch_y=0.8, quality=70),
    lambda data: affine_copy(data, shear=0.15),
    lambda data: affine_copy(data, shear=-0.15, stretch_x=1.1),
    lambda data: perspective_copy(data, 25),
    lambda data: perspective_copy(data, -25),
    lambda data: perspective_copy(data, 0, 25),
    lambda data: perspective_copy(affine_copy(data, stretch_x=1.2), 15, -10, quality=60),
], ids=["stretched 20 %", "squashed 20 % q70", "sheared +0.15", "sheared -0.15 and stretched",
        "perspective 25 about the vertical", "perspective -25 about the vertical",
        "perspective 25 about the horizontal", "stretched, perspective 15/-10, q60"])
def test_a_warped_copy_of_a_stored_photo_is_a_replay(learner, copy):
    """Album photos are compared at the loose thresholds, which version 2 prints make survive the warps."""
    store_attempt(learner.id, [TURN[0], TURN[-1]], mode=decisions.PHOTOS)
    photos = [found(copy(clip_frames()[TURN[0]])), found(clip_frames()[25])]
    assert replayed(learner.id, photos, [True, True], decisions.PHOTOS)


@needs_clip
@pytest.mark.usefixtures("db")
def test_a_mirrored_copy_of_a_stored_photo_is_a_replay(learner):
    store_attempt(learner.id, [TURN[-1]], mode=decisions.PHOTOS)
    mirrored = jpeg(Image.open(io.BytesIO(clip_frames()[TURN[-1]])).transpose(Image.Transpose.FLIP_LEFT_RIGHT), 80)
    assert replayed(learner.id, [found(clip_frames()[25]), found(mirrored)], [True, True], decisions.PHOTOS)


@needs_clip
@pytest.mark.usefixtures("db")
@pytest.mark.parametrize("copy", [lambda data: data, lambda data: jpeg(Image.open(io.BytesIO(data)), 60),
                                  lambda data: rescaled_copy(data, 0.8, quality=70)],
                         ids=["the same frames", "re-encoded at q60", "scaled 0.8, q70"])
def test_a_copy_of_a_stored_move_is_a_replay(learner, copy):
    store_attempt(learner.id, TURN)
    frames, moving = answer([copy(clip_frames()[i]) for i in HOLD], [copy(clip_frames()[i]) for i in TURN])
    assert replayed(learner.id, frames, moving)


@needs_clip
@pytest.mark.usefixtures("db")
def test_genuine_frames_that_only_share_the_frontal_pose_are_not_a_replay(learner):
    # The earlier attempt kept frontal frames too (every frame was kept before issue 21).
    store_attempt(learner.id, [0, 1, *TURN])
    frames, moving = answer([clip_frames()[2]], [clip_frames()[i] for i in DRIFT_BACK])
    near_frontal = fingerprints.of_face(clip_frames()[2], clip_face(2))
    assert fingerprints.find_replays(learner.id, [near_frontal]) == [0]   # the hold frame alone matches
    assert not replayed(learner.id, frames, moving)


@needs_clip
@pytest.mark.usefixtures("db")
@pytest.mark.parametrize("stored, new", [(TURN, DRIFT_BACK), (DRIFT_BACK, TURN)],
                         ids=["drift after turn", "turn after drift"])
def test_different_moving_stretches_of_the_clip_are_not_replays_of_each_other(learner, stored, new):
    store_attempt(learner.id, stored)
    frames, moving = answer([clip_frames()[i] for i in HOLD], [clip_frames()[i] for i in new])
    assert not replayed(learner.id, frames, moving)


@needs_clip
@pytest.mark.usefixtures("db")
def test_a_second_genuine_turn_the_same_way_is_not_a_replay(learner):
    """At the loose thresholds 6 of these 7 frames match the first turn's: why camera answers use the copy ones."""
    store_attempt(learner.id, TURN)
    frames, moving = answer([clip_frames()[i] for i in HOLD], [clip_frames()[i] for i in TURN_AGAIN])
    assert not replayed(learner.id, frames, moving)


@needs_clip
@pytest.mark.usefixtures("db")
def test_a_move_made_of_copies_of_the_enrolment_photo_is_a_replay_and_holding_it_still_is_not(learner):
    photo = enrol_on_clip_frame(learner.id, 0)
    rescaled = [rescaled_copy(photo, 1.0, quality) for quality in (60, 70, 80, 90)]
    frames, moving = answer([photo], rescaled)
    assert replayed(learner.id, frames, moving)
    # The photo as the hold frames, then a real turn: the hold frames are not compared with it.
    frames, moving = answer([affine_copy(photo, stretch_x=1.1), affine_copy(photo, stretch_x=1.1, quality=80)],
                            [clip_frames()[i] for i in TURN])
    assert not replayed(learner.id, frames, moving)


@needs_clip
@pytest.mark.usefixtures("db")
def test_a_photo_answer_matching_the_enrolment_photo_or_any_stored_print_is_a_replay(learner):
    photo = enrol_on_clip_frame(learner.id, 0)
    store_attempt(learner.id, [TURN_AGAIN[0]])
    db.session.commit()
    fresh = [found(clip_frames()[i]) for i in (20, 25)]
    assert not replayed(learner.id, fresh, [False, False], decisions.PHOTOS)
    assert replayed(learner.id, [fresh[0], found(affine_copy(photo, stretch_y=1.2))], [False, False], decisions.PHOTOS)
    assert replayed(learner.id, [found(perspective_copy(clip_frames()[TURN_AGAIN[0]], 20)), fresh[1]], [False, False],
                    decisions.PHOTOS)


@needs_clip
def test_every_frame_of_a_camera_answer_is_kept():
    """Hold frames too: an answer played backwards makes them its moving frames."""
    frames = [(clip_frames()[i], (clip_face(i),)) for i in (0, 1, 4, 5)]
    kept = replays.prints_to_keep(frames, [False, False, True, True], decisions.CAMERA)
    assert [p.digest for p in kept] == [fingerprints.digest_of(clip_frames()[i]) for i in (0, 1, 4, 5)]
    assert all(p.version == fingerprints.PRINT_VERSION for p in kept)
    assert len(replays.prints_to_keep(frames[:2], [False, False], decisions.PHOTOS)) == 2


# --- the rule on its own ----------------------------------------------------------------------------------

ATTEMPT, OTHER_ATTEMPT, ENROLMENT = Source(7, None), Source(8, None), Source(None, 3)
MOVING = [False, False] + [True] * 6


@pytest.mark.parametrize("matched, moving, replay", [
    ({ATTEMPT: {2, 3, 4}}, MOVING, True),
    ({ATTEMPT: {0, 1, 2, 3}}, MOVING, False),              # hold frames do not count
    ({ATTEMPT: {2, 3}, OTHER_ATTEMPT: {4}}, MOVING, False),  # counted per attempt
    ({ATTEMPT: {2, 3}}, [False, False, True, True], True),   # fewer moving frames than REPLAY_MIN_FRAMES: all of them
    ({ATTEMPT: {0, 1}}, [False, False], False),              # no moving frame: nothing to count
    ({ENROLMENT: {2, 3, 4, 5, 6}}, MOVING, False),           # the enrolment photo: every moving frame
    ({ENROLMENT: {2, 3, 4, 5, 6, 7}}, MOVING, True),
    ({ENROLMENT: {2, 3}}, [False, False, True, True], False),  # and at least REPLAY_MIN_FRAMES of them
], ids=["three moving frames", "hold frames", "two attempts", "short turn", "no turn", "enrolment, not all",
        "enrolment, all", "enrolment, too few"])
def test_the_camera_rule(matched, moving, replay):
    assert replays.is_replay(matched, moving, decisions.CAMERA) is replay


def test_the_photo_rule():
    assert replays.is_replay({ENROLMENT: {1}}, [False, False], decisions.PHOTOS)
    assert replays.is_replay({ATTEMPT: {0}}, [False, False], decisions.PHOTOS)
    assert not replays.is_replay({ATTEMPT: set()}, [False, False], decisions.PHOTOS)
