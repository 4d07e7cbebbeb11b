"""Camera-like frames made from the real test photos in ../shared/testdata/faces (read where they lie)."""
import io

from PIL import Image, ImageOps

from .photos import face_path


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


def following(challenge, pair: int = 0, turn_after: int = 1, action: str | None = None) -> list[bytes]:
    """Frames that answer ``challenge`` (anything with mode, action, prompt_frame, frame_count): still up
    to the prompt frame, turned from ``turn_after`` frames after it. ``action`` turns another way than asked;
    ``turn_after`` <= 0 turns before the prompt, a large one too late."""
    still_pose, turned_pose = TURNS[action or challenge.action][pair]
    turn_at = challenge.prompt_frame + turn_after
    return [posed(*(still_pose if index < turn_at else turned_pose), index) for index in range(challenge.frame_count)]
