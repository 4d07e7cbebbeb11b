"""Camera-like frames made from the real test photos in ../shared/testdata/faces (read where they lie)."""
import io
from functools import cache

import pytest
from PIL import Image, ImageOps

from .photos import ROOT, face_path


def frame(name: str, scale: float = 1.0, shift: tuple[int, int] = (0, 0), angle: float = 0.0,
          size=(640, 480), quality=85) -> bytes:
    """The photo fitted into a 640x480 frame, as a browser canvas would send it; ``scale``,
    ``shift`` and ``angle`` move the picture the way a photo held to the camera moves."""
    photo = Image.open(face_path(name)).convert("RGB")
    photo.thumbnail((int(size[0] * scale), int(size[1] * scale)))
    if angle:
        photo = photo.rotate(angle, expand=True, fillcolor=(30, 30, 30))
    canvas = Image.new("RGB", size, (30, 30, 30))
    canvas.paste(photo, ((size[0] - photo.width) // 2 + shift[0], (size[1] - photo.height) // 2 + shift[1]))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def blank_frame(size=(640, 480)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (128, 128, 128)).save(buffer, "JPEG")
    return buffer.getvalue()


def live(person="obama") -> list[bytes]:
    """A head that really turns: frames cut between photos of one person in different poses."""
    poses = {"obama": ["obama_2.jpg", "obama_3.jpg", "obama_2.jpg", "obama_3.jpg"],
             "biden": ["biden_1.jpg", "biden_2.jpg", "biden_1.jpg", "biden_2.jpg"]}[person]
    return [frame(name) for name in poses]


def still(name="obama_2.jpg", count=4) -> list[bytes]:
    """One photo fed as the camera: the same picture every time."""
    return [frame(name)] * count


def handheld_photo(name="obama_2.jpg") -> list[bytes]:
    """One printed photo moved, zoomed and tilted in front of the camera: frames differ, the head does not turn."""
    return [frame(name), frame(name, scale=0.9, shift=(25, 10)), frame(name, scale=1.0, shift=(-20, 0), angle=8),
            frame(name, scale=0.85, shift=(10, -15), angle=-6)]


# --- answers to a server challenge ----------------------------------------------------------------------
# A head that follows the prompt: one pose until the arrow, the pose turned toward the asked side after it.
# In an unmirrored frame obama_2 faces the learner's own right (yaw -0.23) and obama_3 their left (+0.21);
# the mirrored copy of each turns the other way by as much. The server refuses pictures, and their mirror
# images, that it has seen before from the same learner (fingerprints), so each pair below uses one photo
# only (as it is and mirrored), a different one per pair: a learner can pass with pair 0 once and with
# pair 1 once, whichever side each challenge asks for. obama_1 is the enrolment photo of the test learner.
TURNS = {
    "left": [(("obama_2.jpg", False), ("obama_2.jpg", True)), (("obama_3.jpg", True), ("obama_3.jpg", False))],
    "right": [(("obama_2.jpg", True), ("obama_2.jpg", False)), (("obama_3.jpg", False), ("obama_3.jpg", True))],
}


def posed(name: str, flip: bool, index: int, quality=85) -> bytes:
    """One camera frame of a pose; ``index`` moves it by a pixel or two, like a live picture."""
    photo = Image.open(face_path(name)).convert("RGB")
    if flip:
        photo = ImageOps.mirror(photo)
    photo.thumbnail((640, 480))
    canvas = Image.new("RGB", (640, 480), (30, 30, 30))
    canvas.paste(photo, ((640 - photo.width) // 2 + index % 3, (480 - photo.height) // 2 + (index // 3) % 2))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def following(challenge, pair: int = 0, action: str | None = None) -> list[bytes]:
    """A genuine answer to ``challenge`` by the clip's person (enrol the learner with enrol_on_clip): the clip's
    real turn for a camera challenge, two of its frames as phone photos (``pair`` 0 or 1, each usable once per
    learner) for a photos challenge. ``action`` turns another way than asked."""
    if challenge.mode == "photos":
        return clip_photos(challenge, action, frames=((1, 14), (27, 15))[pair])
    return clip_answer(challenge, action=action)   # the same for every pair: see forget_prints


# --- real head motion: the turn_a.gif clip --------------------------------------------------------------
# 30 frames (15 fps) of one real person, turning her head to her own right in frames 3-6 (yaw -0.04 ->
# -0.26, lms.proctor.faces) and back part of the way; mirrored, the same turn goes to her own left. The
# learner of clip answers is enrolled on frame CLIP_ENROLMENT, which no answer below uses.
CLIP = ROOT.parent / "shared" / "testdata" / "headturn" / "turn_a.gif"
CLIP_ENROLMENT = 26
CLIP_MISSING = "the head-turn clip ../shared/testdata/headturn/turn_a.gif is not there"
_CLIP_STILL = (1, 2)     # frames before the turn starts (yaw -0.026, -0.043)
_CLIP_TURN_START = 3     # the first frame of the turn


@cache
def _clip_images() -> tuple[Image.Image, ...]:
    if not CLIP.is_file():
        pytest.skip(CLIP_MISSING)
    gif = Image.open(CLIP)
    images = []
    for index in range(gif.n_frames):
        gif.seek(index)
        images.append(gif.convert("RGB").resize((640, 480), Image.Resampling.BILINEAR))
    return tuple(images)


@cache
def clip_frame(index: int, mirror: bool = False, quality: int = 85) -> bytes:
    """Frame ``index`` of the clip as a 640x480 camera frame (JPEG), mirrored left-right if asked."""
    image = _clip_images()[index]
    if mirror:
        image = ImageOps.mirror(image)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def clip_indexes(challenge, reaction: int = 2) -> list[int]:
    """Which clip frame each frame of the answer shows: the still frames alternate up to the prompt and for
    ``reaction`` burst frames after it, then the turn plays on at one clip frame per burst frame (15 fps
    against the page's 12.5: a little quicker than the person turned)."""
    still = [_CLIP_STILL[index % 2] for index in range(challenge.prompt_frame + reaction)]
    moving = list(range(_CLIP_TURN_START, CLIP_ENROLMENT))
    frames = (still + moving)[:challenge.frame_count]
    return frames + [frames[-1 - (index % 2)] for index in range(challenge.frame_count - len(frames))]


def clip_answer(challenge, reaction: int = 2, action: str | None = None, quality: int = 85) -> list[bytes]:
    """Frames that answer ``challenge`` (mode, action, prompt_frame, frame_count) with the clip's real turn,
    toward ``action`` (default: the asked one; left or right). ``reaction`` burst frames pass before the turn
    starts: 0 or 1 is a turn no one could have begun in time."""
    mirror = (action or challenge.action) == "left"
    return [clip_frame(index, mirror, quality) for index in clip_indexes(challenge, reaction)]


def clip_photos(challenge, action: str | None = None, frames=(1, 14)) -> list[bytes]:
    """Two phone photos of the clip's person: facing the camera, then turned toward ``action`` (frames 27
    and 15 make another pair: the server refuses photos, and their mirror images, it has seen)."""
    mirror = (action or challenge.action) == "left"
    return [clip_frame(frames[0], mirror), clip_frame(frames[1], mirror)]


@cache
def clip_encoding_text() -> str:
    from lms.proctor import faces
    return faces.encoding_to_text(faces.analyse_bytes(clip_frame(CLIP_ENROLMENT)).face.encoding)


def enrol_on_clip(learner) -> None:
    """Make the clip's person the learner's enrolled face (the enrolment photo's print stays obama_1's)."""
    from lms.extensions import db
    from lms.proctor.services import active_enrolment
    active_enrolment(learner.id).encoding = clip_encoding_text()
    db.session.commit()


def forget_prints(learner_id: int) -> None:
    """The clip has one real turn, so a learner can pass one camera check with it: a later genuine capture is
    played by forgetting the prints of the earlier ones (replays are tested in tests/test_proctor_challenges.py)."""
    from sqlalchemy import delete

    from lms.extensions import db
    from lms.proctor.models import FaceFingerprint
    db.session.execute(delete(FaceFingerprint).where(FaceFingerprint.learner_id == learner_id,
                                                     FaceFingerprint.attempt_id.is_not(None)))
    db.session.commit()
