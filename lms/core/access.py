"""Role checks for views, and loading a row that the signed-in user may see."""
from functools import wraps
from typing import Callable, TypeVar

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from ..extensions import db
from .errors import ApiError
from .roles import LEARNER

Row = TypeVar("Row")


def role_required(*roles):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def learner_api(view):
    """JSON endpoints for signed-in learners: anyone else gets a JSON 403, not a login redirect."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or current_user.role != LEARNER:
            raise ApiError(403, "forbidden", _("Please sign in as a learner."))
        return view(*args, **kwargs)
    return wrapped


def row_or_404(model: type[Row], row_id, *may_see: Callable, message: str | None = None) -> Row:
    """The ``model`` row with ``row_id`` if it exists and every ``may_see(current_user, row)`` holds.
    Otherwise a 404, the same answer as for an id that does not exist, so that nobody learns which
    ids exist among the rows they may not see; ``message`` says what was not found (the page, or
    the JSON error body for an API caller)."""
    row = db.session.get(model, row_id) if row_id is not None else None
    if row is None or not all(check(current_user, row) for check in may_see):
        not_found(message)
    return row


def not_found(message: str | None = None):
    """A 404 that says what was not found (lms/errors.py shows ``user_message``)."""
    error = NotFound()
    error.user_message = message and str(message)
    raise error


def found_or_404(value: Row | None) -> Row:
    """``value`` unless it is None (a learner profile, a stored file, a frame that is not there)."""
    if value is None:
        not_found()
    return value
