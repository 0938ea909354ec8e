"""Tests for the ILS record layouts detector (detectors/records.py). All people are invented."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from detectors.findings import Category, Detector, Kind, TextPart
from detectors.records import IlsRecordDetector, IlsRecordSettings

C = Category

MILLENNIUM = """\
Hi Dana, can you look at this one? She says she returned everything.

PATRN NAME   QUILLFEATHER, MARGO J
ADDRESS      1472 EXAMPLE ST NE APT 4$SALEM OR 97301
TELEPHONE    503-555-0147
EMAIL ADDR   mquill@example.com
P BARCODE    23610003622817
P TYPE       1
EXP DATE     06-30-2026
BIRTH DATE   04-12-1988
MONEY OWED   $39.95
MBLOCK       -
"""

MILLENNIUM_CHECKOUTS = """\
PATRN NAME   OTTERLY, BENEDICT
P BARCODE    23610362281007
CUR CHKOUT   2
 1 > The salt path / Winn, Raynor        BARCODE 30234000517861  DUE 03-15-24
 2 > Braiding sweetgrass / Kimmerer      BARCODE 30234000517879  DUE 03-22-24
"""

PATRONAPI = (
    "REC INFO[p!]=p<BR>\nEXP DATE[p43]=06-30-26<BR>\nRECORD #[p81]=1234567<BR>\n"
    "PATRN NAME[pn]=Quillfeather, Margo<BR>\nADDRESS[pa]=1472 Example St NE$Salem OR 97301<BR>\n"
    "P BARCODE[pb]=23610003622817<BR>\nMONEY OWED[p96]=$12.50<BR>\n"
)

CREATE_LISTS = (
    '"P BARCODE"|"EMAIL ADDR"|"PATRN NAME"|"ADDRESS"|"MONEY OWED"|"RECORD #(PATRON)"\n'
    '"23610362281007"|"botterly@example.com"|"OTTERLY, BENEDICT"|"12 ELM ST$SALEM OR 97302"|"$4.20"|"p1234567x"\n'
    '"23610362281015"|"wrenf@example.net"|"WREN, FELICITY"|"88 OAK AVE$KEIZER OR 97303"|"$0.00"|"p1234568a"\n'
    '"23610362281023"|"tpike@example.org"|"PIKE, TOBIAS"|"5 MILL RD$DALLAS OR 97338"|"$18.00"|"p1234569a"\n'
)

SIERRA_JSON = """{"entries": [{"id": 1234567, "names": ["Quillfeather, Margo"],
  "barcodes": ["23610003622817"], "emails": ["mquill@example.com"],
  "addresses": [{"lines": ["1472 Example St NE", "Salem OR 97301"], "type": "a"}],
  "phones": [{"number": "503-555-0147", "type": "t"}], "birthDate": "1988-04-12",
  "moneyOwed": 39.95, "varFields": [{"fieldTag": "x", "content": "Claims returned 3/2"}]"""

HOLDS_LIST = """\
Patron Info       Otterly, Benedict / p1234567x / botterly@example.com
TITLE             The overstory / Richard Powers
CALL #            FIC POWERS
BARCODE           30234000517861
Pickup Location   Salem Main
Hold Status       On holdshelf
"""

SYMPHONY = """\
*** DOCUMENT BOUNDARY ***
FORM=LDUSER
.USER_ID.   |a23610003622817
.USER_FIRST_NAME.   |aMargo
.USER_LAST_NAME.   |aQuillfeather
.USER_BIRTH_DATE.   |a19880412
.STREET.   |a1472 Example St NE
.CITY/STATE.   |aSalem, OR
.ZIP.   |a97301
.PHONE.   |a503-555-0147
.EMAIL.   |amquill@example.com
.NOTE.   |aPatron claims items returned
.BILL_AMOUNT.   |a$39.95
"""

OVERDUE_NOTICE = """\
Salem Public Library

Margo Quillfeather
1472 Example St NE
Salem, OR 97301

OVERDUE NOTICE

The following items are overdue. Please return them as soon as possible.

  The salt path                      Due: 03/15/2024
  Braiding sweetgrass                Due: 03/22/2024
"""

HOLD_NOTICE = """\
Benedict Otterly
12 Elm St
Keizer, OR 97303

The following item is ready for pickup at Salem Main until 04/02/2024:
  The overstory
"""

BILL_NOTICE = """\
BILLING NOTICE

FELICITY WREN
88 OAK AVE
KEIZER OR 97303

Our records show the following item has been billed:
  Beloved  replacement cost $18.00
Amount due: $23.00
"""

AGENCY_REPORT = """\
Patron #\tBarcode\tName\tAmount Owed\tItem Cost\tFirst Fine Date\tStatus
1234567\t23610362281007\tOtterly, Benedict\t$45.00\t$30.00\t01/12/2024\tNEW
1234568\t23610362281015\tWren, Felicity\t$22.50\t$15.00\t01/20/2024\tNEW
"""

POSITIVES = [
    ("millennium", MILLENNIUM, "millennium-patron-record",
     {C.NAME, C.ADDRESS, C.PHONE, C.EMAIL, C.CARD_NUMBER, C.BIRTH_DATE, C.MONEY_OWED}, 0.95),
    ("millennium-checkouts", MILLENNIUM_CHECKOUTS, "millennium-patron-record", {C.NAME, C.CARD_NUMBER, C.TITLES}, 0.95),
    ("millennium-two-labels", "PATRN NAME  WREN, FELICITY\nP BARCODE  23610362281015\n",
     "millennium-patron-record", {C.NAME, C.CARD_NUMBER}, 0.85),
    ("millennium-quoted-reply", "> PATRN NAME   WREN, FELICITY\n> P  BARCODE   23610362281015\n> NOTE  banned 30 days\n",
     "millennium-patron-record", {C.NAME, C.CARD_NUMBER, C.NOTES}, 0.95),
    ("patronapi", PATRONAPI, "patronapi-dump", {C.NAME, C.ADDRESS, C.CARD_NUMBER, C.MONEY_OWED, C.RECORD_NUMBER}, 0.95),
    ("patronapi-one-line", PATRONAPI.replace("\n", ""), "patronapi-dump",
     {C.NAME, C.ADDRESS, C.CARD_NUMBER, C.MONEY_OWED, C.RECORD_NUMBER}, 0.95),
    ("create-lists", CREATE_LISTS, "create-lists-export",
     {C.NAME, C.ADDRESS, C.EMAIL, C.CARD_NUMBER, C.MONEY_OWED, C.RECORD_NUMBER}, 0.95),
    ("create-lists-header-only", "P BARCODE,PATRN NAME,TELEPHONE\n", "create-lists-export",
     {C.NAME, C.CARD_NUMBER, C.PHONE}, 0.7),
    ("sierra-json", SIERRA_JSON, "sierra-patron-json",
     {C.NAME, C.CARD_NUMBER, C.EMAIL, C.ADDRESS, C.PHONE, C.BIRTH_DATE, C.MONEY_OWED, C.NOTES, C.RECORD_NUMBER}, 0.95),
    ("holds-list", HOLDS_LIST, "holds-list", {C.NAME, C.HOLDS, C.TITLES, C.EMAIL, C.RECORD_NUMBER}, 0.95),
    ("symphony", SYMPHONY, "symphony-flat-record",
     {C.NAME, C.CARD_NUMBER, C.BIRTH_DATE, C.ADDRESS, C.PHONE, C.EMAIL, C.NOTES, C.MONEY_OWED}, 0.95),
    ("overdue-notice", OVERDUE_NOTICE, "library-notice", {C.NAME, C.ADDRESS, C.TITLES}, 0.75),
    ("hold-notice", HOLD_NOTICE, "library-notice", {C.NAME, C.ADDRESS, C.HOLDS}, 0.75),
    ("heading-only-notice", "OVERDUE NOTICE\n\nIdris Marsh\n5 Mill Rd\nDallas, OR 97338\n\nPlease return:\n  Beloved\n",
     "library-notice", {C.NAME, C.ADDRESS, C.TITLES}, 0.75),
    ("bill-notice", BILL_NOTICE, "library-notice", {C.NAME, C.ADDRESS, C.MONEY_OWED}, 0.75),
    ("agency-report", AGENCY_REPORT, "collection-agency-report",
     {C.NAME, C.CARD_NUMBER, C.RECORD_NUMBER, C.MONEY_OWED}, 0.9),
    ("labelled-spanish", "Nombre: María Fernández\nTarjeta: 23610003622817\nTeléfono: 503-555-0187\nMultas: $4.50\n",
     "labelled-patron-record", {C.NAME, C.CARD_NUMBER, C.PHONE, C.MONEY_OWED}, 0.95),
    ("labelled-english", "Patron: Doe, Jane\nBarcode: 23610003622817\nHolds: 2\n",
     "labelled-patron-record", {C.NAME, C.CARD_NUMBER, C.HOLDS}, 0.85),
    ("labelled-russian", "ФИО: Иванова Анна\nТелефон: 503-555-0187\nШтрафы: $3.00\n",
     "labelled-patron-record", {C.NAME, C.PHONE, C.MONEY_OWED}, 0.85),
    ("spanish-overdue-notice", "Aviso de vencimiento\n\nMaría Fernández\n1420 Oak Hollow Dr NE\nKeizer, OR 97303\n\n"
     "Los siguientes artículos están vencidos:\n  Cien años de soledad\n",
     "library-notice", {C.NAME, C.ADDRESS, C.TITLES}, 0.75),
]


@pytest.mark.parametrize(("label", "text", "reason", "categories", "score"), POSITIVES, ids=[p[0] for p in POSITIVES])
def test_layout_is_reported_with_its_categories(
    label: str, text: str, reason: str, categories: set[Category], score: float
) -> None:
    """Each ILS layout yields exactly one ILS_RECORD finding naming the layout and the categories it exposes."""
    findings = list(IlsRecordDetector().detect(TextPart("1", text)))
    assert [f.reason.split(" ")[0] for f in findings] == [reason]
    f = findings[0]
    assert f.kind is Kind.ILS_RECORD
    assert f.detector == "ils_record"
    assert set(f.categories) == categories
    assert f.score == pytest.approx(score)
    assert 0 <= f.start < f.end <= len(text)


NEGATIVES = [
    ("letter-with-address-and-note", "Thanks for coming!\nADDRESS: 585 Liberty St SE, Salem OR 97301\nNOTE: parking is free after 5.\n"),
    ("ill-request", "ILL request 88213\nTITLE: The overstory\nCALL #: FIC POWERS\nBARCODE: 30234000517861\n"
                    "Pickup Location: Salem Main\nLender: Orbis Cascade\n"),
    ("author-event", "Join us for an author event!\nNOTE: seating is limited.\nMESSAGE from the Friends: "
                     "bring a canned good.\nAddress: 585 Liberty St SE\n"),
    ("vendor-invoice", "INVOICE 4471\nBaker & Taylor\n2550 West Tyvola Rd\nCharlotte, NC 28217\n\n"
                       "Qty 12 The overstory   $204.00\nAmount due: $1,204.00\nPlease remit within 30 days.\n"),
    ("stats-json", '{"branch": "Salem Main", "checkouts": 18230, "visits": 40211, "names": ["Main", "West"]}'),
    ("contact-json-one-key", '{"emails": ["info@example.org"], "office": "Main"}'),
    ("ill-overdue-to-partner", "Hi Pat,\nThe following items are overdue at our end; could you check?\n\n"
                               "Jane Roe\nInterlibrary Loan\nSalem Public Library\n585 Liberty St SE\nSalem, OR 97301\n"),
    ("overdue-ill-signature", "Hi Pat,\nThe following items are overdue at our end; could you check?\n\n"
                              "Jane Roe\n585 Liberty St SE\nSalem, OR 97301\n"),
    ("mixed-case-two-labels", "Patrn name: see below\nAddress: 12 Elm St\n"),
    ("board-minutes", "Board meeting minutes\nMESSAGE from the director\nNOTE: budget approved.\n"
                      "Circulation rose 4% in March.\n"),
    ("symphony-single-field", ".ITEM_ID.   |a30234000517861\n.ITEM_LIBRARY.   |aSALEM\n"),
    ("contact-card", "Name: John Smith\nPhone: 503-555-0100\nEmail: js@acme.example\nAddress: 12 Elm St\n"),
    ("blank-notice-template", "Name: <<borrowers.firstname>> <<borrowers.surname>>\nCard: <<borrowers.cardnumber>>\n"
                              "Fines: <<borrowers.balance>>\nHolds: [% hold.title %]\n"),
    ("blank-form", "Nombre: ________\nTarjeta: ________\nTeléfono: ________\n"),
]


@pytest.mark.parametrize(("label", "text"), NEGATIVES, ids=[n[0] for n in NEGATIVES])
def test_ordinary_library_mail_is_not_a_record(label: str, text: str) -> None:
    """Ordinary library business mail with stray labels yields no ILS_RECORD finding."""
    assert list(IlsRecordDetector().detect(TextPart("1", text))) == []


def test_each_record_in_a_paste_is_its_own_finding() -> None:
    """Two Millennium records pasted one after the other give two findings (a repeated PATRN NAME splits)."""
    text = MILLENNIUM + "\n" + MILLENNIUM_CHECKOUTS
    findings = [f for f in IlsRecordDetector().detect(TextPart("1", text)) if f.reason.startswith("millennium")]
    assert len(findings) == 2
    assert findings[0].end <= findings[1].start


def test_findings_never_carry_field_values() -> None:
    """Every positive record yields findings, and their reasons and masked values carry none of the record's values."""
    secrets = ("QUILLFEATHER", "Quillfeather", "Otterly", "OTTERLY", "23610003622817", "mquill")
    checked = 0
    for name, text, *_ in POSITIVES:
        findings = list(IlsRecordDetector().detect(TextPart("1", text)))
        assert findings, f"{name}: no finding to check"
        present = [secret for secret in secrets if secret in text]
        for f in findings:
            for secret in present:
                assert secret not in f.reason
                assert secret not in f.masked
                checked += 1
    assert checked >= len(secrets)  # the values are in the records, so the checks above looked for them


def test_detector_satisfies_protocol_and_settings_are_frozen() -> None:
    """IlsRecordDetector is a Detector and its settings cannot be changed after construction."""
    det = IlsRecordDetector(IlsRecordSettings(notice_score=0.7))
    assert isinstance(det, Detector)
    with pytest.raises(AttributeError):
        det.settings.notice_score = 0.1  # type: ignore[misc]


def test_huge_unstructured_part_is_fast() -> None:
    """A megabyte of label-like noise is scanned in well under a second (no backtracking blow-up)."""
    text = ("PATRN " * 50 + "NOTE\n" + "a]=" * 100 + '"names": ' + "|a" * 50 + "\n") * 800
    t = time.perf_counter()
    list(IlsRecordDetector().detect(TextPart("1", text)))
    assert time.perf_counter() - t < 2.0


HAM = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "spamassassin_ham"


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.skipif(not HAM.is_dir(), reason="shared corpus not present")
def test_ordinary_mail_corpus_has_no_ils_records() -> None:
    """None of the 2,749 SpamAssassin ham messages looks like an ILS record."""
    det = IlsRecordDetector()
    hits = []
    for path in sorted(p for p in HAM.rglob("*") if p.is_file()):
        part = TextPart(path.name, path.read_bytes().decode("latin-1"))
        hits += [(path.name, f.reason) for f in det.detect(part)]
    assert hits == []


def test_labels_are_read_by_their_words() -> None:
    """Labels are classed by the words in them ("Items not returned", "Amount owed"), not a fixed list."""
    text = "Name: Toledo, Gonzalo\nAddress: 8206 State St, Salem, OR 97301\nAmount owed: $88.10\nItems not returned: Dune; Holes\n"
    (f,) = IlsRecordDetector().detect(TextPart("1", text))
    assert f.reason.startswith("labelled-patron-record") and {C.TITLES, C.MONEY_OWED} <= f.categories


def test_a_notice_passed_on_is_a_record() -> None:
    """An attached or forwarded letter that greets a person and speaks the notices' vocabulary is a notice."""
    notice = ("Dear Jane Doe,\nThe items you borrowed are overdue. Please return or renew them; a fine of $0.25 a day "
              "applies. Item: Dune. Call number: FIC HER.\n")
    (f,) = IlsRecordDetector().detect(TextPart("2", notice, origin="attachment"))
    assert f.reason.startswith("library-notice passed-on") and C.TITLES in f.categories
    cover = "Hi Tom,\n\nHere it is.\n\n---------- Forwarded message ---------\n" + notice
    assert [g.reason.split(" ")[0] for g in IlsRecordDetector().detect(TextPart("1", cover))] == ["library-notice"]
    own = "Dear Tom,\nOur notices say items are overdue and fines apply; can your system renew items by barcode?\n"
    assert list(IlsRecordDetector().detect(TextPart("1", own))) == []  # the writer's own letter


@pytest.mark.parametrize(
    "head",
    ["Checked out to Jane Doe (23610003622817)\n", "Bill to: Jane Doe\n", "DOE, JANE\n", "Jane Doe\n12 Elm St\nSalem, OR 97301\n"],
)
def test_whom_a_notice_is_for(head: str) -> None:
    """Slips, bills and receipts name their patron without a greeting."""
    from detectors.names import letter_names

    assert letter_names(head)
