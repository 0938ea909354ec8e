"""Supervisors' digests: per member library, the held mail its supervisors have not yet been told about.

This module owns choosing what one digest reports and recording that it did,
so the next run does not repeat it (`patronguard quarantine digest`, run by
`systemd/patronguard-digest.timer` on weekday mornings). A digest reports, for
one member library:

- the items held since the last digest ("new"), each once;
- the items whose deadline — expiry, or escalation to the library's admin
  under `expiry_action: escalate` — is less than `EXPIRING` away, each once;
- how many items are waiting and when the oldest was sent (context only).

It renders and sends nothing itself: `run_digests` takes `route` (a member
library's domain → the supervisors' key and addresses, from `proxy.relay.notices`)
and `send` (a `Digest` → the spool id of the notice). What it keeps in the
database is ids and times: `digests` and `digest_items` (migration 3).

Order, and what a crash does: record the digest (under a lock, leaving out
what another run already reported), spool the notice, mark the digest sent. A
failure to spool undoes the record; a crash between the two leaves a digest
that is not marked sent, whose items are reported again after `LEASE` — a
supervisor may then get an item twice, never zero times.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from proxy.quarantine.retention import RetentionPolicy
from proxy.quarantine.sql import utcnow
from proxy.quarantine.store import OPEN_STATES, HeldItem, QuarantineStore

NEW, EXPIRING_SOON = "new", "expiring"
EXPIRING = timedelta(days=2)  # items closer than this to their deadline are listed as "decide soon"
LEASE = timedelta(minutes=10)  # a digest not marked sent after this is taken to have failed

# member library domain → (the supervisors' key for that library, their addresses)
Route = Callable[[str], tuple[str, tuple[str, ...]]]


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One held item in a digest, with the moment it expires (or escalates to the admin)."""

    item: HeldItem
    deadline: datetime
    escalates: bool = False


@dataclass(frozen=True, slots=True)
class Digest:
    """What one digest reports to one member library's supervisors (metadata only)."""

    id: str
    library: str
    supervisors: tuple[str, ...]
    created_at: datetime
    new: tuple[DigestEntry, ...]
    expiring: tuple[DigestEntry, ...]
    waiting: int  # open items of the library, reported or not
    oldest: datetime | None
    last_sent: datetime | None = None  # the previous digest for this library
    window: timedelta | None = None  # `--since`: new = held within this window, reported before or not


@dataclass(frozen=True, slots=True)
class DigestOutcome:
    """What a run did for one library: a digest (and its spool id), or why there was none."""

    library: str
    digest: Digest | None = None
    notice_id: str = ""
    skipped: str = ""


def new_digest_id() -> str:
    return "d-" + secrets.token_urlsafe(9)


def deadline(item: HeldItem, policy: RetentionPolicy) -> DigestEntry:
    """When retention acts on `item` next: expiry, or escalation first under `expiry_action: escalate`."""
    if policy.expiry_action == "escalate":
        if item.escalated_at is None:
            return DigestEntry(item, item.received_at + timedelta(days=policy.retention_days), escalates=True)
        return DigestEntry(item, item.escalated_at + timedelta(days=policy.escalation_days))
    return DigestEntry(item, item.received_at + timedelta(days=policy.retention_days))


def run_digests(
    store: QuarantineStore,
    policy: RetentionPolicy,
    route: Route,
    send: Callable[[Digest], str],
    *,
    library: str | None = None,
    window: timedelta | None = None,
    dry_run: bool = False,
    clock: Callable[[], datetime] = utcnow,
    expiring: timedelta = EXPIRING,
) -> list[DigestOutcome]:
    """Build, record and send one digest per member library with something to report.

    `library` limits the run to one member library (a domain, routed like a
    sender's). `window` lists the items held within it even if an earlier
    digest did (a re-send); without it each item is reported once. `dry_run`
    builds the digests without recording or sending them.
    """
    now = clock()
    open_items = [i for state in OPEN_STATES for i in store.items(state)]
    groups: dict[str, tuple[tuple[str, ...], list[HeldItem]]] = {}
    for item in open_items:
        key, supervisors = route(item.library)
        groups.setdefault(key, (supervisors, []))[1].append(item)
    wanted = route(library.lower())[0] if library else None
    if wanted is not None and wanted not in groups:
        return [DigestOutcome(wanted, skipped="no held mail")]
    pending_after = now - LEASE
    reported = {kind: store.digest_reported(kind, pending_after) for kind in (NEW, EXPIRING_SOON)}
    outcomes: list[DigestOutcome] = []
    for key in sorted(groups):
        if wanted is not None and key != wanted:
            continue
        supervisors, items = groups[key]
        entries = sorted((deadline(i, policy) for i in items), key=lambda e: (e.item.received_at, e.item.id))
        if window is not None:
            new = [e for e in entries if e.item.received_at >= now - window]
            soon = [e for e in entries if e.deadline <= now + expiring]
        else:
            new = [e for e in entries if e.item.id not in reported[NEW]]
            soon = [e for e in entries if e.deadline <= now + expiring and e.item.id not in reported[EXPIRING_SOON]]
        if not new and not soon:
            outcomes.append(DigestOutcome(key, skipped="nothing new since the last digest"))
            continue
        if not supervisors:
            outcomes.append(DigestOutcome(key, skipped="no supervisors configured for this library "
                                                       "(notices.library_supervisors or notices.supervisors)"))
            continue
        digest_id = new_digest_id()
        if not dry_run:
            claimed = store.record_digest(
                digest_id, key, [(e.item.id, NEW) for e in new] + [(e.item.id, EXPIRING_SOON) for e in soon],
                pending_after=pending_after, exclusive=window is None,
            )
            new = [e for e in new if (e.item.id, NEW) in claimed]
            soon = [e for e in soon if (e.item.id, EXPIRING_SOON) in claimed]
            if not claimed:
                outcomes.append(DigestOutcome(key, skipped="another digest run reported these items"))
                continue
        digest = Digest(
            id=digest_id,
            library=key,
            supervisors=supervisors,
            created_at=now,
            new=tuple(new),
            expiring=tuple(soon),
            waiting=len(entries),
            oldest=entries[0].item.received_at if entries else None,
            last_sent=store.last_digest(key),
            window=window,
        )
        if dry_run:
            outcomes.append(DigestOutcome(key, digest))
            continue
        try:
            notice_id = send(digest)
        except BaseException:
            store.forget_digest(digest_id)  # not in the spool: report these items next time
            raise
        store.digest_sent(digest_id, notice_id)
        outcomes.append(DigestOutcome(key, digest, notice_id))
    return outcomes
