"""Held mail: where the relay and the encrypted quarantine meet, in both directions.

This module owns two small adapters and nothing else:

- `HoldStore`, the protocol the pipeline calls for every recipient that is not
  delivered, and `QuarantineHoldStore`, which implements it on a
  `QuarantineStore` (the message is sealed there; see `proxy.quarantine`).
- `UpstreamDeliverer`, the quarantine's `Deliverer` on top of the relay's own
  `Upstream` transports (`smtp://` or `maildir:`), so a release goes where the
  relay's allowed mail goes, through the same client code.

Idempotence: the pipeline records a hold in the spool state only after
`hold()` returned, so a crash in between makes it hold the same entry again.
The spool queue id goes into the item (`items.queue_id`), and the store returns
the existing item for the same queue id and recipients in the same transaction
that would insert a new one — one item per spool entry, whatever the timing.
(A marker file next to the spool entry would leave the same crash window.)

Nothing here logs or decides; no raw finding text is passed on, only each
finding's kind, part and masked excerpt (`HoldRequest.excerpts`).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Protocol

from detectors.extract import decode_header_value
from proxy.quarantine import (
    Attachment,
    Overview,
    PermanentDeliveryError,
    QuarantineStore,
    TemporaryDeliveryError,
)
from proxy.relay.delivery import Outcome, Status, Upstream
from proxy.relay.spool import EntryState, SpoolEntry
from proxy.scanning.explain import Excerpt, masked_filename, masked_line


@dataclass(frozen=True, slots=True)
class HoldRequest:
    """One spool entry to seal for some of its recipients, with what a supervisor is shown of it."""

    entry: SpoolEntry
    recipients: tuple[str, ...]
    classes: tuple[str, ...]  # each recipient's class (a `RecipientClass` value or "unknown"), in the same order
    rules: tuple[str, ...]
    excerpts: tuple[Excerpt, ...] = ()

    @classmethod
    def of(cls, entry: SpoolEntry, state: EntryState, recipients: Sequence[str],
           extra_rules: Sequence[str] = ()) -> HoldRequest:
        """The hold of `recipients` of `entry` as its state records them (classes, rules, excerpts)."""
        classes = tuple(state.recipients[a].cls or "unknown" if a in state.recipients else "unknown" for a in recipients)
        return cls(entry, tuple(recipients), classes, tuple(dict.fromkeys((*state.rules, *extra_rules))),
                   state.findings)


class HoldStore(Protocol):
    def hold(self, request: HoldRequest) -> str:
        """Store the request's entry durably for its recipients; return a reference id. Blocking; idempotent."""
        ...


class QuarantineHoldStore:
    """The relay's `HoldStore` on the encrypted quarantine (blocking: call from a thread)."""

    def __init__(self, store: QuarantineStore) -> None:
        self.store = store

    def hold(self, request: HoldRequest) -> str:
        entry = request.entry
        received = datetime.fromtimestamp(entry.envelope.received_at, UTC) if entry.envelope.received_at else None
        try:
            summary = overview(entry.raw, request.recipients, request.excerpts)
        except Exception:  # an unparsable message is held all the same, with nothing to tell it apart
            summary = Overview()
        return self.store.hold(
            entry.raw,
            entry.envelope.mail_from,
            list(request.recipients),
            list(request.classes),
            list(request.rules),
            [e.to_json() for e in request.excerpts],
            received,
            queue_id=entry.id,
            overview=summary,
        )


def overview(raw: bytes, recipients: Sequence[str], findings: Sequence[Excerpt]) -> Overview:
    """What tells a held message apart in the review list, with no value the scanner found in it.

    The Subject masked like an excerpt (strictly when a finding was in it), each held
    recipient's domain (never the local part), and each attachment's type, masked file
    name and the kinds of data found in it (by the extractor's MIME part numbers).
    """
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    subject = " ".join(decode_header_value(str(v)) for v in message.get_all("Subject", []) if v)
    in_subject = any(f.part == "subject" for f in findings)
    domains = tuple(r.rpartition("@")[2].lower() if "@" in r else r.partition(":")[0] for r in recipients)
    attachments: list[Attachment] = []

    def kinds_in(path: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.kind for f in findings
                                   if f.part == path or f.part.startswith((path + "/", path + "."))))

    def walk(part: Message, num: str) -> None:
        path = num or "1"
        ctype = part.get_content_type()
        name = decode_header_value(str(part.get_filename() or ""))
        if part.is_multipart() and not ctype.startswith("message/"):
            for i, child in enumerate(part.get_payload(), 1):
                if isinstance(child, Message) and len(attachments) < MAX_ATTACHMENTS:
                    walk(child, f"{num}.{i}" if num else str(i))
            return
        attached = name or str(part.get("Content-Disposition", "")).lower().startswith("attachment")
        if num and (attached or ctype.startswith("message/")):
            shown = masked_filename(name) if name else ("forwarded message" if ctype.startswith("message/") else "")
            attachments.append(Attachment(ctype, shown, kinds_in(path)))

    walk(message, "")
    return Overview(masked_line(subject, strict=in_subject), domains, tuple(attachments))


MAX_ATTACHMENTS = 20  # attachments described per item (a message with hundreds lists the first ones)
_ENHANCED = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")


def _reason(outcome: Outcome | None) -> str:
    """Reply code and enhanced status (e.g. '554 5.7.1'): the reply's free text may quote the address."""
    if outcome is None:
        return "no reply"
    status = _ENHANCED.match(outcome.detail)
    return f"{outcome.code}{' ' + status.group(0) if status else ''}"


class UpstreamDeliverer:
    """The quarantine's `Deliverer` over a relay `Upstream`: released mail leaves like allowed mail.

    Synchronous (the review service is): it runs the upstream's coroutine in a
    private event loop, so call it from a thread with no running loop.
    """

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream

    def deliver(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> None:
        smtputf8 = not all(a.isascii() for a in (mail_from, *rcpt_tos))
        outcomes = asyncio.run(self.upstream.send(mail_from, rcpt_tos, raw, smtputf8))
        failed: dict[str, Outcome | None] = {r: o for r, o in outcomes.items() if o.status is not Status.OK}
        failed.update({r: None for r in rcpt_tos if r not in outcomes})
        if not failed:
            return
        codes = ",".join(sorted({_reason(o) for o in failed.values()}))
        if len(failed) < len(rcpt_tos):
            raise PermanentDeliveryError(
                f"upstream refused {len(failed)} of {len(rcpt_tos)} recipient(s): {codes}", partial=True
            )
        if all(o is not None and o.status is Status.TEMPORARY for o in failed.values()):
            raise TemporaryDeliveryError(f"upstream did not take the message for now: {codes}")
        raise PermanentDeliveryError(f"upstream refused all {len(rcpt_tos)} recipient(s): {codes}")
