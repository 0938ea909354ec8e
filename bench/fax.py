"""The HylaFAX job hook's cost: time per job (cold and with a cached verdict) and OCR time per fax page.

    .venv/bin/python bench/fax.py [--runs R]

A fake HylaFAX spool is made in a temporary directory (documents from
tests/docfactory.py, like the tests): a PDF patron record to an unapproved
number (held), a benign PostScript page, a benign 1-page and a 3-page 200 x 200
dpi G4 fax TIFF (OCR). For each job, medians over `--runs`:

- "hook, cold": `python -m proxy.cli fax-hook JOBID` as faxq runs it (cwd = the
  spool), a new job id each run so no verdict is cached: interpreter start,
  imports, the quarantine, a fresh extraction worker, Ghostscript/Tesseract.
- "hook, cached": the same process for a job already decided (faxq asking again
  after a busy line): the verdict comes from the cache under the state dir.
- "check, warm": `FaxHook.check` in this process with a warm scanner (the work
  itself, without start-up), again a new job id each run. Documents get a
  harmless trailer per run, so the extraction worker's cache never answers.

And OCR per fax page: `detectors.ocr.ocr_image` on the 1-page and the 3-page
TIFF in this process. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import docfactory as f  # noqa: E402

from detectors import ocr  # noqa: E402
from proxy.config import load  # noqa: E402
from proxy.fax.hook import FaxHook  # noqa: E402
from proxy.scanning.scan import Scanner  # noqa: E402

UNAPPROVED = "503-555-0199"


class BenchSpool:
    """sendq/qN + docq/ documents; every `job()` call is a new job id."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "sendq").mkdir(parents=True)
        (root / "docq").mkdir()
        self.next_id = 100

    def job(self, documents: list[tuple[str, bytes]]) -> str:
        self.next_id += 1
        job_id = str(self.next_id)
        lines = [f"number:9{UNAPPROVED.replace('-', '')}", f"external:{UNAPPROVED}", "owner:circ",
                 "mailaddr:circ@cityofsalem.net", f"jobid:{job_id}", "jobtype:facsimile", "state:3"]  # fmt: skip
        for n, (op, data) in enumerate(documents, 1):
            name = f"docq/doc{job_id}-{n}.{op}"
            (self.root / name).write_bytes(data)
            lines.append(f"{op}:0::{name}")
        (self.root / "sendq" / f"q{job_id}").write_text("\n".join(lines) + "\n")
        return job_id


def _median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:8.0f} ms" if samples else "       -"


def _hook_process(spool: BenchSpool, job_id: str, state: Path) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "fax-hook", job_id, "--config", str(REPO / "config.yaml"),
         "--state-dir", str(state), "--log-level", "warning"],
        cwd=spool.root, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    return time.perf_counter() - started, "held" if done.stdout.startswith("RejectNotice") else "passed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per case (median printed)")
    args = parser.parse_args(argv)

    print("command:", shlex.join([Path(sys.executable).name, *sys.argv]))
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"runs per case: {args.runs} (median)\n")

    fax1 = f.fax_tiff([f.BENIGN_LINES])
    fax3 = f.fax_tiff([f.BENIGN_LINES, f.BENIGN_LINES, f.BENIGN_LINES])
    record, page = f.pdf_text(f.PATRON_LINES), f.postscript(f.BENIGN_LINES)
    # Every build is new bytes (a trailer readers ignore): the extraction worker's result cache must not answer.
    cases: list[tuple[str, Callable[[int], list[tuple[str, bytes]]]]] = [
        ("PDF patron record (held)", lambda n: [("pdf", record + f"\n%run {n}\n".encode())]),
        ("PostScript page, benign", lambda n: [("postscript", page + f"%run {n}\n".encode())]),
        ("G4 fax TIFF 1 page, benign", lambda n: [("tiff", fax1 + b"\x00" * n)]),
        ("G4 fax TIFF 3 pages, benign", lambda n: [("tiff", fax3 + b"\x00" * n)]),
    ]
    config = load(REPO / "config.yaml")
    scanner = Scanner(config)
    scanner.warm()
    with tempfile.TemporaryDirectory(prefix="pg-bench-fax-") as tmp:
        spool = BenchSpool(Path(tmp) / "hylafax")
        state = Path(tmp) / "state"
        hook = FaxHook(config, spool.root, state, scanner=scanner)
        print(f"{'job':<30} {'verdict':<7} {'hook, cold':>11} {'hook, cached':>13} {'check, warm':>12}")
        for label, build in cases:
            cold: list[float] = []
            cached: list[float] = []
            warm: list[float] = []
            verdict = "?"
            for run in range(args.runs):
                job_id = spool.job(build(2 * run + 1))
                seconds, verdict = _hook_process(spool, job_id, state)
                cold.append(seconds)
                cached.append(_hook_process(spool, job_id, state)[0])
                job_id = spool.job(build(2 * run + 2))
                started = time.perf_counter()
                hook.check(job_id)
                warm.append(time.perf_counter() - started)
            print(f"{label:<30} {verdict:<7} {_median_ms(cold):>11} {_median_ms(cached):>13} {_median_ms(warm):>12}")
        hook.close()

    print("\nOCR per fax page (detectors.ocr.ocr_image, this process):")
    for label, data, pages in (("G4 fax TIFF 1 page", fax1, 1), ("G4 fax TIFF 3 pages", fax3, 3)):
        samples = []
        for _ in range(args.runs):
            started = time.perf_counter()
            ocr.ocr_image(data)
            samples.append((time.perf_counter() - started) / pages)
        print(f"  {label:<28} {_median_ms(samples)} per page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
