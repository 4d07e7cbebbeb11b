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

# At most this many threads of a worker run the application (the view, its queries, its commit) at
# once; the others wait on a semaphore. Sending a response body (a video) happens after the
# application has returned and is not counted. Without this limit up to 16 heartbeats ran at once
# in a worker, contending for the GIL (each database round trip waits to get it back) and for
# SQLite's write lock, and they went slower than on sync workers (BENCHMARKS.md, issue 11).
# A request body (an upload) is read inside the application, so a slow upload holds one of these.
# LMS_APP_THREADS=0 (e.g. `gunicorn --env LMS_APP_THREADS=0`) removes the limit.
APP_THREADS_DEFAULT = 2
GIL_SWITCH_SECONDS = 0.0005


# Judging a face answer takes a second or more of CPU (dlib); with both application threads of a worker
# judging, a heartbeat waited for one of them: p99 19.6 s while four answers were judged at once
# (BENCHMARKS.md, issue 21). So face answers may hold at most all but one of the application threads.
HEAVY_PATH = re.compile(r"^/api/proctor/checks/\d+/attempts$")


def post_worker_init(worker):
    switch = float(os.environ.get("LMS_GIL_SWITCH_SECONDS", GIL_SWITCH_SECONDS))
    if switch > 0:
        sys.setswitchinterval(switch)
    limit = int(os.environ.get("LMS_APP_THREADS", APP_THREADS_DEFAULT))
    if 0 < limit < worker.cfg.threads:
        heavy = threading.BoundedSemaphore(limit - 1) if limit > 1 else None
        worker.wsgi = _limit_concurrency(worker.wsgi, threading.BoundedSemaphore(limit), heavy)


def _limit_concurrency(app, gate, heavy_gate=None):
    def limited(environ, start_response):
        if heavy_gate is not None and HEAVY_PATH.match(environ.get("PATH_INFO", "")):
            with heavy_gate, gate:
                return app(environ, start_response)
        with gate:
            return app(environ, start_response)
    return limited
