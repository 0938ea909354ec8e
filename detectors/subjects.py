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
  about the message's addressee: the person its greeting names ("Dear Maria,").
  Without a greeting it is about nobody known, which never matches.

A person matches a recipient by the recipient's display name ("Maria Lopez"
<…>), or, without one, by the address's local part (maria.lopez82@…,
mlopez@…). Pure functions; names are compared in memory and never leave it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from detectors.findings import Finding, Kind, TextPart
from detectors.namelists import fold
from detectors.names import addressee_names, name_parts

__all__ = ["Recipient", "Subject", "matches", "self_recipients"]

# How far into a body part a greeting may stand.
GREETING_CHARS = 600
_WORD = re.compile(r"[^\W\d_][^\W\d_'’.-]*", re.UNICODE)
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


def _tokens(text: str) -> list[str]:
    return [t for t in (fold(w).lower() for w in _WORD.findall(text)) if t and t not in _HONORIFICS]


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
        return bool(given) and len(given[0]) > 2 and given[0] in letters
    if not surnames or not any(s in letters for s in surnames if len(s) > 2):
        return False
    if not given:
        return True
    # maria.lopez, marialopez, mlopez, lopezm, lopez.maria
    g = given[0]
    surname = next(s for s in surnames if len(s) > 2 and s in letters)
    rest = letters.replace(surname, " ", 1)
    return g in rest or rest.strip().startswith(g[0]) or rest.strip().endswith(g[0])


def greetings(parts: Iterable[TextPart]) -> list[str]:
    """Names the message's own greetings address ("Dear Maria," → "Maria"), from its body parts."""
    out: list[str] = []
    for part in parts:
        if part.origin != "body" or part.path == "headers" or part.path.endswith("subject"):
            continue
        out.extend(addressee_names(part.text[:GREETING_CHARS]))
    return out


def subject_of(findings: Sequence[Finding], rule: str, texts: dict[str, str], addressees: Sequence[str]) -> Subject:
    """Whom a disclosure with these supporting findings is about."""
    if rule == "bulk-export":
        return Subject(other=True)
    names: list[str] = []
    for f in findings:
        if f.kind is Kind.PERSON_REFERENCE:
            return Subject(other=True)  # "your son", "her account", "this patron"
        if f.kind is Kind.PERSON_NAME:
            names.append(texts.get(f.part, "")[f.start : f.end])
    if names:
        return Subject(tuple(names))
    if addressees:
        return Subject(tuple(addressees))
    return Subject(other=True)


def self_recipients(
    subjects: Sequence[Subject], recipients: Sequence[Recipient], printed: frozenset[str] = frozenset()
) -> frozenset[str]:
    """Lower-cased addresses of the recipients every disclosure is about (empty without disclosures).

    `printed` are recipient addresses the message itself gives as the patron's (an ILS
    notice prints the patron's email on file): for a trusted notice sender, they match
    the one person the notice is about even when the address says nothing of her name.
    """
    if not subjects or any(s.other or not s.names for s in subjects):
        return frozenset()
    people = {key for s in subjects for key in map(_person, s.names)}
    return frozenset(
        r.address.lower()
        for r in recipients
        if all(matches(name, r) for s in subjects for name in s.names)
        or (r.address.lower() in printed and len(people) == 1)
    )


def _person(name: str) -> str:
    given, surnames = name_parts(name)
    return fold(surnames[-1]).lower() if surnames else fold(name).lower()
