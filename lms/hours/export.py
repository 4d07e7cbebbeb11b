"""Certificates exported as a ZIP: one PDF per certificate and an XLSX summary of them all.

Staff export their institution's certificates, regulators those of their region, the admin any:
what a user may export is exactly what ``permissions.visible_certificates`` lets them see, chosen
by class or by the China date of issue. The summary is written in the platform's default language
(like the certificates themselves), whatever the language of the page that asked for it.
"""
import io
import re
import zipfile
from datetime import date, datetime, time, timedelta, timezone
from tempfile import SpooledTemporaryFile

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from sqlalchemy import select

from ..audit.services import record
from ..core.clock import CHINA_TZ, china_date
from ..core.cells import guard
from ..core.context import Actor
from ..core.errors import RuleViolation
from ..extensions import db

from . import pdf, permissions
from .certificates import facts_of
from .messages import REVOKED_HOW, STATUS
from .models import BY_STAFF, REVOKED, Certificate

MAX_RANGE_DAYS = 366                                    # a year, leap day included
DAY_BOUNDS = (date(2000, 1, 1), date(2099, 12, 31))     # far from datetime's limits, which the time zone shift crosses
SPOOL_BYTES = 32 * 1024 * 1024                          # a ZIP larger than this goes to a temporary file on disk
SUMMARY_NAME = "summary.xlsx"
ZIP_MIMETYPE = "application/zip"

EXPORT_ERRORS = {
    "dates_required": _l("Please choose a start date and an end date."),
    "bad_date": _l("Please enter the dates as YYYY-MM-DD, between 2000-01-01 and 2099-12-31."),
    "reversed": _l("The start date must not be after the end date."),
    "range_too_long": _l("A date range may cover at most %(days)s days. Please choose a shorter range."),
    "empty": _l("There are no certificates to export for this choice."),
    "too_many": _l("More than %(limit)s certificates match. Please choose a shorter date range or export by class."),
}


class ExportError(RuleViolation):
    """An export refused; ``code`` is a key of EXPORT_ERRORS."""


def export_error_text(error: ExportError) -> str:
    message = EXPORT_ERRORS.get(error.code)
    return str(message) % error.details if message is not None and error.details else str(message or error.code)


# --- choosing the certificates ----------------------------------------------------------------------

def parse_day(text: str | None) -> date:
    """A date from a form field (YYYY-MM-DD, as <input type=date> sends it); ExportError otherwise."""
    text = (text or "").strip()
    if not text:
        raise ExportError("dates_required")
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise ExportError("bad_date") from None
    if not DAY_BOUNDS[0] <= day <= DAY_BOUNDS[1]:
        raise ExportError("bad_date")
    return day


def utc_start_of(day: date) -> datetime:
    """The naive-UTC moment a China calendar day begins (issued_at is naive UTC)."""
    return datetime.combine(day, time.min, CHINA_TZ).astimezone(timezone.utc).replace(tzinfo=None)


def check_range(start: date | None, end: date | None) -> None:
    if start is None or end is None:
        raise ExportError("dates_required")
    if start > end:
        raise ExportError("reversed")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ExportError("range_too_long", days=MAX_RANGE_DAYS)


def certificates_for_export(user, *, class_id: int | None = None, start: date | None = None,
                            end: date | None = None) -> list[Certificate]:
    """The certificates ``user`` may export, of one class (optionally also by date) or issued on the
    China dates start..end (both included), oldest first. Revoked certificates are included (the
    summary says so). Refused: no class and no complete range, start after end, a range over
    MAX_RANGE_DAYS days, nothing found, or more than LMS_EXPORT_MAX_CERTIFICATES certificates."""
    query = select(Certificate).where(permissions.visible_certificates(user))
    if class_id is not None:
        query = query.where(Certificate.class_id == class_id)
    if class_id is None or start is not None or end is not None:
        check_range(start, end)
        query = query.where(Certificate.issued_at >= utc_start_of(start),
                            Certificate.issued_at < utc_start_of(end + timedelta(days=1)))
    limit = current_app.config["LMS_EXPORT_MAX_CERTIFICATES"]
    found = list(db.session.scalars(query.order_by(Certificate.issued_at, Certificate.id).limit(limit + 1)))
    if not found:
        raise ExportError("empty")
    if len(found) > limit:
        raise ExportError("too_many", limit=limit)
    return found


# --- the summary ---------------------------------------------------------------------------------------

def summary_headers() -> list[str]:
    # The summary's own headers have a message context (literal, for extraction): other pages' words may differ.
    return [pgettext("certificate summary", "Certificate number"), _("Status"), _("Name"),
            pgettext("certificate summary", "ID number (masked)"), _("Institution"), _("Class"), _("Training type"),
            _("Category"), pgettext("certificate summary", "Online hours credited"),
            pgettext("certificate summary", "Required online hours"),
            pgettext("certificate summary", "Courses (hours, test score)"),
            pgettext("certificate summary", "Issue date"), pgettext("certificate summary", "Revocation date"),
            pgettext("certificate summary", "Revocation reason")]


def _course_text(line) -> str:
    hours = pdf.hours_text(line.hours)
    if line.score is None:
        return _("%(title)s %(hours)s h", title=line.title, hours=hours)
    return _("%(title)s %(hours)s h, score %(score)s", title=line.title, hours=hours, score=line.score)


def _revocation_reason(certificate: Certificate) -> str:
    if certificate.status != REVOKED:
        return ""
    if certificate.revoked_how == BY_STAFF and certificate.revoke_reason:
        return certificate.revoke_reason
    return str(REVOKED_HOW.get(certificate.revoked_how or "", ""))


def summary_row(certificate: Certificate) -> list:
    """One certificate as the summary shows it: the facts it certifies (from its own signed payload)
    and what happened to it since (revocation)."""
    facts = facts_of(certificate)
    return [facts.number, str(STATUS.get(certificate.status, certificate.status)), facts.name, facts.masked_id,
            facts.institution, facts.class_title, facts.training_type, facts.category, facts.hours,
            facts.required_hours, "；".join(_course_text(line) for line in facts.courses),
            china_date(certificate.issued_at).isoformat(),
            china_date(certificate.revoked_at).isoformat() if certificate.revoked_at else "",
            _revocation_reason(certificate)]


def _cell(value):
    # Numbers stay numbers; every text goes through the formula-injection guard.
    return value if isinstance(value, int | float) else guard(str(value))


COLUMN_WIDTHS = (18, 8, 10, 20, 24, 20, 12, 28, 10, 10, 48, 12, 12, 30)


def summary_xlsx(certificates: list[Certificate]) -> bytes:
    """The summary workbook: a header row and one row per certificate, in the default language."""
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = pgettext("certificate summary", "Certificates")[:31]
        sheet.append([guard(header) for header in summary_headers()])
        for certificate in certificates:
            sheet.append([_cell(value) for value in summary_row(certificate)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, width in enumerate(COLUMN_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- the ZIP -----------------------------------------------------------------------------------------

def member_name(number: str) -> str:
    """``<number>.pdf``, ASCII letters, digits, - and _ only (every unzip tool keeps such a name as it is)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", number)[:64] + ".pdf"


def _member(name: str, now: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=now.replace(tzinfo=timezone.utc).astimezone(CHINA_TZ).timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def write_zip(certificates: list[Certificate], target, now: datetime) -> None:
    """Write the summary and each certificate's PDF into ``target`` (a writable binary file)."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_member(SUMMARY_NAME, now), summary_xlsx(certificates))
        for certificate in certificates:
            archive.writestr(_member(member_name(certificate.number), now), pdf.certificate_pdf_for(certificate))


def export_zip(certificates: list[Certificate], *, scope: str, now: datetime, actor: Actor) -> SpooledTemporaryFile:
    """The ZIP of ``certificates`` in a spooled temporary file positioned at its start (in memory up
    to SPOOL_BYTES, then on disk), for the caller to stream and close. The export is logged with its
    scope (e.g. ``class:12`` or ``range:2026-01-01..2026-03-31``) and count, and committed."""
    spool = SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        write_zip(certificates, spool, now)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    record(actor, "hours_export", now, target=scope, detail=str(len(certificates)))
    db.session.commit()
    return spool


def zip_filename(scope_words: str, now: datetime) -> str:
    """An ASCII download name, e.g. certificates-class-12-20260301.zip."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "-", scope_words)
    return f"certificates-{safe}-{china_date(now):%Y%m%d}.zip"
