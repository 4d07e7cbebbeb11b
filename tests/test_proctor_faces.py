"""Face rules on the real test photos: enrolment quality and the decision on a check's frames."""
import io
import os
import subprocess
import sys
from random import Random

import pytest
from PIL import Image, ImageFilter

from lms.proctor import decisions, faces, motion
from lms.proctor.decisions import CAMERA, DOUBTFUL, FAIL, LEFT, PASS, PHOTOS, RIGHT, Challenge, Thresholds

from .conftest import face_bytes
from .photos import ROOT, faces_folder
from .face_frames import blank_frame, clip_encoding_text, clip_frame, following, frame, handheld_photo, still

T = Thresholds()


def enrol_refusal(data: bytes) -> str | None:
    analysis = faces.analyse(faces.load_rgb(data, faces.ENROL_MAX_SIDE))
    return decisions.enrolment_refusal(analysis, faces.image_size(data), T)


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def enrolled():
    return faces.analyse(faces.load_rgb(face_bytes("obama_1.jpg"), faces.ENROL_MAX_SIDE)).face.encoding


@pytest.fixture(scope="module")
def clip_enrolled():
    """The head-turn clip's person (the answers of face_frames.following show her)."""
    return faces.encoding_from_text(clip_encoding_text())


@pytest.mark.parametrize("name", ["obama_1.jpg", "obama_2.jpg", "biden_1.jpg", "biden_2.jpg", "alex_1.png", "alex_2.jpg"])
def test_good_portraits_are_accepted_for_enrolment(name):
    assert enrol_refusal(face_bytes(name)) is None


@pytest.mark.parametrize("name, reason", [("two_people.jpg", "multiple_faces"), ("no_face.jpg", "no_face"),
                                          ("obama_partial_face.jpg", "face_cut_off")])
def test_unusable_photos_are_refused_for_enrolment(name, reason):
    assert enrol_refusal(face_bytes(name)) == reason


def test_blank_blurred_and_tiny_faces_are_refused_for_enrolment():
    assert enrol_refusal(jpeg(Image.new("RGB", (600, 800), (250, 250, 250)))) == "no_face"
    portrait = Image.open(io.BytesIO(face_bytes("obama_1.jpg"))).convert("RGB")
    assert enrol_refusal(jpeg(portrait.filter(ImageFilter.GaussianBlur(3)))) == "blurry"
    small = portrait.resize((portrait.width // 4, portrait.height // 4))
    poster = Image.new("RGB", (1600, 2000), (250, 250, 250))
    poster.paste(small, (100, 100))
    # At the analysed size the detector does not even find a face this small (it needs about 80 px).
    assert enrol_refusal(jpeg(poster)) in ("no_face", "face_too_small")


def test_large_photo_is_scaled_down_before_detection():
    data = face_bytes("biden_1.jpg")  # 970 x 2204
    assert max(faces.image_size(data)) == 2204
    assert max(faces.load_rgb(data, faces.ENROL_MAX_SIDE).shape[:2]) <= faces.ENROL_MAX_SIDE
    assert enrol_refusal(data) is None


def asked(action=LEFT, prompt_frame=3, frame_count=21, mode=CAMERA) -> Challenge:
    """A camera challenge as pick_challenge makes them (3 hold frames, a burst of 18), or the two photos."""
    return Challenge(PHOTOS, action, 0, 2, 1) if mode == PHOTOS else Challenge(CAMERA, action, prompt_frame,
                                                                                frame_count, frame_count - prompt_frame)


def judge(frames, enrolled, challenge=None, t=T):
    """The verdict as the server reaches it: the faces, and how each camera frame follows the one before."""
    challenge = challenge or asked(frame_count=len(frames))
    rgbs = [faces.load_rgb(f, faces.FRAME_MAX_SIDE) for f in frames]
    analyses = [faces.analyse(rgb) for rgb in rgbs]
    steps = None
    if challenge.mode == CAMERA and all(a.face is not None for a in analyses):
        greys = [motion.grey(rgb) for rgb in rgbs]
        steps = [motion.step(greys[i], greys[i + 1], analyses[i].face.points, analyses[i + 1].face.points,
                             analyses[i].face.box) for i in range(len(frames) - 1)]
    return decisions.judge_attempt(analyses, enrolled, challenge, t, steps)


@pytest.mark.parametrize("action", [LEFT, RIGHT])
def test_the_same_person_turning_the_head_passes(clip_enrolled, action):
    challenge = asked(action)
    verdict = judge(following(challenge), clip_enrolled, challenge)
    assert verdict.outcome == PASS, verdict
    assert verdict.liveness == "ok" and verdict.distance < T.match_distance - T.doubtful_band
    assert len(verdict.distances) == 21 and verdict.yaw_change >= T.min_yaw_change


def test_another_person_fails_even_when_live(enrolled):
    challenge = asked()
    turning = [frame("biden_1.jpg" if index <= challenge.prompt_frame else "biden_2.jpg", shift=(index % 3, 0))
               for index in range(challenge.frame_count)]
    verdict = judge(turning, enrolled, challenge)
    assert (verdict.outcome, verdict.reason) == (FAIL, "mismatch")
    assert verdict.distance > T.match_distance + T.doubtful_band


def test_two_faces_no_face_and_a_blank_frame_fail(enrolled):
    assert judge([frame("obama_2.jpg"), frame("two_people.jpg"), frame("obama_3.jpg")], enrolled).reason \
        == "multiple_faces"
    assert judge([frame("obama_2.jpg"), frame("no_face.jpg"), frame("obama_3.jpg")], enrolled).reason == "no_face"
    verdict = judge([blank_frame()] * 3, enrolled)
    assert (verdict.outcome, verdict.reason, verdict.face_counts) == (FAIL, "no_face", [0, 0, 0])


def test_a_still_image_fails_liveness(enrolled):
    verdict = judge(still(count=10), enrolled, asked())
    assert (verdict.outcome, verdict.reason) == (FAIL, "identical")
    assert verdict.distance < T.match_distance  # it is the right face: liveness alone stops it


@pytest.mark.parametrize("action", [LEFT, RIGHT])
def test_a_photo_moved_zoomed_and_tilted_in_front_of_the_camera_fails(enrolled, action):
    verdict = judge(handheld_photo(), enrolled, asked(action, prompt_frame=1, frame_count=4))
    assert verdict.outcome == FAIL and verdict.reason in ("no_motion", "cut"), verdict   # jumps of 25 px: cut


@pytest.mark.parametrize("action", [LEFT, RIGHT])
def test_two_photos_with_different_poses_pass_on_a_phone(clip_enrolled, action):
    photos = asked(action, mode=PHOTOS)
    verdict = judge(following(photos), clip_enrolled, photos)
    assert verdict.outcome == PASS, verdict
    assert judge([clip_frame(1)] * 2, clip_enrolled, photos).reason == "identical"
    other_way = RIGHT if action == LEFT else LEFT
    assert judge(following(photos, action=other_way), clip_enrolled, photos).reason == "challenge"


def test_results_near_the_threshold_go_to_review(clip_enrolled):
    challenge = asked()
    frames = following(challenge)
    distance = judge(frames, clip_enrolled, challenge).distance
    near = Thresholds(match_distance=distance, doubtful_band=0.05)
    assert judge(frames, clip_enrolled, challenge, t=near).outcome == DOUBTFUL


def test_frame_counts_per_mode():
    photos, camera = asked(mode=PHOTOS), asked(frame_count=21)
    assert decisions.frame_count_ok(2, photos) and not decisions.frame_count_ok(3, photos)
    assert not decisions.frame_count_ok(2, camera) and decisions.frame_count_ok(21, camera)
    assert not decisions.frame_count_ok(20, camera) and not decisions.frame_count_ok(22, camera)
    rng = Random(7)
    phone, webcam = decisions.pick_challenge(PHOTOS, rng, (2, 4), 18), decisions.pick_challenge(CAMERA, rng, (2, 4), 18)
    assert decisions.frame_count_ok(2, phone) and decisions.frame_count_ok(webcam.prompt_frame + 18, webcam)


# --- analyses in several threads at once (issue 21) -----------------------------------------------------

_THREADED = """
import sys, threading
sys.path.insert(0, sys.argv[1])
from lms.proctor import faces
from tests.face_frames import frame, posed
frames = [frame("obama_2.jpg"), frame("obama_3.jpg"), posed("biden_2.jpg", False, 1), frame("alex_1.png"),
          frame("two_people.jpg")]
rgbs = [faces.load_rgb(data, faces.FRAME_MAX_SIDE) for data in frames]
def summary(analysis):
    return [(face.box, [round(x, 5) for x in face.encoding]) for face in analysis.faces], analysis.small_faces
alone = [summary(faces.analyse(rgb, search_small=True)) for rgb in rgbs]
differing = []
def work(offset):
    for index in range(6):
        which = (index + offset) % len(rgbs)
        if summary(faces.analyse(rgbs[which], search_small=True)) != alone[which]:
            differing.append(which)
threads = [threading.Thread(target=work, args=(offset,)) for offset in range(4)]
[thread.start() for thread in threads]
[thread.join() for thread in threads]
print("differing", len(differing))
"""


def test_four_threads_analysing_at_once_get_what_one_thread_gets():
    """dlib computes without the GIL: four request threads of a worker judging answers at once must neither
    crash the process (it did: SIGSEGV, SIGABRT) nor get each other's faces. In a child process, so that a
    crash fails this test instead of ending the run."""
    face_bytes("obama_2.jpg")  # skips without the photos
    env = {**os.environ, "LMS_TEST_FACES": str(faces_folder())}
    try:
        child = subprocess.run([sys.executable, "-W", "ignore", "-c", _THREADED, str(ROOT)], capture_output=True,
                               text=True, timeout=180, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("24 analyses in 4 threads took more than 3 minutes (the threads spun)")
    assert child.returncode == 0, f"the process ended with {child.returncode}: {child.stderr[-500:]}"
    assert child.stdout.split()[-2:] == ["differing", "0"]
