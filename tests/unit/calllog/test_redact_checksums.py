"""What digits alone can tell: Luhn, the Chinese resident ID's check character, IBAN, a numeric expiry's shape."""

from __future__ import annotations

import pytest

from assist.calllog.redact.checksums import iban_ok, luhn_ok, numeric_expiry, resident_id_ok


@pytest.mark.parametrize("digits", ["4111111111111111", "5500005555555559", "378282246310005", "6011000990139424"])
def test_luhn_accepts_valid_card_numbers(digits: str) -> None:
    assert luhn_ok(digits)


@pytest.mark.parametrize("digits", ["4111111111111112", "1234567812345678", "378282246310006"])
def test_luhn_refuses_a_wrong_check_digit(digits: str) -> None:
    assert not luhn_ok(digits)


@pytest.mark.parametrize("chars", ["110105198001010016", "11010519491231002X", "310115200111098768"])
def test_resident_ids_with_their_check_character(chars: str) -> None:
    assert resident_id_ok(chars)


@pytest.mark.parametrize(
    "chars",
    [
        "110105198001010017",  # wrong check character
        "11010519800101001",  # 17 characters
        "11010519491231002x",  # a lower-case x: the reader upper-cases it first
        "010105198001010012",  # leading zero (the check character is right in each below)
        "110105184912310020",  # born in 1849
        "110105198013010013",  # month 13
        "110105198001320014",  # day 32
        "1101051980010100X6",  # X before the end
    ],
)
def test_resident_ids_refused(chars: str) -> None:
    assert not resident_id_ok(chars)


def test_iban_check_digits() -> None:
    assert iban_ok("GB82WEST12345698765432")
    assert iban_ok("GB82 WEST 1234 5698 7654 32")
    assert not iban_ok("GB82WEST12345698765433")
    assert not iban_ok("GB82WEST1234")  # too short


@pytest.mark.parametrize("digits", ["427", "0427", "1226", "42027", "042027", "122026"])
def test_numeric_expiry_shapes(digits: str) -> None:
    assert numeric_expiry(digits)


@pytest.mark.parametrize("digits", ["27", "027", "1327", "0027", "42127", "132027", "1234567"])
def test_not_numeric_expiry_shapes(digits: str) -> None:
    assert not numeric_expiry(digits)
