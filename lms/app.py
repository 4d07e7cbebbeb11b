"""The app factory: configuration, extensions, blueprints and the per-request hooks."""
import functools
import importlib
import os

from babel import Locale
from flask import Flask, has_request_context, request, session

from .accounts import sessions
from .core.crypto import KeyConfigError, cipher_from_config
from .extensions import babel, csrf, db, limiter, login_manager, migrate, ping_idle_connections, tune_sqlite

BLUEPRINT_MODULES = (
    "accounts", "learners", "registration", "institutions", "catalogue", "audit", "admin",
    "player", "proctor", "quiz", "hours",
)
_MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    """Build the app from config/default.py, config/<name>.py, instance/config.py,
    LMS_* environment variables and explicit overrides, in that order."""
    # "lms", not __name__: the root path (lms/templates, lms/static) is the package, not this module
    app = Flask("lms", instance_relative_config=True,
                instance_path=os.environ.get(INSTANCE_PATH_VARIABLE) or None)
    app.config.from_object("config.default")
    config_name = config_name or os.environ.get(CONFIG_VARIABLE)
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
        ping_idle_connections(db.engine)
    migrate.init_app(app, db, directory=_MIGRATIONS, render_as_batch=True)
    from .core import inputs
    inputs.register(app)  # before CSRF: its hook reads the form, which needs the upload limit and the checks
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    from .core.ratelimit import choose_storage, limit_in_views_only
    choose_storage(app)  # Redis where it answers, so that every worker shares one counter
    limiter.init_app(app)
    limit_in_views_only(app, limiter)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    # "basic", not "strong": phones switch between Wi-Fi and mobile data, changing IP mid-study.
    login_manager.session_protection = "basic"
    login_manager.user_loader(sessions.load_user)

    for name in BLUEPRINT_MODULES:
        views = importlib.import_module(f"lms.{name}.views")
        for module in views.MODULES:  # each registers its routes on views.bp (see README, "Layout")
            importlib.import_module(module, views.__name__)
        app.register_blueprint(views.bp)
        package = importlib.import_module(f"lms.{name}")
        if hasattr(package, "init_app"):  # wiring such as signal receivers, never an import side effect
            package.init_app(app)

    from . import cli, errors, templating
    errors.register(app)
    templating.register(app)
    cli.register(app)
    app.before_request(sessions.expire_idle_session)
    app.after_request(_security_headers)
    return app


def _security_headers(response):
    from .core.headers import secure
    return secure(response)


def _text_or_none(value: str) -> str | None:
    return value or None


# Every environment variable the app reads, in this one place: variable -> (config key, how its text is read).
# They override config/*.py and instance/config.py. An empty value is ignored, except where reading it as
# "none" switches an optional setting off (LMS_HSTS= sends no HSTS header). The README lists them.
ENVIRONMENT = {
    "LMS_SECRET_KEY": ("SECRET_KEY", str),
    "LMS_DATA_KEYS": ("LMS_DATA_KEYS", str),
    "LMS_ACTIVE_KEY_ID": ("LMS_ACTIVE_KEY_ID", str),
    "LMS_HMAC_KEY": ("LMS_HMAC_KEY", str),
    "LMS_DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "LMS_MEDIA_ROOT": ("MEDIA_ROOT", str),
    "LMS_PUBLIC_URL": ("LMS_PUBLIC_URL", str),
    "LMS_RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "LMS_TRUSTED_PROXIES": ("LMS_TRUSTED_PROXIES", int),
    "LMS_X_ACCEL_PREFIX": ("LMS_X_ACCEL_PREFIX", _text_or_none),
    "LMS_HSTS": ("LMS_HSTS", _text_or_none),
}
# Read before any configuration, to find it.
CONFIG_VARIABLE, INSTANCE_PATH_VARIABLE = "LMS_CONFIG", "LMS_INSTANCE_PATH"


def _load_environment(app: Flask, environ=os.environ) -> None:
    for variable, (key, read) in ENVIRONMENT.items():
        value = environ.get(variable)
        if value is not None and (value or read is _text_or_none):
            app.config[key] = read(value)


def _check_secrets(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        raise KeyConfigError("SECRET_KEY is not set (environment LMS_SECRET_KEY or instance/config.py)")
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        raise KeyConfigError("no database configured (LMS_DATABASE_URL)")
    app.extensions["lms_cipher"] = cipher_from_config(app.config)
    from .proctor.decisions import policy_from_config
    policy_from_config(app.config)  # refuses a face-check interval above 15 minutes


def _select_locale() -> Locale:
    if not has_request_context():  # a CLI command or the worker: the default language
        return _parsed_locale(_locales()[0])
    wanted = request.args.get("lang")
    if wanted in _locales():
        session["lang"] = wanted
    return _parsed_locale(session.get("lang") or _locales()[0])


@functools.cache
def _parsed_locale(code: str) -> Locale:
    """Flask-Babel parses a locale name on every request that translates anything; a Locale passes
    through its parse unchanged, so each of the few names is parsed once (issue 22)."""
    return Locale.parse(code)


def _locales():
    from flask import current_app
    return current_app.config["LMS_LOCALES"]

