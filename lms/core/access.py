"""Role checks for views."""
from functools import wraps

from flask import abort, jsonify
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .roles import LEARNER


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
            return jsonify(error=_("Please sign in as a learner."), code="forbidden"), 403
        return view(*args, **kwargs)
    return wrapped
