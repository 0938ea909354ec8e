"""Email addresses in free text.

This module owns finding addresses, skipping the library's own domains (and
their subdomains), and marking role and list addresses (``noreply@``,
``info@``, ``*-request@`` …) with a low score so policy can ignore them.

It must not guess whose an address is: a patron can use any mailbox at any
provider, so every personal-looking address is reported at the same score.
Header fields (From, To) are the extractor's and the policy's business; this
detector only sees text parts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from detectors.findings import Category, Finding, Kind, TextPart, mask

__all__ = ["EmailDetector", "EmailSettings", "is_role_address"]


_CATEGORIES = frozenset({Category.EMAIL})


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """The library's own mail domains: addresses there (or in a subdomain) are not reported."""

    own_domains: tuple[str, ...] = ()
    # Staff addresses outside those domains (the staff directory): not patron data either.
    own_addresses: frozenset[str] = frozenset()


# The domain after "@": 1-10 labels of letters, digits and inner hyphens, then a
# 2-24 letter top-level domain. Matched anchored at "@"+1, so the scan never
# re-starts inside a domain.
_DOMAIN = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,10}[A-Za-z]{2,24}(?![A-Za-z0-9-])(?!\.[A-Za-z0-9])"
)
# Characters walked back over from "@". RFC 5322 allows more ("!#$&'*/=?^`{|}~"),
# but in running text and HTML those are almost always the punctuation around an
# address ("href='x@…", "=x@…"), not part of it. Quoted local parts are not handled.
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_LOCAL_MAX = 64

# Mailboxes that belong to a role or a list, not a person.
_ROLE_LOCALS = frozenset(
    {
        "abuse", "admin", "administrator", "bounce", "bounces", "contact", "donotreply", "do-not-reply",
        "help", "helpdesk", "hostmaster", "info", "information", "listserv", "mailer-daemon", "majordomo",
        "news", "newsletter", "no-reply", "noreply", "notifications", "notify", "office", "postmaster",
        "root", "sales", "security", "support", "webmaster", "www",
    }
)  # fmt: skip
_ROLE_SUFFIXES = (
    "-request",
    "-admin",
    "-owner",
    "-bounces",
    "-subscribe",
    "-unsubscribe",
    "-help",
    "-announce",
)
_ROLE_PREFIXES = ("owner-", "bounce-", "bounces-", "noreply-", "no-reply-")


# Mail providers for private people: an address there belongs to a person, not to an office.
_FREE_MAIL = frozenset(
    """
    gmail googlemail yahoo ymail rocketmail hotmail outlook live msn aol icloud me mac comcast proton protonmail
    pm gmx mail zoho yandex att sbcglobal bellsouth verizon charter spectrum centurylink frontier earthlink cox
    """.split()
)


def is_free_mail(domain: str) -> bool:
    """True for addresses at a mail provider for private people (gmail.com, yahoo.co.uk, comcast.net …)."""
    labels = domain.lower().split(".")
    return len(labels) >= 2 and labels[-2 if len(labels) == 2 or labels[-2] not in ("co", "com") else -3] in _FREE_MAIL


def is_role_address(local: str) -> bool:
    """True when a local part names a role, a robot or a mailing-list address rather than a person."""
    value = local.lower()
    base = value.split("+", 1)[0]
    return base in _ROLE_LOCALS or base.endswith(_ROLE_SUFFIXES) or base.startswith(_ROLE_PREFIXES)


class EmailDetector:
    """Finds email addresses outside the library's own domains."""

    name = "emails"

    def __init__(self, settings: EmailSettings | None = None) -> None:
        self.settings = settings or EmailSettings()
        self._own = tuple(d.strip().lower().strip(".") for d in self.settings.own_domains if d.strip())
        self._own_suffixes = tuple("." + d for d in self._own)

    def detect(self, part: TextPart) -> Iterator[Finding]:
        """Yield an EMAIL finding for every address in `part` outside the library's own domains."""
        text = part.text
        at = text.find("@")
        while at != -1:
            found = self._address_at(text, at)
            if found is None:
                at = text.find("@", at + 1)
                continue
            start, end = found
            local, domain = text[start:at], text[at + 1 : end].lower()
            if not self._is_own(domain) and text[start:end].lower() not in self.settings.own_addresses:
                role = is_role_address(local)
                reason = "email role-address" if role else "email free-mail" if is_free_mail(domain) else "email"
                yield Finding(
                    kind=Kind.EMAIL,
                    part=part.path,
                    start=start,
                    end=end,
                    score=0.3 if role else 0.7,
                    reason=reason,
                    masked=mask(text[start:end]),
                    detector=self.name,
                    categories=_CATEGORIES,
                )
            at = text.find("@", end)

    def _address_at(self, text: str, at: int) -> tuple[int, int] | None:
        """The span of the address whose "@" is at `at`, or None."""
        m = _DOMAIN.match(text, at + 1)
        if m is None:
            return None
        start = at
        floor = max(0, at - _LOCAL_MAX)
        while start > floor and text[start - 1] in _LOCAL_CHARS:
            start -= 1
        # Dots may not start a local part; "mailto:" and "<" already stopped the walk.
        while start < at and text[start] == ".":
            start += 1
        if start == at or (start == floor and floor > 0 and text[floor - 1] in _LOCAL_CHARS):
            return None  # no local part, or one longer than 64 characters: not an address
        if text[at - 1] == ".":
            return None
        return start, m.end()

    def _is_own(self, domain: str) -> bool:
        return domain in self._own or domain.endswith(self._own_suffixes)
