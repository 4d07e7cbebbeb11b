"""A webcam for browser tests whose picture the test changes while the page watches it.

Chromium's fake camera (``--use-fake-device-for-media-stream --use-file-for-fake-video-capture=FILE.y4m``)
plays a .y4m file, and the page gets those frames through the real getUserMedia path. A face check that
asks "turn your head toward the arrow" at a moment the server picks cannot be answered by a file made in
advance, so this helper keeps a one-frame .y4m file and rewrites that frame in place when the test wants
the camera to show something else.

Why that works (Chromium's media/capture/video/file_video_capture_device.cc, checked against Chromium 156
on Debian by experiment, see below):

- ``Y4mFileParser::Initialize`` opens the file (a ``base::File`` held open for the whole capture
  session), reads the first 200 bytes for the header (W, H, F = frame rate, integer division of the
  ratio), and remembers where the first frame starts (after "FRAME" plus one byte).
- ``Y4mFileParser::GetNextFrame`` ``pread``s one frame (W*H*3/2 bytes of I420) at the current offset
  from that open file *every time* the capture thread produces a frame (``OnCaptureTask``, every
  1/F seconds); at the end of the file it starts again at the first frame. Nothing is loaded or mapped
  in advance, so bytes written into the file in place show up on the next frame that is read.
  (The .mjpeg parser, by contrast, mmaps the file, and JPEG frames change size.)
- The file is opened again by path when a capture session starts (each getUserMedia after all tracks
  stopped), and when devices are listed. Replacing the file (os.replace, a new inode) is therefore only
  seen by the next session; a session already running keeps reading the old inode. Truncating the
  file under a running session trips a CHECK and kills the capture: never shorten it.
- A multi-frame file loops, showing its first frame twice per loop (the read that hits EOF rewinds
  without advancing).

Measured in /tmp/feedlab (Chromium 156, headless, 640x480, one-frame file at 30 fps): the new picture
reached the page's <video> 3-42 ms after the write (median 19 ms, 12 switches) and a canvas sampled
every 100 ms 50-89 ms after it (median 77 ms); at 10 fps, 51-82 ms (median 74 ms). 300 switches
50 ms apart gave 463 frames, every one clearly the old or the new picture (no torn frame seen; one
pwrite of the whole frame). The colour the page draws differs from the photo by 0.46 grey levels on
average (BT.601 limited range, which is what Chromium assumes for an untagged y4m). os.replace was
not seen by a running session within 3 s; a new getUserMedia then showed the new file in ~50 ms.

A still picture is not what a camera gives: every frame of a real webcam differs a little (noise,
light, a head that never holds perfectly still), and the server refuses an answer whose frames are
mostly identical ("identical": the still-image attack). So by default (``live=True``) a background
thread rewrites the frame ten times a second with a small variation of the current picture: moved by
two pixels (a different offset each time), brightness +-3 levels, a little noise. Measured with
lms.proctor.faces: consecutive frames then differ by 4.5-15 grey levels of face patch (the rule's
limit is 0.5) while the yaw moves by at most 0.02 (a turn is 0.12). The variation does not hide a
replay: lms.proctor.fingerprints still finds a varied frame a near-duplicate of the plain one, and the
server compares each face of an answer and its mirror image with every face the learner sent before,
so one learner can show each photo, as it is or mirrored, in only one check attempt (see POSES and
unused_pose). Pass ``live=False`` for the still-image attack.

Real footage (tests/footage.py) plays the same way: ``play(clip)`` hands the frames of a clip to the same
background thread, which writes each one in place at the clip's frame rate (25 fps for the webcam clip:
every 40 ms, within the 30 fps at which Chromium reads), then keeps the clip's last frame with the live
variation. ``play_prompt`` is the learner who holds still and makes the asked move when the arrow shows.

The photos (../shared/testdata/faces) are read where they lie; nothing is copied into the project.
The yaw of each photo in a 640x480 frame is in the note under POSES; the learner's own LEFT is the image's
RIGHT in an unmirrored camera frame, where the nose moves right and the yaw grows.

Usage::

    feed = CameraFeed(tmp_path / "camera.y4m", photo=FACES / "obama_1.jpg")
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + feed.chromium_args())
    ...
    front, turned_for = poses(FACES, "obama")
    answered = follow_prompt(page, feed, front, turned_for)   # blocks until the turn is shown
    ...
    feed.close()
"""
from __future__ import annotations

import os
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
from PIL import Image, ImageOps

from .conftest import DEADLINE_MS

SIZE = (640, 480)
FRAME_RATE = 30        # frames per second Chromium reads; at 30 a write shows within ~45 ms
LIVE_PERIOD = 0.1      # seconds between the small variations of a live picture
SHIFTS = ((0, 0), (2, 0), (2, 2), (0, 2), (-2, 2), (-2, 0), (-2, -2), (0, -2))  # even: whole chroma pixels
BRIGHTNESS = 3         # +- grey levels
NOISE = 1.5            # standard deviation, grey levels
GREY = (128, 128, 128)

Pose = tuple  # (photo, flip): a photo path and whether to mirror it


# --- pictures -------------------------------------------------------------------------------------

def fit(photo, size=SIZE, flip: bool = False) -> np.ndarray:
    """The photo fitted into ``size`` and padded with black, centred, like tests/browser/test_face_checks.py's
    FEED_SIZE does with ffmpeg (a webcam picture); ``flip`` mirrors it left to right. None gives a grey
    frame (nobody in front of the camera). Returns H x W x 3 uint8 RGB."""
    width, height = size
    if photo is None:
        return np.full((height, width, 3), GREY, dtype=np.uint8)
    if isinstance(photo, np.ndarray):
        if photo.shape == (height, width, 3):
            return photo
        photo = Image.fromarray(photo)
    image = photo if isinstance(photo, Image.Image) else Image.open(photo)
    image = ImageOps.exif_transpose(image).convert("RGB")
    scale = min(width / image.width, height / image.height)
    fitted = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                          Image.Resampling.BICUBIC)
    if flip:
        fitted = ImageOps.mirror(fitted)
    canvas = Image.new("RGB", size, (0, 0, 0))
    canvas.paste(fitted, ((width - fitted.width) // 2, (height - fitted.height) // 2))
    return np.asarray(canvas)


def i420_planes(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RGB to Y, U, V planes (BT.601, limited range, chroma averaged over 2x2 pixels), float32."""
    f = rgb.astype(np.float32)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 16 + 0.256788 * r + 0.504129 * g + 0.097906 * b
    u = 128 - 0.148223 * r - 0.290993 * g + 0.439216 * b
    v = 128 + 0.439216 * r - 0.367788 * g - 0.071427 * b

    def half(c):
        return (c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2]) / 4

    return y, half(u), half(v)


def _bytes(planes) -> bytes:
    return b"".join(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes() for p in planes)


# --- the feed -------------------------------------------------------------------------------------

class CameraFeed:
    """A one-frame .y4m file that Chromium's fake camera reads frame by frame, and whose frame ``show``
    rewrites in place. Create it (with the first picture) before launching Chromium with
    ``chromium_args()``; call ``show`` before or while it runs; ``close`` (or use it as a context
    manager) at the end. The file stays the same size and is never truncated or replaced."""

    def __init__(self, path, size=SIZE, photo=None, flip: bool = False, *, live: bool = True,
                 fps: int = FRAME_RATE, seed: int | None = None):
        self.path = Path(path)
        if self.path.suffix.lower() != ".y4m":
            raise ValueError("Chromium picks its parser by the file name: it must end in .y4m")
        width, height = size
        if width % 2 or height % 2:
            raise ValueError("I420 needs an even width and height")
        self.size, self.fps, self.live = (width, height), int(fps), live
        header = f"YUV4MPEG2 W{width} H{height} F{self.fps}:1 Ip A1:1 C420jpeg\n".encode()
        self._offset = len(header) + len(b"FRAME\n")
        self._frame_bytes = width * height * 3 // 2
        self._rng = np.random.default_rng(seed)
        self._noise = self._rng.normal(0, NOISE, (height + 16, width + 16)).astype(np.float32)
        self._cache: dict = {}
        self._lock = threading.Lock()
        self._planes = None          # the current picture, as float32 I420 planes
        self._playing = None         # a clip being played: _Playback
        self._clips: dict = {}       # id(clip) -> (clip, its frames as I420 bytes)
        self._tick = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = None
        self.shown = None            # what show() was last given, for messages
        self.shown_at = None         # time.monotonic() of the last show()
        start = _bytes(i420_planes(fit(None, self.size)))
        with open(self.path, "wb") as out:   # only here, before any Chromium reads it
            out.write(header + b"FRAME\n" + start)
        self._fd = os.open(self.path, os.O_RDWR)
        self.show(photo, flip)

    # the camera's picture

    def prepare(self, photo, flip: bool = False, transform: Callable[[np.ndarray], np.ndarray] | None = None):
        """Fit and convert a picture now, so that a later ``show`` of it only writes the file (use it
        before the moment that matters). Photos given by path without a transform are cached by (path, flip)."""
        key = None if transform is not None or isinstance(photo, (Image.Image, np.ndarray)) else (str(photo), flip)
        if key in self._cache:
            return self._cache[key]
        rgb = fit(photo, self.size, flip)
        if transform is not None:
            rgb = np.asarray(transform(rgb), dtype=np.uint8)
            if rgb.shape != (self.size[1], self.size[0], 3):
                raise ValueError(f"transform must return a {self.size[1]}x{self.size[0]}x3 picture")
        planes = i420_planes(rgb)
        if key is not None:
            self._cache[key] = planes
        return planes

    def show(self, photo, flip: bool = False, transform: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        """Make the camera show ``photo`` (a path or PIL image; None: an empty grey room), fitted into the
        frame, mirrored when ``flip``; ``transform(rgb) -> rgb`` may change the fitted H x W x 3 picture.
        Returns once the frame is written: Chromium reads it with its next frame (at most 1/fps later)."""
        planes = self.prepare(photo, flip, transform)
        with self._lock:
            self._planes, self._playing = planes, None
            self.shown, self.shown_at = (photo, flip, transform), time.monotonic()
            self._write(self._variant() if self.live else _bytes(planes))
        if self.live:
            self._start_thread()

    def prepare_clip(self, clip) -> list[bytes]:
        """Convert every frame of ``clip`` (anything with ``frames``, H x W x 3 RGB arrays, and ``fps``, like
        tests/footage.Clip) now, so that playing it only writes the file. Kept per clip object."""
        if id(clip) not in self._clips:
            frames = [_bytes(i420_planes(fit(frame, self.size))) for frame in clip.frames]
            self._clips[id(clip)] = (clip, frames)   # the clip is kept too, so that its id stays its own
        return self._clips[id(clip)][1]

    def play(self, clip) -> None:
        """Play ``clip`` in real time from now: frame i is written at i / clip.fps seconds, each as it is (real
        footage changes by itself), from the feed's thread; then its last frame stays, with the live variation
        when the feed is live. Returns at once; ``show`` (or another ``play``) ends the playback."""
        frames = self.prepare_clip(clip)
        last = i420_planes(fit(clip.frames[-1], self.size))
        with self._lock:
            self._playing = _Playback(frames, float(clip.fps), time.monotonic(), last)
            self.shown, self.shown_at = (clip, False, None), self._playing.started
            self._write(frames[0])
            self._playing.written = 0
        self._start_thread()
        self._wake.set()

    @property
    def playing(self) -> bool:
        """A clip is being played (its last frame not yet reached)."""
        with self._lock:
            return self._playing is not None

    def chromium_args(self) -> list[str]:
        """Chromium's switches for this camera: the fake device reading this file, and no permission prompt."""
        return ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={self.path}"]

    def close(self) -> None:
        """Stop varying the picture and close the file (the file stays, showing the last frame)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # inside

    def _write(self, frame: bytes) -> None:
        # One pwrite of the whole frame at the frame's offset: same size, same place, never truncated.
        if self._fd is not None:
            os.pwrite(self._fd, frame, self._offset)

    def _variant(self) -> bytes:
        """The current picture as the next frame of a live camera: moved by a few pixels (a different
        offset each time), a little brighter or darker, with some noise."""
        y, u, v = self._planes
        self._tick += 1
        dx, dy = SHIFTS[self._tick % len(SHIFTS)]
        height, width = y.shape
        ox, oy = self._rng.integers(0, 16, 2)
        y = np.roll(y, (dy, dx), axis=(0, 1)) + self._rng.uniform(-BRIGHTNESS, BRIGHTNESS) \
            + self._noise[oy:oy + height, ox:ox + width]
        u = np.roll(u, (dy // 2, dx // 2), axis=(0, 1))
        v = np.roll(v, (dy // 2, dx // 2), axis=(0, 1))
        return _bytes((y, u, v))

    def _start_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._keep_alive, name="camera-feed", daemon=True)
            self._thread.start()

    def _keep_alive(self) -> None:
        delay = LIVE_PERIOD
        while not self._stop.is_set():
            self._wake.wait(delay)
            self._wake.clear()
            if self._stop.is_set():
                return
            with self._lock:
                delay = self._next_write(time.monotonic())

    def _next_write(self, now: float) -> float:
        """Write what the camera shows at ``now``; return the seconds until the next write is due."""
        if self._fd is None:
            return LIVE_PERIOD
        playback = self._playing
        if playback is not None:
            index = int((now - playback.started) * playback.fps)
            if index < len(playback.frames):
                if index != playback.written:
                    self._write(playback.frames[index])
                    playback.written = index
                return max(playback.started + (index + 1) / playback.fps - now, 0.001)
            self._playing, self._planes = None, playback.last   # the move is over: hold its last frame
            self._write(self._variant() if self.live else _bytes(playback.last))
            return LIVE_PERIOD
        if self.live and self._planes is not None:
            self._write(self._variant())
        return LIVE_PERIOD


@dataclass
class _Playback:
    frames: list          # I420 bytes, one per frame of the clip
    fps: float
    started: float        # time.monotonic() of frame 0
    last: tuple           # the last frame's I420 planes, held after the clip
    written: int = -1


# --- the face check's prompt -------------------------------------------------------------------------

# The page contract: #face-check carries data-phase = starting | hold | prompt | judging | result | photos
# and, while the prompt shows, data-action = left | right | up | down. The observer notes the page's own moment of the
# prompt, so the reaction is timed from it, not from when the test noticed.
_WATCH = """sel => {
  if (window.__cameraFeedWatch) { window.__cameraFeedWatch.at = null; return; }
  const watch = window.__cameraFeedWatch = {at: null};
  new MutationObserver(() => {
    const dialog = document.querySelector(sel);
    const prompt = dialog && dialog.dataset.phase === 'prompt' && dialog.dataset.action;
    if (prompt && watch.at === null) watch.at = performance.now();
    if (!prompt) watch.at = null;
  }).observe(document.documentElement, {attributes: true, subtree: true,
                                        attributeFilter: ['data-phase', 'data-action']});
}"""
_PROMPTED = """sel => {
  const dialog = document.querySelector(sel);
  if (!dialog || dialog.dataset.phase !== 'prompt' || !dialog.dataset.action) return null;
  const at = window.__cameraFeedWatch && window.__cameraFeedWatch.at;
  return {action: dialog.dataset.action, ago: at === null || at === undefined ? 0 : performance.now() - at};
}"""
_PROMPT_OVER = "sel => { const d = document.querySelector(sel); return !d || d.dataset.phase !== 'prompt'; }"


@dataclass(frozen=True)
class Answer:
    action: str          # what the page asked: "left" or "right"
    noticed: float       # seconds from the page showing the prompt to the test seeing it
    turned: float        # seconds from the page showing the prompt to the turned picture being written


def follow_prompt(page, feed: CameraFeed, front: Pose, turned_for: Mapping[str, Pose], *,
                  reaction: float = 0.35, timeout: float = DEADLINE_MS, look_back: bool = True,
                  dialog: str = "#face-check", on_turn: Callable[[Answer], None] | None = None) -> Answer:
    """Play a learner who follows the prompt: show ``front`` (a (photo, flip) pair) now, wait until the
    dialog shows the prompt, and ``reaction`` seconds after the page showed it show the turned picture
    ``turned_for[action]`` (a (photo, flip) pair for "left" and for "right", the learner's own sides).
    With ``look_back`` the learner faces the screen again once the frames are taken (the phase leaves
    "prompt"), ready for the next attempt. ``timeout`` is in ms, like Playwright's. ``on_turn(answer)``, when
    given, runs right after the turned picture is written, while the page still takes its frames (to take a
    screenshot of the prompt, say); the page's own timers go on meanwhile, so it cannot delay the frames.

    The reaction matters: the page shows the arrow half a frame interval before frame ``prompt_frame``,
    and the server counts that frame still among the "hold" frames (decisions.judge_liveness), so a turn
    that shows up before it is an answer given in advance. A person needs about a third of a second; the
    default 0.35 s lands between that frame and the next one for intervals of 250-450 ms (the feed adds
    up to ~45 ms). Call this before the attempt reaches its "hold" phase (before the check opens or the
    retry is clicked), so that every hold frame shows the front picture."""
    for photo, flip in [front, *turned_for.values()]:
        feed.prepare(photo, flip)
    feed.show(*front)
    page.evaluate(_WATCH, dialog)
    seen = page.wait_for_function(_PROMPTED, arg=dialog, polling="raf", timeout=timeout).json_value()
    noticed_at = time.monotonic()
    action, ago = seen["action"], seen["ago"] / 1000
    if action not in turned_for:
        raise AssertionError(f"the page asked for {action!r}, which turned_for does not cover")
    time.sleep(max(reaction - ago, 0))
    feed.show(*turned_for[action])
    answer = Answer(action, ago, ago + time.monotonic() - noticed_at)
    if on_turn is not None:
        on_turn(answer)
    if look_back:
        page.wait_for_function(_PROMPT_OVER, arg=dialog, polling=50, timeout=timeout)
        feed.show(*front)
    return answer


CHALLENGES = "**/api/proctor/checks/*/challenges"
SETTLE = 0.15   # seconds for a picture written to reach the page (measured 3-89 ms, see above), and more


@dataclass(frozen=True)
class Played:
    action: str          # what the page asked: left, right, up or down
    noticed: float       # seconds from the page showing the prompt to the test seeing it
    moved: float         # seconds from the page showing the prompt to the first frame of the move being written


def start_from_asked_clips(page, feed: CameraFeed, clips_by_action: Mapping[str, object]) -> None:
    """From now on, whenever ``page`` gets a camera challenge, put the first frame of the clip for the asked
    action on the camera before the page takes its first frame. Calling it again changes the feed and clips.

    Why: until the prompt the camera must show the head holding still in the picture the asked move starts
    from. The moves of one learner start from different frames (a left turn is often the right turn mirrored,
    and the mirror image of a whole scene is another picture), and switching from one to another at the
    prompt would be a cut, which the server refuses. So the page's challenge requests are routed
    (page.route): each goes through to the server, the test reads the asked action from the answer, shows
    that clip's first frame, and hands the answer to the page SETTLE seconds later. The action, the moment of
    the prompt and the frames' schedule stay the server's and the page's; only the picture the camera starts
    from is chosen to suit the footage, a test device. Call it before the page asks (before the lesson opens
    or the retry is clicked); play_prompt calls it too, and ends it once the prompt shows (so that what the
    test shows afterwards, an empty room say, stays on the camera at the next challenge)."""
    state = _ROUTED.get(page)
    if state is None:
        state = _ROUTED[page] = {}
        page.route(CHALLENGES, lambda route: _start_from_asked_clip(route, state))
    state.update(feed=feed, firsts={action: clip.frames[0] for action, clip in clips_by_action.items()})
    for clip in clips_by_action.values():
        feed.prepare_clip(clip)


_ROUTED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # page -> what its route shows


def _start_from_asked_clip(route, state) -> None:
    try:
        response = route.fetch()
    except Exception:   # noqa: BLE001 (the page or its context closed meanwhile: the test is over)
        return
    try:
        asked = response.json()
    except ValueError:
        asked = {}
    if asked.get("mode", "camera") == "camera" and asked.get("action") in state["firsts"]:
        state["feed"].show(state["firsts"][asked["action"]])
        time.sleep(SETTLE)
    route.fulfill(response=response)


def play_prompt(page, feed: CameraFeed, clips_by_action: Mapping[str, object], reaction: float = 0.3, *,
                timeout: float = DEADLINE_MS, look_back: bool = True, dialog: str = "#face-check",
                on_move: Callable[[Played], None] | None = None) -> Played:
    """Play a learner in front of the camera who holds still and, ``reaction`` seconds after the page shows the
    arrow, makes the asked move: ``clips_by_action[action]`` (tests/footage.clip of a real move, one per action
    the server may ask), played in real time; then the head stays where the move ended. With ``look_back`` the
    camera shows the clip's first frame again once the phase leaves "prompt" (the frames are taken).

    Until the prompt the camera shows the asked clip's first frame with the live variation, a head holding
    still (start_from_asked_clips, which this calls: call it yourself before the lesson opens when the page may
    ask for its challenge before this is called). ``timeout`` is in ms, like Playwright's. ``on_move(played)``
    runs right after the move started, while the page still takes its frames."""
    if not _ROUTED.get(page, {}).get("firsts"):
        feed.show(next(iter(clips_by_action.values())).frames[0])
    start_from_asked_clips(page, feed, clips_by_action)
    try:
        page.evaluate(_WATCH, dialog)
        seen = page.wait_for_function(_PROMPTED, arg=dialog, polling="raf", timeout=timeout).json_value()
    finally:
        _ROUTED[page]["firsts"] = {}   # later challenges keep whatever the test shows
    noticed_at = time.monotonic()
    action, ago = seen["action"], seen["ago"] / 1000
    if action not in clips_by_action:
        raise AssertionError(f"the page asked for {action!r}, which clips_by_action does not cover")
    time.sleep(max(reaction - ago, 0))
    feed.play(clips_by_action[action])
    played = Played(action, ago, ago + time.monotonic() - noticed_at)
    if on_move is not None:
        on_move(played)
    if look_back:
        page.wait_for_function(_PROMPT_OVER, arg=dialog, polling=50, timeout=timeout)
        feed.show(clips_by_action[action].frames[0])
    return played


# --- which photo turns which way -------------------------------------------------------------------------

POSES = {
    # person: [(front, {"left": turned, "right": turned}), ...]. Obama's two sets are mirror images of each
    # other (the server compares mirror images too): a learner who passed with one of them is refused as
    # "replayed" with the other. Use them for different learners; a learner's later pass needs unused_pose.
    "obama": [(("obama_1.jpg", False), {"left": ("obama_2.jpg", True), "right": ("obama_3.jpg", True)}),
              (("obama_1.jpg", True), {"left": ("obama_3.jpg", False), "right": ("obama_2.jpg", False)})],
    "alex": [(("alex_2.jpg", False), {"left": ("alex_1.png", False), "right": ("alex_1.png", True)})],
}
"""Yaw (lms.proctor.faces, nose between the jaw's ends, -0.5..0.5; grows as the nose moves to the image's
right, i.e. toward the learner's own LEFT in an unmirrored frame) of each photo fitted into a 640x480
frame, after a JPEG round trip at quality 90; (f) = mirrored:

    obama_1 +0.020  (f) -0.027     front
    obama_2 -0.229  (f) +0.225     turned: own right / (f) own left
    obama_3 +0.214  (f) -0.218     turned: own left / (f) own right
    biden_1 +0.123  (f) -0.117     slightly turned
    biden_2 +0.045  (f) -0.044     front
    alex_1  +0.230  (f) -0.185     turned: own left / (f) own right
    alex_2  -0.014  (f) +0.009     front

From front to turned, per set above (yaw change, nose parallax; the server wants >= 0.12 and >= 0.06):
obama_1 -> obama_2(f) +0.204, 0.099; -> obama_3(f) -0.238, 0.091; obama_1(f) -> obama_3 +0.242, 0.093;
-> obama_2 -0.202, 0.084; alex_2 -> alex_1 +0.244, 0.103; -> alex_1(f) -0.171, 0.072. Biden has no
front that works both ways (biden_2 -> biden_1 is only +0.078). LEFT_ONLY: obama_2 -> obama_2(f) +0.454, 0.196;
obama_3(f) -> obama_3 +0.432, 0.160 (both change the face's proportions as a turning head does)."""


# After a pass with obama_1 and one turned photo, one photo is left that the server has not seen, as it is or
# mirrored. Shown both ways in one attempt it makes one more pass, to the learner's own LEFT only: its front is
# already turned to the learner's right, and its mirror image turns the head past the middle to the left.
LEFT_ONLY = {
    "obama": {"obama_2.jpg": (("obama_2.jpg", False), ("obama_2.jpg", True)),   # -0.229 -> +0.225
              "obama_3.jpg": (("obama_3.jpg", True), ("obama_3.jpg", False))},  # -0.218 -> +0.214
}


def poses(faces_dir, person: str = "obama", which: int = 0) -> tuple[Pose, dict[str, Pose]]:
    """(front, turned_for) for follow_prompt, with the photos' paths under ``faces_dir``."""
    (front, flip), turned = POSES[person][which]
    folder = Path(faces_dir)
    return (folder / front, flip), {side: (folder / name, mirrored) for side, (name, mirrored) in turned.items()}


def shown_in(pose_set: tuple[Pose, Mapping[str, Pose]], action: str) -> set[str]:
    """The names of the photos a try with ``pose_set`` (from poses()) showed the server when asked ``action``
    (the front and the picture turned that way; a mirror image counts as its photo)."""
    front, turned_for = pose_set
    return {Path(front[0]).name, Path(turned_for[action][0]).name}


def unused_pose(faces_dir, used, person: str = "obama") -> tuple[Pose, dict[str, Pose]]:
    """(front, {"left": turned}) for follow_prompt with a photo of ``person`` that is not in ``used`` (photo
    names; see shown_in), as it is and mirrored. It can only answer a challenge to the left: the test must
    make the server ask for that side (the page's arrow still decides what follow_prompt shows)."""
    names = {Path(name).name for name in used}
    left = [pair for name, pair in LEFT_ONLY[person].items() if name not in names]
    if not left:
        raise ValueError(f"every photo of {person} has been shown: {sorted(names)}")
    (front, flip), (turned, mirrored) = left[0]
    folder = Path(faces_dir)
    return (folder / front, flip), {"left": (folder / turned, mirrored)}
