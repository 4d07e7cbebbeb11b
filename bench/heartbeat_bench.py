"""Heartbeats per second on gunicorn, side by side with the platform's no-op and a bare Flask no-op.

    .venv/bin/python bench/heartbeat_bench.py                       # SQLite, then PostgreSQL
    .venv/bin/python bench/heartbeat_bench.py --db sqlite           # or --db postgres
    .venv/bin/python bench/heartbeat_bench.py --postgres-url postgresql://postgres@127.0.0.1:5432/lms_mine_bench
    .venv/bin/python bench/heartbeat_bench.py --gunicorn-args="--worker-class sync --threads 1"  # before issue 11

Starts a bare Flask app (bench/bare_flask.py: one JSON no-op view, no extension) under gunicorn with
the demo's settings (gunicorn.conf.py). Then, per database: builds a fresh database with learners who
each have an open playback, starts the platform under the same settings (--gunicorn-args overrides
both), signs every learner in over HTTP, and drives wrk (Debian package, installed by
scripts/bootstrap.sh) as fast as it goes at the bare no-op, the platform's /api/ping (a signed-in
learner's cookie) and /api/player/heartbeat, back to back (--rounds times), so that the three rates
of one run can be compared. Latency: the heartbeat paced at half of its own maximum rate, just
measured (a rate the server can keep up with, so the figure is not a queue's), p50 and p99.
The PostgreSQL database (--postgres-url) is dropped and rebuilt: give the bench one of its own.
Targets (issue 22): /api/ping >= 40 % of the bare no-op, heartbeat >= 25 %, paced p99 <= 50 ms.
"""
import argparse
import base64
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "Bench#2026ok"
# bench/bare_flask.py: a bare Flask JSON no-op, the anchor every rate is compared with.
BARE_FLASK = ("--pythonpath", str(ROOT / "bench"), "bare_flask:app")
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/lms_bench"


def environment(tmp: Path, db: str) -> dict:
    if db == "postgres":
        url = "postgresql+psycopg://postgres@127.0.0.1:5432/lms_bench"
        subprocess.run([sys.executable, str(ROOT / "scripts/ensure_test_database.py"),
                        "postgresql://postgres@127.0.0.1:5432/lms_bench"], check=True)
    else:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    # Signing in many learners from one address would trip the login rate limit.
    (tmp / "instance").mkdir()
    (tmp / "instance" / "config.py").write_text('LMS_LOGIN_RATE_LIMIT = "100000 per minute"\n')
    return dict(os.environ, LMS_DATABASE_URL=url, LMS_SECRET_KEY=os.urandom(16).hex(),
                LMS_DATA_KEYS="b1:" + base64.b64encode(os.urandom(32)).decode(), LMS_ACTIVE_KEY_ID="b1",
                LMS_HMAC_KEY=base64.b64encode(os.urandom(32)).decode(), LMS_MEDIA_ROOT=str(tmp / "media"),
                LMS_INSTANCE_PATH=str(tmp / "instance"))


def own_environment(tmp: Path, db: str, postgres_database: str) -> dict:
    """environment() on a bench's own PostgreSQL database (made when missing) when ``db`` is postgres.
    build_database drops the whole schema, so anything but that database or the temp SQLite file is refused."""
    env = environment(tmp, "sqlite")
    if db == "postgres":
        subprocess.run([sys.executable, str(ROOT / "scripts/ensure_test_database.py"), postgres_database], check=True)
        env["LMS_DATABASE_URL"] = postgres_database.replace("postgresql://", "postgresql+psycopg://")
    url = env["LMS_DATABASE_URL"]
    if not (url.endswith("/" + postgres_database.rsplit("/", 1)[1]) or url.startswith(f"sqlite:///{tmp}")):
        raise SystemExit(f"refusing to rebuild {url}")
    return env


def build_database(env: dict, learners: int) -> tuple[list[str], int]:
    """Schema by migrations, then one class with a one-hour lesson and approved learners."""
    os.environ.update(env)
    from flask_migrate import upgrade
    from sqlalchemy import text

    from lms.app import create_app
    from lms.accounts.models import User
    from lms.core.roles import LEARNER, STAFF
    from lms.accounts.services import set_password
    from lms.catalogue.seed import seed_reference_data
    from lms.core.iddocs import gb11643_check_char
    from lms.extensions import db
    from lms.institutions.models import APPROVED, PUBLISHED, Application, Institution, TrainingClass
    from lms.learners.models import Learner
    from lms.learners.services import id_number_hash
    from lms.files.models import StoredFile
    from lms.player.models import ClassCourse, Course, Lesson, Video
    from lms.proctor.models import ACTIVE, FaceEnrolment

    app = create_app()
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        seed_reference_data()
        institution = Institution(name="基准测试培训中心", region_code="440604")
        db.session.add(institution)
        db.session.flush()
        staff = User(role=STAFF, username="bench.staff", institution_id=institution.id)
        set_password(staff, PASSWORD)
        today = date.today()
        training_class = TrainingClass(
            institution_id=institution.id, title="基准班", training_type="initial", qualification_type_id=1,
            enrol_start=today - timedelta(days=1), enrol_end=today + timedelta(days=30), train_start=today,
            train_end=today + timedelta(days=30), capacity=100000, total_hours=32, required_online_hours=16,
            status=PUBLISHED)
        video = Video(source_name="source.mp4", status="ready", duration=36000.0, width=1280, height=720)
        course = Course(institution_id=institution.id, title="基准课程", nominal_hours=10, last_reviewed_on=today,
                        status="published")
        db.session.add_all([staff, training_class, video, course])
        db.session.flush()
        lesson = Lesson(course_id=course.id, position=1, title="第一讲", video_id=video.id)
        db.session.add_all([lesson, ClassCourse(class_id=training_class.id, course_id=course.id)])
        # Every learner is enrolled (any 128 numbers will do: no check is judged during the run).
        photo = StoredFile(storage_name="bench-photo", kind="photo", content_type="image/jpeg", size=0)
        db.session.add(photo)
        db.session.flush()
        encoding = ",".join(["0.0"] * 128)
        numbers = []
        for index in range(learners):
            first17 = f"440604199001{(index % 28) + 1:02d}{index:03d}"[:17].ljust(17, "1")
            number = first17 + gb11643_check_char(first17)
            user = User(role=LEARNER)
            set_password(user, PASSWORD)
            learner = Learner(user=user, name=f"学员{index}", id_type="resident_id", id_number=number,
                              id_number_hash=id_number_hash(number), work_unit="基准单位", unit_category="general",
                              position="principal", region_code="440604", education_level="bachelor")
            db.session.add_all([user, learner])
            db.session.flush()
            db.session.add(Application(class_id=training_class.id, learner_id=learner.id, status=APPROVED))
            db.session.add(FaceEnrolment(learner_id=learner.id, photo_file_id=photo.id, encoding=encoding,
                                         status=ACTIVE, face_width=200, sharpness=100.0))
            numbers.append(number)
        db.session.commit()
        return numbers, lesson.id


def pass_start_checks(env: dict) -> None:
    """Each learning session began with a face check; mark them passed and put the next random one
    beyond the run, so that the heartbeats measured are the ordinary ones between two checks."""
    from sqlalchemy import text

    from lms.app import create_app
    from lms.core.clock import utcnow
    from lms.extensions import db
    with create_app().app_context():
        db.session.execute(text("UPDATE face_checks SET status = 'passed'"))
        db.session.execute(text("UPDATE study_sessions SET open_check_id = NULL, next_check_at = :later"),
                           {"later": utcnow() + timedelta(hours=10)})
        db.session.execute(text("UPDATE playbacks SET check_at_position = NULL"))
        db.session.commit()


def start_server(env: dict, port: int, extra_args: tuple = (), log=None, target: tuple = ("wsgi:app",)) -> subprocess.Popen:
    """gunicorn with the demo's settings (gunicorn.conf.py), then `extra_args` (the command line wins),
    serving `target` (the platform; BARE_FLASK for the anchor)."""
    server = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", *extra_args, *target],
                              cwd=ROOT, env=env, start_new_session=True, stderr=log)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/ping", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait()


def sign_in(base: str, number: str, lesson_id: int) -> dict:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"identifier": number, "password": PASSWORD, "csrf_token": token}).encode()
    opener.open(f"{base}/login", data=form)
    page = opener.open(f"{base}/study/lessons/{lesson_id}").read().decode()
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    request = urllib.request.Request(f"{base}/api/player/start", data=json.dumps({"lesson_id": lesson_id}).encode(),
                                     headers={"Content-Type": "application/json", "X-CSRFToken": csrf})
    answer = json.loads(opener.open(request).read())
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return {"cookie": cookie, "csrf": csrf, "token": answer["playback"],
            "media": [source["url"] for source in answer.get("sources", [])], "opener": opener, "jar": jar}


def refresh_cookies(base: str, entries: list[dict]) -> None:
    """Each learner's browser as it stands now: one request, then the cookie the answer set. A browser
    sends the cookie the server last set; wrk sends what it was given, so a cookie given minutes
    before would carry a stale last_seen and make the server re-sign it on every answer (the server
    notes activity in the cookie every LAST_SEEN_RESOLUTION, 30 s). Called before every timed phase,
    which must then last less than 30 s."""
    for entry in entries:
        entry["opener"].open(f"{base}/api/ping").read()
        entry["cookie"] = "; ".join(f"{c.name}={c.value}" for c in entry["jar"])


def write_entries(path: Path, entries: list[dict]) -> None:
    def lua(value):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    rows = ",\n".join("{cookie=%s, csrf=%s, token=%s}" % (lua(e["cookie"]), lua(e["csrf"]), lua(e["token"]))
                      for e in entries)
    path.write_text("return {\n" + rows + "\n}\n")


def wrk(base: str, script: str, entries: Path, seconds: int, connections: int, delay_ms: float = 0,
        timeout_s: int = 0) -> dict:
    """wrk's figures; with `timeout_s` a slow answer counts in the latency up to that many seconds
    (wrk's own default of 2 s leaves slower ones out of the percentiles, as socket timeouts)."""
    env = dict(os.environ, BENCH_ENTRIES=str(entries), BENCH_DELAY_MS=str(int(delay_ms)))
    timeout = ["--timeout", f"{timeout_s}s"] if timeout_s else []
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *timeout, "-s",
                          str(ROOT / "bench" / script), base], capture_output=True, text=True, env=env, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))
    p50 = _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failures = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rate": rate, "p50_ms": p50, "p99_ms": p99, "requests": requests,
            "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": sum(int(n) for n in failures.groups()[:3]) if failures else 0,
            "timeouts": int(failures.group(4)) if failures else 0}


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]




def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def pacing_delay(base: str, entries: Path, connections: int, target: float) -> tuple[float, dict]:
    """wrk's per-request delay (ms) that makes ``connections`` connections send about ``target``
    heartbeats a second: each connection sends one, waits for the answer, then waits the delay.
    A short run at the naive delay measures the answer's own time at that load, which is then
    taken off the delay."""
    naive = connections * 1000 / target
    probe = wrk(base, "heartbeat.lua", entries, 4, connections, naive)
    return max(naive - probe["p50_ms"], 0.0), probe


def measure(db: str, args, tmp: Path, bare_base: str) -> dict:
    """One database: the bare Flask no-op, the platform's /api/ping and the heartbeat at full speed, back
    to back, then the heartbeat paced at half of its own maximum rate for latency."""
    env = own_environment(tmp, db, args.postgres_url)
    numbers, lesson_id = build_database(env, args.learners)
    server = start_server(env, args.port, tuple(args.gunicorn_args.split()))
    base = f"http://127.0.0.1:{args.port}"
    load = [load_average()]
    try:
        entries = [sign_in(base, number, lesson_id) for number in numbers]
        pass_start_checks(env)
        entries_file = tmp / "entries.lua"
        write_entries(entries_file, entries)
        for warm in (bare_base, base):
            wrk(warm, "ping.lua", entries_file, 3, args.connections)
        wrk(base, "heartbeat.lua", entries_file, 3, args.connections)
        rounds = []

        def fresh(script, *wrk_args, **wrk_kwargs):
            refresh_cookies(base, entries)
            write_entries(entries_file, entries)
            return wrk(base, script, entries_file, *wrk_args, **wrk_kwargs)
        for _ in range(args.rounds):
            rounds.append({"bare": wrk(bare_base, "ping.lua", entries_file, args.seconds, args.connections),
                           "noop": fresh("ping.lua", args.seconds, args.connections),
                           "heartbeat_max": fresh("heartbeat.lua", args.seconds, args.connections)})
        load.append(load_average())
        target = sum(r["heartbeat_max"]["rate"] for r in rounds) / len(rounds) / 2
        refresh_cookies(base, entries)
        write_entries(entries_file, entries)
        delay, probe = pacing_delay(base, entries_file, args.paced_connections, target)
        paced = fresh("heartbeat.lua", args.seconds, args.paced_connections, delay, timeout_s=10)
        load.append(load_average())
    finally:
        stop_server(server)
    return {"db": db, "rounds": rounds, "paced_target": round(target, 1), "paced_delay_ms": round(delay, 1),
            "pacing_probe": probe, "heartbeat_paced": paced, "load_average": load,
            "noop_over_bare": round(sum(r["noop"]["rate"] / r["bare"]["rate"] for r in rounds) / len(rounds), 3),
            "heartbeat_over_bare": round(sum(r["heartbeat_max"]["rate"] / r["bare"]["rate"] for r in rounds)
                                         / len(rounds), 3)}


def report(results: list[dict]) -> None:
    print("| database | round | bare Flask no-op req/s | /api/ping req/s | heartbeat req/s | ping / bare "
          "| heartbeat / bare | load average (1, 5, 15 min) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for result in results:
        for index, r in enumerate(result["rounds"], 1):
            bare = r["bare"]["rate"]
            print(f"| {result['db']} | {index} | {bare:.0f} | {r['noop']['rate']:.0f} | {r['heartbeat_max']['rate']:.0f} "
                  f"| {r['noop']['rate'] / bare:.0%} | {r['heartbeat_max']['rate'] / bare:.0%} "
                  f"| {result['load_average'][0]} -> {result['load_average'][1]} |")
    print()
    print("| database | paced at (half the heartbeat's max) | achieved req/s | p50 ms | p99 ms | non-2xx | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for result in results:
        paced = result["heartbeat_paced"]
        print(f"| {result['db']} | {result['paced_target']:.0f}/s | {paced['rate']:.0f} | {paced['p50_ms']:.1f} "
              f"| {paced['p99_ms']:.1f} | {paced['non_2xx']} | {paced['socket_errors'] + paced['timeouts']} |")
    print()
    for result in results:
        paced = result["heartbeat_paced"]
        ok = (result["noop_over_bare"] >= 0.40 and result["heartbeat_over_bare"] >= 0.25 and paced["p99_ms"] <= 50
              and not paced["non_2xx"] and all(not r[k]["non_2xx"] for r in result["rounds"] for k in r))
        print(f"{result['db']}: ping {result['noop_over_bare']:.0%} of bare Flask (target >= 40 %), heartbeat "
              f"{result['heartbeat_over_bare']:.0%} (>= 25 %), p99 {paced['p99_ms']:.1f} ms at {paced['rate']:.0f}/s "
              f"(<= 50 ms) -> {'meets' if ok else 'misses'} the targets")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", "--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="a database of the bench's own: its schema is "
                        "dropped and rebuilt")
    parser.add_argument("--learners", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=15, help="per timed phase; under 30 (refresh_cookies)")
    parser.add_argument("--rounds", type=int, default=1, help="bare, ping, heartbeat this many times, interleaved")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--paced-connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8765, help="the platform's; the bare Flask app takes the next")
    parser.add_argument("--gunicorn-args", default="", help="added to gunicorn.conf.py's settings (for both apps), "
                        "e.g. '--worker-class sync --threads 1' for the sync workers used before issue 11")
    parser.add_argument("--json", action="store_true", help="also print every wrk figure as JSON")
    args = parser.parse_args()
    databases = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    results = []
    print(f"load average at start: {load_average()}", flush=True)
    bare = start_server(dict(os.environ), args.port + 1, tuple(args.gunicorn_args.split()), target=BARE_FLASK)
    try:
        for db in databases:
            with tempfile.TemporaryDirectory() as tmp:
                results.append(measure(db, args, Path(tmp), f"http://127.0.0.1:{args.port + 1}"))
    finally:
        stop_server(bare)
    if args.json:
        print(json.dumps(results, indent=2))
    report(results)
    print(f"load average at end: {load_average()}")


if __name__ == "__main__":
    main()
