"""Upstream delivery: the `Upstream` seam, its SMTP and maildir transports, retries and bounces.

This module owns
- `Upstream`, a one-method protocol: send one message to some recipients and
  return an `Outcome` per recipient — ok, temporary or permanent. Transports
  never raise for delivery problems; they classify them.
- `SmtpUpstream` (smtplib in worker threads: the event loop never blocks; TLS,
  AUTH and a small pool of kept connections) and `MaildirUpstream` (a local
  outbox for `make run` and demos); `upstream_for()` builds either from config.
  Connect, TLS and login problems are temporary failures (queued, retried,
  logged with their stage), never bounces.
- `RetryPolicy`: exponential back-off and the maximum age before a bounce.
- `build_dsn()`: an RFC 3464 delivery status notification. It carries the
  original *headers* only (text/rfc822-headers), never the body.
- `received_header()`: the trace header added on the way out. It names the
  relay, the client's HELO name and the queue id — no addresses, no client IP.

It must not decide who may receive what: the pipeline hands it allowed recipients only.
"""

from __future__ import annotations

import asyncio
import email.utils
import enum
import os
import re
import secrets
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from proxy import logs
from proxy.config import Config, UpstreamConfig
from proxy.errors import ConfigError
from proxy.relay.spool import fsync_dir


class Status(enum.StrEnum):
    OK = "ok"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    code: int
    detail: str = ""  # the upstream's reply text: goes into a DSN to the sender, never into logs


class Upstream(Protocol):
    async def send(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes, smtputf8: bool) -> dict[str, Outcome]:
        """Deliver `data` to `rcpt_tos`; one `Outcome` per recipient. Never raises for delivery failures."""
        ...


def _classify(code: int) -> Status:
    if 200 <= code < 300:
        return Status.OK
    if 500 <= code < 600:
        return Status.PERMANENT
    return Status.TEMPORARY


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]


class UpstreamSetupError(Exception):
    """The session could not be made ready for mail (connect, TLS, AUTH): always a temporary failure.

    `stage` and `reason` are ours (no server text, no addresses): safe to log.
    """

    def __init__(self, stage: str, reason: str, code: int = 0) -> None:
        super().__init__(f"{stage}: {reason}")
        self.stage, self.reason, self.code = stage, reason, code


@dataclass
class _Connection:
    client: smtplib.SMTP
    idle_since: float = 0.0
    sent: int = 0  # transactions on this connection (0: fresh, no RSET needed)


# Replies that mean "this relay is not set up right for the smarthost" rather than "this
# recipient is wrong": deferred (and logged) instead of bounced, so fixing the login delivers the queue.
_LOGIN_CODES = frozenset({530, 534, 535, 538})
TLS_MODES = ("none", "starttls", "required-starttls", "smtps")


class SmtpUpstream:
    """Delivers to a smarthost over SMTP with smtplib in worker threads, reusing connections.

    - TLS: `none`; `starttls` (used when the smarthost offers it); `required-starttls`
      (no STARTTLS offered → temporary failure); `smtps` (TLS from the first byte).
      `tls_context` verifies the certificate and the host name; a failed
      verification is a temporary failure, never a fallback to plain text.
    - AUTH with `username`/`password` after TLS only (never in clear text); a
      refused login is a temporary failure: the queue waits for the fix.
    - Connections are kept for `keep_alive` seconds after a message (at most
      `pool_size` idle ones; each concurrent sender uses its own): the next
      message starts with RSET, which doubles as the liveness check. A connection
      that turns out stale before DATA is replaced once, transparently.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float = 60.0,
        helo: str | None = None,
        tls: str = "none",
        tls_context: ssl.SSLContext | None = None,
        username: str = "",
        password: str = "",
        keep_alive: float = 0.0,
        pool_size: int = 8,
        log: Any = None,
    ) -> None:
        if tls not in TLS_MODES:
            raise ValueError(f"unknown upstream TLS mode {tls!r}")
        self.host = host
        self.port = port
        self.timeout = timeout
        self.helo = helo or socket.getfqdn()
        self.tls = tls
        self.tls_context = tls_context if tls_context is not None or tls == "none" else ssl.create_default_context()
        self.username = username
        self._password = password
        self.keep_alive = keep_alive
        self.pool_size = pool_size
        self.log = log if log is not None else logs.get_logger("patronguard.upstream")
        self.connections_opened = 0  # for tests and metrics
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._reaper: threading.Thread | None = None
        self._wake = threading.Event()

    def __repr__(self) -> str:  # never the password
        return f"SmtpUpstream({self.host}:{self.port}, tls={self.tls}, user={'yes' if self.username else 'no'})"

    async def send(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes, smtputf8: bool) -> dict[str, Outcome]:
        return await asyncio.to_thread(self._send, mail_from, tuple(rcpt_tos), data, smtputf8)

    def close(self) -> None:
        """QUIT the idle connections; busy ones are closed when their message is done."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        self._wake.set()
        for conn in idle:
            self._quit(conn)

    # ------------------------------------------------------------ one message

    def _send(self, mail_from: str, rcpt_tos: tuple[str, ...], data: bytes, smtputf8: bool) -> dict[str, Outcome]:
        for attempt in (1, 2):
            try:
                conn = self._acquire()
            except UpstreamSetupError as exc:
                self.log.warning("upstream.unavailable", upstream=f"{self.host}:{self.port}", stage=exc.stage,
                                 error=exc.reason)
                return dict.fromkeys(rcpt_tos, Outcome(Status.TEMPORARY, exc.code, f"smarthost {exc.stage} failed: {exc.reason}"))
            reused = conn.sent > 0
            try:
                outcomes, reusable = self._transaction(conn, mail_from, rcpt_tos, data, smtputf8)
            except _Stale:
                self._discard(conn)
                if reused and attempt == 1:
                    continue  # the smarthost dropped a kept connection before DATA: once more on a fresh one
                return dict.fromkeys(rcpt_tos, Outcome(Status.TEMPORARY, 0, "upstream closed the connection"))
            except BaseException:  # e.g. a non-ASCII address for a smarthost without SMTPUTF8: the caller defers
                self._discard(conn)
                raise
            if reusable:
                conn.sent += 1
                self._release(conn)
            else:
                self._discard(conn)
            return outcomes
        raise AssertionError("unreachable")

    def _transaction(
        self, conn: _Connection, mail_from: str, rcpt_tos: tuple[str, ...], data: bytes, smtputf8: bool
    ) -> tuple[dict[str, Outcome], bool]:
        """MAIL, RCPT…, DATA on a ready connection → (outcomes, connection still usable).

        Raises `_Stale` when the connection died before the message was handed over.
        """
        client = conn.client

        def everyone(code: int, reply: bytes | str) -> dict[str, Outcome]:
            return dict.fromkeys(rcpt_tos, Outcome(_classify_reply(code), code, _text(reply)))

        options = ["SMTPUTF8"] if smtputf8 and client.has_extn("smtputf8") else []
        if client.has_extn("8bitmime") and re.search(rb"[\x80-\xff]", data):
            options.append("BODY=8BITMIME")
        if client.has_extn("size"):
            options.append(f"SIZE={len(data)}")
        try:
            if conn.sent:
                code, reply = client.rset()
                if code != 250:
                    raise _Stale()
            code, reply = client.mail(mail_from, options)
            if code != 250:
                if code == 421:
                    raise _Stale()
                self._rset(client)
                return everyone(code, reply), True
            outcomes: dict[str, Outcome] = {}
            accepted: list[str] = []
            for rcpt in rcpt_tos:
                code, reply = client.rcpt(rcpt)
                if code in (250, 251):
                    accepted.append(rcpt)
                else:
                    outcomes[rcpt] = Outcome(_classify_reply(code), code, _text(reply))
            if not accepted:
                self._rset(client)
                return outcomes, True
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _Stale() from exc
        try:
            code, reply = client.data(data)
        except smtplib.SMTPDataError as exc:  # no 354: the message was not handed over
            self._rset(client)
            return {**outcomes, **{r: Outcome(_classify_reply(exc.smtp_code), exc.smtp_code, _text(exc.smtp_error))
                                   for r in accepted}}, True
        except (smtplib.SMTPException, OSError) as exc:  # lost mid-DATA: maybe delivered; retry later (at least once)
            return {**outcomes, **dict.fromkeys(accepted, Outcome(
                Status.TEMPORARY, 0, f"upstream connection lost during DATA ({exc.__class__.__name__})"))}, False
        status = Outcome(_classify_reply(code), code, "" if code == 250 else _text(reply))
        return {**outcomes, **dict.fromkeys(accepted, status)}, code != 421

    @staticmethod
    def _rset(client: smtplib.SMTP) -> None:
        try:
            client.rset()
        except (smtplib.SMTPException, OSError):
            pass

    # ------------------------------------------------------------ connections

    def _acquire(self) -> _Connection:
        with self._lock:
            now = time.monotonic()
            while self._idle:
                conn = self._idle.pop()  # the most recently used: the least likely to be stale
                if now - conn.idle_since < self.keep_alive:
                    return conn
                self._idle.append(conn)
                break
            expired, self._idle = self._idle, []
        for conn in expired:
            self._quit(conn)
        return self._connect()

    def _release(self, conn: _Connection) -> None:
        with self._lock:
            if not self._closed and self.keep_alive > 0 and len(self._idle) < self.pool_size:
                conn.idle_since = time.monotonic()
                self._idle.append(conn)
                if self._reaper is None:
                    self._reaper = threading.Thread(target=self._reap, name="upstream-idle", daemon=True)
                    self._reaper.start()
                return
        self._quit(conn)

    def _discard(self, conn: _Connection) -> None:
        try:
            conn.client.close()
        except OSError:
            pass

    def _quit(self, conn: _Connection) -> None:
        try:
            conn.client.quit()
        except (smtplib.SMTPException, OSError):
            self._discard(conn)

    def _reap(self) -> None:
        """Close connections idle for `keep_alive` seconds; exit when none is left."""
        while True:
            with self._lock:
                now = time.monotonic()
                expired = [c for c in self._idle if now - c.idle_since >= self.keep_alive]
                self._idle = [c for c in self._idle if c not in expired]
                if not self._idle:
                    self._reaper = None
                wait = min((c.idle_since + self.keep_alive - now for c in self._idle), default=0.0)
            for conn in expired:
                self._quit(conn)
            if not wait or self._closed:
                return
            self._wake.wait(wait)

    def _connect(self) -> _Connection:
        """A new session, greeted, EHLO'd, with TLS and AUTH as configured; UpstreamSetupError otherwise."""
        client: smtplib.SMTP | None = None
        stage = "connection"
        try:
            if self.tls == "smtps":
                stage = "TLS"
                client = smtplib.SMTP_SSL(self.host, self.port, local_hostname=self.helo, timeout=self.timeout,
                                          context=self.tls_context)
            else:
                client = smtplib.SMTP(self.host, self.port, local_hostname=self.helo, timeout=self.timeout)
            stage = "EHLO"
            client.ehlo()
            if self.tls in ("starttls", "required-starttls"):
                if client.has_extn("starttls"):
                    stage = "STARTTLS"
                    client.starttls(context=self.tls_context)
                    client.ehlo()
                elif self.tls == "required-starttls":
                    raise UpstreamSetupError("STARTTLS", "the smarthost does not offer STARTTLS (upstream.tls: required-starttls)")
            if self.username:
                stage = "AUTH"
                if self.tls == "none" or (self.tls == "starttls" and not isinstance(client.sock, ssl.SSLSocket)):
                    raise UpstreamSetupError("AUTH", "no TLS on this connection: the password is never sent in clear text")
                client.login(self.username, self._password)
        except UpstreamSetupError:
            self._abandon(client)
            raise
        except ssl.SSLCertVerificationError as exc:
            self._abandon(client)
            raise UpstreamSetupError("TLS", f"certificate not trusted ({exc.verify_message or 'verification failed'}; "
                                            "see upstream.verify)") from None
        except smtplib.SMTPAuthenticationError as exc:
            self._abandon(client)
            raise UpstreamSetupError("AUTH", f"login refused with {exc.smtp_code} (check upstream.username and "
                                             "upstream.password_file)", exc.smtp_code) from None
        except smtplib.SMTPNotSupportedError:
            self._abandon(client)
            raise UpstreamSetupError(stage, "the smarthost does not offer AUTH (upstream.username is set)") from None
        except smtplib.SMTPResponseException as exc:
            self._abandon(client)
            raise UpstreamSetupError(stage, f"the smarthost answered {exc.smtp_code}", exc.smtp_code) from None
        except ssl.SSLError as exc:
            self._abandon(client)
            raise UpstreamSetupError("TLS", f"handshake failed ({exc.reason or exc.__class__.__name__})") from None
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timeout, DNS: try again later
            self._abandon(client)
            raise UpstreamSetupError(stage, f"upstream unreachable ({exc.__class__.__name__})") from None
        with self._lock:
            self.connections_opened += 1
        return _Connection(client)

    @staticmethod
    def _abandon(client: smtplib.SMTP | None) -> None:
        if client is not None:
            try:
                client.close()
            except OSError:
                pass


class _Stale(Exception):
    """The connection failed before the message was handed over (safe to try again at once)."""


def _classify_reply(code: int) -> Status:
    return Status.TEMPORARY if code in _LOGIN_CODES else _classify(code)


class MaildirUpstream:
    """A local outbox: each delivery is one file in `path/new/` (Return-Path and Delivered-To added)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        for sub in ("tmp", "new", "cur"):
            (self.path / sub).mkdir(mode=0o700, parents=True, exist_ok=True)

    async def send(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes, smtputf8: bool) -> dict[str, Outcome]:
        return await asyncio.to_thread(self._send, mail_from, tuple(rcpt_tos), data)

    def _send(self, mail_from: str, rcpt_tos: tuple[str, ...], data: bytes) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        for rcpt in rcpt_tos:
            head = f"Return-Path: <{mail_from}>\r\nDelivered-To: {rcpt}\r\n".encode()
            name = f"{time.time_ns()}.{secrets.token_hex(4)}.{socket.gethostname()}"
            tmp = self.path / "tmp" / name
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    os.write(fd, head + data)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.rename(tmp, self.path / "new" / name)
                fsync_dir(self.path / "new")
                outcomes[rcpt] = Outcome(Status.OK, 250)
            except OSError as exc:
                outcomes[rcpt] = Outcome(Status.TEMPORARY, 0, f"outbox not writable ({exc.__class__.__name__})")
        return outcomes


def upstream_from_url(url: str, *, timeout: float = 60.0, helo: str | None = None) -> Upstream:
    """'smtp://HOST:PORT', 'HOST:PORT' or 'maildir:PATH' → a plain `Upstream` (no TLS, no AUTH, no reuse).

    For callers with a bare URL; the relay and the review service use `upstream_for`.
    """
    if url.startswith("maildir:"):
        return MaildirUpstream(url[len("maildir:"):])
    host, port = _host_port(url)
    return SmtpUpstream(host, port, timeout=timeout, helo=helo)


def _host_port(url: str) -> tuple[str, int]:
    hostport = url[len("smtp://"):] if url.startswith("smtp://") else url
    host, _, port = hostport.rstrip("/").rpartition(":")
    return host.strip("[]"), int(port)


def upstream_for(config: Config, helo: str, *, url: str | None = None, log: Any = None) -> Upstream:
    """The relay's upstream from `config.upstream` (`url` overrides `upstream.url`): TLS, AUTH, reuse.

    Reads the CA bundle and the password file now, so a problem is a one-line
    `ConfigError` naming file, line and key at start-up (never the password).
    """
    up = config.upstream
    target = url or up.url
    if target.startswith("maildir:"):
        return MaildirUpstream(target[len("maildir:"):])
    host, port = _host_port(target)
    context = upstream_tls_context(up) if up.tls != "none" else None
    password = read_password(up.password_file, up.password_file_at) if up.username else ""
    return SmtpUpstream(host, port, timeout=up.timeout, helo=helo, tls=up.tls, tls_context=context,
                        username=up.username, password=password, keep_alive=up.keep_alive,
                        pool_size=max(config.spool.workers, 1), log=log)


def upstream_tls_context(up: UpstreamConfig) -> ssl.SSLContext:
    """Client TLS (1.2+) that verifies the smarthost's certificate and host name against `upstream.verify`."""
    if up.verify == "system":
        context = ssl.create_default_context()
    else:
        try:
            context = ssl.create_default_context(cafile=up.verify)
        except (OSError, ssl.SSLError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a PEM CA bundle"
            raise ConfigError(f"{up.verify_at}: cannot use {up.verify} as CA bundle ({why})") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def read_password(path: str, where: str) -> str:
    """The first line of a password file; a missing, unreadable or empty file is a ConfigError (never its text)."""
    try:
        with open(path, encoding="utf-8") as f:
            first = f.readline().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc.__class__.__name__
        raise ConfigError(f"{where}: cannot read password file {path} ({why})") from None
    if not first:
        raise ConfigError(f"{where}: password file {path} is empty (the password is its first line)")
    return first


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off: first, first*factor, first*factor², … capped at max_delay; bounce after max_age."""

    first: float = 30.0
    factor: float = 2.0
    max_delay: float = 3600.0
    max_age: float = 432_000.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt (1-based)."""
        return min(self.first * self.factor ** max(attempts - 1, 0), self.max_delay)

    def expired(self, received_at: float, now: float) -> bool:
        return now - received_at >= self.max_age


_SAFE_HELO = re.compile(r"[^A-Za-z0-9.\-\[\]:_]")


def received_header(helo: str, hostname: str, queue_id: str, when: float | None = None) -> bytes:
    """The trace header: HELO name, relay, queue id and time; no addresses, no client IP."""
    name = _SAFE_HELO.sub("", helo)[:64] or "unknown"
    date = email.utils.formatdate(when, localtime=False)
    return f"Received: from {name}\r\n\tby {hostname} (PatronGuard) with ESMTP id {queue_id};\r\n\t{date}\r\n".encode("ascii")


def header_block(raw: bytes, limit: int = 65536) -> bytes:
    """The original header lines (up to the first empty line), CRLF-terminated."""
    head = raw[:limit]
    match = re.search(rb"\r?\n\r?\n", head)
    block = head[: match.start()] if match else head
    lines = re.split(rb"\r?\n", block)
    return b"\r\n".join(lines) + b"\r\n"


def build_dsn(
    *,
    queue_id: str,
    original_sender: str,
    raw: bytes,
    failed: Sequence[tuple[str, Outcome]],
    reporting_mta: str,
    postmaster: str,
    arrival: float,
    expired: bool = False,
) -> bytes:
    """An RFC 3464 multipart/report DSN for `failed` recipients, with the original headers only."""
    boundary = f"=_pg_{secrets.token_hex(12)}"
    now = email.utils.formatdate(localtime=False)
    why = (
        "could not be delivered in time: the receiving server kept refusing it temporarily"
        if expired
        else "was refused by the receiving mail server"
    )
    listing = "\r\n".join(f"  {rcpt}: {o.code or ''} {o.detail}".rstrip() for rcpt, o in failed)
    human = (
        "This is the library's outgoing mail relay (PatronGuard).\r\n\r\n"
        f"Your message (reference {queue_id}) {why} for these recipients:\r\n\r\n"
        f"{listing}\r\n\r\n"
        "Other recipients of the same message are not affected. Please check the\r\n"
        "address, or ask your library's IT contact if this keeps happening.\r\n"
    )
    per_message = (
        f"Reporting-MTA: dns; {reporting_mta}\r\n"
        f"X-PatronGuard-Queue-ID: {queue_id}\r\n"
        f"Arrival-Date: {email.utils.formatdate(arrival, localtime=False)}\r\n"
    )
    per_recipient = []
    for rcpt, o in failed:
        code = o.code or (451 if expired else 550)
        status = f"{'5' if expired or code >= 500 else '4'}.{'4.7' if expired else '0.0'}"
        diagnostic = f"Diagnostic-Code: smtp; {code} {o.detail}".rstrip() + "\r\n" if o.code else ""
        per_recipient.append(
            f"Final-Recipient: rfc822; {rcpt}\r\n"
            "Action: failed\r\n"
            f"Status: {status}\r\n"
            f"{diagnostic}"
            f"Last-Attempt-Date: {now}\r\n"
        )
    parts = [
        f"From: Mail Delivery System <{postmaster}>\r\n"
        f"To: <{original_sender}>\r\n"
        f"Subject: Undelivered mail returned to sender\r\n"
        f"Date: {now}\r\n"
        f"Message-ID: <{queue_id}.dsn.{secrets.token_hex(4)}@{reporting_mta}>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        "This is a MIME-formatted delivery status notification.\r\n",
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{human}",
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n{per_message}\r\n" + "\r\n".join(per_recipient),
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n",
    ]
    text = "\r\n".join(parts[:3]) + "\r\n" + parts[3]
    return text.encode("utf-8") + header_block(raw) + f"\r\n--{boundary}--\r\n".encode("ascii")
