"""Evaluation: the labelled leak set, the generated evaluation corpus, then the shared ham and MIME corpora.

This script owns the numbers a reviewer asks for before trusting the scanner:
recall on hand-written leaks, false holds on hand-written library business mail;
on the generated evaluation corpus (bench/corpus, written to var/eval-corpus),
for its dev and test halves separately, recall on disclosures, the false-hold
rate on ordinary library mail sent outside and the delivered rate of mail to
the patron herself, with a rule x source-family table; the hold rate on real
ham mail sent to an outside address, and whether every malformed MIME message
still gets a verdict.

It prints file names, scenarios, recipient classes, actions and rule ids —
never message content — so its output can be pasted into an issue. Misses are
listed one by one for the dev half only; the test half is reported as
aggregates (its messages are for measuring, not for reading) unless
--show-test is given.

    python bench/eval.py [--config FILE] [--json] [--no-corpus] [--no-eval-corpus] [--show-test]

The evaluation corpus is generated first when it is missing or was made by an
older generator (seconds). Judged per recipient: a disclosure passes when every
recipient that must not receive it is held (a redacted copy counts as
protected, as the shared corpora count it as held); an ordinary or patron-self
message passes when every recipient gets it delivered.

Exit status: 0; with --strict, 1 when a target is missed (a leak delivered,
a negative held, ham hold rate above 0.5%, a MIME message without a verdict,
or on the evaluation corpus's test half: recall below 99%, false holds above
2%, patron-self mail delivered below 95%).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a clone without installing

LEAKSET = REPO / "tests" / "leakset"
CORPUS = REPO.parent / "shared" / "corpus"
EVAL_CORPUS = REPO / "var" / "eval-corpus"
OUTSIDE = "someone@example.com"
HAM_TARGET = 0.005
# Targets on the evaluation corpus's test half (issue 11).
RECALL_TARGET = 0.99
FALSE_HOLD_TARGET = 0.02
SELF_DELIVERED_TARGET = 0.95
PROTECTED = ("hold", "redact")

# The consortium domains as the labels were written (NOTES.md §4). Judging
# against our own list, not the scanner's classification, means a recipient
# wrongly classified as internal still counts as a miss.
INTERNAL_DOMAINS = ("ccrls.org", "cityofsalem.net", "dallasor.gov", "ci.dayton.or.us",
                    "mtangelpubliclibrary.com", "chemeketa.edu")


def is_internal(address: str) -> bool:
    domain = address.rpartition("@")[2].lower().rstrip(">. ")
    return any(domain == d or domain.endswith("." + d) for d in INTERNAL_DOMAINS)


@dataclass(frozen=True)
class Label:
    file: str
    expect: str  # hold | deliver
    scenario: str


def read_labels(folder: Path = LEAKSET) -> list[Label]:
    rows = (folder / "labels.tsv").read_text(encoding="utf-8").splitlines()
    header, *body = rows
    assert header.split("\t") == ["file", "expect", "scenario"], f"unexpected labels.tsv header: {header!r}"
    labels = [Label(*line.split("\t", 2)) for line in body if line.strip()]
    for label in labels:
        assert label.expect in ("hold", "deliver"), f"{label.file}: bad expect {label.expect!r}"
    return labels


def verdict_ok(expect: str, recipients: list[dict[str, str]]) -> bool:
    """A leak passes when every outside recipient is held; a negative when everyone gets it."""
    if expect == "deliver":
        return bool(recipients) and all(r["action"] == "deliver" for r in recipients)
    outside = [r for r in recipients if not is_internal(r["address"])]
    return bool(outside) and all(r["action"] == "hold" for r in outside)


@dataclass
class Row:
    file: str
    expect: str
    scenario: str
    ok: bool
    recipients: list[dict[str, str]]
    rules: list[str]
    kinds: list[str]
    error: str | None = None


@dataclass
class LeaksetReport:
    rows: list[Row] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def leaks(self) -> list[Row]:
        return [r for r in self.rows if r.expect == "hold"]

    @property
    def negatives(self) -> list[Row]:
        return [r for r in self.rows if r.expect == "deliver"]

    def summary(self) -> dict[str, Any]:
        held = sum(r.ok for r in self.leaks)
        false_holds = sum(not r.ok for r in self.negatives)
        return {
            "leaks": len(self.leaks),
            "leaks_held": held,
            "recall": held / len(self.leaks) if self.leaks else None,
            "negatives": len(self.negatives),
            "false_holds": false_holds,
            "seconds": round(self.seconds, 2),
        }


def scan_leakset(scanner: Any, labels: list[Label]) -> LeaksetReport:
    report = LeaksetReport()
    started = time.perf_counter()
    for label in labels:
        raw = (LEAKSET / label.file).read_bytes()
        try:
            out = scanner.scan(raw).to_json(label.file)
        except Exception as exc:  # report and go on: one broken message must not hide the others
            report.rows.append(Row(label.file, label.expect, label.scenario, False, [], [], [], type(exc).__name__))
            continue
        recipients = [{"address": r["address"], "class": r["class"], "action": r["action"]} for r in out["recipients"]]
        kinds = sorted({f["kind"] for f in out["findings"]})
        report.rows.append(Row(label.file, label.expect, label.scenario, verdict_ok(label.expect, recipients),
                               recipients, list(out["rules"]), kinds))
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class CorpusReport:
    name: str
    total: int = 0
    verdicts: collections.Counter[str] = field(default_factory=collections.Counter)
    held_files: list[tuple[str, list[str]]] = field(default_factory=list)
    rule_histogram: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (file, exception type)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        held = self.verdicts.get("hold", 0) + self.verdicts.get("redact", 0)
        return {
            "total": self.total,
            "verdicts": dict(self.verdicts),
            "held": held,
            "held_rate": held / self.total if self.total else None,
            "rules_on_held": dict(self.rule_histogram.most_common()),
            "errors": [{"file": f, "error": e} for f, e in self.errors],
            "seconds": round(self.seconds, 2),
            "messages_per_second": round(self.total / self.seconds, 1) if self.seconds else None,
        }


def message_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "_attribution" not in p.relative_to(folder).parts)


def scan_corpus(scanner: Any, name: str, folder: Path, root: Path) -> CorpusReport:
    report = CorpusReport(name)
    started = time.perf_counter()
    for path in message_files(folder):
        report.total += 1
        rel = str(path.relative_to(root))
        try:
            result = scanner.scan(path.read_bytes(), [OUTSIDE])
            out = result.to_json(rel)
        except Exception as exc:
            report.errors.append((rel, type(exc).__name__))
            report.verdicts["error"] += 1
            continue
        actions = [r["action"] for r in out["recipients"]]
        if not actions:
            report.verdicts["missing"] += 1
            continue
        verdict = "deliver" if all(a == "deliver" for a in actions) else ("hold" if "hold" in actions else actions[0])
        report.verdicts[verdict] += 1
        if verdict != "deliver":
            report.held_files.append((rel, list(out["rules"])))
            report.rule_histogram.update(out["rules"] or ["(no rule)"])
    report.seconds = time.perf_counter() - started
    return report


# ---------------------------------------------------------------- evaluation corpus


@dataclass
class EvalRow:
    file: str
    split: str
    klass: str  # disclosure | ordinary | patron-self
    family: str
    kind: str
    scenario: str
    ok: bool
    expected: list[dict[str, str]]
    got: list[dict[str, str]]
    rules: list[str]
    kinds: list[str]
    error: str | None = None
    why: str = ""  # for a miss: the mechanism (see miss_mechanism), never content


_IDENTIFIER_KINDS = {"phone", "email", "street_address", "city_state_zip", "drivers_license", "birth_date",
                     "partial_barcode", "patron_barcode"}
_RECORD_KINDS = {"circulation", "hold", "money_owed", "patron_note"}
_CONTEXT_KINDS = {"patron_context", "person_reference"}


def miss_mechanism(klass: str, ok: bool, rules: list[str], kinds: list[str], got: list[dict[str, str]]) -> str:
    """Why a message was judged wrong, in categories: which step of detection did not bind."""
    if ok:
        return ""
    if klass != "disclosure":
        detection = [r for r in rules if not r.startswith(("policy:", "partner-", "fax-"))]
        return "held by " + (", ".join(sorted(set(detection))) or "policy")
    if "patron-is-recipient" in rules or "trusted-notice-to-patron" in rules:
        return "delivered as the patron herself"
    if any(not r.startswith("policy:") for r in rules):
        return "disclosure found, recipient allowed it (scope)"
    k = set(kinds)
    has_name, has_id, has_rec = "person_name" in k, bool(k & _IDENTIFIER_KINDS), bool(k & _RECORD_KINDS)
    if has_name and has_id:
        return "name and identifier, not bound"
    if has_name and has_rec:
        return "name and record words, not bound"
    if has_id:
        return "identifier, no name found"
    if has_rec:
        return "record words, no name found"
    if has_name:
        return "name alone"
    return "nothing found"


def where_bound(result: Any) -> str:
    """Where the names a held message's disclosures bind stand: its closing lines (a signature the
    scanner did not see as one), a forwarded or attached part, or the body."""
    parts = {p.path: p for p in result.message.extraction.parts}
    places = set()
    for d in result.message.assessment.disclosures:
        for f in d.findings:
            if f.kind.value != "person_name" or f.part not in parts:
                continue
            part = parts[f.part]
            if part.origin != "body":
                places.add(part.origin)
            elif part.text.count("\n", f.end) <= 12 and len(part.text) - f.end < 600:
                places.add("closing lines")
            else:
                places.add("body")
    return ", ".join(sorted(places)) or "no name"


def judge(klass: str, expected: list[dict[str, str]], got: dict[str, str]) -> bool:
    """Per recipient: every recipient labelled hold is protected; for mail that must go, everyone gets it."""
    if not expected:
        return False
    if klass == "disclosure":
        return all(got.get(e["address"].lower()) in PROTECTED for e in expected if e["expect"] == "hold")
    return all(got.get(e["address"].lower()) == "deliver" for e in expected)


def load_eval_corpus(folder: Path, regenerate: bool = True) -> list[dict[str, Any]]:
    if regenerate and folder.resolve() == EVAL_CORPUS.resolve():
        from bench.corpus import generate

        if not generate.is_current(folder):
            started = time.perf_counter()
            rows = generate.generate(folder)
            print(f"eval: generated the evaluation corpus ({len(rows)} messages, {time.perf_counter() - started:.1f} s) "
                  f"in {folder}", file=sys.stderr)
    manifest = folder / "manifest.jsonl"
    return [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip()]


def scan_eval_corpus(scanner: Any, folder: Path, manifest: list[dict[str, Any]]) -> list[EvalRow]:
    rows = []
    for entry in manifest:
        raw = (folder / entry["file"]).read_bytes()
        base = dict(file=entry["file"], split=entry["split"], klass=entry["klass"], family=entry["family"], kind=entry["kind"],
                    scenario=entry["scenario"], expected=entry["recipients"])
        try:
            result = scanner.scan(raw)
            out = result.to_json(entry["file"])
        except Exception as exc:  # report and go on
            rows.append(EvalRow(**base, ok=False, got=[], rules=[], kinds=[], error=type(exc).__name__))
            continue
        got = [{"address": r["address"], "class": r["class"], "action": r["action"]} for r in out["recipients"]]
        actions = {r["address"].lower(): r["action"] for r in got}
        ok = judge(entry["klass"], entry["recipients"], actions)
        kinds = sorted({f["kind"] for f in out["findings"]})
        why = miss_mechanism(entry["klass"], ok, list(out["rules"]), kinds, got)
        if why.startswith("held by"):
            why += " (" + where_bound(result) + ")"
        rows.append(EvalRow(**base, ok=ok, got=got, rules=list(out["rules"]), kinds=kinds, why=why))
    return rows


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def eval_summary(rows: list[EvalRow]) -> dict[str, Any]:
    """Aggregates for one half: recall, false holds, patron-self delivered, and per family."""
    disc = [r for r in rows if r.klass == "disclosure"]
    ordi = [r for r in rows if r.klass == "ordinary"]
    self_ = [r for r in rows if r.klass == "patron-self"]
    families: dict[str, dict[str, Any]] = {}
    for r in rows:
        f = families.setdefault(r.family, {"messages": 0, "disclosures": 0, "held": 0, "missed": 0, "to_deliver": 0,
                                           "delivered": 0, "false_holds": 0, "rules": collections.Counter()})
        f["messages"] += 1
        if r.klass == "disclosure":
            f["disclosures"] += 1
            f["held" if r.ok else "missed"] += 1
        else:
            f["to_deliver"] += 1
            f["delivered" if r.ok else "false_holds"] += 1
        f["rules"].update(x for x in r.rules if not x.startswith("policy:"))
    for f in families.values():
        f["rules"] = dict(f["rules"].most_common())
    return {
        "messages": len(rows),
        "disclosures": len(disc), "disclosures_held": sum(r.ok for r in disc),
        "recall": _rate(sum(r.ok for r in disc), len(disc)),
        "ordinary": len(ordi), "false_holds": sum(not r.ok for r in ordi),
        "false_hold_rate": _rate(sum(not r.ok for r in ordi), len(ordi)),
        "patron_self": len(self_), "patron_self_delivered": sum(r.ok for r in self_),
        "patron_self_delivered_rate": _rate(sum(r.ok for r in self_), len(self_)),
        "errors": sum(r.error is not None for r in rows),
        "families": families,
    }


def miss_json(row: EvalRow) -> dict[str, Any]:
    """A miss without addresses: roles and expectations, recipient classes and actions, rules."""
    return {"file": row.file, "split": row.split, "class": row.klass, "family": row.family, "kind": row.kind,
            "scenario": row.scenario, "expected": [{"role": e["role"], "expect": e["expect"]} for e in row.expected],
            "got": [{"class": g["class"], "action": g["action"]} for g in row.got], "rules": row.rules,
            "finding_kinds": row.kinds, "error": row.error}


def eval_targets_missed(test: dict[str, Any]) -> list[str]:
    missed = []
    if test["recall"] is not None and test["recall"] < RECALL_TARGET:
        missed.append("recall")
    if test["false_hold_rate"] is not None and test["false_hold_rate"] > FALSE_HOLD_TARGET:
        missed.append("false holds")
    if test["patron_self_delivered_rate"] is not None and test["patron_self_delivered_rate"] < SELF_DELIVERED_TARGET:
        missed.append("patron-self delivered")
    if test["errors"]:
        missed.append("exceptions")
    return missed


def _pct(num: int, den: int) -> str:
    return f"{num}/{den} = {num / den:6.1%}" if den else "-"


def _expect_text(expected: list[dict[str, str]]) -> str:
    return ", ".join(f"{e['role']}:{e['expect']}" for e in expected)


def _got_text(row: EvalRow) -> str:
    if row.error:
        return f"exception {row.error}"
    return ", ".join(f"{g['class']}:{g['action']}" for g in row.got) or "-"


def print_eval_corpus(folder: Path, rows: list[EvalRow], show_test: bool, seconds: float) -> None:
    halves = {split: [r for r in rows if r.split == split] for split in ("dev", "test")}
    sums = {split: eval_summary(hrows) for split, hrows in halves.items()}
    print(f"\n== Evaluation corpus ({folder}): {len(rows)} messages ==")
    print(f"{'half':<5} {'disclosures held (recall)':<28} {'ordinary mail held (false holds)':<34} "
          f"{'patron-self delivered':<24}")
    for split, s in sums.items():
        print(f"{split:<5} {_pct(s['disclosures_held'], s['disclosures']):<28} {_pct(s['false_holds'], s['ordinary']):<34} "
              f"{_pct(s['patron_self_delivered'], s['patron_self']):<24}")
    missed = eval_targets_missed(sums["test"])
    print(f"targets on the test half: recall >= {RECALL_TARGET:.0%}, false holds <= {FALSE_HOLD_TARGET:.0%}, "
          f"patron-self delivered >= {SELF_DELIVERED_TARGET:.0%}: " + ("met" if not missed else "MISSED (" + ", ".join(missed) + ")"))
    for split, s in sums.items():
        print(f"\n-- {split}: rule x source family --")
        print(f"{'family':<13} {'msgs':>4} {'disc':>4} {'held':>4} {'missed':>6} {'deliver':>7} {'held!':>5}  detection rules fired (messages)")
        for family, f in sorted(s["families"].items()):
            rules = ", ".join(f"{k} {v}" for k, v in list(f["rules"].items())[:6]) or "-"
            print(f"{family:<13} {f['messages']:>4} {f['disclosures']:>4} {f['held']:>4} {f['missed']:>6} {f['to_deliver']:>7} "
                  f"{f['false_holds']:>5}  {rules}")
    print("\n-- mail that had to go but was held, by kind (dev, test) --")
    held = {split: collections.Counter(r.kind for r in hrows if not r.ok and r.klass != "disclosure")
            for split, hrows in halves.items()}
    for kind in sorted(set(held["dev"]) | set(held["test"]), key=lambda k: -(held["dev"][k] + held["test"][k])):
        print(f"  {kind:<60} {held['dev'][kind]:>4} {held['test'][kind]:>4}")
    print("\n-- disclosures delivered, by kind (dev, test) --")
    missed = {split: collections.Counter(r.kind for r in hrows if not r.ok and r.klass == "disclosure")
              for split, hrows in halves.items()}
    for kind in sorted(set(missed["dev"]) | set(missed["test"]), key=lambda k: -(missed["dev"][k] + missed["test"][k])):
        print(f"  {kind:<60} {missed['dev'][kind]:>4} {missed['test'][kind]:>4}")
    print("\n-- why messages were judged wrong (mechanism: dev, test; kinds of message) --")
    counts = {split: collections.Counter(r.why for r in hrows if not r.ok) for split, hrows in halves.items()}
    kinds_of = {split: collections.defaultdict(collections.Counter) for split in halves}
    for split, hrows in halves.items():
        for r in hrows:
            if not r.ok:
                kinds_of[split][r.why][r.kind] += 1
    for why in sorted(set(counts["dev"]) | set(counts["test"]), key=lambda w: -(counts["dev"][w] + counts["test"][w])):
        print(f"  {why:<60} {counts['dev'][why]:>4} {counts['test'][why]:>4}")
        for split in ("dev", "test"):
            if kinds_of[split][why]:
                print(f"      {split}: " + ", ".join(f"{k} {n}" for k, n in kinds_of[split][why].most_common()))
    for split in ("dev", "test"):
        misses = [r for r in halves[split] if not r.ok]
        if split == "test" and not show_test:
            print(f"\ntest half: {len(misses)} misses (listed only with --show-test)")
            continue
        if misses:
            print(f"\n{split} misses (file | scenario | expected | got | rules):")
            for r in misses:
                print(f"  {r.file} | {r.scenario} | {_expect_text(r.expected)} | {_got_text(r)} | {', '.join(r.rules) or '-'}")
    print(f"elapsed: {seconds:.2f} s")


def _directory_run(scanner: Any, folder: Path, manifest: list[dict[str, Any]]) -> tuple[list[EvalRow], Any]:
    """The evaluation corpus again, with a patron directory built from the corpus's own patrons."""
    import tempfile

    from bench.directory import directory_scanner

    with tempfile.TemporaryDirectory() as tmp:
        with_directory, summary = directory_scanner(scanner.config, Path(tmp))
        return scan_eval_corpus(with_directory, folder, manifest), summary


# ---------------------------------------------------------------- printing


def _actions(row: Row) -> str:
    return ", ".join(f"{r['class']}:{r['action']}" for r in row.recipients) or "-"


def print_leakset(report: LeaksetReport) -> None:
    print("== Leak set (tests/leakset) ==")
    print(f"{'file':<50} {'expect':<8} {'result':<6} recipients")
    for row in report.rows:
        status = "ok" if row.ok else "MISS"
        print(f"{row.file:<50} {row.expect:<8} {status:<6} {_actions(row)}")
    s = report.summary()
    print()
    if s["leaks"]:
        print(f"recall on leaks:      {s['leaks_held']}/{s['leaks']} = {s['recall']:.1%}")
    print(f"false holds:          {s['false_holds']}/{s['negatives']}")
    misses = [r for r in report.rows if not r.ok]
    if misses:
        print("\nmisses (file | scenario | expected | got | rules | finding kinds):")
        for r in misses:
            got = r.error and f"exception {r.error}" or _actions(r)
            print(f"  {r.file} | {r.scenario} | {r.expect} | {got} | "
                  f"{', '.join(r.rules) or '-'} | {', '.join(r.kinds) or '-'}")
    print(f"elapsed: {report.seconds:.2f} s")


def print_corpus(report: CorpusReport, target: float | None) -> None:
    s = report.summary()
    print(f"\n== {report.name}: {report.total} messages to {OUTSIDE} ==")
    print("verdicts: " + ", ".join(f"{k}={v}" for k, v in sorted(report.verdicts.items())))
    if target is not None and report.total:
        mark = "ok" if s["held"] / report.total <= target else "ABOVE TARGET"
        print(f"held: {s['held']} ({s['held_rate']:.2%}; target <= {target:.1%}) {mark}")
    if report.rule_histogram:
        print("rules fired on held messages:")
        width = max(len(r) for r in report.rule_histogram)
        for rule, n in report.rule_histogram.most_common():
            print(f"  {rule:<{width}}  {n:>5}  {'#' * min(n, 60)}")
    if report.held_files and len(report.held_files) <= 40:
        print("held files:")
        for rel, rules in report.held_files:
            print(f"  {rel}: {', '.join(rules) or '-'}")
    for rel, err in report.errors:
        print(f"  EXCEPTION {rel}: {err}")
    print(f"elapsed: {report.seconds:.2f} s ({s['messages_per_second']} messages/s)")


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="configuration file (default: the shipped example config)")
    parser.add_argument("--json", action="store_true", help="print one JSON object with every result instead of tables")
    parser.add_argument("--corpus", action=argparse.BooleanOptionalAction, default=True,
                        help="also scan ../shared/corpus (spamassassin_ham, mime_edge); --no-corpus skips it")
    parser.add_argument("--corpus-dir", type=Path, default=CORPUS, help=f"shared corpus folder (default {CORPUS})")
    parser.add_argument("--eval-corpus", action=argparse.BooleanOptionalAction, default=True,
                        help="also scan the generated evaluation corpus (generated first when missing or stale)")
    parser.add_argument("--eval-dir", type=Path, default=EVAL_CORPUS, help=f"evaluation corpus folder (default {EVAL_CORPUS})")
    parser.add_argument("--show-test", action="store_true", help="also list the test half's misses one by one")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--directory", action=argparse.BooleanOptionalAction, default=True,
                        help="also scan the evaluation corpus with a patron directory of its own patrons (bench/directory.py)")
    args = parser.parse_args(argv)

    from proxy.scan import Scanner

    started = time.perf_counter()
    scanner = Scanner.from_config(args.config)
    if hasattr(scanner, "warm"):
        scanner.warm()
    load_seconds = time.perf_counter() - started

    leakset = scan_leakset(scanner, read_labels())
    eval_rows: list[EvalRow] = []
    eval_seconds = 0.0
    directory_run: tuple[list[EvalRow], Any] | None = None
    if args.eval_corpus:
        manifest = load_eval_corpus(args.eval_dir)
        eval_started = time.perf_counter()
        eval_rows = scan_eval_corpus(scanner, args.eval_dir, manifest)
        eval_seconds = time.perf_counter() - eval_started
        if args.directory:
            directory_run = _directory_run(scanner, args.eval_dir, manifest)
    corpora: list[tuple[CorpusReport, float | None]] = []
    if args.corpus:
        root = args.corpus_dir
        if not root.is_dir():
            print(f"eval: corpus folder {root} not found; skipping corpus runs", file=sys.stderr)
        else:
            corpora.append((scan_corpus(scanner, "spamassassin_ham", root / "spamassassin_ham", root), HAM_TARGET))
            corpora.append((scan_corpus(scanner, "mime_edge", root / "mime_edge", root), None))
    total_seconds = time.perf_counter() - started

    failed = any(not r.ok for r in leakset.rows)
    eval_sums = {split: eval_summary([r for r in eval_rows if r.split == split]) for split in ("dev", "test")} if eval_rows else {}
    if eval_sums:
        failed |= bool(eval_targets_missed(eval_sums["test"]))
    for report, target in corpora:
        s = report.summary()
        failed |= bool(report.errors) or bool(report.verdicts.get("missing"))
        if target is not None and report.total and s["held"] / report.total > target:
            failed = True

    if args.json:
        print(json.dumps({
            "leakset": {"summary": leakset.summary(), "rows": [asdict(r) for r in leakset.rows]},
            "corpora": {report.name: report.summary() | {"held_files": report.held_files}
                        for report, _ in corpora},
            "eval_corpus": {
                "folder": str(args.eval_dir),
                "summary": eval_sums,
                "targets": {"recall": RECALL_TARGET, "false_hold_rate": FALSE_HOLD_TARGET,
                            "patron_self_delivered_rate": SELF_DELIVERED_TARGET},
                "targets_missed": eval_targets_missed(eval_sums["test"]) if eval_sums else [],
                "misses": [miss_json(r) for r in eval_rows if not r.ok and (r.split == "dev" or args.show_test)],
                "seconds": round(eval_seconds, 2),
                "with_directory": {split: eval_summary([r for r in directory_run[0] if r.split == split])
                                   for split in ("dev", "test")} if directory_run else None,
            } if eval_rows else None,
            "load_seconds": round(load_seconds, 2),
            "elapsed_seconds": round(total_seconds, 2),
            "targets_met": not failed,
        }, ensure_ascii=False))
    else:
        print(f"scanner ready in {load_seconds:.2f} s")
        print_leakset(leakset)
        if eval_rows:
            print_eval_corpus(args.eval_dir, eval_rows, args.show_test, eval_seconds)
        if directory_run:
            from bench.directory import print_comparison

            print_comparison(eval_sums, {split: eval_summary([r for r in directory_run[0] if r.split == split])
                                         for split in ("dev", "test")}, directory_run[1])
        for report, target in corpora:
            print_corpus(report, target)
        print(f"\ntotal elapsed: {total_seconds:.2f} s; targets {'met' if not failed else 'MISSED'}")
    return 1 if (failed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
