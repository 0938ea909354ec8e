"""EmailDetector: addresses in text, the library's own domains skipped, role and list addresses scored low."""

from __future__ import annotations

import pytest

from detectors.emails import EmailDetector, EmailSettings, is_role_address
from detectors.findings import MASK, Category, Detector, Finding, Kind, TextPart

CCRLS = EmailSettings(own_domains=("ccrls.org", "CityOfSalem.net", "chemeketa.edu"))


def scan(text: str, settings: EmailSettings = CCRLS) -> list[Finding]:
    return list(EmailDetector(settings).detect(TextPart(path="1", text=text)))


def test_is_a_detector() -> None:
    """The detector satisfies the shared Detector protocol."""
    assert isinstance(EmailDetector(), Detector)


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("write to jane.doe@gmail.com today", "jane.doe@gmail.com"),
        ("<JANE@Example.COM>", "JANE@Example.COM"),
        ("mailto:jd@yahoo.com.", "jd@yahoo.com"),
        ("EMAIL ADDR  jane_doe99@comcast.net", "jane_doe99@comcast.net"),
        ("user+library@gmail.com,", "user+library@gmail.com"),
        ("href='mailto:jane@example.org'", "jane@example.org"),
        ("jane@mail.example.co.uk)", "jane@mail.example.co.uk"),
        ('"emails":["jane@example.org"]', "jane@example.org"),
        ("EMAIL ADDR[pz]=jane@example.org<BR>", "jane@example.org"),
        ("x@notccrls.org", "x@notccrls.org"),  # not a subdomain of ccrls.org
        ("5035551234@efaxsend.com", "5035551234@efaxsend.com"),
    ],
)
def test_personal_addresses(text: str, span: str) -> None:
    """Addresses outside the library's domains are found with the default score."""
    findings = scan(text)
    assert [text[f.start : f.end] for f in findings] == [span]
    (f,) = findings
    assert (f.kind, f.score) == (Kind.EMAIL, pytest.approx(0.7))
    # Addresses at mail providers for private people say so: they are a person's, not an office's.
    free = span.lower().rsplit("@", 1)[1].split(".")[0] in ("gmail", "yahoo", "comcast")
    assert f.reason == ("email free-mail" if free else "email")
    assert f.categories == frozenset({Category.EMAIL})
    assert f.detector == "emails"


def test_masked_value_hides_the_address() -> None:
    """The masked value keeps the first letter and the top-level domain only."""
    (f,) = scan("jane.doe@gmail.com")
    assert f.masked == f"j{MASK * 3}@{MASK * 3}.com"


@pytest.mark.parametrize(
    "text",
    [
        "staff@ccrls.org",
        "Reference Desk <ref@Library.CityOfSalem.NET>",
        "library@chemeketa.edu",
        "STAFF@CCRLS.ORG",
    ],
)
def test_own_domains_and_subdomains_are_skipped(text: str) -> None:
    """The library's own domains and their subdomains are skipped, in any case."""
    assert scan(text) == []


@pytest.mark.parametrize(
    "address",
    [
        "noreply@vendor.com",
        "no-reply@overdrive.com",
        "info@bakertaylor.com",
        "support@example.com",
        "webmaster@example.com",
        "postmaster@example.com",
        "ilug-request@linux.ie",
        "exmh-workers-admin@redhat.com",
        "owner-list@example.com",
        "Info+promo@example.com",
    ],
)
def test_role_addresses_score_low(address: str) -> None:
    """Role and list addresses are reported with a low score so policy can ignore them."""
    (f,) = scan(f"from {address}")
    assert (f.score, f.reason) == (pytest.approx(0.3), "email role-address")


@pytest.mark.parametrize(
    ("local", "role"),
    [
        ("info", True),
        ("INFO", True),
        ("list-request", True),
        ("jane", False),
        ("information.desk", False),
        ("adminjane", False),
    ],
)
def test_is_role_address(local: str, role: bool) -> None:
    """Role detection is by whole local part or list suffix, case-insensitive."""
    assert is_role_address(local) is role


@pytest.mark.parametrize(
    "text",
    [
        "no address here",
        "@mention on twitter",
        "user@localhost",
        "a@b.c",
        "price 3@$5",
        "foo@bar",
        "jane@",
        "@example.com",
        "x" * 70 + "@example.com",  # local part longer than 64 characters
        "jane.@example.com",  # local part may not end with a dot
        "ISBN 978-0-06-112008-4",
    ],
)
def test_not_an_address(text: str) -> None:
    """Text without a well-formed address produces nothing."""
    assert scan(text) == []


def test_leading_dots_are_not_part_of_the_address() -> None:
    """A sentence dot before the address is not included."""
    text = "see ...jane@example.org"
    (f,) = scan(text)
    assert text[f.start : f.end] == "jane@example.org"


def test_many_at_signs_are_fast_enough() -> None:
    """A part full of "@" signs without addresses is scanned quickly."""
    assert scan("@@ a@ @b " * 50_000) == []
