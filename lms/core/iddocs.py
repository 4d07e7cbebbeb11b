"""Identity document numbers: validation, derived facts and masking.

Mainland resident ID numbers follow GB 11643-1999: 6-digit region code,
8-digit birth date, 3-digit sequence (odd for men) and an ISO 7064 MOD 11-2
check character.
"""
import re
from dataclasses import dataclass
from datetime import date

from .errors import RuleViolation

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

RESIDENT_ID = "resident_id"
PASSPORT = "passport"
HK_MACAU = "hk_macau_permit"
TAIWAN = "taiwan_permit"
FOREIGN_PR = "foreign_permanent_resident"
DOCUMENT_TYPES = (RESIDENT_ID, PASSPORT, HK_MACAU, TAIWAN, FOREIGN_PR)

_SIMPLE_PATTERNS = {
    PASSPORT: re.compile(r"^(?=.*\d)[A-Z0-9]{5,17}$"),
    HK_MACAU: re.compile(r"^[HM]\d{8}(\d{2})?$"),
    TAIWAN: re.compile(r"^\d{8}$"),
}


class InvalidDocument(RuleViolation):
    """The number does not pass its document type's checks."""


@dataclass(frozen=True)
class DocumentFacts:
    number: str
    birth_date: date | None
    gender: str | None  # "M" or "F"


def normalize(number: str) -> str:
    return re.sub(r"\s+", "", number or "").upper()


def gb11643_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def parse_resident_id(number: str, today: date) -> DocumentFacts:
    """Validate a GB 11643 number and derive birth date and gender."""
    number = normalize(number)
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise InvalidDocument("format")
    if number[0] not in "12345678":
        raise InvalidDocument("region")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidDocument("birth_date") from None
    if born > today or born.year < 1900:
        raise InvalidDocument("birth_date")
    if gb11643_check_char(number[:17]) != number[17]:
        raise InvalidDocument("checksum")
    gender = "M" if int(number[16]) % 2 else "F"
    return DocumentFacts(number, born, gender)


def parse_document(doc_type: str, number: str, today: date) -> DocumentFacts:
    """Validate any accepted document; only ID-card-style numbers carry birth and gender."""
    number = normalize(number)
    if doc_type == RESIDENT_ID:
        return parse_resident_id(number, today)
    if doc_type == FOREIGN_PR:
        # The 2023 permanent residence card uses GB 11643 layout starting with 9.
        if not number.startswith("9"):
            raise InvalidDocument("format")
        if not re.fullmatch(r"\d{17}[\dX]", number):
            raise InvalidDocument("format")
        if gb11643_check_char(number[:17]) != number[17]:
            raise InvalidDocument("checksum")
        try:
            born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            raise InvalidDocument("birth_date") from None
        return DocumentFacts(number, born, "M" if int(number[16]) % 2 else "F")
    pattern = _SIMPLE_PATTERNS.get(doc_type)
    if pattern is None:
        raise InvalidDocument("type")
    if not pattern.fullmatch(number):
        raise InvalidDocument("format")
    return DocumentFacts(number, None, None)


def mask(number: str) -> str:
    """Show the first and last four characters only: 3701**********123X."""
    if not number:
        return ""
    if len(number) <= 8:
        return number[:2] + "*" * (len(number) - 2)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


PUBLIC_TAIL = 3   # characters of an ID number anyone may see (see public_mask)


def public_mask(number: str) -> str:
    """What documents and pages anyone can read show of an ID number: its last three characters
    (***************23X), for a verifier to compare with the holder's ID card. Also shortens a
    number already masked by ``mask``. With the district readable in the database, four characters
    (sequence and check character) would leave about 3,000 resident ID numbers per learner and
    the first four add nothing a verifier needs; three leave about 28,000 (tests/test_privacy.py)."""
    if not number:
        return ""
    keep = PUBLIC_TAIL if len(number) > PUBLIC_TAIL * 2 else 1
    return "*" * (len(number) - keep) + number[-keep:]


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
