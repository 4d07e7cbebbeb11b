"""Rules over reference data: region scopes and required hours."""
from dataclasses import dataclass

from sqlalchemy import false, select

from ..extensions import db
from .models import SPECIAL_OPERATION, HoursRule, QualificationType, Region, RegionHoursSplit


def region_prefix(code: str) -> str:
    """The code prefix a region covers: 440000 -> 44, 440600 -> 4406, 440604 -> 440604."""
    code = code or ""
    while code.endswith("00") and len(code) > 2:
        code = code[:-2]
    return code


def region_covers(scope_code: str, code: str | None) -> bool:
    """Does a regulator's region (scope) include ``code``? The one predicate for regional scope."""
    return bool(code) and bool(scope_code) and code.startswith(region_prefix(scope_code))


def in_region(column, scope_code: str):
    """The same rule as region_covers, as a query filter on a region-code column."""
    if not scope_code:
        return false()  # a regulator without a region sees nothing
    return column.startswith(region_prefix(scope_code), autoescape=True)


def region_ancestry(code: str) -> list[str]:
    """The code itself, then its city and province codes (nearest first)."""
    chain = [code]
    if code[4:] != "00":
        chain.append(code[:4] + "00")
    if code[2:] != "0000":
        chain.append(code[:2] + "0000")
    return list(dict.fromkeys(chain))


def region_name(code: str | None) -> str:
    if not code:
        return ""
    names = dict(db.session.execute(select(Region.code, Region.name).where(
        Region.code.in_(region_ancestry(code)))).all())
    return "".join(names[c] for c in reversed(region_ancestry(code)) if c in names)


def region_choices(levels: tuple[int, ...]) -> list[tuple[str, str]]:
    """(code, full name) pairs for select boxes, e.g. 广东省 佛山市 禅城区."""
    regions = {r.code: r for r in db.session.scalars(select(Region))}

    def full_name(region):
        parts = []
        while region is not None:
            parts.append(region.name)
            region = regions.get(region.parent_code)
        return " ".join(reversed(parts))
    return sorted((r.code, full_name(r)) for r in regions.values() if r.level in levels)


@dataclass(frozen=True)
class HoursPlan:
    total: int
    online: int
    offline: int


def hours_plan(qualification: QualificationType, training_type: str, region_code: str) -> HoursPlan | None:
    """Required hours for a class, from the admin-editable rules.

    The total comes from the rule for the audience, industry group and training
    type; the nearest region split (district, city, province) caps the online
    part, and the rest is offline. Without a split everything may be online.
    """
    audience_group = SPECIAL_OPERATION if qualification.audience == SPECIAL_OPERATION else "manager"
    rule = db.session.scalar(select(HoursRule).filter_by(
        audience_group=audience_group, industry_group=qualification.industry_group,
        training_type=training_type))
    if rule is None:
        return None
    for code in region_ancestry(region_code or ""):
        split = db.session.scalar(select(RegionHoursSplit).filter_by(
            region_code=code, training_type=training_type))
        if split is not None:
            online = min(split.online_hours, rule.total_hours)
            return HoursPlan(rule.total_hours, online, rule.total_hours - online)
    return HoursPlan(rule.total_hours, rule.total_hours, 0)
