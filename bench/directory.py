"""Patron directory benchmark: import time and index size at consortium scale, lookup cost per message.

    python bench/directory.py [--sizes 100000 500000] [--messages 300]

Writes a synthetic Sierra Create Lists export of N patrons (names, cards, phones,
emails, street addresses, birth dates; a fifth of them minors with a guardian's
email), imports it with `proxy.patrons.import_export` and prints the seconds, the
index size on disk and the peak memory of the import. Then it times the directory
step alone (candidate tokens → keyed-hash lookups → matching) over the evaluation
corpus messages, against the largest index: microseconds per message.

Also the helpers `bench/eval.py` uses to build a directory of the evaluation
corpus's own patrons (the generator is replayed; nothing is written there).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from detectors.checksums import library_mod10_check  # noqa: E402
from proxy.patrons import DirectoryPaths, ImportSummary, import_export  # noqa: E402

EVAL_CORPUS = REPO / "var" / "eval-corpus"


def corpus_patrons(seed: int | None = None) -> list[object]:
    """Every patron the evaluation corpus generator creates (replayed with its seeds; no files written)."""
    from bench.corpus import generate
    from bench.corpus.identity import People
    from bench.corpus.model import SPLITS
    from bench.corpus.scene import Ctx

    seed = generate.DEFAULT_SEED if seed is None else seed
    out: list[object] = []
    for split in SPLITS:
        for n, job in enumerate(generate.plan(split), start=1):
            rng = random.Random(f"{seed}:{split}:{n}")
            today = dt.date(2025, 1, 6) + dt.timedelta(days=rng.randrange(0, 330))
            ctx = Ctx(split, rng, People(rng), f"{seed}/{split}/{n}", today)
            job(ctx)
            out.extend(ctx.people.patrons)
    return out


def corpus_export(path: Path) -> int:
    """Write the corpus's patrons as a Create Lists export (guardians' emails made up from their names)."""
    rows = ['"P BARCODE"|"PATRN NAME"|"ADDRESS"|"TELEPHONE"|"EMAIL ADDR"|"BIRTH DATE"|"GUARDIAN EMAIL"']
    seen = set()
    for p in corpus_patrons():
        key = (p.card, p.email)  # type: ignore[attr-defined]
        if key in seen:
            continue
        seen.add(key)
        guardian = ""
        if p.guardian:  # type: ignore[attr-defined]
            guardian = p.guardian.lower().replace(" ", ".") + "@example.net"  # type: ignore[attr-defined]
        rows.append(f'"{p.card}"|"{p.ils_name}"|"{p.dollar_address}"|"{p.phone}"|"{p.email}"|'  # type: ignore[attr-defined]
                    f'"{p.dob_us}"|"{guardian}"')  # type: ignore[attr-defined]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return len(rows) - 1


def build_corpus_directory(folder: Path) -> tuple[DirectoryPaths, ImportSummary]:
    """Import the evaluation corpus's patrons into an index under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    export = folder / "patrons.txt"
    corpus_export(export)
    paths = DirectoryPaths(str(folder / "patrons.db"), str(folder / "key" / "patrons.key"))
    return paths, import_export(export, "sierra-create-lists", paths)


def directory_scanner(config: object, folder: Path) -> tuple[object, ImportSummary]:
    """A scanner like `config`'s with the evaluation corpus's patrons as its directory."""
    import dataclasses

    from proxy.config import DirectoryConfig
    from proxy.scan import Scanner

    paths, summary = build_corpus_directory(folder)
    with_directory = dataclasses.replace(config, directory=DirectoryConfig(index=paths.index, key=paths.key))  # type: ignore[type-var]
    scanner = Scanner(with_directory)
    scanner.warm()
    return scanner, summary


def print_comparison(plain: dict[str, dict[str, object]], directory: dict[str, dict[str, object]], summary: ImportSummary) -> None:
    """Recall, false holds and patron-self delivered per half, without and with the directory."""
    print(f"\n== The same corpus with a patron directory ({summary.patrons} patrons of the corpus, "
          f"{summary.tokens} tokens, {summary.bytes / 1e3:.0f} kB) ==")
    print(f"{'half':<5} {'run':<10} {'disclosures held (recall)':<28} {'ordinary mail held (false holds)':<34} "
          f"{'patron-self delivered':<24}")

    def pct(num: object, den: object) -> str:
        return f"{num}/{den} = {int(num) / int(den):6.1%}" if den else "-"  # type: ignore[call-overload]

    for split in ("dev", "test"):
        for name, sums in (("plain", plain), ("directory", directory)):
            s = sums.get(split)
            if not s:
                continue
            print(f"{split:<5} {name:<10} {pct(s['disclosures_held'], s['disclosures']):<28} "
                  f"{pct(s['false_holds'], s['ordinary']):<34} {pct(s['patron_self_delivered'], s['patron_self']):<24}")


_FIRST = ("James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard Susan Joseph "
          "Jessica Thomas Sarah Charles Karen Maria Jose Luis Ana Carmen Nguyen Minh Thi Olga Ivan Sofia Daniel Emma "
          "Noah Olivia Liam Ava Mateo Isabella Lucas Mia Wei Priya Ahmed Fatima Hiroshi Yuki Kwame Amara").split()
_LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
         "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
         "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera "
         "Campbell Mitchell Carter Roberts Tran Pham Ivanov Petrova Kim Patel Singh Chen Wang Yamamoto Okafor").split()
_STREETS = ("Oak Maple Cedar Pine Elm Birch Willow Liberty Commercial Lancaster Center Court State Market Chemeketa "
            "Mission Winter Summer Cherry Madrona Kuebler Orchard Heights Wallace Brush College Silverton Hayesville").split()
_SUFFIXES = ("St", "Ave", "Rd", "Dr", "Ln", "Ct", "Way", "Blvd", "Pl", "Loop")
_DIRS = ("", "", "NE", "SE", "NW", "S", "N")


def synthetic_export(path: Path, n: int, seed: int = 13) -> None:
    """A Create Lists export of `n` made-up patrons (fast: no Faker at this scale)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        fh.write('"P BARCODE"|"PATRN NAME"|"ADDRESS"|"TELEPHONE"|"EMAIL ADDR"|"BIRTH DATE"|"GUARDIAN EMAIL"\n')
        for i in range(n):
            payload = f"2361{i:09d}"
            card = payload + str(library_mod10_check(payload))
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            middle = rng.choice("ABCDEFGHJKLMNPRSTW") if rng.random() < 0.5 else ""
            street = f"{rng.randrange(100, 99999)} {rng.choice(_STREETS)} {rng.choice(_SUFFIXES)} {rng.choice(_DIRS)}".strip()
            phone = f"{rng.choice(('503', '971', '541'))}-{rng.randrange(200, 999)}-{rng.randrange(10000):04d}"
            email = f"{first}.{last}{i}@example.net".lower()
            minor = rng.random() < 0.2
            year = rng.randrange(2008, 2020) if minor else rng.randrange(1935, 2007)
            birth = f"{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}-{year}"
            guardian = f"parent{i}@example.org" if minor else ""
            name = f"{last.upper()}, {first.upper()} {middle}".strip()
            fh.write(f'"{card}"|"{name}"|"{street.upper()}$SALEM OR 97301"|"{phone}"|"{email}"|"{birth}"|"{guardian}"\n')


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_import(n: int, folder: Path) -> DirectoryPaths:
    export = folder / f"export-{n}.txt"
    started = time.perf_counter()
    synthetic_export(export, n)
    written = time.perf_counter() - started
    paths = DirectoryPaths(str(folder / f"patrons-{n}.db"), str(folder / "patrons.key"))
    summary = import_export(export, "sierra-create-lists", paths)
    size = os.stat(paths.index).st_size
    print(f"{n:>8} patrons  export {export.stat().st_size / 1e6:7.1f} MB (written in {written:5.1f} s)  "
          f"import {summary.seconds:6.1f} s  index {size / 1e6:7.1f} MB ({summary.tokens} tokens, "
          f"{size / max(1, summary.patrons):5.0f} B/patron)  peak RSS {_peak_mb():6.0f} MB  skipped {sum(summary.skipped.values())}")
    export.unlink()
    return paths


def bench_lookup(paths: DirectoryPaths, messages: int) -> None:
    """The directory step alone per message: candidates, keyed-hash lookups, matching."""
    from detectors.directory import DirectoryMatcher
    from detectors.engine import DetectionEngine, EngineSettings
    from detectors.extract import extract
    from detectors.names import NameSettings
    from proxy.patrons import PatronIndex

    files = sorted(EVAL_CORPUS.glob("*/*.eml"))[:messages] if EVAL_CORPUS.is_dir() else []
    if not files:
        files = sorted((REPO / "examples").glob("*.eml"))
    engine = DetectionEngine(EngineSettings(names=NameSettings(enabled=False)))  # cheap detectors only
    index = PatronIndex(paths)
    matcher = DirectoryMatcher(index)
    prepared = []
    for f in files:
        ex = extract(f.read_bytes(), engine.settings.limits, registry=engine.registry)
        findings, _ = engine.detect(ex.parts)
        prepared.append((ex.parts, findings))
    matcher.identifiers(*prepared[0])  # open the index
    times = []
    lookups = 0
    for parts, findings in prepared:
        started = time.perf_counter()
        hits = matcher.identifiers(parts, findings)
        matcher.match(parts, findings, hits)
        times.append(time.perf_counter() - started)
        lookups += len(hits)
    times.sort()
    mean = sum(times) / len(times)
    print(f"lookup over {len(times)} messages ({Path(paths.index).name}): mean {mean * 1e6:7.0f} µs, "
          f"median {times[len(times) // 2] * 1e6:7.0f} µs, p99 {times[int(len(times) * 0.99)] * 1e6:7.0f} µs per message "
          f"({lookups} tokens found)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 500_000])
    parser.add_argument("--messages", type=int, default=300, help="evaluation corpus messages for the lookup cost")
    parser.add_argument("--dir", type=Path, help="where to write the indexes (default: a temporary directory)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        last = None
        for n in args.sizes:
            last = bench_import(n, folder)
        if last is not None:
            bench_lookup(last, args.messages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
