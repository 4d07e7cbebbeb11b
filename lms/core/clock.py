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


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the Unix epoch of a naive-UTC moment (a naive datetime's own .timestamp() would
    read it as the server's local time)."""
    return int(moment.replace(tzinfo=timezone.utc).timestamp())
