"""The patron as recipient: whom a disclosure is about, and whether that is the outside recipient."""

from __future__ import annotations

import pytest

from detectors.subjects import Recipient, Subject, matches, self_recipients

MARIA = Recipient("maria.lopez82@gmail.com", "Maria Lopez")


@pytest.mark.parametrize(
    ("name", "recipient"),
    [
        ("Maria Lopez", MARIA),
        ("Lopez, Maria", MARIA),
        ("Maria", MARIA),
        ("López", Recipient("x@example.org", "María López")),
        ("MARIA E LOPEZ", Recipient("x@example.org", "Lopez, Maria")),
        ("Maria Lopez", Recipient("maria.lopez82@gmail.com")),
        ("Maria Lopez", Recipient("mlopez@yahoo.com")),
        ("Maria Lopez", Recipient("lopezm@yahoo.com")),
        ("Maria Lopez", Recipient("marialopez@yahoo.com")),
        ("Maria", Recipient("maria.lopez82@gmail.com")),
        ("José Núñez", Recipient("jose.nunez@example.net")),
    ],
)
def test_the_patron_matches_her_own_address(name: str, recipient: Recipient) -> None:
    """A name matches the recipient's display name, or the local part of an address without one."""
    assert matches(name, recipient)


@pytest.mark.parametrize(
    ("name", "recipient"),
    [
        ("Maria Lopez", Recipient("rstone@example.net", "Rick Stone")),
        ("Maria Lopez", Recipient("rstone@example.net")),
        ("Jane Lopez", MARIA),  # same surname, another person (her sister)
        ("Maria Gomez", MARIA),
        ("Maria", Recipient("rick@example.net", "Rick Stone")),
        ("Maria Lopez", Recipient("12345@example.net")),
    ],
)
def test_someone_else_does_not_match(name: str, recipient: Recipient) -> None:
    """Another person's name, or an address that says nothing of the patron, never matches."""
    assert not matches(name, recipient)


def test_every_disclosure_must_be_about_the_recipient() -> None:
    """The recipient is the patron only when every disclosure is about her; a relative or a list is someone else."""
    maria = Subject(("Maria Lopez",))
    assert self_recipients([maria, Subject(("Maria",))], [MARIA]) == {"maria.lopez82@gmail.com"}
    assert self_recipients([maria, Subject(("Tom Lopez",))], [MARIA]) == frozenset()
    assert self_recipients([maria, Subject(other=True)], [MARIA]) == frozenset()
    assert self_recipients([], [MARIA]) == frozenset()
    rick = Recipient("rick@example.net", "Rick Stone")
    assert self_recipients([maria], [MARIA, rick]) == {"maria.lopez82@gmail.com"}


def test_a_forwarded_notice_greets_its_own_patron() -> None:
    """A card in a forwarded notice is about the notice's addressee, not about the person the message greets."""
    from detectors.findings import TextPart
    from detectors.subjects import addressees

    text = (
        "Hi Karen,\n\nHere is your mother's notice.\n\n---------- Forwarded message ---------\n"
        "From: notices@ccrls.org\nDear Maria Lopez,\nYour card 23610003622817 has a fine.\n"
    )
    part = TextPart("1", text)
    assert addressees(part, text.index("Here")) == ["Karen"]
    assert addressees(part, text.index("2361")) == ["Maria Lopez"]
    quoted = "Thanks!\n\nOn Mon, Jane wrote:\n> Dear Maria Lopez,\n> Your card 23610003622817\n> is blocked.\n"
    assert addressees(TextPart("1", quoted), quoted.index("is blocked")) == ["Maria Lopez"]
    attached = TextPart("2", "Dear Maria Lopez,\nYour card 23610003622817 has a fine.", origin="attachment")
    assert addressees(attached, 30) == ["Maria Lopez"]


def test_hyphenated_and_reordered_names_match() -> None:
    """"Han, Jae-won" is the recipient "Jae-won Han"; "Lilia del Valle" is herself."""
    assert matches("Han, Jae-won", Recipient("jae-won1986@gmail.com", "Jae-won Han"))
    assert matches("Lilia del Valle", Recipient("lilia1993@yahoo.com", "Lilia del Valle"))


@pytest.mark.parametrize(
    ("name", "address", "expected"),
    [
        ("Eric", "etijerina@comcast.net", True),  # "Dear Eric," to initial + surname
        ("Eric", "rstone@comcast.net", False),
        ("Rojo, Dalia", "dalia1982@aol.com", True),  # the address is her given name alone
        ("Rojo, Dalia", "dalia.smith@aol.com", False),
    ],
)
def test_addresses_without_a_display_name(name: str, address: str, expected: bool) -> None:
    """Without a display name the local part decides: initial and surname, or the given name alone, are hers."""
    assert matches(name, Recipient(address)) is expected
