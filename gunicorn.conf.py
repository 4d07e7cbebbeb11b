"""gunicorn settings for the demo (scripts/run_demo.sh) and the benchmarks (bench/), one source for both:

    .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app

Threaded workers (gthread): a video response that a slow client reads for minutes holds one thread,
not a whole worker, so heartbeats and pages go on being answered by the other threads, and the
worker's main loop keeps telling the arbiter it is alive (no WORKER TIMEOUT however long a stream
lasts). With sync workers one video download held a worker until the 30 s timeout killed it.

2 workers x 32 threads: the machine has 2 cores; the threads mostly wait on sockets (video), and 32
per worker leave room for 20 and more concurrent video streams in one worker (each open Range
response holds a thread until the client has read it). With nginx in front and LMS_X_ACCEL_PREFIX
set (README, "Serving videos through nginx"), nginx sends the bytes and a video request holds a
thread only for the permission check. Command-line options override these values (e.g.
`--workers 4`, or `--worker-class sync --threads 1` for the behaviour before issue 11).
"""
import contextlib
import os
import re
import sys
import threading

bind = "127.0.0.1:8000"
workers = 2
worker_class = "gthread"
threads = 32
timeout = 30       # seconds without a sign of life from a worker's main loop, not a limit on a request
keepalive = 5      # seconds an idle kept-alive connection waits in the worker's poller (not in a thread)
# The access log (--access-logfile, as scripts/run_demo.sh sets) records each request line (path and
# query) and its Referer: no URL of this app may carry a secret. One-time password links keep their
# token in the fragment, which no browser sends (accounts.views.one_time_link). This is gunicorn's
# default format, spelled out so that it is read before it is changed.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'

# Lanes: at most this many threads of a worker run the application (the view, its queries, its commit) at
# once in each lane; the others wait on the lane's semaphore. Sending a response body (a video) happens
# after the application has returned and is not counted; a request body (an upload) is read inside the
# application, so a slow upload holds a place in its lane.
# - api: the small JSON requests every open lesson sends (heartbeats, pings, answers), one at a time per
#   worker. Two at once contend for the GIL (each database round trip waits to get it back): the
#   heartbeat's rate fell from 547/s to 352/s on SQLite and from 376/s to 206/s on PostgreSQL (BENCHMARKS.md,
#   issue 22); before issue 11, 16 at once went slower than sync workers.
# - pages: pages, exports and uploads (any request with a body above SMALL_BODY): a long export or a slow
#   upload holds a place here, never the api lane.
# - face: judging a face answer takes a second or more of CPU (dlib); in a lane of its own, so heartbeats
#   go on while answers are judged (issue 21: p99 19.6 s while four answers held both threads of a worker).
# LMS_API_THREADS / LMS_APP_THREADS set the first two (0 removes that limit); face answers: one per worker.
API_THREADS_DEFAULT = 1
APP_THREADS_DEFAULT = 2
FACE_THREADS = 1
SMALL_BODY = 64 * 1024
GIL_SWITCH_SECONDS = 0.0005
FACE_PATH = re.compile(r"^/api/proctor/checks/\d+/attempts$")


def post_worker_init(worker):
    switch = float(os.environ.get("LMS_GIL_SWITCH_SECONDS", GIL_SWITCH_SECONDS))
    if switch > 0:
        sys.setswitchinterval(switch)
    lanes = Lanes(_gate(int(os.environ.get("LMS_API_THREADS", API_THREADS_DEFAULT))),
                  _gate(int(os.environ.get("LMS_APP_THREADS", APP_THREADS_DEFAULT))),
                  _gate(FACE_THREADS))
    worker.wsgi = _limit_concurrency(worker.wsgi, lanes)


class Lanes:
    def __init__(self, api, pages, face):
        self.api, self.pages, self.face = api, pages, face

    def of(self, environ):
        """The lane of a request, from its path and declared body size (no body is read here)."""
        path = environ.get("PATH_INFO", "")
        if FACE_PATH.match(path):
            return self.face
        if path.startswith("/api/") and _body_size(environ) <= SMALL_BODY:
            return self.api
        return self.pages


def _body_size(environ) -> int:
    """The declared length; a body of unknown length (chunked) counts as large."""
    if environ.get("HTTP_TRANSFER_ENCODING"):
        return SMALL_BODY + 1
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return SMALL_BODY + 1


def _gate(limit: int):
    return threading.BoundedSemaphore(limit) if limit > 0 else contextlib.nullcontext()


def _limit_concurrency(app, lanes: Lanes):
    def limited(environ, start_response):
        with lanes.of(environ):
            return app(environ, start_response)
    return limited
