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
