"""Platform administration: institutions, hours rules."""
from ..accounts.models import ADMIN


def can_administer(user) -> bool:
    return user.role == ADMIN
