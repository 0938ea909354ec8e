"""Policy: recipient classes and per-recipient actions, without servers, detectors or disk."""

from __future__ import annotations

import pytest

from detectors.evidence import Assessment, Disclosure
from detectors.findings import Category, Finding, Kind
from proxy.config import load
from proxy.scanning.policy import Action, RecipientClass, classify, decide

C = Category


@pytest.fixture(scope="module")
def cfg(repo):
    return load(repo / "config.yaml")


def _assessment(*categories: Category, uninspectable: bool = False) -> Assessment:
    finding = Finding(Kind.PATRON_BARCODE, "1", 0, 14, 0.95, "patron-card", "2361•••••••817", "barcodes", frozenset({C.CARD_NUMBER}))
    disclosures = (Disclosure("patron-card", frozenset(categories), 0.95, (finding,)),) if categories else ()
    bad = (Finding(Kind.UNINSPECTABLE, "2", 0, 0, 1.0, "no-extractor application/pdf", ""),) if uninspectable else ()
    return Assessment((finding,) if categories else (), disclosures, bad)


@pytest.mark.parametrize(
    ("address", "cls", "approved"),
    [
        ("circ@ccrls.org", RecipientClass.INTERNAL, False),
        ("Someone@Library.CityOfSalem.net", RecipientClass.INTERNAL, False),
        ("reports@unique-mgmt.com", RecipientClass.PARTNER, False),
        ("15035550142@efaxsend.com", RecipientClass.FAX, True),
        ("5035550142@rcfax.com", RecipientClass.FAX, True),
        ("+15035550199@myfax.com", RecipientClass.FAX, False),
        ("5035550199@fax.example-provider.net", RecipientClass.FAX, False),
        ("sales@faxmachines.example", RecipientClass.EXTERNAL, False),
        ("detective@police.example", RecipientClass.EXTERNAL, False),
        ("ccrls.org.evil.example@x.example", RecipientClass.EXTERNAL, False),
        ("user@notccrls.org", RecipientClass.EXTERNAL, False),
    ],
)
def test_classify(cfg, address, cls, approved):
    """Addresses fall in the class their domain and local part say, fax numbers normalised."""
    recipient = classify(address, cfg)
    assert recipient.cls is cls
    assert recipient.approved is approved


@pytest.mark.parametrize("address", [
    "landlord%example.net@cityofsalem.net",
    '"landlord@example.net"@cityofsalem.net',
    "example.net!landlord@cityofsalem.net",
    "landlord%example.net@ccrls.org",
    "15035550142%efaxsend.com@ccrls.org",
    "reports%unique-mgmt.com@cityofsalem.net",
])
def test_routed_addresses_are_outside_whatever_their_domain(cfg, address):
    """A library-domain address whose local part routes elsewhere (percent hack, quoted address, bang path) is
    outside the library: a mail system after the relay may deliver it to the other domain."""
    assert classify(address, cfg).cls is RecipientClass.EXTERNAL


def test_fax_number_is_normalised_to_e164(cfg):
    """Both 10- and 11-digit gateway local parts give the same E.164 number."""
    assert classify("5035550142@efaxsend.com", cfg).fax_number == "+15035550142"
    assert classify("15035550142@efaxsend.com", cfg).fax_number == "+15035550142"


@pytest.mark.parametrize(
    ("address", "categories", "action"),
    [
        ("circ@ccrls.org", (C.NAME, C.CARD_NUMBER, C.TITLES), Action.DELIVER),
        ("detective@police.example", (C.NAME, C.CARD_NUMBER), Action.HOLD),
        ("reports@unique-mgmt.com", (C.NAME, C.CARD_NUMBER, C.MONEY_OWED), Action.DELIVER),
        ("reports@unique-mgmt.com", (C.NAME, C.CARD_NUMBER, C.TITLES), Action.HOLD),
        ("15035550142@efaxsend.com", (C.NAME, C.MONEY_OWED), Action.DELIVER),
        ("15035550142@efaxsend.com", (C.NAME, C.HOLDS), Action.HOLD),
        ("15035550199@efaxsend.com", (C.NAME,), Action.HOLD),
        ("friend@example.com", (), Action.DELIVER),
    ],
)
def test_decide(cfg, address, categories, action):
    """Disclosures are held for outsiders, delivered internally, and to partners only within their categories."""
    decision = decide(classify(address, cfg), _assessment(*categories), cfg.policy)
    assert decision.action is action


def test_partner_excess_names_the_categories(cfg):
    """A partner hold explains which categories it may not receive."""
    decision = decide(classify("reports@unique-mgmt.com", cfg), _assessment(C.NAME, C.TITLES), cfg.policy)
    assert "partner-not-approved-for:titles" in decision.rules
    assert "patron-card" in decision.rules


@pytest.mark.parametrize(
    ("address", "action"),
    [("circ@ccrls.org", Action.DELIVER), ("x@example.com", Action.HOLD), ("reports@unique-mgmt.com", Action.HOLD), ("15035550142@efaxsend.com", Action.HOLD)],
)
def test_uninspectable_fails_closed_outside(cfg, address, action):
    """A part that could not be read holds the message for everyone outside the library."""
    decision = decide(classify(address, cfg), _assessment(uninspectable=True), cfg.policy)
    assert decision.action is action
    if action is Action.HOLD:
        assert "uninspectable" in decision.rules


def test_actions_come_from_config(repo):
    """Changing policy.actions.external to redact changes the decision."""
    from proxy.config import parse

    text = (repo / "config.yaml").read_text().replace("    external: hold\n  # What to do when", "    external: redact\n  # What to do when")
    cfg = parse(text, "edited.yaml")
    decision = decide(classify("x@example.com", cfg), _assessment(C.NAME), cfg.policy)
    assert decision.action is Action.REDACT


def test_disabled_rules_switch_a_rule_off(repo):
    """policy.disabled_rules removes that rule's disclosures; an unknown rule id is a config error."""
    from proxy.config import parse
    from proxy.errors import ConfigError
    from proxy.scanning.scan import Scanner

    text = (repo / "config.yaml").read_text().replace("disabled_rules: []", "disabled_rules: [patron-card]")
    scanner = Scanner(parse(text, "edited.yaml"))
    raw = b"From: a@ccrls.org\nTo: x@example.com\nSubject: hi\n\nplease look up 23610003622817\n"
    assert not scanner.scan(raw).held
    with pytest.raises(ConfigError, match="policy.disabled_rules\\[0\\]: expected a disclosure rule id"):
        parse(text.replace("[patron-card]", "[patron-cards]"), "edited.yaml")
