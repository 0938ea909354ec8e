"""Check-digit arithmetic: library mod 10, Luhn and Sierra mod 11, against worked and published examples."""

from __future__ import annotations

import pytest

from detectors.checksums import (
    library_mod10_check,
    library_mod10_valid,
    luhn_check,
    luhn_valid,
    sierra_check_char,
    sierra_record_valid,
)


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("23610003622817", True),  # NOTES.md §1 worked example (CCRLS member help page)
        ("30234000517861", True),  # NOTES.md §1 item example
        ("29990908250671", False),  # NOTES.md §1 failing example
        ("23610003622818", False),  # one digit off
        ("23610003622871", False),  # last two digits swapped
        ("", False),
        ("7", False),
        ("2361000362281x", False),
        ("２３６１０００３６２２８１７", False),  # full-width digits are not a barcode
    ],
)
def test_library_mod10_valid(digits: str, valid: bool) -> None:
    """The library mod-10 rule accepts exactly the published valid numbers."""
    assert library_mod10_valid(digits) is valid


def test_library_mod10_check_worked_example() -> None:
    """The NOTES.md worked example's payload has check digit 7."""
    assert library_mod10_check("2361000362281") == 7


def test_library_mod10_check_rejects_non_digits() -> None:
    """A payload with non-digits is a caller error."""
    with pytest.raises(ValueError):
        library_mod10_check("23a")


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4111111111111111", True),  # the classic Visa test number
        ("79927398713", True),  # the textbook Luhn example
        ("79927398710", False),
        ("23610003622817", True),  # 14-digit library cards pass Luhn too (NOTES.md §1)
        ("", False),
    ],
)
def test_luhn_valid(digits: str, valid: bool) -> None:
    """Luhn accepts the textbook examples and rejects altered ones."""
    assert luhn_valid(digits) is valid


def test_luhn_check_textbook_example() -> None:
    """The textbook payload 7992739871 has Luhn check 3."""
    assert luhn_check("7992739871") == 3


@pytest.mark.parametrize("length", [10, 12, 14, 16])
def test_library_mod10_equals_luhn_for_even_lengths(length: int) -> None:
    """For labels of even length the left-counted library rule and right-counted Luhn agree."""
    payload = ("2361000362281" * 2)[: length - 1]
    assert library_mod10_check(payload) == luhn_check(payload)


@pytest.mark.parametrize(
    ("digits7", "check"),
    [
        ("1234567", "2"),  # Wellcome Collection's add-sierra-check-digit README: b12345672
        ("3384632", "7"),  # University of Sydney sierra-record-check-digit README
        ("1125421", "x"),  # same README: remainder 10 is written "x"
        ("1000001", "x"),  # by hand: 8 + 2 = 10
        ("0000000", "0"),  # all zeros: sum 0
        ("0000001", "2"),  # rightmost digit weight 2
        ("1000000", "8"),  # leftmost digit weight 8
        ("0000005", "x"),  # 5 * 2 = 10 → "x"
    ],
)
def test_sierra_check_char(digits7: str, check: str) -> None:
    """The Sierra check is the weighted sum (2, 3, 4 … from the right) modulo 11, with 10 as "x"."""
    assert sierra_check_char(digits7) == check


@pytest.mark.parametrize("bad", ["123456", "12345678", "12a4567", ""])
def test_sierra_check_char_needs_seven_digits(bad: str) -> None:
    """Anything but seven ASCII digits is a caller error."""
    with pytest.raises(ValueError):
        sierra_check_char(bad)


@pytest.mark.parametrize(
    ("rec", "valid"),
    [
        (".p33846327", True),
        ("p33846327", True),
        ("P33846327", True),
        (".p1125421x", True),
        (".p1125421X", True),
        (".p3384632a", True),  # staff wildcard check
        ("33846327", True),  # no record-type letter
        (".b12345672", True),  # bib record: still a valid Sierra number
        (".p33846328", False),
        (".p3384632", False),  # no check character: nothing to check
        (".p338463277", False),
        ("", False),
    ],
)
def test_sierra_record_valid(rec: str, valid: bool) -> None:
    """Record numbers validate with or without the dot and type letter; "a" is a wildcard."""
    assert sierra_record_valid(rec) is valid
