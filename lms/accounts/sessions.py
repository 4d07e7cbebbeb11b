"""The signed-in session on every request: Flask-Login's user loader and the idle gate.

Kept apart from the views so that the app factory's per-request hooks import no view module."""
from datetime import timedelta

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import logout_user

from ..audit.services import record
from ..core.clock import utcnow
from ..core.context import current_actor
from ..extensions import db
from . import services
from .models import User

# The Flask session keeps the secret of its server-side record (UserSession) under this key.
SESSION_SECRET = "sid"
LAST_SEEN_RESOLUTION = 30  # seconds


def current_principal() -> services.Principal | None:
    """This request's signed-in session (accounts.services.Principal), looked up once per request; None
    when the browser is not signed in or its session has ended."""
    if "principal" not in g:
        user_id, _, epoch = str(session.get("_user_id") or "").partition(":")
        try:
            g.principal = services.session_principal(int(user_id), int(epoch or 0), session.get(SESSION_SECRET))
        except ValueError:
            g.principal = None
    return g.principal


def _record_last_seen():
    """When the session record last noted activity, as read this request; None when not signed in."""
    principal = g.get("principal")
    return None if principal is None else principal.last_seen


def load_user(session_id: str):
    """Flask-Login's user loader, run when a view first uses current_user: the account of a session whose
    server-side record is open (not signed out, timed out or reset) and that was not signed out everywhere
    since it began."""
    principal = current_principal()
    if principal is None or session_id != session.get("_user_id"):
        return None
    return db.session.get(User, principal.user_id)


def end_current_session(now, reason: str) -> None:
    """Close this browser's session record (not committed: it lands with its log row)."""
    services.end_session(session.get(SESSION_SECRET), now, reason)


def note_session_activity(now, resolution_seconds: float) -> None:
    """Keep the record's last_seen_at within ``resolution_seconds`` of the truth: one write per
    that interval, not one per request."""
    last_seen = _record_last_seen()
    if last_seen is not None and (now - last_seen).total_seconds() > resolution_seconds:
        services.session_seen(session[SESSION_SECRET], now)
        db.session.commit()


def server_side_idle_seconds(now) -> float:
    """How long the session record has seen no request (as of its last noted activity)."""
    last_seen = _record_last_seen()
    return 0.0 if last_seen is None else (now - last_seen).total_seconds()


def expire_idle_session():
    """Sign out a session that has been idle longer than the configured time. The cookie's
    last_seen and the server-side session record each tell; the record is what a copied
    cookie cannot turn back."""
    if request.endpoint == "static" or current_principal() is None:
        return None
    now = utcnow()
    idle = timedelta(minutes=current_app.config["LMS_SESSION_IDLE_MINUTES"])
    last_seen = session.get("last_seen")
    if not session.permanent:  # setting it, even to the same value, would re-sign the cookie
        session.permanent = True
    cookie_idle = last_seen is not None and now.timestamp() - last_seen > idle.total_seconds()
    if cookie_idle or server_side_idle_seconds(now) > idle.total_seconds():
        record(current_actor(), "session_timeout", now)
        end_current_session(now, services.SESSION_IDLE)
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("Your session timed out after a period of inactivity. Please sign in again."), "warning")
        return redirect(url_for("accounts.login", next=request.path))
    if last_seen is None or now.timestamp() - last_seen > LAST_SEEN_RESOLUTION:
        session["last_seen"] = now.timestamp()  # not every request: each change re-signs the cookie
    note_session_activity(now, LAST_SEEN_RESOLUTION)  # likewise one database write per interval
    return None
