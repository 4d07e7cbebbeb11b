"""Who may read which rows of the operation log (nobody may change them)."""
from sqlalchemy import false, true

from ..catalogue.services import in_region
from ..core.roles import ADMIN, REGULATOR, STAFF
from .models import AuditLog


def can_read_log(user) -> bool:
    return user.role in (STAFF, REGULATOR, ADMIN)


def visible_rows(user):
    """A filter on AuditLog: staff their institution's rows, regulators their region's, the admin all."""
    if user.role == ADMIN:
        return true()
    if user.role == STAFF:
        return AuditLog.institution_id == user.institution_id
    if user.role == REGULATOR:
        return in_region(AuditLog.region_code, user.region_code)
    return false()
