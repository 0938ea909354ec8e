"""The quarantine's keys: the key file, sealing content, wrapping data keys, keyed hashes.

This module owns all key material and every use of it:

- a key file (JSON, mode 0600, created at first use, never world- or
  group-readable) holding one or more *master keys* by id, the id of the
  current one, an *index key* for hashing recipient addresses and an
  *audit key* for the audit chain;
- `seal`: each item's envelope is encrypted with AES-256-GCM under a fresh
  random *data key*; the data key is wrapped (AES-256-GCM again) under the
  current master key. The item id is bound in as associated data, so sealed
  rows cannot be swapped between items. Dropping an item's wrapped data key
  destroys its content even where ciphertext copies linger (crypto-shredding);
- `rewrap`: re-seal a data key under the current master key (`keys rotate`),
  after which master keys that no item uses any more are removed from the file.

Recipient hashes are keyed (HMAC), because plain hashes of email addresses are
reversed by a dictionary in seconds. The index and audit keys are never
rotated by `keys rotate`: rotating them would break lookups and the chain.

Nothing here logs, and no error message contains key material.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from proxy.quarantine.store import Envelope, KeyFileError, QuarantineError

KEY_FILE_ENV = "PATRONGUARD_KEY_FILE"
FORMAT = "patronguard-keys/1"
NONCE = 12


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _new_key_id() -> str:
    return time.strftime("k%Y%m%d-", time.gmtime()) + secrets.token_hex(4)


@dataclass(frozen=True, slots=True)
class Sealed:
    """What the database stores for one item's content."""

    key_id: str
    wrapped_key: bytes  # nonce + AES-GCM(master, data key)
    ciphertext: bytes  # nonce + AES-GCM(data key, envelope)


def pack_envelope(envelope: Envelope) -> bytes:
    header = json.dumps({"from": envelope.mail_from, "to": list(envelope.rcpt_tos)}).encode("utf-8")
    return struct.pack(">I", len(header)) + header + envelope.raw


def unpack_envelope(data: bytes) -> Envelope:
    (length,) = struct.unpack(">I", data[:4])
    header = json.loads(data[4 : 4 + length].decode("utf-8"))
    return Envelope(header["from"], tuple(header["to"]), data[4 + length :])


class KeyRing:
    """The keys of one key file. Not thread-safe for `add_key`/`retire` (only `keys rotate` calls them)."""

    def __init__(self, path: Path, current: str, masters: dict[str, bytes], index_key: bytes, audit_key: bytes) -> None:
        self.path = path
        self.current = current
        self._masters = dict(masters)
        self.index_key = index_key
        self.audit_key = audit_key

    # ------------------------------------------------------------ the file

    @staticmethod
    def configured(path: str | Path | None = None) -> Path:
        """The key file to use: $PATRONGUARD_KEY_FILE, else `path`."""
        chosen = os.environ.get(KEY_FILE_ENV) or path
        if not chosen:
            raise KeyFileError(f"no key file configured: set quarantine.key_file or ${KEY_FILE_ENV}")
        return Path(chosen)

    @classmethod
    def load_or_create(cls, path: str | Path | None = None) -> KeyRing:
        """Open the key file at `path` (or $PATRONGUARD_KEY_FILE), creating it with mode 0600 if absent.

        Only what may create a quarantine calls this (`open_store(create=True)`, tests, benchmarks).
        """
        p = cls.configured(path)
        if not p.exists():
            return cls.generate(p).save_new()
        return cls._load(p)

    @classmethod
    def load(cls, path: str | Path | None = None) -> KeyRing:
        """Open an existing key file; a missing one is a `KeyFileError` naming the path."""
        p = cls.configured(path)
        if not p.exists():
            raise KeyFileError(f"{p}: no quarantine key file there")
        return cls._load(p)

    @classmethod
    def generate(cls, path: Path) -> KeyRing:
        """Fresh keys for a new quarantine, in memory only until `save_new()`."""
        kid = _new_key_id()
        return cls(path, kid, {kid: AESGCM.generate_key(256)}, secrets.token_bytes(32), secrets.token_bytes(32))

    def save_new(self) -> KeyRing:
        """Write a new key file (mode 0600, fsync'd); if another process created one first, return that one."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self._load(self.path)  # another process created it first: use theirs
        except OSError as exc:
            raise KeyFileError(f"{self.path}: cannot create key file ({exc.strerror or type(exc).__name__})") from None
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self._serialise())
            f.flush()
            os.fsync(f.fileno())
        return self

    @classmethod
    def _load(cls, path: Path) -> KeyRing:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                raise KeyFileError(f"{path}: key file is readable by others (mode {mode:04o}); run: chmod 600 {path}")
            data = json.loads(path.read_text(encoding="utf-8"))
        except KeyFileError:
            raise
        except OSError as exc:
            raise KeyFileError(f"{path}: cannot read key file ({exc.strerror or type(exc).__name__})") from None
        except ValueError:
            raise KeyFileError(f"{path}: not a PatronGuard key file (not JSON)") from None
        try:
            if data.get("format") != FORMAT:
                raise KeyFileError(f"{path}: not a PatronGuard key file (format {data.get('format')!r})")
            masters = {kid: _unb64(v) for kid, v in data["keys"].items()}
            ring = cls(path, data["current"], masters, _unb64(data["index_key"]), _unb64(data["audit_key"]))
        except (KeyError, TypeError, ValueError):
            raise KeyFileError(f"{path}: key file is damaged (missing or malformed field)") from None
        if ring.current not in masters or any(len(k) != 32 for k in masters.values()):
            raise KeyFileError(f"{path}: key file is damaged (current key missing or wrong length)")
        return ring

    def _serialise(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "current": self.current,
                "keys": {kid: _b64(k) for kid, k in self._masters.items()},
                "index_key": _b64(self.index_key),
                "audit_key": _b64(self.audit_key),
            },
            indent=1,
        )

    def _save(self) -> None:
        """Replace the file atomically (tmp → fsync → rename → fsync dir), keeping mode 0600."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self._serialise())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._masters)

    def add_key(self) -> str:
        """Make a fresh master key current and save the file; old keys stay until `retire`."""
        kid = _new_key_id()
        while kid in self._masters:
            kid = _new_key_id()
        self._masters[kid] = AESGCM.generate_key(256)
        self.current = kid
        self._save()
        return kid

    def retire(self, keep: set[str]) -> list[str]:
        """Remove master keys not in `keep` (the current one always stays); return the removed ids."""
        gone = [kid for kid in self._masters if kid not in keep and kid != self.current]
        if gone:
            for kid in gone:
                del self._masters[kid]
            self._save()
        return gone

    # ------------------------------------------------------------ sealing

    def seal(self, item_id: str, envelope: Envelope) -> Sealed:
        data_key = AESGCM.generate_key(256)
        nonce = secrets.token_bytes(NONCE)
        ciphertext = nonce + AESGCM(data_key).encrypt(nonce, pack_envelope(envelope), item_id.encode())
        return Sealed(self.current, self._wrap(item_id, self.current, data_key), ciphertext)

    def open(self, item_id: str, sealed: Sealed) -> Envelope:
        data_key = self._unwrap(item_id, sealed.key_id, sealed.wrapped_key)
        try:
            plain = AESGCM(data_key).decrypt(sealed.ciphertext[:NONCE], sealed.ciphertext[NONCE:], item_id.encode())
        except InvalidTag:
            raise QuarantineError(f"item {item_id}: content does not decrypt (damaged or swapped)") from None
        return unpack_envelope(plain)

    def rewrap(self, item_id: str, key_id: str, wrapped: bytes) -> tuple[str, bytes]:
        """The same data key, wrapped under the current master key."""
        return self.current, self._wrap(item_id, self.current, self._unwrap(item_id, key_id, wrapped))

    def _wrap(self, item_id: str, key_id: str, data_key: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE)
        return nonce + AESGCM(self._masters[key_id]).encrypt(nonce, data_key, f"{item_id}|{key_id}".encode())

    def _unwrap(self, item_id: str, key_id: str, wrapped: bytes) -> bytes:
        master = self._masters.get(key_id)
        if master is None:
            raise KeyFileError(f"item {item_id}: master key {key_id} is not in {self.path}")
        try:
            return AESGCM(master).decrypt(wrapped[:NONCE], wrapped[NONCE:], f"{item_id}|{key_id}".encode())
        except InvalidTag:
            raise QuarantineError(f"item {item_id}: data key does not unwrap (damaged or swapped)") from None

    # ------------------------------------------------------------ keyed hashes

    def address_hash(self, address: str) -> str:
        """A keyed hash of an address: equal addresses match, the address cannot be guessed back."""
        digest = hmac.new(self.index_key, address.strip().lower().encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()[:24]
