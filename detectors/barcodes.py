"""Library card numbers, item barcodes, partial card numbers and Sierra patron record numbers.

This module owns recognising barcode-shaped digit strings in the forms staff
write them (plain, spaced, hyphenated, Codabar-wrapped) and deciding, from the
configured layouts and check digits, whether each is a patron card, an item
barcode, or a card fragment typed next to card words. It also owns the Sierra
``.p1234567x`` patron record number.

It must not decide what a finding means for a recipient (that is policy), and it
must not report payment cards: a Luhn-valid 16-digit number matches no library
layout and is left alone.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from detectors.checksums import library_mod10_valid, sierra_check_char
from detectors.findings import Category, Finding, Kind, TextPart, mask

__all__ = ["BarcodeDetector", "BarcodeLayout", "BarcodeSettings", "DEFAULT_LAYOUTS"]


@dataclass(frozen=True, slots=True)
class BarcodeLayout:
    """One barcode layout: how long, which leading digits, whether it carries a check digit.

    `prefixes` include the type digit ("2361" = type 2, institution code 3610...); an
    empty tuple means any prefix. `type_digit` None means any first digit.
    """

    name: str
    length: int = 14
    type_digit: str | None = "2"
    prefixes: tuple[str, ...] = ("2361",)
    check_digit: bool = True
    kind: Literal["patron", "item"] = "patron"

    def __post_init__(self) -> None:
        if self.length < 4 or self.length > 32:
            raise ValueError(f"barcode layout {self.name!r}: length must be 4..32")
        if self.type_digit is not None and (len(self.type_digit) != 1 or not self.type_digit.isdigit()):
            raise ValueError(f"barcode layout {self.name!r}: type_digit must be one digit or None")
        for prefix in self.prefixes:
            if not prefix.isdigit() or len(prefix) > self.length:
                raise ValueError(
                    f"barcode layout {self.name!r}: prefix {prefix!r} must be digits shorter than the layout"
                )
            if self.type_digit is not None and not prefix.startswith(self.type_digit):
                raise ValueError(
                    f"barcode layout {self.name!r}: prefix {prefix!r} does not start with type digit {self.type_digit!r}"
                )
        if self.kind not in ("patron", "item"):
            raise ValueError(f"barcode layout {self.name!r}: kind must be 'patron' or 'item'")


# CCRLS (NOTES.md §1): patron cards 2361..., college ID cards 236..., items type 3.
DEFAULT_LAYOUTS: tuple[BarcodeLayout, ...] = (
    BarcodeLayout(name="ccrls-patron", prefixes=("2361",)),
    BarcodeLayout(name="chemeketa-student", prefixes=("236",)),
    BarcodeLayout(name="item", type_digit="3", prefixes=(), kind="item"),
)


@dataclass(frozen=True, slots=True)
class BarcodeSettings:
    """What counts as a card: layouts, the length of typed card fragments, record numbers on/off."""

    layouts: tuple[BarcodeLayout, ...] = DEFAULT_LAYOUTS
    partial_digits: int = 8
    record_numbers: bool = True
    # Cards of other libraries (reciprocal borrowing, consortium members not yet in the
    # layouts): the common 14-digit patron layout with any prefix and a valid check digit.
    # Strong next to card words; alone it only binds to a name.
    other_libraries: bool = True
    # How far (characters) a card word may be from a fragment or a near-miss number.
    context_chars: int = 40

    def __post_init__(self) -> None:
        if self.partial_digits < 4:
            raise ValueError("partial_digits must be at least 4: shorter fragments are everywhere")


# A run of digits joined by single spaces or hyphens. Newlines, tabs and double
# spaces end a run: two numbers on different lines or in different table cells
# must never be glued together. The pattern starts with a digit and checks its
# left edge after it (a lookbehind first would make `re` try every position the
# slow way); possessive quantifiers keep the scan linear. The left edge: not
# after a letter or digit, except a lone Codabar start letter A-D ("A2361…"), and
# not after a decimal point ("0.2361…"). A comma after a digit is a field
# separator: unquoted CSV writes "9/19/2024,23610003622817,503-555-0187".
_RUN = re.compile(r"\d(?<![0-9E-Ze-z]\d)(?<![0-9A-Za-z][A-Da-d]\d)(?<!\d\.\d)\d*+(?:[ -]\d++)*+")
_GROUP = re.compile(r"\d+(?:-\d+)*")
_THOUSANDS_TAIL = re.compile(r",\d{3}(?!\d)")
_CODABAR = frozenset("ABCDabcd")
_MAX_GROUPS = 6

# Words that make a digit fragment a card number, matched on lower-cased text.
# Deliberately not "patron" alone: it is everywhere in library mail.
_CARD_WORDS = re.compile(
    r"cards?|bar[ -]?codes?|patron ?(?:#|no\b\.?|num(?:ber)?\b|id\b)|last (?:8|eight)\b"
    r"|tarjetas?|c[oó]digo de barras|carn[eé]t?|карт[аыуе]|билет|thẻ"  # Spanish, Russian, Vietnamese
)

# Sierra record numbers: optional dot, record-type letter, 7 digits, check char.
# Only "p" (patron) records are patron data; ".b"/".i" are bibs and items. The
# pattern starts with the letter (fast); edges are checked in code.
_RECORD = re.compile(r"[pP](?P<num>\d{7})(?P<check>[0-9xXaA])?(?![0-9A-Za-z])")


_CARD_NUMBER = frozenset({Category.CARD_NUMBER})
_RECORD_NUMBER = frozenset({Category.RECORD_NUMBER})


@dataclass(frozen=True, slots=True)
class _Candidate:
    start: int  # offset of the first digit (or of the Codabar start letter)
    end: int
    digits: str
    written: str  # the digits with their separators, as written


class BarcodeDetector:
    """Finds patron card numbers, item barcodes, card fragments and Sierra patron record numbers."""

    name = "barcodes"

    def __init__(self, settings: BarcodeSettings | None = None) -> None:
        self.settings = settings or BarcodeSettings()
        self._other = _OTHER_LIBRARY if self.settings.other_libraries else None
        self._lengths = frozenset(layout.length for layout in self._all_layouts())
        self._max_length = max(self._lengths, default=0)
        # The digits a barcode may start with (None: any), to skip hopeless groups quickly.
        firsts = {layout.type_digit for layout in self._all_layouts()}
        self._first_digits: frozenset[str] | None = (
            None if None in firsts else frozenset(d for d in firsts if d)
        )
        # Longest prefix first, so a 2361... card is reported as prefix=2361, not 236.
        self._prefixes = {
            layout.name: tuple(sorted(layout.prefixes, key=len, reverse=True))
            for layout in self._all_layouts()
        }

    def _all_layouts(self) -> tuple[BarcodeLayout, ...]:
        return self.settings.layouts + ((self._other,) if self._other is not None else ())

    def detect(self, part: TextPart) -> Iterator[Finding]:
        """Yield findings for every barcode-like number and patron record number in `part`."""
        text = part.text
        context = _CardContext(text, self.settings.context_chars)
        shortest = (
            min(self.settings.partial_digits, *self._lengths)
            if self._lengths
            else self.settings.partial_digits
        )
        for run in _RUN.finditer(text):
            if run.end() - run.start() >= shortest:  # most runs are dates, times and counts
                yield from self._scan_run(part, text, run, context)
        if self.settings.record_numbers and ("p" in text or "P" in text):
            yield from self._record_numbers(part, text)

    # ------------------------------------------------------------- digit runs

    def _scan_run(
        self, part: TextPart, text: str, run: re.Match[str], context: _CardContext
    ) -> Iterator[Finding]:
        """Findings for one digit run: a partial card number, or barcodes among its groups."""
        run_start, run_end = run.span()
        groups = [(g.start(), g.end()) for g in _GROUP.finditer(text, run_start, run_end)]
        # Codabar start/stop letters: a lone A-D right before and right after the digits.
        has_start = run_start > 0 and text[run_start - 1] in _CODABAR
        has_stop = (
            run_end < len(text)
            and text[run_end] in _CODABAR
            and not (run_end + 1 < len(text) and text[run_end + 1].isalnum())
        )
        after = run_end + 1 if has_stop else run_end
        # A run glued to letters or a decimal tail ("…817abc", "…817.5") loses its last group:
        # that group belongs to another token. After a comma, digits are the next CSV field
        # ("…2817,503-555-0187"), unless the group is the head of a thousands-separated
        # number ("2 361,500").
        if after < len(text) and (
            text[after].isalnum()
            or (text[after] == "." and text[after + 1 : after + 2].isdigit())
            or (text[after] == "," and _THOUSANDS_TAIL.match(text, after) and groups[-1][1] - groups[-1][0] <= 3)
        ):
            groups.pop()
            if not groups:
                return
        codabar = has_start and has_stop
        whole = len(groups) == 1 and groups[0] == (run_start, run_end)

        if whole and "-" not in text[groups[0][0] : groups[0][1]]:
            digits = text[groups[0][0] : groups[0][1]]
            if len(digits) == self.settings.partial_digits and len(digits) not in self._lengths:
                yield from self._partial(part, groups[0][0], groups[0][1], digits, context)
                return

        if not self._lengths:
            return
        # Any contiguous sequence of space-separated groups may be one barcode
        # ("2 3610 00362281 7"); groups joined by hyphens stay together.
        # Digit counts as prefix sums, so only spans of a layout's length build strings.
        counts = [0]
        for g_start, g_end in groups:
            counts.append(counts[-1] + (g_end - g_start) - text.count("-", g_start, g_end))
        i = 0
        while i < len(groups):
            if self._first_digits is not None and text[groups[i][0]] not in self._first_digits:
                i += 1  # no layout starts with this digit
                continue
            best: tuple[int, _Candidate, BarcodeLayout] | None = None
            # Staff split a card into at most a handful of groups ("2 3610 00362281 7");
            # the cap keeps long runs of short groups ("1 2 3 4 …") linear.
            for j in range(i, min(len(groups), i + _MAX_GROUPS)):
                size = counts[j + 1] - counts[i]
                if size > self._max_length:
                    break
                if size not in self._lengths:
                    continue
                start, end = groups[i][0], groups[j][1]
                written = text[start:end]
                cand = _Candidate(start, end, written.replace(" ", "").replace("-", ""), written)
                layout = self._layout_for(cand.digits)
                if layout is not None:
                    best = (j, cand, layout)
                elif best is None:
                    # A near miss (right shape, wrong check digit) is reported only next to card words.
                    near = self._near_miss(part, cand, context)
                    if near is not None:
                        best = (j, cand, near)
            if best is None:
                i += 1
                continue
            j, cand, layout = best
            wrapped = codabar and i == 0 and j == len(groups) - 1
            if wrapped:
                cand = _Candidate(run_start - 1, run_end + 1, cand.digits, cand.written)
            yield self._finding(part, cand, layout, context, codabar=wrapped)
            i = j + 1

    def _layout_for(self, digits: str) -> BarcodeLayout | None:
        for layout in self.settings.layouts:
            if len(digits) != layout.length:
                continue
            if layout.type_digit is not None and digits[0] != layout.type_digit:
                continue
            if layout.prefixes and not digits.startswith(layout.prefixes):
                continue
            if layout.check_digit and not library_mod10_valid(digits):
                continue
            return layout
        other = self._other
        if (
            other is not None
            and len(digits) == other.length
            and digits[0] == other.type_digit
            and not _looks_like_timestamp(digits)
            and library_mod10_valid(digits)
        ):
            return other
        return None

    def _near_miss(self, part: TextPart, cand: _Candidate, context: _CardContext) -> BarcodeLayout | None:
        for layout in self.settings.layouts:
            if (
                layout.kind == "patron"
                and layout.check_digit
                and len(cand.digits) == layout.length
                and (layout.type_digit is None or cand.digits[0] == layout.type_digit)
                and (not layout.prefixes or cand.digits.startswith(layout.prefixes))
                and context.near(cand.start, cand.end)
            ):
                return _NEAR_MISS
        return None

    def _finding(
        self, part: TextPart, cand: _Candidate, layout: BarcodeLayout, context: _CardContext, *, codabar: bool
    ) -> Finding:
        form = " codabar" if codabar else ""
        if layout is _NEAR_MISS:
            return Finding(
                kind=Kind.PARTIAL_BARCODE,
                part=part.path,
                start=cand.start,
                end=cand.end,
                score=0.4,
                reason="card-word-near-invalid-barcode",
                masked=mask(cand.written),
                detector=self.name,
                categories=_CARD_NUMBER,
            )
        prefix = next((p for p in self._prefixes[layout.name] if cand.digits.startswith(p)), "")
        prefix_note = f" prefix={prefix}" if prefix else ""
        if layout.kind == "item":
            return Finding(
                kind=Kind.ITEM_BARCODE,
                part=part.path,
                start=cand.start,
                end=cand.end,
                score=0.9,
                reason=f"item-barcode layout={layout.name}{' check-digit-valid' if layout.check_digit else ''}{form}",
                masked=mask(cand.written),
                detector=self.name,
                categories=frozenset(),
            )
        if layout is _OTHER_LIBRARY:
            # Another library's card: as strong as ours next to card words; alone, a
            # 14-digit number with a valid check digit is one in ten of such numbers.
            if context.near(cand.start, cand.end):
                score, evidence = 0.9, "other-library check-digit-valid card-word-near"
            else:
                score, evidence = 0.55, "other-library check-digit-valid"
            return Finding(
                kind=Kind.PATRON_BARCODE,
                part=part.path,
                start=cand.start,
                end=cand.end,
                score=score,
                reason=f"patron-card {evidence} prefix={cand.digits[:4]}{form}",
                masked=mask(cand.written),
                detector=self.name,
                categories=_CARD_NUMBER,
            )
        if layout.check_digit:
            score, evidence = 0.95, "check-digit-valid"
        elif context.near(cand.start, cand.end):
            score, evidence = 0.9, "no-check-digit card-word-near"
        else:
            score, evidence = 0.7, "no-check-digit"
        return Finding(
            kind=Kind.PATRON_BARCODE,
            part=part.path,
            start=cand.start,
            end=cand.end,
            score=score,
            reason=f"patron-card {evidence}{prefix_note} layout={layout.name}{form}",
            masked=mask(cand.written),
            detector=self.name,
            categories=_CARD_NUMBER,
        )

    def _partial(
        self, part: TextPart, start: int, end: int, digits: str, context: _CardContext
    ) -> Iterator[Finding]:
        if _looks_like_date(digits) or not context.near(start, end):
            return
        yield Finding(
            kind=Kind.PARTIAL_BARCODE,
            part=part.path,
            start=start,
            end=end,
            score=0.6,
            reason=f"card-word-near digits={len(digits)}",
            masked=mask(digits),
            detector=self.name,
            categories=_CARD_NUMBER,
        )

    # ------------------------------------------------------- record numbers

    def _record_numbers(self, part: TextPart, text: str) -> Iterator[Finding]:
        for m in _RECORD.finditer(text):
            start = m.start()
            before = text[start - 1] if start > 0 else ""
            dotted = before == "."
            if dotted:
                start -= 1
                before = text[start - 1] if start > 0 else ""
            if before and (before.isalnum() or before == "."):
                continue  # inside a word, a file name or a longer code
            check = m.group("check")
            if check is None:
                # ".p1234567" without its check is still a Sierra number when dotted;
                # a bare "p1234567" is too much like a part or order number.
                if not dotted:
                    continue
                score, reason = 0.6, "sierra-patron-record no-check"
            elif check.lower() == "a":
                score, reason = 0.85, "sierra-patron-record wildcard-check"
            elif check.lower() == sierra_check_char(m.group("num")):
                score, reason = 0.9, "sierra-patron-record check-valid"
            elif dotted:
                score, reason = 0.5, "sierra-patron-record check-invalid"
            else:
                continue
            yield Finding(
                kind=Kind.PATRON_RECORD_NUMBER,
                part=part.path,
                start=start,
                end=m.end(),
                score=score,
                reason=reason,
                masked=mask(text[start : m.end()]),
                detector=self.name,
                categories=_RECORD_NUMBER,
            )


# Sentinel "layout" for a patron-shaped number whose check digit fails next to card words.
_NEAR_MISS = BarcodeLayout(name="near-miss", prefixes=())
# Sentinel layout for another library's card: type 2, 14 digits, any prefix, check digit.
_OTHER_LIBRARY = BarcodeLayout(name="other-library", prefixes=())


class _CardContext:
    """Card-word positions in one text, found once and only when a candidate asks."""

    __slots__ = ("_text", "_window", "_starts", "_ends")

    def __init__(self, text: str, window: int) -> None:
        self._text = text
        self._window = window
        self._starts: list[int] | None = None
        self._ends: list[int] = []

    def near(self, start: int, end: int) -> bool:
        """True when a card word ends within the window before `start` or begins within it after `end`."""
        if self._starts is None:
            spans = _card_words(self._text)
            self._starts = [s for s, _ in spans]
            self._ends = [e for _, e in spans]
        lo, hi = start - self._window, end + self._window
        # Spans are disjoint and sorted, so their ends are sorted too: the first span
        # ending at or after `lo` is the only one that can reach into [lo, hi].
        k = bisect.bisect_left(self._ends, lo)
        return k < len(self._starts) and self._starts[k] <= hi


def _card_words(text: str) -> list[tuple[int, int]]:
    """Spans of card words in `text` (letter-bounded), found on a lower-cased copy for speed."""
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ" and friends change length: fall back to folding in the regex
        lowered, pattern = text, re.compile(_CARD_WORDS.pattern, re.IGNORECASE)
    else:
        pattern = _CARD_WORDS
    spans = []
    for m in pattern.finditer(lowered):
        s, e = m.span()
        if (s > 0 and lowered[s - 1].isalpha()) or (e < len(lowered) and lowered[e].isalpha()):
            continue
        spans.append((s, e))
    return spans


def _looks_like_timestamp(digits: str) -> bool:
    """True for a 14-digit YYYYMMDDhhmmss string (message ids, log lines, file names)."""
    if len(digits) != 14 or not _looks_like_date(digits[:8]):
        return False
    return int(digits[8:10]) < 24 and int(digits[10:12]) < 60 and int(digits[12:]) < 61


def _looks_like_date(digits: str) -> bool:
    """True for an 8-digit YYYYMMDD or MMDDYYYY string with a plausible year, month and day."""
    if len(digits) != 8:
        return False

    def ok(year: int, month: int, day: int) -> bool:
        return 1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31

    return ok(int(digits[:4]), int(digits[4:6]), int(digits[6:])) or ok(
        int(digits[4:]), int(digits[:2]), int(digits[2:4])
    )
