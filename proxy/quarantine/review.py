"""Supervisors' decisions: show, release, release-redacted and reject — the one service layer.

This module owns the review use-cases that the CLI and the review pages
call (both get the service from `proxy.wiring.review_service`); they hold no
logic of their own. It also defines the two seams a
decision acts through:

- `Deliverer`: hands a released message back to the mail path, raising
  `TemporaryDeliveryError` or `PermanentDeliveryError`. The CLI and the pages
  release through the relay's own upstream (`proxy.relay.holds.UpstreamDeliverer`);
  `SmtpDeliverer` is a plain smtplib one.
- `Notifier`: tells the sender (and, on escalation, the library's admin) the
  outcome: notices spooled in the relay's spool (`proxy.wiring.spool_notifier`),
  or `NullNotifier` when notices are switched off.

Release order: claim (exactly one caller, on any node) → deliver to the held
recipients only → mark released and destroy the content. The item is never
marked released before upstream accepted it; a refusal leaves it `failed` with
a content-free reason, and it can be released again or rejected. Releasing an
item that is already released does nothing.

A fax job held by the HylaFAX hook (`HeldItem.is_fax_job`) is not mail: its
release sends nothing. It records an approval of the job's documents for its
number (`QuarantineStore.approve_fax`, audited), marks the item released and
tells the owner to submit the job again; the hook then lets those documents
through to that number. Release-redacted is refused for it (a fax cannot be
masked), and its notices go through `fax_notifier` when one is given.

Release-redacted is the same with a masked copy: the service's `Redactor`
(`proxy.scanning.redact.redactor_for(scanner)`) scans the decrypted original again,
masks it and scans the copy; only a copy that scan would deliver is sent, and
the item becomes `released_redacted`. No clean copy: the item goes back to
held (audited as a failed release) and nothing is sent.
"""

from __future__ import annotations

import email.parser
import email.policy
import os
import smtplib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from proxy.quarantine.audit import Actor, AuditAction
from proxy.quarantine.store import (
    FAX_APPROVAL_HEADER,
    OPEN_STATES,
    DeliveryRefused,
    Envelope,
    HeldItem,
    InvalidTransition,
    ItemState,
    QuarantineStore,
    RedactionUnavailable,
)

# (raw message, held recipients) -> the redacted copy, or None when no clean copy can be made
# (`proxy.scanning.redact.redact_checked` bound to the relay's scanner: the copy passed a second scan).
Redactor = Callable[[bytes, list[str]], "bytes | None"]

# ----------------------------------------------------------------- the seams


class DeliveryError(Exception):
    """Upstream did not take the message. `reason` is safe to store: codes, never addresses or text."""

    def __init__(self, reason: str, *, partial: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.partial = partial  # some recipients accepted: do not send again


class TemporaryDeliveryError(DeliveryError):
    """Try again later (4xx, connection refused, timeout)."""


class PermanentDeliveryError(DeliveryError):
    """Upstream refused for good (5xx)."""


class Deliverer(Protocol):
    def deliver(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> None: ...


class Notifier(Protocol):
    def notify_sender(self, item: HeldItem, outcome: ItemState, note: str) -> None: ...

    def notify_admin(self, item: HeldItem, note: str) -> None: ...


class NullNotifier:
    """Tells nobody (until the relay's notice templates exist)."""

    def notify_sender(self, item: HeldItem, outcome: ItemState, note: str) -> None:
        return None

    def notify_admin(self, item: HeldItem, note: str) -> None:
        return None


def _smtp_reason(code: int, status: str) -> str:
    return f"upstream answered {code}{' ' + status if status else ''}"


def _status(message: bytes | str) -> str:
    """The enhanced status code (e.g. 5.1.1) of an SMTP reply, without the free text (it may name people)."""
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    first = text.split(" ", 1)[0] if text else ""
    return first if first.count(".") == 2 and first.replace(".", "").isdigit() else ""


@dataclass(frozen=True, slots=True)
class SmtpDeliverer:
    """Delivers with smtplib to one upstream (the relay's outbound MTA)."""

    host: str
    port: int = 25
    timeout: float = 60.0
    helo: str | None = None

    def deliver(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, local_hostname=self.helo, timeout=self.timeout) as smtp:
                refused = smtp.sendmail(mail_from, rcpt_tos, raw)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({c for c, _ in exc.recipients.values()})
            cls = TemporaryDeliveryError if all(400 <= c < 500 for c in codes) else PermanentDeliveryError
            raise cls(f"upstream refused all {len(rcpt_tos)} recipient(s): {','.join(map(str, codes))}") from None
        except smtplib.SMTPResponseException as exc:
            cls = TemporaryDeliveryError if 400 <= exc.smtp_code < 500 else PermanentDeliveryError
            raise cls(_smtp_reason(exc.smtp_code, _status(exc.smtp_error))) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryDeliveryError(f"upstream {self.host}:{self.port} unreachable ({type(exc).__name__})") from None
        if refused:
            codes = sorted({c for c, _ in refused.values()})
            raise PermanentDeliveryError(
                f"upstream refused {len(refused)} of {len(rcpt_tos)} recipient(s): {','.join(map(str, codes))}",
                partial=True,
            )


# ----------------------------------------------------------------- the service


@dataclass(frozen=True, slots=True)
class Shown:
    item: HeldItem
    envelope: Envelope | None  # only with reveal


class ReviewService:
    """Release, reject and show held items; every action is audited and the sender is told."""

    def __init__(
        self,
        store: QuarantineStore,
        deliverer: Deliverer,
        notifier: Notifier | None = None,
        redactor: Redactor | None = None,
        *,
        fax_notifier: Notifier | None = None,
    ) -> None:
        self.store = store
        self.deliverer = deliverer
        self.notifier: Notifier = notifier or NullNotifier()
        self.redactor = redactor  # None: release-redacted is refused
        self.fax_notifier = fax_notifier  # notices about fax jobs (None: the ordinary notifier)

    def show(self, item_id: str, actor: Actor, *, reveal: bool = False) -> Shown:
        """Metadata and masked excerpts; with `reveal`, the full content (audited before it is returned)."""
        if reveal:
            envelope = self.store.reveal(item_id, actor)
            return Shown(self.store.get(item_id), envelope)
        item = self.store.get(item_id)
        self.store.record(actor, AuditAction.VIEW, item_id, "metadata shown")
        return Shown(item, None)

    def release(self, item_id: str, by: str, note: str, *, origin: str = "cli") -> HeldItem:
        """Deliver the original to the held recipients; mark released only after upstream accepted it."""
        actor = _actor(by, note, origin)
        claim = self.store.claim(item_id, actor)
        if not claim.claimed:
            return self._not_claimed(claim.item)
        assert claim.envelope is not None
        if claim.item.is_fax_job:
            return self._approve_fax(item_id, actor, note, claim.envelope)
        return self._send(item_id, actor, note, claim.envelope, claim.envelope.raw, ItemState.RELEASED)

    def _approve_fax(self, item_id: str, actor: Actor, note: str, env: Envelope) -> HeldItem:
        """A claimed fax job: record the approval of its documents for its number, then mark it released."""
        try:
            destination, digests = fax_approval(env)
            self.store.approve_fax(item_id, destination, digests, actor)
        except Exception as exc:
            self.store.settle(item_id, actor, from_states=(ItemState.RELEASING,), to_state=ItemState.HELD,
                              action=AuditAction.RELEASE_FAILED, note=note,
                              failure=f"fax approval failed ({type(exc).__name__})")
            raise
        return self._released(item_id, actor, note)

    def _send(self, item_id: str, actor: Actor, note: str, env: Envelope, raw: bytes, state: ItemState) -> HeldItem:
        """Deliver `raw` to the held recipients of a claimed item; settle it as `state`, or as failed."""
        try:
            self.deliverer.deliver(env.mail_from, list(env.rcpt_tos), raw)
        except DeliveryError as exc:
            if exc.partial:
                # Some recipients have it: sending again would duplicate, so the release stands.
                return self._released(item_id, actor, note, failure=exc.reason, state=state)
            failed = self.store.settle(item_id, actor, from_states=(ItemState.RELEASING,), to_state=ItemState.FAILED,
                                       action=AuditAction.RELEASE_FAILED, note=note, failure=exc.reason)
            kept = f"; kept as {failed.state.value}" if failed else ""
            raise DeliveryRefused(f"item {item_id}: release failed: {exc.reason}{kept}") from None
        except Exception as exc:
            self.store.settle(item_id, actor, from_states=(ItemState.RELEASING,), to_state=ItemState.FAILED,
                              action=AuditAction.RELEASE_FAILED, note=note,
                              failure=f"internal error ({type(exc).__name__})")
            raise
        return self._released(item_id, actor, note, state=state)

    def release_redacted(self, item_id: str, by: str, note: str, *, origin: str = "cli") -> HeldItem:
        """Deliver a redacted copy to the held recipients: scanned again, masked, and clean on a second scan.

        When no clean copy can be made the item goes back to held (audited as a
        failed release) and `RedactionUnavailable` says so; nothing is sent.
        """
        actor = _actor(by, note, origin)
        if self.store.get(item_id).is_fax_job:  # an unknown id is reported as such first
            raise InvalidTransition(
                f"item {item_id} is a fax job: a fax cannot be masked; release it (the owner may then resubmit it) "
                "or reject it"
            )
        if self.redactor is None:
            raise RedactionUnavailable(
                f"item {item_id}: redaction is not configured here; release the original or reject it"
            )
        claim = self.store.claim(item_id, actor)
        if not claim.claimed:
            return self._not_claimed(claim.item)
        assert claim.envelope is not None
        env = claim.envelope
        try:
            copy = self.redactor(env.raw, list(env.rcpt_tos))
        except Exception as exc:  # fail closed: no copy, nothing sent
            copy = None
            failure = f"redaction failed ({type(exc).__name__})"
        else:
            failure = "no clean redacted copy could be made"
        if copy is None:
            self.store.settle(item_id, actor, from_states=(ItemState.RELEASING,), to_state=ItemState.HELD,
                              action=AuditAction.RELEASE_FAILED, note=note, failure=failure)
            raise RedactionUnavailable(f"item {item_id}: {failure}; it stays held: release the original or reject it")
        return self._send(item_id, actor, note, env, copy, ItemState.RELEASED_REDACTED)

    def reject(self, item_id: str, by: str, note: str, *, origin: str = "cli") -> HeldItem:
        """Reject: destroy the content and tell the sender the supervisor's reason."""
        actor = _actor(by, note, origin)
        item = self.store.settle(item_id, actor, from_states=OPEN_STATES, to_state=ItemState.REJECTED,
                                 action=AuditAction.REJECT, note=note)
        if item is None:
            current = self.store.get(item_id)
            if current.state is ItemState.REJECTED:
                return current  # idempotent
            raise InvalidTransition(f"item {item_id} is {current.state.value}; only held or failed items can be rejected")
        self._notify(item, ItemState.REJECTED, note, actor)
        return item

    # ------------------------------------------------------------ helpers

    def _released(self, item_id: str, actor: Actor, note: str, failure: str | None = None,
                  state: ItemState = ItemState.RELEASED) -> HeldItem:
        item = self.store.settle(item_id, actor, from_states=(ItemState.RELEASING,), to_state=state,
                                 action=AuditAction.RELEASE, note=note, failure=failure)
        if item is None:  # our claim lapsed and someone else finished it
            return self.store.get(item_id)
        self._notify(item, state, note, actor)
        return item

    def _not_claimed(self, item: HeldItem) -> HeldItem:
        if item.state in (ItemState.RELEASED, ItemState.RELEASED_REDACTED, ItemState.RELEASING):
            return item  # released (or being released right now) by someone else: nothing to do
        raise InvalidTransition(f"item {item.id} is {item.state.value}; it can no longer be released")

    def _notify(self, item: HeldItem, outcome: ItemState, note: str, actor: Actor) -> None:
        # The decision is already durable: a failed notice is recorded, not a reason to undo it.
        notifier = self.fax_notifier if item.is_fax_job and self.fax_notifier is not None else self.notifier
        try:
            notifier.notify_sender(item, outcome, note)
        except Exception as exc:
            self.store.record(actor, AuditAction.NOTIFY_FAILED, item.id, f"sender notice failed ({type(exc).__name__})")


def fax_approval(env: Envelope) -> tuple[str, tuple[str, ...]]:
    """A fax item's destination ("fax:+15035550123") and the document digests its release approves."""
    if len(env.rcpt_tos) != 1 or not env.rcpt_tos[0].startswith("fax:"):
        raise InvalidTransition("the held fax job names no fax destination")
    message = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(env.raw)
    digests = tuple(d.strip().lower() for d in str(message.get(FAX_APPROVAL_HEADER, "")).split(",") if d.strip())
    if not digests:
        raise InvalidTransition("the held fax job lists no documents to approve")
    return env.rcpt_tos[0], digests


def _actor(by: str, note: str, origin: str) -> Actor:
    if not by.strip():
        raise InvalidTransition("a decision needs the reviewer's name (--by NAME)")
    if not note.strip():
        raise InvalidTransition("a decision needs a note saying why (--note TEXT)")
    return Actor(by.strip(), origin)


def cli_origin() -> str:
    """Where a CLI action comes from: host and user id (a login name can be spoofed with --by)."""
    return f"cli@{socket.gethostname()} uid={os.getuid()}"

