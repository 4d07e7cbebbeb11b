"""Probe and transcode uploaded videos with ffmpeg (through ffmpeg-python).

One ffmpeg process decodes the source once, splits it, and writes every
rendition: H.264/AAC MP4 with the index at the front for progressive playback.
"""
import json
import subprocess
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from ..core import limits

# (name, height): 流畅 360p, 标清 480p, 高清 720p
LADDER = (("360p", 360), ("480p", 480), ("720p", 720))
VIDEO_ARGS = {"c:v": "libx264", "preset": "veryfast", "crf": 23, "profile:v": "main", "pix_fmt": "yuv420p",
              "g": 48, "movflags": "+faststart"}
AUDIO_ARGS = {"c:a": "aac", "b:a": "96k", "ac": 2}

# The containers a source may be, by the format_name ffprobe reports, and the demuxer that then reads
# it. Each holds its media itself: playlists (HLS), concat lists and the like read other files named
# inside them (another institution's video, any file on the server), so they are never auto-detected.
CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "mov", "matroska,webm": "matroska", "avi": "avi", "flv": "flv",
              "mpegts": "mpegts"}
# Every read of a source: local file only (no network, subfile, concat or data protocol), allowed demuxers only.
INPUT_OPTIONS = {"protocol_whitelist": "file", "format_whitelist": ",".join(CONTAINERS.values())}
DEMUXER_OPTIONS = {"mov": {"enable_drefs": 0}}  # the default, stated: no data references to other files


class TranscodeError(RuntimeError):
    """The source cannot be used; ``code`` says why."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class SourceInfo:
    duration: float
    width: int
    height: int
    has_audio: bool
    container: str  # the demuxer (a value of CONTAINERS) that transcoding must use


@dataclass(frozen=True)
class Target:
    name: str
    width: int
    height: int


def container_of(head: bytes) -> str | None:
    """The container the first bytes of an upload announce (a value of CONTAINERS), or None.
    A quick check at upload time; probe() decides."""
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"):
        return "mov"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:3] == b"FLV":
        return "flv"
    if any(head[first:first + 1] == head[second:second + 1] == b"G"
           for first, second in ((0, 188), (4, 196))):  # two TS packets of 188 bytes, or of 192 (M2TS)
        return "mpegts"
    return None


def _ffprobe(path: Path) -> dict:
    """ffprobe's JSON about a file, as ffmpeg.probe gives it, but stopped after limits.PROBE_SECONDS: a
    source that would keep it reading (or a path that blocks) is unreadable. ffmpeg.probe (ffmpeg-python
    0.2.0, its last release) has no time limit, so ffprobe is run here with one."""
    options = [part for key, value in INPUT_OPTIONS.items() for part in (f"-{key}", str(value))]
    try:
        result = subprocess.run(["ffprobe", "-show_format", "-show_streams", "-of", "json", *options, str(path)],
                                capture_output=True, timeout=limits.PROBE_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise TranscodeError("unreadable", f"ffprobe took longer than {limits.PROBE_SECONDS} s") from None
    if result.returncode != 0:
        raise ffmpeg.Error("ffprobe", result.stdout, result.stderr)
    return json.loads(result.stdout.decode("utf-8", "replace"))


def probe(path: Path) -> SourceInfo:
    try:
        info = _ffprobe(path)
    except ffmpeg.Error as error:
        stderr = error.stderr.decode("utf-8", "replace")
        raise TranscodeError("format" if "not on whitelist" in stderr else "unreadable", stderr[-300:]) from None
    except ValueError:  # not JSON
        raise TranscodeError("unreadable") from None
    container = CONTAINERS.get(info.get("format", {}).get("format_name"))
    if container is None:
        raise TranscodeError("format", info.get("format", {}).get("format_name", ""))
    video = next((s for s in info.get("streams", []) if s.get("codec_type") == "video"), None)
    if video is None or not video.get("width"):
        raise TranscodeError("no_video")
    try:
        duration = float(info["format"]["duration"])
    except (KeyError, ValueError):
        raise TranscodeError("no_duration") from None
    if duration <= 0:
        raise TranscodeError("no_duration")
    width, height = int(video["width"]), int(video["height"])
    if max(width, height) > limits.MAX_VIDEO_SIDE or width * height > limits.MAX_VIDEO_PIXELS:
        raise TranscodeError("dimensions", f"{width}x{height}")
    rotation = _rotation(video)
    if rotation in (90, 270):
        width, height = height, width
    has_audio = any(s.get("codec_type") == "audio" for s in info["streams"])
    return SourceInfo(duration, width, height, has_audio, container)


def _rotation(stream) -> int:
    for side in stream.get("side_data_list", []):
        if "rotation" in side:
            return abs(int(side["rotation"])) % 360
    return abs(int(stream.get("tags", {}).get("rotate", 0))) % 360


def plan(source: SourceInfo) -> list[Target]:
    """Renditions up to the source's height, never upscaled; a small source gets one at its own size."""
    targets = [(name, height) for name, height in LADDER if height <= source.height]
    if not targets:
        targets = [(LADDER[0][0], source.height - source.height % 2)]
    return [Target(name, _even(source.width * height / source.height), height) for name, height in targets]


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def build(source_path: Path, out_dir: Path, source: SourceInfo, targets: list[Target]):
    """The ffmpeg-python graph: one input read with the demuxer probe() found, split once, one output per target."""
    stream = ffmpeg.input(str(source_path), f=source.container, **INPUT_OPTIONS,
                          **DEMUXER_OPTIONS.get(source.container, {}))
    videos = stream.video.filter_multi_output("split", len(targets))
    audio = stream.audio.filter_multi_output("asplit", len(targets)) if source.has_audio else None
    outputs = []
    for index, target in enumerate(targets):
        scaled = videos[index].filter("scale", target.width, target.height)
        parts = [scaled, audio[index]] if audio is not None else [scaled]
        args = dict(VIDEO_ARGS, **(AUDIO_ARGS if audio is not None else {}))
        outputs.append(ffmpeg.output(*parts, str(out_dir / f"{target.name}.mp4"), **args))
    return ffmpeg.merge_outputs(*outputs).global_args("-hide_banner", "-nostats", "-loglevel", "error",
                                                      "-progress", "pipe:1").overwrite_output()


def run(source_path: Path, out_dir: Path, source: SourceInfo, targets: list[Target], on_progress) -> None:
    """Run ffmpeg, calling ``on_progress(fraction)`` as it reports; raise TranscodeError on failure.

    The command is ffmpeg-python's (build); the process is read here, as ffmpeg-python's run() would only
    hand back its output at the end: progress lines come on stdout while it runs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    process = build(source_path, out_dir, source, targets).run_async(pipe_stdout=True, pipe_stderr=True)
    # stderr is drained beside the progress reading: a damaged source can log an error per frame, and a
    # full stderr pipe would stop ffmpeg while this loop waits for its next progress line.
    errors = deque(maxlen=64)
    drain = threading.Thread(target=errors.extend, args=(process.stderr,), daemon=True)
    drain.start()
    for raw in process.stdout:
        key, _, value = raw.decode("ascii", "replace").strip().partition("=")
        if key == "out_time_us" and value.isdigit():
            on_progress(min(int(value) / 1e6 / source.duration, 1.0))
    status = process.wait()
    drain.join()
    if status != 0:
        raise TranscodeError("ffmpeg_failed", b"".join(errors).decode("utf-8", "replace")[-300:])
