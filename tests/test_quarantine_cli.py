"""`patronguard quarantine|audit|keys`: review from the command line, errors on one line, nothing leaked."""

from __future__ import annotations

import json
import sqlite3

import pytest
from quarantine_support import (
    CARD,
    PATRON_EMAIL,
    PATRON_NAME,
    hold_patron_message,
)

from proxy.cli import main
from proxy.config import load
from proxy.quarantine import ItemState, KeyFileError, open_store

# The fixtures (sink, postgres) live beside the tests; tests/conftest.py is shared and left alone.
pytest_plugins = ["quarantine_fixtures"]


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        "library:\n  domains: [ccrls.org, cityofsalem.net]\n"
        f"spool:\n  state_dir: {tmp_path / 'state'}\n"
        f"quarantine:\n  path: {tmp_path / 'q.db'}\n  key_file: {tmp_path / 'q.key'}\n  retention_days: 14\n"
    )
    return str(path)


@pytest.fixture
def store(config):
    s = open_store(load(config).quarantine, create=True)
    yield s
    s.close()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_json_shows_metadata_without_raw_identifiers(capsys, config, store):
    """`quarantine list --json` prints one object per item with classes and hashes, never card, name or address."""
    ids = {hold_patron_message(store) for _ in range(2)}
    code, out, err = run(capsys, "quarantine", "list", "--json", "--config", config)
    assert code == 0 and err == ""
    rows = [json.loads(line) for line in out.splitlines()]
    assert {r["id"] for r in rows} == ids
    assert rows[0]["recipient_classes"] == ["external"] and rows[0]["findings"] == {"patron_card": 1, "person_name": 1}
    for secret in (CARD, PATRON_EMAIL, PATRON_NAME, "Maria"):
        assert secret not in out


def test_list_filters_and_prints_one_line_per_item(capsys, config, store):
    """The text listing has one line per item and --state filters."""
    item_id = hold_patron_message(store)
    code, out, _ = run(capsys, "quarantine", "list", "--config", config, "--state", "held")
    assert code == 0 and out.count("\n") == 1 and out.startswith(item_id)
    assert run(capsys, "quarantine", "list", "--config", config, "--state", "rejected")[1] == ""


def test_show_masks_and_reveal_is_audited(capsys, config, store):
    """`show` gives masked excerpts; `show --reveal` prints the message and leaves an audit record first."""
    item_id = hold_patron_message(store)
    code, out, _ = run(capsys, "quarantine", "show", item_id, "--config", config)
    assert code == 0 and "2361******2817" in out and CARD not in out and PATRON_EMAIL not in out
    code, out, _ = run(capsys, "quarantine", "show", item_id, "--reveal", "--by", "alice", "--config", config)
    assert code == 0 and CARD in out and PATRON_EMAIL in out
    assert [r.action for r in store.audit_log()] == ["hold", "view", "reveal"]
    assert store.audit_log()[-1].actor == "alice"


def test_release_end_to_end_over_smtp(capsys, config, store, sink):
    """hold → `quarantine release` → the upstream sink receives the original for the held recipients only."""
    item_id = hold_patron_message(store)
    code, out, err = run(capsys, "quarantine", "release", item_id, "--by", "alice", "--note", "asked by patron",
                         "--upstream", f"127.0.0.1:{sink.port}", "--config", config)
    assert (code, out, err) == (0, f"{item_id}: released\n", "")
    assert [(m[0], m[1]) for m in sink.messages] == [("circ@cityofsalem.net", [PATRON_EMAIL])]
    assert CARD.encode() in sink.messages[0][2]


def test_refused_release_is_one_line_exit_2_and_item_failed(capsys, config, store, sink):
    """When upstream refuses, the command fails on one line (exit 2) and the item shows as failed."""
    sink.handler.refuse_data = "554 5.7.1 rejected"
    item_id = hold_patron_message(store)
    code, out, err = run(capsys, "quarantine", "release", item_id, "--by", "alice", "--note", "ok",
                         "--upstream", f"127.0.0.1:{sink.port}", "--config", config)
    assert code == 2 and err.count("\n") == 1 and "554 5.7.1" in err
    assert store.get(item_id).state is ItemState.FAILED


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["quarantine", "release", "q-unknown", "--redacted", "--by", "a", "--note", "n"], "no quarantined item 'q-unknown'"),
        (["quarantine", "reject", "q-unknown", "--by", "a", "--note", "n"], "no quarantined item 'q-unknown'"),
        (["quarantine", "reject", "{id}", "--by", "a"], "--note"),
        (["quarantine", "list", "--state", "lost"], "invalid choice"),
    ],
)
def test_errors_are_one_line_with_exit_2(capsys, config, store, argv, expected):
    """Every error is one line on stderr with exit status 2, and no traceback."""
    item_id = hold_patron_message(store)
    code, out, err = run(capsys, *[a.replace("{id}", item_id) for a in argv], "--config", config)
    assert code == 2 and expected in err and err.count("\n") == 1 and "Traceback" not in err


def test_reject_purge_and_stats(capsys, config, store):
    """Reject decides, purge reports its counts, stats counts by state."""
    a, b = hold_patron_message(store), hold_patron_message(store)
    assert run(capsys, "quarantine", "reject", a, "--by", "bob", "--note", "personal address", "--config", config)[1] \
        == f"{a}: rejected\n"
    code, out, _ = run(capsys, "quarantine", "purge", "--config", config)
    assert code == 0 and out.startswith("purge: expired=0")
    code, out, _ = run(capsys, "quarantine", "stats", "--config", config)
    lines = dict(line.split() for line in out.splitlines())
    assert (lines["held"], lines["rejected"], lines["with_content"]) == ("1", "1", "1")
    assert store.get(b).state is ItemState.HELD


def test_audit_verify_passes_then_finds_tampering(capsys, config, store, tmp_path):
    """`audit verify` passes on an intact chain and fails (one line, exit 2) after a row is edited."""
    hold_patron_message(store)
    assert run(capsys, "audit", "verify", "--config", config)[:2] == (
        0, "audit: 1 records, chain intact, its end matches the anchor (record 1)\n")
    with sqlite3.connect(tmp_path / "q.db") as db:
        db.execute("DROP TRIGGER audit_no_update")
        db.execute("UPDATE audit SET actor = 'someone-else'")
    code, _, err = run(capsys, "audit", "verify", "--config", config)
    assert code == 2 and "record 1 was altered" in err and err.count("\n") == 1


def test_audit_verify_names_how_many_records_were_lost_from_the_end(capsys, config, store, tmp_path):
    """After the newest two audit rows are deleted, `audit verify` fails on one line that says two are missing."""
    for _ in range(3):
        hold_patron_message(store)
    with sqlite3.connect(tmp_path / "q.db") as db:
        db.execute("DROP TRIGGER audit_no_delete")
        db.execute("DELETE FROM audit WHERE seq > 1")
    code, out, err = run(capsys, "audit", "verify", "--config", config)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "2 record(s) missing at the end" in err and "record 3" in err


def test_keys_rotate_keeps_items_readable(capsys, config, store):
    """`keys rotate` re-wraps every item and the items still reveal afterwards."""
    item_id = hold_patron_message(store)
    code, out, _ = run(capsys, "keys", "rotate", "--by", "alice", "--config", config)
    assert code == 0 and "1 item keys re-wrapped" in out
    code, out, _ = run(capsys, "quarantine", "show", item_id, "--reveal", "--config", config)
    assert code == 0 and CARD in out


def _spooled_notices(config: str) -> list[bytes]:
    from pathlib import Path

    queue = Path(load(config).spool.state_dir) / "spool" / "queue"
    return [p.read_bytes() for p in sorted(queue.glob("*.msg"))]


def test_reject_and_expiry_spool_a_notice_to_the_sender_without_identifiers(capsys, config, store):
    """`reject` and `purge` (expiry) spool the sender's notice in the relay's spool; it names no patron data."""
    from datetime import UTC, datetime, timedelta

    rejected = hold_patron_message(store)
    old = hold_patron_message(store, received_at=datetime.now(UTC) - timedelta(days=20))
    assert run(capsys, "quarantine", "reject", rejected, "--by", "bob", "--note", "wrong list", "--config", config)[0] == 0
    code, out, _ = run(capsys, "quarantine", "purge", "--by", "retention-timer", "--config", config)
    assert code == 0 and out.startswith("purge: expired=1")
    notices = _spooled_notices(config)
    assert len(notices) == 2
    assert any(rejected.encode() in n and b"wrong list" in n for n in notices)
    assert any(old.encode() in n for n in notices)
    for notice in notices:
        for secret in (CARD, PATRON_EMAIL, PATRON_NAME, "Maria"):
            assert secret.encode() not in notice
    expiry = [r for r in store.audit_log() if r.item_id == old and r.action == "expire"]
    assert [r.actor for r in expiry] == ["retention-timer"]  # --by names who ran the purge


def test_a_spool_that_cannot_be_written_does_not_undo_the_decision(capsys, tmp_path, config, store):
    """If the notice cannot be spooled (no write access), the reject stands and the audit trail says the notice failed."""
    import os

    state = tmp_path / "state"
    state.mkdir()
    (state / "spool").write_text("not a directory")  # what a login without write access amounts to, even as root
    item_id = hold_patron_message(store)
    code, out, err = run(capsys, "quarantine", "reject", item_id, "--by", "bob", "--note", "n", "--config", config)
    assert code == 0 and out == f"{item_id}: rejected\n"
    assert store.get(item_id).state is ItemState.REJECTED
    assert [r.action for r in store.audit_log() if r.item_id == item_id][-1] == "notify_failed"
    assert os.path.isfile(state / "spool")


@pytest.mark.parametrize("argv", [
    ("quarantine", "list"), ("quarantine", "stats"), ("quarantine", "purge"), ("quarantine", "show", "q-x"),
    ("quarantine", "reject", "q-x", "--by", "a", "--note", "n"), ("quarantine", "digest", "--dry-run"),
    ("audit", "verify"), ("keys", "rotate"),
])
def test_a_mistyped_state_dir_is_refused_and_creates_nothing(capsys, config, tmp_path, argv):
    """Every command but `serve` and `quarantine init` refuses a state dir without a quarantine, on one line
    naming the database path, and leaves no database or key file behind."""
    (tmp_path / "q.db").unlink(missing_ok=True)
    wrong = tmp_path / "wrong"
    text = (tmp_path / "config.yaml").read_text().replace(f"{tmp_path / 'q.db'}", f"{wrong / 'q.db'}")
    (tmp_path / "config.yaml").write_text(text.replace(f"{tmp_path / 'q.key'}", f"{wrong / 'q.key'}"))
    code, out, err = run(capsys, *argv, "--config", config)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"{wrong / 'q.db'}: no quarantine database there" in err
    assert not wrong.exists()


def test_the_default_state_dir_from_another_directory_is_refused(capsys, tmp_path, monkeypatch):
    """Without --state-dir or a config, `quarantine list` names the default database path instead of making one."""
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "elsewhere"
    code, out, err = run(capsys, "quarantine", "list", "--state-dir", str(state))
    assert code == 2 and out == "" and f"{state / 'quarantine.db'}: no quarantine database there" in err
    assert not state.exists()


def test_a_database_without_its_key_file_is_refused_even_by_init(capsys, config, store, tmp_path):
    """With the key file gone, nothing (not `quarantine init`, nor serve's opening) makes a new key beside the data."""
    hold_patron_message(store)
    (tmp_path / "q.key").unlink()
    for argv in (("quarantine", "list"), ("quarantine", "init")):
        code, _, err = run(capsys, *argv, "--config", config)
        assert code == 2 and f"{tmp_path / 'q.key'}: no key file for the quarantine database" in err
    with pytest.raises(KeyFileError):
        open_store(load(config).quarantine, create=True)
    assert not (tmp_path / "q.key").exists()


def test_quarantine_init_creates_database_and_key_once(capsys, tmp_path):
    """`quarantine init` creates the database and key file (mode 0600); run again it changes neither."""
    path = tmp_path / "config.yaml"
    path.write_text(f"library:\n  domains: [ccrls.org]\nspool:\n  state_dir: {tmp_path / 'state'}\n")
    code, out, _ = run(capsys, "quarantine", "init", "--config", str(path))
    assert code == 0 and f"{tmp_path / 'state' / 'quarantine.db'} ready" in out
    key = (tmp_path / "state" / "quarantine.key").read_bytes()
    assert (tmp_path / "state" / "quarantine.key").stat().st_mode & 0o077 == 0
    assert run(capsys, "quarantine", "init", "--config", str(path))[0] == 0
    assert (tmp_path / "state" / "quarantine.key").read_bytes() == key
    assert run(capsys, "quarantine", "list", "--config", str(path))[:2] == (0, "")
