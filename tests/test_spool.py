"""The durable spool and the hold adapters: what is on disk, with which modes, after which crash."""

from __future__ import annotations

import resource
import signal
import socket
import stat

import pytest

from proxy.relay.holds import HoldRequest, QuarantineHoldStore, UpstreamDeliverer
from proxy.relay.spool import EntryState, Envelope, RecipientState, Spool, SpoolError, SpoolFull
from proxy.scanning.explain import Excerpt

RAW = b"From: a@ccrls.org\r\nTo: b@ccrls.org\r\nSubject: hi\r\n\r\nbody\r\n"
ENV = Envelope(mail_from="a@ccrls.org", rcpt_tos=("b@ccrls.org", "x@example.net"), mail_options=("BODY=8BITMIME",),
               received_at=1700000000.0, helo="ws1.ccrls.org")


def test_put_then_load_round_trips_envelope_and_bytes(tmp_path):
    """A stored message comes back with the same envelope and exactly the same bytes."""
    spool = Spool(tmp_path)
    entry_id = spool.put(ENV, RAW)
    entry = spool.load(entry_id)
    assert entry.envelope == ENV
    assert entry.raw == RAW
    assert spool.ids() == [entry_id]


def test_files_are_private_to_the_service_user(tmp_path):
    """Spool files are mode 0600 and its directories 0700."""
    spool = Spool(tmp_path / "spool")
    entry_id = spool.put(ENV, RAW)
    spool.save_state(entry_id, EntryState(scanned=True))
    for path in (spool.queue / f"{entry_id}.msg", spool.queue / f"{entry_id}.state"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for d in (spool.root, spool.tmp, spool.queue):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700


def test_ids_sort_by_arrival(tmp_path):
    """Queue ids sort oldest first, so a restart resumes in arrival order."""
    spool = Spool(tmp_path)
    ids = [spool.put(ENV, RAW) for _ in range(5)]
    assert spool.ids() == ids


def test_state_round_trips_and_reports_done(tmp_path):
    """Per-recipient state survives a reload; an entry is done when no recipient is pending."""
    spool = Spool(tmp_path)
    entry_id = spool.put(ENV, RAW)
    assert spool.load_state(entry_id) == EntryState()
    state = EntryState(scanned=True, rules=("patron-card",), recipients={
        "b@ccrls.org": RecipientState(status="delivered", action="deliver", cls="internal", code=250),
        "x@example.net": RecipientState(status="pending", action="deliver", cls="external", attempts=2, next_attempt=5.0),
    })
    spool.save_state(entry_id, state)
    loaded = spool.load_state(entry_id)
    assert loaded == state
    assert not loaded.done
    loaded.recipients["x@example.net"].status = "bounced"
    assert loaded.done


def test_remove_drops_message_and_state(tmp_path):
    """Removing an entry leaves nothing of it behind."""
    spool = Spool(tmp_path)
    entry_id = spool.put(ENV, RAW)
    spool.save_state(entry_id, EntryState(scanned=True))
    spool.remove(entry_id)
    assert list(spool.queue.iterdir()) == []


def test_explicit_id_is_written_once(tmp_path):
    """Putting under an id that is already queued writes nothing (a bounce is not spooled twice)."""
    spool = Spool(tmp_path)
    spool.put(ENV, RAW, entry_id="Q1-D0")
    spool.put(ENV, b"other", entry_id="Q1-D0")
    assert spool.load("Q1-D0").raw == RAW


def test_crash_leftovers_are_cleaned_at_start(tmp_path):
    """Half-written tmp files and orphaned state files from a crash are removed by recover() at service start."""
    spool = Spool(tmp_path)
    (spool.tmp / "half.written").write_bytes(b"partial")
    (spool.queue / "GONE.state").write_bytes(b"{}")
    kept = spool.put(ENV, RAW)
    spool.save_state(kept, EntryState())
    Spool(tmp_path).recover()
    assert list(spool.tmp.iterdir()) == []
    assert sorted(p.name for p in spool.queue.iterdir()) == sorted([f"{kept}.msg", f"{kept}.state"])


def test_unwritable_queue_raises_spool_error_with_451(tmp_path):
    """When the queue directory cannot take the file, put() raises SpoolError (the SMTP reply is 451) and leaves no tmp file."""
    spool = Spool(tmp_path)
    spool.queue.rmdir()
    spool.queue.write_bytes(b"not a directory")
    with pytest.raises(SpoolError) as info:
        spool.put(ENV, RAW)
    assert info.value.smtp_reply.startswith("451 4.3.0")
    assert list(spool.tmp.iterdir()) == []


def test_file_size_limit_is_a_spool_error(tmp_path):
    """A write cut short by a resource limit is a SpoolError, never a silent partial file."""
    spool = Spool(tmp_path)
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, old_limit[1]))
    try:
        with pytest.raises(SpoolError):
            spool.put(ENV, RAW + b"x" * 4096)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    assert spool.ids() == []
    assert list(spool.tmp.iterdir()) == []


def test_spool_full_has_its_own_reply():
    """No space left answers 452 4.3.1, a kind of SpoolError."""
    assert issubclass(SpoolFull, SpoolError)
    assert SpoolFull.smtp_reply.startswith("452 4.3.1")


def _quarantine(tmp_path):  # type: ignore[no-untyped-def]
    from proxy.quarantine import StoreSettings, open_store

    return open_store(StoreSettings(path=str(tmp_path / "q.db"), key_file=str(tmp_path / "q.key")), create=True)


EXCERPTS = (Excerpt("patron_card", "card [2361•••••••817] has", "1"),)


def _request(entry, address, cls="external"):  # type: ignore[no-untyped-def]
    return HoldRequest(entry, (address,), (cls,), ("patron-card",), EXCERPTS)


def test_hold_goes_into_the_quarantine_sealed_and_idempotent(tmp_path):
    """A hold becomes one sealed quarantine item (queue id, classes, masked excerpts); holding it again returns it."""
    from proxy.quarantine import Actor

    spool = Spool(tmp_path / "spool")
    entry = spool.load(spool.put(ENV, RAW))
    store = _quarantine(tmp_path)
    holds = QuarantineHoldStore(store)
    first = holds.hold(_request(entry, "x@example.net"))
    again = holds.hold(_request(entry, "x@example.net"))
    assert first == again and [i.id for i in store.items()] == [first]
    item = store.get(first)
    assert item.queue_id == entry.id and item.recipient_classes == ("external",) and item.rules == ("patron-card",)
    assert [(e.kind, e.part, e.excerpt) for e in item.excerpts] == [("patron_card", "1", "card [2361•••••••817] has")]
    assert item.received_at.timestamp() == ENV.received_at
    envelope = store.reveal(first, Actor("test", "test"))
    assert envelope.raw == RAW and envelope.rcpt_tos == ("x@example.net",) and envelope.mail_from == ENV.mail_from
    assert b"body" not in (tmp_path / "q.db").read_bytes() + (tmp_path / "q.db-wal").read_bytes()
    store.close()


def test_hold_for_other_recipients_of_the_same_entry_is_another_item(tmp_path):
    """Idempotence is per queue id *and* recipients: a different recipient set is a different item."""
    spool = Spool(tmp_path / "spool")
    entry = spool.load(spool.put(ENV, RAW))
    store = _quarantine(tmp_path)
    holds = QuarantineHoldStore(store)
    assert holds.hold(_request(entry, "x@example.net")) != holds.hold(_request(entry, "b@ccrls.org", "internal"))
    store.close()


def test_upstream_deliverer_uses_the_relay_transports(tmp_path):
    """A release through a maildir upstream writes one file per recipient; an unreachable smtp upstream is temporary."""
    from proxy.quarantine import TemporaryDeliveryError
    from proxy.relay.delivery import MaildirUpstream, SmtpUpstream

    UpstreamDeliverer(MaildirUpstream(tmp_path / "out")).deliver("a@ccrls.org", ["x@example.net", "y@example.net"], RAW)
    delivered = sorted(p.read_bytes() for p in (tmp_path / "out" / "new").iterdir())
    assert len(delivered) == 2 and all(d.endswith(RAW) for d in delivered)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again at once: nothing listens there
    with pytest.raises(TemporaryDeliveryError):
        UpstreamDeliverer(SmtpUpstream("127.0.0.1", port, timeout=2)).deliver("a@ccrls.org", ["x@example.net"], RAW)


def test_set_aside_moves_an_entry_out_of_the_queue_into_bad(tmp_path):
    """set_aside moves message and state to spool/bad/ (private), and the queue no longer lists the entry."""
    spool = Spool(tmp_path)
    entry_id = spool.put(ENV, RAW)
    spool.save_state(entry_id, EntryState(scanned=True))
    moved = spool.set_aside(entry_id)
    assert moved == tmp_path / "bad" / f"{entry_id}.msg" and moved.read_bytes().endswith(RAW)
    assert (tmp_path / "bad" / f"{entry_id}.state").exists() and spool.ids() == []
    assert (tmp_path / "bad").stat().st_mode & 0o077 == 0


def test_a_poison_entry_stays_queued_while_the_quarantine_cannot_hold_it(tmp_path):
    """When the last failed pass cannot hold the entry (quarantine down), it stays in the queue for a later pass."""
    import asyncio

    from proxy import logs
    from proxy.relay.delivery import RetryPolicy
    from proxy.relay.pipeline import Identity, Pipeline

    class Refusing:
        calls = 0

        def hold(self, request):  # type: ignore[no-untyped-def]
            Refusing.calls += 1
            raise OSError("the quarantine is not there")

    spool = Spool(tmp_path)
    entry_id = spool.put(ENV, RAW)
    (spool.queue / f"{entry_id}.state").write_bytes(b"{damaged")

    async def run() -> None:
        pipeline = Pipeline(spool, None, None, Refusing(), RetryPolicy(first=60.0), Identity("relay.test", "pm@ccrls.org"),  # type: ignore[arg-type]
                            scan_executor=None, log=logs.get_logger("test"), max_failed_passes=1)  # type: ignore[arg-type]
        await pipeline._failed(entry_id, ValueError("damaged state"))
        assert entry_id in pipeline._timers  # tried again later
        await pipeline.stop()

    asyncio.run(run())
    assert Refusing.calls == 1 and spool.ids() == [entry_id]


def test_a_recipient_changes_state_only_through_its_transitions():
    """A pending recipient becomes delivered, held or bounced once; a final one refuses a second outcome."""
    from proxy.relay.spool import RecipientStatus

    r = RecipientState(action="deliver", cls="internal")
    assert r.temporary(451) == 1 and r.pending and r.code == 451
    r.delivered(250)
    assert r.status is RecipientStatus.DELIVERED and not r.pending
    with pytest.raises(ValueError):
        r.held("q-1")
    state = EntryState(recipients={"a@x.org": RecipientState(action="hold"), "b@x.org": RecipientState.from_json(r.to_json())})
    assert state.pending() == ["a@x.org"] and state.due("hold", 0.0) == ["a@x.org"] and not state.done
    state.recipients["a@x.org"].held("q-1")
    assert state.done and EntryState.from_json(state.to_json()).recipients["a@x.org"].status is RecipientStatus.HELD
