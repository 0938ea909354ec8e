"""Attachment extraction cost: OCR per fax page and per screenshot, PDF and spreadsheet throughput.

    .venv/bin/python bench/extract_docs.py [--runs R] [--no-ocr]

Every document is generated here (tests/docfactory.py): a 200 x 200 dpi G4 fax
page, Millennium-style screenshots at two sizes, text PDFs of 1 and 20 pages,
XLSX and CSV exports of 2,000 patron rows, a DOCX, a ZIP of CSVs. Each is read
`--runs` times and the median is printed:

- "direct": `extract_document` in this process (the work itself);
- "bounded": the same through a warm `BoundedRunner` (the work plus the pipe
  round trip to the worker process, which is what the relay pays). The runner's
  result cache is bypassed (a fresh payload each run) so every run does the work.

Figures are printed, never asserted. Spare the machine while it runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import docfactory as f  # noqa: E402

from detectors.bounded import BoundedRunner, Bounds  # noqa: E402
from detectors.documents import extract_document  # noqa: E402
from detectors.extract import Uninspectable  # noqa: E402


def _rows(n: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [("P BARCODE", "PATRN NAME", "ADDRESS", "TELEPHONE", "EMAIL", "MONEY OWED")]
    for i in range(n):
        rows.append(
            (
                f"2361000{i:07d}",
                f"PATRON{i}, JANE M",
                f"{100 + i} SE ALDER ST",
                f"503-555-{i % 10000:04d}",
                f"patron{i}@example.com",
                f"{i % 50}.{i % 100:02d}",
            )
        )
    return rows


def _salted(data: bytes, run: int) -> bytes:
    """Append a harmless trailer so each run has a new digest (the runner's cache must not answer)."""
    if data.startswith(b"%PDF"):
        return data + f"\n%run {run}\n".encode()
    if data.startswith(b"PK"):
        return data + b"\x00" * run  # trailing bytes after the central directory are ignored by readers
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return data + b"\x00" * run
    return data + b"\x00" * run  # PNG readers stop at IEND


def _read(data: bytes, name: str) -> int:
    chars = 0
    try:
        for piece in extract_document(data, "", name):
            chars += len(piece.text)
    except Uninspectable:
        pass
    return chars


def _median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per document (median printed)")
    parser.add_argument("--no-ocr", action="store_true", help="skip the OCR cases")
    args = parser.parse_args(argv)

    print("command:", shlex.join([Path(sys.executable).name, *sys.argv]))
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"runs per case: {args.runs} (median)\n")

    rows = _rows(2_000)
    cases: list[tuple[str, str, Callable[[], bytes], str, bool]] = [
        # (label, filename, build, unit, ocr)
        ("PDF text, 1 page", "record.pdf", lambda: f.pdf_text(f.PATRON_LINES), "page", False),
        ("PDF text, 20 pages", "report.pdf", lambda: f.pdf_text(f.PATRON_LINES * 6, pages=20), "page", False),
        ("XLSX 2,000 rows x 6", "export.xlsx", lambda: f.xlsx(rows), "row", False),
        (
            "CSV 2,000 rows in ZIP",
            "export.zip",
            lambda: f.zip_of({"export.csv": f.csv_bytes(rows, ";")}),
            "row",
            False,
        ),
        ("DOCX 1 page", "incident.docx", lambda: f.docx(f.PATRON_LINES * 4), "file", False),
    ]
    if not args.no_ocr:
        cases += [
            ("OCR fax page 200 dpi G4", "fax.tif", lambda: f.fax_tiff([f.PATRON_LINES]), "page", True),
            (
                "OCR fax, 3 pages",
                "fax3.tif",
                lambda: f.fax_tiff([f.PATRON_LINES, f.BENIGN_LINES, f.PATRON_LINES]),
                "page",
                True,
            ),
            ("OCR screenshot 640x180", "screen.png", lambda: f.screenshot_png(f.PATRON_LINES), "file", True),
            ("OCR screenshot 1280x800", "screen-big.png", lambda: _big_screenshot(), "file", True),
            ("OCR scanned PDF page", "scan.pdf", lambda: f.pdf_image_only(f.fax_png()), "page", True),
        ]
    units = {"PDF text, 1 page": 1, "PDF text, 20 pages": 20, "XLSX 2,000 rows x 6": 2000, "CSV 2,000 rows in ZIP": 2000,
             "OCR fax, 3 pages": 3}  # fmt: skip

    runner = BoundedRunner(Bounds(workers=1, ocr_timeout_s=120))
    started = time.perf_counter()
    runner.warm()
    print(f"worker start (interpreter + imports): {1000 * (time.perf_counter() - started):.0f} ms\n")

    print(f"{'case':28} {'bytes':>9} {'direct ms':>10} {'bounded ms':>11} {'per unit':>18}")
    for label, name, build, unit, ocr in cases:
        data = build()
        direct: list[float] = []
        bounded: list[float] = []
        chars = 0
        for run in range(args.runs):
            t0 = time.perf_counter()
            chars = _read(data, name)
            direct.append(time.perf_counter() - t0)
            salted = _salted(data, run + 1)
            t0 = time.perf_counter()
            runner.run(extract_document, salted, "", name, label="bench", ocr=ocr)
            bounded.append(time.perf_counter() - t0)
        n = units.get(label, 1)
        d, b = _median(direct), _median(bounded)
        per = f"{1000 * d / n:.1f} ms/{unit}" if unit != "row" else f"{n / d:,.0f} rows/s"
        print(f"{label:28} {len(data):>9,} {1000 * d:>10.1f} {1000 * b:>11.1f} {per:>18}   ({chars:,} chars)")

    # Round trip of the bounded runner on a trivial document: the per-attachment overhead.
    tiny = f.rtf(["hello"])
    trips: list[float] = []
    for run in range(max(args.runs, 20)):
        t0 = time.perf_counter()
        runner.run(extract_document, tiny + b" " * run, "", "x.rtf", label="bench")
        trips.append(time.perf_counter() - t0)
    print(f"\nbounded-runner round trip, tiny RTF: {1000 * _median(trips):.2f} ms (median of {len(trips)})")
    t0 = time.perf_counter()
    runner.run(extract_document, tiny, "", "x.rtf", label="bench")
    runner.run(extract_document, tiny, "", "x.rtf", label="bench")
    print(f"cached repeat (same digest): {1000 * (time.perf_counter() - t0) / 2:.3f} ms")
    runner.close()
    return 0


def _big_screenshot() -> bytes:
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1280, 800), (0, 0, 110))
    draw = ImageDraw.Draw(image)
    lines = (
        list(f.PATRON_LINES) + ["", "CHECKED OUT  3 ITEMS", "  1 > The Overstory          DUE 04-12-2026"] * 5
    )
    for i, line in enumerate(lines):
        draw.text((20, 20 + 19 * i), line, fill=(235, 235, 235), font=f.font(13))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


if __name__ == "__main__":
    sys.exit(main())
