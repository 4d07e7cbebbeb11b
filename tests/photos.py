"""Where the real face photos for tests are, and what happens when they are not there.

The photos (example images of the MIT-licensed face_recognition project; see README, "Face photos for
tests") are never committed. They are looked for, in this order, in ``$LMS_TEST_FACES``, in
``../shared/testdata/faces`` beside the checkout, and in ``.test-faces/`` (git-ignored), where
``scripts/fetch_test_faces.py`` puts them. Without them the tests that judge real faces are skipped with
one line saying so; under CI=true the run fails instead (see tests/conftest.py).
"""
import os
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV_VAR = "LMS_TEST_FACES"
SHARED = ROOT.parent / "shared" / "testdata" / "faces"
FETCHED = ROOT / ".test-faces"
PROBE = "obama_1.jpg"  # a folder without it is not the photo set
PHOTOS = ("obama_1.jpg", "obama_2.jpg", "obama_3.jpg", "obama_partial_face.jpg", "biden_1.jpg", "biden_2.jpg",
          "alex_1.png", "alex_2.jpg", "two_people.jpg", "no_face.jpg")
MISSING = (f"real face photos not found (${ENV_VAR}, ../shared/testdata/faces, .test-faces/): "
           "tests that judge real faces are skipped; get the photos with `python scripts/fetch_test_faces.py`")


@cache
def faces_folder() -> Path | None:
    """The folder holding the photos, or None. An explicit $LMS_TEST_FACES that lacks them is None too
    (it is never silently replaced by another folder)."""
    configured = os.environ.get(ENV_VAR)
    candidates = [Path(configured)] if configured else [SHARED, FETCHED]
    return next((folder for folder in candidates if (folder / PROBE).is_file()), None)


def missing_photos() -> list[str]:
    folder = faces_folder()
    return [name for name in PHOTOS if folder is None or not (folder / name).is_file()]


def face_path(name: str) -> Path:
    """A photo of the set, or skip the calling test (no folder, or a partial fetch) with the one shared reason."""
    folder = faces_folder()
    if folder is None or not (folder / name).is_file():
        pytest.skip(MISSING)
    return folder / name


def face_bytes(name: str = PROBE) -> bytes:
    return face_path(name).read_bytes()
