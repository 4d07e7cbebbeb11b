"""Admin operations, each logged with the change it made."""
from datetime import datetime

from sqlalchemy import select

from ..audit.services import record
from ..catalogue.models import HoursRule, RegionHoursSplit
from ..core.context import Actor
from ..core.errors import RuleViolation
from ..extensions import db
from ..institutions.models import Institution


class AdminError(RuleViolation):
    """An admin change refused by a rule."""


def create_institution(name: str, region_code: str, now: datetime, actor: Actor) -> Institution:
    name = name.strip()
    if db.session.scalar(select(Institution.id).where(Institution.name == name)) is not None:
        raise AdminError("duplicate_institution")
    institution = Institution(name=name, region_code=region_code, created_at=now)
    db.session.add(institution)
    db.session.flush()
    record(actor, "institution_create", now, target=f"institution:{institution.id} {name}",
           institution_id=institution.id, region_code=region_code)
    db.session.commit()
    return institution


def update_hours_rule(rule: HoursRule, total_hours: int, now: datetime, actor: Actor) -> None:
    before = rule.total_hours
    rule.total_hours = total_hours
    record(actor, "hours_rule_update", now, target=f"hours_rule:{rule.id}",
           detail=f"{rule.audience_group}/{rule.industry_group}/{rule.training_type}: {before} -> {total_hours}")
    db.session.commit()


def save_region_split(region_code: str, training_type: str, online: int, offline: int,
                      now: datetime, actor: Actor) -> RegionHoursSplit:
    """Create or replace the online/offline split of a region for a training type."""
    if online + offline <= 0:
        raise AdminError("empty_split")
    split = db.session.scalar(select(RegionHoursSplit).filter_by(region_code=region_code, training_type=training_type))
    if split is None:
        split = RegionHoursSplit(region_code=region_code, training_type=training_type, online_hours=0, offline_hours=0)
        db.session.add(split)
    split.online_hours, split.offline_hours = online, offline
    db.session.flush()
    record(actor, "region_split_save", now, target=f"region_split:{split.id}",
           detail=f"{region_code}/{training_type}: {online}+{offline}", region_code=region_code)
    db.session.commit()
    return split
