"""The pipeline's logic through its seams' fakes (`proxy.testing`): no sockets, no spaCy, no waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from proxy.config import Identity
from proxy.relay.delivery import RetryPolicy
from proxy.relay.pipeline import REDACT_FAILED, Pipeline
from proxy.relay.spool import Envelope, RecipientStatus, Spool
from proxy.scanning.policy import Action
from proxy.testing import (
    FakeClock,
    InlineExecutor,
    MemoryHoldStore,
    RecordingLog,
    RecordingNotices,
    RecordingUpstream,
    ScriptedScanner,
)

SENDER = "staff@ccrls.org"
INSIDE = "circ@ccrls.org"
OUTSIDE = "friend@example.net"
RAW = b"From: staff@ccrls.org\r\nSubject: hello\r\nMessage-ID: <m1@ccrls.org>\r\n\r\nhello\r\n"
RETRY = RetryPolicy(first=30.0, factor=2.0, max_delay=3600.0, max_age=3 * 3600.0)


class Harness:
    """A pipeline on a real spool directory with every other seam faked; `run(entry)` makes one pass."""

    def __init__(self, root: Path, scanner: ScriptedScanner | None = None, holds: MemoryHoldStore | None = None,
                 upstream: RecordingUpstream | None = None, clock: FakeClock | None = None) -> None:
        self.spool = Spool(root / "spool")
        self.scanner = scanner or ScriptedScanner()
        self.holds = holds or MemoryHoldStore()
        self.upstream = upstream or RecordingUpstream()
        self.clock = clock or FakeClock()
        self.notices = RecordingNotices()
        self.log = RecordingLog()

    def put(self, *recipients: str, mail_from: str = SENDER) -> str:
        envelope = Envelope(mail_from=mail_from, rcpt_tos=recipients, received_at=self.clock(), helo="client.test")
        return self.spool.put(envelope, RAW)

    def pipeline(self) -> Pipeline:
        return Pipeline(self.spool, self.scanner, self.upstream, self.holds, RETRY,  # type: ignore[arg-type]
                        Identity("relay.test", "postmaster@ccrls.org"), scan_executor=InlineExecutor(),
                        log=self.log, clock=self.clock, notices=self.notices)  # type: ignore[arg-type]

    def run(self, step: Callable[[Pipeline], Awaitable[Any]], pipeline: Pipeline | None = None) -> None:
        async def go() -> None:
            p = pipeline or self.pipeline()
            try:
                await step(p)
            finally:
                await p.stop()  # cancels the retry timer a pass leaves behind

        asyncio.run(go())

    def process(self, entry_id: str) -> None:
        self.run(lambda p: p.process(entry_id))

    def status(self, entry_id: str, address: str) -> RecipientStatus:
        return self.spool.load_state(entry_id).recipients[address].status


def test_a_deferred_recipient_is_retried_after_the_back_off_and_the_entry_then_removed(tmp_path):
    """A 451 keeps the recipient pending until its back-off has passed; the next pass delivers and removes the entry."""
    h = Harness(tmp_path)
    h.upstream.defer(OUTSIDE, times=1)
    entry = h.put(INSIDE, OUTSIDE)
    h.process(entry)
    state = h.spool.load_state(entry)
    assert state.recipients[INSIDE].status is RecipientStatus.DELIVERED
    pending = state.recipients[OUTSIDE]
    assert pending.pending and pending.attempts == 1 and pending.next_attempt == h.clock() + RETRY.first
    h.process(entry)  # not due yet: nothing is sent
    assert h.upstream.delivered_to(OUTSIDE) == 1
    h.clock.advance(RETRY.first)
    h.process(entry)
    assert h.upstream.delivered_to(OUTSIDE) == 2 and h.upstream.delivered_to(INSIDE) == 1
    assert h.spool.ids() == [] and h.scanner.scans == 1  # scanned once, across passes


def test_the_back_off_doubles_up_to_its_cap(tmp_path):
    """Each further temporary failure waits twice as long as the one before."""
    h = Harness(tmp_path)
    h.upstream.defer(OUTSIDE, times=3)
    entry = h.put(OUTSIDE)
    waits = []
    for _ in range(3):
        before = h.clock()
        h.process(entry)
        waits.append(h.spool.load_state(entry).recipients[OUTSIDE].next_attempt - before)
        h.clock.advance(waits[-1])
    assert waits == [30.0, 60.0, 120.0]


def test_a_recipient_still_deferred_at_the_maximum_age_is_bounced_with_a_dsn(tmp_path):
    """Past upstream.max_age a temporary failure bounces: a DSN to the sender is spooled and the entry removed."""
    h = Harness(tmp_path)
    h.upstream.defer(OUTSIDE, times=None)
    entry = h.put(OUTSIDE)
    h.process(entry)
    h.clock.advance(RETRY.max_age)
    h.process(entry)
    assert entry not in h.spool.ids()
    dsn = h.spool.load(f"{entry}-D0")
    assert dsn.envelope.mail_from == "" and dsn.envelope.rcpt_tos == (SENDER,) and dsn.envelope.dsn_of == entry
    assert b"delivery-status" in dsn.raw.lower()
    assert h.log.named("relay.bounced")[0]["dsn_id"] == f"{entry}-D0"


def test_dsns_of_one_entry_are_numbered_in_order(tmp_path):
    """A refusal on the first pass and another on a later pass give the DSNs -D0 and -D1."""
    h = Harness(tmp_path)
    h.upstream.refuse("gone@example.net")
    h.upstream.defer(OUTSIDE, times=1)
    entry = h.put("gone@example.net", OUTSIDE)
    h.process(entry)
    assert h.spool.load_state(entry).dsn_count == 1
    h.upstream.refuse(OUTSIDE)
    h.clock.advance(RETRY.first)
    h.process(entry)
    assert sorted(i for i in h.spool.ids() if i.startswith(entry)) == [f"{entry}-D0", f"{entry}-D1"]


def test_a_bounce_is_never_bounced(tmp_path):
    """Mail from the null sender that is refused gets no DSN (bounces never bounce)."""
    h = Harness(tmp_path)
    h.upstream.refuse(OUTSIDE)
    entry = h.put(OUTSIDE, mail_from="")
    h.process(entry)
    assert h.spool.ids() == []


def test_a_redact_recipient_whose_copy_cannot_be_made_is_held_instead(tmp_path):
    """When no clean redacted copy can be made, redact recipients are held with redaction-refused; others are delivered."""
    h = Harness(tmp_path, ScriptedScanner({OUTSIDE: Action.REDACT}, rules=("patron-card",)))
    entry = h.put(INSIDE, OUTSIDE)
    h.process(entry)
    [(hold_id, request)] = h.holds.requests.items()
    assert request.recipients == (OUTSIDE,) and request.classes == ("external",)
    assert request.rules == ("patron-card", REDACT_FAILED)
    assert h.upstream.sent[0].rcpt_tos == (INSIDE,) and h.upstream.delivered_to(OUTSIDE) == 0
    assert [n.kind for n in h.notices.sent] == ["held", "supervised"] and h.notices.sent[0].reference == hold_id
    assert h.spool.ids() == []


def test_held_recipients_get_one_hold_and_the_others_are_delivered(tmp_path):
    """A hold decision seals the entry once for the held recipients; the internal copy goes out with a trace header."""
    h = Harness(tmp_path, ScriptedScanner({OUTSIDE: Action.HOLD}, rules=("patron-card",)))
    entry = h.put(INSIDE, OUTSIDE)
    h.process(entry)
    assert [r.recipients for r in h.holds.requests.values()] == [(OUTSIDE,)]
    assert h.upstream.sent[0].data.startswith(b"Received: from client.test\r\n\tby relay.test")


def test_a_pass_that_dies_after_the_hold_is_replayed_without_a_second_hold(tmp_path):
    """After a crash between the hold and the delivery, the entry is scanned and passed again: one hold, one delivery."""
    h = Harness(tmp_path, ScriptedScanner({OUTSIDE: Action.HOLD}))
    entry = h.put(INSIDE, OUTSIDE)

    class Crash(BaseException):
        pass

    h.upstream.crash_with(Crash())
    with pytest.raises(Crash):
        h.process(entry)
    assert h.spool.ids() == [entry] and len(h.holds.requests) == 1  # nothing recorded: the state was never saved
    h.process(entry)  # the restarted relay
    assert len(h.holds.requests) == 1 and h.upstream.delivered_to(INSIDE) == 1
    assert h.spool.ids() == [] and h.scanner.scans == 2


def test_a_quarantine_that_refuses_the_hold_leaves_the_entry_queued(tmp_path):
    """A hold that raises fails the pass: nothing is delivered to the held recipient and the entry stays for the next pass."""
    h = Harness(tmp_path, ScriptedScanner({OUTSIDE: Action.HOLD}))
    h.holds.fail_next = OSError("the quarantine is not there")
    entry = h.put(OUTSIDE)
    with pytest.raises(OSError):
        h.process(entry)
    assert h.spool.ids() == [entry] and h.upstream.sent == []
    h.process(entry)
    assert len(h.holds.requests) == 1 and h.spool.ids() == []


def test_an_entry_that_fails_every_pass_is_set_aside_as_process_failed(tmp_path):
    """After max_failed_passes failing passes the undecided recipients are held as process-failed and the entry removed."""
    h = Harness(tmp_path)
    entry = h.put(OUTSIDE)

    async def fail_twice(p: Pipeline) -> None:
        p.max_failed_passes = 2
        for _ in range(2):
            await p._failed(entry, ValueError("a bug"))

    h.run(fail_twice)
    [request] = h.holds.requests.values()
    assert request.recipients == (OUTSIDE,) and request.rules == ("process-failed",) and h.spool.ids() == []


def test_what_a_scan_hands_back_carries_no_message_text(tmp_path):
    """The ScanSummary a scanning process returns holds decisions, rule ids, counts and masked excerpts only."""
    import pickle

    from proxy.config import parse
    from proxy.scanning.scan import Scanner

    config = parse("library:\n  domains: [ccrls.org]\ndetection:\n  names: false\n", "<test>")
    raw = (b"From: staff@ccrls.org\r\nTo: friend@example.net\r\nSubject: overdue\r\n\r\n"
           b"Patron card 23610003622817 has 3 overdue items, said Mrs Quimby.\r\n")
    summary = Scanner(config).summarize(raw, [OUTSIDE, INSIDE])
    assert [(v.address, v.action) for v in summary.verdicts] == [(OUTSIDE, Action.HOLD), (INSIDE, Action.DELIVER)]
    assert "patron-card" in summary.rules and summary.findings >= 1 and summary.excerpts
    flat = pickle.dumps(summary)
    for text in (b"23610003622817", b"3622817", b"Quimby"):
        assert text not in flat
