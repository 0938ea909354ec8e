"""BarcodeDetector: patron cards in every written form, item barcodes, card fragments, Sierra patron records."""

from __future__ import annotations

import pytest

from detectors.barcodes import BarcodeDetector, BarcodeLayout, BarcodeSettings
from detectors.findings import MASK, Category, Detector, Finding, Kind, TextPart

CARD = "23610003622817"  # NOTES.md §1 worked example: valid CCRLS patron card


def scan(text: str, settings: BarcodeSettings | None = None) -> list[Finding]:
    return list(BarcodeDetector(settings).detect(TextPart(path="1", text=text)))


def covered(text: str, findings: list[Finding]) -> list[str]:
    return [text[f.start : f.end] for f in findings]


def test_is_a_detector() -> None:
    """The detector satisfies the shared Detector protocol."""
    assert isinstance(BarcodeDetector(), Detector)


@pytest.mark.parametrize(
    ("text", "span"),
    [
        (f"Card {CARD} please", CARD),
        ("card 2 3610 00362281 7 thanks", "2 3610 00362281 7"),
        ("2361 0003 6228 17", "2361 0003 6228 17"),
        ("2361-0003-6228-17", "2361-0003-6228-17"),
        (f"scan A{CARD}B from label", f"A{CARD}B"),
        (f"ocr a{CARD}b", f"a{CARD}b"),
        (f"P BARCODE[pb]={CARD}<BR>", CARD),
        (f".USER_ID.   |a{CARD}", CARD),
        (f'"{CARD}"|"Doe, Jane"', CARD),
        (f"{CARD}\t{CARD[:-1]}0", CARD),  # table cells: only the valid one
        ("Card no. 2361 0003 6228 17.", "2361 0003 6228 17"),
        (f"Invoice 2002 {CARD}", CARD),  # an unrelated number before it stays out
        ("23612345678903", "23612345678903"),  # another valid 2361 card
        ("23600000000000", "23600000000000"),  # college ID card (prefix 236)
    ],
)
def test_patron_card_forms(text: str, span: str) -> None:
    """Valid patron cards are found in plain, spaced, hyphenated and Codabar forms, covering what was written."""
    findings = [f for f in scan(text) if f.kind is Kind.PATRON_BARCODE]
    assert covered(text, findings) == [span]
    (f,) = findings
    assert f.score == pytest.approx(0.95)
    assert f.categories == frozenset({Category.CARD_NUMBER})
    assert f.detector == "barcodes"
    assert "check-digit-valid" in f.reason and "prefix=236" in f.reason


def test_reason_names_the_prefix() -> None:
    """The supervisor reason names the matched prefix, longest first."""
    (f,) = scan(CARD)
    assert f.reason.startswith("patron-card check-digit-valid prefix=2361")


def test_masked_value_never_holds_the_number() -> None:
    """The masked value keeps only the first four and last three digits, as written."""
    (f,) = scan("card 2361-0003-6228-17")
    assert f.masked == f"2361-{MASK * 4}-{MASK * 3}8-17"
    assert CARD not in f.masked.replace("-", "")


def test_two_cards_separated_by_a_space_are_two_findings() -> None:
    """A list of cards on one line gives one finding per card, not one glued number."""
    text = f"{CARD} 23612345678903"
    assert covered(text, scan(text)) == [CARD, "23612345678903"]


@pytest.mark.parametrize(
    "text",
    [
        "23610003622818",  # failing check digit, no card words nearby
        f"1{CARD}",  # inside a longer digit run
        f"{CARD}5",
        f"{CARD}123",
        f"x{CARD}",  # glued to a word
        f"{CARD}abc",
        f"0.{CARD}",  # a decimal
        f"{CARD}.5",
        "2361000\n3622817",  # two numbers on two lines
        "2361000  3622817",  # two numbers across a wide gap
        "4111 1111 1111 1111",  # Luhn-valid payment card
        "4111111111111111",
        "5500000000000004",
        "ISBN 978-0-06-112008-4",  # ISBN-13
        "9780061120084",
        "Invoice 20021003-0001 total $1,234.56",
        "Call 503-588-6130 or 503-555-0142",
        "29990908250671",  # another library's layout, not configured
        "tracking 1Z999AA10123456784",
    ],
)
def test_not_a_patron_card(text: str) -> None:
    """Numbers that are not CCRLS patron cards produce no patron finding."""
    assert [f for f in scan(text) if f.kind in (Kind.PATRON_BARCODE, Kind.PARTIAL_BARCODE)] == []


@pytest.mark.parametrize("text", ["item 30234000517861 returned", "Item barcode: 3 0234 00051786 1"])
def test_item_barcode_is_not_patron_data(text: str) -> None:
    """A valid type-3 item barcode is reported as ITEM_BARCODE with no patron categories."""
    (f,) = scan(text)
    assert f.kind is Kind.ITEM_BARCODE
    assert f.score == pytest.approx(0.9)
    assert f.categories == frozenset()


def test_invalid_item_barcode_is_ignored() -> None:
    """An item-shaped number with a bad check digit is nothing at all."""
    assert scan("item 30234000517862") == []


@pytest.mark.parametrize(
    "text",
    [
        "card: 23610003622818",
        "Library card 2361 0003 6228 18 doesn't scan",
        "23610003622818 is the barcode on her card",
    ],
)
def test_near_miss_next_to_card_words(text: str) -> None:
    """A patron-shaped number with a wrong check digit next to card words is a weak fragment finding."""
    (f,) = scan(text)
    assert f.kind is Kind.PARTIAL_BARCODE
    assert f.score == pytest.approx(0.4)
    assert f.reason == "card-word-near-invalid-barcode"


@pytest.mark.parametrize(
    "text",
    [
        "last 8 digits 00362281",
        "Last 8: 00362281",
        "card # 00362281",
        "card no 00362281 please check",
        "patron # 00362281",
        "P BARCODE ends 00362281",
        "00362281 is on her library card",
    ],
)
def test_partial_card_next_to_card_words(text: str) -> None:
    """Eight digits next to card words are a partial card number."""
    (f,) = scan(text)
    assert f.kind is Kind.PARTIAL_BARCODE
    assert f.score == pytest.approx(0.6)
    assert f.categories == frozenset({Category.CARD_NUMBER})
    assert text[f.start : f.end] == "00362281"


@pytest.mark.parametrize(
    "text",
    [
        "00362281",  # no card word
        "PO 00362281 shipped",
        "card expires 20250101",  # a date
        "card expires 01312025",
        "card 123-4567",  # a phone, 7 digits
        "card 503-555-0142",
        "cardboard 00362281",  # not the word "card"
        "barcode 1234567",  # seven digits
        "barcode 123456789",  # nine digits
    ],
)
def test_not_a_partial_card(text: str) -> None:
    """Eight-digit numbers without card words, dates and phone numbers are not card fragments."""
    assert [f for f in scan(text) if f.kind is Kind.PARTIAL_BARCODE] == []


def test_any_card_word_in_the_window_counts() -> None:
    """Known limit: an order number next to "cards" is read as a card fragment (policy needs more evidence)."""
    (f,) = scan("Order 12345678 for 3 gift cards")
    assert f.kind is Kind.PARTIAL_BARCODE


def test_card_word_window_is_bounded() -> None:
    """A card word farther than the window does not make an 8-digit number a fragment."""
    text = "card" + " filler" * 10 + " 00362281"
    assert scan(text) == []


@pytest.mark.parametrize(
    ("text", "score", "reason"),
    [
        ("RECORD #(PATRON) .p33846327", 0.9, "sierra-patron-record check-valid"),
        ("p33846327", 0.9, "sierra-patron-record check-valid"),
        ("P1125421X", 0.9, "sierra-patron-record check-valid"),
        (".p1125421x", 0.9, "sierra-patron-record check-valid"),
        (".p3384632a", 0.85, "sierra-patron-record wildcard-check"),
        (".p3384632", 0.6, "sierra-patron-record no-check"),
        (".p33846328", 0.5, "sierra-patron-record check-invalid"),
    ],
)
def test_sierra_patron_record_numbers(text: str, score: float, reason: str) -> None:
    """Sierra patron record numbers are found with a score that reflects the check character."""
    (f,) = scan(text)
    assert f.kind is Kind.PATRON_RECORD_NUMBER
    assert f.score == pytest.approx(score)
    assert f.reason == reason
    assert f.categories == frozenset({Category.RECORD_NUMBER})
    assert text[f.start : f.end].lower().lstrip(".").startswith("p")


@pytest.mark.parametrize(
    "text",
    [
        ".b33846327",  # bib record
        ".i33846327",  # item record
        "p33846328",  # undotted with a wrong check
        "p3384632",  # undotted without a check
        "xp33846327",
        "file.p33846327",
        "p338463271",
        "v1.p33846327",
    ],
)
def test_not_a_patron_record(text: str) -> None:
    """Bib and item records, and p-numbers inside other tokens, are not patron record numbers."""
    assert [f for f in scan(text) if f.kind is Kind.PATRON_RECORD_NUMBER] == []


def test_record_numbers_can_be_switched_off() -> None:
    """With record_numbers off, Sierra numbers are not reported."""
    assert scan(".p33846327", BarcodeSettings(record_numbers=False)) == []


def test_layout_without_check_digit_scores_lower_unless_card_words() -> None:
    """A layout without a check digit gives 0.7, or 0.9 next to card words."""
    settings = BarcodeSettings(
        layouts=(BarcodeLayout(name="other", length=9, prefixes=("21",), check_digit=False),)
    )
    (plain,) = scan("ref 211234567", settings)
    (near,) = scan("card 211234567", settings)
    assert (plain.kind, plain.score) == (Kind.PATRON_BARCODE, pytest.approx(0.7))
    assert (near.kind, near.score) == (Kind.PATRON_BARCODE, pytest.approx(0.9))


def test_other_library_layout() -> None:
    """A configured layout of another length and prefix replaces the CCRLS ones."""
    settings = BarcodeSettings(layouts=(BarcodeLayout(name="symphony", length=14, prefixes=("2999",)),))
    (f,) = scan(".USER_ID.   |a29990000123454", settings)
    assert (f.kind, f.reason) == (
        Kind.PATRON_BARCODE,
        "patron-card check-digit-valid prefix=2999 layout=symphony",
    )
    closed = BarcodeSettings(layouts=settings.layouts, other_libraries=False)
    assert scan(CARD, closed) == []
    (other,) = scan(CARD, settings)  # still another library's card, but weak without card words
    assert (other.kind, other.score) == (Kind.PATRON_BARCODE, pytest.approx(0.55))


OTHER = "21234000123455"  # type 2, institution 1234, valid check digit: no configured prefix


@pytest.mark.parametrize(
    ("text", "score"),
    [
        (f"library card {OTHER} from Keizer", 0.9),
        (f"su tarjeta {OTHER}", 0.9),
        (f"barcode: {OTHER}", 0.9),
        (f"ref {OTHER}", 0.55),
        (f'"Doe, Jane",{OTHER},503-555-0187', 0.55),
    ],
)
def test_other_libraries_cards(text: str, score: float) -> None:
    """Another institution's 14-digit type-2 card with a valid check digit is reported: strong next to card words."""
    (f,) = [f for f in scan(text) if f.kind is Kind.PATRON_BARCODE]
    assert text[f.start : f.end] == OTHER
    assert f.score == pytest.approx(score)
    assert "other-library" in f.reason and f.categories == frozenset({Category.CARD_NUMBER})


@pytest.mark.parametrize(
    "text",
    [
        "library card 21234000123456",  # wrong check digit: not a card of anyone's
        "card 31234000123454",  # type 3: an item
        "message id 20240919134501 card",  # a YYYYMMDDhhmmss time stamp
        "card 212340001234551",  # 15 digits
    ],
)
def test_other_libraries_cards_need_the_layout(text: str) -> None:
    """Only the 14-digit type-2 layout with a valid check digit counts as another library's card."""
    assert [f for f in scan(text) if f.kind is Kind.PATRON_BARCODE and "other-library" in f.reason] == []


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ('"Doe, Jane",23610003622817,503-555-0187,Overdue', "23610003622817"),
        ("Doe,Jane,9/19/2024,23610003622817", "23610003622817"),
        ("Doe;Jane;23610003622817;503-555-0187", "23610003622817"),
        ("Doe|Jane|2024-09-19|23610003622817", "23610003622817"),
    ],
)
def test_cards_in_unquoted_delimited_rows(text: str, span: str) -> None:
    """A card joined by a comma (or ; |) to a neighbouring digit field is still found: CSV is written this way."""
    assert covered(text, [f for f in scan(text) if f.kind is Kind.PATRON_BARCODE]) == [span]


def test_thousands_separators_are_not_fields() -> None:
    """A digit group followed by ',ddd' is the head of a number, not a CSV field."""
    assert scan("2 361,500 dollars") == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "x", "length": 2},
        {"name": "x", "type_digit": "22"},
        {"name": "x", "prefixes": ("23a",)},
        {"name": "x", "kind": "staff"},
        {"name": "x", "type_digit": "3", "prefixes": ("2361",)},
    ],
)
def test_bad_layout_is_refused(kwargs: dict[str, object]) -> None:
    """Contradictory layouts are refused when built, naming the layout."""
    with pytest.raises(ValueError, match="'x'"):
        BarcodeLayout(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for your order! Invoice #INV-2002-10-0451, total $1,249.95, PO 4500012345.",
        "Baker & Taylor, 2550 West Tyvola Rd, Charlotte NC 28217. Account 12345678901.",
        "Author event Thursday 7pm; 120 people attended last year.",
        "ISBN 978-0-06-112008-4 (hardcover), 978-0-06-093546-7 (paperback)",
        "Circulation stats: 23,610 checkouts; 3,622 new cards issued in 2002.",
        "Message-ID: <20021003123456.GA12345@example.com>",
        "Date: Thu, 03 Oct 2002 12:34:56 -0700",
    ],
)
def test_ordinary_library_mail(text: str) -> None:
    """Everyday library business mail produces no patron barcode findings."""
    assert [f for f in scan(text) if f.kind is not Kind.ITEM_BARCODE] == []


def test_long_digit_text_is_linear() -> None:
    """A megabyte of spaced digits is scanned quickly (no backtracking blow-up)."""
    text = "1 " * 100_000 + "x"
    assert scan(text) == []


@pytest.mark.parametrize("value", ["23610003622817", "503-555-1234", "Garcia, Maria", "1234 Center St NE, Salem OR 97301",
                                   "A2361000362281B", "p1234567", "12 34", "$12.50", "_x_y", "O'Brien-Smith Jr.", ""])
def test_the_fast_ascii_mask_is_the_general_one(value: str) -> None:
    """Masking ASCII text through C-level loops gives what the general masking gives."""
    from detectors.findings import _mask_any, mask

    assert mask(value) == _mask_any(value)
