from datetime import date

import pytest

from lms.core.iddocs import (HK_MACAU, PASSPORT, TAIWAN, InvalidDocument, gb11643_check_char, mask,
                             parse_document, parse_resident_id, public_mask)

TODAY = date(2026, 11, 23)


def test_check_character_follows_iso_7064_mod_11_2():
    # Worked example of GB 11643-1999 appendix: 11010519491231002 -> X
    assert gb11643_check_char("11010519491231002") == "X"
    assert gb11643_check_char("44052418800101001") == "4"


def test_valid_number_gives_birth_date_and_gender():
    facts = parse_resident_id("11010519491231002x", TODAY)
    assert facts.number == "11010519491231002X"
    assert facts.birth_date == date(1949, 12, 31)
    assert facts.gender == "F"  # 17th digit 2 is even
    male = parse_resident_id("44060419740312123" + gb11643_check_char("44060419740312123"), TODAY)
    assert male.gender == "M" and male.birth_date == date(1974, 3, 12)


@pytest.mark.parametrize("number, code", [
    ("11010519491231002", "format"),
    ("1101051949123100AX", "format"),
    ("01010519491231002X", "region"),
    ("110105194913310021", "birth_date"),
    ("110105209912310021", "birth_date"),
    ("110105194912310021", "checksum"),
])
def test_bad_numbers_are_refused_with_a_reason(number, code):
    with pytest.raises(InvalidDocument) as error:
        parse_resident_id(number, TODAY)
    assert error.value.code == code


def test_other_documents_have_their_own_checks():
    assert parse_document(PASSPORT, "e12345678", TODAY).number == "E12345678"
    assert parse_document(HK_MACAU, "H12345678", TODAY).birth_date is None
    assert parse_document(TAIWAN, "12345678", TODAY).number == "12345678"
    for doc_type, number in ((PASSPORT, "ABCDEFG"), (HK_MACAU, "X12345678"), (TAIWAN, "1234"), ("nonsense", "1")):
        with pytest.raises(InvalidDocument):
            parse_document(doc_type, number, TODAY)


def test_mask_keeps_first_and_last_four():
    assert mask("37010219850607456X") == "3701**********456X"
    assert mask("E1234567") == "E1******"


def test_public_mask_keeps_the_last_three_and_shortens_an_older_mask():
    assert public_mask("37010219850607456X") == "*" * 15 + "56X"
    assert public_mask("3701**********456X") == "*" * 15 + "56X"   # certificates signed before
    assert public_mask("E12345678") == "******678"
    assert public_mask("E1234") == "****4" and public_mask("") == ""
