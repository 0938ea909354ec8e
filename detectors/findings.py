"""The values every detector speaks: text parts in, immutable findings out.

This module owns `TextPart` (a piece of text with its provenance), `Finding`
(what a detector saw, where, how sure, and why), the `Kind` and `Category`
enums, the `Detector` protocol and the masking rule.

A `Finding` never carries the matched text. It carries offsets into its part,
a score, a short reason written for a supervisor, and the value in masked form
(computed here, once, from the raw value that never leaves the process).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

MASK = "\u2022"  # the bullet used in every masked value: 2361•••••••817


class Kind(enum.StrEnum):
    """What a finding is. Values are stable: they appear in JSON and logs."""

    PATRON_BARCODE = "patron_barcode"  # valid patron card number (layout + check digit)
    ITEM_BARCODE = "item_barcode"  # item (type 3) barcode: not patron data alone
    PARTIAL_BARCODE = "partial_barcode"  # last-8 card digits next to card/barcode words
    PATRON_RECORD_NUMBER = "patron_record_number"  # Sierra .p1234567x
    PHONE = "phone"
    EMAIL = "email"
    STREET_ADDRESS = "street_address"
    CITY_STATE_ZIP = "city_state_zip"
    DRIVERS_LICENSE = "drivers_license"
    BIRTH_DATE = "birth_date"
    MONEY_OWED = "money_owed"  # fines, bills, amount owed
    CIRCULATION = "circulation"  # checked out / overdue / due / renewed, with titles
    HOLD = "hold"  # on hold / hold ready / holds list entries
    PATRON_CONTEXT = "patron_context"  # patron / borrower / library account language
    PERSON_REFERENCE = "person_reference"  # "your son", "her account": a person without a name
    PATRON_NOTE = "patron_note"  # notes/messages from the patron record
    ILS_RECORD = "ils_record"  # an ILS layout (Millennium labels, PatronAPI, Symphony, ...)
    BULK_EXPORT = "bulk_export"  # a table with a name column and many identifier rows
    PERSON_NAME = "person_name"
    KNOWN_PATRON_CARD = "known_patron_card"  # a card number in the library's patron directory
    KNOWN_PATRON = "known_patron"  # a directory patron's name with an identifier of hers close by
    KNOWN_PATRON_NAME = "known_patron_name"  # a directory patron's name alone (weak: names are shared)
    UNINSPECTABLE = "uninspectable"  # a part that could not be read: fail closed


class Category(enum.StrEnum):
    """Kinds of patron data a recipient may be allowed to receive (config vocabulary)."""

    NAME = "name"
    ADDRESS = "address"
    PHONE = "phone"
    EMAIL = "email"
    CARD_NUMBER = "card_number"
    RECORD_NUMBER = "record_number"
    DRIVERS_LICENSE = "drivers_license"
    BIRTH_DATE = "birth_date"
    MONEY_OWED = "money_owed"
    TITLES = "titles"  # what someone borrowed (circulation record)
    HOLDS = "holds"
    NOTES = "notes"
    GUARDIAN = "guardian"


@dataclass(frozen=True, slots=True)
class TextPart:
    """A piece of text taken from a message, with where it came from.

    `path` is unique within one message: "subject", "1", "2.1", "2.1/attachment.csv"...
    `origin` says how it was reached: "subject", "body", "attachment", "forwarded", "quoted".
    """

    path: str
    text: str
    content_type: str = "text/plain"
    filename: str | None = None
    origin: str = "body"
    tabular: bool = False  # True when rows/cells are kept as lines with tab-separated cells


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a detector saw. Immutable; change with `dataclasses.replace`."""

    kind: Kind
    part: str  # TextPart.path
    start: int
    end: int
    score: float  # 0.0 .. 1.0
    reason: str  # short, machine-readable-ish, for a supervisor: "patron-card-check-digit-valid prefix=2361"
    masked: str  # the matched value, masked (never raw)
    detector: str = ""
    categories: frozenset[Category] = field(default_factory=frozenset)


@runtime_checkable
class Detector(Protocol):
    """A small unit with one job: text part in, findings out. Pure and bounded."""

    name: str

    def detect(self, part: TextPart) -> Iterable[Finding]: ...


def mask(value: str) -> str:
    """Mask a matched value so it can be shown or logged without disclosing it.

    Long digit runs keep their first four and last three digits (2361•••••••817),
    shorter ones only their last two; letters keep the first letter of each word;
    an email keeps the first letter of the local part and the top-level domain.
    Separators (spaces, hyphens, dots, @) are kept so the shape stays readable.
    """
    value = value.strip()
    if "@" in value:
        local, _, domain = value.rpartition("@")
        tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
        return (local[:1] + MASK * 3) + "@" + MASK * 3 + ("." + tld if tld else "")
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    keep: set[int] = set()
    if len(digits) >= 12:
        keep = set(digits[:4]) | set(digits[-3:])
    elif len(digits) >= 7:
        keep = set(digits[-2:])
    out = []
    word_start = True
    for i, ch in enumerate(value):
        if ch.isdigit():
            out.append(ch if i in keep else MASK)
            word_start = False
        elif ch.isalpha():
            out.append(ch if word_start and not digits else MASK)
            word_start = False
        else:
            out.append(ch)
            word_start = True
    return "".join(out)
