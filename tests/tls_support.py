"""Throwaway PKI and a TLS-capable recording SMTP server for the STARTTLS/AUTH tests.

`make_pki()` writes a test CA and a server certificate for localhost/127.0.0.1
(with the `cryptography` package); `TlsSink` is a real aiosmtpd server on a
free loopback port that can offer STARTTLS, speak TLS from the first byte
(smtps), require a login and drop idle connections, and records per connection
what it saw (commands, TLS, login, messages).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import ipaddress
import itertools
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclasses.dataclass(frozen=True)
class Pki:
    ca: Path  # the CA certificate (a CA bundle for upstream.verify)
    cert: Path  # server certificate for localhost and 127.0.0.1, signed by the CA
    key: Path
    serial: int


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _alt_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def make_pki(directory: Path, label: str = "test", hosts: tuple[str, ...] = ("localhost", "127.0.0.1")) -> Pki:
    """A fresh CA and a server certificate for `hosts` signed by it, as PEM files in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"PatronGuard {label} CA"))
        .issuer_name(_name(f"PatronGuard {label} CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    serial = x509.random_serial_number()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([_alt_name(h) for h in hosts]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(directory / f"{label}-ca.pem", directory / f"{label}-cert.pem", directory / f"{label}-key.pem", serial)
    pki.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pki.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    pki.key.chmod(0o600)
    return pki


def server_context(pki: Pki) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.cert, pki.key)
    return context


def client_context(pki: Pki) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki.ca))


def peer_serial(sock: Any) -> int:
    """The serial number of the certificate the server presented on a TLS socket."""
    der = sock.getpeercert(binary_form=True)
    return int(x509.load_der_x509_certificate(der).serial_number)


# ----------------------------------------------------------------- the recording sink


@dataclasses.dataclass
class Connection:
    number: int
    commands: list[str] = dataclasses.field(default_factory=list)
    tls: bool = False
    login: str = ""
    closed: bool = False
    timed_out: bool = False  # the sink dropped it for idling (a TLS close may take a while to finish)


@dataclasses.dataclass
class Message:
    connection: int
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool
    login: str


class _Recording(SMTP):
    def __init__(self, sink: TlsSink, number: int, **kw: Any) -> None:
        self.sink, self.number = sink, number
        super().__init__(sink, **kw)
        self._smtp_methods = {name: self._recorded(name, method) for name, method in self._smtp_methods.items()}

    def _recorded(self, name: str, method: Any) -> Any:
        async def command(arg: str) -> Any:
            with self.sink.cond:
                self.sink.connections[self.number].commands.append(name)
            return await method(arg)

        return command

    def _timeout_cb(self) -> None:
        with self.sink.cond:
            self.sink.connections[self.number].timed_out = True
            self.sink.cond.notify_all()
        super()._timeout_cb()

    def connection_lost(self, error: Exception | None) -> None:
        with self.sink.cond:
            self.sink.connections[self.number].closed = True
            self.sink.cond.notify_all()
        super().connection_lost(error)



class TlsSink:
    """A real SMTP server in its own thread: STARTTLS, smtps, AUTH, idle timeout — and a record of it all."""

    def __init__(self, pki: Pki | None = None, *, starttls: bool = True, smtps: bool = False,
                 accounts: dict[str, str] | None = None, idle_timeout: float = 300.0) -> None:
        self.context = server_context(pki) if pki is not None else None
        self.starttls = starttls and self.context is not None and not smtps
        self.smtps = smtps
        self.accounts = accounts  # None: no AUTH; otherwise a login is required before MAIL
        self.idle_timeout = idle_timeout
        self.refuse: set[str] = set()  # local parts answered 550 at RCPT
        self.connections: dict[int, Connection] = {}
        self.messages: list[Message] = []
        self.cond = threading.Condition()
        self._numbers = itertools.count(1)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0

    # aiosmtpd handler hooks
    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.accounts is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address.partition("@")[0] in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        tls = server.transport.get_extra_info("ssl_object") is not None
        with self.cond:
            self.messages.append(Message(server.number, envelope.mail_from, list(envelope.rcpt_tos),
                                         envelope.original_content, tls, str(session.auth_data or "")))
            self.cond.notify_all()
        return "250 OK"

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert self.accounts is not None
        if isinstance(data, LoginPassword):
            login = data.login.decode()
            if self.accounts.get(login) == data.password.decode():
                with self.cond:
                    self.connections[server.number].login = login
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    def _factory(self) -> _Recording:
        number = next(self._numbers)
        with self.cond:
            self.connections[number] = Connection(number, tls=self.smtps)
        return _Recording(
            self, number, hostname="sink.test", enable_SMTPUTF8=True, timeout=self.idle_timeout,
            tls_context=self.context if self.starttls else None,
            authenticator=self._authenticate if self.accounts is not None else None,
            auth_require_tls=not self.smtps,  # aiosmtpd counts only STARTTLS as TLS
        )

    def start(self) -> TlsSink:
        self.thread.start()

        async def create() -> int:
            self._server = await self.loop.create_server(self._factory, "127.0.0.1", 0,
                                                         ssl=self.context if self.smtps else None)
            return int(self._server.sockets[0].getsockname()[1])

        self.port = asyncio.run_coroutine_threadsafe(create(), self.loop).result(5)
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self._server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def wait(self, predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"sink: {what} did not happen within {timeout} s")
                self.cond.wait(left)

    def wait_messages(self, count: int, timeout: float = 10.0) -> list[Message]:
        self.wait(lambda: len(self.messages) >= count, f"{count} message(s)", timeout)
        with self.cond:
            return list(self.messages)
