"""ILS record layouts: patron records as library systems print, dump and export them.

This module owns `IlsRecordDetector`, which recognises the layouts listed in NOTES.md §2
and reports one `Kind.ILS_RECORD` finding per record block, with the data categories
the block exposes (so the policy can tell a collection agency's allowed fields from
borrowed titles):

- Millennium/Sierra record display labels (`PATRN NAME`, `P BARCODE`, `MONEY OWED`...),
- PatronAPI dumps (`PATRN NAME[pn]=...<BR>`),
- Create Lists export headers, collection-agency report headers and holds tables,
- Sierra REST patron JSON (`"barcodes":`, `"moneyOwed":`...; parsing is not required),
- outstanding-holds lists (`Patron Info`, `TITLE`, `CALL #`, ... label column),
- SirsiDynix Symphony flat records (`.USER_ID.   |a...`),
- notices written by the ILS (overdue, hold pickup, bills) with an addressee block.

It must not judge single words: one stray "ADDRESS" or "NOTE" in a letter is nothing, so
every layout needs several labels or a layout-specific marker. Reasons carry layout and
label names only, never field values.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import regex

from detectors.circulation import fold_case
from detectors.findings import WHOLE_PART, Category, Finding, Kind, TextPart, mask
from detectors.names import letter_names
from detectors.signatures import QUOTE_HEADER
from detectors.tables import delimiter_count, iter_header_lines, lines_of

C = Category

# --- Millennium / Sierra record display ----------------------------------------------

_MILLENNIUM_LABELS: dict[str, frozenset[Category]] = {
    "PATRN NAME": frozenset({C.NAME}),
    "ADDRESS": frozenset({C.ADDRESS}),
    "ADDRESS2": frozenset({C.ADDRESS}),
    "TELEPHONE": frozenset({C.PHONE}),
    "TELEPHONE2": frozenset({C.PHONE}),
    "EMAIL ADDR": frozenset({C.EMAIL}),
    "P BARCODE": frozenset({C.CARD_NUMBER}),
    "P TYPE": frozenset(),
    "EXP DATE": frozenset(),
    "BIRTH DATE": frozenset({C.BIRTH_DATE}),
    "HOME LIBR": frozenset(),
    "MONEY OWED": frozenset({C.MONEY_OWED}),
    "MBLOCK": frozenset(),
    "PMESSAGE": frozenset({C.NOTES}),
    "CUR CHKOUT": frozenset(),  # a count, unless titles follow (see _titles_follow)
    "TOT CHKOUT": frozenset(),
    "NOTE": frozenset({C.NOTES}),
    "MESSAGE": frozenset({C.NOTES}),
    "PCODE1": frozenset(),
    "PCODE2": frozenset(),
    "PCODE3": frozenset(),
    "PCODE4": frozenset(),
    "RECORD #": frozenset({C.RECORD_NUMBER}),
    "RECORD #(PATRON)": frozenset({C.RECORD_NUMBER}),
}
# Labels that identify the record as a patron record (anything else alone is ordinary prose).
_MILLENNIUM_KEYS = frozenset({"PATRN NAME", "P BARCODE"})
# Labels no letter writer would use: one of them makes a delimited header a Create Lists export.
_MILLENNIUM_SPECIFIC = frozenset(
    {
        "PATRN NAME", "P BARCODE", "EMAIL ADDR", "RECORD #(PATRON)", "MONEY OWED", "P TYPE", "EXP DATE",
        "HOME LIBR", "BIRTH DATE", "PCODE1", "PCODE2", "PCODE3", "PCODE4", "MBLOCK", "CUR CHKOUT",
        "TOT CHKOUT", "PMESSAGE",
    }
)

_S = r"[ \t]{1,4}"  # the space inside a two-word label; OCR and paste may widen it
_MILLENNIUM_LINE = re.compile(
    r"^[ \t]{0,8}(?:>[ \t]?){0,4}[ \t]{0,8}"
    rf"(PATRN{_S}NAME|ADDRESS2?|TELEPHONE2?|EMAIL{_S}ADDR|P{_S}BARCODE|P{_S}TYPE|EXP{_S}DATE|BIRTH{_S}DATE|"
    rf"HOME{_S}LIBR|MONEY{_S}OWED|MBLOCK|PMESSAGE|CUR{_S}CHKOUT|TOT{_S}CHKOUT|NOTE|MESSAGE|PCODE[1-4]|RECORD{_S}#)"
    r"(?=[ \t:=]|$)[ \t:=]{0,8}([^\n]{0,200})",  # "LABEL[pn]=" is PatronAPI's, handled there
    re.MULTILINE | re.IGNORECASE,
)
# A checked-out item line in a Millennium display: "... DUE 03-15-24".
_DUE_ITEM = re.compile(r"\bDUE[ \t:]{1,3}\d{1,2}[-/]\d{1,2}[-/]\d{2,4}\b", re.IGNORECASE)
_RECORD_NUMBER = re.compile(r"(?<![\w.])\.?p\d{7}[\dxa]\b")
_COUNT_ONLY = re.compile(r"^[\s:=]*\d{0,5}\s*$")

# --- PatronAPI --------------------------------------------------------------------------

_PATRONAPI = re.compile(r"([A-Z][A-Z0-9 #().]{0,20})\[(p[a-z!.]|p\d{1,3})\]=")
_PATRONAPI_TAGS: dict[str, Category] = {
    "pn": C.NAME,
    "pb": C.CARD_NUMBER,
    "pa": C.ADDRESS,
    "ph": C.ADDRESS,
    "pt": C.PHONE,
    "pp": C.PHONE,
    "pz": C.EMAIL,
    "pe": C.EMAIL,
    "px": C.NOTES,
    "pm": C.NOTES,
    "p96": C.MONEY_OWED,
    "p51": C.BIRTH_DATE,
    "p81": C.RECORD_NUMBER,
}

# --- Sierra REST patron JSON --------------------------------------------------------------

_JSON_KEY = re.compile(
    r'"(names|barcodes|emails|addresses|phones|birthDate|moneyOwed|varFields|fieldTag)"[ \t\r\n]{0,5}:'
)
_JSON_GATE = tuple(f'"{k}"' for k in ("names", "barcodes", "emails", "addresses", "phones", "birthDate",
                                       "moneyOwed", "varFields", "fieldTag"))
_JSON_KEYS: dict[str, frozenset[Category]] = {
    "names": frozenset({C.NAME}),
    "barcodes": frozenset({C.CARD_NUMBER}),
    "emails": frozenset({C.EMAIL}),
    "addresses": frozenset({C.ADDRESS}),
    "phones": frozenset({C.PHONE}),
    "birthDate": frozenset({C.BIRTH_DATE}),
    "moneyOwed": frozenset({C.MONEY_OWED}),
    "varFields": frozenset(),
    "fieldTag": frozenset(),
}
# Keys a generic contact API would not use alongside names/emails.
_JSON_SIERRA_SPECIFIC = frozenset({"barcodes", "birthDate", "moneyOwed", "varFields", "fieldTag"})
_JSON_NOTE_TAG = re.compile(r'"fieldTag"[ \t\r\n]{0,5}:[ \t\r\n]{0,5}"[xm]"')
_JSON_ID = re.compile(r'"id"[ \t\r\n]{0,5}:[ \t\r\n]{0,5}\d{6,8}\b')

# --- Outstanding holds list (label column) -------------------------------------------------

_HOLDS_LINE = re.compile(
    r"^[ \t]{0,8}(?:>[ \t]?){0,4}[ \t]{0,8}(Patron Info|TITLE|CALL #|BARCODE|Pickup Location|Pickup Loc|Hold Status)"
    r"(?=[ \t:]|$)[ \t:]{0,20}([^\n]{0,200})",
    re.MULTILINE,
)
_HOLDS_LABELS: dict[str, frozenset[Category]] = {
    "Patron Info": frozenset({C.NAME}),
    "TITLE": frozenset({C.TITLES}),
    "CALL #": frozenset(),
    "BARCODE": frozenset(),
    "Pickup Location": frozenset(),
    "Pickup Loc": frozenset(),
    "Hold Status": frozenset(),
}
_EMAILISH = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}\.[\w.-]{2,63}")
_PHONEISH = re.compile(r"\(?\b\d{3}\)?[ .-]?\d{3}[ .-]\d{4}\b")

# --- SirsiDynix Symphony flat records ---------------------------------------------------------

_SYMPHONY_LINE = re.compile(r"^[ \t]{0,8}\.([A-Z][A-Z0-9_/]{1,30})\.[ \t]{0,20}\|a([^\n]{0,200})", re.MULTILINE)
_SYMPHONY_FIELDS: tuple[tuple[re.Pattern[str], Category | None], ...] = (
    (re.compile(r"^USER_(?:ID|ALT_ID)$"), C.CARD_NUMBER),
    (re.compile(r"BIRTH"), C.BIRTH_DATE),
    (re.compile(r"NAME"), C.NAME),
    (re.compile(r"PHONE"), C.PHONE),
    (re.compile(r"EMAIL"), C.EMAIL),
    (re.compile(r"STREET|CITY|ZIP|ADDR|^LINE\d|^STATE|^APT"), C.ADDRESS),
    (re.compile(r"BILL|FINE|FEE"), C.MONEY_OWED),
    (re.compile(r"NOTE|COMMENT|MESSAGE"), C.NOTES),
    (re.compile(r"^ITEM_ID$|CHARGE|CHECKOUT"), C.TITLES),
    (re.compile(r"HOLD"), C.HOLDS),
)
_SYMPHONY_PERSONAL = frozenset({C.NAME, C.CARD_NUMBER, C.ADDRESS, C.PHONE, C.EMAIL, C.BIRTH_DATE})

# --- delimited header rows: Create Lists, collection agency, holds tables ---------------------

_HEADER_TRIGGER = re.compile(
    r"P BARCODE|PATRN NAME|EMAIL ADDR|RECORD #|MONEY OWED|Amount Owed|First Fine Date|Item Cost|"
    r"Patron Info|Hold Status",
    re.IGNORECASE,
)
_HEADER_GATE = (
    "p barcode", "patrn name", "email addr", "record #", "money owed", "amount owed", "first fine date", "item cost",
    "patron info", "hold status",
)
_AGENCY_LABELS: dict[str, frozenset[Category]] = {
    "patron #": frozenset({C.RECORD_NUMBER}),
    "patron id": frozenset({C.RECORD_NUMBER}),
    "patron number": frozenset({C.RECORD_NUMBER}),
    "barcode": frozenset({C.CARD_NUMBER}),
    "name": frozenset({C.NAME}),
    "patron name": frozenset({C.NAME}),
    "amount owed": frozenset({C.MONEY_OWED}),
    "item cost": frozenset({C.MONEY_OWED}),
    "first fine date": frozenset({C.MONEY_OWED}),
    "balance": frozenset({C.MONEY_OWED}),
    "status": frozenset(),
    "address": frozenset({C.ADDRESS}),
    "phone": frozenset({C.PHONE}),
    "title": frozenset({C.TITLES}),
    "dob": frozenset({C.BIRTH_DATE}),
    "date of birth": frozenset({C.BIRTH_DATE}),
    "titles": frozenset({C.TITLES}),
    "items": frozenset({C.TITLES}),
    "item titles": frozenset({C.TITLES}),
    "items out": frozenset({C.TITLES}),
    "materials": frozenset({C.TITLES}),
    "holds": frozenset({C.HOLDS}),
    "notes": frozenset({C.NOTES}),
    "note": frozenset({C.NOTES}),
    "comments": frozenset({C.NOTES}),
}
_AGENCY_PERSON = frozenset({"patron #", "patron id", "patron number", "name", "patron name"})
_AGENCY_MONEY = frozenset({"amount owed", "item cost", "first fine date"})
_HOLDS_TABLE: dict[str, frozenset[Category]] = {
    "patron info": frozenset({C.NAME}),
    "title": frozenset({C.TITLES}),
    "call #": frozenset(),
    "barcode": frozenset(),
    "pickup location": frozenset(),
    "hold status": frozenset(),
}

# --- notices written by the ILS ------------------------------------------------------------------

_W = r"[ \t\r\n]{1,3}"
_NOTICE_PHRASE = re.compile(
    rf"\b(?:(overdue|billing|bill|lost{_W}item|final|courtesy|pre-overdue){_W}notice"
    rf"|the{_W}following{_W}items?(?:\(s\))?{_W}(?:is|are|were|has|have){_W}(?:now{_W}|been{_W})?(overdue|due|on{_W}hold|ready|available|billed)"
    rf"|items?(?:\(s\))?{_W}(?:(?:are|is){_W})?(on){_W}hold{_W}for{_W}you"
    rf"|(?:is|are){_W}(?:now{_W})?(?:available|ready){_W}for{_W}(?:you{_W}to{_W})?(pick)[ -]?up"
    rf"|items?(?:\(s\))?{_W}you{_W}(?:reserved|requested|placed{_W}on{_W}hold){_W}(?:is|are){_W}(?:now{_W})?(ready|available)"
    rf"|(hold){_W}(?:available|ready|cancell?ed|expired)\b"
    # Spanish notices: "Aviso de vencimiento", "los siguientes artículos están vencidos",
    # "su reserva está lista", "disponible para recoger".
    rf"|aviso{_W}de{_W}(vencimiento|multa|cobro|reserva|préstamo(?:s)?{_W}vencidos?)"
    rf"|(?:los|las|el|la){_W}siguientes?{_W}(?:artículos?|materiales?|libros?|títulos?){_W}(?:está|están|esta|estan){_W}"
    rf"(?:ya{_W})?(vencidos?|vencidas?|atrasados?|atrasadas?|listos?|listas?|disponibles?)"
    rf"|su{_W}(reserva){_W}(?:está|esta){_W}(?:lista|disponible)|disponibles?{_W}para{_W}(recoger))",
    re.IGNORECASE,
)
# What each notice word says the notice is about (English words are checked in code).
_NOTICE_KIND_ES = {
    "vencimiento": "overdue", "vencido": "overdue", "vencidos": "overdue", "vencida": "overdue", "vencidas": "overdue",
    "atrasado": "overdue", "atrasados": "overdue", "atrasada": "overdue", "atrasadas": "overdue",
    "préstamo vencido": "overdue", "préstamos vencidos": "overdue",
    "reserva": "hold", "listo": "hold", "listos": "hold", "lista": "hold", "listas": "hold", "disponible": "hold",
    "disponibles": "hold", "recoger": "hold", "multa": "bill", "cobro": "bill",
}
_NOTICE_MONEY = re.compile(
    r"\bamount\s{1,3}due\b|\bfines?\b|\bbalance\b|\breplacement\s{1,3}(?:cost|fee|charge)|\$\s?\d", re.IGNORECASE
)
_NOTICE_DUE = re.compile(r"\b(?:overdue|due\s{1,3}(?:date|on|back)?)\b", re.IGNORECASE)
# Name line, street line, city-state-zip line: the addressee block of a printed notice.
_ADDRESSEE = regex.compile(
    r"^[ \t]{0,12}(\p{Lu}[\p{L}.'\u2019-]{0,25}(?:,? \p{Lu}[\p{L}.'\u2019-]{0,25}){1,3})[ \t]*\r?\n"
    r"[ \t]{0,12}\d{1,6}[ \t][^\n]{2,60}\n"
    r"[ \t]{0,12}\p{L}[\p{L}.' ]{1,30},?[ \t]{1,3}[A-Z]{2}[ \t]{1,3}\d{5}(?:-\d{4})?[ \t]*\r?$",
    regex.MULTILINE,
)
_ORG_WORDS = re.compile(
    r"\b(?:library|libraries|county|city|department|dept|services?|inc|llc|corp|co|university|college|district|"
    r"office|center|centre|branch|attn|attention|company|books|publishing|press|school)\b",
    re.IGNORECASE,
)
_NOTICE_GATE = (
    "overdue", "billing notice", "bill notice", "final notice", "courtesy notice", "item notice", "following item",
    "hold for you", "for pickup", "for pick up", "for pick-up",
    "aviso de", "siguientes", "su reserva", "para recoger", "you reserved", "you requested", "hold available",
    "hold ready", "hold cancel", "hold expired",
)


# --- labelled patron records: "Label: value" lines, in English, Spanish, Russian, Vietnamese ----

# What a label exposes, and whether only a patron record would carry it, by the words in it
# (in English, Spanish, Russian and Vietnamese). First match wins.
_LABEL_KINDS: tuple[tuple[re.Pattern[str], frozenset[Category], bool], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), frozenset(cats), specific)
    for pattern, cats, specific in (
        (r"^(?:patron|borrower|member|cardholder|customer|usuari[oa]|soci[oa]|prestatari[oa]|lector|читатель|bạn đọc)"
         r"(?:[ ](?:name|nombre))?$|^nombre del (?:usuario|socio)$", {C.NAME}, True),
        (r"^(?:(?:full|first|last|given|family|legal)[ ])?name$|^nombre(?:[ ]completo)?$|^имя$|^фио$|^họ(?:[ ]và)?[ ]tên$|^tên$",
         {C.NAME}, False),
        (r"^(?:patron|borrower|member|user)[ ]?(?:id|#|no\.?|number)$|^record[ ]?(?:#|no\.?|number)$|^id de usuario$"
         r"|^número de usuario$", {C.RECORD_NUMBER}, True),
        (r"\bitem\b|call[ ]?(?:number|no|#)", frozenset(), False),  # an item's barcode or shelf mark: no person
        (r"card|barcode|tarjeta|código de barras|билет|\bthẻ", {C.CARD_NUMBER}, True),
        (r"\bdob\b|birth|nacimiento|рождени|ngày sinh", {C.BIRTH_DATE}, True),
        (r"guardian|parent|tutor|опекун", {C.GUARDIAN}, True),
        (r"address|street|dirección|domicilio|адрес|địa chỉ|^city|^zip|postal", {C.ADDRESS}, False),
        (r"phone|^tel\.?$|^cell|mobile|teléfono|celular|телефон|điện thoại", {C.PHONE}, False),
        (r"e-?mail|correo|почта", {C.EMAIL}, False),
        (r"fines?\b|owed|owing|balance|amount due|\bfees?\b|charges?|multas?|saldo|deuda|adeudo|штраф|задолженн|tiền phạt",
         {C.MONEY_OWED}, True),
        (r"\bholds?\b|\brequests?\b|\breserv|reservas?|бронь|đặt trước", {C.HOLDS}, True),
        (r"titles?|\bitems?\b|checkouts?|checked out|\bloans?\b|materials?|\bbooks?\b|not returned|borrowed|préstamos?"
         r"|materiales|artículos|книг|sách", {C.TITLES}, True),
        (r"\bnotes?\b|messages?|comments?|remarks?|notas?|comentarios?|примечани|ghi chú|alerts?|\bflags?\b|\bblocks?\b",
         {C.NOTES}, True),
    )
)


def _label_kind(label: str) -> tuple[frozenset[Category], bool] | None:
    for pattern, cats, specific in _LABEL_KINDS:
        if pattern.search(label):
            return cats, specific
    return None


_LABELLED_LINE = re.compile(
    r"^[ \t]{0,8}(?:>[ \t]?){0,4}[ \t]{0,8}[*•-]?[ \t]{0,2}([^\W\d_][^\W_]*(?:[ /#.()-]{1,2}[^\W_]+){0,4}[#.]?)"
    r"[ \t]*(?::|\t)[ \t]*([^\n]{1,200})$",
    re.MULTILINE,
)
# A value that is a template placeholder, not data: <<borrowers.firstname>>, [% user.name %],
# {{name}}, %NAME%, [patron name], ____ — blank notices and templates go to printers and vendors.
_PLACEHOLDER = re.compile(r"<<|>>|\[%|%\]|\{\{|\}\}|%[A-Za-z_]+%|^\[[^\]]*\]$|_{3,}|^x{3,}$|\$\{", re.IGNORECASE)


# The vocabulary of circulation notices, in English and Spanish. Four distinct terms in a letter
# that greets someone by name make it a notice about that person.
_NOTICE_VOCAB: dict[str, re.Pattern[str]] = {
    term: re.compile(pattern)
    for term, pattern in {
        "due": r"\b(?:due|overdue|date due|due date|vencid[oa]s?|vencimiento|atrasad[oa]s?)\b",
        "renew": r"\b(?:renew|renewal|renewed|renovar|renovación)\b",
        "return": r"\b(?:return|returned|devolver|devolución|devuelva)\b",
        "item": r"\b(?:items?|materials?|artículos?|materiales)\b",
        "title": r"\b(?:title|título)\b",
        "barcode": r"\b(?:barcode|código de barras)\b",
        "call": r"\bcall (?:number|no)\b",
        "hold": r"\b(?:holds?|reserv(?:e|ed|ation)|reservas?|request(?:ed)?)\b",
        "pickup": r"\b(?:pick ?up|picked up|recoger)\b",
        "expire": r"\b(?:expires?|expired|expiration|caduca)\b",
        "fine": r"\b(?:fines?|fees?|multas?|charges?|cargos?)\b",
        "balance": r"\b(?:balance|amount (?:due|owed)|owed?|saldo|debe)\b",
        "lost": r"\b(?:lost|replacement|billed|perdid[oa]s?|reemplazo)\b",
        "checkout": r"\b(?:checked out|check-?outs?|borrowed|loans?|préstamos?|prestad[oa]s?)\b",
        "card": r"\b(?:library card|card number|tarjeta)\b",
        "account": r"\b(?:your account|su cuenta|account)\b",
        "notice": r"\b(?:notice|reminder|courtesy|aviso|recordatorio)\b",
    }.items()
}
_NOTICE_VOCAB_CATS: dict[str, frozenset[Category]] = {
    "due": frozenset({C.TITLES}), "renew": frozenset({C.TITLES}), "checkout": frozenset({C.TITLES}),
    "title": frozenset({C.TITLES}), "hold": frozenset({C.HOLDS}), "pickup": frozenset({C.HOLDS}),
    "fine": frozenset({C.MONEY_OWED}), "balance": frozenset({C.MONEY_OWED}), "lost": frozenset({C.MONEY_OWED}),
}
_NOTICE_VOCAB_MIN = 4
_GREETING_AT = re.compile(
    r"^[ \t]*(?:Dear|Hello|Hi|Estimad[oa]s?(?:/[oa])?|Querid[oa]|Hola|Уважаем\w+|Kính gửi)\b[^\n]{0,60}$", re.MULTILINE
)
_NOTICE_VOCAB_CHARS = 3000


@dataclass(frozen=True, slots=True)
class IlsRecordSettings:
    """Scores and bounds for ILS layout recognition (defaults suit CCRLS, NOTES.md §2)."""

    strong_score: float = 0.95  # ≥3 labels, PatronAPI, Symphony, Sierra JSON with Sierra keys
    two_label_score: float = 0.85  # exactly two Millennium / holds labels
    header_only_score: float = 0.7  # a Create Lists / agency header with no data rows under it
    header_rows_score: float = 0.9  # header with 1-2 rows (3+ rows → strong_score)
    generic_json_score: float = 0.7  # names/emails/phones keys without a Sierra-specific key
    notice_score: float = 0.75
    max_gap_lines: int = 12  # label lines further apart than this start a new block
    max_gap_chars: int = 3000  # same, for PatronAPI tags and JSON keys
    notice_window: int = 3000  # how far from an addressee block a notice phrase may be
    max_chars: int = WHOLE_PART


@dataclass(frozen=True, slots=True)
class _Hit:
    label: str  # normalised label
    raw_label: str
    start: int  # line (or tag) start
    end: int  # end of the value
    value: str
    value_start: int


class IlsRecordDetector:
    """Recognises patron records in ILS layouts and reports `Kind.ILS_RECORD` per block."""

    name = "ils_record"

    def __init__(self, settings: IlsRecordSettings | None = None) -> None:
        self.settings = settings or IlsRecordSettings()

    def detect(self, part: TextPart) -> Iterable[Finding]:
        text = part.text[: self.settings.max_chars]
        low = fold_case(text)
        found: list[Finding] = []
        # Each layout has a cheap literal gate: most mail holds none of these strings.
        if "patrn" in low or "barcode" in low:
            found += self._millennium(part, text)
        if "]=" in text:
            found += self._patronapi(part, text)
        if sum(1 for key in _JSON_GATE if key in text) >= 2:
            found += self._sierra_json(part, text)
        if "Patron Info" in text:
            found += self._holds_list(part, text)
        if "|a" in text:
            found += self._symphony(part, text)
        if any(w in low for w in _HEADER_GATE):
            found += self._headers(part, text)
        if any(w in low for w in _NOTICE_GATE):
            found += self._notices(part, text)
        if ":" in text or "\t" in text:
            found += self._labelled(part, text)
        found += self._passed_on_notices(part, text, low)
        return found

    # -- notices passed on -------------------------------------------------------------------

    def _passed_on_notices(self, part: TextPart, text: str, low: str) -> list[Finding]:
        """A library's letter to a patron, attached or forwarded: it greets a person by name and
        speaks the notices' vocabulary (due, renew, hold, pickup, barcode, fine, …).

        Only letters passed on are judged this way — an attachment, or text under a forward or
        quote marker. A message's own greeting is its writer's, whatever its subject.
        """
        regions: list[tuple[int, int]] = []
        if part.origin in ("attachment", "forwarded"):
            regions.append((0, len(text)))
        else:
            for m in QUOTE_HEADER.finditer(text):
                line = text[m.start() : m.end()].lstrip()
                if not line.startswith(">"):
                    regions.append((m.end(), len(text)))
                    break
            else:
                # A letter pasted into a letter: a second greeting below the writer's own.
                first = _GREETING_AT.search(text)
                second = _GREETING_AT.search(text, first.end()) if first else None
                if second is not None:
                    regions.append((second.start(), len(text)))
        out: list[Finding] = []
        for lo, hi in regions:
            head = text[lo : min(hi, lo + 800)]
            greeting = letter_names(head)
            if not greeting:
                continue
            window = low[lo : min(hi, lo + _NOTICE_VOCAB_CHARS)]
            terms = {t for t, pattern in _NOTICE_VOCAB.items() if pattern.search(window)}
            if len(terms) < _NOTICE_VOCAB_MIN:
                continue
            cats = {C.NAME} | {c for t in terms for c in _NOTICE_VOCAB_CATS.get(t, ())}
            start = lo + head.find(greeting[0])
            end = min(hi, lo + _NOTICE_VOCAB_CHARS)
            out.append(self._finding(part, start, end, self.settings.notice_score,
                                     f"library-notice passed-on terms={len(terms)}", mask(greeting[0]), cats))
        return out

    # -- labelled records ----------------------------------------------------------------------

    def _labelled(self, part: TextPart, text: str) -> list[Finding]:
        """Blocks of "Label: value" lines naming a person and patron-only fields (card, fines, holds…).

        A contact card (name, phone, email) is not a patron record; one field only a patron
        record has, with a real value (not a template placeholder), makes it one.
        """
        hits = []
        kinds: dict[str, tuple[frozenset[Category], bool]] = {}
        for m in _LABELLED_LINE.finditer(text):
            value = m.group(2).strip()
            if not value or _PLACEHOLDER.search(value):
                continue
            label = " ".join(m.group(1).lower().split())
            kind = kinds.get(label) or _label_kind(label)
            if kind is None or not kind[0]:
                continue
            kinds[label] = kind
            hits.append(_Hit(label, m.group(1), m.start(), m.end(), value, m.start(2)))
        if len(hits) < 3:
            return []
        names = frozenset(label for label, (cats, _) in kinds.items() if C.NAME in cats)
        out: list[Finding] = []
        for block in _blocks(text, hits, 3, names):
            labels = _ordered_labels(block)
            cats: set[Category] = set()
            specific = False
            for h in block:
                field_cats, field_specific = kinds[h.label]
                cats |= field_cats
                specific = specific or field_specific
            if len(labels) < 3 or C.NAME not in cats or not specific:
                continue
            key = [h for h in block if h.label in names]
            score = self.settings.strong_score if len(labels) >= 4 else self.settings.two_label_score
            out.append(
                self._finding(part, block[0].start, block[-1].end, score,
                              f"labelled-patron-record fields={len(labels)}", _masked_key_value(key[:1]), cats)
            )
        return out

    # -- Millennium labels ------------------------------------------------------------------

    def _millennium(self, part: TextPart, text: str) -> list[Finding]:
        hits = [
            _Hit(_norm_label(m.group(1)), m.group(1), m.start(), m.end(), m.group(2), m.start(2))
            for m in _MILLENNIUM_LINE.finditer(text)
        ]
        out: list[Finding] = []
        for block in _blocks(text, hits, self.settings.max_gap_lines, _MILLENNIUM_KEYS):
            labels = _ordered_labels(block)
            if len(labels) < 2 or not _MILLENNIUM_KEYS & set(labels):
                continue
            # ILS labels are upper-case; mixed case is accepted only with more evidence.
            if len(labels) < 3 and not all(h.raw_label.isupper() for h in block):
                continue
            cats: set[Category] = set()
            for h in block:
                cats |= _MILLENNIUM_LABELS.get(h.label, frozenset())
                if h.label == "CUR CHKOUT" and not _COUNT_ONLY.match(h.value):
                    cats.add(C.TITLES)
            start, end = block[0].start, block[-1].end
            end = self._extend_over_due_items(text, end, cats)
            if _RECORD_NUMBER.search(text, start, end):
                cats.add(C.RECORD_NUMBER)
            score = self.settings.strong_score if len(labels) >= 3 else self.settings.two_label_score
            out.append(
                self._finding(part, start, end, score, f"millennium-patron-record labels={','.join(labels)}",
                              _masked_key_value(block), cats)
            )
        return out

    def _extend_over_due_items(self, text: str, end: int, cats: set[Category]) -> int:
        """Checked-out items are listed under the labels: "1 > Title / Author ... DUE 03-15-24"."""
        window_end = min(len(text), end + 40 * 120)
        last = end
        pos = end
        while True:
            m = _DUE_ITEM.search(text, pos, window_end)
            if m is None or text.count("\n", last, m.start()) > 3:
                break
            cats.add(C.TITLES)
            nl = text.find("\n", m.end(), window_end)
            last = pos = nl if nl != -1 else m.end()
        return last

    # -- PatronAPI ------------------------------------------------------------------------

    def _patronapi(self, part: TextPart, text: str) -> list[Finding]:
        hits: list[_Hit] = []
        for m in _PATRONAPI.finditer(text):
            label = _norm_label(m.group(1))
            stop = text.find("<", m.end(), m.end() + 200)
            nl = text.find("\n", m.end(), m.end() + 200)
            ends = [e for e in (stop, nl) if e != -1]
            value_end = min(ends) if ends else min(len(text), m.end() + 200)
            hits.append(_Hit(f"{label}[{m.group(2)}]", m.group(2), m.start(1), value_end,
                             text[m.end():value_end], m.end()))
        out: list[Finding] = []
        for block in _char_blocks(hits, self.settings.max_gap_chars):
            cats: set[Category] = set()
            for h in block:
                tag = h.raw_label
                label = h.label.split("[", 1)[0]
                cats |= _MILLENNIUM_LABELS.get(label, frozenset())
                if tag in _PATRONAPI_TAGS:
                    cats.add(_PATRONAPI_TAGS[tag])
            tags = {h.raw_label for h in block}
            if len(tags) < 2 or not cats & {C.NAME, C.CARD_NUMBER, C.ADDRESS, C.PHONE, C.EMAIL}:
                continue
            labels = _ordered_labels(block)
            key = [h for h in block if h.raw_label in ("pn", "pb")]
            out.append(
                self._finding(part, block[0].start, block[-1].end, self.settings.strong_score,
                              f"patronapi-dump fields={','.join(labels)}", _masked_key_value(key), cats)
            )
        return out

    # -- Sierra REST JSON ---------------------------------------------------------------------

    def _sierra_json(self, part: TextPart, text: str) -> list[Finding]:
        hits = [_Hit(m.group(1), m.group(1), m.start(), m.end(), "", m.end()) for m in _JSON_KEY.finditer(text)]
        out: list[Finding] = []
        for block in _char_blocks(hits, self.settings.max_gap_chars):
            keys = _ordered_labels(block)
            if len(keys) < 2:
                continue
            cats: set[Category] = set()
            for k in keys:
                cats |= _JSON_KEYS[k]
            if not cats & {C.NAME, C.CARD_NUMBER, C.EMAIL, C.ADDRESS, C.PHONE, C.BIRTH_DATE}:
                continue
            start, end = block[0].start, block[-1].end
            # Extend to the end of the last value's line: the values follow the keys.
            nl = text.find("\n", end, end + 2000)
            end = nl if nl != -1 else min(len(text), end + 2000)
            if _JSON_NOTE_TAG.search(text, start, end):
                cats.add(C.NOTES)
            if _JSON_ID.search(text, max(0, start - 500), end):
                cats.add(C.RECORD_NUMBER)
            specific = _JSON_SIERRA_SPECIFIC & set(keys)
            score = self.settings.strong_score if specific else self.settings.generic_json_score
            out.append(self._finding(part, start, end, score, f"sierra-patron-json keys={','.join(keys)}", "", cats))
        return out

    # -- holds list -------------------------------------------------------------------------

    def _holds_list(self, part: TextPart, text: str) -> list[Finding]:
        hits = [
            _Hit(m.group(1), m.group(1), m.start(), m.end(), m.group(2), m.start(2))
            for m in _HOLDS_LINE.finditer(text)
        ]
        out: list[Finding] = []
        for block in _blocks(text, hits, self.settings.max_gap_lines, frozenset({"Patron Info"})):
            labels = _ordered_labels(block)
            # Item-level labels (TITLE, CALL #, BARCODE) are an ILL request; patron info makes it a hold.
            if "Patron Info" not in labels or len(labels) < 3:
                continue
            cats: set[Category] = {C.HOLDS}
            for h in block:
                cats |= _HOLDS_LABELS[h.label]
                if h.label == "Patron Info":
                    cats |= _value_categories(h.value)
            score = self.settings.strong_score if len(labels) >= 4 else self.settings.two_label_score
            key = [h for h in block if h.label == "Patron Info"]
            out.append(
                self._finding(part, block[0].start, block[-1].end, score, f"holds-list labels={','.join(labels)}",
                              _masked_key_value(key, first_piece=True), cats)
            )
        return out

    # -- Symphony ------------------------------------------------------------------------------

    def _symphony(self, part: TextPart, text: str) -> list[Finding]:
        hits = [
            _Hit(m.group(1), m.group(1), m.start(), m.end(), m.group(2), m.start(2))
            for m in _SYMPHONY_LINE.finditer(text)
        ]
        out: list[Finding] = []
        for block in _blocks(text, hits, self.settings.max_gap_lines, frozenset({"USER_ID"}),
                             boundary="DOCUMENT BOUNDARY"):
            cats: set[Category] = set()
            for h in block:
                for pattern, cat in _SYMPHONY_FIELDS:
                    if pattern.search(h.label):
                        if cat is not None:
                            cats.add(cat)
                        break
            labels = _ordered_labels(block)
            user_form = "FORM=LDUSER" in text[max(0, block[0].start - 300): block[0].start]
            personal = cats & _SYMPHONY_PERSONAL
            if not personal or (len(personal) < 2 and not (user_form and len(labels) >= 2)):
                continue
            key = [h for h in block if h.label in ("USER_LAST_NAME", "USER_NAME", "USER_ID")]
            out.append(
                self._finding(part, block[0].start, block[-1].end, self.settings.strong_score,
                              f"symphony-flat-record fields={','.join(labels[:12])}", _masked_key_value(key[:1]), cats)
            )
        return out

    # -- header rows -----------------------------------------------------------------------------

    def _headers(self, part: TextPart, text: str) -> list[Finding]:
        lines = lines_of(text)
        starts = [ln.start for ln in lines]
        candidates: list[int] = []
        for m in _HEADER_TRIGGER.finditer(text):
            i = bisect.bisect_right(starts, m.start()) - 1
            if not candidates or candidates[-1] != i:
                candidates.append(i)
        out: list[Finding] = []
        for i, delim, cells in iter_header_lines(lines, candidates):
            judged = _judge_header(cells)
            if judged is None:
                continue
            layout, labels, cats = judged
            width = delimiter_count(lines[i].text, delim)
            rows = 0
            j = i + 1
            while j < len(lines) and rows < 100_000:
                n = delimiter_count(lines[j].text, delim)
                if n == 0 or (delim != "  " and abs(n - width) > 1):
                    break
                rows += 1
                j += 1
            s = self.settings
            score = s.header_only_score if rows == 0 else s.header_rows_score if rows < 3 else s.strong_score
            end = lines[j - 1].end
            out.append(self._finding(part, lines[i].start, end, score,
                                     f"{layout} labels={','.join(labels)} rows={rows}", "", cats))
        return out

    # -- notices -----------------------------------------------------------------------------------

    def _notices(self, part: TextPart, text: str) -> list[Finding]:
        w = self.settings.notice_window
        phrases = list(_NOTICE_PHRASE.finditer(text))
        if not phrases:
            return []
        # Addressee blocks are looked for only near notice phrases (the regex is line-anchored
        # and would otherwise walk the whole part).
        blocks: list[re.Match[str]] = []
        covered = 0
        for p in phrases:
            lo, hi = max(covered, p.start() - w), min(len(text), p.end() + w)
            if lo >= hi:
                continue
            lo = text.rfind("\n", 0, lo) + 1 if lo else 0
            for m in _ADDRESSEE.finditer(text, lo, hi):
                if (not blocks or m.start() >= blocks[-1].end()) and not _ORG_WORDS.search(m.group(1)):
                    blocks.append(m)
            covered = hi
        out: list[Finding] = []
        for n, block in enumerate(blocks):
            lo = max(blocks[n - 1].end() if n else 0, block.start() - w)
            hi = min(blocks[n + 1].start() if n + 1 < len(blocks) else len(text), block.end() + w)
            # Printed notices open with the addressee (at most under a "... NOTICE" heading); a
            # name and address *after* the notice wording is a signature (e.g. one library
            # writing to another about overdue ILL items).
            near = [
                p for p in phrases
                if (p.start() >= block.end() and p.end() <= hi)
                or (p.group(1) and block.start() - 300 <= p.end() <= block.start())
            ]
            if not near:
                continue
            cats: set[Category] = {C.NAME, C.ADDRESS}
            kinds: set[str] = set()
            for p in near:
                word = " ".join(next((g for g in p.groups() if g), "").lower().split())
                word = {"overdue": "overdue", "hold": "on", "bill": "bill"}.get(_NOTICE_KIND_ES.get(word, ""), word)
                if word in ("overdue", "due", "final", "courtesy", "pre-overdue"):
                    cats.add(C.TITLES)
                    kinds.add("overdue")
                elif word.startswith("on") or word in ("ready", "available", "pick"):
                    cats.add(C.HOLDS)
                    kinds.add("hold")
                else:
                    cats.add(C.MONEY_OWED)
                    kinds.add("bill")
            if _NOTICE_MONEY.search(text, lo, hi):
                cats.add(C.MONEY_OWED)
            start, end = min(block.start(), near[0].start()), max(block.end(), near[-1].end())
            out.append(self._finding(part, start, end, self.settings.notice_score,
                                     f"library-notice kind={','.join(sorted(kinds))}", mask(block.group(1)), cats))
        return out

    def _finding(self, part: TextPart, start: int, end: int, score: float, reason: str, masked: str,
                 cats: Iterable[Category]) -> Finding:
        return Finding(
            kind=Kind.ILS_RECORD,
            part=part.path,
            start=start,
            end=end,
            score=score,
            reason=reason,
            masked=masked,
            detector=self.name,
            categories=frozenset(cats),
        )


def _judge_header(cells: Sequence[str]) -> tuple[str, list[str], set[Category]] | None:
    """Classify a delimited header row as a Create Lists export, agency report or holds table."""
    upper = [" ".join(c.upper().split()) for c in cells]
    mil = [u for u in upper if u in _MILLENNIUM_LABELS]
    if len(set(mil)) >= 2 and _MILLENNIUM_SPECIFIC & set(mil):
        cats: set[Category] = set()
        for u in mil:
            cats |= _MILLENNIUM_LABELS[u]
        return "create-lists-export", _dedupe(mil), cats
    lower = [u.lower() for u in upper]
    holds = [c for c in lower if c in _HOLDS_TABLE]
    if "patron info" in holds and len(set(holds)) >= 3:
        cats = {C.HOLDS}
        for c in holds:
            cats |= _HOLDS_TABLE[c]
        return "holds-table", _dedupe(holds), cats
    agency = [c for c in lower if c in _AGENCY_LABELS]
    if len(set(agency)) >= 3 and _AGENCY_PERSON & set(agency) and _AGENCY_MONEY & set(agency):
        cats = set()
        for c in agency:
            cats |= _AGENCY_LABELS[c]
        # The other columns by the words in them ("Hold Requests", "Items Not Returned", "Notes").
        for c in lower:
            if c not in _AGENCY_LABELS:
                kind = _label_kind(c)
                if kind is not None:
                    cats |= kind[0]
        return "collection-agency-report", _dedupe(agency), cats
    return None


def _value_categories(value: str) -> set[Category]:
    """What a `Patron Info` value carries besides the name: email, phone, p-number."""
    cats: set[Category] = set()
    if "@" in value and _EMAILISH.search(value):
        cats.add(C.EMAIL)
    if _PHONEISH.search(value):
        cats.add(C.PHONE)
    if _RECORD_NUMBER.search(value):
        cats.add(C.RECORD_NUMBER)
    return cats


def _norm_label(label: str) -> str:
    return " ".join(label.upper().split())


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _ordered_labels(block: Sequence[_Hit]) -> list[str]:
    return _dedupe(h.label for h in block)


def _masked_key_value(hits: Sequence[_Hit], first_piece: bool = False) -> str:
    """The masked value of the record's key field (name or barcode), for the supervisor."""
    for h in hits:
        value = h.value.strip()
        if first_piece:
            value = value.split("/", 1)[0].strip()
        if value:
            return mask(value[:60])
    return ""


def _blocks(
    text: str, hits: Sequence[_Hit], max_gap_lines: int, keys: frozenset[str], boundary: str | None = None
) -> list[list[_Hit]]:
    """Group line-label hits into record blocks: a long gap, a repeated key label or a boundary splits."""
    blocks: list[list[_Hit]] = []
    current: list[_Hit] = []
    seen: set[str] = set()
    for h in hits:
        if current:
            prev = current[-1]
            split = (
                text.count("\n", prev.end, h.start) > max_gap_lines
                or (h.label in keys and h.label in seen)
                or (boundary is not None and text.find(boundary, prev.end, h.start) != -1)
            )
            if split:
                blocks.append(current)
                current, seen = [], set()
        current.append(h)
        seen.add(h.label)
    if current:
        blocks.append(current)
    return blocks


def _char_blocks(hits: Sequence[_Hit], max_gap: int) -> list[list[_Hit]]:
    """Group inline hits (PatronAPI tags, JSON keys) whose distance is at most `max_gap` characters."""
    blocks: list[list[_Hit]] = []
    for h in hits:
        if blocks and h.start - blocks[-1][-1].end <= max_gap:
            blocks[-1].append(h)
        else:
            blocks.append([h])
    return blocks
