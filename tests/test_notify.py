"""Sender notices: rendered from templates, free of the held message's identifiers, spooled and delivered like mail.

The rendering tests take the reasons from a real scan of a patron message
(`detection.names: false`, so no spaCy load); the end-to-end tests run one relay
(in a thread) in front of the recording sink of `test_relay`.
"""

from __future__ import annotations

import email
import email.policy
import smtplib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from relay_support import sink_relay_config
from test_relay import Relay, Sink, to

from proxy import config as config_module
from proxy.errors import ConfigError
from proxy.quarantine.store import Excerpt, HeldItem, ItemState
from proxy.relay.notices import (
    UNREADABLE_ATTACHMENT,
    Notices,
    NoticeSettings,
    NoticeTemplates,
    SpoolNotifier,
    describe_recipients,
    notices_from_config,
    reasons_for,
)
from proxy.relay.spool import Envelope, RecipientState, Spool
from proxy.scanning.scan import Scanner, summarize

CARD = "23610003622817"
PATRON = "Maria Alvarez"
PHONE = "503-555-0187"
OUTSIDE = "rick.stone1987@gmail.com"  # someone else: her own address would get her own data
INTERNAL = "circ@cityofsalem.net"
SENDER = "staff@ccrls.org"
SUBJECT = "Overdue items for Maria"
CONTACT = "the Circulation desk (ext. 4357)"
SUPERVISOR = "circ-supervisor@ccrls.org"
IDENTIFIERS = (CARD, PATRON, "Alvarez", PHONE, "5035550187", OUTSIDE, "rick.stone1987", SUBJECT)

CONFIG = """\
notices:
  contact: "{contact}"
  supervisors: [{supervisor}]
"""


def patron_message(to_header: str = f"{INTERNAL}, {OUTSIDE}") -> bytes:
    return (
        f"From: Staff <{SENDER}>\r\nTo: {to_header}\r\nSubject: {SUBJECT}\r\n"
        f"Message-ID: <notice-test-{datetime.now(UTC).timestamp()}@ccrls.org>\r\n\r\n"
        f"{PATRON}, card {CARD}, phone {PHONE}, has three items overdue.\r\n"
    ).encode()


def config_text(state: Path, sink_port: int = 1) -> str:
    return sink_relay_config(sink_port, name="Chemeketa Cooperative Regional Library Service", state_dir=str(state)) + \
        CONFIG.format(contact=CONTACT, supervisor=SUPERVISOR)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """The rules and excerpts of a real scan of the patron message, as the pipeline keeps them."""
    cfg = config_module.parse(config_text(tmp_path_factory.mktemp("cfg")), "<test>")
    result = Scanner(cfg).scan(patron_message(), [INTERNAL, OUTSIDE])
    return result.rules, summarize(result).excerpts


@pytest.fixture
def notices(tmp_path):
    settings = NoticeSettings(
        postmaster="postmaster@ccrls.org",
        hostname="relay.test",
        library="CCRLS",
        contact=CONTACT,
        supervisors=(SUPERVISOR,),
    )
    return Notices(Spool(tmp_path / "spool"), settings, NoticeTemplates())


def spooled_text(notices: Notices, notice_id: str) -> tuple[Envelope, email.message.EmailMessage]:
    entry = notices.spool.load(notice_id)
    return entry.envelope, email.message_from_bytes(entry.raw, policy=email.policy.default)  # type: ignore[return-value]


def assert_clean(text: str) -> None:
    for value in IDENTIFIERS:
        assert value.lower() not in text.lower(), value


def held_item(**changes) -> HeldItem:
    base = dict(
        id="Q7F3A9",
        received_at=datetime(2025, 3, 4, 9, 30, tzinfo=UTC),
        library="ccrls",
        mail_from=SENDER,
        recipient_classes=("external",),
        recipient_hashes=("h1",),
        rules=("patron-card", "policy:external:hold"),
        finding_counts=(("patron_card", 1),),
        excerpts=(Excerpt("patron_card", "…card 2361•••••••817…", "body"),),
        state=ItemState.HELD,
        queue_id="Q0001",
    )
    base.update(changes)
    return HeldItem(**base)  # type: ignore[arg-type]


# ----------------------------------------------------------------- rendering


def test_held_notice_names_reference_reasons_contact_and_no_identifiers(notices, scanned):
    """The hold notice gives the reference, the reasons in plain words, the contact and the outside recipient by domain only — never a value, the address or the subject."""
    rules, excerpts = scanned
    assert "patron-card" in rules
    recipients = {
        INTERNAL: RecipientState(action="deliver", cls="internal"),
        OUTSIDE: RecipientState(action="hold", cls="external"),
    }
    envelope = Envelope(mail_from=SENDER, rcpt_tos=(INTERNAL, OUTSIDE), received_at=1_741_080_600.0)
    notice_id = notices.held("Q0001", envelope, recipients, [OUTSIDE], "QREF42", rules, excerpts)
    env, msg = spooled_text(notices, notice_id)
    body = msg.get_content()
    assert msg["Subject"] == "Your message was held for review (ref QREF42)"
    assert "QREF42" in body and CONTACT in body
    assert "a library card number" in body
    assert "a recipient at gmail.com" in body
    assert "Your other recipient is not affected" in body
    assert "supervisor will review" in body
    assert_clean(msg.as_string())
    # Supervisors get a notice of their own (tests/test_supervisor_notices.py), not a copy of this one.
    assert env.mail_from == "" and env.rcpt_tos == (SENDER,) and env.dsn_of == "Q0001"
    assert msg["From"].addresses[0].addr_spec == "postmaster@ccrls.org" and msg["Cc"] is None
    assert msg["Auto-Submitted"] == "auto-generated"


@pytest.mark.parametrize(
    ("outcome", "phrase"),
    [
        (ItemState.RELEASED, "sent it on"),
        (ItemState.RELEASED_REDACTED, "with the patron details in it masked"),
        (ItemState.REJECTED, "decided not to send"),
        (ItemState.EXPIRED, "nobody decided on it in time"),
    ],
)
def test_outcome_notices_name_reference_recipients_note_and_contact_without_identifiers(notices, outcome, phrase):
    """Every outcome notice gives the reference, the held recipients by domain and the contact; every supervisor's decision quotes the note; none carries an identifier."""
    notifier = SpoolNotifier(notices)
    item = held_item(recipient_classes=("external", "external", "internal"),
                     recipient_domains=("example.net", "example.net", "cityofsalem.net"))
    notifier.notify_sender(item, outcome, "Please use the secure portal instead.")
    env, msg = spooled_text(notices, f"N{item.id}-{outcome.value}")
    text = " ".join(msg.get_content().split())
    assert "Q7F3A9" in msg["Subject"] and "Q7F3A9" in text and CONTACT in text and phrase in text
    assert "- a recipient at cityofsalem.net - 2 recipients at example.net" in text
    if outcome is not ItemState.RELEASED:
        assert "a library card number" in text
    assert ("The supervisor's note: Please use the secure portal instead." in text) is (
        outcome is not ItemState.EXPIRED
    )  # an expiry has no supervisor to quote
    assert env.rcpt_tos == (SENDER,) and env.mail_from == ""
    assert_clean(msg.as_string())


def test_an_item_held_before_recipient_domains_were_kept_still_gets_its_notice(notices):
    """An item without recipient domains (held by an older version) is told by count alone."""
    SpoolNotifier(notices).notify_sender(held_item(), ItemState.RELEASED, "ok")
    _env, msg = spooled_text(notices, "NQ7F3A9-released")
    text = " ".join(msg.get_content().split())
    assert "sent it on to the 1 held recipient. The supervisor's note: ok" in text


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (("patron-card", "circulation-record", "partner-not-approved-for:titles", "policy:partner_excess:hold"),
         ["the titles someone borrowed, which Unique Management Services is not approved to receive"]),
        (("patron-card", "partner-not-approved-for:holds,notes", "policy:partner_excess:hold",
          "policy:external:hold"),
         ["what someone has on hold and notes from a patron's record, which Unique Management Services is not "
          "approved to receive", "a library card number"]),
        (("patron-card", "fax-not-approved-for:titles", "policy:fax_excess:hold"),
         ["the titles someone borrowed, which the fax number it is going to is not approved to receive"]),
    ],
    ids=["partner-excess-alone", "partner-excess-and-outside", "fax-excess"],
)
def test_excess_reasons_say_in_words_what_the_partner_may_not_receive(rules, expected):
    """A partner-excess hold reads as the data the partner may not have, named; what it may have is not given as the reason."""
    from proxy.relay.notices import reasons_for

    assert reasons_for(rules, (), ["Unique Management Services"]) == expected


def test_escalation_goes_to_the_admin_and_supervisors(notices):
    """An escalation is sent to the postmaster (the library's admin) with the supervisors in copy, naming the item to review."""
    submitted: list[str] = []
    SpoolNotifier(notices, submitted.append).notify_admin(held_item(), "undecided for 14 days")
    env, msg = spooled_text(notices, submitted[0])
    assert env.rcpt_tos == ("postmaster@ccrls.org", SUPERVISOR)
    text = msg.get_content()
    assert "patronguard quarantine show Q7F3A9" in text and "1 outside the library" in text
    assert_clean(msg.as_string())


def test_no_notice_for_the_null_sender_or_about_a_notice(notices):
    """A message from <> (a bounce) or one that is itself a notice never gets a notice."""
    recipients = {OUTSIDE: RecipientState(action="hold", cls="external")}
    for envelope in (
        Envelope(mail_from="", rcpt_tos=(OUTSIDE,)),
        Envelope(mail_from=SENDER, rcpt_tos=(OUTSIDE,), dsn_of="Q0001"),
    ):
        assert notices.held("Q0002", envelope, recipients, [OUTSIDE], "QREF", ("patron-card",)) == ""
    assert notices.spool.ids() == []


def test_held_notice_is_spooled_once_per_entry(notices):
    """Running the hook twice for the same entry (a crash before the state was saved) spools one notice."""
    recipients = {OUTSIDE: RecipientState(action="hold", cls="external")}
    envelope = Envelope(mail_from=SENDER, rcpt_tos=(OUTSIDE,))
    first = notices.held("Q0003", envelope, recipients, [OUTSIDE], "QREF", ("patron-card",))
    second = notices.held("Q0003", envelope, recipients, [OUTSIDE], "QREF", ("patron-card",))
    assert first == second and notices.spool.ids() == [first]


@pytest.mark.parametrize(
    ("held", "lines"),
    [
        ([(INTERNAL, "internal")], [INTERNAL]),
        ([(OUTSIDE, "external")], ["a recipient at gmail.com"]),
        (
            [("a@example.org", "external"), ("b@example.org", "partner"), ("15035550187@fax.example", "fax")],
            ["2 recipients at example.org", "a recipient at fax.example"],
        ),
    ],
)
def test_recipients_inside_by_address_outside_by_domain_and_count(held, lines):
    """Internal recipients are listed by address; everyone else only by domain, with a count."""
    assert describe_recipients(held) == lines


@pytest.mark.parametrize(
    ("rules", "excerpts", "reasons"),
    [
        (("patron-card", "policy:external:hold"), (), ["a library card number"]),
        (
            ("uninspectable", "policy:uninspectable-external:hold"),
            (Excerpt("uninspectable", "", "2"),),
            [UNREADABLE_ATTACHMENT],
        ),
        (("policy:external:hold",), (), ["information about a library patron"]),
    ],
)
def test_reasons_are_plain_words_from_rules(rules, excerpts, reasons):
    """Rule ids become plain words; an unreadable part reads as an attachment PatronGuard could not read; bookkeeping rules add nothing."""
    assert reasons_for(rules, excerpts) == reasons


# ----------------------------------------------------------------- config


def test_bad_templates_dir_is_a_clear_config_error(tmp_path):
    """A templates_dir that does not exist is a ConfigError naming the file, the line, the key and the path."""
    cfg = config_module.parse(
        config_text(tmp_path) + '  templates_dir: "/nonexistent/notices"\n', "config.yaml"
    )
    with pytest.raises(
        ConfigError,
        match=r"config.yaml:\d+: notices.templates_dir: expected a directory .*'/nonexistent/notices' \(no such directory\)",
    ):
        notices_from_config(
            cfg, Spool(tmp_path / "spool"), hostname="relay.test", postmaster="postmaster@ccrls.org"
        )


def test_broken_or_unknown_variable_template_is_a_config_error(tmp_path):
    """An overriding template with a syntax error, or one using an unknown variable, fails at load with its name."""
    (tmp_path / "held.txt").write_text("Subject: held {{ reference }\n\nbody\n")
    with pytest.raises(ConfigError, match="held.txt line 1"):
        NoticeTemplates(tmp_path)
    (tmp_path / "held.txt").write_text("Subject: held {{ subject }}\n\nbody\n")
    with pytest.raises(ConfigError, match="held.txt: 'subject' is undefined"):
        NoticeTemplates(tmp_path)


def test_templates_dir_overrides_one_template_relative_to_the_config(tmp_path):
    """A template in templates_dir (relative to the config file) replaces the built-in one; the others stay."""
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "held.txt").write_text("Subject: Held: {{ reference }}\n\nAsk {{ contact }}.\n")
    cfg = config_module.parse(
        config_text(tmp_path) + "  templates_dir: mine\n", str(tmp_path / "config.yaml")
    )
    n = notices_from_config(
        cfg, Spool(tmp_path / "spool"), hostname="relay.test", postmaster="postmaster@ccrls.org"
    )
    assert n is not None
    assert n.templates.render("held.txt", reference="R1", contact="X") == ("Held: R1", "Ask X.\n")
    assert "sent it on" in n.templates.render("released.txt", **_context())[1]


def test_notices_can_be_switched_off(tmp_path):
    """notices.enabled: false gives no notices at all."""
    cfg = config_module.parse(config_text(tmp_path) + "  enabled: false\n", "<test>")
    assert notices_from_config(cfg, Spool(tmp_path / "spool"), hostname="h", postmaster="p@ccrls.org") is None


def _context() -> dict[str, object]:
    return dict(
        reference="R",
        library="L",
        sent="today",
        held=[],
        held_count=1,
        delivered_count=0,
        reasons=["r"],
        contact="c",
        note="",
        sender="",
        recipient_classes="",
    )


# ----------------------------------------------------------------- through the relay


@pytest.fixture(scope="module")
def sink():
    s = Sink().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def relay(sink, tmp_path_factory):
    state = tmp_path_factory.mktemp("notify-state")
    path = state.parent / f"{state.name}.yaml"
    path.write_text(config_text(state, sink.port))
    r = Relay(state, path).start()
    yield r
    r.stop()


def _send(relay: Relay, sender: str, rcpts: list[str], data: bytes) -> str:
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as client:
        client.ehlo("ws1.ccrls.org")
        client.mail(sender)
        for r in rcpts:
            client.rcpt(r)
        code, reply = client.data(data)
    assert code == 250, reply
    return reply.decode().rsplit(" ", 1)[-1]


def is_notice(m) -> bool:  # type: ignore[no-untyped-def]
    return m.mail_from == "<>" and b"X-PatronGuard-Notice:" in m.data


def test_held_message_produces_a_notice_to_the_sender(relay, sink):
    """A patron message to an internal and an outside recipient: the internal copy goes out, and the sender gets a notice naming the quarantine id, with no identifiers."""
    queue_id = _send(relay, SENDER, [INTERNAL, OUTSIDE], patron_message())
    sink.wait_for(to(INTERNAL))
    item = relay.held_for(OUTSIDE)
    notice = sink.wait_for(lambda m: is_notice(m) and b"X-PatronGuard-Notice: held;" in m.data
                           and item.id.encode() in m.data)[0]
    assert notice.rcpt_tos == [SENDER]
    msg = email.message_from_bytes(notice.data, policy=email.policy.default)
    body = msg.get_content()  # type: ignore[attr-defined]
    assert msg["Subject"] == f"Your message was held for review (ref {item.id})"
    assert "a library card number" in body and "a recipient at gmail.com" in body and CONTACT in body
    assert_clean(notice.data.decode("utf-8", "replace"))
    assert msg["X-PatronGuard-Notice"] == f"held; ref={item.id}" and item.queue_id == queue_id
    relay.queue_empty()


def test_no_notice_for_fully_delivered_mail(relay, sink):
    """Mail that goes to every recipient produces no notice."""
    body = b"From: staff@ccrls.org\r\nTo: vendor@example.com\r\nSubject: order\r\n\r\nPlease send 3 copies of ISBN 9780143127741.\r\n"
    _send(relay, SENDER, ["vendor@example.com", "delivered-only@ccrls.org"], body)
    sink.wait_for(to("delivered-only@ccrls.org"))
    relay.queue_empty()
    assert sink.matching(lambda m: is_notice(m) and b"delivered-only" in m.data) == []
    assert sink.matching(lambda m: is_notice(m) and m.rcpt_tos == [SENDER] and b"vendor" in m.data) == []


def test_no_notice_for_the_null_sender_through_the_relay(relay, sink):
    """A held message from the null sender <> is held without a sender notice (there is nobody to tell); only the supervisors hear of it."""
    before = len(sink.matching(is_notice))
    _send(relay, "", ["nullsender-out@example.net"], patron_message("nullsender-out@example.net"))
    item = relay.held_for("nullsender-out@example.net")
    relay.queue_empty()
    new = sink.matching(is_notice)[before:]
    assert [m.rcpt_tos for m in new] == [[SUPERVISOR]]
    assert b"X-PatronGuard-Notice: supervisor; ref=" + item.id.encode() in new[0].data


def test_the_overview_of_a_hold_masks_the_subject_and_attachment_names_and_keeps_domains_only():
    """A held message's overview: the Subject masked like an excerpt (strictly when a finding was in it), recipient domains, attachments with their findings."""
    from email.message import EmailMessage

    from proxy.relay.holds import overview
    from proxy.scanning.explain import Excerpt

    msg = EmailMessage()
    msg["Subject"] = "Overdue list for maria alvarez 23610003622817"
    msg.set_content("see attached")
    msg.add_attachment(b"name,card\n", maintype="text", subtype="csv", filename="alvarez_maria.csv")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="Monthly report.pdf")
    found = [Excerpt("bulk_export", "", "2"), Excerpt("patron_barcode", "", "subject")]
    o = overview(msg.as_bytes(), ["Maria.Alvarez@Example.NET", "circ@cityofsalem.net"], found)
    assert o.subject == "Overdue list for ••••• ••••••• ••••••••••••••"
    assert o.recipient_domains == ("example.net", "cityofsalem.net")
    assert [(a.content_type, a.name, a.finding_kinds) for a in o.attachments] == [
        ("text/csv", "•••••••_•••••.csv", ("bulk_export",)), ("application/pdf", "•••••••" + " report.pdf", ())]
    plain = overview(b"Subject: Book club on Tuesday\r\n\r\nhi", ["x@example.org"], [])
    assert plain.subject == "•••• club on •••••••"  # no finding in it: digits, addresses, capitalised words masked
