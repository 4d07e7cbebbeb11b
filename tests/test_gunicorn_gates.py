"""gunicorn.conf.py's gates: face answers never hold every application thread of a worker, so a heartbeat
arriving while answers are judged is served at once (issue 21: p99 19.6 s before)."""
import importlib.util
import threading

from .photos import ROOT


def _conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_heartbeat_is_served_while_a_face_answer_holds_one_of_two_threads_and_a_second_answer_waits():
    conf = _conf()
    release, started = threading.Event(), threading.Event()
    served = []

    def app(environ, start_response):
        served.append(environ["PATH_INFO"])
        if environ["PATH_INFO"].endswith("/attempts"):
            started.set()
            release.wait(10)
        return [b""]

    gated = conf._limit_concurrency(app, threading.BoundedSemaphore(2), threading.BoundedSemaphore(1))
    answers = [threading.Thread(target=gated, args=({"PATH_INFO": f"/api/proctor/checks/{n}/attempts"}, None))
               for n in (1, 2)]
    answers[0].start()
    assert started.wait(10)
    answers[1].start()
    heartbeat = threading.Thread(target=gated, args=({"PATH_INFO": "/api/player/heartbeat"}, None))
    heartbeat.start()
    heartbeat.join(10)
    assert not heartbeat.is_alive() and served == ["/api/proctor/checks/1/attempts", "/api/player/heartbeat"]
    release.set()
    for thread in answers:
        thread.join(10)
    assert served[-1] == "/api/proctor/checks/2/attempts"   # the second answer ran once the first was done
