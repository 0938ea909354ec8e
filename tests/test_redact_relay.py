"""Redaction in the relay and in the quarantine, over real SMTP on loopback.

A relay whose policy redacts for outside recipients delivers the original to
the internal recipient and the masked copy to the outside one (and tells the
sender); a copy that cannot be made clean is held instead. A relay that holds
lets a supervisor release the redacted copy with `patronguard quarantine
release ID --redacted`.
"""

from __future__ import annotations

import email
import email.policy
import json
import smtplib
from pathlib import Path

import pytest
from relay_support import sink_relay_config
from test_relay import Relay, Sink, to

from proxy.cli import main
from proxy.config import load
from proxy.quarantine import ItemState
from proxy.relay.pipeline import Pipeline, crlf
from proxy.scanning.redact import redact_checked
from proxy.scanning.scan import Scanner
from proxy.wiring import Overrides

CARD = "23610003622817"
PHONE = "503-555-0142"
OUTSIDE = "detective@police.example"
INTERNAL = "circ@cityofsalem.net"
SENDER = "staff@ccrls.org"

REDACTING = "policy:\n  actions:\n    external: redact\n"


def message(subject: str, body: str, ctype: str = "text/plain; charset=utf-8") -> bytes:
    return (
        f"From: Staff <{SENDER}>\r\nTo: {INTERNAL}, {OUTSIDE}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject}@ccrls.org>\r\nMIME-Version: 1.0\r\nContent-Type: {ctype}\r\n\r\n{body}\r\n"
    ).encode()


PATRON_BODY = f"The patron's library card {CARD} has a hold waiting; call the borrower at {PHONE}."
# A Create Lists export as the message body: masked cell by cell its column labels still make it
# an ILS export, and a body (unlike an attachment) cannot be removed.
TABLE_BODY = f"P BARCODE;PATRN NAME;TELEPHONE\r\n{CARD};DOE, JANE M;{PHONE}"
TABLE_TYPE = "text/csv; charset=utf-8"


def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: str):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(Pipeline, "SWEEP_SECONDS", 0.2)  # the CLI's notices reach the running relay quickly
    sink = Sink().start()
    config = tmp_path / "config.yaml"
    config.write_text(sink_relay_config(sink.port) + policy, encoding="utf-8")
    state = tmp_path / "state"
    relay = Relay(state, config)
    relay.service.overrides = Overrides(state_dir=str(state))
    relay.start()
    return relay, sink, config, state


@pytest.fixture
def redacting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    relay, sink, config, state = _env(tmp_path, monkeypatch, REDACTING)
    relay.config_path = config  # type: ignore[attr-defined]
    yield relay, sink
    relay.stop()
    sink.stop()


@pytest.fixture
def holding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    relay, sink, config, state = _env(tmp_path, monkeypatch, "")
    yield relay, sink, config, state
    if relay.thread.is_alive():
        relay.stop()
    sink.stop()


def _send(relay: Relay, data: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", relay.port, local_hostname="ws1.ccrls.org", timeout=10) as client:
        client.sendmail(SENDER, [INTERNAL, OUTSIDE], data)


def _text(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(("plain",))
    return str(body.get_content()) if body is not None else ""


def test_internal_gets_the_original_and_outside_the_redacted_copy(redacting):
    """Mixed recipients: the original to the internal one, the masked copy to the outside one, a notice to the sender."""
    relay, sink = redacting
    original = message("redact-mixed", PATRON_BODY)
    _send(relay, original)
    inside = sink.wait_for(to(INTERNAL))
    outside = sink.wait_for(to(OUTSIDE))
    assert inside[0].rcpt_tos == [INTERNAL] and outside[0].rcpt_tos == [OUTSIDE]
    assert CARD.encode() in inside[0].data and b"X-PatronGuard-Redacted" not in inside[0].data
    copy = email.message_from_bytes(outside[0].data, policy=email.policy.default)
    assert copy["X-PatronGuard-Redacted"] == "yes" and copy["Subject"] == "redact-mixed"
    text = _text(outside[0].data)
    assert "library card [card \u2022\u2022\u2022\u20222817] has a hold waiting; call the borrower at [phone]." in text
    assert CARD not in text and PHONE not in text and outside[0].mail_from == SENDER
    notice = sink.wait_for(lambda m: SENDER in m.rcpt_tos and "masked" in _text(m.data))[0]
    assert "police.example" in _text(notice.data)
    for secret in (CARD, PHONE, OUTSIDE):
        assert secret.encode() not in notice.data
    relay.queue_empty()
    assert relay.quarantine().items() == []  # nothing held
    assert CARD not in relay.logs.getvalue() and PHONE not in relay.logs.getvalue()


def test_a_copy_that_cannot_be_made_clean_is_held(redacting):
    """A Create Lists body stays a patron export after masking: the outside recipient is held, not sent a copy."""
    relay, sink = redacting
    _send(relay, message("redact-refused", TABLE_BODY, TABLE_TYPE))
    assert CARD.encode() in sink.wait_for(to(INTERNAL))[0].data
    held = relay.held_for(OUTSIDE)
    assert held.state is ItemState.HELD and "redaction-refused" in held.rules
    relay.queue_empty()
    assert sink.matching(to(OUTSIDE)) == []


def test_release_redacted_from_the_cli_delivers_the_redacted_copy(holding, capsys):
    """`quarantine release ID --redacted` sends the masked copy to the held recipient only, and tells the sender."""
    relay, sink, config, state = holding
    _send(relay, message("release-redacted", PATRON_BODY))
    sink.wait_for(to(INTERNAL))
    held = relay.held_for(OUTSIDE)
    relay.queue_empty()
    code = main(["quarantine", "release", held.id, "--redacted", "--by", "alice", "--note", "police request, masked",
                 "--config", str(config), "--state-dir", str(state)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip() == f"{held.id}: released_redacted"
    got = sink.wait_for(to(OUTSIDE))
    assert len(got) == 1 and got[0].rcpt_tos == [OUTSIDE] and got[0].mail_from == SENDER
    assert CARD.encode() not in got[0].data and b"X-PatronGuard-Redacted: yes" in got[0].data
    assert "[card \u2022\u2022\u2022\u20222817]" in _text(got[0].data)
    assert len(sink.matching(to(INTERNAL))) == 1  # the internal copy is not sent again
    store = relay.quarantine()
    item = store.get(held.id)
    assert item.state is ItemState.RELEASED_REDACTED and not item.has_content
    notice = sink.wait_for(lambda m: SENDER in m.rcpt_tos and held.id in _text(m.data) and "masked" in _text(m.data))
    assert CARD.encode() not in notice[0].data


def test_release_redacted_that_cannot_be_made_clean_keeps_the_item_held(holding, capsys):
    """When no clean copy can be made, the CLI says so on one line (exit 2), nothing is sent and the item stays held."""
    relay, sink, config, state = holding
    _send(relay, message("release-refused", TABLE_BODY, TABLE_TYPE))
    sink.wait_for(to(INTERNAL))
    held = relay.held_for(OUTSIDE)
    relay.queue_empty()
    code = main(["quarantine", "release", held.id, "--redacted", "--by", "alice", "--note", "try masked",
                 "--config", str(config), "--state-dir", str(state)])
    out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err and "stays held" in err
    assert CARD not in err
    assert relay.quarantine().get(held.id).state is ItemState.HELD
    assert sink.matching(to(OUTSIDE)) == []


def test_a_retry_sends_the_same_redacted_bytes(redacting):
    """After a temporary refusal the redacted copy is made again from the spooled original: identical bytes."""
    relay, sink = redacting
    sink.tempfail_once.add("detective")
    original = message("redact-retry", PATRON_BODY)
    _send(relay, original)
    got = sink.wait_for(to(OUTSIDE))
    assert len(got) == 1
    relay.queue_empty()
    deliveries = [json.loads(line) for line in relay.logs.getvalue().splitlines() if '"relay.delivery"' in line]
    assert any(d.get("deferred") == 1 for d in deliveries)  # the first attempt was refused for now
    expected = redact_checked(Scanner(load(str(relay.config_path))), original, [OUTSIDE])
    assert expected is not None
    # What the sink got is the relay's Received: line, then the copy byte for byte.
    data = got[0].data
    start = data.index(b"From: Staff")
    assert data.startswith(b"Received: ") and b"From: " not in data[:start]
    assert data[start:].rstrip(b"\r\n") == crlf(expected.raw).rstrip(b"\r\n")
