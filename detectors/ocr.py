"""Text from pictures: images, fax TIFFs and image-only PDF pages read with Tesseract.

This module owns OCR: decoding an image with Pillow (PNG, JPEG, GIF, BMP, TIFF
including multi-page G3/G4 fax TIFF), preparing each page for Tesseract
(greyscale, light-on-dark screens inverted, screenshots upscaled x2 or x3,
standard-resolution faxes stretched to square pixels, scans and faxes
thresholded with Otsu's method), running
the `tesseract` binary in a subprocess with a timeout, and rendering PDF pages
that have no text layer with Ghostscript. It also owns `normalize_ocr`, the pure
repair of OCR digit confusions (O->0, l/I->1 inside digit runs) that lets the
barcode and phone detectors find numbers in noisy OCR output.

Every OCR'd page yields its raw text and, when the repair changes anything, the
repaired text as a second piece: the raw piece keeps labels as read ("PATRN
NAME"), the repaired piece gives check-digit validation a chance.

Unlike the other detectors modules this one does I/O (subprocesses, a temporary
directory for Ghostscript): it is meant to run inside `detectors.bounded`'s
child processes, which bound its time and memory. It must not log, and its
`Uninspectable` reasons never carry text or filenames.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from detectors.extract import ExtractedText, Uninspectable


@dataclass(frozen=True, slots=True)
class OcrSettings:
    """How OCR runs; the defaults suit screenshots and 200 dpi faxes."""

    language: str = "eng"
    # Page segmentation 6 ("one uniform block") keeps "LABEL   value" pairs of ILS screens on one line.
    psm: int = 6
    call_timeout_s: float = 30.0  # one tesseract or gs call; the bounded runner's limit covers the whole file
    # Frames of a TIFF/GIF, or image-only PDF pages, OCR'd per file; more -> uninspectable.
    max_pages: int = 20
    # Pixels per frame after preprocessing; Pillow's decompression-bomb guard uses it too.
    max_pixels: int = 60_000_000
    # Smaller than this is an icon, spacer or tracking pixel: nothing a patron record fits in.
    min_width: int = 40
    min_height: int = 12
    min_area: int = 4_000
    # Screen-resolution images (no dpi, or under 150) are upscaled: x3 up to this size, x2 up to twice it.
    # Screen fonts are 10-14 px high; Tesseract reads best at 30-40 px.
    upscale_max_side: int = 1_400
    render_dpi: int = 200  # PDF pages rendered for OCR


DEFAULT_OCR = OcrSettings()

# Characters OCR confuses with digits, and the digit each stands for.
_CONFUSIONS = str.maketrans("OoQDIl|i!SBZ", "000011111582")
_LOOKALIKE = "0-9OoQDIl|i!SBZ"
# A run of digits and look-alikes, possibly in groups joined by one space, "-", "." or "/" ("2361 OOO3",
# "O6-3O-2O27"), that is not part of a longer word. Each repetition consumes a character: linear.
_DIGITISH = re.compile(
    rf"(?<![A-Za-z0-9])[{_LOOKALIKE}](?:[{_LOOKALIKE}]|[ .\-/](?=[{_LOOKALIKE}])){{1,80}}(?![A-Za-z0-9])"
)
_GROUP = re.compile(r"[^ .\-/]+|[ .\-/]")
_DIGIT = re.compile(r"[0-9]")


def normalize_ocr(text: str) -> str:
    """Repair digit look-alikes inside digit runs ("2361OOO3622B17" -> "23610003622817"); same length.

    A run is a sequence of groups joined by single separators. Only the stretch
    from its first to its last group holding a real digit is repaired, and only
    when that stretch has at least two real digits and no more look-alikes than
    digits: words ("Bill 2023", "OIL", "ISBN") stay as they are. The output has
    the input's length, so offsets found in it point into the raw OCR text too.
    """
    if not _DIGIT.search(text):
        return text

    def repair(m: re.Match[str]) -> str:
        groups = _GROUP.findall(m.group())
        with_digit = [i for i, g in enumerate(groups) if _DIGIT.search(g)]
        if not with_digit:
            return m.group()
        first, last = with_digit[0], with_digit[-1]
        core = "".join(groups[first : last + 1])
        digits = len(_DIGIT.findall(core))
        lookalikes = sum(1 for c in core if c not in "0123456789 .-/")
        if digits < 2 or lookalikes > digits or lookalikes == 0:
            return m.group()
        return "".join(groups[:first]) + core.translate(_CONFUSIONS) + "".join(groups[last + 1 :])

    return _DIGITISH.sub(repair, text)


def tesseract_available() -> bool:
    """Whether the `tesseract` binary is on PATH (the service checks this at start)."""
    return shutil.which("tesseract") is not None


# ---------------------------------------------------------------------------
# Extractor entry points


def extract_image(payload: bytes, content_type: str, filename: str | None) -> Iterator[ExtractedText]:
    """Extractor for images: every frame OCR'd, raw and repaired text as separate pieces."""
    yield from ocr_pieces(ocr_image(payload), "image")


def ocr_image(payload: bytes, settings: OcrSettings = DEFAULT_OCR) -> list[str]:
    """OCR every frame of an image file; returns one text per frame (empty for blank or tiny frames)."""
    from PIL import Image, ImageFile, ImageSequence

    Image.MAX_IMAGE_PIXELS = settings.max_pixels
    # A truncated image shows its readable top part to the recipient too: read that part.
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        image = Image.open(io.BytesIO(payload))
        image.load()
    except Image.DecompressionBombError as exc:
        raise Uninspectable("image-too-large") from exc
    except Exception as exc:
        raise Uninspectable("corrupt image") from exc
    texts: list[str] = []
    try:
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if index >= settings.max_pages:
                raise Uninspectable("too-many-pages image")
            prepared = prepare(frame, settings)
            texts.append(run_tesseract(_png(prepared), settings) if prepared is not None else "")
    except Uninspectable:
        raise
    except Image.DecompressionBombError as exc:
        raise Uninspectable("image-too-large") from exc
    except (OSError, ValueError, EOFError) as exc:
        raise Uninspectable("corrupt image") from exc
    return texts


def ocr_pdf_pages(payload: bytes, pages: Sequence[int], settings: OcrSettings = DEFAULT_OCR) -> list[str]:
    """Render the given 1-based PDF pages with Ghostscript and OCR them; one text per page."""
    gs = shutil.which("gs")
    if gs is None:
        raise Uninspectable("ocr-unavailable gs")
    from PIL import Image

    texts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pg-ocr-") as tmp:
        source = os.path.join(tmp, "in.pdf")
        with open(source, "wb") as fh:
            fh.write(payload)
        for page in pages[: settings.max_pages]:
            target = os.path.join(tmp, f"p{page}.png")
            command = [
                gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dNOINTERPOLATE",
                "-sDEVICE=pnggray", f"-r{settings.render_dpi}",
                f"-dFirstPage={page}", f"-dLastPage={page}",
                f"-sOutputFile={target}", source,
            ]  # fmt: skip
            try:
                subprocess.run(
                    command,
                    capture_output=True,
                    timeout=settings.call_timeout_s,
                    env=_child_env(),
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise Uninspectable("timeout pdf-render") from exc
            if not os.path.exists(target):
                raise Uninspectable("unrenderable pdf-page")
            with Image.open(target) as rendered:
                rendered.load()
                prepared = prepare(rendered, settings)
            os.unlink(target)
            texts.append(run_tesseract(_png(prepared), settings) if prepared is not None else "")
    return texts


def ocr_pieces(texts: Sequence[str], label: str) -> Iterator[ExtractedText]:
    """Raw OCR text per page, then the digit-repaired text where it differs; blank pages yield nothing."""
    several = len(texts) > 1
    for number, raw in enumerate(texts, 1):
        raw = raw.replace("\f", "\n").strip()
        if not raw:
            continue
        where = f"{label} page {number}" if several else label
        yield ExtractedText(text=raw, name=f"{where} (ocr)")
        repaired = normalize_ocr(raw)
        if repaired != raw:
            yield ExtractedText(text=repaired, name=f"{where} (ocr, digits repaired)")


# ---------------------------------------------------------------------------
# Preprocessing and Tesseract


def prepare(frame: object, settings: OcrSettings = DEFAULT_OCR) -> object | None:
    """Greyscale, square pixels, dark-on-light, upscaled if screen-sized, thresholded; None if too small."""
    from PIL import Image, ImageOps

    assert isinstance(frame, Image.Image)
    width, height = frame.size
    if width < settings.min_width or height < settings.min_height or width * height < settings.min_area:
        return None
    dpi = _dpi(frame)
    if frame.mode == "1":
        image = frame.convert("L")
    elif frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        # Transparent pixels are usually the background: flatten onto white before greyscale.
        rgba = frame.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba).convert("L")
    else:
        image = frame.convert("L")
    if dpi is not None and dpi[0] > 0 and dpi[1] > 0 and dpi[0] >= 1.6 * dpi[1]:
        # Standard-resolution fax (204 x 98 dpi): pixels twice as tall as wide; Tesseract wants them square.
        image = image.resize((width, round(height * dpi[0] / dpi[1])), Image.Resampling.NEAREST)
    histogram = image.histogram()
    if _mean(histogram) < 110:
        # Light text on a dark screen (terminal-style ILS clients): Tesseract reads dark on light.
        image = ImageOps.invert(image)
        histogram = histogram[::-1]
    scale = 1
    if dpi is None or max(dpi) < 150:
        side = max(image.size)
        scale = 3 if side <= settings.upscale_max_side else 2 if side <= 2 * settings.upscale_max_side else 1
    if image.width * image.height * scale * scale > settings.max_pixels:
        raise Uninspectable("image-too-large")
    if scale > 1:
        # Smooth (LANCZOS) upscaling keeps glyph shapes; thresholding the result here loses thin strokes
        # ("0" read as "9" in tests), so Tesseract binarises the upscaled grey image itself.
        return image.resize((image.width * scale, image.height * scale), Image.Resampling.LANCZOS)
    threshold = _otsu(histogram)
    return image.point(lambda p: 255 if p > threshold else 0)


def run_tesseract(png: bytes, settings: OcrSettings = DEFAULT_OCR) -> str:
    """Run `tesseract stdin stdout`; a missing binary, a timeout or a failure is uninspectable."""
    binary = shutil.which("tesseract")
    if binary is None:
        raise Uninspectable("ocr-unavailable tesseract")
    command = [
        binary, "stdin", "stdout", "-l", settings.language, "--psm", str(settings.psm),
        "-c", "preserve_interword_spaces=1",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command,
            input=png,
            capture_output=True,
            timeout=settings.call_timeout_s,
            env=_child_env(),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise Uninspectable("timeout ocr") from exc
    if done.returncode != 0:
        raise Uninspectable("ocr-failed")
    return done.stdout.decode("utf-8", "replace")


def _child_env() -> dict[str, str]:
    # One OpenMP thread: the bounded runner already runs one extraction per core, and Tesseract's
    # threads slow small images down. No inherited environment beyond what the binaries need.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OMP_THREAD_LIMIT": "1", "LC_ALL": "C"}
    if "TESSDATA_PREFIX" in os.environ:
        env["TESSDATA_PREFIX"] = os.environ["TESSDATA_PREFIX"]
    return env


def _png(image: object) -> bytes:
    from PIL import Image

    assert isinstance(image, Image.Image)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _dpi(frame: object) -> tuple[float, float] | None:
    info = getattr(frame, "info", {})
    dpi = info.get("dpi")
    if isinstance(dpi, tuple) and len(dpi) == 2:
        try:
            return float(dpi[0]), float(dpi[1])
        except (TypeError, ValueError):
            return None
    return None


def _mean(histogram: Sequence[int]) -> float:
    total = sum(histogram)
    return sum(i * n for i, n in enumerate(histogram)) / total if total else 255.0


def _otsu(histogram: Sequence[int]) -> int:
    """The grey level that best separates ink from paper (Otsu's method over the 256-bin histogram)."""
    total = sum(histogram)
    weighted_total = sum(i * n for i, n in enumerate(histogram))
    background = 0
    weighted_background = 0.0
    best_variance = -1.0
    threshold = 127
    for level in range(256):
        background += histogram[level]
        if background == 0:
            continue
        foreground = total - background
        if foreground == 0:
            break
        weighted_background += level * histogram[level]
        mean_b = weighted_background / background
        mean_f = (weighted_total - weighted_background) / foreground
        variance = background * foreground * (mean_b - mean_f) ** 2
        if variance > best_variance:
            best_variance = variance
            threshold = level
    return threshold
