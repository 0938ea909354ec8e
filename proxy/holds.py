"""Held mail: the seam where the encrypted quarantine will plug in.

This module owns the `HoldStore` protocol the pipeline calls for every
recipient that is not delivered, and `DirectoryHoldStore`, a minimal durable
store under `<state_dir>/held/` so held mail is never lost before the real
quarantine (a later issue) replaces it:

    held/<hold_id>/message.eml   the message exactly as received
    held/<hold_id>/hold.json     queue id, envelope sender, held recipients, the decision summary

A hold is written into `held/.tmp/<hold_id>/`, both files fsync'd, then the
directory is renamed into place and `held/` fsync'd: a hold is committed whole
or not at all. Hold ids are derived from the queue id and the recipients, so
running the same hold twice after a crash returns the same id and writes nothing.
Files are mode 0600, directories 0700. Nothing here logs or decides.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from proxy.spool import SpoolEntry, fsync_dir

_FILE_MODE = 0o600
_DIR_MODE = 0o700


class HoldStore(Protocol):
    def hold(self, entry: SpoolEntry, recipients: Sequence[str], decision_summary: dict[str, Any]) -> str:
        """Store `entry` durably for `recipients`; return a reference id. Blocking; idempotent."""
        ...


def hold_id_for(entry_id: str, recipients: Sequence[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(r.lower() for r in recipients)).encode("utf-8")).hexdigest()[:8]
    return f"H{entry_id}-{digest.upper()}"


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


class DirectoryHoldStore:
    """Held messages as directories under `root` (blocking: call from a thread)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.tmp = self.root / ".tmp"
        for d in (self.root, self.tmp):
            d.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
            os.chmod(d, _DIR_MODE)

    def recover(self) -> None:
        """At service start only: drop holds interrupted before their commit (the spool entry is still there)."""
        for leftover in self.tmp.iterdir():
            shutil.rmtree(leftover, ignore_errors=True)

    def hold(self, entry: SpoolEntry, recipients: Sequence[str], decision_summary: dict[str, Any]) -> str:
        hold_id = hold_id_for(entry.id, recipients)
        final = self.root / hold_id
        if final.exists():
            return hold_id
        work = self.tmp / hold_id
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(mode=_DIR_MODE)
        meta = {
            "hold_id": hold_id,
            "queue_id": entry.id,
            "mail_from": entry.envelope.mail_from,
            "recipients": list(recipients),
            "received_at": entry.envelope.received_at,
            "decision": decision_summary,
        }
        _write(work / "message.eml", entry.raw)
        _write(work / "hold.json", json.dumps(meta, ensure_ascii=False, indent=1).encode("utf-8"))
        fsync_dir(work)
        os.rename(work, final)
        fsync_dir(self.root)
        return hold_id

    def ids(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def meta(self, hold_id: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.root / hold_id / "hold.json").read_text(encoding="utf-8"))
        return data
