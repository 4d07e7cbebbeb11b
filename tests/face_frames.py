"""Camera-like frames made from the real test photos in ../shared/testdata/faces (read where they lie)."""
import io

from PIL import Image

from .conftest import FACES


def frame(name: str, scale: float = 1.0, shift: tuple[int, int] = (0, 0), angle: float = 0.0,
          size=(640, 480), quality=85) -> bytes:
    """The photo fitted into a 640x480 frame, as a browser canvas would send it; ``scale``,
    ``shift`` and ``angle`` move the picture the way a photo held to the camera moves."""
    photo = Image.open(FACES / name).convert("RGB")
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
