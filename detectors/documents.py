"""Attachment documents → text: PDF, Office and OpenDocument files, RTF, archives, and images via OCR.

This module owns reading attachment formats the MIME walker cannot read itself:
- PDF text layer (pypdf); pages without one are rendered and OCR'd (`detectors.ocr`).
- DOCX, PPTX, ODT/ODS/ODP read from their zip + XML with the standard library,
  the XML parsed by defusedxml (no DTDs, no entity expansion: XML bombs fail closed);
  XLSX through openpyxl in read-only mode (which uses defusedxml when installed).
- RTF with its control words stripped (a linear scanner, no dependency).
- PostScript (and EPS) through Ghostscript's `txtwrite` device, one text per page;
  pages without text (a scan wrapped in PostScript) are converted to PDF with
  Ghostscript and OCR'd like image-only PDF pages. `-dSAFER`, a time bound per call.
- ZIP, TAR, GZIP, BZIP2 and XZ archives, nested, each member read through the
  same dispatcher, under `DocumentLimits`: depth, member count, total and per-member
  uncompressed bytes, and compression ratio. A zip bomb stops at the first member
  past a limit.
- Text members of archives (CSV in any delimiter, UTF-8/UTF-16/cp1252, JSON, XML,
  HTML, mail messages).

`extract_document` is the one `Extractor` for all of them: it decides the format
from the file's magic bytes first (senders mislabel attachments), then the
declared content type, then the extension. `register_all` puts it into an
`ExtractorRegistry`, wrapped by `detectors.bounded` so that each attachment is
read in a child process under a time and memory limit.

A password-protected file, a corrupt file, a bomb or a member of unknown binary
type raises `Uninspectable` with a short reason that names a format and a cause,
never a filename or content; pieces already read are yielded first, so what
could be read is still scanned. It must not log or import from `proxy/`. (pypdf and
openpyxl warn about malformed files through `logging`; in the relay they run only in
`detectors.bounded` workers, whose stderr goes to /dev/null and which have no log
configuration, so nothing from a message reaches the relay's logs.)
"""

from __future__ import annotations

import bz2
import codecs
import io
import lzma
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from detectors import ocr
from detectors.extract import ExtractedText, ExtractorRegistry, Uninspectable, utf16_without_bom

_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """Bounds on the work one attachment may cause; past any of them it is uninspectable."""

    max_depth: int = 4  # archives inside archives (a DOCX counts as one level: it is a zip)
    max_members: int = 2_000  # archive members looked at, all levels together
    max_total_bytes: int = 256 * _MIB  # uncompressed bytes read from all members, all levels together
    max_member_bytes: int = 64 * _MIB  # uncompressed bytes of one member
    # Ordinary files compress 2-20x (CSV up to ~50x); bombs 1000x and more. Only checked past the floor.
    max_ratio: int = 200
    ratio_floor_bytes: int = 2 * _MIB
    max_pages: int = 2_000  # PDF pages read for their text layer
    max_chars: int = 8_000_000  # text yielded per attachment; more -> uninspectable (the rest unread)
    ocr: ocr.OcrSettings = field(default_factory=ocr.OcrSettings)


DEFAULT_LIMITS = DocumentLimits()

# ---------------------------------------------------------------------------
# Format tables

_OOXML_WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml"
_OOXML_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_OOXML_SLIDES = "application/vnd.openxmlformats-officedocument.presentationml"
_ODF = "application/vnd.oasis.opendocument"

# Content types and extensions `register_all` claims, by format. Deliberately absent:
# application/vnd.ms-excel and application/octet-stream (the MIME walker reads CSVs sent with them).
FORMATS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pdf": (("application/pdf", "application/x-pdf", "application/acrobat"), ("pdf",)),
    "docx": (
        (f"{_OOXML_WORD}.document", f"{_OOXML_WORD}.template", "application/vnd.ms-word.document.macroenabled.12"),
        ("docx", "docm", "dotx", "dotm"),
    ),
    "xlsx": (
        (f"{_OOXML_SHEET}.sheet", f"{_OOXML_SHEET}.template", "application/vnd.ms-excel.sheet.macroenabled.12"),
        ("xlsx", "xlsm", "xltx", "xltm"),
    ),
    "pptx": (
        (f"{_OOXML_SLIDES}.presentation", f"{_OOXML_SLIDES}.slideshow"),
        ("pptx", "ppsx", "pptm"),
    ),
    "odf": (
        (f"{_ODF}.text", f"{_ODF}.spreadsheet", f"{_ODF}.presentation"),
        ("odt", "ods", "odp"),
    ),
    "rtf": (("application/rtf", "text/rtf", "application/x-rtf"), ("rtf",)),
    "postscript": (
        ("application/postscript", "application/x-postscript", "application/eps", "application/x-eps",
         "image/eps", "image/x-eps"),
        ("ps", "eps", "epsi"),
    ),
    "zip": (("application/zip", "application/x-zip-compressed", "application/x-zip", "multipart/x-zip"), ("zip",)),
    "tar": (("application/x-tar", "application/x-gtar", "application/x-ustar"), ("tar",)),
    "gzip": (
        ("application/gzip", "application/x-gzip", "application/x-compressed-tar", "application/x-gtar-compressed"),
        ("gz", "tgz"),
    ),
    "bz2": (("application/x-bzip2", "application/x-bzip", "application/x-bzip2-compressed-tar"), ("bz2", "tbz", "tbz2")),
    "xz": (("application/x-xz", "application/x-xz-compressed-tar"), ("xz", "txz")),
    "image": (
        (
            "image/png", "image/jpeg", "image/pjpeg", "image/jpg", "image/gif", "image/tiff", "image/x-tiff",
            "image/bmp", "image/x-ms-bmp", "image/pbm", "image/pgm", "image/ppm", "image/x-portable-bitmap",
            "image/x-portable-graymap", "image/x-portable-pixmap", "image/x-portable-anymap",
        ),
        ("png", "jpg", "jpeg", "jpe", "gif", "tif", "tiff", "bmp", "pbm", "pgm", "ppm", "pnm"),
    ),
}  # fmt: skip

_TEXT_EXTENSIONS = frozenset(
    {"csv", "tsv", "tab", "txt", "text", "log", "json", "xml", "prn", "dat", "md", "ini"}
)
_TABULAR_EXTENSIONS = frozenset({"csv", "tsv", "tab", "prn"})
_HTML_EXTENSIONS = frozenset({"htm", "html", "xhtml"})
_MESSAGE_EXTENSIONS = frozenset({"eml", "msg822"})
# Members that carry no content of their own.
_SKIP_MEMBERS = re.compile(r"(?:^|/)(?:__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$)", re.IGNORECASE)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EPS_BINARY_MAGIC = b"\xc5\xd0\xd3\xc6"
# Ghostscript gets no inherited environment beyond where to find itself.
_GS_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
_BY_TYPE = {t: kind for kind, (types, _) in FORMATS.items() for t in types}
_BY_EXT = {e: kind for kind, (_, exts) in FORMATS.items() for e in exts}
_UNREADABLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")
_ARCHIVE_KINDS = frozenset({"zip", "tar", "gzip", "bz2", "xz"})
# Reasons that end the whole attachment's walk, not just one member's.
_WHOLE_ATTACHMENT_LIMITS = ("zip-bomb", "too-many-members", "too-much-text")


def document_kind(payload: bytes, content_type: str = "", filename: str | None = None) -> str | None:
    """The format of a file: magic bytes first, then the content type, then the extension; None if unknown.

    Kinds: pdf postscript docx xlsx pptx odf rtf zip tar gzip bz2 xz image ole text html message.
    """
    head = payload[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith((b"%!", b"\x04%!", _EPS_BINARY_MAGIC)):
        return "postscript"  # "%!PS-Adobe-3.0", a ^D-prefixed print job, or a DOS EPS binary header
    zipped = head.startswith((b"PK\x03\x04", b"PK\x05\x06"))
    if zipped:
        inside = _zip_kind(payload)
        if inside is not None:
            return inside
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if len(payload) > 262 and payload[257:262] == b"ustar":
        return "tar"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*", b"BM")):
        return "image"
    if re.match(rb"P[1-6][ \t\r\n]+\d{1,6}[ \t\r\n]+\d{1,6}\s", head):
        return "image"  # PBM/PGM/PPM: what old scanners and fax tools write
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(_OLE_MAGIC):
        # Legacy Office, and every password-protected OOXML file (an encrypted package in an OLE container).
        return "ole"
    declared = _BY_TYPE.get(content_type.lower())
    if declared is not None:
        return declared
    ext = _extension(filename)
    if ext in _BY_EXT:
        return _BY_EXT[ext]
    if ext in _HTML_EXTENSIONS:
        return "html"
    if ext in _MESSAGE_EXTENSIONS:
        return "message"
    if zipped:
        return "zip"  # unreadable zip of no declared kind: the zip reader reports it as corrupt
    if ext in _TEXT_EXTENSIONS or content_type.startswith("text/"):
        return "text"
    return None


def _zip_kind(payload: bytes) -> str | None:
    """OOXML and ODF are zips: tell them apart by the names inside (central directory only, cheap).

    None when the zip cannot be opened: the declared type or extension decides what it was meant to be.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as zf:
            names = set(zf.namelist()[:5000])
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "mimetype" in names and "content.xml" in names:
        return "odf"
    return "zip"


# ---------------------------------------------------------------------------
# Entry point


def extract_document(payload: bytes, content_type: str, filename: str | None) -> Iterator[ExtractedText]:
    """Extractor for every format of this module; raises `Uninspectable` after yielding what it could read."""
    yield from read_document(payload, content_type, filename, DEFAULT_LIMITS)


def read_document(
    payload: bytes, content_type: str, filename: str | None, limits: DocumentLimits
) -> Iterator[ExtractedText]:
    """`extract_document` with explicit limits (tests and benchmarks use small ones)."""
    reader = _Reader(limits)
    yield from reader.read(payload, content_type, filename, depth=0, name=None)
    if reader.problems:
        first = reader.problems[0]
        more = f" +{len(reader.problems) - 1}" if len(reader.problems) > 1 else ""
        raise Uninspectable(f"{first}{more}")


class _Reader:
    """One attachment's walk: shared budgets across nesting levels, problems collected for the end."""

    def __init__(self, limits: DocumentLimits) -> None:
        self.limits = limits
        self.members = 0
        self.bytes_read = 0
        self.chars = 0
        self.problems: list[str] = []

    # -- dispatch

    def read(
        self, payload: bytes, content_type: str, filename: str | None, depth: int, name: str | None
    ) -> Iterator[ExtractedText]:
        kind = document_kind(payload, content_type, filename)
        if kind is None:
            raise Uninspectable(f"no-extractor {_ext_label(filename)}")
        pieces: Iterable[ExtractedText]
        if kind == "pdf":
            pieces = self.pdf(payload)
        elif kind in ("docx", "pptx", "odf", "xlsx"):
            pieces = self.office(payload, kind, depth)
        elif kind == "rtf":
            pieces = [ExtractedText(text=rtf_to_text(payload))]
        elif kind == "postscript":
            pieces = self.postscript(payload)
        elif kind == "zip":
            pieces = self.zip(payload, depth, name)
        elif kind == "tar":
            pieces = self.tar(payload, depth, name)
        elif kind in ("gzip", "bz2", "xz"):
            pieces = self.compressed(payload, kind, filename, depth, name)
        elif kind == "image":
            pieces = ocr.ocr_pieces(ocr.ocr_image(payload, self.limits.ocr), "image")
        elif kind == "ole":
            raise Uninspectable("encrypted-or-legacy-office ole")
        elif kind == "html":
            from detectors.html import html_to_text

            converted = html_to_text(decode_text(payload, "html"))
            pieces = [ExtractedText(text=converted.text, content_type="text/html", tabular=converted.tabular)]
        elif kind == "message":
            pieces = self.message(payload)
        else:
            ext = _extension(filename)
            pieces = [
                ExtractedText(text=decode_text(payload, ext or "text"), tabular=ext in _TABULAR_EXTENSIONS)
            ]
        for piece in pieces:
            if not piece.text.strip():
                continue
            self.chars += len(piece.text)
            if self.chars > self.limits.max_chars:
                raise Uninspectable(f"too-much-text {kind}")
            if name is not None and kind not in _ARCHIVE_KINDS:  # archive members are named already
                inner = piece.name
                piece = ExtractedText(
                    text=piece.text,
                    name=f"{name}: {inner}" if inner else name,
                    content_type=piece.content_type or _member_type(kind, filename),
                    tabular=piece.tabular,
                )
            yield piece

    def nested(self, data: bytes, member: str, depth: int, parent: str | None) -> Iterator[ExtractedText]:
        """One archive member, read by the same dispatcher; its problems are noted, not raised."""
        label = f"{parent}/{member}" if parent else member
        try:
            yield from self.read(data, "", member, depth, name=label)
        except Uninspectable as exc:
            if exc.reason.startswith(_WHOLE_ATTACHMENT_LIMITS):
                raise  # a limit of the whole attachment: stop now
            self.problems.append(f"{exc.reason} in-archive")
        except (MemoryError, RecursionError):
            raise
        except Exception:
            self.problems.append(f"extractor-failed {_ext_label(member)} in-archive")

    # -- PDF

    def pdf(self, payload: bytes) -> Iterator[ExtractedText]:
        from pypdf import PdfReader
        from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

        try:
            reader = PdfReader(io.BytesIO(payload), strict=False)
            if reader.is_encrypted:
                try:
                    # Owner-password-only PDFs (print/copy restrictions) open with the empty user password.
                    opened = reader.decrypt("")
                except (DependencyError, NotImplementedError, FileNotDecryptedError, PdfReadError) as exc:
                    raise Uninspectable("encrypted pdf") from exc
                if not opened:
                    raise Uninspectable("encrypted pdf")
            count = len(reader.pages)
        except Uninspectable:
            raise
        except FileNotDecryptedError as exc:
            raise Uninspectable("encrypted pdf") from exc
        except (MemoryError, RecursionError):
            raise
        except Exception as exc:
            raise Uninspectable("corrupt pdf") from exc
        if count == 0:
            raise Uninspectable("corrupt pdf")
        texts: list[str] = []
        blank: list[int] = []
        for index in range(min(count, self.limits.max_pages)):
            try:
                text = reader.pages[index].extract_text() or ""
            except (MemoryError, RecursionError):
                raise
            except Exception:
                self.problems.append("unreadable-page pdf")
                continue
            if len(text.strip()) < 16:
                blank.append(index + 1)  # no text layer here: a scan, or text drawn as shapes
            texts.append(text)
        if count > self.limits.max_pages:
            self.problems.append("too-many-pages pdf")
        layer = "\n\f\n".join(t for t in texts if t.strip())
        if layer.strip():
            yield ExtractedText(text=layer)
        if blank:
            limit = self.limits.ocr.max_pages
            if len(blank) > limit:
                self.problems.append("too-many-image-pages pdf")
            page_texts = ocr.ocr_pdf_pages(payload, blank[:limit], self.limits.ocr)
            for page, text in zip(blank, page_texts, strict=False):
                yield from ocr.ocr_pieces([text], f"page {page}")

    # -- PostScript

    def postscript(self, payload: bytes) -> Iterator[ExtractedText]:
        """Text per page from Ghostscript's txtwrite; pages without text are converted to PDF and OCR'd.

        PostScript is a program: Ghostscript runs it with -dSAFER (no file access
        beyond its input and output) under the OCR call timeout, and at most
        `max_pages` pages are interpreted. A program that fails part-way yields
        the pages it drew and is then uninspectable ("corrupt postscript").
        """
        gs = shutil.which("gs")
        if gs is None:
            raise Uninspectable("no-extractor postscript (gs missing)")
        limit = self.limits.max_pages
        with tempfile.TemporaryDirectory(prefix="pg-ps-") as tmp:
            source = os.path.join(tmp, "in.ps")
            with open(source, "wb") as fh:
                fh.write(payload)
            done = _ghostscript(gs, "txtwrite", os.path.join(tmp, "p%d.txt"), source, limit + 1, self.limits.ocr)
            texts: list[str] = []
            for number in range(1, limit + 2):
                page_file = os.path.join(tmp, f"p{number}.txt")
                if not os.path.exists(page_file):
                    break
                with open(page_file, "rb") as fh:
                    texts.append(fh.read().decode("utf-8", "replace"))
            if done != 0:
                self.problems.append("corrupt postscript")
            elif len(texts) > limit:
                self.problems.append("too-many-pages postscript")
            texts = texts[:limit]
            if not texts and done == 0:
                raise Uninspectable("corrupt postscript")  # ran, but drew no page at all
            layer = "\n\f\n".join(t.strip("\n") for t in texts if t.strip())
            if layer.strip():
                yield ExtractedText(text=layer)
            blank = [number for number, text in enumerate(texts, 1) if len(text.strip()) < 16]
            if not blank:
                return
            ocr_limit = self.limits.ocr.max_pages
            if len(blank) > ocr_limit:
                self.problems.append("too-many-image-pages postscript")
            pdf = os.path.join(tmp, "pages.pdf")
            _ghostscript(gs, "pdfwrite", pdf, source, max(blank[:ocr_limit]), self.limits.ocr)
            if not os.path.exists(pdf):
                raise Uninspectable("unrenderable postscript")
            with open(pdf, "rb") as fh:
                rendered = fh.read()
        page_texts = ocr.ocr_pdf_pages(rendered, blank[:ocr_limit], self.limits.ocr)
        for page, text in zip(blank, page_texts, strict=False):
            yield from ocr.ocr_pieces([text], f"page {page}")

    # -- Office Open XML and OpenDocument

    def office(self, payload: bytes, kind: str, depth: int) -> Iterator[ExtractedText]:
        if depth >= self.limits.max_depth:
            raise Uninspectable(f"too-deep {kind}")
        zf = self.open_zip(payload, kind)
        with zf:
            if kind == "xlsx":
                self.check_members(zf, kind)
                yield from self.xlsx(payload)
            elif kind == "docx":
                yield from self.docx(zf)
            elif kind == "pptx":
                yield from self.pptx(zf)
            else:
                yield from self.odf(zf)

    def docx(self, zf: zipfile.ZipFile) -> Iterator[ExtractedText]:
        names = zf.namelist()
        parts = ["word/document.xml"] + sorted(
            n
            for n in names
            if re.fullmatch(r"word/(?:header\d{0,4}|footer\d{0,4}|footnotes|endnotes|comments)\.xml", n)
        )
        chunks = [_xml_text(self.xml(zf, n, "docx"), _WORD) for n in parts if n in names]
        yield ExtractedText(text="\n".join(c for c in chunks if c.strip()))

    def pptx(self, zf: zipfile.ZipFile) -> Iterator[ExtractedText]:
        def number(n: str) -> int:
            digits = re.search(r"(\d{1,6})\.xml$", n)
            return int(digits.group(1)) if digits else 0

        names = zf.namelist()
        slides = sorted((n for n in names if re.fullmatch(r"ppt/slides/slide\d{1,6}\.xml", n)), key=number)
        notes = sorted(
            (n for n in names if re.fullmatch(r"ppt/notesSlides/notesSlide\d{1,6}\.xml", n)), key=number
        )
        chunks = [_xml_text(self.xml(zf, n, "pptx"), _DRAWING) for n in slides + notes]
        yield ExtractedText(text="\n\n".join(c for c in chunks if c.strip()))

    def odf(self, zf: zipfile.ZipFile) -> Iterator[ExtractedText]:
        names = set(zf.namelist())
        if "META-INF/manifest.xml" in names:
            manifest = self.member(zf, zf.getinfo("META-INF/manifest.xml"), "odf")
            if b"encryption-data" in manifest:
                raise Uninspectable("encrypted odf")
        mimetype = self.member(zf, zf.getinfo("mimetype"), "odf")[:100] if "mimetype" in names else b""
        text = _xml_text(self.xml(zf, "content.xml", "odf"), _OPENDOCUMENT)
        yield ExtractedText(text=text, tabular=b"spreadsheet" in mimetype)

    def xlsx(self, payload: bytes) -> Iterator[ExtractedText]:
        try:
            from openpyxl import load_workbook

            book = load_workbook(io.BytesIO(payload), read_only=True, data_only=True)
        except (MemoryError, RecursionError):
            raise
        except Exception as exc:
            raise Uninspectable("corrupt xlsx") from exc
        try:
            sheets = list(book.worksheets)
            for number, sheet in enumerate(sheets, 1):
                lines: list[str] = []
                size = 0
                for row in sheet.iter_rows(values_only=True):
                    cells = ["" if v is None else str(v) for v in row]
                    while cells and not cells[-1]:
                        cells.pop()
                    line = "\t".join(c.replace("\t", " ").replace("\n", " ") for c in cells)
                    lines.append(line)
                    size += len(line) + 1
                    if self.chars + size > self.limits.max_chars:
                        raise Uninspectable("too-much-text xlsx")
                text = "\n".join(lines).strip("\n")
                name = f"sheet {number}" if len(sheets) > 1 else None
                yield ExtractedText(text=text, name=name, tabular=True)
        except (Uninspectable, MemoryError, RecursionError):
            raise
        except Exception as exc:
            raise Uninspectable("corrupt xlsx") from exc
        finally:
            book.close()

    def xml(self, zf: zipfile.ZipFile, member: str, kind: str) -> Any:
        from defusedxml import DefusedXmlException
        from defusedxml.ElementTree import ParseError, fromstring

        try:
            info = zf.getinfo(member)
        except KeyError as exc:
            raise Uninspectable(f"corrupt {kind}") from exc
        data = self.member(zf, info, kind)
        try:
            return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        except DefusedXmlException as exc:
            raise Uninspectable(f"unsafe-xml {kind}") from exc
        except ParseError as exc:
            raise Uninspectable(f"corrupt {kind}") from exc

    # -- Archives

    def open_zip(self, payload: bytes, kind: str) -> zipfile.ZipFile:
        try:
            zf = zipfile.ZipFile(io.BytesIO(payload))
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise Uninspectable(f"corrupt {kind}") from exc
        if len(zf.infolist()) > self.limits.max_members:
            zf.close()
            raise Uninspectable(f"too-many-members {kind}")
        return zf

    def check_members(self, zf: zipfile.ZipFile, kind: str) -> None:
        """Declared sizes and ratios of every member, before a library that reads them all gets the zip."""
        total = 0
        for info in zf.infolist():
            self.check_member(info, kind)
            total += info.file_size
            if self.bytes_read + total > self.limits.max_total_bytes:
                raise Uninspectable(f"zip-bomb total-size {kind}")

    def check_member(self, info: zipfile.ZipInfo, kind: str) -> None:
        if info.flag_bits & 0x1:
            raise Uninspectable(f"encrypted {kind}")
        if info.file_size > self.limits.max_member_bytes:
            raise Uninspectable(f"too-large-member {kind}")
        if info.file_size > self.limits.ratio_floor_bytes and info.file_size > self.limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise Uninspectable(f"zip-bomb ratio {kind}")

    def member(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, kind: str) -> bytes:
        """Read one member, counting its real (not declared) size against the budgets."""
        self.check_member(info, kind)
        budget = min(self.limits.max_member_bytes, self.limits.max_total_bytes - self.bytes_read)
        chunks: list[bytes] = []
        size = 0
        try:
            with zf.open(info) as fh:
                while True:
                    chunk = fh.read(1 * _MIB)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > budget:
                        raise Uninspectable(f"zip-bomb total-size {kind}")
                    chunks.append(chunk)
        except RuntimeError as exc:  # "File is encrypted, password required"
            raise Uninspectable(f"encrypted {kind}") from exc
        except NotImplementedError as exc:  # an unsupported compression method
            raise Uninspectable(f"unsupported-compression {kind}") from exc
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
            raise Uninspectable(f"corrupt {kind}") from exc
        self.bytes_read += size
        return b"".join(chunks)

    def zip(self, payload: bytes, depth: int, name: str | None) -> Iterator[ExtractedText]:
        if depth >= self.limits.max_depth:
            raise Uninspectable("too-deep zip")
        zf = self.open_zip(payload, "zip")
        with zf:
            for info in zf.infolist():
                if info.is_dir() or _SKIP_MEMBERS.search(info.filename):
                    continue
                self.count_member("zip")
                if info.flag_bits & 0x1:
                    self.problems.append("encrypted zip")
                    continue
                data = self.member(zf, info, "zip")
                yield from self.nested(data, _member_name(info.filename), depth + 1, name)

    def tar(self, payload: bytes, depth: int, name: str | None) -> Iterator[ExtractedText]:
        if depth >= self.limits.max_depth:
            raise Uninspectable("too-deep tar")
        try:
            with tarfile.open(fileobj=io.BytesIO(payload), mode="r:") as tf:
                for entry in tf:
                    if not entry.isfile() or _SKIP_MEMBERS.search(entry.name):
                        continue
                    self.count_member("tar")
                    if entry.size > self.limits.max_member_bytes:
                        raise Uninspectable("too-large-member tar")
                    if self.bytes_read + entry.size > self.limits.max_total_bytes:
                        raise Uninspectable("zip-bomb total-size tar")
                    handle = tf.extractfile(entry)
                    if handle is None:
                        continue
                    data = handle.read(entry.size)
                    self.bytes_read += len(data)
                    yield from self.nested(data, _member_name(entry.name), depth + 1, name)
        except tarfile.TarError as exc:
            raise Uninspectable("corrupt tar") from exc

    def compressed(
        self, payload: bytes, kind: str, filename: str | None, depth: int, name: str | None
    ) -> Iterator[ExtractedText]:
        if depth >= self.limits.max_depth:
            raise Uninspectable(f"too-deep {kind}")
        budget = min(self.limits.max_member_bytes, self.limits.max_total_bytes - self.bytes_read)
        data = _decompress(payload, kind, budget)
        self.bytes_read += len(data)
        if len(data) > self.limits.ratio_floor_bytes and len(data) > self.limits.max_ratio * max(
            len(payload), 1
        ):
            raise Uninspectable(f"zip-bomb ratio {kind}")
        inner = _inner_name(filename, kind)
        yield from self.nested(data, inner, depth + 1, name)

    def count_member(self, kind: str) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise Uninspectable(f"too-many-members {kind}")

    # -- Messages inside archives

    def message(self, payload: bytes) -> Iterator[ExtractedText]:
        from detectors.extract import extract

        found = extract(payload, registry=raw_registry())
        for part in found.parts:
            yield ExtractedText(
                text=part.text, name=part.filename, content_type=part.content_type, tabular=part.tabular
            )
        self.problems.extend(f.reason for f in found.uninspectable)


# ---------------------------------------------------------------------------
# XML → text


@dataclass(frozen=True, slots=True)
class _XmlScheme:
    """Which element local names carry text and which end a paragraph, a cell or a row."""

    text: frozenset[str] | None  # None: mixed content, every text and tail counts (ODF)
    paragraph: frozenset[str]
    cell: frozenset[str]
    row: frozenset[str]
    tab: frozenset[str]
    newline: frozenset[str]
    skip: frozenset[str]  # subtrees with no reader-visible text (properties, style definitions)
    space: str = ""  # ODF's <text:s text:c="3"/>: that many spaces


_WORD = _XmlScheme(
    text=frozenset({"t", "delText"}),  # deleted tracked changes are still in the file the recipient gets
    paragraph=frozenset({"p"}),
    cell=frozenset({"tc"}),
    row=frozenset({"tr"}),
    tab=frozenset({"tab"}),
    newline=frozenset({"br", "cr"}),
    skip=frozenset({"pPr", "rPr", "sectPr", "tblPr", "tcPr", "trPr", "tblGrid", "instrText"}),
)
_DRAWING = _XmlScheme(
    text=frozenset({"t"}),
    paragraph=frozenset({"p"}),
    cell=frozenset({"tc"}),
    row=frozenset({"tr"}),
    tab=frozenset({"tab"}),
    newline=frozenset({"br"}),
    skip=frozenset({"rPr", "pPr", "spPr", "bodyPr", "lstStyle", "endParaRPr"}),
)
_OPENDOCUMENT = _XmlScheme(
    text=None,
    paragraph=frozenset({"p", "h"}),
    cell=frozenset({"table-cell", "covered-table-cell"}),
    row=frozenset({"table-row"}),
    tab=frozenset({"tab"}),
    newline=frozenset({"line-break"}),
    skip=frozenset({"font-face-decls", "automatic-styles", "styles", "scripts", "tracked-changes-info"}),
    space="s",
)


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _xml_text(root: Any, scheme: _XmlScheme) -> str:
    """Flatten an XML tree into text; iterative, so a deeply nested file cannot exhaust the stack."""
    out: list[str] = []
    stack: list[tuple[Any, bool]] = [(root, False)]
    mixed = scheme.text is None
    while stack:
        element, closing = stack.pop()
        local = _local(element.tag)
        if closing:
            if local in scheme.cell or local in scheme.row:
                # A cell's last paragraph ends the cell, not a line; a row's last cell ends the row.
                while out and out[-1] in ("\n", "\t"):
                    out.pop()
                out.append("\t" if local in scheme.cell else "\n")
            elif local in scheme.paragraph:
                out.append("\n")
            if mixed and element.tail:
                out.append(element.tail)
            continue
        if local in scheme.skip:
            if mixed and element.tail:
                out.append(element.tail)
            continue
        if local in scheme.tab:
            out.append("\t")
        elif local in scheme.newline:
            out.append("\n")
        elif scheme.space and local == scheme.space:
            count = next((v for k, v in element.attrib.items() if _local(k) == "c"), "1")
            out.append(" " * min(int(count) if count.isdigit() else 1, 100))
        if element.text and (mixed or local in scheme.text):  # type: ignore[operator]
            out.append(element.text)
        stack.append((element, True))
        stack.extend((child, False) for child in reversed(element))
    return "".join(out)


# ---------------------------------------------------------------------------
# RTF

_RTF_TOKEN = re.compile(
    r"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?"  # control word with optional numeric parameter
    r"|\\'([0-9a-fA-F]{2})"  # hex-escaped byte in the document code page
    r"|\\(.)"  # control symbol: \\ \{ \} \~ \- \_ \*
    r"|([{}])"
    r"|([^\\{}\r\n]{1,4096})"  # plain text
    r"|[\r\n]+",
    re.DOTALL,
)
# Destinations whose text no reader sees (fonts, colours, styles, pictures, embedded objects' data).
_RTF_SKIP = frozenset(
    {
        "fonttbl", "colortbl", "stylesheet", "listtable", "listoverridetable", "revtbl", "rsidtbl",
        "generator", "pict", "object", "objdata", "themedata", "colorschememapping", "datastore",
        "latentstyles", "xmlnstbl", "mmathPr", "filetbl", "bkmkstart", "bkmkend", "fldinst", "pgdsctbl",
    }
)  # fmt: skip
_RTF_BREAKS = {"par": "\n", "line": "\n", "sect": "\n", "page": "\n", "row": "\n", "cell": "\t", "tab": "\t"}
_RTF_SYMBOLS = {"~": "\u00a0", "-": "", "_": "-", "\\": "\\", "{": "{", "}": "}"}


def rtf_to_text(payload: bytes) -> str:
    """The visible text of an RTF document: control words stripped, escapes decoded; linear time."""
    source = payload.decode("latin-1")
    if not source.lstrip().startswith("{\\rtf"):
        raise Uninspectable("corrupt rtf")
    codepage = "cp1252"
    out: list[str] = []
    pending: list[int] = []  # \'hh bytes waiting to be decoded together (multi-byte code pages)
    stack: list[tuple[bool, int]] = []
    skipping = False
    uc = 1  # characters to skip after \uN
    to_skip = 0
    star = False

    def flush() -> None:
        if pending:
            out.append(bytes(pending).decode(codepage, "replace"))
            pending.clear()

    for m in _RTF_TOKEN.finditer(source):
        word, param, hexbyte, symbol, brace, text = m.groups()
        if brace == "{":
            flush()
            stack.append((skipping, uc))
            if len(stack) > 1000:
                raise Uninspectable("too-deep rtf")
            star = False
            continue
        if brace == "}":
            flush()
            skipping, uc = stack.pop() if stack else (False, 1)
            continue
        if to_skip and (hexbyte or text or symbol):
            # The ANSI fallback after \uN: skip uc characters (a \'hh counts as one).
            if text and len(text) > to_skip:
                text = text[to_skip:]
                to_skip = 0
            else:
                to_skip -= 1 if (hexbyte or symbol) else len(text or "")
                to_skip = max(to_skip, 0)
                continue
        if word is not None:
            flush()
            if word == "ansicpg" and param:
                try:
                    codepage = codecs.lookup(f"cp{param}").name
                except LookupError:
                    pass
            if star or word in _RTF_SKIP:
                skipping = True
                star = False
                continue
            if skipping:
                continue
            if word == "uc" and param:
                uc = max(0, int(param))
            elif word == "u" and param:
                value = int(param)
                out.append(chr(value + 65536 if value < 0 else value) if -65536 < value < 1114112 else "?")
                to_skip = uc
            elif word in _RTF_BREAKS:
                out.append(_RTF_BREAKS[word])
            continue
        if symbol is not None:
            flush()
            if symbol == "*":
                star = True
            elif not skipping:
                out.append(_RTF_SYMBOLS.get(symbol, ""))
            continue
        if skipping:
            continue
        if hexbyte is not None:
            pending.append(int(hexbyte, 16))
            continue
        if text:
            flush()
            out.append(text)
    flush()
    return "".join(out)


# ---------------------------------------------------------------------------
# Text and compressed streams


def decode_text(data: bytes, kind: str = "text") -> str:
    """Decode a text file of unknown encoding: BOM, BOM-less UTF-16, UTF-8, then cp1252; binary is uninspectable."""
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            text = data.decode(codec, "replace")
            break
    else:
        utf16 = utf16_without_bom(data)
        if utf16 is not None:
            text = data.decode(utf16, "replace")
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("cp1252", "replace")
    if text and len(_UNREADABLE.findall(text[:100_000])) > min(len(text), 100_000) * 0.10:
        raise Uninspectable(f"binary-content {kind}")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _ghostscript(gs: str, device: str, target: str, source: str, last_page: int, settings: ocr.OcrSettings) -> int:
    """Run Ghostscript once on `source` with `device`; its exit status. A timeout is uninspectable."""
    command = [
        gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", f"-sDEVICE={device}", f"-dLastPage={last_page}",
        f"-sOutputFile={target}", source,
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=settings.call_timeout_s, env=_GS_ENV, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise Uninspectable("timeout postscript") from exc
    return done.returncode


def _decompress(payload: bytes, kind: str, budget: int) -> bytes:
    """Decompress at most `budget` bytes; more is a bomb. Concatenated gzip members are all read."""
    out: list[bytes] = []
    size = 0
    data = payload
    try:
        while data:
            if kind == "gzip":
                engine: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
            elif kind == "bz2":
                engine = bz2.BZ2Decompressor()
            else:
                engine = lzma.LZMADecompressor()
            chunk = engine.decompress(data, budget - size + 1)
            size += len(chunk)
            out.append(chunk)
            if size > budget:
                raise Uninspectable(f"zip-bomb total-size {kind}")
            unconsumed = engine.unconsumed_tail if kind == "gzip" else b""
            if unconsumed or (kind != "gzip" and not engine.eof and not engine.needs_input):
                raise Uninspectable(f"zip-bomb total-size {kind}")
            data = engine.unused_data if getattr(engine, "eof", False) else b""
            data = data.lstrip(b"\x00")  # padding after the last gzip member
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError) as exc:
        raise Uninspectable(f"corrupt {kind}") from exc
    return b"".join(out)


def _inner_name(filename: str | None, kind: str) -> str:
    base = (filename or "").rsplit("/", 1)[-1]
    lower = base.lower()
    for suffix, replacement in ((".tgz", ".tar"), (".tbz2", ".tar"), (".tbz", ".tar"), (".txz", ".tar")):
        if lower.endswith(suffix):
            return base[: -len(suffix)] + replacement
    for suffix in (".gz", ".bz2", ".xz"):
        if lower.endswith(suffix):
            return base[: -len(suffix)] or "data"
    return base or "data"


def _member_name(name: str) -> str:
    return name.replace("\\", "/").lstrip("/")[-200:]


def _member_type(kind: str, filename: str | None) -> str:
    if kind == "text":
        ext = _extension(filename)
        return {"csv": "text/csv", "tsv": "text/tab-separated-values", "json": "application/json"}.get(
            ext or "", "text/plain"
        )
    for ctype, k in _BY_TYPE.items():
        if k == kind:
            return ctype
    return "application/octet-stream"


def _extension(filename: str | None) -> str | None:
    if not filename or "." not in filename:
        return None
    ext = filename.rsplit(".", 1)[1].strip().lower()
    return ext if re.fullmatch(r"[a-z0-9]{1,10}", ext) else None


def _ext_label(filename: str | None) -> str:
    ext = _extension(filename)
    return f".{ext}" if ext else "unknown-binary"


# ---------------------------------------------------------------------------
# Registration


def raw_registry() -> ExtractorRegistry:
    """A registry of the unbounded extractor, for nested reads inside a child process."""
    registry = ExtractorRegistry()
    for types, exts in FORMATS.values():
        registry.register(types, exts, extract_document)
    return registry


# Formats that get the longer time bound: those whose reading can include OCR (PostScript: Ghostscript
# runs a program, and image-only pages are OCR'd), and XLSX
# (openpyxl reads ~25,000 cells/s: a 50,000-row export needs ~12 s).
_SLOW_KINDS = frozenset({"pdf", "postscript", "image", "zip", "tar", "gzip", "bz2", "xz", "xlsx"})


def register_all(registry: ExtractorRegistry, runner: Any = None) -> None:
    """Register every format of this module into `registry`, each read in a bounded child process.

    `runner` is a `detectors.bounded.BoundedRunner`; None uses the process-wide shared one
    (started lazily on the first attachment, or by its `warm()` at service start).
    """
    from detectors import bounded

    shared = runner if runner is not None else bounded.shared_runner()
    for kind, (types, exts) in FORMATS.items():
        registry.register(types, exts, shared.bounded(extract_document, label=kind, ocr=kind in _SLOW_KINDS))
