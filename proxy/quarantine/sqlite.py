"""The embedded quarantine backend: one SQLite file (WAL, secure_delete, mode 0600).

This module owns opening the file safely and SQLite's transactions. SQLite
creates the file itself, under a umask of 077, so it is mode 0600 (SQLite gives
its -wal and -shm files the same mode). Nothing else ever opens a descriptor on
the database file: closing *any* descriptor of a file releases every POSIX lock
the process holds on it, so a stray `os.close(os.open(db))` beside a live
connection drops that connection's locks, and the next process to connect
thinks it is alone, checkpoints and deletes the live -wal and -shm. One store
per process (`proxy.relay.serve` shares the relay's with the review pages) keeps it
that way. `secure_delete` makes SQLite overwrite deleted rows with
zeros, and `compact()` checkpoints and truncates the WAL, so destroyed content
is gone from both files, not just unreferenced. `synchronous=FULL`: a held
message is acknowledged to the sender, so it must survive a power cut.

Writers take the database lock up front (`BEGIN IMMEDIATE`), which also
serialises appends to the audit chain between processes sharing the file.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from proxy.quarantine.crypto import KeyRing
from proxy.quarantine.sql import SqlQuarantine
from proxy.quarantine.store import StoreUnavailable

# The umask is per process: creating the file under 077 is serialised here, and only
# ever narrows what another thread creates in the meantime.
_UMASK = threading.Lock()


class SqliteQuarantine(SqlQuarantine):
    dialect = "sqlite"
    placeholder = "?"

    def __init__(self, path: str | Path, keys: KeyRing, clock: Callable[[], datetime] | None = None, *,
                 create: bool = True) -> None:
        """Open the file; with `create=False` a missing file is an error, never a new empty database."""
        super().__init__(keys, clock)
        self.path = Path(path)
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            target = self.path if create else "file:" + urllib.parse.quote(str(self.path.absolute())) + "?mode=rw"
            with _UMASK:
                previous = os.umask(0o077)
                try:
                    self._conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False, timeout=30,
                                                 uri=not create)
                    for pragma in ("journal_mode=WAL", "secure_delete=ON", "synchronous=FULL", "foreign_keys=ON",
                                   "busy_timeout=30000"):
                        self._conn.execute(f"PRAGMA {pragma}")
                finally:
                    os.umask(previous)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"{self.path}: cannot open the quarantine database ({type(exc).__name__})") from None
        self._migrate()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")

    def _cursor(self) -> sqlite3.Cursor:
        return self._conn.cursor()

    def compact(self) -> None:
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            self.anchor.close()
