"""Mail to the patron about her own account is delivered; the same data to anyone else is held."""

from __future__ import annotations

import dataclasses

import pytest

from proxy.scanning.policy import PATRON_IS_RECIPIENT
from proxy.scanning.scan import Scanner

LETTER = (
    "From: Jill Sato <jsato@cityofsalem.net>\n"
    "To: {to}\n"
    "Subject: Your library account\n\n"
    "{greeting}\n\n{body}\n\nBest,\nJill Sato\nCirculation, Salem Public Library\n"
)
HOLD = 'Your hold on "The Night Circus" is ready for pickup, and you owe $3.20 in late fines.'
CARD = "Your new library card number is 23610003622817; it replaces the one you reported lost."
ADDRESS = "We updated the address on your library account to 1420 Oak Hollow Dr NE, Keizer, OR 97303, phone 503-555-0187."


def scan(scanner: Scanner, to: str, greeting: str, body: str):  # type: ignore[no-untyped-def]
    raw = LETTER.format(to=to, greeting=greeting, body=body).encode()
    return scanner.scan(raw)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("to", "greeting", "body"),
    [
        ("Maria Lopez <maria.lopez82@gmail.com>", "Hi Maria,", HOLD),
        ("maria.lopez82@gmail.com", "Dear Maria Lopez,", HOLD),
        ("Maria Lopez <mlz1982@yahoo.com>", "Dear Ms. Lopez,", CARD),
        ('"Lopez, Maria" <mlz1982@yahoo.com>', "Hello Maria,", ADDRESS),
        ("Maria Lopez <maria.lopez82@gmail.com>", "Estimada Sra. López:", CARD),
    ],
)
def test_her_own_data_to_her_own_address_is_delivered(scanner: Scanner, to: str, greeting: str, body: str) -> None:
    """Hold, fine, card and address letters greeting the recipient by name are delivered, with their own rule id."""
    result = scan(scanner, to, greeting, body)
    (d,) = result.decisions
    assert result.message.assessment.disclosures, "the letter does disclose patron data"
    assert d.action.value == "deliver", d.rules
    assert PATRON_IS_RECIPIENT in d.rules


@pytest.mark.slow
@pytest.mark.parametrize(
    ("to", "greeting", "body"),
    [
        ("Rick Stone <rstone@example.net>", "Hi Maria,", HOLD),  # Maria's letter to Rick
        ("rstone@example.net", "Dear Maria Lopez,", CARD),
        ("Maria Lopez <maria.lopez82@gmail.com>", "Hi Maria,", HOLD + " Your son's card 23610003622817 is blocked."),
        ("Maria Lopez <maria.lopez82@gmail.com>", "Hi Maria,", HOLD + " Tom Baker has the other copy overdue, 503-555-0142."),
        ("Maria Lopez <maria.lopez82@gmail.com>", "Hi,", CARD),  # nobody greeted: whose card is it?
    ],
)
def test_other_peoples_data_is_still_held(scanner: Scanner, to: str, greeting: str, body: str) -> None:
    """A mismatch, a relative's data, another patron's data or an unknown addressee holds the message."""
    (d,) = scan(scanner, to, greeting, body).decisions
    assert d.action.value == "hold", d.rules
    assert PATRON_IS_RECIPIENT not in d.rules


@pytest.mark.slow
def test_only_the_patron_herself_gets_it(scanner: Scanner) -> None:
    """With the patron and a friend as recipients, the patron gets it and the friend's copy is held."""
    result = scan(scanner, "Maria Lopez <maria.lopez82@gmail.com>, Rick Stone <rstone@example.net>", "Hi Maria,", HOLD)
    actions = {d.recipient.address: d.action.value for d in result.decisions}
    assert actions == {"maria.lopez82@gmail.com": "deliver", "rstone@example.net": "hold"}


@pytest.mark.slow
def test_the_rule_can_be_switched_off(config) -> None:  # type: ignore[no-untyped-def]
    """policy.patron_as_recipient: false holds her own letter like any other outside mail."""
    off = dataclasses.replace(config, policy=dataclasses.replace(config.policy, patron_as_recipient=False))
    (d,) = scan(Scanner(off), "Maria Lopez <maria.lopez82@gmail.com>", "Hi Maria,", HOLD).decisions
    assert d.action.value == "hold"
