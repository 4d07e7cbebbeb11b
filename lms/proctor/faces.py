"""Face analysis with dlib's models (the ones face_recognition ships): detection, landmarks,
128-d encodings, and the measurements the liveness rules use (head turn, nose parallax).

Everything here is a pure function of image bytes; the rules that use the numbers live
in decisions.py. Images are decoded already scaled down (JPEG DCT scaling), because
detection time grows with the pixel count and a face in a 1-inch photo or a webcam frame
is large enough at a few hundred pixels.
"""
import io
import os
import queue
from contextlib import contextmanager
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image, ImageOps

ENROL_MAX_SIDE = 480      # an enrolment portrait is mostly face: this is plenty for the HOG detector
FRAME_MAX_SIDE = 640      # a webcam frame or phone photo
MIN_FACE_FRACTION = 0.15  # the face's width as part of the image's shorter side, in a check frame
MAX_SOURCE_PIXELS = 8000 * 8000  # what lms.files.storage.check_image lets through; more is refused undecoded


class FaceImageError(ValueError):
    """The bytes are not an image we can analyse."""


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]   # left, top, right, bottom in the analysed (scaled) image
    encoding: np.ndarray             # 128 floats
    yaw: float                       # nose position between the jaw's ends, -0.5..0.5: moves when the head turns
    patch: np.ndarray                # 32x32 grey crop of the face, to tell identical frames apart
    whole: bool                      # every landmark lies inside the picture (no part of the face cut off)
    points: np.ndarray = None        # the 68 landmarks (x, y) in the analysed image, for geometry rules
    pitch: float = 0.0               # nose position between the eyes and the chin: grows when the head looks down

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]


@dataclass(frozen=True)
class Analysis:
    faces: tuple[Face, ...]
    size: tuple[int, int]            # analysed image width, height
    sharpness: float                 # of the face when there is exactly one (see face_sharpness), else 0
    small_faces: int = 0             # further, smaller faces found by analyse(search_small=True)

    @property
    def face_count(self) -> int:
        return len(self.faces) + self.small_faces

    @property
    def face(self) -> Face | None:
        return self.faces[0] if len(self.faces) == 1 else None


def _places(count: int) -> queue.LifoQueue:
    places = queue.LifoQueue()
    for _ in range(count):
        places.put(None)
    return places


class _Models:
    """dlib's models (about 90 MB and half a second to load per set), lent to one thread at a time.

    dlib releases the GIL while it computes, and its detector, shape predictor and encoder keep
    working memory in the object (none of them is documented as thread-safe): four threads analysing
    with one shared set crashed the process (SIGSEGV, SIGABRT "munmap_chunk(): invalid pointer") or
    ran for minutes and found hundreds of faces (issue 21). So each analysis borrows a set of its own.
    Sets are loaded when first needed, up to SETS per process (one per core: more cannot compute at
    once anyway), and kept for reuse; a thread that finds every set lent waits for one. A lock around
    one shared set would let a worker analyse one answer at a time; per-thread sets would load one per
    gunicorn thread that ever judges an answer (32 per worker, about 3 GB)."""

    SETS = max(os.cpu_count() or 1, 1)
    _free = _places(SETS)  # loaded sets on top (reused first), None for a set not loaded yet

    @classmethod
    @contextmanager
    def borrowed(cls):
        """(detector, shape predictor, encoder) for this thread alone, until the block ends."""
        models = cls._free.get()
        try:
            if models is None:
                models = cls._load()
            yield models
        finally:
            cls._free.put(models)

    @staticmethod
    def _load():
        import dlib
        import face_recognition_models as models
        return (dlib.get_frontal_face_detector(),
                dlib.shape_predictor(models.pose_predictor_model_location()),
                dlib.face_recognition_model_v1(models.face_recognition_model_location()))


def load_rgb(data: bytes, max_side: int) -> np.ndarray:
    """Decode, turn upright (EXIF orientation, as phones save photos), scale the longer side to
    at most max_side. JPEG is decoded at 1/2, 1/4 or 1/8 scale directly, which is much faster."""
    try:
        image = Image.open(io.BytesIO(data))  # the header only, so far
        if image.size[0] * image.size[1] > MAX_SOURCE_PIXELS:
            raise FaceImageError(f"{image.size[0]}x{image.size[1]} pixels is too large to decode")
        if image.format == "JPEG":
            image.draft("RGB", (max_side, max_side))
        image = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise FaceImageError(str(error)) from None
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    return np.asarray(image)


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height as stored (orientation aside: only the longer side is used)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise FaceImageError(str(error)) from None


def analyse(rgb: np.ndarray, search_small: bool = False) -> Analysis:
    """Find every face; for each, its encoding and the landmark measurements. ``search_small`` also
    looks for further faces down to about 40 px wide (a second person further back)."""
    grey = _grey(rgb)
    with _Models.borrowed() as (detector, predictor, encoder):
        boxes = list(detector(rgb, 0))
        faces = []
        for box in boxes:
            shape = predictor(rgb, box)
            points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
            encoding = np.array(encoder.compute_face_descriptor(rgb, shape))
            height, width = rgb.shape[:2]
            whole = bool(points.min() >= 0 and points[:, 0].max() < width and points[:, 1].max() < height)
            faces.append(Face(_clip(box, rgb.shape), encoding, _yaw(points),
                              _patch(grey, _clip(box, rgb.shape)), whole, points, _pitch(points)))
        small = _small_faces(detector, rgb, [face.box for face in faces]) if search_small else 0
    sharpness = face_sharpness(grey, faces[0].box) if len(faces) == 1 else 0.0
    return Analysis(tuple(faces), (rgb.shape[1], rgb.shape[0]), sharpness, small)


def _small_faces(detector, rgb: np.ndarray, known: list[tuple[int, int, int, int]]) -> int:
    """Faces the usual pass missed: the detector upsampled once, on the grey image (the same faces as on
    colour, 40 % sooner: bench/face_bench.py part 4). The usual pass's boxes still give the landmarks,
    which the turn rules were measured with."""
    found = detector(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), 1)
    return sum(1 for box in found if not any(_overlaps(_clip(box, rgb.shape), other) for other in known))


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """The centre of either box lies inside the other."""
    def inside(point, box):
        return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]
    return inside(((a[0] + a[2]) / 2, (a[1] + a[3]) / 2), b) or inside(((b[0] + b[2]) / 2, (b[1] + b[3]) / 2), a)


def analyse_bytes(data: bytes, max_side: int = FRAME_MAX_SIDE, search_small: bool = False) -> Analysis:
    """``search_small`` costs about 45 ms more on a 640 px frame."""
    return analyse(load_rgb(data, max_side), search_small)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two encodings (what face_recognition.face_distance computes)."""
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def encoding_to_text(encoding: np.ndarray) -> str:
    return ",".join(f"{value:.8f}" for value in encoding)


def encoding_from_text(text: str) -> np.ndarray:
    return np.array([float(value) for value in text.split(",")])


def patch_difference(a: Face, b: Face) -> float:
    """Mean absolute grey-level difference of two face crops (0 for identical frames)."""
    return float(np.mean(np.abs(a.patch - b.patch)))


# The face's outline (jaw, eyes, mouth corners) and its nose, in the 68-point model.
_OUTLINE = list(range(0, 17)) + list(range(36, 48)) + [48, 54]
_NOSE = list(range(27, 36))


def nose_parallax(before: Face, after: Face) -> float:
    """How far the nose moved off the place a flat picture would have put it, as part of the jaw's width.

    Any view of a flat picture (moved, tilted, turned, squashed, zoomed) maps its points by one
    homography. Fit that homography on the outline of the face and project the nose with it: on a
    photo the nose lands where it is (landmark noise, <= 0.06 measured on warped test photos); on a
    real head that turns, the nose stands out of the face and lands elsewhere (>= 0.08 measured on
    turns of 0.2). See README, "Face checks"."""
    a, b = before.points.astype(np.float32), after.points.astype(np.float32)
    homography, _ = cv2.findHomography(a[_OUTLINE], b[_OUTLINE], 0)
    if homography is None:
        return 0.0
    projected = cv2.perspectiveTransform(a[_NOSE].reshape(-1, 1, 2), homography).reshape(-1, 2)
    jaw_width = float(np.linalg.norm(b[16] - b[0])) + 1e-9
    return float(np.max(np.linalg.norm(projected - b[_NOSE], axis=1)) / jaw_width)


# Which landmark each point becomes in the mirror image (dlib's 68-point model).
_MIRROR = (list(range(16, -1, -1)) + list(range(26, 16, -1)) + [27, 28, 29, 30] + list(range(35, 30, -1))
           + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40] + list(range(54, 47, -1)) + list(range(59, 54, -1))
           + list(range(64, 59, -1)) + list(range(67, 64, -1)))


def mirrored(face: Face) -> Face:
    """The face as the picture flipped left-right shows it (flipped about its box's middle)."""
    left, _, right, _ = face.box
    points = face.points[_MIRROR].copy()
    points[:, 0] = left + right - points[:, 0]
    return replace(face, patch=np.fliplr(face.patch).copy(), points=points, yaw=-face.yaw)


def proportions(face: Face) -> float:
    """Distance between the eye centres over the distance from their midpoint to the mouth's centre.
    A head turning by yaw y shortens the first about as sqrt(1 - (2y)^2) and keeps the second; a flat
    picture squashed or tilted changes it in a way no turn explains."""
    points = face.points
    left_eye, right_eye, mouth = points[36:42].mean(0), points[42:48].mean(0), points[48:68].mean(0)
    return float(np.linalg.norm(right_eye - left_eye) / (np.linalg.norm(mouth - (left_eye + right_eye) / 2) + 1e-9))


# --- measurements --------------------------------------------------------------------------

def _grey(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _clip(box, shape) -> tuple[int, int, int, int]:
    height, width = shape[:2]
    return (max(box.left(), 0), max(box.top(), 0), min(box.right(), width), min(box.bottom(), height))


def face_sharpness(grey: np.ndarray, box) -> float:
    """Sharpness of the face: the variance of the 4-neighbour Laplacian over the face scaled to
    128x128 pixels, so that the figure does not depend on the photo's resolution. A blurred
    photo has few edges."""
    left, top, right, bottom = box
    if right - left < 3 or bottom - top < 3:
        return 0.0
    crop = Image.fromarray(grey[top:bottom, left:right].astype(np.uint8)).resize((128, 128), Image.Resampling.BILINEAR)
    pixels = np.asarray(crop, dtype=np.float64)
    lap = pixels[:-2, 1:-1] + pixels[2:, 1:-1] + pixels[1:-1, :-2] + pixels[1:-1, 2:] - 4 * pixels[1:-1, 1:-1]
    return float(lap.var())


def _yaw(points: np.ndarray) -> float:
    """Where the nose tip (30) lies along the line between the jaw's ends (0 and 16), from -0.5 to 0.5.

    A ratio along a line survives moving, scaling and rotating a flat picture in front of the
    camera; it changes when a real head turns, because the nose stands out of the face."""
    left, right, nose = points[0], points[16], points[30]
    axis = right - left
    return float(np.dot(nose - left, axis) / (np.dot(axis, axis) + 1e-9) - 0.5)


def _pitch(points: np.ndarray) -> float:
    """The nose tip (30) in the frame of the eyes and the mouth: how far it lies from the eyes' midpoint
    toward the mouth's centre, as a part of that distance, after taking out its share along the eye line.

    The nose stands out of the face, so when the head looks down its tip moves toward the mouth in the
    picture, and away from it when the head looks up. Any flat picture moved, scaled, rotated, stretched
    or sheared in front of the camera keeps these coordinates (they are affine-invariant)."""
    left_eye, right_eye = points[36:42].mean(axis=0), points[42:48].mean(axis=0)
    eyes, mouth = (left_eye + right_eye) / 2, points[48:68].mean(axis=0)
    basis = np.column_stack([right_eye - left_eye, mouth - eyes])
    if abs(np.linalg.det(basis)) < 1e-9:
        return 0.0
    return float(np.linalg.solve(basis, points[30] - eyes)[1])


def _patch(grey: np.ndarray, box) -> np.ndarray:
    left, top, right, bottom = box
    crop = Image.fromarray(grey[top:bottom, left:right].astype(np.uint8)).resize((32, 32), Image.Resampling.BILINEAR)
    return np.asarray(crop, dtype=np.float64)
