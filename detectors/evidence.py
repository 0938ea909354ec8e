"""Evidence: which findings, taken together, disclose a patron.

This module owns the step between detectors and policy. Detectors report
things (a phone number, a name, the word "overdue"); most of those are harmless
alone and everywhere in ordinary mail. A *disclosure* needs patron evidence:

- ``ils-record``         an ILS record layout (Millennium screen, PatronAPI, Symphony, Sierra JSON, notices)
- ``bulk-export``        a table with a name column and rows of patron identifiers
- ``patron-card``        a check-digit-valid patron card number
- ``patron-record-number`` a Sierra patron record number
- ``name-with-identifier`` a person's name next to an identifier (phone, email, address,
                           licence, birth date, partial card) where patron language is close by
- ``circulation-record`` circulation, holds, fines or record notes bound to a named person
                         (or, for titles and fines, to "your son", "her account")
- ``drivers-license``    a licence/ID number with a name next to it
- ``known-patron-card``  a card number in the library's patron directory (detectors.directory)
- ``known-patron``       a directory patron's name with an identifier of the same patron

Each disclosure carries the categories of data it exposes (partners may receive
some categories and not others) and the findings that support it, so every
decision can be explained. Names in signature blocks and the sender's own name
are not patrons. Pure functions over immutable values; no I/O.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from detectors.emails import is_free_mail
from detectors.findings import Category, Finding, Kind, TextPart
from detectors.names import person_key
from detectors.signatures import QUOTE_HEADER, own_text_end, signature_spans
from detectors.subjects import Recipient, self_recipients, subject_of
from detectors.tables import responsibility_cells

IDENTIFIERS = frozenset(
    {
        Kind.PHONE,
        Kind.EMAIL,
        Kind.STREET_ADDRESS,
        Kind.CITY_STATE_ZIP,
        Kind.DRIVERS_LICENSE,
        Kind.BIRTH_DATE,
        Kind.PARTIAL_BARCODE,
    }
)
PATRON_LANGUAGE = frozenset({Kind.PATRON_CONTEXT, Kind.CIRCULATION, Kind.HOLD, Kind.MONEY_OWED, Kind.PATRON_NOTE})
RECORD_LANGUAGE = frozenset({Kind.CIRCULATION, Kind.HOLD, Kind.MONEY_OWED, Kind.PATRON_NOTE})
# Money-owed reasons with no library word in them ("owes $500", "balance: $40"): they need
# other patron language close by before they say anything about a patron.
GENERIC_OWING = ("owes-amount", "balance-amount")
ACCOUNT_SENTENCE = "account-sentence"  # detectors.accounts: a sentence telling a person of her account
# Record language that says, wherever it stands, that titles, holds or notes are in the message:
# circulation only with titles (a bare "overdue" names none).
_RECORD_MINIMUM = {Kind.CIRCULATION: 0.7, Kind.HOLD: 0.6, Kind.PATRON_NOTE: 0.6, Kind.ILS_RECORD: 0.5, Kind.BULK_EXPORT: 0.5}
DIRECT = {
    Kind.ILS_RECORD: "ils-record",
    Kind.BULK_EXPORT: "bulk-export",
    Kind.PATRON_BARCODE: "patron-card",
    Kind.PATRON_RECORD_NUMBER: "patron-record-number",
    Kind.KNOWN_PATRON_CARD: "known-patron-card",
}

# What a sender or supervisor reads about each rule: categories, never values.
RULE_TEXT = {
    "ils-record": "a patron record copied from the library system",
    "bulk-export": "a list or table of patrons with their details",
    "patron-card": "a library card number",
    "patron-record-number": "a patron record number",
    "name-with-identifier": "a person's name together with their contact details or ID",
    "circulation-record": "what a named person borrowed, has on hold, or owes",
    "drivers-license": "a driver's licence or ID number next to a name",
    "known-patron-card": "the card number of a patron in the library's patron directory",
    "known-patron": "a patron's name with her phone, email, address or birth date as the patron directory has them",
}


# Public and professional roles: a name introduced by one is an author, a speaker, a colleague.
_ROLES = (
    r"authors?|writers?|novelist|illustrators?|poets?|speakers?|presenters?|panelists?|guests?|hosts?|moderator"
    r"|performers?|storyteller|musicians?|artists?|director|manager|librarian|coordinator|supervisor"
    r"|representative|rep|sales|mayor|senator|governor|professor|prof\.|dr\.|councilo[u]?r|commissioner|chair"
    r"|president|ceo|trustees?|editor|publisher|agent|vendor|consultant|trainer|instructor"
    r"|hr|human[ ]resources|ill|interlibrary[ ]loan|board[ ]members?|treasurer|secretary|clerk|assistant|specialist"
    r"|technician|associate|volunteer|organi[sz]er|officer|detective|sergeant|principal|teacher|counselor"
    # Departments and desks in a staff directory ("Youth services: Jane Doe"):
    r"|services|circulation|reference|outreach|cataloging|acquisitions|administration|facilities|marketing"
    r"|communications|development|desk|office|department|dept\.?|branch"
)
# Phrases that offer a person as a contact to the reader ("For more information, contact
# Jane Doe at 503-…", "Questions? Email …", "To register, call …"): a public contact.
_PUBLIC_CONTACT = re.compile(
    r"\b(?:for[ ](?:more[ ])?(?:information|info|details|questions)|with[ ](?:any[ ])?questions|questions\?"
    r"|questions[ ]or[ ]comments|questions,[ ](?:please[ ])?(?:contact|call|email|reach)|to[ ](?:register|rsvp|apply|sign[ ]up)"
    r"|rsvp|inquiries|applications?[ ](?:to|are[ ]due)|point[ ]of[ ]contact|media[ ]contact|press[ ]contact"
    r"|para[ ]m[aá]s[ ]informaci[oó]n)(?!\w)",
    re.IGNORECASE,
)
_ROLE_BEFORE = re.compile(rf"\b(?:{_ROLES})[ \t]{{0,2}}[,:]?[ \t]{{1,2}}$", re.IGNORECASE)
_ROLE_AFTER = re.compile(
    rf"(?:,?[ \t]{{1,2}}|[ \t]{{0,2}}\([ \t]?)(?:(?:the|our|a|an|your)[ \t]{{1,2}})?(?:[\w-]{{1,20}}[ \t]{{1,2}}){{0,2}}(?:{_ROLES})\b",
    re.IGNORECASE,
)
# A list of people introduced by what they are at a meeting or an event ("Present: A, B, C";
# "Presenters: …"; "Staff: …"): attendees and speakers, not patrons. The label opens the line.
_ATTENDANCE = re.compile(
    r"^[ \t>*-]{0,6}(?:(?:board|members?|trustees?|staff|others?|also)[ \t]+)?(?:present|absent|attending|attendees|excused"
    r"|in[ \t]attendance|guests?|presenters?|speakers?|panel(?:ists)?|facilitators?|moderators?|recorder|minutes(?:[ \t]by)?"
    r"|staff|trustees|board(?:[ \t]members)?|committee|authors?|hosts?|organizers?"
    # Attribution lines of patches and documents: "Signed-off-by: …", "Reviewed-by: …".
    r"|signed-off-by|reviewed-by|tested-by|acked-by|co-authored-by|reported-by|suggested-by|authored-by|written[ \t]by)\b[^:\n]{0,30}:",
    re.IGNORECASE | re.MULTILINE,
)
# "The Night Circus by Erin Morgenstern", "“Dune” by Frank Herbert": a title's author. ("checked
# out by Jane Doe" is a borrower: the word before "by" is lower case there.)
_AUTHOR_BEFORE = re.compile(r"(?:[\"”’)]|\b[A-Z0-9][\w'’:!?-]*)[ \t]+(?:by|de|por)[ \t]+(?:[A-Z][\w'’-]+,[ \t]*)?$")


@dataclass(frozen=True, slots=True)
class EvidenceSettings:
    proximity_chars: int = 300
    context_chars: int = 200
    min_score: float = 0.75
    # One-word spaCy "names" are often ordinary words at a sentence start ("Write", "Email"):
    # a name binds to an identifier only from this score (two-word names score 0.85).
    min_name_score: float = 0.7
    disabled_rules: frozenset[str] = frozenset()  # rule ids switched off in config
    staff_names: tuple[str, ...] = ()  # the staff directory's names: never patrons


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One reason the message discloses a patron, with its supporting findings."""

    rule: str
    categories: frozenset[Category]
    score: float
    findings: tuple[Finding, ...]
    about: tuple[Finding, ...] = ()  # the names and person references it may be about
    # Told to the reader ("your hold", "you owe", "su tarjeta"), with no "she", "his", "them"
    # in the same sentence: what a letter to the patron herself says about her.
    to_reader: bool = False

    @property
    def text(self) -> str:
        return RULE_TEXT.get(self.rule, self.rule)


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything the policy needs about one message: findings, disclosures, what could not be read."""

    findings: tuple[Finding, ...]
    disclosures: tuple[Disclosure, ...]
    uninspectable: tuple[Finding, ...]
    # Outside recipients (lower-cased addresses) every disclosure is about: the patron
    # herself (detectors.subjects). Empty when no recipients were given to check.
    about_recipients: frozenset[str] = frozenset()

    @property
    def categories(self) -> frozenset[Category]:
        out: frozenset[Category] = frozenset()
        for d in self.disclosures:
            out |= d.categories
        return out

    @property
    def mentioned(self) -> frozenset[Category]:
        """What the message exposes anywhere once it discloses a patron: the disclosures'
        categories plus titles, holds and record notes found elsewhere in it (a referral
        to a collection agency that lists the titles further down still sends them)."""
        if not self.disclosures:
            return frozenset()
        out = self.categories
        for f in self.findings:
            if f.kind in _RECORD_MINIMUM and f.score >= _RECORD_MINIMUM[f.kind]:
                out |= f.categories
        return out

    @property
    def rules(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for d in self.disclosures:
            seen.setdefault(d.rule, None)
        return tuple(seen)


def _near(a: Finding, b: Finding, distance: int) -> bool:
    return a.part == b.part and a.start - distance <= b.end and b.start - distance <= a.end


class _Around:
    """One part's findings by position: those within a distance of a span, without a pass over all.

    A 50,000-row export has a card, a name and a phone on every row; asking "what is near this
    card?" of every finding makes assessment quadratic. Short findings are bisected by start;
    the few long ones (a whole record layout, a bulk export) are checked one by one. Results
    come in the order of the sequence given, as a scan over it would find them.
    """

    _LONG = 400

    def __init__(self, findings: Sequence[Finding]) -> None:
        ordered = sorted(enumerate(findings), key=lambda item: item[1].start)
        self._short = [(i, f) for i, f in ordered if f.end - f.start <= self._LONG]
        self._starts = [f.start for _, f in self._short]
        self._long = [(i, f) for i, f in ordered if f.end - f.start > self._LONG]

    def near(self, start: int, end: int, distance: int) -> list[Finding]:
        lo = bisect_left(self._starts, start - distance - self._LONG)
        hi = bisect_right(self._starts, end + distance)
        found = [(i, f) for i, f in self._short[lo:hi] if f.start - distance <= end and start - distance <= f.end]
        found += [(i, f) for i, f in self._long if f.start - distance <= end and start - distance <= f.end]
        found.sort(key=lambda item: item[0])
        return [f for _, f in found]

    def near_finding(self, f: Finding, distance: int) -> list[Finding]:
        return self.near(f.start, f.end, distance)


def _inside(f: Finding, spans: Sequence[tuple[int, int]]) -> bool:
    return any(s <= f.start and f.end <= e for s, e in spans)


def needs_names(findings: Sequence[Finding], settings: EvidenceSettings, whom: bool = False) -> list[Finding]:
    """The findings a person's name would turn into a disclosure: where name search must look.

    Empty when the message already discloses a patron on direct evidence (a card
    number, a record layout): then names add nothing to the decision — unless `whom`
    is asked (is the patron the recipient?): then the names next to direct evidence
    say whom it is about.
    """
    direct = [f for f in findings if f.kind in DIRECT and f.score >= settings.min_score]
    if direct and not whom:
        return []
    # A table or export of many people discloses on its own and is never about one recipient:
    # nothing inside it needs a name search (a 50,000-row export would need 50,000 windows).
    tables = sorted((f.part, f.start, f.end) for f in direct if many_people(f))
    if tables:
        findings = [f for f in findings if not _in_table(f, tables)]
        direct = [f for f in direct if not many_people(f) and not _in_table(f, tables)]
    language = [f for f in findings if f.kind in PATRON_LANGUAGE and f.score >= 0.5 and not f.reason.startswith(ACCOUNT_SENTENCE)]
    language_around = _Around(language)
    triggers = []
    for f in findings:
        if f.kind in (Kind.DRIVERS_LICENSE, Kind.PARTIAL_BARCODE, Kind.BIRTH_DATE) or _weak_card(f, settings) or _personal(f):
            triggers.append(f)
        elif f.kind in RECORD_LANGUAGE and _strong_record(f):
            triggers.append(f)
        elif f.kind in IDENTIFIERS and any(c.part == f.part for c in language_around.near_finding(f, settings.context_chars)):
            triggers.append(f)
    return direct + triggers if whom else triggers


_ROWS = re.compile(r"\brows=(\d+)")


def many_people(f: Finding) -> bool:
    """A table of people (a bulk export, a record export of several rows), not one patron's record."""
    if f.kind is Kind.BULK_EXPORT:
        return True
    m = _ROWS.search(f.reason) if f.kind is Kind.ILS_RECORD else None
    return m is not None and int(m.group(1)) > 1


def _in_table(f: Finding, tables: Sequence[tuple[str, int, int]]) -> bool:
    i = bisect_right(tables, (f.part, f.start, float("inf"))) - 1
    return i >= 0 and tables[i][0] == f.part and tables[i][1] <= f.start and f.end <= tables[i][2] and (
        f.kind not in DIRECT or not many_people(f)
    )


_AGENT_GAP = re.compile(r"^(?:['’]s)?[ \t]+(?:(?:has|have|had|just|still|already|recently|also|never|not|n['’]t|been|is|was)[ \t]+){0,3}$")


def _agent(f: Finding, names: Sequence[Finding], text: str) -> Finding | None:
    """The named person right before a bare circulation statement ("Karen Dixon has checked out",
    "what Sofon Teterin checked out"): the one who borrowed, so the statement is about her."""
    if f.kind is not Kind.CIRCULATION:
        return None
    for n in names:
        if n.part == f.part and 0 <= f.start - n.end <= 40 and _AGENT_GAP.match(text[n.end : f.start]):
            return n
    return None


# Second person in English, Spanish, Russian and Vietnamese; third-person references to people.
_SECOND_PERSON = re.compile(
    r"\b(?:you|your|yours|yourself|tu|tus|usted|ustedes|su|sus|le|te|ti|вы|вас|вам|ваш\w{0,3}|bạn|quý[ ]vị)\b", re.IGNORECASE
)
# ("They", "them" and "their" are as often the items: "return them by Friday".)
_THIRD_PERSON = re.compile(r"\b(?:she|he|her|him|his|hers|él|ella|она|он|его|её)\b", re.IGNORECASE)
# "your branch", "your library", "your patron": the reader is a colleague elsewhere, not the patron.
_COLLEAGUE_PLACE = re.compile(
    r"[ \t]+(?:own[ \t]+)?(?:branch|branches|library(?![ \t]+(?:card|account|record))|libraries|staff|patrons?|colleagues?"
    r"|team|office|desk|circ(?:ulation)?"
    r"[ \t]+(?:desk|staff)|system|consortium|end|side)\b",
    re.IGNORECASE,
)
_BLOCK_KINDS = frozenset({Kind.ILS_RECORD, Kind.BULK_EXPORT})
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\n\s*\n")


def _in_sorted(f: Finding, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether `f` lies inside one of `spans` (sorted, not overlapping)."""
    i = bisect_right(spans, (f.start, float("inf"))) - 1
    return i >= 0 and spans[i][0] <= f.start and f.end <= spans[i][1]


class _Hits:
    """Where a pattern matches in one text, found once: "is there a match inside [lo, hi)?" by bisection.

    Matches followed by `unless` are left out ("your branch": a colleague's workplace, not the reader's account).
    """

    def __init__(self, pattern: re.Pattern[str], text: str, unless: re.Pattern[str] | None = None) -> None:
        spans = [m.span() for m in pattern.finditer(text) if unless is None or not unless.match(text, m.end())]
        self._starts = [a for a, _ in spans]
        self._ends = [b for _, b in spans]

    def within(self, lo: int, hi: int) -> bool:
        i = bisect_left(self._starts, lo)
        return i < len(self._starts) and self._ends[i] <= hi


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence around [start, end), at most 200 characters either side."""
    lo = max(0, start - 200)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, lo, start)]
    lo = ends[-1] if ends else lo
    m = _SENTENCE_END.search(text, end, min(len(text), end + 200))
    return lo, (m.end() if m else min(len(text), end + 200))


_PROFILE_KINDS = frozenset({Kind.STREET_ADDRESS, Kind.EMAIL, Kind.PHONE, Kind.BIRTH_DATE, Kind.DRIVERS_LICENSE})


def _profile(
    f: Finding,
    person: Finding,
    findings: Sequence[Finding],
    prox: int,
    signatures: dict[str, list[tuple[int, int]]],
    text: str,
) -> bool:
    """A private person's profile: the name with a personal identifier (a home street address or a
    free-mail address) and one more identifier of another kind — what a patron record holds, library
    words or not. An office contact has a work address or mail domain instead."""
    if not _personal(f) or _business_block(text, person):
        return False
    signed = signatures.get(f.part, ())
    others = {
        g.kind for g in findings
        if g is not f and g.kind in _PROFILE_KINDS and g.kind is not f.kind and g.score >= 0.5
        and _near(g, person, prox) and not _inside(g, signed)
    }
    return bool(others)


# A business card around a name: a title, an organisation, a web address.
_BUSINESS = re.compile(
    r"\b(?:inc|llc|ltd|corp|co|company|corporation|gmbh|plc|president|director|manager|ceo|cto|founder|partner|sales"
    r"|marketing|engineer|consultant|librarian|coordinator|supervisor|officer|specialist|assistant|associate"
    r"|department|division|university|college|school|institute|county|city of|state of|foundation|agency)\b\.?"
    r"|www\.|https?://",
    re.IGNORECASE,
)


def _business_block(text: str, person: Finding) -> bool:
    """True when the lines around a name read as a business card or a signature of an office."""
    lo = text.rfind("\n", 0, max(0, text.rfind("\n", 0, person.start))) + 1
    hi = person.end
    for _ in range(3):
        nxt = text.find("\n", hi + 1)
        hi = len(text) if nxt < 0 else nxt
    return bool(_BUSINESS.search(text, lo, hi))


def _personal(f: Finding) -> bool:
    """An identifier of a private person, not of an office: a home street address, or an email at a
    free mail provider. With a name it is the person's own, library words or not."""
    return f.kind is Kind.STREET_ADDRESS or (f.kind is Kind.EMAIL and f.reason == "email free-mail")


# Patron-context reasons that name a general thing ("patron", "library card", "barcode"): about
# this person only right next to her name ("patron Jane Doe", "Jane Doe's library card").
_BARE_CONTEXT = ("patron-context",)
_ATTACHED_CHARS = 40


def _about_person(lang: Finding, person: Finding, ident: Finding, text: str, ctx: int) -> bool:
    """Whether library words speak of this person, not of patrons in general.

    Record language (fines, holds, loans, notes) and records phrases ("on file", "in our
    records", "her account") count in the same sentence as the name or the identifier;
    a bare "patron" or "library card" counts only right next to the name or the number.
    """
    if not (_near(lang, ident, ctx) or _near(lang, person, ctx)):
        return False
    if lang.kind is Kind.PATRON_CONTEXT and lang.reason in _BARE_CONTEXT:
        return _near(lang, person, _ATTACHED_CHARS) or _near(lang, ident, _ATTACHED_CHARS)
    for anchor in (person, ident):
        lo, hi = _sentence(text, anchor.start, anchor.end)
        if lo <= lang.start and lang.end <= hi:
            return True
    return False


def _weak_card(f: Finding, settings: EvidenceSettings) -> bool:
    """A card number too weak to disclose alone (another library's prefix, no card word): a name makes it one."""
    return f.kind is Kind.PATRON_BARCODE and 0.5 <= f.score < settings.min_score


def _strong_record(f: Finding) -> bool:
    return f.kind is not Kind.CIRCULATION or f.score >= 0.7


def assess(
    parts: Sequence[TextPart],
    findings: Iterable[Finding],
    uninspectable: Sequence[Finding] = (),
    settings: EvidenceSettings = EvidenceSettings(),
    sender_names: Sequence[str] = (),
    recipients: Sequence[Recipient] = (),
    trusted_notice: bool = False,
    sender_address: str = "",
) -> Assessment:
    """Bind findings into disclosures. `sender_names` are the sender's own name words (not patrons).

    `recipients` are the outside recipients to check against the people the disclosures
    are about (the patron writing to herself is not a disclosure to her). With
    `trusted_notice` (the library's ILS notice system sent it), a recipient address the
    message itself prints counts as the patron's.
    """
    all_findings = tuple(sorted(findings, key=lambda f: (f.part, f.start, f.end, f.kind.value)))
    texts = {p.path: p.text for p in parts}
    signatures = {
        p.path: signature_spans(p.text, sender_names, sender_address, letter=p.origin != "attachment")
        for p in parts
        if p.text
    }
    credits = {p.path: responsibility_cells(p.text, p.tabular) for p in parts if p.text}
    sender_words = {w.lower() for n in sender_names for w in re.findall(r"\w{2,}", n)}
    staff = {person_key(n) for n in settings.staff_names} - {None}

    def is_patron_name(f: Finding) -> bool:
        if f.kind is not Kind.PERSON_NAME:
            return f.kind is Kind.PERSON_REFERENCE
        if _inside(f, signatures.get(f.part, ())):
            return False
        if _in_sorted(f, credits.get(f.part, ())):
            return False  # a name in a table's AUTHOR (or Creator, Illustrator…) column made the item
        text = texts.get(f.part, "")
        if _ROLE_BEFORE.search(text, max(0, f.start - 40), f.start) or _ROLE_AFTER.match(text, f.end):
            return False  # "author Jane Smith", "Mark Jensen, sales representative": not a patron
        if _AUTHOR_BEFORE.search(text, max(0, f.start - 60), f.start):
            return False  # "The Overstory by Richard Powers": an author
        line_start0 = text.rfind("\n", 0, f.start) + 1
        if _ATTENDANCE.match(text, line_start0, f.start):
            return False  # "Present: Jane Doe, …": a meeting's attendees
        if QUOTE_HEADER.match(text, line_start0) and not text[line_start0:f.start].lstrip().startswith(">"):
            return False  # "On Thu, … Karen Hollis wrote:": the quoted letter's writer
        line_start = text.rfind("\n", 0, f.start) + 1
        line_end = text.find("\n", f.end)
        if _PUBLIC_CONTACT.search(text, max(line_start, f.start - 160), min(f.end + 80, len(text) if line_end < 0 else line_end)):
            return False  # "For more information, contact Jane Doe at …": offered to the reader
        words = {w.lower() for w in re.findall(r"\w{2,}", text[f.start : f.end])}
        if staff and person_key(text[f.start : f.end]) in staff:
            return False  # a colleague in the staff directory
        return not (words and words <= sender_words)

    # A letter to a personal mailbox (a free-mail address among the outside recipients) may be a
    # letter to a patron; between libraries and firms "your request" is the colleague's business.
    personal = any(is_free_mail(r.address.rpartition("@")[2]) for r in recipients)
    by_part: dict[str, list[Finding]] = {}
    for f in all_findings:
        by_part.setdefault(f.part, []).append(f)

    disclosures: list[Disclosure] = []
    for part_findings in by_part.values():
        disclosures.extend(_assess_part(part_findings, settings, is_patron_name, signatures, texts, personal))
    disclosures.extend(_covered_records(parts, all_findings, disclosures, is_patron_name))
    if settings.disabled_rules:
        disclosures = [d for d in disclosures if d.rule not in settings.disabled_rules]
    about = recipients_about(parts, disclosures, recipients, trusted_notice)
    return Assessment(all_findings, tuple(disclosures), tuple(uninspectable), about)


def recipients_about(
    parts: Sequence[TextPart], disclosures: Sequence[Disclosure], recipients: Sequence[Recipient], trusted_notice: bool
) -> frozenset[str]:
    """The outside recipients (lower-cased) every one of `disclosures` is about, from what the message says."""
    if not recipients or not disclosures:
        return frozenset()
    by_path = {p.path: p for p in parts}
    printed = frozenset(
        r.address.lower() for r in recipients
        if trusted_notice and any(r.address.lower() in p.text.lower() for p in parts if p.origin == "body")
    )
    return self_recipients(
        [subject_of(d.about, d.rule, d.findings[0], by_path, d.to_reader and not any(map(many_people, d.findings)))
         for d in disclosures],
        recipients,
        printed,
    )


COVER_CHARS = 1500


def passed_on(part: TextPart, position: int) -> bool:
    """True for text the writer passes on: an attachment, a forwarded message, or text under a
    quote or forward marker."""
    if part.origin in ("attachment", "forwarded"):
        return True
    return position >= own_text_end(part.text)


def cover_end(part: TextPart) -> int:
    """Where the writer's covering note in a body part ends (its own text, at most COVER_CHARS)."""
    return min(own_text_end(part.text), COVER_CHARS, len(part.text))


# Record findings strong enough to be someone's record when a covering note names her.
_PASSED_RECORD = {Kind.CIRCULATION: 0.7, Kind.HOLD: 0.6, Kind.PATRON_NOTE: 0.6, Kind.MONEY_OWED: 0.6, Kind.ILS_RECORD: 0.7}


def _covered_records(
    parts: Sequence[TextPart], findings: Sequence[Finding], disclosures: Sequence[Disclosure], is_patron_name: Any
) -> list[Disclosure]:
    """A record passed on without a name in it, under a covering note that names a person ("this
    is the notice for Rubén Posada"): the record is that person's."""
    by_path = {p.path: p for p in parts}
    disclosed = {(f.part, f.start) for d in disclosures for f in d.findings}
    orphans = [
        f for f in findings
        if f.kind in _PASSED_RECORD and f.score >= _PASSED_RECORD[f.kind] and f.part in by_path
        and not f.reason.startswith(ACCOUNT_SENTENCE)  # a quoted letter's sentence is its own reader's
        and passed_on(by_path[f.part], f.start) and (f.part, f.start) not in disclosed
        and not any(g.kind is Kind.PERSON_NAME and g.part == f.part and g.score >= 0.7 and is_patron_name(g) for g in findings)
    ]
    if not orphans:
        return []
    cover = [
        f for f in findings
        if f.kind is Kind.PERSON_NAME and f.score >= 0.7 and f.part in by_path
        and by_path[f.part].origin in ("body", "subject") and f.start < cover_end(by_path[f.part])
        and f.reason != "person-name salutation" and "salutation" not in f.reason.split(" ", 1)[-1].split("+")
        and is_patron_name(f)
    ]
    if not cover:
        return []
    out = []
    for f in orphans:
        cats = f.categories | {Category.NAME}
        out.append(Disclosure("circulation-record", frozenset(cats), f.score, (f, *cover), tuple(cover), True))
    return out[:1] if len({f.part for f in orphans}) == 1 else out


def _assess_part(findings, settings, is_patron_name, signatures, texts, personal=False) -> list[Disclosure]:  # type: ignore[no-untyped-def]
    prox, ctx = settings.proximity_chars, settings.context_chars
    persons = [f for f in findings if f.kind in (Kind.PERSON_NAME, Kind.PERSON_REFERENCE) and is_patron_name(f)]
    names = [f for f in persons if f.kind is Kind.PERSON_NAME and f.score >= settings.min_name_score]
    language = [f for f in findings if f.kind in PATRON_LANGUAGE and f.score >= 0.5 and not f.reason.startswith(ACCOUNT_SENTENCE)]
    out: list[Disclosure] = []
    # Findings of one part are compared by position: indexes keep that linear in the part's size.
    around, names_around = _Around([f for f in findings if f.categories]), _Around(names)
    knowns_around = _Around([f for f in findings if f.kind is Kind.KNOWN_PATRON])
    known_names = _Around([f for f in findings if f.kind in (Kind.KNOWN_PATRON, Kind.KNOWN_PATRON_NAME)])
    persons_around, language_around, everything = _Around(persons), _Around(language), _Around(findings)
    accounts_around = _Around([f for f in findings if f.kind is Kind.PATRON_CONTEXT and f.reason.startswith(ACCOUNT_SENTENCE)])
    name_ids = {id(f) for f in names}
    person_order = {id(f): i for i, f in enumerate(persons)}
    pronouns: dict[str, tuple[_Hits, _Hits]] = {}
    person_of: dict[int, tuple[bool, bool]] = {}
    persons_near: dict[int, list[Finding]] = {}

    def cluster(anchor: Finding) -> tuple[Finding, ...]:
        """The anchor and every categorised finding near it (what this disclosure exposes)."""
        signed = signatures.get(anchor.part, ())
        near = [
            f
            for f in around.near_finding(anchor, prox)
            if f is not anchor
            and (f.kind is not Kind.PERSON_NAME or id(f) in name_ids)
            and not _inside(f, signed)  # the writer's own phone and address are not the patron's
        ]
        return (anchor, *near)

    def add(rule: str, anchor: Finding, extra: Iterable[Finding] = ()) -> None:
        members = tuple({id(m): m for m in (*cluster(anchor), *extra)}.values())
        cats: frozenset[Category] = frozenset()
        for m in members:
            cats |= m.categories
        score = max(m.score for m in members if m.kind not in (Kind.PATRON_CONTEXT,))
        # Everyone it may be about: each name and reference ("your son") close to what it
        # exposes. The patron-as-recipient check needs all of them to be the recipient.
        # A whole table or record layout among the members (not the anchor) does not make everyone
        # in it a subject of this row's disclosure: the rows near the anchor say whom it is about.
        about_ids: dict[int, Finding] = {}
        for m in members:
            if m is anchor or m.kind not in _BLOCK_KINDS:
                if id(m) not in persons_near:
                    persons_near[id(m)] = [
                        p for p in persons_around.near_finding(m, prox)
                        if p is not m and (p.kind is Kind.PERSON_REFERENCE or id(p) in name_ids)
                    ]
                for p in persons_near[id(m)]:
                    about_ids[id(p)] = p
        about = tuple(sorted(about_ids.values(), key=lambda p: person_order[id(p)]))
        text = texts.get(anchor.part, "")
        if anchor.part not in pronouns:
            pronouns[anchor.part] = (_Hits(_THIRD_PERSON, text), _Hits(_SECOND_PERSON, text, _COLLEAGUE_PLACE))
        third_hits, second_hits = pronouns[anchor.part]

        def told(m: Finding) -> tuple[bool, bool]:
            """(third person in its sentence, second person within 150 characters), once per finding:
            in a table every finding is a member of several rows' disclosures."""
            key = id(m)
            if key not in person_of:
                person_of[key] = (
                    m.kind not in _BLOCK_KINDS and third_hits.within(*_sentence(text, m.start, m.end)),
                    second_hits.within(max(0, m.start - 150), m.end + 150),
                )
            return person_of[key]

        third = any(told(m)[0] for m in members)
        second = any(told(m)[1] for m in members)
        # A staff letter to the patron says "you"; a printed notice may say only "the items below
        # are overdue", but then it is a notice: its item list or layout is part of what it shows.
        notice = any(m.reason.startswith(("circulation-list", "library-notice")) for m in members)
        to_reader = not third and (second or notice)
        out.append(Disclosure(rule, cats, round(min(1.0, score), 3), members, about, to_reader))

    for f in findings:
        rule = DIRECT.get(f.kind)
        if rule and f.score >= settings.min_score:
            add(rule, f)
        elif f.kind is Kind.BULK_EXPORT and f.score >= 0.5 and language_around.near_finding(f, ctx):
            add("bulk-export", f)

    for f in findings:
        if (f.kind in IDENTIFIERS and f.score >= 0.5) or _weak_card(f, settings):
            if signatures and _inside(f, signatures.get(f.part, ())):
                continue
            known = _known_pair(f, names_around, knowns_around)
            if known is not None:
                # The patron directory says this name and this identifier are the same patron's.
                add("known-patron", f, known)
                continue
            person = next(iter(names_around.near_finding(f, prox)), None)
            if person is None:
                continue
            if f.kind is Kind.DRIVERS_LICENSE:
                add("drivers-license", f, (person,))
                continue
            if f.kind is Kind.BIRTH_DATE:
                # A named person's date of birth is the library's record of her, with or without
                # library words (a birth date is found only next to its keyword).
                add("name-with-identifier", f, (person,))
                continue
            text = texts.get(f.part, "")
            lang = next(
                (c for c in language_around.near(min(f.start, person.start), max(f.end, person.end), ctx)
                 if _about_person(c, person, f, text, ctx)),
                None,
            )
            if lang is None:
                # "Ahmed Hassan moved; his new address is …": one sentence names her and holds the identifier.
                for c in accounts_around.near_finding(f, 200):
                    named = _named_in_sentence(c, names_around, text)
                    if named is not None and _same_sentence(c, f, text):
                        person, lang = named, c
                        break
            if lang is not None or f.kind in (Kind.PARTIAL_BARCODE, Kind.PATRON_BARCODE) or _profile(f, person, everything.near_finding(person, prox), prox, signatures, text):
                add("name-with-identifier", f, (person,) + ((lang,) if lang else ()))
        elif f.kind in RECORD_LANGUAGE and f.score >= 0.4 and (patron := _known_name(f, names_around, known_names, texts.get(f.part, ""))):
            # Fines, holds, loans or notes next to a name the patron directory knows: her record.
            add("circulation-record", f, (patron,))
        elif f.kind in RECORD_LANGUAGE and f.score >= 0.5:
            if f.kind is Kind.MONEY_OWED and f.reason.startswith(GENERIC_OWING) and not any(
                c is not f for c in language_around.near_finding(f, ctx)
            ):
                continue  # "owes $500" in the news; a patron's debt comes with library words
            agent = _agent(f, names_around.near_finding(f, 40), texts.get(f.part, ""))
            strong = _strong_record(f) or agent is not None
            if f.reason.startswith(ACCOUNT_SENTENCE):
                # About the person it names ("Olga Ivanova owes us forty dollars in replacement fees");
                # told to "you", about the person the letter greets (`_addressed_records`).
                named = _named_in_sentence(f, names_around, texts.get(f.part, ""))
                if named is not None:
                    add("circulation-record", f, (named,))
                continue
            person = (agent or next(iter(names_around.near_finding(f, prox)), None)) if strong else None
            if person is None and (f.score >= 0.7 or f.kind is Kind.MONEY_OWED):
                person = next((p for p in persons_around.near_finding(f, prox) if p.kind is Kind.PERSON_REFERENCE), None)
            if person is not None:
                add("circulation-record", f, (person,))
    _addressed_records(findings, names, texts, signatures, out, add, personal)
    return _dedupe(out)


def _named_in_sentence(f: Finding, names_around: _Around, text: str) -> Finding | None:
    """The first patron name in the sentence of `f`."""
    lo, hi = _sentence(text, f.start, f.end)
    return next((n for n in names_around.near(lo, hi, 0) if lo <= n.start and n.end <= hi), None)


def _same_sentence(a: Finding, b: Finding, text: str) -> bool:
    lo, hi = _sentence(text, a.start, a.end)
    return lo <= b.start and b.end <= hi


def _known_name(f: Finding, names: _Around, known: _Around, text: str) -> Finding | None:
    """A patron name (one that passed the name checks) the directory knows, in the sentence of `f`
    (a namesake in the roll call of board minutes is not the subject of the next sentence's fines)."""
    lo, hi = _sentence(text, f.start, f.end)
    for k in known.near(lo, hi, 0):
        for n in names.near(k.start, k.end, 0):
            if k.start <= n.start and n.end <= k.end and lo <= n.start and n.end <= hi:
                return n
    return None


def _known_pair(f: Finding, names: _Around, knowns: _Around) -> tuple[Finding, Finding] | None:
    """(name, directory finding) when the patron directory matched a name near `f` with `f` itself."""
    for k in knowns.near_finding(f, 0):
        if k.start <= f.start and f.end <= k.end:
            for n in names.near(k.start, k.end, 0):
                if k.start <= n.start and n.end <= k.end:
                    return n, k
    return None


def _addressed_records(findings, names, texts, signatures, out, add, personal) -> None:  # type: ignore[no-untyped-def]
    """A letter greeting a person and telling her of her loans, holds, fines or notes ("Hi Alicia, …
    we marked The Wild Robot as lost on your account") speaks of the greeted person's record,
    however far below the greeting it stands: bound to her, told to the reader. Whether she is the
    recipient is the policy's question (the patron writing to herself)."""
    greeting = next((n for n in names if "salutation" in n.reason.split(" ", 1)[-1].split("+")), None)
    if greeting is None:
        return
    text = texts.get(greeting.part, "")
    own_end = own_text_end(text)
    if greeting.start >= own_end:
        return
    signed = signatures.get(greeting.part, ())
    bound = {id(m) for d in out for m in d.findings}
    hits = _Hits(_SECOND_PERSON, text)
    for f in findings:
        if (f.kind not in RECORD_LANGUAGE or f.score < 0.5 or id(f) in bound or not greeting.end <= f.start < own_end
                or _inside(f, signed) or (f.kind is Kind.MONEY_OWED and f.reason.startswith(GENERIC_OWING))
                or (f.reason.startswith(ACCOUNT_SENTENCE) and not personal)):
            continue
        if hits.within(*_sentence(text, f.start, f.end)):
            add("circulation-record", f, (greeting,))


def _dedupe(disclosures: list[Disclosure]) -> list[Disclosure]:
    """One disclosure per (rule, anchor span); keep the first, which is the strongest anchor in order."""
    seen: set[tuple[str, str, int]] = set()
    out = []
    for d in disclosures:
        anchor = d.findings[0]
        key = (d.rule, anchor.part, anchor.start)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
