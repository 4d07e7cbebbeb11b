"""Face answers judged at the same time on gunicorn's threaded workers (issue 21).

The project's gunicorn.conf.py (2 gthread workers, 32 threads; in the application at once per worker: one
API request, one face answer and two pages) serves the session's database. Four learners answer a face check at the same moment, 25 rounds running, while a
fifth learner's page sends heartbeats. Every request must get an HTTP answer (no 5xx, no reset, no hang),
no worker may die or be replaced, and each check must record exactly the tries it was asked for.
The answers fail on purpose (another person, or a head turned the wrong way; later rounds are also
recognised as replays) so that one check per learner stays open for all rounds: what matters here is that
each answer is really analysed, by dlib, in several threads of one process at once. The heartbeat latency
meanwhile is measured by bench/face_concurrency_bench.py, not here.
"""
import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from lms.core.clock import utcnow
from lms.core.context import Actor
from lms.institutions.services import apply_to_class, approve_application
from lms.proctor.models import OPEN, FaceChallenge, FaceCheck, FaceCheckAttempt

from .conftest import PASSWORD, learner_profile, register, valid_id
from .face_frames import posed
from .photos import MISSING, ROOT, missing_photos

ROUNDS = 25
ANSWERERS = 4
FRAMES = 6            # frames per answer (production: 20-22): the same calls into dlib, less CPU on a CI machine
REQUEST_TIMEOUT = 240  # seconds: a request not answered by then counts as hung
ANSWERS = [(("obama_2.jpg", True), ("obama_2.jpg", False), "wrong_way"),   # the enrolled learner turning the
           (("obama_3.jpg", False), ("obama_3.jpg", True), "wrong_way"),   # wrong way (a live head, failing)
           (("biden_2.jpg", False), ("biden_2.jpg", True), "asked"),       # another person following the prompt
           (("alex_1.png", False), ("alex_2.jpg", False), "asked")]
pytestmark = pytest.mark.skipif(bool(missing_photos()), reason=MISSING)  # before gunicorn and the course are made
CRASH_SIGNS = ("WORKER TIMEOUT", "was sent", "exited with code")  # gunicorn's words for a lost worker


def server_settings(app, instance) -> dict:
    """The environment of a gunicorn serving the test app's database, keys and media, with face checks on,
    frames 1 ms apart (the client sends at once), and tries and time enough for every round on one check."""
    instance.mkdir(exist_ok=True)
    (instance / "config.py").write_text(
        "WTF_CSRF_ENABLED = False\nRATELIMIT_ENABLED = False\nRATELIMIT_STORAGE_URI = 'memory://'\n"
        f"LMS_FACE_CHECKS = True\nLMS_FACE_HOLD_FRAMES = (2, 2)\nLMS_FACE_BURST_FRAMES = {FRAMES - 2}\n"
        "LMS_FACE_FRAME_INTERVAL_MS = 1\nLMS_FACE_BURST_INTERVAL_MS = 1\n"
        "LMS_FACE_ANSWER_SLACK_SECONDS = 900\nLMS_FACE_CHECK_ATTEMPTS = 1000\nLMS_FACE_CHECK_WINDOW_SECONDS = 3600\n"
        "LMS_FACE_CHECK_MIN_SECONDS = 900\nLMS_FACE_CHECK_MAX_SECONDS = 900\n")
    config = app.config
    return dict(os.environ, LMS_INSTANCE_PATH=str(instance), LMS_DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"],
                LMS_SECRET_KEY=config["SECRET_KEY"], LMS_DATA_KEYS=config["LMS_DATA_KEYS"],
                LMS_ACTIVE_KEY_ID=config["LMS_ACTIVE_KEY_ID"], LMS_HMAC_KEY=config["LMS_HMAC_KEY"],
                LMS_MEDIA_ROOT=config["MEDIA_ROOT"], LMS_CONFIG="")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def workers_of(pid: int) -> set[int]:
    """The process ids whose parent is ``pid`` (gunicorn's workers)."""
    found = set()
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                if entry.isdigit() and int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.add(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: object
    workers: set = field(default_factory=set)

    def log_text(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


@pytest.fixture()
def gunicorn(app, db, tmp_path):
    """The project's gunicorn.conf.py serving the session's database, until the test ends."""
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "w+")
    process = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--bind",
                                f"127.0.0.1:{port}", "--log-level", "info", "wsgi:app"], cwd=ROOT,
                               env=server_settings(app, tmp_path / "instance"), stdout=log, stderr=log,
                               start_new_session=True)
    server = Server(port, process, log)
    try:
        deadline = time.monotonic() + 120
        while call(server, "GET", "/api/ping", timeout=2)[0] != 200:
            assert process.poll() is None and time.monotonic() < deadline, server.log_text()[-2000:]
            time.sleep(0.3)
        while len(workers_of(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
        server.workers = workers_of(process.pid)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def call(server, method, path, body=None, cookie=None, timeout=REQUEST_TIMEOUT, form=False):
    """(status, JSON or text, Set-Cookie) of one request on a new connection; status None with the error
    when the connection failed (refused, reset, timed out)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded" if form else "application/json"
        body = body if form else json.dumps(body)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read().decode()
        kind = response.getheader("Content-Type", "")
        return response.status, json.loads(data) if "json" in kind else data, response.getheader("Set-Cookie")
    except (OSError, http.client.HTTPException) as error:
        return None, repr(error), None
    finally:
        connection.close()


def sign_in(server, id_number: str) -> str:
    from urllib.parse import urlencode
    status, _, set_cookie = call(server, "POST", "/login", urlencode({"identifier": id_number, "password": PASSWORD}),
                                 form=True)
    assert status == 302 and set_cookie, status
    return set_cookie.split(";", 1)[0]


def learners(db, open_class, staff, count):
    """``count`` more approved learners (the last one watches the video) of the class, each enrolled with obama_1 (tests/conftest.py)."""
    made = []
    for index in range(count):
        learner = register(learner_profile(valid_id(f"44060419800101{index + 1:02d}1"), name=f"学员{index}"),
                           Actor(None, "127.0.0.1", "pytest"))
        application = apply_to_class(learner, open_class, f"T{learner.id_number}", utcnow(), Actor(learner.user))
        approve_application(application, utcnow(), Actor(staff))
        made.append(learner)
    return made


def answer_frames(challenge: dict, round_no: int, which: int) -> list[str]:
    """A live head (one pose before the prompt, another after it), as new bytes every round."""
    before, after, turn = ANSWERS[which]
    if turn == "wrong_way" and challenge["action"] == "right":  # these pairs turn right (face_frames.TURNS)
        before, after = after, before
    frames = [posed(*(before if index <= challenge["prompt_frame"] else after), index, quality=70 + round_no)
              for index in range(challenge["frame_count"])]
    return ["data:image/jpeg;base64," + base64.b64encode(frame).decode() for frame in frames]


def heartbeats(server, cookie, token, stop: threading.Event, answers: list):
    """A paused page reporting every 0.3 s, as the player does between reports."""
    seq = 0
    while not stop.is_set():
        seq += 1
        started = time.monotonic()
        status, body, _ = call(server, "POST", "/api/player/heartbeat", dict(
            playback=token, seq=seq, position=0.0, playing=False, visible=True, focused=True, rate=1.0), cookie)
        answers.append((status, time.monotonic() - started, body if status != 200 else None))
        stop.wait(0.3)


def test_four_face_answers_at_once_for_25_rounds_crash_no_worker(app, db, lesson, open_class, staff, gunicorn):
    cookies = [sign_in(gunicorn, learner.id_number) for learner in learners(db, open_class, staff, ANSWERERS + 1)]
    started = [call(gunicorn, "POST", "/api/player/start", {"lesson_id": lesson.id}, cookie) for cookie in cookies]
    assert [status for status, _, _ in started] == [200] * (ANSWERERS + 1), started
    check_ids = [body["check"] for _, body, _ in started[:ANSWERERS]]

    stop, beats = threading.Event(), []
    beating = threading.Thread(target=heartbeats, args=(gunicorn, cookies[-1], started[-1][1]["playback"], stop, beats))
    beating.start()
    answers = [[] for _ in range(ANSWERERS)]
    gate = threading.Barrier(ANSWERERS)

    def answer_rounds(which):
        cookie, check_id = cookies[which], check_ids[which]
        for round_no in range(ROUNDS):
            status, challenge, _ = call(gunicorn, "POST", f"/api/proctor/checks/{check_id}/challenges",
                                        {"camera": True}, cookie)
            frames = answer_frames(challenge, round_no, which) if status == 200 else None
            gate.wait()  # the four answers leave together
            if frames is None:
                answers[which].append((status, challenge))
                continue
            status, body, _ = call(gunicorn, "POST", f"/api/proctor/checks/{check_id}/attempts",
                                   {"nonce": challenge["nonce"], "frames": frames}, cookie)
            answers[which].append((status, body))

    threads = [threading.Thread(target=answer_rounds, args=(which,)) for which in range(ANSWERERS)]
    try:
        [thread.start() for thread in threads]
        [thread.join() for thread in threads]
    finally:
        stop.set()
        beating.join()

    log = gunicorn.log_text()
    unanswered = [(which, n, a) for which, rows in enumerate(answers) for n, a in enumerate(rows) if a[0] != 200]
    assert not unanswered, f"{unanswered[:5]}\n{log[-3000:]}"
    assert [len(rows) for rows in answers] == [ROUNDS] * ANSWERERS
    assert {body["status"] for rows in answers for _, body in rows} == {"retry"}, answers
    assert gunicorn.process.poll() is None and workers_of(gunicorn.process.pid) == gunicorn.workers, log[-3000:]
    assert not [line for line in log.splitlines() if any(sign in line for sign in CRASH_SIGNS)], log[-3000:]
    assert beats and not [beat for beat in beats if beat[0] != 200], [beat for beat in beats if beat[0] != 200][:5]
    # Each check recorded exactly the tries asked for, every challenge answered once, and it is still open.
    db.session.expire_all()
    for check_id in check_ids:
        check = db.session.get(FaceCheck, check_id)
        assert (check.status, check.attempts) == (OPEN, ROUNDS)
        tried = db.session.scalars(select(FaceCheckAttempt).where(FaceCheckAttempt.check_id == check_id)).all()
        assert len(tried) == ROUNDS and {attempt.outcome for attempt in tried} == {"fail"}
        assert len({attempt.challenge_id for attempt in tried}) == ROUNDS
        assert db.session.scalar(select(func.count()).select_from(FaceChallenge).where(
            FaceChallenge.check_id == check_id, FaceChallenge.answered_at.is_(None))) == 0
