"""Write the evaluation corpus: labelled .eml files for the dev and test halves, and a manifest.

    python bench/corpus/generate.py [--out var/eval-corpus] [--seed 11]

The same seed and sources give the same bytes. Output (never committed):

    OUT/dev/NNNN-<family>-<kind>.eml, OUT/test/NNNN-....eml
    OUT/manifest.jsonl   one object per message: file, split, class, family, kind, scenario,
                         templates, sources, carrier, lang, recipients [{address, expect, role}],
                         categories, cards (full card numbers written in it), addressee (patron-self)
    OUT/STAMP            seed and a digest of the generator's sources (eval.py regenerates when it changes)

The split is by source material: every template, table layout, sentence and
phrasing belongs to one half (see `split` in each module), and a message of
a half is built only from that half's material.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.corpus import disclosures, ordinary, patronself, tables  # noqa: E402
from bench.corpus.identity import People  # noqa: E402
from bench.corpus.mime import render  # noqa: E402
from bench.corpus.model import SPLITS  # noqa: E402
from bench.corpus.scene import Built, Ctx  # noqa: E402

DEFAULT_OUT = REPO / "var" / "eval-corpus"
DEFAULT_SEED = 11
HERE = Path(__file__).resolve().parent

Job = Callable[[Ctx], Built]

ILS_FAMILIES = ("koha", "evergreen", "sierra", "polaris", "symphony")
IDENTIFIER_KINDS = ("card", "partial-card", "license", "birth-date", "other-card")
PROSE_KINDS = ("address", "circulation", "holds", "fines", "notes", "card")


def plan(split: str) -> Iterator[Job]:
    """The messages of one half, in order: what is built from which material."""
    # ILS notices, slips and records forwarded outside: ~20 per family.
    for family in ILS_FAMILIES + ("multilingual",):
        ts = disclosures.templates_for(split, family)
        per = max(3, round((12 if family == "multilingual" else 20) / len(ts)))
        for t in ts:
            for _ in range(per):
                yield lambda ctx, t=t: disclosures.notice_forward(ctx, t)
    # Staff prose in English, Spanish, Vietnamese, Russian.
    for _ in range(36):
        yield lambda ctx: disclosures.prose_message(ctx, "prose", PROSE_KINDS)
    langs = ("es", "es", "es", "vi") if split == "dev" else ("es", "es", "es", "ru")
    for n in range(12):
        yield lambda ctx, lang=langs[n % 4]: disclosures.prose_message(ctx, "multilingual", PROSE_KINDS, lang)
    # Identifiers: other institutions' cards, last-8, licence numbers, birth dates.
    for _ in range(16):
        yield lambda ctx: disclosures.prose_message(ctx, "identifiers", IDENTIFIER_KINDS)
    for _ in range(8):
        yield disclosures.card_alone
    # Lists and exports, pasted and attached.
    for layout in tables.layouts(split):
        for _ in range(6):
            yield lambda ctx, lay=layout: disclosures.list_message(ctx, lay, "tables")
        for _ in range(6):
            yield lambda ctx, lay=layout: disclosures.list_message(ctx, lay, "attachments")
    # The collection agency and fax.
    for excess in ("titles", "holds", "notes"):
        for _ in range(3):
            yield lambda ctx, e=excess: disclosures.agency_referral(ctx, e)
    for _ in range(5):
        yield lambda ctx: disclosures.agency_referral(ctx, None)
    for _ in range(6):
        yield lambda ctx: disclosures.fax_message(ctx, approved=False, with_titles=False)
    for _ in range(3):
        yield lambda ctx: disclosures.fax_message(ctx, approved=True, with_titles=True)
    for _ in range(4):
        yield lambda ctx: disclosures.fax_message(ctx, approved=True, with_titles=False)
    # Mail to the patron herself, and its counter-cases.
    for _ in range(30):
        yield patronself.self_letter
    for _ in range(22):
        yield patronself.self_notice
    for variant in ("extra-patron", "wrong-address", "cc-relative"):
        for _ in range(4):
            yield lambda ctx, v=variant: patronself.self_counter(ctx, v)
    # Ordinary library business mail.
    for kind in ordinary.WRITERS:
        n = {"blank-template": 12, "fax-purchase-order": 3, "internal-record": 6}.get(kind, 8)
        for _ in range(n):
            yield lambda ctx, k=kind: ordinary.ordinary_message(ctx, k)


def source_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(HERE.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def stamp_text(seed: int) -> str:
    import faker

    return f"seed={seed} sources={source_digest()} faker={faker.VERSION}\n"


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() else "-" for c in text.lower())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")[:40]


def generate(out: Path = DEFAULT_OUT, seed: int = DEFAULT_SEED) -> list[dict[str, object]]:
    """Write both halves under `out` (replacing what was there) and return the manifest rows."""
    if (REPO / "tests" / "leakset").resolve() in (out.resolve(), *out.resolve().parents):
        raise ValueError(f"{out}: the evaluation corpus is never written into tests/leakset")
    if out.exists():
        shutil.rmtree(out)
    rows: list[dict[str, object]] = []
    for split in SPLITS:
        folder = out / split
        folder.mkdir(parents=True)
        for n, job in enumerate(plan(split), start=1):
            rng = random.Random(f"{seed}:{split}:{n}")
            today = dt.date(2025, 1, 6) + dt.timedelta(days=rng.randrange(0, 330))
            ctx = Ctx(split, rng, People(rng), f"{seed}/{split}/{n}", today)
            built = job(ctx)
            labels = built.labels
            name = f"{n:04d}-{labels.family}-{_slug(labels.kind)}.eml"
            (folder / name).write_bytes(render(built.mail))
            row: dict[str, object] = {"file": f"{split}/{name}", "split": split}
            row.update(asdict(labels))
            rows.append(row)
    with (out / "manifest.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    (out / "STAMP").write_text(stamp_text(seed), encoding="utf-8")
    return rows


def is_current(out: Path = DEFAULT_OUT, seed: int = DEFAULT_SEED) -> bool:
    stamp = out / "STAMP"
    return stamp.is_file() and stamp.read_text(encoding="utf-8") == stamp_text(seed) and (out / "manifest.jsonl").is_file()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = generate(args.out, args.seed)
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (str(row["split"]), str(row["klass"]))
        counts[key] = counts.get(key, 0) + 1
    summary = ", ".join(f"{s}/{k}={v}" for (s, k), v in sorted(counts.items()))
    print(f"wrote {len(rows)} messages to {args.out} in {time.perf_counter() - started:.1f} s ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
