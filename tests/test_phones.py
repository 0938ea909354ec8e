"""PhoneDetector: valid numbers in the usual written forms; the library's own numbers and other digit runs are not phones."""

from __future__ import annotations

import pytest

from detectors.findings import Category, Detector, Finding, Kind, TextPart
from detectors.phones import PhoneDetector, PhoneSettings

LIBRARY = PhoneSettings(exceptions=("503-588-6130", "+1 (503) 588-6060"))


def scan(text: str, settings: PhoneSettings = LIBRARY, tabular: bool = False) -> list[Finding]:
    return list(PhoneDetector(settings).detect(TextPart(path="1", text=text, tabular=tabular)))


def spans(text: str, **kwargs: object) -> list[str]:
    return [text[f.start : f.end] for f in scan(text, **kwargs)]  # type: ignore[arg-type]


def test_is_a_detector() -> None:
    """The detector satisfies the shared Detector protocol."""
    assert isinstance(PhoneDetector(), Detector)


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("Jane Doe 503-555-0142", "503-555-0142"),
        ("TELEPHONE  (503) 555-0142", "(503) 555-0142"),
        ("call 503.555.0142 after 5", "503.555.0142"),
        ("cell: 503 555 0142", "503 555 0142"),
        ("1-503-555-0142", "1-503-555-0142"),
        ("+1 503 555 0142", "+1 503 555 0142"),
        ("+15035550142", "+15035550142"),
        ("Phone: 5035550142", "5035550142"),
        ("Tel:503-555-0142", "503-555-0142"),
        ("503-555-0142 x12", "503-555-0142 x12"),
        ("503-555-0142 ext. 7", "503-555-0142 ext. 7"),
        (".PHONE.   |a503-555-0142", "503-555-0142"),
        ('"phones":[{"number":"503-555-0142","type":"t"}]', "503-555-0142"),
        ("1-800-555-1212", "1-800-555-1212"),
        ("+44 20 7946 0958", "+44 20 7946 0958"),
        ("Mobile: +353 87 224 6834", "+353 87 224 6834"),
    ],
)
def test_phone_forms(text: str, span: str) -> None:
    """Valid numbers are found in the forms staff and records write them."""
    findings = scan(text)
    assert [text[f.start : f.end] for f in findings] == [span]
    (f,) = findings
    assert f.kind is Kind.PHONE
    assert f.score == pytest.approx(0.8)
    assert f.categories == frozenset({Category.PHONE})
    assert f.detector == "phones"
    assert f.reason.startswith("phone valid country=+")
    assert "555" not in f.masked


def test_two_numbers_on_one_line() -> None:
    """Numbers listed side by side are separate findings."""
    assert spans("503-555-0142 503-555-0143, (971) 555-0100") == [
        "503-555-0142",
        "503-555-0143",
        "(971) 555-0100",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "call 503-588-6130 for renewals",  # the library's own number (exception)
        "Salem Public Library | (503) 588-6130",
        "CCRLS office 503.588.6060",
        "+1 503 588 6130",
    ],
)
def test_library_numbers_are_exceptions(text: str) -> None:
    """The library's own numbers, in any format, are skipped."""
    assert scan(text) == []


def test_exceptions_are_checked_at_start_up() -> None:
    """A malformed exception is a configuration error naming the value."""
    with pytest.raises(ValueError, match="not-a-number"):
        PhoneDetector(PhoneSettings(exceptions=("not-a-number",)))


def test_unknown_region_is_refused() -> None:
    """An unknown region is a configuration error."""
    with pytest.raises(ValueError, match="region"):
        PhoneDetector(PhoneSettings(region="XX"))


@pytest.mark.parametrize(
    "text",
    [
        "ISBN 978-0-06-112008-4",
        "ISBN 0-06-112008-1",
        "9780061120084",
        "card 23610003622817",
        "2361 0003 6228 17",
        "item 30234000517861",
        "Meeting on 2002-10-03 at 14:30:00",
        "10/03/2002 2:30 PM",
        "Total: $5,035,550,142.00",
        "Salem, OR 97301-1234",
        "OR 97301-1234 5035",
        "IP 216.136.171.252 and 10.0.0.1",
        "ESMTP id 8386540858",  # bare digits without a phone word
        "Unix time 1033654321",
        "555-0142",  # seven digits: no area code to validate
        "503-123-4567",  # exchange 123 is not assignable
        "123-456-7890",
        "5035550142@rcfax.com",  # a fax gateway address is the email/fax detectors' business
        "version 503.555.0142.1",
        "Invoice 503-555-01425",
        "Order #503-555-0142-7",
        "",
    ],
)
def test_not_a_phone(text: str) -> None:
    """ISBNs, barcodes, dates, times, prices, ZIP+4, IP addresses and ids are not phones."""
    assert scan(text) == []


def test_bare_digits_count_in_table_cells() -> None:
    """In a table part, a bare 10-digit cell is a phone."""
    assert spans("Doe, Jane\t5035550142\tjane@example.com", tabular=True) == ["5035550142"]


def test_vendor_signature_is_still_a_phone() -> None:
    """A vendor's signature number is reported; deciding it is harmless is policy's job."""
    text = "--\nJohn Smith, Account Manager\nBaker & Taylor\n(704) 555-0100\n"
    assert spans(text) == ["(704) 555-0100"]


def test_other_region() -> None:
    """Outside North America only "+" international numbers are found (known limit: national shapes are NANP)."""
    gb = PhoneSettings(region="GB")
    assert spans("ring 020 7946 0958", settings=gb) == []
    assert spans("ring +44 20 7946 0958", settings=gb) == ["+44 20 7946 0958"]


def test_many_numbers_are_fast_enough() -> None:
    """Ten thousand distinct numbers in one part are all found (no per-number blow-up)."""
    text = "\n".join(f"503-555-{i % 10000:04d}" for i in range(10_000))
    assert len(scan(text)) == 10_000


def test_adversarial_plus_digits_are_linear() -> None:
    """Long "+digit" runs do not trigger catastrophic backtracking."""
    assert scan("+1111111111111111111111111111 " * 5_000) == []


@pytest.mark.parametrize(
    ("exception", "inside", "outside"),
    [
        ("503-588-61xx", "503-588-6142", "503-588-6242"),
        ("+1 503 588 61**", "(503) 588-6100", "503-589-6100"),
        ("503-588-6100 to 503-588-6199", "503.588.6199", "503-588-6200"),
        ("503-588-6100..503-588-6199", "503-588-6150", "503-588-6099"),
    ],
)
def test_blocks_of_direct_lines_are_exceptions(exception: str, inside: str, outside: str) -> None:
    """A block of the library's direct lines (wildcards or a range) is excepted, a number beside it is not."""
    settings = PhoneSettings(exceptions=(exception,))
    assert spans(f"call {inside} today", settings=settings) == []
    assert spans(f"call {outside} today", settings=settings) == [outside]


@pytest.mark.parametrize("entry", ["503-5x8-6100", "503-588-6199 to 503-588-6100", "cats", "503 to"])
def test_bad_exception_blocks_are_refused(entry: str) -> None:
    """A wildcard inside the number, a reversed range or a non-number is a start-up error naming the entry."""
    with pytest.raises(ValueError, match="phone"):
        PhoneDetector(PhoneSettings(exceptions=(entry,)))


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("23610003622817,503-555-0187,Overdue", "503-555-0187"),
        ("Doe,Jane,503-555-0187,9/19/2024", "503-555-0187"),
    ],
)
def test_phones_in_unquoted_csv(text: str, span: str) -> None:
    """A phone joined by commas to neighbouring digit fields is found (unquoted CSV)."""
    assert spans(text) == [span]
