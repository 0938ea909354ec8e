"""Telephone numbers in free text.

This module owns finding phone numbers and skipping the library's own public
numbers (configured exceptions). Validation is phonenumbers' (`is_valid_number`
for the configured region); finding candidates is ours, because
`PhoneNumberMatcher` walks every digit run through its full grammar and is far
too slow for megabytes of mail. Our candidate patterns follow the shapes phones
are written in, so digit runs that are something else — card barcodes, ISBNs,
dates, times, prices, ZIP+4 codes, IP addresses — never reach the parser.

It must not decide whether a number belongs to a patron: a vendor's signature
phone is still a phone here, and policy weighs it against other evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import phonenumbers

from detectors.findings import Category, Finding, Kind, TextPart, mask

__all__ = ["PhoneDetector", "PhoneSettings"]


_CATEGORIES = frozenset({Category.PHONE})


@dataclass(frozen=True, slots=True)
class PhoneSettings:
    """The default region for numbers written without a country code, and the library's own numbers."""

    region: str = "US"
    # The library's public numbers in any format (normalised to E.164 at start-up). An
    # entry may also be a block of direct lines: trailing wildcards ("503-588-61xx",
    # "+1 503 588 61*") or a range ("503-588-6100 to 503-588-6199", "…6100..…6199").
    exceptions: tuple[str, ...] = ()


_RANGE_SPLIT = re.compile(r"\s*(?:\.\.|\bto\b|–|—)\s*")
_WILDCARDS = "xX*?#"


def parse_exception(entry: str, region: str = "US") -> tuple[str, str]:
    """An exception entry as an inclusive range of E.164 strings of equal length (lo, hi).

    A single number gives (n, n); "503-588-61xx" gives (+15035886100, +15035886199).
    Raises ValueError naming what is wrong (the entry is configuration, safe to echo).
    """
    entry = entry.strip()
    ends = _RANGE_SPLIT.split(entry)
    if len(ends) == 2:
        lo, _ = parse_exception(ends[0], region)
        hi, _ = parse_exception(ends[1], region)
        if len(lo) != len(hi) or lo > hi:
            raise ValueError(f"phone range {entry!r}: the first number must not be above the second")
        return lo, hi
    if len(ends) != 1:
        raise ValueError(f"phone exception {entry!r}: expected a number, a block such as 503-588-61xx, or A to B")
    first_wild = next((i for i, ch in enumerate(entry) if ch in _WILDCARDS), None)
    if first_wild is not None:
        if any(ch.isdigit() for ch in entry[first_wild:]):
            raise ValueError(f"phone exception {entry!r}: wildcards (x) may only end the number")
        # The block is every number between the filled-in ends, both of which must be numbers.
        lo, _ = parse_exception(_fill(entry, "0"), region)
        hi, _ = parse_exception(_fill(entry, "9"), region)
        return lo, hi
    try:
        parsed = phonenumbers.parse(entry, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"phone exception {entry!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"phone exception {entry!r} is not a phone number")
    number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return number, number


def _fill(entry: str, digit: str) -> str:
    return "".join(digit if ch in _WILDCARDS else ch for ch in entry)


# Cheap scout: every phone we accept has two 3-digit groups close together. The
# scout starts with a character class, which `re` scans quickly; the full
# candidate pattern (lookbehinds first) runs only in a small window around each hit.
_SCOUT = re.compile(r"\d\d\d[ ().-]{0,2}\d\d\d")
_SCOUT_BEFORE = 8  # "+1 (503) " before the scout's first digit
_SCOUT_AFTER = 32  # the rest of the longest candidate and the right-edge checks

# Left edge: not inside a word, a longer digit run, a decimal, a date or a version
# ("978-0-06-…", "1.503…", "12/503…"), except right after Symphony's "|a" subfield
# marker (".PHONE.   |a503-555-0142"). A digit and a space may precede: phones are
# listed side by side. A comma is a field separator, not part of a number: unquoted
# CSV puts a phone right next to a card number or a date ("…2817,503-555-0187,9/19").
# (A thousands separator never reaches here: the number patterns admit no comma.)
_LEFT = r"(?:(?<=\|a)|(?<![\w+$€£@]))(?<!\d[./:-])"
# Right edge: not followed by more digits of the same token, a decimal, an "@" (an
# email local part such as a fax gateway address) or a letter.
_RIGHT = r"(?![\w@])(?![./:-]\d)(?!-\w)"

# North American numbering plan: [+1 / 1] (AAA) EEE-NNNN in the usual punctuations.
_NANP = (
    r"(?:\+?1[ .-]?)?"
    r"(?:\(\d{3}\)[ ]?|\d{3}[ .-]?)"
    r"\d{3}[ .-]?\d{4}"
)
# International: "+" country code and more digits in small groups. The groups are
# atomic and possessive: a digit string has many ways to be split into groups, and
# re-trying them all when the right edge fails would make the scan quadratic.
_INTL = r"\+\d{1,3}+(?>(?:[ .-]?\(?\d{1,4}+\)?){1,6})"

# An extension belongs to the number it follows ("503-555-0142 x12"); it is covered by
# the finding but not validated.
_EXTENSION = r"(?:[ ]?(?:x|ext\.?|extension)[ ]?\d{1,5})?"

# A number written as bare digits ("5035550142") is as often an id or a counter; it
# counts only after a phone word or in a table cell.
_PHONE_WORD = re.compile(
    r"(?<![a-z])(?:tel|telephone|phone|ph|cell|mobile|mob|fax|call|text|sms|home|work|day|evening)(?![a-z])"
)
_PHONE_WORD_CHARS = 24

_CANDIDATE = re.compile(_LEFT + r"(?P<number>" + _NANP + r"|" + _INTL + r")" + _EXTENSION + _RIGHT)


class PhoneDetector:
    """Finds valid telephone numbers, skipping the library's own public numbers."""

    name = "phones"

    def __init__(self, settings: PhoneSettings | None = None) -> None:
        self.settings = settings or PhoneSettings()
        region = self.settings.region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"phone region {self.settings.region!r} is not a region phonenumbers knows")
        self._region = region
        self._country_code = phonenumbers.country_code_for_region(region)
        excepted: set[str] = set()
        blocks: list[tuple[str, str]] = []
        for entry in self.settings.exceptions:
            # Config values, not patron data: safe to name in the error.
            lo, hi = parse_exception(entry, region)
            if lo == hi:
                excepted.add(lo)
            else:
                blocks.append((lo, hi))
        self._exceptions = frozenset(excepted)
        self._blocks = tuple(blocks)

    def is_exception(self, e164: str) -> bool:
        """True for one of the library's own numbers (exact, or inside a configured block)."""
        if e164 in self._exceptions:
            return True
        return any(len(lo) == len(e164) and lo <= e164 <= hi for lo, hi in self._blocks)

    def detect(self, part: TextPart) -> Iterator[Finding]:
        """Yield a PHONE finding for every valid number in `part` that is not an exception."""
        text = part.text
        # Per-part memo: signatures and exports repeat the same numbers. Kept local so
        # no number outlives the part it came from.
        seen: dict[str, tuple[str, int] | None] = {}
        for m in self._candidates(text):
            raw = m.group("number")
            if raw not in seen:
                seen[raw] = self._e164(raw)
            valid = seen[raw]
            if valid is None or self.is_exception(valid[0]):
                continue
            if raw.isdigit() and not part.tabular:
                before = text[max(0, m.start() - _PHONE_WORD_CHARS) : m.start()].lower()
                if not _PHONE_WORD.search(before):
                    continue
            yield Finding(
                kind=Kind.PHONE,
                part=part.path,
                start=m.start(),
                end=m.end(),
                score=0.8,
                reason=f"phone valid country=+{valid[1]}",
                masked=mask(raw),
                detector=self.name,
                categories=_CATEGORIES,
            )

    @staticmethod
    def _candidates(text: str) -> Iterator[re.Match[str]]:
        """Candidate matches, left to right, each found in a window around a scout hit."""
        done = 0  # candidates never overlap: search only after the last one found
        for scout in _SCOUT.finditer(text):
            if scout.end() <= done:
                continue
            pos = max(done, scout.start() - _SCOUT_BEFORE)
            end = min(len(text), scout.end() + _SCOUT_AFTER)
            m = _CANDIDATE.search(text, pos, end)
            while m is not None and m.start() <= scout.start():
                if m.end() < end or end == len(text):  # not cut short by the window
                    yield m
                done = m.end()
                m = _CANDIDATE.search(text, done, end)

    def _e164(self, raw: str) -> tuple[str, int] | None:
        """The E.164 form and country code of a valid number, or None."""
        digits = "".join(ch for ch in raw if ch.isdigit())
        if len(digits) < 10 or len(digits) > 15:
            return None  # seven-digit local numbers cannot be validated without an area code
        if (self._country_code == 1 and not raw.startswith("+")) or raw.startswith("+1"):
            # North American shape: build the number directly; phonenumbers.parse costs
            # as much again as the validity check and adds nothing for this shape.
            national = digits[1:] if len(digits) == 11 and digits[0] == "1" else digits
            if len(national) != 10:
                return None
            number = phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
        else:
            try:
                number = phonenumbers.parse(raw, self._region)
            except phonenumbers.NumberParseException:
                return None
        if not phonenumbers.is_valid_number(number) or number.country_code is None:
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), number.country_code
