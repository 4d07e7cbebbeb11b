"""Platform administration: institutions, hours rules."""
from ..core.roles import ADMIN


def can_administer(user) -> bool:
    return user.role == ADMIN
