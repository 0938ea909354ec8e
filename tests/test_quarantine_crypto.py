"""The quarantine's keys: a private key file, sealed content bound to its item, re-wrapping, keyed hashes."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest

from proxy.quarantine import KEY_FILE_ENV, Envelope, KeyFileError, KeyRing, QuarantineError
from proxy.quarantine.crypto import Sealed

RAW = b"Subject: fines\r\n\r\nCard 23610003622817 owes $12.50\r\n"
ENV = Envelope("circ@ccrls.org", ("patron@gmail.com",), RAW)


def test_key_file_is_created_private_at_first_use_and_reused(tmp_path):
    """The first load creates the key file with mode 0600; the next load reads the same keys."""
    path = tmp_path / "keys" / "quarantine.key"
    first = KeyRing.load_or_create(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    second = KeyRing.load_or_create(path)
    assert second.current == first.current and second.index_key == first.index_key
    assert second.open("q-1", first.seal("q-1", ENV)) == ENV


def test_environment_names_the_key_file(tmp_path, monkeypatch):
    """$PATRONGUARD_KEY_FILE wins over the configured path."""
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "from-env.key"))
    KeyRing.load_or_create(tmp_path / "configured.key")
    assert (tmp_path / "from-env.key").exists() and not (tmp_path / "configured.key").exists()


@pytest.mark.parametrize(
    ("content", "mode", "expected"),
    [
        (None, 0o644, "readable by others (mode 0644); run: chmod 600"),
        ("not json", 0o600, "not JSON"),
        ('{"format": "other"}', 0o600, "not a PatronGuard key file"),
        ('{"format": "patronguard-keys/1", "current": "k1"}', 0o600, "damaged"),
    ],
)
def test_unusable_key_files_are_refused_with_a_hint(tmp_path, content, mode, expected):
    """A key file that is too open or malformed is a one-line KeyFileError that shows no key material."""
    path = tmp_path / "q.key"
    KeyRing.load_or_create(path)
    secret = json.loads(path.read_text())["index_key"]
    if content is not None:
        path.write_text(content)
    os.chmod(path, mode)
    with pytest.raises(KeyFileError) as err:
        KeyRing.load_or_create(path)
    assert expected in str(err.value) and secret not in str(err.value) and "\n" not in str(err.value)


def test_sealed_content_hides_the_plaintext(tmp_path):
    """Sealing yields AES-GCM ciphertext under a per-item data key: no plaintext, no reused data key."""
    ring = KeyRing.load_or_create(tmp_path / "q.key")
    a, b = ring.seal("q-1", ENV), ring.seal("q-2", ENV)
    assert b"23610003622817" not in a.ciphertext and b"patron@gmail.com" not in a.ciphertext
    assert a.wrapped_key != b.wrapped_key and a.ciphertext != b.ciphertext
    assert a.key_id == ring.current


def test_sealed_content_is_bound_to_its_item(tmp_path):
    """Content sealed for one item does not open as another, and altered bytes do not open."""
    ring = KeyRing.load_or_create(tmp_path / "q.key")
    sealed = ring.seal("q-1", ENV)
    with pytest.raises(QuarantineError, match="q-2"):
        ring.open("q-2", sealed)
    flipped = bytes([sealed.ciphertext[-1] ^ 1])
    with pytest.raises(QuarantineError, match="damaged"):
        ring.open("q-1", Sealed(sealed.key_id, sealed.wrapped_key, sealed.ciphertext[:-1] + flipped))


def test_rewrap_moves_data_keys_to_a_new_master_and_retire_drops_the_old(tmp_path):
    """After add_key + rewrap the item opens under the new key; a retired key is gone from the file."""
    path = tmp_path / "q.key"
    ring = KeyRing.load_or_create(path)
    old = ring.current
    sealed = ring.seal("q-1", ENV)
    new = ring.add_key()
    kid, wrapped = ring.rewrap("q-1", sealed.key_id, sealed.wrapped_key)
    assert kid == new != old
    assert ring.retire({new}) == [old]
    reread = KeyRing.load_or_create(path)
    assert old not in reread.key_ids and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert reread.open("q-1", Sealed(kid, wrapped, sealed.ciphertext)) == ENV
    with pytest.raises(KeyFileError, match=old):
        reread.open("q-1", sealed)


def test_address_hashes_are_keyed_and_case_insensitive(tmp_path):
    """Equal addresses hash alike whatever their case; the hash is not a plain SHA-256 and differs per key file."""
    a = KeyRing.load_or_create(tmp_path / "a.key")
    b = KeyRing.load_or_create(tmp_path / "b.key")
    assert a.address_hash("Patron@Gmail.com ") == a.address_hash("patron@gmail.com")
    assert a.address_hash("patron@gmail.com") != b.address_hash("patron@gmail.com")
    assert a.address_hash("patron@gmail.com") not in hashlib.sha256(b"patron@gmail.com").hexdigest()
