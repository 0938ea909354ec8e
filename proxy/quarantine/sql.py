"""The SQL both backends share: `SqlQuarantine` implements `QuarantineStore` over a DB-API cursor.

This module owns the queries, the sealing of content on its way in, the
claim that makes a release happen once across nodes, and appending to the
audit chain inside the transaction of the change it records. The backends
(`sqlite.py`, `postgres.py`) only open connections and transactions and say
how to lock the audit chain.

Queries are written with `?` placeholders; the PostgreSQL backend turns them
into `%s`. Times are stored as microseconds since the epoch (UTC) so both
databases sort and compare them the same way.

Claiming: a release first moves the item from held/failed to `releasing` with
one `UPDATE … WHERE state IN ('held','failed')`. The database serialises
concurrent updates of one row (PostgreSQL re-checks the WHERE clause after
waiting for the row lock), so exactly one caller — on any node — sees one row
changed and gets to deliver. A claim older than the lease (a node died while
delivering) can be taken over; that is the one case where a message may be
delivered twice, and the lease (10 minutes) is far longer than an SMTP
transaction.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from proxy.quarantine.audit import (
    GENESIS,
    Actor,
    AnchorDamaged,
    AuditAction,
    AuditAnchor,
    AuditRecord,
    AuditReport,
    chain_hash,
    verify,
)
from proxy.quarantine.crypto import KeyRing, Sealed
from proxy.quarantine.store import (
    DECIDED_STATES,
    MAX_EXCERPT_CHARS,
    MAX_EXCERPTS,
    OPEN_STATES,
    Claim,
    Envelope,
    Excerpt,
    HeldItem,
    InvalidTransition,
    ItemNotFound,
    ItemState,
    Overview,
    ReviewSession,
    new_item_id,
)

RELAY = Actor("relay", "relay")
BATCH = 500


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_us(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000)


def from_us(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1_000_000, UTC)


def _in(values: Sequence[Any]) -> str:
    return "(" + ", ".join("?" for _ in values) + ")"


class Tx:
    """One cursor inside one transaction (or one autocommit read)."""

    def __init__(self, cursor: Any, placeholder: str) -> None:
        self._cur = cursor
        self._ph = placeholder
        self.appended: tuple[int, str] | None = None  # the audit record this transaction added (seq, hash)

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._ph != "?":
            sql = sql.replace("?", self._ph)
        if params:
            self._cur.execute(sql, tuple(params))
        else:
            self._cur.execute(sql)  # no parameters: psycopg then leaves '%' in the SQL alone
        return list(self._cur.fetchall()) if self._cur.description is not None else []

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


_COLUMNS = (
    "i.id, i.received_at, i.library, i.mail_from, i.recipient_classes, i.recipient_hashes, i.rules,"
    " i.finding_counts, i.excerpts, i.state, i.decided_at, i.reviewer, i.note, i.failure, i.escalated_at, c.key_id,"
    " i.queue_id, i.overview"
)
_FROM = " FROM items i LEFT JOIN item_content c ON c.item_id = i.id"


def _item(row: tuple[Any, ...]) -> HeldItem:
    received = from_us(row[1])
    assert received is not None
    return HeldItem(
        id=row[0],
        received_at=received,
        library=row[2],
        mail_from=row[3],
        recipient_classes=tuple(json.loads(row[4])),
        recipient_hashes=tuple(json.loads(row[5])),
        rules=tuple(json.loads(row[6])),
        finding_counts=tuple((k, int(n)) for k, n in json.loads(row[7])),
        excerpts=tuple(Excerpt(e["kind"], e["excerpt"], e["part"]) for e in json.loads(row[8])),
        state=ItemState(row[9]),
        decided_at=from_us(row[10]),
        reviewer=row[11],
        note=row[12],
        failure=row[13],
        escalated_at=from_us(row[14]),
        key_id=row[15],
        queue_id=row[16],
        **_overview(row[17]),
    )


def _overview(text: str | None) -> dict[str, Any]:
    o = Overview.from_json(text)
    return {"subject": o.subject, "recipient_domains": o.recipient_domains, "attachments": o.attachments}


class SqlQuarantine:
    """A `QuarantineStore` over any DB-API connection; subclasses open connections and transactions."""

    dialect = "sql"
    placeholder = "?"

    def __init__(self, keys: KeyRing, clock: Callable[[], datetime] | None = None,
                 lease: timedelta = timedelta(minutes=10)) -> None:
        self.keys = keys
        self.clock = clock or utcnow
        self.lease = lease
        # One connection per store; the lock makes a store safe to share between threads.
        self._lock = threading.RLock()
        self.anchor = AuditAnchor.beside(keys.path)

    # ------------------------------------------------------------ backend hooks

    def _transaction(self) -> AbstractContextManager[Any]:
        """A context manager yielding a cursor inside one write transaction."""
        raise NotImplementedError

    def _cursor(self) -> Any:
        """A cursor for an autocommit read."""
        raise NotImplementedError

    def _lock_audit(self, tx: Tx) -> None:
        """Serialise appends to the audit chain across connections (SQLite's write lock already does)."""

    def _lock_digests(self, tx: Tx) -> None:
        """Serialise recording digests across connections (SQLite's write lock already does)."""

    def compact(self) -> None:
        """Make destroyed rows unrecoverable from the files (checkpoint / vacuum)."""

    def close(self) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------ plumbing

    @contextmanager
    def _write(self) -> Iterator[Tx]:
        with self._lock:
            with self._transaction() as cur:
                tx = Tx(cur, self.placeholder)
                yield tx
            if tx.appended is not None:  # committed: the anchor may now name it (never ahead of the database)
                self._advance_anchor(*tx.appended)

    def _advance_anchor(self, seq: int, digest: str) -> None:
        try:
            self.anchor.advance(seq, digest)
        except OSError:
            # The change is committed and stands; the anchor lags behind until the next append
            # (verify reports the anchored record number, so a lag shows).
            pass

    @contextmanager
    def _read(self) -> Iterator[Tx]:
        with self._lock:
            cursor = self._cursor()
            try:
                yield Tx(cursor, self.placeholder)
            finally:
                cursor.close()

    def _migrate(self) -> None:
        from proxy.quarantine.migrations import migrate

        @contextmanager
        def transaction() -> Iterator[None]:
            with self._write() as tx:
                holder["tx"] = tx
                yield

        holder: dict[str, Tx] = {}

        def execute(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
            return holder["tx"].run(sql, params)

        migrate(execute, transaction, self.dialect)

    def _append(self, tx: Tx, actor: Actor, action: AuditAction, item_id: str | None, detail: str) -> None:
        self._lock_audit(tx)
        last = tx.run("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        seq, prev = (int(last[0][0]) + 1, str(last[0][1])) if last else (1, GENESIS)
        at = to_us(self.clock())
        digest = chain_hash(self.keys.audit_key, prev, seq, at, actor.name, action.value, item_id, actor.origin, detail)
        tx.run(
            "INSERT INTO audit (seq, at_us, actor, action, item_id, origin, detail, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, at, actor.name, action.value, item_id, actor.origin, detail, prev, digest),
        )
        tx.appended = (seq, digest)

    def _get(self, tx: Tx, item_id: str) -> HeldItem:
        rows = tx.run(f"SELECT {_COLUMNS}{_FROM} WHERE i.id = ?", (item_id,))
        if not rows:
            raise ItemNotFound(f"no quarantined item {item_id!r}")
        return _item(rows[0])

    def _sealed(self, tx: Tx, item_id: str) -> Sealed | None:
        rows = tx.run("SELECT key_id, wrapped_key, ciphertext FROM item_content WHERE item_id = ?", (item_id,))
        if not rows:
            return None
        kid, wrapped, ciphertext = rows[0]
        return Sealed(kid, bytes(wrapped), bytes(ciphertext))

    # ------------------------------------------------------------ the protocol

    def hold(
        self,
        raw: bytes,
        mail_from: str,
        rcpt_tos: Sequence[str],
        recipient_classes: Sequence[str],
        rules: Sequence[str],
        findings: Sequence[dict[str, Any]],
        received_at: datetime | None = None,
        *,
        library: str | None = None,
        queue_id: str | None = None,
        overview: Overview | None = None,
    ) -> str:
        """Seal and store one message for the held recipients; return its new id.

        With a `queue_id` (the relay's spool entry), holding the same entry for the
        same recipients again returns the existing item instead of a second one:
        the relay may repeat a hold after a crash before it recorded the first.
        The check and the insert share one write transaction, so it is exact.
        """
        item_id = new_item_id()
        received = received_at or self.clock()
        if library is None:
            library = mail_from.rpartition("@")[2].lower() or "unknown"
        counts = sorted(Counter(str(f.get("kind", "?")) for f in findings).items())
        excerpts = [
            {"kind": str(f.get("kind", "?")), "excerpt": str(f.get("excerpt", ""))[:MAX_EXCERPT_CHARS],
             "part": str(f.get("part", ""))}
            for f in findings[:MAX_EXCERPTS]
        ]
        sealed = self.keys.seal(item_id, Envelope(mail_from, tuple(rcpt_tos), raw))
        hashes = json.dumps([self.keys.address_hash(r) for r in rcpt_tos])
        with self._write() as tx:
            if queue_id is not None:
                same = tx.run("SELECT id FROM items WHERE queue_id = ? AND recipient_hashes = ?", (queue_id, hashes))
                if same:
                    return str(same[0][0])
            tx.run(
                "INSERT INTO items (id, received_at, library, mail_from, recipient_classes, recipient_hashes,"
                " rules, finding_counts, excerpts, state, queue_id, overview)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    item_id,
                    to_us(received),
                    library,
                    mail_from,
                    json.dumps(list(recipient_classes)),
                    hashes,
                    json.dumps(list(rules)),
                    json.dumps(counts),
                    json.dumps(excerpts, ensure_ascii=False),
                    ItemState.HELD.value,
                    queue_id,
                    overview.to_json() if overview is not None else None,
                ),
            )
            tx.run("INSERT INTO item_content (item_id, key_id, wrapped_key, ciphertext) VALUES (?, ?, ?, ?)",
                   (item_id, sealed.key_id, sealed.wrapped_key, sealed.ciphertext))
            self._append(tx, RELAY, AuditAction.HOLD, item_id, f"recipients={len(rcpt_tos)} rules={','.join(rules)}")
        return item_id

    def get(self, item_id: str) -> HeldItem:
        with self._read() as tx:
            return self._get(tx, item_id)

    def items(self, state: ItemState | None = None, library: str | None = None,
              limit: int | None = None) -> list[HeldItem]:
        where: list[str] = []
        params: list[Any] = []
        if state is not None:
            where.append("i.state = ?")
            params.append(ItemState(state).value)
        if library is not None:
            where.append("i.library = ?")
            params.append(library.lower())
        sql = f"SELECT {_COLUMNS}{_FROM}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY i.received_at DESC, i.id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._read() as tx:
            return [_item(r) for r in tx.run(sql, params)]

    def counts(self) -> dict[str, int]:
        with self._read() as tx:
            out = {s.value: 0 for s in ItemState}
            out.update({str(s): int(n) for s, n in tx.run("SELECT state, COUNT(*) FROM items GROUP BY state")})
            out["with_content"] = int(tx.run("SELECT COUNT(*) FROM item_content")[0][0])
            return out

    def reveal(self, item_id: str, actor: Actor) -> Envelope:
        """Open an item's content; the view is audited before anything is shown."""
        with self._write() as tx:
            item = self._get(tx, item_id)
            sealed = self._sealed(tx, item_id)
            if sealed is None:
                raise InvalidTransition(f"item {item_id} is {item.state.value}: its content was destroyed")
            envelope = self.keys.open(item_id, sealed)
            self._append(tx, actor, AuditAction.REVEAL, item_id, "content shown")
        return envelope

    def claim(self, item_id: str, actor: Actor) -> Claim:
        """Take an item for release; exactly one concurrent caller gets `claimed=True` and the envelope."""
        now = self.clock()
        with self._write() as tx:
            tx.run(
                "UPDATE items SET state = ?, claimed_at = ?, claimed_by = ? WHERE id = ? AND"
                f" (state IN {_in(OPEN_STATES)} OR (state = ? AND claimed_at < ?))",
                (ItemState.RELEASING.value, to_us(now), actor.name, item_id, *[s.value for s in OPEN_STATES],
                 ItemState.RELEASING.value, to_us(now - self.lease)),
            )
            claimed = tx.rowcount == 1
            item = self._get(tx, item_id)
            if not claimed:
                return Claim(item, False)
            sealed = self._sealed(tx, item_id)
            if sealed is None:  # cannot happen for open states; fail before anything is sent
                raise InvalidTransition(f"item {item_id} has no content to release")
            return Claim(item, True, self.keys.open(item_id, sealed))

    def settle(
        self,
        item_id: str,
        actor: Actor,
        *,
        from_states: Sequence[ItemState],
        to_state: ItemState,
        action: AuditAction,
        note: str | None = None,
        failure: str | None = None,
        reviewer: str | None = None,
    ) -> HeldItem | None:
        """Move an item from one of `from_states` to `to_state`, audited; None if it was not in them.

        Entering a decided state destroys the content in the same transaction.
        """
        decided = to_state in DECIDED_STATES
        now = to_us(self.clock())
        with self._write() as tx:
            tx.run(
                "UPDATE items SET state = ?, decided_at = ?, reviewer = ?, note = ?, failure = ?,"
                f" claimed_at = NULL, claimed_by = NULL WHERE id = ? AND state IN {_in(from_states)}",
                (to_state.value, now if decided else None, reviewer or actor.name, note, failure, item_id,
                 *[ItemState(s).value for s in from_states]),
            )
            if tx.rowcount != 1:
                return None
            if decided:
                tx.run("DELETE FROM item_content WHERE item_id = ?", (item_id,))
            self._append(tx, actor, action, item_id, f"state={to_state.value}")
            return self._get(tx, item_id)

    def escalate(self, item_id: str, actor: Actor) -> HeldItem | None:
        with self._write() as tx:
            tx.run(f"UPDATE items SET escalated_at = ? WHERE id = ? AND escalated_at IS NULL AND state IN {_in(OPEN_STATES)}",
                   (to_us(self.clock()), item_id, *[s.value for s in OPEN_STATES]))
            if tx.rowcount != 1:
                return None
            self._append(tx, actor, AuditAction.ESCALATE, item_id, "escalated to the library's admin")
            return self._get(tx, item_id)

    def due(self, cutoff: datetime, *, escalated: bool | None, limit: int) -> list[str]:
        """Open items older than `cutoff` (by received time, or by escalation time if `escalated`)."""
        states = [s.value for s in OPEN_STATES]
        if escalated is None:
            cond = "received_at < ?"
        elif escalated:
            cond = "escalated_at IS NOT NULL AND escalated_at < ?"
        else:
            cond = "escalated_at IS NULL AND received_at < ?"
        with self._read() as tx:
            rows = tx.run(f"SELECT id FROM items WHERE state IN {_in(states)} AND {cond} ORDER BY received_at LIMIT ?",
                          (*states, to_us(cutoff), limit))
        return [r[0] for r in rows]

    def drop_decided_content(self, limit: int) -> int:
        """Destroy content left behind by decided items (a crash between decision and drop)."""
        states = [s.value for s in DECIDED_STATES]
        with self._write() as tx:
            tx.run(
                "DELETE FROM item_content WHERE item_id IN (SELECT c.item_id FROM item_content c JOIN items i"
                f" ON i.id = c.item_id WHERE i.state IN {_in(states)} LIMIT ?)",
                (*states, limit),
            )
            return tx.rowcount

    def delete_metadata(self, decided_before: datetime, limit: int) -> int:
        states = [s.value for s in DECIDED_STATES]
        with self._write() as tx:
            tx.run(
                "DELETE FROM items WHERE id IN (SELECT id FROM items WHERE state IN"
                f" {_in(states)} AND decided_at < ? LIMIT ?)",
                (*states, to_us(decided_before), limit),
            )
            return tx.rowcount

    def rotate_keys(self, actor: Actor) -> int:
        """Re-wrap every data key under a fresh master key, then retire master keys no item uses."""
        with self._lock:
            new = self.keys.add_key()
            done = 0
            while True:
                with self._write() as tx:
                    rows = tx.run("SELECT item_id, key_id, wrapped_key FROM item_content WHERE key_id <> ? LIMIT ?",
                                  (new, BATCH))
                    for item_id, kid, wrapped in rows:
                        new_kid, rewrapped = self.keys.rewrap(item_id, kid, bytes(wrapped))
                        tx.run("UPDATE item_content SET key_id = ?, wrapped_key = ? WHERE item_id = ? AND key_id = ?",
                               (new_kid, rewrapped, item_id, kid))
                    done += len(rows)
                if len(rows) < BATCH:
                    break
            with self._write() as tx:
                used = {r[0] for r in tx.run("SELECT DISTINCT key_id FROM item_content")}
                retired = self.keys.retire(used)
                self._append(tx, actor, AuditAction.ROTATE, None,
                             f"key={new} rewrapped={done} retired={len(retired)}")
        self.compact()
        return done

    def record(self, actor: Actor, action: AuditAction, item_id: str | None = None, detail: str = "") -> None:
        with self._write() as tx:
            self._append(tx, actor, action, item_id, detail)

    # ------------------------------------------------------------ fax approvals

    def _fax_keys(self, destination: str, digests: Sequence[str]) -> tuple[str, list[str]]:
        return (self.keys.address_hash(destination),
                sorted({self.keys.address_hash("sha256:" + d.lower()) for d in digests}))

    def approve_fax(self, item_id: str, destination: str, digests: Sequence[str], actor: Actor) -> None:
        """Record that these documents may go to `destination` (a released fax job), audited.

        Approving the same document for the same destination again renews it.
        """
        where, documents = self._fax_keys(destination, digests)
        if not documents:
            raise InvalidTransition(f"item {item_id} names no fax documents to approve")
        at = to_us(self.clock())
        with self._write() as tx:
            for document in documents:
                tx.run(
                    "INSERT INTO fax_approvals (destination_hash, document_hash, item_id, approved_by, approved_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (destination_hash, document_hash) DO UPDATE SET"
                    " item_id = excluded.item_id, approved_by = excluded.approved_by,"
                    " approved_at = excluded.approved_at",
                    (where, document, item_id, actor.name, at),
                )
            self._append(tx, actor, AuditAction.FAX_APPROVE, item_id, f"documents={len(documents)}")

    def delete_fax_approvals(self, approved_before: datetime, limit: int) -> int:
        """Delete fax approvals given before `approved_before` (retention, with the audit period); return how many."""
        with self._write() as tx:
            tx.run(
                "DELETE FROM fax_approvals WHERE (destination_hash, document_hash) IN (SELECT destination_hash,"
                " document_hash FROM fax_approvals WHERE approved_at < ? LIMIT ?)",
                (to_us(approved_before), limit),
            )
            return tx.rowcount

    def fax_approved(self, destination: str, digests: Sequence[str], since: datetime) -> bool:
        """Whether every one of these documents was approved for `destination` at or after `since`."""
        where, documents = self._fax_keys(destination, digests)
        if not documents:
            return False
        with self._read() as tx:
            rows = tx.run(
                f"SELECT COUNT(*) FROM fax_approvals WHERE destination_hash = ? AND document_hash IN {_in(documents)}"
                " AND approved_at >= ?",
                (where, *documents, to_us(since)),
            )
        return int(rows[0][0]) == len(documents)

    def holds_data(self) -> bool:
        """Whether anything was ever held or audited here (a new key file must not be made for it)."""
        with self._read() as tx:
            return bool(tx.run("SELECT COUNT(*) FROM audit")[0][0] or tx.run("SELECT COUNT(*) FROM items")[0][0])

    def audit_log(self) -> list[AuditRecord]:
        with self._read() as tx:
            rows = tx.run("SELECT seq, at_us, actor, action, item_id, origin, detail, prev_hash, hash"
                          " FROM audit ORDER BY seq")
        return [AuditRecord(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8]) for r in rows]

    def verify_audit(self) -> AuditReport:
        """The chain, and its end against the anchor file (records lost from the end of the table)."""
        try:
            head = self.anchor.read()
        except AnchorDamaged as exc:
            records = self.audit_log()
            chain = verify(records, self.keys.audit_key)
            return chain if not chain.ok else AuditReport(chain.records, False, None, str(exc))
        return verify(self.audit_log(), self.keys.audit_key, head)

    # ------------------------------------------------------------ supervisors' digests
    # A digest reports open items as "new" or "expiring". An item counts as reported once a
    # digest that lists it is in the spool (sent_at set), or while one is being sent (created
    # after `pending_after`); a run that died before spooling leaves its items to the next.

    _REPORTED = (
        "SELECT DISTINCT d.item_id FROM digest_items d JOIN digests g ON g.id = d.digest_id"
        " JOIN items i ON i.id = d.item_id"
        f" WHERE d.kind = ? AND i.state IN {_in(OPEN_STATES)} AND (g.sent_at IS NOT NULL OR g.created_at >= ?)"
    )

    def digest_reported(self, kind: str, pending_after: datetime) -> set[str]:
        """Ids of open items a digest has already reported as `kind`."""
        with self._read() as tx:
            rows = tx.run(self._REPORTED, (kind, *[s.value for s in OPEN_STATES], to_us(pending_after)))
        return {str(r[0]) for r in rows}

    def record_digest(
        self,
        digest_id: str,
        library: str,
        entries: Sequence[tuple[str, str]],
        *,
        pending_after: datetime,
        exclusive: bool = True,
    ) -> set[tuple[str, str]]:
        """Record a digest of (item id, kind) entries; return the entries recorded.

        With `exclusive`, entries another digest already reported are left out, checked
        under a lock in the same transaction: two runs at once (two nodes' timers) never
        report the same item twice. Nothing is recorded when no entry is left.
        """
        with self._write() as tx:
            self._lock_digests(tx)
            wanted = list(dict.fromkeys(entries))
            if exclusive:
                taken: set[tuple[str, str]] = set()
                for kind in {k for _, k in wanted}:
                    rows = tx.run(self._REPORTED, (kind, *[s.value for s in OPEN_STATES], to_us(pending_after)))
                    taken.update((str(r[0]), kind) for r in rows)
                wanted = [e for e in wanted if e not in taken]
            if not wanted:
                return set()
            tx.run("INSERT INTO digests (id, library, created_at) VALUES (?, ?, ?)",
                   (digest_id, library, to_us(self.clock())))
            for item_id, kind in wanted:
                tx.run("INSERT INTO digest_items (digest_id, item_id, kind) VALUES (?, ?, ?)", (digest_id, item_id, kind))
        return set(wanted)

    def digest_sent(self, digest_id: str, notice_id: str) -> None:
        """The digest is in the spool: its items count as reported from now on."""
        with self._write() as tx:
            tx.run("UPDATE digests SET sent_at = ?, notice_id = ? WHERE id = ?",
                   (to_us(self.clock()), notice_id, digest_id))

    def forget_digest(self, digest_id: str) -> None:
        """Undo `record_digest` (the digest could not be spooled): its items are reported next time."""
        with self._write() as tx:
            tx.run("DELETE FROM digest_items WHERE digest_id = ?", (digest_id,))
            tx.run("DELETE FROM digests WHERE id = ?", (digest_id,))

    # ------------------------------------------------------------ review sessions

    def session_get(self, token_hash: str) -> ReviewSession | None:
        with self._read() as tx:
            rows = tx.run("SELECT token_hash, csrf, user_name, created_at, seen_at, flash FROM review_sessions"
                          " WHERE token_hash = ?", (token_hash,))
        if not rows:
            return None
        h, csrf, user, created, seen, flash = rows[0]
        return ReviewSession(h, csrf, user, int(created), int(seen), tuple(tuple(f) for f in json.loads(flash)))  # type: ignore[misc]

    def session_put(self, session: ReviewSession) -> None:
        with self._write() as tx:
            values = (session.csrf, session.user, session.created_us, session.seen_us,
                      json.dumps([list(f) for f in session.flash], ensure_ascii=False))
            tx.run("UPDATE review_sessions SET csrf = ?, user_name = ?, created_at = ?, seen_at = ?, flash = ?"
                   " WHERE token_hash = ?", (*values, session.token_hash))
            if not tx.rowcount:
                tx.run("INSERT INTO review_sessions (csrf, user_name, created_at, seen_at, flash, token_hash)"
                       " VALUES (?, ?, ?, ?, ?, ?)", (*values, session.token_hash))

    def session_drop(self, token_hash: str) -> None:
        with self._write() as tx:
            tx.run("DELETE FROM review_sessions WHERE token_hash = ?", (token_hash,))

    def session_prune(self, idle_before_us: int, created_before_us: int, max_anonymous: int) -> None:
        """Drop idle and too old sessions, and the oldest signed-out ones beyond `max_anonymous`."""
        with self._write() as tx:
            tx.run("DELETE FROM review_sessions WHERE seen_at < ? OR created_at < ?", (idle_before_us, created_before_us))
            tx.run("DELETE FROM review_sessions WHERE token_hash IN (SELECT token_hash FROM review_sessions"
                   " WHERE user_name IS NULL ORDER BY created_at DESC, token_hash LIMIT -1 OFFSET ?)"
                   if self.dialect == "sqlite" else
                   "DELETE FROM review_sessions WHERE token_hash IN (SELECT token_hash FROM review_sessions"
                   " WHERE user_name IS NULL ORDER BY created_at DESC, token_hash OFFSET ?)", (max_anonymous,))

    def session_counts(self) -> tuple[int, int]:
        """(signed-in, signed-out) sessions stored."""
        with self._read() as tx:
            rows = tx.run("SELECT COUNT(user_name), COUNT(*) - COUNT(user_name) FROM review_sessions")
        return int(rows[0][0]), int(rows[0][1])

    def last_digest(self, library: str) -> datetime | None:
        """When the last digest for `library` was spooled (None: never)."""
        with self._read() as tx:
            rows = tx.run("SELECT MAX(sent_at) FROM digests WHERE library = ?", (library,))
        return from_us(rows[0][0]) if rows and rows[0][0] is not None else None
