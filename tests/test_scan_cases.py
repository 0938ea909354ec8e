"""Hard cases found by reading mail as a supervisor would: near-misses on both sides."""

from __future__ import annotations

import pytest

CASES = [
    (
        "vendor mail with 'patron-driven' and a rep's phone",
        "Subject: Re: patron-driven acquisition pilot\n\nHi Mark,\n\nOur patrons have been asking for more large print. "
        "Could you send a quote for the patron-driven acquisition pilot? Mark Jensen said\nyou can reach him at "
        "503-555-0110 for the contract details.\n\nJill\n",
        False,
    ),
    (
        "author event with an RSVP phone and 'due back' ILL books",
        "Subject: author visit\n\nAuthor Jane Smith will be signing her new book \"River Town\" on May 3. Call "
        "503-555-0199 to reserve a seat. Books are due back at the ILL lender by June 1.\n",
        False,
    ),
    (
        "gossip about a named patron's loans and fines",
        "Subject: guess who came in\n\nGuess who came in today - Robert Kline! He checked out \"The Silent Patient\"\n"
        "and \"Gone Girl\" and still owes $14.75 in late fines.\n",
        True,
    ),
    (
        "reference letter with a card number typed with a wrong check digit, and a phone",
        "Subject: reference\n\nHi, regarding Maria Lopez: her library card 2361 0004 1122 33 is fine. Her phone 503-555-0144.\n",
        True,
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "body", "held"), CASES, ids=[c[0] for c in CASES])
def test_hard_cases(scanner, scenario, body, held):
    """Each case is held or delivered to an outside address as a supervisor would decide."""
    raw = ("From: Jill Sato <jsato@cityofsalem.net>\nTo: someone@example.org\n" + body).encode()
    result = scanner.scan(raw)
    assert result.held is held, f"{scenario}: rules={result.rules}"


REFERRAL = (
    "From: Rachel Ostrander <rostrander@cityofsalem.net>\nTo: reports@unique-mgmt.com\nSubject: placements\n\n"
    "Weekly placement:\n\n"
    '"Patron #","Barcode","Name","Amount Owed","First Fine Date","Status"{extra_head}\n'
    '"p10004579","23610000104579","WHITFIELD, MARCUS J","47.25","10/14/2024","NEW"{extra_1}\n'
    '"p10770033","23610051203981","REYES, LUCIA M","88.10","11/02/2024","NEW"{extra_2}\n'
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("extra", "action"),
    [
        (("", "", ""), "deliver"),  # within the agency's categories
        ((',"Items Not Returned"', ',"Dune; Holes"', ',"Becoming"'), "hold"),  # titles
        ((',"Hold Requests"', ',"hold: Wonder"', ',"hold: Holes"'), "hold"),  # holds
        ((',"Notes"', ',"threatened staff"', ',"banned until May"'), "hold"),  # record notes
    ],
)
def test_collection_agency_scope(scanner, extra, action):
    """A referral within the agency's categories goes; titles, holds or notes in any column hold it as partner excess."""
    head, one, two = extra
    raw = REFERRAL.format(extra_head=head, extra_1=one, extra_2=two).encode()
    (d,) = scanner.scan(raw).decisions
    assert d.action.value == action, d.rules
    if action == "hold":
        assert any(r.startswith("partner-not-approved-for:") for r in d.rules)
