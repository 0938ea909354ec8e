"""Retention: held items expire, decided items lose content at once and metadata later.

This module owns `purge()`, what `patronguard quarantine purge` and its systemd
timer run. In batches (so one run never holds a lock for long):

1. held (and failed) items older than `retention_days` expire: either at once
   (`expiry_action: reject` — the sender gets the notice), or first escalated to
   the library's admin (`expiry_action: escalate`) and expired
   `escalation_days` later if still undecided;
2. any content a decided item still has (a crash between decision and drop)
   is destroyed — normally decisions destroy content in their own transaction;
3. decided items' metadata is deleted `audit_days` after the decision;
4. the store compacts (SQLite: WAL checkpoint; PostgreSQL: VACUUM).

The run is audited with its counts. The clock is injected so tests can move time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from proxy.quarantine.audit import Actor, AuditAction
from proxy.quarantine.review import Notifier, NullNotifier
from proxy.quarantine.sql import BATCH, utcnow
from proxy.quarantine.store import OPEN_STATES, ItemState, QuarantineStore

RETENTION = Actor("retention", "purge")
EXPIRY_ACTIONS = ("reject", "escalate")


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    retention_days: float = 14
    expiry_action: str = "reject"  # reject | escalate
    escalation_days: float = 7
    audit_days: float = 365

    def __post_init__(self) -> None:
        if self.expiry_action not in EXPIRY_ACTIONS:
            raise ValueError(f"expiry_action must be one of {', '.join(EXPIRY_ACTIONS)}")


@dataclass(frozen=True, slots=True)
class PurgeReport:
    expired: int = 0
    escalated: int = 0
    content_destroyed: int = 0
    metadata_deleted: int = 0
    approvals_deleted: int = 0  # fax approvals older than the audit period

    def summary(self) -> str:
        return (f"expired={self.expired} escalated={self.escalated} "
                f"content_destroyed={self.content_destroyed} metadata_deleted={self.metadata_deleted}"
                + (f" fax_approvals_deleted={self.approvals_deleted}" if self.approvals_deleted else ""))


def purge(
    store: QuarantineStore,
    policy: RetentionPolicy,
    notifier: Notifier | None = None,
    clock: Callable[[], datetime] = utcnow,
    batch: int = BATCH,
    actor: Actor = RETENTION,
) -> PurgeReport:
    """Apply the retention policy once; return what was done."""
    notify: Notifier = notifier or NullNotifier()
    now = clock()
    expired = escalated = 0
    note = f"expired after {policy.retention_days:g} days without a decision"
    cutoff = now - timedelta(days=policy.retention_days)

    if policy.expiry_action == "escalate":
        while ids := store.due(cutoff, escalated=False, limit=batch):
            for item_id in ids:
                item = store.escalate(item_id, actor)
                if item is not None:
                    escalated += 1
                    _notify(store, actor, item.id, notify.notify_admin, item, f"undecided for {policy.retention_days:g} days")
            if len(ids) < batch:
                break
        expire_ids = lambda: store.due(now - timedelta(days=policy.escalation_days), escalated=True, limit=batch)  # noqa: E731
    else:
        expire_ids = lambda: store.due(cutoff, escalated=None, limit=batch)  # noqa: E731

    while ids := expire_ids():
        for item_id in ids:
            item = store.settle(item_id, actor, from_states=OPEN_STATES, to_state=ItemState.EXPIRED,
                                action=AuditAction.EXPIRE, note=note, reviewer=actor.name)
            if item is not None:
                expired += 1
                _notify(store, actor, item.id, notify.notify_sender, item, ItemState.EXPIRED, note)
        if len(ids) < batch:
            break

    destroyed = 0
    while (n := store.drop_decided_content(batch)) > 0:
        destroyed += n
    deleted = 0
    while (n := store.delete_metadata(now - timedelta(days=policy.audit_days), batch)) > 0:
        deleted += n
    approvals = 0
    while (n := store.delete_fax_approvals(now - timedelta(days=policy.audit_days), batch)) > 0:
        approvals += n
    store.compact()
    report = PurgeReport(expired, escalated, destroyed, deleted, approvals)
    store.record(actor, AuditAction.PURGE, None, report.summary())
    return report


def _notify(store: QuarantineStore, actor: Actor, item_id: str, send: Callable[..., None], *args: object) -> None:
    """The expiry is already durable: a failed notice is recorded in the audit trail, and purging goes on."""
    try:
        send(*args)
    except Exception as exc:
        store.record(actor, AuditAction.NOTIFY_FAILED, item_id, f"notice failed ({type(exc).__name__})")
