"""Upstream delivery: the `Upstream` seam, its SMTP and maildir transports, retries and bounces.

This module owns
- `Upstream`, a one-method protocol: send one message to some recipients and
  return an `Outcome` per recipient — ok, temporary or permanent. Transports
  never raise for delivery problems; they classify them.
- `SmtpUpstream` (smtplib in a worker thread: the event loop never blocks) and
  `MaildirUpstream` (a local outbox for `make run` and demos).
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
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from proxy.spool import fsync_dir


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


class SmtpUpstream:
    """Delivers to a smarthost over SMTP with smtplib, one connection per message, in a thread."""

    def __init__(self, host: str, port: int, *, timeout: float = 60.0, helo: str | None = None) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.helo = helo or socket.getfqdn()

    async def send(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes, smtputf8: bool) -> dict[str, Outcome]:
        return await asyncio.to_thread(self._send, mail_from, tuple(rcpt_tos), data, smtputf8)

    def _send(self, mail_from: str, rcpt_tos: tuple[str, ...], data: bytes, smtputf8: bool) -> dict[str, Outcome]:
        def everyone(outcome: Outcome) -> dict[str, Outcome]:
            return dict.fromkeys(rcpt_tos, outcome)

        options = ["SMTPUTF8"] if smtputf8 else []
        if re.search(rb"[\x80-\xff]", data):
            options.append("BODY=8BITMIME")
        try:
            with smtplib.SMTP(self.host, self.port, local_hostname=self.helo, timeout=self.timeout) as client:
                client.ehlo()
                options = [o for o in options if client.has_extn(o.split("=")[0].lower())]
                # sendmail() converts bare LF to CRLF and dot-stuffs: what leaves here is canonical SMTP.
                refused = client.sendmail(mail_from, list(rcpt_tos), data, mail_options=options)
        except smtplib.SMTPRecipientsRefused as exc:
            return {r: Outcome(_classify(code), code, _text(msg)) for r, (code, msg) in exc.recipients.items()}
        except smtplib.SMTPSenderRefused as exc:
            return everyone(Outcome(_classify(exc.smtp_code), exc.smtp_code, _text(exc.smtp_error)))
        except smtplib.SMTPDataError as exc:
            return everyone(Outcome(_classify(exc.smtp_code), exc.smtp_code, _text(exc.smtp_error)))
        except smtplib.SMTPResponseException as exc:
            return everyone(Outcome(_classify(exc.smtp_code), exc.smtp_code, _text(exc.smtp_error)))
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timeout, DNS: try again later
            return everyone(Outcome(Status.TEMPORARY, 0, f"upstream unreachable ({exc.__class__.__name__})"))
        outcomes = {r: Outcome(Status.OK, 250) for r in rcpt_tos}
        for r, (code, msg) in refused.items():
            outcomes[r] = Outcome(_classify(code), code, _text(msg))
        return outcomes


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
    """'smtp://HOST:PORT' or 'maildir:PATH' (checked by the config loader) → an `Upstream`."""
    if url.startswith("maildir:"):
        return MaildirUpstream(url[len("maildir:"):])
    hostport = url[len("smtp://"):].rstrip("/")
    host, _, port = hostport.rpartition(":")
    return SmtpUpstream(host.strip("[]"), int(port), timeout=timeout, helo=helo)


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
