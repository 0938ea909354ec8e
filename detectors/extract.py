"""Raw message bytes → readable text parts with provenance, and findings for what cannot be read.

This module owns `extract()`: it walks a MIME message (nested forwards included)
and returns every readable piece as a `TextPart` — the Subject, each text and
HTML body, text-like attachments (CSV, TSV, JSON, XML, plain text) — together
with the top-level recipients, sender and Message-ID. Whatever it cannot read
(a PDF with no extractor, an encrypted part, an unknown transfer encoding, a
charset that decodes to garbage, a message past the size or depth limits)
becomes a `Kind.UNINSPECTABLE` finding, so the policy can fail closed.

It also owns the `ExtractorRegistry`: later work adds PDF, Office, archive or
OCR extractors by registering a callable for content types or filename
extensions; `extract()` never changes for that.

Rules it keeps:
- `extract()` never raises and does bounded work: at most `max_parts` leaf
  parts, `max_depth` levels of nesting, `max_chars_per_part` characters per part.
- Part paths follow IMAP numbering ("1", "1.2", "2.1.1"); the parts of a
  forwarded message at path P are numbered under "P/" ("2/1", "2/subject").
  Paths never contain filenames, because paths end up in logs.
- Uninspectable reasons name a type or a cause ("no-extractor application/pdf"),
  never a filename or any content.

It must not do I/O, log, or import from `proxy/`.
"""

from __future__ import annotations

import binascii
import codecs
import email
import email.policy
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses
from itertools import islice

from detectors.findings import Finding, Kind, TextPart
from detectors.html import html_to_text

# ---------------------------------------------------------------------------
# Public values


@dataclass(frozen=True, slots=True)
class ExtractLimits:
    """Bounds on the work one message may cause; past them the rest is uninspectable."""

    max_parts: int = 500  # leaf MIME parts examined; more -> "too-many-parts"
    max_depth: int = 10  # nested multipart / message/rfc822 levels; deeper -> "too-deep"
    max_chars_per_part: int = 2_000_000  # longer text is truncated and "part-too-large" is added
    # Signature and key parts carry no readable content: skipping them is not a gap.
    ignore_types: frozenset[str] = frozenset(
        {
            "application/pgp-signature",
            "application/pkcs7-signature",
            "application/x-pkcs7-signature",
            "application/pgp-keys",
        }
    )


@dataclass(frozen=True, slots=True)
class Extraction:
    """Everything `extract()` read from one message, and what it could not read."""

    parts: tuple[TextPart, ...]  # every readable piece; paths unique
    uninspectable: tuple[Finding, ...]  # Kind.UNINSPECTABLE findings, one per unreadable part
    recipients: tuple[str, ...]  # addr-specs of To, Cc, Bcc of the top-level message, in order, deduplicated
    message_id: str | None
    sender: str | None  # From addr-spec
    # (lower-cased addr-spec, decoded display name) for the To/Cc/Bcc addresses that carry one
    display_names: tuple[tuple[str, str], ...] = ()


class Uninspectable(Exception):
    """Raised by an extractor that cannot read its input. The reason is short and carries no content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ExtractedText:
    """One readable piece an extractor found in an attachment.

    `name` is the piece's own name when the attachment holds several (an archive
    member, "page 3"); it becomes the TextPart's `filename`, never its path.
    """

    text: str
    name: str | None = None
    content_type: str | None = None  # defaults to the attachment's content type
    tabular: bool = False


# (payload bytes after transfer decoding, content type without parameters, filename or None) -> pieces.
# Raise `Uninspectable` for content that exists but cannot be read.
Extractor = Callable[[bytes, str, "str | None"], Iterable[ExtractedText]]


class ExtractorRegistry:
    """Maps content types and filename extensions to extractors; an exact content type wins."""

    __slots__ = ("_by_type", "_by_ext")

    def __init__(self) -> None:
        self._by_type: dict[str, Extractor] = {}
        self._by_ext: dict[str, Extractor] = {}

    def register(self, content_types: Iterable[str], extensions: Iterable[str], extractor: Extractor) -> None:
        """Use `extractor` for these content types ("application/pdf") and extensions ("pdf" or ".pdf")."""
        types = [t.strip().lower() for t in content_types]
        exts = [e.strip().lower().lstrip(".") for e in extensions]
        for t in types:
            if "/" not in t:
                raise ValueError(f"content type must look like type/subtype: {t!r}")
        if not types and not exts:
            raise ValueError("register needs at least one content type or extension")
        for t in types:
            self._by_type[t] = extractor
        for e in exts:
            if e:
                self._by_ext[e] = extractor

    def find(self, content_type: str, filename: str | None) -> Extractor | None:
        """Return the extractor for this content type, else for the filename's extension, else None."""
        found = self._by_type.get(content_type.lower())
        if found is not None:
            return found
        ext = filename_extension(filename)
        return self._by_ext.get(ext) if ext else None


DEFAULT_REGISTRY = ExtractorRegistry()

# ---------------------------------------------------------------------------
# Type tables

_ENCRYPTED = frozenset(
    {"multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime", "application/pgp-encrypted"}
)
# Types senders use for "some file": the filename extension says more than the type.
_GENERIC = frozenset(
    {
        "application/octet-stream",
        "application/download",
        "application/x-download",
        "application/unknown",
        "application/force-download",
        "binary/octet-stream",
        "application/binary",
        "application/vnd.ms-excel",
        "application/csv",
        "application/x-csv",
    }
)
_TEXT_APP_TYPES = frozenset(
    {"application/json", "application/xml", "application/csv", "application/x-csv", "application/x-json"}
)
_TABULAR_TYPES = frozenset(
    {
        "text/csv",
        "text/tab-separated-values",
        "text/comma-separated-values",
        "text/x-csv",
        "application/csv",
        "application/x-csv",
    }
)
# Extension -> the content type we report for it when the declared type is generic.
_TEXT_EXTENSIONS = {
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "tab": "text/tab-separated-values",
    "txt": "text/plain",
    "text": "text/plain",
    "log": "text/plain",
    "json": "application/json",
    "xml": "application/xml",
    "htm": "text/html",
    "html": "text/html",
}
_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global", "message/news"})
_MESSAGE_EXTENSIONS = frozenset({"eml"})
# Header names that mark a real message header block (see _stray_headers).
_STANDARD_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "received",
        "return-path",
        "reply-to",
        "sender",
        "in-reply-to",
        "references",
        "delivered-to",
        "x-mailer",
        "user-agent",
        "resent-from",
        "resent-to",
    }
)

_TOKEN_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}")
_REASON_CHARS = re.compile(r"[^A-Za-z0-9 ._/+=:-]")
_EXT = re.compile(r"[a-z0-9]{1,10}")
_MAX_HEADER = 16_384  # longer header values are used as they are, without RFC 2047 or address parsing
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r(?=[ \t])")
_NEWLINES = re.compile(r"\r\n?")
# Quote markers at a line start: "> ", ">> ", "> > ". Each repetition consumes a ">", so this is linear.
_QUOTE = re.compile(r"^(?:[ \t]{0,3}>){1,50}", re.MULTILINE)
# Characters no readable text is made of: replacement marks and C0 controls other than layout.
_UNREADABLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")  # controls that no text file holds
_UNREADABLE_RATIO = 0.10
_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")
_BROKEN_B64 = re.compile(r"^content-transfer-encoding:[ \t]*base64", re.IGNORECASE | re.MULTILINE)
_PGP_INLINE = "-----BEGIN PGP MESSAGE-----"
# Charsets that text declared as the key is often really in (CJK mail is frequently mislabelled).
MISLABELED_CHARSETS = {
    "iso2022_jp": ("euc_jp", "cp932"),  # EUC-JP first: EUC bytes also decode as cp932 half-width kana
    "euc_jp": ("cp932", "iso2022_jp"),
    "shift_jis": ("cp932", "euc_jp"),
    "cp932": ("euc_jp",),
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "big5": ("cp950", "big5hkscs"),
    "euc_kr": ("cp949",),
    "iso8859-8-i": ("iso8859_8",),
}
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# ---------------------------------------------------------------------------
# Entry point


def extract(
    raw: bytes, limits: ExtractLimits = ExtractLimits(), registry: ExtractorRegistry | None = None
) -> Extraction:
    """Read a raw RFC 5322 message into text parts; never raises, anything unreadable becomes a finding."""
    try:
        data = bytes(raw)
    except Exception:
        return _unparseable()
    if not data.strip():
        return Extraction(parts=(), uninspectable=(), recipients=(), message_id=None, sender=None)
    try:
        msg = parse_message(data)
    except Exception:
        return _unparseable()
    walk = _Walk(limits, registry if registry is not None else DEFAULT_REGISTRY)
    try:
        walk.message(msg, prefix="", depth=0, origin="body")
    except Exception:
        # A failure past the parser: keep what was read and mark the message as not fully read.
        walk.unreadable("message", "unparseable-message")
    recipients: tuple[str, ...] = ()
    message_id: str | None = None
    sender: str | None = None
    names: tuple[tuple[str, str], ...] = ()
    try:
        recipients, message_id, sender, names = _envelope_headers(msg)
    except Exception:
        walk.unreadable("message", "unparseable-headers")
    return Extraction(
        parts=tuple(walk.parts),
        uninspectable=tuple(walk.findings),
        recipients=recipients,
        message_id=message_id,
        sender=sender,
        display_names=names,
    )


def _unparseable() -> Extraction:
    return Extraction(
        parts=(),
        uninspectable=(_finding("message", "unparseable-message"),),
        recipients=(),
        message_id=None,
        sender=None,
    )


def parse_message(data: bytes) -> Message:
    """Parse with compat32: it never raises on bad headers, where policy.default does."""
    if data.startswith(b"From "):
        # mbox envelope line: not a header, and the parser would keep it as one otherwise.
        newline = data.find(b"\n")
        data = b"" if newline == -1 else data[newline + 1 :]
    return email.message_from_bytes(data, policy=email.policy.compat32)


def _finding(path: str, reason: str) -> Finding:
    return Finding(
        kind=Kind.UNINSPECTABLE,
        part=path,
        start=0,
        end=0,
        score=1.0,
        reason=_REASON_CHARS.sub("?", reason)[:120],
        masked="",
        detector="extract",
    )


# ---------------------------------------------------------------------------
# The walk


class _Walk:
    """One traversal of one message: collects parts and findings, enforces the limits."""

    def __init__(self, limits: ExtractLimits, registry: ExtractorRegistry) -> None:
        self.limits = limits
        self.registry = registry
        self.parts: list[TextPart] = []
        self.findings: list[Finding] = []
        self.paths: set[str] = set()
        self.leaves = 0
        self.nodes = 0
        self.stopped = False

    # -- recording

    def unreadable(self, path: str, reason: str) -> None:
        self.findings.append(_finding(path, reason))

    def add(self, part: TextPart) -> None:
        text = part.text
        if not text.strip():
            return
        if len(text) > self.limits.max_chars_per_part:
            text = text[: self.limits.max_chars_per_part]
            self.unreadable(part.path, "part-too-large")
        path = part.path
        if path in self.paths:  # cannot happen by construction; kept so uniqueness never depends on it
            n = 2
            while f"{path}~{n}" in self.paths:
                n += 1
            path = f"{path}~{n}"
        self.paths.add(path)
        self.parts.append(
            TextPart(
                path=path,
                text=text,
                content_type=part.content_type,
                filename=part.filename,
                origin=part.origin,
                tabular=part.tabular,
            )
        )

    # -- structure

    def message(self, msg: Message, prefix: str, depth: int, origin: str) -> None:
        """A whole message (top level or forwarded): its Subject, then its body tree."""
        # Every Subject line: a second one is unusual, but some reader may show it.
        subject = "\n".join(filter(None, (decode_header_value(v) for v in raw_headers(msg, "subject"))))
        if subject:
            self.add(
                TextPart(path=prefix + "subject", text=subject, origin="subject" if not prefix else origin)
            )
        if not prefix:
            stray = _stray_headers(msg)
            if stray:
                self.add(TextPart(path="headers", text=stray, origin="body"))
        self.entity(msg, prefix, "", depth, origin)

    def entity(self, part: Message, prefix: str, num: str, depth: int, origin: str) -> None:
        """One MIME entity; `num` is its IMAP number within the message ("" for the message itself)."""
        if self.stopped:
            return
        path = prefix + (num or "1")
        self.nodes += 1
        if self.nodes > 4 * self.limits.max_parts:
            self.stop(path)
            return
        if depth > self.limits.max_depth:
            self.unreadable(path, "too-deep")
            return
        ctype = _content_type(part)
        try:
            self.dispatch(part, ctype, prefix, num, path, depth, origin)
        except Uninspectable as exc:
            self.unreadable(path, exc.reason)
        except Exception:
            # One bad part must not hide the others; it is still reported, without details.
            self.unreadable(path, f"unreadable-part {ctype}")

    def dispatch(
        self, part: Message, ctype: str, prefix: str, num: str, path: str, depth: int, origin: str
    ) -> None:
        if ctype in _ENCRYPTED:
            self.unreadable(path, f"encrypted {ctype}")
            return
        if ctype in self.limits.ignore_types:
            return
        payload = _raw_payload(part)
        if ctype in _MESSAGE_TYPES or (ctype.startswith("message/") and isinstance(payload, list)):
            self.message_part(part, ctype, path, depth, origin)
            return
        if isinstance(payload, list):
            self.multipart(part, payload, prefix, num, depth, origin)
            return
        if ctype.startswith("multipart/") and isinstance(payload, str):
            salvaged = _salvage_multipart(ctype, payload)
            if salvaged is not None:
                self.multipart(salvaged[0], salvaged[1], prefix, num, depth, origin)
                return
        self.leaf(part, ctype, path, depth, origin)

    def multipart(
        self, part: Message, children: list[Message], prefix: str, num: str, depth: int, origin: str
    ) -> None:
        base = prefix + (num + "." if num else "")
        # Text around the parts is not shown by mail readers but is sent: read it too.
        for where, text in (("preamble", part.preamble), ("epilogue", part.epilogue)):
            if text and text.strip() and not _BOILERPLATE.fullmatch(text.strip()[:200]):
                self.add(TextPart(path=base + where, text=clean_text(_unsurrogate(text)), origin=origin))
        for i, child in enumerate(children, 1):
            if self.stopped:
                return
            if isinstance(child, Message):
                self.entity(child, prefix, f"{num}.{i}" if num else str(i), depth + 1, origin)

    def message_part(self, part: Message, ctype: str, path: str, depth: int, origin: str) -> None:
        """message/rfc822 and friends: a forwarded message is read like the top level, under `path/`."""
        payload = _raw_payload(part)
        if ctype not in _MESSAGE_TYPES:
            # delivery-status, disposition-notification: blocks of fields, readable as text.
            if isinstance(payload, list):
                text = "\n\n".join(_header_block(block) for block in payload if isinstance(block, Message))
                self.add(TextPart(path=path, text=text, content_type=ctype, origin=origin))
            return
        inner: Message | None = None
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            inner = payload[0]
            cte = transfer_encoding(part)
            if cte in ("base64", "quoted-printable") and not inner.keys():
                # Encoded message/rfc822 (not allowed, but sent): the parser read the encoded text as a body.
                body = _raw_payload(inner)
                if isinstance(body, str):
                    inner = parse_message(_transfer_decode(_to_bytes(body), cte))
        elif isinstance(payload, str):
            inner = parse_message(_transfer_decode(_to_bytes(payload), transfer_encoding(part)))
        if inner is None:
            return
        self.nested(inner, path, depth)

    def nested(self, inner: Message, path: str, depth: int) -> None:
        if depth + 1 > self.limits.max_depth:
            self.unreadable(path, "too-deep")
            return
        self.message(inner, prefix=path + "/", depth=depth + 1, origin="forwarded")

    def stop(self, path: str) -> None:
        if not self.stopped:
            self.stopped = True
            self.unreadable(path, "too-many-parts")

    def leaf(self, part: Message, ctype: str, path: str, depth: int, origin: str) -> None:
        self.leaves += 1
        if self.leaves > self.limits.max_parts:
            self.stop(path)
            return
        self.read_leaf(part, ctype, path, depth, origin)

    def read_leaf(self, part: Message, ctype: str, path: str, depth: int, origin: str) -> None:
        filename = _filename(part)
        ext = filename_extension(filename)
        attached = filename is not None or _disposition(part) == "attachment"
        payload = payload_bytes(part)
        if not payload:
            return
        if ext in _MESSAGE_EXTENSIONS and (ctype in _GENERIC or ctype == "text/plain"):
            self.nested(parse_message(payload), path, depth)
            return
        extractor = self.registry.find(ctype, filename)
        if extractor is not None:
            self.run_extractor(extractor, payload, ctype, filename, path)
            return
        if ctype.startswith("multipart/"):
            # A multipart whose boundary is missing or never found: its raw body is all there is.
            self.read_broken_multipart(part, payload, path, origin)
            return
        kind = text_kind(ctype, ext)
        if kind is None:
            suffix = f" .{ext}" if ext and ctype in _GENERIC else ""
            self.unreadable(path, f"no-extractor {ctype}{suffix}")
            return
        shown_type = _TEXT_EXTENSIONS[ext] if ctype in _GENERIC and ext in _TEXT_EXTENSIONS else ctype
        text = decode_part_text(payload, _charset(part))
        tabular = shown_type in _TABULAR_TYPES or ext in ("csv", "tsv", "tab")
        if kind == "html":
            converted = html_to_text(text)
            text, tabular, shown_type = converted.text, converted.tabular, "text/html"
        if kind in ("html", "plain") and not tabular:
            text = unquote(text)
        if _PGP_INLINE in text:
            self.unreadable(path, "encrypted inline-pgp")
        self.add(
            TextPart(
                path=path,
                text=text,
                content_type=shown_type,
                filename=filename,
                origin="attachment" if attached else origin,
                tabular=tabular,
            )
        )

    def read_broken_multipart(self, part: Message, payload: bytes, path: str, origin: str) -> None:
        text = decode_part_text(payload, _charset(part))
        if _BROKEN_B64.search(text):
            # Encoded sub-parts we cannot separate: the visible text is not the whole content.
            self.unreadable(path, "broken-multipart")
        self.add(TextPart(path=path, text=text, content_type="text/plain", origin=origin))

    def run_extractor(
        self, extractor: Extractor, payload: bytes, ctype: str, filename: str | None, path: str
    ) -> None:
        budget = max(1, self.limits.max_parts - self.leaves + 1)
        pieces: list[ExtractedText] = []
        try:
            for piece in islice(extractor(payload, ctype, filename), budget + 1):
                if isinstance(piece, str):
                    piece = ExtractedText(text=piece)
                pieces.append(piece)
        except Uninspectable as exc:
            self.unreadable(path, exc.reason)
        except Exception:
            self.unreadable(path, f"extractor-failed {ctype}")
        if len(pieces) > budget:
            pieces = pieces[:budget]
            self.stop(path)
        single = len(pieces) == 1 and pieces[0].name is None
        for i, piece in enumerate(pieces, 1):
            if not isinstance(piece, ExtractedText) or not isinstance(piece.text, str):
                self.unreadable(path, f"extractor-failed {ctype}")
                continue
            self.add(
                TextPart(
                    path=path if single else f"{path}/{i}",
                    text=_NEWLINES.sub("\n", piece.text),
                    content_type=piece.content_type or ctype,
                    filename=piece.name or filename,
                    origin="attachment",
                    tabular=piece.tabular,
                )
            )


# ---------------------------------------------------------------------------
# Payloads and text


# The preamble most mailers write; not worth a part of its own.
_BOILERPLATE = re.compile(r"This is a multi-?part message in MIME format\.?", re.IGNORECASE)
_BOUNDARY_LINE = re.compile(
    r"^--([0-9A-Za-z'()+_,./:=?-][0-9A-Za-z '()+_,./:=?-]{0,69})[ \t\r]*$", re.MULTILINE
)


def _salvage_multipart(ctype: str, body: str) -> tuple[Message, list[Message]] | None:
    """A multipart whose boundary is missing or wrong: take the first "--boundary" line and reparse."""
    if len(body) > 50_000_000:
        return None
    m = _BOUNDARY_LINE.search(body)
    if m is None:
        return None
    boundary = m.group(1).rstrip()
    if boundary.endswith("--") and body.count("--" + boundary) == 1:
        return None  # only a closing line: nothing to split
    head = f'Content-Type: {ctype}; boundary="{boundary}"\n\n'
    salvaged = email.message_from_bytes(_to_bytes(head + body), policy=email.policy.compat32)
    payload = salvaged.get_payload()
    if not isinstance(payload, list) or not payload:
        return None
    return salvaged, [child for child in payload if isinstance(child, Message)]


def text_kind(ctype: str, ext: str | None) -> str | None:
    """How to read a part as text: "html", "plain", "data" (CSV/JSON/XML kept raw), or None."""
    if ctype in ("text/html", "application/xhtml+xml"):
        return "html"
    if ctype in _TABULAR_TYPES or ctype in _TEXT_APP_TYPES or ctype.endswith(("+xml", "+json")):
        return "data"
    if ctype == "text/xml":
        return "data"
    if ctype.startswith("text/"):
        return "data" if ext in ("csv", "tsv", "tab", "json", "xml") else "plain"
    if ctype in _GENERIC and ext in _TEXT_EXTENSIONS:
        kind = _TEXT_EXTENSIONS[ext]
        if kind == "text/html":
            return "html"
        return "plain" if kind == "text/plain" else "data"
    return None


def _raw_payload(part: Message) -> object:
    """The payload as parsed: for 8-bit text, `get_payload()` would already have decoded it with
    errors="replace" under the declared charset, losing the bytes the fallback charsets need."""
    payload = getattr(part, "_payload", None)
    return payload if payload is not None else part.get_payload()


def payload_bytes(part: Message) -> bytes:
    payload = _raw_payload(part)
    if not isinstance(payload, str):
        return b""
    return _transfer_decode(_to_bytes(payload), transfer_encoding(part))


def _to_bytes(payload: str) -> bytes:
    try:
        return payload.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return payload.encode("utf-8", "surrogateescape")


def transfer_encoding(part: Message) -> str:
    raw = part.get("content-transfer-encoding")
    if raw is None:
        return ""
    value = _unsurrogate(str(raw)).strip().lower().split(";", 1)[0].strip().strip("\"'")
    return value


def _transfer_decode(data: bytes, cte: str) -> bytes:
    """Undo the transfer encoding; an encoding we do not know means the bytes cannot be read."""
    squashed = cte.replace("-", "").replace("_", "").replace(" ", "")
    if squashed in ("", "7bit", "8bit", "binary", "7bits", "8bits", "none"):
        return data
    if squashed == "base64":
        clean = _B64_JUNK.sub(b"", data)
        if len(clean) % 4 == 1:
            clean = clean[:-1]  # a stray character cannot be decoded: drop it
        clean += b"=" * (-len(clean) % 4)
        try:
            return binascii.a2b_base64(clean)
        except binascii.Error as exc:
            raise Uninspectable("bad-base64") from exc
    if squashed in ("quotedprintable", "qp"):
        return binascii.a2b_qp(data)
    if squashed in ("xuuencode", "uuencode", "uue", "xuue"):
        return _decode_uu(data)
    raise Uninspectable(f"unknown-transfer-encoding {_token(cte)}")


def _decode_uu(data: bytes) -> bytes:
    lines = iter(data.splitlines())
    for line in lines:
        if line.startswith(b"begin "):
            break
    else:
        raise Uninspectable("bad-uuencode")
    out: list[bytes] = []
    for line in lines:
        if line.strip() == b"end" or not line:
            break
        try:
            out.append(binascii.a2b_uu(line))
        except binascii.Error:
            # Some encoders pad lines wrongly: decode only the length the line announces.
            nbytes = (((line[0] - 32) & 63) * 4 + 5) // 3
            try:
                out.append(binascii.a2b_uu(line[:nbytes]))
            except binascii.Error as exc:
                raise Uninspectable("bad-uuencode") from exc
    return b"".join(out)


def text_codec(name: str | None) -> str | None:
    """A Python text codec for a declared charset, or None when unknown or not a text encoding."""
    if not name:
        return None
    # RFC 2231 lets a charset carry a language ("iso-8859-2*sl"): the codec is the part before "*".
    name = name.split("*", 1)[0].strip().strip("\"'").lower()
    if not name or len(name) > 40:
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None  # "base64", "zlib": codecs, not charsets
    return info.name


def decode_part_text(data: bytes, declared: str | None) -> str:
    """Decode: BOM, declared charset, its usual mislabels, UTF-8, then cp1252; garbage is uninspectable."""
    text = _decode_best(data, text_codec(declared))
    if text and len(_UNREADABLE.sub("", text)) < len(text) * (1 - _UNREADABLE_RATIO):
        raise Uninspectable("undecodable-charset")
    return clean_text(text)


def _decode_best(data: bytes, codec: str | None) -> str:
    for bom, bom_codec in BOMS:
        if data.startswith(bom):
            return data.decode(bom_codec, "replace")
    if codec not in ("utf-16-le", "utf-16-be"):
        # UTF-16 without a BOM (Excel's "Unicode text" export) reads as NUL-riddled UTF-8, or, labelled
        # "utf-16", as big-endian CJK: the byte order comes from the bytes, not the label.
        utf16 = utf16_without_bom(data)
        if utf16 is not None:
            return data.decode(utf16, "replace")
    candidates: list[str] = []
    if codec is not None:
        candidates.append(codec)
        candidates.extend(MISLABELED_CHARSETS.get(codec, ()))
    elif b"\x1b$B" in data or b"\x1b$@" in data:
        candidates.append("iso2022_jp")  # 7-bit Japanese sent without a charset
    candidates.append("utf-8")
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    if codec not in (None, "ascii", "utf-8"):
        attempt = data.decode(codec, "replace")
        if attempt.count("\ufffd") <= len(attempt) // 50:
            return attempt
    return data.decode("cp1252", "replace")


def utf16_without_bom(data: bytes) -> str | None:
    """The byte order of UTF-16 text written without a BOM ("utf-16-le" / "utf-16-be"), or None.

    Every ASCII and Latin-1 character (digits, delimiters, spaces, line ends) has a
    zero high byte in UTF-16, so in text one byte of each pair is often NUL and the
    other almost never — whatever the script of the words around them. The bytes
    must then also decode, in that order, to text: no control characters besides
    line ends and tabs, nothing unassigned or private. Binary data fails one test
    or the other.
    """
    sample = data[:8192]
    sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    half = len(sample) // 2
    nul_odd, nul_even = sample[1::2].count(0), sample[0::2].count(0)
    if nul_odd >= max(0.1 * half, 4 * nul_even + 1):
        codec = "utf-16-le"
    elif nul_even >= max(0.1 * half, 4 * nul_odd + 1):
        codec = "utf-16-be"
    else:
        return None
    text = sample.decode(codec, "replace")
    bad = sum(1 for ch in text if _NOT_TEXT.match(ch) or unicodedata.category(ch) in ("Cn", "Co", "Cs"))
    return codec if bad <= max(1, len(text) // 100) else None


def clean_text(text: str) -> str:
    return _NEWLINES.sub("\n", text)


def unquote(text: str) -> str:
    """Blank out reply quote markers at line starts, keeping every offset where it was."""
    if ">" not in text:
        return text
    return _QUOTE.sub(lambda m: m.group().replace(">", " "), text)


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None


def _content_type(part: Message) -> str:
    try:
        ctype = part.get_content_type()
    except Exception:
        return "invalid/invalid"
    ctype = _unsurrogate(ctype).strip().lower()
    return ctype if _TOKEN_TYPE.fullmatch(ctype) else "invalid/invalid"


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return None
    if not name:
        return None
    name = _unsurrogate(str(name))
    if "=?" in name and len(name) < _MAX_HEADER:
        name = _decode_words(name)
    return name.strip() or None


def filename_extension(filename: str | None) -> str | None:
    if not filename or "." not in filename:
        return None
    ext = filename.rsplit(".", 1)[1].strip().lower()
    return ext if _EXT.fullmatch(ext) else None


def _token(value: str) -> str:
    return _REASON_CHARS.sub("?", value)[:40]


# ---------------------------------------------------------------------------
# Headers


def _unsurrogate(value: str) -> str:
    """Turn the parser's escaped 8-bit bytes back into text: UTF-8 if it is, else cp1252."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        pass
    raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def _raw_header(msg: Message, name: str) -> str | None:
    for key, value in msg.raw_items():
        if str(key).lower() == name:
            return _FOLD.sub("", _unsurrogate(str(value)))
    return None


def raw_headers(msg: Message, name: str) -> list[str]:
    return [
        _FOLD.sub("", _unsurrogate(str(value))) for key, value in msg.raw_items() if str(key).lower() == name
    ]


def decode_header_value(value: str) -> str:
    """An unfolded raw header value as text: RFC 2047 words decoded, line breaks normalised."""
    if "=?" in value and len(value) < _MAX_HEADER:
        value = _decode_words(value)
    return clean_text(value).strip()


def _decode_words(value: str) -> str:
    """RFC 2047 encoded words → text; an unknown charset falls back like a body does."""
    try:
        pieces = decode_header(value)
    except Exception:
        return value
    out: list[str] = []
    for chunk, charset in pieces:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        codec = text_codec(charset) or "utf-8"
        try:
            out.append(chunk.decode(codec))
        except (UnicodeDecodeError, LookupError):
            try:
                out.append(chunk.decode("utf-8"))
            except UnicodeDecodeError:
                out.append(chunk.decode("cp1252", "replace"))
    return "".join(out)


def _header_block(block: Message) -> str:
    return "\n".join(f"{_unsurrogate(str(k))}: {_unsurrogate(str(v))}" for k, v in block.raw_items())


def _stray_headers(msg: Message) -> str | None:
    """Header-shaped lines with no real header among them were probably body text ("Name: Jane Doe")."""
    keys = [str(k).lower() for k in msg.keys()]
    if not keys or any(k in _STANDARD_HEADERS for k in keys):
        return None
    return _header_block(msg)


def _envelope_headers(
    msg: Message,
) -> tuple[tuple[str, ...], str | None, str | None, tuple[tuple[str, str], ...]]:
    recipients: list[str] = []
    names: list[tuple[str, str]] = []
    seen: set[str] = set()
    # Address parsing is not linear on hostile input: very long values are cut first.
    values = [v[:_MAX_HEADER] for name in ("to", "cc", "bcc") for v in raw_headers(msg, name)]
    for display, addr in getaddresses(values):
        addr = addr.strip()
        if addr and addr.lower() not in seen:
            seen.add(addr.lower())
            recipients.append(addr)
            display = decode_header_value(display[:200])
            if display:
                names.append((addr.lower(), display))
    senders = [addr.strip() for _, addr in getaddresses([v[:_MAX_HEADER] for v in raw_headers(msg, "from")])]
    senders = [addr for addr in senders if addr]
    message_id = (_raw_header(msg, "message-id") or "").strip()[:998] or None
    return tuple(recipients), message_id, (senders[0] if senders else None), tuple(names)
