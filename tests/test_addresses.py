"""AddressDetector: street lines, PO boxes, rural routes, city/state/ZIP lines and Millennium's "$"-joined form."""

from __future__ import annotations

import pytest

from detectors.addresses import AddressDetector, AddressSettings
from detectors.findings import Category, Detector, Finding, Kind, TextPart


def scan(text: str, settings: AddressSettings | None = None) -> list[Finding]:
    return list(AddressDetector(settings).detect(TextPart(path="1", text=text)))


def found(text: str) -> list[tuple[Kind, str]]:
    return [(f.kind, text[f.start : f.end]) for f in scan(text)]


def test_is_a_detector() -> None:
    """The detector satisfies the shared Detector protocol."""
    assert isinstance(AddressDetector(), Detector)


@pytest.mark.parametrize(
    ("text", "span", "reason"),
    [
        ("123 Example St NE Apt 4", "123 Example St NE Apt 4", "street-address"),
        ("at 4400 Center St. NE, Salem", "4400 Center St. NE", "street-address"),
        ("585 Liberty St. S.E. Suite 100", "585 Liberty St. S.E. Suite 100", "street-address"),
        ("4400 12th St SE #12", "4400 12th St SE #12", "street-address"),
        ("1600 Pennsylvania Avenue NW", "1600 Pennsylvania Avenue NW", "street-address"),
        ("12 Martin Luther King Jr Blvd", "12 Martin Luther King Jr Blvd", "street-address"),
        ("ADDRESS  123 EXAMPLE ST NE APT 4", "123 EXAMPLE ST NE APT 4", "street-address"),
        (".STREET.   |a123 Example Dr", "123 Example Dr", "street-address"),
        ("PO Box 123", "PO Box 123", "po-box"),
        ("P.O. Box 42", "P.O. Box 42", "po-box"),
        ("po box 7", "po box 7", "po-box"),
        ("Rural Route 2", "Rural Route 2", "rural-route"),
        ("RR 2 Box 15", "RR 2 Box 15", "rural-route"),
        ("General Delivery", "General Delivery", "general-delivery"),
    ],
)
def test_street_lines(text: str, span: str, reason: str) -> None:
    """Street lines with a house number and a real suffix, PO boxes and rural routes are street addresses."""
    findings = scan(text)
    assert [text[f.start : f.end] for f in findings] == [span]
    (f,) = findings
    assert (f.kind, f.score, f.reason) == (Kind.STREET_ADDRESS, pytest.approx(0.7), reason)
    assert f.categories == frozenset({Category.ADDRESS})
    assert f.detector == "addresses"


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("Salem, OR 97301", "Salem, OR 97301"),
        ("SALEM OR 97301-1234", "SALEM OR 97301-1234"),
        ("Portland, Oregon 97201", "Portland, Oregon 97201"),
        ("Lake Oswego, OR 97034", "Lake Oswego, OR 97034"),
        ("West Linn OREGON 97068", "West Linn OREGON 97068"),
        (".CITY/STATE.   |aSalem, OR", None),
    ],
)
def test_city_state_zip(text: str, span: str | None) -> None:
    """City, state and ZIP lines are found; a state without a ZIP is not enough."""
    findings = scan(text)
    if span is None:
        assert findings == []
        return
    (f,) = findings
    assert (f.kind, text[f.start : f.end], f.score) == (Kind.CITY_STATE_ZIP, span, pytest.approx(0.5))


def test_address_block_gives_one_finding_per_line() -> None:
    """A two-line address block gives a street finding and a city finding."""
    text = "Jane Doe\n585 Liberty St SE\nSalem, OR 97301\n"
    assert found(text) == [
        (Kind.STREET_ADDRESS, "585 Liberty St SE"),
        (Kind.CITY_STATE_ZIP, "Salem, OR 97301"),
    ]


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("123 EXAMPLE ST NE APT 4$SALEM OR 97301", "123 EXAMPLE ST NE APT 4$SALEM OR 97301"),
        ("ADDRESS      123 EXAMPLE ST NE APT 4$SALEM OR 97301", "123 EXAMPLE ST NE APT 4$SALEM OR 97301"),
        ("PO BOX 12$SALEM OR 97301", "PO BOX 12$SALEM OR 97301"),
        ("123 MAIN ST$APT 4$SALEM OR 97301", "123 MAIN ST$APT 4$SALEM OR 97301"),
        ("123 OAK HOLLOW$SALEM OR 97301-1234", "123 OAK HOLLOW$SALEM OR 97301-1234"),  # no suffix needed here
        (
            '"P BARCODE"|"ADDRESS"\n"23610003622817"|"123 EXAMPLE ST$SALEM OR 97301"',
            "123 EXAMPLE ST$SALEM OR 97301",
        ),
        ("ADDRESS[pa]=123 EXAMPLE ST$SALEM OR 97301<BR>", "123 EXAMPLE ST$SALEM OR 97301"),
    ],
)
def test_millennium_address_is_one_finding(text: str, span: str) -> None:
    """Millennium's "$"-joined address is one STREET_ADDRESS finding covering every line."""
    findings = scan(text)
    assert [(f.kind, f.reason, text[f.start : f.end]) for f in findings] == [
        (Kind.STREET_ADDRESS, "millennium-address", span)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "2 hours ago",
        "100 people attended",
        "100 people attended the Court hearing",
        "Windows 2000 Server",
        "in 2002 Main",
        "I have 3 Dr appointments",
        "Version 2.0 St",
        "Room 12 Building B",
        "box 12345 shipped",
        "(MOT-pobox 2.0) with ESMTP",
        "Call me or 97301",
        "item 97301 in stock",
        "Invoice 12345, total $97,301.00",
        "Meeting in Room 204 at 10:30 on 10/03/2002",
        "ISBN 978-0-06-112008-4",
        "Top 10 Ways to Improve Your Site",
        "3 Bus Stop",
        "$5 Street Fair",
        "RR 2",  # "RR" needs a box number
        "Call at 7 AM CT or 9 PM ET",
    ],
)
def test_not_an_address(text: str) -> None:
    """Counts, versions, years, rooms and prices near capitalised words are not addresses."""
    assert scan(text) == []


def test_known_limit_title_case_with_suffix() -> None:
    """Known limit: a number before capitalised words ending in a street suffix reads as an address."""
    assert found("the 3 Musketeers Way") == [(Kind.STREET_ADDRESS, "3 Musketeers Way")]


def test_settings_switch_shapes_off() -> None:
    """Street lines and city lines can each be switched off."""
    text = "585 Liberty St SE\nSalem, OR 97301"
    assert [f.kind for f in scan(text, AddressSettings(streets=False))] == [Kind.CITY_STATE_ZIP]
    assert [f.kind for f in scan(text, AddressSettings(city_state_zip=False))] == [Kind.STREET_ADDRESS]


def test_street_words_are_bounded() -> None:
    """More street-name words than the limit between number and suffix is not an address."""
    text = "12 One Two Three Four Five Six Street"
    assert scan(text) == []
    assert scan(text, AddressSettings(max_street_words=6)) != []


def test_bad_settings_are_refused() -> None:
    """An out-of-range word limit is refused."""
    with pytest.raises(ValueError):
        AddressSettings(max_street_words=0)


def test_vendor_signature_address_is_still_an_address() -> None:
    """A vendor's address in a signature is reported; deciding it is harmless is policy's job."""
    text = "Baker & Taylor\n2550 West Tyvola Rd\nCharlotte, NC 28217"
    assert [f.kind for f in scan(text)] == [Kind.STREET_ADDRESS, Kind.CITY_STATE_ZIP]


def test_digit_heavy_text_is_fast_enough() -> None:
    """A long part of numbers and capitalised words is scanned without blow-up."""
    text = "12 Aa Bb Cc Dd Ee Ff 97301 " * 20_000
    assert scan(text) == []
