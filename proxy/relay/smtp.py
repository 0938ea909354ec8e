"""The SMTP listener: aiosmtpd hooks that check the envelope, spool durably and answer.

This module owns the SMTP conversation with staff mail clients and the
library's MTA. Its handler translates and never decides about content:

- MAIL: only clients from the configured networks *or* authenticated (SMTP
  AUTH PLAIN/LOGIN, offered only after STARTTLS; see proxy.auth), only senders
  in the library's domains (or the null sender) — anything else a clear 5xx,
  so the relay is never open.
- STARTTLS (TLS 1.2+) when `server.tls` names a certificate; with
  `server.tls.require` every command but EHLO/HELO/STARTTLS/NOOP/QUIT/RSET
  answers 530 until TLS is up. Lines longer than `server.max_line_length`
  (CRLF included) answer 500.
- RCPT: a recipient limit (452, the client sends the rest later); with
  `recipients.routed_addresses: refuse`, a recipient that routes on
  (`user%domain@`, `"user@domain"@`, `domain!user@`) is refused with 553.
- DATA: refuse SMTP-smuggling line endings and NUL bytes (RFC 5321 allows
  neither), turn a bare CR into CRLF, write message + envelope to the spool
  (fsync'd) and only then answer `250 … queued as <id>`; a spool failure
  answers 451/452, never 250.
- Any unexpected exception answers a fixed `451 4.3.0` (aiosmtpd's default
  would send a permanent 500 with the exception text, which may quote data).

aiosmtpd's `mail.log` logger (addresses at INFO, body lines at DEBUG) is capped
at WARNING by `proxy.logs.configure`.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import ssl
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from proxy import logs
from proxy.auth import Authenticator, load_accounts
from proxy.config import Config
from proxy.errors import ConfigError
from proxy.relay.spool import Envelope, Spool, SpoolError
from proxy.scanning.policy import routed

IDENT = "PatronGuard ESMTP"
UNEXPECTED = "451 4.3.0 Temporary local problem; please try again later"
MUST_TLS = "530 5.7.0 Must issue a STARTTLS command first"
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"<({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>")

# A lone dot framed by a bare LF or a bare CR (on either side): the SMTP-smuggling
# shapes ("\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r"). aiosmtpd 1.4.6 only ends DATA on
# "\r\n.\r\n", so these arrive inside the content; a downstream server that
# accepts bare LF could read them as the end of the message. Linear-time regex.
_SMUGGLING = re.compile(rb"(?:(?<!\r)\n|\r(?!\n))\.[\r\n]|[\r\n]\.(?:\n|\r(?!\n))")


_BARE_CR = re.compile(rb"\r(?!\n)")
NUL_REFUSED = ("550 5.6.0 Message refused: it contains a NUL byte, which SMTP does not allow (RFC 5321); "
               "send binary data as an encoded attachment")


def crlf_for_bare_cr(raw: bytes) -> bytes:
    """Each CR not followed by LF becomes CRLF, so every server after this one reads the same lines.

    Python's email parser (the scan) already reads a lone CR as a line end; an
    upstream might join the lines instead, or drop the CR. Counting first keeps
    the regular expression off nearly all mail (which has none).
    """
    if raw.count(b"\r") == raw.count(b"\r\n"):
        return raw
    return _BARE_CR.sub(b"\r\n", raw)


def smuggling(raw: bytes) -> bool:
    """A bare CR or LF next to a lone dot: an end-of-data another server could read differently.

    Every form has a line-break byte right before the dot; without one (nearly
    all mail) the regular expression need not walk the message.
    """
    return (b"\n." in raw or b"\r." in raw) and _SMUGGLING.search(raw) is not None


@dataclass(frozen=True, slots=True)
class RelayRules:
    """Who may relay: client networks, sender domains, limits. Rebuilt on SIGHUP."""

    client_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    sender_domains: tuple[str, ...]
    max_recipients: int
    max_message_size: int
    auth_enabled: bool = False  # accounts configured: an authenticated client may relay from anywhere
    refuse_routed: bool = False  # recipients.routed_addresses: refuse user%domain@-style recipients at RCPT

    @classmethod
    def from_config(cls, config: Config) -> RelayRules:
        server = config.server
        return cls(
            client_networks=tuple(ipaddress.ip_network(n, strict=False) for n in server.client_networks),
            sender_domains=server.sender_domains or config.library_domains,
            max_recipients=server.max_recipients,
            max_message_size=server.max_message_size,
            auth_enabled=bool(server.auth.users or server.auth.password_file),
            refuse_routed=config.routed_addresses == "refuse",
        )

    def client_allowed(self, peer: Any) -> bool:
        host = peer[0] if isinstance(peer, tuple) and peer else peer
        try:
            ip = ipaddress.ip_address(str(host).split("%")[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == net.version and ip in net for net in self.client_networks)

    def sender_allowed(self, address: str) -> bool:
        if address in ("", "<>"):  # the null sender: bounces from the library's own MTA
            return True
        _, at, domain = address.rpartition("@")
        domain = domain.lower().rstrip(".")
        return bool(at) and any(domain == d or domain.endswith("." + d) for d in self.sender_domains)


def _size_text(limit: int) -> str:
    return f"{limit / 1_048_576:.0f} MB" if limit >= 1_048_576 else f"{limit} bytes"


class RelayHandler:
    """aiosmtpd handler: hooks are found by name and return the reply line."""

    def __init__(self, spool: Spool, rules: RelayRules, on_queued: Callable[[str], None], log: Any) -> None:
        self.spool = spool
        self.rules = rules  # replaced whole on SIGHUP
        self.on_queued = on_queued
        self.log = log
        self.inflight = 0  # DATA commands between end-of-data and the reply
        self.idle = asyncio.Event()
        self.idle.set()

    def reconfigure(self, rules: RelayRules) -> None:
        """A reloaded configuration's relay rules (SIGHUP): new commands are checked against them."""
        self.rules = rules

    async def handle_EHLO(self, server: SMTP, session: Any, envelope: Any, hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        # aiosmtpd reads commands in order from one stream, so pipelined commands just work; say so.
        # No accounts configured: aiosmtpd would still say an empty "250-AUTH" after STARTTLS.
        responses = [r for r in responses if r.strip() != "250-AUTH"]
        return responses[:-1] + ["250-PIPELINING", responses[-1]]

    async def handle_MAIL(self, server: SMTP, session: Any, envelope: Any, address: str, mail_options: list[str]) -> str:
        rules = self.rules
        if not session.authenticated and not rules.client_allowed(session.peer):
            self.log.warning("smtp.refused", error="client-network")
            if rules.auth_enabled:
                return "530 5.7.0 Authentication required: log in (STARTTLS, then AUTH) or send from the library's network"
            return "550 5.7.1 Relay access denied: your address is not in this relay's client networks"
        if not rules.sender_allowed(address):
            self.log.warning("smtp.refused", error="sender-domain")
            return "550 5.7.1 Relay access denied: this relay only sends mail from the library's own domains"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server: SMTP, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        local, at, domain = address.rpartition("@")
        if not at or not local or ("." not in domain and not domain.startswith("[")):
            return "553 5.1.3 Recipient address is not a full mail address (name@domain)"
        if self.rules.refuse_routed and routed(address):
            self.log.warning("smtp.refused", error="routed-recipient")
            return ("553 5.7.1 Recipient refused: this address routes mail on to another address "
                    "(user%domain, \"user@domain\" or domain!user); give the recipient's own address")
        if len(envelope.rcpt_tos) >= self.rules.max_recipients:
            return f"452 4.5.3 Too many recipients: at most {self.rules.max_recipients} per message; send the rest in another message"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or b""
        if b"\x00" in raw:  # an upstream that drops NUL could then see "\r\n.\r\n" and end the message early
            self.log.warning("smtp.refused", error="nul-byte")
            return NUL_REFUSED
        if smuggling(raw):
            self.log.warning("smtp.refused", error="bare-line-ending")
            return "550 5.6.0 Message refused: a bare CR or LF next to a lone dot (SMTP smuggling); use CRLF line endings"
        raw = crlf_for_bare_cr(raw)  # spooled, scanned, held and delivered as the same lines
        options = tuple(o for o in envelope.mail_options if o == "SMTPUTF8" or o.startswith("BODY="))
        spooled = Envelope(
            mail_from="" if envelope.mail_from == "<>" else envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            mail_options=options,
            received_at=time.time(),
            helo=session.host_name or "",
            client=str(session.peer[0]) if isinstance(session.peer, tuple) and session.peer else "",
        )
        self.inflight += 1
        self.idle.clear()
        try:
            entry_id = await asyncio.to_thread(self.spool.put, spooled, raw)
        except SpoolError as exc:
            self.log.error("smtp.spool_failed", error=exc.__class__.__name__)
            return exc.smtp_reply
        finally:
            self.inflight -= 1
            if not self.inflight:
                self.idle.set()
        if session.authenticated:  # the staff login name (not patron data), beside the queue id
            self.log.info("smtp.queued", queue_id=entry_id, user=str(session.auth_data))
        self.on_queued(entry_id)
        return f"250 2.0.0 Ok: queued as {entry_id}"

    async def handle_exception(self, error: Exception) -> str:
        # Never str(error): it can quote addresses or message lines.
        self.log.error("smtp.exception", error=error.__class__.__name__)
        return UNEXPECTED


def _tls_first(name: str) -> Any:
    """aiosmtpd's `smtp_<NAME>` behind a 530 until STARTTLS when TLS is required (keeps its HELP syntax)."""
    base = getattr(SMTP, name)

    async def command(self: RelaySMTP, arg: str) -> None:
        if self.require_tls and self._tls_protocol is None:
            await self.push(MUST_TLS)
            return
        await base(self, arg)

    return functools.update_wrapper(command, base)


@dataclass(frozen=True, slots=True)
class _Credentials:
    """What aiosmtpd decoded from AUTH PLAIN/LOGIN, waiting to be checked off the event loop."""

    mechanism: str
    data: LoginPassword


class RelaySMTP(SMTP):
    """aiosmtpd's server with clearer refusals (its own say only 'Error: …'), a configurable line limit
    and password checks in a thread.

    aiosmtpd's own `require_starttls` also refuses HELO and RSET; RFC 3207 allows
    them, so the commands that need TLS are wrapped here instead. aiosmtpd calls
    the authenticator synchronously on the event loop; a password hash costs tens
    of milliseconds of CPU by design, so the check runs in the default executor.
    """

    def __init__(self, handler: Any, *, max_line_length: int = 1000, require_tls: bool = False, **kw: Any) -> None:
        self.max_line_length = max_line_length
        # Read by SMTP.__init__ for its stream reader; +1 for the transparency dot (as aiosmtpd's own 1001).
        self.line_length_limit = max_line_length + 1
        self.require_tls = require_tls and kw.get("tls_context") is not None
        super().__init__(handler, **kw)

    smtp_MAIL = _tls_first("smtp_MAIL")
    smtp_RCPT = _tls_first("smtp_RCPT")
    smtp_DATA = _tls_first("smtp_DATA")
    smtp_AUTH = _tls_first("smtp_AUTH")
    smtp_VRFY = _tls_first("smtp_VRFY")
    smtp_EXPN = _tls_first("smtp_EXPN")
    smtp_HELP = _tls_first("smtp_HELP")

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        # aiosmtpd parses every MAIL/RCPT address with the email package's header parser (and defines a
        # class per call): a tenth of the relay's CPU per message. Plain <dot-atom@domain> addresses, nearly
        # all of them, take this exact shortcut; anything else (quotes, comments, literals) the full parser.
        match = _PLAIN_ADDRESS.match(arg) if arg else None
        if match is None or self.local_part_limit:
            return super()._getaddr(arg)
        rest = arg[match.end():].lstrip(" \t")
        if "(" in rest:
            return super()._getaddr(arg)
        return match.group(1), rest

    def _authenticate(self, mechanism: str, auth_data: Any) -> AuthResult:
        # Called inside aiosmtpd's auth_PLAIN/auth_LOGIN: hand the credentials back unchecked (a failure
        # if anything used it as it is); auth_PLAIN/auth_LOGIN below check them in a thread.
        return AuthResult(success=False, handled=False, auth_data=_Credentials(mechanism, auth_data))

    async def _checked(self, result: AuthResult) -> AuthResult:
        pending = result.auth_data
        if not isinstance(pending, _Credentials) or self._authenticator is None:
            return result
        assert self.session is not None and self.envelope is not None
        check = functools.partial(self._authenticator, self, self.session, self.envelope, pending.mechanism, pending.data)
        return await self.loop.run_in_executor(None, check)

    async def auth_PLAIN(self, _: Any, args: list[str]) -> AuthResult:
        return await self._checked(await super().auth_PLAIN(_, args))

    async def auth_LOGIN(self, _: Any, args: list[str]) -> AuthResult:
        return await self._checked(await super().auth_LOGIN(_, args))

    async def push(self, status: Any) -> None:
        if isinstance(status, str):
            if status.startswith("552 Error:") and self.data_size_limit:
                limit = self.data_size_limit
                status = f"552 5.3.4 Message too big: this relay accepts messages up to {limit} bytes ({_size_text(limit)})"
            elif status.startswith("500 Line too long"):
                status = (f"500 5.5.2 Line too long: this relay accepts lines of at most {self.max_line_length} bytes "
                          "including CRLF (RFC 5321 4.5.3.1.6); send long text as an attachment or quoted-printable")
            elif status.startswith("538 5.7.11"):
                status = "538 5.7.11 Encryption required: issue STARTTLS before AUTH"
            elif status.startswith("454 TLS not available"):
                status = "454 4.7.0 TLS not available on this relay"
        await super().push(status)


def server_tls_context(config: Config) -> ssl.SSLContext | None:
    """The STARTTLS context from `server.tls` (TLS 1.2+), or None; a bad file is a one-line ConfigError.

    Called at start and on SIGHUP, so a renewed certificate is picked up by new sessions.
    """
    tls = config.server.tls
    if not tls.certificate:
        return None
    for path, where in ((tls.certificate, tls.certificate_at), (tls.key, tls.key_at)):
        try:
            with open(path, "rb") as f:
                f.read(1)
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read {path} ({exc.strerror or exc.__class__.__name__})") from None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(tls.certificate, tls.key)
    except ssl.SSLError as exc:
        if "mismatch" in str(exc).lower():
            raise ConfigError(f"{tls.key_at}: {tls.key} is not the private key of {tls.certificate}") from None
        raise ConfigError(f"{tls.certificate_at}: {tls.certificate} / {tls.key}: not a PEM certificate and "
                          f"private key ({exc.reason or exc.__class__.__name__})") from None
    return context


def authenticator(config: Config, log: Any) -> Authenticator | None:
    """The AUTH callback from `server.auth`, or None when no accounts are configured."""
    auth = config.server.auth
    if not auth.users and not auth.password_file:
        return None
    accounts = load_accounts({n: (h, origin) for n, h, origin in auth.users}, auth.password_file, auth.password_file_at)
    return Authenticator(accounts, log, max_failures=auth.max_failures)


class Listener:
    """The listening socket and its sessions, so shutdown can stop accepting and then close them."""

    def __init__(self, handler: RelayHandler | None, config: Config, hostname: str, log: Any = None) -> None:
        """`handler` may be set later (the service checks certificate and accounts before building it)."""
        self.handler = handler
        self.log = log if log is not None else getattr(handler, "log", None) or logs.get_logger("patronguard.smtp")
        self.config = config
        self.hostname = hostname
        self.sessions: weakref.WeakSet[RelaySMTP] = weakref.WeakSet()  # closed sessions drop out
        self.server: asyncio.AbstractServer | None = None
        self.tls_context: ssl.SSLContext | None = None
        self.authenticator: Authenticator | None = None
        self.configure(config)

    def configure(self, config: Config) -> None:
        """Load certificate and accounts from `config` (at start and on SIGHUP); ConfigError keeps the old."""
        tls_context = server_tls_context(config)
        auth = authenticator(config, self.log)
        if auth is not None and self.authenticator is not None:
            auth.failures = self.authenticator.failures  # a reload does not reset the failed-login limit
        self.config, self.tls_context, self.authenticator = config, tls_context, auth

    def _factory(self) -> RelaySMTP:
        assert self.handler is not None, "Listener.handler is set before start()"
        server = self.config.server
        session = RelaySMTP(
            self.handler,
            data_size_limit=self.handler.rules.max_message_size,
            enable_SMTPUTF8=True,
            hostname=self.hostname,
            ident=IDENT,
            timeout=server.timeout,
            max_line_length=server.max_line_length,
            tls_context=self.tls_context,
            require_tls=server.tls.require,
            authenticator=self.authenticator,
            auth_require_tls=True,
            auth_exclude_mechanism=() if self.authenticator is not None else ("LOGIN", "PLAIN"),
        )
        self.sessions.add(session)
        return session

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port (0 → any free port); return the port."""
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(self._factory, host=host, port=port)
        sock = self.server.sockets[0]
        return int(sock.getsockname()[1])

    async def stop(self, grace: float = 10.0) -> None:
        """Stop accepting, let in-flight DATA finish spooling, then close idle sessions."""
        if self.server is not None:
            self.server.close()
        if self.handler is None:
            return
        try:
            await asyncio.wait_for(self.handler.idle.wait(), grace)
        except TimeoutError:
            pass
        for session in list(self.sessions):
            transport = session.transport
            if transport is not None and not transport.is_closing():
                transport.close()
        self.sessions.clear()
        if self.server is not None:
            await self.server.wait_closed()
