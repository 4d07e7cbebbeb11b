"""Read-only views of the operation log: filter and export. No edit or delete exists."""
from datetime import date, datetime, time, timedelta, timezone

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..core.access import role_required
from ..core.clock import CHINA_TZ, utcnow
from ..core.context import current_actor
from ..core.inputs import BadInput, page_number
from ..core.roles import ADMIN, REGULATOR, STAFF
from ..extensions import db
from ..templating import local_time
from . import services
from .models import AuditLog

bp = Blueprint("audit", __name__, template_folder="templates")
PAGE_SIZE = 100
EXPORT_LIMIT = 50000
FILTER_DAYS = (date(1900, 1, 1), date(2099, 12, 31))  # far from datetime's limits, which a time zone shift crosses


def _parse_day(value: str | None, end: bool = False):
    """A China-local date from the filter form, as the naive-UTC bound of that day."""
    try:
        day = datetime.strptime(value or "", "%Y-%m-%d").date()
    except ValueError:
        return None
    if not FILTER_DAYS[0] <= day <= FILTER_DAYS[1]:
        raise BadInput(_("Dates must lie between %(first)s and %(last)s.", first=FILTER_DAYS[0], last=FILTER_DAYS[1]))
    local = datetime.combine(day + timedelta(days=1) if end else day, time.min, CHINA_TZ)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def _filters():
    return dict(action=request.args.get("action") or None, result=request.args.get("result") or None,
                start=_parse_day(request.args.get("start")), end=_parse_day(request.args.get("end"), end=True),
                text=(request.args.get("q") or "").strip()[:64] or None)


@bp.route("/audit")
@role_required(STAFF, REGULATOR, ADMIN)
def log():
    page = page_number()
    query = services.filtered_query(current_user, **_filters())
    rows = list(db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)))
    actions = sorted(db.session.scalars(select(AuditLog.action).distinct()))
    return render_template("audit/log.html", rows=rows[:PAGE_SIZE], has_next=len(rows) > PAGE_SIZE,
                           page=page, actions=actions, args=request.args, detail=services.display_detail)


@bp.route("/audit/export.csv")
@role_required(STAFF, REGULATOR, ADMIN)
def export():
    query = services.filtered_query(current_user, **_filters()).limit(EXPORT_LIMIT)
    rows = list(db.session.scalars(query))
    headers = [_("Time"), _("User"), _("Role"), _("IP address"), _("User agent"), _("Action"),
               _("Target"), _("Result"), _("Detail")]
    body = services.export_csv(rows, headers, lambda at: local_time(at, "yyyy-MM-dd HH:mm:ss"))
    services.record(current_actor(), "audit_export", utcnow(), detail=str(len(rows)))
    db.session.commit()
    filename = f"audit-{utcnow():%Y%m%d%H%M%S}.csv"
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})
