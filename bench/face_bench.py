"""Face analysis cost on one core, side by side with face_recognition's own calls.

    .venv/bin/python bench/face_bench.py [--rounds 10] [--runs 7] [--json]

Two measurements, in one run, pinned to CPU 0 with OMP_NUM_THREADS=1 and OPENBLAS_NUM_THREADS=1
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

The test photos are read where they lie, never copied. Figures go to BENCHMARKS.md.
"""
import os

# One core, one thread: before numpy or dlib is imported.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.sched_setaffinity(0, {0})

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FACES_DIR = ROOT.parent / "shared" / "testdata" / "faces"
FRAME_PHOTOS = ("obama_1.jpg", "obama_2.jpg", "obama_3.jpg", "biden_1.jpg", "biden_2.jpg", "alex_1.png", "alex_2.jpg")
MAX_FRAME_BYTES = 2 * 1024 * 1024

with warnings.catch_warnings():  # face_recognition_models imports pkg_resources, which warns
    warnings.simplefilter("ignore", UserWarning)
    import face_recognition  # noqa: E402
    from lms.files.storage import check_image  # noqa: E402
    from lms.proctor import decisions, faces, services  # noqa: E402


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


def print_report(frames: dict, enrolment: dict) -> None:
    yes = {True: "yes", False: "NO"}
    print("Face bench: CPU 0 only, 1 thread; warm-up done first, model loading excluded.\n")
    print("1. Per-frame check, 640x480 JPEG q85 canvas frames (enrolled = face_recognition(obama_1.jpg))")
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
    print("\n2. Enrolment photo: ours = services.assess_photo; naive = face_recognition on the full size")
    print(f"   {'photo':<30}{'ours p50':>9}{'ours p95':>9}{'naive p50':>10}{'naive p95':>10}  ours <= 300 ms")
    for name, row in enrolment.items():
        print(f"   {name:<30}{row['ours_p50_ms']:>9}{row['ours_p95_ms']:>9}{row['naive_p50_ms']:>10}"
              f"{row['naive_p95_ms']:>10}  {yes[row['target_met']]}")
        print(f"     ours: {row['ours']}; naive: {row['naive']}; {row['runs_each']} runs each")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10, help="rounds over the 7 frames")
    parser.add_argument("--runs", type=int, default=7, help="runs per enrolment photo")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args()
    frames, enrolment = bench_frames(args.rounds), bench_enrolment(args.runs)
    if args.json:
        print(json.dumps({"cpu": sorted(os.sched_getaffinity(0)), "frames": frames, "enrolment": enrolment},
                         indent=2))
    else:
        print_report(frames, enrolment)


if __name__ == "__main__":
    main()
