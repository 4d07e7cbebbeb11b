"""What a request may carry, checked before any view runs.

Ids in URLs must fit the database's integer columns, no text may hold NUL or other control
characters (PostgreSQL refuses NUL in text), a JSON body must be an object nested at most
MAX_JSON_DEPTH levels deep, a request to the JSON API (/api/... or /<prefix>/api/...) may carry at most LMS_MAX_JSON_BYTES,
and only views marked with ``large_body`` accept more than that or MAX_CONTENT_LENGTH. Anything else
gets a 400, 404 or 413 with a clear message (a JSON body under /api/, lms/errors.py) instead of an
error deep in the JSON decoder or the database driver.
"""
import re

from flask import Flask, abort, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

MAX_ID = 2 ** 31 - 1            # integer primary keys are 32-bit on PostgreSQL
MAX_PAGE = 100_000              # beyond any real listing; keeps OFFSET far from 64-bit overflow
FORM_OVERHEAD = 1024 * 1024     # room for the form fields sent along with a large file
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab, LF and CR are text
MAX_JSON_DEPTH = 20             # nested arrays and objects: the pages' bodies and the session cookie need 4 at most
API_SEGMENT = "api"            # JSON endpoints: LMS_MAX_JSON_BYTES unless the view is a ``large_body``


def is_api_path(path: str) -> bool:
    """A request to the JSON API, /api/... or a blueprint's /<prefix>/api/...: it gets JSON error
    bodies and the JSON size limit."""
    return API_SEGMENT in path.split("/", 3)[1:3]


def wants_json() -> bool:
    """The caller reads JSON, so an error is answered with the JSON error body: an API path, a JSON
    request body (a page's script posting an answer) or an Accept header that prefers JSON."""
    return (is_api_path(request.path) or request.is_json
            or request.accept_mimetypes.best == "application/json")

MESSAGES = {
    "control": _l("The request contains characters that are not allowed (such as a NUL byte)."),
    "json": _l("The request body must be a JSON object."),
}


class BadInput(BadRequest):
    """A 400 that tells the user what was wrong; lms/errors.py shows ``user_message``."""

    def __init__(self, message):
        super().__init__()
        self.user_message = message


class IdConverter(IntegerConverter):
    """Replaces ``int`` in every route: only 1 .. 2**31-1 matches, so a zero, negative or huge id
    is a plain 404 instead of an overflow in SQLite (64 bits) or PostgreSQL (32 bits).
    A route can still widen the range, e.g. ``<int(max=4102444800):expires>``."""

    def __init__(self, url_map, fixed_digits=0, min=1, max=MAX_ID):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max)


class CappedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that ``loads`` refuses a document nested deeper than MAX_JSON_DEPTH,
    or deeper than the decoder can follow at all (RecursionError), with a ValueError: to Flask
    that is invalid JSON, so ``request.get_json(silent=True)`` gives None and ``get_json()`` a 400."""

    max_depth = MAX_JSON_DEPTH

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if json_depth(value) > self.max_depth:
            raise ValueError(f"JSON nested deeper than {self.max_depth} levels")
        return value


def json_depth(value) -> int:
    """How many arrays and objects are nested in a decoded JSON value (a scalar is 0, ``{}`` 1).
    Iterative: the value may be as deep as the decoder's own limit."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, depth)
        stack += [(child, depth + 1) for child in item if isinstance(child, (dict, list))]
    return deepest


def as_id(value) -> int | None:
    """An id from a JSON body: an int (not a bool) that fits the id columns, else None."""
    return value if type(value) is int and 1 <= value <= MAX_ID else None


def page_number(name: str = "page") -> int:
    """The page asked for in the query string: 1 when missing or below 1, a 404 beyond MAX_PAGE."""
    page = max(request.args.get(name, 1, type=int), 1)
    if page > MAX_PAGE:
        abort(404)
    return page


def large_body(config_key: str, overhead: int = FORM_OVERHEAD):
    """Mark a view that accepts a request body up to ``app.config[config_key]`` plus ``overhead``
    (by default room for the form fields sent along with a file; 0 for a JSON body)."""
    def mark(view):
        view.max_body_config = config_key
        view.max_body_overhead = overhead
        return view
    return mark


def register(app: Flask) -> None:
    """Install the converter, the JSON decoder's depth cap and the checks. Call before
    CSRFProtect.init_app: its hook reads the form, and must read it with the limits and checks
    already in place."""
    app.json = CappedJSONProvider(app)
    app.url_map.converters["int"] = IdConverter
    app.before_request(_set_body_limit)
    app.before_request(_refuse_control_characters)
    app.before_request(_require_json_object)


def _set_body_limit():
    """A ``large_body`` view's own limit; LMS_MAX_JSON_BYTES for the rest of the JSON API (heartbeats
    are a few hundred bytes); MAX_CONTENT_LENGTH for everything else. Werkzeug answers a larger body
    with a 413 before reading it. Here, not in the view: CSRFProtect reads the form before the view
    runs, under the limit then set."""
    view = current_app.view_functions.get(request.endpoint)
    key = getattr(view, "max_body_config", None)
    if key:
        request.max_content_length = current_app.config[key] + getattr(view, "max_body_overhead", FORM_OVERHEAD)
    elif is_api_path(request.path):
        request.max_content_length = current_app.config["LMS_MAX_JSON_BYTES"]


FORM_TYPES = frozenset(("application/x-www-form-urlencoded", "multipart/form-data"))


def _refuse_control_characters():
    texts = [request.path, request.headers.get("User-Agent", "")]
    # Only what the request has: parsing an empty query string or form still costs (this runs on every request).
    sources = ([request.args] if request.query_string else []) + \
        ([request.form] if request.mimetype in FORM_TYPES else [])
    for values in sources:
        texts += [text for key, value in values.items(multi=True) for text in (key, value)]
    if request.mimetype == "multipart/form-data":
        texts += [storage.filename or "" for _, storage in request.files.items(multi=True)]
    if any(CONTROL_CHARACTERS.search(text) for text in texts) or _json_has_control_characters():
        raise BadInput(MESSAGES["control"])


def _json_has_control_characters() -> bool:
    stack = [_json_body()]
    while stack:  # iterative, like json_depth
        item = stack.pop()
        if isinstance(item, str):
            if CONTROL_CHARACTERS.search(item):
                return True
        elif isinstance(item, dict):
            stack += list(item.keys()) + list(item.values())
        elif isinstance(item, list):
            stack += item
    return False


def _require_json_object():
    """Every JSON endpoint here takes an object; Flask-WTF, too, turns a JSON body into form data."""
    if request.is_json and request.get_data() and not isinstance(_json_body(), dict):
        raise BadInput(MESSAGES["json"])


def _json_body():
    """The decoded body; None when it is not JSON, is invalid or nests too deep (CappedJSONProvider)."""
    return request.get_json(silent=True) if request.is_json else None
