"""The audit chain: every record is HMAC-chained to the one before; any change, gap or swap is found."""

from __future__ import annotations

import dataclasses

import pytest

from proxy.quarantine.audit import GENESIS, AuditRecord, chain_hash, verify

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
