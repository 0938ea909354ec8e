"""Password hashes for staff logins (proxy.auth): both formats verify, bad hashes are refused without echo."""

from __future__ import annotations

import pytest

from proxy.auth import hash_password, parse_hash, verify_password


@pytest.mark.parametrize("scheme", ["scrypt", "pbkdf2-sha256"])
def test_a_hash_verifies_its_password_only(scheme: str) -> None:
    """The right password verifies; a wrong one, an empty one and a near miss do not."""
    encoded = hash_password("Tuesday-storytime-42", scheme)
    assert encoded.startswith(scheme + "$")
    assert verify_password("Tuesday-storytime-42", encoded)
    for wrong in ("tuesday-storytime-42", "", "Tuesday-storytime-4"):
        assert not verify_password(wrong, encoded)


def test_each_hash_has_its_own_salt() -> None:
    """The same password hashed twice gives two different strings."""
    assert hash_password("same password") != hash_password("same password")


@pytest.mark.parametrize("bad", ["", "plaintext", "scrypt$3$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
                                 "scrypt$16384$8$1$!!$!!", "pbkdf2-sha256$10$c2FsdHNhbHRz$aGFzaGhhc2hoYXNoaGFzaA",
                                 "md5$abc"])
def test_malformed_hashes_are_refused_without_echoing_them(bad: str) -> None:
    """parse_hash says what a hash looks like and never repeats the text it was given."""
    with pytest.raises(ValueError) as error:
        parse_hash(bad)
    assert "patronguard" in str(error.value) and (not bad or bad not in str(error.value))
    assert not verify_password("anything", bad)
