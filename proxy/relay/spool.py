"""The durable spool: accepted mail on disk until every recipient's outcome is durable.

This module owns the on-disk queue under `<state_dir>/spool/`:

    spool/tmp/<id>          being written (never read; cleaned at start)
    spool/queue/<id>.msg    one accepted message: a header line, its envelope as JSON, the raw bytes
    spool/queue/<id>.state  per-recipient progress (JSON), replaced atomically
    spool/bad/<id>.*        entries the relay could not read, set aside for the admin (`set_aside`)

Every write is `write tmp → fsync file → rename → fsync directory`, so after a
crash a file is either wholly there or not there at all: the SMTP layer answers
250 only after `put()` returned. Files are mode 0600, directories 0700.

It must not scan, decide or deliver; it only stores. The state JSON holds
addresses (needed to deliver) but never message content.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from proxy.errors import PatronGuardError
from proxy.scanning.explain import Excerpt

_MAGIC = b"PGSPOOL1\n"
_FILE_MODE = 0o600
_DIR_MODE = 0o700


class SpoolError(PatronGuardError):
    """The spool could not store a message; the SMTP layer answers 451."""

    smtp_reply = "451 4.3.0 Temporary failure: the message could not be stored; please try again later"


class SpoolFull(SpoolError):
    """No space (or quota) left; the SMTP layer answers 452."""

    smtp_reply = "452 4.3.1 Insufficient system storage; please try again later"


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the client said in MAIL/RCPT, plus where and when it was received."""

    mail_from: str  # "" for the null sender <>
    rcpt_tos: tuple[str, ...]
    mail_options: tuple[str, ...] = ()
    received_at: float = 0.0
    helo: str = ""
    dsn_of: str = ""  # queue id this bounce reports on ("" for ordinary mail)
    client: str = ""  # the submitting client's IP address ("" for mail the relay made itself)

    def to_json(self) -> dict[str, Any]:
        return {
            "mail_from": self.mail_from,
            "rcpt_tos": list(self.rcpt_tos),
            "mail_options": list(self.mail_options),
            "received_at": self.received_at,
            "helo": self.helo,
            "dsn_of": self.dsn_of,
            "client": self.client,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Envelope:
        return cls(
            mail_from=str(data["mail_from"]),
            rcpt_tos=tuple(str(r) for r in data["rcpt_tos"]),
            mail_options=tuple(str(o) for o in data.get("mail_options", ())),
            received_at=float(data.get("received_at", 0.0)),
            helo=str(data.get("helo", "")),
            dsn_of=str(data.get("dsn_of", "")),
            client=str(data.get("client", "")),
        )


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    id: str
    envelope: Envelope
    raw: bytes


class RecipientStatus(StrEnum):
    """Where one recipient of a spool entry stands; every status but PENDING is final."""

    PENDING = "pending"
    DELIVERED = "delivered"
    HELD = "held"
    BOUNCED = "bounced"


@dataclass(slots=True)
class RecipientState:
    """One recipient's progress, changed only through its transition methods (one per outcome)."""

    status: RecipientStatus = RecipientStatus.PENDING
    action: str = ""  # deliver / redact / hold (`proxy.scanning.policy.Action` values), once scanned
    cls: str = ""  # recipient class, once scanned
    attempts: int = 0
    next_attempt: float = 0.0
    hold_id: str = ""
    code: int = 0  # last upstream reply code (no reply text: it may quote addresses)

    def __post_init__(self) -> None:
        self.status = RecipientStatus(self.status)  # "held" read back from JSON (or written in a test) is the enum

    @property
    def pending(self) -> bool:
        return self.status is RecipientStatus.PENDING

    def due(self, action: str, now: float) -> bool:
        """Pending, to get `action`, and its next attempt has come."""
        return self.pending and self.action == action and self.next_attempt <= now

    def delivered(self, code: int) -> None:
        self._finish(RecipientStatus.DELIVERED)
        self.code = code

    def held(self, hold_id: str) -> None:
        self._finish(RecipientStatus.HELD)
        self.hold_id = hold_id

    def bounced(self) -> None:
        self._finish(RecipientStatus.BOUNCED)

    def refused(self, code: int) -> None:
        """A permanent refusal: bounced once the DSN is spooled (`bounced`)."""
        self.code = code

    def temporary(self, code: int) -> int:
        """A temporary failure: one more attempt counted; return how many there were (for the back-off)."""
        self.code = code
        self.attempts += 1
        return self.attempts

    def retry_at(self, next_attempt: float) -> None:
        self.next_attempt = next_attempt

    def to_hold(self) -> None:
        """Held instead of what was decided (a redacted copy that could not be made clean)."""
        if self.pending:
            self.action = "hold"

    def _finish(self, status: RecipientStatus) -> None:
        if not self.pending:
            raise ValueError(f"recipient already {self.status.value}, cannot become {status.value}")
        self.status = status

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "action": self.action,
            "cls": self.cls,
            "attempts": self.attempts,
            "next_attempt": self.next_attempt,
            "hold_id": self.hold_id,
            "code": self.code,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecipientState:
        return cls(**data)


@dataclass(slots=True)
class EntryState:
    """Progress of one spool entry; `scanned` once decisions are recorded (scan once per message)."""

    scanned: bool = False
    rules: tuple[str, ...] = ()
    recipients: dict[str, RecipientState] = field(default_factory=dict)
    dsn_count: int = 0
    # What the quarantine shows a supervisor, kept from the one scan: kind, part and a
    # *masked* excerpt per finding (never raw text); only when someone is held.
    findings: tuple[Excerpt, ...] = ()

    def pending(self) -> list[str]:
        """The recipients whose outcome is not final yet."""
        return [a for a, r in self.recipients.items() if r.pending]

    def due(self, action: str, now: float) -> list[str]:
        """The pending recipients to get `action` whose next attempt has come."""
        return [a for a, r in self.recipients.items() if r.due(action, now)]

    def next_attempt(self) -> float | None:
        """When the earliest pending recipient is due (None when none is pending)."""
        due = [r.next_attempt for r in self.recipients.values() if r.pending]
        return min(due) if due else None

    def add_rule(self, rule: str) -> None:
        self.rules = tuple(dict.fromkeys((*self.rules, rule)))

    def to_json(self) -> dict[str, Any]:
        return {
            "scanned": self.scanned,
            "rules": list(self.rules),
            "recipients": {a: r.to_json() for a, r in self.recipients.items()},
            "dsn_count": self.dsn_count,
            "findings": [f.to_json() for f in self.findings],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EntryState:
        return cls(
            scanned=bool(data.get("scanned", False)),
            rules=tuple(data.get("rules", ())),
            recipients={a: RecipientState.from_json(r) for a, r in data.get("recipients", {}).items()},
            dsn_count=int(data.get("dsn_count", 0)),
            findings=tuple(Excerpt.from_json(f) for f in data.get("findings", ())),
        )

    @property
    def done(self) -> bool:
        return bool(self.recipients) and not self.pending()


def new_id() -> str:
    """A queue id that sorts by arrival time and is unique across restarts."""
    return f"{time.time_ns():016X}{secrets.token_hex(3).upper()}"


def write_durably(directory: Path, name: str, data: bytes, tmp_dir: Path) -> Path:
    """Write `data` to `directory/name` atomically and durably (file and directory fsync'd)."""
    tmp = tmp_dir / f"{name}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _unlink_quietly(tmp)
        raise
    os.close(fd)
    target = directory / name
    try:
        os.rename(tmp, target)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    fsync_dir(directory)
    return target


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class Spool:
    """The queue directory. Methods are blocking: call them from a thread, not the event loop."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self.queue = self.root / "queue"
        for d in (self.root, self.tmp, self.queue):
            d.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
            os.chmod(d, _DIR_MODE)

    def recover(self) -> None:
        """At service start only: clean what a crash left behind (never while a service writes here)."""
        for leftover in self.tmp.iterdir():  # half-written files from before a crash: never acknowledged
            _unlink_quietly(leftover)
        for state in self.queue.glob("*.state"):  # a crash inside remove(): the message is already gone
            if not state.with_suffix(".msg").exists():
                _unlink_quietly(state)

    def put(self, envelope: Envelope, raw: bytes, entry_id: str | None = None) -> str:
        """Store one message durably and return its id; raise `SpoolFull` or `SpoolError`.

        With an explicit `entry_id` that is already queued, nothing is written
        (bounces are spooled under a deterministic id so a retry does not send two).
        """
        entry_id = entry_id or new_id()
        if entry_id and (self.queue / f"{entry_id}.msg").exists():
            return entry_id
        header = json.dumps(envelope.to_json(), ensure_ascii=True).encode("ascii")
        try:
            write_durably(self.queue, f"{entry_id}.msg", _MAGIC + header + b"\n" + raw, self.tmp)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise SpoolFull("spool full") from None
            raise SpoolError(f"spool write failed ({errno.errorcode.get(exc.errno or 0, 'unknown')})") from None
        return entry_id

    def load(self, entry_id: str) -> SpoolEntry:
        data = (self.queue / f"{entry_id}.msg").read_bytes()
        if not data.startswith(_MAGIC):
            raise SpoolError(f"spool entry {entry_id} is not a spool file")
        header, _, raw = data[len(_MAGIC):].partition(b"\n")
        return SpoolEntry(entry_id, Envelope.from_json(json.loads(header)), raw)

    def ids(self) -> list[str]:
        """Queued ids, oldest first."""
        return sorted(p.name[: -len(".msg")] for p in self.queue.glob("*.msg"))

    def load_state(self, entry_id: str) -> EntryState:
        path = self.queue / f"{entry_id}.state"
        try:
            return EntryState.from_json(json.loads(path.read_bytes()))
        except FileNotFoundError:
            return EntryState()

    def save_state(self, entry_id: str, state: EntryState) -> None:
        data = json.dumps(state.to_json(), ensure_ascii=True).encode("ascii")
        write_durably(self.queue, f"{entry_id}.state", data, self.tmp)

    def set_aside(self, entry_id: str) -> Path:
        """Move an entry that cannot be processed to `spool/bad/` (kept for the admin, never swept); return it."""
        bad = self.root / "bad"
        bad.mkdir(mode=_DIR_MODE, exist_ok=True)
        for suffix in (".msg", ".state"):
            try:
                os.rename(self.queue / f"{entry_id}{suffix}", bad / f"{entry_id}{suffix}")
            except FileNotFoundError:
                continue
        fsync_dir(bad)
        fsync_dir(self.queue)
        return bad / f"{entry_id}.msg"

    def remove(self, entry_id: str) -> None:
        """Drop an entry whose every recipient has a durable outcome (message first, then its state)."""
        _unlink_quietly(self.queue / f"{entry_id}.msg")
        _unlink_quietly(self.queue / f"{entry_id}.state")
        fsync_dir(self.queue)

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids())
