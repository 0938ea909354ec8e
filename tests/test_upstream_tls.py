"""Upstream delivery with STARTTLS, smtps, AUTH and kept connections, against real aiosmtpd servers.

Every smarthost here is a `TlsSink` on a loopback port with a throwaway CA
(`tls_support.make_pki`); the upstream is built from config text by
`upstream_for`, as the relay builds it. One test runs the whole relay against
a smarthost whose certificate it cannot verify: the mail waits, is not bounced,
and goes out after a SIGHUP-style reload with the right CA.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from relay_support import base_config
from test_relay import Relay, message, send
from tls_support import Pki, TlsSink, make_pki

from proxy import config as config_module
from proxy.config import Config
from proxy.errors import ConfigError
from proxy.relay.delivery import MaildirUpstream, SmtpUpstream, Status, upstream_for, upstream_from_url
from proxy.relay.holds import UpstreamDeliverer
from proxy.wiring import review_service

SENDER = "staff@ccrls.org"
PASSWORD = "correct horse battery staple"
RAW = b"From: staff@ccrls.org\r\nTo: x@example.net\r\nSubject: hi\r\n\r\nHello there.\r\n"


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), "upstream")


@pytest.fixture(scope="module")
def wrong_pki(tmp_path_factory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki-other"), "other")


@pytest.fixture()
def password_file(tmp_path) -> Path:
    path = tmp_path / "upstream-password"
    path.write_text(PASSWORD + "\n")
    path.chmod(0o600)
    return path


def upstream_config(tmp_path: Path, port: int, **upstream: object) -> Config:
    """A config whose `upstream` section is `url` on `port` plus the given keys (written to a real file)."""
    lines = [f'  url: "smtp://127.0.0.1:{port}"', "  timeout: 5"]
    lines += [f"  {key}: {json.dumps(value)}" for key, value in upstream.items()]
    text = base_config() + "upstream:\n" + "\n".join(lines) + f'\nspool:\n  state_dir: "{tmp_path / "state"}"\n'
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return config_module.load(path)


def deliver(up: object, rcpts: list[str] | None = None, raw: bytes = RAW) -> dict:
    return asyncio.run(up.send(SENDER, rcpts or ["x@example.net"], raw, False))  # type: ignore[attr-defined]


@pytest.fixture()
def sinks():
    started: list[TlsSink] = []

    def make(*args, **kw) -> TlsSink:
        s = TlsSink(*args, **kw).start()
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


# ----------------------------------------------------------------- TLS and AUTH


def test_required_starttls_with_auth_verifies_the_test_ca(tmp_path, pki, sinks, password_file):
    """required-starttls + AUTH: the message arrives over TLS, logged in, after the CA and host name verified."""
    sink = sinks(pki, accounts={"relay": PASSWORD})
    config = upstream_config(tmp_path, sink.port, tls="required-starttls", verify=str(pki.ca), username="relay",
                             password_file=str(password_file))
    up = upstream_for(config, "relay.test")
    outcomes = deliver(up)
    assert outcomes["x@example.net"].status is Status.OK
    (got,) = sink.wait_messages(1)
    assert got.tls and got.login == "relay"
    assert sink.connections[got.connection].commands[:3] == ["EHLO", "STARTTLS", "EHLO"]
    assert PASSWORD not in repr(up)


def test_wrong_ca_is_a_temporary_failure_with_a_clear_reason(tmp_path, pki, wrong_pki, sinks):
    """A certificate the configured CA did not sign: temporary (queued and retried), never a bounce or plain text."""
    sink = sinks(pki)
    config = upstream_config(tmp_path, sink.port, tls="starttls", verify=str(wrong_pki.ca))
    outcome = deliver(upstream_for(config, "relay.test"))["x@example.net"]
    assert outcome.status is Status.TEMPORARY
    assert "certificate not trusted" in outcome.detail and "upstream.verify" in outcome.detail
    assert not sink.messages  # not delivered in plain text either


def test_host_name_is_checked(tmp_path, sinks):
    """A certificate from the trusted CA but for another host name: temporary failure."""
    elsewhere = make_pki(tmp_path / "pki", "elsewhere", hosts=("mail.example.org",))
    sink = sinks(elsewhere)
    config = upstream_config(tmp_path, sink.port, tls="required-starttls", verify=str(elsewhere.ca))
    outcome = deliver(upstream_for(config, "relay.test"))["x@example.net"]
    assert outcome.status is Status.TEMPORARY and "certificate not trusted" in outcome.detail
    assert "mismatch" in outcome.detail or "match" in outcome.detail


def test_refused_login_is_temporary_and_says_which_setting(tmp_path, pki, sinks):
    """A wrong upstream password: 535 from the smarthost becomes a temporary failure naming the settings."""
    sink = sinks(pki, accounts={"relay": PASSWORD})
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not it\n")
    config = upstream_config(tmp_path, sink.port, tls="required-starttls", verify=str(pki.ca), username="relay",
                             password_file=str(wrong))
    outcome = deliver(upstream_for(config, "relay.test"))["x@example.net"]
    assert outcome.status is Status.TEMPORARY and outcome.code == 535
    assert "login refused" in outcome.detail and "upstream.password_file" in outcome.detail
    assert "not it" not in outcome.detail


def test_smarthost_asking_for_a_login_defers_instead_of_bouncing(tmp_path, pki, sinks):
    """No upstream.username but the smarthost answers MAIL with 530: temporary, so fixing the config delivers."""
    sink = sinks(pki, accounts={"relay": PASSWORD})
    config = upstream_config(tmp_path, sink.port, tls="required-starttls", verify=str(pki.ca))
    outcome = deliver(upstream_for(config, "relay.test"))["x@example.net"]
    assert outcome.status is Status.TEMPORARY and outcome.code == 530


def test_smtps_speaks_tls_from_the_first_byte(tmp_path, pki, sinks, password_file):
    """tls: smtps (port 465 style) with AUTH: delivered over TLS, logged in."""
    sink = sinks(pki, smtps=True, accounts={"relay": PASSWORD})
    config = upstream_config(tmp_path, sink.port, tls="smtps", verify=str(pki.ca), username="relay",
                             password_file=str(password_file))
    assert deliver(upstream_for(config, "relay.test"))["x@example.net"].status is Status.OK
    (got,) = sink.wait_messages(1)
    assert got.tls and got.login == "relay"


def test_required_starttls_without_offer_is_temporary(tmp_path, sinks):
    """A smarthost that does not offer STARTTLS: required-starttls defers, nothing is sent."""
    sink = sinks(None)
    config = upstream_config(tmp_path, sink.port, tls="required-starttls")
    outcome = deliver(upstream_for(config, "relay.test"))["x@example.net"]
    assert outcome.status is Status.TEMPORARY and "does not offer STARTTLS" in outcome.detail
    assert not sink.messages


def test_opportunistic_starttls_uses_tls_when_offered_and_plain_when_not(tmp_path, pki, sinks):
    """tls: starttls encrypts when the smarthost offers it and still delivers when it does not."""
    with_tls, plain = sinks(pki), sinks(None)
    for sink, encrypted in ((with_tls, True), (plain, False)):
        config = upstream_config(tmp_path, sink.port, tls="starttls", verify=str(pki.ca))
        assert deliver(upstream_for(config, "relay.test"))["x@example.net"].status is Status.OK
        assert sink.wait_messages(1)[0].tls is encrypted


def test_password_is_never_sent_without_tls(tmp_path, sinks, password_file):
    """Opportunistic STARTTLS with a login against a smarthost without TLS: deferred, no AUTH attempted."""
    sink = sinks(None, accounts={"relay": PASSWORD})
    config = upstream_config(tmp_path, sink.port, tls="starttls", username="relay", password_file=str(password_file))
    outcome = deliver(upstream_for(config, "relay.test"))["x@example.net"]
    assert outcome.status is Status.TEMPORARY and "clear text" in outcome.detail
    assert all("AUTH" not in c.commands for c in sink.connections.values())


# ----------------------------------------------------------------- configuration


def test_unreadable_password_file_is_a_config_error_naming_file_line_key(tmp_path, sinks):
    """upstream.password_file that cannot be read: one line with file:line and the key; the relay does not start."""
    config = upstream_config(tmp_path, 2525, tls="required-starttls", username="relay",
                             password_file=str(tmp_path / "missing"))
    with pytest.raises(ConfigError) as err:
        upstream_for(config, "relay.test")
    text = str(err.value)
    assert text.startswith(f"{tmp_path / 'config.yaml'}:") and "upstream.password_file: cannot read password file" in text
    assert "\n" not in text


def test_empty_password_file_and_bad_ca_bundle_are_config_errors(tmp_path, password_file):
    """An empty password file and a CA bundle that is not PEM are named by key, never quoted."""
    empty = tmp_path / "empty"
    empty.write_text("")
    config = upstream_config(tmp_path, 2525, tls="smtps", username="relay", password_file=str(empty))
    with pytest.raises(ConfigError, match=r"config\.yaml:\d+: upstream\.password_file: .* is empty"):
        upstream_for(config, "relay.test")
    bogus = tmp_path / "bogus-ca.pem"
    bogus.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    config = upstream_config(tmp_path, 2525, tls="smtps", verify=str(bogus))
    with pytest.raises(ConfigError, match=r"config\.yaml:\d+: upstream\.verify: cannot use .* as CA bundle"):
        upstream_for(config, "relay.test")


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ({"username": "relay", "password_file": "/x"}, "upstream.username: needs upstream.tls"),
        ({"tls": "smtps", "username": "relay"}, "upstream.username: needs upstream.password_file"),
        ({"tls": "smtps", "password_file": "/x"}, "upstream.password_file: needs upstream.username"),
        ({"tls": "tls-please"}, "upstream.tls: expected an upstream TLS mode"),
    ],
)
def test_upstream_settings_that_do_not_fit_together(tmp_path, keys, problem):
    """Login without TLS or without a password file, an unknown TLS mode: file:line: key errors."""
    with pytest.raises(ConfigError, match=rf"config\.yaml:\d+: {problem}"):
        upstream_config(tmp_path, 2525, **keys)


def test_bare_urls_still_work(tmp_path):
    """upstream_from_url takes smtp://HOST:PORT, HOST:PORT and maildir:PATH, as before; upstream.url takes HOST:PORT."""
    assert isinstance(upstream_from_url("maildir:" + str(tmp_path / "out")), MaildirUpstream)
    for url in ("smtp://127.0.0.1:2525", "127.0.0.1:2525", "[::1]:2525"):
        up = upstream_from_url(url)
        assert isinstance(up, SmtpUpstream) and up.port == 2525 and up.tls == "none" and up.keep_alive == 0
    config = upstream_config(tmp_path, 2525)
    short = config_module.parse(config.source and Path(config.source).read_text().replace("smtp://127.0.0.1", "127.0.0.1"),
                                "config.yaml")
    up = upstream_for(short, "relay.test")
    assert isinstance(up, SmtpUpstream) and (up.host, up.port, up.keep_alive) == ("127.0.0.1", 2525, 10.0)


def test_review_service_releases_through_the_same_tls_and_login(tmp_path, pki, sinks, password_file):
    """CLI/web releases use upstream_for: STARTTLS, the CA check and the login apply to them too."""
    from proxy.quarantine import StoreSettings, open_store

    sink = sinks(pki, accounts={"relay": PASSWORD})
    config = upstream_config(tmp_path, sink.port, tls="required-starttls", verify=str(pki.ca), username="relay",
                             password_file=str(password_file))
    store = open_store(StoreSettings(path=str(tmp_path / "q.db"), key_file=str(tmp_path / "q.key")), create=True)
    try:
        service = review_service(config, store)
        deliverer = service.deliverer
        assert isinstance(deliverer, UpstreamDeliverer)
        deliverer.deliver(SENDER, ["x@example.net"], RAW)
    finally:
        store.close()
    (got,) = sink.wait_messages(1)
    assert got.tls and got.login == "relay"


# ----------------------------------------------------------------- kept connections


def test_two_messages_share_one_connection_with_rset_between(tmp_path, sinks):
    """With keep_alive, the second message goes over the first connection, after an RSET."""
    sink = sinks(None)
    up = upstream_for(upstream_config(tmp_path, sink.port, keep_alive=30), "relay.test")
    assert isinstance(up, SmtpUpstream)
    try:
        assert deliver(up)["x@example.net"].status is Status.OK
        assert deliver(up, ["y@example.net"])["y@example.net"].status is Status.OK
        first, second = sink.wait_messages(2)
        assert first.connection == second.connection and up.connections_opened == 1
        commands = sink.connections[first.connection].commands
        assert commands.count("MAIL") == 2 and "RSET" in commands[commands.index("DATA"):]
    finally:
        up.close()
    sink.wait(lambda: sink.connections[first.connection].closed, "QUIT after close()")
    assert sink.connections[first.connection].commands[-1] == "QUIT"


def test_smarthost_closing_idle_connections_loses_nothing(tmp_path, pki, sinks):
    """The smarthost drops the kept connection while idle: the next message reconnects and is delivered."""
    sink = sinks(pki, idle_timeout=0.3)
    up = upstream_for(upstream_config(tmp_path, sink.port, tls="required-starttls", verify=str(pki.ca), keep_alive=60),
                      "relay.test")
    assert isinstance(up, SmtpUpstream)
    try:
        assert deliver(up)["x@example.net"].status is Status.OK
        sink.wait(lambda: sink.connections[1].timed_out, "idle close by the smarthost")
        assert deliver(up, ["y@example.net"])["y@example.net"].status is Status.OK
        first, second = sink.wait_messages(2)
        assert first.connection != second.connection and second.tls and up.connections_opened == 2
    finally:
        up.close()


def test_idle_connections_are_closed_after_keep_alive(tmp_path, sinks):
    """After keep_alive seconds without mail the relay says QUIT on its own."""
    sink = sinks(None)
    up = upstream_for(upstream_config(tmp_path, sink.port, keep_alive=0.2), "relay.test")
    assert deliver(up)["x@example.net"].status is Status.OK
    sink.wait(lambda: sink.connections[1].closed, "QUIT after keep_alive")
    assert sink.connections[1].commands[-1] == "QUIT"


def test_concurrent_senders_each_get_a_connection_and_reuse_it(tmp_path, sinks):
    """Four messages at once open at most four connections; the next four reuse them."""
    sink = sinks(None)
    up = upstream_for(upstream_config(tmp_path, sink.port, keep_alive=30), "relay.test")
    assert isinstance(up, SmtpUpstream)

    async def burst(tag: str) -> list[dict]:
        return await asyncio.gather(*(up.send(SENDER, [f"{tag}{i}@example.net"], RAW, False) for i in range(4)))

    try:
        for tag in ("a", "b"):
            results = asyncio.run(burst(tag))
            assert all(o.status is Status.OK for r in results for o in r.values())
        sink.wait_messages(8)
        assert up.connections_opened <= 4
        assert len({m.connection for m in sink.messages}) == up.connections_opened
    finally:
        up.close()


def test_per_recipient_outcomes_on_a_kept_connection(tmp_path, sinks):
    """A refused recipient on a kept connection does not spoil the next message."""
    sink = sinks(None)
    sink.refuse.add("nobody")
    up = upstream_for(upstream_config(tmp_path, sink.port, keep_alive=30), "relay.test")
    try:
        outcomes = deliver(up, ["ok@example.net", "nobody@example.net"])
        assert outcomes["ok@example.net"].status is Status.OK
        assert outcomes["nobody@example.net"].status is Status.PERMANENT and outcomes["nobody@example.net"].code == 550
        assert deliver(up, ["next@example.net"])["next@example.net"].status is Status.OK
    finally:
        up.close()  # type: ignore[attr-defined]


# ----------------------------------------------------------------- the whole relay


RELAY_CONFIG = base_config() + """\
server:
  listen: "127.0.0.1:0"
  hostname: relay.test
upstream:
  url: "smtp://127.0.0.1:{port}"
  timeout: 5
  tls: required-starttls
  verify: "{ca}"
  retry_first: 0.2
  retry_factor: 1
  retry_max_delay: 0.2
  max_age: 600
spool:
  state_dir: "{state}"
  workers: 2
"""


def test_relay_queues_on_untrusted_certificate_and_delivers_after_reload(tmp_path, pki, wrong_pki, sinks):
    """Wrong CA: the mail stays queued (retried, no bounce, reason logged); the right CA on SIGHUP delivers it."""
    sink = sinks(pki)
    state = tmp_path / "state"
    config_path = tmp_path / "relay.yaml"
    config_path.write_text(RELAY_CONFIG.format(port=sink.port, ca=wrong_pki.ca, state=state))
    relay = Relay(state, config_path).start()
    try:
        queue_id = send(relay, ["friend@example.com"], message("friend@example.com", "See you at the meeting."))
        deadline = time.monotonic() + 10
        while relay.logs.getvalue().count('"upstream.unavailable"') < 2:  # first attempt and a retry
            assert time.monotonic() < deadline, relay.logs.getvalue()[-2000:]
            time.sleep(0.05)
        assert not sink.messages
        assert (state / "spool" / "queue").exists() and any((state / "spool" / "queue").iterdir())
        lines = [json.loads(x) for x in relay.logs.getvalue().splitlines() if '"upstream.unavailable"' in x]
        assert lines[0]["stage"] == "TLS" and "certificate not trusted" in lines[0]["error"]
        assert "relay.bounced" not in relay.logs.getvalue()

        config_path.write_text(RELAY_CONFIG.format(port=sink.port, ca=pki.ca, state=state))
        asyncio.run_coroutine_threadsafe(relay.service.reload(), relay.service._loop).result(30)  # type: ignore[arg-type]
        (got,) = sink.wait_messages(1, timeout=15)
        assert got.tls and got.rcpt_tos == ["friend@example.com"] and queue_id.encode() in got.data
        relay.queue_empty()
        assert "relay.bounced" not in relay.logs.getvalue()
    finally:
        relay.stop()
