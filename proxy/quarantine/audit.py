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
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

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
    FAX_APPROVE = "fax_approve"  # a released fax job: its documents may go to its number (proxy.fax)


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
class AuditReport:
    records: int
    ok: bool
    bad_seq: int | None = None
    problem: str = ""


def chain_hash(key: bytes, prev_hash: str, seq: int, at_us: int, actor: str, action: str,
               item_id: str | None, origin: str, detail: str) -> str:
    """The hash of one record, chained to the one before it."""
    body = json.dumps([prev_hash, seq, at_us, actor, action, item_id, origin, detail],
                      ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(records: Iterable[AuditRecord], key: bytes) -> AuditReport:
    """Walk the chain in order; report the first record that does not verify."""
    prev = GENESIS
    count = 0
    for count, r in enumerate(records, start=1):
        if r.seq != count:
            return AuditReport(count - 1, False, r.seq, f"record {count} is missing (found {r.seq})")
        if r.prev_hash != prev:
            return AuditReport(count - 1, False, r.seq, f"record {r.seq} does not follow record {r.seq - 1}")
        expected = chain_hash(key, prev, r.seq, r.at_us, r.actor, r.action, r.item_id, r.origin, r.detail)
        if not hmac.compare_digest(expected, r.hash):
            return AuditReport(count - 1, False, r.seq, f"record {r.seq} was altered")
        prev = r.hash
    return AuditReport(count, True)
