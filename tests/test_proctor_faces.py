"""Face rules on the real test photos: enrolment quality and the decision on a check's frames."""
import io

import pytest
from PIL import Image, ImageFilter

from lms.proctor import decisions, faces
from lms.proctor.decisions import CAMERA, DOUBTFUL, FAIL, PASS, PHOTOS, Thresholds

from .conftest import face_bytes
from .face_frames import blank_frame, frame, handheld_photo, live, still

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


def judge(frames, enrolled, mode=CAMERA, t=T):
    return decisions.judge_attempt([faces.analyse_bytes(f) for f in frames], enrolled, mode, t)


def test_the_same_person_turning_the_head_passes(enrolled):
    verdict = judge(live("obama"), enrolled)
    assert verdict.outcome == PASS, verdict
    assert verdict.liveness == "ok" and verdict.distance < T.match_distance - T.doubtful_band
    assert len(verdict.distances) == 4 and verdict.yaw_change >= T.min_yaw_change


def test_another_person_fails_even_when_live(enrolled):
    verdict = judge(live("biden"), enrolled)
    assert (verdict.outcome, verdict.reason) == (FAIL, "mismatch")
    assert verdict.distance > T.match_distance + T.doubtful_band


def test_two_faces_no_face_and_a_blank_frame_fail(enrolled):
    assert judge([frame("obama_2.jpg"), frame("two_people.jpg"), frame("obama_3.jpg")], enrolled).reason \
        == "multiple_faces"
    assert judge([frame("obama_2.jpg"), frame("no_face.jpg"), frame("obama_3.jpg")], enrolled).reason == "no_face"
    verdict = judge([blank_frame()] * 3, enrolled)
    assert (verdict.outcome, verdict.reason, verdict.face_counts) == (FAIL, "no_face", [0, 0, 0])


def test_a_still_image_fails_liveness(enrolled):
    verdict = judge(still(), enrolled)
    assert (verdict.outcome, verdict.reason) == (FAIL, "identical")
    assert verdict.distance < T.match_distance  # it is the right face: liveness alone stops it


def test_a_photo_moved_zoomed_and_tilted_in_front_of_the_camera_fails(enrolled):
    verdict = judge(handheld_photo(), enrolled)
    assert (verdict.outcome, verdict.reason) == (FAIL, "no_motion"), verdict
    assert verdict.yaw_change < T.min_yaw_change


def test_two_photos_with_different_poses_pass_on_a_phone(enrolled):
    verdict = judge([frame("obama_2.jpg"), frame("obama_3.jpg")], enrolled, mode=PHOTOS)
    assert verdict.outcome == PASS
    assert judge([frame("obama_2.jpg")] * 2, enrolled, mode=PHOTOS).reason == "identical"


def test_results_near_the_threshold_go_to_review(enrolled):
    distance = judge(live("obama"), enrolled).distance
    near = Thresholds(match_distance=distance, doubtful_band=0.05)
    assert judge(live("obama"), enrolled, t=near).outcome == DOUBTFUL


def test_frame_counts_per_mode():
    assert decisions.frame_count_ok(2, PHOTOS, T) and not decisions.frame_count_ok(3, PHOTOS, T)
    assert not decisions.frame_count_ok(2, CAMERA, T) and decisions.frame_count_ok(6, CAMERA, T)
    assert not decisions.frame_count_ok(9, CAMERA, T)
