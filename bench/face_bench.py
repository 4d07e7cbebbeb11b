"""Face analysis cost on one core, side by side with face_recognition's own calls.

    .venv/bin/python bench/face_bench.py [--rounds 10] [--runs 7] [--answer-rounds 20]
        [--stored 0,3000,9000,40000] [--option-rounds 3] [--parts 1,2,3,4] [--json]

Four measurements, in one run, pinned to CPU 0 with OMP_NUM_THREADS=1 and OPENBLAS_NUM_THREADS=1
(set before numpy and dlib are imported). Every timed call is preceded by a warm-up pass over
the same inputs, so model loading (about half a second per library) is excluded from the figures.

1. Per-frame check cost. A 640x480 JPEG frame (quality 85) is built in memory from each photo of
   a person in ../shared/testdata/faces (obama_1/2/3, biden_1/2, alex_1/2): scaled to fit and padded
   with black, the way a browser canvas frame looks.
     ours     = what submit_attempt does per frame: storage.check_image (2 MiB, sides 120..5000)
                + faces.analyse_bytes (HOG, upsample 0, 68-point landmarks, 128-d encoding)
                + faces.distance to the enrolled encoding for each face found
     baseline = face_recognition.load_image_file + face_locations (its defaults: upsample 1, hog)
                + face_encodings (its defaults: 5-point landmarks, 1 jitter) + face_distance
   The enrolled encoding is face_recognition's encoding of obama_1.jpg. Ours and baseline are
   interleaved frame by frame (the order alternates by round). Per frame, both face counts and
   both distances are printed, so a speed-up cannot come from finding nothing.
   Target: ours/baseline <= 1.1 at p50 and p95, and ours p50 <= 200 ms.

2. Enrolment of a large photo: biden_1.jpg (970x2204) and obama_1 upscaled in memory to 1600x2000
   (JPEG quality 90).
     ours  = lms.proctor.services.assess_photo(data, decisions.Thresholds()) (thresholds passed in,
             so no Flask app is needed; it decodes at most 480 px with JPEG draft scaling)
     naive = face_recognition.load_image_file on the full-size photo + face_locations + face_encodings
   Interleaved. Target: ours median <= 300 ms.

3. A whole answer of the issue 21 protocol: 3 hold frames (LMS_FACE_HOLD_FRAMES is 2-4) and a burst of
   LMS_FACE_BURST_FRAMES (18), what tests/face_frames.py `clip_answer` makes from the real head-turn clip
   ../shared/testdata/headturn/turn_a.gif for a camera challenge "turn left" (skipped without the clip);
   the learner is enrolled on the clip's person (`clip_encoding_text`). The answer goes through what
   submit_attempt does up to its commit: storage.check_image of every frame, the real
   lms.proctor.attempts._judge (digests + byte_replay; per frame faces.load_rgb, faces.analyse at
   upsample 0, LMS_FACE_UPSAMPLED_FRAMES of them picked at random also searched for small faces, and
   motion.grey; attempts._steps (optical flow between consecutive frames); decisions.judge_attempt with
   judge_liveness; replays.replayed_answer at the CAMERA_COPY thresholds; replays.prints_to_keep), then
   fingerprints.keep + flush (the INSERTs; the commit is left out and the rows are rolled back, so the
   number of stored prints stays what is measured).
   The database is a temporary SQLite file (WAL, as the app sets it) built by the migrations, with one
   learner whose STORED prints are version 2 prints of the clip person's faces in the frames of her
   turn, as seen and mirrored, each with the noise of bench/fingerprint_threshold.py `noisy_face` (about
   20 hash bits from its source: the hard case for the hash prefilter, far from it in patch and
   geometry). Measured at each --stored count: 0; 3,000 = a heavy learner's year; 9,000 = that learner
   over the 1,095 days prints are kept (LMS_FACE_EVIDENCE_DAYS); 40,000. Each answer is timed in wall
   time and in CPU time of the thread (time.thread_time: it leaves out what other processes take from
   the core, and is the steadier figure on a shared machine). The parts are timed by thin wrappers
   around the lms functions (about a microsecond per call); the upsampled frame's part is its analysis
   minus the median of the other frames' in the same answer, and "other" is what no part accounts for.
   The verdict of the answer is printed: it must pass, with no replay found.

4. The upsampled frame (b), other ways to search it for a second face 40 px wide: what each adds to
   the analysis of its frame (CPU ms over the 10 posed photo frames of the old answer: 6 x obama_2 then
   4 x obama_3, 640x480 q85 on a grey canvas), and which widths of a second face (alex_2, alex_1 or
   biden_1 pasted beside the learner as tests/test_proctor_challenges.py `_with_small_face` did, at
   three places, in the first and last of those frames) it finds. Also the faces it finds on those
   frames and the test photos, to show that it finds nothing more.
   With part 3 in the same run, part 3's answer CPU time with each option for (b) is projected.

The test photos are read where they lie, never copied. Figures go to BENCHMARKS.md.
"""
import os

# One core, one thread: before numpy or dlib is imported.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.sched_setaffinity(0, {0})

import argparse  # noqa: E402
import base64  # noqa: E402
import dataclasses  # noqa: E402
import functools  # noqa: E402
import io  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from datetime import timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FACES_DIR = ROOT.parent / "shared" / "testdata" / "faces"
FRAME_PHOTOS = ("obama_1.jpg", "obama_2.jpg", "obama_3.jpg", "biden_1.jpg", "biden_2.jpg", "alex_1.png", "alex_2.jpg")
MAX_FRAME_BYTES = 2 * 1024 * 1024

with warnings.catch_warnings():  # face_recognition_models imports pkg_resources, which warns
    warnings.simplefilter("ignore", UserWarning)
    import face_recognition  # noqa: E402
    from lms.files.storage import check_image  # noqa: E402
    from lms.proctor import attempts, decisions, faces, fingerprints, motion, replays, services  # noqa: E402


# --- inputs, built in memory ---------------------------------------------------------------------

def canvas_frame(path: Path, size=(640, 480), quality=85) -> bytes:
    """The photo scaled to fit the frame and centred on black, saved as a browser would save a canvas."""
    photo = Image.open(path).convert("RGB")
    scale = min(size[0] / photo.width, size[1] / photo.height)
    photo = photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.Resampling.BILINEAR)
    frame = Image.new("RGB", size)
    frame.paste(photo, ((size[0] - photo.width) // 2, (size[1] - photo.height) // 2))
    out = io.BytesIO()
    frame.save(out, "JPEG", quality=quality)
    return out.getvalue()


def upscaled(path: Path, size=(1600, 2000), quality=90) -> bytes:
    out = io.BytesIO()
    Image.open(path).convert("RGB").resize(size, Image.Resampling.BICUBIC).save(out, "JPEG", quality=quality)
    return out.getvalue()


# --- the two sides ---------------------------------------------------------------------------------

def ours_frame(data: bytes, enrolled: np.ndarray):
    check_image(data, MAX_FRAME_BYTES, min_side=120, max_side=5000)
    analysis = faces.analyse_bytes(data)
    return [faces.distance(face.encoding, enrolled) for face in analysis.faces]


def baseline_frame(data: bytes, enrolled: np.ndarray):
    img = face_recognition.load_image_file(io.BytesIO(data))
    locations = face_recognition.face_locations(img)
    encodings = face_recognition.face_encodings(img, locations)
    return list(face_recognition.face_distance(encodings, enrolled)) if encodings else []


def ours_enrol(data: bytes):
    try:
        candidate = services.assess_photo(data, decisions.Thresholds())
        return f"accepted, face {candidate.face_width} px, sharpness {candidate.sharpness}"
    except services.FaceError as error:
        return f"refused: {error}"


def naive_enrol(data: bytes):
    img = face_recognition.load_image_file(io.BytesIO(data))
    locations = face_recognition.face_locations(img)
    encodings = face_recognition.face_encodings(img, locations)
    return f"{len(encodings)} face(s)"


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return (time.perf_counter() - start) * 1000, result


def pct(values, q):
    return round(float(np.percentile(values, q)), 1)


# --- the benchmark ---------------------------------------------------------------------------------

def bench_frames(rounds: int) -> dict:
    enrolled = face_recognition.face_encodings(face_recognition.load_image_file(FACES_DIR / "obama_1.jpg"))[0]
    frames = {name: canvas_frame(FACES_DIR / name) for name in FRAME_PHOTOS}
    checks = {}
    for name, data in frames.items():  # warm-up, and the sanity check
        ours, base = ours_frame(data, enrolled), baseline_frame(data, enrolled)
        checks[name] = {"bytes": len(data), "ours_faces": len(ours), "baseline_faces": len(base),
                        "same_count": len(ours) == len(base),
                        "ours_distances": [round(d, 3) for d in ours],
                        "baseline_distances": [round(float(d), 3) for d in base]}
    ours_ms, base_ms = [], []
    for index in range(rounds):
        for data in frames.values():
            sides = [(ours_ms, ours_frame), (base_ms, baseline_frame)]
            for bucket, fn in (sides if index % 2 == 0 else sides[::-1]):
                bucket.append(timed(fn, data, enrolled)[0])
    result = {"samples_each": len(ours_ms), "ours_p50_ms": pct(ours_ms, 50), "ours_p95_ms": pct(ours_ms, 95),
              "baseline_p50_ms": pct(base_ms, 50), "baseline_p95_ms": pct(base_ms, 95), "frames": checks}
    result["ratio_p50"] = round(result["ours_p50_ms"] / result["baseline_p50_ms"], 3)
    result["ratio_p95"] = round(result["ours_p95_ms"] / result["baseline_p95_ms"], 3)
    result["target_ratio_met"] = result["ratio_p50"] <= 1.1 and result["ratio_p95"] <= 1.1
    result["target_p50_met"] = result["ours_p50_ms"] <= 200
    return result


def bench_enrolment(runs: int) -> dict:
    photos = {"biden_1.jpg (970x2204)": (FACES_DIR / "biden_1.jpg").read_bytes(),
              "obama_1 upscaled (1600x2000)": upscaled(FACES_DIR / "obama_1.jpg")}
    result = {}
    for name, data in photos.items():
        ours_outcome, naive_outcome = ours_enrol(data), naive_enrol(data)  # warm-up
        ours_ms, naive_ms = [], []
        for index in range(runs):
            sides = [(ours_ms, ours_enrol), (naive_ms, naive_enrol)]
            for bucket, fn in (sides if index % 2 == 0 else sides[::-1]):
                bucket.append(timed(fn, data)[0])
        result[name] = {"runs_each": runs, "ours": ours_outcome, "naive": naive_outcome,
                        "ours_p50_ms": pct(ours_ms, 50), "ours_p95_ms": pct(ours_ms, 95),
                        "naive_p50_ms": pct(naive_ms, 50), "naive_p95_ms": pct(naive_ms, 95),
                        "target_met": pct(ours_ms, 50) <= 300}
    return result


# --- 3. a whole answer of the issue 21 protocol: hold frames, then a burst ------------------------

HOLD_FRAMES = 3               # LMS_FACE_HOLD_FRAMES is (2, 4): the middle of it
# Part 4 still searches the 10 posed photo frames of the old answer (prompt at frame 5) for second faces.
POSED_CHALLENGE = decisions.Challenge(decisions.CAMERA, decisions.LEFT, prompt_frame=5, frame_count=10,
                                      reaction_frames=3)
POSED_POSES = (("obama_2.jpg", False), ("obama_3.jpg", False))   # the old tests/face_frames.py TURNS["left"][0]
# Parts of the answer's cost, in the order submit_attempt meets them (the frames analysed, "other" is the
# rest: the nonce and time checks, distances, moving_frames, the wrappers).
PARTS = {"check": "check_image, every frame", "a": "digests + byte_replay", "decode": "decode (load_rgb)",
         "analyse": "analyse, upsample 0", "b": "upsampled frame, added", "grey": "grey images (motion)",
         "steps": "motion steps (_steps)", "liveness": "judge_liveness", "replays": "replays.replayed_answer",
         "to_keep": "prints_to_keep (of_face)", "e": "keep + flush (INSERTs)", "other": "other"}


def posed(name: str, flip: bool, index: int, quality=85) -> bytes:
    """tests/face_frames.py `posed`: one camera frame of a pose, moved by a pixel or two by ``index``."""
    photo = Image.open(FACES_DIR / name).convert("RGB")
    if flip:
        photo = ImageOps.mirror(photo)
    photo.thumbnail((640, 480))
    canvas = Image.new("RGB", (640, 480), (30, 30, 30))
    canvas.paste(photo, ((640 - photo.width) // 2 + index % 3, (480 - photo.height) // 2 + (index // 3) % 2))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=quality)
    return out.getvalue()


def following(challenge=POSED_CHALLENGE, turn_after=1) -> list[bytes]:
    """The old tests/face_frames.py `following`: still up to the prompt frame, turned from the frame after it."""
    turn_at = challenge.prompt_frame + turn_after
    return [posed(*POSED_POSES[index >= turn_at], index) for index in range(challenge.frame_count)]


def clocked(fn, *args, **kwargs):
    """(wall ms, CPU ms of this thread, result). CPU time leaves out what other processes take from
    the core; on this shared machine it is the steadier figure."""
    wall, cpu = time.perf_counter(), time.thread_time()
    result = fn(*args, **kwargs)
    return (time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000, result


class PartClock:
    """Wraps lms functions by module attribute (which is how attempts._judge and decisions reach them)
    and adds up wall and CPU time spent in each, outermost calls only: digest_of inside of_face inside
    replayed_answer is replayed_answer's."""

    def __init__(self):
        self.sink, self._depth, self._restore = None, 0, []

    def add(self, key: str, wall: float, cpu: float) -> None:
        self.sink.setdefault(key, []).append((wall, cpu))

    def wrap(self, module, name: str, label):
        original = getattr(module, name)

        def timed_call(*args, **kwargs):
            if self.sink is None or self._depth:
                return original(*args, **kwargs)
            self._depth += 1
            try:
                wall, cpu, result = clocked(original, *args, **kwargs)
            finally:
                self._depth -= 1
            self.add(label(args, kwargs) if callable(label) else label, wall, cpu)
            return result

        setattr(module, name, timed_call)
        self._restore.append((module, name, original))

    def unwrap(self):
        for module, name, original in reversed(self._restore):
            setattr(module, name, original)


def clip_challenge(burst_frames: int) -> decisions.Challenge:
    """What decisions.pick_challenge gives for a camera check with HOLD_FRAMES hold frames, turning left
    (tests/face_frames.py clip_answer plays the clip mirrored for it)."""
    return decisions.Challenge(decisions.CAMERA, decisions.LEFT, prompt_frame=HOLD_FRAMES,
                               frame_count=HOLD_FRAMES + burst_frames, reaction_frames=burst_frames)


def answer(frames: list[bytes], context) -> tuple:
    """submit_attempt's work up to its commit: the frames checked, attempts._judge, the prints kept."""
    images = []
    for data in frames:
        wall, cpu, image = clocked(check_image, data, MAX_FRAME_BYTES, min_side=120, max_side=5000)
        context.clock.add("check", wall, cpu)
        images.append(image)
    verdict, prints = attempts._judge(context.check, context.challenge, images, context.challenge.nonce, context.now)
    wall, cpu, _ = clocked(keep_and_flush, context.check.learner_id, prints, context.now)
    context.clock.add("e", wall, cpu)
    return verdict, prints


def keep_and_flush(learner_id: int, prints: list, now) -> None:
    fingerprints.keep(learner_id, prints, now, attempt_id=None)
    db_session().flush()


def db_session():
    from lms.extensions import db
    return db.session


def bench_app(tmp: Path):
    """The app on a temporary SQLite file built by the migrations, with one learner."""
    from flask_migrate import upgrade

    from lms.app import create_app

    os.environ["LMS_INSTANCE_PATH"] = str(tmp / "instance")
    app = create_app("testing", {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite3'}", "SECRET_KEY": os.urandom(8).hex(),
        "LMS_DATA_KEYS": "b1:" + base64.b64encode(os.urandom(32)).decode(), "LMS_ACTIVE_KEY_ID": "b1",
        "LMS_HMAC_KEY": base64.b64encode(os.urandom(32)).decode(), "MEDIA_ROOT": str(tmp / "media")})
    context = app.app_context()
    context.push()
    logging.disable(logging.INFO)   # alembic's one line per migration
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # SQLAlchemy cannot reflect an expression index on SQLite
        upgrade()
    logging.disable(logging.NOTSET)
    from bench.fingerprint_threshold import bench_learner
    learner = bench_learner()
    return app, context, learner.id


def stored_sources() -> list:
    """The clip person's faces in every frame of the turn, as seen and mirrored: what a year of her
    genuine answers turning both ways would have stored (the hard case for the hash prefilter)."""
    from tests.face_frames import CLIP_ENROLMENT, _CLIP_TURN_START, clip_frame
    found = [faces.analyse_bytes(clip_frame(index)).face for index in range(_CLIP_TURN_START, CLIP_ENROLMENT)]
    return found + [faces.mirrored(face) for face in found]


def store_prints(learner_id: int, count: int, first_index: int, sources: list, rng: np.random.Generator) -> None:
    """``count`` more stored version 2 prints for the learner, each another capture's worth of noise away
    from one of ``sources`` (bench/fingerprint_threshold.py noisy_face: about 20 hash bits from its
    source, far from it in patch and geometry), kept for no attempt (one source of their own)."""
    from sqlalchemy import insert

    from fingerprint_threshold import noisy_face  # bench/, next to this file
    from lms.core.clock import utcnow
    from lms.proctor.models import FaceFingerprint

    now, rows = utcnow(), []
    for index in range(first_index, first_index + count):
        p = fingerprints.of_face(f"stored {index}".encode(), noisy_face(sources[index % len(sources)], rng))
        rows.append(dict(learner_id=learner_id, created_at=now - timedelta(minutes=index), digest=p.digest,
                         phash=p.phash, patch=p.patch, geometry=p.geometry, version=p.version))
        if len(rows) == 5000:
            db_session().execute(insert(FaceFingerprint), rows)
            rows = []
    if rows:
        db_session().execute(insert(FaceFingerprint), rows)
    db_session().commit()


def prefilter_passes(learner_id: int, prints: list) -> list[int]:
    """How many stored prints of the print's version pass the hash prefilter, per print (for the report)."""
    from sqlalchemy import select

    from lms.proctor.models import FaceFingerprint
    hashes = np.array(db_session().scalars(select(FaceFingerprint.phash).where(
        FaceFingerprint.learner_id == learner_id, FaceFingerprint.version == fingerprints.PRINT_VERSION)).all(),
        dtype=np.int64)
    gate = replays.CAMERA_COPY.hash_bits
    return [int((fingerprints.hamming_many(p.phash, hashes) <= gate).sum()) if len(hashes) else 0 for p in prints]


def summary(values: list[float]) -> dict:
    return {"p50": pct(values, 50), "p95": pct(values, 95)}


def clock_judge(clock: PartClock) -> None:
    clock.wrap(fingerprints, "digest_of", "a")
    clock.wrap(fingerprints, "byte_replay", "a")
    clock.wrap(faces, "load_rgb", "decode")
    clock.wrap(faces, "analyse", lambda args, kwargs: "upsampled" if kwargs.get("search_small") else "analyse")
    clock.wrap(motion, "grey", "grey")
    clock.wrap(attempts, "_steps", "steps")
    clock.wrap(decisions, "judge_liveness", "liveness")
    clock.wrap(replays, "replayed_answer", "replays")
    clock.wrap(replays, "prints_to_keep", "to_keep")


def split(sink: dict, total: dict) -> dict:
    """Wall and CPU ms per part of one answer; b is the upsampled frame's analysis minus the median of the
    other frames' (which goes to "analyse"), "other" what no part accounts for."""
    parts = {}
    for measure, at in (("wall", 0), ("cpu", 1)):
        one_frame = float(np.median([t[at] for t in sink["analyse"]]))
        upsampled = [t[at] for t in sink.get("upsampled", [])]
        row = {key: sum(t[at] for t in sink.get(key, [])) for key in PARTS if key not in ("b", "other")}
        row["analyse"] += one_frame * len(upsampled)
        row["b"] = sum(upsampled) - one_frame * len(upsampled)
        row["other"] = total[measure] - sum(row.values())
        parts[measure] = row
    return parts


def bench_answer(rounds: int, stored_counts: list[int]) -> dict:
    from tests.face_frames import CLIP, CLIP_MISSING, clip_answer, clip_encoding_text
    if not CLIP.is_file():
        return {"skipped": CLIP_MISSING}
    tmp = Path(tempfile.mkdtemp(prefix="face-bench-"))
    app, app_context, learner_id = bench_app(tmp)
    challenge = clip_challenge(int(app.config["LMS_FACE_BURST_FRAMES"]))
    frames = clip_answer(challenge)
    clock = PartClock()
    clock_judge(clock)
    from lms.core.clock import utcnow
    now = utcnow()
    interval_ms, burst_ms = int(app.config["LMS_FACE_FRAME_INTERVAL_MS"]), int(app.config["LMS_FACE_BURST_INTERVAL_MS"])
    context = SimpleNamespace(   # the FaceCheck and FaceChallenge fields attempts._judge reads
        clock=clock, now=now,
        check=SimpleNamespace(learner_id=learner_id, enrolment=SimpleNamespace(encoding=clip_encoding_text())),
        challenge=SimpleNamespace(
            nonce="bench-nonce", interval_ms=interval_ms, burst_interval_ms=burst_ms,
            deadline=now + timedelta(hours=1),
            issued_at=now - timedelta(milliseconds=interval_ms * challenge.prompt_frame
                                      + burst_ms * (challenge.frame_count - challenge.prompt_frame), seconds=1),
            **dataclasses.asdict(challenge)))
    result = {"hold": challenge.prompt_frame, "burst": challenge.frame_count - challenge.prompt_frame,
              "frames": len(frames), "frame_bytes": [len(data) for data in frames], "rounds": rounds,
              "upsampled_frames": int(app.config["LMS_FACE_UPSAMPLED_FRAMES"]), "stored": {}}
    rng, stored_now, sources = np.random.default_rng(21), 0, stored_sources()
    try:
        for count in sorted(stored_counts):
            started = time.perf_counter()
            store_prints(learner_id, count - stored_now, stored_now, sources, rng)
            made_s, stored_now = time.perf_counter() - started, count

            clock.sink = {}
            verdict, prints = answer(frames, context)   # warm-up, and the sanity check
            db_session().rollback()
            clock.sink = None
            row = {"made_and_inserted_s": round(made_s, 1), "outcome": verdict.outcome, "reason": verdict.reason,
                   "liveness": verdict.liveness, "yaw_change": verdict.yaw_change, "distance": verdict.distance,
                   "face_counts": verdict.face_counts, "prints_kept": len(prints),
                   "prefilter_passes_per_kept_print": prefilter_passes(learner_id, prints)}
            db_session().rollback()

            totals = {"wall": [], "cpu": []}
            parts = {measure: {key: [] for key in PARTS} for measure in totals}
            per_frame = []   # decode + analyse of one frame at upsample 0, CPU ms
            for _ in range(rounds):
                clock.sink = {}
                wall, cpu, _ = clocked(answer, frames, context)
                db_session().rollback()   # the prints kept are not committed: the stored count stays
                totals["wall"].append(wall)
                totals["cpu"].append(cpu)
                for measure, split_row in split(clock.sink, {"wall": wall, "cpu": cpu}).items():
                    for key, value in split_row.items():
                        parts[measure][key].append(value)
                per_frame += [d[1] + a[1] for d, a in zip(clock.sink["decode"], clock.sink["analyse"], strict=False)]
            clock.sink = None
            for measure in totals:
                row[measure] = {"total": summary(totals[measure]),
                                "parts": {key: summary(values) for key, values in parts[measure].items()}}
            row["frame_decode_analyse_cpu"] = summary(per_frame)
            result["stored"][count] = row
    finally:
        clock.unwrap()
        db_session().remove()
        app_context.pop()
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def print_answer(answer: dict) -> None:
    if "skipped" in answer:
        print(f"\n3. A whole answer: skipped, {answer['skipped']}")
        return
    counts = list(answer["stored"])
    print(f"\n3. A whole answer of {answer['hold']} hold + {answer['burst']} burst frames (turn_a.gif, tests/face_frames.py "
          f"clip_answer, 640x480 q85, {min(answer['frame_bytes'])}-{max(answer['frame_bytes'])} bytes; "
          f"{answer['upsampled_frames']} frame upsampled), through attempts._judge and keep + flush; "
          f"{answer['rounds']} answers per row; ms")
    print(f"   {'stored prints':>13}{'CPU p50':>9}{'p95':>8}{'wall p50':>10}{'p95':>8}   decode+analyse one frame, CPU p50")
    for count, row in answer["stored"].items():
        print(f"   {count:>13,}{row['cpu']['total']['p50']:>9}{row['cpu']['total']['p95']:>8}"
              f"{row['wall']['total']['p50']:>10}{row['wall']['total']['p95']:>8}   "
              f"{row['frame_decode_analyse_cpu']['p50']}")
    for measure in ("cpu", "wall"):
        print(f"\n   {measure} ms by part, p50 / p95 over the answers")
        print(f"   {'part':<27}" + "".join(f"{f'{count:,} stored':>16}" for count in counts))
        for key, title in PARTS.items():
            cells = [answer["stored"][count][measure]["parts"][key] for count in counts]
            print(f"   {title:<27}" + "".join(f"{c['p50']:>8} / {c['p95']:<6}" for c in cells))
    print("\n   sanity: the verdict of the answer, and what the stored prints look like to it")
    for count, row in answer["stored"].items():
        print(f"   {count:>7,} stored: {row['outcome']} ({row['reason'] or 'no reason'}), liveness {row['liveness']}, "
              f"turn {row['yaw_change']}, worst distance {row['distance']}, faces {row['face_counts']}; "
              f"{row['prints_kept']} prints kept; stored prints within the hash prefilter per kept print "
              f"{row['prefilter_passes_per_kept_print']}; stored in {row['made_and_inserted_s']} s")


# --- 4. options for the upsampled frame (b) ------------------------------------------------------

SECOND_FACES = ("alex_2.jpg", "alex_1.png", "biden_1.jpg")     # the person further back
SECOND_AT = ((8, 120), (540, 40), (480, 330))                  # beside the learner, as the test puts it, and two more
SECOND_WIDTHS = (30, 34, 36, 38, 40, 45, 50, 60)


def with_small_face(frame: bytes, width: int, source="alex_2.jpg", at=(8, 120)) -> bytes:
    """tests/test_proctor_challenges.py `_with_small_face`, with the second face and its place as parameters:
    the source's face (its detector box ``width`` px wide) pasted with a margin of half its width."""
    posed_source = posed(source, False, 0)
    left, top, right, bottom = faces.analyse_bytes(posed_source).face.box
    margin = (right - left) // 2
    crop = Image.open(io.BytesIO(posed_source)).crop((left - margin, top - margin, right + margin, bottom + margin))
    scale = width / (right - left)
    crop = crop.resize((round(crop.width * scale), round(crop.height * scale)), Image.Resampling.BICUBIC)
    picture = Image.open(io.BytesIO(frame)).convert("RGB")
    picture.paste(crop, at)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


@functools.cache
def _detector():
    """A detector of the bench's own (its one thread is the only user), like the one faces.analyse borrows."""
    import dlib
    return dlib.get_frontal_face_detector()


def _boxes(rects, scale=1.0, dx=0, dy=0) -> list[tuple]:
    return [(round(r.left() / scale) + dx, round(r.top() / scale) + dy, round(r.right() / scale) + dx,
             round(r.bottom() / scale) + dy) for r in rects]


def _grey(rgb):
    import cv2
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _scaled(image, factor):
    import cv2
    return cv2.resize(image, None, fx=factor, fy=factor,
                      interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)


def _overlap(a, b) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    return width * height / min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))


def outside_face_box(rgb, main: list[tuple], margin=48) -> list[tuple]:
    """Upsample 1 on four strips around the learner's face box (found at upsample 0), each reaching
    ``margin`` px into it so that a 40 px face touching the box still lies inside a strip."""
    if len(main) != 1:
        return _boxes(_detector()(rgb, 1))
    height, width = rgb.shape[:2]
    left, top, right, bottom = main[0]
    strips = [(0, 0, min(left + margin, width), height), (max(right - margin, 0), 0, width, height),
              (max(left - margin, 0), 0, min(right + margin, width), min(top + margin, height)),
              (max(left - margin, 0), max(bottom - margin, 0), min(right + margin, width), height)]
    found = []
    for x0, y0, x1, y1 in strips:
        if x1 - x0 >= 40 and y1 - y0 >= 40:
            found += _boxes(_detector()(np.ascontiguousarray(rgb[y0:y1, x0:x1]), 1), 1, x0, y0)
    return found


# name: (detection on the RGB frame -> boxes, whether it replaces the frame's upsample-0 detection)
UPSAMPLE_OPTIONS = {
    "now: RGB, dlib upsample 1": (lambda rgb: _boxes(_detector()(rgb, 1)), True),
    "half-resolution copy, upsample 1": (lambda rgb: _boxes(_detector()(_scaled(rgb, 0.5), 1), 0.5), True),
    "outside the face box, upsample 1": (None, False),
    "grey, dlib upsample 1": (lambda rgb: _boxes(_detector()(_grey(rgb), 1)), True),
    "grey, x1.75, upsample 0": (lambda rgb: _boxes(_detector()(_scaled(_grey(rgb), 1.75), 0), 1.75), True),
    "grey, x1.5, upsample 0": (lambda rgb: _boxes(_detector()(_scaled(_grey(rgb), 1.5), 0), 1.5), True),
    "RGB, x1.5, upsample 0": (lambda rgb: _boxes(_detector()(_scaled(rgb, 1.5), 0), 1.5), True),
    "no upsampling (reference)": (lambda rgb: _boxes(_detector()(rgb, 0)), True),
}


def option_faces(name: str, rgb) -> list[tuple]:
    """Every face the frame's analysis would see with this option for its upsampled frame."""
    detect, replaces = UPSAMPLE_OPTIONS[name]
    if replaces:
        return detect(rgb)
    main = _boxes(_detector()(rgb, 0))
    found = list(main)
    for box in outside_face_box(rgb, main):
        if all(_overlap(box, other) < 0.3 for other in found):
            found.append(box)
    return found


def option_cost(name: str, rgb) -> float:
    """CPU ms the option adds to the analysis of its frame (the frame is analysed at upsample 0 anyway)."""
    detect, replaces = UPSAMPLE_OPTIONS[name]
    if replaces:
        return clocked(detect, rgb)[1] - clocked(_detector(), rgb, 0)[1]
    main = _boxes(_detector()(rgb, 0))
    return clocked(outside_face_box, rgb, main)[1]


def bench_options(rounds: int) -> dict:
    frames = following()
    rgbs = [faces.load_rgb(data, faces.FRAME_MAX_SIDE) for data in frames]
    photos = {name: faces.load_rgb(canvas_frame(FACES_DIR / name), faces.FRAME_MAX_SIDE)
              for name in FRAME_PHOTOS + ("two_people.jpg",)}
    cases = {width: [faces.load_rgb(with_small_face(frames[index], width, source, at), faces.FRAME_MAX_SIDE)
                     for index in (0, len(frames) - 1) for source in SECOND_FACES for at in SECOND_AT]
             for width in SECOND_WIDTHS}
    result = {"cases_per_width": len(cases[SECOND_WIDTHS[0]]), "options": {}}
    for name in UPSAMPLE_OPTIONS:
        for rgb in rgbs[:2]:
            option_cost(name, rgb)  # warm-up
        costs = [option_cost(name, rgb) for _ in range(rounds) for rgb in rgbs]
        result["options"][name] = {
            "added_cpu_p50_ms": pct(costs, 50), "added_cpu_p95_ms": pct(costs, 95),
            "second_face_found": {width: sum(len(option_faces(name, rgb)) == 2 for rgb in rgbs_)
                                  for width, rgbs_ in cases.items()},
            "answer_frames_faces": [len(option_faces(name, rgb)) for rgb in rgbs],
            "photos_faces": {photo: len(option_faces(name, rgb)) for photo, rgb in photos.items()}}
    return result


def print_options(options: dict, answer: dict | None) -> None:
    print("\n4. The upsampled frame (b): what it adds to its frame's analysis, and which second faces it finds")
    print(f"   A second face (alex_2, alex_1, biden_1) of the given detector-box width pasted beside the learner at "
          f"{len(SECOND_AT)} places in the first and the last of the 10 posed photo frames (obama_2, obama_3): "
          f"{options['cases_per_width']} cases per width. 'answer at N' = part 3's answer CPU p50 with this "
          f"option's cost for b, in ms.")
    counts = list(answer["stored"]) if answer and "stored" in answer else []
    print(f"   {'option':<34}{'added p50':>10}{'p95':>7}  " + " ".join(f"{w:>3}" for w in SECOND_WIDTHS)
          + " px found" + "".join(f"{f'answer at {count:,}':>17}" for count in counts))
    for name, row in options["options"].items():
        projected = []
        for count in counts:
            cpu = answer["stored"][count]["cpu"]
            without_b = cpu["total"]["p50"] - cpu["parts"]["b"]["p50"]
            projected.append(f"{without_b + answer['upsampled_frames'] * row['added_cpu_p50_ms']:>17.0f}")
        print(f"   {name:<34}{row['added_cpu_p50_ms']:>10}{row['added_cpu_p95_ms']:>7}  "
              + " ".join(f"{row['second_face_found'][w]:>3}" for w in SECOND_WIDTHS)
              + f"{'':9}" + "".join(projected))
    print("   faces found on the 10 posed frames and on the test photos' canvas frames (obama_1/2/3, biden_1/2, "
          "alex_1/2, two_people):")
    for name, row in options["options"].items():
        print(f"   {name:<34}{row['answer_frames_faces']}  {list(row['photos_faces'].values())}")


def print_report(frames: dict | None, enrolment: dict | None, answer: dict | None = None,
                 options: dict | None = None) -> None:
    yes = {True: "yes", False: "NO"}
    print("Face bench: CPU 0 only, 1 thread; warm-up done first, model loading excluded.")
    if frames:
        print("\n1. Per-frame check, 640x480 JPEG q85 canvas frames (enrolled = face_recognition(obama_1.jpg))")
        print(f"   {'frame':<13}{'bytes':>7}  {'faces ours/base':<16}{'same':<6}{'distance ours':<16}distance base")
        for name, row in frames["frames"].items():
            print(f"   {name:<13}{row['bytes']:>7}  {row['ours_faces']}/{row['baseline_faces']:<14}"
                  f"{yes[row['same_count']]:<6}{str(row['ours_distances']):<16}{row['baseline_distances']}")
        print(f"\n   {frames['samples_each']} timed frames each     p50 ms    p95 ms")
        print(f"   ours (check_image+analyse) {frames['ours_p50_ms']:>8}  {frames['ours_p95_ms']:>8}")
        print(f"   baseline (face_recognition){frames['baseline_p50_ms']:>8}  {frames['baseline_p95_ms']:>8}")
        print(f"   ratio ours/baseline        {frames['ratio_p50']:>8}  {frames['ratio_p95']:>8}")
        print(f"   target ratio <= 1.1: {yes[frames['target_ratio_met']]}; "
              f"target ours p50 <= 200 ms: {yes[frames['target_p50_met']]}")
    if enrolment:
        print("\n2. Enrolment photo: ours = services.assess_photo; naive = face_recognition on the full size")
        print(f"   {'photo':<30}{'ours p50':>9}{'ours p95':>9}{'naive p50':>10}{'naive p95':>10}  ours <= 300 ms")
        for name, row in enrolment.items():
            print(f"   {name:<30}{row['ours_p50_ms']:>9}{row['ours_p95_ms']:>9}{row['naive_p50_ms']:>10}"
                  f"{row['naive_p95_ms']:>10}  {yes[row['target_met']]}")
            print(f"     ours: {row['ours']}; naive: {row['naive']}; {row['runs_each']} runs each")
    if answer:
        print_answer(answer)
    if options:
        print_options(options, answer)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10, help="rounds over the 7 frames")
    parser.add_argument("--runs", type=int, default=7, help="runs per enrolment photo")
    parser.add_argument("--answer-rounds", type=int, default=20, help="answers timed per stored-print count")
    parser.add_argument("--stored", default="0,3000,9000,40000", help="stored prints of the learner, comma-separated")
    parser.add_argument("--option-rounds", type=int, default=3, help="rounds over the 10 frames per option")
    parser.add_argument("--parts", default="1,2,3,4", help="which measurements to run, comma-separated")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args()
    parts = {part.strip() for part in args.parts.split(",")}
    frames = bench_frames(args.rounds) if "1" in parts else None
    enrolment = bench_enrolment(args.runs) if "2" in parts else None
    answer = bench_answer(args.answer_rounds, [int(n) for n in args.stored.split(",")]) if "3" in parts else None
    options = bench_options(args.option_rounds) if "4" in parts else None
    if args.json:
        print(json.dumps({"cpu": sorted(os.sched_getaffinity(0)), "frames": frames, "enrolment": enrolment,
                          "answer": answer, "options": options}, indent=2))
    else:
        print_report(frames, enrolment, answer, options)


if __name__ == "__main__":
    main()
