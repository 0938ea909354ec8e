"""Large content: scan time against size for patron exports, item lists and prose.

    .venv/bin/python bench/bigcontent.py [--rows 1000,10000,50000] [--runs 3] [--config FILE]
                                         [--ham DIR] [--ham-limit N] [--profile KIND:ROWS]

Builds, in memory and deterministically, three kinds of large message and scans
each with the full scanner (one process, as one scan worker does), alternating
with a baseline of ordinary mail in the same run (this machine has 2 noisy cores):

- `export`: a Sierra Create Lists patron export as a CSV attachment (unquoted
  comma-separated, the way Excel writes it): card barcode, name, address, phone,
  email, money owed, for `rows` patrons. Must be held by a patron rule.
- `items`: an item list for a vendor (item barcode, title, author, call number,
  price): no patron data. Must be delivered.
- `prose`: plain library prose (policy text) of about the same size. Delivered.

For each it prints the median seconds, MB/s and the ratio to ordinary mail's
bytes per second in the same run, and the verdict (the action for one outside
recipient and its rules). `--profile export:1000` runs cProfile on one scan and
prints the top 25 functions by cumulative time instead.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import statistics
import sys
import time
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_HAM = REPO.parent / "shared" / "corpus" / "spamassassin_ham"
OUTSIDE = ["someone@example.com"]

_FIRST = ["Maria", "James", "Linh", "Olga", "Ahmed", "Grace", "Jose", "Priya", "Tom", "Ana", "Dmitri", "Keiko"]
_LAST = ["Garcia", "Nguyen", "Smith", "Ivanova", "Hassan", "Okafor", "Lopez", "Patel", "Brown", "Tanaka", "Kim"]
_STREETS = ["Center St NE", "Liberty St SE", "Oak Ave", "Commercial St SE", "Lancaster Dr NE", "Mission St"]
_WORDS = ("the library board adopted the policy on meeting room use after public comment and review by staff "
          "of the branch libraries who schedule rooms for community groups and nonprofit organisations").split()
_TITLES = ["The Overstory", "Braiding Sweetgrass", "Educated", "The Water Dancer", "Circe", "Klara and the Sun",
           "Hamnet", "Project Hail Mary", "The Vanishing Half", "Pachinko", "Normal People", "Lincoln in the Bardo"]
_AUTHORS = ["Powers, Richard", "Kimmerer, Robin Wall", "Westover, Tara", "Coates, Ta-Nehisi", "Miller, Madeline",
            "Ishiguro, Kazuo", "O'Farrell, Maggie", "Weir, Andy", "Bennett, Brit", "Lee, Min Jin"]


def _luhn_card(rng: random.Random, prefix: str) -> str:
    """A 14-digit Codabar-style barcode with a valid mod-10 check digit."""
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(13 - len(prefix)))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


def export_csv(rows: int, seed: int = 14) -> str:
    rng = random.Random(seed)
    lines = ["P BARCODE,PATRN NAME,ADDRESS,TELEPHONE,EMAIL ADDR,MONEY OWED"]
    for _ in range(rows):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        lines.append(",".join([
            _luhn_card(rng, "23610"), f'"{last}, {first}"',
            f'"{rng.randrange(100, 9999)} {rng.choice(_STREETS)}, Salem OR 973{rng.randrange(10, 99)}"',
            f"503-555-{rng.randrange(10000):04d}", f"{first.lower()}.{last.lower()}{rng.randrange(99)}@example.com",
            f"${rng.randrange(0, 9000) / 100:.2f}",
        ]))
    return "\r\n".join(lines) + "\r\n"


def items_csv(rows: int, seed: int = 15) -> str:
    rng = random.Random(seed)
    lines = ["ITEM BARCODE,TITLE,AUTHOR,CALL #,PRICE"]
    for _ in range(rows):
        lines.append(",".join([
            _luhn_card(rng, "33610"), f'"{rng.choice(_TITLES)}"', f'"{rng.choice(_AUTHORS)}"',
            f"FIC {rng.choice(_AUTHORS)[:3].upper()}", f"{rng.randrange(800, 4000) / 100:.2f}",
        ]))
    return "\r\n".join(lines) + "\r\n"


def prose(size: int, seed: int = 16) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    length = 0
    while length < size:
        sentence = " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(8, 20))).capitalize() + "."
        out.append(sentence)
        length += len(sentence) + 1
        if rng.random() < 0.15:
            out.append("\n\n")
    return " ".join(out)


def message(kind: str, rows: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "circ@ccrls.org"
    msg["To"] = OUTSIDE[0]
    msg["Subject"] = {"export": "patron list", "items": "weeding list for pricing", "prose": "policy draft"}[kind]
    if kind == "prose":
        msg.set_content(prose(rows * 110))
        return msg.as_bytes()
    msg.set_content("Here is the list you asked for.\n\nCirculation desk\n")
    body = export_csv(rows) if kind == "export" else items_csv(rows)
    msg.add_attachment(body.encode(), maintype="text", subtype="csv", filename=f"{kind}.csv")
    return msg.as_bytes()


def ham(directory: Path, limit: int) -> list[bytes]:
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    step = max(1, len(files) // limit)
    return [p.read_bytes() for p in files[::step][:limit]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="1000,10000,50000", help="comma-separated row counts (default %(default)s)")
    parser.add_argument("--runs", type=int, default=3, help="runs per size; medians are printed (default 3)")
    parser.add_argument("--config", default=str(REPO / "config.yaml"))
    parser.add_argument("--ham", type=Path, default=DEFAULT_HAM, help="ordinary mail for the baseline")
    parser.add_argument("--ham-limit", type=int, default=300)
    parser.add_argument("--kinds", default="export,items,prose")
    parser.add_argument("--profile", metavar="KIND:ROWS", help="profile one scan, e.g. export:1000")
    args = parser.parse_args(argv)
    try:
        sizes = [int(r) for r in args.rows.split(",") if r]
    except ValueError:
        parser.error(f"--rows: expected comma-separated whole numbers, got {args.rows!r}")
    kinds = [k for k in args.kinds.split(",") if k]
    for kind in kinds:
        if kind not in ("export", "items", "prose"):
            parser.error(f"--kinds: expected export, items or prose, got {kind!r}")

    from proxy.scanning.scan import Scanner

    scanner = Scanner.from_config(args.config)
    scanner.warm()
    if args.profile:
        kind, _, rows = args.profile.partition(":")
        raw = message(kind, int(rows or 1000))
        profile = cProfile.Profile()
        profile.enable()
        result = scanner.scan(raw, OUTSIDE)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())
        print(f"{kind}:{rows}: {len(raw) / 1e6:.2f} MB, action {result.recipients[0].action.value}")
        return 0

    mail = ham(args.ham, args.ham_limit) if args.ham.is_dir() else []
    mail_bytes = sum(len(m) for m in mail)
    print(f"baseline: {len(mail)} ordinary messages, {mail_bytes / 1e6:.2f} MB ({args.ham})")
    print(f"{'kind':8} {'rows':>7} {'MB':>6} {'median s':>9} {'MB/s':>7} {'vs mail':>8}  verdict")
    for rows in sizes:
        for kind in kinds:
            raw = message(kind, rows)
            times, base = [], []
            verdict = ""
            for _ in range(args.runs):
                if mail:
                    started = time.perf_counter()
                    for m in mail:
                        scanner.scan(m, OUTSIDE)
                    base.append(time.perf_counter() - started)
                started = time.perf_counter()
                result = scanner.scan(raw, OUTSIDE)
                times.append(time.perf_counter() - started)
                decision = result.recipients[0]
                verdict = f"{decision.action.value} {','.join(decision.rules) or '-'}"
            seconds = statistics.median(times)
            rate = len(raw) / seconds
            ratio = f"{rate / (mail_bytes / statistics.median(base)):.2f}x" if mail else "-"
            print(f"{kind:8} {rows:>7} {len(raw) / 1e6:>6.2f} {seconds:>9.2f} {rate / 1e6:>7.2f} {ratio:>8}  {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
