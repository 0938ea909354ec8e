"""The shipped setup under load: `serve` with its review pages, the quarantine CLI and the timers, all at once.

One SQLite quarantine, as `make run` and the systemd units use it: a real
`patronguard serve` process (relay and review pages in one process) holds a few
hundred patron messages; while supervisors decide in the web pages, others
release and reject from the command line, someone lists, and the purge and
digest timers and `audit verify` run, the relay is restarted once and more mail
arrives. Afterwards every accepted message is an item, every decision was made
once (one audit record, one delivery for a release, none for a reject), the
audit chain and its anchor verify, and a decided item cannot be decided again.
"""

from __future__ import annotations

import email
import http.client
import json
import smtplib
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from quarantine_support import free_port
from web_support import PASSWORD, Client, ServeProcess, wait_for
from web_support import REPO as WEB_REPO

from proxy.config import load
from proxy.quarantine import ItemState, open_store
from proxy.web.accounts import set_reviewer
from proxy.wiring import Overrides, apply_overrides

pytestmark = pytest.mark.slow

CARD = "23610003622817"
FIRST_BATCH = 200  # held before the deciding starts
LATE_BATCH = 40  # sent while everything else runs (and across the restart)
WEB_DECISIONS = 90
CLI_DECISIONS = 16
CONTESTED = 8  # items the web pages and the CLI decide at the same time, differently


def _config(tmp: Path, ui_port: int) -> Path:
    path = tmp / "config.yaml"
    path.write_text(
        "library:\n  name: Test Library\n  domains: [ccrls.org, cityofsalem.net]\n"
        "barcodes:\n  layouts:\n    - name: ccrls-patron\n      kind: patron\n      length: 14\n"
        '      type_digit: "2"\n      prefixes: ["2361"]\n'
        "detection:\n  names: false\n  processes: 0\n"
        f"upstream:\n  url: maildir:{tmp / 'outbox'}\n"
        f"spool:\n  state_dir: {tmp / 'state'}\n  workers: 2\n"
        "notices:\n  supervisor_mode: both\n  supervisors: [boss@ccrls.org]\n"
        f"review_ui:\n  enabled: true\n  listen: 127.0.0.1:{ui_port}\n  max_failures: 50\n",
        encoding="utf-8",
    )
    (tmp / "state").mkdir()
    set_reviewer(tmp / "state" / "review-users", "maria", PASSWORD)
    return path


def _message(i: int) -> bytes:
    return (f"From: circ@cityofsalem.net\r\nTo: friend{i}@example.net\r\nSubject: account {i}\r\n"
            f"Message-ID: <m{i}@cityofsalem.net>\r\n\r\nmarker-{i}: patron card {CARD} owes $12.50.\r\n").encode()


def _send(port: int, i: int, deadline: float) -> None:
    """Send one message as an MTA would: retry while the relay is restarting, until a 250."""
    while True:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                client.sendmail("circ@cityofsalem.net", [f"friend{i}@example.net"], _message(i))
            return
        except (OSError, smtplib.SMTPException):
            assert time.monotonic() < deadline, f"message {i} was never accepted"
            time.sleep(0.2)


class Reader:
    """The test's look at the quarantine: a store opened and closed for every question, as a short process would
    (a connection kept open here would hold a lock that hides a lost WAL)."""

    def __init__(self, config: Path) -> None:
        self.settings = apply_overrides(load(config), Overrides()).quarantine  # beside the spool, as the CLI finds it

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            store = open_store(self.settings)
            try:
                return getattr(store, name)(*args, **kwargs)
            finally:
                store.close()

        return call

    def address_hash(self, address: str) -> str:
        store = open_store(self.settings)
        try:
            return store.keys.address_hash(address)  # type: ignore[attr-defined,no-any-return]
        finally:
            store.close()


def _cli(config: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "proxy.cli", *argv, "--config", str(config)], cwd=WEB_REPO,
                          capture_output=True, text=True, timeout=120)


class Supervisor:
    """A browser session on the review pages that signs in again after a restart."""

    def __init__(self, port: int, deadline: float) -> None:
        self.client = Client(port)
        self.deadline = deadline

    def decide(self, item_id: str, action: str) -> str:
        """POST one decision (note and confirmation ticked); return the item page shown after it."""
        while True:
            try:
                page = self.client.get(f"/items/{item_id}")
                if f"/items/{item_id}/" not in page.body:  # the sign-in page (first time, or after a restart)
                    self.client.login()
                    continue
                done = self.client.post(f"/items/{item_id}/{action}", {"csrf": page.csrf, "note": "checked",
                                                                       "confirm": "yes"})
                if f"/items/{item_id}/" in done.body:
                    return done.body
                # Signed out by a restart before the POST was read: nothing was decided; sign in and ask again.
            except (OSError, http.client.HTTPException, AssertionError):
                assert time.monotonic() < self.deadline, f"the review pages did not come back for {item_id}"
                time.sleep(0.2)


def _delivered(outbox: Path) -> Counter[str]:
    """Released messages in the outbox, counted by their outside recipient."""
    found: Counter[str] = Counter()
    for path in (outbox / "new").iterdir():
        message = email.message_from_bytes(path.read_bytes())
        if str(message["Delivered-To"]).endswith("@example.net"):
            found[str(message["Delivered-To"])] += 1
    return found


def test_serve_pages_cli_and_timers_at_once_lose_nothing_and_decide_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A few hundred held messages decided from the web pages and the CLI while list, purge, digest and audit
    verify run and the relay restarts: every item, decision and audit record is there, each decided once."""
    ui_port, smtp_port = free_port(), free_port()
    config = _config(tmp_path, ui_port)
    state, outbox = tmp_path / "state", tmp_path / "outbox"
    deadline = time.monotonic() + 300
    finished = threading.Event()  # set when the test ends, however it ends: every thread below stops
    serve = ServeProcess(config, state, smtp_port, tmp_path / "relay.log").wait_listening(ui_port)
    try:
        for i in range(FIRST_BATCH):
            _send(smtp_port, i, deadline)
        store = Reader(config)
        wait_for(lambda: len(store.items(ItemState.HELD)) == FIRST_BATCH, "the first batch to be held", timeout=120)
        by_recipient = {store.address_hash(f"friend{i}@example.net"): i for i in range(FIRST_BATCH + LATE_BATCH)}
        index = {item.id: by_recipient[item.recipient_hashes[0]] for item in store.items()}
        ids = sorted(index, key=index.__getitem__)
        web_ids = ids[:WEB_DECISIONS]
        cli_ids = ids[WEB_DECISIONS - CONTESTED:WEB_DECISIONS - CONTESTED + CLI_DECISIONS]
        web_action = {item: ("release" if n % 2 else "reject") for n, item in enumerate(web_ids)}
        opposite = {"release": "reject", "reject": "release"}
        cli_action = {item: opposite[web_action[item]] if item in web_action else ("reject" if n % 2 else "release")
                      for n, item in enumerate(cli_ids)}
        errors: list[str] = []
        cli_results: dict[str, subprocess.CompletedProcess[str]] = {}

        def web() -> None:
            supervisor = Supervisor(ui_port, deadline)
            for item in web_ids:
                if finished.is_set():  # the test failed elsewhere: stop deciding
                    return
                supervisor.decide(item, web_action[item])

        def cli() -> None:
            for item in cli_ids:
                if finished.is_set():
                    return
                cli_results[item] = _cli(config, "quarantine", cli_action[item], item, "--by", "omar",
                                         "--note", "checked")

        def timers() -> None:
            while not finished.is_set():
                for argv in (("quarantine", "list", "--json"), ("quarantine", "purge"), ("quarantine", "digest"),
                             ("audit", "verify"), ("quarantine", "stats")):
                    done = _cli(config, *argv)
                    if done.returncode != 0:
                        errors.append(f"{' '.join(argv)}: {done.stderr.strip()}")

        def late_mail() -> None:
            for i in range(FIRST_BATCH, FIRST_BATCH + LATE_BATCH):
                if finished.is_set():
                    return
                _send(smtp_port, i, deadline)
                time.sleep(0.05)

        # Daemon threads that also watch `finished`: a failing assertion ends the test, never hangs the run.
        workers = [threading.Thread(target=f, name=f.__name__, daemon=True) for f in (web, cli, late_mail)]
        housekeeping = threading.Thread(target=timers, daemon=True)
        for t in [*workers, housekeeping]:
            t.start()
        wait_for(lambda: store.counts()["released"] + store.counts()["rejected"] >= WEB_DECISIONS // 3,
                 "a third of the decisions before the restart", timeout=120)
        serve.stop()  # SIGTERM in the middle of it all
        stopped = [json.loads(line) for line in (tmp_path / "relay.log").read_text().splitlines()
                   if '"serve.stopped"' in line]
        assert stopped and "ms" in stopped[-1] and "dropped_keys" not in stopped[-1], stopped  # how long it took, logged
        serve = ServeProcess(config, state, smtp_port, tmp_path / "relay.log").wait_listening(ui_port)
        for t in workers:
            t.join(240)
            assert not t.is_alive(), f"{t.name} did not finish"
        finished.set()
        housekeeping.join(120)
        assert errors == []

        total = FIRST_BATCH + LATE_BATCH
        wait_for(lambda: len(store.items()) == total, "every accepted message to be held", timeout=60)
        items = {item.id: item for item in store.items()}
        index = {item_id: by_recipient[item.recipient_hashes[0]] for item_id, item in items.items()}
        assert sorted(index.values()) == list(range(total))  # one item per accepted message, none lost, none twice

        expected_state = {"release": ItemState.RELEASED, "reject": ItemState.REJECTED}
        for item, result in cli_results.items():
            if item not in web_action:
                assert result.returncode == 0, result.stderr
                assert result.stdout.strip() == f"{item}: {expected_state[cli_action[item]].value}"
        for item in set(web_ids) | set(cli_ids):
            wanted = {expected_state[a[item]] for a in (web_action, cli_action) if item in a}
            assert items[item].state in wanted, (item, items[item].state)
        undecided = set(ids) - set(web_ids) - set(cli_ids)
        assert all(items[i].state is ItemState.HELD for i in undecided | set(items) - set(ids))

        log = store.audit_log()
        assert Counter(r.item_id for r in log if r.action == "hold") == Counter(dict.fromkeys(items, 1))
        decisions = Counter(r.item_id for r in log if r.action in ("release", "reject"))
        assert decisions == Counter(dict.fromkeys(set(web_ids) | set(cli_ids), 1))
        for item in set(web_ids) | set(cli_ids):
            made = [r.action for r in log if r.item_id == item and r.action in ("release", "reject")]
            assert made == ["release" if items[item].state is ItemState.RELEASED else "reject"]
        delivered = _delivered(outbox)
        released = {f"friend{index[i]}@example.net" for i, item in items.items() if item.state is ItemState.RELEASED}
        assert delivered == Counter(dict.fromkeys(released, 1))  # each release delivered once, no reject delivered

        verify = _cli(config, "audit", "verify")
        assert verify.returncode == 0 and f"audit: {len(log)} records, chain intact, its end matches the anchor" \
            in verify.stdout, verify.stdout + verify.stderr

        # Decided is decided: from the CLI and the pages, in both directions, nothing changes.
        rejected = next(i for i in web_ids if items[i].state is ItemState.REJECTED)
        released_one = next(i for i in web_ids if items[i].state is ItemState.RELEASED)
        again = _cli(config, "quarantine", "release", rejected, "--by", "omar", "--note", "again")
        assert again.returncode == 2 and "can no longer be released" in again.stderr
        again = _cli(config, "quarantine", "reject", released_one, "--by", "omar", "--note", "again")
        assert again.returncode == 2 and "only held or failed items can be rejected" in again.stderr
        page = Supervisor(ui_port, deadline).decide(rejected, "release")
        assert "can no longer be released" in page
        assert _cli(config, "quarantine", "release", released_one, "--by", "omar", "--note", "again").returncode == 0
        assert store.get(rejected).state is ItemState.REJECTED and store.get(released_one).state is ItemState.RELEASED
        after = Counter(r.item_id for r in store.audit_log() if r.action in ("release", "reject"))
        assert after == decisions
        assert _delivered(outbox) == delivered
        listed = [json.loads(line) for line in _cli(config, "quarantine", "list", "--json").stdout.splitlines()]
        assert len(listed) == total
    finally:
        finished.set()
        serve.stop()
