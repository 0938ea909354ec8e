"""Policy: who may see what. Recipient classes and the per-recipient decision.

This module owns two pure functions:

- `classify(address, config)` — internal (consortium domains), partner (approved
  partners, with the data categories each may receive), fax (email-to-fax
  gateways; the number normalised to E.164 and checked against the approved
  list), or external (everything else). `classify_fax_number` is the fax half
  alone, for a fax server's own jobs (`proxy.fax.hook`).
- `decide(recipient, assessment, policy)` — deliver, redact or hold, with the
  rule ids that explain it.

It does no I/O and needs no server, detector or disk: tests call it directly.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

import phonenumbers

from detectors.evidence import Assessment
from detectors.findings import Category
from proxy.config import Config, PolicyConfig


class RecipientClass(enum.StrEnum):
    INTERNAL = "internal"
    PARTNER = "partner"
    FAX = "fax"
    EXTERNAL = "external"


class Action(enum.StrEnum):
    DELIVER = "deliver"
    REDACT = "redact"
    HOLD = "hold"


@dataclass(frozen=True, slots=True)
class Recipient:
    address: str
    cls: RecipientClass
    allowed: frozenset[Category] = frozenset()  # partner / approved fax: what it may receive
    partner: str | None = None  # partner or approved-fax name
    fax_number: str | None = None  # E.164, for the fax class
    approved: bool = False  # fax number on the approved list


@dataclass(frozen=True, slots=True)
class Decision:
    recipient: Recipient
    action: Action
    rules: tuple[str, ...]  # why: disclosure rules and the policy rule that chose the action


_FAX_LOCAL = re.compile(r"^\+?[0-9]{7,15}$")
# The rule id recorded when a message goes to the patron it is about (policy.patron_as_recipient).
PATRON_IS_RECIPIENT = "patron-is-recipient"
# The same, for a notice from the library's ILS notice system (library.notice_senders / notice_hosts).
TRUSTED_NOTICE = "trusted-notice-to-patron"


def _domain_in(domain: str, domains: tuple[str, ...]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in domains)


def routed(address: str) -> bool:
    """Whether the local part names another destination: `user%domain@`, `"user@domain"@`, `domain!user@`.

    Mail systems after the relay may deliver such an address elsewhere (Postfix
    rewrites `user%domain@local` to `user@domain` by default, `allow_percent_hack`),
    so the domain after the last `@` does not say where it ends up.
    """
    local = address.strip().strip("<>").rpartition("@")[0]
    return any(c in local for c in "%!@")


def classify(address: str, config: Config) -> Recipient:
    """Put one recipient address in its class (a routed address is outside: it may leave the library)."""
    address = address.strip().strip("<>")
    local, _, domain = address.rpartition("@")
    domain = domain.lower().rstrip(".")
    if routed(address):
        return Recipient(address, RecipientClass.EXTERNAL)
    if _domain_in(domain, config.library_domains):
        return Recipient(address, RecipientClass.INTERNAL)
    fax = config.fax
    is_gateway = _domain_in(domain, fax.gateway_domains) or (fax.generic_rule and "fax" in domain)
    if is_gateway and _FAX_LOCAL.match(local):
        return classify_fax_number(local, config, address)
    for partner in config.partners:
        if _domain_in(domain, partner.domains):
            return Recipient(address, RecipientClass.PARTNER, partner.categories, partner.name)
    return Recipient(address, RecipientClass.EXTERNAL)


def classify_fax_number(digits: str, config: Config, address: str | None = None) -> Recipient:
    """A fax destination (an email-to-fax local part, or a fax server's dial string): always the fax class.

    The number is normalised to E.164 in `recipients.fax.default_region` and looked up in
    the approved list, whose entry says which data categories that number may receive.
    """
    number = _e164(digits, config.fax.default_region)
    for approved in config.fax.approved:
        if number is not None and number == approved.number:
            return Recipient(address or number, RecipientClass.FAX, approved.categories, approved.name, number, True)
    return Recipient(address or number or digits, RecipientClass.FAX, frozenset(), None, number, False)


def _e164(digits: str, region: str) -> str | None:
    candidates = [digits]
    if not digits.startswith("+") and len(digits) > 10:
        candidates.insert(0, "+" + digits)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def decide(recipient: Recipient, assessment: Assessment, policy: PolicyConfig, trusted_notice: bool = False) -> Decision:
    """Deliver, redact or hold the message for one recipient, and say why.

    `trusted_notice`: the library's ILS notice system sent it; a notice to the patron it is
    about goes to her even with `policy.patron_as_recipient` off.
    """
    cls = recipient.cls
    actions = policy.actions
    rules: list[str] = list(assessment.rules)
    action = Action.DELIVER

    if (
        assessment.disclosures
        and cls is RecipientClass.EXTERNAL
        and (policy.patron_as_recipient or trusted_notice)
        and recipient.address.lower() in assessment.about_recipients
    ):
        # Every disclosure is about this recipient: the library writing to the patron herself.
        rules.append(TRUSTED_NOTICE if trusted_notice else PATRON_IS_RECIPIENT)
    elif assessment.disclosures:
        if cls is RecipientClass.INTERNAL:
            key = "internal"
        elif cls is RecipientClass.EXTERNAL:
            key = "external"
        elif cls is RecipientClass.FAX and not recipient.approved:
            key = "fax_unapproved"
        else:
            excess = assessment.mentioned - recipient.allowed
            prefix = "partner" if cls is RecipientClass.PARTNER else "fax"
            if excess:
                key = f"{prefix}_excess"
                rules.append(f"{prefix}-not-approved-for:" + ",".join(sorted(c.value for c in excess)))
            else:
                key = "partner" if cls is RecipientClass.PARTNER else "fax_approved"
        action = Action(actions[key])
        rules.append(f"policy:{key}:{action.value}")

    if assessment.uninspectable:
        key = "fax" if cls is RecipientClass.FAX else cls.value
        unreadable = Action(policy.uninspectable[key])
        if unreadable is not Action.DELIVER:
            rules.append("uninspectable")
            rules.append(f"policy:uninspectable-{key}:{unreadable.value}")
        action = max(action, unreadable, key=_severity)

    return Decision(recipient, action, tuple(dict.fromkeys(rules)))


def _severity(action: Action) -> int:
    return {Action.DELIVER: 0, Action.REDACT: 1, Action.HOLD: 2}[action]
