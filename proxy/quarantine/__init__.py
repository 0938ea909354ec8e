"""The quarantine: where held mail waits, sealed, for a supervisor's decision.

Public API (the modules behind it own one concept each):

    store      QuarantineStore protocol, HeldItem, ItemState, Envelope, errors
    sqlite     SqliteQuarantine (embedded default)    postgres  PostgresQuarantine (several nodes)
    crypto     KeyRing: key file, AES-256-GCM sealing, data-key wrapping, keyed hashes
    audit      hash-chained audit records and verify()
    review     ReviewService (release / release_redacted / reject / show), Deliverer, Notifier
    retention  purge(): expiry, destruction, metadata deletion
    migrations the schema, versioned for both databases

`open_store(config)` builds the configured backend. PostgreSQL (psycopg) is
imported only when configured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from proxy.quarantine.audit import Actor, AuditAction, AuditRecord, AuditReport
from proxy.quarantine.crypto import KEY_FILE_ENV, KeyRing
from proxy.quarantine.retention import PurgeReport, RetentionPolicy, purge
from proxy.quarantine.review import (
    Deliverer,
    DeliveryError,
    Notifier,
    NullNotifier,
    PermanentDeliveryError,
    ReviewService,
    SmtpDeliverer,
    TemporaryDeliveryError,
    cli_origin,
)
from proxy.quarantine.store import (
    FAX_APPROVAL_HEADER,
    FAX_JOB_PREFIX,
    AuditTampered,
    Claim,
    DeliveryRefused,
    Envelope,
    Excerpt,
    HeldItem,
    InvalidTransition,
    ItemNotFound,
    ItemState,
    KeyFileError,
    QuarantineError,
    QuarantineStore,
    RedactionUnavailable,
    StoreUnavailable,
)


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """What `open_store` needs; `proxy.config.QuarantineConfig` has these fields."""

    backend: str = "sqlite"
    path: str = "/var/lib/patronguard/quarantine.db"
    dsn: str = ""
    key_file: str = "/var/lib/patronguard/quarantine.key"


def open_store(settings: StoreSettings | object, clock: Callable[[], datetime] | None = None) -> QuarantineStore:
    """Open the configured backend (creating the key file and schema on first use)."""
    backend = getattr(settings, "backend", "sqlite")
    keys = KeyRing.load_or_create(getattr(settings, "key_file", None))
    if backend == "postgresql":
        from proxy.quarantine.postgres import PostgresQuarantine

        dsn = getattr(settings, "dsn", "")
        if not dsn:
            raise StoreUnavailable("quarantine.backend is postgresql but quarantine.dsn is empty")
        return PostgresQuarantine(dsn, keys, clock)
    from proxy.quarantine.sqlite import SqliteQuarantine

    return SqliteQuarantine(getattr(settings, "path", "/var/lib/patronguard/quarantine.db"), keys, clock)


__all__ = [
    "FAX_APPROVAL_HEADER",
    "FAX_JOB_PREFIX",
    "KEY_FILE_ENV",
    "Actor",
    "AuditAction",
    "AuditRecord",
    "AuditReport",
    "AuditTampered",
    "Claim",
    "Deliverer",
    "DeliveryError",
    "DeliveryRefused",
    "Envelope",
    "Excerpt",
    "HeldItem",
    "InvalidTransition",
    "ItemNotFound",
    "ItemState",
    "KeyFileError",
    "KeyRing",
    "Notifier",
    "NullNotifier",
    "PermanentDeliveryError",
    "PurgeReport",
    "QuarantineError",
    "QuarantineStore",
    "RedactionUnavailable",
    "RetentionPolicy",
    "ReviewService",
    "SmtpDeliverer",
    "StoreSettings",
    "StoreUnavailable",
    "TemporaryDeliveryError",
    "cli_origin",
    "open_store",
    "purge",
]
