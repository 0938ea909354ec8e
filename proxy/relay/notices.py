"""Sender and supervisor notices: plain, kind mail about held messages, sent through the spool.

This module owns
- `NoticeTemplates`: the Jinja2 templates (`proxy/templates/*.txt`, each one
  `Subject: …`, an empty line, the body), overridable one by one from the
  directory in `notices.templates_dir`. Autoescape is off (plain text) and
  undefined variables are errors; every template is rendered once with sample
  values at load, so a bad directory or template is a `ConfigError` at start,
  not a surprise on the first hold.
- `Notices`: turns a hold (or a supervisor's decision) into a notice message and
  spools it — a new spool entry like any mail, so it is durable and retried —
  from the postmaster address with the null envelope sender (a notice never
  bounces, and is never the subject of a notice itself).
- `SpoolNotifier`: the quarantine's `Notifier` (released, rejected, expired,
  escalated) on top of `Notices`.
- Supervisors: each hold also gets a notice of its own to the supervisors of
  the sender's member library (`notices.library_supervisors`, else
  `notices.supervisors`) when `notices.supervisor_mode` is `immediate` or
  `both`; with `digest` or `both`, `patronguard quarantine digest` sends each
  library one summary (`Notices.digest`; what it reports is
  `proxy.quarantine.digest`). Both say how to review: the CLI command and the
  review pages' address when they are configured.

What a notice may say: the reference id, the held recipients (internal ones by
address; outside ones by domain only, with a count — a patron's address is
personal data), the reasons in plain words (`RULE_TEXT`, the disclosure's
`text`), what happens next and whom to ask. Supervisors' notices add the
sender's (staff) address and the held recipients' classes — never their
addresses. No notice carries a value the
scanner found, the subject line or any body text; the only input it reads is
the spool state and the quarantine's metadata, which hold none of those.
"""

from __future__ import annotations

import email.utils
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import jinja2

from detectors.evidence import RULE_TEXT
from proxy.config import Config
from proxy.errors import ConfigError
from proxy.quarantine.digest import Digest, DigestEntry
from proxy.quarantine.retention import RetentionPolicy
from proxy.quarantine.store import Excerpt, HeldItem, ItemState
from proxy.relay.spool import Envelope, RecipientState, RecipientStatus, Spool

TEMPLATE_NAMES = ("held.txt", "released.txt", "rejected.txt", "expired.txt", "escalated.txt", "redacted.txt",
                  "supervisor.txt", "digest.txt")
SUPERVISOR_MODES = ("immediate", "digest", "both")
DIGEST_MAX_LISTED = 100  # items listed one by one per section of a digest
NOTICE_HEADER = "X-PatronGuard-Notice"  # marks a notice: kind of notice and reference, nothing else

UNREADABLE_ATTACHMENT = "an attachment PatronGuard could not read"
UNREADABLE_MESSAGE = "a message layout PatronGuard could not read"
SCAN_FAILED = "something PatronGuard could not finish checking"
GENERIC_REASON = "information about a library patron"

_OUTCOME_TEMPLATE = {
    ItemState.RELEASED: "released.txt",
    ItemState.RELEASED_REDACTED: "redacted.txt",
    ItemState.REJECTED: "rejected.txt",
    ItemState.EXPIRED: "expired.txt",
}

_SAMPLE: dict[str, Any] = {
    "reference": "Q0000SAMPLE",
    "library": "the library",
    "sent": "1 January 2025 at 09:00 UTC",
    "held": ["circ@library.example", "a recipient at example.org"],
    "held_count": 2,
    "delivered_count": 1,
    "reasons": [RULE_TEXT["patron-card"]],
    "contact": "the help desk",
    "note": "sample note",
    "sender": "staff@library.example",
    "recipient_classes": "2 outside the library",
    "member_library": "branch.library.example",
    "review_url": "https://review.library.example/",
    "item_url": "https://review.library.example/items/Q0000SAMPLE",
    "expires": "15 January 2025 at 09:00 UTC, when it expires unsent",
    "since": "since the last digest (1 January 2025 at 07:30 UTC)",
    "waiting": 2,
    "oldest": "1 January 2025 at 09:00 UTC",
    "new_count": 1,
    "items": [{"reference": "Q0000SAMPLE", "sent": "1 January 2025 at 09:00 UTC", "sender": "staff@library.example",
               "recipient_classes": "1 outside the library", "reasons": "a library card number",
               "deadline": "15 January 2025 at 09:00 UTC, when it expires unsent",
               "item_url": "https://review.library.example/items/Q0000SAMPLE"}],
}
_SAMPLE.update(expiring=_SAMPLE["items"], more=0, more_expiring=0)


# ----------------------------------------------------------------- pure parts


#: Data categories (config vocabulary) as a sentence names them.
CATEGORY_WORDS = {
    "name": "patrons' names",
    "address": "patrons' home addresses",
    "phone": "patrons' phone numbers",
    "email": "patrons' email addresses",
    "card_number": "library card numbers",
    "record_number": "patron record numbers",
    "drivers_license": "driver's licence or ID numbers",
    "birth_date": "birth dates",
    "money_owed": "what someone owes the library",
    "titles": "the titles someone borrowed",
    "holds": "what someone has on hold",
    "notes": "notes from a patron's record",
    "guardian": "a parent's or guardian's details",
}
_EXCESS_PREFIX = {"partner-not-approved-for:": "the partner it is going to",
                  "fax-not-approved-for:": "the fax number it is going to"}


def _and(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def reasons_for(rules: Iterable[str], excerpts: Iterable[Excerpt] = (),
                partners: Sequence[str] = ()) -> list[str]:
    """Plain words for why a message was held, from its rule ids (never from its content).

    Disclosure rules read as their `RULE_TEXT`; `uninspectable` as an unreadable
    attachment (or message, when the whole message was the part that could not be
    read); `partner-not-approved-for:titles,…` (and the fax one) as the data the
    partner (named from `partners` when known) may not receive — first, and alone
    when only such recipients were held, since the rest is data the partner may
    have; the other policy bookkeeping rules (`policy:…`) add nothing.
    """
    rules = list(rules)
    out: dict[str, None] = {}
    for rule in rules:
        for prefix, whom in _EXCESS_PREFIX.items():
            if rule.startswith(prefix):
                if prefix.startswith("partner") and partners:
                    whom = _and(list(dict.fromkeys(partners)))
                kinds = [CATEGORY_WORDS.get(c, c.replace("_", " ")) for c in rule[len(prefix):].split(",") if c]
                if kinds:
                    out.setdefault(f"{_and(kinds)}, which {whom} is not approved to receive", None)
    held_as = [r.split(":")[1] for r in rules if r.startswith("policy:") and r.count(":") == 2
               and not r.endswith(":deliver")]
    if out and held_as and all(k in ("partner_excess", "fax_excess") for k in held_as):
        return list(out)
    for rule in rules:
        if rule in RULE_TEXT:
            out.setdefault(RULE_TEXT[rule], None)
        elif rule == "uninspectable":
            parts = {e.part for e in excerpts if e.kind == "uninspectable"}
            whole = parts and parts <= {"message", ""}
            out.setdefault(UNREADABLE_MESSAGE if whole else UNREADABLE_ATTACHMENT, None)
        elif rule == "scan-failed":
            out.setdefault(SCAN_FAILED, None)
    return list(out) or [GENERIC_REASON]


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower() or "an unknown domain"


def sender_library(mail_from: str) -> str:
    """The member library of a sender, as the quarantine records it (`items.library`)."""
    return mail_from.rpartition("@")[2].lower() or "unknown"


def member_library(domain: str, libraries: Iterable[str]) -> str:
    """The listed member library a domain belongs to (itself or its closest listed parent), else the domain."""
    domain = domain.lower()
    best = ""
    for library in libraries:
        if (domain == library or domain.endswith("." + library)) and len(library) > len(best):
            best = library
    return best or domain


def describe_recipients(held: Sequence[tuple[str, str]]) -> list[str]:
    """(address, class) pairs → lines: internal addresses as they are, everyone else by domain and count."""
    lines = [address for address, cls in held if cls == "internal"]
    outside = Counter(_domain(address) for address, cls in held if cls != "internal")
    for domain, count in sorted(outside.items()):
        lines.append(f"a recipient at {domain}" if count == 1 else f"{count} recipients at {domain}")
    return lines


def describe_domains(domains: Sequence[str]) -> list[str]:
    """Held recipients' domains → lines by domain and count ("a recipient at example.net")."""
    counts = Counter(d or "an unknown domain" for d in domains)
    return [f"a recipient at {d}" if n == 1 else f"{n} recipients at {d}" for d, n in sorted(counts.items())]


def _classes(classes: Sequence[str]) -> str:
    words = {
        "internal": "inside the library",
        "partner": "at a partner",
        "fax": "by fax",
        "external": "outside the library",
    }
    counts = Counter(classes)
    return (
        ", ".join(f"{n} {words.get(c, 'of unknown kind')}" for c, n in sorted(counts.items()))
        or "none listed"
    )


def _deadline_words(moment: datetime, *, escalates: bool) -> str:
    then = "when it goes to the library's admin" if escalates else "when it expires unsent"
    return f"{_when(moment)}, {then}"


def _when(timestamp: float | datetime | None) -> str:
    if timestamp is None or timestamp == 0:
        return "an earlier date"
    moment = timestamp if isinstance(timestamp, datetime) else datetime.fromtimestamp(timestamp, UTC)
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%B %Y} at {moment:%H:%M} UTC"


# ----------------------------------------------------------------- templates


class NoticeTemplates:
    """The notice templates: built-in ones, each overridable from `directory`."""

    def __init__(self, directory: str | Path | None = None, *, source: str = "<config>",
                 where: str | None = None) -> None:
        """`where` is "file:line: notices.templates_dir" for errors (default: the source without a line)."""
        where = where or f"{source}: notices.templates_dir"
        loaders: list[jinja2.BaseLoader] = []
        if directory:
            path = Path(directory)
            if not path.is_dir():
                raise ConfigError(
                    f"{where}: expected a directory holding notice templates "
                    f"({', '.join(TEMPLATE_NAMES)}), got {str(directory)!r} (no such directory)"
                )
            loaders.append(jinja2.FileSystemLoader(str(path)))
        loaders.append(jinja2.FileSystemLoader(str(Path(__file__).parent.parent / "templates")))
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=False,  # plain text mail: nothing here is HTML
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        for name in TEMPLATE_NAMES:
            try:
                self.render(name, **_SAMPLE)
            except jinja2.TemplateSyntaxError as exc:
                raise ConfigError(
                    f"{where}: {name} line {exc.lineno}: {exc.message}"
                ) from None
            except (jinja2.UndefinedError, ValueError) as exc:
                raise ConfigError(f"{where}: {name}: {exc}") from None

    def render(self, name: str, **context: Any) -> tuple[str, str]:
        """Render one template → (subject, body)."""
        text = self.env.get_template(name).render(**context)
        head, sep, body = text.partition("\n\n")
        if not sep or not head.startswith("Subject:") or "\n" in head:
            raise ValueError("a notice template starts with one 'Subject: …' line and an empty line")
        return head[len("Subject:") :].strip(), body.rstrip("\n") + "\n"


# ----------------------------------------------------------------- notices


@dataclass(frozen=True, slots=True)
class NoticeSettings:
    """Who notices come from, whom they name as a contact, and who gets copies."""

    postmaster: str
    hostname: str
    library: str = "the library"
    contact: str = "your supervisor or the library's IT help desk"
    supervisors: tuple[str, ...] = ()  # libraries not in library_supervisors
    admins: tuple[str, ...] = ()  # escalations go here (default: the postmaster)
    library_supervisors: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (member library domain, addresses)
    supervisor_mode: str = "immediate"  # immediate | digest | both
    review_url: str = ""  # the review pages' address ("" when there are none)
    retention: RetentionPolicy = RetentionPolicy()  # for "decide by" dates
    partners: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name, domains): named in partner-excess reasons

    def partner_names(self, domains: Iterable[str]) -> list[str]:
        """The names of the partners these recipient domains belong to (subdomains included)."""
        names: dict[str, None] = {}
        for domain in domains:
            for name, partner_domains in self.partners:
                if any(domain == d or domain.endswith("." + d) for d in partner_domains):
                    names.setdefault(name, None)
        return list(names)

    def supervisors_for(self, domain: str) -> tuple[str, tuple[str, ...]]:
        """(member library, its supervisors) for a sender's domain; unlisted libraries get `supervisors`."""
        listed = dict(self.library_supervisors)
        library = member_library(domain, listed)
        return library, listed.get(library, self.supervisors)


@dataclass
class Notices:
    """Renders notices and spools them (blocking: call from a thread)."""

    spool: Spool
    settings: NoticeSettings
    templates: NoticeTemplates = field(default_factory=NoticeTemplates)
    clock: Callable[[], float] = field(default=lambda: datetime.now(UTC).timestamp())

    # --- the pipeline's hook

    def held(
        self,
        entry_id: str,
        envelope: Envelope,
        recipients: Mapping[str, RecipientState],
        held: Sequence[str],
        reference: str,
        rules: Sequence[str],
        excerpts: Sequence[Excerpt] = (),
    ) -> str:
        """Spool the notice for a committed hold; return its spool id ("" when none is due).

        Nobody is told about a notice or a bounce (null sender, or an entry that is one).
        The id is derived from the entry, so running this twice after a crash spools one notice.
        """
        if not envelope.mail_from or envelope.dsn_of:
            return ""
        held_set = set(held)
        others = [
            a for a, r in recipients.items() if a not in held_set and r.status in (RecipientStatus.PENDING, RecipientStatus.DELIVERED)
        ]
        context = self._context(reference, envelope.received_at, rules, excerpts, self._partners(held))
        context.update(
            held=describe_recipients(
                [(a, recipients[a].cls if a in recipients else "unknown") for a in held]
            ),
            held_count=len(held),
            delivered_count=len(others),
        )
        return self._spool("held.txt", context, envelope.mail_from, (), f"{entry_id}-N", about=entry_id)

    def supervised(
        self,
        entry_id: str,
        envelope: Envelope,
        recipients: Mapping[str, RecipientState],
        held: Sequence[str],
        reference: str,
        rules: Sequence[str],
        excerpts: Sequence[Excerpt] = (),
    ) -> str:
        """Spool the supervisors' notice of a committed hold; return its spool id ("" when none is due).

        Due when `supervisor_mode` is immediate or both and the sender's member
        library has supervisors (else the fallback list). Also for the null
        sender (nobody else hears of it), never for PatronGuard's own notices
        and bounces. One id per entry, like `held`.
        """
        if self.settings.supervisor_mode == "digest" or envelope.dsn_of:
            return ""
        library, supervisors = self.settings.supervisors_for(sender_library(envelope.mail_from))
        if not supervisors:
            return ""
        context = self._context(reference, envelope.received_at, rules, excerpts, self._partners(held))
        context.update(
            held=[],
            held_count=len(held),
            delivered_count=0,
            sender=envelope.mail_from or "the null sender (<>)",
            recipient_classes=_classes([recipients[a].cls if a in recipients else "unknown" for a in held]),
            **self._review(reference, library),
        )
        # A new hold is not escalated yet: its deadline is the end of the retention time.
        retention = self.settings.retention
        received = datetime.fromtimestamp(envelope.received_at or self.clock(), UTC)
        context["expires"] = _deadline_words(received + timedelta(days=retention.retention_days),
                                             escalates=retention.expiry_action == "escalate")
        return self._spool("supervisor.txt", context, supervisors[0], supervisors[1:], f"{entry_id}-S", about=entry_id)

    def digest(self, digest: Digest) -> str:
        """Spool one member library's digest to its supervisors; return its spool id."""
        if not digest.supervisors:
            return ""
        context = self._context(digest.id, digest.created_at, (), ())
        review = self._review("", digest.library)
        if digest.window is not None:
            since = f"in the last {digest.window.total_seconds() / 3600:g} hours"
        elif digest.last_sent is not None:
            since = f"since the last digest ({_when(digest.last_sent)})"
        else:
            since = "since PatronGuard started sending digests"
        context.update(
            held=[],
            held_count=len(digest.new),
            delivered_count=0,
            member_library=digest.library,
            review_url=review["review_url"],
            item_url="",
            since=since,
            waiting=digest.waiting,
            oldest=_when(digest.oldest) if digest.oldest else "",
            new_count=len(digest.new),
            # A long backlog is summarised: the list command shows the rest (all are recorded as reported).
            items=[self._digest_line(e) for e in digest.new[:DIGEST_MAX_LISTED]],
            expiring=[self._digest_line(e) for e in digest.expiring[:DIGEST_MAX_LISTED]],
            more=max(0, len(digest.new) - DIGEST_MAX_LISTED),
            more_expiring=max(0, len(digest.expiring) - DIGEST_MAX_LISTED),
        )
        return self._spool("digest.txt", context, digest.supervisors[0], digest.supervisors[1:], f"D{digest.id}",
                           about=digest.id)

    def redacted(
        self,
        entry_id: str,
        envelope: Envelope,
        recipients: Mapping[str, RecipientState],
        redacted: Sequence[str],
        rules: Sequence[str],
        excerpts: Sequence[Excerpt] = (),
    ) -> str:
        """Spool the notice that some recipients got the redacted copy; return its spool id ("" when none is due).

        Same rules as `held`: never about a notice or a bounce, one id per entry.
        """
        if not envelope.mail_from or envelope.dsn_of:
            return ""
        chosen = set(redacted)
        others = [a for a, r in recipients.items() if a not in chosen and r.action == "deliver"]
        context = self._context(entry_id, envelope.received_at, rules, excerpts, self._partners(redacted))
        context.update(
            held=describe_recipients([(a, recipients[a].cls if a in recipients else "unknown") for a in redacted]),
            held_count=len(redacted),
            delivered_count=len(others),
        )
        return self._spool("redacted.txt", context, envelope.mail_from, (), f"{entry_id}-R", about=entry_id)

    # --- the quarantine's outcomes

    def outcome(self, item: HeldItem, outcome: ItemState, note: str) -> str:
        """Spool the sender's notice of a supervisor's decision (or an expiry); return its spool id."""
        name = _OUTCOME_TEMPLATE.get(outcome)
        if name is None or not item.mail_from:
            return ""
        context = self._item_context(item)
        decided = outcome in (ItemState.RELEASED, ItemState.RELEASED_REDACTED, ItemState.REJECTED)
        context["note"] = note.strip() if decided else ""
        return self._spool(
            name, context, item.mail_from, (), f"N{item.id}-{outcome.value}", about=item.queue_id or item.id
        )

    def escalated(self, item: HeldItem, note: str) -> str:
        """Spool the admins' notice that an item is still undecided; return its spool id."""
        admins = self.settings.admins or (self.settings.postmaster,)
        context = self._item_context(item)
        context.update(
            note=note.strip() or "no decision yet",
            sender=item.mail_from or "the null sender",
            recipient_classes=_classes(item.recipient_classes),
        )
        _library, supervisors = self.settings.supervisors_for(item.library)
        return self._spool(
            "escalated.txt",
            context,
            admins[0],
            (*admins[1:], *supervisors),
            f"N{item.id}-escalated",
            about=item.queue_id or item.id,
        )

    # --- helpers

    def _context(
        self,
        reference: str,
        received_at: float | datetime | None,
        rules: Sequence[str],
        excerpts: Sequence[Excerpt],
        partners: Sequence[str] = (),
    ) -> dict[str, Any]:
        return {
            "reference": reference,
            "library": self.settings.library,
            "sent": _when(received_at),
            "reasons": reasons_for(rules, excerpts, partners),
            "contact": self.settings.contact,
            "note": "",
            "sender": "",
            "recipient_classes": "",
        }

    def _partners(self, addresses: Sequence[str]) -> list[str]:
        return self.settings.partner_names(_domain(a) for a in addresses)

    def _review(self, reference: str, library: str) -> dict[str, str]:
        """How supervisors review: the member library, the review pages' address and the item's page."""
        url = self.settings.review_url
        item_url = f"{url.rstrip('/')}/items/{reference}" if url and reference else ""
        return {"member_library": library, "review_url": url, "item_url": item_url}

    def _digest_line(self, entry: DigestEntry) -> dict[str, str]:
        item = entry.item
        return {
            "reference": item.id,
            "sent": _when(item.received_at),
            "sender": item.mail_from or "the null sender (<>)",
            "recipient_classes": _classes(item.recipient_classes),
            "reasons": "; ".join(reasons_for(item.rules, item.excerpts, self.settings.partner_names(item.recipient_domains))),
            "deadline": _deadline_words(entry.deadline, escalates=entry.escalates),
            "item_url": self._review(item.id, item.library)["item_url"],
        }

    def _item_context(self, item: HeldItem) -> dict[str, Any]:
        context = self._context(item.id, item.received_at, item.rules, item.excerpts,
                                self.settings.partner_names(item.recipient_domains))
        # The held recipients by domain and count (the item keeps no address in clear).
        context.update(held=describe_domains(item.recipient_domains), held_count=len(item.recipient_classes),
                       delivered_count=0)
        return context

    def build(self, name: str, context: Mapping[str, Any], to: str, cc: Sequence[str] = ()) -> bytes:
        """The notice as a message: From the postmaster, To the sender, plain UTF-8 text."""
        subject, body = self.templates.render(name, **context)
        msg = EmailMessage(policy=SMTP)
        msg["From"] = email.utils.formataddr(
            (f"PatronGuard at {self.settings.library}", self.settings.postmaster)
        )
        msg["To"] = to
        if cc:
            msg["Cc"] = ", ".join(cc)
        msg["Subject"] = subject
        msg["Date"] = email.utils.formatdate(self.clock(), localtime=False)
        msg["Message-ID"] = f"<notice.{secrets.token_hex(8)}@{self.settings.hostname}>"
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders stay quiet
        msg[NOTICE_HEADER] = f"{name.removesuffix('.txt')}; ref={context['reference']}"
        msg.set_content(body, charset="utf-8")
        return msg.as_bytes()

    def _spool(
        self, name: str, context: Mapping[str, Any], to: str, cc: Sequence[str], notice_id: str, about: str
    ) -> str:
        copies = tuple(a for a in dict.fromkeys(cc) if a.lower() != to.lower())
        raw = self.build(name, context, to, copies)
        envelope = Envelope(
            mail_from="",
            rcpt_tos=(to, *copies),
            received_at=self.clock(),
            helo=self.settings.hostname,
            dsn_of=about,
        )
        return self.spool.put(envelope, raw, notice_id)


def notices_from_config(config: Config, spool: Spool, *, hostname: str, postmaster: str) -> Notices | None:
    """`Notices` for the `notices:` config section (None when switched off); `ConfigError` on bad templates."""
    n = config.notices
    if not n.enabled:
        return None
    directory = n.templates_dir
    if directory and not Path(directory).is_absolute() and not config.source.startswith("<"):
        directory = str(
            Path(config.source).parent / directory
        )  # relative to the config file, like an include
    at = n.templates_dir_at if ":" in n.templates_dir_at else f"{config.source}: {n.templates_dir_at}"
    templates = NoticeTemplates(directory or None, source=config.source, where=at)
    q = config.quarantine
    settings = NoticeSettings(
        postmaster=postmaster,
        hostname=hostname,
        library=config.library_name or "the library",
        contact=n.contact,
        supervisors=tuple(n.supervisors),
        library_supervisors=tuple((lib, tuple(a)) for lib, a in n.library_supervisors.items()),
        supervisor_mode=n.supervisor_mode,
        review_url=review_url(config),
        retention=RetentionPolicy(q.retention_days, q.expiry_action, q.escalation_days, q.audit_days),
        partners=tuple((p.name, tuple(p.domains)) for p in config.partners),
    )
    return Notices(spool, settings, templates)


def review_url(config: Config) -> str:
    """The review pages' address for notices: `review_ui.url`, else http://listen/ when they run, else ""."""
    ui = getattr(config, "review_ui", None)  # read defensively: notices work without the web UI
    if ui is None:
        return ""
    url = str(getattr(ui, "url", "") or "")
    if url or not getattr(ui, "enabled", False):
        return url
    host = str(getattr(ui, "listen_host", "127.0.0.1"))
    return f"http://{f'[{host}]' if ':' in host else host}:{getattr(ui, 'listen_port', 8025)}/"


# ----------------------------------------------------------------- the quarantine's Notifier


class SpoolNotifier:
    """The quarantine `Notifier`: outcome notices spooled like any mail.

    `submit` (optional) hands the new spool id to a running relay's pipeline in
    this process; a relay in another process picks the entry up when it starts.
    """

    def __init__(self, notices: Notices, submit: Callable[[str], None] | None = None) -> None:
        self.notices = notices
        self.submit = submit

    def notify_sender(self, item: HeldItem, outcome: ItemState, note: str) -> None:
        self._submit(self.notices.outcome(item, outcome, note))

    def notify_admin(self, item: HeldItem, note: str) -> None:
        self._submit(self.notices.escalated(item, note))

    def _submit(self, notice_id: str) -> None:
        if notice_id and self.submit is not None:
            self.submit(notice_id)


# ----------------------------------------------------------------- who hears of held mail


def unsupervised(config: Config) -> list[str]:
    """Why held mail from some member libraries would reach no supervisor (one sentence each; [] when all do).

    Held mail nobody hears of waits unseen until it expires, so `serve` says so
    at start. Only configuration is read: library domains and setting names.
    """
    n = config.notices
    if not n.enabled:
        return ["notices.enabled is false: no sender and no supervisor is told of held mail"]
    domains = tuple(dict.fromkeys(config.server.sender_domains or config.library_domains))
    listed = {lib: tuple(a) for lib, a in n.library_supervisors.items()}
    missing = [d for d in domains if not listed.get(member_library(d, listed), tuple(n.supervisors))]
    if not missing:
        return []
    return [f"held mail from {', '.join(missing)} reaches no supervisor: list its supervisors under "
            "notices.library_supervisors, or set notices.supervisors"]
