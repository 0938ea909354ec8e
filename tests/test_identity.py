"""Driver licence / state ID numbers and birth dates: values count only next to their keywords."""

from __future__ import annotations

import pytest

from detectors.findings import Category, Detector, Finding, Kind, TextPart
from detectors.identity import BirthDateDetector, DriversLicenseDetector, IdentitySettings


def licences(text: str, settings: IdentitySettings | None = None) -> list[Finding]:
    return list(DriversLicenseDetector(settings).detect(TextPart(path="1", text=text)))


def births(text: str, settings: IdentitySettings | None = None) -> list[Finding]:
    return list(BirthDateDetector(settings).detect(TextPart(path="1", text=text)))


def test_are_detectors() -> None:
    """Both detectors satisfy the shared Detector protocol."""
    assert isinstance(DriversLicenseDetector(), Detector)
    assert isinstance(BirthDateDetector(), Detector)


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("DL 1234567", "1234567"),
        ("DL#: A1234567", "A1234567"),
        ("DL:1234567", "1234567"),
        ("D.L. 5551234", "5551234"),
        ("Driver's License Number: 7654321", "7654321"),
        ("Driver’s licence 7654321", "7654321"),
        ("drivers license 123456789", "123456789"),
        ("driver lic 1234567", "1234567"),
        ("Oregon driver license no. 1234567", "1234567"),
        ("ODL 9876543", "9876543"),
        ("lic# 12345", "12345"),
        ("License number: 1234567", "1234567"),
        ("ID card 1234567", "1234567"),
        ("State ID: B123456", "B123456"),
        ("Oregon ID 1234567", "1234567"),
        ("DL # OR 1234567", "1234567"),
        ("Guardian's DL: 7654321 (verified)", "7654321"),
        ("DL 1234567 may be renewed", "1234567"),
    ],
)
def test_licence_numbers_after_keywords(text: str, span: str) -> None:
    """A number shortly after a licence keyword is a driver's licence / state ID number."""
    findings = licences(text)
    assert [text[f.start : f.end] for f in findings] == [span]
    (f,) = findings
    assert (f.kind, f.score) == (Kind.DRIVERS_LICENSE, pytest.approx(0.85))
    assert f.categories == frozenset({Category.DRIVERS_LICENSE})
    assert f.detector == "drivers_license"


@pytest.mark.parametrize(
    "text",
    [
        "1234567",  # no keyword
        "Invoice 1234567",
        "license: GPL-2",
        "Released under license 3.0",
        "License number 3.0.1",
        "License: MIT, version 2.1",
        "GNU General Public License version 2",
        "dl.sourceforge.net/project 1234567",  # lower-case "dl" is not the keyword
        "download 1234567",
        "Driver's license renewed 2019",  # a year alone
        "ID card expires in 30 days",
        "DL 3 Oct 2002",
        "DL exp 01/02/2025",
        "DL 503-555-0142",
        "id g93DL2f25099; Thu, 3 Oct 2002",  # "DL" inside a token
        "(Debian)) id 17x1p5-0002DL-00; Thu, 03 Oct 2002",
        "DL" + " " * 40 + "1234567",  # too far
        "DLL 1234567",
        "driver update 1234567",
    ],
)
def test_not_a_licence(text: str) -> None:
    """Software licences, versions, years, dates, phones and far-away numbers are not licence numbers."""
    assert licences(text) == []


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("DOB 01/02/1990", "01/02/1990"),
        ("D.O.B.: 1-2-90", "1-2-90"),
        ("dob: 1/2/90", "1/2/90"),
        ("born 1990-01-02", "1990-01-02"),
        ("Birth date: January 2, 1990", "January 2, 1990"),
        ("birthdate 2 Jan 1990", "2 Jan 1990"),
        ("date of birth 2nd Jan. 1990", "2nd Jan. 1990"),
        ("BIRTH DATE  01-02-1990", "01-02-1990"),
        (".USER_BIRTH_DATE.   |a19900102", "19900102"),
        ('"birthDate": "1990-01-02"', "1990-01-02"),
        ("01/02/1990 (DOB)", "01/02/1990"),
        ("Jane Doe, DOB 31.12.1985", "31.12.1985"),
    ],
)
def test_birth_dates_near_keywords(text: str, span: str) -> None:
    """A date within a few characters of a birth-date keyword is a birth date."""
    findings = births(text)
    assert [text[f.start : f.end] for f in findings] == [span]
    (f,) = findings
    assert (f.kind, f.score) == (Kind.BIRTH_DATE, pytest.approx(0.85))
    assert f.categories == frozenset({Category.BIRTH_DATE})
    assert f.detector == "birth_dates"


@pytest.mark.parametrize(
    "text",
    [
        "Board meeting 01/02/2003 at 7pm",  # no keyword
        "Due date: 10/15/2002",
        "EXP DATE  12/31/2003",
        "born in 1975",  # a year only
        "DOB 13/13/1990",  # not a date
        "DOB 02/30",  # no year
        "Adobe Acrobat 5.0, 1/2/90",  # "dob" inside a word
        "born" + " " * 40 + "01/02/1990",  # too far
        "Date: Thu, 03 Oct 2002 12:34:56 -0700",
        "stubborn 01/02/1990",
        "DOB 1/2/1990/5",
    ],
)
def test_not_a_birth_date(text: str) -> None:
    """Meeting, due and expiry dates, years alone and dates far from a keyword are not birth dates."""
    assert births(text) == []


def test_each_date_is_reported_once() -> None:
    """A date between two keywords is one finding."""
    text = "DOB 01/02/1990 (date of birth)"
    assert [text[f.start : f.end] for f in births(text)] == ["01/02/1990"]


def test_custom_keywords() -> None:
    """Configured keywords replace the defaults; an all-capitals keyword is case-sensitive."""
    settings = IdentitySettings(dl_keywords=("permis", "NDL"), dob_keywords=("geboren",))
    assert [f.kind for f in licences("Permis 1234567", settings)] == [Kind.DRIVERS_LICENSE]
    assert licences("ndl 1234567", settings) == []
    assert licences("DL 1234567", settings) == []
    assert [f.kind for f in births("geboren 01.02.1990", settings)] == [Kind.BIRTH_DATE]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"dl_min_digits": 0},
        {"dl_min_digits": 9, "dl_max_digits": 5},
        {"dob_window": -1},
        {"dl_keywords": ("  ",)},
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object]) -> None:
    """Contradictory identity settings are refused."""
    with pytest.raises(ValueError):
        IdentitySettings(**kwargs)  # type: ignore[arg-type]


def test_offsets_survive_case_folding_that_changes_length() -> None:
    """Text whose lower-case form is longer ("İ") still gives the right offsets."""
    text = "İstanbul office. DOB 01/02/1990"
    (f,) = births(text)
    assert text[f.start : f.end] == "01/02/1990"


def test_many_keywords_are_fast_enough() -> None:
    """A part full of keywords without values is scanned quickly."""
    text = "DL license number DOB born date of birth " * 5_000
    assert licences(text) == [] and births(text) == []
