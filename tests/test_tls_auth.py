"""STARTTLS, require-TLS, SMTP AUTH, line limits and their configuration, over real SMTP on loopback.

Relays run in a thread of this process (`test_relay.Relay`, names off) with a
throwaway CA and certificate (`tls_support.make_pki`); clients are smtplib and
`swaks`. The AUTH relay's client networks exclude loopback, so only a login
lets a client relay. Tests that fail logins on purpose connect from their own
loopback address (127.0.0.2, 127.0.0.3) so the failed-login limit of one does
not touch the others.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import pty
import shutil
import smtplib
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from relay_support import base_config
from test_relay import Relay, Sink, message
from tls_support import Pki, client_context, make_pki, peer_serial

from proxy import config as config_module
from proxy.auth import hash_password, load_accounts, parse_hash, verify_password
from proxy.errors import ConfigError
from proxy.relay.smtp import server_tls_context

REPO = Path(__file__).resolve().parents[1]
SENDER = "staff@ccrls.org"
USERS = {"circdesk": "Reading is fundamental 42", "frontdesk": "Overdue? Never! 7"}

AUTH_RELAY = base_config() + """\
server:
  listen: "127.0.0.1:0"
  hostname: relay.test
  client_networks: ["10.0.0.0/8"]
  tls:
    certificate: "{cert}"
    key: "{key}"
  auth:
    users:
      - name: circdesk
        password_hash: "{circdesk_hash}"
    password_file: "{password_file}"
    max_failures: 3
upstream:
  url: "smtp://127.0.0.1:{sink_port}"
  timeout: 5
spool:
  state_dir: "{state}"
  workers: 2
"""

REQUIRE_TLS_RELAY = base_config() + """\
server:
  listen: "127.0.0.1:0"
  hostname: relay.test
  tls:
    certificate: "{cert}"
    key: "{key}"
    require: true
upstream:
  url: "smtp://127.0.0.1:{sink_port}"
  timeout: 5
spool:
  state_dir: "{state}"
  workers: 2
"""


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), "relay")


@pytest.fixture(scope="module")
def sink():
    s = Sink().start()
    yield s
    s.stop()


def start_relay(directory: Path, template: str, **values: object) -> tuple[Relay, Path]:
    state = directory / "state"
    config = directory / "relay.yaml"
    config.write_text(template.format(state=state, **values))
    return Relay(state, config).start(), config


@pytest.fixture(scope="module")
def auth_relay(pki, sink, tmp_path_factory):
    directory = tmp_path_factory.mktemp("auth-relay")
    password_file = directory / "smtp-users"
    password_file.write_text(f"# staff logins\nfrontdesk:{hash_password(USERS['frontdesk'], 'pbkdf2-sha256')}\n")
    relay, _ = start_relay(directory, AUTH_RELAY, cert=pki.cert, key=pki.key, sink_port=sink.port,
                           circdesk_hash=hash_password(USERS["circdesk"]), password_file=password_file)
    yield relay
    relay.stop()


@pytest.fixture(scope="module")
def tls_relay(pki, sink, tmp_path_factory):
    relay, _ = start_relay(tmp_path_factory.mktemp("tls-relay"), REQUIRE_TLS_RELAY, cert=pki.cert, key=pki.key,
                           sink_port=sink.port)
    yield relay
    relay.stop()


def client(relay: Relay, source: str = "127.0.0.1") -> smtplib.SMTP:
    return smtplib.SMTP("127.0.0.1", relay.port, local_hostname="ws1.ccrls.org", timeout=10, source_address=(source, 0))


def secured(relay: Relay, pki: Pki, source: str = "127.0.0.1") -> smtplib.SMTP:
    """A client after EHLO, STARTTLS (the relay's certificate verified against the test CA) and EHLO again."""
    c = client(relay, source)
    c.ehlo()
    c.starttls(context=client_context(pki))
    c.ehlo()
    return c


def plain_auth(c: smtplib.SMTP, user: str, password: str) -> tuple[int, bytes]:
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    return c.docmd("AUTH", f"PLAIN {token}")


# ----------------------------------------------------------------- STARTTLS and AUTH


def test_ehlo_offers_starttls_first_and_auth_only_over_tls(auth_relay, pki):
    """Before TLS EHLO lists STARTTLS and no AUTH; after STARTTLS it lists AUTH LOGIN PLAIN and no STARTTLS."""
    with client(auth_relay) as c:
        c.ehlo()
        assert "starttls" in c.esmtp_features and "auth" not in c.esmtp_features
        c.starttls(context=client_context(pki))
        c.ehlo()
        assert "starttls" not in c.esmtp_features
        assert set(c.esmtp_features["auth"].split()) == {"LOGIN", "PLAIN"}


def test_auth_before_starttls_is_refused(auth_relay):
    """AUTH in clear text: 538 with a reply that says to STARTTLS first; the password is never checked."""
    with client(auth_relay) as c:
        c.ehlo()
        code, reply = plain_auth(c, "circdesk", USERS["circdesk"])
        assert code == 538 and b"issue STARTTLS before AUTH" in reply


def test_client_outside_networks_must_log_in(auth_relay, pki):
    """Without a login a client outside server.client_networks gets 530 at MAIL, TLS or not."""
    with client(auth_relay) as c:
        c.ehlo()
        code, reply = c.mail(SENDER)
        assert code == 530 and b"Authentication required" in reply
    with secured(auth_relay, pki) as c:
        code, reply = c.mail(SENDER)
        assert code == 530 and b"log in" in reply


def test_auth_plain_after_starttls_relays_from_outside_networks(auth_relay, pki, sink):
    """AUTH PLAIN (smtplib) after STARTTLS: accepted though loopback is not a client network; delivered."""
    to = "plain-reader@example.com"
    with secured(auth_relay, pki) as c:
        c.login("circdesk", USERS["circdesk"])  # smtplib picks PLAIN from "AUTH LOGIN PLAIN"
        c.sendmail(SENDER, [to], message(to, "The book club meets on Tuesday."))
    (got,) = sink.wait_for(lambda m: to in m.rcpt_tos)
    assert b"book club" in got.data
    logs = auth_relay.logs.getvalue()
    events = [json.loads(x) for x in logs.splitlines() if '"smtp.auth_ok"' in x]
    assert {"user": "circdesk", "mechanism": "PLAIN"}.items() <= events[-1].items()
    assert USERS["circdesk"] not in logs


def test_auth_login_with_swaks_from_the_password_file(auth_relay, sink):
    """swaks with STARTTLS and AUTH LOGIN, an account from server.auth.password_file (pbkdf2): 235, then queued."""
    swaks = shutil.which("swaks")
    assert swaks, "swaks is installed by scripts/system-deps.sh"
    to = "swaks-reader@example.com"
    done = subprocess.run(
        [swaks, "--server", "127.0.0.1", "--port", str(auth_relay.port), "--tls", "--auth", "LOGIN",
         "--auth-user", "frontdesk", "--auth-password", USERS["frontdesk"], "--ehlo", "ws2.ccrls.org",
         "--from", SENDER, "--to", to, "--header", "Subject: Storytime", "--body", "Storytime moves to 10 am."],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert "235 2.7.0 Authentication successful" in done.stdout and "250 2.0.0 Ok: queued as" in done.stdout
    sink.wait_for(lambda m: to in m.rcpt_tos)


def test_wrong_password_gets_535_and_no_name_or_password_in_logs(auth_relay, pki):
    """A wrong password: 535; the log has a hash of the login name, never the name typed or the password."""
    with secured(auth_relay, pki, source="127.0.0.3") as c:
        code, _ = plain_auth(c, "frontdesk", "Overdue? Always! 8")
        assert code == 535
    logs = auth_relay.logs.getvalue()
    failed = [json.loads(x) for x in logs.splitlines() if '"smtp.auth_failed"' in x]
    assert failed and "user_hash" in failed[-1] and "user" not in failed[-1]
    assert "Overdue? Always! 8" not in logs


def test_failed_logins_are_limited_per_client_address(auth_relay, pki):
    """After server.auth.max_failures wrong passwords from one address it gets 454, even with the right one."""
    with secured(auth_relay, pki, source="127.0.0.2") as c:
        for _ in range(3):
            assert plain_auth(c, "circdesk", "guess")[0] == 535
        code, reply = plain_auth(c, "circdesk", USERS["circdesk"])
        assert code == 454 and b"Too many failed login attempts" in reply
    with secured(auth_relay, pki) as c:  # another address is not affected
        assert plain_auth(c, "circdesk", USERS["circdesk"])[0] == 235


# ----------------------------------------------------------------- require-TLS and line limits


def test_require_tls_refuses_mail_before_starttls_but_allows_helo_rset_noop(tls_relay, pki, sink):
    """server.tls.require: HELO, RSET and NOOP work, MAIL gets 530; after STARTTLS the mail is relayed."""
    to = "secure-reader@example.com"
    with client(tls_relay) as c:
        assert c.helo()[0] == 250
        assert c.rset()[0] == 250
        assert c.noop()[0] == 250
        code, reply = c.mail(SENDER)
        assert code == 530 and b"STARTTLS" in reply
        c.ehlo()
        c.starttls(context=client_context(pki))
        c.ehlo()
        c.sendmail(SENDER, [to], message(to, "Your interlibrary loan request is noted."))
    sink.wait_for(lambda m: to in m.rcpt_tos)


def test_swaks_starttls_relays(tls_relay, sink):
    """swaks --tls against a relay that requires TLS: queued and delivered."""
    to = "swaks-tls@example.com"
    done = subprocess.run(
        ["swaks", "--server", "127.0.0.1", "--port", str(tls_relay.port), "--tls", "--ehlo", "ws3.ccrls.org",
         "--from", SENDER, "--to", to, "--body", "Hours change next week."],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert "220 Ready to start TLS" in done.stdout
    sink.wait_for(lambda m: to in m.rcpt_tos)


def test_line_too_long_gets_500_with_a_clear_reply(tls_relay, pki, sink):
    """A 1,200-byte line: 500 naming the limit; 998 bytes + CRLF, even dot-stuffed, still pass."""
    with secured(tls_relay, pki) as c:
        with pytest.raises(smtplib.SMTPDataError) as err:
            c.sendmail(SENDER, ["long@example.com"], message("long@example.com", "x" * 1200))
        assert err.value.smtp_code == 500
        assert b"Line too long: this relay accepts lines of at most 1000 bytes" in err.value.smtp_error
        to = "edge@example.com"
        c.sendmail(SENDER, [to], message(to, "y" * 998 + "\r\n." + "z" * 997))
    (got,) = sink.wait_for(lambda m: to in m.rcpt_tos)
    assert b"y" * 998 + b"\r\n." + b"z" * 997 in got.data


# ----------------------------------------------------------------- reload


def test_reload_picks_up_a_new_certificate(tmp_path, pki, sink):
    """SIGHUP (Service.reload → Listener.configure): new sessions get the renewed certificate; a bad one is refused."""
    relay, config = start_relay(tmp_path, REQUIRE_TLS_RELAY, cert=pki.cert, key=pki.key, sink_port=sink.port)
    try:
        def serial() -> int:
            with client(relay) as c:
                c.ehlo()
                context = ssl.create_default_context()
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
                c.starttls(context=context)
                return peer_serial(c.sock)

        def reload() -> None:
            asyncio.run_coroutine_threadsafe(relay.service.reload(), relay.service._loop).result(30)  # type: ignore[arg-type]

        assert serial() == pki.serial
        renewed = make_pki(tmp_path / "renewed", "renewed")
        config.write_text(REQUIRE_TLS_RELAY.format(cert=renewed.cert, key=renewed.key, sink_port=sink.port,
                                                   state=tmp_path / "state"))
        reload()
        assert serial() == renewed.serial

        config.write_text(REQUIRE_TLS_RELAY.format(cert=tmp_path / "gone.pem", key=renewed.key, sink_port=sink.port,
                                                   state=tmp_path / "state"))
        reload()
        failed = [json.loads(x) for x in relay.logs.getvalue().splitlines() if '"serve.reload_failed"' in x]
        assert failed and f"{config}:" in failed[-1]["error"] and "server.tls.certificate: cannot read" in failed[-1]["error"]
        assert serial() == renewed.serial  # the running certificate is kept
    finally:
        relay.stop()


# ----------------------------------------------------------------- configuration errors


TLS_SECTION = base_config() + "server:\n{server}"


@pytest.mark.parametrize(
    ("server", "problem"),
    [
        ("  tls:\n    certificate: /etc/tls/cert.pem\n", r"config\.yaml:\d+: server\.tls\.certificate: needs server\.tls\.key"),
        ("  tls:\n    key: /etc/tls/key.pem\n", r"config\.yaml:\d+: server\.tls\.key: needs server\.tls\.certificate"),
        ("  tls:\n    require: true\n", r"config\.yaml:\d+: server\.tls\.require: needs server\.tls\.certificate"),
        ("  auth:\n    password_file: /etc/patronguard/smtp-users\n",
         r"config\.yaml:\d+: server\.auth\.password_file: needs server\.tls\.certificate and server\.tls\.key: "
         r"AUTH is only offered after STARTTLS"),
        ("  max_line_length: 200\n", r"config\.yaml:\d+: server\.max_line_length: expected .* \(at least 1000\)"),
    ],
)
def test_tls_and_auth_settings_that_do_not_fit_together(server, problem):
    """A certificate without key, AUTH without TLS, a line limit under RFC 5321's: file:line: key errors."""
    with pytest.raises(ConfigError, match=problem):
        config_module.parse(TLS_SECTION.format(server=server), "config.yaml")


def test_duplicate_account_names_are_an_error():
    """Two server.auth.users with one name: the second is named by its index."""
    server = ("  tls: {certificate: c.pem, key: k.pem}\n  auth:\n    users:\n"
              "      - {name: a, password_hash: x}\n      - {name: a, password_hash: y}\n")
    with pytest.raises(ConfigError, match=r"config\.yaml:\d+: server\.auth\.users\[1\]\.name: appears twice"):
        config_module.parse(TLS_SECTION.format(server=server), "config.yaml")


def _tls_config(tmp_path: Path, server: str) -> config_module.Config:
    path = tmp_path / "config.yaml"
    path.write_text(TLS_SECTION.format(server=server))
    return config_module.load(path)


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if line.strip().startswith(text))


def test_unreadable_certificate_or_wrong_key_names_file_line_and_key(tmp_path, pki):
    """A certificate file that cannot be read, a key of another certificate: one line each, file:line: key."""
    config = _tls_config(tmp_path, f"  tls:\n    certificate: {tmp_path / 'missing.pem'}\n    key: {pki.key}\n")
    with pytest.raises(ConfigError) as err:
        server_tls_context(config)
    line = _line_of(tmp_path / "config.yaml", "certificate:")
    assert str(err.value) == (f"{tmp_path / 'config.yaml'}:{line}: server.tls.certificate: cannot read "
                              f"{tmp_path / 'missing.pem'} (No such file or directory)")
    other = make_pki(tmp_path / "other", "other")
    config = _tls_config(tmp_path, f"  tls:\n    certificate: {pki.cert}\n    key: {other.key}\n")
    line = _line_of(tmp_path / "config.yaml", "key:")
    with pytest.raises(ConfigError, match=rf"config\.yaml:{line}: server\.tls\.key: .* is not the private key of"):
        server_tls_context(config)


def test_serve_with_unreadable_certificate_exits_with_one_line(tmp_path, pki):
    """`patronguard serve` with a missing certificate: exit 2, one line on stderr naming file:line key, no traceback."""
    config = tmp_path / "config.yaml"
    config.write_text(REQUIRE_TLS_RELAY.format(cert=tmp_path / "missing.pem", key=pki.key, sink_port=2,
                                               state=tmp_path / "state"))
    done = subprocess.run([sys.executable, "-m", "proxy.cli", "serve", "--config", str(config)], capture_output=True,
                          text=True, timeout=120, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "server.tls.certificate: cannot read" in lines[0] and f"{config}:" in lines[0]


def test_bad_hash_in_password_file_names_file_line_key_and_never_the_hash(tmp_path):
    """A malformed hash in the password file or in server.auth.users: named by line and key, not echoed."""
    good = hash_password("a fine password")
    secretish = "scrypt$16384$8$1$c2FsdHNhbHQ$notbase64!!"
    password_file = tmp_path / "smtp-users"
    password_file.write_text(f"alice:{good}\nbob:{secretish}\njust-a-name\n")
    with pytest.raises(ConfigError) as err:
        load_accounts({"carol": ("md5-is-not-a-scheme", "config.yaml:20: server.auth.users[0].password_hash")},
                      str(password_file), "config.yaml:22: server.auth.password_file")
    text = str(err.value)
    assert "config.yaml:20: server.auth.users[0].password_hash: not a password hash" in text
    assert f"{password_file}:2: server.auth.password_file: account bob: not a password hash" in text
    assert f"{password_file}:3: server.auth.password_file: expected name:hash" in text
    assert secretish not in text and "md5-is-not-a-scheme" not in text and good not in text
    with pytest.raises(ConfigError, match=r"config\.yaml:22: server\.auth\.password_file: cannot read password file"):
        load_accounts({}, str(tmp_path / "missing"), "config.yaml:22: server.auth.password_file")


# ----------------------------------------------------------------- hashes and hash-password


@pytest.mark.parametrize("scheme", ["scrypt", "pbkdf2-sha256"])
def test_password_hashes_verify_and_are_salted(scheme):
    """Both schemes verify the right password only; two hashes of one password differ (salt)."""
    first, second = hash_password("Dewey 823.914", scheme), hash_password("Dewey 823.914", scheme)
    assert first != second and first.startswith(scheme + "$")
    assert verify_password("Dewey 823.914", first) and not verify_password("Dewey 823.915", first)
    assert not verify_password("anything", "plain-text-password")


def test_hash_parser_refuses_costly_or_short_hashes():
    """An scrypt N above 2**20 or a short salt is not accepted (a login must not cost gigabytes)."""
    for bad in ("scrypt$2097152$8$1$c2FsdHNhbHRz$" + "A" * 43, "pbkdf2-sha256$100$c2FsdHNhbHRz$" + "A" * 43,
                "scrypt$16384$8$1$c2E$" + "A" * 43):
        with pytest.raises(ValueError) as err:
            parse_hash(bad)
        assert bad not in str(err.value)


def _cli(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "proxy.cli", *args], capture_output=True, text=True, timeout=60,
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, **kw)  # type: ignore[call-overload]


def test_hash_password_reads_one_line_from_a_pipe():
    """Not a terminal: the first line of stdin is hashed; only the hash is printed."""
    done = _cli(["hash-password", "--scheme", "pbkdf2-sha256"], input="Stacks and stacks\n")
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith("pbkdf2-sha256$") and verify_password("Stacks and stacks", line)
    assert "Stacks" not in done.stdout + done.stderr
    empty = _cli(["hash-password"], input="")
    assert empty.returncode == 2 and empty.stderr.strip() == "patronguard: hash-password: empty password; nothing printed"


def _on_terminal(answers: list[str]) -> tuple[int, str]:
    """Run hash-password with a pseudo-terminal as stdin (no controlling terminal, so getpass reads it).

    Each answer is typed after its prompt: getpass flushes pending terminal input when it turns echo off.
    """
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "proxy.cli", "hash-password"], stdin=slave, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                            start_new_session=True)
    os.close(slave)
    assert proc.stderr is not None
    seen = b""
    try:
        for prompt, answer in zip((b"Password: ", b"Again: "), answers, strict=True):
            while not seen.endswith(prompt):
                chunk = os.read(proc.stderr.fileno(), 1)
                assert chunk, f"no prompt {prompt!r}; got {seen!r}"
                seen += chunk
            os.write(master, answer.encode() + b"\n")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return proc.returncode, (out + seen + err).decode()


def test_hash_password_asks_twice_on_a_terminal():
    """On a terminal the password is asked twice; equal → a scrypt hash, different → exit 2 and nothing printed."""
    code, output = _on_terminal(["Quiet please 1", "Quiet please 1"])
    assert code == 0, output
    line = next(x for x in output.splitlines() if x.startswith("scrypt$"))
    assert verify_password("Quiet please 1", line)
    code, output = _on_terminal(["Quiet please 1", "Quiet please 2"])
    assert code == 2 and "the two passwords differ; nothing printed" in output and "scrypt$" not in output
