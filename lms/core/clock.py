"""Time helpers. The database stores naive UTC; people see China Standard Time."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Naive UTC now, the form every timestamp column holds."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def china_date(moment: datetime) -> date:
    """The calendar date in China at a naive-UTC moment (windows are local dates)."""
    return moment.replace(tzinfo=timezone.utc).astimezone(CHINA_TZ).date()
