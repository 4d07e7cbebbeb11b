"""Error pages in the user's language; JSON bodies for API calls.

Every JSON error has one shape, ``{"error": message, "code": code}`` (README, "JSON errors"): the
HTTP errors below, and ``ApiError``, which a JSON view raises to refuse (status, code, message and
any extra fields its page reads)."""
from flask import jsonify, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from .core.errors import ApiError
from .core.inputs import wants_json
from .extensions import db

MESSAGES = {
    400: lambda: _("The request could not be understood."),
    403: lambda: _("You do not have permission to see this page."),
    404: lambda: _("The page does not exist or is not visible to you."),
    405: lambda: _("This action is not allowed here."),
    413: lambda: _("The upload is too large. Please choose smaller files."),
    429: lambda: _("Too many attempts. Please wait a moment and try again."),
    500: lambda: _("Something went wrong on our side. Nothing was saved; please try again."),
}
# API callers send JSON, not files: their 413 says so.
JSON_MESSAGES = {
    413: lambda: _("The request is too large to be accepted."),
}
# The "code" of the JSON error body for each HTTP error (ApiError carries its own).
CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "not_allowed", 413: "too_large",
         429: "too_many_requests", 500: "server_error"}


def json_error(status: int, code: str, message: str, /, **extra):
    """The platform's one JSON error response."""
    return jsonify(error=str(message), code=code, **extra), status


def _render(status: int, message: str, code: str | None = None):
    if wants_json():
        return json_error(status, code or CODES[status], message)
    return render_template("error.html", status=status, message=message), status


def register(app):
    for status, message in MESSAGES.items():
        def handler(error, status=status, message=message):
            if status == 500:
                db.session.rollback()
            if status in JSON_MESSAGES and wants_json():
                message = JSON_MESSAGES[status]
            return _render(status, str(getattr(error, "user_message", None) or message()))
        app.register_error_handler(status, handler)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _render(400, _("The form has expired or was not sent from this site. Please reload the page and try again."),
                       "csrf")

    @app.errorhandler(ApiError)
    def api_error(error):
        return json_error(error.status, error.code, error.message, **error.extra)
