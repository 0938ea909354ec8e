"""Signature blocks found by their structure: the writer's own name, title and contacts."""

from __future__ import annotations

import pytest

from detectors.signatures import signature_spans


def signed(text: str, sender: tuple[str, ...] = ()) -> list[str]:
    return [text[s:e] for s, e in signature_spans(text, sender)]


def test_sign_off_blocks() -> None:
    """A sign-off line and the short lines under it are a signature."""
    text = "Hello,\nsee below.\n\nThanks,\nJane\n555-0101\n"
    (block,) = signed(text)
    assert block.startswith("Thanks,") and "555-0101" in block


@pytest.mark.parametrize(
    "signature",
    [
        "Jill Sato\nCirculation Supervisor | Salem Public Library\n585 Liberty St SE, Salem OR 97301\n503-588-6052",
        "Jill Sato, MLIS\nYouth Services Librarian\njsato@cityofsalem.net | 503-588-6052",
        "J. Sato\nhttps://www.cityofsalem.net/library\n503-588-6052 ext. 7",
    ],
)
def test_a_closing_block_without_a_sign_off(signature: str) -> None:
    """The last paragraph of the writer's own text is a signature when it says whom the writer works for."""
    text = "Hi Tom,\n\nThe patron count for March is attached; 214 new library cards.\n\n" + signature + "\n"
    (block,) = signed(text)
    assert block.strip() == signature


def test_the_senders_own_name_line_opens_a_signature() -> None:
    """A line that is the sender's name, and the contact lines under it, are the sender's."""
    text = "Hi,\n\nPlease call me about the card.\n\nJill\nJill Sato\n503-588-6052\n\nP.S. the van comes at 3.\n"
    blocks = signed(text, ("Jill Sato",))
    assert any("503-588-6052" in b for b in blocks)


@pytest.mark.parametrize(
    "text",
    [
        # A patron's details pasted at the end say nothing of whom the writer works for.
        "Officer Grant,\n\nHere is what we have for her:\n\nMaria Lopez\n1420 Oak Hollow Dr NE\nKeizer, OR 97303\n503-555-0187\n",
        # Prose is not a signature.
        "Hi,\n\nThe patron Maria Lopez owes $20.\nShe lives on Oak Hollow Dr.\n",
    ],
)
def test_patron_details_at_the_end_are_not_a_signature(text: str) -> None:
    """A closing block of a name, street and phone alone is not taken for the writer's signature."""
    assert signed(text) == []


def test_quoted_letters_close_with_their_writers_signature() -> None:
    """A quoted letter's closing block is a signature only if it says whom its writer works for."""
    vendor = (
        "Thanks, go ahead.\n\nJill Sato\nSalem Public Library\n\n"
        "On Mon, Mar 3, 2025, Karen Hollis wrote:\n> We can add the series.\n>\n> Karen Hollis\n"
        "> Senior Sales Consultant, Baker & Taylor\n> Office 800-555-0114\n"
    )
    assert any("Sales Consultant" in b for b in signed(vendor))
    patron = (
        "See below.\n\nJill Sato\nSalem Public Library\n\n"
        "On Mon, Mar 3, 2025, Maria Lopez wrote:\n> Please update my address.\n>\n> Maria Lopez\n"
        "> 1420 Oak Hollow Dr NE\n> Keizer, OR 97303\n> 503-555-0187\n"
    )
    blocks = signed(patron)
    assert blocks and all("Maria Lopez" not in b for b in blocks)
