"""Whom a disclosure is about, and whether that person is the recipient.

This module owns the patron-as-recipient question. The library's rule protects
patrons from others, not from themselves: staff writing to Maria Lopez about
her own hold, fine or card at her own address is everyday work. So for each
outside recipient the evidence step asks: is every disclosure in this message
about this recipient?

- A disclosure bound to a named person is about that person.
- One bound to "your son", "her account", "the patron" is about someone else.
- A table of patrons is about many people.
- One without a person (a card number, a pasted record with no name in it) is
  about the addressee of the letter it stands in: in the writer's own text, the
  person the message greets ("Dear Maria,"); in a forwarded notice or an
  attachment, the person that notice greets. Without a greeting it is about
  nobody known, which never matches.

A person matches a recipient by the recipient's display name ("Maria Lopez"
<…>), or, without one, by the address's local part (maria.lopez82@…,
mlopez@…). Pure functions; names are compared in memory and never leave it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from detectors.findings import Finding, Kind, TextPart
from detectors.namelists import fold
from detectors.names import addressee_names, name_parts
from detectors.signatures import QUOTE_HEADER as _QUOTE_HEADER
from detectors.signatures import own_text_end

__all__ = ["Recipient", "Subject", "addressees", "matches", "self_recipients", "subject_of"]

# How far into a body part a greeting may stand.
GREETING_CHARS = 600
_HONORIFICS = frozenset("mr mrs ms miss mx dr sr sra srta don dona ong ba anh chi".split())


@dataclass(frozen=True, slots=True)
class Recipient:
    """An outside recipient as the message names it: address and display name ("" when none)."""

    address: str
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class Subject:
    """Whom one disclosure is about: named people, or someone else (a relative, many patrons, nobody known)."""

    names: tuple[str, ...] = ()
    other: bool = False
    # Names found by one weak signal only (spaCy alone: often a title or a place). They do not
    # stand against a name that is the recipient's; alone they must match like any other.
    weak: tuple[str, ...] = ()


def _tokens(text: str) -> list[str]:
    """Folded words of a display name, honorifics dropped: "Jae-won Han" → ["jaewon", "han"] (as names fold)."""
    return [t for t in (fold(w).lower() for w in text.replace(",", " ").split()) if t and t not in _HONORIFICS]


def matches(name: str, recipient: Recipient) -> bool:
    """True when `name` ("Maria Lopez", "Lopez, Maria", "Maria", "Sra. López") is the recipient's."""
    given_words, surname_words = name_parts(name)
    given = [t for t in (fold(w).lower() for w in given_words) if t not in _HONORIFICS]
    surnames = [t for t in (fold(w).lower() for w in surname_words) if t not in _HONORIFICS and len(t) > 1]
    one_word = given == surnames  # "Maria" or "López": either reading
    display = _tokens(recipient.display_name)
    if display:
        if one_word:
            return bool(given) and given[0] in display
        if not surnames or not any(s in display for s in surnames):
            return False
        return not given or given[0] in display or any(len(t) == 1 and t == given[0][:1] for t in display)
    local = recipient.address.rpartition("@")[0].lower()
    letters = "".join(ch for ch in fold(local).lower() if ch.isalpha())
    if not letters:
        return False
    if one_word:
        # "Dear Eric," to eric.t@… or etijerina@… (initial and surname, the commonest form).
        return bool(given) and len(given[0]) > 2 and (given[0] in letters or (letters[0] == given[0][0] and len(letters) >= 5))
    if given and len(given[0]) > 3 and letters.startswith(given[0]) and len(letters) - len(given[0]) <= 2:
        return True  # "Dalia Rojo" at dalia1982@…: the address is her given name alone
    if not surnames or not any(s in letters for s in surnames if len(s) > 2):
        return False
    if not given:
        return True
    # maria.lopez, marialopez, mlopez, lopezm, lopez.maria
    g = given[0]
    surname = next(s for s in surnames if len(s) > 2 and s in letters)
    rest = letters.replace(surname, " ", 1)
    return g in rest or rest.strip().startswith(g[0]) or rest.strip().endswith(g[0])


def addressees(part: TextPart, position: int) -> list[str]:
    """Whom the letter around `position` greets.

    In the writer's own text (a body part, before any quote or forward marker) that is the
    message's greeting. Further down, or in a forwarded message or an attachment, it is the
    greeting of that letter — a forwarded notice greets its patron, not the recipient.
    """
    text = part.text
    own_end = own_text_end(text)
    if part.origin == "body" and part.path != "headers" and position < own_end:
        return addressee_names(text[: min(own_end, GREETING_CHARS)])
    start = 0
    for m in _QUOTE_HEADER.finditer(text, 0, position):
        line = text.rfind("\n", 0, m.start() - 1) + 1
        if text[m.start() : m.end()].lstrip().startswith(">") and text[line : m.start()].lstrip().startswith(">"):
            continue  # a quoted line inside a quoted block: the block began above
        start = m.start()
    return addressee_names(text[start : start + GREETING_CHARS])


def subject_of(
    findings: Sequence[Finding],
    rule: str,
    anchor: Finding,
    parts: dict[str, TextPart],
    to_reader: bool = True,
) -> Subject:
    """Whom a disclosure is about: the people bound to it, else the greeting of the letter it is in.

    A letter to the patron about herself tells her ("your hold", "you owe"); data told in the
    third person, or in no person at all, is about someone else (a name the search missed).
    """
    if rule == "bulk-export" or not to_reader:
        return Subject(other=True)
    names: list[str] = []
    weak: list[str] = []
    for f in findings:
        if f.kind is Kind.PERSON_REFERENCE:
            return Subject(other=True)  # "your son", "her account", "this patron"
        if f.kind is Kind.PERSON_NAME and f.part in parts:
            (weak if f.reason == "person-name spacy" else names).append(parts[f.part].text[f.start : f.end])
    if names or weak:
        return Subject(tuple(names), weak=tuple(weak))
    part = parts.get(anchor.part)
    greeted = addressees(part, anchor.start) if part is not None else []
    return Subject(tuple(greeted)) if greeted else Subject(other=True)


def self_recipients(
    subjects: Sequence[Subject], recipients: Sequence[Recipient], printed: frozenset[str] = frozenset()
) -> frozenset[str]:
    """Lower-cased addresses of the recipients every disclosure is about (empty without disclosures).

    `printed` are recipient addresses the message itself gives as the patron's (an ILS
    notice prints the patron's email on file): for a trusted notice sender, they match
    the one person the notice is about even when the address says nothing of her name.
    """
    if not subjects or any(s.other or not (s.names or s.weak) for s in subjects):
        return frozenset()
    people = {key for s in subjects for key in map(_person, s.names or s.weak)}

    def about(s: Subject, r: Recipient) -> bool:
        if s.names:
            return all(matches(name, r) for name in s.names)
        return all(matches(name, r) for name in s.weak)

    return frozenset(
        r.address.lower()
        for r in recipients
        if all(about(s, r) for s in subjects) or (r.address.lower() in printed and len(people) == 1)
    )


def _person(name: str) -> str:
    given, surnames = name_parts(name)
    return fold(surnames[-1]).lower() if surnames else fold(name).lower()
