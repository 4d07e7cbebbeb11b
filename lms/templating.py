"""Jinja filters and globals shared by every template."""
from datetime import timezone

from flask_babel import format_date, format_datetime, get_locale

from .core.clock import CHINA_TZ
from .core.labels import attempt_source, label
from .core.permissions import can


def local_time(value, fmt="yyyy-MM-dd HH:mm"):
    if value is None:
        return ""
    return format_datetime(value.replace(tzinfo=timezone.utc), fmt)


def local_date(value):
    return "" if value is None else format_date(value, "yyyy-MM-dd")


def html_lang() -> str:
    locale = get_locale()
    return "zh-CN" if locale is None or locale.language == "zh" else locale.language


def register(app):
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.globals["label"] = label
    app.jinja_env.globals["attempt_source"] = attempt_source
    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["china_tz"] = CHINA_TZ
