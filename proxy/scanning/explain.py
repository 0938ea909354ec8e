"""Showing a finding in context without showing the data.

This module owns `Excerpt` (a finding as a supervisor sees it, kept in the spool
state and the quarantine) and `masked_context()`: a short window of text around a finding in
which every finding's span is replaced by its mask, and every remaining digit
and email address is masked too, so a supervisor can see *where* and *what
kind* without seeing the value; and `masked_line()`, the same masking for a
whole short line (a Subject, an attachment's file name) that the review list
shows to tell held messages apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from detectors.findings import MASK, Finding, Kind


@dataclass(frozen=True, slots=True)
class Excerpt:
    """One finding as a supervisor sees it: its kind, where it was and a *masked* excerpt."""

    kind: str
    excerpt: str
    part: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "excerpt": self.excerpt, "part": self.part}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Excerpt:
        return cls(str(data.get("kind", "?")), str(data.get("excerpt", "")), str(data.get("part", "")))


_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_DIGIT = re.compile(r"\d")
_CAPITALISED = re.compile(r"\b[^\W\d_][\w'\u2019-]*", re.UNICODE)
# Record labels and everyday words that stay readable in a masked context.
_KEEP = frozenset(
    """PATRN NAME ADDRESS TELEPHONE EMAIL ADDR P BARCODE TYPE EXP DATE BIRTH HOME LIBR MONEY OWED MBLOCK
    PMESSAGE CUR CHKOUT TOT NOTE MESSAGE TITLE CALL PICKUP LOCATION HOLD STATUS PATRON INFO USER ID
    I A The This That These Those Please Thanks Hi Hello Dear Re Fwd Subject From To Date Card Library
    Name Phone Email Address Barcode Amount Due Owed Fines Fine Overdue Items Item Title Notice""".split()
)
CONTEXT_CHARS = 40
_BLOCKS = frozenset({Kind.ILS_RECORD, Kind.BULK_EXPORT})


def masked_context(text: str, finding: Finding, findings: Iterable[Finding], width: int = CONTEXT_CHARS) -> str:
    """The text around `finding`, with the finding shown as its mask and every other value hidden.

    Other findings' letters and digits become bullets; outside any finding, digits
    and email addresses are masked too. The finding itself appears as [its mask].
    """
    start = max(0, finding.start - width)
    end = min(len(text), finding.end + width)
    chars = list(_scrub(text[start:end]))
    for f in findings:
        if f is finding or f.part != finding.part or f.end <= start or f.start >= end:
            continue
        if f.kind in _BLOCKS:
            continue  # a whole record or table: its values are masked one by one below
        for i in range(max(f.start, start), min(f.end, end)):
            if chars[i - start].isalnum():
                chars[i - start] = MASK
    before = "".join(chars[: max(0, finding.start - start)])
    after = "".join(chars[max(0, finding.end - start) :])
    return " ".join(f"{before}[{finding.masked}]{after}".split())


def _scrub(text: str) -> str:
    """Mask email addresses, every digit, and capitalised words (names) but known labels."""
    text = _EMAIL.sub(lambda m: m.group(0)[0] + MASK * (len(m.group(0)) - 1), text)
    text = _DIGIT.sub(MASK, text)
    return _CAPITALISED.sub(_mask_word, text)


def _mask_word(match: re.Match[str]) -> str:
    word = match.group(0)
    if not word[0].isupper() or word in _KEEP:
        return word
    return MASK * len(word)


# Everyday words of subjects and file names that stay readable when a line had findings in it (any case).
_PLAIN = frozenset(w.lower() for w in _KEEP) | frozenset(
    """re fw fwd aw sv for your our my the a an of and or to on in at is are was from about with by
    account accounts notice notices overdue hold holds card cards library items item fine fines fee fees
    request requests ready pickup reminder due renewal renew bill bills billing question patron patrons
    record records list export report reports update urgent info lost damaged checkout checkouts
    courtesy collection referral statement copy scan document attached attachment""".split()
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def masked_line(text: str, *, strict: bool = False) -> str:
    """A short line (a Subject, a file name) with patron data masked, the way excerpts are.

    Without findings in it (`strict=False`) it is scrubbed like an excerpt's context:
    email addresses, digits and capitalised words other than record labels are masked.
    With findings in it (`strict=True`, or always for file names, where names are
    lowercase) every word that is not an everyday subject word is masked as well.
    """
    line = " ".join(text.split())[:200]
    if not strict:
        return _scrub(line)
    line = _EMAIL.sub(lambda m: MASK * len(m.group(0)), line)
    return _WORD.sub(lambda m: m.group(0) if m.group(0).lower() in _PLAIN else MASK * len(m.group(0)), line)


def masked_filename(name: str) -> str:
    """An attachment's file name masked strictly (names in file names are often lowercase), its extension kept."""
    stem, dot, ext = name.strip().rpartition(".")
    if not dot or not stem or not ext.isalnum() or len(ext) > 5:
        return masked_line(name, strict=True)
    return f"{masked_line(stem, strict=True)}.{ext.lower()}"
