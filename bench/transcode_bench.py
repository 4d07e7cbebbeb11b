"""Transcoding a 60 s 1280x720 source to every rendition, side by side with one plain ffmpeg command.

    .venv/bin/python bench/transcode_bench.py [--runs 3]

Target: the platform's transcode takes at most 1.1x the plain command's time
and runs faster than 2x realtime (under 30 s for the 60 s source).
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lms.player import transcode  # noqa: E402


def make_source(path: Path, seconds: int = 60) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size=1280x720:rate=30:duration={seconds}", "-f", "lavfi", "-i",
                    f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-preset", "fast", "-b:v", "3M",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)], check=True)


def plain_command(source: Path, out: Path) -> list[str]:
    """The same three files written by hand as one ffmpeg command line."""
    graph = ("[0:v]split=3[v0][v1][v2];[v0]scale=640:360[s0];[v1]scale=854:480[s1];[v2]scale=1280:720[s2];"
             "[0:a]asplit=3[a0][a1][a2]")
    codec = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-profile:v", "main", "-pix_fmt", "yuv420p",
             "-g", "48", "-movflags", "+faststart", "-c:a", "aac", "-b:a", "96k", "-ac", "2"]
    args = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source), "-filter_complex", graph]
    for index, name in enumerate(("360p", "480p", "720p")):
        args += ["-map", f"[s{index}]", "-map", f"[a{index}]", *codec, str(out / f"{name}.mp4")]
    return args


def time_platform(source: Path, out: Path) -> float:
    start = time.perf_counter()
    info = transcode.probe(source)
    transcode.run(source, out, info, transcode.plan(info), lambda fraction: None)
    return time.perf_counter() - start


def time_plain(source: Path, out: Path) -> float:
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    subprocess.run(plain_command(source, out), check=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = tmp / "source.mp4"
        make_source(source)
        platform, plain = [], []
        for run in range(args.runs):  # interleaved, so that both see the same machine
            plain.append(time_plain(source, tmp / f"plain{run}"))
            platform.append(time_platform(source, tmp / f"platform{run}"))
        sizes = {p.name: p.stat().st_size for p in sorted((tmp / "platform0").glob("*.mp4"))}
    result = {"source": "60 s 1280x720 30 fps H.264 + AAC", "runs": args.runs,
              "platform_s": [round(t, 2) for t in platform], "plain_ffmpeg_s": [round(t, 2) for t in plain],
              "platform_median_s": round(statistics.median(platform), 2),
              "plain_median_s": round(statistics.median(plain), 2),
              "ratio": round(statistics.median(platform) / statistics.median(plain), 3),
              "realtime_factor": round(60 / statistics.median(platform), 2), "rendition_bytes": sizes}
    print(json.dumps(result, indent=2))
    ok = result["ratio"] <= 1.1 and result["realtime_factor"] > 2
    print(f"transcode: {result['platform_median_s']} s vs plain ffmpeg {result['plain_median_s']} s "
          f"= {result['ratio']}x, {result['realtime_factor']}x realtime -> {'meets' if ok else 'misses'} the target")


if __name__ == "__main__":
    main()
