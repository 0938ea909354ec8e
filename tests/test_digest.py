"""Supervisors' digests: what each member library's digest reports, once, on SQLite and on a real PostgreSQL.

The store tests drive `run_digests` with an injected clock and a recording
`send`; the content tests render real digests (through `Notices.digest`, into a
spool) of the labelled leak set held from a real scan, and search them for every
raw patron value; the CLI tests run `patronguard quarantine digest`.
"""

from __future__ import annotations

import configparser
import email
import email.policy
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from quarantine_support import STAFF, hold_patron_message
from relay_support import base_config
from test_leakset import IDENTIFIERS as LEAK_IDENTIFIERS
from test_leakset import LABELS, LEAKSET

from proxy import config as config_module
from proxy.cli import main
from proxy.quarantine import Actor, AuditAction, ItemState, RetentionPolicy, purge
from proxy.quarantine.digest import EXPIRING_SOON, LEASE, NEW, Digest, run_digests
from proxy.relay.notices import Notices, NoticeSettings, NoticeTemplates
from proxy.relay.spool import Spool
from proxy.scanning.scan import Scanner, summarize

pytest_plugins = ["quarantine_fixtures"]

SALEM_SUPERVISORS = ("salem-sup@cityofsalem.net", "salem-lead@cityofsalem.net")
FALLBACK = ("central@ccrls.org",)
POLICY = RetentionPolicy(retention_days=14)
UNITS = Path(__file__).resolve().parent.parent / "systemd"


@pytest.fixture
def store(backend):  # type: ignore[no-untyped-def]
    return backend.open()


def route(domain: str) -> tuple[str, tuple[str, ...]]:
    """cityofsalem.net (and its subdomains) have their own supervisors; everyone else the fallback."""
    domain = domain.lower()
    if domain == "cityofsalem.net" or domain.endswith(".cityofsalem.net"):
        return "cityofsalem.net", SALEM_SUPERVISORS
    return domain, FALLBACK


class Outbox:
    """A recording `send`: remembers every digest and can be told to fail."""

    def __init__(self) -> None:
        self.sent: list[Digest] = []
        self.fail = False

    def __call__(self, digest: Digest) -> str:
        if self.fail:
            raise OSError("spool full")
        self.sent.append(digest)
        return f"D{digest.id}"


def hold_other(store, sender: str = "ill@dallasor.gov") -> str:  # type: ignore[no-untyped-def]
    return store.hold(b"Subject: x\r\n\r\nx", sender, ["a@example.org"], ["external"], ["bulk-export"], [])


def run(store, backend, outbox, **kw):  # type: ignore[no-untyped-def]
    return run_digests(store, POLICY, route, outbox, clock=backend.clock, **kw)


def reported(outbox: Outbox) -> dict[str, list[str]]:
    return {d.library: [e.item.id for e in d.new] for d in outbox.sent}


# ----------------------------------------------------------------- what a digest reports, once


def test_each_library_gets_one_digest_of_its_new_items_then_nothing_until_more_are_held(store, backend):
    """A run sends one digest per member library to its own supervisors (or the fallback); the next run sends nothing, and later only the newly held item."""
    salem = []
    for _ in range(2):
        salem.append(hold_patron_message(store))
        backend.clock.advance(minutes=1)
    dallas = hold_other(store)
    outbox = Outbox()
    outcomes = run(store, backend, outbox)
    assert reported(outbox) == {"cityofsalem.net": salem, "dallasor.gov": [dallas]}  # oldest first
    by_library = {d.library: d for d in outbox.sent}
    assert by_library["cityofsalem.net"].supervisors == SALEM_SUPERVISORS
    assert by_library["dallasor.gov"].supervisors == FALLBACK
    assert by_library["cityofsalem.net"].waiting == 2 and by_library["cityofsalem.net"].last_sent is None
    assert [o.notice_id for o in outcomes] == [f"D{d.id}" for d in outbox.sent]

    again = Outbox()
    assert [o.skipped for o in run(store, backend, again)] == ["nothing new since the last digest"] * 2
    assert again.sent == []

    backend.clock.advance(hours=24)
    newer = hold_patron_message(store, received_at=backend.clock())
    later = Outbox()
    run(store, backend, later)
    assert reported(later) == {"cityofsalem.net": [newer]}
    digest = later.sent[0]
    assert digest.waiting == 3 and digest.oldest == store.get(salem[0]).received_at
    assert digest.last_sent is not None


def test_library_option_limits_the_run_to_one_member_library(store, backend):
    """--library sends only that library's digest (a subdomain routes to its member library); the others stay unreported."""
    hold_patron_message(store)
    dallas = hold_other(store)
    outbox = Outbox()
    run(store, backend, outbox, library="BRANCH.cityofsalem.net")
    assert list(reported(outbox)) == ["cityofsalem.net"]
    rest = Outbox()
    run(store, backend, rest)
    assert reported(rest) == {"dallasor.gov": [dallas]}
    assert run(store, backend, Outbox(), library="nowhere.example")[0].skipped == "no held mail"


def test_items_close_to_expiry_are_listed_once_as_decide_soon(store, backend):
    """An item less than two days from expiry is listed under 'decide soon' once, with its deadline; decided items are never listed."""
    soon = hold_patron_message(store, received_at=backend.clock())
    decided = hold_patron_message(store, received_at=backend.clock())
    run(store, backend, Outbox())
    store.settle(decided, Actor("alice", "test"), from_states=(ItemState.HELD,), to_state=ItemState.REJECTED,
                 action=AuditAction.REJECT, note="no")
    backend.clock.advance(days=12, hours=1)
    outbox = Outbox()
    run(store, backend, outbox)
    [digest] = outbox.sent
    assert digest.new == () and [e.item.id for e in digest.expiring] == [soon]
    assert digest.expiring[0].deadline == store.get(soon).received_at + timedelta(days=14)
    assert digest.waiting == 1
    assert run(store, backend, Outbox())[0].skipped == "nothing new since the last digest"


def test_escalate_policy_gives_the_escalation_as_the_deadline(store, backend):
    """Under expiry_action: escalate, an unescalated item's deadline is its escalation to the admin."""
    item = hold_patron_message(store, received_at=backend.clock())
    backend.clock.advance(days=13)
    outbox = Outbox()
    run_digests(store, RetentionPolicy(14, "escalate", 7), route, outbox, clock=backend.clock)
    [entry] = outbox.sent[0].expiring
    assert entry.item.id == item and entry.escalates


def test_since_lists_recent_items_again_and_the_next_plain_run_does_not(store, backend):
    """--since HOURS re-sends the items held in that window even if reported; a plain run afterwards sends nothing."""
    old = hold_patron_message(store, received_at=backend.clock())
    backend.clock.advance(hours=30)
    recent = hold_patron_message(store, received_at=backend.clock())
    run(store, backend, Outbox())
    outbox = Outbox()
    run(store, backend, outbox, window=timedelta(hours=24))
    assert reported(outbox) == {"cityofsalem.net": [recent]} and outbox.sent[0].window == timedelta(hours=24)
    assert old not in reported(outbox)["cityofsalem.net"]
    assert run(store, backend, Outbox())[0].skipped == "nothing new since the last digest"


def test_dry_run_records_nothing(store, backend):
    """A dry run builds the digests but records nothing: the real run afterwards reports the same items."""
    item = hold_patron_message(store)
    dry = Outbox()
    outcomes = run(store, backend, dry, dry_run=True)
    assert dry.sent == [] and [e.item.id for e in outcomes[0].digest.new] == [item]
    real = Outbox()
    run(store, backend, real)
    assert reported(real) == {"cityofsalem.net": [item]}


def test_a_digest_that_could_not_be_spooled_is_forgotten(store, backend):
    """If spooling fails the error propagates and the items stay unreported for the next run."""
    item = hold_patron_message(store)
    outbox = Outbox()
    outbox.fail = True
    with pytest.raises(OSError):
        run(store, backend, outbox)
    outbox.fail = False
    run(store, backend, outbox)
    assert reported(outbox) == {"cityofsalem.net": [item]}


def test_a_run_that_died_before_spooling_is_reported_again_after_the_lease(store, backend):
    """A digest recorded but never marked sent (a crash) blocks its items only for the lease, then they are reported again."""
    item = hold_patron_message(store)
    assert store.record_digest("d-crashed", "cityofsalem.net", [(item, NEW)], pending_after=backend.clock() - LEASE)
    assert run(store, backend, Outbox())[0].skipped == "nothing new since the last digest"
    backend.clock.advance(seconds=LEASE.total_seconds() + 1)
    outbox = Outbox()
    run(store, backend, outbox)
    assert reported(outbox) == {"cityofsalem.net": [item]}


def test_two_nodes_running_at_once_report_each_item_once(backend):
    """Two stores on one database (two nodes' timers) digest at the same moment: every item appears in exactly one digest."""
    stores = [backend.open(), backend.open()]
    items = [hold_patron_message(stores[0]) for _ in range(20)]
    outboxes = [Outbox(), Outbox()]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def node(i: int) -> None:
        start.wait(10)
        try:
            run(stores[i], backend, outboxes[i])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=node, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    listed = [e.item.id for o in outboxes for d in o.sent for e in d.new]
    assert sorted(listed) == sorted(items)


def test_retention_deletes_digest_records_with_the_items(store, backend):
    """Purging an item's metadata also removes what digests recorded about it (no foreign-key error, no leftovers)."""
    item = hold_patron_message(store)
    run(store, backend, Outbox())
    store.settle(item, Actor("alice", "test"), from_states=(ItemState.HELD,), to_state=ItemState.REJECTED,
                 action=AuditAction.REJECT, note="no")
    backend.clock.advance(days=400)
    assert purge(store, POLICY, clock=backend.clock).metadata_deleted == 1
    with store._read() as tx:  # the table itself: nothing about the item is left
        assert tx.run("SELECT COUNT(*) FROM digest_items")[0][0] == 0
    assert store.digest_reported(NEW, backend.clock() - LEASE) == set()
    assert store.digest_reported(EXPIRING_SOON, backend.clock() - LEASE) == set()


# ----------------------------------------------------------------- what a digest says


@pytest.fixture(scope="module")
def leak_holds(tmp_path_factory):
    """Every message of the labelled leak set that is held, scanned for real (names off) and held in a store."""
    from proxy.quarantine import open_store

    tmp = tmp_path_factory.mktemp("digest-leaks")
    cfg = config_module.parse(base_config("ccrls.org, cityofsalem.net, dallasor.gov, mtangelpubliclibrary.com"),
                              "<test>")
    scanner = Scanner(cfg)
    store = open_store(config_module.QuarantineConfig(path=str(tmp / "q.db"), key_file=str(tmp / "q.key")), create=True)
    subjects = []
    for name, expect, _scenario in LABELS:
        if expect != "hold":
            continue
        raw = (LEAKSET / name).read_bytes()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        subjects.append(str(msg["Subject"]))
        sender = msg["From"].addresses[0].addr_spec
        result = scanner.scan(raw)
        held = [d for d in result.decisions if d.action.value != "deliver"]
        if not held:
            continue
        store.hold(raw, sender, [d.recipient.address for d in held], [d.recipient.cls.value for d in held],
                   list(result.rules), [e.to_json() for e in summarize(result).excerpts])
    yield store, subjects
    store.close()


def rendered(spool: Spool, notice_id: str) -> tuple[email.message.EmailMessage, str]:
    entry = spool.load(notice_id)
    msg = email.message_from_bytes(entry.raw, policy=email.policy.default)
    return msg, msg.get_content()  # type: ignore[attr-defined, return-value]


def assert_no_leak_values(text: str, subjects: list[str]) -> None:
    lowered = text.lower()
    for value in [*LEAK_IDENTIFIERS, *subjects]:
        assert value.lower() not in lowered, f"a digest contains {value!r}"


def test_digests_of_the_leak_set_name_references_and_reasons_but_no_patron_value(leak_holds, tmp_path):
    """Digests of every held leak-set message list references, senders, classes and reasons — and none of the leak set's raw values or subjects."""
    store, subjects = leak_holds
    notices = Notices(Spool(tmp_path / "spool"), NoticeSettings(
        "postmaster@ccrls.org", "relay.test", library="CCRLS", supervisors=FALLBACK,
        library_supervisors=(("cityofsalem.net", SALEM_SUPERVISORS),), review_url="https://review.ccrls.org/",
    ), NoticeTemplates())
    outcomes = run_digests(store, POLICY, notices.settings.supervisors_for, notices.digest)
    sent = [o for o in outcomes if o.digest is not None]
    assert {o.library for o in sent} >= {"cityofsalem.net", "ccrls.org", "dallasor.gov"}
    total = 0
    for o in sent:
        msg, body = rendered(notices.spool, o.notice_id)
        raw = notices.spool.load(o.notice_id).raw.decode("utf-8", "replace")
        assert_no_leak_values(body, subjects)
        assert_no_leak_values(raw, subjects)
        assert msg["Subject"].startswith(f"Held mail from {o.library}: {len(o.digest.new)} new")
        assert msg["X-PatronGuard-Notice"] == f"digest; ref={o.digest.id}"
        expected_to = SALEM_SUPERVISORS if o.library == "cityofsalem.net" else FALLBACK
        assert notices.spool.load(o.notice_id).envelope.rcpt_tos == expected_to
        for entry in o.digest.new:
            assert entry.item.id in body and f"https://review.ccrls.org/items/{entry.item.id}" in body
            assert entry.item.mail_from in body
        assert f"patronguard quarantine list --state held --library {o.library}" in body
        total += len(o.digest.new)
    assert total == len(store.items(ItemState.HELD)) >= 20
    assert "a library card number" in "".join(rendered(notices.spool, o.notice_id)[1] for o in sent)


# ----------------------------------------------------------------- the command


@pytest.fixture
def cli_config(tmp_path):
    def write(mode: str = "digest", extra: str = "") -> str:
        path = tmp_path / "config.yaml"
        path.write_text(
            "library:\n  name: CCRLS\n  domains: [ccrls.org, cityofsalem.net, dallasor.gov]\n"
            f"spool:\n  state_dir: {tmp_path / 'state'}\n"
            f"notices:\n  supervisor_mode: {mode}\n  supervisors: [{FALLBACK[0]}]\n"
            f"  library_supervisors:\n    cityofsalem.net: [{', '.join(SALEM_SUPERVISORS)}]\n" + extra
        )
        return str(path)

    return write


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def cli_store(path: str):  # type: ignore[no-untyped-def]
    from proxy.quarantine import open_store
    from proxy.wiring import Overrides, apply_overrides

    return open_store(apply_overrides(config_module.load(path), Overrides()).quarantine, create=True)


def test_cli_spools_one_digest_per_library_and_a_second_run_sends_nothing(capsys, cli_config, tmp_path):
    """`quarantine digest` spools each library's digest in the relay's spool and says so in one line each; run again, it sends nothing."""
    path = cli_config()
    store = cli_store(path)
    salem, dallas = hold_patron_message(store), hold_other(store)
    store.close()
    code, out, err = cli(capsys, "quarantine", "digest", "--config", path)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 2 and "cityofsalem.net: d-" in lines[0] and "spooled for 2 supervisor(s): 1 new" in lines[0]
    queue = sorted(p.name for p in (tmp_path / "state" / "spool" / "queue").iterdir())
    assert len(queue) == 2 and all(n.startswith("Dd-") for n in queue)
    spool = Spool(tmp_path / "state" / "spool")
    bodies = [rendered(spool, n.removesuffix(".msg"))[1] for n in queue]
    assert sum(salem in b for b in bodies) == 1 and sum(dallas in b for b in bodies) == 1
    code, out, _ = cli(capsys, "quarantine", "digest", "--config", path)
    assert code == 0 and out.count("nothing sent: nothing new since the last digest") == 2
    assert len(list((tmp_path / "state" / "spool" / "queue").iterdir())) == 2


def test_cli_dry_run_prints_the_digest_and_spools_nothing(capsys, cli_config, tmp_path):
    """--dry-run prints each digest (To, Subject, body) and leaves the spool and the records alone."""
    path = cli_config(mode="immediate")  # a preview works in any mode
    store = cli_store(path)
    item = hold_patron_message(store, received_at=None)
    store.close()
    code, out, err = cli(capsys, "quarantine", "digest", "--dry-run", "--library", "cityofsalem.net", "--config", path)
    assert code == 0 and err == ""
    assert "would send to 2 supervisor(s)" in out and f"To: {SALEM_SUPERVISORS[0]}" in out and item in out
    assert STAFF in out and "Subject: Held mail from cityofsalem.net: 1 new, 1 waiting" in out
    queue = tmp_path / "state" / "spool" / "queue"
    assert not queue.exists() or list(queue.iterdir()) == []
    store = cli_store(path)
    try:
        assert store.digest_reported(NEW, store.clock() - LEASE) == set()
    finally:
        store.close()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--since", "abc"], "patronguard: --since 'abc': expected a number of hours greater than 0, e.g. 24 or 72"),
        (["--since", "0"], "patronguard: --since '0': expected a number of hours greater than 0"),
        (["--since=-3"], "patronguard: --since '-3': expected a number of hours greater than 0"),
        (["--library", "salem"], "patronguard: --library 'salem': expected a member library domain such as cityofsalem.net"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
    ids=["since-not-a-number", "since-zero", "since-negative", "library-not-a-domain", "unknown-option"],
)
def test_cli_bad_options_are_one_line_with_exit_2(capsys, cli_config, argv, expected):
    """A bad --since or --library is one clear line on stderr, exit status 2, nothing sent."""
    code, out, err = cli(capsys, "quarantine", "digest", *argv, "--config", cli_config())
    assert code == 2 and out == "" and expected in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_cli_refuses_to_send_digests_in_immediate_mode(capsys, cli_config):
    """With supervisor_mode: immediate the command says how to turn digests on (exit 2), so a timer enabled by mistake shows up as failed."""
    code, out, err = cli(capsys, "quarantine", "digest", "--config", cli_config(mode="immediate"))
    assert code == 2 and out == ""
    assert "notices.supervisor_mode is 'immediate': set it to 'digest' or 'both'" in err


# ----------------------------------------------------------------- the timer


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name)
    return parser


def test_digest_timer_runs_weekday_mornings_as_the_relay_user_with_the_purge_hardening():
    """The digest timer fires Mon–Fri at 07:30 (persistent); the service runs `quarantine digest` as the relay's user, hardened like the purge."""
    timer, digest, purge_unit, relay = (_unit(n) for n in ("patronguard-digest.timer", "patronguard-digest.service",
                                                             "patronguard-purge.service", "patronguard.service"))
    assert timer["Timer"]["OnCalendar"] == "Mon..Fri *-*-* 07:30:00" and timer["Timer"]["Persistent"] == "true"
    assert digest["Service"]["Type"] == "oneshot"
    assert "quarantine digest" in digest["Service"]["ExecStart"]
    assert "--state-dir /var/lib/patronguard" in digest["Service"]["ExecStart"]
    for key in ("User", "DynamicUser", "StateDirectory"):
        assert digest["Service"][key] == relay["Service"][key], key
    same = {k: v for k, v in purge_unit["Service"].items() if k not in ("ExecStart",)}
    assert {k: digest["Service"].get(k) for k in same} == same


def test_a_long_backlog_lists_the_first_hundred_and_counts_the_rest(tmp_path):
    """A digest of 130 new items lists 100 one by one and says how many more there are, with the command that lists them."""
    from datetime import UTC, datetime

    from test_notify import held_item

    from proxy.quarantine.digest import DigestEntry
    from proxy.relay.notices import DIGEST_MAX_LISTED

    start = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    entries = tuple(DigestEntry(held_item(id=f"q-{n:04d}", library="dallasor.gov", received_at=start),
                                start + timedelta(days=14)) for n in range(130))
    digest = Digest("d-long", "dallasor.gov", FALLBACK, start, entries, entries[:3], 130, start)
    notices = Notices(Spool(tmp_path / "spool"), NoticeSettings("postmaster@ccrls.org", "relay.test"), NoticeTemplates())
    _msg, body = rendered(notices.spool, notices.digest(digest))
    assert DIGEST_MAX_LISTED == 100 and "q-0099" in body and "q-0100" not in body
    assert "Held since PatronGuard started sending digests: 130" in body
    assert "... and 30 more: patronguard quarantine list --state held --library dallasor.gov" in body
    assert "Please decide soon (3):" in body
