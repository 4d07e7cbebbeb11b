"""Writing and querying the operation log."""
import csv
import io
from datetime import datetime

from sqlalchemy import select

from ..core.cells import guard
from ..core.context import Actor
from ..core.labels import label
from ..core.roles import LEARNER
from ..extensions import db
from .models import AuditLog
from .permissions import visible_rows


def actor_label(user) -> str:
    """A name for the log. Learners appear as ``learner:<id>``: a masked ID number (first and last
    four) or a name in the plaintext log, beside the district, would help rebuild the number."""
    if user is None:
        return ""
    if user.role == LEARNER and user.learner is not None:
        return learner_ref(user.learner.id)
    return user.username or f"#{user.id}"


def learner_ref(learner_id: int) -> str:
    return f"learner:{learner_id}"


def record(actor: Actor, action: str, now: datetime, *, target: str = "", result: str = "success",
           detail: str = "", institution_id: int | None = None, region_code: str | None = None,
           user=None) -> AuditLog:
    """Add one log row to the session; it commits with the action it describes.

    ``user`` names the account concerned when nobody is signed in yet (sign-in).
    """
    who = actor.user or user
    entry = AuditLog(
        at=now, user_id=getattr(who, "id", None), actor=actor_label(who)[:128],
        role=getattr(who, "role", "") or "", ip=actor.ip[:64], user_agent=actor.user_agent[:300],
        action=action, target=target[:128], result=result, detail=detail[:500],
        institution_id=institution_id if institution_id is not None else getattr(who, "institution_id", None),
        region_code=region_code or _home_region(who),
    )
    db.session.add(entry)
    return entry


def _home_region(user) -> str | None:
    if user is None:
        return None
    if user.role == LEARNER and user.learner is not None:
        return user.learner.region_code
    if user.institution is not None:
        return user.institution.region_code
    return user.region_code


def scoped_query(viewer):
    """Log rows the viewer may see: staff their institution, regulators their region."""
    return select(AuditLog).where(visible_rows(viewer)).order_by(AuditLog.at.desc(), AuditLog.id.desc())


def filtered_query(viewer, *, action=None, result=None, start=None, end=None, text=None):
    query = scoped_query(viewer)
    if action:
        query = query.where(AuditLog.action == action)
    if result:
        query = query.where(AuditLog.result == result)
    if start:
        query = query.where(AuditLog.at >= start)
    if end:
        query = query.where(AuditLog.at < end)
    if text:
        like = f"%{text}%"
        query = query.where(AuditLog.actor.like(like) | AuditLog.target.like(like) | AuditLog.ip.like(like))
    return query


def display_row(row: AuditLog, format_time) -> list[str]:
    """One log row as people read it: local time, translated role, action, result and detail."""
    return [format_time(row.at), row.actor, label("role", row.role), row.ip, row.user_agent,
            label("action", row.action), row.target, label("result", row.result), display_detail(row)]


def display_detail(row: AuditLog) -> str:
    if row.action in ("upload", "material_view"):
        return label("material", row.detail)
    return label("audit_detail", row.detail)


def export_csv(rows, headers: list[str], format_time) -> str:
    """CSV with a BOM so that Excel opens the Chinese text correctly."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([guard("" if cell is None else str(cell)) for cell in display_row(row, format_time)])
    return buffer.getvalue()

