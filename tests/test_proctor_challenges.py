"""Fresh answers to a server challenge: the turn must follow the prompt, the frames must be new, a flat photo
moved in any way never passes, a small second face is found, and the answer must carry the nonce in time.
Real photos (../shared/testdata/faces, read where they lie), real dlib, real database; time passed in."""
import io
from datetime import datetime, timedelta
from random import Random

import cv2
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from lms.audit.models import AuditLog
from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.proctor import decisions, faces, motion, replays, tries
from lms.proctor import services as proctor
from lms.proctor.models import FAILED, PASSED, START, FaceChallenge, FaceCheck, FaceCheckAttempt, FaceFingerprint

from .conftest import face_bytes, face_path, login
from .face_frames import clip_answer, clip_frame, clip_photos, enrol_on_clip, forget_prints, posed

# Every test here judges real photos or the real head-turn clip; without them (a clone with no ../shared) they
# are skipped and say why.
pytestmark = pytest.mark.usefixtures("faces_dir")
T = decisions.Thresholds()
T0 = datetime(2026, 3, 2, 1, 30)  # a fixed time zero (naive UTC): the proctor's functions take `now`
BURST = 18
HOLDS = range(2, 5)  # what pick_challenge draws from with LMS_FACE_HOLD_FRAMES (2, 4)
CHALLENGES = [decisions.Challenge(decisions.CAMERA, action, hold, hold + BURST, BURST)
              for action in (decisions.LEFT, decisions.RIGHT) for hold in HOLDS]


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


_analysed: dict[bytes, tuple[faces.Analysis, np.ndarray]] = {}
_steps: dict[tuple[bytes, bytes], motion.Step] = {}


def analysed(data: bytes, search_small: bool = False) -> tuple[faces.Analysis, np.ndarray]:
    key = data + bytes([search_small])
    if key not in _analysed:
        rgb = faces.load_rgb(data, faces.FRAME_MAX_SIDE)
        _analysed[key] = faces.analyse(rgb, search_small=search_small), motion.grey(rgb)
    return _analysed[key]


def analyse(data: bytes, search_small: bool = False) -> faces.Analysis:
    return analysed(data, search_small)[0]


def step(before: bytes, after: bytes) -> motion.Step:
    if (before, after) not in _steps:
        (a, grey_a), (b, grey_b) = analysed(before), analysed(after)
        _steps[before, after] = motion.step(grey_a, grey_b, a.face.points, b.face.points, a.face.box)
    return _steps[before, after]


def liveness(frames: list[bytes], challenge) -> str:
    steps = [step(a, b) for a, b in zip(frames, frames[1:], strict=False)]
    return decisions.judge_liveness([analyse(f).face for f in frames], steps, challenge, T)[0]


# --- the rule: one head, moving the asked way, after the prompt -------------------------------------------

def test_sides_are_the_learners_own_in_an_unmirrored_frame():
    """obama_3 looks toward his own left (the image's right): the nose sits right of the jaw's middle."""
    assert analyse(posed("obama_3.jpg", False, 0)).face.yaw > 0.15
    assert analyse(posed("obama_2.jpg", False, 0)).face.yaw < -0.15
    assert analyse(posed("obama_3.jpg", True, 0)).face.yaw < -0.15


def test_a_real_head_following_the_prompt_passes_every_challenge():
    for challenge in CHALLENGES:
        for reaction in (2, 3, 5):
            assert liveness(clip_answer(challenge, reaction), challenge) == "ok", (challenge, reaction)


def test_moving_too_soon_the_wrong_way_or_too_late_fails():
    challenge = decisions.Challenge(decisions.CAMERA, decisions.RIGHT, 3, 3 + BURST, BURST)
    assert liveness(clip_answer(challenge, reaction=0), challenge) == "challenge"   # no one reacts in 80 ms
    assert liveness(clip_answer(challenge, reaction=-2), challenge) == "challenge"  # before the arrow
    assert liveness(clip_answer(challenge, action=decisions.LEFT), challenge) == "challenge"
    assert liveness(clip_answer(challenge, reaction=BURST - 1), challenge) == "no_motion"   # too late


def test_a_recording_made_for_one_challenge_answers_few_others():
    """The prompt's moment and the side are random: a recording that moves at one moment answers the
    challenges whose prompt came just before it, on one side."""
    recorded = clip_answer(decisions.Challenge(decisions.CAMERA, decisions.RIGHT, 3, 3 + BURST, BURST))
    passed = [c for c in CHALLENGES if liveness(recorded[:c.frame_count], c) == "ok"]
    assert len(passed) <= 2 and len(CHALLENGES) == 6, passed


def test_pick_challenge_draws_every_move_and_hold():
    drawn = {decisions.pick_challenge(decisions.CAMERA, Random(seed), (2, 4), BURST) for seed in range(300)}
    assert {(c.action, c.prompt_frame, c.frame_count - c.prompt_frame) for c in drawn} == {
        (action, hold, BURST) for action in decisions.ACTIONS for hold in HOLDS}
    photos = decisions.pick_challenge(decisions.PHOTOS, Random(1), (2, 4), BURST)
    assert (photos.prompt_frame, photos.frame_count, photos.reaction_frames) == (0, 2, 1)
    assert photos.action in (decisions.LEFT, decisions.RIGHT)


# --- pictures switched at the prompt: the move is not seen happening -----------------------------------

def _switched(still: list[bytes], turned: list[bytes], challenge) -> list[bytes]:
    """``still`` up to the prompt and for two burst frames, then ``turned`` (cycled) for the rest."""
    cut = challenge.prompt_frame + 2
    return [still[i % len(still)] if i < cut else turned[i % len(turned)] for i in range(challenge.frame_count)]


def test_two_photos_switched_at_the_prompt_fail_as_cut():
    """The attacks of issue 21: the enrolment photo until the prompt and a turned photo after it; one turned
    photo and its own mirror image; two frames of the real clip with the turn between them left out."""
    for challenge in CHALLENGES:
        asked = challenge.action == decisions.LEFT
        enrolment_then_turned = _switched([posed("obama_1.jpg", False, i) for i in range(3)],
                                          [posed("obama_2.jpg", asked, i) for i in range(3)], challenge)
        photo_then_mirror = _switched([posed("obama_2.jpg", not asked, i) for i in range(3)],
                                      [posed("obama_2.jpg", asked, i) for i in range(3)], challenge)
        turn_left_out = _switched([clip_frame(1, asked), clip_frame(2, asked)],
                                  [clip_frame(6, asked), clip_frame(7, asked)], challenge)
        for frames in (enrolment_then_turned, photo_then_mirror, turn_left_out):
            assert liveness(frames, challenge) == "cut", challenge


def test_the_real_clip_cut_into_a_still_photo_scene_fails_as_cut():
    """A real turn pasted after a photo of the learner: one head, but not one scene."""
    challenge = CHALLENGES[0]
    real = clip_answer(challenge)
    frames = [posed("obama_1.jpg", False, i) for i in range(challenge.prompt_frame + 2)] + real[
        challenge.prompt_frame + 2:]
    assert liveness(frames, challenge) == "cut"


# --- one flat photo, moved in every way, never passes ------------------------------------------------

def _canvas(name: str) -> np.ndarray:
    photo = Image.open(face_path(name)).convert("RGB")
    photo.thumbnail((520, 400))
    canvas = Image.new("RGB", (640, 480), (30, 30, 30))
    canvas.paste(photo, ((640 - photo.width) // 2, (480 - photo.height) // 2))
    return np.asarray(canvas)


def _warp(rgb: np.ndarray, kind: str, amount: float) -> np.ndarray:
    """What a printed photo held to the camera looks like when it is moved: perspective for tilting it
    back or turning it about its upright axis, affine for rotating, squashing, zooming and panning."""
    h, w = rgb.shape[:2]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    d = abs(amount)
    if kind == "tilt":
        moved = np.float32([[d * w, 0], [w - d * w, 0], [w, h], [0, h]])
    elif kind == "turn":   # one side of the photo goes further away: it shrinks
        moved = (np.float32([[0, d * h], [w, 0], [w, h], [0, h - d * h]]) if amount > 0 else
                 np.float32([[0, 0], [w, d * h], [w, h - d * h], [0, h]]))
    else:
        matrix = {"rotate": cv2.getRotationMatrix2D((w / 2, h / 2), amount, 1.0),
                  "zoom": cv2.getRotationMatrix2D((w / 2, h / 2), 0, 1 + amount),
                  "squash": np.float64([[1 - d, 0, w * d / 2], [0, 1, 0]]),
                  "shear": np.float64([[1, amount, -amount * h / 2], [0, 1, 0]]),
                  "pan": np.float64([[1, 0, amount * w], [0, 1, amount * h / 2]])}[kind]
        return cv2.warpAffine(rgb, matrix, (w, h), borderValue=(30, 30, 30))
    return cv2.warpPerspective(rgb, cv2.getPerspectiveTransform(corners, moved), (w, h), borderValue=(30, 30, 30))


def _jpeg(rgb: np.ndarray, index: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.roll(rgb, index % 3, axis=1)).save(out, "JPEG", quality=85)
    return out.getvalue()


MOVES = [("tilt", 0.2), ("tilt", 0.4), ("turn", 0.2), ("turn", -0.2), ("turn", 0.4), ("turn", -0.4),
         ("rotate", 12), ("rotate", -25), ("squash", 0.3), ("squash", 0.5), ("shear", 0.5), ("shear", -0.5),
         ("zoom", 0.3), ("pan", 0.12)]


# obama_2 is a head already turned: squashing or tilting its photo moves the measured yaw by up to 0.26.
@pytest.mark.parametrize("name", ["obama_1.jpg", "obama_2.jpg", "obama_3.jpg", "alex_2.jpg"])
def test_a_single_photo_moved_tilted_rotated_squashed_zoomed_or_panned_never_passes(name):
    """Each move made smoothly over six burst frames after any prompt, for every action: the still part is
    the photo as it is. A moved photo is one continuous scene, so it is the flat-picture rules that refuse it."""
    base = _canvas(name)
    still = [_jpeg(base, i) for i in range(6)]
    seen = set()
    challenges = [decisions.Challenge(decisions.CAMERA, action, hold, hold + BURST, BURST)
                  for action in decisions.ACTIONS for hold in (2, 4)]
    for kind, amount in MOVES:
        moved = [_jpeg(_warp(base, kind, amount * step / 6), step) for step in range(1, 7)]
        if any(not analyse(frame).faces for frame in moved):
            continue  # turned so far that no face is seen: that fails as no_face anyway
        for challenge in challenges:
            frames = still[:challenge.prompt_frame + 2] + moved + [moved[-1 - i % 2] for i in range(BURST)]
            verdict = liveness(frames[:challenge.frame_count], challenge)
            seen.add(verdict)
            assert verdict != "ok", (kind, amount, challenge)
    assert seen <= {"flat", "no_motion", "challenge", "cut"}, seen


# --- a second, small face -----------------------------------------------------------------------------

def _with_small_face(frame: bytes, width: int = 50) -> bytes:
    """A second person further back: alex's face, ``width`` px wide, beside the learner's."""
    second = analyse(posed("alex_2.jpg", False, 0)).face
    left, top, right, bottom = second.box
    margin = (right - left) // 2
    source = Image.open(io.BytesIO(posed("alex_2.jpg", False, 0)))
    crop = source.crop((left - margin, top - margin, right + margin, bottom + margin))
    scale = width / (right - left)
    crop = crop.resize((round(crop.width * scale), round(crop.height * scale)), Image.Resampling.BICUBIC)
    picture = Image.open(io.BytesIO(frame)).convert("RGB")
    picture.paste(crop, (8, 120))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.mark.parametrize("width", [40, 50, 70])
def test_a_second_face_40_px_wide_is_found_by_the_closer_search(width):
    frame = _with_small_face(posed("obama_3.jpg", False, 0), width)
    assert analyse(frame, search_small=True).face_count == 2
    assert analyse(posed("obama_3.jpg", False, 0), search_small=True).face_count == 1
    assert analyse(_with_small_face(posed("obama_2.jpg", True, 0), width), search_small=True).face_count == 2


# --- the service: nonce, deadline, one try per challenge, evidence --------------------------------------

@pytest.fixture()
def me(learner):
    return Actor(learner.user, "10.0.0.9", "pytest")


@pytest.fixture()
def check(db, learner, face_checks_on) -> FaceCheck:
    """A check asked for by some module; the proctor does not need to know which."""
    enrol_on_clip(learner)
    opened = proctor.open_check(learner.id, "test_context", 1, START, at(0), "10.0.0.9", owner_institution_id=None)
    db.session.commit()
    return opened


@pytest.fixture()
def check_due_now(db, learner, face_checks_on) -> FaceCheck:
    """A check due at the server's real time, for requests over HTTP (the server reads its own clock)."""
    enrol_on_clip(learner)
    opened = proctor.open_check(learner.id, "test_context", 1, START, utcnow(), "10.0.0.9",
                                owner_institution_id=None)
    db.session.commit()
    return opened


def answer(check, me, seconds=1, **kwargs):
    challenge = tries.issue_challenge(check, True, at(seconds), me)
    return tries.submit_attempt(check, clip_answer(challenge, **kwargs), challenge.nonce, at(seconds + 4), me)


def test_a_learner_following_the_prompt_passes_on_the_first_try(db, check, me):
    result = answer(check, me)
    assert result.status == PASSED, result
    attempt = db.session.scalar(select(FaceCheckAttempt).where(FaceCheckAttempt.check_id == check.id))
    assert attempt.challenge.answered_at == at(5) and attempt.mode == "camera" and attempt.yaw_change > 0.12
    kept = db.session.scalars(select(FaceFingerprint).where(FaceFingerprint.attempt_id == attempt.id)).all()
    assert len(kept) == attempt.challenge.frame_count   # every frame's print


def test_each_challenge_uses_a_try_and_only_the_newest_may_be_answered(db, check, me):
    first = tries.issue_challenge(check, True, at(1), me)
    second = tries.issue_challenge(check, True, at(2), me)
    assert check.attempts == 2 and first.nonce != second.nonce
    stale = tries.submit_attempt(check, clip_answer(first), first.nonce, at(4), me)
    assert (stale.status, stale.reason, stale.attempts_left) == ("retry", "stale", 1)
    with pytest.raises(proctor.FaceError, match="no_challenge"):   # the newest lapsed with that answer
        tries.submit_attempt(check, clip_answer(second), second.nonce, at(5), me)
    tries.issue_challenge(check, True, at(6), me)
    with pytest.raises(proctor.FaceError, match="no_attempts_left"):
        tries.issue_challenge(check, True, at(7), me)
    evidence = db.session.scalars(select(FaceCheckAttempt).where(FaceCheckAttempt.check_id == check.id)).all()
    assert [(a.reason, len(a.frame_ids)) for a in evidence] == [("stale", first.frame_count)]  # refused, and kept as evidence


def test_an_answer_after_its_deadline_fails_as_late(db, check, me):
    challenge = tries.issue_challenge(check, True, at(1), me)
    assert challenge.deadline == at(1) + timedelta(seconds=0.3 * challenge.prompt_frame + 0.08 * BURST + 10)
    late = tries.submit_attempt(check, clip_answer(challenge), challenge.nonce, challenge.deadline
                                   + timedelta(seconds=1), me)
    assert (late.status, late.reason) == ("retry", "late")
    assert answer(check, me, seconds=30).status == PASSED   # the next try, in time, passes


def test_an_answer_sooner_than_the_camera_could_take_it_fails_as_early(db, check, me):
    challenge = tries.issue_challenge(check, True, at(1), me)
    early = tries.submit_attempt(check, clip_answer(challenge), challenge.nonce, at(3), me)   # at least 2.04 s
    assert (early.status, early.reason) == ("retry", "early")


def test_turning_the_wrong_way_fails_as_challenge_with_its_frames_kept(db, check, me):
    challenge = tries.issue_challenge(check, True, at(1), me)
    other = "right" if challenge.action == "left" else "left"
    result = tries.submit_attempt(check, clip_answer(challenge, action=other), challenge.nonce, at(5), me)
    assert (result.status, result.reason) == ("retry", "challenge")


def passed_then_asked_again(db, check, learner, me):
    """The learner passes ``check``; ten minutes later another check is due. Returns the passing frames
    and the later check."""
    first = tries.issue_challenge(check, True, at(1), me)
    frames = clip_answer(first)
    assert tries.submit_attempt(check, frames, first.nonce, at(5), me).status == PASSED
    later = proctor.open_check(learner.id, "test_context", 2, START, at(600), "10.0.0.9", owner_institution_id=None)
    db.session.commit()
    return (frames, first.prompt_frame), later


def fitted(recorded: tuple[list[bytes], int], challenge) -> list[bytes]:
    """A recorded answer cut to another challenge's schedule, as an attacker would: the still frames
    repeated or dropped to the new number of hold frames, then the recorded burst."""
    frames, hold = recorded
    return [frames[i % hold] for i in range(challenge.prompt_frame)] + frames[hold:]


def test_frames_of_a_passed_check_fail_as_replayed_when_posted_again(db, check, learner, me):
    recorded, later = passed_then_asked_again(db, check, learner, me)

    def post_again(copy, seconds):
        challenge = tries.issue_challenge(later, True, at(seconds), me)
        return tries.submit_attempt(later, copy(fitted(recorded, challenge)), challenge.nonce, at(seconds + 4), me)

    assert post_again(lambda f: f, 601).reason == "replayed"                              # unchanged
    assert post_again(lambda f: [_reencode(x, 70) for x in f], 611).reason == "replayed"  # re-encoded
    reordered = post_again(lambda f: [_reencode(x, 90) for x in reversed(f)], 621)        # played backwards
    assert (reordered.status, reordered.reason) == (FAILED, "replayed")


def test_only_the_frames_with_the_move_can_make_a_replay(db, check, learner, me):
    """A learner looks ahead the same way in every check: still frames of two real captures are near-duplicates
    (measured on webcam footage), so they are not compared; frames with the move are, and an answer is a
    replay when REPLAY_MIN_FRAMES of them are copies of an earlier answer's (re-encoded copies of small faces
    are not all within the copy thresholds: here the whole move is copied)."""
    recorded, later = passed_then_asked_again(db, check, learner, me)
    frames = [_reencode(frame, 90) for frame in recorded[0]]
    found = [(frame, analyse(frame).faces) for frame in frames]
    rule = decisions.Challenge(decisions.CAMERA, decisions.RIGHT, recorded[1], len(frames), BURST)
    moving = decisions.moving_frames([analyse(frame).face for frame in frames], rule, T)
    assert sum(moving) >= replays.REPLAY_MIN_FRAMES
    first_moving = moving.index(True)

    def sharing(count: int) -> list:
        """The re-encoded answer whose moving frames after the first ``count`` are someone else's."""
        others = [posed("obama_3.jpg", index % 2 == 0, index) for index in range(len(frames))]
        return [pair if not moving[index] or index < first_moving + count else (others[index], analyse(others[index]).faces)
                for index, pair in enumerate(found)]

    assert not replays.replayed_answer(learner.id, sharing(replays.REPLAY_MIN_FRAMES - 1), moving, rule.mode)
    assert replays.replayed_answer(learner.id, sharing(len(frames)), moving, rule.mode)   # every moving frame


def test_holding_the_enrolment_photo_to_the_camera_fails(db, check, me):
    challenge = tries.issue_challenge(check, True, at(1), me)
    enrolment_like = [posed("obama_1.jpg", False, i) for i in range(challenge.frame_count)]
    result = tries.submit_attempt(check, enrolment_like, challenge.nonce, at(5), me)
    assert (result.status, result.reason) == ("retry", "mismatch")   # and a still photo: identical or no_motion


def test_a_small_second_face_beside_the_learner_fails_the_attempt(db, check, me):
    challenge = tries.issue_challenge(check, True, at(1), me)
    frames = [_with_small_face(frame) for frame in clip_answer(challenge)]
    result = tries.submit_attempt(check, frames, challenge.nonce, at(5), me)
    assert result.reason == "multiple_faces"


def _reencode(data: bytes, quality: int) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).save(out, "JPEG", quality=quality)
    return out.getvalue()


# --- over HTTP: the phone fallback is the server's record, with the same challenge ----------------------

def test_phone_fallback_is_recorded_and_asks_for_the_same_turn(app, db, check_due_now, learner):
    client = app.test_client()
    login(client, learner.id_number)
    base = f"/api/proctor/checks/{check_due_now.id}"
    assert client.post(base + "/challenges", json={"camera": "no"}).status_code == 400
    issued = client.post(base + "/challenges", json={"camera": False}).get_json()
    assert "mode" in issued, issued
    assert (issued["mode"], issued["frame_count"], issued["prompt_frame"]) == ("photos", 2, 0)
    challenge = db.session.scalar(select(FaceChallenge).where(FaceChallenge.nonce == issued["nonce"]))
    assert challenge.mode == "photos" and challenge.deadline - challenge.issued_at == timedelta(seconds=180)
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "face_check_fallback")) is not None
    other = "right" if issued["action"] == "left" else "left"
    wrong = client.post(base + "/attempts", json={"nonce": issued["nonce"],
                                                  "frames": _data_urls(clip_photos(challenge, action=other, frames=(28, 6)))})
    assert wrong.get_json()["reason"] == "challenge"
    forget_prints(learner.id)   # new photos at the same place would be near-duplicates of those (README)
    again = client.post(base + "/challenges", json={"camera": False}).get_json()
    challenge = db.session.scalar(select(FaceChallenge).where(FaceChallenge.nonce == again["nonce"]))
    photos = clip_photos(challenge, frames=(1, 14))
    ok = client.post(base + "/attempts", json={"nonce": again["nonce"], "frames": _data_urls(photos)}).get_json()
    assert (ok["status"], ok["reason"]) == ("review", "photo_fallback"), ok   # photos that pass wait for staff


def test_the_enrolment_photo_sent_as_a_phone_photo_fails_as_replayed(db, check, me):
    challenge = tries.issue_challenge(check, False, at(1), me)
    photos = [face_bytes("obama_1.jpg"), clip_photos(challenge)[1]]   # the photo the learner enrolled with
    result = tries.submit_attempt(check, photos, challenge.nonce, at(30), me)
    assert (result.status, result.reason) == ("retry", "replayed")
    challenge = tries.issue_challenge(check, False, at(40), me)
    photos = [_reencode(posed("obama_1.jpg", False, 0), 80), clip_photos(challenge)[1]]   # redrawn
    assert tries.submit_attempt(check, photos, challenge.nonce, at(60), me).reason == "replayed"


def test_the_attempt_api_needs_the_nonce(app, db, check_due_now, learner):
    client = app.test_client()
    login(client, learner.id_number)
    base = f"/api/proctor/checks/{check_due_now.id}"
    frames = _data_urls([posed("obama_2.jpg", False, i) for i in range(6)])
    early = client.post(base + "/attempts", json={"nonce": "x", "frames": frames}).get_json()
    assert early.get("code") == "no_challenge", early
    client.post(base + "/challenges", json={"camera": True})
    missing = client.post(base + "/attempts", json={"frames": frames})
    assert missing.status_code == 400 and missing.get_json()["code"] == "frames"
    wrong = client.post(base + "/attempts", json={"nonce": "not-the-nonce", "frames": frames}).get_json()
    assert wrong["reason"] == "stale"


def _data_urls(frames):
    import base64
    return ["data:image/jpeg;base64," + base64.b64encode(f).decode() for f in frames]
