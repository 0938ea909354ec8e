"""The audit chain: every record is HMAC-chained to the one before; any change, gap or swap is found."""

from __future__ import annotations

import dataclasses

import pytest

from proxy.quarantine.audit import (
    GENESIS,
    AnchorDamaged,
    AuditAnchor,
    AuditHead,
    AuditRecord,
    chain_hash,
    verify,
)

KEY = b"k" * 32


def chain(n: int, key: bytes = KEY) -> list[AuditRecord]:
    records, prev = [], GENESIS
    for seq in range(1, n + 1):
        fields = (seq, 1_700_000_000_000_000 + seq, "alice", "release", f"q-{seq}", "cli@host uid=0", "state=released")
        digest = chain_hash(key, prev, *fields)
        records.append(AuditRecord(*fields, prev_hash=prev, hash=digest))
        prev = digest
    return records


def test_an_intact_chain_verifies():
    """A chain written with the key verifies and counts every record."""
    report = verify(chain(5), KEY)
    assert report.ok and report.records == 5


def test_an_empty_chain_verifies():
    """No records is a valid (empty) chain."""
    assert verify([], KEY).ok


@pytest.mark.parametrize(
    ("field", "value"),
    [("actor", "mallory"), ("action", "reject"), ("item_id", "q-99"), ("origin", "web"), ("detail", "state=held"),
     ("at_us", 1)],
)
def test_an_altered_field_is_found(field, value):
    """Changing any field of a record is reported at that record."""
    records = chain(4)
    records[2] = dataclasses.replace(records[2], **{field: value})
    report = verify(records, KEY)
    assert not report.ok and report.bad_seq == 3 and "altered" in report.problem and report.records == 2


def test_a_deleted_record_is_found():
    """Removing a record in the middle breaks the numbering."""
    records = chain(4)
    del records[1]
    report = verify(records, KEY)
    assert not report.ok and "missing" in report.problem


def test_a_rewritten_chain_without_the_key_is_found():
    """An attacker who recomputes the chain without the key file's audit key is detected at the first record."""
    report = verify(chain(3, key=b"x" * 32), KEY)
    assert not report.ok and report.bad_seq == 1


def test_a_record_moved_from_another_chain_is_found():
    """A record whose prev_hash does not match the record before it is reported."""
    records = chain(3)
    records[1] = dataclasses.replace(records[1], prev_hash=records[0].prev_hash)
    assert "does not follow" in verify(records, KEY).problem


def test_a_lost_tail_is_found_against_the_anchor():
    """A chain that ends before the anchored head is reported with how many records are missing."""
    records = chain(5)
    report = verify(records[:2], KEY, AuditHead(5, records[4].hash))
    assert not report.ok and report.missing == 3 and "3 record(s) missing at the end" in report.problem


def test_a_rewritten_tail_is_found_against_the_anchor():
    """A record at the anchored number with another hash (tail deleted, new records appended) is reported."""
    records = chain(5)
    report = verify(records, KEY, AuditHead(4, "f" * 64))
    assert not report.ok and report.bad_seq == 4 and "rewritten" in report.problem


def test_a_chain_at_or_past_the_anchor_verifies():
    """Records newer than the anchor (another node appended) are fine; the anchored record number is reported."""
    records = chain(5)
    report = verify(records, KEY, AuditHead(3, records[2].hash))
    assert report.ok and report.anchored == 3 and report.records == 5


def test_the_anchor_only_moves_forward_and_survives_reopening(tmp_path):
    """Two writers advance one anchor file; an older head never replaces a newer one; a new handle reads it."""
    first, second = AuditAnchor.beside(tmp_path / "q.key"), AuditAnchor.beside(tmp_path / "q.key")
    first.advance(5, "a" * 64)
    second.advance(3, "b" * 64)
    first.close()
    second.close()
    assert (tmp_path / "q.audit-head").stat().st_mode & 0o077 == 0
    assert AuditAnchor.beside(tmp_path / "q.key").read() == AuditHead(5, "a" * 64)


def test_a_damaged_anchor_is_reported_not_trusted(tmp_path):
    """An anchor file that does not parse (or fails its checksum) is an error when read."""
    anchor = AuditAnchor.beside(tmp_path / "q.key")
    anchor.advance(2, "c" * 64)
    anchor.close()
    data = bytearray((tmp_path / "q.audit-head").read_bytes())
    data[12] = ord("9") if data[12] != ord("9") else ord("8")
    (tmp_path / "q.audit-head").write_bytes(bytes(data))
    with pytest.raises(AnchorDamaged):
        anchor.read()
