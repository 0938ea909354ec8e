"""The audit trail's records, their hash chain and its verification.

This module owns what an audit record says (who, when, what, which item, from
where — never content) and how records are chained: each record's hash is an
HMAC-SHA256, under the key file's audit key, of the previous record's hash and
the record's own fields. Editing, inserting or deleting a record in the middle
breaks the chain; recomputing the chain needs the key file, which the database
does not hold. Appending (under a lock, in the same transaction as the change
it records) is the stores' job; the backends also refuse UPDATE and DELETE on
the table with a trigger.

It must not see message content: `detail` is a short, content-free string
such as "state=released" or "expired=3 purged=12".

A chain proves that records were not changed, not that the newest ones still
exist: deleting the last N rows leaves a valid, shorter chain. So the head is
also anchored outside the database (`AuditAnchor`): after every append commits,
the store writes that record's sequence number and hash to a small file beside
the key file, and `verify` compares the chain's end with it. The anchor only
moves forward (several processes append to one database), so a database that
ends before the anchor lost its tail, and one whose record at the anchor's
number has another hash was rewritten from there.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

GENESIS = "0" * 64


class AuditAction(StrEnum):
    HOLD = "hold"
    VIEW = "view"  # metadata and masked excerpts shown
    REVEAL = "reveal"  # full content shown
    RELEASE = "release"
    RELEASE_FAILED = "release_failed"
    REJECT = "reject"
    ESCALATE = "escalate"
    EXPIRE = "expire"
    PURGE = "purge"
    ROTATE = "rotate_keys"
    NOTIFY_FAILED = "notify_failed"
    FAX_APPROVE = "fax_approve"  # a released fax job: its documents may go to its number (proxy.fax.hook)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts and from where ("cli@host uid=0", "relay@node-2", a web session's address)."""

    name: str
    origin: str


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    at_us: int  # microseconds since the epoch, UTC
    actor: str
    action: str
    item_id: str | None
    origin: str
    detail: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The newest record a store wrote, as the anchor file remembers it."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    records: int
    ok: bool
    bad_seq: int | None = None
    problem: str = ""
    missing: int = 0  # records the anchor says were written and the database no longer has
    anchored: int | None = None  # the anchor's record number (None: no anchor file)


def chain_hash(key: bytes, prev_hash: str, seq: int, at_us: int, actor: str, action: str,
               item_id: str | None, origin: str, detail: str) -> str:
    """The hash of one record, chained to the one before it."""
    body = json.dumps([prev_hash, seq, at_us, actor, action, item_id, origin, detail],
                      ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(records: Iterable[AuditRecord], key: bytes, head: AuditHead | None = None) -> AuditReport:
    """Walk the chain in order; report the first record that does not verify, then compare the end with `head`."""
    prev = GENESIS
    count = 0
    hashes: list[str] = []
    for count, r in enumerate(records, start=1):
        if r.seq != count:
            return AuditReport(count - 1, False, r.seq, f"record {count} is missing (found {r.seq})")
        if r.prev_hash != prev:
            return AuditReport(count - 1, False, r.seq, f"record {r.seq} does not follow record {r.seq - 1}")
        expected = chain_hash(key, prev, r.seq, r.at_us, r.actor, r.action, r.item_id, r.origin, r.detail)
        if not hmac.compare_digest(expected, r.hash):
            return AuditReport(count - 1, False, r.seq, f"record {r.seq} was altered")
        prev = r.hash
        hashes.append(r.hash)
    if head is None:
        return AuditReport(count, True)
    if head.seq > count:
        missing = head.seq - count
        return AuditReport(count, False, count + 1,
                           f"{missing} record(s) missing at the end: the anchor says record {head.seq} was written, "
                           f"the database ends at record {count}", missing=missing, anchored=head.seq)
    if head.seq > 0 and not hmac.compare_digest(hashes[head.seq - 1], head.hash):
        return AuditReport(count, False, head.seq, f"record {head.seq} is not the record the anchor saw written "
                           "(the chain was rewritten from there)", anchored=head.seq)
    return AuditReport(count, True, anchored=head.seq)


class AnchorDamaged(Exception):
    """The anchor file exists but does not hold a head (a torn write or an edit)."""


class AuditAnchor:
    """The head of the audit chain kept outside the database: one fixed-size line in a file beside the key file.

    `advance` runs after the append's transaction committed (never ahead of the
    database), under an exclusive `flock` of the file (not a POSIX lock: those
    belong to the SQLite file's process and must not be touched), and only
    moves forward. One `pwrite` of one short line, then `fdatasync`.
    """

    MAGIC = "PGAUDIT1"
    SIZE = 104  # "PGAUDIT1 <seq, 20 digits> <hash, 64 hex> <crc32, 8 hex>\n"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @classmethod
    def beside(cls, key_file: Path) -> AuditAnchor:
        """The anchor of the quarantine whose key file is `key_file`: `<stem>.audit-head` in the same folder."""
        return cls(key_file.with_name(key_file.stem + ".audit-head"))

    def _line(self, seq: int, digest: str) -> bytes:
        body = f"{self.MAGIC} {seq:020d} {digest}"
        return f"{body} {zlib.crc32(body.encode()):08x}\n".encode()

    def _parse(self, data: bytes) -> AuditHead | None:
        if not data:
            return None
        try:
            text = data.decode("ascii")
            magic, seq, digest, crc = text.rstrip("\n").split(" ")
            body = f"{magic} {seq} {digest}"
            if magic != self.MAGIC or int(crc, 16) != zlib.crc32(body.encode()) or len(digest) != 64:
                raise ValueError(text)
            return AuditHead(int(seq), digest)
        except ValueError:
            raise AnchorDamaged(f"{self.path}: the audit anchor is damaged") from None

    def _open(self) -> int:
        if self._fd is None:
            created = not self.path.exists()
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            if created:
                directory = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
                try:
                    os.fsync(directory)
                finally:
                    os.close(directory)
        return self._fd

    def advance(self, seq: int, digest: str) -> None:
        """Record `seq`/`digest` as the newest record, unless the anchor already names a newer one."""
        fd = self._open()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            try:
                current = self._parse(os.pread(fd, self.SIZE, 0))
            except AnchorDamaged:
                current = None  # a torn write: this append is newer than whatever it held
            if current is not None and current.seq >= seq:
                return
            os.pwrite(fd, self._line(seq, digest), 0)
            os.fdatasync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def read(self) -> AuditHead | None:
        """The anchored head, None if there is no anchor file yet; `AnchorDamaged` if it cannot be read."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AnchorDamaged(f"{self.path}: cannot read the audit anchor ({exc.strerror})") from None
        return self._parse(data)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
