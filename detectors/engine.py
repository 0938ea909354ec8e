"""The detection engine: raw message → findings → assessment.

This module owns the order of work for one message:
1. `extract()` the text parts (and what could not be read), attachments through
   the document extractors (bounded worker processes, OCR for images);
2. run every cheap detector over every part;
3. only where a cheap finding needs a name to become a disclosure, ask spaCy
   (batched, one call per message, on windows around those findings);
4. bind everything into an `Assessment` (detectors.evidence).

It builds the detector set from `EngineSettings` (plain values; the proxy's
config loader fills them). It does no I/O and never logs text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from detectors.accounts import AccountSentenceDetector
from detectors.addresses import AddressDetector, AddressSettings
from detectors.barcodes import BarcodeDetector, BarcodeSettings
from detectors.bounded import shared_runner
from detectors.circulation import (
    CirculationDetector,
    HoldDetector,
    MoneyOwedDetector,
    PatronContextDetector,
    PatronNoteDetector,
    PersonReferenceDetector,
)
from detectors.documents import register_all
from detectors.emails import EmailDetector, EmailSettings
from detectors.evidence import Assessment, EvidenceSettings, assess, cover_end, needs_names, passed_on
from detectors.extract import Extraction, ExtractLimits, ExtractorRegistry, extract
from detectors.findings import Detector, Finding, TextPart
from detectors.identity import BirthDateDetector, DriversLicenseDetector
from detectors.names import NameDetector, NameSettings
from detectors.phones import PhoneDetector, PhoneSettings
from detectors.records import IlsRecordDetector
from detectors.subjects import Recipient
from detectors.tables import BulkExportDetector


@dataclass(frozen=True, slots=True)
class EngineSettings:
    barcodes: BarcodeSettings = field(default_factory=BarcodeSettings)
    addresses: AddressSettings = field(default_factory=AddressSettings)
    phones: PhoneSettings = field(default_factory=PhoneSettings)
    emails: EmailSettings = field(default_factory=EmailSettings)
    names: NameSettings = field(default_factory=NameSettings)
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)
    limits: ExtractLimits = field(default_factory=ExtractLimits)


@dataclass(frozen=True, slots=True)
class MessageScan:
    """What the engine learned about one message."""

    extraction: Extraction
    assessment: Assessment
    spacy_windows: int  # how many windows went to spaCy (0 for most mail)


class DetectionEngine:
    """Runs the detector set over messages. Build once; reuse for many messages."""

    def __init__(self, settings: EngineSettings | None = None) -> None:
        self.settings = settings or EngineSettings()
        s = self.settings
        self.names = NameDetector(s.names)
        # Attachments (PDF, Office, archives, images via OCR) are read in bounded worker
        # processes; the registry is this engine's own, so the module default stays empty.
        self.registry = ExtractorRegistry()
        register_all(self.registry)
        self.detectors: tuple[Detector, ...] = (
            BarcodeDetector(s.barcodes),
            PhoneDetector(s.phones),
            EmailDetector(s.emails),
            AddressDetector(s.addresses),
            DriversLicenseDetector(),
            BirthDateDetector(),
            IlsRecordDetector(),
            BulkExportDetector(),
            MoneyOwedDetector(),
            CirculationDetector(),
            HoldDetector(),
            PatronContextDetector(),
            PersonReferenceDetector(),
            PatronNoteDetector(),
            AccountSentenceDetector(),
            self.names,  # its detect() is the cheap ILS name-form pass; spaCy runs only in detect_windows()
        )

    def warm(self) -> None:
        """Load the spaCy model now (a server does this at start; a clear error if it is missing)."""
        self.names.warm()
        shared_runner().warm()

    def detect(self, parts: Sequence[TextPart], whom: bool = False) -> tuple[list[Finding], int]:
        """Every detector over every part; spaCy where a name matters (and, with `whom`, next to
        direct evidence too, to tell whom it is about)."""
        findings: list[Finding] = []
        for part in parts:
            if not part.text:
                continue
            for detector in self.detectors:
                findings.extend(detector.detect(part))
        windows = 0
        if self.settings.names.enabled:
            triggers = needs_names(findings, self.settings.evidence, whom)
            if triggers:
                by_path = {p.path: p for p in parts}
                span = self.settings.names.window_chars
                requested = [
                    (by_path[t.part], max(0, t.start - span), min(len(by_path[t.part].text), t.end + span))
                    for t in triggers
                    if t.part in by_path
                ]
                if any(passed_on(by_path[t.part], t.start) for t in triggers if t.part in by_path):
                    # A record passed on (attached, forwarded, quoted): the covering note or the subject
                    # line may say whose it is ("Records request - Erika Tröst").
                    requested.extend((p, 0, cover_end(p)) for p in parts if p.origin in ("body", "subject") and p.text)
                windows = len(requested)
                seen = {(f.part, f.start, f.end) for f in findings}
                for name in self.names.detect_windows(requested):
                    if (name.part, name.start, name.end) not in seen:
                        findings.append(name)
        return findings, windows

    def scan(
        self,
        raw: bytes,
        sender_names: Sequence[str] = (),
        recipients: Sequence[str] | None = None,
        is_outside: Callable[[str], bool] | None = None,
        trusted_notice: bool = False,
    ) -> MessageScan:
        """Extract, detect and assess one message.

        With `is_outside`, the assessment says which of the outside `recipients` (default:
        the message's To/Cc/Bcc) every disclosure is about: the patron writing to herself.
        """
        extraction = extract(raw, self.settings.limits, registry=self.registry)
        addresses = extraction.recipients if recipients is None else recipients
        outside = [a for a in dict.fromkeys(addresses) if is_outside(a)] if is_outside is not None else []
        findings, windows = self.detect(extraction.parts, whom=bool(outside))
        shown = dict(extraction.display_names)
        assessment = assess(
            extraction.parts,
            findings,
            extraction.uninspectable,
            self.settings.evidence,
            sender_names=sender_names,
            recipients=[Recipient(a, shown.get(a.lower(), "")) for a in outside],
            trusted_notice=trusted_notice,
            sender_address=extraction.sender or "",
        )
        return MessageScan(extraction, assessment, windows)
