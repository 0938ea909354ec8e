"""Tests for detectors.documents and detectors.bounded: real PDF, Office, ODF, RTF, CSV and archive files
in, text pieces or an uninspectable reason out, within a time bound."""

from __future__ import annotations

import gzip
import io
import os
import time
import zipfile
from collections.abc import Callable, Iterator

import docfactory as f
import pytest

from detectors.barcodes import BarcodeDetector
from detectors.bounded import BoundedRunner, Bounds
from detectors.documents import (
    DocumentLimits,
    decode_text,
    document_kind,
    extract_document,
    read_document,
    register_all,
    rtf_to_text,
)
from detectors.extract import ExtractedText, ExtractorRegistry, Uninspectable, extract
from detectors.findings import Kind, TextPart
from detectors.phones import PhoneDetector
from detectors.records import IlsRecordDetector

# ---------------------------------------------------------------------------
# helpers


@pytest.fixture(scope="module")
def runner() -> Iterator[BoundedRunner]:
    pool = BoundedRunner(Bounds(timeout_s=10, ocr_timeout_s=30, workers=2))
    pool.warm()
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def registry(runner: BoundedRunner) -> ExtractorRegistry:
    reg = ExtractorRegistry()
    register_all(reg, runner)
    return reg


def _read(payload: bytes, filename: str, content_type: str = "") -> tuple[list[ExtractedText], str | None]:
    pieces: list[ExtractedText] = []
    try:
        for piece in extract_document(payload, content_type, filename):
            pieces.append(piece)
    except Uninspectable as exc:
        return pieces, exc.reason
    return pieces, None


def _kinds(pieces: list[ExtractedText]) -> set[Kind]:
    found: set[Kind] = set()
    for i, piece in enumerate(pieces):
        part = TextPart(path=str(i), text=piece.text, tabular=piece.tabular)
        for detector in (BarcodeDetector(), IlsRecordDetector(), PhoneDetector()):
            found.update(finding.kind for finding in detector.detect(part))
    return found


def _csv_semicolon() -> bytes:
    return f.csv_bytes(f.PATRON_ROWS, ";")


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data)


# ---------------------------------------------------------------------------
# patron records in every format


PATRON_FILES: list[tuple[str, Callable[[], bytes]]] = [
    ("record.pdf", lambda: f.pdf_text(f.PATRON_LINES)),
    ("restricted.pdf", lambda: f.pdf_owner_only(f.PATRON_LINES)),
    ("incident.docx", lambda: f.docx(f.PATRON_LINES)),
    ("export.xlsx", lambda: f.xlsx(f.PATRON_ROWS)),
    ("slides.pptx", lambda: f.pptx(f.PATRON_LINES)),
    ("record.odt", lambda: f.odt(f.PATRON_LINES)),
    ("export.ods", lambda: f.ods(f.PATRON_ROWS)),
    ("record.rtf", lambda: f.rtf(f.PATRON_LINES)),
    ("export.zip", lambda: f.zip_of({"export/patrons.csv": _csv_semicolon()})),
    ("utf16.zip", lambda: f.zip_of({"patrons.txt": f.csv_bytes(f.PATRON_ROWS, "\t", "utf-16-le")})),
    ("nested.zip", lambda: f.zip_of({"inner.zip": f.zip_of({"record.pdf": f.pdf_text(f.PATRON_LINES)})})),
    (
        "docs.zip",
        lambda: f.zip_of({"a/record.docx": f.docx(f.PATRON_LINES), "readme.txt": b"Monthly report"}),
    ),
    ("export.tar.gz", lambda: f.tar_gz_of({"patrons.tsv": f.csv_bytes(f.PATRON_ROWS, "\t")})),
    ("patrons.csv.gz", lambda: _gzip(_csv_semicolon())),
]


@pytest.mark.parametrize(("filename", "build"), PATRON_FILES, ids=[n for n, _ in PATRON_FILES])
def test_patron_record_is_extracted(filename: str, build: Callable[[], bytes]) -> None:
    """A patron record in each format yields text with the record label and the card number, and nothing is left unread."""
    pieces, reason = _read(build(), filename)
    text = "\n".join(p.text for p in pieces)
    assert reason is None
    assert "PATRN NAME" in text
    assert f.CARD in text
    assert Kind.PATRON_BARCODE in _kinds(pieces)


BENIGN_FILES: list[tuple[str, Callable[[], bytes]]] = [
    ("stats.pdf", lambda: f.pdf_text(f.BENIGN_LINES)),
    ("minutes.docx", lambda: f.docx(f.BENIGN_LINES, f.BENIGN_ROWS)),
    ("stats.xlsx", lambda: f.xlsx(f.BENIGN_ROWS)),
    ("talk.pptx", lambda: f.pptx(f.BENIGN_LINES)),
    ("minutes.odt", lambda: f.odt(f.BENIGN_LINES)),
    ("stats.ods", lambda: f.ods(f.BENIGN_ROWS)),
    ("letter.rtf", lambda: f.rtf(f.BENIGN_LINES)),
    (
        "stats.zip",
        lambda: f.zip_of({"stats.csv": f.csv_bytes(f.BENIGN_ROWS, ";"), "m.docx": f.docx(f.BENIGN_LINES)}),
    ),
    ("stats.tar.gz", lambda: f.tar_gz_of({"stats.tsv": f.csv_bytes(f.BENIGN_ROWS, "\t")})),
]


@pytest.mark.parametrize(("filename", "build"), BENIGN_FILES, ids=[n for n, _ in BENIGN_FILES])
def test_benign_document_extracts_without_patron_data(filename: str, build: Callable[[], bytes]) -> None:
    """Ordinary library business in each format is read completely and trips no card, record or phone detector."""
    pieces, reason = _read(build(), filename)
    assert reason is None
    assert pieces and any("Central" in p.text or "circulation" in p.text.lower() for p in pieces)
    assert _kinds(pieces) == set()


def test_docx_keeps_label_and_value_on_one_line() -> None:
    """Word tabs and table cells become tabs, paragraphs and rows become lines, style tab stops add nothing."""
    pieces, _ = _read(f.docx(["P BARCODE  " + f.CARD], [("Name", "Card"), ("DOE, JANE", f.CARD)]), "a.docx")
    lines = pieces[0].text.splitlines()
    assert lines[0] == "P BARCODE\t" + f.CARD
    assert "Name\tCard" in lines
    assert "DOE, JANE\t" + f.CARD in lines


def test_xlsx_sheets_are_separate_tabular_pieces() -> None:
    """Each worksheet is its own tabular piece named by its number, cells separated by tabs."""
    pieces, reason = _read(f.xlsx(f.PATRON_ROWS, sheets=2), "export.xlsx")
    assert reason is None
    assert [p.name for p in pieces] == ["sheet 1", "sheet 2"]
    assert all(p.tabular for p in pieces)
    assert pieces[0].text.splitlines()[1].split("\t")[:2] == [f.CARD, "DOE, JANE M"]


def test_archive_members_are_named_by_path() -> None:
    """Archive members carry their path (nested archives joined by "/") and a content type of their own."""
    payload = f.zip_of(
        {"dir/p.csv": _csv_semicolon(), "in.zip": f.zip_of({"r.docx": f.docx(f.PATRON_LINES)})}
    )
    pieces, _ = _read(payload, "x.zip")
    assert [(p.name, p.content_type, p.tabular) for p in pieces] == [
        ("dir/p.csv", "text/csv", True),
        ("in.zip/r.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", False),
    ]


def test_mislabelled_file_is_read_by_its_magic_bytes() -> None:
    """A PDF sent as "report.docx" with a Word content type is still read as a PDF."""
    pieces, reason = _read(f.pdf_text(f.PATRON_LINES), "report.docx", "application/msword")
    assert reason is None and f.CARD in pieces[0].text


# ---------------------------------------------------------------------------
# what cannot be read


def _ole() -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600


def _xml_bomb_docx() -> bytes:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]><w:document xmlns:w="x"><w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>'
    )
    return f.zip_of({"word/document.xml": laughs.encode()})


def _deep_zip(levels: int) -> bytes:
    data = f.csv_bytes(f.PATRON_ROWS, ";")
    name = "p.csv"
    for level in range(levels):
        data = f.zip_of({name: data})
        name = f"level{level}.zip"
    return data


UNREADABLE: list[tuple[str, Callable[[], bytes], str]] = [
    ("locked.pdf", lambda: f.pdf_encrypted(f.PATRON_LINES), "encrypted pdf"),
    ("locked-rc4.pdf", lambda: f.pdf_encrypted(f.PATRON_LINES, algorithm="RC4-128"), "encrypted pdf"),
    ("locked.zip", lambda: f.zip_encrypted({"patrons.csv": _csv_semicolon()}), "encrypted zip"),
    ("bomb.zip", f.zip_bomb, "zip-bomb ratio zip"),
    ("bomb.csv.gz", lambda: gzip.compress(b"\x00" * (24 * 1024 * 1024)), "zip-bomb ratio gzip"),
    ("broken.pdf", lambda: f.pdf_text(f.PATRON_LINES)[:200], "corrupt pdf"),
    ("garbage.pdf", lambda: b"%PDF-1.7\n" + os.urandom(3000), "corrupt pdf"),
    ("broken.docx", lambda: f.docx(f.PATRON_LINES)[:300], "corrupt docx"),
    ("locked.docx", _ole, "encrypted-or-legacy-office ole"),
    ("laughs.docx", _xml_bomb_docx, "unsafe-xml docx"),
    ("deep.zip", lambda: _deep_zip(6), "too-deep zip in-archive"),
    (
        "tools.zip",
        lambda: f.zip_of({"setup.exe": b"MZ\x90\x00" + os.urandom(2000)}),
        "no-extractor .exe in-archive",
    ),
    ("broken.rtf", lambda: b"not rtf at all \x00\x01", "corrupt rtf"),
]


@pytest.mark.parametrize(("filename", "build", "reason"), UNREADABLE, ids=[n for n, _, _ in UNREADABLE])
def test_unreadable_file_raises_uninspectable_with_reason(
    filename: str, build: Callable[[], bytes], reason: str
) -> None:
    """Password-protected, corrupt, bomb, too-deep and unknown-binary files end in a short reason, never a crash."""
    started = time.monotonic()
    _, got = _read(build(), filename)
    assert got == reason
    assert time.monotonic() - started < 5


def test_readable_members_are_kept_when_another_member_is_not() -> None:
    """An archive with a readable CSV and an unknown binary yields the CSV and then reports the binary."""
    payload = f.zip_of({"patrons.csv": _csv_semicolon(), "DOE_JANE.bin": os.urandom(500)})
    pieces, reason = _read(payload, "mixed.zip")
    assert [p.name for p in pieces] == ["patrons.csv"]
    assert reason == "no-extractor .bin in-archive"
    assert "DOE" not in reason  # reasons name a type, never a file


def test_archive_limits_stop_the_walk() -> None:
    """Member count and total uncompressed size are bounded across nesting levels."""
    many = f.zip_of({f"f{i}.txt": b"hello" for i in range(30)})
    with pytest.raises(Uninspectable, match="too-many-members zip"):
        list(read_document(many, "", "many.zip", DocumentLimits(max_members=10)))
    big = f.zip_of({f"f{i}.txt": b"statistics " * 20_000 for i in range(5)})
    with pytest.raises(Uninspectable, match="zip-bomb total-size zip"):
        list(read_document(big, "", "big.zip", DocumentLimits(max_total_bytes=500_000)))


def test_unknown_format_is_uninspectable() -> None:
    """Bytes of no known format are not guessed at."""
    with pytest.raises(Uninspectable, match="no-extractor .bin"):
        list(extract_document(os.urandom(100), "application/octet-stream", "blob.bin"))


# ---------------------------------------------------------------------------
# building blocks


@pytest.mark.parametrize(
    ("payload", "content_type", "filename", "kind"),
    [
        (b"%PDF-1.4\n...", "", None, "pdf"),
        (b"\x1f\x8b\x08\x00", "", "x", "gzip"),
        (b"\x89PNG\r\n\x1a\n", "", None, "image"),
        (b"II*\x00\x08\x00", "", None, "image"),
        (b"{\\rtf1\\ansi hi}", "", None, "rtf"),
        (b"P4\n104 100\n\xef{\x7f", "image/pbm", None, "image"),
        (b"I have no problem", "text/richtext", None, "text"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "", "a.xlsx", "ole"),
        (b"a;b;c\n1;2;3\n", "", "x.csv", "text"),
        (b"<html></html>", "", "page.html", "html"),
        (b"anything", "application/pdf", None, "pdf"),
        (b"anything", "", "notes.bin", None),
    ],
)
def test_document_kind_prefers_magic_then_type_then_extension(
    payload: bytes, content_type: str, filename: str | None, kind: str | None
) -> None:
    """The format is decided by magic bytes first, then the declared type, then the extension."""
    assert document_kind(payload, content_type, filename) == kind


def test_document_kind_tells_office_zips_apart() -> None:
    """DOCX, XLSX, PPTX, ODF and plain ZIP are distinguished by the names inside the zip."""
    assert document_kind(f.docx(["x"])) == "docx"
    assert document_kind(f.xlsx([("a",)])) == "xlsx"
    assert document_kind(f.pptx(["x"])) == "pptx"
    assert document_kind(f.odt(["x"])) == "odf"
    assert document_kind(f.zip_of({"a.txt": b"x"})) == "zip"


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("a;b\n1;2\n".encode("utf-16"), "a;b\n1;2\n"),
        ("a;b\n1;2\n".encode("utf-16-le"), "a;b\n1;2\n"),
        ("a;b\n1;2\n".encode("utf-16-be"), "a;b\n1;2\n"),
        ("Nguyễn;Văn\n".encode(), "Nguyễn;Văn\n"),
        ("Müller;Zoë\r\n".encode("cp1252"), "Müller;Zoë\n"),
        (b"\xef\xbb\xbfname\tcard\n", "name\tcard\n"),
    ],
)
def test_decode_text_handles_csv_encodings(data: bytes, text: str) -> None:
    """CSV exports decode from UTF-8 (with or without BOM), UTF-16 (with or without BOM) and cp1252."""
    assert decode_text(data, "csv") == text


def test_decode_text_refuses_binary() -> None:
    """Binary bytes with a text extension are uninspectable, not scanned as garbage."""
    with pytest.raises(Uninspectable, match="binary-content csv"):
        decode_text(bytes(range(256)) * 10, "csv")


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (r"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\pard P BARCODE\tab 2361\par}", "P BARCODE\t2361\n"),
        (r"{\rtf1\ansi\ansicpg1252 M\'fcller\par}", "Müller\n"),
        (r"{\rtf1\uc1 Nguy\u7877?n\par}", "Nguyễn\n"),
        (r"{\rtf1{\*\generator Word;}{\info{\*\company x}}Visible\line text}", "Visible\ntext"),
        (r"{\rtf1 a\{b\}c\\d}", "a{b}c\\d"),
        (r"{\rtf1 {\pict\pngblip 89504e47}after}", "after"),
        (r"{\rtf1\trowd A\cell B\cell\row}", "A\tB\t\n"),
    ],
)
def test_rtf_to_text_strips_control_words(source: str, text: str) -> None:
    """RTF control words, groups and hidden destinations are removed; escapes and breaks become text."""
    assert rtf_to_text(source.encode("latin-1")) == text


def test_rtf_to_text_is_linear_on_hostile_input() -> None:
    """Deeply nested and very long RTF is handled quickly or refused, never a stack overflow."""
    started = time.monotonic()
    with pytest.raises(Uninspectable, match="too-deep rtf"):
        rtf_to_text(b"{\\rtf1" + b"{" * 200_000 + b"}" * 200_000)
    assert "x" in rtf_to_text(b"{\\rtf1 " + b"\\b x\\b0 " * 200_000 + b"}")
    assert time.monotonic() - started < 5


# ---------------------------------------------------------------------------
# bounded runner and registry


def test_register_all_claims_document_types_but_leaves_text_to_the_mime_walker(
    registry: ExtractorRegistry,
) -> None:
    """PDF, Office, ODF, RTF, archives and images get an extractor; CSV and generic types stay with extract()."""
    for content_type, filename in [
        ("application/pdf", None),
        ("application/octet-stream", "export.xlsx"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", None),
        ("application/zip", None),
        ("image/tiff", None),
        ("text/rtf", None),
        ("application/gzip", None),
    ]:
        assert registry.find(content_type, filename) is not None, content_type
    assert registry.find("text/csv", "export.csv") is None
    assert registry.find("application/vnd.ms-excel", "export.csv") is None
    assert registry.find("application/octet-stream", "blob.bin") is None


@pytest.mark.parametrize(
    ("filename", "content_type", "build"),
    [
        ("record.pdf", "application/pdf", lambda: f.pdf_text(f.PATRON_LINES)),
        ("export.xlsx", "application/octet-stream", lambda: f.xlsx(f.PATRON_ROWS)),
        ("export.zip", "application/zip", lambda: f.zip_of({"p.csv": _csv_semicolon()})),
    ],
)
def test_message_attachment_is_read_through_the_registry(
    registry: ExtractorRegistry, filename: str, content_type: str, build: Callable[[], bytes]
) -> None:
    """A message with a document attachment yields an attachment part holding the record, read in a worker."""
    ex = extract(f.message_with(build(), content_type, filename), registry=registry)
    attached = [p for p in ex.parts if p.origin == "attachment"]
    assert ex.uninspectable == ()
    assert any(f.CARD in p.text for p in attached)


@pytest.mark.parametrize(
    ("delimiter", "encoding"), [(";", "utf-8"), ("\t", "utf-8"), (";", "utf-16"), (",", "cp1252")]
)
def test_csv_attachments_come_through_extract(delimiter: str, encoding: str) -> None:
    """CSV attachments with ";" or tab delimiters, in UTF-8, UTF-16 (BOM) or cp1252, become tabular parts."""
    raw = f.message_with(f.csv_bytes(f.PATRON_ROWS, delimiter, encoding), "text/csv", "export.csv")
    ex = extract(raw)
    attached = [p for p in ex.parts if p.origin == "attachment"]
    assert len(attached) == 1 and attached[0].tabular
    assert f"{f.CARD}{delimiter}DOE, JANE M" in attached[0].text
    assert Kind.PATRON_BARCODE in _kinds([ExtractedText(attached[0].text, tabular=True)])


def test_unreadable_attachment_becomes_an_uninspectable_finding(registry: ExtractorRegistry) -> None:
    """A password-protected PDF attachment becomes an uninspectable finding; the message is still read."""
    ex = extract(
        f.message_with(f.pdf_encrypted(f.PATRON_LINES), "application/pdf", "locked.pdf"), registry=registry
    )
    assert [u.reason for u in ex.uninspectable] == ["encrypted pdf"]
    assert any("See attached" in p.text for p in ex.parts)


def test_fifty_megabyte_attachment_is_refused_quickly(runner: BoundedRunner) -> None:
    """A 50 MB attachment is uninspectable at once, without being sent to a worker."""
    payload = os.urandom(1024) * (50 * 1024)
    started = time.monotonic()
    pieces, reason = runner.run(extract_document, payload, "application/pdf", "huge.pdf", label="pdf")
    assert (pieces, reason) == ([], "too-large pdf")
    assert time.monotonic() - started < 1


def test_fifty_megabyte_attachment_under_a_raised_limit_is_bounded_in_time() -> None:
    """With the size limit raised, a 50 MB garbage PDF is still answered within the time bound."""
    pool = BoundedRunner(Bounds(timeout_s=2, ocr_timeout_s=2, max_payload_bytes=64 * 1024 * 1024, workers=1))
    try:
        pool.warm()
        payload = b"%PDF-1.7\n" + os.urandom(1024) * (50 * 1024)
        started = time.monotonic()
        pieces, reason = pool.run(
            extract_document, payload, "application/pdf", "huge.pdf", label="pdf", ocr=True
        )
        assert pieces == [] and reason in ("corrupt pdf", "timeout pdf")
        assert time.monotonic() - started < 4
    finally:
        pool.close()


def test_timeout_kills_the_worker_and_the_next_job_succeeds() -> None:
    """A job over its time bound is "timeout <label>", and the pool replaces the killed worker."""
    pool = BoundedRunner(Bounds(timeout_s=0.3, ocr_timeout_s=0.3, workers=1))
    try:
        pool.warm()
        slow = f.fax_tiff([f.PATRON_LINES] * 4)  # four OCR'd pages: well over 0.3 s
        started = time.monotonic()
        assert pool.run(extract_document, slow, "image/tiff", "fax.tif", label="image", ocr=True) == (
            [],
            "timeout image",
        )
        assert time.monotonic() - started < 2
        pieces, reason = pool.run(
            extract_document, f.pdf_text(f.PATRON_LINES), "application/pdf", None, label="pdf"
        )
        assert reason is None and f.CARD in pieces[0].text
    finally:
        pool.close()


def test_memory_limit_becomes_uninspectable() -> None:
    """A file whose reading needs more memory than the worker's limit is "memory-limit" or "crashed", not an outage."""
    from PIL import Image

    big = io.BytesIO()
    Image.new("L", (7000, 7000), 255).save(big, format="PNG", compress_level=1)  # 230 KB, 49 Mpx decoded
    pool = BoundedRunner(Bounds(memory_bytes=256 * 1024 * 1024, workers=1, ocr_timeout_s=20))
    try:
        pieces, reason = pool.run(
            extract_document, big.getvalue(), "image/png", "big.png", label="image", ocr=True
        )
        assert pieces == []
        assert reason in ("memory-limit image", "crashed image")
        ok, why = pool.run(extract_document, f.rtf(f.PATRON_LINES), "text/rtf", None, label="rtf")
        assert why is None and ok
    finally:
        pool.close()


def test_bounded_extractor_yields_pieces_then_raises(registry: ExtractorRegistry) -> None:
    """The registered extractor yields what a worker read before raising the worker's reason."""
    extractor = registry.find("application/zip", None)
    assert extractor is not None
    payload = f.zip_of({"patrons.csv": _csv_semicolon(), "x.bin": os.urandom(300)})
    got: list[ExtractedText] = []
    with pytest.raises(Uninspectable, match="no-extractor .bin in-archive"):
        for piece in extractor(payload, "application/zip", "a.zip"):
            got.append(piece)
    assert [p.name for p in got] == ["patrons.csv"]


def test_zip_of_docx_xml_bomb_member_is_caught_by_ratio_before_openpyxl() -> None:
    """An XLSX whose sheet member is a compression bomb is refused before openpyxl reads it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b" " * (30 * 1024 * 1024))
    _, reason = _read(buffer.getvalue(), "bomb.xlsx")
    assert reason == "zip-bomb ratio xlsx"


# ---------------------------------------------------------------------------
# PostScript (Ghostscript txtwrite; image-only pages OCR'd)


def test_postscript_text_is_read_page_by_page() -> None:
    """A PostScript patron record is read through Ghostscript's txtwrite; the detectors find the card."""
    assert document_kind(f.postscript(["x"])) == "postscript"
    assert document_kind(b"", "application/postscript") == "postscript"
    pieces, reason = _read(f.postscript(f.PATRON_LINES, pages=2), "job.ps")
    assert reason is None and len(pieces) == 1
    assert pieces[0].text.count("PATRN NAME  DOE, JANE M") == 2 and "\f" in pieces[0].text
    assert Kind.PATRON_BARCODE in _kinds(pieces)


def test_postscript_benign_document_passes_through() -> None:
    """Library business in PostScript yields its text and no patron finding."""
    pieces, reason = _read(f.postscript(f.BENIGN_LINES), "stats.ps")
    assert reason is None and "Quarterly circulation statistics" in pieces[0].text
    assert Kind.PATRON_BARCODE not in _kinds(pieces)


def test_postscript_scan_without_text_is_ocrd() -> None:
    """A scanned page wrapped in PostScript has no text for txtwrite: it is converted, rendered and OCR'd."""
    pieces, reason = _read(f.postscript_image_only(f.fax_png(f.PATRON_LINES)), "scan.ps")
    assert reason is None and any("(ocr" in (p.name or "") for p in pieces)
    assert Kind.PATRON_BARCODE in _kinds(pieces)


def test_broken_postscript_keeps_the_pages_drawn_and_is_uninspectable() -> None:
    """A program that fails after its first page yields that page, then is uninspectable; garbage is too."""
    source = f.postscript(f.PATRON_LINES) + b"this-operator-does-not-exist\n"
    pieces, reason = _read(source, "broken.ps")
    assert reason == "corrupt postscript" and any(f.CARD in p.text for p in pieces)
    assert _read(b"%!PS\n(unterminated", "bad.ps") == ([], "corrupt postscript")


def test_postscript_attachment_is_read_through_the_registry(registry: ExtractorRegistry) -> None:
    """Mail attachments get PostScript too: the bounded registry reads an application/postscript part."""
    ex = extract(f.message_with(f.postscript(f.PATRON_LINES), "application/postscript", "record.ps"), registry=registry)
    assert ex.uninspectable == ()
    assert any(f.CARD in p.text for p in ex.parts if p.origin == "attachment")


# ---------------------------------------------------------------------------
# UTF-16 text without a byte-order mark


CYRILLIC_CSV = "Фамилия;Имя;Карта\r\nАльварес;Мария;23610003622817\r\n"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_decode_text_reads_utf16_without_bom_in_any_script(encoding: str) -> None:
    """BOM-less UTF-16 is recognised by its NUL pattern even when most letters are not Latin."""
    assert decode_text(CYRILLIC_CSV.encode(encoding), "csv") == CYRILLIC_CSV.replace("\r\n", "\n")
    latin = '"P BARCODE";"PATRN NAME"\r\n"23610003622817";"MÜLLER, ZOË"\r\n'
    assert decode_text(latin.encode(encoding), "csv") == latin.replace("\r\n", "\n")


def test_utf16_sniffing_leaves_binary_and_utf8_alone() -> None:
    """Random bytes, 16-bit numbers and UTF-8 are not taken for UTF-16."""
    import struct

    from detectors.extract import utf16_without_bom

    assert utf16_without_bom(os.urandom(4096)) is None
    assert utf16_without_bom(struct.pack("<2000H", *range(2000))) is None
    assert utf16_without_bom("Nguyễn;Văn\n".encode()) is None
    assert utf16_without_bom(bytes(range(256)) * 8) is None


@pytest.mark.parametrize(
    ("encoding", "charset"), [("utf-16-le", None), ("utf-16-le", "us-ascii"), ("utf-16-be", None), ("utf-16-be", "utf-16")]
)
def test_utf16_csv_attachment_without_bom_comes_through_extract(encoding: str, charset: str | None) -> None:
    """A CSV exported as UTF-16 without a BOM — unlabelled, mislabelled, or labelled "utf-16" in the other
    byte order than this machine's — is decoded (it was NUL-riddled text, or CJK) and its card number found."""
    payload = f.csv_bytes(f.PATRON_ROWS, ";", encoding)
    raw = f.message_with(payload, "text/csv", "export.csv")
    if charset is not None:
        raw = raw.replace(b'Content-Type: text/csv\n', f'Content-Type: text/csv; charset="{charset}"\n'.encode())
        assert f'charset="{charset}"'.encode() in raw
    ex = extract(raw)
    attached = [p for p in ex.parts if p.origin == "attachment"]
    assert ex.uninspectable == () and len(attached) == 1
    assert f"{f.CARD};DOE, JANE M" in attached[0].text
    assert Kind.PATRON_BARCODE in _kinds([ExtractedText(attached[0].text, tabular=True)])
