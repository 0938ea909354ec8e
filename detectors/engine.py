"""The detection engine: raw message → findings → assessment.

This module owns the order of work for one message:
1. `extract()` the text parts (and what could not be read), attachments through
   the document extractors (bounded worker processes, OCR for images);
2. run every cheap detector over every part;
3. only where a cheap finding needs a name to become a disclosure, ask spaCy
   (batched, one call per message, on windows around those findings);
4. with a patron directory, look the message's identifiers and names up in it
   (detectors.directory; a patron's identifier also asks for a name search);
5. bind everything into an `Assessment` (detectors.evidence), and check an outside
   recipient the disclosures are about against the patron's email on record.

It builds the detector set from `EngineSettings` (plain values; the proxy's
config loader fills them). It does no I/O and never logs text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

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
from detectors.directory import DirectoryMatch, DirectoryMatcher, DirectorySettings, Hit, PatronLookup
from detectors.documents import register_all
from detectors.emails import EmailDetector, EmailSettings
from detectors.evidence import (
    Assessment,
    Disclosure,
    EvidenceSettings,
    assess,
    cover_end,
    needs_names,
    passed_on,
    recipients_about,
)
from detectors.extract import Extraction, ExtractLimits, ExtractorRegistry, extract
from detectors.findings import Detector, Finding, Kind, TextPart
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
    # The library's patron directory (exact matches of names, cards, phones, emails, addresses);
    # None: no directory. The lookup opens its index lazily in the process that scans.
    directory: PatronLookup | None = None
    directory_settings: DirectorySettings = field(default_factory=DirectorySettings)
    guardians: bool = True  # a minor's data to the guardian's address on record is for the patron


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
        self.directory = DirectoryMatcher(s.directory, s.directory_settings) if s.directory is not None else None

    def warm(self) -> None:
        """Load the spaCy model now (a server does this at start; a clear error if it is missing)."""
        self.names.warm()
        shared_runner().warm()

    def detect(self, parts: Sequence[TextPart], whom: bool = False) -> tuple[list[Finding], int]:
        """Every detector over every part; spaCy where a name matters (and, with `whom`, next to
        direct evidence too, to tell whom it is about)."""
        findings, windows, _ = self._detect(parts, whom)
        return findings, windows

    def _detect(self, parts: Sequence[TextPart], whom: bool) -> tuple[list[Finding], int, DirectoryMatch]:
        findings: list[Finding] = []
        for part in parts:
            if not part.text:
                continue
            for detector in self.detectors:
                findings.extend(detector.detect(part))
        # A patron's own phone, email, address or card: her name may stand next to it.
        known = self.directory.identifiers(parts, findings) if self.directory is not None else []
        windows = 0
        if self.settings.names.enabled:
            triggers: list[Finding | Hit] = [*needs_names(findings, self.settings.evidence, whom), *_name_triggers(known, findings)]
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
        match = self.directory.match(parts, findings, known) if self.directory is not None else DirectoryMatch()
        findings.extend(match.findings)
        return findings, windows, match

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
        findings, windows, match = self._detect(extraction.parts, whom=bool(outside))
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
        if self.directory is not None and outside and assessment.disclosures:
            people = [Recipient(a, shown.get(a.lower(), "")) for a in outside]
            verified = self._verified(extraction.parts, assessment, match, people, trusted_notice)
            assessment = replace(assessment, about_recipients=verified)
        return MessageScan(extraction, assessment, windows)

    def _verified(
        self, parts: Sequence[TextPart], assessment: Assessment, match: DirectoryMatch,
        recipients: Sequence[Recipient], trusted_notice: bool,
    ) -> frozenset[str]:
        """The patron as recipient, checked against the directory: a disclosure the directory ties
        to patrons goes to an outside address only when it is their own email on record (or, for a
        minor, the guardian's); the ones it cannot tie keep the judgement the message itself gives."""
        assert self.directory is not None
        tied: list[frozenset[int]] = []  # one entry per directory finding: the patrons it may be
        untied: list[Disclosure] = []
        for d in assessment.disclosures:
            about = {(p.part, p.start, p.end) for p in d.about}
            found = False
            for f in d.findings:
                span = (f.part, f.start, f.end)
                # A card or a name+identifier pair is someone's for certain; a name alone counts
                # when the disclosure is about that name (not an author or a namesake close by).
                if f.kind in (Kind.KNOWN_PATRON, Kind.KNOWN_PATRON_CARD) or (
                    f.kind is Kind.KNOWN_PATRON_NAME and span in about
                ):
                    ids = match.patrons.get(span)
                    if ids:
                        tied.append(ids)
                        found = True
            if not found:
                untied.append(d)
        if not tied:
            return assessment.about_recipients
        # What the message says settles only the disclosures the directory cannot tie to anyone.
        told = recipients_about(parts, untied, recipients, trusted_notice) if untied else None
        out = set()
        for r in recipients:
            own = self.directory.recipient_patrons(r.address, self.settings.guardians)
            # Every patron the directory finds in the disclosures is one of the recipient's own
            # records (a name two patrons share may be either: one of them must be hers).
            if not all(ids & own for ids in tied):
                continue
            if told is not None and r.address.lower() not in told:
                continue
            out.add(r.address.lower())
        return frozenset(out)


MAX_DIRECTORY_WINDOWS = 50


def _name_triggers(known: Sequence[Hit], findings: Sequence[Finding]) -> list[Hit]:
    """Where a patron's own identifier asks for a name search: not inside a table of people (it
    discloses on its own, and a 50,000-row export would ask for 50,000 windows), at most
    MAX_DIRECTORY_WINDOWS per message."""
    tables = [(f.part, f.start, f.end) for f in findings if f.kind is Kind.BULK_EXPORT]
    out = [h for h in known if not any(p == h.part and s <= h.start and h.end <= e for p, s, e in tables)]
    return out[:MAX_DIRECTORY_WINDOWS]
