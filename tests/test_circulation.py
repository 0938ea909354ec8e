"""Tests for the circulation phrase detectors (detectors/circulation.py). All people are invented."""

from __future__ import annotations

import time

import pytest

from detectors.circulation import (
    CirculationDetector,
    HoldDetector,
    MoneyOwedDetector,
    PatronContextDetector,
    PatronNoteDetector,
    PersonReferenceDetector,
    fold_case,
)
from detectors.findings import Category, Detector, Finding, Kind, TextPart


def _find(detector: Detector, text: str) -> list[Finding]:
    return list(detector.detect(TextPart("1", text)))


def _spans(detector: Detector, text: str) -> list[str]:
    return [text[f.start:f.end] for f in _find(detector, text)]


# --- money owed -------------------------------------------------------------------------------

MONEY_POSITIVES = [
    ("Margo owes $12.50 from last spring.", "owes $12.50", 0.85),
    ("He has fines of $3.20 on the card.", "fines of $3.20", 0.85),
    ("Balance due: $45.00", "Balance due: $45.00", 0.7),
    ("The amount owed is listed below.", "amount owed", 0.4),
    ("She got a $39.95 bill for the lost DVD.", "$39.95 bill", 0.8),
    ("A lost item charge was added.", "lost item charge", 0.4),
    ("The replacement fee covers processing.", "replacement fee", 0.4),
    ("His account was sent to collections in May.", "His account was sent to collections", 0.6),
    ("The lost-item fee of $30.00 stands.", "lost-item fee of $30.00", 0.85),
    ("Her overdue\nfines total $8.75.", "fines total $8.75", 0.85),
]


@pytest.mark.parametrize(("text", "span", "score"), MONEY_POSITIVES)
def test_money_owed_is_found(text: str, span: str, score: float) -> None:
    """Amounts and phrases tied to owing the library are reported as MONEY_OWED."""
    findings = _find(MoneyOwedDetector(), text)
    assert [text[f.start:f.end] for f in findings] == [span]
    assert findings[0].kind is Kind.MONEY_OWED
    assert findings[0].categories == frozenset({Category.MONEY_OWED})
    assert findings[0].score == pytest.approx(score)


MONEY_NEGATIVES = [
    "Invoice 4471\nTotal: $1,204.00\nThank you for your business.",
    "The new display shelving will cost $25 per unit.",
    "Registration for the author talk is free; books are $18.99 at the door.",
    "Circulation rose 4% in March; the budget line is $12,000.",
    "The board approved a fine-arts grant.",
    "Everything works fine, thanks!",
]


@pytest.mark.parametrize("text", MONEY_NEGATIVES)
def test_prices_and_totals_are_not_money_owed(text: str) -> None:
    """A bare price, invoice total or budget figure is not money owed by a patron."""
    assert _find(MoneyOwedDetector(), text) == []


# --- circulation --------------------------------------------------------------------------------

CIRC_CASES = [
    ('She checked out "The Overstory" and "Beloved" last week.', 0.8, "quoted"),
    ("He has checked out The Salt Path twice.", 0.8, "capitalised"),
    ("Items currently checked out:\n  The salt path   due 3/15\n  Beloved   due 3/22\n", 0.8, "due-list"),
    ("Benedict currently has 4 items out.", 0.5, None),
    ("Her books are overdue.", 0.5, None),
    ("The book was renewed online.", 0.5, None),
    ("He borrowed it in January.", 0.5, None),
]


@pytest.mark.parametrize(("text", "score", "title"), CIRC_CASES)
def test_circulation_statements_score_by_titles(text: str, score: float, title: str | None) -> None:
    """Circulation statements score 0.8 when titles follow and 0.5 for the bare phrase."""
    findings = _find(CirculationDetector(), text)
    assert findings, text
    best = max(findings, key=lambda f: f.score)
    assert best.kind is Kind.CIRCULATION
    assert best.categories == frozenset({Category.TITLES})
    assert best.score == pytest.approx(score)
    if title:
        assert best.reason.endswith(f"title={title}")


@pytest.mark.parametrize(
    "text",
    [
        "Circulation rose 4% in March compared with last year.",
        "Join us on May 3 for an author talk with Kim Park; signed books available.",
        "The due diligence report is attached.",
        "Applicants must have a valid driver's license.",
        "Thanks for checking on the order status.",
    ],
)
def test_library_business_without_circulation_phrases_is_silent(text: str) -> None:
    """Statistics, events and job postings without circulation phrases yield nothing."""
    assert _find(CirculationDetector(), text) == []


def test_ill_due_back_is_only_a_weak_signal() -> None:
    """'The book is due back at the ILL partner' is reported only at the bare-phrase score."""
    findings = _find(CirculationDetector(), "The book is due back at the ILL partner on 4/2.")
    assert [f.score for f in findings] == [0.5]


# --- holds --------------------------------------------------------------------------------------

HOLD_POSITIVES = [
    ("The DVD is on hold for you at West Salem.", "on hold for you"),
    ("Your hold is ready at the Main desk.", "hold is ready"),
    ("Three books are ready for pickup.", "ready for pickup"),
    ("She placed a hold on the new Powers novel.", "placed a hold"),
    ("Please check the holds list before closing.", "holds list"),
    ("It's on the hold shelf.", "hold shelf"),
    ("Kept on hold for Felicity until Friday.", "on hold for Felicity"),
]


@pytest.mark.parametrize(("text", "span"), HOLD_POSITIVES)
def test_hold_phrases_are_found(text: str, span: str) -> None:
    """Hold statements are reported as HOLD with the HOLDS category."""
    findings = _find(HoldDetector(), text)
    assert [text[f.start:f.end] for f in findings] == [span]
    assert findings[0].categories == frozenset({Category.HOLDS})


@pytest.mark.parametrize(
    "text",
    [
        "We put the renovation on hold for two weeks.",
        "The project is on hold for Monday's meeting.",
        "Please hold the door for the delivery.",
        "Threshold values were updated.",
    ],
)
def test_non_library_holds_are_ignored(text: str) -> None:
    """'On hold for two weeks' and similar ordinary uses are not library holds."""
    assert _find(HoldDetector(), text) == []


# --- patron context, person references, notes -------------------------------------------------------

CONTEXT_POSITIVES = [
    ("The patron called again.", "patron"),
    ("Her library card expired.", "library card"),
    ("Card holder must sign.", "Card holder"),
    ("Please reset the PIN.", "PIN"),
    ("Scan the barcode on the back.", "barcode"),
    ("Their account was flagged.", "Their account"),
    ("The card was blocked yesterday.", "card was blocked"),
    ("The borrower disputes it.", "borrower"),
]


@pytest.mark.parametrize(("text", "span"), CONTEXT_POSITIVES)
def test_patron_context_words_are_found(text: str, span: str) -> None:
    """Patron-context words are reported at 0.5 with no data categories."""
    findings = _find(PatronContextDetector(), text)
    assert span in [text[f.start:f.end] for f in findings]
    assert all(f.score == 0.5 and not f.categories for f in findings)


@pytest.mark.parametrize(
    "text",
    ["I pinned the notice to the board.", "Spin the wheel at the fair!", "The cardboard boxes are in the back.",
     "Registered trademark of Example Corp."],
)
def test_patron_context_ignores_lookalikes(text: str) -> None:
    """Lower-case 'pin', 'cardboard' and 'registered trademark' are not patron context."""
    assert _find(PatronContextDetector(), text) == []


PERSON_CASES = [
    ("Your son left his jacket here.", "Your son"),
    ("Can your daughter come in?", "your daughter"),
    ("I looked at her account this morning.", "her account"),
    ("This patron was here yesterday.", "This patron"),
    ("We refunded that customer.", "that customer"),
]


@pytest.mark.parametrize(
    "text",
    ["The patron must show photo ID.", "Items are released only to the patron or a parent.", "another patron has it"],
)
def test_the_patron_in_general_is_not_a_person(text: str) -> None:
    """"The patron" of a policy or question identifies nobody: it is not a reference to one person."""
    assert _find(PersonReferenceDetector(), text) == []


@pytest.mark.parametrize(("text", "span"), PERSON_CASES)
def test_person_references_are_found(text: str, span: str) -> None:
    """References to a specific person without a name are reported as PERSON_REFERENCE."""
    findings = _find(PersonReferenceDetector(), text)
    assert [text[f.start:f.end] for f in findings] == [span]
    assert findings[0].kind is Kind.PERSON_REFERENCE and not findings[0].categories


def test_person_reference_ignores_words_inside_others() -> None:
    """'other account' and 'customers' list words do not read as 'her account' or 'the customer'."""
    assert _find(PersonReferenceDetector(), "Use the other account; thecustomer portal is down.") == []


NOTE_POSITIVES = [
    ("Note: patron was banned for 30 days after incident.", "patron-note line"),
    ("Note: Patron says the DVD case was empty at checkout.", "patron-note line"),
    ("Message: the patron claimed she returned both books.", "patron-note line"),
    ("PMESSAGE  call before releasing holds", "patron-note pmessage"),
    ("I added a note on his record about it.", "patron-note record"),
    ("See the incident report from Tuesday.", "patron-note phrase"),
    ("He was trespassed from the building in June.", "patron-note barred"),
    ("She is suspended from the library until May.", "patron-note phrase"),
]


@pytest.mark.parametrize(("text", "reason"), NOTE_POSITIVES)
def test_patron_notes_are_found(text: str, reason: str) -> None:
    """Notes from a patron record are reported as PATRON_NOTE with the NOTES category."""
    findings = _find(PatronNoteDetector(), text)
    assert [f.reason for f in findings] == [reason]
    assert findings[0].categories == frozenset({Category.NOTES})


@pytest.mark.parametrize(
    "text",
    [
        "Note: the meeting moved to room B.",
        "The board noted the budget was approved.",
        "The case concerned trespass to chattels.",
        "Copying is banned under the proposal.",
        # A manual's admonitions speak of patrons in general.
        "NOTE: Blocking a patron at one branch blocks that patron at every member library.",
        "NOTE: The report joins each survey answer to the patron information it came with.",
        "Note: a patron can renew an item twice unless another patron has placed a hold.",
    ],
)
def test_ordinary_notes_are_not_patron_notes(text: str) -> None:
    """Ordinary 'Note:' lines and legal prose are not patron-record notes."""
    assert _find(PatronNoteDetector(), text) == []


# --- shared properties ----------------------------------------------------------------------------------

ALL = [MoneyOwedDetector(), CirculationDetector(), HoldDetector(), PatronContextDetector(),
       PersonReferenceDetector(), PatronNoteDetector()]


@pytest.mark.parametrize("detector", ALL, ids=lambda d: d.name)
def test_detectors_follow_the_protocol_and_mask(detector: Detector) -> None:
    """Every detector is a Detector, names itself on findings and never returns raw text as masked."""
    text = ("Margo Quillfeather owes $12.50 in fines; the patron checked out \"Beloved\". "
            "It is on hold for you. Note: patron was banned. Your son has her card.")
    assert isinstance(detector, Detector)
    for f in detector.detect(TextPart("1", text)):
        assert f.detector == detector.name
        assert f.masked != text[f.start:f.end] or not any(ch.isalnum() for ch in f.masked)


@pytest.mark.parametrize("detector", ALL, ids=lambda d: d.name)
def test_hostile_input_is_linear(detector: Detector) -> None:
    """A megabyte of anchor words without matches is scanned quickly (no backtracking blow-up)."""
    text = ("owe fine balance $ $1 checked due hold patron your his the note: " * 2 + "x" * 40 + "\n") * 4000
    t = time.perf_counter()
    list(detector.detect(TextPart("1", text)))
    assert time.perf_counter() - t < 3.0


def test_fold_case_keeps_offsets() -> None:
    """Case folding keeps the text length even for the dotted capital I."""
    text = "\u0130STANBUL patron"
    assert len(fold_case(text)) == len(text)
    assert fold_case(text).endswith("patron")


@pytest.mark.parametrize(
    "text",
    [
        "The contact details we have on file:",
        "His phone number is in our records as",
        "The person who reserved study room B on Saturday is",
    ],
)
def test_records_language_is_patron_context(text):
    """Phrases about what the library holds on someone count as patron context."""
    from detectors.circulation import PatronContextDetector

    kinds = [f.reason for f in PatronContextDetector().detect(TextPart("1", text))]
    assert kinds, text


@pytest.mark.parametrize("text", ["Mount the volume on file system /dev/sda1", "who requested this feature?"])
def test_records_language_false_cases(text):
    """Technical 'file system' prose and bare 'who requested' are not patron context."""
    from detectors.circulation import PatronContextDetector

    assert list(PatronContextDetector().detect(TextPart("1", text))) == []


@pytest.mark.parametrize(
    "text",
    ["The company owes $12 billion to its creditors", "he owed $500 million", "a $51,000 fine for the polluter", "owes $12,500,000"],
)
def test_news_scale_amounts_are_not_money_owed(text):
    """Amounts in the millions, or over $10,000, are news, not a patron's fines."""
    from detectors.circulation import MoneyOwedDetector

    assert list(MoneyOwedDetector().detect(TextPart("1", text))) == []


# --- other languages, phrasing, aggregates ------------------------------------------------------


@pytest.mark.parametrize(
    ("detector", "text", "span"),
    [
        (MoneyOwedDetector(), "Tiene multas de $4.50 pendientes.", "multas de $4.50"),
        (MoneyOwedDetector(), "Usted debe $12.00 a la biblioteca.", "debe $12.00"),
        (MoneyOwedDetector(), "Штраф: $3.00", "Штраф: $3.00"),
        (CirculationDetector(), "Tiene prestados dos libros.", "Tiene prestados"),
        (CirculationDetector(), "Los libros están vencidos desde el lunes.", "vencidos"),
        (CirculationDetector(), "She has three books out and one DVD.", "has three books out"),
        (CirculationDetector(), "He never returned the atlas.", "never returned"),
        (HoldDetector(), "Su reserva está lista en la sucursal.", "reserva"),
        (HoldDetector(), "Esperanza has these on hold.", "has these on hold"),
        (HoldDetector(), "He put a hold on the new Grisham.", "put a hold on"),
        (PersonReferenceDetector(), "Su hijo tiene tres libros vencidos.", "Su hijo"),
    ],
)
def test_phrases_in_more_wordings_and_languages(detector: Detector, text: str, span: str) -> None:
    """Holds, fines and loans are found in Spanish, Russian and in wordings beyond the usual ones."""
    assert any(span in found for found in _spans(detector, text)), _spans(detector, text)


@pytest.mark.parametrize(
    "text",
    [
        "We collected $1,840 in fines last fiscal year.",
        "Patrons who owe more than $25 in fines are blocked; the average balance is $6.",
        "Fine revenue was $4,310 in FY24.",
    ],
)
def test_aggregate_figures_are_not_a_persons_debt(text: str) -> None:
    """Amounts about the library (collected, revenue, averages, patrons who owe) score too low to bind a person."""
    assert all(f.score < 0.5 and "aggregate" in f.reason for f in _find(MoneyOwedDetector(), text))


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("We registered 214 patrons for library cards at the fair.", 0.3),
        ("Her library card was renewed.", 0.5),
        ("Library cards are free for residents.", 0.3),
    ],
)
def test_library_cards_in_general_are_weak_context(text: str, score: float) -> None:
    """Cards and patrons in the plural are the library's business in general; one person's card is context."""
    assert max(f.score for f in _find(PatronContextDetector(), text)) == pytest.approx(score)


def test_su_cuenta_is_not_someone_else() -> None:
    """Spanish "su cuenta" is also the formal "your account": not a reference to another person."""
    assert _spans(PersonReferenceDetector(), "Su cuenta tiene una multa.") == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("- Michelle Flores: Ramona Quimby, Age 8 (due 12/13)\n- Amélie Bernier: Martin Eden (due 12/18)\n",
         "circulation-list due-dated"),
        ("Title: Dune\nAuthor: Herbert, Frank\nCall Number: FIC HER\nBarcode: 33610034998721\n", "circulation-list item-labels"),
        ('"Dog Man" de Pilkey, Dav, FIC PILK, Vence: 03/14/2025\n"Holes", Vence: 03/20/2025\n', "circulation-list due-dated"),
    ],
)
def test_lists_of_items_someone_has(text: str, reason: str) -> None:
    """Due-dated lines and labelled item lines with a shelf mark, barcode or due date are titles someone has."""
    assert [f.reason for f in _find(CirculationDetector(), text)] == [reason]


def test_a_book_list_is_not_someones_items() -> None:
    """Titles and authors alone (a newsletter's book list) are not items anyone has."""
    assert _find(CirculationDetector(), "Title: Dune\nAuthor: Herbert, Frank\n\nTitle: Holes\nAuthor: Sachar, Louis\n") == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Here is what she checked out last month: Because of Winn-Dixie and Holes.", "circulation-phrase title=marked"),
        ("He borrowed the novel by Kate DiCamillo.", "circulation-phrase title=marked"),
        ("A reminder that El principito was due on 06/21/2025.", "circulation-phrase title=before"),
        ("Her books are overdue.", "circulation-phrase"),
        ("The book is overdue.", "circulation-phrase"),
    ],
)
def test_titles_marked_around_a_circulation_phrase(text: str, reason: str) -> None:
    """A list after a colon, "by Author" or a title right before "was due" make a circulation phrase name titles."""
    assert [f.reason for f in _find(CirculationDetector(), text)] == [reason]


def test_item_lines_of_a_notice() -> None:
    """Lines carrying two item features (title with shelf mark, item barcode, date, amount, author) are a list of items."""
    text = ('"The Hunger Games" by Collins, Suzanne, 306.89 COLL, Barcode: 33611082136651 Fine: $2.00\n'
            '"Feeling Good" by Burns, David D., DVD BURN, Barcode: 33611087801069 Fine: $5.50\n')
    assert "circulation-list" in " ".join(f.reason for f in _find(CirculationDetector(), text))
    schedule = "Storytime, Main branch\nBaby signing, West Salem\n"
    assert _find(CirculationDetector(), schedule) == []


def test_account_rows_are_not_item_lines() -> None:
    """A date and an amount on a patron's row (an agency report) name no item: no list of titles."""
    text = ("p10004579   23610000104579    Whitfield, Marcus J  $47.25        10/14/2024        NEW\n"
            "p10770033   23610051203981    Reyes, Lucia M       $88.10        11/02/2024        NEW\n")
    assert [f for f in _find(CirculationDetector(), text) if f.reason.startswith("circulation-list")] == []


@pytest.mark.parametrize(
    "text",
    [
        "La biblioteca abre a las nueve y cierra a las seis.",
        "Las multas se eliminaron en 2022 para todos los usuarios.",
        "Наша библиотека открыта по субботам.",
    ],
)
def test_other_languages_without_patron_data(text: str) -> None:
    """Library prose in Spanish or Russian with no one's fines, loans or holds in it is no record language."""
    found = [f for d in (MoneyOwedDetector(), CirculationDetector(), HoldDetector(), PersonReferenceDetector())
             for f in _find(d, text) if f.score >= 0.5]
    assert found == []
