"""gunicorn.conf.py's lanes: the small API requests of open lessons run one at a time per worker, apart from
face answers (issue 21: p99 19.6 s while answers held every application thread) and from pages, exports and
uploads, so neither a judged answer nor a long page ever holds a heartbeat back (issue 22)."""
import importlib.util
import threading

from .photos import ROOT


def _conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _lanes(conf, api=1, pages=2):
    return conf.Lanes(conf._gate(api), conf._gate(pages), conf._gate(conf.FACE_THREADS))


def request(path, length=None, chunked=False):
    environ = {"PATH_INFO": path}
    if length is not None:
        environ["CONTENT_LENGTH"] = str(length)
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    return environ


def test_a_request_goes_to_its_lane_by_path_and_declared_body_size():
    conf = _conf()
    lanes = _lanes(conf)
    assert lanes.of(request("/api/player/heartbeat", 300)) is lanes.api
    assert lanes.of(request("/api/ping")) is lanes.api
    assert lanes.of(request("/api/proctor/checks/7/attempts", 900_000)) is lanes.face
    assert lanes.of(request("/api/proctor/checks/7/challenges", 40)) is lanes.api
    assert lanes.of(request("/study/lessons/3")) is lanes.pages
    assert lanes.of(request("/api/uploads", conf.SMALL_BODY + 1)) is lanes.pages     # an upload, however named
    assert lanes.of(request("/api/uploads", chunked=True)) is lanes.pages          # a body of unknown length
    assert lanes.of(request("/api/player/heartbeat", "x")) is lanes.pages       # a length that is not a number


def test_a_heartbeat_is_served_while_a_face_answer_and_a_long_page_run_and_a_second_answer_waits():
    conf = _conf()
    release, started = threading.Event(), []
    served = []

    def app(environ, start_response):
        served.append(environ["PATH_INFO"])
        if not environ["PATH_INFO"].startswith("/api/player"):
            started.append(environ["PATH_INFO"])
            release.wait(10)
        return [b""]

    gated = conf._limit_concurrency(app, _lanes(conf))
    slow = [threading.Thread(target=gated, args=(request(path), None))
            for path in ("/api/proctor/checks/1/attempts", "/staff/exports/certificates")]
    for thread in slow:
        thread.start()
    for _ in range(100):
        if len(started) == 2:
            break
        threading.Event().wait(0.1)
    assert len(started) == 2
    second = threading.Thread(target=gated, args=(request("/api/proctor/checks/2/attempts"), None))
    second.start()
    heartbeat = threading.Thread(target=gated, args=(request("/api/player/heartbeat", 300), None))
    heartbeat.start()
    heartbeat.join(10)
    assert not heartbeat.is_alive() and served[-1] == "/api/player/heartbeat"
    assert "/api/proctor/checks/2/attempts" not in served   # one face answer at a time per worker
    release.set()
    for thread in (*slow, second):
        thread.join(10)
    assert served[-1] == "/api/proctor/checks/2/attempts"   # the second answer ran once the first was done


def _most_at_once(lanes, count=4, together=None) -> int:
    """How many of ``count`` pings were inside the app at once; ``together`` (a Barrier) makes each wait for
    the others, which only an unlimited lane lets them do."""
    inside, most, lock = [0], [0], threading.Lock()

    def app(environ, start_response):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        if together is not None:
            together.wait()
        else:
            threading.Event().wait(0.05)
        with lock:
            inside[0] -= 1
        return [b""]

    gated = _conf()._limit_concurrency(app, lanes)
    threads = [threading.Thread(target=gated, args=(request("/api/ping"), None)) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return most[0]


def test_api_requests_run_one_at_a_time_and_a_limit_of_zero_removes_the_lane():
    conf = _conf()
    assert _most_at_once(_lanes(conf, api=1)) == 1
    assert _most_at_once(_lanes(conf, api=0), together=threading.Barrier(4, timeout=10)) == 4
