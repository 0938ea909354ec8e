"""The embedded quarantine shared by processes: a second process never takes the live WAL away.

`serve` (relay and review pages), the `quarantine` CLI and the purge and digest
timers all open the same SQLite file at once in production. These tests run
them as real processes against one file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from quarantine_support import hold_patron_message

from proxy.config import load
from proxy.quarantine import open_store

REPO = Path(__file__).resolve().parents[1]


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        "library:\n  domains: [ccrls.org, cityofsalem.net]\n"
        f"spool:\n  state_dir: {tmp_path / 'state'}\n"
        f"quarantine:\n  path: {tmp_path / 'q.db'}\n  key_file: {tmp_path / 'q.key'}\n",
        encoding="utf-8",
    )
    return path


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "proxy.cli", *argv], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def test_another_process_listing_keeps_what_this_process_holds_afterwards(tmp_path):
    """Two stores in this process (relay and pages before they shared one) and a CLI listing in another:
    mail held after the listing is still in the database for every process, before and after closing."""
    config = _config(tmp_path)
    relay = open_store(load(config).quarantine, create=True)
    pages = open_store(load(config).quarantine)
    try:
        first = hold_patron_message(relay)
        listed = _cli("quarantine", "list", "--json", "--config", str(config))
        assert listed.returncode == 0, listed.stderr
        assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [first]
        second = hold_patron_message(relay)
        again = _cli("quarantine", "list", "--json", "--config", str(config))
        assert {json.loads(line)["id"] for line in again.stdout.splitlines()} == {first, second}
        assert {i.id for i in pages.items()} == {first, second}
    finally:
        pages.close()
        relay.close()
    reopened = open_store(load(config).quarantine)
    try:
        assert {i.id for i in reopened.items()} == {first, second}
        assert [r.action for r in reopened.audit_log()] == ["hold", "hold"]
        assert reopened.verify_audit().ok
    finally:
        reopened.close()


def test_database_file_is_created_private(tmp_path):
    """The quarantine file SQLite creates is mode 0600 whatever the caller's umask."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        store = open_store(load(_config(tmp_path)).quarantine, create=True)
        hold_patron_message(store)
    finally:
        os.umask(old)
    try:
        for name in ("q.db", "q.db-wal", "q.db-shm"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    finally:
        store.close()
