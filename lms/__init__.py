"""Online safety-training platform: app factory."""
import importlib
import os
from datetime import timedelta

from flask import Flask, flash, has_request_context, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from .core.clock import utcnow
from .core.crypto import KeyConfigError, cipher_from_config
from .extensions import babel, csrf, db, limiter, login_manager, migrate, tune_sqlite

BLUEPRINT_MODULES = (
    "accounts", "learners", "institutions", "catalogue", "audit", "admin",
    "player", "proctor", "quiz", "hours",
)
LAST_SEEN_RESOLUTION = 30  # seconds
_MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    """Build the app from config/default.py, config/<name>.py, instance/config.py,
    LMS_* environment variables and explicit overrides, in that order."""
    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.environ.get("LMS_INSTANCE_PATH") or None)
    app.config.from_object("config.default")
    config_name = config_name or os.environ.get("LMS_CONFIG")
    if config_name:
        app.config.from_object(f"config.{config_name}")
    app.config.from_pyfile("config.py", silent=True)
    _load_environment(app)
    app.config.update(overrides or {})
    _check_secrets(app)

    if app.config["LMS_TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["LMS_TRUSTED_PROXIES"],
                                x_proto=app.config["LMS_TRUSTED_PROXIES"])
    db.init_app(app)
    with app.app_context():
        tune_sqlite(db.engine)
    migrate.init_app(app, db, directory=_MIGRATIONS, render_as_batch=True)
    from .core import inputs
    inputs.register(app)  # before CSRF: its hook reads the form, which needs the upload limit and the checks
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    from .core.ratelimit import choose_storage
    choose_storage(app)  # Redis where it answers, so that every worker shares one counter
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    # "basic", not "strong": phones switch between Wi-Fi and mobile data, changing IP mid-study.
    login_manager.session_protection = "basic"

    for name in BLUEPRINT_MODULES:
        views = importlib.import_module(f".{name}.views", __name__)
        for module in views.MODULES:  # each registers its routes on views.bp (see README, "Layout")
            importlib.import_module(module, views.__name__)
        app.register_blueprint(views.bp)
        package = importlib.import_module(f".{name}", __name__)
        if hasattr(package, "init_app"):  # wiring such as signal receivers, never an import side effect
            package.init_app(app)

    from . import cli, errors, templating
    errors.register(app)
    templating.register(app)
    cli.register(app)
    app.before_request(_expire_idle_session)
    app.after_request(_security_headers)
    return app


def _security_headers(response):
    from .core.headers import secure
    return secure(response)


def _load_environment(app: Flask) -> None:
    env_map = {"LMS_DATABASE_URL": "SQLALCHEMY_DATABASE_URI", "LMS_SECRET_KEY": "SECRET_KEY",
               "LMS_MEDIA_ROOT": "MEDIA_ROOT"}
    for env_name, key in env_map.items():
        if os.environ.get(env_name):
            app.config[key] = os.environ[env_name]
    for key in ("LMS_DATA_KEYS", "LMS_ACTIVE_KEY_ID", "LMS_HMAC_KEY"):
        if os.environ.get(key):
            app.config[key] = os.environ[key]


def _check_secrets(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        raise KeyConfigError("SECRET_KEY is not set (environment LMS_SECRET_KEY or instance/config.py)")
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        raise KeyConfigError("no database configured (LMS_DATABASE_URL)")
    app.extensions["lms_cipher"] = cipher_from_config(app.config)
    from .proctor.decisions import policy_from_config
    policy_from_config(app.config)  # refuses a face-check interval above 15 minutes


def _select_locale() -> str:
    if not has_request_context():  # a CLI command or the worker: the default language
        return _locales()[0]
    wanted = request.args.get("lang")
    if wanted in _locales():
        session["lang"] = wanted
    return session.get("lang") or _locales()[0]


def _locales():
    from flask import current_app
    return current_app.config["LMS_LOCALES"]


def _expire_idle_session():
    """Sign out a session that has been idle longer than the configured time. The cookie's
    last_seen and the server-side session record each tell; the record is what a copied
    cookie cannot turn back."""
    from flask import current_app

    from .accounts.views import sign_in as accounts
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = utcnow()
    idle = timedelta(minutes=current_app.config["LMS_SESSION_IDLE_MINUTES"])
    last_seen = session.get("last_seen")
    session.permanent = True
    cookie_idle = last_seen is not None and now.timestamp() - last_seen > idle.total_seconds()
    if cookie_idle or accounts.server_side_idle_seconds(now) > idle.total_seconds():
        from .accounts.services import SESSION_IDLE
        from .audit.services import record
        from .core.context import current_actor
        record(current_actor(), "session_timeout", now)
        accounts.end_current_session(now, SESSION_IDLE)
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("Your session timed out after a period of inactivity. Please sign in again."), "warning")
        return redirect(url_for("accounts.login", next=request.path))
    if last_seen is None or now.timestamp() - last_seen > LAST_SEEN_RESOLUTION:
        session["last_seen"] = now.timestamp()  # not every request: each change re-signs the cookie
    accounts.note_session_activity(now, LAST_SEEN_RESOLUTION)  # likewise one database write per interval
    return None
