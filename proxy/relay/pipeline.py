"""The worker: spool entry → scan once → split per recipient → deliver or hold → remove.

This module owns the life of a spooled message after the SMTP 250:

1. Scan it once (the detection engine and policy, `Scanner.summarize`) in the scan
   executor (worker processes, `proxy.scanning.pool`), off the event loop; an entry
   that must wait for a retry records each recipient's decision in its state
   file, so a retry or a restart never scans it again.
2. Recipients whose action is redact get the redacted copy (`proxy.scanning.redact`),
   re-created from the spooled original on each pass and checked by a second
   scan; when it cannot be made clean they are held instead (fail closed).
   Hold every recipient whose action is hold in the `HoldStore`, durably.
3. Deliver to the allowed recipients through the `Upstream`, envelope
   preserved, with a `Received:` trace header; temporary failures are retried
   with exponential back-off until the maximum age, permanent ones (and expired
   ones) get a DSN to the sender, itself spooled before the state records it.
4. Remove the spool entry only when every recipient's outcome is durable.

An entry whose processing raises (a corrupt spool file, a bug) is tried again
`max_failed_passes` times, then set aside, logged once, and the relay goes on:
its undecided recipients are held in the quarantine with the rule
`process-failed` (nothing is sent), or, when the entry cannot even be read, its
files move to `spool/bad/` for the admin. A quarantine that cannot take the hold
leaves the entry queued and retried: set aside never means lost.

One structured log event per decision (`relay.decision`) carries the queue id,
hashed Message-ID, sender domain, recipient classes and actions, hashed outside
addresses, rule ids, finding kinds and counts, and timings — nothing else.
A scan that fails holds every recipient (fail closed).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor
from typing import Any

from proxy.config import Identity
from proxy.logs import hash_value
from proxy.relay.delivery import Outcome, RetryPolicy, Status, Upstream, build_dsn, received_header
from proxy.relay.holds import HoldRequest, HoldStore
from proxy.relay.notices import Notices
from proxy.relay.spool import EntryState, Envelope, RecipientState, RecipientStatus, Spool, SpoolEntry
from proxy.scanning.explain import Excerpt
from proxy.scanning.policy import Action
from proxy.scanning.pool import ScanPool, call_in
from proxy.scanning.redact import redact_checked
from proxy.scanning.scan import Scanner, ScanSummary

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*([^\r\n]*)", re.IGNORECASE | re.MULTILINE)
SCAN_FAILED = "scan-failed"
PROCESS_FAILED = "process-failed"  # processing raised on every pass: held as it is, for a supervisor
REDACT_FAILED = "redaction-refused"  # the redacted copy was not clean on the second scan: held instead


def message_id_hash(raw: bytes) -> str:
    head = raw[:65536]
    end = head.find(b"\n\n")
    alt = head.find(b"\r\n\r\n")
    cut = min(x for x in (end, alt, len(head)) if x >= 0)
    match = _MESSAGE_ID.search(head, 0, cut)
    return hash_value(match.group(1).decode("ascii", "replace")) if match else ""


def crlf(raw: bytes) -> bytes:
    """Every line ending as CRLF (a bare LF becomes CRLF; a lone CR is left alone)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


class Pipeline:
    """Workers that drain the spool. Blocking disk work runs in threads; scanning in `scan_executor`.

    Entries spooled by other processes (sender notices from `patronguard
    quarantine release/reject`, the fax hook) are found by a sweep of the spool
    every `SWEEP_SECONDS`.
    """

    SWEEP_SECONDS = 10.0

    def __init__(
        self,
        spool: Spool,
        scanner: Scanner,
        upstream: Upstream,
        holds: HoldStore,
        retry: RetryPolicy,
        identity: Identity,
        *,
        scan_executor: ScanPool | Executor,
        log: Any,
        workers: int = 2,
        clock: Callable[[], float] = time.time,
        notices: Notices | None = None,
        max_failed_passes: int = 5,
    ) -> None:
        self.spool = spool
        self.scanner = scanner  # replaced whole on SIGHUP
        self.upstream = upstream
        self.holds = holds
        self.retry = retry
        self.identity = identity
        self.scan_executor = scan_executor
        self.log = log
        self.workers = workers
        self.clock = clock
        self.notices = notices  # None: no sender notices (replaced whole on SIGHUP)
        self.max_failed_passes = max_failed_passes
        self._failed_passes: dict[str, int] = {}  # entry id → passes that raised (in this run of the relay)
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._queued: set[str] = set()
        self._active: set[str] = set()  # being processed: one worker per entry at a time
        self._rerun: set[str] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._stopped = asyncio.Event()
        self.processed = 0  # entries whose processing finished (for tests and metrics)
        self.changed = asyncio.Event()  # set after each processed entry

    def reconfigure(
        self,
        *,
        scanner: Scanner,
        upstream: Upstream,
        retry: RetryPolicy,
        identity: Identity,
        notices: Notices | None,
        max_failed_passes: int,
    ) -> Upstream:
        """Take a reloaded configuration's collaborators (SIGHUP); return the previous upstream, for closing.

        Entries in flight finish with the collaborators they started with: each
        pass reads these attributes once per step, and the old upstream stays
        usable until the caller closes it.
        """
        previous = self.upstream
        self.scanner, self.upstream, self.retry = scanner, upstream, retry
        self.identity, self.notices, self.max_failed_passes = identity, notices, max_failed_passes
        return previous

    # ------------------------------------------------------------- scheduling

    def submit(self, entry_id: str) -> None:
        """Queue an entry for processing now (deduplicated)."""
        if self._stopping or entry_id in self._queued:
            return
        timer = self._timers.pop(entry_id, None)
        if timer is not None:
            timer.cancel()
        self._queued.add(entry_id)
        self._queue.put_nowait(entry_id)

    def _schedule(self, entry_id: str, at: float) -> None:
        if self._stopping:
            return
        old = self._timers.pop(entry_id, None)
        if old is not None:
            old.cancel()
        delay = max(0.0, at - self.clock())
        self._timers[entry_id] = asyncio.get_running_loop().call_later(delay, self.submit, entry_id)

    async def start(self) -> int:
        """Resume the queue left on disk and start the workers; return how many entries were found."""
        ids = await asyncio.to_thread(self.spool.ids)
        for entry_id in ids:
            try:
                state = await asyncio.to_thread(self.spool.load_state, entry_id)
            except (OSError, ValueError):  # a damaged state file: its passes fail and set it aside
                self.submit(entry_id)
                continue
            due = state.next_attempt()
            if due is not None and due > self.clock():
                self._schedule(entry_id, due)
            else:
                self.submit(entry_id)
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]
        self._tasks.append(asyncio.create_task(self._sweep()))
        return len(ids)

    async def _sweep(self) -> None:
        """Pick up entries another process put in the spool (not queued, running or waiting for a retry here)."""
        while not self._stopping:
            try:
                await asyncio.wait_for(self._stopped.wait(), self.SWEEP_SECONDS)
                return
            except TimeoutError:
                pass
            try:
                ids = await asyncio.to_thread(self.spool.ids)
            except OSError as exc:
                self.log.error("relay.sweep_failed", error=exc.__class__.__name__)
                continue
            for entry_id in ids:
                if entry_id not in self._queued and entry_id not in self._active and entry_id not in self._timers:
                    self.submit(entry_id)

    async def stop(self) -> None:
        """Take no new work, let each worker finish its current entry."""
        self._stopping = True
        self._stopped.set()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for _ in range(self.workers):
            self._queue.put_nowait(None)
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _work(self) -> None:
        while True:
            entry_id = await self._queue.get()
            if entry_id is None or self._stopping:
                return
            self._queued.discard(entry_id)
            if entry_id in self._active:  # another worker has it: run it again when that one is done
                self._rerun.add(entry_id)
                continue
            self._active.add(entry_id)
            try:
                await self.process(entry_id)
                self._failed_passes.pop(entry_id, None)
            except Exception as exc:  # a bug or a disk problem: keep the entry, try again later, then set it aside
                await self._failed(entry_id, exc)
            finally:
                self._active.discard(entry_id)
                if entry_id in self._rerun:
                    self._rerun.discard(entry_id)
                    self.submit(entry_id)
                self.processed += 1
                self.changed.set()

    async def _failed(self, entry_id: str, exc: Exception) -> None:
        """One more pass of `entry_id` raised: try again later, or after `max_failed_passes` set it aside."""
        passes = self._failed_passes[entry_id] = self._failed_passes.get(entry_id, 0) + 1
        if passes == 1:  # logged once, with the outcome below
            self.log.error("relay.process_failed", queue_id=entry_id, error=exc.__class__.__name__,
                           max_passes=self.max_failed_passes)
        if passes < self.max_failed_passes:
            self._schedule(entry_id, self.clock() + max(self.retry.first, 1.0))
            return
        try:
            outcome = await asyncio.to_thread(self._set_aside, entry_id)
        except Exception as hold_exc:  # the quarantine cannot take it now: keep it queued, never drop it
            self.log.warning("relay.set_aside_failed", queue_id=entry_id, error=hold_exc.__class__.__name__)
            self._schedule(entry_id, self.clock() + max(self.retry.first, 1.0))
            return
        self._failed_passes.pop(entry_id, None)
        self.log.error("relay.entry_set_aside", queue_id=entry_id, passes=passes, error=exc.__class__.__name__,
                       **outcome)

    def _set_aside(self, entry_id: str) -> dict[str, Any]:
        """Hold the undecided recipients as `process-failed` and drop the entry; an unreadable one goes to bad/."""
        try:
            entry = self.spool.load(entry_id)
        except FileNotFoundError:
            return {"outcome": "gone"}
        except Exception:  # not a spool file, a damaged envelope: nothing to hold it with
            return {"outcome": "moved", "where": str(self.spool.set_aside(entry_id))}
        try:
            state = self.spool.load_state(entry_id)
            pending = state.pending()
        except Exception:  # a damaged state file: which recipients got it is unknown, so hold them all
            state, pending = EntryState(), []
        if not state.recipients:
            pending = list(dict.fromkeys(entry.envelope.rcpt_tos))
        hold_id = self.holds.hold(HoldRequest.of(entry, state, pending, (PROCESS_FAILED,))) if pending else ""
        self.spool.remove(entry_id)
        return {"outcome": "held", "hold_id": hold_id, "held": len(pending)}

    # ------------------------------------------------------------- processing

    async def process(self, entry_id: str) -> None:
        """One pass over an entry: scan (first time only), hold, deliver what is due; then remove or save.

        The state file is written once, at the end, and only if the entry stays
        (a retry is due): mail that is finished in one pass never writes one.
        After a crash mid-pass the entry is scanned again and the pass repeated:
        holds and notices are idempotent by queue id, and delivery is
        at-least-once as it always is between an upstream 250 and the removal.
        """
        loaded = await asyncio.to_thread(self._load, entry_id)
        if loaded is None:
            return  # already finished by an earlier run of the same id
        entry, state = loaded
        if not state.scanned:
            state = await self._scan(entry, state)
        redacted = await self._redact(entry, state)
        await self._hold(entry, state)
        await self._deliver(entry, state)
        if redacted is not None:
            await self._deliver(entry, state, redacted, Action.REDACT)
        if state.done:
            await asyncio.to_thread(self.spool.remove, entry_id)
        else:
            await asyncio.to_thread(self.spool.save_state, entry_id, state)
            due = state.next_attempt()
            self._schedule(entry_id, self.clock() if due is None else due)

    def _load(self, entry_id: str) -> tuple[SpoolEntry, EntryState] | None:
        try:
            return self.spool.load(entry_id), self.spool.load_state(entry_id)
        except FileNotFoundError:
            return None

    async def _scan(self, entry: SpoolEntry, state: EntryState) -> EntryState:
        started = self.clock()
        recipients = list(dict.fromkeys(entry.envelope.rcpt_tos))
        scanner = self.scanner
        log_fields: dict[str, Any]
        try:
            try:
                summary: ScanSummary = await call_in(self.scan_executor, scanner.summarize, entry.raw, recipients,
                                                     entry.envelope.mail_from, entry.envelope.client)
            except BrokenExecutor:  # a scanning process died (this message, or another one in flight): once more
                summary = await call_in(self.scan_executor, scanner.summarize, entry.raw, recipients,
                                        entry.envelope.mail_from, entry.envelope.client)
        except Exception as exc:  # fail closed: nobody gets what could not be inspected
            by_address = {a: RecipientState(action=Action.HOLD.value, cls="unknown") for a in recipients}
            rules: tuple[str, ...] = (SCAN_FAILED,)
            excerpts: tuple[Excerpt, ...] = ()
            log_fields = {"error": exc.__class__.__name__, "finding_kinds": {}, "findings": 0, "uninspectable": 0}
            scan_ms = (self.clock() - started) * 1000
        else:
            decided = {v.address: v for v in summary.verdicts}
            by_address = {}
            for address in recipients:
                v = decided.get(address)
                if v is None:
                    by_address[address] = RecipientState(action=Action.HOLD.value, cls="unknown")
                else:
                    by_address[address] = RecipientState(action=v.action.value, cls=v.cls)
            rules = summary.rules
            held = any(r.action != Action.DELIVER.value for r in by_address.values())
            excerpts = summary.excerpts if held else ()
            log_fields = {
                "finding_kinds": dict(summary.finding_kinds),
                "findings": summary.findings,
                "uninspectable": summary.uninspectable,
            }
            scan_ms = summary.seconds * 1000
        state = EntryState(scanned=True, rules=tuple(rules), recipients=by_address, dsn_count=state.dsn_count,
                           findings=excerpts)
        self.log.info(
            "relay.decision",
            queue_id=entry.id,
            message_id_hash=message_id_hash(entry.raw),
            sender_domain=_domain(entry.envelope.mail_from) if entry.envelope.mail_from else "",
            recipients=[self._describe(a, r) for a, r in by_address.items()],
            rules=list(rules),
            scan_ms=round(scan_ms, 2),
            age_ms=round((self.clock() - entry.envelope.received_at) * 1000, 2),
            **log_fields,
        )
        return state

    def _describe(self, address: str, r: RecipientState) -> dict[str, str]:
        out = {"class": r.cls, "action": r.action}
        if r.cls == "internal":
            out["domain"] = _domain(address)
        elif self.identity.hash_external_addresses:
            out["address_hash"] = hash_value(address)
        else:
            out["address"] = address
        return out

    async def _redact(self, entry: SpoolEntry, state: EntryState) -> bytes | None:
        """The redacted copy for the due redact recipients, or None; recipients it cannot be made for are held.

        Made from the spooled original on every pass (the engine is deterministic,
        so a retry after a crash or a temporary failure sends the same bytes) in
        the scan executor: scan, redact, scan the copy again (`redact_checked`).
        """
        now = self.clock()
        due = state.due(Action.REDACT.value, now)
        if not due:
            return None
        try:
            redacted = await call_in(self.scan_executor, redact_checked, self.scanner, entry.raw, due)
        except Exception as exc:  # fail closed: a copy that could not be made or checked is not sent
            self.log.error("relay.redact_failed", queue_id=entry.id, error=exc.__class__.__name__)
            redacted = None
        if redacted is None:
            for a in due:
                state.recipients[a].to_hold()
            state.add_rule(REDACT_FAILED)
            self.log.info("relay.redact_refused", queue_id=entry.id, recipients=len(due))
            return None
        first = all(state.recipients[a].attempts == 0 for a in due)
        if self.notices is not None and first:
            notice_id = await asyncio.to_thread(self.notices.redacted, entry.id, entry.envelope, state.recipients,
                                                due, state.rules, state.findings)
            if notice_id:
                self.submit(notice_id)
        self.log.info("relay.redacted", queue_id=entry.id, recipients=len(due), masked=redacted.masked,
                      removed=redacted.removed)
        return redacted.raw

    async def _hold(self, entry: SpoolEntry, state: EntryState) -> None:
        to_hold = [a for a, r in state.recipients.items()
                   if r.pending and r.action not in (Action.DELIVER.value, Action.REDACT.value)]
        if not to_hold:
            return
        hold_id = await asyncio.to_thread(self.holds.hold, HoldRequest.of(entry, state, to_hold))
        # Spooled before the state records the hold: a crash in between re-holds (same item) and
        # re-spools (same notice id), so the sender is told at least once.
        if self.notices is not None:
            for notice in (self.notices.held, self.notices.supervised):  # the sender's, then the supervisors'
                notice_id = await asyncio.to_thread(notice, entry.id, entry.envelope, state.recipients,
                                                    to_hold, hold_id, state.rules, state.findings)
                if notice_id:
                    self.submit(notice_id)
        for a in to_hold:
            state.recipients[a].held(hold_id)
        self.log.info("relay.held", queue_id=entry.id, hold_id=hold_id, held=len(to_hold))

    async def _deliver(
        self, entry: SpoolEntry, state: EntryState, raw: bytes | None = None, action: Action = Action.DELIVER
    ) -> None:
        """Deliver `raw` (default: the original) to the due recipients whose action is `action`."""
        now = self.clock()
        due = state.due(action.value, now)
        if not due:
            return
        started = time.perf_counter()
        data = received_header(entry.envelope.helo, self.identity.hostname, entry.id) + crlf(entry.raw if raw is None else raw)
        smtputf8 = "SMTPUTF8" in entry.envelope.mail_options
        try:
            outcomes = await self.upstream.send(entry.envelope.mail_from, due, data, smtputf8)
        except Exception as exc:  # a transport bug must not lose mail: treat as temporary
            outcomes = dict.fromkeys(due, Outcome(Status.TEMPORARY, 0, f"local delivery error ({exc.__class__.__name__})"))
        now = self.clock()
        refused: list[tuple[str, Outcome]] = []
        expired: list[tuple[str, Outcome]] = []
        deferred = 0
        for a in due:
            o = outcomes.get(a) or Outcome(Status.TEMPORARY, 0, "no reply for this recipient")
            r = state.recipients[a]
            if o.status is Status.OK:
                r.delivered(o.code)
            elif o.status is Status.PERMANENT:
                r.refused(o.code)
                refused.append((a, o))
            else:
                attempts = r.temporary(o.code)
                if self.retry.expired(entry.envelope.received_at, now):
                    expired.append((a, o))
                else:
                    r.retry_at(now + self.retry.delay(attempts))
                    deferred += 1
        for failed, is_expired in ((refused, False), (expired, True)):
            if not failed:
                continue
            dsn_id = await self._bounce(entry, state, failed, is_expired)
            for a, _ in failed:
                state.recipients[a].bounced()
            if dsn_id:
                self.log.info("relay.bounced", queue_id=entry.id, dsn_id=dsn_id, count=len(failed))
        self.log.info(
            "relay.delivery",
            queue_id=entry.id,
            delivered=sum(1 for a in due if state.recipients[a].status is RecipientStatus.DELIVERED),
            deferred=deferred,
            bounced=len(refused) + len(expired),
            codes=sorted({o.code for o in outcomes.values()}),
            ms=round((time.perf_counter() - started) * 1000, 2),
        )

    async def _bounce(self, entry: SpoolEntry, state: EntryState, failed: list[tuple[str, Outcome]], expired: bool) -> str:
        """Spool a DSN to the sender (none for the null sender: bounces never bounce); return its id."""
        if not entry.envelope.mail_from or entry.envelope.dsn_of:
            return ""
        dsn = build_dsn(
            queue_id=entry.id,
            original_sender=entry.envelope.mail_from,
            raw=entry.raw,
            failed=failed,
            reporting_mta=self.identity.hostname,
            postmaster=self.identity.postmaster,
            arrival=entry.envelope.received_at,
            expired=expired,
        )
        envelope = Envelope(mail_from="", rcpt_tos=(entry.envelope.mail_from,), received_at=self.clock(),
                            helo=self.identity.hostname, dsn_of=entry.id)
        dsn_id = await asyncio.to_thread(self.spool.put, envelope, dsn, f"{entry.id}-D{state.dsn_count}")
        state.dsn_count += 1
        self.submit(dsn_id)
        return dsn_id
