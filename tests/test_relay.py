"""The relay over real SMTP on loopback: smtplib in front, a recording aiosmtpd sink behind.

One relay (in a thread of this process, `detection.names: false` so no spaCy
load) and one sink serve the whole module; each test uses its own addresses
and waits on the sink or the hold store, never on fixed sleeps.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email
import io
import ipaddress
import smtplib
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP
from relay_support import base_config

from proxy.quarantine import HeldItem, QuarantineStore, StoreSettings, open_store
from proxy.relay.delivery import Outcome, RetryPolicy, Status, build_dsn, received_header
from proxy.relay.serve import Service
from proxy.relay.smtp import RelayRules
from proxy.wiring import Overrides

CARD = "23610003622817"
SENDER = "staff@ccrls.org"
MAX_SIZE = 200_000
MAX_RCPT = 5

CONFIG = base_config() + """\
server:
  listen: "127.0.0.1:0"
  hostname: relay.test
  max_message_size: {max_size}
  max_recipients: {max_rcpt}
upstream:
  url: "smtp://127.0.0.1:{sink_port}"
  timeout: 5
  retry_first: 0.1
  retry_factor: 2
  retry_max_delay: 0.4
  max_age: 2.5
spool:
  state_dir: "{state}"
  workers: 2
"""


# ----------------------------------------------------------------- the recording sink


@dataclasses.dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


class Sink:
    """A real SMTP server on a free port that records what it accepts and can be told to refuse."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.refuse: dict[str, str] = {}  # local part → reply, e.g. "550 5.1.1 no such user"
        self.tempfail_once: set[str] = set()  # local parts refused 451 on their first RCPT only
        self.cond = threading.Condition()
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        local = address.partition("@")[0]
        if local in self.refuse:
            return self.refuse[local]
        if local in self.tempfail_once:
            self.tempfail_once.discard(local)
            return "451 4.3.0 try again"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.cond:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
            self.cond.notify_all()
        return "250 OK"

    def start(self) -> Sink:
        self.thread.start()

        async def create() -> int:
            server = await self.loop.create_server(lambda: SMTP(self, enable_SMTPUTF8=True, hostname="sink.test"),
                                                   "127.0.0.1", 0)
            self._server = server
            return int(server.sockets[0].getsockname()[1])

        self.port = asyncio.run_coroutine_threadsafe(create(), self.loop).result(5)
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self._server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def wait_for(self, predicate: Callable[[Received], bool], count: int = 1, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [m for m in self.messages if predicate(m)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"sink: expected {count} matching message(s), got {len(found)}")
                self.cond.wait(left)

    def matching(self, predicate: Callable[[Received], bool]) -> list[Received]:
        with self.cond:
            return [m for m in self.messages if predicate(m)]


def to(address: str) -> Callable[[Received], bool]:
    return lambda m: address in m.rcpt_tos


# ----------------------------------------------------------------- the relay under test


class Relay:
    def __init__(self, state: Path, config_path: Path) -> None:
        self.state = state
        self.logs = io.StringIO()
        self.service = Service(str(config_path), Overrides())
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._quarantine: QuarantineStore | None = None

    def _run(self) -> None:
        from proxy import logs

        # The real one, not another running Relay's wrapper (which would send these logs to its stream).
        original = getattr(logs.configure, "original", logs.configure)

        def configure(level: str = "info", stream: Any = None) -> None:
            original(level, self.logs)

        configure.original = original  # type: ignore[attr-defined]
        logs.configure = configure  # type: ignore[assignment]
        try:
            asyncio.run(self.service.run(lambda port: self.ready.set(), install_signals=False))
        finally:
            logs.configure = original  # type: ignore[assignment]

    def start(self) -> Relay:
        self.thread.start()
        assert self.ready.wait(60), "relay did not start"
        return self

    @property
    def port(self) -> int:
        assert self.service.port is not None
        return self.service.port

    def stop(self) -> None:
        self.service.stop_threadsafe()
        self.thread.join(20)
        if self._quarantine is not None:
            self._quarantine.close()

    def quarantine(self) -> QuarantineStore:
        """The relay's quarantine (beside the spool: the config leaves its paths at the defaults)."""
        if self._quarantine is None:
            self._quarantine = open_store(StoreSettings(path=str(self.state / "quarantine.db"),
                                                        key_file=str(self.state / "quarantine.key")))
        return self._quarantine

    def held_for(self, address: str, timeout: float = 10.0) -> HeldItem:
        """The quarantined item held for exactly `address` (matched by its keyed hash)."""
        store = self.quarantine()
        wanted = (store.keys.address_hash(address),)  # type: ignore[attr-defined]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for item in store.items():
                if item.recipient_hashes == wanted:
                    return item
            time.sleep(0.02)
        raise AssertionError(f"no hold for {address}")

    def queue_empty(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        queue = self.state / "spool" / "queue"
        while any(queue.iterdir()):
            assert time.monotonic() < deadline, "spool did not drain"
            time.sleep(0.02)


@pytest.fixture(scope="module")
def sink():
    s = Sink().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def relay(sink, tmp_path_factory):
    state = tmp_path_factory.mktemp("relay-state")
    config = state.parent / f"{state.name}.yaml"
    config.write_text(CONFIG.format(max_size=MAX_SIZE, max_rcpt=MAX_RCPT, sink_port=sink.port, state=state))
    r = Relay(state, config).start()
    yield r
    r.stop()


def message(to_header: str, body: str, subject: str = "Hello", extra: str = "") -> bytes:
    return (
        f"From: Staff <{SENDER}>\r\nTo: {to_header}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{time.time_ns()}@ccrls.org>\r\n{extra}\r\n{body}\r\n"
    ).encode()


def send(relay: Relay, rcpts: list[str], data: bytes, sender: str = SENDER) -> str:
    """Send one message with plain smtplib; return the queue id from the 250 reply."""
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as client:
        client.ehlo("ws1.ccrls.org")
        code, reply = client.mail(sender)
        assert code == 250, reply
        for r in rcpts:
            code, reply = client.rcpt(r)
            assert code == 250, reply
        code, reply = client.data(data)
        assert code == 250, reply
        text = reply.decode()
        assert "queued as" in text
        return text.rsplit(" ", 1)[-1]


# ----------------------------------------------------------------- behaviour


def test_ehlo_advertises_size_8bitmime_smtputf8_pipelining(relay):
    """EHLO lists SIZE with the configured limit, 8BITMIME, SMTPUTF8 and PIPELINING."""
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as client:
        client.ehlo("ws1.ccrls.org")
        assert client.esmtp_features["size"] == str(MAX_SIZE)
        for ext in ("8bitmime", "smtputf8", "pipelining"):
            assert ext in client.esmtp_features


def test_mixed_recipients_internal_delivered_external_held(relay, sink):
    """A patron card number to an internal and an outside recipient: the internal copy goes out at once, the outside copy is held."""
    body = f"Please check patron card {CARD}, she has three items overdue."
    queue_id = send(relay, ["circ@cityofsalem.net", "friend1@example.net"],
                    message("circ@cityofsalem.net, friend1@example.net", body))
    got = sink.wait_for(to("circ@cityofsalem.net"))[0]
    assert got.rcpt_tos == ["circ@cityofsalem.net"]
    assert got.mail_from == SENDER
    assert CARD.encode() in got.data  # internal mail is delivered unchanged
    trace = got.data.split(b"\r\n\r\n", 1)[0]
    assert trace.startswith(b"Received: from ws1.ccrls.org\r\n\tby relay.test (PatronGuard) with ESMTP id " + queue_id.encode())
    first_header = trace.split(b"\r\nFrom:", 1)[0]
    assert b"@" not in first_header and b"127.0.0.1" not in first_header
    item = relay.held_for("friend1@example.net")
    assert item.queue_id == queue_id
    assert item.recipient_classes == ("external",)
    assert "patron-card" in item.rules
    relay.queue_empty()
    assert sink.matching(to("friend1@example.net")) == []


ROUTED = ["landlord%example.net@cityofsalem.net", '"landlord@example.net"@cityofsalem.net',
          "example.net!landlord@cityofsalem.net"]


def _rcpt_session(port: int, recipient: str, body: str) -> list[bytes]:
    """One message to `recipient` exactly as written (smtplib would re-quote it)."""
    data = (f"From: Staff <{SENDER}>\r\nTo: tenant file\r\nSubject: tenant\r\n\r\n{body}\r\n").encode()
    return _raw_session(port, b"EHLO ws1.ccrls.org\r\nMAIL FROM:<" + SENDER.encode() + b">\r\nRCPT TO:<"
                        + recipient.encode() + b">\r\nDATA\r\n" + data + b".\r\nQUIT\r\n")


@pytest.mark.parametrize("recipient", ROUTED)
def test_routed_recipients_in_a_library_domain_are_held_as_outside(relay, sink, recipient):
    """A patron record to user%domain@, "user@domain"@ or domain!user@ a library domain is held as outside mail:
    the upstream would route it to example.net."""
    replies = _rcpt_session(relay.port, recipient, f"Tenant check: patron card {CARD}, three items overdue.")
    assert sum(b"queued as" in r for r in replies) == 1, replies
    item = relay.held_for(recipient)
    assert item.recipient_classes == ("external",) and "patron-card" in item.rules
    relay.queue_empty()
    assert sink.matching(to(recipient)) == []


def test_routed_recipients_can_be_refused_at_rcpt(sink, tmp_path):
    """With recipients.routed_addresses: refuse, each routed form gets a 553 that says why; nothing is queued."""
    config = tmp_path / "relay.yaml"
    config.write_text(CONFIG.format(max_size=MAX_SIZE, max_rcpt=MAX_RCPT, sink_port=sink.port, state=tmp_path / "s")
                      + "recipients:\n  routed_addresses: refuse\n")
    refusing = Relay(tmp_path / "s", config).start()
    try:
        for recipient in ROUTED:
            replies = _rcpt_session(refusing.port, recipient, "hello")
            refusal = [r for r in replies if r.startswith(b"553 5.7.1")]
            assert refusal and b"routes mail on to another address" in refusal[0], replies
            assert not any(b"queued as" in r for r in replies)
        assert sum(b"queued as" in r for r in _rcpt_session(refusing.port, "circ@cityofsalem.net", "hi")) == 1
    finally:
        refusing.stop()
    assert all(sink.matching(to(r)) == [] for r in ROUTED)


def test_benign_mail_to_outside_is_delivered(relay, sink):
    """Ordinary library business mail to an outside address is delivered, envelope preserved."""
    send(relay, ["vendor2@example.com"], message("vendor2@example.com", "Please send the invoice for order 4471 (ISBN 9780143127741)."))
    got = sink.wait_for(to("vendor2@example.com"))[0]
    assert got.mail_from == SENDER and got.rcpt_tos == ["vendor2@example.com"]


def test_smtputf8_and_8bit_pass_through(relay, sink):
    """An internationalised address and an 8-bit body are relayed with SMTPUTF8."""
    data = "From: staff@ccrls.org\r\nTo: josé@ccrls.org\r\nSubject: café\r\n\r\nCafé à la bibliothèque.\r\n".encode()
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as client:
        client.ehlo("ws1.ccrls.org")
        client.sendmail(SENDER, ["josé@ccrls.org"], data, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    got = sink.wait_for(to("josé@ccrls.org"))[0]
    assert "Café à la bibliothèque.".encode() in got.data


def test_size_limit_refused_with_clear_552(relay):
    """Over the SIZE limit: MAIL with SIZE= and an oversized DATA both get 552 5.3.4 naming the limit."""
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as client:
        client.ehlo("ws1.ccrls.org")
        code, reply = client.mail(SENDER, [f"SIZE={MAX_SIZE + 1}"])
        assert code == 552
        assert reply.decode().startswith(f"5.3.4 Message too big: this relay accepts messages up to {MAX_SIZE} bytes")
        client.rset()
        assert client.mail(SENDER)[0] == 250
        assert client.rcpt("big@ccrls.org")[0] == 250
        code, reply = client.data(message("big@ccrls.org", ("x" * 70 + "\r\n") * (MAX_SIZE // 70 + 10)))
        assert code == 552 and b"5.3.4" in reply


@pytest.mark.parametrize("sender", ["someone@evil.example", "staff@ccrls.org.evil.example", "staff@notccrls.org"])
def test_foreign_sender_domain_is_refused(relay, sender):
    """The relay is not open: a sender outside the library's domains gets 550 5.7.1 at MAIL."""
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as client:
        client.ehlo("ws1.ccrls.org")
        code, reply = client.mail(sender)
        assert code == 550 and reply.startswith(b"5.7.1 Relay access denied")
        assert client.rcpt("victim@example.net")[0] == 503  # nothing accepted after the refusal


def test_client_outside_networks_is_refused(relay):
    """A client address outside server.client_networks gets 550 5.7.1 even with a library sender."""
    handler = relay.service._handler
    assert handler is not None
    original = handler.rules
    handler.rules = dataclasses.replace(original, client_networks=(ipaddress.ip_network("10.0.0.0/8"),))
    try:
        with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as client:
            client.ehlo("ws1.ccrls.org")
            code, reply = client.mail(SENDER)
            assert code == 550 and b"client networks" in reply
    finally:
        handler.rules = original


@pytest.mark.parametrize(
    ("peer", "allowed"),
    [(("127.0.0.1", 1), True), (("127.9.9.9", 1), True), (("::1", 1, 0, 0), True), (("::ffff:127.0.0.1", 1, 0, 0), True),
     (("10.1.2.3", 1), False), (("2001:db8::1", 1, 0, 0), False), (("not-an-ip", 1), False)],
)
def test_client_networks_default_to_loopback(peer, allowed):
    """By default only 127.0.0.0/8 and ::1 may relay."""
    from proxy.config import parse

    rules = RelayRules.from_config(parse("library:\n  domains: [ccrls.org]\n", "t.yaml"))
    assert rules.client_allowed(peer) is allowed


def test_null_sender_and_subdomains_are_library_senders():
    """The null sender (bounces) and subdomains of library domains may send; look-alikes may not."""
    from proxy.config import parse

    rules = RelayRules.from_config(parse("library:\n  domains: [ccrls.org]\n", "t.yaml"))
    assert rules.sender_allowed("<>") and rules.sender_allowed("a@branch.ccrls.org") and rules.sender_allowed("A@CCRLS.ORG")
    assert not rules.sender_allowed("a@xccrls.org") and not rules.sender_allowed("ccrls.org")


def test_too_many_recipients_get_452(relay, sink):
    """Past the recipient limit each further RCPT gets 452 4.5.3; the accepted ones are still delivered."""
    rcpts = [f"many{i}@ccrls.org" for i in range(MAX_RCPT + 2)]
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as client:
        client.ehlo("ws1.ccrls.org")
        client.mail(SENDER)
        codes = [client.rcpt(r) for r in rcpts]
        assert [c for c, _ in codes] == [250] * MAX_RCPT + [452, 452]
        assert codes[-1][1].startswith(b"4.5.3 Too many recipients")
        assert client.data(message("team@ccrls.org", "Staff meeting moved to 3pm."))[0] == 250
    got = sink.wait_for(to("many0@ccrls.org"))[0]
    assert got.rcpt_tos == rcpts[:MAX_RCPT]


def _raw_session(port: int, script: bytes) -> list[bytes]:
    """Send `script` after the greeting in one write (pipelined); return every reply line until the server goes quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"220")
        sock.sendall(script)
        replies = []
        sock.settimeout(1.5)
        try:
            while True:
                line = reader.readline()
                if not line:
                    break
                replies.append(line.rstrip(b"\r\n"))
                if line.startswith(b"221"):
                    break
        except TimeoutError:
            pass
        return replies


@pytest.mark.parametrize(
    ("eod", "refused"),
    [
        (b"\n.\n", True),
        (b"\n.\r\n", True),
        (b"\r.\r", True),
        # aiosmtpd splits DATA on CRLF only: ".\nMAIL FROM…" is one line starting with a dot, and
        # RFC 5321 dot-unstuffing removes that dot, so no lone dot is left to smuggle with.
        (b"\r\n.\n", False),
    ],
)
def test_smuggling_line_endings_are_refused_or_harmless(relay, sink, eod, refused):
    """A bare-LF/CR end-of-data inside DATA (SMTP smuggling) is refused with 550 5.6.0, or arrives inside the one message; the smuggled message never exists upstream."""
    outer = f"outer-{eod.hex()}@ccrls.org"
    smuggled = b"MAIL FROM:<staff@ccrls.org>\r\nRCPT TO:<smuggled@example.net>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n"
    script = (
        b"EHLO ws1.ccrls.org\r\nMAIL FROM:<staff@ccrls.org>\r\nRCPT TO:<" + outer.encode() + b">\r\nDATA\r\n"
        b"Subject: outer\r\n\r\nhello" + eod + smuggled + b".\r\nQUIT\r\n"
    )
    replies = _raw_session(relay.port, script)
    if refused:
        assert any(r.startswith(b"550 5.6.0") for r in replies), replies
        assert not any(b"queued as" in r for r in replies)
    else:
        assert sum(b"queued as" in r for r in replies) == 1, replies
        got = sink.wait_for(to(outer))[0]
        assert got.rcpt_tos == [outer]
        assert b"RCPT TO:<smuggled@example.net>" in got.data  # just text inside the one message
        assert b"\n.\n" not in got.data and b"\r\n.\r\n" not in got.data
    relay.queue_empty()
    assert sink.matching(to("smuggled@example.net")) == []
    if refused:
        assert sink.matching(to(outer)) == []


@pytest.mark.parametrize("body", [b"hello\r\n\x00.\r\nsmuggled", b"hello\n\x00.\nsmuggled", b"a NUL \x00 in a line"])
def test_nul_in_data_is_refused(relay, sink, body):
    """A NUL byte anywhere in DATA (also one that would become a lone dot where an upstream drops it) is a 550 5.6.0
    that says why; nothing is queued or sent."""
    outer = f"nul-{body.hex()[:24]}@ccrls.org"
    script = (b"EHLO ws1.ccrls.org\r\nMAIL FROM:<staff@ccrls.org>\r\nRCPT TO:<" + outer.encode() + b">\r\nDATA\r\n"
              b"Subject: nul\r\n\r\n" + body + b"\r\n.\r\nQUIT\r\n")
    replies = _raw_session(relay.port, script)
    refusal = [r for r in replies if r.startswith(b"550 5.6.0")]
    assert refusal and b"NUL byte" in refusal[0], replies
    assert not any(b"queued as" in r for r in replies)
    relay.queue_empty()
    assert sink.matching(to(outer)) == []


def test_bare_cr_becomes_crlf_before_it_is_spooled(relay, sink):
    """A CR without LF in DATA reaches the upstream as CRLF: every server after the relay reads the same lines."""
    outer = "bare-cr@ccrls.org"
    script = (b"EHLO ws1.ccrls.org\r\nMAIL FROM:<staff@ccrls.org>\r\nRCPT TO:<" + outer.encode() + b">\r\nDATA\r\n"
              b"Subject: cr\r\n\r\nline one\rline two\r\rline four\r\n.\r\nQUIT\r\n")
    replies = _raw_session(relay.port, script)
    assert sum(b"queued as" in r for r in replies) == 1, replies
    got = sink.wait_for(to(outer))[0]
    assert b"line one\r\nline two\r\n\r\nline four\r\n" in got.data
    assert got.data.count(b"\r") == got.data.count(b"\r\n")


def test_pipelined_session_and_lone_dot_line(relay, sink):
    """A pipelined session works, and a dot-stuffed line of its own arrives as '.' without ending the message."""
    script = (
        b"EHLO ws1.ccrls.org\r\nMAIL FROM:<staff@ccrls.org>\r\nRCPT TO:<pipe@ccrls.org>\r\nDATA\r\n"
        b"Subject: dots\r\n\r\nbefore\r\n..\r\nafter\r\n.\r\nQUIT\r\n"
    )
    replies = _raw_session(relay.port, script)
    assert any(b"queued as" in r for r in replies), replies
    got = sink.wait_for(to("pipe@ccrls.org"))[0]
    assert b"before\r\n..\r\nafter" in got.data or b"before\r\n.\r\nafter" in got.data


MALFORMED = (
    b"From: staff@ccrls.org\r\nTo: vendor3@example.net\r\nSubject: report\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n'
    b"--b1\r\nContent-Type: application/pdf; name=x.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%% not base64 !!!\r\n"
    b"--b1\r\nContent-Type: application/octet-stream\r\n\r\n\x01\x02\xff truncated, no closing boundary\r\n"
)


def test_malformed_mime_is_held_not_crashed(relay, sink):
    """A broken multipart (bad base64, binary part, no closing boundary) to an outside address is held, and the relay keeps working."""
    queue_id = send(relay, ["vendor3@example.net"], MALFORMED)
    item = relay.held_for("vendor3@example.net")
    assert item.queue_id == queue_id
    assert "uninspectable" in item.rules
    send(relay, ["after-malformed@ccrls.org"], message("after-malformed@ccrls.org", "still here"))
    sink.wait_for(to("after-malformed@ccrls.org"))


def test_permanent_refusal_gets_a_dsn_with_headers_only(relay, sink):
    """Upstream 550 for one recipient: the others are delivered, and the sender gets an RFC 3464 DSN with the original headers but not the body."""
    sink.refuse["nosuchuser"] = "550 5.1.1 no such user"
    data = message("team5@ccrls.org, nosuchuser@example.org", "Body marker QX-BODY-7 should not come back.", subject="Budget 2025")
    queue_id = send(relay, ["team5@ccrls.org", "nosuchuser@example.org"], data)
    sink.wait_for(to("team5@ccrls.org"))
    dsn = sink.wait_for(lambda m: m.mail_from == "<>" and m.rcpt_tos == [SENDER] and queue_id.encode() in m.data)[0]
    parsed = email.message_from_bytes(dsn.data)
    assert parsed.get_content_type() == "multipart/report"
    assert parsed.get_param("report-type") == "delivery-status"
    types = [p.get_content_type() for p in parsed.get_payload()]
    assert types == ["text/plain", "message/delivery-status", "text/rfc822-headers"]
    assert b"Final-Recipient: rfc822; nosuchuser@example.org" in dsn.data
    assert b"Status: 5.0.0" in dsn.data and b"Action: failed" in dsn.data
    assert b"Subject: Budget 2025" in dsn.data
    assert b"QX-BODY-7" not in dsn.data
    relay.queue_empty()


def test_temporary_refusal_is_retried_then_delivered(relay, sink):
    """Upstream 451 on the first attempt: the message stays queued and is delivered on a retry, without a DSN."""
    sink.tempfail_once.add("flaky")
    queue_id = send(relay, ["flaky@ccrls.org"], message("flaky@ccrls.org", "Retry me."))
    sink.wait_for(to("flaky@ccrls.org"))
    relay.queue_empty()
    assert sink.matching(lambda m: m.mail_from == "<>" and queue_id.encode() in m.data) == []


def test_persistent_temporary_failure_bounces_after_max_age(relay, sink):
    """A recipient that keeps getting 451 is bounced with an expiry DSN once the maximum age has passed."""
    sink.refuse["always-busy"] = "451 4.3.2 busy"
    queue_id = send(relay, ["always-busy@ccrls.org"], message("always-busy@ccrls.org", "Will expire."))
    dsn = sink.wait_for(lambda m: m.mail_from == "<>" and queue_id.encode() in m.data, timeout=15)[0]
    assert b"Status: 5.4.7" in dsn.data
    relay.queue_empty()


def test_logs_hold_no_identifiers(relay, sink):
    """The relay's log lines name no card number, outside address, subject or body."""
    send(relay, ["circ@ccrls.org", "leak-check@example.net"],
         message("leak-check@example.net", f"Card {CARD} for this patron.", subject="Secret subject 42"))
    relay.held_for("leak-check@example.net")
    text = relay.logs.getvalue()
    assert "relay.decision" in text
    for value in (CARD, "leak-check@example.net", "Secret subject 42", "this patron", "circ@ccrls.org"):
        assert value not in text


def test_unexpected_exception_answers_fixed_451(relay):
    """An exception inside a hook answers the fixed 451 4.3.0, never the exception text."""
    handler = relay.service._handler
    assert handler is not None
    reply = asyncio.run(handler.handle_exception(ValueError("patron 23610003622817 at 12 Elm St")))
    assert reply == "451 4.3.0 Temporary local problem; please try again later"


def test_spool_failure_answers_451_not_250(relay, sink):
    """When the spool cannot store the message, DATA is answered 451 and nothing is delivered."""
    relay.queue_empty()
    queue = relay.state / "spool" / "queue"
    aside = queue.with_name("queue.aside")
    queue.rename(aside)
    queue.write_bytes(b"")  # a file where the directory should be: every write fails
    try:
        with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as client:
            client.ehlo("ws1.ccrls.org")
            client.mail(SENDER)
            client.rcpt("lost@ccrls.org")
            code, reply = client.data(message("lost@ccrls.org", "must not be acknowledged"))
    finally:
        queue.unlink()
        aside.rename(queue)
    assert code == 451 and reply.startswith(b"4.3.0")
    assert sink.matching(to("lost@ccrls.org")) == []


# ----------------------------------------------------------------- pure parts


@pytest.mark.parametrize(("attempts", "delay"), [(1, 30.0), (2, 60.0), (3, 120.0), (8, 3600.0), (20, 3600.0)])
def test_retry_back_off_is_exponential_and_capped(attempts, delay):
    """Retries wait first, first×2, first×4, … up to the cap; the first retry is within 60 s by default."""
    assert RetryPolicy().delay(attempts) == delay


def test_retry_gives_up_after_max_age():
    """A message older than max_age (5 days by default) is expired."""
    policy = RetryPolicy()
    assert not policy.expired(0.0, 5 * 86400 - 1)
    assert policy.expired(0.0, 5 * 86400)


def test_received_header_has_no_addresses_or_ip():
    """The trace header names HELO, relay and queue id only, and strips odd characters from HELO."""
    header = received_header("ws1<x@y>\r\nBcc: z", "relay.test", "Q1", when=0)
    assert header.startswith(b"Received: from ws1xyBcc:z\r\n\tby relay.test (PatronGuard) with ESMTP id Q1;")
    assert b"@" not in header and header.count(b"\r\n") == 3


def test_dsn_carries_headers_but_not_body():
    """build_dsn() returns a multipart/report with the original header block and none of the body."""
    raw = b"From: a@ccrls.org\r\nSubject: s\r\n\r\nCard 23610003622817\r\n"
    dsn = build_dsn(queue_id="Q1", original_sender="a@ccrls.org", raw=raw,
                    failed=[("x@example.net", Outcome(Status.PERMANENT, 550, "5.1.1 unknown"))],
                    reporting_mta="relay.test", postmaster="postmaster@ccrls.org", arrival=0.0)
    assert CARD.encode() not in dsn
    parsed = email.message_from_bytes(dsn)
    assert parsed.is_multipart() and parsed["To"] == "<a@ccrls.org>"
    headers = [p for p in parsed.walk() if p.get_content_type() == "text/rfc822-headers"][0]
    assert b"Subject: s" in headers.get_payload(decode=True)
