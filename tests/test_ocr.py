"""Tests for detectors.ocr: digit repair of OCR text (pure), and Tesseract reading screenshots, fax TIFFs
and image-only PDFs generated in the tests (marked slow: each runs the tesseract binary)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import docfactory as f
import pytest

from detectors.barcodes import BarcodeDetector
from detectors.bounded import BoundedRunner, Bounds
from detectors.documents import extract_document, register_all
from detectors.extract import ExtractedText, ExtractorRegistry, Uninspectable, extract
from detectors.findings import Kind, TextPart
from detectors.ocr import normalize_ocr, ocr_pieces, tesseract_available
from detectors.records import IlsRecordDetector

needs_tesseract = pytest.mark.skipif(
    not tesseract_available(), reason="tesseract not installed (scripts/system-deps.sh installs it)"
)

# ---------------------------------------------------------------------------
# normalisation (pure, fast)


@pytest.mark.parametrize(
    ("raw", "repaired"),
    [
        ("P BARCODE 2361OOO3622817", "P BARCODE 23610003622817"),
        ("P BARCODE 236lOOO3622Bl7", "P BARCODE 23610003622817"),
        ("TELEPHONE 5O3-555-Ol87", "TELEPHONE 503-555-0187"),
        ("card 2361 OOO3 6228 17", "card 2361 0003 6228 17"),
        ("EXP DATE O6-3O-2O27", "EXP DATE 06-30-2027"),
        ("fine $4.5O", "fine $4.50"),
        ("2361|0003622817", "2361100036228" + "17"),
    ],
)
def test_normalize_ocr_repairs_digit_lookalikes_in_digit_runs(raw: str, repaired: str) -> None:
    """O, l, I, |, B, S and Z inside runs of digits become the digits they were misread from."""
    assert normalize_ocr(raw) == repaired


@pytest.mark.parametrize(
    "text",
    [
        "PATRN NAME  DOE, JANE M",
        "OIL AND BOOKS, Bill Smith, ISBN list",
        "Room B1 and Room 2B",
        "I lOl at that",
        "Overdue: 2 items since Oct 3",
        "SOS 1O",  # one digit only: left alone
        "Bill 2023 and DOS 6.22",
        "the 1990s",
        "",
    ],
)
def test_normalize_ocr_leaves_words_alone(text: str) -> None:
    """Words, labels and runs with fewer than two real digits are not changed."""
    assert normalize_ocr(text) == text


def test_normalize_ocr_keeps_length_and_is_linear() -> None:
    """The repaired text has the input's length (offsets carry over) and long input is fast."""
    text = ("P BARCODE 2361OOO3622817 lOlOlO " * 50_000)[:1_500_000]
    started = time.monotonic()
    out = normalize_ocr(text)
    assert len(out) == len(text)
    assert time.monotonic() - started < 3


def test_ocr_pieces_add_the_repaired_text_only_when_it_differs() -> None:
    """Each page yields its raw text, plus a repaired copy when digit repair changed something; blank pages nothing."""
    pieces = list(ocr_pieces(["P BARCODE 2361OOO3622817", "  \f ", "nothing to repair"], "image"))
    assert [(p.name, p.text) for p in pieces] == [
        ("image page 1 (ocr)", "P BARCODE 2361OOO3622817"),
        ("image page 1 (ocr, digits repaired)", "P BARCODE 23610003622817"),
        ("image page 3 (ocr)", "nothing to repair"),
    ]


# ---------------------------------------------------------------------------
# Tesseract on generated images


def _ocr(payload: bytes, filename: str) -> tuple[list[ExtractedText], str | None]:
    pieces: list[ExtractedText] = []
    try:
        for piece in extract_document(payload, "", filename):
            pieces.append(piece)
    except Uninspectable as exc:
        return pieces, exc.reason
    return pieces, None


def _finds(pieces: list[ExtractedText]) -> set[Kind]:
    kinds: set[Kind] = set()
    for i, piece in enumerate(pieces):
        part = TextPart(path=str(i), text=piece.text)
        for detector in (BarcodeDetector(), IlsRecordDetector()):
            kinds.update(finding.kind for finding in detector.detect(part))
    return kinds


@pytest.fixture(scope="module")
def runner() -> Iterator[BoundedRunner]:
    pool = BoundedRunner(Bounds(ocr_timeout_s=30, workers=2))
    yield pool
    pool.close()


@pytest.mark.slow
@needs_tesseract
@pytest.mark.parametrize("dark", [True, False], ids=["dark-screen", "light-screen"])
def test_millennium_screenshot_is_read(dark: bool) -> None:
    """A screen-resolution patron screen (light on dark, or dark on light) yields the label and the card number."""
    pieces, reason = _ocr(f.screenshot_png(f.PATRON_LINES, dark=dark), "screen.png")
    text = "\n".join(p.text for p in pieces)
    assert reason is None
    assert "PATRN NAME" in text and f.CARD in text
    assert Kind.PATRON_BARCODE in _finds(pieces)


@pytest.mark.slow
@needs_tesseract
def test_g4_fax_tiff_pages_are_read_separately() -> None:
    """A two-page 200 dpi G4 fax yields the patron record on page 1 and only benign text on page 2."""
    payload = f.fax_tiff([f.PATRON_LINES, f.BENIGN_LINES])
    pieces, reason = _ocr(payload, "fax.tif")
    assert reason is None
    page1 = [p for p in pieces if p.name and p.name.startswith("image page 1 ")]
    page2 = [p for p in pieces if p.name and p.name.startswith("image page 2 ")]
    assert any("PATRN NAME" in p.text and f.CARD in p.text for p in page1)
    assert Kind.PATRON_BARCODE in _finds(page1)
    assert page2 and _finds(page2) == set()
    assert any("circulation statistics" in p.text for p in page2)


@pytest.mark.slow
@needs_tesseract
def test_scanned_pdf_without_text_layer_is_ocrd() -> None:
    """A PDF whose only page is a picture is rendered with Ghostscript and OCR'd."""
    pieces, reason = _ocr(f.pdf_image_only(f.fax_png()), "scan.pdf")
    assert reason is None
    assert any(p.name == "page 1 (ocr)" and f.CARD in p.text for p in pieces)


@pytest.mark.slow
@needs_tesseract
def test_benign_screenshot_has_no_patron_data() -> None:
    """A screenshot of statistics is read and trips no card or record detector."""
    pieces, reason = _ocr(f.screenshot_png(f.BENIGN_LINES, dark=False), "stats.png")
    assert reason is None
    assert any("circulated" in p.text for p in pieces)
    assert _finds(pieces) == set()


def test_tiny_images_are_not_ocrd() -> None:
    """Icons, spacers and tracking pixels yield nothing and cost no Tesseract run."""
    from PIL import Image

    for size in [(1, 1), (16, 16), (120, 10), (60, 60)]:
        out = io.BytesIO()
        Image.new("RGB", size, (200, 0, 0)).save(out, format="PNG")
        assert _ocr(out.getvalue(), "icon.png") == ([], None)


def test_corrupt_image_is_uninspectable() -> None:
    """Image bytes that do not decode are "corrupt image", not a crash."""
    assert _ocr(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "broken.png") == ([], "corrupt image")


@pytest.mark.slow
@needs_tesseract
def test_fax_attachment_is_read_through_the_registry(runner: BoundedRunner) -> None:
    """A message with a fax TIFF attachment yields attachment parts holding the card number, read in a worker."""
    registry = ExtractorRegistry()
    register_all(registry, runner)
    raw = f.message_with(f.fax_tiff([f.PATRON_LINES]), "image/tiff", "fax.tif")
    ex = extract(raw, registry=registry)
    assert ex.uninspectable == ()
    attached = [p for p in ex.parts if p.origin == "attachment"]
    assert any(f.CARD in p.text for p in attached)
    assert all(p.content_type == "image/tiff" for p in attached)
