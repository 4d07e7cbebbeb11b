"""Hostile input never causes a 5xx: every route, every role, odd ids, NUL bytes, odd dates, huge pages,
JSON bodies that are not objects. Runs on SQLite and on PostgreSQL (LMS_TEST_DATABASE_URL)."""
import re
import traceback
from html.parser import HTMLParser
from urllib.parse import quote, urljoin, urlsplit

import pytest
from werkzeug.routing import IntegerConverter

from .conftest import make_video, ready_course, signed_in

HUGE = 10 ** 30
PATH_INTS = (2 ** 31, 2 ** 63, 0)  # beyond PostgreSQL's integer, beyond SQLite's, no id at all
# Each request carries one of these in every query parameter and form field at once.
VALUES = {
    "nul": "a\x00b",
    "huge": str(HUGE),
    "int32": str(2 ** 31),
    "negative": "-1",
    "date_low": "0001-01-01",
    "date_high": "9999-12-31",
}
QUERY_NAMES = ("page", "start", "end", "q", "status", "kind", "next", "action", "result", "lang", "id")
JSON_BODIES = ('"x"', "5", "[]", "[" * 100000 + "]" * 100000)
JSON_IDS = {"lesson_id": HUGE, "check_id": HUGE, "playback": "a\x00b", "seq": HUGE, "position": 1e308,
            "playing": True, "visible": True, "focused": True, "rate": 1, "frames": ["a\x00b"], "nonce": "a\x00b",
            "camera": True}
FORM_NAME = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')
ROLES = ("anonymous", "learner", "staff", "regulator", "admin")
SIGN_OUT = ("accounts.logout", "accounts.sign_out_everywhere")  # walked last, so that the role keeps its session
# What a person types into a required field of each input type.
TYPED = {"date": "2026-06-01", "number": "1", "password": "Study#2026ok", "text": "测试内容一二", "textarea": "测试内容一二"}


@pytest.fixture()
def world(app, db, staff, regulator, admin, open_class, approved_learner, tmp_path):
    """Something behind most ids: an institution, a class with an approved learner, a ready course."""
    video = make_video(tmp_path / "tiny.mp4", 1, size="160x120", audio=False)
    ready_course(db, staff, open_class, [video])
    return {"anonymous": None, "learner": approved_learner.id_number, "staff": staff.username,
            "regulator": regulator.username, "admin": admin.username}


def _rules(app):
    """Every route but static files; signing out last."""
    rules = [r for r in app.url_map.iter_rules() if not r.endpoint.endswith("static")]
    return sorted(rules, key=lambda r: (r.endpoint in SIGN_OUT, r.rule))


class PostForms(HTMLParser):
    """A page's POST forms filled in as a hurried person would: the required fields only, selects
    left at their first choice, hidden fields as they are. Optional fields are then missing."""

    def __init__(self, page_url):
        super().__init__()
        self.page_url, self.forms, self.select = page_url, [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append((urljoin(self.page_url, attrs.get("action") or ""),
                               (attrs.get("method") or "get").lower(), {}))
        elif not self.forms or self.forms[-1][1] != "post":
            return
        elif tag == "select":
            self.select = attrs.get("name")
        elif tag == "option" and self.select and attrs.get("value"):
            self.forms[-1][2].setdefault(self.select, attrs["value"])
        elif tag in ("input", "textarea") and attrs.get("name"):
            kind = attrs.get("type", tag)
            if kind == "hidden" or (kind in ("checkbox", "radio") and ("checked" in attrs or "required" in attrs)):
                self.forms[-1][2].setdefault(attrs["name"], attrs.get("value", "y"))
            elif "required" in attrs and kind in TYPED:
                self.forms[-1][2][attrs["name"]] = TYPED[kind]

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None

    def posts(self):
        return [(urlsplit(action).path, fields) for action, method, fields in self.forms if method == "post"]


def _int_arguments(rule):
    return {name for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)}


def _path(rule, number, text="x"):
    """The rule's URL with every int argument set to ``number`` and every other one to ``text``."""
    values = {name: number if name in _int_arguments(rule) else text for name in rule.arguments}
    url = rule.rule
    for name, value in values.items():
        url = re.sub(r"<[^>]*\b%s>" % name, quote(str(value), safe=""), url)
    return url


class Walker:
    """Sends one role's hostile requests and keeps every server error, to report them all at once."""

    def __init__(self, client, role):
        self.client, self.role, self.failures, self.fields, self.plain = client, role, [], set(QUERY_NAMES), {}

    def send(self, method, url, label, **kwargs):
        try:
            response = self.client.open(url, method=method, **kwargs)
        except Exception as error:  # TESTING propagates what would have been a 500
            frame = traceback.extract_tb(error.__traceback__)[-1]
            self.failures.append(f"{self.role} {method} {url} [{label}]: {type(error).__name__}: "
                                 f"{str(error).splitlines()[0]:.150} at {frame.filename}:{frame.lineno}")
            return None
        if response.status_code >= 500:
            self.failures.append(f"{self.role} {method} {url} [{label}]: {response.status_code}")
        return response

    def walk(self, rules, url_map):
        forms = {}
        for rule in rules:  # first the plain pages, to learn every form and field there is
            if "GET" in rule.methods:
                url = _path(rule, 1)
                response = self.plain[rule.endpoint, "GET"] = self.send("GET", url, "plain")
                if response is not None and response.mimetype == "text/html":
                    self.fields.update(FORM_NAME.findall(response.get_data(as_text=True)))
                    parser = PostForms(url)
                    parser.feed(response.get_data(as_text=True))
                    forms.update({(action, tuple(sorted(fields))): fields for action, fields in parser.posts()})
        adapter = url_map.bind("localhost")
        for (action, _), fields in sorted(forms.items()):
            if adapter.match(action, method="POST")[0] not in SIGN_OUT:
                self.send("POST", action, "required fields only", data=fields)
        for rule in rules:
            for method in sorted(rule.methods & {"GET", "POST"}):
                self.walk_rule(rule, method)

    def walk_rule(self, rule, method):
        url = _path(rule, 1)
        plain = self.plain.get((rule.endpoint, method)) or self.send(method, url, "plain")
        if plain is not None and (plain.status_code in (401, 403) or "/login" in (plain.location or "")):
            return  # turned away at the door (role_required): nothing this role sends gets further
        if _int_arguments(rule):
            for number in PATH_INTS:
                self.send(method, _path(rule, number), "path")
        if rule.arguments - _int_arguments(rule):
            self.send(method, _path(rule, 1, "a\x00b"), "path text")
        for label, value in VALUES.items():
            query = {name: value for name in QUERY_NAMES}
            query["page"] = str(HUGE) if label == "int32" else value
            form = {name: value for name in self.fields} if method == "POST" else None
            headers = {"User-Agent": value} if label == "nul" else {}
            self.send(method, url, label, query_string=query, data=form, headers=headers)
        if method == "POST":
            for body in JSON_BODIES:
                self.send("POST", url, f"json {body[:10]}", data=body, content_type="application/json")
            self.send("POST", url, "json ids", json=JSON_IDS)


def test_hostile_input_never_causes_a_server_error(app, world):
    failures = []
    for role in ROLES:  # one world for all roles: building it is most of the cost
        walker = Walker(app.test_client() if world[role] is None else signed_in(app, world[role]), role)
        walker.walk(_rules(app), app.url_map)
        failures += walker.failures
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:80])


# --- each finding on its own ------------------------------------------------------------------------

NOT_ALLOWED = "请求中含有不允许的字符"


def test_ids_beyond_the_id_columns_are_not_found(app, world):
    staff = signed_in(app, world["staff"])
    assert staff.get("/courses/1").status_code == 200
    for number in (2 ** 31, 2 ** 63, HUGE, 0):
        assert staff.get(f"/courses/{number}").status_code == 404
    learner = signed_in(app, world["learner"])
    for path, body in (("attempts", {"nonce": "x", "frames": []}), ("challenges", {"camera": True})):
        response = learner.post(f"/api/proctor/checks/{2 ** 63}/{path}", json=body)
        assert response.status_code == 404 and response.get_json()["error"], path


def test_json_ids_beyond_the_id_columns_are_not_found(app, world):
    learner = signed_in(app, world["learner"])
    for lesson_id in (2 ** 31, 2 ** 63, HUGE, -1, 0, True, "1"):
        response = learner.post("/api/player/start", json={"lesson_id": lesson_id})
        assert response.status_code == 404 and response.get_json()["code"] == "not_found", lesson_id


def test_nul_and_control_characters_are_refused_with_a_clear_400(client, db):
    for data in ({"identifier": "admin\x00", "password": "x"}, {"identifier": "admin", "password": "x\x1b"}):
        response = client.post("/login", data=data)
        assert response.status_code == 400 and NOT_ALLOWED in response.get_data(as_text=True)
    assert client.get("/login?next=/%00").status_code == 400
    assert client.post("/login", data={"identifier": "admin", "password": "x"},
                       headers={"User-Agent": "Mozilla\x00"}).status_code == 400
    response = client.post("/api/player/heartbeat", json={"playback": "a\x00b"})
    assert response.status_code == 400 and NOT_ALLOWED in response.get_json()["error"]
    assert client.post("/login", data={"identifier": "王\t建国\r\n", "password": "x"}).status_code == 200  # text


def test_json_bodies_that_are_not_objects_get_a_json_400(app, world):
    learner = signed_in(app, world["learner"])
    # 60 KB nested 30000 deep: under LMS_MAX_JSON_BYTES (tests/test_json_limits.py: larger is a 413)
    for body in ('"x"', "5", "[]", "null", "[" * 30000 + "]" * 30000, "{not json"):
        response = learner.post("/api/player/start", data=body, content_type="application/json")
        assert response.status_code == 400 and "JSON" in response.get_json()["error"], body
    assert learner.post("/login", data="[]", content_type="application/json").status_code == 400  # forms too


def test_audit_dates_beyond_the_supported_range_are_a_clear_400(app, world):
    staff = signed_in(app, world["staff"])
    for query in ("start=0001-01-01", "end=9999-12-31", "start=1899-12-31", "end=2100-01-01"):
        for path in ("/audit", "/audit/export.csv"):
            response = staff.get(f"{path}?{query}")
            assert response.status_code == 400 and "日期须在 1900-01-01 至 2099-12-31 之间" in response.get_data(
                as_text=True), (path, query)
    assert staff.get("/audit?start=1900-01-01&end=2099-12-31").status_code == 200


def test_a_huge_audit_page_is_not_found(app, world):
    staff = signed_in(app, world["staff"])
    assert staff.get("/audit?page=2").status_code == 200
    for page in (HUGE, 2 ** 63, 2 ** 31):
        assert staff.get(f"/audit?page={page}").status_code == 404
