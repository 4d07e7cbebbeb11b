"""The hours module's refusals."""
from ..core.errors import RuleViolation


class HoursError(RuleViolation):
    """A correction or revocation refused; ``code`` names why (lms.hours.messages has the text)."""
