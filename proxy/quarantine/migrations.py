"""The quarantine's schema and a small versioned migration runner for SQLite and PostgreSQL.

This module owns the DDL. Each migration is a version number, a description and
the statements for each dialect; `migrate` applies the missing ones in order,
each in its own transaction together with its `schema_version` row. On
PostgreSQL an advisory lock makes several nodes starting at once apply each
migration exactly once; on SQLite `BEGIN IMMEDIATE` does the same.

Why a runner and not Alembic: a handful of tables, two dialects, no ORM — a list of
statements is easier to read and needs no dependency. New migrations are
appended, never edited.

Layout: `items` holds the clear metadata; `item_content` holds the sealed
envelope and the wrapped data key in a row of its own, so destroying content is
a DELETE of a whole row (zeroed by SQLite's secure_delete) rather than an
UPDATE that leaves the old bytes in the page. `audit` is append-only: triggers
refuse UPDATE and DELETE.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from proxy.quarantine.store import StoreUnavailable

PG_LOCK_ID = 0x5047_5175  # "PGQu": one advisory lock id for schema changes


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]


_SESSIONS = """
CREATE TABLE review_sessions (
    token_hash TEXT PRIMARY KEY,
    csrf TEXT NOT NULL,
    user_name TEXT,
    created_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL,
    flash TEXT NOT NULL
)"""

_ITEMS = """
CREATE TABLE items (
    id TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL,
    library TEXT NOT NULL,
    mail_from TEXT NOT NULL,
    recipient_classes TEXT NOT NULL,
    recipient_hashes TEXT NOT NULL,
    rules TEXT NOT NULL,
    finding_counts TEXT NOT NULL,
    excerpts TEXT NOT NULL,
    state TEXT NOT NULL,
    decided_at BIGINT,
    reviewer TEXT,
    note TEXT,
    failure TEXT,
    escalated_at BIGINT,
    claimed_at BIGINT,
    claimed_by TEXT
)"""

_AUDIT = """
CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at_us BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    item_id TEXT,
    origin TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
)"""

_FAX_APPROVALS = """
CREATE TABLE fax_approvals (
    destination_hash TEXT NOT NULL,
    document_hash TEXT NOT NULL,
    item_id TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at BIGINT NOT NULL,
    PRIMARY KEY (destination_hash, document_hash)
)"""

_INDEXES = (
    "CREATE INDEX items_state_received ON items (state, received_at)",
    "CREATE INDEX items_library ON items (library, received_at)",
    "CREATE INDEX items_decided ON items (decided_at)",
)

_DIGESTS = (
    "CREATE TABLE digests (id TEXT PRIMARY KEY, library TEXT NOT NULL, created_at BIGINT NOT NULL,"
    " sent_at BIGINT, notice_id TEXT)",
    "CREATE INDEX digests_library ON digests (library, sent_at)",
    "CREATE TABLE digest_items (digest_id TEXT NOT NULL REFERENCES digests(id) ON DELETE CASCADE,"
    " item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE, kind TEXT NOT NULL,"
    " PRIMARY KEY (digest_id, item_id, kind))",
    "CREATE INDEX digest_items_item ON digest_items (item_id, kind)",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "items, sealed content, audit chain",
        sqlite=(
            _ITEMS,
            "CREATE TABLE item_content (item_id TEXT PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,"
            " key_id TEXT NOT NULL, wrapped_key BLOB NOT NULL, ciphertext BLOB NOT NULL)",
            _AUDIT,
            *_INDEXES,
            "CREATE INDEX item_content_key ON item_content (key_id)",
            "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
            "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
        ),
        postgresql=(
            _ITEMS,
            "CREATE TABLE item_content (item_id TEXT PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,"
            " key_id TEXT NOT NULL, wrapped_key BYTEA NOT NULL, ciphertext BYTEA NOT NULL)",
            # Sealed bytes do not compress; storing them uncompressed saves the attempt.
            "ALTER TABLE item_content ALTER COLUMN ciphertext SET STORAGE EXTERNAL",
            _AUDIT,
            *_INDEXES,
            "CREATE INDEX item_content_key ON item_content (key_id)",
            "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
            " $$BEGIN RAISE EXCEPTION 'audit is append-only'; END$$",
            "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit"
            " FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
        ),
    ),
    # The relay's spool queue id of a held message, so holding the same spool entry
    # again after a crash (before the relay recorded the hold) finds the first item.
    # Nullable: items held by other paths (tests, imports) have none.
    Migration(
        2,
        "items.queue_id for idempotent holds from the relay",
        sqlite=("ALTER TABLE items ADD COLUMN queue_id TEXT", "CREATE INDEX items_queue_id ON items (queue_id)"),
        postgresql=("ALTER TABLE items ADD COLUMN queue_id TEXT", "CREATE INDEX items_queue_id ON items (queue_id)"),
    ),
    # Supervisors' digests (proxy.quarantine.digest): which items each digest reported,
    # as new or as close to expiry, so the next run does not repeat them. `sent_at` stays
    # NULL until the digest is in the spool. Rows go with their item (ON DELETE CASCADE)
    # when retention deletes its metadata; they hold ids and times only.
    Migration(
        3,
        "digests and digest_items for supervisors' digests",
        sqlite=_DIGESTS,
        postgresql=_DIGESTS,
    ),
    # A supervisor's release of a held HylaFAX job (proxy.fax.hook): these documents may go to this
    # number, so the job resubmitted unchanged passes the hook. Both columns are keyed hashes
    # (KeyRing.address_hash), never the number or a plain document digest; rows outlive the item.
    Migration(
        4,
        "fax_approvals: released fax documents per destination number",
        sqlite=(_FAX_APPROVALS,),
        postgresql=(_FAX_APPROVALS,),
    ),
    # What tells held items apart in the review list (HeldItem.subject, recipient_domains,
    # attachments) as one JSON text: the Subject with patron data masked, the held recipients'
    # domains, attachments' types, masked names and finding kinds. Nullable: older items have none.
    Migration(
        5,
        "items.overview: masked subject, recipient domains and attachments for the review list",
        sqlite=("ALTER TABLE items ADD COLUMN overview TEXT",),
        postgresql=("ALTER TABLE items ADD COLUMN overview TEXT",),
    ),
    # Review pages' sign-in sessions (proxy.web.app), so every node serving the pages shares them
    # and a restart signs nobody out. Keyed by the SHA-256 of the cookie's token (a database read
    # gives no usable cookie); the CSRF token, the login name (NULL before sign-in), times in
    # microseconds and the banners still to show (JSON). No message content.
    Migration(
        6,
        "review_sessions: sign-in sessions of the review pages, shared by every node",
        sqlite=(_SESSIONS, "CREATE INDEX review_sessions_seen ON review_sessions (seen_at)"),
        postgresql=(_SESSIONS, "CREATE INDEX review_sessions_seen ON review_sessions (seen_at)"),
    ),
)

LATEST = MIGRATIONS[-1].version
_VERSION_TABLE = ("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
                  " description TEXT NOT NULL, applied_at BIGINT NOT NULL)")


def migrate(
    execute: Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]],
    transaction: Callable[[], Any],
    dialect: str,
) -> list[int]:
    """Apply missing migrations; return the versions applied.

    `execute(sql, params)` runs one statement (placeholders `?`) and returns its
    rows; `transaction()` is a context manager for one write transaction.
    """
    applied: list[int] = []
    for m in MIGRATIONS:
        with transaction():
            if dialect == "postgresql":
                execute("SELECT pg_advisory_xact_lock(?)", (PG_LOCK_ID,))
            execute(_VERSION_TABLE, ())
            newest = execute("SELECT MAX(version) FROM schema_version", ())[0][0]
            if newest is not None and newest > LATEST:
                raise StoreUnavailable(
                    f"the quarantine database has schema version {newest}; this PatronGuard knows up to {LATEST}"
                )
            done = execute("SELECT 1 FROM schema_version WHERE version = ?", (m.version,))
            if done:
                continue
            for statement in getattr(m, dialect):
                execute(statement, ())
            execute("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                    (m.version, m.description, int(time.time())))
            applied.append(m.version)
    return applied
