"""What one signed-in request costs in process, and where: the platform's /api/ping and the heartbeat,
next to bench/bare_flask.py, called straight through WSGI (no server, no socket).

    .venv/bin/python bench/request_profile.py --db sqlite [--requests 2000] [--profile ping|heartbeat|none] [--sql]

Builds the database as bench/heartbeat_bench.py does (a few learners, each with an open playback),
signs one learner in through the app's own pages, then times N calls of each request (CPU microseconds
of this thread per call, best of --repeats: the machine is shared) and, with --profile, prints cProfile's top functions for one of them.
--sql counts the SQL statements each request sends (one call each, after the timed ones).
"""
import argparse
import cProfile
import io
import json
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from heartbeat_bench import POSTGRES_URL, build_database, own_environment, pass_start_checks  # noqa: E402

from werkzeug.test import EnvironBuilder  # noqa: E402


def sign_in(app, number: str, password: str, lesson_id: int) -> tuple[str, str, str]:
    """The learner's session cookie, CSRF token and playback token, as the pages give them."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"identifier": number, "password": password, "csrf_token": token})
    page = client.get(f"/study/lessons/{lesson_id}").get_data(as_text=True)
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    answer = client.post("/api/player/start", json={"lesson_id": lesson_id}, headers={"X-CSRFToken": csrf}).get_json()
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    return cookie, csrf, answer["playback"]


class Caller:
    """Calls a WSGI app with one request again and again, as a server would (body read, iterable closed)."""

    def __init__(self, app, method: str, path: str, headers: dict, cookies: dict, body=None):
        self.app, self.method, self.path, self.headers, self.body = app, method, path, headers, body
        self.cookies = cookies  # shared by the callers of one browser, updated from Set-Cookie as a browser does
        self.statuses = {}

    def __call__(self):
        body = self.body() if callable(self.body) else self.body
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        environ = EnvironBuilder(method=self.method, path=self.path, headers={**self.headers, "Cookie": cookie},
                                 data=body, environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
        seen = []
        result = self.app(environ, lambda status, headers, exc_info=None: seen.append((status, headers)))
        try:
            for _ in result:
                pass
        finally:
            if hasattr(result, "close"):
                result.close()
        status, headers = seen[0]
        self.statuses[status] = self.statuses.get(status, 0) + 1
        for name, value in headers:
            if name.lower() == "set-cookie":
                cookie_name, _, rest = value.partition("=")
                self.cookies[cookie_name] = rest.split(";", 1)[0]


def per_call_us(call, count: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.thread_time()
        for _ in range(count):
            call()
        best = min(best, (time.thread_time() - start) / count)
    return best * 1e6


def heartbeat_body(token: str):
    state = {"seq": 0, "start": time.time()}

    def body():
        state["seq"] += 1
        return json.dumps({"playback": token, "seq": state["seq"], "position": int(time.time() - state["start"]),
                           "playing": True, "buffering": False, "visible": True, "focused": True, "rate": 1,
                           "interacted": True})
    return body


def count_statements(app, call) -> list[str]:
    from sqlalchemy import event

    from lms.extensions import db
    with app.app_context():
        engine = db.engine
    seen = []

    def note(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split())[:140])
    event.listen(engine, "before_cursor_execute", note)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", choices=("ping", "heartbeat", "none"), default="ping")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sql", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = own_environment(Path(tmp), args.db, args.postgres_url)
        numbers, lesson_id = build_database(env, 2)
        from heartbeat_bench import PASSWORD

        from lms.app import create_app
        app = create_app()
        cookie, csrf, token = sign_in(app, numbers[0], PASSWORD, lesson_id)
        pass_start_checks(env)
        from bare_flask import app as bare
        cookies = {app.config["SESSION_COOKIE_NAME"]: cookie}
        calls = {
            "bare Flask /api/ping": Caller(bare, "GET", "/api/ping", {}, dict(cookies)),
            "/api/ping": Caller(app, "GET", "/api/ping", {}, cookies),
            "heartbeat": Caller(app, "POST", "/api/player/heartbeat",
                                {"X-CSRFToken": csrf, "Content-Type": "application/json"}, cookies,
                                heartbeat_body(token)),
        }
        for name, call in calls.items():
            call()
            print(f"{name}: {per_call_us(call, args.requests, args.repeats):.0f} us per call, statuses {call.statuses}")
        if args.sql:
            for name in ("/api/ping", "heartbeat"):
                statements = count_statements(app, calls[name])
                print(f"\n{name}: {len(statements)} SQL statements")
                for statement in statements:
                    print("   ", statement)
        if args.profile != "none":
            call = calls["/api/ping" if args.profile == "ping" else "heartbeat"]
            profiler = cProfile.Profile(time.thread_time)  # CPU time: other processes' share of the cores is left out
            profiler.enable()
            for _ in range(args.requests):
                call()
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(args.top)
            print(out.getvalue())


if __name__ == "__main__":
    main()
