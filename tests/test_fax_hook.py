"""The HylaFAX job hook over a fake HylaFAX spool (sendq/qN + docq/ documents made here), the real
detection engine, the real quarantine (SQLite, and PostgreSQL for the approvals) and a real subprocess."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docfactory as f
import pytest
from quarantine_support import Clock, pg_cluster

from proxy.config import Config
from proxy.fax.hook import FaxHook, VerdictCache, read_job, run_hook
from proxy.quarantine import Actor, AuditAction, InvalidTransition, ItemState, KeyRing, open_store
from proxy.quarantine.sql import SqlQuarantine
from proxy.wiring import review_service

REPO = Path(__file__).resolve().parents[1]
OWNER = "circ@cityofsalem.net"
UNAPPROVED = "503-555-0199"  # not on the approved list
APPROVED = "+1 503-555-0142"  # the collection agency's fax in config.yaml (name, address, phone, card, money owed...)
IDENTIFIERS = (f.CARD, "DOE", "JANE", "1420 SE ALDER", "555-0187", "5550187", "5550199", "555-0199")


class Spool:
    """A fake HylaFAX spool: sendq/qN job files and docq/ documents."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "sendq").mkdir(parents=True)
        (root / "docq").mkdir()
        self.n = 0

    def job(self, job_id: int, documents: list[tuple[str, bytes | None]], number: str = UNAPPROVED,
            cover: bytes | None = None, extra: str = "") -> str:
        """Write docq files and sendq/qJOBID; `documents` are (op, bytes) — None bytes: listed but missing."""
        lines = [
            "tts:0", "killtime:1999999999", "retrytime:0", "number:9" + "".join(c for c in number if c.isdigit()),
            f"external:{number}", f"mailaddr:{OWNER}", "sender:Circulation Desk", "owner:circ",
            f"jobid:{job_id}", "jobtype:facsimile", "modem:any", "client:localhost", "state:3",
            "status:Busy signal detected\\", "  (previous try)", "notify:none",
        ]  # fmt: skip
        if cover is not None:
            self.n += 1
            (self.root / "docq" / f"doc{self.n}.cover").write_bytes(cover)
            lines.append(f"postscript:0::docq/doc{self.n}.cover")
        for op, data in documents:
            self.n += 1
            name = f"docq/doc{self.n}.{op}.{job_id}"
            if data is not None:
                (self.root / name).write_bytes(data)
            lines.append(f"{op}:0::{name}")
        lines.append(extra)
        (self.root / "sendq" / f"q{job_id}").write_text("\n".join(lines) + "\n")
        return str(job_id)


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "hylafax")


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def hook(config: Config, scanner, spool: Spool, state: Path):  # type: ignore[no-untyped-def]
    store_for(config, state).close()  # the quarantine `serve` (or `quarantine init`) made
    h = FaxHook(config, spool.root, state, scanner=scanner)
    yield h
    h.close()


def store_for(config: Config, state: Path) -> SqlQuarantine:
    store = open_store(config.quarantine_under(str(state)), create=True)
    assert isinstance(store, SqlQuarantine)
    return store


def spooled_notices(state: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted((state / "spool" / "queue").glob("*.msg"))]


def notice_body(spooled: bytes) -> str:
    """The text of a spooled notice (after the spool's two header lines), transfer encoding undone."""
    import email
    import email.policy

    message = email.message_from_bytes(spooled.split(b"\n", 2)[2], policy=email.policy.default)
    return message.get_content()  # type: ignore[attr-defined,no-any-return]


# ----------------------------------------------------------------- reading the queue file


def test_read_job_follows_hylafax_document_lines(spool: Spool) -> None:
    """Document lines in all three forms are read; imaged pages of a kept source are skipped; paths stay in the spool."""
    (spool.root / "docq" / "doc3.ps").write_bytes(b"%!PS\nshowpage\n")
    (spool.root / "docq" / "doc4.pdf").write_bytes(b"%PDF-1.4 x")
    (spool.root / "docq" / "doc5.tif").write_bytes(b"II*\x00")
    (spool.root / "sendq" / "q12").write_text(
        "number:9,1-503-555-0199\nexternal:+1 (503) 555-0199\nowner:circ\nmailaddr:circ@cityofsalem.net\n"
        "status:Busy\\\n  again\njobtype:facsimile\n"
        "!postscript:0::docq/doc3.ps\nfax:0::docq/doc3.ps;60\n"
        "pdf:docq/doc4.pdf\ntiff:0:some-address:docq/doc5.tif\n"
        "pcl:0::docq/missing.pcl\ndata:0::../etc/passwd\npostscript:0::/etc/hosts\n"
    )
    job = read_job(spool.root, "12")
    assert (job.dial, job.owner, job.mailaddr) == ("+15035550199", "circ", "circ@cityofsalem.net")
    assert [(d.op, d.path, d.problem) for d in job.documents] == [
        ("postscript", "docq/doc3.ps", None),
        ("pdf", "docq/doc4.pdf", None),
        ("tiff", "docq/doc5.tif", None),
        ("pcl", "docq/missing.pcl", "missing"),
        ("data", "../etc/passwd", "outside-spool"),
        ("postscript", "/etc/hosts", "outside-spool"),
    ]


def test_read_job_refuses_what_is_not_a_job(spool: Spool) -> None:
    """A job id that is not digits, a missing queue file and a job without a number are errors naming no content."""
    from proxy.fax.hook import FaxJobError

    with pytest.raises(FaxJobError, match="not a HylaFAX job id"):
        read_job(spool.root, "../q1")
    with pytest.raises(FaxJobError, match="no such job file"):
        read_job(spool.root, "99")
    (spool.root / "sendq" / "q5").write_text("owner:circ\npdf:0::docq/x.pdf\n")
    with pytest.raises(FaxJobError, match="no destination number"):
        read_job(spool.root, "5")


# ----------------------------------------------------------------- decisions


def test_patron_record_to_an_unapproved_number_is_held_and_quarantined(hook: FaxHook, spool: Spool, config: Config,
                                                                       state: Path) -> None:
    """A patron record to an unapproved number: RejectNotice with a reference, a sealed fax item, a kind notice."""
    job = spool.job(7, [("pdf", f.pdf_text(f.PATRON_LINES))])
    verdict = hook.check(job)
    assert not verdict.passed and verdict.reference.startswith("q-")
    notice = verdict.reject_notice()
    assert notice.startswith('RejectNotice: "') and verdict.reference in notice and "not approved" in notice
    assert not any(i in notice for i in IDENTIFIERS)

    store = hook.store()
    item = store.get(verdict.reference)
    assert item.state is ItemState.HELD and item.is_fax_job and item.recipient_classes == ("fax",)
    assert item.mail_from == OWNER and item.library == "cityofsalem.net"
    assert item.recipient_hashes == (store.keys.address_hash("fax:+15035550199"),)
    assert "policy:fax_unapproved:hold" in item.rules and "patron-card" in item.rules
    env = store.reveal(item.id, Actor("alice", "test"))
    assert env.rcpt_tos == ("fax:+15035550199",) and b"application/pdf" in env.raw

    (owner_notice,) = spooled_notices(state)
    assert b"fax-held; ref=" + item.id.encode() in owner_notice and "fax job 7" in notice_body(owner_notice)
    assert not any(i.encode() in owner_notice for i in IDENTIFIERS)


def test_the_same_record_to_an_approved_number_passes(hook: FaxHook, spool: Spool) -> None:
    """The approved collection-agency fax may receive this record's categories: the job goes."""
    verdict = hook.check(spool.job(8, [("pdf", f.pdf_text(f.PATRON_LINES))], number=APPROVED))
    assert verdict.passed, verdict.rules
    assert "patron-card" in verdict.rules


def test_benign_postscript_and_fax_tiff_pass(hook: FaxHook, spool: Spool, state: Path) -> None:
    """Library business in PostScript and a 200 dpi G4 fax TIFF (OCR) to an unapproved number passes."""
    verdict = hook.check(spool.job(9, [("postscript", f.postscript(f.BENIGN_LINES)), ("tiff", f.fax_tiff([f.BENIGN_LINES]))]))
    assert verdict.passed and "uninspectable" not in verdict.rules
    assert not (state / "spool" / "queue").exists() or not spooled_notices(state)


@pytest.mark.parametrize(
    ("op", "build"),
    [("postscript", lambda: f.postscript(f.PATRON_LINES)), ("tiff", lambda: f.fax_tiff([f.PATRON_LINES]))],
    ids=["postscript-text", "g4-fax-tiff-ocr"],
)
def test_patron_record_in_postscript_or_a_fax_tiff_is_held(hook: FaxHook, spool: Spool, op: str, build) -> None:  # type: ignore[no-untyped-def]
    """PostScript is read through Ghostscript's txtwrite, a fax TIFF through OCR; either record is held."""
    verdict = hook.check(spool.job(10, [(op, build())]))
    assert not verdict.passed and "patron-card" in verdict.rules


@pytest.mark.parametrize(
    "document",
    [
        ("pcl", b"\x1bE\x1b&l0O\x1b(s0p12h10v0s0b3T P BARCODE 23610003622817\x1bE"),
        ("pdf", b"%PDF-1.7\n1 0 obj <<>> garbage"),
        ("pdf", None),
    ],
    ids=["pcl", "corrupt-pdf", "missing-document"],
)
def test_unreadable_documents_are_held_as_uninspectable(hook: FaxHook, spool: Spool, document) -> None:  # type: ignore[no-untyped-def]
    """PCL, a corrupt PDF or a document missing from docq/ is held (fail closed), next to a benign page."""
    verdict = hook.check(spool.job(11, [("postscript", f.postscript(f.BENIGN_LINES)), document]))
    assert not verdict.passed and "uninspectable" in verdict.rules
    assert "could not read" in verdict.reject_notice()
    item = hook.store().get(verdict.reference)
    assert dict(item.finding_counts).get("uninspectable") == 1 and item.is_fax_job


# ----------------------------------------------------------------- release = approval


def test_release_records_an_approval_and_the_resubmitted_job_passes(config: Config, scanner, spool: Spool,
                                                                    state: Path, tmp_path: Path) -> None:
    """A supervisor's release sends nothing, records the approval and tells the owner to resubmit; the same
    documents to the same number then pass (a new cover page is read again); changed ones or another number do not."""
    record = f.pdf_text(f.PATRON_LINES)
    store_for(config, state).close()
    hook = FaxHook(dataclasses.replace(config, spool=dataclasses.replace(config.spool, state_dir=str(state))),
                   spool.root, state, scanner=scanner)
    held = hook.check(spool.job(20, [("pdf", record)], cover=f.postscript(["FAX COVER", "Date: 3 March 2025"])))
    assert not held.passed
    outbox = tmp_path / "outbox"
    service = review_service(hook.config, hook.store(), upstream_url=f"maildir:{outbox}")
    with pytest.raises(InvalidTransition, match="fax cannot be masked"):
        service.release_redacted(held.reference, "alice", "redact it")
    item = service.release(held.reference, "alice", "the agency confirmed this number")
    assert item.state is ItemState.RELEASED
    assert not [p for p in outbox.rglob("*") if p.is_file()], "a fax release must not send mail"
    assert [r.action for r in hook.store().audit_log()][-2:] == [AuditAction.FAX_APPROVE.value, AuditAction.RELEASE.value]
    approved_notice = [n for n in spooled_notices(state) if b"fax-approved" in n]
    assert len(approved_notice) == 1 and "within 7 days" in notice_body(approved_notice[0])
    assert not any(i.encode() in approved_notice[0] for i in IDENTIFIERS)

    again = hook.check(spool.job(21, [("pdf", record)], cover=f.postscript(["FAX COVER", "Date: 4 March 2025"])))
    assert again.passed and again.approved
    leaky_cover = hook.check(spool.job(22, [("pdf", record)], cover=f.postscript(f.PATRON_LINES)))
    assert not leaky_cover.passed
    changed = hook.check(spool.job(23, [("pdf", f.pdf_text((*f.PATRON_LINES, "NOTE  also his sister")))]))
    assert not changed.passed
    elsewhere = hook.check(spool.job(24, [("pdf", record)], number="971-555-0100"))
    assert not elsewhere.passed
    later = FaxHook(hook.config, spool.root, state, clock=lambda: datetime.now(UTC).timestamp() + 8 * 86400,
                    scanner=scanner)
    assert not later.check(spool.job(25, [("pdf", record)])).passed, "approvals expire after approval_days"
    later.close()
    hook.close()


# ----------------------------------------------------------------- the verdict cache


def test_verdicts_are_cached_per_job_and_documents(config: Config, scanner, spool: Spool, state: Path) -> None:
    """HylaFAX asking again about the same job gets the cached verdict without a scan; new documents or
    an expired entry are scanned again."""
    job = spool.job(30, [("postscript", f.postscript(f.BENIGN_LINES))])
    store_for(config, state).close()
    first = FaxHook(config, spool.root, state, scanner=scanner)
    assert first.check(job).passed
    now = [datetime.now(UTC).timestamp()]
    cold = FaxHook(config, spool.root, state, clock=lambda: now[0])  # no scanner: a scan would build one
    again = cold.check(job)
    assert again.passed and again.cached and cold.scanner is None
    now[0] += config.fax_hook.cache_minutes * 60 + 1
    cold.scanner = scanner
    assert not cold.check(job).cached
    spool.job(30, [("postscript", f.postscript(f.PATRON_LINES))])  # the job's document replaced
    assert not cold.check(job).passed
    first.close()
    cold.close()


def test_verdict_cache_files_hold_no_content(tmp_path: Path) -> None:
    """The cache keeps the verdict, reference, reason and rule ids only, in 0600 files; expired ones go."""
    from proxy.fax.hook import Verdict

    now = [1000.0]
    cache = VerdictCache(tmp_path / "c", 60, clock=lambda: now[0])
    cache.put("k1", Verdict(False, "q-abc", "patron information", ("patron-card",)))
    assert cache.get("k1") == Verdict(False, "q-abc", "patron information", ("patron-card",), cached=True)
    assert oct((tmp_path / "c" / "k1.json").stat().st_mode & 0o777) == "0o600"
    now[0] += 61
    assert cache.get("k1") is None


# ----------------------------------------------------------------- as HylaFAX runs it


def _hook_process(spool: Spool, job: str, config: str, state: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "proxy.cli", "fax-hook", job, "--config", config,
                           "--state-dir", str(state)], cwd=spool.root, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def test_hook_as_a_subprocess_from_the_spool(spool: Spool, state: Path, tmp_path: Path) -> None:
    """Run as faxq does (cwd = spool): a patron record prints one RejectNotice line, a benign job nothing,
    an unknown job, a broken config or no quarantine a fail-closed RejectNotice; always exit 0, stderr says why."""
    config = str(REPO / "config.yaml")
    nowhere = _hook_process(spool, spool.job(39, [("pdf", f.pdf_text(f.PATRON_LINES))]), config, state)
    assert nowhere.returncode == 0 and nowhere.stdout.startswith('RejectNotice: "PatronGuard could not check')
    assert f"{state / 'quarantine.db'}: no quarantine database there" in nowhere.stderr
    assert not (state / "quarantine.db").exists() and not (state / "quarantine.key").exists()
    from proxy.cli import main

    assert main(["quarantine", "init", "--config", config, "--state-dir", str(state)]) == 0
    held = _hook_process(spool, spool.job(40, [("pdf", f.pdf_text(f.PATRON_LINES))]), config, state)
    assert held.returncode == 0
    assert held.stdout.startswith('RejectNotice: "PatronGuard held this fax for review (ref q-')
    assert held.stdout.count("\n") == 1
    assert '"event": "fax.decision"' in held.stderr and not any(i in held.stderr + held.stdout for i in IDENTIFIERS)

    benign = _hook_process(spool, spool.job(41, [("postscript", f.postscript(f.BENIGN_LINES))]), config, state)
    assert (benign.returncode, benign.stdout) == (0, "")

    unknown = _hook_process(spool, "42", config, state)
    assert unknown.returncode == 0 and unknown.stdout.startswith('RejectNotice: "PatronGuard could not check')
    assert "no such job file" in unknown.stderr and "fail closed" in unknown.stderr

    broken = tmp_path / "broken.yaml"
    broken.write_text("library:\n  domains: [ccrls.org]\nfax_hook:\n  approval_days: soon\n")
    bad = _hook_process(spool, spool.job(43, [("postscript", f.postscript(f.BENIGN_LINES))]), str(broken), state)
    assert bad.returncode == 0 and bad.stdout.startswith('RejectNotice: "PatronGuard could not check')
    assert "broken.yaml:4: fax_hook.approval_days" in bad.stderr


def test_run_hook_rejects_on_an_internal_error(spool: Spool, state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception inside the check still prints a RejectNotice and exits 0 (never a traceback)."""

    def explode(self, job_id):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom with DOE, JANE")

    monkeypatch.setattr(FaxHook, "check", explode)
    out, err = io.StringIO(), io.StringIO()
    assert run_hook("1", spool=str(spool.root), config_path=str(REPO / "config.yaml"), state_dir=str(state),
                    out=out, err=err) == 0
    assert out.getvalue().startswith('RejectNotice: "PatronGuard could not check')
    assert "internal error (RuntimeError)" in err.getvalue() and "DOE" not in err.getvalue()


# ----------------------------------------------------------------- the approvals table, on both databases


@pytest.fixture(params=["sqlite", "postgresql"])
def approvals_store(request, tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = Clock()
    keys = KeyRing.load_or_create(tmp_path / "quarantine.key")
    store: SqlQuarantine
    if request.param == "postgresql":
        from proxy.quarantine.postgres import PostgresQuarantine

        store = PostgresQuarantine(pg_cluster().create_database(), keys, clock)
    else:
        from proxy.quarantine.sqlite import SqliteQuarantine

        store = SqliteQuarantine(tmp_path / "quarantine.db", keys, clock)
    yield store, clock
    store.close()


def test_fax_approvals_on_both_backends(approvals_store) -> None:  # type: ignore[no-untyped-def]
    """Approvals match every document for the destination, expire by date, renew on re-approval, are audited,
    and keep neither the number nor a plain document digest."""
    store, clock = approvals_store
    alice = Actor("alice", "test")
    a, b, c = "a" * 64, "b" * 64, "c" * 64
    store.approve_fax("q-1", "fax:+15035550199", [a, b], alice)
    since = clock() - timedelta(days=7)
    assert store.fax_approved("fax:+15035550199", [a, b], since)
    assert store.fax_approved("fax:+15035550199", [b], since)
    assert not store.fax_approved("fax:+15035550199", [a, c], since)
    assert not store.fax_approved("fax:+15035550100", [a], since)
    assert not store.fax_approved("fax:+15035550199", [], since)
    clock.advance(days=8)
    assert not store.fax_approved("fax:+15035550199", [a], clock() - timedelta(days=7))
    store.approve_fax("q-2", "fax:+15035550199", [a], alice)
    assert store.fax_approved("fax:+15035550199", [a], clock() - timedelta(days=7))
    with pytest.raises(InvalidTransition):
        store.approve_fax("q-3", "fax:+15035550199", [], alice)
    assert [r.action for r in store.audit_log()].count(AuditAction.FAX_APPROVE.value) == 2
    assert store.verify_audit().ok
    with store._read() as tx:
        rows = tx.run("SELECT destination_hash, document_hash, item_id, approved_by FROM fax_approvals")
    flat = repr(rows)
    assert len(rows) == 2 and "5550199" not in flat and a not in flat and b not in flat


def test_fax_constants_match_the_quarantine() -> None:
    """proxy.fax.hook keeps copies of two quarantine constants (to start fast); they must stay equal."""
    import proxy.fax.hook
    import proxy.quarantine

    assert proxy.fax.hook.FAX_JOB_PREFIX == proxy.quarantine.FAX_JOB_PREFIX
    assert proxy.fax.hook.FAX_APPROVAL_HEADER == proxy.quarantine.FAX_APPROVAL_HEADER


def test_reject_tells_the_owner_with_the_note(config: Config, scanner, spool: Spool, state: Path) -> None:  # type: ignore[no-untyped-def]
    """Rejecting a held fax destroys it and spools the owner's fax notice with the supervisor's note, no data."""
    cfg = dataclasses.replace(config, spool=dataclasses.replace(config.spool, state_dir=str(state)))
    store_for(config, state).close()
    hook = FaxHook(cfg, spool.root, state, scanner=scanner)
    held = hook.check(spool.job(50, [("pdf", f.pdf_text(f.PATRON_LINES))]))
    service = review_service(cfg, hook.store(), upstream_url=f"maildir:{state / 'outbox'}")
    item = service.reject(held.reference, "alice", "use the agency's secure portal")
    assert item.state is ItemState.REJECTED and not item.has_content
    (notice,) = [n for n in spooled_notices(state) if b"fax-rejected" in n]
    text = notice_body(notice)
    assert "use the agency's secure portal" in text and "fax job 50" in text
    assert not any(i.encode() in notice for i in IDENTIFIERS)
    assert not hook.check(spool.job(51, [("pdf", f.pdf_text(f.PATRON_LINES))])).passed, "a rejection approves nothing"
    hook.close()


def test_fax_approvals_are_deleted_after_the_audit_period(approvals_store) -> None:  # type: ignore[no-untyped-def]
    """`quarantine purge` deletes approvals older than quarantine.audit_days and keeps newer ones."""
    from proxy.quarantine import RetentionPolicy, purge

    store, clock = approvals_store
    alice = Actor("alice", "test")
    old, new = "d" * 64, "e" * 64
    store.approve_fax("q-old", "fax:+15035550199", [old], alice)
    clock.advance(days=300)
    store.approve_fax("q-new", "fax:+15035550199", [new], alice)
    clock.advance(days=100)
    report = purge(store, RetentionPolicy(14, "reject", 7, 365), clock=clock)
    assert report.approvals_deleted == 1 and "fax_approvals_deleted=1" in report.summary()
    ever = clock() - timedelta(days=10_000)
    assert not store.fax_approved("fax:+15035550199", [old], ever)
    assert store.fax_approved("fax:+15035550199", [new], ever)
