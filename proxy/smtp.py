"""The SMTP listener: aiosmtpd hooks that check the envelope, spool durably and answer.

This module owns the SMTP conversation with staff mail clients and the
library's MTA. Its handler translates and never decides about content:

- MAIL: only clients from the configured networks, only senders in the
  library's domains (or the null sender) — anything else a clear 5xx, so the
  relay is never open.
- RCPT: a recipient limit (452, the client sends the rest later).
- DATA: refuse SMTP-smuggling line endings, write message + envelope to the
  spool (fsync'd) and only then answer `250 … queued as <id>`; a spool failure
  answers 451/452, never 250.
- Any unexpected exception answers a fixed `451 4.3.0` (aiosmtpd's default
  would send a permanent 500 with the exception text, which may quote data).

aiosmtpd's `mail.log` logger (addresses at INFO, body lines at DEBUG) is capped
at WARNING by `proxy.logs.configure`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import SMTP

from proxy.config import Config
from proxy.spool import Envelope, Spool, SpoolError

IDENT = "PatronGuard ESMTP"
UNEXPECTED = "451 4.3.0 Temporary local problem; please try again later"

# A lone dot framed by a bare LF or a bare CR (on either side): the SMTP-smuggling
# shapes ("\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r"). aiosmtpd 1.4.6 only ends DATA on
# "\r\n.\r\n", so these arrive inside the content; a downstream server that
# accepts bare LF could read them as the end of the message. Linear-time regex.
_SMUGGLING = re.compile(rb"(?:(?<!\r)\n|\r(?!\n))\.[\r\n]|[\r\n]\.(?:\n|\r(?!\n))")


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

    @classmethod
    def from_config(cls, config: Config) -> RelayRules:
        server = config.server
        return cls(
            client_networks=tuple(ipaddress.ip_network(n, strict=False) for n in server.client_networks),
            sender_domains=server.sender_domains or config.library_domains,
            max_recipients=server.max_recipients,
            max_message_size=server.max_message_size,
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

    async def handle_EHLO(self, server: SMTP, session: Any, envelope: Any, hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        # aiosmtpd reads commands in order from one stream, so pipelined commands just work; say so.
        return responses[:-1] + ["250-PIPELINING", responses[-1]]

    async def handle_MAIL(self, server: SMTP, session: Any, envelope: Any, address: str, mail_options: list[str]) -> str:
        rules = self.rules
        if not rules.client_allowed(session.peer):
            self.log.warning("smtp.refused", error="client-network")
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
        if len(envelope.rcpt_tos) >= self.rules.max_recipients:
            return f"452 4.5.3 Too many recipients: at most {self.rules.max_recipients} per message; send the rest in another message"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or b""
        if smuggling(raw):
            self.log.warning("smtp.refused", error="bare-line-ending")
            return "550 5.6.0 Message refused: a bare CR or LF next to a lone dot (SMTP smuggling); use CRLF line endings"
        options = tuple(o for o in envelope.mail_options if o == "SMTPUTF8" or o.startswith("BODY="))
        spooled = Envelope(
            mail_from="" if envelope.mail_from == "<>" else envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            mail_options=options,
            received_at=time.time(),
            helo=session.host_name or "",
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
        self.on_queued(entry_id)
        return f"250 2.0.0 Ok: queued as {entry_id}"

    async def handle_exception(self, error: Exception) -> str:
        # Never str(error): it can quote addresses or message lines.
        self.log.error("smtp.exception", error=error.__class__.__name__)
        return UNEXPECTED


class RelaySMTP(SMTP):
    """aiosmtpd's server with clearer size refusals (its own say only 'Error: …')."""

    async def push(self, status: Any) -> None:
        if isinstance(status, str) and status.startswith("552 Error:") and self.data_size_limit:
            limit = self.data_size_limit
            status = f"552 5.3.4 Message too big: this relay accepts messages up to {limit} bytes ({_size_text(limit)})"
        await super().push(status)


class Listener:
    """The listening socket and its sessions, so shutdown can stop accepting and then close them."""

    def __init__(self, handler: RelayHandler, config: Config, hostname: str) -> None:
        self.handler = handler
        self.config = config
        self.hostname = hostname
        self.sessions: weakref.WeakSet[RelaySMTP] = weakref.WeakSet()  # closed sessions drop out
        self.server: asyncio.AbstractServer | None = None

    def _factory(self) -> RelaySMTP:
        session = RelaySMTP(
            self.handler,
            data_size_limit=self.handler.rules.max_message_size,
            enable_SMTPUTF8=True,
            hostname=self.hostname,
            ident=IDENT,
            timeout=self.config.server.timeout,
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
