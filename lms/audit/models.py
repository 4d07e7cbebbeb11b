from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from ..core.clock import utcnow
from ..extensions import db


class AuditLog(db.Model):
    """One audit-relevant action. Rows are only ever inserted."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(db.ForeignKey("users.id"), index=True)
    actor: Mapped[str] = mapped_column(db.String(128), default="")
    role: Mapped[str] = mapped_column(db.String(16), default="")
    ip: Mapped[str] = mapped_column(db.String(64), default="")
    user_agent: Mapped[str] = mapped_column(db.String(300), default="")
    action: Mapped[str] = mapped_column(db.String(64), index=True)
    target: Mapped[str] = mapped_column(db.String(128), default="")
    result: Mapped[str] = mapped_column(db.String(16), default="success")
    detail: Mapped[str] = mapped_column(db.String(500), default="")
    institution_id: Mapped[int | None] = mapped_column(index=True)
    region_code: Mapped[str | None] = mapped_column(db.String(6), index=True)


class AuditLogImmutable(RuntimeError):
    pass


@event.listens_for(AuditLog, "before_update")
@event.listens_for(AuditLog, "before_delete")
def _refuse_change(mapper, connection, target):
    raise AuditLogImmutable("the operation log cannot be edited or deleted")
