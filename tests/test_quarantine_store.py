"""The quarantine store, review service and retention: one suite, run on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import os
import stat
import threading

import pytest
from quarantine_support import (
    CARD,
    PATRON_EMAIL,
    PATRON_NAME,
    STAFF,
    Backend,
    RecordingNotifier,
    free_port,
    hold_patron_message,
    patron_message,
)

from proxy.quarantine import (
    Actor,
    AuditAction,
    InvalidTransition,
    ItemNotFound,
    ItemState,
    KeyFileError,
    KeyRing,
    RedactionUnavailable,
    RetentionPolicy,
    ReviewService,
    SmtpDeliverer,
    purge,
)
from proxy.quarantine.crypto import Sealed
from proxy.quarantine.store import DeliveryRefused

ALICE = Actor("alice", "test")

# The fixtures (sink, postgres) live beside the tests; tests/conftest.py is shared and left alone.
pytest_plugins = ["quarantine_fixtures"]




@pytest.fixture
def store(backend):
    return backend.open()


def service(store, port: int, notifier: RecordingNotifier | None = None) -> ReviewService:
    return ReviewService(store, SmtpDeliverer("127.0.0.1", port, timeout=10), notifier or RecordingNotifier())


# ----------------------------------------------------------------- holding and reading


def test_hold_keeps_metadata_in_clear_and_recipients_only_hashed(store):
    """A held item lists sender, library, classes, rules and counts; recipients appear only as keyed hashes."""
    item = store.get(hold_patron_message(store))
    assert item.state is ItemState.HELD and item.has_content
    assert item.library == "cityofsalem.net" and item.mail_from == STAFF
    assert item.recipient_classes == ("external",) and item.rules == ("patron-card",)
    assert dict(item.finding_counts) == {"patron_card": 1, "person_name": 1}
    assert item.recipient_hashes == (store.keys.address_hash(PATRON_EMAIL.upper()),)
    assert PATRON_EMAIL not in repr(item) and CARD not in repr(item)


def test_ids_are_random_and_unguessable(store):
    """Item ids carry 128 random bits, not a counter."""
    a, b = hold_patron_message(store), hold_patron_message(store)
    assert a != b and len(a) >= 22 and not a[-4:].isdigit()


def test_reveal_opens_the_original_for_the_held_recipients_and_is_audited(store):
    """Revealing returns the original bytes and held recipients, after writing an audit record."""
    item_id = hold_patron_message(store)
    env = store.reveal(item_id, ALICE)
    assert env.raw == patron_message() and env.rcpt_tos == (PATRON_EMAIL,) and env.mail_from == STAFF
    last = store.audit_log()[-1]
    assert (last.action, last.actor, last.item_id) == ("reveal", "alice", item_id)


def test_unknown_item_is_not_found(store):
    """Asking for an id that does not exist raises ItemNotFound naming the id only."""
    with pytest.raises(ItemNotFound, match="q-nope"):
        store.get("q-nope")


def test_list_filters_by_state_and_library_newest_first(store, backend):
    """Listing filters by state and by member library and shows the newest first."""
    first = hold_patron_message(store)
    backend.clock.advance(minutes=5)
    second = store.hold(b"Subject: x\r\n\r\nx", "ill@dallasor.gov", ["a@b.org"], ["external"], ["bulk-export"], [])
    store.settle(first, ALICE, from_states=(ItemState.HELD,), to_state=ItemState.REJECTED,
                 action=AuditAction.REJECT, note="no")
    assert [i.id for i in store.items()] == [second, first]
    assert [i.id for i in store.items(state=ItemState.HELD)] == [second]
    assert [i.id for i in store.items(library="CITYOFSALEM.NET")] == [first]
    assert store.counts()["rejected"] == 1 and store.counts()["with_content"] == 1


def test_migrations_apply_once(backend):
    """Opening the same database twice applies each migration once (one schema_version row each)."""
    from proxy.quarantine.migrations import MIGRATIONS

    a, b = backend.open(), backend.open()
    with b._read() as tx:
        assert tx.run("SELECT version FROM schema_version ORDER BY version") == [(m.version,) for m in MIGRATIONS]
    assert a.counts()["held"] == 0


# ----------------------------------------------------------------- release and reject over SMTP


def test_release_delivers_original_to_held_recipients_only_then_destroys_content(store, sink):
    """Release sends the original to the held recipients only, marks released, destroys the content."""
    notifier = RecordingNotifier()
    item_id = hold_patron_message(store)
    item = service(store, sink.port, notifier).release(item_id, "alice", "known patron, asked for it")
    assert item.state is ItemState.RELEASED and item.reviewer == "alice" and not item.has_content
    assert len(sink.messages) == 1
    mail_from, rcpts, data = sink.messages[0]
    assert (mail_from, rcpts) == (STAFF, [PATRON_EMAIL])
    assert data.replace(b"\r\n", b"\n") == patron_message().replace(b"\r\n", b"\n")
    assert notifier.sender == [(item_id, ItemState.RELEASED, "known patron, asked for it")]


def test_release_is_idempotent(store, sink):
    """Releasing an already released item does nothing: one delivery, same state."""
    svc = service(store, sink.port)
    item_id = hold_patron_message(store)
    svc.release(item_id, "alice", "ok")
    again = svc.release(item_id, "bob", "ok too")
    assert again.state is ItemState.RELEASED and again.reviewer == "alice"
    assert len(sink.messages) == 1


def test_refused_release_stays_failed_with_reason_and_can_be_retried(store, sink):
    """A release upstream refuses is `failed` with a content-free reason, keeps content, and can be retried."""
    sink.handler.refuse_data = f"550 5.7.1 {PATRON_EMAIL} is not welcome"
    svc = service(store, sink.port)
    item_id = hold_patron_message(store)
    with pytest.raises(DeliveryRefused, match="550 5.7.1"):
        svc.release(item_id, "alice", "ok")
    item = store.get(item_id)
    assert item.state is ItemState.FAILED and item.has_content
    assert "550" in (item.failure or "") and PATRON_EMAIL not in (item.failure or "")
    assert sink.messages == []
    sink.handler.refuse_data = None
    assert svc.release(item_id, "alice", "retry").state is ItemState.RELEASED
    assert len(sink.messages) == 1


def test_unreachable_upstream_is_a_temporary_failure(store):
    """When nothing listens upstream the item is `failed` (unreachable) and nothing is marked released."""
    item_id = hold_patron_message(store)
    with pytest.raises(DeliveryRefused, match="unreachable"):
        service(store, free_port()).release(item_id, "alice", "ok")
    assert store.get(item_id).state is ItemState.FAILED


def test_reject_destroys_content_and_tells_the_sender_why(store, sink):
    """Reject destroys the content, records reviewer and note, and the sender gets the reason."""
    notifier = RecordingNotifier()
    svc = service(store, sink.port, notifier)
    item_id = hold_patron_message(store)
    item = svc.reject(item_id, "alice", "patron data to a personal address")
    assert item.state is ItemState.REJECTED and not item.has_content and item.note == "patron data to a personal address"
    assert notifier.sender == [(item_id, ItemState.REJECTED, "patron data to a personal address")]
    assert svc.reject(item_id, "bob", "again").reviewer == "alice"
    with pytest.raises(InvalidTransition, match="rejected"):
        svc.release(item_id, "bob", "changed my mind")
    with pytest.raises(InvalidTransition, match="destroyed"):
        store.reveal(item_id, ALICE)
    assert sink.messages == []


def test_release_redacted_is_refused_without_a_redactor(store, sink):
    """release_redacted on a service built without a redactor refuses clearly and leaves the item held."""
    item_id = hold_patron_message(store)
    with pytest.raises(RedactionUnavailable, match="redaction is not configured here"):
        service(store, sink.port).release_redacted(item_id, "alice", "ok")
    assert store.get(item_id).state is ItemState.HELD


def test_decisions_need_a_name_and_a_note(store, sink):
    """A release or reject without --by or --note is refused before anything happens."""
    item_id = hold_patron_message(store)
    with pytest.raises(InvalidTransition, match="--note"):
        service(store, sink.port).reject(item_id, "alice", " ")
    assert store.get(item_id).state is ItemState.HELD


# ----------------------------------------------------------------- several nodes


def test_item_held_on_one_node_is_released_from_another_exactly_once(backend, sink):
    """Two stores on one database: held by node A, released concurrently from A and B — one delivery."""
    node_a, node_b = backend.open(), backend.open()
    item_id = hold_patron_message(node_a)
    assert node_b.get(item_id).state is ItemState.HELD
    services = [service(node_a, sink.port), service(node_b, sink.port)] * 4
    barrier = threading.Barrier(len(services))
    results: list[object] = []

    def release(svc: ReviewService, n: int) -> None:
        barrier.wait()
        try:
            results.append(svc.release(item_id, f"reviewer{n}", "ok").state)
        except Exception as exc:  # recorded, asserted below
            results.append(exc)

    threads = [threading.Thread(target=release, args=(svc, n)) for n, svc in enumerate(services)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(sink.messages) == 1
    assert all(isinstance(r, ItemState) for r in results), results
    assert node_a.get(item_id).state is ItemState.RELEASED
    assert [r.action for r in node_b.audit_log()].count("release") == 1
    assert node_b.verify_audit().ok


# ----------------------------------------------------------------- retention


def test_held_items_expire_after_retention_with_notice(backend, store):
    """With expiry_action reject, items older than retention_days expire and the sender is told."""
    notifier = RecordingNotifier()
    old = hold_patron_message(store)
    backend.clock.advance(days=10)
    young = hold_patron_message(store)
    policy = RetentionPolicy(retention_days=14)
    backend.clock.advance(days=3, hours=23)
    assert purge(store, policy, notifier, backend.clock).expired == 0
    backend.clock.advance(hours=2)
    report = purge(store, policy, notifier, backend.clock)
    assert report.expired == 1
    assert store.get(old).state is ItemState.EXPIRED and not store.get(old).has_content
    assert store.get(young).state is ItemState.HELD
    assert [(i, o) for i, o, _ in notifier.sender] == [(old, ItemState.EXPIRED)]


def test_escalation_comes_before_expiry(backend, store):
    """With expiry_action escalate, the admin hears first; the item expires escalation_days later."""
    notifier = RecordingNotifier()
    item_id = hold_patron_message(store)
    policy = RetentionPolicy(retention_days=14, expiry_action="escalate", escalation_days=7)
    backend.clock.advance(days=15)
    assert purge(store, policy, notifier, backend.clock).escalated == 1
    assert store.get(item_id).state is ItemState.HELD and store.get(item_id).escalated_at is not None
    assert [i for i, _ in notifier.admin] == [item_id]
    backend.clock.advance(days=6)
    assert purge(store, policy, notifier, backend.clock).expired == 0
    backend.clock.advance(days=2)
    assert purge(store, policy, notifier, backend.clock).expired == 1
    assert store.get(item_id).state is ItemState.EXPIRED


def test_metadata_is_deleted_after_the_audit_period_in_batches(backend, store, sink):
    """Decided items' metadata goes audit_days after the decision, in batches; the audit chain stays."""
    svc = service(store, sink.port)
    ids = [hold_patron_message(store) for _ in range(7)]
    for item_id in ids:
        svc.reject(item_id, "alice", "no")
    backend.clock.advance(days=30)
    report = purge(store, RetentionPolicy(audit_days=31), clock=backend.clock, batch=3)
    assert report.metadata_deleted == 0
    backend.clock.advance(days=2)
    report = purge(store, RetentionPolicy(audit_days=31), clock=backend.clock, batch=3)
    assert report.metadata_deleted == 7 and store.items() == []
    assert store.verify_audit().ok and store.audit_log()[-1].detail.endswith("metadata_deleted=7")


# ----------------------------------------------------------------- destruction on disk


def test_no_identifier_in_clear_on_disk(backend, store):
    """Card number, patron name and recipient address never appear in the database files."""
    hold_patron_message(store)
    store.compact()
    disk = backend.disk_bytes()
    assert len(disk) > 0
    for secret in (CARD, PATRON_NAME, PATRON_EMAIL):
        assert secret.encode() not in disk


def test_purge_leaves_nothing_of_the_content_in_the_sqlite_files(tmp_path, sink):
    """After reject and purge, neither the ciphertext nor the wrapped data key is left in the SQLite file or WAL."""
    b = Backend("sqlite", tmp_path)
    store = b.open()
    item_id = hold_patron_message(store)
    with store._read() as tx:
        sealed = Sealed(*tx.run("SELECT key_id, wrapped_key, ciphertext FROM item_content")[0])
    store.compact()
    disk = b.disk_bytes()
    assert bytes(sealed.ciphertext)[20:52] in disk and bytes(sealed.wrapped_key)[12:44] in disk
    service(store, sink.port).reject(item_id, "alice", "no")
    purge(store, RetentionPolicy(), clock=b.clock)
    disk = b.disk_bytes()
    assert bytes(sealed.ciphertext)[20:52] not in disk
    assert bytes(sealed.wrapped_key)[12:44] not in disk
    assert CARD.encode() not in disk
    store.close()
    b.opened.clear()


def test_purge_then_rotate_shreds_content_left_in_postgresql_files(postgres, tmp_path, sink):
    """On PostgreSQL, dead tuples and WAL may keep sealed bytes; after purge and `keys rotate` no key opens them."""
    b = Backend("postgresql", tmp_path, dsn=postgres.create_database(), cluster=postgres)
    store = b.open()
    item_id = hold_patron_message(store)
    with store._read() as tx:
        kid, wrapped, ciphertext = tx.run("SELECT key_id, wrapped_key, ciphertext FROM item_content")[0]
    service(store, sink.port).reject(item_id, "alice", "no")
    purge(store, RetentionPolicy(), clock=b.clock)
    assert CARD.encode() not in b.disk_bytes()
    store.rotate_keys(ALICE)
    assert kid not in store.keys.key_ids and kid not in b.key_file.read_text()
    with pytest.raises(KeyFileError):
        KeyRing.load_or_create(b.key_file).open(item_id, Sealed(kid, bytes(wrapped), bytes(ciphertext)))
    store.close()


def test_sqlite_files_and_key_file_are_private(tmp_path):
    """The SQLite database, its WAL and the key file are created with mode 0600."""
    b = Backend("sqlite", tmp_path)
    store = b.open()
    hold_patron_message(store)
    for p in [*b.files(), b.key_file]:
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p.name
    store.close()


# ----------------------------------------------------------------- keys and audit


def test_rotate_rewraps_and_old_items_still_open(store, backend):
    """`keys rotate` re-wraps every data key under a new master key; old items still open; old key retired."""
    ids = [hold_patron_message(store) for _ in range(3)]
    old = store.keys.current
    assert store.rotate_keys(ALICE) == 3
    assert store.keys.current != old and old not in store.keys.key_ids
    assert all(store.get(i).key_id == store.keys.current for i in ids)
    fresh = backend.open()  # another process reading the rotated key file
    assert fresh.reveal(ids[0], ALICE).raw == patron_message()
    assert store.audit_log()[-2].action == "rotate_keys" and store.verify_audit().ok


def test_audit_chain_detects_a_tampered_row(store, backend):
    """The audit table refuses updates; a row changed behind the trigger's back breaks `verify`."""
    item_id = hold_patron_message(store)
    store.reveal(item_id, ALICE)
    assert store.verify_audit().ok
    with pytest.raises(Exception, match="append-only"), store._write() as tx:
        tx.run("UPDATE audit SET actor = ? WHERE seq = 2", ("mallory",))
    with store._write() as tx:  # an attacker with database access drops the guard first
        if backend.name == "sqlite":
            tx.run("DROP TRIGGER audit_no_update")
        else:
            tx.run("DROP TRIGGER audit_no_change ON audit")
        tx.run("UPDATE audit SET actor = ? WHERE seq = 2", ("mallory",))
    report = store.verify_audit()
    assert not report.ok and report.bad_seq == 2 and "altered" in report.problem


@pytest.mark.parametrize("lost", [1, 3])
def test_audit_verify_reports_records_lost_from_the_end(store, backend, lost):
    """Deleting the newest audit rows leaves a valid shorter chain; the anchor beside the key file says how many went."""
    for _ in range(4):
        hold_patron_message(store)
    assert store.verify_audit().ok and store.verify_audit().anchored == 4
    with store._write() as tx:  # someone with database access (or a lost WAL) takes the tail away
        if backend.name == "sqlite":
            tx.run("DROP TRIGGER audit_no_delete")
        else:
            tx.run("DROP TRIGGER audit_no_change ON audit")
        tx.run("DELETE FROM audit WHERE seq > ?", (4 - lost,))
    report = backend.open().verify_audit()  # another process, reading the same anchor
    assert not report.ok and report.missing == lost and report.records == 4 - lost
    assert f"{lost} record(s) missing at the end" in report.problem


def test_audit_records_hold_no_content(store, sink):
    """Every action is audited with who and from where, and no record holds content or addresses."""
    svc = service(store, sink.port)
    a, b = hold_patron_message(store), hold_patron_message(store)
    svc.show(a, ALICE, reveal=True)
    svc.release(a, "alice", f"fine for {PATRON_NAME}")
    svc.reject(b, "bob", "no")
    store.rotate_keys(ALICE)
    log = store.audit_log()
    assert [r.action for r in log] == ["hold", "hold", "reveal", "release", "reject", "rotate_keys"]
    text = repr(log)
    for secret in (CARD, PATRON_NAME, PATRON_EMAIL, "fine for"):
        assert secret not in text


def test_open_store_creates_only_when_asked_and_never_a_key_for_existing_data(backend):
    """Without `create` a missing quarantine (file, or PostgreSQL tables) or key file is refused; with it, a
    new key file is still refused for a database that already holds data."""
    from proxy.quarantine import KeyFileError, StoreSettings, StoreUnavailable, open_store

    settings = StoreSettings(backend=backend.name, path=str(backend.db_path), dsn=backend.dsn,
                             key_file=str(backend.key_file))
    with pytest.raises(StoreUnavailable if backend.name == "sqlite" else KeyFileError):
        open_store(settings)
    assert not backend.key_file.exists() and not backend.db_path.exists()
    if backend.name == "postgresql":  # a key file alone does not make an empty database a quarantine
        from proxy.quarantine.crypto import KeyRing

        KeyRing.load_or_create(backend.key_file)
        with pytest.raises(StoreUnavailable, match="no quarantine tables yet"):
            open_store(settings)
        backend.key_file.unlink()
    created = open_store(settings, create=True)
    hold_patron_message(created)
    created.close()
    backend.key_file.unlink()
    with pytest.raises(KeyFileError, match="a new key could not open"):
        open_store(settings, create=True)
    assert not backend.key_file.exists()


def test_an_items_overview_is_kept_beside_its_metadata(tmp_path):
    """The masked subject, recipient domains and attachments given at hold time come back with the item; older items have none."""
    from proxy.quarantine import Attachment, Overview, open_store
    from proxy.quarantine.sqlite import SqliteQuarantine

    store = open_store(type("S", (), {"backend": "sqlite", "path": str(tmp_path / "q.db"),
                                      "key_file": str(tmp_path / "q.key")})(), create=True)
    assert isinstance(store, SqliteQuarantine)
    try:
        summary = Overview("Overdue list for ••••• •••••••", ("example.net", "cityofsalem.net"),
                           (Attachment("text/csv", "•••••••_export.csv", ("bulk_export",)),))
        with_it = store.hold(b"Subject: x\r\n\r\nbody", "a@ccrls.org", ["x@example.net", "c@cityofsalem.net"],
                             ["external", "internal"], ["bulk-export"], [], overview=summary)
        without = store.hold(b"Subject: y\r\n\r\nbody", "a@ccrls.org", ["x@example.net"], ["external"], [], [])
        item = store.get(with_it)
        assert (item.subject, item.recipient_domains, item.attachments) == (
            summary.subject, summary.recipient_domains, summary.attachments)
        assert store.get(without).subject == "" and store.get(without).attachments == ()
        assert item.to_json()["attachments"] == [{"content_type": "text/csv", "name": "•••••••_export.csv",
                                                  "findings": ["bulk_export"]}]
    finally:
        store.close()
