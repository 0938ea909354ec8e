"""The quarantine's contract: the `QuarantineStore` protocol, its values and its errors.

This module owns what a held item *is* (`HeldItem`, `ItemState`, `Envelope`)
and the one interface both backends implement. It does no I/O; the SQL lives
in `proxy.quarantine.sql` (shared) and the two backend modules.

What is kept in clear, and why (issue 4): only what a supervisor needs to list
and filter — a random id, received time, member library, sender address, the
held recipients' *classes* and keyed *hashes*, rule ids, finding kinds and
counts, masked excerpts, the decision, and what tells items apart in the
review list (the Subject with patron data masked, the held recipients'
*domains*, attachments' types, masked names and finding kinds). The clear
recipient addresses and the raw message travel together inside the sealed envelope.

    PatronGuardError
    └── QuarantineError           base of the quarantine's errors; str() is safe to show
        ├── ItemNotFound          no item with that id (or its metadata was purged)
        ├── InvalidTransition     the item's state does not allow the action
        ├── RedactionUnavailable  release-redacted asked for before the redaction engine exists
        ├── DeliveryRefused       upstream refused a release; the item is now `failed`
        ├── KeyFileError          the key file is missing, unreadable, too open or malformed
        ├── StoreUnavailable      the database cannot be opened or migrated
        └── AuditTampered         `audit verify` found a broken chain
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from proxy.errors import PatronGuardError
from proxy.quarantine.audit import Actor, AuditAction, AuditRecord, AuditReport
from proxy.scanning.explain import Excerpt  # re-exported: what a supervisor sees of a finding

# ----------------------------------------------------------------- errors


class QuarantineError(PatronGuardError):
    """Base class; the message names the item id at most, never content or addresses."""


class ItemNotFound(QuarantineError):
    """No item with that id."""


class InvalidTransition(QuarantineError):
    """The item's current state does not allow the requested action."""


class RedactionUnavailable(QuarantineError):
    """Release-redacted cannot be done here: no redactor is configured, or the copy could not be made clean."""


class DeliveryRefused(QuarantineError):
    """Upstream refused the released message; the item stays visible as `failed`."""


class KeyFileError(QuarantineError):
    """The key file cannot be used; the message says what to do (never shows key material)."""


class StoreUnavailable(QuarantineError):
    """The database cannot be opened or migrated (the DSN is never echoed)."""


class AuditTampered(QuarantineError):
    """The audit chain does not verify."""


# ----------------------------------------------------------------- values


class ItemState(StrEnum):
    HELD = "held"
    RELEASING = "releasing"  # claimed by one reviewer/node while upstream is asked; never shown as a decision
    RELEASED = "released"
    RELEASED_REDACTED = "released_redacted"
    REJECTED = "rejected"
    EXPIRED = "expired"
    FAILED = "failed"  # a release upstream refused; still awaiting a decision, content kept


#: States awaiting a supervisor's decision (content is kept).
OPEN_STATES: tuple[ItemState, ...] = (ItemState.HELD, ItemState.FAILED)
#: Final states: content is dropped in the same transaction that enters them.
DECIDED_STATES: tuple[ItemState, ...] = (
    ItemState.RELEASED,
    ItemState.RELEASED_REDACTED,
    ItemState.REJECTED,
    ItemState.EXPIRED,
)

MAX_EXCERPTS = 50
MAX_EXCERPT_CHARS = 240

#: Queue ids of items held by the HylaFAX job hook (`proxy.fax.hook`) start with this: "fax-job:JOBID:DIGEST".
#: Releasing such an item records an approval instead of sending mail.
FAX_JOB_PREFIX = "fax-job:"
#: In a fax item's sealed message: the sha256 digests of the documents a release approves, comma-separated.
FAX_APPROVAL_HEADER = "X-PatronGuard-Fax-Approve"


def new_item_id() -> str:
    """A random, unguessable id (128 bits) that is safe in URLs and on a command line."""
    return "q-" + secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment as the list shows it: its type, its *masked* file name and the kinds of data found in it."""

    content_type: str
    name: str
    finding_kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HeldItem:
    """The clear metadata of one quarantined message (never its content)."""

    id: str
    received_at: datetime
    library: str
    mail_from: str
    recipient_classes: tuple[str, ...]
    recipient_hashes: tuple[str, ...]
    rules: tuple[str, ...]
    finding_counts: tuple[tuple[str, int], ...]
    excerpts: tuple[Excerpt, ...]
    state: ItemState
    decided_at: datetime | None = None
    reviewer: str | None = None
    note: str | None = None
    failure: str | None = None
    escalated_at: datetime | None = None
    key_id: str | None = None  # None once the content (and its data key) is destroyed
    queue_id: str | None = None  # the relay's spool queue id (in its logs), when the relay held it
    # What tells two items apart in the list (none of it a value the scanner found): the Subject with
    # patron data masked (`proxy.scanning.explain.masked_line`), the held recipients' domains (one per
    # recipient, never the local part) and the attachments. Empty for items held before they were kept.
    subject: str = ""
    recipient_domains: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()

    @property
    def has_content(self) -> bool:
        return self.key_id is not None

    @property
    def is_fax_job(self) -> bool:
        """Held by the HylaFAX job hook: a fax job, not mail (its release is an approval to resubmit)."""
        return (self.queue_id or "").startswith(FAX_JOB_PREFIX)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: metadata only; recipients appear as classes and hashes."""
        return {
            "id": self.id,
            "received_at": self.received_at.isoformat(),
            "library": self.library,
            "sender": self.mail_from,
            "recipient_classes": list(self.recipient_classes),
            "recipient_hashes": list(self.recipient_hashes),
            "rules": list(self.rules),
            "findings": dict(self.finding_counts),
            "excerpts": [{"kind": e.kind, "part": e.part, "excerpt": e.excerpt} for e in self.excerpts],
            "state": self.state.value,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "reviewer": self.reviewer,
            "note": self.note,
            "failure": self.failure,
            "escalated_at": self.escalated_at.isoformat() if self.escalated_at else None,
            "has_content": self.has_content,
            "queue_id": self.queue_id,
            "subject": self.subject,
            "recipient_domains": list(self.recipient_domains),
            "attachments": [{"content_type": a.content_type, "name": a.name, "findings": list(a.finding_kinds)}
                            for a in self.attachments],
        }


@dataclass(frozen=True, slots=True)
class Overview:
    """The clear summary a hold adds to its item (see `HeldItem.subject`); built by `proxy.relay.holds`."""

    subject: str = ""
    recipient_domains: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()

    def to_json(self) -> str:
        return json.dumps({"subject": self.subject, "recipient_domains": list(self.recipient_domains),
                           "attachments": [[a.content_type, a.name, list(a.finding_kinds)] for a in self.attachments]},
                          ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> Overview:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(str(data.get("subject", "")), tuple(data.get("recipient_domains", ())),
                   tuple(Attachment(str(c), str(n), tuple(k)) for c, n, k in data.get("attachments", ())))


@dataclass(frozen=True, slots=True)
class ReviewSession:
    """A review pages' session as stored: keyed by its token's hash; times in microseconds since the epoch."""

    token_hash: str
    csrf: str
    user: str | None
    created_us: int
    seen_us: int
    flash: tuple[tuple[str, str, str], ...] = ()  # (kind, text, item id) banners still to show


@dataclass(frozen=True, slots=True)
class Envelope:
    """The sealed part of an item, once opened: the held recipients and the original bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...] = field(repr=False)
    raw: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of trying to claim an item for release.

    `claimed` is True for exactly one caller among concurrent ones (any node);
    only that caller gets the opened `envelope` and may deliver it.
    """

    item: HeldItem
    claimed: bool
    envelope: Envelope | None = field(default=None, repr=False)


# ----------------------------------------------------------------- the protocol


class QuarantineStore(Protocol):
    """Where held mail waits for a decision. Every content view and decision is audited
    in the same transaction as the change it records."""

    def hold(
        self,
        raw: bytes,
        mail_from: str,
        rcpt_tos: Sequence[str],
        recipient_classes: Sequence[str],
        rules: Sequence[str],
        findings: Sequence[dict[str, Any]],
        received_at: datetime | None = None,
        *,
        library: str | None = None,
        queue_id: str | None = None,
        overview: Overview | None = None,
    ) -> str: ...

    def get(self, item_id: str) -> HeldItem: ...

    def items(
        self, state: ItemState | None = None, library: str | None = None, limit: int | None = None
    ) -> list[HeldItem]: ...

    def counts(self) -> dict[str, int]: ...

    def reveal(self, item_id: str, actor: Actor) -> Envelope: ...

    def claim(self, item_id: str, actor: Actor) -> Claim: ...

    def settle(
        self,
        item_id: str,
        actor: Actor,
        *,
        from_states: Sequence[ItemState],
        to_state: ItemState,
        action: AuditAction,
        note: str | None = None,
        failure: str | None = None,
        reviewer: str | None = None,
    ) -> HeldItem | None: ...

    def escalate(self, item_id: str, actor: Actor) -> HeldItem | None: ...

    def due(self, cutoff: datetime, *, escalated: bool | None, limit: int) -> list[str]: ...

    def drop_decided_content(self, limit: int) -> int: ...

    def delete_metadata(self, decided_before: datetime, limit: int) -> int: ...

    def compact(self) -> None: ...

    def rotate_keys(self, actor: Actor) -> int: ...

    def record(self, actor: Actor, action: AuditAction, item_id: str | None = None, detail: str = "") -> None: ...

    def approve_fax(self, item_id: str, destination: str, digests: Sequence[str], actor: Actor) -> None: ...

    def fax_approved(self, destination: str, digests: Sequence[str], since: datetime) -> bool: ...

    def delete_fax_approvals(self, approved_before: datetime, limit: int) -> int: ...

    def audit_log(self) -> list[AuditRecord]: ...

    def verify_audit(self) -> AuditReport: ...

    # supervisors' digests (proxy.quarantine.digest): what each digest reported, by item id and kind

    def digest_reported(self, kind: str, pending_after: datetime) -> set[str]: ...

    def record_digest(
        self,
        digest_id: str,
        library: str,
        entries: Sequence[tuple[str, str]],
        *,
        pending_after: datetime,
        exclusive: bool = True,
    ) -> set[tuple[str, str]]: ...

    def digest_sent(self, digest_id: str, notice_id: str) -> None: ...

    def forget_digest(self, digest_id: str) -> None: ...

    def last_digest(self, library: str) -> datetime | None: ...

    # the review pages' sign-in sessions (proxy.web.app), shared by every node

    def session_get(self, token_hash: str) -> ReviewSession | None: ...

    def session_put(self, session: ReviewSession) -> None: ...

    def session_drop(self, token_hash: str) -> None: ...

    def session_prune(self, idle_before_us: int, created_before_us: int, max_anonymous: int) -> None: ...

    def session_counts(self) -> tuple[int, int]: ...

    def close(self) -> None: ...
