from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

# Audience of a qualification: who the certificate is for.
PRINCIPAL = "principal"              # 主要负责人
SAFETY_MANAGER = "safety_manager"    # 安全生产管理人员
SPECIAL_OPERATION = "special_operation"  # 特种作业人员
AUDIENCES = (PRINCIPAL, SAFETY_MANAGER, SPECIAL_OPERATION)

GENERAL = "general"
HIGH_RISK = "high_risk"
INDUSTRY_GROUPS = (GENERAL, HIGH_RISK)

INITIAL = "initial"        # 初训
REFRESHER = "refresher"    # 再培训 (managers) / 复审 (special operations)
TRAINING_TYPES = (INITIAL, REFRESHER)


class Region(db.Model):
    """Administrative division by GB/T 2260 code (province, city, district)."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(db.String(6), primary_key=True)
    name: Mapped[str] = mapped_column(db.String(64))
    parent_code: Mapped[str | None] = mapped_column(db.String(6))
    level: Mapped[int]  # 1 province, 2 city, 3 district


class QualificationType(db.Model):
    """A certificate one can train for, e.g. 电工作业 / 低压电工作业."""

    __tablename__ = "qualification_types"
    __table_args__ = (db.UniqueConstraint("audience", "category", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audience: Mapped[str] = mapped_column(db.String(32))
    category: Mapped[str] = mapped_column(db.String(64))
    item: Mapped[str] = mapped_column(db.String(64), default="")
    industry_group: Mapped[str] = mapped_column(db.String(16))
    requires_education_cert: Mapped[bool] = mapped_column(default=False)

    @property
    def label(self) -> str:
        return f"{self.category} · {self.item}" if self.item else self.category


class HoursRule(db.Model):
    """Total training hours by audience group, industry group and training type."""

    __tablename__ = "hours_rules"
    __table_args__ = (db.UniqueConstraint("audience_group", "industry_group", "training_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audience_group: Mapped[str] = mapped_column(db.String(32))  # "manager" or special_operation
    industry_group: Mapped[str] = mapped_column(db.String(16))
    training_type: Mapped[str] = mapped_column(db.String(16))
    total_hours: Mapped[int]
    basis: Mapped[str] = mapped_column(db.String(200), default="")


class RegionHoursSplit(db.Model):
    """How a region divides required hours between online and offline study."""

    __tablename__ = "region_hours_splits"
    __table_args__ = (db.UniqueConstraint("region_code", "training_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(db.String(6))
    training_type: Mapped[str] = mapped_column(db.String(16))
    online_hours: Mapped[int]
    offline_hours: Mapped[int]
