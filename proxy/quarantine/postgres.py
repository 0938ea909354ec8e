"""The scale-out quarantine backend: PostgreSQL through psycopg 3, shared by several relay nodes.

This module owns connecting and PostgreSQL's transactions. Each store holds one
connection (autocommit outside explicit transactions). Release claims rely on
PostgreSQL's row locks (see `proxy.quarantine.sql`); the audit chain is
serialised across nodes with a table lock taken last in each transaction, so
no transaction waits for a row while holding it.

Destroyed content: rows are deleted and `compact()` runs VACUUM. Dead tuples
and WAL segments may keep old *ciphertext* for a while; they are useless once
the master key that wrapped their data keys is retired (`keys rotate`), which
is what makes destruction real here (crypto-shredding).

Connection errors never echo the DSN (it may hold a password).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg

from proxy.quarantine.crypto import KeyRing
from proxy.quarantine.sql import SqlQuarantine, Tx
from proxy.quarantine.store import StoreUnavailable


class PostgresQuarantine(SqlQuarantine):
    dialect = "postgresql"
    placeholder = "%s"

    def __init__(self, dsn: str, keys: KeyRing, clock: Callable[[], datetime] | None = None, *,
                 create: bool = True) -> None:
        """Connect; with `create=False` a database without the quarantine's tables is an error, not set up."""
        super().__init__(keys, clock)
        try:
            self._conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise StoreUnavailable(f"cannot connect to the PostgreSQL quarantine ({type(exc).__name__})") from None
        if not create:
            row = self._conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
            if not row or not row[0]:
                self._conn.close()
                raise StoreUnavailable("the PostgreSQL quarantine (quarantine.dsn) has no quarantine tables yet: "
                                       "`patronguard serve` or `patronguard quarantine init` creates them")
        self._migrate()

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._conn.transaction(), self._conn.cursor() as cur:
            yield cur

    def _cursor(self) -> Any:
        return self._conn.cursor()

    def _lock_audit(self, tx: Tx) -> None:
        tx.run("LOCK TABLE audit IN SHARE ROW EXCLUSIVE MODE")

    def _lock_digests(self, tx: Tx) -> None:
        tx.run("LOCK TABLE digests IN SHARE ROW EXCLUSIVE MODE")

    def compact(self) -> None:
        with self._lock:
            self._conn.execute("VACUUM item_content")
            self._conn.execute("VACUUM items")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            self.anchor.close()
