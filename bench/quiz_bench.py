"""The course test (issue 13): answers per second on gunicorn beside the no-op endpoint, where an
answer's time goes, and how long composing a paper takes.

    .venv/bin/python bench/quiz_bench.py answer --db sqlite                  # or --db postgres
    .venv/bin/python bench/quiz_bench.py answer --db sqlite --questions 2000
    .venv/bin/python bench/quiz_bench.py profile --db sqlite --questions 2000  # in-process, per statement
    .venv/bin/python bench/quiz_bench.py compose --db sqlite                 # or --db postgres

Every part builds a fresh database as bench/heartbeat_bench.py does (migrations, one institution,
class and course, approved learners), on a temporary SQLite file or on the PostgreSQL database
lms_bench_quiz (its schema is dropped and rebuilt), with a bench instance config: face checks off
(the answer path is measured, not the camera) and an hour per question (no answer is late, however
long an attempt waits for its turn in the run).

answer: every learner gets open attempts (one per course, as many courses as the run needs), each
of --questions single-choice questions, the first already served and the tab token set, as if the
learner had opened the test page. gunicorn runs as the demo runs it (gunicorn.conf.py: 2 threaded
workers) and wrk (2 threads, 32 connections) drives /api/ping, then the answers
(bench/quiz_answer.lua: each request answers the question its attempt serves now, taking the next
question's id from the response). Only 200 answers count; the run fails when more than 1 % of the
requests were not answered. Beside requests per second it prints the CPU milliseconds each request
cost the gunicorn workers, the PostgreSQL backends and wrk (from /proc), a figure that other work
on a shared machine moves much less than the rates.

profile: the same answers in-process (Flask test client, one learner, one request at a time): wall
and CPU time per request against the no-op, CPU time inside the view's and the service's functions,
the SQL statements of one answer with their time, and cProfile's most expensive functions.

compose: a bank of --bank questions and the paper rules 20 true/false x 2 + 20 single x 2 + 10
multiple x 2 points; times the paper as start_attempt composes it (settings, ids_by_kind, compose,
shuffle) and the whole start_attempt (also writing the attempt, its 50 questions and the audit
row; each attempt is deleted again between runs, untimed), then where start_attempt's time goes.
"""
import argparse
import cProfile
import http.cookiejar
import io
import json
import math
import os
import pstats
import re
import resource
import secrets
import signal
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from random import Random

from heartbeat_bench import PASSWORD, build_database, own_environment, start_server, wrk

BENCH_DATABASE = "postgresql://postgres@127.0.0.1:5432/lms_bench_quiz"
BENCH_CONFIG = """
LMS_FACE_CHECKS = False
LMS_QUIZ_SECONDS_PER_QUESTION = 3600
"""
STEM = "单选题{n}：生产经营单位的主要负责人对本单位安全生产工作负有哪种责任？"
OPTIONS = ["部分责任", "全面责任", "次要责任", "监督责任"]   # the right one is B, shown second
PAPER = {"true_false": (20, 2), "single": (20, 2), "multiple": (10, 2)}
WRK_THREADS = 2  # heartbeat_bench.wrk runs wrk -t2


# --- the database -----------------------------------------------------------------------------------

def quiz_environment(tmp: Path, db: str) -> dict:
    """heartbeat_bench's environment (a temp SQLite file, an instance folder), on the bench's own
    PostgreSQL database when asked, with the quiz bench settings added to the instance config."""
    env = own_environment(tmp, db, BENCH_DATABASE)
    with open(tmp / "instance" / "config.py", "a") as config:
        config.write(BENCH_CONFIG)
    return env


def app_context():
    from lms.app import create_app
    return create_app().app_context()


def stock_bank(course_id: int, size: int) -> None:
    """A bank of `size` questions (30 % true/false, 50 % single, 20 % multiple) and automatic papers."""
    from sqlalchemy import insert

    from lms.core.clock import utcnow
    from lms.extensions import db
    from lms.quiz.models import AUTO, MULTIPLE, SINGLE, TRUE_FALSE, Question, QuizSettings
    now = utcnow()
    kinds = [TRUE_FALSE] * 3 + [SINGLE] * 5 + [MULTIPLE] * 2
    rows = []
    for n in range(size):
        kind = kinds[n % len(kinds)]
        rows.append(dict(course_id=course_id, kind=kind, stem=STEM.format(n=n + 1),
                         options="[]" if kind == TRUE_FALSE else json.dumps(OPTIONS, ensure_ascii=False),
                         answer={TRUE_FALSE: "A", SINGLE: "B", MULTIPLE: "AC"}[kind], explanation="依法应当如此。",
                         knowledge_point="安全生产法", retired=False, created_at=now, updated_at=now))
    db.session.execute(insert(Question), rows)
    db.session.add(QuizSettings(course_id=course_id, mode=AUTO, updated_at=now,
                                **{f"{kind}_{part}": value for kind, (count, points) in PAPER.items()
                                   for part, value in (("count", count), ("points", points))}))
    db.session.commit()


def prepare(tmp: Path, db: str, learners: int, bank_size: int) -> tuple[dict, list[str], int, int]:
    env = quiz_environment(tmp, db)
    numbers, lesson_id = build_database(env, learners)
    from lms.extensions import db as database
    from lms.player.models import Lesson
    with app_context():
        course_id = database.session.get(Lesson, lesson_id).course_id
        stock_bank(course_id, bank_size)
    return env, numbers, lesson_id, course_id


def open_attempts(course_id: int, learners: int, courses: int, per_attempt: int) -> list[tuple[int, int, str]]:
    """`courses` courses (the bench's own and copies) with an open attempt of every learner on each,
    `per_attempt` questions each, the first served now. Attempt a (0-based, in the order returned)
    has the question ids a*N+1 .. a*N+N by position, which the wrk script relies on.
    Returns (attempt id, learner index, tab token) per attempt."""
    from sqlalchemy import insert, select, text

    from lms.core.clock import utcnow
    from lms.extensions import db
    from lms.learners.models import Learner
    from lms.player.models import Course
    from lms.quiz.models import OPEN, Attempt, AttemptQuestion, Question
    now = utcnow()
    first = db.session.get(Course, course_id)
    course_ids = [course_id]
    for n in range(1, courses):
        copy = Course(institution_id=first.institution_id, title=f"{first.title}{n + 1}", nominal_hours=10,
                      last_reviewed_on=date.today(), status="published")
        db.session.add(copy)
        db.session.flush()
        course_ids.append(copy.id)
    learner_ids = list(db.session.scalars(select(Learner.id).order_by(Learner.id)))[:learners]
    bank_ids = list(db.session.scalars(select(Question.id).where(Question.kind == "single").order_by(Question.id)))
    plan, attempts = [], []
    for cid in course_ids:
        for index, learner_id in enumerate(learner_ids):
            tab = secrets.token_urlsafe(24)
            attempt = Attempt(learner_id=learner_id, course_id=cid, number=1, status=OPEN, started_at=now,
                              deadline=now + timedelta(days=2), current=1, question_count=per_attempt, tab_token=tab,
                              ip="127.0.0.1")
            attempts.append(attempt)
            plan.append((index, tab))
    db.session.add_all(attempts)
    db.session.flush()
    options = json.dumps(OPTIONS, ensure_ascii=False)
    for a, attempt in enumerate(attempts):
        rows = [dict(id=a * per_attempt + position, attempt_id=attempt.id, position=position,
                     question_id=bank_ids[(a + position) % len(bank_ids)], kind="single",
                     stem=STEM.format(n=position), options=options, option_order="[0, 1, 2, 3]", answer_key="B",
                     explanation="依法应当如此。", points=1, served_at=now if position == 1 else None, late=False,
                     score=0) for position in range(1, per_attempt + 1)]
        db.session.execute(insert(AttemptQuestion), rows)
    if db.engine.dialect.name == "postgresql":  # ids were given: move the sequence past them
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('quiz_attempt_questions', 'id'), "
                                "(SELECT max(id) FROM quiz_attempt_questions))"))
    db.session.commit()
    return [(attempt.id, index, tab) for attempt, (index, tab) in zip(attempts, plan, strict=True)]


def answered_rows() -> int:
    from sqlalchemy import func, select

    from lms.extensions import db
    from lms.quiz.models import AttemptQuestion
    return db.session.scalar(select(func.count(AttemptQuestion.id)).where(AttemptQuestion.answered_at.is_not(None)))


# --- signing in -------------------------------------------------------------------------------------

def sign_in(base: str, number: str) -> dict:
    """A learner's session cookie and CSRF token, through the sign-in form like a browser.
    (heartbeat_bench.sign_in does the same and then opens a playback, which this bench does not want.)"""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"identifier": number, "password": PASSWORD, "csrf_token": token}).encode()
    home = opener.open(f"{base}/login", data=form).read().decode()  # redirected to the learner's home page
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', home).group(1)
    return {"cookie": "; ".join(f"{c.name}={c.value}" for c in jar), "csrf": csrf}


def serving_now(attempts: list[tuple[int, int, str]]) -> list[int]:
    """The id of the question each attempt serves now, 0 for one no longer open: a run starts where the
    one before it stopped (its last requests were answered after wrk stopped counting)."""
    from sqlalchemy import select

    from lms.extensions import db
    from lms.quiz.models import OPEN, Attempt, AttemptQuestion
    serving = dict(db.session.execute(
        select(Attempt.id, AttemptQuestion.id).join(AttemptQuestion, (AttemptQuestion.attempt_id == Attempt.id)
                                                    & (AttemptQuestion.position == Attempt.current))
        .where(Attempt.status == OPEN, AttemptQuestion.answered_at.is_(None))).all())
    return [serving.get(attempt_id, 0) for attempt_id, _index, _tab in attempts]


def write_entries(path: Path, sessions: list[dict], attempts: list[tuple[int, int, str]], serving: list[int]) -> None:
    def lua(value):
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    rows = ",\n".join("{cookie=%s, csrf=%s, tab=%s, attempt=%d, question=%d}" % (
        lua(sessions[index]["cookie"]), lua(sessions[index]["csrf"]), lua(tab), attempt_id, question)
        for (attempt_id, index, tab), question in zip(attempts, serving, strict=True))
    path.write_text("return {\n" + rows + "\n}\n")


def cpu_seconds(pids) -> dict[int, float]:
    """User + system CPU seconds of each of these processes that still runs."""
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return seconds


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings: a process that started meanwhile counts whole, one that
    ended meanwhile is left out (its last seconds cannot be read)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def worker_pids(server_pid: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == server_pid:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def backend_pids(db: str) -> list[int]:
    """The PostgreSQL server processes serving the bench database (the server runs on this machine)."""
    if db != "postgres":
        return []
    import psycopg
    with psycopg.connect(BENCH_DATABASE) as conn:
        return [pid for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = 'lms_bench_quiz' "
                                               "AND pid <> pg_backend_pid()")]


def measured(run, server_pid: int, db: str) -> dict:
    """wrk's figures for `run`, with the CPU milliseconds per request it cost the gunicorn workers, the
    bench database's PostgreSQL backends and wrk itself: on a machine other work shares, requests per
    second move with that work; the CPU each request costs moves much less."""
    workers, backends = worker_pids(server_pid), backend_pids(db)
    before = (cpu_seconds(workers), cpu_seconds(backends), resource.getrusage(resource.RUSAGE_CHILDREN))
    figures = run()
    workers, backends = set(workers) | set(worker_pids(server_pid)), set(backends) | set(backend_pids(db))
    after = (cpu_seconds(workers), cpu_seconds(backends), resource.getrusage(resource.RUSAGE_CHILDREN))
    n = max(figures["requests"], 1)
    figures["cpu_ms_per_request"] = {
        "gunicorn": round(cpu_used(before[0], after[0]) * 1000 / n, 3),
        "postgres": round(cpu_used(before[1], after[1]) * 1000 / n, 3),
        "wrk": round((after[2].ru_utime + after[2].ru_stime - before[2].ru_utime - before[2].ru_stime) * 1000 / n, 3)}
    return figures


# --- answer: throughput on gunicorn -----------------------------------------------------------------

def run_answers(args) -> int:
    # Enough attempts for the fastest rate this machine could reach, and more than the connections.
    needed = math.ceil(args.rounds * (args.seconds + 2) * args.max_rate / args.questions) + args.connections + 2
    courses = math.ceil(needed / args.learners)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env, numbers, _lesson_id, course_id = prepare(tmp, args.db, args.learners, 2000)
        with app_context():
            attempts = open_attempts(course_id, args.learners, courses, args.questions)
        print(f"{args.db}: {len(attempts)} open attempts of {args.questions} questions "
              f"({args.learners} learners x {courses} courses)", file=sys.stderr)
        log = open(tmp / "gunicorn.log", "w")
        server = start_server(env, args.port, tuple(args.gunicorn_args.split()), log=log)
        base = f"http://127.0.0.1:{args.port}"
        try:
            sessions = [sign_in(base, number) for number in numbers]
            entries = tmp / "entries.lua"
            report_file = tmp / "answers.json"
            os.environ.update(BENCH_QUESTIONS=str(args.questions), BENCH_THREADS=str(WRK_THREADS),
                              BENCH_REPORT=str(report_file))
            with app_context():
                write_entries(entries, sessions, attempts, serving_now(attempts))
            wrk(base, "ping.lua", entries, 3, args.connections)  # warm-up
            rounds = []
            for _ in range(args.rounds):
                time.sleep(1)  # the requests wrk left in flight are answered meanwhile
                with app_context():
                    write_entries(entries, sessions, attempts, serving_now(attempts))
                ping = measured(lambda: wrk(base, "ping.lua", entries, args.seconds, args.connections),
                                server.pid, args.db)
                answers = measured(lambda: wrk(base, "quiz_answer.lua", entries, args.seconds, args.connections),
                                   server.pid, args.db)
                answers.update(json.loads(report_file.read_text()))
                answers["answered_rate"] = round(answers["rate"] * answers["answered"] / max(answers["requests"], 1), 1)
                rounds.append({"noop": ping, "answers": answers,
                               "ratio": round(answers["answered_rate"] / ping["rate"], 3)})
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait()
            log.close()
        with app_context():
            in_database = answered_rows()
        errors = [line for line in (tmp / "gunicorn.log").read_text().splitlines() if "Error" in line]
    result = {"db": args.db, "load_average_at_end": os.getloadavg(), "questions_per_attempt": args.questions,
              "attempts": len(attempts),
              "gunicorn_args": args.gunicorn_args, "rounds": rounds, "answers_in_database": in_database,
              "gunicorn_errors": errors[:5]}
    print(json.dumps(result, indent=2))
    failed = False
    for n, r in enumerate(rounds, start=1):
        a = r["answers"]
        print(f"{args.db}, {args.questions} questions per attempt, round {n}: answers {a['answered_rate']:.0f}/s "
              f"(p50 {a['p50_ms']:.1f} ms, p99 {a['p99_ms']:.1f} ms) vs no-op {r['noop']['rate']:.0f}/s "
              f"= {r['ratio']:.0%} -> {'meets' if r['ratio'] >= 0.5 else 'misses'} the 50 % target; "
              f"{a['requests']} requests: {a['answered']} answered ({a['finished']} finished an attempt), "
              f"{a['non_2xx']} non-2xx, {a['refused']} refused, {a['unreadable']} unreadable, "
              f"{a['starved']} without an attempt, {a['socket_errors']} socket errors, {a['timeouts']} timeouts")
        cpu_noop, cpu_answer = r["noop"]["cpu_ms_per_request"], a["cpu_ms_per_request"]
        print("  CPU ms per request, no-op / answer: " + ", ".join(
            f"{part} {cpu_noop[part]:.2f} / {cpu_answer[part]:.2f}" for part in cpu_noop)
            + f"; all three: {sum(cpu_noop.values()):.2f} / {sum(cpu_answer.values()):.2f} "
            f"(no-op / answer = {sum(cpu_noop.values()) / max(sum(cpu_answer.values()), 1e-9):.0%})")
        if a["answered"] < 0.99 * a["requests"] or a["starved"]:
            failed = True
    answered = sum(r["answers"]["answered"] for r in rounds)
    if in_database < answered:
        print(f"only {in_database} answers in the database for {answered} answered requests", file=sys.stderr)
        failed = True
    if failed:
        print("FAILED: more than 1 % of the requests were not answers taken: these figures are not the "
              "answer path's", file=sys.stderr)
        return 1
    return 0


# --- profile: one answer at a time, in-process ------------------------------------------------------

class StatementClock:
    """Time spent in each SQL statement (the driver's execute, not fetching rows or building objects)."""

    def __init__(self, engine):
        from sqlalchemy import event
        from sqlalchemy.orm import Session
        self.engine, self.totals, self.counts, self.on = engine, defaultdict(float), defaultdict(int), False
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        # COMMIT is no cursor statement: from the engine's commit event to the session's after_commit.
        self.commit_started = None
        event.listen(engine, "commit", lambda conn: setattr(self, "commit_started", time.perf_counter()))
        event.listen(Session, "after_commit", self._committed)

    def _committed(self, session):
        if self.on and self.commit_started is not None:
            self.totals["COMMIT"] += time.perf_counter() - self.commit_started
            self.counts["COMMIT"] += 1
        self.commit_started = None

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            key = re.sub(r"\s+", " ", statement)[:150]
            self.totals[key] += time.perf_counter() - conn.info.pop("bench_t0")
            self.counts[key] += 1


class PhaseClock:
    """CPU time of this thread inside chosen functions (nested ones count in their callers too), without
    a profiler: on a loaded machine wall time measures the other processes as much as this one."""

    def __init__(self):
        self.totals, self.on = defaultdict(float), False

    def wrap(self, name: str, function):
        def timed(*args, **kwargs):
            if not self.on:
                return function(*args, **kwargs)
            t0 = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.totals[name] += time.thread_time() - t0
        return timed

    def patch(self, module, names) -> None:
        for name in names:
            if hasattr(module, name):  # the service is being worked on: time what is there
                setattr(module, name, self.wrap(f"{module.__name__.rsplit('.', 1)[-1]}.{name}",
                                                getattr(module, name)))

    def watch_app(self, app, session_class) -> None:
        from sqlalchemy import event
        def name(f):
            return getattr(f, "__name__", None) or getattr(getattr(f, "func", None), "__name__", repr(f))
        app.before_request_funcs[None] = [self.wrap(f"before_request {name(f)}", f)
                                          for f in app.before_request_funcs[None]]
        app.after_request_funcs[None] = [self.wrap(f"after_request {name(f)}", f)
                                         for f in app.after_request_funcs[None]]
        started = {}
        event.listen(session_class, "before_commit", lambda session: started.__setitem__(id(session),
                                                                                         time.thread_time()))

        def committed(session):
            if self.on and id(session) in started:
                self.totals["session commit (flush and COMMIT)"] += time.thread_time() - started.pop(id(session))
        event.listen(session_class, "after_commit", committed)
        flushing = {}
        event.listen(session_class, "before_flush", lambda session, context, instances: flushing.__setitem__(
            id(session), time.thread_time()))

        def flushed(session, context):
            if self.on and id(session) in flushing:
                self.totals["session flush (in commit or a query)"] += time.thread_time() - flushing.pop(id(session))
        event.listen(session_class, "after_flush_postexec", flushed)

    def take(self) -> dict:
        totals, self.totals = dict(self.totals), defaultdict(float)
        return totals


def run_profile(args) -> int:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from lms.app import create_app
    from lms.extensions import db
    from lms.quiz import attempts as attempt_service
    from lms.quiz import permissions
    from lms.quiz import test_views

    from lms.quiz.models import Attempt, AttemptQuestion
    courses = math.ceil((5 * args.requests + 10) / args.questions) + 1  # five timed passes
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _env, numbers, _lesson_id, course_id = prepare(tmp, args.db, 1, 2000)
        app = create_app()
        with app.app_context():
            attempts = open_attempts(course_id, 1, courses, args.questions)
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        home = client.post("/login", data={"identifier": numbers[0], "password": PASSWORD, "csrf_token": token},
                           follow_redirects=True).get_data(as_text=True)
        csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', home).group(1)
        queue = [(attempt_id, tab, a * args.questions + 1) for a, (attempt_id, _index, tab) in enumerate(attempts)]

        def answer_one():
            attempt_id, tab, qid = queue[0]
            response = client.post(f"/quiz/api/attempts/{attempt_id}/answer", headers={"X-CSRFToken": csrf},
                                   json={"tab": tab, "question": qid, "choice": [1]})
            body = response.get_json()
            if response.status_code != 200:
                raise SystemExit(f"answer refused: {response.status_code} {body}")
            if body["state"] == "question":
                queue[0] = (attempt_id, tab, body["question"]["id"])
            else:
                queue.pop(0)

        def timed(call, n, clock=time.perf_counter):
            times = []
            for _ in range(n):
                t0 = clock()
                call()
                times.append((clock() - t0) * 1000)
            return times

        timed(lambda: client.get("/api/ping"), 20)
        timed(answer_one, 5)
        ping_ms = timed(lambda: client.get("/api/ping"), args.requests)
        answer_ms = timed(answer_one, args.requests)
        ping_cpu = timed(lambda: client.get("/api/ping"), args.requests, time.thread_time)
        answer_cpu = timed(answer_one, args.requests, time.thread_time)
        phases = PhaseClock()
        phases.watch_app(app, Session)
        phases.patch(test_views, ("_api_attempt", "_step_answer", "_shown"))
        phases.patch(permissions, ("can_answer",))
        phases.patch(attempt_service, ("answer", "settle", "_advance", "question_count", "_question_at", "finish"))
        phases.on = True
        phases.take()

        def phased(call):
            request_seconds = timed(call, 1, time.thread_time)[0] / 1000
            return dict(phases.take(), **{"whole request": request_seconds})
        ping_phases = [phased(lambda: client.get("/api/ping")) for _ in range(args.requests)]
        answer_phases = [phased(answer_one) for _ in range(args.requests)]
        phases.on = False
        with app.app_context():
            clock = StatementClock(db.engine)
        clock.on = True
        timed(answer_one, args.requests)
        clock.on = False
        profiler = cProfile.Profile()
        profiler.enable()
        timed(answer_one, args.requests)
        profiler.disable()
        # The lazy load `len(attempt.questions)` (test_views had it on every answer), against a count query.
        with app.app_context():
            attempt_id = queue[0][0]
            lazy, count = [], []
            for _ in range(20):
                db.session.expire_all()
                attempt = db.session.get(Attempt, attempt_id)
                t0 = time.perf_counter()
                total = len(attempt.questions)
                lazy.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                counted = db.session.scalar(select(func.count(AttemptQuestion.id))
                                            .where(AttemptQuestion.attempt_id == attempt.id))
                count.append((time.perf_counter() - t0) * 1000)
            assert counted == total
            lazy_ms, count_ms = statistics.median(lazy), statistics.median(count)
    print(f"{args.db}, {args.questions} questions per attempt, {args.requests} requests each, one at a time "
          f"in-process (Flask test client):")
    for name, wall, cpu in (("no-op", ping_ms, ping_cpu), ("answer", answer_ms, answer_cpu)):
        print(f"  {name:6s} wall median {statistics.median(wall):.2f} ms, p95 {percentile(wall, 95):.2f} ms; "
              f"CPU of this thread median {statistics.median(cpu):.2f} ms")
    print(f"  load average {os.getloadavg()[0]:.1f}")
    print(f"  len(attempt.questions) alone: {lazy_ms:.2f} ms for {total} rows; a count query: {count_ms:.2f} ms "
          "(wall, median of 20)")
    print("Time inside functions in ms, median over the requests (a nested function counts in its caller too):")
    print(f"  {'':44s} {'no-op':>8s} {'answer':>8s}")

    def median_ms(runs, name):
        return statistics.median(run.get(name, 0.0) for run in runs) * 1000
    names = {name for run in ping_phases + answer_phases for name in run}
    for name in sorted(names, key=lambda n: -median_ms(answer_phases, n)):
        print(f"  {name:44s} {median_ms(ping_phases, name):8.3f} {median_ms(answer_phases, name):8.3f}")
    print(f"SQL statements per answer (driver execute time, mean over {args.requests} answers):")
    per_answer = sum(clock.totals.values()) / args.requests * 1000
    print(f"  {sum(clock.counts.values()) / args.requests:.1f} statements, {per_answer:.2f} ms")
    for key in sorted(clock.totals, key=clock.totals.get, reverse=True):
        print(f"  {clock.counts[key] / args.requests:5.2f} x {clock.totals[key] / clock.counts[key] * 1000:7.3f} ms"
              f"  {key}")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    out.write(f"cProfile of {args.requests} answers, by cumulative time:\n")
    stats.sort_stats("cumulative").print_stats(r"lms/|sqlalchemy/orm/session|flask/app", 30)
    out.write(f"cProfile of {args.requests} answers, by time inside the function:\n")
    stats.sort_stats("tottime").print_stats(25)
    print(out.getvalue())
    return 0


# --- compose: composing a paper and starting an attempt ---------------------------------------------

def percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


def run_compose(args) -> int:
    from flask import current_app
    from sqlalchemy import delete, select
    from sqlalchemy.orm import Session

    from lms.audit import services as audit_services
    from lms.core.clock import utcnow
    from lms.core.context import Actor
    from lms.extensions import db
    from lms.learners.models import Learner
    from lms.player.models import Course, LessonProgress
    from lms.quiz import attempts, bank, grading, papers
    from lms.quiz.models import Attempt, AttemptQuestion
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _env, _numbers, lesson_id, course_id = prepare(tmp, args.db, 1, args.bank)
        with app_context():
            learner = db.session.scalar(select(Learner))
            db.session.add(LessonProgress(learner_id=learner.id, lesson_id=lesson_id, effective_seconds=36000.0,
                                          covered_seconds=36000.0, furthest=36000.0, completed_at=utcnow()))
            db.session.commit()
            course = db.session.get(Course, course_id)
            rng = Random(13)
            actor = Actor(learner.user, "127.0.0.1", "quiz_bench")

            def ids_only():
                bank.ids_by_kind(course.id)

            bank_ids, rules = bank.ids_by_kind(course.id), bank.rules_of(bank.settings_of(course.id))

            def compose_only():
                papers.compose(rules, bank_ids, rng)

            def paper():
                # What start_attempt does to compose (attempts._paper): the settings, the bank's ids, the draw.
                items = papers.compose(bank.rules_of(bank.settings_of(course.id)), bank.ids_by_kind(course.id), rng)
                rng.shuffle(items)
                assert len(items) == 50

            def start():
                attempt = attempts.start_attempt(learner, course, utcnow(), actor, rng)
                assert attempt.number == 1
                return attempt.id

            def undo(attempt_id):
                db.session.execute(delete(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt_id))
                db.session.execute(delete(Attempt).where(Attempt.id == attempt_id))
                db.session.commit()

            def timed(call, after=None, phases=None):
                wall, cpu = [], []
                for n in range(args.runs + 10):
                    if phases:
                        phases.take()
                    w0, c0 = time.perf_counter(), time.thread_time()
                    value = call()
                    w1, c1 = time.perf_counter(), time.thread_time()
                    if n >= 10:  # the first ten warm the statement caches
                        wall.append((w1 - w0) * 1000)
                        cpu.append((c1 - c0) * 1000)
                        if phases:
                            phase_runs.append(phases.take())
                    if after:
                        after(value)
                return wall, cpu

            results = {"ids_by_kind": timed(ids_only), "compose": timed(compose_only),
                       "settings + ids_by_kind + compose": timed(paper),
                       "start_attempt (whole)": timed(start, undo)}
            # Where start_attempt's time goes: CPU time of this thread inside its parts, a second series.
            phase_runs = []
            phases = PhaseClock()
            phases.watch_app(current_app, Session)
            phases.patch(attempts, ("test_status", "attempts_of", "settle", "lessons_confirmed", "_paper", "finish"))
            phases.patch(bank, ("paper_problems", "counts_by_kind", "ids_by_kind", "settings_of", "manual_paper"))
            phases.patch(papers, ("compose",))
            phases.patch(grading, ("shuffled_order",))
            phases.patch(audit_services, ("record",))
            statements = StatementClock(db.engine)
            phases.on = statements.on = True
            timed(start, undo, phases)
            phases.on = statements.on = False
    print(f"{args.db}: bank of {args.bank} questions, paper 20 true/false x 2 + 20 single x 2 + 10 multiple x 2, "
          f"{args.runs} runs each (after 10 untimed), in-process; load average {os.getloadavg()[0]:.1f}:")
    for name, (wall, cpu) in results.items():
        verdict = "" if name in ("ids_by_kind", "compose") else \
            (" -> meets the 20 ms target" if percentile(wall, 95) < 20 else
             " -> median meets the 20 ms target, p95 misses" if statistics.median(wall) < 20 else
             " -> misses the 20 ms target")
        print(f"  {name:34s} wall median {statistics.median(wall):7.2f} ms  p95 {percentile(wall, 95):7.2f} ms  "
              f"max {max(wall):7.2f} ms; CPU median {statistics.median(cpu):7.2f} ms{verdict}")
    runs = args.runs + 10
    print(f"start_attempt's SQL statements (driver execute time, mean per start over {runs} starts; the "
          f"deletes between runs left out):")
    for key in sorted(statements.totals, key=statements.totals.get, reverse=True):
        if key.startswith("DELETE") or not statements.counts.get(key):
            continue
        print(f"  {statements.counts[key] / runs:5.2f} x {statements.totals[key] / statements.counts[key] * 1000:7.3f} ms"
              f"  {key}")
    print("start_attempt's parts, CPU ms of this thread, median (a nested part counts in its caller too):")
    for name in sorted({n for run in phase_runs for n in run},
                       key=lambda n: -statistics.median(run.get(n, 0.0) for run in phase_runs)):
        print(f"  {name:44s} {statistics.median(run.get(name, 0.0) for run in phase_runs) * 1000:8.3f}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parts = parser.add_subparsers(dest="part", required=True)
    answer = parts.add_parser("answer", help="answers per second on gunicorn beside the no-op endpoint")
    answer.add_argument("--learners", type=int, default=64)
    answer.add_argument("--questions", type=int, default=100, help="questions per attempt (a paper has at most 100)")
    answer.add_argument("--seconds", type=int, default=15)
    answer.add_argument("--rounds", type=int, default=1, help="no-op then answers, this many times")
    answer.add_argument("--connections", type=int, default=32)
    answer.add_argument("--max-rate", type=int, default=1500, help="answers per second to prepare attempts for")
    answer.add_argument("--port", type=int, default=8766)
    answer.add_argument("--gunicorn-args", default="", help="added to gunicorn.conf.py's settings")
    profile = parts.add_parser("profile", help="one answer at a time, in-process: statements and functions")
    profile.add_argument("--questions", type=int, default=100)
    profile.add_argument("--requests", type=int, default=300)
    compose = parts.add_parser("compose", help="composing a paper and starting an attempt")
    compose.add_argument("--bank", type=int, default=2000)
    compose.add_argument("--runs", type=int, default=200)
    for part in (answer, profile, compose):
        part.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    sys.exit({"answer": run_answers, "profile": run_profile, "compose": run_compose}[args.part](args))


if __name__ == "__main__":
    main()
