"""Demo lesson videos made locally with ffmpeg, so the demo needs nothing from outside."""
import subprocess
from pathlib import Path


def make_demo_clip(path: Path, seconds: int, pattern: str = "testsrc2") -> Path:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"{pattern}=size=1280x720:rate=25:duration={seconds}", "-f", "lavfi", "-i",
                    f"sine=frequency=330:duration={seconds}", "-c:v", "libx264", "-preset", "veryfast",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)], check=True)
    return path
