"""The library's own identity — locations, staff, direct lines, its ILS notice system — is never patron data."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from proxy.config import load, parse
from proxy.errors import ConfigError
from proxy.scanning.policy import PATRON_IS_RECIPIENT, TRUSTED_NOTICE
from proxy.scanning.scan import Scanner, is_notice_system

BASE = """
library:
  name: Test Library
  domains: [ccrls.org]
{extra}
"""

# A staff member's own details bound to patron words: held unless the library's identity says whose they are.
STAFF_MAIL = (
    "From: circ@ccrls.org\nTo: vendor@example.com\nSubject: patron notices\n\n"
    "Hi,\n\nWe want the hold notices to list the patron's library card number; can your system do that?\n"
    "Call Tomas Reyes at 503-555-0187 or write to treyes.library@gmail.com; he works at 1420 Oak Hollow Dr NE, "
    "Keizer, OR 97303 and handles the patron notices.\n"
)


def scanner_for(tmp_path: Path, extra: str) -> Scanner:
    path = tmp_path / "config.yaml"
    path.write_text(BASE.format(extra=extra), encoding="utf-8")
    return Scanner(load(path))


@pytest.mark.slow
def test_staff_directory_makes_a_colleague_not_a_patron(tmp_path: Path) -> None:
    """With the colleague in the staff directory, his name, phone and address are not a disclosure."""
    plain = scanner_for(tmp_path, "")
    assert plain.scan(STAFF_MAIL.encode()).held, "without the directory the colleague reads as a patron"
    staff = tmp_path / "staff.csv"
    staff.write_text("Name,Email,Phone\nTomas Reyes,treyes.library@gmail.com,503-555-0187\n", encoding="utf-8")
    known = scanner_for(tmp_path, f"  staff_directory: {staff}\n  locations: ['1420 Oak Hollow Dr NE, Keizer, OR 97303']")
    assert not known.scan(STAFF_MAIL.encode()).held


@pytest.mark.slow
def test_the_librarys_locations_are_not_addresses(tmp_path: Path) -> None:
    """The library's own street address, with its city line, is not reported as an address."""
    text = b"From: circ@ccrls.org\nTo: x@example.com\nSubject: x\n\nMeet at 585 Liberty St SE\nSalem, OR 97301\n"
    kinds = lambda s: {f.kind.value for f in s.scan(text).findings}  # noqa: E731
    assert "street_address" in kinds(scanner_for(tmp_path, ""))
    own = scanner_for(tmp_path, "  locations: ['585 Liberty St SE, Salem, OR 97301']")
    assert not {"street_address", "city_state_zip"} & kinds(own)


def test_staff_directory_errors_name_the_file_and_line(tmp_path: Path) -> None:
    """A missing directory, a header without a name column and a bad phone name config line and CSV line."""
    missing = tmp_path / "nope.csv"
    with pytest.raises(ConfigError, match=r"config.yaml:5: library.staff_directory: the staff directory .* does not exist"):
        scanner_for(tmp_path, f"  staff_directory: {missing}")
    bad = tmp_path / "bad.csv"
    bad.write_text("Email,Phone\nx@example.com,1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.csv:1: expected a header row with a 'name' column"):
        scanner_for(tmp_path, f"  staff_directory: {bad}")
    bad.write_text("Name,Phone\nSecret Person,not a phone\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.csv:2: the phone column is not a phone number") as err:
        scanner_for(tmp_path, f"  staff_directory: {bad}")
    assert "Secret Person" not in str(err.value)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("  locations: ['Liberty St SE']", "library.locations[0]: expected a street address starting with a house number"),
        ("  notice_senders: ['not an address']", "library.notice_senders[0]: expected a mail address"),
        ("  notice_hosts: ['10.0.0.300']", "library.notice_hosts[0]: expected a network"),
        ("  public_phones: ['503-5x8-6100']", "library.public_phones[0]: expected a phone number"),
    ],
)
def test_identity_config_errors(extra: str, message: str) -> None:
    """Each identity key names its file, line and what it expects."""
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse(BASE.format(extra=extra), "config.yaml")


def test_notice_system_by_sender_or_host() -> None:
    """The ILS notice system is recognised by its envelope sender (address or domain) or its client network."""
    config = parse(BASE.format(extra="  notice_senders: [notices@ccrls.org, ils.ccrls.org]\n  notice_hosts: [10.1.2.0/24]"), "c")
    assert is_notice_system(config, "notices@ccrls.org", None)
    assert is_notice_system(config, "<daemon@mail.ils.ccrls.org>", None)
    assert is_notice_system(config, "staff@ccrls.org", "10.1.2.7")
    assert not is_notice_system(config, "staff@ccrls.org", "10.1.3.7")
    assert not is_notice_system(config, "notices@ccrls.org.evil.example", None)


NOTICE = (
    "From: Salem Public Library <notices@ccrls.org>\nTo: {to}\nSubject: Overdue notice\n\n"
    "OVERDUE NOTICE\n\nMaria Lopez\n1420 Oak Hollow Dr NE\nKeizer, OR 97303\n\n"
    "Library card: 23610003622817   Email on file: mlz1982@yahoo.com\n\n"
    "The following items are overdue:\n  The Night Circus   due 9/19/2025\n"
)


@pytest.mark.slow
def test_a_trusted_notice_reaches_the_patron_it_names(repo: Path) -> None:
    """From the notice system, a notice goes to the address it prints as the patron's; the same notice to anyone else is held."""
    config = load(repo / "config.yaml")
    trusting = dataclasses.replace(config, identity=dataclasses.replace(config.identity, notice_senders=("notices@ccrls.org",)))
    scanner = Scanner(trusting)
    (to_her,) = scanner.scan(NOTICE.format(to="mlz1982@yahoo.com").encode(), sender="notices@ccrls.org").decisions
    assert (to_her.action.value, TRUSTED_NOTICE in to_her.rules) == ("deliver", True)
    (to_rick,) = scanner.scan(NOTICE.format(to="rstone@example.net").encode(), sender="notices@ccrls.org").decisions
    assert to_rick.action.value == "hold"
    # The same notice from a staff mailbox is not trusted, and the address says nothing of her name.
    (staff,) = scanner.scan(NOTICE.format(to="mlz1982@yahoo.com").encode(), sender="jsato@ccrls.org").decisions
    assert staff.action.value == "hold" and PATRON_IS_RECIPIENT not in staff.rules
