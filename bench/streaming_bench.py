"""Heartbeat latency while clients stream a video over Range requests: sync vs threaded gunicorn.

    .venv/bin/python bench/streaming_bench.py --db sqlite
    .venv/bin/python bench/streaming_bench.py --db postgres
    .venv/bin/python bench/streaming_bench.py --chunk-kb 0   # open-ended `Range: bytes=0-`, as a <video> asks

Builds the heartbeat benchmark's database (bench/heartbeat_bench.py) and gives its lesson a 720p
rendition: a test video made with ffmpeg (or --video), in MEDIA_ROOT as the transcoder leaves it.
Every learner signs in and starts the lesson; /api/player/start answers with the signed media URL.
Then, for each gunicorn configuration in --configs (`sync`: the 2 sync workers run before issue 11;
`default`: gunicorn.conf.py, what scripts/run_demo.sh runs; `ungated`: the same without its limit
on threads running the app at once; `gate:N`: that limit set to N; `gthread:N`: N threads per worker):

0. /api/ping and heartbeats as fast as wrk goes (32 connections, 10 s each), as heartbeat_bench.py;
1. heartbeats paced by wrk (16 connections) at --rate per second, no video;
2. the same while --streamers learners each fetch the video over and over, --chunk-kb at a time
   (`Range: bytes=a-b`), reading the body at --kbps (about the video's bitrate) with a small
   receive buffer (64 KiB), so that a response occupies the server as long as a real slow reader.

wrk's timeout is raised to 30 s so that stalled heartbeats count in its percentiles. The rate
defaults to half of the no-op rate (/api/ping) measured on the first configuration, the same
offered load for every configuration. gunicorn's log of each configuration is searched for
WORKER TIMEOUT. wrk, gunicorn, the streaming clients and the database share the machine's cores.
"""
import argparse
import functools
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from heartbeat_bench import (build_database, environment, pass_start_checks, sign_in, start_server,  # noqa: E402
                             wrk, write_entries)

CONFIGS = {"sync": ("--worker-class", "sync", "--threads", "1"), "default": (),
           "ungated": ("--env", "LMS_APP_THREADS=0")}
PACED_CONNECTIONS = 16


def config_args(name: str) -> tuple:
    if name.startswith("gthread:"):
        return ("--worker-class", "gthread", "--threads", name.split(":", 1)[1])
    if name.startswith("gate:"):
        return ("--env", f"LMS_APP_THREADS={name.split(':', 1)[1]}")
    return CONFIGS[name]


def make_video(path: Path, seconds: int, kbps: int) -> None:
    """A 720p test pattern; the noise makes x264 spend the whole bitrate (a plain pattern needs far less)."""
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=1280x720:rate=25",
                    "-t", str(seconds), "-vf", "noise=alls=12:allf=t", "-c:v", "libx264", "-preset", "ultrafast",
                    "-b:v", f"{kbps}k", "-maxrate", f"{kbps}k", "-bufsize", f"{2 * kbps}k", "-pix_fmt", "yuv420p",
                    "-movflags", "+faststart", str(path)], check=True)


def add_rendition(env: dict, lesson_id: int, video: Path) -> int:
    """The lesson's video gets a 720p rendition where jobs.rendition_path looks for it."""
    from lms.app import create_app
    from lms.extensions import db
    from lms.player.jobs import rendition_path
    from lms.player.models import Lesson, Rendition
    with create_app().app_context():
        lesson = db.session.get(Lesson, lesson_id)
        rendition = Rendition(video_id=lesson.video_id, name="720p", height=720, width=1280,
                              size=video.stat().st_size)
        db.session.add(rendition)
        db.session.commit()
        target = rendition_path(rendition)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(video, target)
        return rendition.size


class Streamer(threading.Thread):
    """One learner's player: GET the signed URL with a Range, read the body at `rate` bytes/s, again.

    Like a browser it keeps the connection alive between ranges when the server allows it (sync
    workers close every connection); with keep_alive=False it asks `Connection: close` each time."""

    def __init__(self, port: int, path: str, cookie: str, size: int, chunk: int, rate: float, start: int,
                 stop: threading.Event, keep_alive: bool = True):
        super().__init__(daemon=True)
        self.port, self.path, self.cookie, self.size, self.chunk, self.rate = port, path, cookie, size, chunk, rate
        self.offset, self.stop, self.keep_alive = start, stop, keep_alive
        self.sock = None
        self.first_byte_s, self.response_s = [], []
        self.ok = self.bad_status = self.truncated = self.errors = self.bytes = 0

    def run(self):
        while not self.stop.is_set():
            try:
                self.fetch()
            except OSError:
                self.close()
                if not self.stop.is_set():
                    self.errors += 1
                    self.stop.wait(0.5)
        self.close()

    def connect(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)  # before connect: the window
        sock.settimeout(120)
        sock.connect(("127.0.0.1", self.port))
        self.sock = sock

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def fetch(self):
        end = "" if self.chunk == 0 else str(min(self.offset + self.chunk, self.size) - 1)
        request = (f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nCookie: {self.cookie}\r\n"
                   f"Range: bytes={self.offset}-{end}\r\n"
                   f"Connection: {'keep-alive' if self.keep_alive else 'close'}\r\n\r\n").encode()
        began = time.monotonic()
        if self.sock is None:
            self.connect()
        try:
            self.sock.sendall(request)
            buffer = self.sock.recv(4096)
        except OSError:
            buffer = b""
        if not buffer:  # a kept-alive connection the server had closed meanwhile: once more, on a new one
            self.close()
            self.connect()
            self.sock.sendall(request)
            buffer = b""
        while b"\r\n\r\n" not in buffer:
            data = self.sock.recv(4096)
            if not data:
                raise ConnectionError("closed before the headers")
            buffer += data
        head, body = buffer.split(b"\r\n\r\n", 1)
        self.first_byte_s.append(time.monotonic() - began)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
        length = int(headers.get("content-length", "0"))
        got, reading = len(body), time.monotonic()
        while got < length and not self.stop.is_set():
            data = self.sock.recv(min(16384, length - got))
            if not data:
                break
            got += len(data)
            if status == 206:
                ahead = got / self.rate - (time.monotonic() - reading)
                if ahead > 0:
                    self.stop.wait(ahead)
        if got < length or not self.keep_alive or headers.get("connection", "").lower() == "close":
            self.close()
        if status != 206:
            self.bad_status += 1
            self.stop.wait(0.5)
            return
        self.bytes += got
        if got == length:
            self.ok += 1
            self.response_s.append(time.monotonic() - began)
        elif not self.stop.is_set():
            self.truncated += 1
        self.offset = 0 if self.chunk == 0 or self.offset + self.chunk >= self.size else self.offset + self.chunk

    def interrupt(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass


def stream_while(streamers: list, stop: threading.Event, action, ramp_s: float = 3.0) -> tuple:
    """Start the streamers, give them `ramp_s` to fill the server, run `action`, stop them:
    (what `action` returned, the streamers' figures)."""
    began = time.monotonic()
    for streamer in streamers:
        streamer.start()
    time.sleep(ramp_s)
    try:
        result = action()
    finally:
        elapsed = time.monotonic() - began
        stop.set()
        for streamer in streamers:
            streamer.interrupt()
        for streamer in streamers:
            streamer.join(10)
    return result, media_summary(streamers, elapsed)


def media_summary(streamers: list, elapsed: float) -> dict:
    first = sorted(t for s in streamers for t in s.first_byte_s)
    whole = sorted(t for s in streamers for t in s.response_s)
    return {"responses_206": sum(s.ok for s in streamers), "bad_status": sum(s.bad_status for s in streamers),
            "truncated": sum(s.truncated for s in streamers), "errors": sum(s.errors for s in streamers),
            "mbit_per_s": round(sum(s.bytes for s in streamers) * 8 / elapsed / 1e6, 1),
            "first_byte_p50_s": round(statistics.median(first), 2) if first else None,
            "first_byte_max_s": round(first[-1], 2) if first else None,
            "response_p50_s": round(statistics.median(whole), 2) if whole else None}


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(40)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--configs", default="sync,default", help="comma-separated: sync, default, gthread:N")
    parser.add_argument("--learners", type=int, default=64)
    parser.add_argument("--streamers", type=int, default=20)
    parser.add_argument("--chunk-kb", type=int, default=1024, help="Range size; 0 for open-ended bytes=a-")
    parser.add_argument("--kbps", type=int, default=2500, help="each streamer's reading rate, kbit/s")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rate", type=float, default=0, help="heartbeats/s offered (default: half the no-op rate)")
    parser.add_argument("--connection-close", action="store_true",
                        help="streamers send `Connection: close` (default: keep-alive, as browsers do)")
    parser.add_argument("--video", type=Path, help="an MP4 to serve (default: 120 s of testsrc at --kbps)")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    configs = args.configs.split(",")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = environment(tmp, args.db)
        with open(tmp / "instance" / "config.py", "a") as config:
            config.write("LMS_MEDIA_URL_SECONDS = 7200\n")  # the signed URLs outlive the whole run
        video = args.video
        if video is None:
            video = tmp / "source.mp4"
            make_video(video, 120, args.kbps)
        numbers, lesson_id = build_database(env, args.learners)
        size = add_rendition(env, lesson_id, video)
        base = f"http://127.0.0.1:{args.port}"
        entries_file = tmp / "entries.lua"
        entries = None
        for name in configs:
            log_path = tmp / f"gunicorn-{name.replace(':', '-')}.log"
            with open(log_path, "wb") as log:
                server = start_server(env, args.port, config_args(name), log)
                try:
                    if entries is None:
                        entries = [sign_in(base, number, lesson_id) for number in numbers]
                        pass_start_checks(env)
                        write_entries(entries_file, entries)
                    wrk(base, "ping.lua", entries_file, 3, 32)  # warm-up
                    noop = wrk(base, "ping.lua", entries_file, 10, 32)
                    beat = wrk(base, "heartbeat.lua", entries_file, 10, 32)
                    rate = args.rate = args.rate or round(noop["rate"] / 2)
                    delay = PACED_CONNECTIONS * 1000 / rate
                    paced = functools.partial(wrk, base, "heartbeat.lua", entries_file, args.seconds,
                                              PACED_CONNECTIONS, delay, 30)
                    quiet = paced()
                    stop = threading.Event()
                    streamers = [Streamer(args.port, e["media"][0], e["cookie"], size, args.chunk_kb * 1024,
                                          args.kbps * 125, (i * 4 * 1024 * 1024) % size if args.chunk_kb else 0,
                                          stop, not args.connection_close)
                                 for i, e in enumerate(entries[:args.streamers])]
                    streaming, media = stream_while(streamers, stop, paced)
                finally:
                    stop_server(server)
            timeouts = log_path.read_text(errors="replace").count("WORKER TIMEOUT")
            rows.append({"config": name, "gunicorn_args": " ".join(config_args(name)), "noop": noop,
                         "heartbeat_max": beat, "ratio": round(beat["rate"] / noop["rate"], 3), "offered_rate": rate,
                         "heartbeat_quiet": quiet, "heartbeat_streaming": streaming, "media": media,
                         "worker_timeouts": timeouts})
    connection = "close" if args.connection_close else "keep-alive"
    print(json.dumps({"db": args.db, "streamers": args.streamers, "chunk_kb": args.chunk_kb, "kbps": args.kbps,
                      "connection": connection, "video_bytes": size, "rows": rows}, indent=2))
    print(f"\n{args.db}, {args.streamers} streamers, {args.chunk_kb or 'open-ended'} KiB ranges at {args.kbps} kbit/s, "
          f"Connection: {connection}:")
    print("| config | no-op req/s | heartbeat req/s (ratio) | heartbeats offered/s | no video: p50 / p99 ms, req/s "
          "| streaming: p50 / p99 ms, req/s, wrk timeouts | media 206s, first byte p50 / max s, Mbit/s | WORKER TIMEOUT |")
    for r in rows:
        q, s, m = r["heartbeat_quiet"], r["heartbeat_streaming"], r["media"]
        if not s["requests"]:
            s = dict(s, p50_ms=float("nan"), p99_ms=float("nan"))  # none answered within the run
        print(f"| {r['config']} | {r['noop']['rate']:.0f} | {r['heartbeat_max']['rate']:.0f} ({r['ratio']:.0%}) | "
              f"{r['offered_rate']:.0f} | "
              f"{q['p50_ms']:.1f} / {q['p99_ms']:.1f}, {q['rate']:.0f} | "
              f"{s['p50_ms']:.1f} / {s['p99_ms']:.1f}, {s['rate']:.0f}, {s['timeouts']} | "
              f"{m['responses_206']}, {m['first_byte_p50_s']} / {m['first_byte_max_s']}, {m['mbit_per_s']} | "
              f"{r['worker_timeouts']} |")


if __name__ == "__main__":
    main()
