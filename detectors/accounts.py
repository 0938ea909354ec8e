"""Account sentences: what a letter tells its reader, or a note tells of someone, about her loans,
holds, charges and account.

The phrase rules in `detectors.circulation` know fixed wordings ("is ready for pickup", "checked
out"). Staff write the same facts in endless other words: "we are holding Lessons in Chemistry for
you through Tuesday", "you currently owe $23.75 for the lost copy", "we changed the phone number on
your account". So this detector reads one sentence at a time and reports it when it speaks to or
of a person (you/your, she/her, he/his) and combines:

- an item (a quoted, marked or capitalised title, or an item noun: book, copy, DVD, interlibrary
  loan…) with a state of lending (due, late, still out, returned, renewed, lost, found in the book
  drop…) → CIRCULATION, or with a state of holding (holding, waiting, reserved, ready, collected,
  filled, arrived, suspended…) → HOLD;
- an amount with a word of library charges (fine, late fee, replacement, balance, owe, waived,
  collections) and an item, a loan state or the account → MONEY_OWED;
- her account, card or record with a change or a state (changed, updated, blocked, expires,
  replaced, clear) → PATRON_CONTEXT.

Not account sentences: ordering, shipping and other business ("the books you ordered shipped"),
counts of a collection ("40 copies"), and rules stated for everyone ("if your items are overdue,
a fine of $0.25 a day applies"). A sentence alone names nobody: the evidence step binds it to the
person the letter greets or names, and the policy asks whether she is the recipient.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from detectors.findings import Category, Finding, Kind, TextPart, mask
from detectors.namelists import name_lists

# A sentence: up to a stop followed by a space (not "$23.75", "Ms." is rare in account sentences)
# or a blank line; a single line break inside a paragraph does not end it.
_SENTENCE = re.compile(
    r"(?:[^.!?\n]|(?:(?<=\bMr)|(?<=\bMrs)|(?<=\bMs)|(?<=\bDr)|(?<=\bSt)|(?<=\bJr)|(?<=\bSr)|(?<=\bSra))\."
    r"|[.!?](?![\s]|$)|\n(?![ \t]*\n))+[.!?]*"
)
_MAX_SENTENCE = 400

_PERSON = re.compile(r"\b(?:you|your|yours|thanks|she|her|he|him|his)\b", re.IGNORECASE)
_ITEMS = (r"(?:books?|cop(?:y|ies)|dvds?|cds?|blu-?rays?|audio ?books?|e-?books?|items?|magazines?|video ?games?"
          r"|interlibrary[ -]loans?|ill|holds?|requests?|novels?|movies?)")
# One person's items, not items in general: "your hold", "the copy", "the DVDs you returned", "two items".
_SPECIFIC_ITEM = re.compile(
    r"\b(?:your|the|this|that)[ \t]+(?:(?:new|lost|damaged|overdue|last|other|first|second)[ \t]+)?"
    r"(?:book|copy|dvd|cd|audio ?book|e-?book|item|hold|request|interlibrary[ -]loan|ill|magazine|movie|novel)\b"
    r"(?![s-]|[ \t]+(?:pickup|notices?|slips?|shelf|list|queue|reports?|polic|settings?|templates?|text|ready|counts?"
    r"|limits?|fees?|rates?|periods?|rules?))"
    rf"|\b(?:the|your|these|those)[ \t]+{_ITEMS}[ \t]+(?:you|she|he)[ \t]+\w+"
    rf"|\b(?:his|her|their)[ \t]+(?:(?:new|lost|damaged|overdue|late|last|other)[ \t]+)?{_ITEMS}\b"
    rf"|\b(?:two|three|four|five|six|[2-9])[ \t]+(?:overdue[ \t]+|lost[ \t]+)?{_ITEMS}\b",
    re.IGNORECASE,
)
# A quoted or marked title; a quoted sentence ("You have 1 item ready") is wording, not a title.
_QUOTED = re.compile(r"[\"\u201c\u2018*_](?![Yy]ou\b|[Yy]our\b)[A-Z][^\"\u201d\u2019*_\n]{1,80}[\"\u201d\u2019*_]")
# A capitalised run of two or more words (small words between): "Lessons in Chemistry".
_CAPITALISED = re.compile(
    r"(?<![\w'’])[A-Z][\w'’:-]*(?:[ \t]+(?:(?:of|the|a|an|and|in|on|to|for|with|from|at|by)[ \t]+)*[A-Z][\w'’:-]*)+"
)
# Words that make a capitalised run a place, a body or a month, not a title.
_NOT_TITLE_WORDS = frozenset(
    """
    library libraries branch public county city center centre desk street st avenue ave road rd drive dr
    school college university department office hall room services service board friends foundation
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december i i'm i'll i've we we're we'll you you're you'll dear hi hello
    """.split()
)
_LOAN_STATE = re.compile(
    r"\b(?:due(?![ \t]+to\b)|overdue|late|past[ -]due|still[ \t]+out|out[ \t]+on[ \t]+(?:your|her|his)[ \t]+(?:card|account)"
    r"|checked[ \t]+(?:it[ \t]+|them[ \t]+)?(?:out|in)|returned|renew(?:ed|al)?|lost|damaged|missing"
    r"|book[ \t]?drop|go(?:es)?[ \t]+back|back[ \t]+by|borrowed|claimed[ \t]+returned|brought[ \t]+back"
    r"|bring[ \t]+back|hasn['’]?t[ \t]+returned)\b",
    re.IGNORECASE,
)
_HOLD_STATE = re.compile(
    r"\b(?:holding|hold[ \t]+(?:it|them)|on[ \t]+hold|reserved|waiting|ready|collect(?:ed)?|pick(?:ed)?[ \t]+(?:it[ \t]+|them[ \t]+)?up"
    r"|pickup|filled|arrived|came[ \t]+in|come[ \t]+in|suspend(?:ed)?|cancel(?:l?ed)?|expire[sd]?|waiting[ \t]+list"
    r"|hold[ \t]+[^.\n]{1,40}?[ \t]+for[ \t]+(?:you|her|him|them))\b",
    re.IGNORECASE,
)
_AMOUNT = re.compile(
    r"(?:\$|US\$|€|£)[ \t]?\d{1,5}(?:[.,]\d{2})?\b|\b\d{1,5}(?:[.,]\d{2})?[ \t]?(?:dollars|bucks|usd)\b"
    r"|\b(?:(?:about|around|over|almost|nearly)[ \t]+)?(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|fifteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|a[ \t]+hundred)(?:[ -]\w+)?[ \t]+(?:dollars|bucks)\b",
    re.IGNORECASE,
)
_CHARGE = re.compile(
    r"\b(?:fines?|fees?|charges?|charged|balance|owe[sd]?|owing|bill(?:ed)?|replacement|collections?|waive[sd]?"
    r"|refund(?:ed)?)\b",
    re.IGNORECASE,
)
# Charges only a library makes: with an amount they are a patron's debt whatever else is said.
_LIBRARY_CHARGE = re.compile(r"\b(?:replacement|late[ \t]+fees?|overdue[ \t]+(?:fines?|fees?)|lost[ -](?:item|book)|collections)\b",
                             re.IGNORECASE)
_ACCOUNT = re.compile(
    r"\b(?:your|her|his|their)[ \t]+(?:library[ \t]+)?(?:account|card|record|file|profile)\b"
    r"|\b(?:your|her|his|their)[ \t]+(?:new[ \t]+|home[ \t]+|cell[ \t]+)?(?:address|phone(?:[ \t]+number)?|number|e-?mail)"
    r"(?:[ \t]+on[ \t]+file)?[ \t]+(?:is|was|has[ \t]+changed|changed)\b"
    r"|\b[A-Z][a-z]+['’]s[ \t]+(?:library[ \t]+)?(?:account|card|record)\b"
    r"|\b(?:lives|living|resides|moved)[ \t]+(?:at|to)[ \t]+\d",
    re.IGNORECASE,
)
_ACCOUNT_CHANGE = re.compile(
    r"\b(?:changed|updated|added|removed|blocked|expires?|expired|replaced|renewed|clear|suspended|barred|merged"
    r"|closed|reactivated|on[ \t]+file|corrected|moved|is|was|sent[ \t]+to[ \t]+collections)\b",
    re.IGNORECASE,
)
# Business and rules, not one person's account.
_BUSINESS = re.compile(
    r"\b(?:order(?:ed|s|ing)?|invoices?|shipments?|shipp(?:ed|ing)|ships|vendors?|purchas\w*|quotes?|subscriptions?"
    r"|licen[cs]es?|processing|catalog(?:u)?ing|cataloged|publishers?|conference|registration|grants?|budget"
    r"|buy|buying|sells?|sale|prices?|pricing|downloads?|downloading|free[ \t]+to[ \t]+try|stocks?|shares?|investors?)\b",
    re.IGNORECASE,
)
_COLLECTION_COUNT = re.compile(r"\b\d{2,}[ \t]+(?:new[ \t]+)?(?:copies|items|books|titles|dvds)\b", re.IGNORECASE)
_RULE_FOR_ALL = re.compile(
    r"^\W*(?:if|when|whenever|once|each|every|any|all)\b|\b(?:per|a|each)[ \t]+(?:day|week|item|book)\b", re.IGNORECASE
)
# Said of everyone or as advice, unless a title makes it one person's: "you can renew items online",
# "return your books to any branch", "the fine-free policy means you no longer pay late fees".
_GENERAL = re.compile(
    r"\b(?:can|could|may|might|should|no[ \t]+longer|polic(?:y|ies)|schedule|always|usually|generally|typically"
    r"|anyone|everyone|any|patrons?)\b"
    r"|^\W*(?:please[ \t]+)?(?:return|renew|place|bring|remember|don'?t|do[ \t]+not|visit|join|come|browse|borrow"
    r"|reserve|check|stop|pick|drop|use|try|find|ask|call|sign)\b",
    re.IGNORECASE,
)
# "you can watch…", "you may renew…": what anyone can do, title or not.
_ANYONE = re.compile(r"\byou[ \t]+(?:can|could|may|might|will[ \t]+be[ \t]+able[ \t]+to)\b", re.IGNORECASE)
# Between libraries: interlibrary loans and lending, where "you" is the other library.
_BETWEEN_LIBRARIES = re.compile(
    r"\b(?:your|our)[ \t]+(?:library(?![ \t]+(?:card|account))|libraries|branch|patrons?|staff|board|friends|collection)\b"
    r"|\bour[ \t]+cop(?:y|ies)\b|\bfor[ \t]+your[ \t]+patron|\blent\b|\blend(?:ing|er)?\b|\bborrowing[ \t]+library\b"
    r"|\boclc\b|\billiad\b|\btipasa\b|\byou[ \t]+sent\b|\bsent[ \t]+us\b",
    re.IGNORECASE,
)
# A letter: its first line greets someone; every sentence in it is told to its reader.
_GREETING = re.compile(r"\s{0,20}(?:hi|hello|hey|dear|good[ \t]+(?:morning|afternoon|evening)|greetings)\b[^\n]{0,60}\n", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class AccountSentenceSettings:
    """Scores for account sentences; long parts are read up to `max_chars`."""

    score: float = 0.7
    account_score: float = 0.6
    max_chars: int = 2_000_000


class AccountSentenceDetector:
    """Reports sentences that tell a person of her loans, holds, charges or account."""

    name = "account_sentence"

    def __init__(self, settings: AccountSentenceSettings | None = None) -> None:
        self.settings = settings or AccountSentenceSettings()

    def detect(self, part: TextPart) -> Iterable[Finding]:
        text = part.text[: self.settings.max_chars]
        letter = bool(_GREETING.match(text))
        library = bool(_LIBRARY_WORDS.search(text))
        found: list[Finding] = []
        for m in _SENTENCE.finditer(text):
            start, end = m.span()
            sentence = m.group()
            if end - start > _MAX_SENTENCE or not (
                _LOAN_STATE.search(sentence) or _HOLD_STATE.search(sentence) or _AMOUNT.search(sentence)
                or _ACCOUNT.search(sentence)
            ):
                continue
            told = letter or bool(_TOLD.search(sentence))
            if not (told or _PERSON.search(sentence) or _names_someone(sentence)):
                continue
            if not told and not library:
                continue  # third-person news ("Lennon and Yoko Ono were returning…") is no library record
            if (_BUSINESS.search(sentence) or _COLLECTION_COUNT.search(sentence) or _RULE_FOR_ALL.search(sentence)
                    or _BETWEEN_LIBRARIES.search(sentence)):
                continue
            lead = len(sentence) - len(sentence.lstrip())
            found.extend(self._judge(part, sentence.lstrip(), start + lead, end, told))
        return found

    def _judge(self, part: TextPart, sentence: str, start: int, end: int, told: bool) -> list[Finding]:
        s = self.settings
        titled = bool(_QUOTED.search(sentence) or _titled(sentence))
        if (not titled and _GENERAL.search(sentence)) or _ANYONE.search(sentence):
            return []
        # Told to its reader, a title is her item; said of a third person, only a library item is
        # ("his holds", "the two DVDs"): news names people next to capitalised words all the time.
        item = (titled and told) or bool(_SPECIFIC_ITEM.search(sentence))
        loan, hold = _LOAN_STATE.search(sentence), _HOLD_STATE.search(sentence)
        out: list[Finding] = []

        def add(kind: Kind, category: Category, score: float, reason: str, span: tuple[int, int]) -> None:
            # The finding covers what a redaction masks: the title or item, the amount, the account words.
            a, b = start + span[0], start + span[1]
            out.append(Finding(kind, part.path, a, b, score, f"account-sentence {reason}",
                               mask(part.text[a:b]), AccountSentenceDetector.name, frozenset({category})))

        what = _QUOTED.search(sentence) or _title_match(sentence) or _SPECIFIC_ITEM.search(sentence)
        if item and hold and what:
            add(Kind.HOLD, Category.HOLDS, s.score, "hold", what.span())
        elif item and loan and what:
            add(Kind.CIRCULATION, Category.TITLES, s.score, "loan", what.span())
        amount = _AMOUNT.search(sentence)
        account = _ACCOUNT.search(sentence)
        if amount and _CHARGE.search(sentence) and (item or (loan and told) or account or _LIBRARY_CHARGE.search(sentence)):
            add(Kind.MONEY_OWED, Category.MONEY_OWED, s.score, "charge", amount.span())
        elif account and (_ACCOUNT_CHANGE.search(sentence) or account.group().lower().startswith(("lives", "living", "resides", "moved"))) and not out:
            add(Kind.PATRON_CONTEXT, Category.NOTES, s.account_score, "account", account.span())
        return out


# Second person: the sentence is told to its reader.
_TOLD = re.compile(r"\b(?:you|your|yours|thanks)\b", re.IGNORECASE)
# Words that make a part library mail: only there is a third person's loan a patron's record.
_LIBRARY_WORDS = re.compile(
    r"\b(?:library|libraries|patrons?|borrowers?|circulation|checked[ \t]+out|checkouts?|hold[ \t]+shelf|library[ \t]+card"
    r"|overdue|biblioteca|библиотек\w*|thư[ \t]+viện)\b",
    re.IGNORECASE,
)
_HONORIFIC = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?[ \t]+[A-Z][a-z]+")
_PAIR = re.compile(r"\b([A-Z][a-z]+)[ \t]+([A-Z][a-z'’-]+?)(?:['’]s)?\b")


def _names_someone(sentence: str) -> bool:
    """"Olga Ivanova owes…", "Mrs. Okafor still has…": a person named in the third person."""
    if _HONORIFIC.search(sentence):
        return True
    lists = name_lists()
    for m in _PAIR.finditer(sentence):
        given = lists.given_rank(m.group(1))
        if given is not None and given <= 3000 and m.group(2).lower() not in _NOT_TITLE_WORDS:
            return True
    return False


def _titled(sentence: str) -> bool:
    return _title_match(sentence) is not None


def _title_match(sentence: str) -> re.Match[str] | None:
    """A capitalised run of two or more words that is not a place, a body, a date, a person's name
    ("Dana Ortiz": a given name and a surname of the Census lists) or the sentence's opening words."""
    lists = name_lists()
    for m in _CAPITALISED.finditer(sentence):
        words = [w.lower().strip(":'’") for w in m.group().split()]
        if any(w in _NOT_TITLE_WORDS for w in words):
            continue
        raw = m.group().split()
        if len(raw) == 2 and lists.given_rank(raw[0]) and lists.surname_rank(raw[1]):
            continue
        if m.start() == len(sentence) - len(sentence.lstrip()) and len([w for w in words if w[:1].isalpha()]) < 3:
            continue  # "Thanks for…", "Just a reminder" open a sentence capitalised
        return m
    return None
