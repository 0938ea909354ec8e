"""Relay → encrypted quarantine → release/reject → purge, over real SMTP on loopback.

One relay (in a thread, `detection.names: false` so no spaCy load, state under
`--state-dir`) in front of a recording aiosmtpd sink; the supervisor side is the
real `patronguard quarantine ... --state-dir` command. Afterwards the database,
its WAL, the spool and the logs are searched byte by byte for the identifiers.
"""

from __future__ import annotations

import email
import email.policy
import smtplib
from pathlib import Path

import pytest
from relay_support import sink_relay_config
from test_relay import Relay, Sink, to

from proxy.cli import main
from proxy.quarantine import ItemState
from proxy.relay.pipeline import Pipeline
from proxy.wiring import Overrides

CARD = "23610003622817"
PATRON = "Maria Alvarez"
OUTSIDE = "rick.stone1987@gmail.com"  # someone else: her own address would get her own data
INTERNAL = "circ@cityofsalem.net"
SENDER = "staff@ccrls.org"


def message(subject: str) -> bytes:
    return (
        f"From: {SENDER}\r\nTo: {INTERNAL}, {OUTSIDE}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@ccrls.org>\r\n\r\n"
        f"Dear {PATRON}, your patron card {CARD} has three items overdue.\r\n"
    ).encode()


@pytest.fixture
def env(tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(Pipeline, "SWEEP_SECONDS", 0.2)  # the CLI's notices reach the running relay quickly
    sink = Sink().start()
    config = tmp_path / "config.yaml"
    # No spool.state_dir and the default quarantine paths: --state-dir must move them all.
    config.write_text(sink_relay_config(sink.port), encoding="utf-8")
    state = tmp_path / "state"
    relay = Relay(state, config)
    relay.service.overrides = Overrides(state_dir=str(state))
    relay.start()
    yield relay, sink, config, state
    if relay.thread.is_alive():  # the test stops it itself before reading the files
        relay.stop()
    sink.stop()


def cli(capsys, config: Path, state: Path, *argv: str) -> str:  # type: ignore[no-untyped-def]
    code = main([*argv, "--config", str(config), "--state-dir", str(state)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_hold_release_reject_purge_leaves_nothing_in_clear(env, capsys):
    """Internal copy at once, outside copy sealed; release sends the original to the outside recipient only; reject and purge leave no identifier on disk or in the logs."""
    relay, sink, config, state = env
    first = message("first")
    with smtplib.SMTP("127.0.0.1", relay.port, local_hostname="ws1.ccrls.org", timeout=10) as client:
        client.sendmail(SENDER, [INTERNAL, OUTSIDE], first)
    assert sink.wait_for(to(INTERNAL))[0].rcpt_tos == [INTERNAL]
    held = relay.held_for(OUTSIDE)
    assert held.state is ItemState.HELD and held.recipient_classes == ("external",) and "patron-card" in held.rules
    assert held.excerpts and all(CARD not in e.excerpt and "Alvarez" not in e.excerpt for e in held.excerpts)
    relay.queue_empty()
    assert sink.matching(to(OUTSIDE)) == []
    assert held.id in cli(capsys, config, state, "quarantine", "list")

    out = cli(capsys, config, state, "quarantine", "release", held.id, "--by", "alice", "--note", "her own account")
    assert out.strip() == f"{held.id}: released"
    released = sink.wait_for(to(OUTSIDE))
    assert len(released) == 1 and released[0].rcpt_tos == [OUTSIDE] and released[0].mail_from == SENDER
    assert released[0].data.rstrip(b"\r\n") == first.rstrip(b"\r\n")  # the original, byte for byte
    assert len(sink.matching(to(INTERNAL))) == 1  # the internal copy is not sent again
    # The sender hears it from the CLI too: spooled by `quarantine release`, delivered by the running relay.
    notices = sink.wait_for(lambda m: SENDER in m.rcpt_tos and "sent it on to the" in _text(m.data))
    assert notices[0].mail_from != SENDER and held.id in _text(notices[0].data)
    for secret in (CARD, PATRON, "Alvarez", OUTSIDE):
        assert secret.encode() not in notices[0].data

    with smtplib.SMTP("127.0.0.1", relay.port, local_hostname="ws1.ccrls.org", timeout=10) as client:
        client.sendmail(SENDER, [OUTSIDE], message("second").replace(f"{INTERNAL}, ".encode(), b""))
    second = next(i for i in _wait_items(relay, 2) if i.id != held.id)
    out = cli(capsys, config, state, "quarantine", "reject", second.id, "--by", "alice", "--note", "patron data")
    assert out.strip() == f"{second.id}: rejected"
    rejected = sink.wait_for(lambda m: SENDER in m.rcpt_tos and second.id in _text(m.data) and "decided not to send" in _text(m.data))
    assert "patron data" in _text(rejected[0].data)  # the supervisor's reason reaches the sender
    store = relay.quarantine()
    assert store.get(second.id).state is ItemState.REJECTED and not store.get(second.id).has_content
    assert store.counts()["with_content"] == 0
    cli(capsys, config, state, "quarantine", "purge")
    relay.queue_empty()
    relay.stop()

    files = [p for p in state.rglob("*") if p.is_file() and p.name != "quarantine.key"]
    assert state / "quarantine.db" in files
    blobs = {str(p): p.read_bytes() for p in files}
    blobs["logs"] = relay.logs.getvalue().encode()
    for name, data in blobs.items():
        for secret in (CARD, PATRON, "Alvarez", OUTSIDE):
            assert secret.encode() not in data, f"{secret!r} in clear in {name}"
            assert secret.encode("utf-16-le") not in data, f"{secret!r} (UTF-16) in {name}"


def _text(raw: bytes) -> str:
    """The decoded text of a (single-part) notice."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(("plain",))
    return str(body.get_content()) if body is not None else ""


def _wait_items(relay: Relay, n: int, timeout: float = 10.0) -> list:  # type: ignore[type-arg]
    import time

    deadline = time.monotonic() + timeout
    while True:
        items = relay.quarantine().items()
        if len(items) >= n or time.monotonic() > deadline:
            assert len(items) >= n, f"expected {n} quarantined items, found {len(items)}"
            return items
        time.sleep(0.02)
