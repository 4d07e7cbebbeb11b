"""Face answers judged at the same time, and heartbeats meanwhile (issue 21).

    .venv/bin/python bench/face_concurrency_bench.py --db sqlite [--rounds 25] [--answerers 4] [--beat-seconds 20]
    .venv/bin/python bench/face_concurrency_bench.py --db postgres   # database lms_face_conc_bench (rebuilt)
    .venv/bin/python bench/face_concurrency_bench.py --parts 1        # the in-process part only

1. In one process, no server: 40 analyses of 640x480 camera frames (faces.analyse, one in four also searched
   for small faces, as an answer does) by 1 thread, then by 2 and 4 threads at once, with the model sets that
   faces._Models lends limited to 1 (what a lock around one shared set would give) and to one per core (what
   it does). Analyses per second of wall time.
2. On gunicorn with gunicorn.conf.py (2 gthread workers, 32 threads; in the application at once per worker:
   one API request, one face answer and two pages), a temporary
   SQLite file or the PostgreSQL database lms_face_conc_bench, built by bench/heartbeat_bench.py (one-hour
   lesson, learners enrolled with any encoding: every answer is a mismatch, then a replay, and is analysed in
   full all the same). Sixteen learners between checks post heartbeats (playing, position = seconds since
   start), 8 client threads each one heartbeat every 0.25 s, first alone for --beat-seconds, then while
   --answerers learners post a face answer (10 frames, 640x480, as the page sends them) all at the same moment,
   --rounds rounds, each round as soon as the previous one is answered. Heartbeat latency p50/p95/p99/max in
   both phases, answer latency, every error (status other than 200, reset, timeout), and whether gunicorn's
   workers are the ones it started with (a worker that died is replaced by a new pid).

Frames are made from ../shared/testdata/faces by tests/face_frames.py, read where they lie. Figures go to
BENCHMARKS.md.
"""
import argparse
import base64
import json
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from heartbeat_bench import ROOT, build_database, own_environment, pass_start_checks, sign_in, start_server  # noqa: E402

sys.path.insert(0, str(ROOT))
from tests.test_proctor_concurrency import workers_of  # noqa: E402 (gunicorn's worker pids, as the test reads them)

BENCH_DATABASE = "postgresql://postgres@127.0.0.1:5432/lms_face_conc_bench"
FACE_SETTINGS = ("LMS_FACE_FRAME_INTERVAL_MS = 1\nLMS_FACE_ANSWER_SLACK_SECONDS = 900\n"
                 "LMS_FACE_CHECK_ATTEMPTS = 1000\nLMS_FACE_CHECK_WINDOW_SECONDS = 3600\n"
                 "LMS_FACE_CHECK_MIN_SECONDS = 900\nLMS_FACE_CHECK_MAX_SECONDS = 900\n")
POSES = [("obama_2.jpg", False), ("obama_3.jpg", True), ("biden_2.jpg", False), ("alex_2.jpg", False)]


def percentiles(values: list[float]) -> dict:
    ordered = sorted(values)
    if not ordered:
        return {}

    def at(share):
        return round(ordered[min(int(share * len(ordered)), len(ordered) - 1)] * 1000, 1)
    return {"n": len(ordered), "p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99),
            "max_ms": round(ordered[-1] * 1000, 1)}


# --- part 1: in one process -----------------------------------------------------------------------------

def in_process(analyses=40) -> dict:
    from lms.proctor import faces
    from tests.face_frames import posed
    rgbs = [faces.load_rgb(posed(name, flip, index), faces.FRAME_MAX_SIDE)
            for index, (name, flip) in enumerate(POSES * 2)]
    results = {}
    for sets in (1, faces._Models.SETS):
        loaded = faces._places(0)  # the sets load outside the timing
        [loaded.put(faces._Models._load()) for _ in range(sets)]
        faces._Models._free = loaded
        for threads in (1, 2, 4):
            counter = iter(range(analyses))

            def work(counter):
                for index in counter:  # next() of one range iterator: each index goes to one thread
                    faces.analyse(rgbs[index % len(rgbs)], search_small=index % 4 == 0)
            started = time.perf_counter()
            workers = [threading.Thread(target=work, args=(counter,)) for _ in range(threads)]
            [worker.start() for worker in workers]
            [worker.join() for worker in workers]
            results[f"{sets} set(s), {threads} thread(s)"] = round(analyses / (time.perf_counter() - started), 2)
        if faces._Models.SETS == 1:
            break
    return results


# --- part 2: on gunicorn ------------------------------------------------------------------------------------

class Client:
    def __init__(self, base: str, entry: dict):
        self.base, self.entry = base, entry

    def post(self, path: str, body: dict, timeout=300):
        """(status or the error's name, JSON or None, seconds)."""
        request = urllib.request.Request(self.base + path, data=json.dumps(body).encode(), headers={
            "Content-Type": "application/json", "Cookie": self.entry["cookie"], "X-CSRFToken": self.entry["csrf"]})
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read()), time.perf_counter() - started
        except urllib.error.HTTPError as error:
            return error.code, None, time.perf_counter() - started
        except OSError as error:
            return type(error).__name__, None, time.perf_counter() - started


def beat_loop(clients: list[Client], stop: threading.Event, out: list, started_at: float):
    seq = {id(client): 0 for client in clients}
    while not stop.is_set():
        for client in clients:
            seq[id(client)] += 1
            status, _, seconds = client.post("/api/player/heartbeat", dict(
                playback=client.entry["token"], seq=seq[id(client)], position=int(time.time() - started_at),
                playing=True, visible=True, focused=True, rate=1, interacted=True), timeout=60)
            out.append((status, seconds))
            stop.wait(0.25)


def heartbeats_during(clients: list[Client], run, started_at: float) -> tuple[list, object]:
    """Heartbeats from 8 threads while ``run()`` runs: (heartbeats, what run returned)."""
    stop, out = threading.Event(), []
    loops = [threading.Thread(target=beat_loop, args=(clients[i::8], stop, out, started_at)) for i in range(8)]
    [loop.start() for loop in loops]
    try:
        result = run()
    finally:
        stop.set()
        [loop.join() for loop in loops]
    return out, result


def answer_rounds(answerers: list[Client], rounds: int) -> list:
    from tests.face_frames import posed
    results, gate = [], threading.Barrier(len(answerers))

    def answer(which, client):
        for round_no in range(rounds):
            status, challenge, _ = client.post(f"/api/proctor/checks/{client.entry['check']}/challenges",
                                               {"camera": True})
            frames = None
            if status == 200:
                pose = POSES[which % len(POSES)]
                frames = ["data:image/jpeg;base64," + base64.b64encode(
                    posed(pose[0], pose[1] != (index > challenge["prompt_frame"]), index, 70 + round_no)).decode()
                    for index in range(challenge["frame_count"])]
            gate.wait()
            if frames is None:
                results.append((round_no, which, f"challenge {status}", None, 0.0))
                continue
            status, body, seconds = client.post(f"/api/proctor/checks/{client.entry['check']}/attempts",
                                                {"nonce": challenge["nonce"], "frames": frames})
            results.append((round_no, which, status, (body or {}).get("status"), seconds))

    threads = [threading.Thread(target=answer, args=(which, client)) for which, client in enumerate(answerers)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    return results


def on_gunicorn(args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = own_environment(tmp, args.db, BENCH_DATABASE)
        with open(tmp / "instance" / "config.py", "a") as config:
            config.write(FACE_SETTINGS)
        numbers, lesson_id = build_database(env, 16 + args.answerers)
        log = open(tmp / "gunicorn.log", "w+")
        server = start_server(env, args.port, ("--log-level", "info"), log=log)
        base = f"http://127.0.0.1:{args.port}"
        try:
            beaters = [Client(base, sign_in(base, number, lesson_id)) for number in numbers[:16]]
            pass_start_checks(env)  # the heartbeating learners are between two checks
            answerers = []
            for number in numbers[16:]:
                entry = sign_in(base, number, lesson_id)
                entry["check"] = json.loads(urllib.request.urlopen(urllib.request.Request(
                    f"{base}/api/player/start", data=json.dumps({"lesson_id": lesson_id}).encode(),
                    headers={"Content-Type": "application/json", "Cookie": entry["cookie"],
                             "X-CSRFToken": entry["csrf"]})).read())["check"]
                answerers.append(Client(base, entry))
            workers = workers_of(server.pid)
            started_at = time.time()
            alone, _ = heartbeats_during(beaters, lambda: time.sleep(args.beat_seconds), started_at)
            began = time.perf_counter()
            during, answers = heartbeats_during(beaters, lambda: answer_rounds(answerers, args.rounds), started_at)
            elapsed = time.perf_counter() - began
            alive = server.poll() is None and workers_of(server.pid) == workers
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait()
        log.seek(0)
        lost = [line for line in log.read().splitlines() if "was sent" in line or "WORKER TIMEOUT" in line
                or "exited with code" in line]
    answered = [row for row in answers if row[2] == 200]
    return {
        "db": args.db, "answerers": args.answerers, "rounds": args.rounds, "seconds": round(elapsed, 1),
        "answers_per_second": round(len(answered) / elapsed, 2),
        "answer_latency": percentiles([row[4] for row in answered]),
        "answer_statuses": sorted({str(row[3]) for row in answered}),
        "answer_errors": [row for row in answers if row[2] != 200][:10],
        "heartbeats_alone": percentiles([s for status, s in alone if status == 200]),
        "heartbeats_during_answers": percentiles([s for status, s in during if status == 200]),
        "heartbeat_errors": [status for status, _ in alone + during if status != 200][:10],
        "workers_unchanged": alive, "gunicorn_lost_workers": lost[:10]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--answerers", type=int, default=4)
    parser.add_argument("--beat-seconds", type=int, default=20)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--parts", default="1,2")
    args = parser.parse_args()
    result = {"load_before": os.getloadavg()}
    if "1" in args.parts.split(","):
        result["in_process_analyses_per_second"] = in_process()
    if "2" in args.parts.split(","):
        result["gunicorn"] = on_gunicorn(args)
    result["load_after"] = os.getloadavg()
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
