"""US postal addresses: street lines, PO boxes, rural routes, city/state/ZIP lines.

This module owns recognising the address shapes that appear in patron records
and notices — ``123 Example St NE Apt 4``, ``PO Box 123``, ``Salem, OR 97301``,
and Millennium's one-line ``123 EXAMPLE ST NE APT 4$SALEM OR 97301`` — with
patterns strict enough for ordinary mail: a street line needs a house number,
capitalised street-name words and a real street suffix, so "2 hours ago",
"100 people attended" and "Windows 2000 Server" do not match.

It must not decide whose address it is: the library's own address in a
signature is an address too; policy weighs it against other evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from detectors.findings import Category, Finding, Kind, TextPart, mask

__all__ = ["AddressDetector", "AddressSettings", "street_key"]


_CATEGORIES = frozenset({Category.ADDRESS})


@dataclass(frozen=True, slots=True)
class AddressSettings:
    """Which address shapes to report."""

    streets: bool = True
    city_state_zip: bool = True
    # Street-name words allowed between the house number and the suffix ("Martin Luther King Jr Blvd").
    max_street_words: int = 5
    # The library's own street addresses (config library.locations): never reported, nor the
    # city line right under one.
    own_locations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.max_street_words <= 8:
            raise ValueError("max_street_words must be 1..8")


# USPS street suffixes common in the Pacific Northwest, in Title and UPPER case.
# Left out on purpose: words that are ordinary English after a number and a
# capitalised word ("Run", "Row", "Path", "Point", "Loop", "Square").
_SUFFIXES = (
    "Street|St|Avenue|Ave|Av|Road|Rd|Drive|Dr|Lane|Ln|Boulevard|Blvd|Court|Ct|Place|Pl|Way"
    "|Circle|Cir|Terrace|Ter|Parkway|Pkwy|Highway|Hwy|Trail|Trl|Alley|Aly|Plaza|Plz|Crescent"
    "|Cres|Expressway|Expy|Freeway|Fwy|Heights|Hts|Landing|Lndg"
)
_SUFFIX = "(?:" + _SUFFIXES + "|" + _SUFFIXES.upper() + ")"
_DIRECTIONAL = r"(?:N\.[EW]\.|S\.[EW]\.|NE|NW|SE|SW|N|S|E|W)(?![A-Za-z])"
_UNIT = r"(?:Apt|APT|Apartment|APARTMENT|Suite|SUITE|Ste|STE|Unit|UNIT|Bldg|BLDG|Spc|SPC|Space|SPACE|Lot|LOT|Rm|RM|Room|ROOM|\#)"

# One street-name word: capitalised or upper-case ("Center", "MAIN", "O'Neil",
# "Mc-Kay"), or an ordinal ("12th", "1ST"). Lower-case words never make a street.
_NAME_WORD = r"(?:[A-Z][A-Za-z'’-]{0,20}\.?|\d{1,3}(?:st|nd|rd|th|ST|ND|RD|TH))"


def _street_pattern(max_words: int) -> re.Pattern[str]:
    return re.compile(
        # The left edge is checked after the first digit: a pattern that starts with a
        # character class lets `re` skip ahead quickly, a leading lookbehind does not.
        r"(?P<number>\d(?:(?<=\|a\d)|(?<![\w.,/$-]\d))\d{0,5}(?:-?[A-Z](?![A-Za-z]))?(?:[ ]1/2)?)"  # 4400, 123A, 12-B, 10 1/2
        r"(?![ \t]{1,2}(?:AM|PM|A\.M\.|P\.M\.)(?![A-Za-z]))"  # "7 AM CT" is a time, CT a time zone
        r"[ \t]{1,2}"
        rf"(?:{_NAME_WORD}[ \t]{{1,2}}){{1,{max_words}}}?"  # lazy: stop at the first suffix
        rf"(?P<suffix>{_SUFFIX})\b\.?"
        rf"(?:[ \t]{_DIRECTIONAL}\.?)?"
        rf"(?:,?[ \t]{{1,2}}{_UNIT}\.?[ \t]?\#?[ \t]?[A-Za-z0-9-]{{1,6}}\b)?"
    )


# Each starts with its first letter as a character class and checks the left edge
# after it, for the same reason as the street pattern.
_PO_BOX = re.compile(
    r"[Pp](?:(?<=\|a[Pp])|(?<![\w.-][Pp]))"
    r"(?i:\.?[ ]?O\.?[ ]?Box|ost[ ]Office[ ]Box|OB)[ \t]{0,2}\#?[ \t]?\d{1,6}\b(?![.,]\d)"
)
_RURAL = re.compile(
    r"[Rr](?<![\w.][Rr])(?:"
    r"(?i:ural[ ]Route)[ \t]\#?\d{1,3}\b(?:,?[ \t](?i:Box)[ \t]\d{1,5}\b)?"
    r"|(?<=R)(?:R|\.R\.)[ \t]?\#?\d{1,3},?[ \t](?i:Box)[ \t]\d{1,5}\b"
    r")"
)
_GENERAL_DELIVERY = re.compile(r"[Gg](?<![\w.][Gg])(?i:eneral[ ]Delivery)\b")

_STATE_CODES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY"
    "|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|GU|VI|AS|MP"
)
_STATE_NAMES = (
    "Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|District of Columbia|Florida"
    "|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts"
    "|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico"
    "|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina"
    "|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming|Puerto Rico"
)
_STATE = "(?:" + _STATE_CODES + "|" + _STATE_NAMES + "|" + _STATE_NAMES.upper() + r")\.?"

# City: one to three capitalised words. State: a USPS code (upper case only, so
# "or"/"in"/"me" in prose never count) or a full name. ZIP or ZIP+4.
_CITY_WORD = r"[A-Z][A-Za-z.'’-]{1,24}"
_CITY_LINE = re.compile(
    r"(?<![A-Za-z])"
    rf"(?P<city>{_CITY_WORD}(?:[ ]{_CITY_WORD}){{0,2}})"
    rf",?[ \t]{{1,3}}{_STATE},?[ \t]{{1,3}}"
    r"(?P<zip>\d{5}(?:-\d{4})?)(?![\d-])"
)
# Every number that could be a house number or a ZIP, found in one pass; the
# left edge is checked after the first digit so `re` can skip ahead quickly.
_NUMBER = re.compile(r"\d(?:(?<=\|a\d)|(?<![\w.,/$-]\d))\d{0,5}+(?!\d)")
_ZIP4 = re.compile(r"-\d{4}(?![\d-])")
_CITY_WINDOW = 24 * 3 + 2 + 3 + 20 + 3  # three city words, separators, a state name, a comma

# Millennium joins address lines with "$"; the first line starts with a house
# number, a PO box, a rural route or "General Delivery".
_MILLENNIUM_LINE_STOP = '$\n\r\t|"<>=[]'
_MILLENNIUM_START = re.compile(
    r"(?<![\w.])(?:\d{1,6}[A-Za-z]?(?=[ \t])|(?i:P\.?[ ]?O\.?[ ]?Box)|(?i:Rural[ ]Route)|RR(?=[ \t#\d])|(?i:General[ ]Delivery))"
)

# (reason, pattern, words one of which must be present for the pattern to run)
_OTHER_STREET_SHAPES: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (
    ("po-box", _PO_BOX, ("box", "Box", "BOX", "POB")),
    ("rural-route", _RURAL, ("RR", "R.R.", "oute", "OUTE")),
    ("general-delivery", _GENERAL_DELIVERY, ("elivery", "ELIVERY")),
)


class AddressDetector:
    """Finds US street addresses, PO boxes, rural routes and city/state/ZIP lines."""

    name = "addresses"

    def __init__(self, settings: AddressSettings | None = None) -> None:
        self.settings = settings or AddressSettings()
        self._street = _street_pattern(self.settings.max_street_words)
        self._own = frozenset(k for k in map(street_key, self.settings.own_locations) if k)

    def detect(self, part: TextPart) -> Iterator[Finding]:
        """Yield STREET_ADDRESS and CITY_STATE_ZIP findings, one per address line (one per Millennium address)."""
        text = part.text
        cities, streets = self._numbered_lines(text)
        covered: list[tuple[int, int]] = []  # Millennium spans: their lines are not reported again
        findings: list[Finding] = []
        for city in cities:
            if text[city.start() - 1 : city.start()] == "$":
                joined = self._millennium(part, text, city)
                if joined is not None:
                    covered.append((joined.start, joined.end))
                    findings.append(joined)
                    continue
            if self.settings.city_state_zip:
                findings.append(
                    self._finding(part, city.start(), city.end(), Kind.CITY_STATE_ZIP, 0.5, "city-state-zip")
                )
        if self.settings.streets:
            matches = [("street-address", m) for m in streets]
            for reason, pattern, hints in _OTHER_STREET_SHAPES:
                if any(h in text for h in hints):  # cheap skip: the shape's key word is absent
                    matches.extend((reason, m) for m in pattern.finditer(text))
            for reason, m in matches:
                if not any(s <= m.start() < e for s, e in covered):
                    findings.append(self._finding(part, m.start(), m.end(), Kind.STREET_ADDRESS, 0.7, reason))
        findings.sort(key=lambda f: (f.start, f.end))
        if self._own:
            findings = self._without_own(text, findings)
        yield from findings

    def _without_own(self, text: str, findings: list[Finding]) -> list[Finding]:
        """Drop the library's own street lines and the city line that follows each."""
        kept: list[Finding] = []
        own_end = -1
        for f in findings:
            if f.kind is Kind.STREET_ADDRESS and street_key(text[f.start : f.end]) in self._own:
                own_end = f.end
                continue
            if f.kind is Kind.CITY_STATE_ZIP and 0 <= f.start - own_end <= 8:
                continue  # "Salem, OR 97301" under (or beside) the library's street line
            kept.append(f)
        return kept

    def _numbered_lines(self, text: str) -> tuple[list[re.Match[str]], list[re.Match[str]]]:
        """City/state/ZIP lines and street lines, from one pass over the numbers in `text`.

        Both shapes hang off a number (the ZIP, the house number). Scanning digits is
        the expensive part of `re` on mail, so it is done once and each shape's
        pattern runs only where a number could start it.
        """
        cities: list[re.Match[str]] = []
        streets: list[re.Match[str]] = []
        city_floor = 0
        for n in _NUMBER.finditer(text):
            start, end = n.span()
            after = text[end : end + 1]
            if end - start == 5:
                z4 = _ZIP4.match(text, end)
                zip_end = z4.end() if z4 else end
                if (z4 or after != "-") and _state_before(text, start):
                    lo = max(city_floor, start - _CITY_WINDOW)
                    # The window ends at the ZIP, so any match that ends there is the city line.
                    for m in _CITY_LINE.finditer(text, lo, zip_end):
                        if m.end() == zip_end:
                            city_floor = zip_end
                            cities.append(m)
                            break
            if after and (after in " \t-" or after.isupper()):
                street = self._street.match(text, start)
                if street is not None:
                    streets.append(street)
        return cities, streets

    def _millennium(self, part: TextPart, text: str, city: re.Match[str]) -> Finding | None:
        """One finding for a "$"-joined Millennium address ending in `city`, or None."""
        # Collect up to three "$"-separated lines (each at most 60 characters) before the city line.
        lines: list[tuple[int, int]] = []
        end = city.start() - 1  # the "$"
        for _ in range(3):
            start = end
            floor = max(0, end - 60)
            while start > floor and text[start - 1] not in _MILLENNIUM_LINE_STOP:
                start -= 1
            lines.insert(0, (start, end))
            if start > 0 and text[start - 1] == "$":
                end = start - 1
                continue
            break
        # The address starts at the first line holding a house number, box or route
        # (the first line may still carry a label: "ADDRESS   123 EXAMPLE ST$…").
        for start, end in lines:
            first = _MILLENNIUM_START.search(text, start, end)
            if first is not None:
                return self._finding(
                    part, first.start(), city.end(), Kind.STREET_ADDRESS, 0.7, "millennium-address"
                )
        return None

    def _finding(
        self, part: TextPart, start: int, end: int, kind: Kind, score: float, reason: str
    ) -> Finding:
        return Finding(
            kind=kind,
            part=part.path,
            start=start,
            end=end,
            score=score,
            reason=reason,
            masked=mask(part.text[start:end]),
            detector=self.name,
            categories=_CATEGORIES,
        )


_STREET_KEY = re.compile(r"^\s*(\d{1,6})[A-Za-z]?\s+(?:(?:N|S|E|W|NE|NW|SE|SW)\.?\s+)?([A-Za-z0-9'’-]+)")


def street_key(address: str) -> str | None:
    """House number and first street-name word, lower-cased: "585 Liberty St SE" → "585 liberty"."""
    m = _STREET_KEY.match(address)
    return f"{m.group(1)} {m.group(2).lower()}" if m else None


_STATE_WORDS = (
    frozenset(_STATE_CODES.split("|"))
    | frozenset(_STATE_NAMES.split("|"))
    | frozenset(_STATE_NAMES.upper().split("|"))
)


def _state_before(text: str, zip_start: int) -> bool:
    """True when the words right before a ZIP name a state ("OR", "Oregon", "New York,")."""
    head = text[max(0, zip_start - 28) : zip_start].rstrip(" \t").rstrip(",").rstrip(".")
    words = head.split()
    return any(" ".join(words[-n:]) in _STATE_WORDS for n in (1, 2, 3) if len(words) >= n)
