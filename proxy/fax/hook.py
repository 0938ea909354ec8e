"""The HylaFAX job hook: a fax job is checked with the fax policy before the fax server dials.

This module owns `patronguard fax-hook JOBID`, run by HylaFAX's `faxq` as its
`JobControlCmd` (from the spool directory, with the job id as its argument,
each time a job becomes ready to send):

- reading the job (`read_job`): `sendq/qJOBID` holds `tag:value` lines —
  `number` (the dial string), `external` (the number as the user gave it),
  `owner`, `mailaddr`, and one line per document, `op:dirnum:addr:path`, for the
  ops `pdf`, `postscript`, `tiff`, `pcl`, `data` and `fax` (an imaged page file);
  `!op` marks a source document kept after imaging, and the `fax:` lines right
  after it are its rendering (the source is read instead). Paths are relative
  to the spool and never leave it.
- deciding (`FaxHook.check`): the documents become one MIME message, one
  attachment each, read by the same detection engine as mail (PDF text layer,
  PostScript through Ghostscript, OCR for TIFF and image-only pages; PCL cannot
  be read and is uninspectable), and the destination is a fax recipient under
  the same policy as email-to-fax (`proxy.scanning.policy.classify_fax_number`: E.164,
  the approved numbers and their categories). A document that is missing or
  too large is uninspectable too.
- acting: a job that may go prints nothing. A job to hold is sealed in the
  quarantine (queue id `fax-job:JOBID:DIGEST`, the one "recipient"
  `fax:+E164`, which the store keeps only as a keyed hash), its owner gets a
  notice (`fax-held.txt`, through the relay's spool), and the hook prints
  `RejectNotice: "..."` — the reference and a short reason, never a number, a
  name or document text — so `faxq` rejects the job without dialling.
- approvals: a supervisor's release of a fax item records its documents as
  approved for its number (`ReviewService`); the same documents to the same
  number then pass without a scan for `fax_hook.approval_days`. A cover page
  (`docq/*.cover`, regenerated with the date on every submission) is not part
  of an approval: it is read every time.
- the verdict cache: `faxq` asks again after every failed call (busy line, no
  answer); a verdict is kept in `STATE/fax-hook/` under a digest of the job id,
  the number, the document digests and the configuration file, for
  `fax_hook.cache_minutes`. Nothing else is in it.

Fail closed: a job that cannot be read or checked (bad queue file, missing
document, broken configuration, any internal error) is rejected with a
RejectNotice and one line on stderr. The exit status is 0 for every decision:
`faxq` ignores the output of a hook that fails and would send the fax.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from proxy.errors import ConfigError, PatronGuardError

if TYPE_CHECKING:
    from proxy.config import Config
    from proxy.quarantine import HeldItem, ItemState, Notifier, QuarantineStore
    from proxy.relay.notices import Notices
    from proxy.scanning.policy import Recipient
    from proxy.scanning.scan import Scanner

# Imported where used, not here: a cached verdict needs neither the quarantine nor the scanner, and
# faxq starts this process for every job attempt. (Same values as proxy.quarantine.store's.)
FAX_JOB_PREFIX = "fax-job:"
FAX_APPROVAL_HEADER = "X-PatronGuard-Fax-Approve"

DOCUMENT_OPS = frozenset({"pdf", "postscript", "tiff", "pcl", "data", "fax"})
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024  # read no more of one document; the extractors refuse 40 MiB already
MAX_QUEUE_FILE_BYTES = 1024 * 1024
FAX_TEMPLATES = ("fax-held.txt", "fax-approved.txt", "fax-rejected.txt")
_JOB_ID = re.compile(r"^[0-9]{1,12}$")
_EXTENSIONS = {"pdf": "pdf", "postscript": "ps", "tiff": "tif", "fax": "tif", "pcl": "pcl", "data": "bin"}
_TYPES = {
    "pdf": "application/pdf",
    "postscript": "application/postscript",
    "tiff": "image/tiff",
    "fax": "image/tiff",
    "pcl": "application/vnd.hp-pcl",
    "data": "application/octet-stream",
}
_KIND_TYPES = {"pdf": ("application/pdf", "pdf"), "postscript": ("application/postscript", "ps"),
               "image": ("image/tiff", "tif")}  # fmt: skip


class FaxJobError(PatronGuardError):
    """The job's queue file cannot be used; the message names the file, never its content."""


# ----------------------------------------------------------------- the job


@dataclass(frozen=True, slots=True)
class FaxDocument:
    """One document of a job, as HylaFAX listed it, with its bytes (or why they could not be read)."""

    op: str  # pdf, postscript, tiff, pcl, data, fax (without the "!" of a kept source)
    path: str  # relative to the spool, as in the queue file
    data: bytes = field(repr=False)
    problem: str | None = None  # "missing", "unreadable", "too-large", "outside-spool"

    @property
    def cover(self) -> bool:
        """A cover page made by sendfax/faxcover: regenerated (with the date) on every submission."""
        return self.path.endswith(".cover")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True, slots=True)
class FaxJob:
    """What the hook needs from `sendq/qJOBID`."""

    job_id: str
    dial: str  # the destination as the user gave it (`external`), else the dial string; digits and "+"
    owner: str
    mailaddr: str
    jobtype: str
    documents: tuple[FaxDocument, ...]

    @property
    def approval_documents(self) -> tuple[FaxDocument, ...]:
        """The documents an approval covers: all but cover pages (all of them if there is nothing else)."""
        body = tuple(d for d in self.documents if not d.cover)
        return body or self.documents

    def digest(self) -> str:
        """One digest of every document, in order (the quarantine item's idempotence key)."""
        return hashlib.sha256("\n".join(d.sha256 for d in self.documents).encode()).hexdigest()


def read_job(spool: Path, job_id: str, max_bytes: int = MAX_DOCUMENT_BYTES) -> FaxJob:
    """Parse `spool/sendq/qJOBID` and read the documents it names (never outside `spool`)."""
    if not _JOB_ID.match(job_id):
        raise FaxJobError(f"{job_id[:20]!r} is not a HylaFAX job id (digits)")
    qfile = spool / "sendq" / f"q{job_id}"
    try:
        with qfile.open("rb") as fh:
            raw = fh.read(MAX_QUEUE_FILE_BYTES + 1)
    except FileNotFoundError:
        raise FaxJobError(f"{qfile}: no such job file") from None
    except OSError as exc:
        raise FaxJobError(f"{qfile}: cannot read the job file ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > MAX_QUEUE_FILE_BYTES:
        raise FaxJobError(f"{qfile}: job file larger than {MAX_QUEUE_FILE_BYTES} bytes")
    fields: dict[str, str] = {}
    entries: list[tuple[str, bool, str]] = []  # (op, kept source, path)
    for line in _lines(raw.decode("utf-8", "replace")):
        tag, colon, value = line.partition(":")
        if not colon or line.startswith("#"):
            continue
        tag, value = tag.strip(), value.lstrip(" ")
        saved = tag.startswith("!")
        op = tag.removeprefix("!")
        if op in DOCUMENT_OPS:
            entries.append((op, saved, _document_path(value)))
        else:
            fields.setdefault(tag, value.strip())
    dial = _dial(fields.get("external", "")) or _dial(fields.get("number", ""))
    if not dial:
        raise FaxJobError(f"{qfile}: no destination number (number:/external:)")
    documents: list[FaxDocument] = []
    after_source = False
    for op, saved, path in entries:
        if op == "fax" and after_source:
            continue  # the imaged pages of the source just read
        after_source = saved
        documents.append(_read_document(spool, op, path, max_bytes))
    return FaxJob(
        job_id=job_id,
        dial=dial,
        owner=fields.get("owner", ""),
        mailaddr=fields.get("mailaddr", ""),
        jobtype=fields.get("jobtype", "facsimile") or "facsimile",
        documents=tuple(documents),
    )


def _lines(text: str) -> list[str]:
    """Queue file lines; a line ending in a backslash continues on the next (multi-line status)."""
    out: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.endswith("\\"):
            pending += line[:-1] + "\n"
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return out


def _document_path(value: str) -> str:
    """`dirnum:addr:path`, `dirnum:path` or `path` → path (HylaFAX's own reading of a document line)."""
    if ":" in value:
        value = value.split(":", 1)[1]
        if ":" in value:
            value = value.split(":", 1)[1]
    return value.strip()


def _dial(value: str) -> str:
    value = value.strip()
    digits = re.sub(r"[^0-9]", "", value)
    return ("+" + digits if value.startswith("+") else digits) if digits else ""


def _read_document(spool: Path, op: str, path: str, max_bytes: int) -> FaxDocument:
    # HylaFAX refuses absolute paths and any component starting with "." (FaxRequest::checkDocument).
    if not path or path.startswith("/") or any(part.startswith(".") for part in path.split("/")):
        return FaxDocument(op, path, b"", "outside-spool")
    root = spool.resolve()
    target = (spool / path).resolve()
    if root not in target.parents:
        return FaxDocument(op, path, b"", "outside-spool")
    try:
        with target.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        return FaxDocument(op, path, b"", "missing")
    except OSError:
        return FaxDocument(op, path, b"", "unreadable")
    if len(data) > max_bytes:
        return FaxDocument(op, path, b"", "too-large")
    return FaxDocument(op, path, data)


# ----------------------------------------------------------------- the job as a message


def job_message(job: FaxJob, documents: Sequence[FaxDocument]) -> bytes:
    """The documents as one MIME message (what is scanned, and what the quarantine keeps).

    Headers carry the job id and, for a release, the digests of the documents it
    approves; never the number (it travels in the sealed envelope).
    """
    from detectors.documents import document_kind

    msg = EmailMessage(policy=SMTP)
    msg["From"] = job.mailaddr or "fax-owner@localhost.invalid"
    msg["Subject"] = f"Fax job {job.job_id}"
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = f"<fax-job.{job.job_id}.{secrets.token_hex(6)}@patronguard.invalid>"
    msg["X-PatronGuard-Fax-Job"] = job.job_id
    msg[FAX_APPROVAL_HEADER] = ",".join(d.sha256 for d in job.approval_documents if d.problem is None)
    msg.set_content(f"HylaFAX fax job {job.job_id}: {len(documents)} document(s).\n")
    for number, doc in enumerate(documents, 1):
        if doc.problem is not None:
            continue
        ctype, ext = _TYPES[doc.op], _EXTENSIONS[doc.op]
        if doc.op in ("data", "fax", "tiff"):
            ctype, ext = _KIND_TYPES.get(document_kind(doc.data) or "", (ctype, ext))
        maintype, subtype = ctype.split("/", 1)
        name = f"cover-page.{ext}" if doc.cover else f"document-{number}.{ext}"
        msg.add_attachment(doc.data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def _problem_findings(documents: Sequence[FaxDocument]) -> tuple[Any, ...]:
    from detectors.findings import Finding, Kind

    return tuple(
        Finding(kind=Kind.UNINSPECTABLE, part=f"document {n}", start=0, end=0, score=1.0,
                reason=f"{d.problem} fax-document", masked="", detector="fax-hook")
        for n, d in enumerate(documents, 1)
        if d.problem is not None
    )  # fmt: skip


# ----------------------------------------------------------------- verdicts and their cache


@dataclass(frozen=True, slots=True)
class Verdict:
    """The hook's answer for one job: pass, or held under `reference` for a short plain `reason`."""

    passed: bool
    reference: str = ""
    reason: str = ""
    rules: tuple[str, ...] = ()
    finding_kinds: tuple[str, ...] = ()
    cached: bool = False
    approved: bool = False

    def reject_notice(self) -> str:
        """The job-control line that makes faxq reject the job ("" for a job that may go)."""
        if self.passed:
            return ""
        text = f"PatronGuard held this fax for review (ref {self.reference}): {self.reason}. See your email."
        return f'RejectNotice: "{_quote(text)}"'


def _quote(text: str) -> str:
    """Safe inside HylaFAX's quoted config value: no quote, backslash, line break, or "#" (starts a comment)."""
    return re.sub(r'["\\\r\n#]', "'", text)


class VerdictCache:
    """Verdicts by key, one small JSON file each under `directory`, trusted for `ttl` seconds."""

    def __init__(self, directory: Path, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self.ttl = ttl
        self.clock = clock

    def get(self, key: str) -> Verdict | None:
        path = self.directory / f"{key}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or self.clock() - float(data.get("at", 0)) > self.ttl:
            return None
        return Verdict(bool(data.get("passed")), str(data.get("reference", "")), str(data.get("reason", "")),
                       tuple(data.get("rules", ())), tuple(data.get("finding_kinds", ())), cached=True)

    def put(self, key: str, verdict: Verdict) -> None:
        """Write atomically (a concurrent reader sees the old file or the new one); drop expired entries."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        now = self.clock()
        record = {"passed": verdict.passed, "reference": verdict.reference, "reason": verdict.reason,
                  "rules": list(verdict.rules), "finding_kinds": list(verdict.finding_kinds), "at": now}
        tmp = self.directory / f".{key}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh)
        os.replace(tmp, self.directory / f"{key}.json")
        for old in self.directory.glob("*.json"):
            try:
                if now - old.stat().st_mtime > self.ttl:
                    old.unlink()
            except OSError:
                continue


def cache_key(job: FaxJob, destination: str, config_fingerprint: str) -> str:
    parts = [job.job_id, destination, config_fingerprint, *(f"{d.op}:{d.problem or d.sha256}" for d in job.documents)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]


def config_fingerprint(config: Config) -> str:
    """A digest of the configuration file (a changed policy or approved list must not reuse old verdicts)."""
    try:
        data = Path(config.source).read_bytes()
    except OSError:
        data = config.source.encode()
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------- the hook


@dataclass
class FaxHook:
    """Decides fax jobs for one configuration; the scanner and quarantine open on first need only."""

    config: Config
    spool: Path
    state_dir: Path
    clock: Callable[[], float] = time.time
    scanner: Scanner | None = None
    _store: QuarantineStore | None = field(default=None, repr=False)

    @property
    def cache(self) -> VerdictCache:
        return VerdictCache(self.state_dir / "fax-hook", self.config.fax_hook.cache_minutes * 60.0, self.clock)

    def store(self) -> QuarantineStore:
        if self._store is None:
            from proxy.quarantine import open_store

            self._store = open_store(self.config.quarantine_under(str(self.state_dir)))
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def check(self, job_id: str) -> Verdict:
        """The verdict for one job, holding it (quarantine, owner's notice) when it may not go."""
        from proxy.scanning.policy import classify_fax_number

        job = read_job(self.spool, job_id)
        if job.jobtype != "facsimile":
            return Verdict(True, reason=f"not a fax job ({job.jobtype[:20]})")
        if not job.documents:
            return Verdict(True, reason="no documents")
        recipient = classify_fax_number(job.dial, self.config)
        destination = "fax:" + (recipient.fax_number or job.dial)
        key = cache_key(job, destination, config_fingerprint(self.config))
        cached = self.cache.get(key)
        if cached is not None and (cached.passed or not self._approved(job, destination)):
            return cached
        verdict = self._decide(job, recipient, destination)
        self.cache.put(key, verdict)
        return verdict

    def _approved(self, job: FaxJob, destination: str) -> bool:
        documents = [d for d in job.approval_documents if d.problem is None]
        if len(documents) != len(job.approval_documents):
            return False
        since = datetime.fromtimestamp(self.clock(), UTC) - timedelta(days=self.config.fax_hook.approval_days)
        return self.store().fax_approved(destination, [d.sha256 for d in documents], since)

    def _decide(self, job: FaxJob, recipient: Recipient, destination: str) -> Verdict:
        from detectors.engine import MessageScan
        from proxy.scanning.policy import Action, decide
        from proxy.scanning.scan import Scanner, ScanResult

        approved = self._approved(job, destination)
        approved_ids = {id(d) for d in job.approval_documents} if approved else set()
        to_scan = [d for d in job.documents if id(d) not in approved_ids]
        if not to_scan:
            return Verdict(True, approved=True)
        if self.scanner is None:
            self.scanner = Scanner(self.config)
        started = time.perf_counter()
        scanned = self.scanner.engine.scan(job_message(job, to_scan))
        problems = _problem_findings(to_scan)
        if problems:
            assessment = replace(scanned.assessment, uninspectable=scanned.assessment.uninspectable + problems)
            scanned = MessageScan(scanned.extraction, assessment, scanned.spacy_windows)
        decision = decide(recipient, scanned.assessment, self.config.policy)
        result = ScanResult((decision,), scanned, time.perf_counter() - started)
        kinds = tuple(sorted({f.kind.value for f in result.findings}))
        if decision.action is Action.DELIVER:
            return Verdict(True, rules=result.rules, finding_kinds=kinds, approved=approved)
        rules = result.rules + (("fax-cannot-be-redacted",) if decision.action is Action.REDACT else ())
        findings = result.to_json("fax")["findings"]
        item_id = self.store().hold(
            job_message(job, job.documents),
            job.mailaddr,
            [destination],
            ["fax"],
            list(rules),
            findings,
            datetime.fromtimestamp(self.clock(), UTC),
            queue_id=f"{FAX_JOB_PREFIX}{job.job_id}:{job.digest()[:16]}",
        )
        self._notify_owner(item_id)
        return Verdict(False, item_id, short_reason(rules), rules, kinds, approved=approved)

    def _notify_owner(self, item_id: str) -> None:
        """The owner's notice, spooled for the relay; a failure is recorded and said on stderr, the hold stands."""
        from proxy.quarantine import Actor, AuditAction

        store = self.store()
        try:
            notices = fax_notices(self.config, self.state_dir)
            if notices is not None:
                notices.held(store.get(item_id))
        except Exception as exc:
            store.record(Actor("fax-hook", f"fax-hook@{socket.gethostname()}"), AuditAction.NOTIFY_FAILED, item_id,
                         f"owner notice failed ({type(exc).__name__})")
            print(f"patronguard fax-hook: item {item_id}: the owner's notice could not be spooled "
                  f"({type(exc).__name__}); the fax stays held", file=sys.stderr)


def short_reason(rules: Sequence[str]) -> str:
    """A few plain words for a RejectNotice: which kind of problem, never which data."""
    if any(r.startswith("policy:fax_unapproved") for r in rules):
        return "patron information to a number not approved for it"
    if any(r.startswith("policy:fax_excess") for r in rules):
        return "patron information this number is not approved for"
    if "uninspectable" in rules:
        return "a document PatronGuard could not read"
    return "patron information"


def run_hook(
    job_id: str,
    *,
    spool: str | None = None,
    config_path: str | None = None,
    state_dir: str | None = None,
    log_level: str = "info",
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """`patronguard fax-hook`: print the job-control lines for one job; 0 for every decision.

    Anything that goes wrong rejects the job (fail closed) and says why on stderr.
    """
    from proxy import logs

    out = out or sys.stdout
    err = err or sys.stderr
    started = time.perf_counter()
    hook: FaxHook | None = None
    try:
        logs.configure(log_level, stream=err)
        from proxy.config import load

        config = load(config_path)
        hook = FaxHook(config, Path(spool or "."), Path(state_dir or config.spool.state_dir))
        verdict = hook.check(job_id)
    except (PatronGuardError, ConfigError) as exc:
        return _fail(job_id, str(exc), out, err)
    except Exception as exc:
        return _fail(job_id, f"internal error ({type(exc).__name__})", out, err)
    finally:
        if hook is not None:
            hook.close()
    logs.get_logger("patronguard.fax").info(
        "fax.decision",
        queue_id=f"hylafax:{job_id}",
        action="deliver" if verdict.passed else "hold",
        reference=verdict.reference or None,
        rules=list(verdict.rules),
        finding_kinds=list(verdict.finding_kinds),
        state="cached" if verdict.cached else "approved" if verdict.approved else "scanned",
        ms=round((time.perf_counter() - started) * 1000, 1),
    )
    if not verdict.passed:
        out.write(verdict.reject_notice() + "\n")
        out.flush()
    return 0


def _fail(job_id: str, problem: str, out: TextIO, err: TextIO) -> int:
    print(f"patronguard fax-hook: job {job_id[:20]}: {problem}; the job is rejected (fail closed)", file=err)
    out.write('RejectNotice: "PatronGuard could not check this fax, so it was not sent. '
              'Please ask the library\'s IT help desk."\n')
    out.flush()
    return 0


# ----------------------------------------------------------------- notices to the job's owner


class FaxNotices:
    """The owner's notices about a fax job (`proxy/templates/fax-*.txt`), spooled like any notice.

    Built on the relay's `Notices` (same sender, templates directory, spool and
    headers); what a notice says: the reference, the fax job id, the date, the
    reasons in plain words — never the number, a name or document text.
    """

    def __init__(self, notices: Notices, approval_days: int, source: str = "<config>") -> None:
        import jinja2

        self.notices = notices
        self.approval_days = approval_days
        sample = {"reference": "q-SAMPLE", "library": "the library", "sent": "1 January 2025 at 09:00 UTC",
                  "job": "123", "reasons": ["a sample reason"], "contact": "the help desk", "note": "sample",
                  "approval_days": approval_days}  # fmt: skip
        for name in FAX_TEMPLATES:
            try:
                notices.templates.render(name, **sample)
            except jinja2.TemplateSyntaxError as exc:
                raise ConfigError(f"{source}: notices.templates_dir: {name} line {exc.lineno}: {exc.message}") from None
            except (jinja2.TemplateError, ValueError) as exc:
                raise ConfigError(f"{source}: notices.templates_dir: {name}: {exc}") from None

    def held(self, item: HeldItem) -> str:
        """Spool the owner's notice that a fax job is held; return its spool id ("" when nobody can be told)."""
        return self._spool("fax-held.txt", item, "", f"N{item.id}-faxheld")

    def outcome(self, item: HeldItem, outcome: ItemState, note: str) -> str:
        """Spool the owner's notice of a supervisor's decision on a fax job; "" when there is none for it."""
        from proxy.quarantine import ItemState

        name = {ItemState.RELEASED: "fax-approved.txt", ItemState.REJECTED: "fax-rejected.txt"}.get(outcome)
        if name is None:
            return ""
        return self._spool(name, item, note.strip() if outcome is ItemState.REJECTED else "",
                           f"N{item.id}-{outcome.value}")

    def _spool(self, name: str, item: HeldItem, note: str, notice_id: str) -> str:
        from proxy.relay.notices import reasons_for
        from proxy.relay.spool import Envelope

        if not item.mail_from or "@" not in item.mail_from:
            return ""
        moment = item.received_at.astimezone(UTC)
        context = {
            "reference": item.id,
            "library": self.notices.settings.library,
            "sent": f"{moment.day} {moment:%B %Y} at {moment:%H:%M} UTC",
            "job": fax_job_id(item),
            "reasons": reasons_for(item.rules, item.excerpts),
            "contact": self.notices.settings.contact,
            "note": note,
            "approval_days": self.approval_days,
        }
        raw = self.notices.build(name, context, item.mail_from)
        envelope = Envelope(mail_from="", rcpt_tos=(item.mail_from,), received_at=self.notices.clock(),
                            helo=self.notices.settings.hostname, dsn_of=item.queue_id or item.id)
        return self.notices.spool.put(envelope, raw, notice_id)


def fax_job_id(item: HeldItem) -> str:
    """The HylaFAX job id of a fax item ("fax-job:34:abcd…" → "34")."""
    return (item.queue_id or "").removeprefix(FAX_JOB_PREFIX).partition(":")[0] or "?"


def fax_notices(config: Config, state_dir: Path) -> FaxNotices | None:
    """Fax notices spooled in the relay's spool under `state_dir` (None when notices are switched off)."""
    from proxy.relay.notices import notices_from_config
    from proxy.relay.spool import Spool

    who = config.relay_identity()
    notices = notices_from_config(config, Spool(state_dir / "spool"), hostname=who.hostname,
                                  postmaster=who.postmaster)
    return FaxNotices(notices, config.fax_hook.approval_days, config.source) if notices is not None else None


class FaxNotifier:
    """The quarantine's `Notifier` for fax items: released → "send it again", rejected → the note.

    Other outcomes (expiry) and admin notices go to the ordinary notifier.
    """

    def __init__(self, notices: FaxNotices, fallback: Notifier, submit: Callable[[str], None] | None = None) -> None:
        self.notices = notices
        self.fallback = fallback
        self.submit = submit

    def notify_sender(self, item: HeldItem, outcome: ItemState, note: str) -> None:
        from proxy.quarantine import ItemState

        if outcome not in (ItemState.RELEASED, ItemState.REJECTED):
            self.fallback.notify_sender(item, outcome, note)
            return
        notice_id = self.notices.outcome(item, outcome, note)
        if notice_id and self.submit is not None:
            self.submit(notice_id)

    def notify_admin(self, item: HeldItem, note: str) -> None:
        self.fallback.notify_admin(item, note)


def fax_notifier(
    config: Config, base: Notifier | None, submit: Callable[[str], None] | None = None
) -> Notifier | None:
    """The review service's notifier for fax items, on the same spool as `base` (a `SpoolNotifier`).

    When `base` has no spool (notices off, or a spool this process cannot write) it is returned as it is.
    """
    notices = getattr(base, "notices", None)
    if base is None or notices is None:
        return base
    return FaxNotifier(FaxNotices(notices, config.fax_hook.approval_days, config.source), base, submit)
