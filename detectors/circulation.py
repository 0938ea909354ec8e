"""Cheap phrase detectors for what a library knows about a patron's use of it.

This module owns six small detectors whose findings are spans the policy can bind to a
nearby person name: money owed (`MoneyOwedDetector`), circulation statements
(`CirculationDetector`), holds (`HoldDetector`), patron-context words
(`PatronContextDetector`), references to a person without a name
(`PersonReferenceDetector`) and notes from a patron record (`PatronNoteDetector`).

None of them is evidence alone: library staff write "the book is due back" and "the
patron" in ordinary mail. They must stay cheap (one linear regex pass each, no spaCy)
and they never decide. Patterns bound every repetition so a megabyte of hostile text
cannot make them backtrack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from detectors.findings import Category, Finding, Kind, TextPart, mask

_MAX_CHARS = 4_000_000
_SP = r"\s{1,3}"  # a word gap; line wraps allowed, bounded
# A library-scale amount (under $10,000): "$51,000 fine" or "owes $12 billion" is news, not a patron's bill.
_AMOUNT = r"\$[ ]?(?:\d{1,4}|\d,\d{3})(?:\.\d{2})?(?![\d,])(?!\.\d)(?![ \t]{0,2}(?:million|billion|trillion|thousand|bn|[kKmMbB]\b))"


def fold_case(text: str) -> str:
    """Lower-case text without changing its length, so offsets stay valid.

    `str.lower` changes length only for U+0130 (dotted capital I), which becomes two code points.
    """
    low = text.lower()
    if len(low) != len(text):
        low = text.replace("\u0130", "i").lower()
    return low


@dataclass(frozen=True, slots=True)
class _Rule:
    """One phrase pattern, where it may start, its score and the reason shown to a supervisor.

    Scanning a whole message with an alternation is slow in `re`; instead each anchor (a
    lower-case literal) is located with `str.find` and the pattern is tried only there. With
    `lookback` the pattern is searched in a small window that ends after the anchor, for
    phrases whose rare word comes last ("the patron"). With `line_start` the pattern is
    matched from the start of the anchor's line.
    """

    anchors: tuple[str, ...]
    pattern: re.Pattern[str]
    score: float
    reason: str
    case_sensitive: bool = False
    lookback: int = 0
    line_start: bool = False


def _rule(anchors: str, pattern: str, score: float, reason: str, **kw: Any) -> _Rule:
    flags = re.MULTILINE if kw.get("line_start") else 0
    return _Rule(tuple(anchors.split("|")), re.compile(pattern, flags), score, reason, **kw)


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _rule_matches(rule: _Rule, text: str, low: str) -> Iterator[tuple[int, int]]:
    hay = text if rule.case_sensitive else low
    for anchor in rule.anchors:
        boundary = _word_char(anchor[0])
        pos = hay.find(anchor)
        while pos != -1:
            if not (boundary and pos > 0 and _word_char(hay[pos - 1])):
                m: re.Match[str] | None
                if rule.line_start:
                    nl = hay.rfind("\n", max(0, pos - 32), pos)
                    at = nl + 1 if nl != -1 else (0 if pos < 32 else -1)
                    m = rule.pattern.match(hay, at) if at >= 0 else None
                elif rule.lookback:
                    m = rule.pattern.search(hay, max(0, pos - rule.lookback), pos + len(anchor) + 40)
                    if m is not None and m.end() <= pos:
                        m = None
                else:
                    m = rule.pattern.match(hay, pos)
                if m is not None and not (m.start() > 0 and _word_char(hay[m.start() - 1]) and _word_char(hay[m.start()])):
                    yield m.start(), m.end()
            pos = hay.find(anchor, pos + 1)


def _scan(
    part: TextPart,
    rules: Sequence[_Rule],
    kind: Kind,
    detector: str,
    categories: frozenset[Category],
    max_chars: int,
) -> list[Finding]:
    """Run each rule over the part; where spans overlap keep the higher-scoring (then longer) one."""
    text = part.text[:max_chars]
    low = fold_case(text)
    raw: list[tuple[int, int, float, str]] = []
    for rule in rules:
        for s, e in _rule_matches(rule, text, low):
            raw.append((s, e, rule.score, rule.reason))
    return _to_findings(part, text, raw, kind, detector, categories)


def _to_findings(
    part: TextPart,
    text: str,
    raw: list[tuple[int, int, float, str]],
    kind: Kind,
    detector: str,
    categories: frozenset[Category],
) -> list[Finding]:
    # One sweep in start order: an overlapping hit replaces the kept one only if it is stronger
    # (then longer). Linear, so a part with thousands of hits stays cheap.
    kept: list[tuple[int, int, float, str]] = []
    for hit in sorted(raw, key=lambda h: (h[0], -h[2], h[0] - h[1])):
        if kept and hit[0] < kept[-1][1]:
            last = kept[-1]
            if (hit[2], hit[1] - hit[0]) > (last[2], last[1] - last[0]):
                kept[-1] = hit
            continue
        kept.append(hit)
    return [
        Finding(
            kind=kind,
            part=part.path,
            start=s,
            end=e,
            score=score,
            reason=reason,
            masked=mask(text[s:e]),
            detector=detector,
            categories=categories,
        )
        for s, e, score, reason in kept
    ]


# --- money owed ------------------------------------------------------------------------

_FEE_KIND = r"(?:late|overdue|lost(?:[ -]item)?|replacement|processing|damaged?|billing|collections?|library|referral)"
_FEE_ANCHORS = "late|overdue|lost|replacement|processing|damage|billing|collection|library|referral"
_MONEY_RULES: tuple[_Rule, ...] = (
    _rule(
        "owe|owing",
        rf"(?:owes?|owed|owing)(?:{_SP}(?:us|the{_SP}library|a{_SP}total{_SP}of|a{_SP}balance{_SP}of|about|over|nearly)){{0,2}}{_SP}{_AMOUNT}",
        0.85,
        "owes-amount",
    ),
    _rule(
        "fine|" + _FEE_ANCHORS,
        rf"(?:fines?|{_FEE_KIND}{_SP}(?:fees?|charges?|bills?))(?:{_SP}(?:of|totall?ing|amounting{_SP}to|due|owed|owing|outstanding|is|are|was|were|now|come{_SP}to|total)){{0,2}}[ \t:]{{0,3}}{_AMOUNT}",
        0.85,
        "fine-amount",
    ),
    _rule(
        "balance|bill",
        rf"(?:balance|bill)(?:{_SP}(?:due|owed|owing|outstanding|of|is|was|for|totall?ing|now)){{0,2}}[ \t:]{{0,3}}{_AMOUNT}",
        0.7,
        "balance-amount",
    ),
    _rule(
        "$",
        rf"{_AMOUNT}{_SP}(?:(?:in|of){_SP})?(?:(?:overdue|unpaid|outstanding|late){_SP})?(?:fines?|late{_SP}fees?|bill|lost[ -]item|replacement|overdue|in{_SP}charges)\b",
        0.8,
        "amount-fine",
    ),
    # Owing nouns without an amount: one person's only in a person's frame ("her overdue fines",
    # "his account was sent to collections"); "we stopped charging overdue fines" is policy.
    _rule(
        "amount|money|lost|replacement|overdue|unpaid|sent|referred|turned|submitted",
        rf"(?:amount{_SP}(?:owed|owing|outstanding)|money{_SP}owed|lost[ -]item{_SP}(?:charges?|fees?|bills?)"
        rf"|replacement{_SP}(?:fees?|costs?|charges?)|overdue{_SP}fines?|unpaid{_SP}(?:fines?|fees?|bills?|balance)"
        rf"|(?:sent|referred|turned{_SP}over|submitted){_SP}to{_SP}(?:a{_SP}|the{_SP})?collections?(?:{_SP}agency)?)\b",
        0.4,
        "owing-phrase generic",
    ),
    _rule(
        "his|her|their|your|'s|’s|was|were|been",
        rf"(?:(?:his|her|their|your|\w['’]s){_SP}(?:\w{{1,15}}{_SP})?(?:amount{_SP}(?:owed|owing|outstanding)|lost[ -]item{_SP}(?:charges?|fees?|bills?)"
        rf"|replacement{_SP}(?:fees?|costs?|charges?)|overdue{_SP}fines?|unpaid{_SP}(?:fines?|fees?|bills?|balance))"
        rf"|(?:his|her|their|your|\w['’]s){_SP}(?:library{_SP})?(?:account|bill|debt|balance)s?"
        rf"{_SP}(?:was|were|has{_SP}been|is|went){_SP}(?:sent|referred|turned{_SP}over|submitted|sent{_SP}out){_SP}to{_SP}(?:a{_SP}|the{_SP})?collections?"
        rf"|(?:was|were|been){_SP}(?:sent|referred|turned{_SP}over|submitted){_SP}to{_SP}(?:a{_SP}|the{_SP})?collections?(?:{_SP}agency)?)\b",
        0.6,
        "owing-phrase",
        lookback=40,
    ),
    # Spanish: "multas de $4.50", "debe $12.00", "saldo pendiente de $8", "cargo por pérdida".
    _rule(
        "multa|debe|saldo|adeud|cargo",
        rf"(?:multas?(?:{_SP}(?:de|por|pendientes?|vencidas?|atrasadas?|acumuladas?)){{0,2}}[ \t:]{{0,3}}{_AMOUNT}"
        rf"|debe{_SP}(?:a{_SP}la{_SP}biblioteca{_SP})?{_AMOUNT}|saldo(?:{_SP}(?:pendiente|de|a{_SP}pagar)){{0,2}}[ \t:]{{0,3}}{_AMOUNT}"
        rf"|adeud[ao]{_SP}(?:de{_SP})?{_AMOUNT}|cargos?{_SP}por{_SP}(?:p[eé]rdida|reemplazo|retraso))",
        0.85,
        "fine-amount es",
    ),
    # Russian and Vietnamese: a fine or debt word followed by an amount.
    _rule(
        "штраф|задолженност|tiền phạt|nợ",
        rf"(?:штраф\w{{0,3}}|задолженност\w{{0,3}}|tiền{_SP}phạt|nợ)[ \t:]{{0,3}}(?:в{_SP}размере{_SP})?{_AMOUNT}",
        0.85,
        "fine-amount ru-vi",
    ),
)


@dataclass(frozen=True, slots=True)
class MoneyOwedSettings:
    """Bounds for the money-owed phrases."""

    max_chars: int = _MAX_CHARS


class MoneyOwedDetector:
    """Finds amounts tied to owing ("owes $12.50", "fines of $3.20"); bare prices are not money owed."""

    name = "money_owed"

    def __init__(self, settings: MoneyOwedSettings | None = None) -> None:
        self.settings = settings or MoneyOwedSettings()

    def detect(self, part: TextPart) -> Iterable[Finding]:
        found = _scan(part, _MONEY_RULES, Kind.MONEY_OWED, self.name, frozenset({Category.MONEY_OWED}),
                      self.settings.max_chars)
        text = part.text
        out = []
        for f in found:
            lo, hi = _sentence(text, f.start, f.end)
            if _AGGREGATE.search(text, lo, hi):
                # "$1,840 in fines collected last year", "patrons owe $4,000 in total": a figure
                # about the library, not one person's debt.
                f = replace(f, score=_AGGREGATE_SCORE, reason=f.reason + " aggregate")
            out.append(f)
        return out


_AGGREGATE_SCORE = 0.3
_AGGREGATE = re.compile(
    r"\b(?:collected|revenue|system[ -]?wide|across[ ](?:the|all|our)|annual(?:ly)?|per[ ](?:year|month|quarter)"
    r"|(?:each|per|a)[ ](?:fiscal[ ])?(?:year|month|quarter)|fiscal[ ]year|fy[ ]?\d{2,4}|budget(?:ed)?|average|median"
    r"|(?:patrons|borrowers|accounts|cardholders|users|households)[ ](?:who[ ])?(?:owe|owed|owing|with|have|had)"
    r"|(?:all|our|\d[\d,]*)[ ](?:patrons|borrowers|accounts|cardholders)|waived[ ]fines|fine[- ]free|amnesty)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\n\s*\n")


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The bounds of the sentence around [start, end), at most 200 characters either side."""
    lo = max(0, start - 200)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, lo, start)]
    lo = ends[-1] if ends else lo
    m = _SENTENCE_END.search(text, end, min(len(text), end + 200))
    return lo, (m.end() if m else min(len(text), end + 200))


# --- circulation -------------------------------------------------------------------------

_CIRC_RULE = _rule(
    "checked|check|overdue|due|renewed|returned|borrowed|has|have|had|currently|never|hasn|still|items|out|requested"
    "|prestad|vencid|atrasad|renovad|devol|fecha|préstamo|prestamo|tiene|просроч|срок|верн|quá hạn|trả sách",
    rf"(?:checked{_SP}(?:it{_SP}|them{_SP})?(?:out|in)|check-?outs?|overdue|due{_SP}(?:back|on|by|date|soon)|renewed"
    rf"|(?:is|are|now|be){_SP}due\b"
    rf"|returned{_SP}late|borrowed|ha(?:s|ve|d){_SP}the{_SP}following{_SP}items?"
    rf"|currently{_SP}has{_SP}\d{{1,4}}{_SP}items?(?:{_SP}(?:checked{_SP})?out)?"
    rf"|ha(?:s|ve|d){_SP}(?:\d{{1,3}}|these|those|several|two|three|four|five|a{_SP}few){_SP}(?:items?|books?|dvds?|titles?|things)"
    rf"{_SP}(?:out|checked{_SP}out|overdue|still{_SP}out)"
    rf"|(?:never|hasn'?t|has{_SP}not|not{_SP}yet){_SP}(?:been{_SP})?returned|still{_SP}has{_SP}(?:the|these|those|our|\d{{1,3}})"
    rf"|items{_SP}out|out{_SP}on{_SP}(?:her|his|their|your){_SP}(?:card|account)"

    rf"|(?:you|she|he|they){_SP}requested|requested{_SP}(?:through|by|via){_SP}(?:interlibrary|ill)"
    # Spanish: tiene prestados, vencidos, atrasados, renovado, fecha de vencimiento/devolución
    rf"|tiene{_SP}(?:prestad[oa]s?|(?:\d{{1,3}}|estos|estas){_SP}(?:libros?|art[ií]culos?|materiales?))"
    rf"|prestad[oa]s?|vencid[oa]s?|atrasad[oa]s?|renovad[oa]s?|devolver|devoluci[oó]n"
    rf"|fecha{_SP}de{_SP}(?:vencimiento|devoluci[oó]n|entrega)|pr[eé]stamos?"
    # Russian: просрочен(а/ы), срок возврата (истёк), верните; Vietnamese: quá hạn, trả sách
    rf"|просроч\w{{0,8}}|срок\w{{0,2}}{_SP}возврата|верн(?:ите|уть)|quá{_SP}hạn|trả{_SP}sách)\b",
    0.5,
    "circulation-phrase",
)
# Other verbs of borrowing: weaker than "checked out", so alone they are no library words; with a
# title they are loans. Reading, listening and watching are not borrowing ("Diane is reading The
# Pearl Thief" closes many a board's minutes).
_CIRC_WEAK_RULE = _rule(
    "took|has|have|had|brought|hasn|never|renewed",
    rf"(?:took{_SP}(?:out|home)|(?:has|have|had){_SP}(?:\w{{1,12}}{_SP}){{0,3}}out{_SP}(?:right{_SP}now|now|currently|at{_SP}the{_SP}moment)"
    rf"|(?:has|have|had){_SP}out|brought{_SP}back|(?:hasn'?t|has{_SP}not|never){_SP}brought{_SP}back"
    rf"|renewed{_SP}it)\b",
    0.4,
    "circulation-phrase weak",
)
# An item put on someone's record as lost or damaged: "we marked The Wild Robot as lost on your account".
_LOST = re.compile(
    rf"\b(?:marked|declared|listed|billed|charged|recorded)\b(?P<what>[^.\n]{{1,80}}?){_SP}as{_SP}"
    rf"(?:lost|missing|damaged|long[ -]overdue|claim(?:s|ed)?[ -]returned)\b",
    re.IGNORECASE,
)
_TITLE_INSIDE = re.compile(r"[\"\u201c\u2018*_]?[A-Z][\w'’:-]*(?:[ \t]+(?:[A-Z][\w'’:-]*|of|the|a|an|and|in|on|to|for)){1,8}")
# A quoted title: starts upper-case and has lower-case letters (not a quoted code or domain).
# Any script's capital: "Nỗi buồn chiến tranh", «Мастер и Маргарита», «Cien años de soledad».
_QUOTED_TITLE = re.compile(
    r"[\"\u201c\u2018\u00ab]([A-ZÀ-ÖØ-ÞА-ЯЁ][^\W\d_]{0,30}(?:[ \t][\w'\u2019:,.-]{1,30}){0,10})[\"\u201d\u2019\u00bb]"
)
_CAP_TITLE = re.compile(
    r"[ \t:]{0,3}(?:(?:the|a|an|his|her|their|books?|dvds?|titles?|items?|copies|of)[ \t]{1,2}){0,3}"
    r"[A-Z][a-z'\u2019]{1,20}(?:[ \t]{1,2}(?:of|the|and|a|in|to|for|[A-Z][\w'\u2019:-]{0,20})){1,6}"
)
# "is overdue:" — the phrase introduces a list, so even one due-dated line under it is the item.
_LIST_INTRO = re.compile(r"[^\n.]{0,40}:[ \t]*\r?\n")
_DUE_LINE = re.compile(
    r"^[^\n]{0,160}\b(?:due|DUE|Due|vence|Vence|VENCE|vencimiento|Vencimiento|devolver|срок|hạn|pick[ -]?up[ ]by|Pick[ -]?up[ ]by"
    r"|PICK[ -]?UP[ ]BY|expires?|Expires?|hold[ ]until|Hold[ ]until|[Rr]equest(?:ed)?[ ][Dd]ate)\b[^\n]{0,30}"
    r"\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?",
    re.MULTILINE,
)
# Labelled item lines of a checkout receipt, a hold slip or a notice ("Title: …", "Call Number: …").
_ITEM_LABEL = re.compile(
    r"^[ \t>*•-]{0,8}(?:Title|TITLE|Título|Titulo|Название|Tên sách|Author|AUTHOR|Autor"
    r"|(?P<circ>Call[ ]?(?:Number|No\.?|#)|CALL[ ]#|Item[ ]barcode|Barcode|BARCODE|Código[ ]de[ ]barras|Due(?:[ ]date)?|DUE[ ]DATE"
    r"|Fecha[ ]de[ ](?:vencimiento|devolución)|Vence|Pickup(?:[ ]location)?|Pick[ ]up[ ]by|Hold[ ]expires|Request(?:ed)?[ ]Date"
    r"|Expires|Hold[ ]until))[ \t]*[:\t][ \t]*\S",
    re.MULTILINE,
)
# A line naming an item by its barcode (type 3, 14 digits): "Dune, Herbert, Frank (33610034998721)".
_ITEM_BARCODE_LINE = re.compile(r"^[^\n]*[A-Za-z][^\n]*(?<!\d)3\d{13}(?!\d)[^\n]*$", re.MULTILINE)
# What an item line of a notice, slip or receipt carries besides its title: a shelf mark, an item
# barcode, a date, an amount, its author. Two of them on a line with words make it an item line.
_ITEM_FEATURES = (
    re.compile(r"(?<!\d)3\d{13}(?!\d)"),  # item barcode
    re.compile(r"\b(?:\d{3}(?:\.\d{1,6})?[ ][A-Z]{2,6}|(?:J|YA|E|JE|JUV|SPA|LP|REF)?[ ]?(?:FIC|NF|DVD|CD|BIO|GN|PB|BD|EASY)[ ][A-Z]{2,6})\b"),
    re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})\b|\b(?:19|20)\d{2}-\d{2}-\d{2}\b"),  # a date
    re.compile(r"\$[ ]?\d{1,4}(?:\.\d{2})\b"),  # an amount
    re.compile(r"(?:\bby|[ ]/)[ ]+[A-Z][\w'’-]+"),  # an author
)
_ITEM_LINE = re.compile(r"^[^\n]*[A-Za-z]{3}[^\n]*$", re.MULTILINE)


def _item_lines(text: str) -> list[tuple[int, int]]:
    """Lines with two or more item features (shelf mark, item barcode, date, amount, author)."""
    if not any(ch.isdigit() for ch in text):
        return []
    out = []
    for m in _ITEM_LINE.finditer(text):
        line = m.group()
        if len(line) > 300:
            continue
        found = [bool(f.search(line)) for f in _ITEM_FEATURES]
        # A date and an amount alone are an account line ("Doe, Jane  $47.25  10/14/2024"): an
        # item line names the item too, by its barcode, shelf mark or author.
        if found[0] or (sum(found) >= 2 and (found[1] or found[4])):
            out.append((m.start(), m.end()))
    return out
# Marks of a title after a circulation phrase, in the same sentence: a list after a colon,
# "by Author", "(Author)".
_TITLE_MARK = re.compile(
    r"^[^.!?\n]{0,80}?(?::[ \t]*[A-Z0-9¿¡][^\n]{2}|[ \t]by[ \t]+[A-Z][a-z]|\([A-Z][\w'’.-]+(?:,?[ ][A-Z][\w'’.-]*){1,3}\))"
)
# A title right before "was due", "is overdue", "are checked out": "El principito was due on …".
# Its first word is capitalised and not a pronoun or determiner ("Her books are overdue" names
# no title), or an article before a capitalised word ("The Night Circus is overdue").
_TITLE_BEFORE_PHRASE = re.compile(
    r"(?:^|(?<=[.!?:;,\n])|(?<=\bthat)|(?<=\bthat[ ]))[ \t]*"
    r"(?:(?:The|A|An|El|La|Los|Las|Le|Les|Der|Die|Das)[ \t]+[A-Z0-9¿¡]"
    r"|(?!(?:Her|His|Their|Your|My|Our|Its|The|This|That|These|Those|It|They|She|He|We|You|I|All|Some|Both|Any|Each|Every"
    r"|Two|Three|Four|Five|Several|Many|Most|No|None|One|Items?|Books?|Materials?)\b)[A-Z¿¡])"
    r"[\w'’:-]*(?:[ \t]+[\w'’:-]+){0,7}[ \t]+(?:was|were|is|are|has[ \t]been|have[ \t]been)[ \t]+$"
)


@dataclass(frozen=True, slots=True)
class CirculationSettings:
    """Scores for circulation statements: with titles they describe a circulation record."""

    with_titles_score: float = 0.8
    bare_score: float = 0.5
    title_window: int = 100  # characters after (and before) the phrase searched for a title
    list_window: int = 1200  # characters after the phrase searched for due-dated item lines
    max_chars: int = _MAX_CHARS


class CirculationDetector:
    """Finds circulation statements (checked out, overdue, due back, renewed, borrowed)."""

    name = "circulation"

    def __init__(self, settings: CirculationSettings | None = None) -> None:
        self.settings = settings or CirculationSettings()

    def detect(self, part: TextPart) -> Iterable[Finding]:
        s = self.settings
        text = part.text[: s.max_chars]
        low = fold_case(text)
        raw: list[tuple[int, int, float, str]] = []
        weak = {(a, b) for a, b in _rule_matches(_CIRC_WEAK_RULE, text, low)}
        for start, end in sorted(set(_rule_matches(_CIRC_RULE, text, low)) | weak):
            after = text[end: end + s.title_window]
            before = text[max(0, start - s.title_window): start]
            if _QUOTED_TITLE.search(after) or _QUOTED_TITLE.search(before):
                raw.append((start, end, s.with_titles_score, "circulation-phrase title=quoted"))
            elif _CAP_TITLE.match(after):
                raw.append((start, end, s.with_titles_score, "circulation-phrase title=capitalised"))
            elif len(_DUE_LINE.findall(text, end, end + s.list_window)) >= (1 if _LIST_INTRO.match(text, end) else 2):
                raw.append((start, end, s.with_titles_score, "circulation-phrase title=due-list"))
            elif _ITEM_BARCODE_LINE.search(text, end, end + s.list_window):
                raw.append((start, end, s.with_titles_score, "circulation-phrase title=item-barcode"))
            elif _TITLE_MARK.match(after):
                raw.append((start, end, s.with_titles_score, "circulation-phrase title=marked"))
            elif _TITLE_BEFORE_PHRASE.search(before[-80:]):
                raw.append((start, end, s.with_titles_score, "circulation-phrase title=before"))
            elif (start, end) in weak:
                raw.append((start, end, _CIRC_WEAK_RULE.score, _CIRC_WEAK_RULE.reason))
            else:
                raw.append((start, end, s.bare_score, "circulation-phrase"))
        if "as lost" in low or "as missing" in low or "as damaged" in low or "returned" in low or "overdue" in low:
            for m in _LOST.finditer(text):
                titled = _TITLE_INSIDE.search(m.group("what")) or _QUOTED_TITLE.search(m.group("what"))
                raw.append((m.start(), m.end(), s.with_titles_score if titled else s.bare_score,
                            "circulation-lost title=inside" if titled else "circulation-lost"))
        raw.extend(self._lists(text))
        return _to_findings(part, text, raw, Kind.CIRCULATION, self.name, frozenset({Category.TITLES}))

    def _lists(self, text: str) -> list[tuple[int, int, float, str]]:
        """Runs of due-dated lines or labelled item lines: a list of what was borrowed or held.

        Two such lines at most three lines apart are one list; the finding spans it, so a
        name in it or next to it binds. ("Due 5/12" once is a date; a list is titles.)
        """
        hits = sorted(
            [(m.start(), m.end(), "due-dated") for m in _DUE_LINE.finditer(text)]
            + [(m.start(), m.end(), "item-circ" if m.group("circ") else "item-labels") for m in _ITEM_LABEL.finditer(text)]
            + [(a, b, "item-line") for a, b in _item_lines(text)]
        )
        out: list[tuple[int, int, float, str]] = []
        run: list[tuple[int, int, str]] = []
        for hit in [*hits, (-1, -1, "")]:  # the sentinel closes the last run
            if run and (not hit[2] or text.count("\n", run[-1][1], hit[0]) > 3):
                lines = {text.count("\n", 0, h[0]) for h in run}
                # Titles and authors alone are a book list; a shelf mark, a barcode or a due date
                # makes them items someone has.
                if len(lines) >= 2 and any(h[2] != "item-labels" for h in run):
                    found = {h[2] for h in run}
                    kind = ("due-dated" if "due-dated" in found
                            else "item-labels" if found & {"item-circ", "item-labels"} else "item-lines")
                    out.append((run[0][0], max(h[1] for h in run), self.settings.with_titles_score, f"circulation-list {kind}"))
                run = []
            if hit[2]:
                run.append(hit)
        return out


# --- holds ----------------------------------------------------------------------------------

_HOLD_RULES: tuple[_Rule, ...] = (
    _rule(
        "hold|ready|available|placed|pick|item|book|title|copy|dvd|has|have|had|put|request|is|are|reserv|you|she|he|they|cancel|expire"
        "|your|her|his|their|came|come|arrived"
        "|disponible|recoger|apartad|lista|listo|su|sus|бронь|заказ|đặt trước",
        rf"(?:holds?{_SP}(?:is|are){_SP}(?:now{_SP})?(?:ready|available|waiting)"
        rf"|(?:ready|available){_SP}for{_SP}(?:you{_SP}to{_SP})?pick[ -]?up"
        rf"|placed{_SP}(?:a{_SP}|the{_SP}|an?{_SP}\w{{1,15}}{_SP}|\d{{1,3}}{_SP})?holds?"
        rf"|pick{_SP}up{_SP}(?:your|her|his|their){_SP}holds?"
        rf"|(?:can|may|could|will){_SP}be{_SP}picked{_SP}up|(?:ready|available){_SP}to{_SP}be{_SP}picked{_SP}up"
        rf"|(?:you|she|he|they){_SP}(?:reserved|requested|asked{_SP}for|placed{_SP}on{_SP}hold)\b[^.\n]{{0,40}}?{_SP}(?:is|are){_SP}(?:now{_SP})?(?:ready|available|in|here|waiting)"
        rf"|pick{_SP}(?:it|them){_SP}up|(?:cancel(?:l?ed)?|expired?){_SP}(?:the{_SP}|your{_SP}|her{_SP}|his{_SP})?holds?"
        rf"|(?:asked|requested){_SP}(?:us{_SP})?to{_SP}hold|holds?{_SP}(?:has|have){_SP}(?:come{_SP}in|arrived)"
        rf"|ha(?:s|ve){_SP}[^.\n]{{1,60}}?{_SP}waiting{_SP}(?:for{_SP}(?:her|him|them|you)|on{_SP}the{_SP}hold{_SP}shelf|at)"
        rf"|en{_SP}reserva|tiene{_SP}(?:\w{{1,12}}{_SP}){{0,2}}reservad[oa]s?"
        rf"|(?:items?|books?|titles?|copy|dvds?){_SP}(?:is|are){_SP}on{_SP}hold"
        rf"|ha(?:s|ve|d){_SP}(?:these|this|them|it|that|those|\d{{1,3}}(?:{_SP}\w{{1,15}})?|a{_SP}few|several|two|three)"
        rf"{_SP}on{_SP}hold"
        rf"|put{_SP}(?:a{_SP})?holds?{_SP}on|(?:requested|reserved){_SP}(?:a{_SP}copy{_SP}of|(?:the|a|this|that){_SP}(?:book|dvd|title|item|novel|copy))"
        rf"|(?:is|are){_SP}waiting{_SP}for{_SP}(?:her|him|them|you)"
        # A request that came in: "the interlibrary loan you requested, <title>, arrived", "your ILL
        # request for <title> has been filled".
        rf"|(?:you|she|he|they){_SP}(?:reserved|requested|asked{_SP}for|ordered)\b[^.\n]{{0,100}}?{_SP}"
        rf"(?:(?:has|have){_SP}(?:now{_SP})?(?:arrived|come{_SP}in|been{_SP}(?:filled|shipped|received))|arrived|came{_SP}in)"
        rf"|(?:came|come|arrived){_SP}in{_SP}for{_SP}(?:you|her|him|them)\b"
        rf"|(?:is|are){_SP}(?:now{_SP})?(?:waiting{_SP})?on{_SP}the{_SP}hold{_SP}shelf"
        rf"|(?:your|her|his|their){_SP}(?:interlibrary[ -]loans?|ill)(?:{_SP}requests?)?(?:{_SP}for{_SP}[^.\n]{{1,100}}?)?{_SP}"
        rf"(?:(?:is|are|has|have){_SP}(?:now{_SP})?(?:ready|available|here|arrived|in|come{_SP}in|been{_SP}(?:filled|shipped|received|cancell?ed|denied))|arrived|came{_SP}in)"
        # Spanish: su reserva está lista, disponible para recoger, apartado para usted
        rf"|(?:su|sus|la|las){_SP}reservas?|reservas?{_SP}(?:est[aá]n?|lista|listas|disponibles?)"
        rf"|(?:disponibles?|listo|lista|listos|listas){_SP}para{_SP}(?:recoger|retirar|recogerlo|recogerla)|apartad[oa]s?{_SP}para"
        # Russian: бронь/заказ готов; Vietnamese: đặt trước
        rf"|(?:бронь|заказ)\w{{0,3}}{_SP}готов\w{{0,2}}|đặt{_SP}trước)\b",
        0.6,
        "hold-phrase",
    ),
    # The hold shelf, the holds list and queue are the library's furniture, not anyone's hold.
    _rule("hold", rf"holds?{_SP}(?:list|shelf|queue|slips?|reports?)\b", 0.4, "hold-phrase generic"),
)
_HOLD_GATE = ("hold", "pick", "request", "reserv", "waiting", "interlibrary", "ill ", "ordered", "came in", "arrived", "disponible", "recoger", "apartad", "бронь", "заказ",
              "đặt trước", "asked")
# "on hold for you / her / Jane" — but "on hold for two weeks" or "for Monday" is not a library hold.
_ON_HOLD_FOR = re.compile(r"[Oo]n\s{1,3}[Hh]old\s{1,3}for\s{1,3}(you|him|her|them|the\s{1,3}patron|[A-Z][a-z]{1,20})\b")
_NOT_HOLDERS = frozenset(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July "
    "August September October November December The This That Now Today Tomorrow Christmas Easter".split()
)


@dataclass(frozen=True, slots=True)
class HoldSettings:
    """Scores for hold statements."""

    score: float = 0.6
    max_chars: int = _MAX_CHARS


class HoldDetector:
    """Finds hold statements: "on hold for you", "ready for pickup", "placed a hold", "hold shelf"."""

    name = "hold"

    def __init__(self, settings: HoldSettings | None = None) -> None:
        self.settings = settings or HoldSettings()

    def detect(self, part: TextPart) -> Iterable[Finding]:
        s = self.settings
        text = part.text[: s.max_chars]
        low = fold_case(text)
        if not any(w in low for w in _HOLD_GATE):
            return []
        raw = [
            (a, b, s.score if rule is _HOLD_RULES[0] else rule.score, rule.reason)
            for rule in _HOLD_RULES
            for a, b in _rule_matches(rule, text, low)
        ]
        pos = low.find("on hold")
        while pos != -1:
            m = _ON_HOLD_FOR.match(text, pos)
            if m is not None and m.group(1) not in _NOT_HOLDERS and not (pos > 0 and _word_char(text[pos - 1])):
                raw.append((m.start(), m.end(), s.score, "on-hold-for"))
            pos = low.find("on hold", pos + 1)
        return _to_findings(part, text, raw, Kind.HOLD, self.name, frozenset({Category.HOLDS}))


# --- patron context ---------------------------------------------------------------------------

_CONTEXT_RULES: tuple[_Rule, ...] = (
    _rule(
        "patron|borrower|library|card|barcode|mblock|tarjeta|usuario|cuenta",
        rf"(?:patron|borrower|library{_SP}card|card[ -]?holder|library{_SP}account"
        rf"|card{_SP}(?:number|no\.|#)|barcode|patron{_SP}record|mblock"
        rf"|tarjeta{_SP}de{_SP}(?:la{_SP})?biblioteca|n[uú]mero{_SP}de{_SP}tarjeta|cuenta{_SP}de{_SP}(?:la{_SP})?biblioteca)\b(?!-)",
        0.5,
        "patron-context",
    ),
    # "Our patrons love large print", "we issued 214 library cards": patrons and cards in
    # general, not one person's. Too weak to bind a name.
    _rule(
        "patrons|borrowers|library|card|barcode|patron",
        rf"(?:patrons|borrowers|library{_SP}cards|card[ -]?holders|library{_SP}accounts|barcodes|patron{_SP}records)\b",
        0.3,
        "patron-context generic",
    ),
    _rule("account", rf"(?:his|her|their){_SP}accounts?\b", 0.5, "patron-context account", lookback=10),
    # Records language: what the library holds about someone ("the details we have on file",
    # "her email with us", "the address we have for him", "la dirección que tenemos").
    _rule("file", rf"(?:have|keep|kept|is|are|was|were){_SP}on{_SP}file\b", 0.5, "patron-context on-file", lookback=24),
    _rule(
        "file|with us|we have|registered|listed|tenemos|registros",
        rf"(?:(?:e-?mail|phone|number|address|contact(?:{_SP}info)?|dob|birth{_SP}date){_SP}(?:on{_SP}file|with{_SP}us|in{_SP}our{_SP}(?:records|system))"
        rf"|(?:e-?mail|phone|number|address|dob|birth{_SP}date)s?{_SP}(?:that{_SP})?we{_SP}have"
        rf"|we{_SP}have{_SP}(?:her|him|them)?{_SP}?(?:listed|registered|down){_SP}(?:at|as|under)"
        rf"|(?:registered|listed){_SP}(?:at|under){_SP}(?:the{_SP})?(?:address|name|number)"
        rf"|que{_SP}tenemos|seg[uú]n{_SP}nuestros{_SP}registros|en{_SP}nuestros{_SP}registros|tenemos{_SP}registrad[oa])\b",
        0.5,
        "patron-context records",
        lookback=40,
    ),
    _rule("our", rf"in{_SP}our{_SP}(?:records|system|database|ils)\b", 0.5, "patron-context our-records", lookback=4),
    _rule(
        "who",
        rf"(?:person|patron|man|woman|guy|lady|kid|someone|people){_SP}who{_SP}(?:reserved|borrowed|checked{_SP}out|requested|returned|renewed)\b",
        0.5,
        "patron-context who-borrowed",
        lookback=12,
    ),
    # Upper-case only: "pin" is an ordinary word.
    _rule("PIN", r"PINs?\b", 0.5, "patron-context pin", case_sensitive=True),
    _rule(
        "blocked|registered",
        rf"(?:(?:account|card|record){_SP}(?:is|was|has{_SP}been|got){_SP}blocked"
        rf"|blocked{_SP}(?:account|card|patron|borrower)"
        rf"|registered{_SP}(?:patron|borrower)|(?:she|he|they|who){_SP}registered{_SP}for{_SP}a{_SP}(?:library{_SP})?card)\b",
        0.5,
        "patron-context account-state",
        lookback=24,
    ),
)


@dataclass(frozen=True, slots=True)
class PatronContextSettings:
    """Bounds for patron-context words."""

    max_chars: int = _MAX_CHARS


class PatronContextDetector:
    """Finds words saying the text is about a library patron (patron, borrower, library card, PIN...)."""

    name = "patron_context"

    def __init__(self, settings: PatronContextSettings | None = None) -> None:
        self.settings = settings or PatronContextSettings()

    def detect(self, part: TextPart) -> Iterable[Finding]:
        return _scan(part, _CONTEXT_RULES, Kind.PATRON_CONTEXT, self.name, frozenset(), self.settings.max_chars)


# --- person references -------------------------------------------------------------------------

_RELATIVES = (
    r"sons?|daughters?|husband|wife|child|children|kids?|mother|father|mom|mum|dad|parents?|grandsons?"
    r"|granddaughters?|grandchild(?:ren)?|grandmother|grandfather|spouse|partner|teen|teenager|students?"
)
_PERSON_RULES: tuple[_Rule, ...] = (
    _rule("your", rf"your{_SP}(?:{_RELATIVES})\b", 0.5, "person-reference relative"),
    # Spanish "su hijo", "sus hijos", "su esposa": a relative. ("su cuenta" is also "your
    # account" in a formal letter to the patron, so it is not a reference to someone else.)
    _rule(
        "su|sus",
        rf"sus?{_SP}(?:hij[oa]s?|espos[oa]|marido|madre|padre|niet[oa]s?|herman[oa]s?|pareja|estudiantes?)\b",
        0.5,
        "person-reference relative es",
    ),
    _rule(
        "account|card|record|fines|checkouts|holds",
        rf"(?:his|her|their){_SP}(?:account|card|library{_SP}card|record|fines|checkouts|holds)\b",
        0.5,
        "person-reference possessive",
        lookback=20,
    ),
    # "This patron owes…": one person. ("The patron must show ID", "another patron has it on
    # hold": policies and questions speak of patrons in general, so "the" does not count.)
    _rule(
        "patron|customer|borrower|cardholder",
        rf"(?:this|that){_SP}(?:patron|customer|borrower|cardholder)\b(?!-)",
        0.5,
        "person-reference role",
        lookback=8,
    ),
)


@dataclass(frozen=True, slots=True)
class PersonReferenceSettings:
    """Bounds for person references."""

    max_chars: int = _MAX_CHARS


class PersonReferenceDetector:
    """Finds references to a specific person without a name ("your son", "her account", "the patron")."""

    name = "person_reference"

    def __init__(self, settings: PersonReferenceSettings | None = None) -> None:
        self.settings = settings or PersonReferenceSettings()

    def detect(self, part: TextPart) -> Iterable[Finding]:
        return _scan(part, _PERSON_RULES, Kind.PERSON_REFERENCE, self.name, frozenset(), self.settings.max_chars)


# --- patron notes -----------------------------------------------------------------------------------

_NOTE_RULES: tuple[_Rule, ...] = (
    _rule(
        "note|message",
        r"[ \t]{0,8}(?:>[ \t]?){0,4}(?:note|pmessage|message|record note)[ \t]{0,3}:"
        # "patron" alone makes a note only as a record note speaks of her: first ("Note: Patron
        # claims…") or with what she did or said. "Barring a patron bars that patron from…" (a
        # manual's NOTE) speaks of patrons in general.
        r"(?:[ \t]*patron\b|[^\n]{0,200}?\bpatron[ \t]+(?:says|said|claims|claimed|states|stated|reported|called"
        r"|came|was|had|paid|owes|asked|requested|returned|lost|refused|left|brought|yelled|threatened|became|wants)\b"
        r"|[^\n]{0,200}?\b(?:banned|trespass\w{0,4}|suspend\w{0,3}|behaviou?r|incident|warned|police|threat\w{0,4}"
        r"|harass\w{0,5}|do\s{1,3}not\s{1,3}(?:allow|release|give)|must\s{1,3}be\s{1,3}accompanied|custody"
        r"|restraining)\b)[^\n]{0,200}",  # the span covers the note line
        0.7,
        "patron-note line",
        line_start=True,
    ),
    _rule("PMESSAGE", r"PMESSAGE\b", 0.7, "patron-note pmessage", case_sensitive=True),
    _rule(
        "note|record|comment|flag",
        rf"(?:notes?|comments?|flags?|alerts?){_SP}on{_SP}[^.\n]{{1,40}}?(?:record|account|file)\b"
        rf"|(?:the|his|her|their|\w['’]s){_SP}record{_SP}(?:says|shows|notes|reads|has{_SP}a{_SP}note)",
        0.6,
        "patron-note record",
    ),
    _rule(
        "banned|barred|suspended|excluded|trespassed|expulsad|suspendid",
        rf"(?:banned|barred|suspended|excluded|trespassed){_SP}(?:from|for|until)\b"
        rf"|(?:expulsad[oa]|suspendid[oa]){_SP}(?:de|por|hasta)\b",
        0.6,
        "patron-note barred",
    ),
    _rule(
        "record|note|incident|trespass|banned|suspended",
        rf"(?:record{_SP}note|note{_SP}on{_SP}(?:his|her|their|the{_SP}patron'?s?|the){_SP}(?:record|account)"
        rf"|incident{_SP}reports?|trespass(?:ing)?{_SP}(?:notices?|orders?|warnings?|letters?)"
        rf"|banned{_SP}from{_SP}(?:the{_SP}|all{_SP})?(?:library|libraries|branch(?:es)?|building|premises)"
        rf"|suspended{_SP}from{_SP}(?:the{_SP}|all{_SP})?(?:library|libraries|branch(?:es)?))\b",
        0.6,
        "patron-note phrase",
    ),
    # Library jargon: a patron "was trespassed" (not "trespass to chattels" in legal prose).
    _rule(
        "trespassed",
        rf"(?:was|been|is|were|be|got|being){_SP}trespassed\b",
        0.6,
        "patron-note trespassed",
        lookback=12,
    ),
    # "was banned for six months" is a record note; "is banned under the proposal" is not.
    _rule(
        "banned",
        rf"(?:was|is|been|were|be|got){_SP}banned{_SP}(?:from|for|until)\b",
        0.6,
        "patron-note banned",
        lookback=12,
    ),
)


@dataclass(frozen=True, slots=True)
class PatronNoteSettings:
    """Bounds for patron-note phrases."""

    max_chars: int = _MAX_CHARS


class PatronNoteDetector:
    """Finds notes from a patron record (PMESSAGE, "Note: patron was banned", incident reports)."""

    name = "patron_note"

    def __init__(self, settings: PatronNoteSettings | None = None) -> None:
        self.settings = settings or PatronNoteSettings()

    def detect(self, part: TextPart) -> Iterable[Finding]:
        return _scan(part, _NOTE_RULES, Kind.PATRON_NOTE, self.name, frozenset({Category.NOTES}),
                     self.settings.max_chars)
