"""The patron directory: matching a message against the library's own patron records.

This module owns the normal forms both sides agree on (an ILS export when it is
imported, a message when it is scanned) and the matching step: which of a
message's candidate tokens — names, phones, emails, street addresses, card
numbers, birth dates — belong to a known patron, and whether a name and an
identifier close together belong to the *same* patron.

It never sees the index itself: it asks a `PatronLookup` (the proxy's keyed-hash
index, or an in-memory fake in tests) which opaque patron ids a normalised value
belongs to. Pure and bounded; no I/O, no clear values kept or returned (findings
carry masked text only).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import phonenumbers

from detectors.findings import Category, Finding, Kind, TextPart, mask


class TokenKind(enum.StrEnum):
    """What a directory token stands for. Values are part of the keyed hash: never change them."""

    NAME = "name"
    CARD = "card"
    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "address"
    BIRTH_DATE = "birth"
    GUARDIAN_EMAIL = "guardian-email"


class PatronLookup(Protocol):
    """Which patrons (opaque ids) each normalised value belongs to. Values absent: no entry.

    A lookup with a true `nicknames` attribute was built with names read through `NICKNAMES`.
    """

    def lookup(self, queries: Iterable[tuple[TokenKind, str]]) -> Mapping[tuple[TokenKind, str], frozenset[int]]: ...


class MemoryLookup:
    """An in-memory `PatronLookup` (tests, benchmarks): {(kind, value): ids}."""

    def __init__(self, entries: Mapping[tuple[TokenKind, str], Iterable[int]] | None = None) -> None:
        self.entries: dict[tuple[TokenKind, str], frozenset[int]] = {k: frozenset(v) for k, v in (entries or {}).items()}

    def add(self, kind: TokenKind, value: str | None, patron: int) -> None:
        if value:
            key = (kind, value)
            self.entries[key] = self.entries.get(key, frozenset()) | {patron}

    def lookup(self, queries: Iterable[tuple[TokenKind, str]]) -> dict[tuple[TokenKind, str], frozenset[int]]:
        return {q: self.entries[q] for q in queries if q in self.entries}


# ----------------------------------------------------------------- normal forms


_HONORIFICS = frozenset("MR MRS MS MISS MX DR SR SRA SRTA DON DONA PROF".split())
_SUFFIXES_OF_NAMES = frozenset("JR SR II III IV".split())
_NAME_SPLIT = re.compile(r"[\s.]+")
_NOT_LETTER = re.compile(r"[^A-Za-z]+")
_POSSESSIVE = re.compile(r"['’]s?(?=\s|$)")


def _fold_word(word: str) -> str:
    """Upper case without accents or apostrophes ("Núñez" → "NUNEZ", "O'Brien" → "OBRIEN")."""
    if word.isascii():
        return word.upper() if word.isalpha() else _NOT_LETTER.sub("", word).upper()
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if ch.isalpha() and not unicodedata.combining(ch)).upper()


# Common English nicknames → the given name they stand for (an index imported with --nicknames
# reads both sides through this table: "Bill Smith" in a letter is William Smith of the record).
NICKNAMES = {
    "ABBY": "ABIGAIL", "AL": "ALBERT", "ALEX": "ALEXANDER", "ANDY": "ANDREW", "BECKY": "REBECCA", "BEN": "BENJAMIN",
    "BETH": "ELIZABETH", "BETSY": "ELIZABETH", "BETTY": "ELIZABETH", "BILL": "WILLIAM", "BILLY": "WILLIAM",
    "BOB": "ROBERT", "BOBBY": "ROBERT", "CATHY": "CATHERINE", "CHRIS": "CHRISTOPHER", "CHUCK": "CHARLES",
    "CINDY": "CYNTHIA", "DAN": "DANIEL", "DANNY": "DANIEL", "DAVE": "DAVID", "DEBBIE": "DEBORAH", "DEB": "DEBORAH",
    "DICK": "RICHARD", "DON": "DONALD", "ED": "EDWARD", "EDDIE": "EDWARD", "FRED": "FREDERICK", "GREG": "GREGORY",
    "JAKE": "JACOB", "JEFF": "JEFFREY", "JENNY": "JENNIFER", "JEN": "JENNIFER", "JERRY": "GERALD", "JIM": "JAMES",
    "JIMMY": "JAMES", "JOE": "JOSEPH", "JOEY": "JOSEPH", "JOHNNY": "JOHN", "JON": "JONATHAN", "KATE": "KATHERINE",
    "KATHY": "KATHERINE", "KATIE": "KATHERINE", "KEN": "KENNETH", "KENNY": "KENNETH", "LARRY": "LAWRENCE",
    "LIZ": "ELIZABETH", "LIZZIE": "ELIZABETH", "MAGGIE": "MARGARET", "MANDY": "AMANDA", "MATT": "MATTHEW",
    "MEG": "MARGARET", "MIKE": "MICHAEL", "MICKEY": "MICHAEL", "NATE": "NATHAN", "NICK": "NICHOLAS", "PAM": "PAMELA",
    "PAT": "PATRICIA", "PATTY": "PATRICIA", "PEGGY": "MARGARET", "PETE": "PETER", "PHIL": "PHILIP", "RICH": "RICHARD",
    "RICK": "RICHARD", "RICKY": "RICHARD", "ROB": "ROBERT", "RON": "RONALD", "SAM": "SAMUEL", "SANDY": "SANDRA",
    "STEVE": "STEVEN", "SUE": "SUSAN", "SUSIE": "SUSAN", "TED": "THEODORE", "TERRY": "TERENCE", "TIM": "TIMOTHY",
    "TOM": "THOMAS", "TOMMY": "THOMAS", "TONY": "ANTHONY", "VICKY": "VICTORIA", "WILL": "WILLIAM", "ZACH": "ZACHARY",
}  # fmt: skip


def name_key(value: str, nicknames: bool = False) -> str | None:
    """"jane doe" for "DOE, JANE M", "Jane M. Doe", "Ms. Jane Doe" and "Dóe, Jáne": given name and
    last surname word, accents and case folded, honorifics, middle names, initials and "Jr" dropped;
    None for one word (or anything with digits). With `nicknames`, "Bill" is read as "William"."""
    if any(ch.isdigit() for ch in value):
        return None
    value = _POSSESSIVE.sub("", value)  # "Jane Doe's number"
    last, comma, first = value.partition(",")
    if comma:
        given_words = [w for w in map(_fold_word, _NAME_SPLIT.split(first)) if w]
        surname_words = [w for w in map(_fold_word, _NAME_SPLIT.split(last)) if w]
        if given_words and given_words[-1] in _SUFFIXES_OF_NAMES:  # "DOE, JANE JR"
            given_words.pop()
    else:
        words = [w for w in map(_fold_word, _NAME_SPLIT.split(value)) if w]
        while words and words[0] in _HONORIFICS:
            words.pop(0)
        while len(words) > 2 and words[-1] in _SUFFIXES_OF_NAMES:
            words.pop()
        given_words, surname_words = words[:1], words[1:]
    given_words = [w for w in given_words if w not in _HONORIFICS]
    if not given_words or not surname_words:
        return None
    given = NICKNAMES.get(given_words[0], given_words[0]) if nicknames else given_words[0]
    return f"{given.lower()} {surname_words[-1].lower()}"


# A North American number in one of its usual shapes: read without phonenumbers (the import's hot path).
_NANP = re.compile(r"^(?:\+?1[\s.-]?)?\(?([2-9]\d{2})\)?[\s.-]?([2-9]\d{2})[\s.-]?(\d{4})$")


def phone_key(value: str, region: str = "US") -> str | None:
    """E.164 ("+15035550142") for a valid number written any usual way; None otherwise."""
    value = value.strip()
    if not value or sum(ch.isdigit() for ch in value) < 7:
        return None
    if region in ("US", "CA"):
        m = _NANP.match(value)
        if m:
            return "+1" + "".join(m.groups())
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def email_key(value: str) -> str | None:
    """The address lower-cased ("mailto:" and angle brackets dropped); None when it is not one."""
    value = value.strip().strip("<>").strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    value = value.lower()
    return value if _EMAIL.match(value) else None


def card_key(value: str) -> str | None:
    """The digits of a card number ("2 3610 00362281 7", "A23610003622817B" → "23610003622817"); 6–20 digits."""
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits if 6 <= len(digits) <= 20 else None


# USPS Publication 28 abbreviations: street suffixes, directionals and unit designators.
_SUFFIXES = {
    "ALLEY": "ALY", "AVENUE": "AVE", "AV": "AVE", "AVEN": "AVE", "BOULEVARD": "BLVD", "BOUL": "BLVD", "CIRCLE": "CIR",
    "COURT": "CT", "CRT": "CT", "COVE": "CV", "CREEK": "CRK", "CRESCENT": "CRES", "CROSSING": "XING", "DRIVE": "DR",
    "DRV": "DR", "EXPRESSWAY": "EXPY", "FREEWAY": "FWY", "GROVE": "GRV", "HEIGHTS": "HTS", "HIGHWAY": "HWY",
    "HILL": "HL", "HOLLOW": "HOLW", "JUNCTION": "JCT", "LANE": "LN", "LOOP": "LOOP", "MEADOWS": "MDWS",
    "MOUNTAIN": "MTN", "PARKWAY": "PKWY", "PKY": "PKWY", "PLACE": "PL", "PLAZA": "PLZ", "POINT": "PT",
    "RIDGE": "RDG", "ROAD": "RD", "ROUTE": "RTE", "SQUARE": "SQ", "STREET": "ST", "STR": "ST", "TERRACE": "TER",
    "TRAIL": "TRL", "TURNPIKE": "TPKE", "VALLEY": "VLY", "VIEW": "VW", "VILLAGE": "VLG", "WAY": "WAY",
    "CENTER": "CTR", "ESTATES": "EST", "GARDENS": "GDNS", "HARBOR": "HBR", "ISLAND": "IS", "LAKE": "LK",
    "PARK": "PARK", "PASS": "PASS", "PATH": "PATH", "PIKE": "PIKE", "RUN": "RUN", "WALK": "WALK",
}  # fmt: skip
_DIRECTIONS = {
    "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W",
    "NORTHEAST": "NE", "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW",
}  # fmt: skip
_UNITS = frozenset("APT APARTMENT UNIT STE SUITE SPC SPACE LOT BLDG BUILDING FL FLOOR RM ROOM TRLR DEPT #".split())
_ORDINALS = {
    "FIRST": "1ST", "SECOND": "2ND", "THIRD": "3RD", "FOURTH": "4TH", "FIFTH": "5TH",
    "SIXTH": "6TH", "SEVENTH": "7TH", "EIGHTH": "8TH", "NINTH": "9TH", "TENTH": "10TH",
}  # fmt: skip
_PO_BOX = re.compile(r"^(?:P\s*O|POST\s+OFFICE)\s*BOX\s+(\w+)", re.IGNORECASE)


def _fold_text(value: str) -> str:
    if value.isascii():
        return value.upper()
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper()


def address_key(value: str) -> str | None:
    """The street line in USPS form: "123 Example Street North-East, Apt. 4$Salem OR 97301" →
    "123 EXAMPLE ST NE". House number and street only: units, city, state and ZIP are dropped
    (a message writes them every which way); "PO BOX 12" stays "PO BOX 12". None when no
    house number leads the line."""
    line = value.split("$", 1)[0].split("\n", 1)[0].split(",", 1)[0]
    line = _fold_text(line).replace(".", " ").replace("#", " # ")
    line = re.sub(r"\b(NORTH|SOUTH)[ -]?(EAST|WEST)\b", lambda m: m.group(1)[0] + m.group(2)[0], line)
    po = _PO_BOX.match(line.strip())
    if po:
        return f"PO BOX {po.group(1)}"
    words = [w for w in re.split(r"[\s,;]+", line) if w]
    if not words or not re.fullmatch(r"\d{1,6}[A-Z]?(?:-\d{1,4})?|\d{1,6}\s?1/2", words[0]):
        return None
    out = [words[0]]
    for w in words[1:]:
        if w in _UNITS:
            break
        w = w.strip("'\"()-")
        if not w:
            continue
        out.append(_DIRECTIONS.get(w) or _SUFFIXES.get(w) or _ORDINALS.get(w) or w)
    if len(out) < 2:
        return None
    return " ".join(out)


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$|^(\d{4})(\d{2})(\d{2})$")
_US = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$")


def birth_key(value: str, today: date | None = None) -> str | None:
    """ISO date ("1990-01-02") for 1990-01-02, 19900102, 01/02/1990, 1-2-90 (US month first); None otherwise."""
    value = value.strip()
    m = _ISO.match(value)
    if m:
        y, mo, d = (int(g) for g in (m.groups()[:3] if m.group(1) else m.groups()[3:]))
    else:
        m = _US.match(value)
        if not m:
            return None
        mo, d, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if y < 100:
            y += 2000 if 2000 + y <= (today or date.today()).year else 1900
    try:
        return date(y, mo, d).isoformat()
    except ValueError:
        return None


# ----------------------------------------------------------------- matching


@dataclass(frozen=True, slots=True)
class DirectorySettings:
    region: str = "US"  # for phone numbers written without a country code
    proximity_chars: int = 300  # a name and an identifier this close are about the same person
    max_candidates: int = 2000  # tokens looked up per message, at most (bounded work)


@dataclass(frozen=True, slots=True)
class Hit:
    """A candidate token of the message that is in the directory."""

    kind: TokenKind
    part: str
    start: int
    end: int
    patrons: frozenset[int]
    masked: str


@dataclass(frozen=True, slots=True)
class DirectoryMatch:
    """What the directory says about one message: new findings, and whom each is about."""

    findings: tuple[Finding, ...] = ()
    # (part, start, end) of each directory finding → the opaque ids of the patrons it is about.
    patrons: Mapping[tuple[str, int, int], frozenset[int]] = field(default_factory=dict)


_IDENTIFIER_KINDS = {
    Kind.PHONE: TokenKind.PHONE,
    Kind.EMAIL: TokenKind.EMAIL,
    Kind.STREET_ADDRESS: TokenKind.ADDRESS,
    Kind.BIRTH_DATE: TokenKind.BIRTH_DATE,
}
_CATEGORY = {
    TokenKind.PHONE: Category.PHONE,
    TokenKind.EMAIL: Category.EMAIL,
    TokenKind.ADDRESS: Category.ADDRESS,
    TokenKind.BIRTH_DATE: Category.BIRTH_DATE,
    TokenKind.CARD: Category.CARD_NUMBER,
}
# Digit runs that may be a card number: plain, spaced or hyphenated, in Codabar letters.
_DIGIT_RUN = re.compile(r"(?<![\w.-])[A-Da-d]?(\d(?:[ -]?\d){5,19})[A-Da-d]?(?![\w-])")
DETECTOR = "directory"


class DirectoryMatcher:
    """Looks a message's candidate tokens up in the patron directory."""

    def __init__(self, lookup: PatronLookup, settings: DirectorySettings | None = None) -> None:
        self.lookup = lookup
        self.settings = settings or DirectorySettings()

    def _key(self, kind: TokenKind, value: str) -> str | None:
        if kind is TokenKind.PHONE:
            return phone_key(value, self.settings.region)
        if kind is TokenKind.EMAIL:
            return email_key(value)
        if kind is TokenKind.ADDRESS:
            return address_key(value)
        if kind is TokenKind.BIRTH_DATE:
            return birth_key(value)
        if kind is TokenKind.CARD:
            return card_key(value)
        return name_key(value, bool(getattr(self.lookup, "nicknames", False)))

    def _hits(self, spans: Sequence[tuple[TokenKind, TextPart, int, int]]) -> list[Hit]:
        keyed: list[tuple[TokenKind, TextPart, int, int, str]] = []
        for kind, part, start, end in spans[: self.settings.max_candidates]:
            key = self._key(kind, part.text[start:end])
            if key:
                keyed.append((kind, part, start, end, key))
        if not keyed:
            return []
        found = self.lookup.lookup({(k, key) for k, _, _, _, key in keyed})
        return [
            Hit(kind, part.path, start, end, found[(kind, key)], mask(part.text[start:end]))
            for kind, part, start, end, key in keyed
            if found.get((kind, key))
        ]

    def identifiers(self, parts: Sequence[TextPart], findings: Sequence[Finding]) -> list[Hit]:
        """The message's identifiers and card-like digit runs that belong to a known patron."""
        by_path = {p.path: p for p in parts}
        spans: list[tuple[TokenKind, TextPart, int, int]] = []
        seen: set[tuple[TokenKind, str, int, int]] = set()
        for f in findings:
            kind = _IDENTIFIER_KINDS.get(f.kind)
            part = by_path.get(f.part)
            if kind is not None and part is not None and (kind, f.part, f.start, f.end) not in seen:
                seen.add((kind, f.part, f.start, f.end))
                spans.append((kind, part, f.start, f.end))
        for part in parts:
            for m in _DIGIT_RUN.finditer(part.text):
                spans.append((TokenKind.CARD, part, m.start(1), m.end(1)))
        return self._hits(spans)

    def match(self, parts: Sequence[TextPart], findings: Sequence[Finding], identifiers: Sequence[Hit]) -> DirectoryMatch:
        """Directory findings for a message whose names have been found (`findings`):

        - a known patron's card number (``known_patron_card``, strong);
        - a known patron's name and, close to it, an identifier of the same patron
          (``known_patron``, strong; spans the name and the identifier);
        - a known patron's name alone (``known_patron_name``, weak: names are shared).
        """
        by_path = {p.path: p for p in parts}
        names = [
            (f.kind, by_path[f.part], f.start, f.end)
            for f in findings
            if f.kind is Kind.PERSON_NAME and f.part in by_path
        ]
        name_hits = self._hits([(TokenKind.NAME, part, s, e) for _, part, s, e in names])
        out: list[Finding] = []
        patrons: dict[tuple[str, int, int], frozenset[int]] = {}

        def emit(finding: Finding, ids: frozenset[int]) -> None:
            key = (finding.part, finding.start, finding.end)
            if key not in patrons:
                out.append(finding)
                patrons[key] = ids
            else:
                patrons[key] = patrons[key] | ids

        for hit in identifiers:
            if hit.kind is TokenKind.CARD:
                emit(
                    Finding(Kind.KNOWN_PATRON_CARD, hit.part, hit.start, hit.end, 0.95, "directory-card",
                            hit.masked, DETECTOR, frozenset({Category.CARD_NUMBER})),
                    hit.patrons,
                )
        prox = self.settings.proximity_chars
        # Identifiers by part and start: the ones near a name without a pass over all of them.
        by_part: dict[str, list[Hit]] = {}
        for ident in sorted(identifiers, key=lambda h: h.start):
            by_part.setdefault(ident.part, []).append(ident)
        starts = {path: [h.start for h in hits] for path, hits in by_part.items()}
        for name in name_hits:
            paired = False
            hits = by_part.get(name.part, [])
            lo = bisect_left(starts.get(name.part, []), name.start - prox - 200)  # identifiers are short (a street line at most)
            hi = bisect_right(starts.get(name.part, []), name.end + prox)
            for ident in hits[lo:hi]:
                if not (name.start - prox <= ident.end and ident.start - prox <= name.end):
                    continue
                same = name.patrons & ident.patrons
                if not same:
                    continue
                paired = True
                start, end = min(name.start, ident.start), max(name.end, ident.end)
                emit(
                    Finding(Kind.KNOWN_PATRON, name.part, start, end, 0.95, f"directory-patron name+{ident.kind.value}",
                            f"{name.masked} … {ident.masked}", DETECTOR,
                            frozenset({Category.NAME, _CATEGORY[ident.kind]})),
                    same,
                )
            if not paired:
                emit(
                    Finding(Kind.KNOWN_PATRON_NAME, name.part, name.start, name.end, 0.4, "directory-name",
                            name.masked, DETECTOR, frozenset({Category.NAME})),
                    name.patrons,
                )
        return DirectoryMatch(tuple(out), patrons)

    def recipient_patrons(self, address: str, guardians: bool) -> frozenset[int]:
        """The patrons whose own email on record is `address` (and, with `guardians`, the minors
        whose guardian's email it is)."""
        key = email_key(address)
        if not key:
            return frozenset()
        kinds = [TokenKind.EMAIL] + ([TokenKind.GUARDIAN_EMAIL] if guardians else [])
        found = self.lookup.lookup([(k, key) for k in kinds])
        out: frozenset[int] = frozenset()
        for ids in found.values():
            out |= ids
        return out
