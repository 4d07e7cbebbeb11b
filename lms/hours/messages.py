"""The hours module's refusals, and what the hours pages say about states, entries and refusals, in
the user's language."""
from flask_babel import lazy_gettext as _l

from ..core.errors import RuleViolation


class HoursError(RuleViolation):
    """A correction or revocation refused; ``code`` names why (ERRORS below has the text)."""


ERRORS = {
    "reason_required": _l("Please give a reason."),
    "reason_too_long": _l("The reason is too long (at most 500 characters)."),
    "zero_correction": _l("A correction must add or remove some hours."),
    "out_of_range": _l("After the correction the course's hours must stay between 0 and its nominal hours."),
    "hours_format": _l("Enter the hours as a number with at most one decimal, e.g. 1.5 or -2."),
    "conflict": _l("The ledger was changed by another request. Please try again."),
    "resent": _l("This correction was just recorded; it was not recorded a second time."),
    "already_revoked": _l("This certificate is already revoked."),
    "not_complete": _l("The learner has not reached the required online hours."),
}

STATUS = {"valid": _l("Valid"), "revoked": _l("Revoked"), "unknown": _l("Not on record"),
          "invalid": _l("Invalid")}

INVALID_REASONS = {
    "format": _l("This is not a certificate code of this platform, or it is damaged or incomplete."),
    "version": _l("This certificate code has a format this platform does not know."),
    "unknown_key": _l("The code was signed with a key this platform never published."),
    "signature": _l("The content was changed after the certificate was issued: the signature does not match."),
    "not_on_record": _l("The code does not match the certificate on record under this number."),
}

REVOKED_HOW = {"staff": _l("Revoked by the training institution"),
               "hours_withdrawn": _l("Revoked automatically: the credited hours were taken back")}

CORRECTED = _l("The correction is recorded in the ledger.")
REVOKED = _l("The certificate is revoked. The verification page now says so.")

ENTRY_KINDS = {"credit": _l("Credit"), "reversal": _l("Reversal"), "correction": _l("Correction")}


def hours_error(error: HoursError) -> str:
    return str(ERRORS.get(error.code, error.code))
