"""Recycled frames (issue 10): prints of analysed faces, and finding an earlier attempt's frames
again after re-encoding, scaling, shifting or re-ordering. Real dlib on the real test photos."""
import dataclasses
import functools
import importlib.util
import io
import time
from datetime import timedelta

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from PIL import Image
from sqlalchemy import insert, inspect, select, text

from lms.core.clock import utcnow
from lms.proctor import decisions, faces, fingerprints, replays
from lms.proctor.models import FaceEnrolment, FaceFingerprint

from .conftest import ROOT, face_bytes
from .face_frames import frame

needs_faces = pytest.mark.usefixtures("faces_dir")
FRAME_SIZE = (640, 480)


def recycled(data: bytes, scale=1.0, shift=(0, 0), quality=85) -> bytes:
    """An earlier frame as an attacker posts it again: scaled and shifted inside a new 640x480
    canvas, saved at another JPEG quality."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    if scale != 1.0:
        image = image.resize((round(FRAME_SIZE[0] * scale), round(FRAME_SIZE[1] * scale)), Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", FRAME_SIZE, (30, 30, 30))
    canvas.paste(image, ((FRAME_SIZE[0] - image.width) // 2 + shift[0], (FRAME_SIZE[1] - image.height) // 2 + shift[1]))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@functools.cache
def print_of(data: bytes, max_side: int = faces.FRAME_MAX_SIDE) -> fingerprints.Fingerprint:
    face = faces.analyse(faces.load_rgb(data, max_side)).face
    assert face is not None, "the test image should show exactly one face"
    return fingerprints.of_face(data, face)


@functools.cache
def camera_frame(name: str) -> bytes:
    return frame(name)


def earlier_attempt(learner_id: int, names=("obama_2.jpg", "obama_3.jpg"), days_ago=3) -> list[bytes]:
    """The frames of an earlier attempt of the learner, with their prints on record."""
    frames = [camera_frame(name) for name in names]
    fingerprints.keep(learner_id, [print_of(data) for data in frames], utcnow() - timedelta(days=days_ago))
    return frames


def synthetic_print(rng: np.random.Generator, index: int) -> dict:
    """A stored print that is nobody's frame in particular: random hash, patch and shape."""
    return dict(digest=fingerprints.digest_of(f"synthetic {index}".encode()),
                phash=int(rng.integers(-2**63, 2**63 - 1, dtype=np.int64)),
                patch=rng.integers(0, 256, 256, dtype=np.uint8).tobytes(),
                geometry=rng.normal(0, 0.2, 136).astype(np.float16).tobytes(), version=fingerprints.PRINT_VERSION)


# --- the print ------------------------------------------------------------------------------------

@needs_faces
def test_a_print_is_compact_and_names_the_bytes():
    data = camera_frame("obama_2.jpg")
    p = print_of(data)
    assert p.digest == fingerprints.digest_of(data) and len(p.digest) == 64
    assert -2**63 <= p.phash < 2**63
    assert len(p.patch) == 16 * 16 and len(p.geometry) == 68 * 2 * 2
    assert fingerprints.near_duplicate(p, p)


def test_geometry_ignores_position_scale_and_in_plane_rotation():
    rng = np.random.default_rng(1)
    points = rng.normal(0, 40, (68, 2)) + 300
    points[36:42] += [-60, -40]   # eyes apart and level-ish, as in a face
    points[42:48] += [60, -40]
    angle = np.radians(9)
    turn = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    moved = (points - 300) @ turn * 1.37 + [120, -45]
    assert np.allclose(fingerprints.normalised_geometry(points), fingerprints.normalised_geometry(moved), atol=1e-9)


def test_version_2_geometry_ignores_stretch_and_shear():
    rng = np.random.default_rng(3)
    points = rng.normal(0, 40, (68, 2)) + 300
    points[36:42] += [-60, -40]
    points[42:48] += [60, -40]
    for stretch_and_shear in ([[1.2, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 0.8]], [[1.0, 0.15], [0.0, 1.0]],
                              [[0.9, -0.15], [0.1, 1.25]]):
        moved = points @ np.array(stretch_and_shear).T * 0.7 + [40, -25]
        assert np.allclose(fingerprints.affine_normalised_geometry(points),
                           fingerprints.affine_normalised_geometry(moved), atol=1e-9)
    # A similarity-normalised (version 1) geometry does not: what let a stretched replay through.
    stretched = points @ np.array([[1.2, 0.0], [0.0, 1.0]]).T
    assert not np.allclose(fingerprints.normalised_geometry(points), fingerprints.normalised_geometry(stretched),
                           atol=0.05)


@needs_faces
def test_version_1_rows_still_match_their_unchanged_copies(db, learner):
    data = camera_frame("obama_3.jpg")
    face = faces.analyse(faces.load_rgb(data, faces.FRAME_MAX_SIDE)).face
    fingerprints.keep(learner.id, [fingerprints.of_face(data, face, version=1)], utcnow() - timedelta(days=2))
    db.session.commit()
    assert db.session.scalar(select(FaceFingerprint.version).where(
        FaceFingerprint.digest == fingerprints.digest_of(data))) == 1
    copy = recycled(data, scale=0.9, quality=70)
    copy_face = faces.analyse(faces.load_rgb(copy, faces.FRAME_MAX_SIDE)).face
    assert fingerprints.find_replays(learner.id, [fingerprints.of_face(copy, copy_face, version=1)]) == [0]
    assert fingerprints.find_replays(learner.id, [fingerprints.of_face(copy, copy_face)]) == []  # v2: not compared
    # replays.py makes the version 1 prints itself.
    assert replays.replayed_answer(learner.id, [(copy, (copy_face,))], [False], decisions.PHOTOS)
    other = camera_frame("obama_2.jpg")
    other_face = faces.analyse(faces.load_rgb(other, faces.FRAME_MAX_SIDE)).face
    assert not replays.replayed_answer(learner.id, [(other, (other_face,))], [False], decisions.PHOTOS)


# --- recycled frames ----------------------------------------------------------------------------------

@needs_faces
@pytest.mark.parametrize("change", [dict(quality=60), dict(scale=0.8), dict(scale=1.25), dict(shift=(6, -4)),
                                    dict(scale=0.9, shift=(-5, 3), quality=70)],
                         ids=["quality 60", "scale 0.8", "scale 1.25", "shifted", "all at once"])
def test_an_earlier_attempts_frames_changed_and_reordered_are_found(db, learner, change):
    first_view, second_view = earlier_attempt(learner.id, names=("obama_3.jpg", "obama_1.jpg"))
    fresh = camera_frame("obama_2.jpg")   # the same person, a picture not on record: not a replay
    attempt = [fresh, recycled(second_view, **change), recycled(first_view, **change)]
    assert not fingerprints.byte_replay(learner.id, [fingerprints.digest_of(data) for data in attempt])
    assert fingerprints.find_replays(learner.id, [print_of(data) for data in attempt]) == [1, 2]


@needs_faces
def test_byte_identical_frames_are_found_from_the_digest_alone(db, learner, other_learner):
    frames = earlier_attempt(learner.id)
    assert fingerprints.byte_replay(learner.id, ["0" * 64, fingerprints.digest_of(frames[1])])
    assert not fingerprints.byte_replay(learner.id, [fingerprints.digest_of(recycled(frames[1], quality=95))])
    assert not fingerprints.byte_replay(learner.id, [])
    assert not fingerprints.byte_replay(other_learner.id, [fingerprints.digest_of(frames[1])])


@needs_faces
def test_the_enrolment_photo_shown_to_the_camera_is_found(db, learner):
    enrolment = db.session.scalar(select(FaceEnrolment).where(FaceEnrolment.learner_id == learner.id))
    photo = face_bytes("obama_1.jpg")   # what the learner fixture registers with
    fingerprints.keep(learner.id, [print_of(photo, faces.ENROL_MAX_SIDE)], utcnow(), enrolment_id=enrolment.id)
    db.session.commit()
    attempt = [camera_frame("obama_2.jpg"), recycled(camera_frame("obama_1.jpg"), scale=1.1, quality=70)]
    assert fingerprints.find_replays(learner.id, [print_of(data) for data in attempt]) == [1]


@needs_faces
def test_different_photos_of_the_same_person_do_not_collide(db, learner):
    earlier_attempt(learner.id, names=("obama_1.jpg", "obama_2.jpg"))
    assert fingerprints.find_replays(learner.id, [print_of(camera_frame("obama_3.jpg"))]) == []
    for first, second in (("obama_1.jpg", "obama_2.jpg"), ("obama_1.jpg", "obama_3.jpg"),
                          ("obama_2.jpg", "obama_3.jpg"), ("biden_1.jpg", "biden_2.jpg"),
                          ("alex_1.png", "alex_2.jpg")):
        assert not fingerprints.near_duplicate(print_of(camera_frame(first)), print_of(camera_frame(second)))


@needs_faces
def test_prints_of_another_learner_never_match(db, learner, other_learner):
    frames = earlier_attempt(other_learner.id)   # a family member on the same computer
    db.session.commit()
    assert fingerprints.find_replays(learner.id, [print_of(data) for data in frames]) == []
    assert fingerprints.find_replays(other_learner.id, [print_of(data) for data in frames]) == [0, 1]


@needs_faces
def test_a_replay_is_found_among_forty_thousand_stored_prints(db, learner):
    rng = np.random.default_rng(10)
    now = utcnow()
    rows = [dict(learner_id=learner.id, created_at=now, **synthetic_print(rng, index)) for index in range(40_000)]
    db.session.execute(insert(FaceFingerprint), rows)
    old = earlier_attempt(learner.id, names=("obama_3.jpg",))
    db.session.commit()
    attempt = [print_of(camera_frame("obama_2.jpg")), print_of(recycled(old[0], scale=0.8, quality=60))]
    started = time.perf_counter()
    assert fingerprints.find_replays(learner.id, attempt) == [1]
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0, f"find_replays took {elapsed:.2f} s with 40,000 stored prints"
    # Without the hash prefilter every stored print is loaded (in chunks) and compared: same answer.
    every_print = dataclasses.replace(fingerprints.DEFAULT_THRESHOLDS, hash_bits=64)
    assert fingerprints.find_replays(learner.id, attempt, every_print) == [1]


# --- retention and schema --------------------------------------------------------------------------------

def test_retention_purges_old_prints_with_the_old_frames(db, learner):
    from lms.proctor import services
    rng = np.random.default_rng(2)
    now = utcnow()
    old = fingerprints.Fingerprint(**synthetic_print(rng, 1))
    recent = fingerprints.Fingerprint(**synthetic_print(rng, 2))
    fingerprints.keep(learner.id, [old], now - timedelta(days=400))
    fingerprints.keep(learner.id, [recent], now - timedelta(days=10))
    db.session.commit()
    mine = select(FaceFingerprint.digest).where(FaceFingerprint.digest.in_([old.digest, recent.digest]))
    services.purge_old_frames(now, 365)
    assert db.session.scalars(mine).all() == [recent.digest]
    assert fingerprints.purge(now, 5) == 1   # `recent`; younger prints (the enrolment photo's) stay
    db.session.commit()
    assert db.session.scalars(mine).all() == []


def migration(name: str):
    path = ROOT / "migrations" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(conn, step) -> None:
    with Operations.context(MigrationContext.configure(conn, opts={"render_as_batch": True})):
        step()


def test_the_fingerprint_migrations_round_trip(db):
    prints, versions = migration("10a02_face_fingerprints"), migration("h21p01_print_version")
    with db.engine.begin() as conn:
        run(conn, versions.downgrade)
        assert "version" not in {column["name"] for column in inspect(conn).get_columns("face_fingerprints")}
        run(conn, prints.downgrade)
        assert "face_fingerprints" not in inspect(conn).get_table_names()
        run(conn, prints.upgrade)
        run(conn, versions.upgrade)
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), db.metadata) == []


def test_prints_stored_before_version_2_are_version_1(db, learner):
    versions = migration("h21p01_print_version")
    row = {key: value for key, value in synthetic_print(np.random.default_rng(4), 1).items() if key != "version"}
    with db.engine.begin() as conn:
        run(conn, versions.downgrade)
        conn.execute(text("INSERT INTO face_fingerprints (learner_id, created_at, digest, phash, patch, geometry) "
                          "VALUES (:learner_id, :created_at, :digest, :phash, :patch, :geometry)"),
                     dict(learner_id=learner.id, created_at=utcnow(), **row))
        run(conn, versions.upgrade)
    assert db.session.scalar(select(FaceFingerprint.version)) == 1
