"""`patronguard`: the one command-line entry point.

This module owns argument parsing, exit codes and what a person reads on the
terminal. It translates and never decides: scanning is `proxy.scan`, policy is
`proxy.policy`. Every error reaches the user as one line (no traceback):
exit status 2 for usage, configuration and I/O errors.

    patronguard scan [--config FILE] [--to ADDR]... [--json] [--explain] FILE...
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from detectors.names import ModelMissing
from proxy.errors import PatronGuardError, UsageError

EXIT_OK, EXIT_HELD, EXIT_ERROR = 0, 1, 2
DEFAULT_CONFIG_PATHS = ("config.yaml", "/etc/patronguard/config.yaml")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as a UsageError (one line, exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (try '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="patronguard", description="Outbound mail and fax DLP relay for public libraries.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    scan = sub.add_parser(
        "scan",
        help="scan message files and show what would be delivered or held",
        description="Scan raw RFC 5322 messages (or mbox-style single messages) and decide per recipient.",
    )
    scan.add_argument("files", nargs="+", metavar="FILE", help="message files; '-' reads standard input")
    scan.add_argument("--config", metavar="FILE", help="configuration file (default: ./config.yaml, then /etc/patronguard/config.yaml, then the built-in example)")
    scan.add_argument("--to", action="append", default=[], metavar="ADDR", help="recipient address (repeatable); default: the message's To/Cc/Bcc")
    scan.add_argument("--json", action="store_true", help="print one JSON object per file, one per line")
    scan.add_argument("--explain", action="store_true", help="show each finding in its masked context")
    scan.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"), help="structured log level on stderr (default: warning)")
    return parser


def resolve_config(path: str | None) -> str | None:
    if path:
        return path
    for candidate in DEFAULT_CONFIG_PATHS:
        if os.path.exists(candidate):
            return candidate
    return None


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "scan":
            return _scan(args, sys.stdout)
        raise UsageError(f"unknown command {args.command!r}")
    except PatronGuardError as exc:
        print(f"patronguard: {exc}", file=sys.stderr)
        return exc.exit_code
    except ModelMissing as exc:
        print(f"patronguard: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("patronguard: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_ERROR


def _read(file: str) -> bytes:
    if file == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(file).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{file}: is a directory; give message files") from None
    except OSError as exc:
        raise UsageError(f"{file}: cannot read ({exc.strerror or exc.__class__.__name__})") from None


def _scan(args: argparse.Namespace, out: TextIO) -> int:
    from proxy import logs
    from proxy.scan import Scanner

    logs.configure(args.log_level)
    log = logs.get_logger("patronguard.scan")
    for address in args.to:
        if "@" not in address or address.startswith("@") or address.endswith("@"):
            raise UsageError(f"--to {address!r}: expected an email address such as someone@example.org")
    scanner = Scanner.from_config(resolve_config(args.config))
    held_any = False
    errors = 0
    for index, file in enumerate(args.files):
        try:
            raw = _read(file)
        except UsageError as exc:
            print(f"patronguard: {exc}", file=sys.stderr)
            errors += 1
            continue
        result = scanner.scan(raw, args.to or None)
        held_any = held_any or result.held
        a = result.message.assessment
        log.info(
            "scan.decision",
            file_index=index,
            recipients=[{"class": d.recipient.cls.value, "action": d.action.value} for d in result.decisions],
            rules=list(result.rules),
            finding_kinds=sorted({f.kind.value for f in result.findings}),
            findings=len(result.findings),
            uninspectable=len(a.uninspectable),
            spacy_windows=result.message.spacy_windows,
            ms=round(result.seconds * 1000, 2),
        )
        if args.json:
            out.write(json.dumps(result.to_json(file), ensure_ascii=False) + "\n")
        else:
            _print_summary(file, result, args.explain, out)
        out.flush()
    if errors:
        return EXIT_ERROR
    return EXIT_HELD if held_any else EXIT_OK


def _by_rule(disclosures):  # type: ignore[no-untyped-def]
    """One line per rule: its text, the union of categories, the best score, how many places."""
    grouped: dict = {}
    for d in disclosures:
        text, cats, score, count = grouped.get(d.rule, (d.text, frozenset(), 0.0, 0))
        grouped[d.rule] = (text, cats | d.categories, max(score, d.score), count + 1)
    return grouped


def _print_summary(file: str, result, explain: bool, out: TextIO) -> None:  # type: ignore[no-untyped-def]
    from proxy.explain import masked_context

    a = result.message.assessment
    verdict = "HOLD" if result.held else "deliver"
    out.write(f"{file}: {verdict}\n")
    for d in result.decisions:
        out.write(f"  {d.action.value:<8} {d.recipient.address}  ({d.recipient.cls.value}"
                  f"{', ' + d.recipient.partner if d.recipient.partner else ''})\n")
    if not result.decisions:
        out.write("  (no recipients: give --to or a To/Cc header)\n")
    for rule, (text, categories, score, count) in _by_rule(a.disclosures).items():
        cats = ", ".join(sorted(c.value for c in categories)) or "-"
        times = f" ({count} places)" if count > 1 else ""
        out.write(f"  why: {rule}: {text}{times} [{cats}] score {score:.2f}\n")
    for f in a.uninspectable:
        out.write(f"  why: uninspectable part {f.part}: {f.reason}\n")
    if explain:
        parts = {p.path: p for p in result.message.extraction.parts}
        for f in a.findings:
            part = parts.get(f.part)
            where = f.part + (f" ({part.filename})" if part is not None and part.filename else "")
            context = masked_context(part.text, f, a.findings) if part is not None else ""
            out.write(f"    - {f.kind.value:<20} {f.score:.2f} {where} [{f.start}:{f.end}] {f.reason}\n")
            if context:
                out.write(f"        {context}\n")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
