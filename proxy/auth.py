"""SMTP AUTH for staff clients: password hashes, account lists and the aiosmtpd authenticator.

This module owns
- `hash_password()` / `verify_password()`: scrypt (`scrypt$N$r$p$salt$hash`) or
  PBKDF2-SHA256 (`pbkdf2-sha256$iterations$salt$hash`), salt and hash in
  unpadded base64; verification is constant-time and an unknown user costs the
  same as a wrong password.
- `load_accounts()`: `server.auth.users` plus `server.auth.password_file`
  (`name:hash` per line); a bad file or hash is a `ConfigError` naming file,
  line and key — never the hash.
- `Authenticator`: the aiosmtpd `authenticator` callback (PLAIN and LOGIN, only
  offered over TLS), with a per-client-address limit on failed attempts.

Login names are staff account names, not patron data: a successful login is
logged by name; a failed one only as a short hash (it may be a mistyped password).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Container, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import AuthResult, LoginPassword

from proxy.errors import ConfigError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
PBKDF2_ITERATIONS = 600_000
RATE_LIMITED = "454 4.7.0 Too many failed login attempts from your address; try again later"
_MAX_N = 2**20  # refuse hashes that would make one login cost gigabytes of memory


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def hash_password(password: str, scheme: str = "scrypt") -> str:
    """A self-describing hash of `password`, for `server.auth.users` or the password file."""
    salt = secrets.token_bytes(16)
    secret = password.encode("utf-8")
    if scheme == "scrypt":
        digest = hashlib.scrypt(secret, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=2**27, dklen=32)
        return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"
    if scheme == "pbkdf2-sha256":
        digest = hashlib.pbkdf2_hmac("sha256", secret, salt, PBKDF2_ITERATIONS)
        return f"pbkdf2-sha256${PBKDF2_ITERATIONS}${_b64(salt)}${_b64(digest)}"
    raise ValueError(f"unknown password hash scheme {scheme!r}")


@dataclass(frozen=True, slots=True)
class PasswordHash:
    scheme: str
    params: tuple[int, ...]
    salt: bytes
    digest: bytes

    def compute(self, password: bytes) -> bytes:
        if self.scheme == "scrypt":
            n, r, p = self.params
            return hashlib.scrypt(password, salt=self.salt, n=n, r=r, p=p, maxmem=2**28, dklen=len(self.digest))
        return hashlib.pbkdf2_hmac("sha256", password, self.salt, self.params[0], dklen=len(self.digest))


def parse_hash(encoded: str) -> PasswordHash:
    """Split a stored hash; `ValueError` (without the hash in its text) when it is not one."""
    parts = encoded.strip().split("$")
    try:
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = (int(x) for x in parts[1:4])
            if n < 2 or n & (n - 1) or n > _MAX_N or not 1 <= r <= 32 or not 1 <= p <= 16:
                raise ValueError
            parsed = PasswordHash("scrypt", (n, r, p), _unb64(parts[4]), _unb64(parts[5]))
        elif parts[0] == "pbkdf2-sha256" and len(parts) == 4:
            iterations = int(parts[1])
            if not 1000 <= iterations <= 10_000_000:
                raise ValueError
            parsed = PasswordHash("pbkdf2-sha256", (iterations,), _unb64(parts[2]), _unb64(parts[3]))
        else:
            raise ValueError
    except (ValueError, TypeError):
        raise ValueError("not a password hash: expected scrypt$N$r$p$salt$hash or pbkdf2-sha256$iterations$salt$hash "
                         "(make one with 'patronguard hash-password')") from None
    if len(parsed.salt) < 8 or len(parsed.digest) < 16:
        raise ValueError("not a password hash: salt or hash too short (make one with 'patronguard hash-password')")
    return parsed


def verify_password(password: bytes | str, encoded: str | PasswordHash) -> bool:
    """Constant-time check of `password` against a stored hash; False for a malformed hash."""
    secret = password.encode("utf-8") if isinstance(password, str) else password
    try:
        stored = encoded if isinstance(encoded, PasswordHash) else parse_hash(encoded)
    except ValueError:
        return False
    return hmac.compare_digest(stored.compute(secret), stored.digest)


def name_digest(name: bytes | str) -> str:
    """A short hash of a login name, for logging failed attempts without the name."""
    raw = name.encode("utf-8", "replace") if isinstance(name, str) else name
    return hashlib.sha256(b"patronguard-login:" + raw).hexdigest()[:12]


def password_file_entries(
    path: Path, key: str, origin: str, taken: Container[str], problems: list[str]
) -> Iterator[tuple[str, PasswordHash, str, str]]:
    """The good lines of a `name:hash[:rest]` file as (name, hash, rest, "file:line: key").

    Blank and `#` lines are skipped; a malformed line, a bad hash or a name
    already in `taken` is added to `problems` (file, line and key — never the
    hash). An unreadable file is a `ConfigError` naming `origin`.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc.__class__.__name__
        raise ConfigError(f"{origin}: cannot read password file {path} ({why})") from None
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        where = f"{path}:{number}: {key}"
        name, sep, rest = text.partition(":")
        name = name.strip()
        encoded, _, extra = rest.partition(":")
        if not sep or not name or not encoded:
            problems.append(f"{where}: expected name:hash")
            continue
        if name in taken or name in seen:
            problems.append(f"{where}: account {name} appears twice")
            continue
        seen.add(name)
        try:
            yield name, parse_hash(encoded), extra.strip(), where
        except ValueError as exc:
            problems.append(f"{where}: account {name}: {exc}")


def load_accounts(users: Mapping[str, tuple[str, str]], password_file: str, password_file_origin: str) -> dict[str, PasswordHash]:
    """`users` (name → (hash, "file:line: key")) plus the password file → name → parsed hash.

    Raises one `ConfigError` listing every bad entry by file, line and key.
    """
    problems: list[str] = []
    accounts: dict[str, PasswordHash] = {}
    for name, (encoded, origin) in users.items():
        try:
            accounts[name] = parse_hash(encoded)
        except ValueError as exc:
            problems.append(f"{origin}: {exc}")
    if password_file:
        for name, parsed, rest, where in password_file_entries(
            Path(password_file), "server.auth.password_file", password_file_origin, accounts, problems
        ):
            if rest:
                problems.append(f"{where}: expected name:hash")
            else:
                accounts[name] = parsed
    if problems:
        raise ConfigError("\n".join(problems))
    return accounts


@dataclass
class Authenticator:
    """aiosmtpd's `authenticator` callback: staff accounts, failures limited per client address.

    Thread-safe (the relay calls it from worker threads). A login that succeeded
    is remembered as a keyed digest of the password, so a mail client or MTA
    that logs in for every session pays the slow hash once per password, not
    once per session; wrong passwords always pay it.
    """

    accounts: dict[str, PasswordHash]
    log: Any
    max_failures: int = 5
    window: float = 300.0  # seconds: failures older than this are forgotten
    failures: dict[str, list[float]] = field(default_factory=dict)
    _dummy: PasswordHash = field(default_factory=lambda: parse_hash(hash_password(secrets.token_hex(8))))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _verified: dict[str, tuple[PasswordHash, bytes]] = field(default_factory=dict)

    def _client(self, session: Any) -> str:
        peer = getattr(session, "peer", None)
        return str(peer[0] if isinstance(peer, tuple) and peer else peer)

    def limited(self, client: str, now: float) -> bool:
        with self._lock:
            if len(self.failures) > 10_000:  # many addresses: forget the old ones
                for other in [c for c, ts in self.failures.items() if not ts or now - ts[-1] >= self.window]:
                    del self.failures[other]
            recent = [t for t in self.failures.get(client, ()) if now - t < self.window]
            if recent:
                self.failures[client] = recent
            else:
                self.failures.pop(client, None)
            return len(recent) >= self.max_failures

    def check(self, login: str, password: bytes) -> bool:
        """True when `password` is the account's; constant work for unknown names."""
        stored = self.accounts.get(login)
        token = hmac.new(self._key, login.encode("utf-8") + b"\0" + password, hashlib.sha256).digest()
        with self._lock:
            cached = self._verified.get(login)
        if stored is not None and cached is not None and cached[0] is stored and hmac.compare_digest(cached[1], token):
            return True
        ok = verify_password(password, stored or self._dummy) and stored is not None
        if ok:
            with self._lock:
                self._verified[login] = (stored, token)  # type: ignore[assignment]
        return ok

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        client, now = self._client(session), time.monotonic()
        if self.limited(client, now):
            self.log.warning("smtp.auth_limited", mechanism=mechanism)
            return AuthResult(success=False, handled=False, message=RATE_LIMITED)
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        if self.check(login, auth_data.password):
            with self._lock:
                self.failures.pop(client, None)
            self.log.info("smtp.auth_ok", user=login, mechanism=mechanism)
            return AuthResult(success=True, auth_data=login)
        with self._lock:
            self.failures.setdefault(client, []).append(now)
        self.log.warning("smtp.auth_failed", user_hash=name_digest(auth_data.login), mechanism=mechanism)
        return AuthResult(success=False, handled=False)
