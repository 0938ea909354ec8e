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
from datetime import datetime
from pathlib import Path

from proxy.config import QuarantineConfig
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
    Attachment,
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
    Overview,
    QuarantineError,
    QuarantineStore,
    RedactionUnavailable,
    ReviewSession,
    StoreUnavailable,
)

StoreSettings = QuarantineConfig  # what `open_store` needs: backend, path, dsn, key_file (defaults declared once)


def open_store(settings: QuarantineConfig, clock: Callable[[], datetime] | None = None, *,
               create: bool = False) -> QuarantineStore:
    """Open the configured backend.

    Only `create=True` (`patronguard serve`, `patronguard quarantine init`) makes a
    new database, schema and key file. Everything else refuses a missing database
    or key file with `StoreUnavailable`/`KeyFileError` naming the path, so a
    mistyped `--state-dir` never starts a second, empty quarantine. A key file is
    never created for a database that already holds data: a new key could not
    open it, and would make the mail held there unreadable.
    """
    key_file = KeyRing.configured(settings.key_file)
    if settings.backend == "postgresql":
        return _open_postgres(settings.dsn, key_file, clock, create)
    from proxy.quarantine.sqlite import SqliteQuarantine

    path = Path(settings.path)
    if not path.exists():
        if not create:
            raise StoreUnavailable(f"{path}: no quarantine database there (check --state-dir and quarantine.path); "
                                   "`patronguard serve` or `patronguard quarantine init` creates it")
        return SqliteQuarantine(path, KeyRing.load_or_create(key_file), clock, create=True)
    if not key_file.exists():
        raise KeyFileError(f"{key_file}: no key file for the quarantine database {path}: restore it from the backup "
                           "(a new key could not open the mail held there); nothing was created")
    return SqliteQuarantine(path, KeyRing.load(key_file), clock, create=False)


def _open_postgres(dsn: str, key_file: Path, clock: Callable[[], datetime] | None, create: bool) -> QuarantineStore:
    from proxy.quarantine.postgres import PostgresQuarantine

    if not dsn:
        raise StoreUnavailable("quarantine.backend is postgresql but quarantine.dsn is empty")
    if key_file.exists():
        return PostgresQuarantine(dsn, KeyRing.load(key_file), clock, create=create)
    if not create:
        raise KeyFileError(f"{key_file}: no quarantine key file there (check --state-dir and quarantine.key_file; "
                           "every node needs a copy of the same key file)")
    keys = KeyRing.generate(key_file)
    store = PostgresQuarantine(dsn, keys, clock, create=True)
    if store.holds_data():
        store.close()
        raise KeyFileError(f"{key_file}: no key file, and the PostgreSQL quarantine already holds data: copy the key "
                           "file from another node or the backup (a new key could not open it); nothing was created")
    saved = keys.save_new()
    if saved is not keys:  # another process on this machine created the key file first: use theirs
        store.close()
        return PostgresQuarantine(dsn, saved, clock, create=True)
    return store


__all__ = [
    "FAX_APPROVAL_HEADER",
    "FAX_JOB_PREFIX",
    "KEY_FILE_ENV",
    "Actor",
    "AuditAction",
    "AuditRecord",
    "AuditReport",
    "Attachment",
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
    "Overview",
    "PermanentDeliveryError",
    "PurgeReport",
    "QuarantineError",
    "QuarantineStore",
    "RedactionUnavailable",
    "RetentionPolicy",
    "ReviewSession",
    "ReviewService",
    "SmtpDeliverer",
    "StoreSettings",
    "StoreUnavailable",
    "TemporaryDeliveryError",
    "cli_origin",
    "open_store",
    "purge",
]
