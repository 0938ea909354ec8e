"""Check-digit arithmetic for the identifiers libraries print and type.

This module owns three families of pure functions and nothing else:

- the "library mod 10" check digit of barcode labels (NOTES.md §1),
- the Luhn check used by payment cards (kept apart so callers can tell them apart),
- the Sierra/Millennium record-number check character (mod 11, ``x`` for ten).

No detection, no regexes, no context: callers pass digit strings they have
already isolated. Functions never raise on odd input; a non-digit string is
simply "not valid".
"""

from __future__ import annotations

__all__ = [
    "library_mod10_check",
    "library_mod10_valid",
    "luhn_check",
    "luhn_valid",
    "sierra_check_char",
    "sierra_record_valid",
]

# Sierra staff may type "a" in place of the check character: the ILS then
# accepts any check. We treat it the same way.
SIERRA_WILDCARD = "a"


def _is_digits(value: str) -> bool:
    # str.isdigit() accepts superscripts and other Unicode digits; barcodes are ASCII.
    return bool(value) and value.isascii() and value.isdigit()


def library_mod10_check(payload: str) -> int:
    """Return the library mod-10 check digit for `payload` (the digits before the check).

    Positions are counted 1.. from the left; odd positions are doubled (minus 9
    when the product is 10 or more), even positions are added unchanged, and the
    check is ``(10 - total % 10) % 10``. For a 13-digit payload (14-digit label)
    this equals the Luhn check over the whole label.
    """
    if not _is_digits(payload):
        raise ValueError("payload must be ASCII digits")
    total = 0
    for index, ch in enumerate(payload):
        digit = ord(ch) - 48
        if index % 2 == 0:  # position index+1 is odd
            digit *= 2
            if digit >= 10:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def library_mod10_valid(digits: str) -> bool:
    """True when the last digit of `digits` is the library mod-10 check of the rest."""
    if not _is_digits(digits) or len(digits) < 2:
        return False
    return library_mod10_check(digits[:-1]) == ord(digits[-1]) - 48


def luhn_check(payload: str) -> int:
    """Return the Luhn check digit for `payload` (doubling starts at its rightmost digit)."""
    if not _is_digits(payload):
        raise ValueError("payload must be ASCII digits")
    total = 0
    for index, ch in enumerate(reversed(payload)):
        digit = ord(ch) - 48
        if index % 2 == 0:
            digit *= 2
            if digit >= 10:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def luhn_valid(digits: str) -> bool:
    """True when `digits` (check digit last) passes the Luhn test."""
    if not _is_digits(digits) or len(digits) < 2:
        return False
    return luhn_check(digits[:-1]) == ord(digits[-1]) - 48


def sierra_check_char(digits7: str) -> str:
    """Return the Sierra check character ("0".."9" or "x") for a 7-digit record number.

    The rightmost digit is weighted 2, the next 3, and so on; the check is the
    sum modulo 11, written "x" when it is 10.
    """
    if not _is_digits(digits7) or len(digits7) != 7:
        raise ValueError("a Sierra record number has exactly 7 digits")
    total = sum((ord(ch) - 48) * weight for weight, ch in enumerate(reversed(digits7), start=2))
    remainder = total % 11
    return "x" if remainder == 10 else str(remainder)


def sierra_record_valid(rec: str) -> bool:
    """True for a Sierra record number whose check character is right (or the "a" wildcard).

    Accepts ``.p1234567x``, ``p1234567x`` and ``1234567x`` (any record-type
    letter, any case). A number without a check character is not "valid": there
    is nothing to check.
    """
    value = rec.strip().lower()
    if value.startswith("."):
        value = value[1:]
    if value[:1].isalpha() and value[:1].isascii():
        value = value[1:]
    if len(value) != 8 or not _is_digits(value[:7]):
        return False
    check = value[7]
    return check == SIERRA_WILDCARD or check == sierra_check_char(value[:7])
