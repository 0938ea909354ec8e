"""Durability of `patronguard serve` as a real process: SIGKILL mid-burst, upstream outages, SIGTERM.

Every message that got `250 … queued as <id>` must afterwards be delivered
upstream or held, whatever happened to the process in between. The relay runs
as `python -m proxy.cli serve`; readiness is polled on its port.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP
from relay_support import base_config

from proxy.quarantine import StoreSettings, open_store

REPO = Path(__file__).resolve().parents[1]
CARD = "23610003622817"
SENDER = "staff@ccrls.org"
QUEUE_ID = re.compile(rb"with ESMTP id ([0-9A-Z-]+);")

CONFIG = base_config(domains="ccrls.org") + """\
logging:
  level: info
server:
  hostname: relay.test
upstream:
  timeout: 5
  retry_first: 0.2
  retry_factor: 2
  retry_max_delay: 0.5
spool:
  workers: 2
"""


class Sink:
    """A recording aiosmtpd server in a thread, on a given port (0: any free one)."""

    def __init__(self, port: int = 0) -> None:
        self.queue_ids: list[str] = []
        self.cond = threading.Condition()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

        async def create() -> Any:
            return await self.loop.create_server(lambda: SMTP(self, hostname="sink.test"), "127.0.0.1", port)

        self.server = asyncio.run_coroutine_threadsafe(create(), self.loop).result(5)
        self.port = int(self.server.sockets[0].getsockname()[1])

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        match = QUEUE_ID.search(envelope.original_content)
        with self.cond:
            self.queue_ids.append(match.group(1).decode() if match else "?")
            self.cond.notify_all()
        return "250 OK"

    def delivered(self) -> set[str]:
        with self.cond:
            return set(self.queue_ids)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RelayProcess:
    def __init__(self, tmp: Path, upstream_port: int) -> None:
        self.tmp = tmp
        self.state = tmp / "state"
        self.port = free_port()
        self.upstream_port = upstream_port
        self.config = tmp / "config.yaml"
        self.config.write_text(CONFIG)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RelayProcess:
        log = open(self.tmp / "relay.log", "ab")  # handed to the child, closed here after the fork
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "proxy.cli", "serve", "--config", str(self.config),
             "--listen", f"127.0.0.1:{self.port}", "--upstream", f"smtp://127.0.0.1:{self.upstream_port}",
             "--state-dir", str(self.state)],
            cwd=REPO, stdout=log, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        deadline = time.monotonic() + 60
        while True:
            assert self.proc.poll() is None, (self.tmp / "relay.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                assert time.monotonic() < deadline, "relay did not start listening"
                time.sleep(0.05)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(20)

    def held(self) -> set[str]:
        store = open_store(StoreSettings(path=str(self.state / "quarantine.db"),
                                         key_file=str(self.state / "quarantine.key")))
        try:
            return {i.queue_id for i in store.items() if i.queue_id is not None}
        finally:
            store.close()

    def queued(self) -> list[str]:
        queue = self.state / "spool" / "queue"
        return sorted(p.name[: -len(".msg")] for p in queue.glob("*.msg")) if queue.is_dir() else []


@pytest.fixture
def cleanup():
    items: list[Any] = []
    yield items
    for item in reversed(items):
        if isinstance(item, RelayProcess):
            if item.proc is not None and item.proc.poll() is None:
                item.kill()
        else:
            item.stop()


def body(i: int) -> tuple[list[str], bytes]:
    """Every third message carries a patron card to an outside address (held); the rest are benign."""
    if i % 3 == 0:
        rcpts = [f"circ{i}@ccrls.org", f"friend{i}@example.net"]
        text = f"Patron card {CARD} has overdue items (message {i})."
    else:
        rcpts = [f"vendor{i}@example.com"]
        text = f"Please confirm order {i} for the branch."
    head = f"From: {SENDER}\r\nTo: {', '.join(rcpts)}\r\nSubject: burst {i}\r\nMessage-ID: <burst{i}@ccrls.org>\r\n\r\n"
    return rcpts, (head + text + "\r\n").encode()


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_sigkill_during_burst_loses_no_acknowledged_message(tmp_path, cleanup):
    """SIGKILL while 4 clients send: after a restart every message that got 250 is delivered upstream or held."""
    sink = Sink()
    cleanup.append(sink)
    relay = RelayProcess(tmp_path, sink.port).start()
    cleanup.append(relay)

    accepted: dict[str, int] = {}  # queue id → message number
    lock = threading.Lock()
    enough = threading.Event()
    counter = iter(range(10_000))

    def client() -> None:
        try:
            with smtplib.SMTP("127.0.0.1", relay.port, timeout=5) as smtp:
                smtp.ehlo("ws1.ccrls.org")
                while True:
                    with lock:
                        i = next(counter)
                    rcpts, data = body(i)
                    smtp.mail(SENDER)
                    for r in rcpts:
                        smtp.rcpt(r)
                    code, reply = smtp.data(data)
                    if code == 250:
                        with lock:
                            accepted[reply.decode().rsplit(" ", 1)[-1]] = i
                            if len(accepted) >= 40:
                                enough.set()
        except (smtplib.SMTPException, OSError):
            return  # the relay was killed under us: unacknowledged messages are the client's to retry

    clients = [threading.Thread(target=client) for _ in range(4)]
    for t in clients:
        t.start()
    assert enough.wait(30), "the burst did not get going"
    relay.kill()
    for t in clients:
        t.join(10)
    with lock:
        acknowledged = dict(accepted)
    assert len(acknowledged) >= 40

    relay.start()  # same state dir: the queue resumes
    held_expected = {q for q, i in acknowledged.items() if i % 3 == 0}

    def settled() -> bool:
        done = sink.delivered() | relay.held()
        return set(acknowledged) <= done and not relay.queued()

    wait_until(settled, 30, "not every acknowledged message was delivered or held after the restart")
    assert held_expected <= relay.held()
    # (A message spooled just before the kill may be held or delivered without its 250 having
    # reached the client; the client retries it: at-least-once, as the issue allows.)
    assert relay.terminate() == 0


def test_upstream_outage_then_recovery_delivers_everything(tmp_path, cleanup):
    """Mail accepted while the upstream is down stays queued across a graceful restart and is delivered once it is back."""
    upstream_port = free_port()  # nothing listens here yet
    relay = RelayProcess(tmp_path, upstream_port).start()
    cleanup.append(relay)
    ids = []
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=5) as smtp:
        smtp.ehlo("ws1.ccrls.org")
        for i in range(10):
            smtp.mail(SENDER)
            smtp.rcpt(f"branch{i}@ccrls.org")
            code, reply = smtp.data(f"From: {SENDER}\r\nSubject: outage {i}\r\n\r\nBook club at 6pm.\r\n".encode())
            assert code == 250
            ids.append(reply.decode().rsplit(" ", 1)[-1])
    wait_until(lambda: relay.queued() == sorted(ids) and all((relay.state / "spool" / "queue" / f"{q}.state").exists() for q in ids),
               10, "messages were not attempted and kept queued")
    assert relay.terminate() == 0  # SIGTERM with work queued: a clean exit, the spool left as it was
    assert relay.queued() == sorted(ids)

    relay.start()
    sink = Sink(upstream_port)
    cleanup.append(sink)
    wait_until(lambda: set(ids) <= sink.delivered() and not relay.queued(), 20, "queued mail was not delivered after the outage")
    assert relay.terminate() == 0


def test_sighup_reloads_config_and_sigterm_exits_cleanly(tmp_path, cleanup):
    """SIGHUP re-reads config.yaml (here: a new sender domain is allowed) without a restart; SIGTERM exits 0."""
    sink = Sink()
    cleanup.append(sink)
    relay = RelayProcess(tmp_path, sink.port).start()
    cleanup.append(relay)

    def mail_from_branch() -> int:
        with smtplib.SMTP("127.0.0.1", relay.port, timeout=5) as smtp:
            smtp.ehlo("ws1.ccrls.org")
            return smtp.mail("staff@newbranch.org")[0]

    assert mail_from_branch() == 550
    relay.config.write_text(CONFIG.replace("  domains: [ccrls.org]", "  domains: [ccrls.org, newbranch.org]"))
    assert relay.proc is not None
    relay.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: mail_from_branch() == 250, 15, "the reloaded config was not applied")
    assert relay.terminate() == 0


def test_poison_entries_are_set_aside_once_and_the_relay_keeps_going(tmp_path, cleanup):
    """A spool file that is not one moves to spool/bad/, an entry whose state file is damaged is held in the
    quarantine as process-failed, each after spool.max_failed_passes passes and one log line; other mail flows."""
    from proxy.relay.spool import Envelope, Spool

    sink = Sink()
    cleanup.append(sink)
    relay = RelayProcess(tmp_path, sink.port)
    relay.config.write_text(CONFIG.replace("spool:\n  workers: 2\n", "spool:\n  workers: 2\n  max_failed_passes: 2\n"))
    spool = Spool(relay.state / "spool")
    (spool.queue / "0000000000000001BADBAD.msg").write_bytes(b"this is not a spool file\n")
    damaged = spool.put(Envelope(SENDER, ("friend1@example.net", "circ1@ccrls.org"), received_at=time.time()),
                        f"From: {SENDER}\r\nSubject: x\r\n\r\nPatron card {CARD}.\r\n".encode())
    (spool.queue / f"{damaged}.state").write_bytes(b"{not json")
    relay.start()
    cleanup.append(relay)

    with smtplib.SMTP("127.0.0.1", relay.port, timeout=5) as smtp:
        reply = smtp.sendmail(SENDER, ["vendor9@example.com"], b"Subject: order\r\n\r\nPlease confirm order 9.\r\n")
    assert reply == {}
    wait_until(lambda: len(sink.delivered()) == 1, 30, "ordinary mail to be delivered")
    wait_until(lambda: relay.queued() == [], 60, "both poison entries to be set aside")
    assert sorted(p.name for p in (spool.root / "bad").iterdir()) == ["0000000000000001BADBAD.msg"]
    store = open_store(StoreSettings(path=str(relay.state / "quarantine.db"), key_file=str(relay.state / "quarantine.key")))
    try:
        (item,) = [i for i in store.items() if i.queue_id == damaged]
        assert "process-failed" in item.rules and len(item.recipient_hashes) == 2
        assert item.recipient_hashes == tuple(store.keys.address_hash(a)  # type: ignore[attr-defined]
                                              for a in ("friend1@example.net", "circ1@ccrls.org"))
    finally:
        store.close()
    assert relay.terminate() == 0
    log = (tmp_path / "relay.log").read_text()
    for queue_id in ("0000000000000001BADBAD", damaged):
        assert log.count(f'"queue_id": "{queue_id}"') == 2, log  # the first failure and the outcome, once each
    assert log.count('"event": "relay.entry_set_aside"') == 2
    assert '"outcome": "moved"' in log and '"outcome": "held"' in log
    assert not [line for line in log.splitlines() if "relay.entry_set_aside" in line and "dropped_keys" in line]
