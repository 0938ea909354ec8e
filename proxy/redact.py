"""Redaction: the message with patron data masked, for recipients whose action is `redact`.

This module owns `redact()` — raw message bytes and that message's `ScanResult`
in, the redacted message bytes out — and `redact_checked()`, which the relay
and the quarantine call: scan, redact, scan the redacted copy again, and give
back the copy only if that second scan would deliver it to every recipient it
is meant for. Anything the engine cannot mask makes it refuse (`CannotRedact`,
or `None` from `redact_checked`), and the caller holds instead: fail closed.

How a message is rewritten:
- text/plain, text-like attachments (TXT, JSON, XML) and the Subject: each
  finding's span is replaced by a mask that keeps a hint (`[card ••••2817]`,
  `[phone]`, `[name]`); offsets are those of `detectors.extract`, checked
  against the part's text before anything is replaced.
- text/html: the text is derived, so each finding's text is found again in the
  HTML source (visible text only, entities decoded, whitespace normalised) and
  masked there; any copy left in an attribute (`mailto:`) is masked too.
- CSV/TSV attachments: masked cell by cell (delimiter, quoting and charset kept).
- message/rfc822: redacted recursively, headers and all.
- Anything with findings that cannot be rewritten (PDF, Office, images,
  archives, unreadable parts) is replaced by a short text/plain part that says
  what was removed and why, in category words only.
Each rewritten part keeps its charset (UTF-8 only when the mask cannot be
encoded in it) and its transfer encoding (7bit becomes quoted-printable when
the text needs 8 bits); multipart boundaries and untouched parts are kept
byte for byte, so the same input always gives the same bytes (a retry after a
crash re-creates the identical copy). The result carries
`X-PatronGuard-Redacted: yes`.

It does no I/O and never logs; masks carry no raw value beyond what
`detectors.findings.mask` would show (the last four card digits).
"""

from __future__ import annotations

import base64
import codecs
import dataclasses
import email.header
import email.policy
import html
import quopri
import re
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.message import Message
from io import BytesIO

from detectors.extract import (
    BOMS,
    MISLABELED_CHARSETS,
    clean_text,
    decode_header_value,
    decode_part_text,
    filename_extension,
    parse_message,
    payload_bytes,
    raw_headers,
    text_codec,
    text_kind,
    transfer_encoding,
    unquote,
)
from detectors.findings import MASK, Finding, Kind, TextPart
from proxy.policy import Action
from proxy.scan import Scanner, ScanResult, sender_names

REDACTED_HEADER = "X-PatronGuard-Redacted"
ROUNDS = 4  # redact → scan again; at most this many passes before giving up (fail closed)

# Finding kinds whose text is masked, with the hint the mask keeps.
HINTS: dict[Kind, str] = {
    Kind.PATRON_BARCODE: "card",
    Kind.PARTIAL_BARCODE: "card",
    Kind.KNOWN_PATRON_CARD: "card",  # a card number in the patron directory, whatever its layout
    Kind.PATRON_RECORD_NUMBER: "record number",
    Kind.PHONE: "phone",
    Kind.EMAIL: "email",
    Kind.STREET_ADDRESS: "address",
    Kind.CITY_STATE_ZIP: "address",
    Kind.DRIVERS_LICENSE: "ID number",
    Kind.BIRTH_DATE: "birth date",
    Kind.MONEY_OWED: "amount",
    Kind.PERSON_NAME: "name",
    Kind.ILS_RECORD: "patron record removed",
    Kind.BULK_EXPORT: "patron list removed",
}
# Spans that cover a whole record or table: in a table they are masked cell by cell through
# the identifiers inside them, elsewhere the whole span goes.
STRUCTURAL = frozenset({Kind.ILS_RECORD, Kind.BULK_EXPORT})
# Plain words for the categories of what a removed attachment held.
WORDS: dict[Kind, str] = {
    Kind.PATRON_BARCODE: "library card numbers",
    Kind.PARTIAL_BARCODE: "library card numbers",
    Kind.KNOWN_PATRON_CARD: "library card numbers",
    Kind.PATRON_RECORD_NUMBER: "patron record numbers",
    Kind.PHONE: "phone numbers",
    Kind.EMAIL: "email addresses",
    Kind.STREET_ADDRESS: "postal addresses",
    Kind.CITY_STATE_ZIP: "postal addresses",
    Kind.DRIVERS_LICENSE: "ID numbers",
    Kind.BIRTH_DATE: "birth dates",
    Kind.MONEY_OWED: "amounts owed",
    Kind.PERSON_NAME: "names",
    Kind.ILS_RECORD: "patron records",
    Kind.BULK_EXPORT: "a list of patrons",
    Kind.UNINSPECTABLE: "content PatronGuard could not read",
}
# Where names are looked for: next to identifiers and to circulation, holds, fines and record notes.
_NEAR_NAMES = (frozenset(HINTS) - {Kind.PERSON_NAME, Kind.ILS_RECORD, Kind.BULK_EXPORT}) | {
    Kind.CIRCULATION,
    Kind.HOLD,
    Kind.PATRON_NOTE,
    Kind.PERSON_REFERENCE,
}
_TABLE_TYPES = frozenset({"text/csv", "text/tab-separated-values", "text/comma-separated-values", "text/x-csv"})
_DOCUMENT_WORDS = (
    ("application/pdf", "a PDF document"),
    ("image/", "an image"),
    ("application/vnd.openxmlformats", "an Office document"),
    ("application/msword", "an Office document"),
    ("application/vnd.ms-", "an Office document"),
    ("application/vnd.oasis", "an office document"),
    ("application/zip", "an archive"),
    ("application/x-", "a file"),
    ("message/", "an attached message"),
)
_WS = re.compile(r"\s+")
_DIGITS = re.compile(r"\d")
_DELIMS = (",", ";", "\t", "|")
_Change = Callable[[str], str]


class CannotRedact(Exception):
    """The engine cannot mask this message safely; the reason is short and carries no content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Redacted:
    """A redacted copy that passed the re-scan: for whom, and what kinds were masked or removed."""

    raw: bytes
    recipients: tuple[str, ...]
    masked: int  # spans masked
    removed: int  # attachments replaced by an explanation


# ----------------------------------------------------------------- entry points


def redact_checked(scanner: Scanner, raw: bytes, recipients: Sequence[str]) -> Redacted | None:
    """Scan, redact, scan again: the copy if the second scan delivers it to every one of `recipients`, else None.

    Module-level and deterministic, so the relay can run it in its scanning
    processes and a retry re-creates the same bytes from the spooled original.
    """
    targets = list(dict.fromkeys(recipients))
    if not targets:
        return None
    first = scanner.scan(raw, targets)
    extra = list(names_near(scanner, raw, first))
    remove: frozenset[str] = frozenset()
    for _ in range(ROUNDS):
        try:
            copy, masked, removed = _redact(raw, first, remove, extra)
        except CannotRedact:
            return None
        again = scanner.scan(copy, targets)
        if verified(again, targets):
            return Redacted(copy, tuple(targets), masked, removed)
        # Something still discloses. Two things can help on another round: a value the second scan
        # found (a name spaCy saw only once the text around it was masked) masked in the original
        # wherever it occurs, and an attachment (a patron list whose column labels alone make it an
        # ILS export) removed whole. Anything else is refused: the caller holds.
        found = _refound(first, again)
        parts = {p.path: p for p in again.message.extraction.parts}
        left = {f.part for d in again.message.assessment.disclosures for f in d.findings}
        attached = frozenset(p for p in left if p in parts and parts[p].origin == "attachment")
        known = {(f.part, f.start, f.end) for f in extra}
        new = [f for f in found if (f.part, f.start, f.end) not in known]
        if not new and attached <= remove:
            return None
        extra += new
        remove = remove | attached
    return None


def _refound(first: ScanResult, again: ScanResult) -> list[Finding]:
    """Maskable findings of a redacted copy's disclosures, found again in the original's text (same part paths)."""
    original = {p.path: p.text for p in first.message.extraction.parts}
    copy = {p.path: p.text for p in again.message.extraction.parts}
    out: list[Finding] = []
    for d in again.message.assessment.disclosures:
        for f in d.findings:
            if f.kind not in HINTS or f.kind in STRUCTURAL or f.part not in copy or f.part not in original:
                continue
            value = copy[f.part][f.start : f.end]
            if len(value.strip()) < 3 or "[" in value:
                continue  # too short to look for, or it overlaps a mask
            text = original[f.part]
            at = text.find(value)
            while at >= 0:
                out.append(dataclasses.replace(f, start=at, end=at + len(value)))
                at = text.find(value, at + len(value))
    return out


def redactor_for(scanner: Scanner) -> Callable[[bytes, list[str]], bytes | None]:
    """The quarantine's `Redactor`: a checked redacted copy of a held message for its held recipients, or None."""

    def redactor(raw: bytes, recipients: list[str]) -> bytes | None:
        redacted = redact_checked(scanner, raw, recipients)
        return None if redacted is None else redacted.raw

    return redactor


def verified(result: ScanResult, recipients: Iterable[str]) -> bool:
    """True when the scan of a redacted copy would deliver it to every one of `recipients` (the invariant)."""
    decided = {d.recipient.address: d.action for d in result.decisions}
    return all(decided.get(a) is Action.DELIVER for a in recipients)


def redact(raw: bytes, result: ScanResult) -> bytes:
    """The message with every maskable finding of `result` masked; `CannotRedact` when that is not possible."""
    return _redact(raw, result)[0]


def names_near(scanner: Scanner, raw: bytes, result: ScanResult) -> tuple[Finding, ...]:
    """Names next to the identifiers that will be masked (the scan asks spaCy only where a name
    would decide; a card number decides alone, so the name beside it was never looked for).
    The sender's own name is left alone."""
    engine = scanner.engine
    if not engine.settings.names.enabled:
        return ()
    parts = {p.path: p for p in result.message.extraction.parts}
    span = engine.settings.names.window_chars
    windows = [
        (parts[f.part], max(0, f.start - span), min(len(parts[f.part].text), f.end + span))
        for f in result.message.assessment.findings
        if f.kind in _NEAR_NAMES and f.part in parts
    ]
    if not windows:
        return ()
    own = " ".join(sender_names(raw)).lower()
    found = engine.names.detect_windows(windows)
    return tuple(f for f in found if not (own and parts[f.part].text[f.start : f.end].lower() in own))


def _redact(
    raw: bytes, result: ScanResult, remove: frozenset[str] = frozenset(), names: Sequence[Finding] = ()
) -> tuple[bytes, int, int]:
    try:
        msg = parse_message(bytes(raw))
    except Exception:
        raise CannotRedact("unparseable-message") from None
    if not msg.keys():
        raise CannotRedact("no-headers")
    extraction = result.message.extraction
    work = _Rewrite(
        parts={p.path: p for p in extraction.parts},
        findings=_masked_findings(result) + tuple(names),
        uninspectable=tuple(result.message.assessment.uninspectable) + tuple(extraction.uninspectable),
        remove=remove,
    )
    if any(f.part in ("message", "headers") for f in work.uninspectable) or "headers" in work.by_part:
        raise CannotRedact("message-level-finding")
    work.message(msg, prefix="")
    for key in [k for k in msg.keys() if k.lower() == REDACTED_HEADER.lower()]:
        del msg[key]
    msg[REDACTED_HEADER] = "yes"
    crlf = b"\r\n" in raw[:4096]
    out = BytesIO()
    policy = email.policy.compat32.clone(linesep="\r\n" if crlf else "\n")
    BytesGenerator(out, mangle_from_=False, policy=policy).flatten(msg)
    return out.getvalue(), work.masked, work.removed


def _masked_findings(result: ScanResult) -> tuple[Finding, ...]:
    """What gets masked: every identifier, every structural span and every name found.

    Names are looked for only around patron data (see detectors.engine and
    `names_near`), so a name found is one next to it: masking it even where it
    does not bind into a disclosure keeps "Jane Doe, card [card ••••2817]" from
    being half a redaction.
    """
    assessment = result.message.assessment
    texts = {p.path: p.text for p in result.message.extraction.parts}
    out = []
    for f in assessment.findings:
        if f.kind not in HINTS or f.end <= f.start:
            continue
        if f.kind is Kind.MONEY_OWED and not _DIGITS.search(texts.get(f.part, "")[f.start : f.end]):
            continue  # "MONEY OWED" as a column label, "owes fines": no amount to mask
        out.append(f)
    return tuple(out)


# ----------------------------------------------------------------- masks


def mask_for(kind: Kind, value: str, bullet: str = MASK) -> str:
    """The text that replaces one finding: a hint in brackets, a card keeping its last four digits.

    `bullet` is "*" for a part whose charset has no bullet (ISO-8859-1, Shift_JIS):
    the part keeps its charset rather than turning into UTF-8.
    """
    hint = HINTS[kind]
    if kind is Kind.PATRON_BARCODE:
        digits = _DIGITS.findall(value)
        if len(digits) >= 8:
            return f"[{hint} {bullet * 4}{''.join(digits[-4:])}]"
    return f"[{hint}]"


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    kind: Kind


def _spans(findings: Iterable[Finding], tabular: bool, extra: Iterable[_Span] = ()) -> list[_Span]:
    """Finding spans, sorted and merged where they overlap; a structural span wins over what it covers."""
    spans = sorted(
        [*(_Span(f.start, f.end, f.kind) for f in findings if not (tabular and f.kind in STRUCTURAL)), *extra],
        key=lambda s: (s.start, -s.end),
    )
    merged: list[_Span] = []
    for s in spans:
        if merged and s.start < merged[-1].end:
            last = merged[-1]
            kind = last.kind if last.kind in STRUCTURAL or s.kind not in STRUCTURAL else s.kind
            merged[-1] = _Span(last.start, max(last.end, s.end), kind)
        else:
            merged.append(s)
    return merged


def _apply(text: str, spans: Sequence[_Span], delimiter: str | None = None, bullet: str = MASK) -> str:
    """Replace each span of `text` by its mask; in a table, each cell of a span gets its own mask."""
    out: list[str] = []
    pos = 0
    for s in spans:
        if s.start < pos or s.end > len(text):
            raise CannotRedact("span-out-of-range")
        out.append(text[pos : s.start])
        value = text[s.start : s.end]
        if delimiter is None:
            out.append(mask_for(s.kind, value, bullet))
        else:
            out.append(_mask_cells(value, s.kind, delimiter, bullet))
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


def _mask_cells(value: str, kind: Kind, delimiter: str, bullet: str) -> str:
    pieces = re.split(f"({re.escape(delimiter)}|\n)", value)
    out = []
    for piece in pieces:
        if piece in (delimiter, "\n") or not piece.strip():
            out.append(piece)
            continue
        lead = len(piece) - len(piece.lstrip(' "'))
        trail = len(piece) - len(piece.rstrip(' "'))
        core = piece[lead : len(piece) - trail]
        out.append(piece[:lead] + (mask_for(kind, core, bullet) if core else "") + piece[len(piece) - trail :])
    return "".join(out)


# Column labels of patron exports (Create Lists, holds lists, agency reports, hand-made lists) and what
# their cells hold. Used only inside a span the scanner called an ILS record or a bulk export.
_COLUMNS: tuple[tuple[tuple[str, ...], Kind], ...] = (
    (("BARCODE", "CARD"), Kind.PATRON_BARCODE),
    (("EMAIL", "E-MAIL"), Kind.EMAIL),
    (("PHONE", "TELEPHONE", "TEL"), Kind.PHONE),
    (("ADDR", "STREET", "CITY"), Kind.STREET_ADDRESS),
    (("BIRTH", "DOB"), Kind.BIRTH_DATE),
    (("OWED", "FINE", "BALANCE", "AMOUNT", "BILL"), Kind.MONEY_OWED),
    (("RECORD #", "RECORD NUMBER", "P NUMBER"), Kind.PATRON_RECORD_NUMBER),
    (("NAME", "PATRON", "BORROWER", "GUARDIAN", "PARENT", "STUDENT"), Kind.PERSON_NAME),
)


def _column_kind(label: str) -> Kind | None:
    upper = " ".join(label.strip().strip('"').upper().split())
    return next((kind for words, kind in _COLUMNS if any(w in upper for w in words)), None)


def _cells(text: str, start: int, end: int, delimiter: str) -> list[tuple[int, int]]:
    """(start, end) of each cell of the line text[start:end]; a delimiter inside double quotes is text."""
    out: list[tuple[int, int]] = []
    cell = start
    quoted = False
    for i in range(start, end):
        ch = text[i]
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            out.append((cell, i))
            cell = i + 1
    out.append((cell, end))
    return out


def _column_spans(
    text: str, start: int, end: int, delimiter: str, min_columns: int
) -> tuple[list[_Span], tuple[int, int] | None]:
    """In a delimited table whose first line labels patron columns (name, phone, card...), every data
    cell under those labels; and where the header line is (its labels are not masked)."""
    header_end = text.find("\n", start, end)
    if header_end < 0:
        return [], None
    kinds = [_column_kind(text[s:e]) for s, e in _cells(text, start, header_end, delimiter)]
    if sum(k is not None for k in kinds) < min_columns:
        return [], None
    out: list[_Span] = []
    pos = header_end + 1
    while pos < end:
        line_end = text.find("\n", pos, end)
        line_end = end if line_end < 0 else line_end
        for (s, e), kind in zip(_cells(text, pos, line_end, delimiter), kinds, strict=False):
            value = text[s:e]
            core = value.strip().strip('"').strip()
            if kind is None or not core:
                continue
            lead = s + value.index(core)
            out.append(_Span(lead, lead + len(core), kind))
        pos = line_end + 1
    return out, (start, header_end)


def _delimiter(text: str) -> str:
    head = text.split("\n", 1)[0]
    counts = [(head.count(d), d) for d in _DELIMS]
    best = max(counts)
    return best[1] if best[0] else ","


# ----------------------------------------------------------------- the rewrite


class _Rewrite:
    """One pass over the parsed message, with the same part paths as `detectors.extract`."""

    def __init__(
        self,
        parts: dict[str, TextPart],
        findings: Sequence[Finding],
        uninspectable: Sequence[Finding],
        remove: frozenset[str] = frozenset(),
    ) -> None:
        self.parts = parts
        self.remove = remove  # attachment paths to replace whole (masking them was not enough)
        self.by_part: dict[str, list[Finding]] = {}
        for f in findings:
            self.by_part.setdefault(f.part, []).append(f)
        self.uninspectable = uninspectable
        self.unreadable_paths = {f.part for f in uninspectable}
        self.masked = 0
        self.removed = 0
        self.bullet = MASK  # "*" while re-encoding a part whose charset has no bullet

    # -- which findings are where

    def under(self, path: str) -> list[Kind]:
        """Kinds of findings (maskable or unreadable) at `path` or inside it ("path/…")."""
        kinds = [f.kind for p, fs in self.by_part.items() if p == path or p.startswith(path + "/") for f in fs]
        kinds += [
            Kind.UNINSPECTABLE for p in self.unreadable_paths if p == path or p.startswith(path + "/")
        ]
        return kinds

    # -- structure

    def message(self, msg: Message, prefix: str) -> None:
        self.subject(msg, prefix)
        self.entity(msg, prefix, "")

    def subject(self, msg: Message, prefix: str) -> None:
        path = prefix + "subject"
        findings = self.by_part.get(path)
        if not findings:
            return
        part = self.parts.get(path)
        values = [decode_header_value(v) for v in raw_headers(msg, "subject")]
        text = "\n".join(filter(None, values))
        if part is None or part.text != text:
            raise CannotRedact("subject-mismatch")
        new = _apply(text, _spans(findings, tabular=False))
        self.masked += len(findings)
        subject = " ".join(new.split("\n"))
        try:
            subject.encode("ascii")
            value = subject
        except UnicodeEncodeError:
            value = email.header.Header(subject, "utf-8").encode()
        headers = _header_list(msg)  # the first Subject keeps its place, any others go
        at = next(i for i, (k, _) in enumerate(headers) if k.lower() == "subject")
        headers[at] = ("Subject", value)
        headers[:] = [h for i, h in enumerate(headers) if i == at or h[0].lower() != "subject"]

    def entity(self, part: Message, prefix: str, num: str) -> None:
        path = prefix + (num or "1")
        ctype = part.get_content_type().lower()
        payload = part.get_payload()
        if ctype in ("message/rfc822", "message/global") and isinstance(payload, list):
            if not self.under(path):
                return
            if len(payload) == 1 and isinstance(payload[0], Message) and transfer_encoding(part) not in ("base64", "quoted-printable"):
                self.message(payload[0], prefix=path + "/")
                return
            self.replace(part, path, ctype)
            return
        if isinstance(payload, list):
            if ctype.startswith("multipart/") and part.get_param("boundary") is None:
                raise CannotRedact("multipart-without-boundary")
            base = prefix + (num + "." if num else "")
            for where in ("preamble", "epilogue"):
                if self.under(base + where):
                    setattr(part, where, "")
            for i, child in enumerate(payload, 1):
                if isinstance(child, Message):
                    self.entity(child, prefix, f"{num}.{i}" if num else str(i))
            return
        kinds = self.under(path)
        if not kinds:
            return
        if path in self.unreadable_paths or path in self.remove:
            self.replace(part, path, ctype)
            return
        kind = text_kind(ctype, filename_extension(part.get_filename()))
        text_part = self.parts.get(path)
        if kind is None or text_part is None or any(p.startswith(path + "/") for p in self.by_part):
            self.replace(part, path, ctype)
            return
        findings = self.by_part.get(path, [])
        if kind == "html":
            self.rewrite(part, lambda text: self.html(text, findings))
        else:
            tabular = text_part.tabular or ctype in _TABLE_TYPES
            self.rewrite(part, lambda text: self.plain(text, text_part, findings, tabular))
        self.masked += len(findings)

    # -- leaves

    def plain(self, text: str, part: TextPart, findings: Sequence[Finding], tabular: bool) -> str:
        expected = part.text
        if unquote(text)[: len(expected)] != expected and text[: len(expected)] != expected:
            raise CannotRedact("offsets-do-not-match")
        if tabular:
            # A table the scanner called an export: its patron columns go whole. Any other table with
            # patron findings: the same when its first line labels at least two patron columns.
            delimiter = _delimiter(text)
            tables = [(f.start, f.end, 1) for f in findings if f.kind in STRUCTURAL] or [(0, len(text), 2)]
            columns: list[_Span] = []
            headers: list[tuple[int, int]] = []
            for start, end, least in tables:
                spans, header = _column_spans(text, start, end, delimiter, least)
                columns += spans
                headers += [header] if header else []
            kept = [f for f in findings if not any(hs <= f.start and f.end <= he for hs, he in headers)]
            return _apply(text, _spans(kept, tabular=True, extra=columns), delimiter, self.bullet)
        return _apply(text, _spans(findings, tabular=False), bullet=self.bullet)

    def html(self, source: str, findings: Sequence[Finding]) -> str:
        part_text = self.parts[findings[0].part].text if findings else ""
        values: list[tuple[str, Kind]] = []
        for s in _spans(findings, tabular=False):
            value = part_text[s.start : s.end]
            if value.strip():
                values.append((value, s.kind))
        return _mask_html(source, values, self.bullet)

    def rewrite(self, part: Message, change: _Change) -> None:
        """Decode the part's text, change it, encode it back in its charset and transfer encoding."""
        data = payload_bytes(part)
        declared = _charset(part)
        codec = _actual_codec(data, declared)
        if declared is None and data.isascii():
            codec = "ascii"  # no charset said: stay US-ASCII (the masks fall back to "*")
        text = clean_text(data.decode(codec))
        if text != decode_part_text(data, declared):
            raise CannotRedact("charset-mismatch")
        crlf = b"\r\n" in data
        body: bytes | None = None
        charset = declared
        for bullet in (MASK, "*"):
            self.bullet = bullet
            new = change(text)
            if crlf:
                new = new.replace("\n", "\r\n")
            try:
                body = new.encode(codec)
                break
            except UnicodeEncodeError:
                continue
        self.bullet = MASK
        if body is None:  # even the plain masks do not fit this charset
            body = change(text).replace("\n", "\r\n" if crlf else "\n").encode("utf-8")
            charset = "utf-8"
        if charset != declared:
            _set_param(part, "charset", charset or "utf-8")
        cte = transfer_encoding(part)
        if cte == "base64":
            encoded = base64.encodebytes(body).decode("ascii")
        elif cte in ("quoted-printable", "qp"):
            encoded = quopri.encodestring(body).decode("ascii")
        elif cte in ("8bit", "binary") and not crlf:
            encoded = body.decode("ascii", "surrogateescape")
        elif body.isascii():
            encoded = body.decode("ascii")
        else:
            encoded = quopri.encodestring(body).decode("ascii")
            _set_header(part, "Content-Transfer-Encoding", "quoted-printable")
        part.set_payload(encoded)

    def replace(self, part: Message, path: str, ctype: str) -> None:
        """Swap a part that cannot be rewritten for a short plain explanation (no filename, no values)."""
        kinds = self.under(path)
        words = list(dict.fromkeys(WORDS[k] for k in kinds if k in WORDS)) or ["patron information"]
        what = next((w for prefix, w in _DOCUMENT_WORDS if ctype.startswith(prefix)), "an attachment")
        text = textwrap.fill(
            f"PatronGuard removed {what} from this message before it left the library, because it "
            f"contained patron information ({', '.join(words)}). Patron records are protected. "
            "If you need this information, please ask the sender.",
            width=76,
        ) + "\n"
        for key in list(part.keys()):
            del part[key]
        part["Content-Type"] = 'text/plain; charset="us-ascii"'
        part["Content-Transfer-Encoding"] = "7bit"
        part["Content-Disposition"] = "inline"
        part.set_payload(text)
        self.removed += 1


def _set_header(part: Message, name: str, value: str) -> None:
    """Replace the first `name` header where it stands (header order is kept), else add it."""
    if part.get(name) is not None:
        part.replace_header(name, value)
    else:
        part[name] = value


def _header_list(part: Message) -> list[tuple[str, str]]:
    """compat32 keeps a message's headers as a list of pairs; editing it in place keeps their order."""
    headers: list[tuple[str, str]] = getattr(part, "_headers")  # noqa: B009 - private, typed here
    return headers


def _set_param(part: Message, param: str, value: str) -> None:
    """`Message.set_param` moves Content-Type to the end of the header block; put it back where it was."""
    names = [k.lower() for k in part.keys()]
    index = names.index("content-type") if "content-type" in names else None
    part.set_param(param, value)
    if index is not None:
        headers = _header_list(part)
        moved = headers.pop()
        headers.insert(index, moved)


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None


def _actual_codec(data: bytes, declared: str | None) -> str:
    """The codec `detectors.extract` would have read these bytes with (its order of attempts)."""
    if any(data.startswith(bom) for bom, _ in BOMS):
        raise CannotRedact("bom")  # re-encoding would have to restore the mark: not worth the risk
    codec = text_codec(declared)
    candidates: list[str] = []
    if codec is not None:
        candidates.append(codec)
        candidates.extend(MISLABELED_CHARSETS.get(codec, ()))
    elif b"\x1b$B" in data or b"\x1b$@" in data:
        candidates.append("iso2022_jp")
    candidates.append("utf-8")
    for candidate in candidates:
        try:
            data.decode(candidate)
            return codecs.lookup(candidate).name
        except (UnicodeDecodeError, LookupError):
            continue
    # extract's last resorts decode with replacement marks: usable only when nothing was replaced.
    for candidate in ([codec] if codec not in (None, "ascii", "utf-8") else []) + ["cp1252"]:
        assert candidate is not None
        if data.decode(candidate, "replace").encode(candidate, "replace") == data:
            return candidate
    raise CannotRedact("undecodable")


# ----------------------------------------------------------------- HTML


_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9:_-]{0,40})")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};?)")
_HIDDEN = frozenset({"script", "style", "title"})
_BREAKS = frozenset(
    {"br", "p", "div", "li", "tr", "td", "th", "table", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "pre",
     "blockquote", "hr", "dd", "dt", "section", "article", "header", "footer", "caption", "center", "tbody",
     "thead", "tfoot", "address", "form"}
)


def _visible(source: str) -> tuple[str, list[int], list[int]]:
    """The visible text of `source`, whitespace collapsed, with each character's source span.

    A block or cell tag reads as a space with an empty span (it separates words
    but there is nothing in the source to mask).
    """
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def put(ch: str, s: int, e: int) -> None:
        if ch.isspace():
            if not chars or chars[-1] == " ":
                return
            ch = " "
        chars.append(ch)
        starts.append(s)
        ends.append(e)

    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "<":
            if source.startswith("<!--", i):
                close = source.find("-->", i + 4)
                i = n if close < 0 else close + 3
                continue
            m = _TAG_NAME.match(source, i)
            if m or source.startswith(("<!", "<?"), i):
                close = source.find(">", i)
                end = n if close < 0 else close + 1
                name = m.group(1).lower() if m else ""
                if m and not m.group(0).startswith("</") and name in _HIDDEN:
                    closing = re.compile(f"</{name}", re.IGNORECASE).search(source, end)
                    if closing is not None:
                        close = source.find(">", closing.end())
                        end = n if close < 0 else close + 1
                if name in _BREAKS:
                    put(" ", end, end)
                i = end
                continue
        if ch == "&":
            m2 = _ENTITY.match(source, i)
            if m2:
                decoded = html.unescape(m2.group(0))
                for d in decoded:
                    put(d, i, m2.end())
                i = m2.end()
                continue
        put("\xa0" if ch == "\xa0" else ch, i, i + 1)
        i += 1
    return "".join(chars), starts, ends


def _norm(value: str) -> str:
    return _WS.sub(" ", value.replace("\xa0", " ")).strip()


def _mask_html(source: str, values: Sequence[tuple[str, Kind]], bullet: str = MASK) -> str:
    """Mask each value where it is visible in `source`, then any literal copy left (attributes, hidden text)."""
    visible, starts, ends = _visible(source)
    flat = visible.replace("\xa0", " ")
    edits: list[tuple[int, int, str]] = []  # source start, end, replacement
    for value, kind in values:
        needle = _norm(value)
        if not needle:
            continue
        mask = html.escape(mask_for(kind, value, bullet), quote=False)
        at = flat.find(needle)
        while at >= 0:
            segments = _segments(starts, ends, at, at + len(needle))
            for k, (s, e) in enumerate(segments):
                edits.append((s, e, mask if k == 0 else ""))
            at = flat.find(needle, at + len(needle))
    out = _edit(source, edits)
    # Copies the reader does not see (mailto: links, title attributes) are still sent: mask them too.
    for value, kind in values:
        mask = html.escape(mask_for(kind, value, bullet), quote=True)
        for form in dict.fromkeys((value.strip(), html.escape(value.strip(), quote=True))):
            if len(form) >= 4:
                out = out.replace(form, mask)
    return out


def _segments(starts: list[int], ends: list[int], lo: int, hi: int) -> list[tuple[int, int]]:
    """Contiguous source ranges behind visible characters lo..hi (tags between them stay)."""
    out: list[tuple[int, int]] = []
    for k in range(lo, hi):
        s, e = starts[k], ends[k]
        if s == e:
            continue
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _edit(source: str, edits: list[tuple[int, int, str]]) -> str:
    edits.sort()
    out: list[str] = []
    pos = 0
    for s, e, text in edits:
        if s < pos:  # overlaps an earlier edit: already masked
            if e > pos:
                pos = e
            continue
        out.append(source[pos:s])
        out.append(text)
        pos = e
    out.append(source[pos:])
    return "".join(out)


__all__ = [
    "HINTS",
    "REDACTED_HEADER",
    "CannotRedact",
    "Redacted",
    "mask_for",
    "redact",
    "redact_checked",
    "redactor_for",
    "verified",
]
