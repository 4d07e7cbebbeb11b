from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from ..core.clock import utcnow
from ..extensions import db


class StoredFile(db.Model):
    """One uploaded file; its bytes live encrypted under MEDIA_ROOT."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_name: Mapped[str] = mapped_column(db.String(64), unique=True)
    kind: Mapped[str] = mapped_column(db.String(32))
    content_type: Mapped[str] = mapped_column(db.String(64))
    size: Mapped[int]
    width: Mapped[int | None]
    height: Mapped[int | None]
    owner_user_id: Mapped[int | None] = mapped_column(db.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
