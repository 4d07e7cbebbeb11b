from datetime import date, datetime

from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.clock import utcnow
from ..core.iddocs import mask
from ..core.types import EncryptedDate, EncryptedText
from ..extensions import db

# Material kinds a learner uploads; each maps to a file column below.
PHOTO = "photo"
ID_DOCUMENT = "id_document"
RECOMMENDATION = "recommendation"
EDUCATION = "education"
MATERIAL_KINDS = (PHOTO, ID_DOCUMENT, RECOMMENDATION, EDUCATION)

# Stored as codes; lms/core/labels.py gives their translated names.
UNIT_CATEGORIES = ("hazchem_production", "hazchem_trading", "mine", "fireworks", "metal_smelting",
                   "coal_mine", "general")
POSITIONS = ("principal", "safety_manager", "special_operator")
EDUCATION_LEVELS = ("junior_high", "senior_high", "college", "bachelor", "postgraduate")


class Learner(db.Model):
    """A learner's identity and profile. Name, ID number, birth date, gender, work unit and
    files are encrypted.

    No phone number, WeChat id, e-mail or other contact detail is stored
    (Guangdong platform checklist item 14).
    """

    __tablename__ = "learners"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(db.ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(EncryptedText)
    id_type: Mapped[str] = mapped_column(db.String(32))
    id_number: Mapped[str] = mapped_column(EncryptedText)
    id_number_hash: Mapped[str] = mapped_column(db.String(64), unique=True)
    # Birth date and gender are digits 7-14 and the parity of digit 17 of a resident ID number;
    # with the district (readable below) they would narrow the number to a handful, so they are
    # encrypted, and so is the year: with the last characters that certificates show, a readable
    # year would leave about 30 numbers (README, "Personal data").
    birth_date: Mapped[date | None] = mapped_column(EncryptedDate)
    gender: Mapped[str | None] = mapped_column(EncryptedText)
    # Free text that often names the district; never searched, so encrypted like the name.
    work_unit: Mapped[str] = mapped_column(EncryptedText)
    unit_category: Mapped[str] = mapped_column(db.String(32))
    position: Mapped[str] = mapped_column(db.String(32))
    region_code: Mapped[str] = mapped_column(db.String(6))
    education_level: Mapped[str] = mapped_column(db.String(32))
    photo_file_id: Mapped[int | None] = mapped_column(db.ForeignKey("stored_files.id"))
    id_document_file_id: Mapped[int | None] = mapped_column(db.ForeignKey("stored_files.id"))
    recommendation_file_id: Mapped[int | None] = mapped_column(db.ForeignKey("stored_files.id"))
    education_file_id: Mapped[int | None] = mapped_column(db.ForeignKey("stored_files.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User", back_populates="learner")

    @property
    def birth_year(self) -> int | None:
        """Read from the encrypted birth date (what regulators see of it)."""
        return None if self.birth_date is None else self.birth_date.year

    @property
    def masked_id_number(self) -> str:
        return mask(self.id_number)

    def file_id(self, kind: str) -> int | None:
        return getattr(self, f"{kind}_file_id")

    def missing_materials(self, education_required: bool) -> list[str]:
        """What an application needs that the learner has not uploaded (the education certificate
        only for a qualification that requires one). Here, on the model, so that lms.institutions
        asks it without importing the learners package."""
        needed = [PHOTO, ID_DOCUMENT, RECOMMENDATION] + ([EDUCATION] if education_required else [])
        return [kind for kind in needed if self.file_id(kind) is None]
