"""Quarantine benchmark: hold, list and purge 10,000 items on SQLite (and PostgreSQL when it can start one).

For each backend and run, on a fresh database and key file:

  hold     N messages of ~2 KB, one transaction each (as the relay does: sealed,
           audited, durable — SQLite synchronous=FULL; the throwaway PostgreSQL
           cluster runs with fsync=off, so its figure is a lower bound)
  list     all N items' metadata (`store.items()`)
  expire   `purge()` after the retention time: N items expired one transaction
           each, content destroyed, notices, compaction
  delete   `purge()` after the audit period: N items' metadata deleted in batches

Prints the command, the machine, and medians over the runs.

    .venv/bin/python bench/quarantine.py [--items N] [--runs R] [--no-postgres] [--dsn DSN]
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from proxy.quarantine import KeyRing, RetentionPolicy, purge  # noqa: E402
from proxy.quarantine.sql import SqlQuarantine  # noqa: E402

BODY = ("Dear patron, your card 23610003622817 has $12.50 in fines for 'The Overstory'.\r\n" * 24).encode()


class Clock:
    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.now = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


def one_run(open_store: Callable[[Path, Clock], SqlQuarantine], n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="pg-bench-") as tmp:
        clock = Clock()
        store = open_store(Path(tmp), clock)
        raw = b"From: circ@cityofsalem.net\r\nTo: p@gmail.com\r\nSubject: fines\r\n\r\n" + BODY
        findings = [{"kind": "patron_card", "excerpt": "card 2361******2817 has", "part": "1"}]
        t0 = time.perf_counter()
        for _ in range(n):
            store.hold(raw, "circ@cityofsalem.net", ["p@gmail.com"], ["external"], ["patron-card"], findings)
        t1 = time.perf_counter()
        listed = store.items()
        t2 = time.perf_counter()
        assert len(listed) == n
        clock.now += timedelta(days=15)
        expired = purge(store, RetentionPolicy(retention_days=14, audit_days=30), clock=clock)
        t3 = time.perf_counter()
        clock.now += timedelta(days=31)
        deleted = purge(store, RetentionPolicy(retention_days=14, audit_days=30), clock=clock)
        t4 = time.perf_counter()
        assert expired.expired == n and deleted.metadata_deleted == n, (expired, deleted)
        store.close()
    return {"hold": t1 - t0, "list": t2 - t1, "expire": t3 - t2, "delete": t4 - t3}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--dsn", help="an existing, empty PostgreSQL database (default: start a throwaway cluster)")
    args = ap.parse_args()
    print("command:", shlex.join([".venv/bin/python", "bench/quarantine.py", *sys.argv[1:]]))
    print(f"machine: {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}, {platform.platform()}")
    print(f"items: {args.items}, runs: {args.runs} (medians)\n")

    def sqlite(tmp: Path, clock: Clock) -> SqlQuarantine:
        from proxy.quarantine.sqlite import SqliteQuarantine

        return SqliteQuarantine(tmp / "q.db", KeyRing.load_or_create(tmp / "q.key"), clock)

    backends: list[tuple[str, Callable[[Path, Clock], SqlQuarantine]]] = [("sqlite", sqlite)]
    cluster = None
    if not args.no_postgres:
        dsn_source: Callable[[], str] | None = None
        if args.dsn:
            dsn_source = lambda: args.dsn  # noqa: E731
        else:
            try:
                from quarantine_support import PgCluster

                cluster = PgCluster()
                dsn_source = cluster.create_database
            except Exception as exc:  # a benchmark reports and goes on
                print(f"postgresql: skipped ({exc})\n")
        if dsn_source is not None:
            source = dsn_source

            def postgres(tmp: Path, clock: Clock) -> SqlQuarantine:
                from proxy.quarantine.postgres import PostgresQuarantine

                return PostgresQuarantine(source(), KeyRing.load_or_create(tmp / "q.key"), clock)

            backends.append(("postgresql" + (" (fsync=off)" if cluster else ""), postgres))
    try:
        print(f"{'backend':<24} {'hold N':>10} {'per item':>9} {'list N':>9} {'expire N':>10} {'delete N':>10}")
        for name, opener in backends:
            runs = [one_run(opener, args.items) for _ in range(args.runs)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(f"{name:<24} {med['hold']:>9.2f}s {med['hold'] / args.items * 1000:>7.2f}ms "
                  f"{med['list']:>8.2f}s {med['expire']:>9.2f}s {med['delete']:>9.2f}s", flush=True)
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
