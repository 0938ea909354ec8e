"""`patronguard`: the one command-line entry point.

This module owns argument parsing, exit codes and what a person reads on the
terminal. It translates and never decides: scanning is `proxy.scanning.scan`, policy is
`proxy.scanning.policy`. Every error reaches the user as one line (no traceback):
exit status 2 for usage, configuration and I/O errors.

    patronguard scan [--config FILE] [--to ADDR]... [--json] [--explain] FILE...
    patronguard serve [--config FILE] [--listen HOST:PORT] [--upstream smtp://HOST:PORT|maildir:PATH] [--state-dir DIR]
    patronguard quarantine list [--state S] [--library L] [--json] | show ID [--reveal]   (all: [--config FILE] [--state-dir DIR])
    patronguard quarantine release ID [--redacted] --by NAME --note TEXT | reject ID --by NAME --note TEXT
    patronguard quarantine purge | stats | init | digest [--library DOMAIN] [--since HOURS] [--dry-run]
    patronguard audit verify;  patronguard keys rotate
    patronguard review-ui [--listen HOST:PORT];  patronguard review-user add NAME [--libraries D,D | --admin] [--generate] | remove NAME
    patronguard hash-password [--scheme scrypt|pbkdf2-sha256]   (for server.auth: prints NAME's hash line)
    patronguard fax-hook JOBID [--spool DIR] [--config FILE] [--state-dir DIR]   (HylaFAX JobControlCmd; always exit 0)
    patronguard patrons import FILE [--format F] [--map COLUMN=FIELD]... [--library CODE] [--config FILE] [--index DB --key FILE]
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
    scan.add_argument("--from", dest="sender", metavar="ADDR", help="envelope sender, as the relay would see it (for library.notice_senders)")
    scan.add_argument("--json", action="store_true", help="print one JSON object per file, one per line")
    scan.add_argument("--explain", action="store_true", help="show each finding in its masked context")
    scan.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"), help="structured log level on stderr (default: warning)")

    serve = sub.add_parser(
        "serve",
        help="run the SMTP relay",
        description="Accept outgoing mail over SMTP, scan it, deliver what may go and hold the rest. "
        "Flags override config.yaml. SIGTERM stops gracefully; SIGHUP reloads the configuration.",
    )
    serve.add_argument("--config", metavar="FILE", help="configuration file (default: ./config.yaml, then /etc/patronguard/config.yaml, then the built-in example)")
    serve.add_argument("--listen", metavar="HOST:PORT", help="address to listen on, e.g. 127.0.0.1:2525 (default: server.listen)")
    serve.add_argument("--upstream", metavar="URL", help="smtp://HOST:PORT smarthost or maildir:PATH outbox (default: upstream.url)")
    serve.add_argument("--state-dir", metavar="DIR", help="spool and held mail (default: spool.state_dir)")
    serve.add_argument("--log-level", choices=("debug", "info", "warning", "error"), help="structured log level on stderr (default: logging.level)")
    _add_quarantine_commands(sub)
    _add_review_commands(sub)
    _add_hash_password_command(sub)
    _add_fax_hook_command(sub)
    _add_patrons_command(sub)
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
        if args.command == "serve":
            return _serve(args)
        if args.command in ("quarantine", "audit", "keys"):
            return _quarantine_command(args, sys.stdout)
        if args.command == "review-ui":
            return _review_ui(args)
        if args.command == "review-user":
            return _review_user(args, sys.stdout)
        if args.command == "hash-password":
            return _hash_password(args, sys.stdin, sys.stdout)
        if args.command == "fax-hook":
            return _fax_hook(args)
        if args.command == "patrons":
            return _patrons(args, sys.stdout, sys.stderr)
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
    from proxy.scanning.scan import Scanner

    logs.configure(args.log_level)
    log = logs.get_logger("patronguard.scan")
    for flag, address in [("--to", a) for a in args.to] + ([("--from", args.sender)] if args.sender else []):
        if "@" not in address or address.startswith("@") or address.endswith("@"):
            raise UsageError(f"{flag} {address!r}: expected an email address such as someone@example.org")
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
        result = scanner.scan(raw, args.to or None, args.sender)
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


def _serve(args: argparse.Namespace) -> int:
    from proxy.config import listen_check, upstream_check
    from proxy.relay.serve import serve
    from proxy.wiring import Overrides

    if args.listen and listen_check(args.listen):
        raise UsageError(f"--listen {args.listen!r}: expected {listen_check(args.listen)}")
    if args.upstream and upstream_check(args.upstream):
        raise UsageError(f"--upstream {args.upstream!r}: expected {upstream_check(args.upstream)}")
    overrides = Overrides(listen=args.listen, upstream=args.upstream, state_dir=args.state_dir)
    return serve(resolve_config(args.config), overrides, args.log_level)


def _add_hash_password_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    hp = sub.add_parser(
        "hash-password",
        help="hash an SMTP AUTH password for server.auth",
        description="Read a password (twice from the terminal, or one line from standard input) and print its "
        "hash for server.auth.users[].password_hash or a line 'NAME:HASH' of server.auth.password_file.",
    )
    hp.add_argument("--scheme", choices=("scrypt", "pbkdf2-sha256"), default="scrypt", help="hash scheme (default: scrypt)")


def _hash_password(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    """Prompt twice on a terminal (nothing echoed); read the first line of a pipe. Prints the hash only."""
    import getpass

    from proxy.auth import hash_password

    if stdin.isatty():
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Again: ")
        except EOFError:
            raise UsageError("hash-password: no password given") from None
        if password != again:
            raise UsageError("hash-password: the two passwords differ; nothing printed")
    else:
        password = stdin.readline().rstrip("\r\n")
    if not password:
        raise UsageError("hash-password: empty password; nothing printed")
    if len(password) > 1024:
        raise UsageError("hash-password: password longer than 1024 characters")
    out.write(hash_password(password, args.scheme) + "\n")
    return EXIT_OK


def _by_rule(disclosures):  # type: ignore[no-untyped-def]
    """One line per rule: its text, the union of categories, the best score, how many places."""
    grouped: dict = {}
    for d in disclosures:
        text, cats, score, count = grouped.get(d.rule, (d.text, frozenset(), 0.0, 0))
        grouped[d.rule] = (text, cats | d.categories, max(score, d.score), count + d.places)
    return grouped


def _print_summary(file: str, result, explain: bool, out: TextIO) -> None:  # type: ignore[no-untyped-def]
    from proxy.scanning.explain import masked_context
    from proxy.scanning.policy import PATRON_IS_RECIPIENT, TRUSTED_NOTICE

    self_rules = {
        PATRON_IS_RECIPIENT: "every disclosure is about this recipient: the patron herself",
        TRUSTED_NOTICE: "a notice from the library's notice system to the patron it is about",
    }
    a = result.message.assessment
    verdict = "HOLD" if result.held else "deliver"
    out.write(f"{file}: {verdict}\n")
    for d in result.decisions:
        out.write(f"  {d.action.value:<8} {d.recipient.address}  ({d.recipient.cls.value}"
                  f"{', ' + d.recipient.partner if d.recipient.partner else ''})\n")
        for rule in (r for r in d.rules if r in self_rules):
            out.write(f"           {self_rules[rule]} ({rule})\n")
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


# ----------------------------------------------------------------- quarantine, audit, keys
# The commands only translate: decisions are proxy.quarantine.review, retention is
# proxy.quarantine.retention. Nothing printed here shows clear recipient addresses
# or content, except `show --reveal`, which is audited before it prints.


def _add_quarantine_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    common = _Parser(add_help=False)
    common.add_argument("--config", metavar="FILE", help="configuration file (default: ./config.yaml, then /etc/patronguard/config.yaml, then the built-in example)")
    common.add_argument("--state-dir", metavar="DIR", help="the relay's state directory, as given to `serve --state-dir` (default: spool.state_dir)")

    q = sub.add_parser("quarantine", help="review held mail", description="List, show, release, reject and purge held mail.")
    qsub = q.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    qsub.required = True
    ls = qsub.add_parser("list", parents=[common], help="list held items (metadata only)")
    ls.add_argument("--state", choices=("held", "releasing", "released", "released_redacted", "rejected", "expired", "failed"))
    ls.add_argument("--library", metavar="DOMAIN", help="member library (the sender's domain)")
    ls.add_argument("--limit", type=int, metavar="N", help="at most N items, newest first")
    ls.add_argument("--json", action="store_true", help="one JSON object per item, one per line")
    show = qsub.add_parser("show", parents=[common], help="show one item with its findings in masked context")
    show.add_argument("id", metavar="ID")
    show.add_argument("--reveal", action="store_true", help="also show the full message (audited)")
    show.add_argument("--by", metavar="NAME", help="who is looking (default: the login name)")
    for name, text in (("release", "deliver the held message to its held recipients"), ("reject", "reject and tell the sender why")):
        cmd = qsub.add_parser(name, parents=[common], help=text)
        cmd.add_argument("id", metavar="ID")
        cmd.add_argument("--by", required=True, metavar="NAME", help="the supervisor deciding")
        cmd.add_argument("--note", required=True, metavar="TEXT", help="why (the sender sees it)")
        if name == "release":
            cmd.add_argument("--redacted", action="store_true", help="send a redacted copy (patron data masked; refused if it cannot be made clean)")
            cmd.add_argument("--upstream", metavar="URL", help="where to release to: HOST:PORT, smtp://HOST:PORT or maildir:PATH (default: upstream.url)")
    pur = qsub.add_parser("purge", parents=[common], help="expire old items, destroy decided content, delete old metadata")
    pur.add_argument("--by", metavar="NAME", help="who runs it, for the audit trail (default: the login name)")
    qsub.add_parser("stats", parents=[common], help="how many items in each state")
    qsub.add_parser("init", parents=[common], help="create the quarantine database and key file (serve does it too)",
                    description="Create the quarantine (database or PostgreSQL tables, and the key file) where the "
                    "configuration puts it. Every other command refuses a quarantine that is not there.")
    dig = qsub.add_parser("digest", parents=[common], help="send each member library's supervisors a digest of held mail",
                          description="Send each member library's supervisors one email listing the mail held since "
                          "the last digest and the items close to expiry (references only, no content).")
    dig.add_argument("--library", metavar="DOMAIN", help="only this member library (a sender domain)")
    dig.add_argument("--since", metavar="HOURS", help="list the items held in the last HOURS hours, even if an earlier "
                     "digest did (default: each item once, since the last digest)")
    dig.add_argument("--dry-run", action="store_true", help="print the digests instead of sending and recording them")

    a = sub.add_parser("audit", help="the quarantine's audit trail")
    asub = a.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    asub.required = True
    asub.add_parser("verify", parents=[common], help="check the audit chain for tampering")

    k = sub.add_parser("keys", help="the quarantine's keys")
    ksub = k.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    ksub.required = True
    rot = ksub.add_parser("rotate", parents=[common], help="re-wrap every item's data key under a new master key")
    rot.add_argument("--by", metavar="NAME", help="who rotates (default: the login name)")


def _quarantine_command(args: argparse.Namespace, out: TextIO) -> int:
    import getpass

    from proxy.config import load
    from proxy.quarantine import (
        Actor,
        AuditTampered,
        RetentionPolicy,
        cli_origin,
        open_store,
        purge,
    )
    from proxy.wiring import Overrides, apply_overrides, review_service, spool_notifier

    # The same resolution as `serve`: the quarantine beside the spool of --state-dir.
    full = apply_overrides(load(resolve_config(args.config)), Overrides(state_dir=args.state_dir))
    cfg = full.quarantine
    digest_args = _digest_args(args, full) if getattr(args, "action", None) == "digest" else None
    if args.command == "quarantine" and args.action == "init":
        from proxy.quarantine import KeyRing

        where = "the PostgreSQL quarantine (quarantine.dsn)" if cfg.backend == "postgresql" else cfg.path
        open_store(cfg, create=True).close()
        out.write(f"quarantine: {where} ready, key file {KeyRing.configured(cfg.key_file)}\n")
        return EXIT_OK
    store = open_store(cfg)
    try:
        origin = cli_origin()
        login = getattr(args, "by", None) or getpass.getuser()
        if args.command == "audit":
            report = store.verify_audit()
            if not report.ok:
                raise AuditTampered(f"audit chain broken: {report.problem} ({report.records} records verified before it)")
            out.write(f"audit: {report.records} records, chain intact{_anchor_words(report, store)}\n")
            return EXIT_OK
        if args.command == "keys":
            n = store.rotate_keys(Actor(login, origin))
            out.write(f"keys: rotated; {n} item keys re-wrapped under the new master key\n")
            return EXIT_OK
        if args.action == "list":
            for item in store.items(args.state, args.library, args.limit):
                if args.json:
                    out.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")
                else:
                    kinds = ", ".join(f"{k}x{n}" for k, n in item.finding_counts)
                    out.write(f"{item.id}  {item.received_at:%Y-%m-%d %H:%M}  {item.state.value:<9} {item.library}  "
                              f"{item.mail_from}  to {','.join(item.recipient_classes)}  [{','.join(item.rules)}] {kinds}\n")
            return EXIT_OK
        if args.action == "stats":
            for state, n in store.counts().items():
                out.write(f"{state:<18} {n}\n")
            return EXIT_OK
        if args.action == "purge":
            policy = RetentionPolicy(cfg.retention_days, cfg.expiry_action, cfg.escalation_days, cfg.audit_days)
            purged = purge(store, policy, spool_notifier(full), actor=Actor(login, origin))
            out.write(f"purge: {purged.summary()}\n")
            return EXIT_OK
        if digest_args is not None:
            return _digest(full, store, digest_args, out)
        service = review_service(full, store, upstream_url=_release_upstream(args, full))
        if args.action == "show":
            shown = service.show(args.id, Actor(login, origin), reveal=args.reveal)
            _print_item(shown.item, out)
            if shown.envelope is not None:
                out.write(f"--- revealed (audited): {len(shown.envelope.rcpt_tos)} held recipient(s): "
                          f"{', '.join(shown.envelope.rcpt_tos)}\n")
                out.write(shown.envelope.raw.decode("utf-8", "replace") + "\n")
            return EXIT_OK
        if args.action == "release":
            if args.redacted:
                item = service.release_redacted(args.id, args.by, args.note, origin=origin)
            else:
                item = service.release(args.id, args.by, args.note, origin=origin)
        else:
            item = service.reject(args.id, args.by, args.note, origin=origin)
        out.write(f"{item.id}: {item.state.value}" + (f" ({item.failure})" if item.failure else "") + "\n")
        return EXIT_OK
    finally:
        store.close()


def _anchor_words(report, store) -> str:  # type: ignore[no-untyped-def]
    """How the chain's end compares with the anchor file (`proxy.quarantine.audit.AuditAnchor`)."""
    anchor = getattr(store, "anchor", None)
    if report.anchored is None:
        where = f" at {anchor.path}" if anchor is not None else ""
        return f"; no anchor file{where} yet (the next record writes it)"
    if report.anchored == report.records:
        return f", its end matches the anchor (record {report.anchored})"
    return (f"; the anchor names record {report.anchored}: the {report.records - report.anchored} newer record(s) "
            "were written by another node, or after its last update")


def _digest_args(args: argparse.Namespace, config) -> tuple[str | None, float | None, bool]:  # type: ignore[no-untyped-def]
    """Check `quarantine digest`'s flags and the config before anything opens: (library, hours, dry run)."""
    hours: float | None = None
    if args.since is not None:
        try:
            hours = float(args.since)
        except ValueError:
            hours = None
        if hours is None or not 0 < hours <= 24 * 366:
            raise UsageError(f"--since {args.since!r}: expected a number of hours greater than 0, e.g. 24 or 72")
    library = args.library.strip().lower() if args.library else None
    if library is not None and ("." not in library or " " in library or "@" in library):
        raise UsageError(f"--library {args.library!r}: expected a member library domain such as cityofsalem.net")
    n = config.notices
    if not args.dry_run:
        if not n.enabled:
            raise UsageError(f"{config.source}: notices.enabled is false: a digest is a notice; nothing sent")
        if n.supervisor_mode == "immediate":
            raise UsageError(f"{config.source}: notices.supervisor_mode is 'immediate': set it to 'digest' or 'both' "
                             "to send digests (--dry-run shows one anyway)")
    return library, hours, bool(args.dry_run)


def _digest(config, store, digest_args: tuple[str | None, float | None, bool], out: TextIO) -> int:  # type: ignore[no-untyped-def]
    """`quarantine digest`: one digest per member library, spooled for the relay to send (or printed with --dry-run)."""
    import tempfile

    library, hours, dry_run = digest_args
    if not dry_run:
        return _run_digests(config, store, library, hours, None, out)
    # A dry run renders into a scratch spool nobody reads: nothing is written under the state directory.
    with tempfile.TemporaryDirectory(prefix="patronguard-digest-") as scratch:
        return _run_digests(config, store, library, hours, Path(scratch), out)


def _run_digests(config, store, library: str | None, hours: float | None, scratch: Path | None,  # type: ignore[no-untyped-def]
                 out: TextIO) -> int:
    import email
    import email.policy
    from datetime import timedelta

    from proxy.quarantine import RetentionPolicy
    from proxy.quarantine.digest import run_digests
    from proxy.relay.notices import Notices, NoticeSettings, NoticeTemplates, notices_from_config
    from proxy.relay.spool import Spool
    from proxy.wiring import NoticesUnavailable

    who = config.relay_identity()
    try:
        spool = Spool((scratch or Path(config.spool.state_dir)) / "spool")
    except OSError as exc:
        raise NoticesUnavailable(f"cannot write the spool under {config.spool.state_dir} "
                                 f"({exc.strerror or type(exc).__name__}); run as the relay's user") from None
    notices = notices_from_config(config, spool, hostname=who.hostname, postmaster=who.postmaster)
    if notices is None:  # notices switched off (only a dry run gets here): show what a digest would say
        notices = Notices(spool, NoticeSettings(who.postmaster, who.hostname), NoticeTemplates())
    q = config.quarantine
    outcomes = run_digests(
        store,
        RetentionPolicy(q.retention_days, q.expiry_action, q.escalation_days, q.audit_days),
        notices.settings.supervisors_for,
        notices.digest,
        library=library,
        window=timedelta(hours=hours) if hours is not None else None,
        dry_run=scratch is not None,
    )
    for o in outcomes:
        if o.digest is None:
            out.write(f"digest: {o.library}: nothing sent: {o.skipped}\n")
            continue
        d = o.digest
        what = f"{len(d.new)} new, {len(d.expiring)} to decide soon, {d.waiting} waiting"
        if scratch is None:
            out.write(f"digest: {d.library}: {d.id} spooled for {len(d.supervisors)} supervisor(s): {what}\n")
            continue
        msg = email.message_from_bytes(spool.load(notices.digest(d)).raw, policy=email.policy.default)
        out.write(f"digest: {d.library}: would send to {len(d.supervisors)} supervisor(s): {what}\n")
        for header in ("To", "Cc", "Subject"):
            if msg[header]:
                out.write(f"{header}: {msg[header]}\n")
        out.write("\n" + msg.get_content() + "\n")  # type: ignore[attr-defined]
    if not outcomes:
        out.write("digest: no held mail\n")
    return EXIT_OK


def _release_upstream(args: argparse.Namespace, config) -> str | None:  # type: ignore[no-untyped-def]
    """Where a release goes: --upstream (checked here, so a typo is a usage error), else the relay's upstream.url."""
    from proxy.config import upstream_check

    target = getattr(args, "upstream", None)
    if not target:
        return None
    if not target.startswith(("smtp://", "maildir:")):
        target = "smtp://" + target  # the short HOST:PORT form
    problem = upstream_check(target)
    if problem:
        raise UsageError(f"--upstream {target!r}: expected {problem}")
    return str(target)


def _print_item(item, out: TextIO) -> None:  # type: ignore[no-untyped-def]
    out.write(f"{item.id}: {item.state.value}\n")
    out.write(f"  received   {item.received_at:%Y-%m-%d %H:%M:%S %Z}\n")
    out.write(f"  library    {item.library}\n  sender     {item.mail_from}\n")
    for cls, digest in zip(item.recipient_classes, item.recipient_hashes, strict=False):
        out.write(f"  recipient  {cls} (#{digest})\n")
    out.write(f"  rules      {', '.join(item.rules) or '-'}\n")
    out.write(f"  findings   {', '.join(f'{k} x{n}' for k, n in item.finding_counts) or '-'}\n")
    for e in item.excerpts:
        out.write(f"    - {e.kind:<20} {e.part}: {e.excerpt}\n")
    if item.reviewer or item.decided_at:
        out.write(f"  decision   {item.state.value} by {item.reviewer}"
                  f"{' at ' + format(item.decided_at, '%Y-%m-%d %H:%M') if item.decided_at else ''}: {item.note or ''}\n")
    if item.failure:
        out.write(f"  failure    {item.failure}\n")
    out.write(f"  content    {'sealed' if item.has_content else 'destroyed'}\n")


# ----------------------------------------------------------------- the web review UI


def _add_review_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    common = _Parser(add_help=False)
    common.add_argument("--config", metavar="FILE", help="configuration file (default: ./config.yaml, then /etc/patronguard/config.yaml, then the built-in example)")
    common.add_argument("--state-dir", metavar="DIR", help="the relay's state directory, as given to `serve --state-dir` (default: spool.state_dir)")
    ui = sub.add_parser("review-ui", parents=[common], help="run the supervisors' web review UI on its own",
                        description="Serve the held-mail review pages (review_ui in config.yaml) until SIGTERM.")
    ui.add_argument("--listen", metavar="HOST:PORT", help="address to listen on, e.g. 127.0.0.1:8025 (default: review_ui.listen)")
    ui.add_argument("--upstream", metavar="URL", help="where releases go: smtp://HOST:PORT or maildir:PATH (default: upstream.url)")
    ui.add_argument("--log-level", choices=("debug", "info", "warning", "error"), help="structured log level on stderr (default: logging.level)")
    users = sub.add_parser("review-user", help="manage the review UI's supervisor logins")
    usub = users.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    usub.required = True
    add = usub.add_parser("add", parents=[common], help="add a supervisor or set a new password (asked twice, or read from stdin)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--libraries", metavar="DOMAIN,DOMAIN", default="", help="member libraries this supervisor reviews (default: all)")
    add.add_argument("--generate", action="store_true", help="make up a strong password and print it once")
    add.add_argument("--admin", action="store_true",
                     help="an admin: every member library, the audit trail across items and the accounts page")
    rm = usub.add_parser("remove", parents=[common], help="remove a supervisor's login")
    rm.add_argument("name", metavar="NAME")


def _review_config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from proxy.config import load
    from proxy.wiring import Overrides, apply_overrides

    return apply_overrides(load(resolve_config(args.config)), Overrides(state_dir=args.state_dir))


def _review_ui(args: argparse.Namespace) -> int:
    import asyncio
    import dataclasses
    import signal

    from proxy import logs
    from proxy.config import listen_check, split_listen
    from proxy.wiring import review_pages

    if args.listen and listen_check(args.listen):
        raise UsageError(f"--listen {args.listen!r}: expected {listen_check(args.listen)}")
    config = _review_config(args)
    upstream = _release_upstream(args, config)
    if upstream:
        config = dataclasses.replace(config, upstream=dataclasses.replace(config.upstream, url=upstream))
    logs.configure(args.log_level or config.logging.level)
    host, port = split_listen(args.listen) if args.listen else (None, None)

    async def run() -> None:
        ui = await review_pages(config, host=host, port=port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print(f"patronguard: review UI at {ui.url} (Ctrl-C stops it)", file=sys.stderr, flush=True)
        try:
            await stop.wait()
        finally:
            await ui.stop()

    asyncio.run(run())
    return EXIT_OK


def _review_user(args: argparse.Namespace, out: TextIO) -> int:
    import getpass
    import secrets

    from proxy.web.accounts import remove_reviewer, set_reviewer, users_file

    config = _review_config(args)
    path = users_file(config.review_ui, config.spool.state_dir)
    if args.action == "remove":
        try:
            removed = remove_reviewer(path, args.name)
        except OSError as exc:
            raise UsageError(f"review-user remove: cannot write {path} ({exc.strerror or exc.__class__.__name__})") from None
        if not removed:
            raise UsageError(f"review-user remove: no account {args.name!r} in {path}")
        out.write(f"review-user: removed {args.name} from {path} (a running relay notices after SIGHUP)\n")
        return EXIT_OK
    libraries = tuple(d.strip().lower() for d in args.libraries.split(",") if d.strip())
    for domain in libraries:
        if "." not in domain or " " in domain or "@" in domain:
            raise UsageError(f"--libraries {domain!r}: expected member library domains such as cityofsalem.net,dallasor.gov")
    if args.generate:
        password = secrets.token_urlsafe(12)
    elif sys.stdin.isatty():
        password = getpass.getpass(f"New password for {args.name}: ")
        if password != getpass.getpass("Again: "):
            raise UsageError("review-user add: the two passwords differ; nothing changed")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 10:
        raise UsageError("review-user add: expected a password of at least 10 characters")
    try:
        if args.admin and libraries:
            raise UsageError("review-user add: an admin reviews every member library; leave out --libraries")
        new = set_reviewer(path, args.name, password, libraries, admin=args.admin)
    except ValueError as exc:
        raise UsageError(f"review-user add {args.name!r}: expected {exc}") from None
    except OSError as exc:
        raise UsageError(f"review-user add: cannot write {path} ({exc.strerror or exc.__class__.__name__})") from None
    out.write(f"review-user: {'added' if new else 'new password for'} {args.name} in {path}"
              f"{' (libraries: ' + ', '.join(libraries) + ')' if libraries else ''}{' (admin)' if args.admin else ''}"
              "; a running relay notices after SIGHUP\n")
    if args.generate:
        out.write(f"password for {args.name}: {password}\n")
    return EXIT_OK


# ----------------------------------------------------------------- the HylaFAX job hook


def _add_fax_hook_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    hook = sub.add_parser(
        "fax-hook",
        help="check a HylaFAX job before it is sent (JobControlCmd)",
        description="Check HylaFAX job JOBID with the fax policy. Prints nothing when it may be sent, or "
        "'RejectNotice: \"...\"' when it is held for review (or cannot be checked). Exit status 0 for every "
        "decision; problems are also said on stderr.",
    )
    hook.add_argument("job", metavar="JOBID", help="the HylaFAX job id (faxq passes it)")
    hook.add_argument("--spool", metavar="DIR", help="HylaFAX's spool directory (default: the current directory, where faxq runs the hook)")
    hook.add_argument("--config", metavar="FILE", help="configuration file (default: /etc/patronguard/config.yaml, then the built-in example)")
    hook.add_argument("--state-dir", metavar="DIR", help="PatronGuard's state directory: quarantine, spool, verdict cache (default: spool.state_dir)")
    hook.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"), help="structured log level on stderr (default: info)")


def _fax_hook(args: argparse.Namespace) -> int:
    from proxy.fax.hook import run_hook

    # resolve_config looks for ./config.yaml: from HylaFAX's spool that is not ours, so only /etc counts there.
    config = args.config or next((p for p in DEFAULT_CONFIG_PATHS[1:] if os.path.exists(p)), None)
    return run_hook(args.job, spool=args.spool, config_path=config, state_dir=args.state_dir, log_level=args.log_level)


# ----------------------------------------------------------------- the patron directory


def _add_patrons_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from proxy.patrons import FIELDS, FORMATS

    p = sub.add_parser("patrons", help="the patron directory (exact matches against the ILS export)")
    psub = p.add_subparsers(dest="patrons_command", metavar="COMMAND", parser_class=_Parser)
    psub.required = True
    imp = psub.add_parser(
        "import",
        help="import an ILS patron export into the directory index",
        description="Read an ILS patron export, normalise names, phones, emails, addresses, card numbers and "
        "birth dates, and replace the directory index (keyed hashes only) atomically. A running relay picks "
        "the new index up by itself. Malformed rows are reported with their line numbers and skipped.",
    )
    imp.add_argument("file", metavar="FILE", help="the export")
    imp.add_argument("--format", choices=FORMATS, help="the export's format (default: guessed from its first lines)")
    imp.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD",
                     help=f"read COLUMN (a header label, a Symphony field, a JSON key or varFields.TAG) as FIELD: {', '.join(FIELDS)}")
    imp.add_argument("--library", metavar="CODE", help="import only the patrons whose home library is CODE (or starts with it)")
    imp.add_argument("--config", metavar="FILE", help="configuration file with directory.index and directory.key")
    imp.add_argument("--index", metavar="FILE", help="index to write (default: directory.index)")
    imp.add_argument("--key", metavar="FILE", help="key file, created mode 0600 when missing (default: directory.key)")
    imp.add_argument("--nicknames", action="store_true", help="read common nicknames as the given names they stand for (Bill = William), in the export and in mail")
    imp.add_argument("--quiet", action="store_true", help="print only the summary, not each malformed row")


def _patrons(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from proxy import config as config_module
    from proxy.patrons import DirectoryPaths, guess_format, import_export, parse_map

    config = config_module.load(resolve_config(args.config))
    index = args.index or config.directory.index
    key = args.key or config.directory.key
    if not index or not key:
        raise UsageError("patrons import: no index or key: set directory.index and directory.key in the config, or pass --index and --key")
    try:
        mapping = parse_map(args.map)
    except ValueError as exc:
        raise UsageError(f"patrons import: {exc}") from None
    fmt = args.format or guess_format(args.file)

    def report(problem: object) -> None:
        if not args.quiet:
            err.write(f"{args.file}:{problem.line}: {'skipped' if problem.skipped else 'ignored a value'}: {problem.reason}\n")  # type: ignore[attr-defined]

    summary = import_export(args.file, fmt, DirectoryPaths(index, key, config.directory.region), mapping,
                            args.library or "", report, args.nicknames)
    out.write(summary.text() + "\n")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
