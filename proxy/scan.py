"""Scanning one message for its recipients: the engine plus the policy, as one call.

This module owns `Scanner` (config → detection engine, built once) and
`ScanResult` (per-recipient decisions, findings, rules) with its JSON form.
The relay, the CLI and the benchmarks all call `Scanner.scan()`.

A `ScanResult` holds masked values only; its JSON never contains a raw identifier.
"""

from __future__ import annotations

import email.header
import email.utils
import ipaddress
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detectors.addresses import AddressSettings
from detectors.barcodes import BarcodeSettings
from detectors.directory import DirectorySettings
from detectors.emails import EmailSettings
from detectors.engine import DetectionEngine, EngineSettings, MessageScan
from detectors.evidence import EvidenceSettings
from detectors.extract import ExtractLimits
from detectors.findings import Finding
from detectors.names import NameSettings
from detectors.phones import PhoneSettings
from proxy import config as config_module
from proxy.config import Config
from proxy.patrons import DirectoryPaths, open_index
from proxy.policy import Action, Decision, Recipient, RecipientClass, classify, decide
from proxy.staff import read_staff_directory


def engine_settings(config: Config) -> EngineSettings:
    """Translate the proxy's config into the detectors' plain settings (reads the staff directory)."""
    identity = config.identity
    staff = read_staff_directory(identity.staff_directory, identity.staff_directory_at)
    return EngineSettings(
        barcodes=BarcodeSettings(
            layouts=config.layouts,
            partial_digits=config.partial_digits,
            record_numbers=config.record_numbers,
            other_libraries=config.other_libraries,
        ),
        addresses=AddressSettings(own_locations=identity.locations),
        phones=PhoneSettings(region="US", exceptions=config.public_phones + staff.phones),
        emails=EmailSettings(own_domains=config.library_domains, own_addresses=frozenset(staff.emails)),
        names=NameSettings(model_names=config.detection.spacy_models, enabled=config.detection.names),
        evidence=EvidenceSettings(
            proximity_chars=config.policy.proximity_chars,
            context_chars=config.policy.context_chars,
            min_score=config.policy.min_score,
            min_name_score=config.policy.min_name_score,
            disabled_rules=config.policy.disabled_rules,
            staff_names=staff.names,
        ),
        limits=ExtractLimits(
            max_parts=config.detection.max_parts,
            max_depth=config.detection.max_depth,
            max_chars_per_part=config.detection.max_chars_per_part,
            ignore_types=config.policy.ignore_types,
        ),
        **_directory(config),
    )


def _directory(config: Config) -> dict[str, Any]:
    """The patron directory's lookup (checked now, opened lazily by each scanning process)."""
    d = config.directory
    if not d.index:
        return {}
    index = open_index(DirectoryPaths(d.index, d.key, d.region), d.index_at)
    return {
        "directory": index,
        "directory_settings": DirectorySettings(region=d.region, proximity_chars=config.policy.proximity_chars),
        "guardians": d.guardians,
    }


@dataclass(frozen=True, slots=True)
class ScanResult:
    decisions: tuple[Decision, ...]
    message: MessageScan
    seconds: float

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.message.assessment.findings + self.message.assessment.uninspectable

    @property
    def rules(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for d in self.decisions:
            for r in d.rules:
                seen.setdefault(r, None)
        if not self.decisions:
            for r in self.message.assessment.rules:
                seen.setdefault(r, None)
        return tuple(seen)

    @property
    def recipients(self) -> tuple[Decision, ...]:
        return self.decisions

    @property
    def held(self) -> bool:
        return any(d.action is not Action.DELIVER for d in self.decisions)

    def to_json(self, file: str) -> dict[str, Any]:
        parts = {p.path: p for p in self.message.extraction.parts}
        return {
            "file": file,
            "recipients": [
                {"address": d.recipient.address, "class": d.recipient.cls.value, "action": d.action.value}
                for d in self.decisions
            ],
            "findings": [
                {
                    "kind": f.kind.value,
                    "part": f.part,
                    "filename": parts[f.part].filename if f.part in parts else None,
                    "start": f.start,
                    "end": f.end,
                    "score": f.score,
                    "excerpt": f.masked,
                    "why": f.reason,
                }
                for f in self.findings
            ],
            "rules": list(self.rules),
            "disclosures": [
                {"rule": d.rule, "categories": sorted(c.value for c in d.categories), "score": d.score}
                for d in self.message.assessment.disclosures
            ],
        }


class Scanner:
    """Config → engine, built once; `scan()` many messages.

    Pickled (to run in a `proxy.scanpool` worker process) it travels as its
    config and a token; the worker builds one engine per token and reuses it.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.engine = DetectionEngine(engine_settings(config))
        self.token = uuid.uuid4().hex

    def __reduce__(self) -> tuple[Any, ...]:
        return (_worker_scanner, (self.token, self.config))

    @classmethod
    def from_config(cls, path: str | Path | None = None) -> Scanner:
        return cls(config_module.load(path))

    def warm(self) -> None:
        self.engine.warm()

    def scan(
        self, raw: bytes, recipients: Sequence[str] | None = None, sender: str | None = None, client: str | None = None
    ) -> ScanResult:
        """Scan `raw` and decide for each recipient (default: the message's To/Cc/Bcc).

        `sender` (the envelope sender) and `client` (the submitting host's address) say
        whether the library's ILS notice system sent it (`library.notice_senders`, `notice_hosts`).
        """
        started = time.perf_counter()
        classes: dict[str, Recipient] = {}

        def is_outside(address: str) -> bool:
            recipient = classes[address] = classify(address, self.config)
            return recipient.cls is RecipientClass.EXTERNAL

        trusted = is_notice_system(self.config, sender, client)
        message = self.engine.scan(
            raw,
            sender_names=sender_names(raw),
            recipients=list(recipients) if recipients else None,
            is_outside=is_outside if (self.config.policy.patron_as_recipient or trusted) else None,
            trusted_notice=trusted,
        )
        addresses = list(recipients) if recipients else list(message.extraction.recipients)
        decisions = tuple(
            decide(classes.get(a) or classify(a, self.config), message.assessment, self.config.policy, trusted)
            for a in dict.fromkeys(addresses)
        )
        return ScanResult(decisions, message, time.perf_counter() - started)


def is_notice_system(config: Config, sender: str | None, client: str | None) -> bool:
    """True when the message comes from the library's ILS notice system (by envelope sender or host)."""
    identity = config.identity
    if sender and identity.notice_senders:
        address = sender.strip("<>").lower()
        domain = address.rpartition("@")[2]
        for entry in identity.notice_senders:
            if address == entry or ("@" not in entry and (domain == entry or domain.endswith("." + entry))):
                return True
    if client and identity.notice_hosts:
        try:
            host = ipaddress.ip_address(client)
        except ValueError:
            return False
        return any(host in ipaddress.ip_network(n, strict=False) for n in identity.notice_hosts)
    return False


_WORKER_SCANNERS: dict[str, Scanner] = {}


def _worker_scanner(token: str, config: Config) -> Scanner:
    """In a scanning process: the scanner for this configuration, built on first use and kept."""
    scanner = _WORKER_SCANNERS.get(token)
    if scanner is None:
        while len(_WORKER_SCANNERS) >= 2:  # a new configuration (SIGHUP): keep the one before it for in-flight calls
            del _WORKER_SCANNERS[next(iter(_WORKER_SCANNERS))]
        scanner = _WORKER_SCANNERS[token] = Scanner(config)
        scanner.token = token
    return scanner


_FROM = re.compile(rb"^From:[ \t]*((?:[^\r\n]*)(?:\r?\n[ \t][^\r\n]*)*)", re.IGNORECASE | re.MULTILINE)


def sender_names(raw: bytes) -> tuple[str, ...]:
    """The From display name: the sender's own name in a signature is not a patron.

    A cheap look at the header block only (the extractor parses the message properly).
    """
    head = raw[:65536]
    end = head.find(b"\n\n")
    if end < 0:
        end = head.find(b"\r\n\r\n")
    match = _FROM.search(head, 0, end if end >= 0 else len(head))
    if match is None:
        return ()
    value = match.group(1).decode("utf-8", "replace")
    try:
        name, _ = email.utils.parseaddr(str(email.header.make_header(email.header.decode_header(value))))
    except Exception:  # an undecodable header: the name is simply unknown
        name, _ = email.utils.parseaddr(value)
    return (name,) if name else ()
