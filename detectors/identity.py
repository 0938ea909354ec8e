"""Identity numbers that only mean something next to their label: driver licences / state IDs and birth dates.

This module owns two keyword-anchored detectors. A bare 7-digit number or a bare
date is everywhere in ordinary mail (invoices, extensions, meeting dates), so a
value counts only when a keyword ("DL", "driver's license", "DOB", "born" …)
sits a few characters away.

Keywords are configurable phrases. A phrase written entirely in capitals
("DL", "ODL", "D.L.") matches case-sensitively, because its lower-case form is
ordinary text ("dl.sourceforge.net"); any other phrase matches in any case.
"driver's" also matches "drivers" and "driver".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from detectors.findings import Category, Finding, Kind, TextPart, mask

__all__ = [
    "BirthDateDetector",
    "DEFAULT_DL_KEYWORDS",
    "DEFAULT_DOB_KEYWORDS",
    "DriversLicenseDetector",
    "IdentitySettings",
]

DEFAULT_DL_KEYWORDS: tuple[str, ...] = (
    "driver's license",
    "driver's licence",
    "driver's lic",
    "DL",
    "D.L.",
    "ODL",
    "lic#",
    "lic #",
    "lic no",
    "license number",
    "licence number",
    "license no",
    "licence no",
    "license #",
    "licence #",
    "ID card",
    "state ID",
    "Oregon ID",
)
DEFAULT_DOB_KEYWORDS: tuple[str, ...] = (
    "DOB",
    "D.O.B.",
    "dob",
    "born",
    "birth date",
    "birthdate",
    "birth_date",
    "date of birth",
    "birthday",
)


@dataclass(frozen=True, slots=True)
class IdentitySettings:
    """Keywords that make a nearby number a licence / ID number or a nearby date a birth date."""

    dl_keywords: tuple[str, ...] = DEFAULT_DL_KEYWORDS
    dob_keywords: tuple[str, ...] = DEFAULT_DOB_KEYWORDS
    # The value must start within this many characters after a licence keyword.
    dl_window: int = 30
    # Oregon numbers: 1-9 digits, or a letter and 6-8 digits (NOTES.md §3; sources disagree).
    dl_min_digits: int = 1
    dl_max_digits: int = 9
    # The date must lie within this many characters of a birth-date keyword (either side).
    dob_window: int = 25

    def __post_init__(self) -> None:
        if not 1 <= self.dl_min_digits <= self.dl_max_digits <= 20:
            raise ValueError("need 1 <= dl_min_digits <= dl_max_digits <= 20")
        if self.dl_window < 0 or self.dob_window < 0:
            raise ValueError("keyword windows must not be negative")
        for keyword in (*self.dl_keywords, *self.dob_keywords):
            if not keyword.strip():
                raise ValueError("an identity keyword must not be empty")


class _Keywords:
    """A keyword list compiled for speed: literal needles find places, one regex confirms each.

    A case-insensitive alternation tried at every character costs seconds per
    megabyte in `re`; `str.find` for each keyword's first word costs microseconds.
    """

    __slots__ = ("_pattern", "_needles")

    def __init__(self, keywords: tuple[str, ...]) -> None:
        parts = []
        needles: set[tuple[str, bool]] = set()
        for keyword in sorted({k.strip() for k in keywords}, key=len, reverse=True):
            letters = [ch for ch in keyword if ch.isalpha()]
            cased = bool(letters) and all(ch.isupper() for ch in letters)
            first = re.split(r"[ '’_]", keyword, maxsplit=1)[0] or keyword
            needles.add((first, False) if cased else (first.lower(), True))
            body, i = [], 0
            while i < len(keyword):
                if keyword.startswith("'s", i):
                    body.append("(?:['’]?s)?")  # driver's / drivers / driver
                    i += 2
                    continue
                ch = keyword[i]
                # Spaces and underscores are interchangeable and optional: "birth date",
                # "birthdate", Symphony's ".USER_BIRTH_DATE.", "lic #" / "lic#".
                body.append(r"[ \t_]*" if ch in " _" else re.escape(ch))
                i += 1
            pattern = "".join(body) if cased else "(?i:" + "".join(body) + ")"
            parts.append(pattern + (r"(?![A-Za-z0-9])" if keyword[-1].isalnum() else ""))
        # A keyword stands alone ("id g93DL2f25099" holds no "DL"); "_" is not alphanumeric,
        # so "USER_BIRTH_DATE" still has a boundary before "BIRTH".
        self._pattern = re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(parts) + ")")
        self._needles = tuple(sorted(needles))

    def finditer(self, text: str) -> Iterator[tuple[int, int]]:
        """Yield (start, end) of each keyword in `text`, left to right, without overlaps."""
        lowered = text.lower()
        if len(lowered) != len(text):
            # A few characters change length when lower-cased ("İ"): offsets would drift.
            for m in self._pattern.finditer(text):
                yield m.start(), m.end()
            return
        starts: set[int] = set()
        for needle, folded in self._needles:
            hay = lowered if folded else text
            p = hay.find(needle)
            while p != -1:
                if p == 0 or not (lowered[p - 1].isascii() and lowered[p - 1].isalnum()):
                    starts.add(p)
                p = hay.find(needle, p + 1)
        last_end = -1
        for p in sorted(starts):
            if p < last_end:
                continue
            hit = self._pattern.match(text, p)
            if hit is not None:
                last_end = hit.end()
                yield hit.start(), hit.end()


# ------------------------------------------------------------------ licences

_DRIVERS_LICENSE = frozenset({Category.DRIVERS_LICENSE})


# What may separate a licence keyword from its number: punctuation, white space and
# at most three label words ("Driver's License Number: 1234567", "DL # OR 1234567").
# Anything else ("DL exp 01/02/2025", "id g93DL2f25099; Thu, 3 Oct") breaks the link.
_GAP_PUNCT = r"[ \t\r\n:#.=|\"'()\[\]-]*"
_DL_GAP = re.compile(
    _GAP_PUNCT
    + r"(?:(?i:number|num|nbr|no|is|state|oregon|or|id|card|lic|license|licence)(?![A-Za-z])"
    + _GAP_PUNCT
    + r"){0,3}"
)


class DriversLicenseDetector:
    """Finds driver licence / state ID numbers written shortly after a licence keyword."""

    name = "drivers_license"

    def __init__(self, settings: IdentitySettings | None = None) -> None:
        self.settings = settings or IdentitySettings()
        s = self.settings
        self._keywords = _Keywords(s.dl_keywords)
        # A letter and 6-8 digits, or a plain number; never part of a version ("3.0"),
        # a date ("01/02"), a phone ("503-555"), a code ("GPL-2") or a longer token.
        self._value = re.compile(
            r"(?<!\w)(?<!\d[.,/:-])(?<![A-Za-z]-)"
            rf"(?:[A-Za-z]\d{{6,8}}|\d{{{s.dl_min_digits},{s.dl_max_digits}}})"
            r"(?!\w)(?![.,/:-]\d)(?!-\w)"
            # "ID card expires in 30 days", "DL 3 Oct": a count or a date, not a number.
            # ("May" is left out: "DL 1234567 may be renewed".)
            r"(?![ \t]?(?i:days?|weeks?|months?|years?|hours?|minutes?|mins?|copies|items|pages|am|pm|%"
            r"|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|june?|july?|aug(?:ust)?|sept?(?:ember)?"
            r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?(?![A-Za-z]))"
        )

    def detect(self, part: TextPart) -> Iterator[Finding]:
        """Yield a DRIVERS_LICENSE finding for the first plausible number after each licence keyword."""
        text = part.text
        window = self.settings.dl_window
        last_end = -1
        for _, kw_end in self._keywords.finditer(text):
            # The search ends a little past the longest value so the right-edge checks can see.
            m = self._value.search(text, kw_end, kw_end + window + self.settings.dl_max_digits + 16)
            if m is None or m.start() > kw_end + window or m.start() < last_end:
                continue
            if not _DL_GAP.fullmatch(text, kw_end, m.start()):
                continue  # only punctuation and label words may stand between keyword and number
            value = m.group()
            if value.isdigit() and len(value) == 4 and 1900 <= int(value) <= 2099:
                continue  # a year ("renewed 2019"), not a number
            last_end = m.end()
            yield Finding(
                kind=Kind.DRIVERS_LICENSE,
                part=part.path,
                start=m.start(),
                end=m.end(),
                score=0.85,
                reason="licence-keyword-near number",
                masked=mask(value),
                detector=self.name,
                categories=_DRIVERS_LICENSE,
            )


# --------------------------------------------------------------- birth dates

_BIRTH_DATE = frozenset({Category.BIRTH_DATE})

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DATE = re.compile(
    r"(?<![\w/.-])(?:"
    r"(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"  # 01/02/1990, 1-2-90
    r"|(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"  # 1990-01-02
    r"|(?P<cy>(?:19|20)\d{2})(?P<cm>[01]\d)(?P<cd>[0-3]\d)"  # 19900102 (Symphony |a19900102)
    rf"|(?P<mn>{_MONTH})[ \t]+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?,?[ \t]+(?P<my>\d{{4}})"  # January 2, 1990
    rf"|(?P<dd>\d{{1,2}})(?:st|nd|rd|th)?[ \t]+(?P<dm>{_MONTH}),?[ \t]+(?P<dy>\d{{4}})"  # 2 Jan 1990
    r")(?![\w/-])(?!\.\d)"
)
# Symphony writes "|a" before a value; let the 8-digit form follow it.
_DATE_SYMPHONY = re.compile(r"(?<=\|a)(?P<cy>(?:19|20)\d{2})(?P<cm>[01]\d)(?P<cd>[0-3]\d)(?!\d)")
_DATE_MAX = 24
_DIGIT = re.compile(r"\d")


def _plausible(m: re.Match[str]) -> bool:
    """True when the matched date has a real month and day (either order for numeric dates)."""
    g = m.groupdict()
    if g.get("a") is not None:
        a, b = int(g["a"]), int(g["b"])
        return (1 <= a <= 12 and 1 <= b <= 31) or (1 <= b <= 12 and 1 <= a <= 31)
    if g.get("iy") is not None:
        return 1 <= int(g["im"]) <= 12 and 1 <= int(g["id"]) <= 31
    if g.get("cy") is not None:
        return 1 <= int(g["cm"]) <= 12 and 1 <= int(g["cd"]) <= 31
    if g.get("mn") is not None:
        return 1 <= int(g["md"]) <= 31 and g["mn"][:3].lower() in _MONTHS
    return 1 <= int(g["dd"]) <= 31 and g["dm"][:3].lower() in _MONTHS


class BirthDateDetector:
    """Finds dates written within a few characters of a birth-date keyword."""

    name = "birth_dates"

    def __init__(self, settings: IdentitySettings | None = None) -> None:
        self.settings = settings or IdentitySettings()
        self._keywords = _Keywords(self.settings.dob_keywords)

    def detect(self, part: TextPart) -> Iterator[Finding]:
        """Yield a BIRTH_DATE finding for each date near a birth-date keyword (each date once)."""
        text = part.text
        window = self.settings.dob_window
        reported: set[int] = set()
        for kw_start, kw_end in self._keywords.finditer(text):
            lo = max(0, kw_start - window - _DATE_MAX)
            hi = min(len(text), kw_end + window + _DATE_MAX)
            if _DIGIT.search(text, lo, hi) is None:
                continue  # every date form has digits
            for pattern in (_DATE, _DATE_SYMPHONY):
                for m in pattern.finditer(text, lo, hi):
                    after = m.start() >= kw_end and m.start() - kw_end <= window
                    before = m.end() <= kw_start and kw_start - m.end() <= window
                    if not (after or before) or m.start() in reported or not _plausible(m):
                        continue
                    # The window must not be the edge of a longer token cut by `hi`.
                    if m.end() == hi and hi < len(text) and (text[hi].isalnum() or text[hi] in "/-"):
                        continue
                    reported.add(m.start())
                    yield Finding(
                        kind=Kind.BIRTH_DATE,
                        part=part.path,
                        start=m.start(),
                        end=m.end(),
                        score=0.85,
                        reason="birth-date-keyword-near date",
                        masked=mask(m.group()),
                        detector=self.name,
                        categories=_BIRTH_DATE,
                    )
