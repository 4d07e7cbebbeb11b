"""Who may create accounts and issue one-time password links."""
from sqlalchemy import false, select

from ..core.roles import ADMIN, LEARNER, REGULATOR, STAFF
from ..learners.permissions import can_act_for_learner
from .models import User


def can_manage_accounts(user) -> bool:
    """The admin creates any non-learner account; staff create colleagues of their own institution."""
    return user.role in (ADMIN, STAFF)


def creatable_roles(user) -> tuple[str, ...]:
    if user.role == ADMIN:
        return (STAFF, REGULATOR, ADMIN)
    if user.role == STAFF:
        return (STAFF,)
    return ()


def visible_accounts(user):
    query = select(User).where(User.role != LEARNER).order_by(User.role, User.username)
    if user.role == ADMIN:
        return query
    if user.role == STAFF:
        return query.where(User.institution_id == user.institution_id)
    return query.where(false())


def can_issue_reset_link(user, target: User) -> bool:
    """The admin for anyone but themselves; staff for a colleague, or for a learner their institution
    approved into a class (never one who merely applied: that would hand them the account)."""
    if target.id == user.id:
        return False
    if user.role == ADMIN:
        return True
    if user.role != STAFF:
        return False
    if target.role == STAFF:
        return target.institution_id == user.institution_id
    if target.role == LEARNER and target.learner is not None:
        return can_act_for_learner(user, target.learner)
    return False
