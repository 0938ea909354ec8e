"""Helpers for the quarantine tests: a throwaway PostgreSQL cluster, an SMTP sink, a clock, a notifier.

The PostgreSQL cluster is real (Debian's server binaries), started once per test
session in a temp dir with `pg_ctl`, listening only on a Unix socket. Tests run
as root in CI and PostgreSQL refuses to run as root, so as root the cluster is
owned by and run as the `postgres` user (or `nobody`). If it cannot be started,
the PostgreSQL half of the suite is skipped with a loud reason.

The SMTP sink is aiosmtpd on port 0 in a background event loop; it records
every transaction and can be told to refuse.
"""

from __future__ import annotations

import asyncio
import atexit
import glob
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from proxy.quarantine import HeldItem, ItemState
from proxy.quarantine.crypto import KeyRing
from proxy.quarantine.sql import SqlQuarantine

# aiosmtpd's logger writes addresses at INFO and body lines at DEBUG.
logging.getLogger("mail.log").setLevel(logging.WARNING)

CARD = "23610003622817"  # a check-digit-valid CCRLS patron card
PATRON_EMAIL = "maria.alvarez1987@gmail.com"
PATRON_NAME = "Maria Alvarez"
STAFF = "circ@cityofsalem.net"


def patron_message(card: str = CARD) -> bytes:
    return (
        f"From: {STAFF}\r\nTo: {PATRON_EMAIL}, Boss <director@cityofsalem.net>\r\nSubject: your account\r\n\r\n"
        f"Dear {PATRON_NAME}, your library card {card} has $12.50 in fines.\r\n"
    ).encode()


def hold_patron_message(store, received_at: datetime | None = None, card: str = CARD) -> str:  # type: ignore[no-untyped-def]
    return store.hold(
        patron_message(card), STAFF, [PATRON_EMAIL], ["external"], ["patron-card"],
        [{"kind": "patron_card", "excerpt": "card 2361******2817 has", "part": "1"},
         {"kind": "person_name", "excerpt": "Dear M**** A******,", "part": "1"}],
        received_at,
    )


# ----------------------------------------------------------------- clock and notifier


@dataclass
class Clock:
    """An injectable clock that only moves when told."""

    now: datetime = field(default_factory=lambda: datetime(2025, 3, 3, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@dataclass
class RecordingNotifier:
    """The in-memory Notifier: remembers every notice."""

    sender: list[tuple[str, ItemState, str]] = field(default_factory=list)
    admin: list[tuple[str, str]] = field(default_factory=list)

    def notify_sender(self, item: HeldItem, outcome: ItemState, note: str) -> None:
        self.sender.append((item.id, outcome, note))

    def notify_admin(self, item: HeldItem, note: str) -> None:
        self.admin.append((item.id, note))


# ----------------------------------------------------------------- SMTP sink


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse_data: str | None = None  # e.g. "550 5.7.1 no"
        self.refuse_rcpt: dict[str, str] = {}

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse_data:
            return self.refuse_data
        content = envelope.original_content or b""
        self.messages.append((str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return "250 2.0.0 queued"


class SmtpSink:
    """A real SMTP server on 127.0.0.1:<random port> that records what it receives."""

    def __init__(self) -> None:
        self.handler = _Recorder()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(
            self.loop.create_server(lambda: SMTP(self.handler), host="127.0.0.1", port=0), self.loop)
        self.server = fut.result(10)
        self.port = self.server.sockets[0].getsockname()[1]

    @property
    def messages(self) -> list[tuple[str, list[str], bytes]]:
        return self.handler.messages

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ----------------------------------------------------------------- PostgreSQL


class PgCluster:
    """One throwaway PostgreSQL cluster: initdb, pg_ctl start, databases on demand, stop."""

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
        if not bins:
            raise RuntimeError("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
        self.bin = Path(bins[-1]).parent
        self.base = Path(tempfile.mkdtemp(prefix="patronguard-pg-"))
        self.data = self.base / "data"
        self.sock = self.base / "sock"
        self.sock.mkdir()
        self.port = free_port()
        self.user: str | None = None
        if os.getuid() == 0:
            self.user = next((u for u in ("postgres", "nobody") if _has_user(u)), None)
            if self.user is None:
                raise RuntimeError("running as root and neither 'postgres' nor 'nobody' exists")
            pw = pwd.getpwnam(self.user)
            for p in (self.base, self.sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "patronguard", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.base / "log"), "-w", "-t", "60", "-o",
                  f"-k {self.sock} -p {self.port} -c listen_addresses='' -c fsync=off -c max_connections=60",
                  "start")
        self._n = 0

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin / tool), *args]
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=self.base)
        if r.returncode != 0:
            log = (self.base / "log").read_text(errors="replace")[-2000:] if (self.base / "log").exists() else ""
            raise RuntimeError(f"{tool} failed ({r.returncode}): {r.stderr.strip()[-1000:]} {log}")

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.sock} port={self.port} user=patronguard dbname={dbname}"

    def create_database(self) -> str:
        import psycopg

        self._n += 1
        name = f"q{os.getpid()}_{self._n}"
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} STRATEGY FILE_COPY")  # no WAL copy of the template: faster
        return self.dsn(name)

    def checkpoint(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute("CHECKPOINT")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except (RuntimeError, subprocess.TimeoutExpired, OSError):
            pass
        shutil.rmtree(self.base, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


_CLUSTER: dict[str, PgCluster | str] = {}


def pg_cluster() -> PgCluster:
    """The session's cluster, started on first use (one per process), or a loud skip."""
    if "cluster" not in _CLUSTER:
        try:
            cluster = PgCluster()
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            _CLUSTER["cluster"] = str(exc)
        else:
            _CLUSTER["cluster"] = cluster
            atexit.register(cluster.stop)
    found = _CLUSTER["cluster"]
    if isinstance(found, str):
        message = f"POSTGRESQL BACKEND NOT TESTED: cannot start a throwaway cluster: {found}"
        warnings.warn(message, stacklevel=2)
        pytest.skip(message)
    return found


# ----------------------------------------------------------------- a quarantine database on either backend


@dataclass
class Backend:
    """One quarantine database; `open()` makes another store on it (another relay node)."""

    name: str
    tmp: Path
    clock: Clock = field(default_factory=Clock)
    dsn: str = ""
    cluster: PgCluster | None = None
    opened: list[SqlQuarantine] = field(default_factory=list)

    @property
    def key_file(self) -> Path:
        return self.tmp / "quarantine.key"

    @property
    def db_path(self) -> Path:
        return self.tmp / "quarantine.db"

    def open(self) -> SqlQuarantine:
        keys = KeyRing.load_or_create(self.key_file)
        store: SqlQuarantine
        if self.name == "sqlite":
            from proxy.quarantine.sqlite import SqliteQuarantine

            store = SqliteQuarantine(self.db_path, keys, self.clock)
        else:
            from proxy.quarantine.postgres import PostgresQuarantine

            store = PostgresQuarantine(self.dsn, keys, self.clock)
        self.opened.append(store)
        return store

    def files(self) -> list[Path]:
        """Every file the database keeps on disk."""
        if self.cluster is None:
            return [p for p in self.tmp.iterdir() if p.name.startswith("quarantine.db")]
        return [p for p in self.cluster.data.rglob("*") if p.is_file()]

    def disk_bytes(self) -> bytes:
        if self.cluster is not None:
            self.cluster.checkpoint()
        return b"".join(p.read_bytes() for p in self.files())
