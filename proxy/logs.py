"""Structured logs: one JSON event per decision, with an allow-list of keys.

This module owns the structlog setup. Only keys in `ALLOWED_KEYS` reach the
output; anything else is dropped (and counted in `dropped_keys`), so a careless
`log.info(..., subject=...)` cannot leak patron data. Exceptions are rendered
without local variables. The stdlib `mail.log` logger of aiosmtpd (which logs
addresses and body lines) is capped at WARNING.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

ALLOWED_KEYS = frozenset(
    {
        "event",
        "level",
        "timestamp",
        "logger",
        "file_index",
        "message_id_hash",
        "sender_domain",
        "recipients",  # list of {"class", "action", "address_hash"|"domain"}
        "rules",
        "finding_kinds",
        "findings",
        "uninspectable",
        "spacy_windows",
        "ms",
        "queue_id",
        "error",
        "count",
        "config",
        "held",
        "delivered",
        "dropped_keys",
        # the relay (proxy/relay/serve.py, smtp.py, pipeline.py): ids, counts, codes, timings only
        "scan_ms",
        "age_ms",
        "hold_id",
        "dsn_id",
        "deferred",
        "bounced",
        "codes",
        "listen",
        "upstream",
        "workers",
        "signal",
        "queued",
        "passes",  # a spool entry set aside after failed passes: how many, the limit, held or moved, and where
        "max_passes",
        "outcome",
        "where",
        # the review UI (proxy/web) and SMTP AUTH: staff login names, item ids and actions only; failed logins hashed
        "user",
        "user_hash",
        "item",
        "action",
        "state",
        "reference",
        "accounts",
        "review_ui",
        "users_file",
        "scope",  # a sign-in refused for too many failures: "address" or "account"
        # STARTTLS/AUTH (proxy/auth.py, delivery.py): staff login names (not patron data), never passwords
        "mechanism",
        "stage",
    }
)


def _allow_list(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    dropped = [k for k in event if k not in ALLOWED_KEYS]
    for k in dropped:
        del event[k]
    if dropped:
        event["dropped_keys"] = len(dropped)
    return event


def hash_value(value: str) -> str:
    """A short stable hash for correlating without disclosing (addresses, Message-IDs)."""
    return hashlib.sha256(value.strip().lower().encode("utf-8", "replace")).hexdigest()[:16]


def configure(level: str = "info", stream: TextIO | None = None) -> None:
    """Configure structlog to write JSON lines to `stream` (stderr by default)."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _allow_list,
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper(), logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str = "patronguard") -> Any:
    return structlog.get_logger(name)
