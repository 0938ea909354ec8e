"""Immediate supervisor notices: routed per member library (fallback list otherwise), no patron data, how to review.

The unit tests spool notices with `Notices` directly; the end-to-end test runs
one relay (in a thread, names off) in front of the recording sink of
`test_relay` and sends patron mail from two member libraries.
"""

from __future__ import annotations

import email
import email.policy
import smtplib

import pytest
from relay_support import sink_relay_config
from test_leakset import IDENTIFIERS as LEAK_IDENTIFIERS
from test_leakset import LABELS, LEAKSET
from test_notify import assert_clean, held_item, patron_message
from test_relay import Relay, Sink, to

from proxy import config as config_module
from proxy.errors import ConfigError
from proxy.quarantine import RetentionPolicy
from proxy.relay.notices import (
    Notices,
    NoticeSettings,
    NoticeTemplates,
    SpoolNotifier,
    member_library,
    notices_from_config,
    review_url,
)
from proxy.relay.spool import Envelope, RecipientState, Spool
from proxy.scanning.scan import Scanner, summarize

SALEM = ("salem-sup@cityofsalem.net", "salem-lead@cityofsalem.net")
DALLAS = ("dallas-sup@dallasor.gov",)
FALLBACK = ("central@ccrls.org",)
OUTSIDE = "rick.stone1987@gmail.com"  # someone else: her own address would get her own data
INTERNAL = "circ@cityofsalem.net"
LIBRARIES = (("cityofsalem.net", SALEM), ("dallasor.gov", DALLAS))


def settings(**changes) -> NoticeSettings:  # type: ignore[no-untyped-def]
    base = dict(postmaster="postmaster@ccrls.org", hostname="relay.test", library="CCRLS",
                contact="the help desk", supervisors=FALLBACK, library_supervisors=LIBRARIES)
    base.update(changes)
    return NoticeSettings(**base)  # type: ignore[arg-type]


@pytest.fixture
def make(tmp_path):
    def build(**changes) -> Notices:  # type: ignore[no-untyped-def]
        return Notices(Spool(tmp_path / "spool"), settings(**changes), NoticeTemplates())

    return build


def hold(notices: Notices, sender: str, entry: str = "Q0001", rules=("patron-card", "policy:external:hold")) -> str:  # type: ignore[no-untyped-def]
    recipients = {
        INTERNAL: RecipientState(action="deliver", cls="internal"),
        OUTSIDE: RecipientState(action="hold", cls="external"),
        "15035550187@efaxsend.com": RecipientState(action="hold", cls="fax"),
    }
    envelope = Envelope(mail_from=sender, rcpt_tos=tuple(recipients), received_at=1_741_080_600.0)
    return notices.supervised(entry, envelope, recipients, [OUTSIDE, "15035550187@efaxsend.com"], "q-REF42", rules)


def spooled(notices: Notices, notice_id: str) -> tuple[Envelope, email.message.EmailMessage, str]:
    entry = notices.spool.load(notice_id)
    msg = email.message_from_bytes(entry.raw, policy=email.policy.default)
    return entry.envelope, msg, msg.get_content()  # type: ignore[attr-defined, return-value]


# ----------------------------------------------------------------- routing


@pytest.mark.parametrize(
    ("domain", "library"),
    [
        ("cityofsalem.net", "cityofsalem.net"),
        ("Branch.CityOfSalem.net", "cityofsalem.net"),
        ("notcityofsalem.net", "notcityofsalem.net"),
        ("ccrls.org", "ccrls.org"),
    ],
)
def test_a_sender_domain_belongs_to_itself_or_its_closest_listed_parent(domain, library):
    """Subdomains of a listed member library are that library; look-alike domains are not."""
    assert member_library(domain, ["cityofsalem.net", "dallasor.gov"]) == library


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("jsato@cityofsalem.net", SALEM),
        ("youth@branch.cityofsalem.net", SALEM),
        ("nquist@dallasor.gov", DALLAS),
        ("thaverly@ccrls.org", FALLBACK),  # not listed: the fallback list
        ("", FALLBACK),  # the null sender: still reviewed by someone
    ],
)
def test_immediate_notice_goes_to_the_senders_library_supervisors_or_the_fallback(make, sender, expected):
    """Each hold's supervisor notice goes to its member library's supervisors (first in To, the rest in Cc), or to notices.supervisors."""
    notices = make()
    envelope, msg, _ = spooled(notices, hold(notices, sender))
    assert envelope.rcpt_tos == expected and envelope.mail_from == "" and envelope.dsn_of == "Q0001"
    assert msg["To"] == expected[0] and (msg["Cc"] or "") == ", ".join(expected[1:])
    assert msg["X-PatronGuard-Notice"] == "supervisor; ref=q-REF42"


def test_no_immediate_notice_in_digest_mode_without_supervisors_or_about_a_notice(make):
    """Digest mode, a library with nobody to tell, and PatronGuard's own notices produce no supervisor notice."""
    assert hold(make(supervisor_mode="digest"), "jsato@cityofsalem.net") == ""
    assert hold(make(supervisors=(), library_supervisors=()), "jsato@cityofsalem.net") == ""
    assert hold(make(supervisors=()), "thaverly@ccrls.org") == ""
    notices = make()
    recipients = {OUTSIDE: RecipientState(action="hold", cls="external")}
    ours = Envelope(mail_from="", rcpt_tos=(OUTSIDE,), dsn_of="Q0009")
    assert notices.supervised("Q0010", ours, recipients, [OUTSIDE], "q-X", ("patron-card",)) == ""
    assert notices.spool.ids() == []


def test_both_mode_still_sends_immediate_notices_and_each_entry_spools_one(make):
    """supervisor_mode: both sends the immediate notice too; running the hook twice for one entry spools one notice."""
    notices = make(supervisor_mode="both")
    first, second = hold(notices, "jsato@cityofsalem.net"), hold(notices, "jsato@cityofsalem.net")
    assert first == second == "Q0001-S" and notices.spool.ids() == ["Q0001-S"]


# ----------------------------------------------------------------- content


def test_supervisor_notice_says_who_what_why_and_how_to_review_without_patron_data(make):
    """Reference, sender, recipient classes, plain reasons, deadline, the CLI command and the item's review page — no recipient address, value or subject."""
    notices = make(review_url="https://review.ccrls.org/", retention=RetentionPolicy(14))
    _env, msg, body = spooled(notices, hold(notices, "jsato@cityofsalem.net"))
    assert msg["Subject"] == "Held for review: mail from jsato@cityofsalem.net (ref q-REF42)"
    assert "from cityofsalem.net has been held" in body
    assert "Sender:     jsato@cityofsalem.net" in body
    assert "2 recipients (1 outside the library, 1 by fax)" in body
    assert "a library card number" in body
    assert "Decide by:  18 March 2025 at 09:30 UTC, when it expires unsent" in body
    assert "patronguard quarantine show q-REF42" in body
    assert "https://review.ccrls.org/items/q-REF42" in body
    assert "gmail.com" not in body and "5035550187" not in body and "efaxsend" not in body
    assert_clean(msg.as_string())


def test_without_review_pages_the_notice_gives_the_command_only_and_escalation_deadlines(make):
    """With no review pages the notice names the CLI only; under expiry_action: escalate the deadline is the escalation."""
    notices = make(retention=RetentionPolicy(10, "escalate", 7))
    _env, _msg, body = spooled(notices, hold(notices, "nquist@dallasor.gov"))
    assert "http" not in body and "To review it, run on the PatronGuard server" in body
    assert "14 March 2025 at 09:30 UTC, when it goes to the library's admin" in body


@pytest.mark.parametrize(
    ("section", "url"),
    [
        ("review_ui:\n  enabled: true\n  url: https://review.ccrls.org/\n", "https://review.ccrls.org/"),
        ("review_ui:\n  enabled: true\n  listen: 127.0.0.1:8099\n", "http://127.0.0.1:8099/"),
        ("review_ui:\n  enabled: false\n", ""),
        ("", ""),
    ],
    ids=["configured-url", "enabled-listen", "disabled", "absent"],
)
def test_review_address_comes_from_review_ui(section, url):
    """The address in notices is review_ui.url, else the listen address when the pages run, else none."""
    cfg = config_module.parse(sink_relay_config(1) + section, "<test>")
    assert review_url(cfg) == url


def test_escalation_copies_the_items_library_supervisors(make):
    """An escalation goes to the admin with the item's member library's supervisors in copy (not every supervisor)."""
    notices = make()
    submitted: list[str] = []
    SpoolNotifier(notices, submitted.append).notify_admin(held_item(library="dallasor.gov"), "undecided for 14 days")
    envelope, _msg, _body = spooled(notices, submitted[0])
    assert envelope.rcpt_tos == ("postmaster@ccrls.org", *DALLAS)


def test_supervisor_notices_for_the_leak_set_carry_no_patron_value(make):
    """For every held message of the labelled leak set (really scanned), the supervisor notice holds none of the leak set's raw values or its subject."""
    cfg = config_module.parse(sink_relay_config(1), "<test>")
    scanner = Scanner(cfg)
    notices = make(review_url="https://review.ccrls.org/")
    checked = 0
    for name, expect, _scenario in LABELS:
        if expect != "hold":
            continue
        raw = (LEAKSET / name).read_bytes()
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        sender = parsed["From"].addresses[0].addr_spec
        result = scanner.scan(raw)
        recipients = {d.recipient.address: RecipientState(action=d.action.value, cls=d.recipient.cls.value)
                      for d in result.decisions}
        held = [a for a, r in recipients.items() if r.action != "deliver"]
        if not held:
            continue
        envelope = Envelope(mail_from=sender, rcpt_tos=tuple(recipients), received_at=1_741_080_600.0)
        notice_id = notices.supervised(name, envelope, recipients, held, f"q-{name[:7]}", result.rules,
                                       summarize(result).excerpts)
        entry = notices.spool.load(notice_id)
        text = (entry.raw.decode("utf-8", "replace") + spooled(notices, notice_id)[2]).lower()
        for value in [*LEAK_IDENTIFIERS, str(parsed["Subject"]), *held]:
            assert value.lower() not in text, f"{name}: the supervisor notice contains {value!r}"
        checked += 1
    assert checked >= 20


# ----------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("  library_supervisors:\n    salem: [a@cityofsalem.net]\n",
         "config.yaml:{line}: notices.library_supervisors.salem: expected a mail domain such as 'ccrls.org' as the key, got 'salem'"),
        ("  library_supervisors:\n    cityofsalem.net: [not-an-address]\n",
         "config.yaml:{line}: notices.library_supervisors.cityofsalem.net[0]: expected a mail address"),
        ("  library_supervisors:\n    cityofsalem.net: a@cityofsalem.net\n",
         "config.yaml:{line}: notices.library_supervisors.cityofsalem.net: expected a list of supervisors' addresses (a YAML list)"),
        ("  library_supervisors:\n    cityofsalem.net: [a@cityofsalem.net]\n    CityOfSalem.net: [b@cityofsalem.net]\n",
         "config.yaml:{line2}: notices.library_supervisors.cityofsalem.net: appears twice"),
        ("  library_supervisors: [a@cityofsalem.net]\n",
         "config.yaml:{line0}: notices.library_supervisors: expected a mapping of member library domain to a list of supervisors' addresses"),
        ("  supervisor_mode: weekly\n",
         "config.yaml:{line0}: notices.supervisor_mode: expected when supervisors hear of held mail: one of immediate, digest, both; got 'weekly'"),
    ],
    ids=["key-not-a-domain", "bad-address", "not-a-list", "duplicate-library", "not-a-mapping", "unknown-mode"],
)
def test_config_errors_name_file_line_and_dotted_key(section, message):
    """Each mistake in the new notices keys is one error naming config.yaml, the line and the dotted key."""
    head = sink_relay_config(1) + "notices:\n"
    first = head.count("\n") + 1
    with pytest.raises(ConfigError) as caught:
        config_module.parse(head + section, "config.yaml")
    expected = message.format(line0=first, line=first + 1, line2=first + 2)
    assert str(caught.value).startswith(expected), str(caught.value)


def test_library_supervisors_are_read_lowercased_with_the_mode(tmp_path):
    """library_supervisors keys are lowercased domains; the mode and fallback reach the notice settings."""
    cfg = config_module.parse(sink_relay_config(1) + (
        "notices:\n  supervisor_mode: both\n  supervisors: [central@ccrls.org]\n"
        "  library_supervisors:\n    CityOfSalem.net: [salem-sup@cityofsalem.net, salem-lead@cityofsalem.net]\n"
    ), "<test>")
    assert cfg.notices.library_supervisors == {"cityofsalem.net": SALEM}
    notices = notices_from_config(cfg, Spool(tmp_path / "spool"), hostname="h", postmaster="postmaster@ccrls.org")
    assert notices is not None and notices.settings.supervisor_mode == "both"
    assert notices.settings.supervisors_for("youth@cityofsalem.net".rpartition("@")[2]) == ("cityofsalem.net", SALEM)
    assert notices.settings.supervisors_for("ccrls.org") == ("ccrls.org", FALLBACK)


# ----------------------------------------------------------------- through the relay


@pytest.fixture(scope="module")
def sink():
    s = Sink().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def relay(sink, tmp_path_factory):
    state = tmp_path_factory.mktemp("supervisor-state")
    path = state.parent / f"{state.name}.yaml"
    path.write_text(sink_relay_config(sink.port, name="CCRLS", state_dir=str(state)) + (
        "notices:\n  supervisors: [central@ccrls.org]\n"
        "  library_supervisors:\n    cityofsalem.net: [salem-sup@cityofsalem.net, salem-lead@cityofsalem.net]\n"
        "review_ui:\n  url: https://review.ccrls.org/\n"
    ))
    r = Relay(state, path).start()
    yield r
    r.stop()


def _send(relay: Relay, sender: str, rcpts: list[str], data: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as client:
        client.ehlo("ws1.ccrls.org")
        client.mail(sender)
        for r in rcpts:
            client.rcpt(r)
        code, reply = client.data(data)
    assert code == 250, reply


def supervisor_notice(item_id: str):  # type: ignore[no-untyped-def]
    return lambda m: m.mail_from == "<>" and f"X-PatronGuard-Notice: supervisor; ref={item_id}".encode() in m.data


@pytest.mark.parametrize(
    ("sender", "outside", "expected"),
    [
        ("jsato@cityofsalem.net", "salem-out@example.net", list(SALEM)),
        ("thaverly@ccrls.org", "ccrls-out@example.net", list(FALLBACK)),
    ],
    ids=["listed-library", "fallback"],
)
def test_relay_sends_each_hold_to_its_librarys_supervisors(relay, sink, sender, outside, expected):
    """Through the relay: the internal copy goes out, the sender gets a notice, and the sender's library's supervisors (or the fallback) get their own — no identifiers."""
    internal = f"copy-{outside.partition('@')[0]}@cityofsalem.net"
    data = patron_message(f"{internal}, {outside}").replace(b"staff@ccrls.org", sender.encode())
    _send(relay, sender, [internal, outside], data)
    sink.wait_for(to(internal))
    item = relay.held_for(outside)
    notice = sink.wait_for(supervisor_notice(item.id))[0]
    assert notice.rcpt_tos == expected
    msg = email.message_from_bytes(notice.data, policy=email.policy.default)
    body = msg.get_content()  # type: ignore[attr-defined]
    assert f"https://review.ccrls.org/items/{item.id}" in body and sender in body
    assert "1 recipient (1 outside the library)" in body
    assert_clean(notice.data.decode("utf-8", "replace"))
    assert outside not in notice.data.decode("utf-8", "replace")
    sender_notice = sink.wait_for(lambda m: m.mail_from == "<>" and b"X-PatronGuard-Notice: held;" in m.data
                                  and item.id.encode() in m.data)[0]
    assert sender_notice.rcpt_tos == [sender]
    relay.queue_empty()
