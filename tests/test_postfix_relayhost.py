"""Real Postfix in front of PatronGuard, and Postfix's smtp-sink behind it.

1. Postfix (the Debian package) as the library's sending MTA, run as a private
   instance in a temp dir: its own config, queue and data directories, smtpd on
   a free loopback port, and PatronGuard as its `relayhost` — with the main.cf
   lines the README's deployment section gives (read from README.md, so the
   documentation is what is tested). PatronGuard (in a thread, names off)
   delivers to a recording aiosmtpd sink. Mail goes in through Postfix's smtpd
   (smtplib) and its `sendmail -C DIR`.
2. `smtp-sink` (from the postfix package) as PatronGuard's upstream, dumping
   each transaction to a file.

Postfix's master starts as root and drops to the Debian `postfix` user (tests
run as root in CI); anything else is a loud skip with the reason. Every wait
is bounded.
"""

from __future__ import annotations

import os
import pwd
import re
import select
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from quarantine_support import free_port
from relay_support import sink_relay_config
from test_relay import Relay, Sink, to

CARD = "23610003622817"
SENDER = "staff@ccrls.org"
INTERNAL = "circ@cityofsalem.net"
README = Path(__file__).resolve().parent.parent / "README.md"
WAIT = 30.0  # seconds for any one delivery through Postfix


def skip_loudly(reason: str) -> None:
    message = f"POSTFIX NOT TESTED: {reason}"
    warnings.warn(message, stacklevel=2)
    pytest.skip(message)


def readme_main_cf(relay_port: int) -> list[str]:
    """The main.cf lines of the README's Postfix deployment section, pointed at this test's PatronGuard."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```\n(# /etc/postfix/main\.cf.*?)```", text, re.S)
    assert block, "README.md: the Postfix section must show its main.cf lines in a code block starting '# /etc/postfix/main.cf'"
    lines = [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]
    assert any(line.startswith("relayhost = [patronguard.example.org]:2525") for line in lines)
    return [line.replace("[patronguard.example.org]:2525", f"[127.0.0.1]:{relay_port}") for line in lines]


def run_with_tty(cmd: list[str], timeout: float = 60.0) -> tuple[int, str]:
    """Run a Postfix command with a pseudo-terminal for stderr: Postfix prints its errors there only on a tty."""
    leader, follower = os.openpty()
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, timeout=timeout)
    finally:
        os.close(follower)
    chunks = []
    try:
        while select.select([leader], [], [], 0.2)[0]:
            chunk = os.read(leader, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError:
        pass  # EIO: nothing more to read
    finally:
        os.close(leader)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace").strip()


def wait_for_banner(port: int, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                if s.recv(100).startswith(b"220"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing answered 220 on 127.0.0.1:{port} within {timeout:.0f} s")
        time.sleep(0.1)


class PrivatePostfix:
    """One Postfix instance of its own under a temp dir, relaying everything to PatronGuard."""

    MASTER_CF = (
        "{port} inet n - n - - smtpd",
        "pickup unix n - n 60 1 pickup",
        "cleanup unix n - n - 0 cleanup",
        "qmgr unix n - n 300 1 qmgr",
        "rewrite unix - - n - - trivial-rewrite",
        "bounce unix - - n - 0 bounce",
        "defer unix - - n - 0 bounce",
        "trace unix - - n - 0 bounce",
        "verify unix - - n - 1 verify",
        "flush unix n - n 1000? 0 flush",
        "proxymap unix - - n - - proxymap",
        "smtp unix - - n - - smtp",
        "relay unix - - n - - smtp",
        "showq unix n - n - - showq",
        "error unix - - n - - error",
        "retry unix - - n - - error",
        "discard unix - - n - - discard",
        "anvil unix - - n - 1 anvil",
        "scache unix - - n - 1 scache",
        "postlog unix-dgram n - n - 1 postlogd",
    )

    def __init__(self, relay_port: int) -> None:
        self.port = free_port()
        # Postfix's daemons run as the postfix user: every directory above the queue must be traversable,
        # so not under pytest's 0700 tmp_path.
        self.base = Path(tempfile.mkdtemp(prefix="patronguard-postfix-"))
        self.base.chmod(0o755)
        self.conf, self.queue, self.data = self.base / "conf", self.base / "queue", self.base / "data"
        for d in (self.conf, self.queue, self.data):
            d.mkdir()
            d.chmod(0o755)  # explicit: a relay running in this process sets the umask to 077
        owner = pwd.getpwnam("postfix")
        os.chown(self.data, owner.pw_uid, owner.pw_gid)
        self.maillog = self.base / "maillog"
        main_cf = [
            "compatibility_level = 3.6",
            f"queue_directory = {self.queue}",
            f"data_directory = {self.data}",
            "meta_directory = /etc/postfix",
            "mail_owner = postfix",
            "setgid_group = postdrop",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            "myhostname = mta.ccrls.test",
            "myorigin = ccrls.org",
            "mydestination =",
            "mynetworks = 127.0.0.0/8",
            "smtpd_relay_restrictions = permit_mynetworks, reject",
            "local_transport = error:local delivery is disabled",
            "alias_maps =",
            "alias_database =",
            f"maillog_file = {self.maillog}",
            f"maillog_file_prefixes = {self.base}",
            "smtpd_peername_lookup = no",
            # Retry quickly if PatronGuard was not answering yet.
            "queue_run_delay = 1s",
            "minimal_backoff_time = 1s",
            "maximal_backoff_time = 2s",
            *readme_main_cf(relay_port),
        ]
        (self.conf / "main.cf").write_text("\n".join(main_cf) + "\n")
        (self.conf / "master.cf").write_text("\n".join(self.MASTER_CF).format(port=f"127.0.0.1:{self.port}") + "\n")
        for name in ("main.cf", "master.cf"):
            (self.conf / name).chmod(0o644)

    def start(self) -> PrivatePostfix:
        code, output = run_with_tty(["postfix", "-c", str(self.conf), "start"])
        if code != 0:
            log = self.maillog.read_text(errors="replace")[-1500:] if self.maillog.exists() else ""
            self.remove()
            skip_loudly(f"`postfix -c DIR start` failed ({code}): {output} {log}".strip())
        try:
            wait_for_banner(self.port)
        except TimeoutError as exc:
            self.stop()
            skip_loudly(f"Postfix started but its smtpd did not answer: {exc}")
        return self

    def postqueue(self, *args: str) -> str:
        result = subprocess.run(["postqueue", "-c", str(self.conf), *args], capture_output=True, text=True, timeout=30)
        return result.stdout + result.stderr

    def wait_until_queue_empty(self, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while "Mail queue is empty" not in self.postqueue("-p"):
            assert time.monotonic() < deadline, f"Postfix still has mail queued:\n{self.postqueue('-p')}\n{self.log()}"
            self.postqueue("-f")  # deliver deferred mail now
            time.sleep(0.2)

    def log(self) -> str:
        return self.maillog.read_text(errors="replace") if self.maillog.exists() else ""

    def stop(self) -> None:
        subprocess.run(["postfix", "-c", str(self.conf), "stop"], capture_output=True, timeout=60)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status = subprocess.run(["postfix", "-c", str(self.conf), "status"], capture_output=True, timeout=30)
            if status.returncode != 0:  # not running
                break
            time.sleep(0.2)
        self.remove()

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


def postfix_usable() -> None:
    if shutil.which("postfix") is None:
        skip_loudly("the postfix command is not installed (scripts/system-deps.sh installs it)")
    if os.getuid() != 0:
        skip_loudly("Postfix's master must start as root (it drops to the postfix user); run the tests as root")
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        skip_loudly("there is no 'postfix' user (install the Debian postfix package)")


# ----------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sink() -> Iterator[Sink]:
    s = Sink().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def relay(sink: Sink, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    state = tmp_path_factory.mktemp("postfix-relay-state")
    path = state.parent / f"{state.name}.yaml"
    path.write_text(sink_relay_config(sink.port, state_dir=str(state)))
    r = Relay(state, path).start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def postfix(relay: Relay) -> Iterator[PrivatePostfix]:
    postfix_usable()
    instance = PrivatePostfix(relay.port).start()
    yield instance
    instance.stop()


def message(to_header: str, subject: str, body: str) -> bytes:
    return (f"From: Staff <{SENDER}>\r\nTo: {to_header}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{time.time_ns()}@ccrls.org>\r\n\r\n{body}\r\n").encode()


def submit(postfix: PrivatePostfix, rcpts: list[str], data: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=10) as client:
        client.ehlo("ws1.ccrls.org")
        refused = client.sendmail(SENDER, rcpts, data)
    assert refused == {}


def through_postfix(m) -> bool:  # type: ignore[no-untyped-def]
    return b"by mta.ccrls.test (Postfix" in m.data and b"by relay.test" in m.data


# ----------------------------------------------------------------- Postfix as the sending MTA


def test_benign_mail_through_postfix_reaches_the_upstream(postfix: PrivatePostfix, relay: Relay, sink: Sink) -> None:
    """Ordinary mail submitted to Postfix goes Postfix → PatronGuard → upstream, envelope intact, Postfix's queue empty."""
    submit(postfix, ["vendor@example.com"], message("vendor@example.com", "order", "Please send 3 copies of ISBN 9780143127741."))
    got = sink.wait_for(to("vendor@example.com"), timeout=WAIT)[0]
    assert got.mail_from == SENDER and got.rcpt_tos == ["vendor@example.com"] and through_postfix(got)
    postfix.wait_until_queue_empty()
    assert "relay=127.0.0.1[127.0.0.1]:" in postfix.log() and "status=sent (250" in postfix.log()


def test_patron_record_through_postfix_is_held_for_outside_and_delivered_inside(postfix: PrivatePostfix, relay: Relay,
                                                                              sink: Sink) -> None:
    """A patron record to an internal and an outside address: Postfix hands both to PatronGuard (250), the internal copy arrives, the outside copy is in the quarantine."""
    outside = "pf-outside@example.net"
    internal = "pf-circ@cityofsalem.net"
    submit(postfix, [internal, outside],
           message(f"{internal}, {outside}", "card", f"Maria Alvarez, library card {CARD}, has three items overdue."))
    got = sink.wait_for(to(internal), timeout=WAIT)[0]
    assert got.rcpt_tos == [internal] and through_postfix(got)
    item = relay.held_for(outside, timeout=WAIT)
    assert item.state.value == "held" and item.mail_from == SENDER and "patron-card" in item.rules
    postfix.wait_until_queue_empty()  # Postfix got 250 for both: nothing deferred or bounced back
    relay.queue_empty(timeout=WAIT)
    assert sink.matching(to(outside)) == []
    assert CARD not in postfix.log()  # Postfix logs envelopes only; PatronGuard added nothing with the card


def test_sendmail_command_of_the_private_instance_relays_through_patronguard(postfix: PrivatePostfix, sink: Sink) -> None:
    """`sendmail -C DIR` (Postfix's local submission: postdrop → pickup) also reaches the upstream through PatronGuard."""
    data = message("sm-vendor@example.com", "invoice", "Invoice 4471 is attached.")
    result = subprocess.run(["sendmail", "-C", str(postfix.conf), "-f", SENDER, "sm-vendor@example.com"],
                            input=data, capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr
    got = sink.wait_for(to("sm-vendor@example.com"), timeout=WAIT)[0]
    assert got.mail_from == SENDER and through_postfix(got)


# ----------------------------------------------------------------- smtp-sink as PatronGuard's upstream


def smtp_sink_binary() -> str:
    for candidate in (shutil.which("smtp-sink"), "/usr/sbin/smtp-sink"):
        if candidate and Path(candidate).exists():
            return candidate
    skip_loudly("smtp-sink is not installed (it comes with the postfix package)")
    raise AssertionError  # unreachable


@pytest.fixture(scope="module")
def smtp_sink() -> Iterator[tuple[int, Path]]:
    """Postfix's smtp-sink on a free port, dumping each transaction to a file (run as the postfix user)."""
    binary = smtp_sink_binary()
    base = Path(tempfile.mkdtemp(prefix="patronguard-smtp-sink-"))
    base.chmod(0o755)
    dump = base / "dump"
    dump.mkdir()
    user = "postfix" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
    if os.getuid() == 0:
        owner = pwd.getpwnam(user)
        os.chown(dump, owner.pw_uid, owner.pw_gid)
    port = free_port()
    proc = subprocess.Popen([binary, "-u", user, "-d", f"{dump}/%Y%m%d%H%M%S.", f"127.0.0.1:{port}", "64"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_banner(port, timeout=10)
    except TimeoutError as exc:
        proc.kill()
        output = proc.communicate(timeout=10)[0].decode(errors="replace")
        shutil.rmtree(base, ignore_errors=True)
        skip_loudly(f"smtp-sink did not start: {exc} {output}")
    yield port, dump
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def sink_relay(smtp_sink: tuple[int, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    state = tmp_path_factory.mktemp("smtp-sink-relay-state")
    path = state.parent / f"{state.name}.yaml"
    path.write_text(sink_relay_config(smtp_sink[0], state_dir=str(state)))
    r = Relay(state, path).start()
    yield r
    r.stop()


def dumped(dump: Path, predicate: Callable[[bytes], bool], timeout: float = WAIT) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        for path in dump.iterdir():
            data = path.read_bytes()
            if predicate(data):
                return data
        assert time.monotonic() < deadline, f"smtp-sink: no matching transaction among {len(list(dump.iterdir()))}"
        time.sleep(0.05)


def send_to_relay(relay: Relay, rcpts: list[str], data: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as client:
        client.ehlo("ws1.ccrls.org")
        assert client.sendmail(SENDER, rcpts, data) == {}


def test_smtp_sink_upstream_receives_allowed_mail_with_envelope_and_trace(smtp_sink: tuple[int, Path],
                                                                        sink_relay: Relay) -> None:
    """With smtp-sink as the upstream, benign mail arrives with its envelope and PatronGuard's Received header."""
    _port, dump = smtp_sink
    send_to_relay(sink_relay, ["ss-vendor@example.com"], message("ss-vendor@example.com", "order", "Three copies, please."))
    data = dumped(dump, lambda d: b"X-Rcpt-Args: <ss-vendor@example.com>" in d and b"Three copies" in d)
    assert b"X-Mail-Args: <staff@ccrls.org>" in data and b"by relay.test" in data


def test_smtp_sink_upstream_gets_only_the_internal_copy_of_a_patron_record(smtp_sink: tuple[int, Path],
                                                                         sink_relay: Relay) -> None:
    """A patron record to an internal and an outside address: smtp-sink gets one transaction for the internal one only; the outside one is held."""
    _port, dump = smtp_sink
    internal, outside = "ss-circ@cityofsalem.net", "ss-outside@example.net"
    send_to_relay(sink_relay, [internal, outside],
                  message(f"{internal}, {outside}", "card", f"Maria Alvarez, card {CARD}, owes $12.50."))
    data = dumped(dump, lambda d: f"<{internal}>".encode() in d and b"owes $12.50" in d)
    assert data.count(b"X-Rcpt-Args:") == 1
    assert sink_relay.held_for(outside, timeout=WAIT).state.value == "held"
    sink_relay.queue_empty(timeout=WAIT)
    assert not [p for p in dump.iterdir() if f"<{outside}>".encode() in p.read_bytes()]
