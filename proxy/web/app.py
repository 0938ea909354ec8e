"""The supervisors' review UI: aiohttp routes over the quarantine's one service layer.

This module owns HTTP: sessions, logins, CSRF tokens, security headers and
turning `ReviewService` results and `QuarantineError`s into pages. Decisions
are `ReviewService`'s (the same calls the CLI makes); views only gather what a
page shows. Every store call runs on one database thread, off the event loop.

Security, in short: server-side sessions kept in the quarantine database (by
the SHA-256 of a random token in an HttpOnly, SameSite=Strict cookie, Secure
behind https; every node shares them, a restart keeps them), a CSRF token on every form, a
limit on failed logins per client address and per account (a good sign-in
clears its own account's count only, so one valid login does not buy unlimited
guesses at another), at most `MAX_ANONYMOUS_SESSIONS` signed-out sessions (the
login form's; the oldest go first), a strict Content-Security-Policy
(no scripts at all), `Cache-Control: no-store` everywhere, and reviewers scoped
to their member libraries (an item of another library is "not found"). Logs
carry item ids and a short hash of the reviewer's login name only (the audit
trail, not the log, records who decided).
"""

from __future__ import annotations

import asyncio
import csv
import email
import email.policy
import hashlib
import hmac
import io
import secrets
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from aiohttp import web
from markupsafe import Markup

from detectors.extract import decode_header_value
from detectors.html import html_to_text
from proxy.auth import hash_password, name_digest, parse_hash, verify_password
from proxy.config import Config
from proxy.quarantine import HeldItem, ItemState, QuarantineStore, ReviewService, ReviewSession
from proxy.quarantine.audit import Actor, AuditAction
from proxy.quarantine.store import OPEN_STATES, InvalidTransition, ItemNotFound, QuarantineError
from proxy.relay.notices import reasons_for
from proxy.web import dashboard
from proxy.web.accounts import Reviewer

T = TypeVar("T")
HERE = Path(__file__).parent
COOKIE = "patronguard_session"
ABSOLUTE_SESSION = timedelta(hours=12)
FAILURE_WINDOW = 300.0
TOUCH_SECONDS = 30.0  # a session's last-seen time is written at most this often (idle timeouts are minutes)
MAX_ANONYMOUS_SESSIONS = 1000  # sessions of the login form, before sign-in: a flood of GET /login evicts the oldest
MAX_TRACKED_NAMES = 10_000  # login names with recent failures (any name typed, so a flood cannot grow it forever)
MAX_REVEAL_CHARS = 200_000
LIST_LIMIT = 1000  # items per state (and library) on the list page
DASHBOARD_LIMIT = 20_000  # items (newest first) per library the dashboard counts
AUDIT_LIMIT = 2000  # records on the audit trail page (the CSV export has every matching one)
BULK_LIMIT = 100  # items one bulk decision may name (each is decided and audited on its own)
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}
STATE_WORDS = {
    "held": "Held", "failed": "Release failed", "releasing": "Being released", "released": "Released",
    "released_redacted": "Released (redacted)", "rejected": "Rejected", "expired": "Expired",
}
CLASS_WORDS = {
    "external": "outside the library", "internal": "library staff", "partner": "approved partner",
    "partner_excess": "partner (more than it may receive)", "fax": "fax", "fax_unapproved": "fax (number not approved)",
    "fax_excess": "fax (more than it may receive)", "fax_approved": "approved fax",
}
KIND_WORDS = {
    "patron_barcode": "library card number", "item_barcode": "item barcode", "partial_barcode": "part of a card number",
    "patron_record_number": "patron record number", "phone": "phone number", "email": "email address",
    "street_address": "street address", "city_state_zip": "city and ZIP", "drivers_license": "driver's licence or ID",
    "birth_date": "birth date", "money_owed": "fines or amount owed", "circulation": "what someone borrowed",
    "hold": "holds", "patron_context": "patron account wording", "person_reference": "a person without a name",
    "patron_note": "note from a patron record", "ils_record": "patron record from the library system",
    "bulk_export": "patron list or export", "person_name": "person's name", "uninspectable": "part that could not be read",
}
ACTIONS = {"release": "Release", "release-redacted": "Release a redacted copy", "reject": "Reject"}


@dataclass
class Session:
    token: str
    csrf: str
    created: float
    seen: float
    user: str | None = None
    # (kind, text, item id) shown once: on that item's page or the list, never on another item's page
    flash: list[tuple[str, str, str]] = field(default_factory=list)
    dropped: bool = False  # signed out or replaced at sign-in during this request


SESSION: web.RequestKey[Session | None] = web.RequestKey("session", Session)  # type: ignore[arg-type]
FORM: web.RequestKey[Any] = web.RequestKey("form", object)


class ReviewApp:
    """One review UI: its sessions, its reviewers and the service it calls."""

    def __init__(
        self,
        config: Config,
        store: QuarantineStore,
        service: ReviewService,
        reviewers: dict[str, Reviewer],
        *,
        log: Any,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.store = store
        self.service = service
        self.reviewers = reviewers
        self.log = log
        self.clock = clock
        self.failures: dict[str, list[float]] = {}  # by client address
        self.account_failures: OrderedDict[str, list[float]] = OrderedDict()  # by login name typed
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="review-db")
        self._dummy = parse_hash(hash_password(secrets.token_hex(8)))
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.templates.filters["when"] = _when
        self.templates.filters["domains"] = _domains
        self.templates.globals.update(state_words=STATE_WORDS, class_words=CLASS_WORDS, kind_words=KIND_WORDS,
                                      actions=ACTIONS, type_words=_type_words)

    # ------------------------------------------------------------ plumbing


    def reconfigure(self, config: Config, reviewers: dict[str, Reviewer]) -> None:
        """A reloaded configuration and its supervisors (SIGHUP): sessions of removed supervisors end."""
        self.config, self.reviewers = config, reviewers
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._headers, self._errors, self._session], client_max_size=64 * 1024)
        app.add_routes([
            web.get("/", self.list_items),
            web.get("/login", self.login_form),
            web.post("/login", self.login),
            web.post("/logout", self.logout),
            web.get("/items/{id}", self.item),
            web.post("/items/{id}/reveal", self.reveal),
            web.post("/items/{id}/preview-redacted", self.preview_redacted),
            web.post("/items/{id}/{action:release|release-redacted|reject}", self.decide),
            web.post("/bulk", self.bulk),
            web.get("/dashboard", self.dashboard),
            web.get("/audit", self.audit_trail),
            web.get("/audit.csv", self.audit_csv),
            web.get("/accounts", self.accounts),
            web.get("/items/{id}/audit", self.audit),
            web.get("/static/style.css", self.style),
        ])
        app.on_cleanup.append(self._close)
        return app

    async def _close(self, _app: web.Application) -> None:
        self._db.shutdown(wait=True)

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db, partial(fn, *args, **kwargs))

    def render(self, request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
        session: Session | None = request.get(SESSION)
        flash: list[tuple[str, str]] = []
        if session:
            # A decision's banner shows on its own item's page (or the list), so it never describes another item.
            on_item = context["item"].id if template == "item.html" else None
            kept = []
            for kind, text, about in session.flash:
                if on_item is None or about in (on_item, ""):
                    flash.append((kind, text))
                else:
                    kept.append((kind, text, about))
            session.flash[:] = kept
        page = self.templates.get_template(template).render(
            session=session, user=session.user if session else None, flash=flash,
            is_admin=bool(session and session.user in self.reviewers and self.reviewers[session.user].admin),
            library_name=self.config.library_name, **context,
        )
        return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")

    @web.middleware
    async def _headers(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers.update(HEADERS)
            raise
        response.headers.update(HEADERS)
        return response

    @web.middleware
    async def _errors(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except ItemNotFound:
            return self.render(request, "error.html", 404, title="Not found",
                               message="There is no held message with that reference, or it is not one you review.")
        except QuarantineError as exc:  # its text is safe to show: an item id at most
            return self.render(request, "error.html", 409, title="That did not work", message=str(exc))
        except Exception as exc:
            reference = secrets.token_hex(4)
            self.log.error("web.error", error=exc.__class__.__name__, reference=reference)
            return self.render(request, "error.html", 500, title="Something went wrong",
                               message=f"The review page hit an internal problem (reference {reference}). "
                                       "Nothing was changed by it; please try again or tell IT.")

    @web.middleware
    async def _session(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        session = await self._lookup(request.cookies.get(COOKIE, ""))
        request[SESSION] = session
        before = list(session.flash) if session is not None else None
        try:
            return await self._checked(request, handler, session)
        finally:
            # Banners added or shown are stored with the session, so any node shows them once.
            if request.get(SESSION) is session and session is not None and not session.dropped \
                    and session.flash != before:
                await self._save(session)

    async def _checked(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
                       session: Session | None) -> web.StreamResponse:
        public = request.path in ("/login", "/static/style.css")
        if not public and (session is None or session.user is None or session.user not in self.reviewers):
            raise web.HTTPSeeOther("/login")
        if request.method == "POST":
            form = await request.post()
            request[FORM] = form
            sent = str(form.get("csrf", ""))
            if session is None or not hmac.compare_digest(sent, session.csrf):
                return self.render(request, "error.html", 403, title="Please try again",
                                   message="This form is out of date (or came from another site). "
                                           "Go back, reload the page and submit it again.")
        return await handler(request)

    # Sessions live in the quarantine database (`review_sessions`), keyed by the token's SHA-256:
    # every node serving the pages shares them and a restart signs nobody out.

    async def _lookup(self, token: str) -> Session | None:
        if not token or len(token) > 100:
            return None
        stored = await self.db(self.store.session_get, _token_hash(token))
        if stored is None:
            return None
        now = self.clock()
        session = Session(token, stored.csrf, stored.created_us / 1e6, stored.seen_us / 1e6, stored.user,
                          list(stored.flash))
        idle = self.config.review_ui.session_minutes * 60
        if now - session.seen > idle or now - session.created > ABSOLUTE_SESSION.total_seconds():
            await self._drop(token)
            return None
        if now - session.seen >= TOUCH_SECONDS:  # not a database write on every click
            session.seen = now
            await self._save(session)
        return session

    async def _save(self, session: Session) -> None:
        await self.db(self.store.session_put, ReviewSession(
            _token_hash(session.token), session.csrf, session.user, int(session.created * 1e6),
            int(session.seen * 1e6), tuple((k, t, a) for k, t, a in session.flash)))

    async def _new_session(self, user: str | None = None) -> Session:
        now = self.clock()
        idle = self.config.review_ui.session_minutes * 60
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now, user)
        await self._save(session)
        await self.db(self.store.session_prune, int((now - idle) * 1e6),
                      int((now - ABSOLUTE_SESSION.total_seconds()) * 1e6), MAX_ANONYMOUS_SESSIONS)
        return session

    async def _drop(self, token: str, session: Session | None = None) -> None:
        if session is not None:
            session.dropped = True  # not saved again after this request
        await self.db(self.store.session_drop, _token_hash(token))

    def _set_cookie(self, response: web.StreamResponse, session: Session) -> None:
        response.set_cookie(COOKIE, session.token, httponly=True, samesite="Strict", path="/",
                            secure=self.config.review_ui.secure_cookies)

    def _client(self, request: web.Request) -> str:
        return request.remote or "unknown"

    def _actor(self, request: web.Request) -> Actor:
        return Actor(self._reviewer(request).name, self._origin(request))

    def _origin(self, request: web.Request) -> str:
        return f"web {self._client(request)}"

    def _signed_in(self, request: web.Request) -> Session:
        """The session of a page behind the login (the middleware let the request through)."""
        session = request[SESSION]
        assert session is not None and session.user is not None
        return session

    def _reviewer(self, request: web.Request) -> Reviewer:
        return self.reviewers[str(self._signed_in(request).user)]

    async def _item(self, request: web.Request) -> HeldItem:
        """The item in the URL, if this reviewer may see it (another library's item is 'not found')."""
        item = await self.db(self.store.get, request.match_info["id"])
        if not self._reviewer(request).may_see(item.library):
            raise ItemNotFound(request.match_info["id"])
        return item

    # ------------------------------------------------------------ login

    async def login_form(self, request: web.Request) -> web.StreamResponse:
        session = request[SESSION]
        if session is not None and session.user in self.reviewers:
            raise web.HTTPSeeOther("/")
        if session is None:
            session = request[SESSION] = await self._new_session()
        response = self.render(request, "login.html", error=None, name="")
        self._set_cookie(response, session)
        return response

    def _recent(self, table: dict[str, list[float]], key: str, now: float) -> list[float]:
        """The failures of `key` in the last FAILURE_WINDOW seconds (older ones forgotten)."""
        recent = [t for t in table.get(key, ()) if now - t < FAILURE_WINDOW]
        if recent:
            table[key] = recent
        else:
            table.pop(key, None)
        return recent

    def _failed(self, client: str, name: str, now: float) -> None:
        self.failures.setdefault(client, []).append(now)
        self.account_failures.setdefault(name, []).append(now)
        self.account_failures.move_to_end(name)
        while len(self.account_failures) > MAX_TRACKED_NAMES:
            self.account_failures.popitem(last=False)
        for table in (self.failures, self.account_failures):  # forget what left the window
            if len(table) > MAX_TRACKED_NAMES // 10:
                for key in [k for k, times in table.items() if now - times[-1] >= FAILURE_WINDOW]:
                    del table[key]

    async def login(self, request: web.Request) -> web.StreamResponse:
        form, client, now = request[FORM], self._client(request), self.clock()
        name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
        limit = self.config.review_ui.max_failures
        if len(self._recent(self.failures, client, now)) >= limit:
            self.log.warning("web.login_limited", scope="address")
            return self.render(request, "login.html", 429, name=name,
                               error="Too many failed attempts from this computer. Wait a few minutes and try again.")
        if len(self._recent(self.account_failures, name, now)) >= limit:
            self.log.warning("web.login_limited", scope="account", user_hash=name_digest(name))
            return self.render(request, "login.html", 429, name=name,
                               error="Too many failed attempts for this name. Wait a few minutes and try again.")
        reviewer = self.reviewers.get(name)
        ok = await asyncio.to_thread(verify_password, password, reviewer.password if reviewer else self._dummy)
        if not ok or reviewer is None:
            self._failed(client, name, now)
            self.log.warning("web.login_failed", user_hash=name_digest(name))
            return self.render(request, "login.html", 401, name=name,
                               error="That name and password do not match. Check them and try again.")
        self.account_failures.pop(name, None)  # this account's own count only: not the address's, not others'
        old = request[SESSION]
        if old is not None:
            await self._drop(old.token, old)  # a fresh session id at login (no fixation)
        session = request[SESSION] = await self._new_session(reviewer.name)
        self.log.info("web.login_ok", user_hash=name_digest(reviewer.name))
        response = web.HTTPSeeOther("/")
        self._set_cookie(response, session)
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        await self._drop(self._signed_in(request).token, self._signed_in(request))
        response = web.HTTPSeeOther("/login")
        response.del_cookie(COOKIE, path="/")
        raise response

    # ------------------------------------------------------------ pages

    async def list_items(self, request: web.Request) -> web.StreamResponse:
        reviewer = self._reviewer(request)
        wanted = request.query.get("state", "open")
        states: tuple[ItemState, ...] | None
        if wanted == "open":
            states = OPEN_STATES
        elif wanted == "all":
            states = None
        else:
            try:
                states = (ItemState(wanted),)
            except ValueError:
                raise web.HTTPBadRequest(text="unknown state") from None
        library = request.query.get("library", "").strip().lower() or None
        # A supervisor of some libraries asks for those only, so other libraries' mail cannot crowd them out.
        scope: list[str | None] = [library] if library or not reviewer.libraries else [*sorted(reviewer.libraries)]
        found: list[HeldItem] = []
        for state in states or (None,):
            for lib in scope:
                found += await self.db(self.store.items, state, lib, LIST_LIMIT)
        items = sorted((i for i in found if reviewer.may_see(i.library)), key=lambda i: i.received_at)
        if reviewer.libraries:  # counts of what this supervisor may see, not of the whole consortium
            counts = dict(Counter(i.state.value for i in items))
        else:
            counts = {k: n for k, n in (await self.db(self.store.counts)).items() if k in STATE_WORDS}
        libraries = sorted({i.library for i in found} | set(reviewer.libraries))
        retention = timedelta(days=self.config.quarantine.retention_days)
        now = datetime.now(UTC)
        rows = [(i, _days_left(i.received_at + retention - now) if i.state in OPEN_STATES else None) for i in items]
        return self.render(request, "list.html", rows=rows, counts=counts, state=wanted, library=library or "",
                           libraries=libraries, scoped=sorted(reviewer.libraries))

    async def item(self, request: web.Request) -> web.StreamResponse:
        await self._item(request)
        shown = await self.db(self.service.show, request.match_info["id"], self._actor(request))
        return self._item_page(request, shown.item, None)

    async def reveal(self, request: web.Request) -> web.StreamResponse:
        await self._item(request)
        shown = await self.db(self.service.show, request.match_info["id"], self._actor(request), reveal=True)
        self.log.info("web.reveal", user_hash=name_digest(self._reviewer(request).name), item=shown.item.id)
        return self._item_page(request, shown.item, shown.envelope)

    async def preview_redacted(self, request: web.Request) -> web.StreamResponse:
        """The redacted copy exactly as the held recipients would get it (made like the release makes it), before deciding.

        Opening the content is audited as a reveal; the page shows the masked copy only.
        """
        item = await self._item(request)
        redactor = self.service.redactor
        if redactor is None or item.is_fax_job:
            raise web.HTTPSeeOther(f"/items/{item.id}")
        envelope = await self.db(self.store.reveal, item.id, self._actor(request))
        copy = await self.db(redactor, envelope.raw, list(envelope.rcpt_tos))
        self.log.info("web.preview_redacted", user_hash=name_digest(self._reviewer(request).name), item=item.id)
        preview = {"text": _readable(copy), "clean": True} if copy is not None else {"clean": False}
        return self._item_page(request, item, None, preview=preview)

    def _partners(self, item: HeldItem) -> list[str]:
        """Names of the partners among the item's held recipients (named in partner-excess reasons)."""
        return [p.name for p in self.config.partners
                if any(d == pd or d.endswith("." + pd) for d in item.recipient_domains for pd in p.domains)]

    def _item_page(self, request: web.Request, item: HeldItem, envelope: Any, status: int = 200, **extra: Any) -> web.Response:
        revealed = None
        if envelope is not None:
            revealed = {"recipients": list(envelope.rcpt_tos), "text": _readable(envelope.raw)}
        expires = item.received_at + timedelta(days=self.config.quarantine.retention_days)
        choices = {"release": "Approve this fax", "reject": "Reject"} if item.is_fax_job else ACTIONS
        reasons = reasons_for(item.rules, item.excerpts, self._partners(item))
        return self.render(request, "item.html", status, item=item, reasons=reasons,
                           choices=choices,
                           revealed=revealed, expires=expires, open=item.state in OPEN_STATES,
                           expiry_words="then it is rejected automatically and the sender is told"
                           if self.config.quarantine.expiry_action == "reject"
                           else "before then it goes to the library's administrator",
                           note=extra.get("note", ""), error=extra.get("error"), preview=extra.get("preview"),
                           can_redact=self.service.redactor is not None)

    async def decide(self, request: web.Request) -> web.StreamResponse:
        item = await self._item(request)
        action, form = request.match_info["action"], request[FORM]
        note = str(form.get("note", "")).strip()
        if not note or form.get("confirm") != "yes":
            problem = "Write a short note (the sender reads it) and tick the box to confirm."
            return self._item_page(request, item, None, 400, note=note, error=problem)
        reviewer, origin = self._reviewer(request), self._origin(request)
        calls = {"release": self.service.release, "release-redacted": self.service.release_redacted,
                 "reject": self.service.reject}
        session = self._signed_in(request)
        try:
            result = await self.db(calls[action], item.id, reviewer.name, note, origin=origin)
        except QuarantineError as exc:
            session.flash.append(("error", f"{_named(item)}: {exc}", item.id))
            self.log.warning("web.action_failed", user_hash=name_digest(reviewer.name), item=item.id, action=action,
                             error=exc.__class__.__name__)
        else:
            self.log.info("web.action", user_hash=name_digest(reviewer.name), item=item.id, action=action,
                          state=result.state.value)
            kind, text = _outcome(result)
            session.flash.append((kind, f"{_named(result)} — {text}", item.id))
        raise web.HTTPSeeOther(f"/items/{item.id}")

    async def bulk(self, request: web.Request) -> web.StreamResponse:
        """Release or reject the ticked items with one note: each one decided, audited and told on its own."""
        form, session, reviewer = request[FORM], self._signed_in(request), self._reviewer(request)
        action = str(form.get("action", ""))
        ids = list(dict.fromkeys(str(i) for i in form.getall("item", [])))
        note = str(form.get("note", "")).strip()
        if action not in ("release", "reject") or not ids or not note or form.get("confirm") != "yes":
            session.flash.append(("error", "Tick the messages, write a short note (each sender reads it), tick the "
                                           "box to confirm, then choose Release or Reject.", ""))
            raise web.HTTPSeeOther("/")
        if len(ids) > BULK_LIMIT:
            session.flash.append(("error", f"At most {BULK_LIMIT} messages at a time; nothing was decided.", ""))
            raise web.HTTPSeeOther("/")
        call = self.service.release if action == "release" else self.service.reject
        done: list[str] = []
        for item_id in ids:
            item: HeldItem | None = None
            try:
                item = await self.db(self.store.get, item_id)
                if not reviewer.may_see(item.library):
                    raise ItemNotFound(item_id)  # another library's item: as if it did not exist
                if item.is_fax_job and action == "release":
                    raise InvalidTransition(f"item {item_id} is a fax job: approve it on its own page")
                result = await self.db(call, item_id, reviewer.name, note, origin=self._origin(request))
            except ItemNotFound:
                session.flash.append(("error", f"{item_id}: there is no held message with that reference, "
                                               "or it is not one you review.", ""))
            except QuarantineError as exc:
                session.flash.append(("error", f"{_named(item) if item else item_id}: {exc}", ""))
            else:
                kind, text = _outcome(result)
                if kind == "error":
                    session.flash.append((kind, f"{_named(result)} — {text}", ""))
                else:
                    done.append(_named(result))
        self.log.info("web.bulk_action", user_hash=name_digest(reviewer.name), action=action, count=len(done))
        if done:
            verb = "Released" if action == "release" else "Rejected"
            session.flash.append(("ok", f"{verb} {len(done)} message{'s' if len(done) != 1 else ''}, each sender "
                                        f"told with your note: {'; '.join(done)}.", ""))
        raise web.HTTPSeeOther("/")

    async def dashboard(self, request: web.Request) -> web.StreamResponse:
        """Held, released, rejected and expired by member library, rule and week (this reviewer's libraries)."""
        reviewer = self._reviewer(request)
        scope: list[str | None] = [*sorted(reviewer.libraries)] if reviewer.libraries else [None]
        found: list[HeldItem] = []
        for lib in scope:
            found += await self.db(self.store.items, None, lib, DASHBOARD_LIMIT)
        f = dashboard.figures(i for i in found if reviewer.may_see(i.library))
        weeks = dict(list(f.by_week.items())[-12:])
        return self.render(
            request, "dashboard.html", figures=f, scoped=sorted(reviewer.libraries),
            libraries=Markup(dashboard.bars(f.by_library, title="Held mail by member library")) if f.by_library else "",
            rules=Markup(dashboard.bars(f.by_rule, title="Held mail by rule",
                                        labels={r: dashboard.rule_words(r) for r in f.by_rule})) if f.by_rule else "",
            weeks=Markup(dashboard.bars(weeks, title="Held mail by week received")) if weeks else "",
            rates=Markup(dashboard.rate_bars(f.release_rates())) if f.release_rates() else "",
            rate_rows=[(dashboard.rule_words(r), rel, dec, rate) for r, rel, dec, rate in f.release_rates()],
            series=dashboard.SERIES,
        )

    def _admin(self, request: web.Request) -> Reviewer:
        """The signed-in reviewer if an admin; else the request ends with a 403 page."""
        reviewer = self._reviewer(request)
        if not reviewer.admin:
            raise web.HTTPForbidden(
                text=self.templates.get_template("error.html").render(
                    session=request[SESSION], user=reviewer.name, flash=[], library_name=self.config.library_name,
                    title="For admins only", is_admin=False,
                    message="The audit trail across messages and the accounts are for the library's admins."),
                content_type="text/html")
        return reviewer

    async def _audit_records(self, request: web.Request) -> tuple[list[Any], dict[str, str]]:
        """Audit records matching the query's filters (item, who, action, from and to dates), newest first."""
        q = {k: request.query.get(k, "").strip() for k in ("item", "actor", "action", "since", "until")}
        try:
            since = datetime.fromisoformat(q["since"]).replace(tzinfo=UTC) if q["since"] else None
            until = datetime.fromisoformat(q["until"]).replace(tzinfo=UTC) + timedelta(days=1) if q["until"] else None
        except ValueError:
            raise web.HTTPBadRequest(text="dates are YYYY-MM-DD") from None
        records = []
        for r in reversed(await self.db(self.store.audit_log)):
            at = datetime.fromtimestamp(r.at_us / 1e6, UTC)
            if ((q["item"] and r.item_id != q["item"]) or (q["actor"] and r.actor != q["actor"])
                    or (q["action"] and r.action != q["action"]) or (since and at < since) or (until and at >= until)):
                continue
            records.append((at, r))
        return records, q

    async def audit_trail(self, request: web.Request) -> web.StreamResponse:
        """Admins: the audit trail across every item, filtered, with a CSV export of the same records."""
        self._admin(request)
        records, q = await self._audit_records(request)
        query = "&".join(f"{k}={v}" for k, v in q.items() if v)
        return self.render(request, "audit_trail.html", rows=records[:AUDIT_LIMIT], total=len(records), q=q,
                           csv_url="/audit.csv" + (f"?{request.query_string}" if query else ""),
                           action_names=[a.value for a in AuditAction], limit=AUDIT_LIMIT)

    async def audit_csv(self, request: web.Request) -> web.StreamResponse:
        self._admin(request)
        records, _ = await self._audit_records(request)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["seq", "when_utc", "who", "action", "item", "from", "details", "hash"])
        for at, r in records:
            writer.writerow([r.seq, at.isoformat(), r.actor, r.action, r.item_id or "", r.origin, r.detail, r.hash])
        self.log.info("web.audit_export", user_hash=name_digest(self._reviewer(request).name), count=len(records))
        return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": 'attachment; filename="patronguard-audit.csv"'})

    async def accounts(self, request: web.Request) -> web.StreamResponse:
        """Admins: every review account, its role and libraries (added and removed with `patronguard review-user`)."""
        self._admin(request)
        return self.render(request, "accounts.html",
                           accounts=sorted(self.reviewers.values(), key=lambda r: (not r.admin, r.name)))

    async def audit(self, request: web.Request) -> web.StreamResponse:
        item = await self._item(request)
        records = [r for r in await self.db(self.store.audit_log) if r.item_id == item.id]
        rows = [(datetime.fromtimestamp(r.at_us / 1e6, UTC), r) for r in records]
        return self.render(request, "audit.html", item=item, rows=rows)

    async def style(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(HERE / "static" / "style.css", headers={"Content-Type": "text/css"})


def _outcome(item: HeldItem) -> tuple[str, str]:
    if item.state is ItemState.RELEASED and item.is_fax_job:
        return "ok", ("Approved: the sender is asked to send the fax job again; the same documents to this "
                      "number will now go out.")
    if item.state is ItemState.RELEASED:
        return "ok", "Released: the message was sent to the held recipients, and the sender was told."
    if item.state is ItemState.RELEASED_REDACTED:
        return "ok", "Released a redacted copy (patron data masked) to the held recipients; the sender was told."
    if item.state is ItemState.REJECTED:
        return "ok", "Rejected: the message will not be sent, its content is destroyed, and the sender was told why."
    if item.state is ItemState.FAILED:
        return "error", f"The release did not go through: {item.failure or 'the mail server refused it'}. It is still held."
    return "ok", f"The message is now {STATE_WORDS.get(item.state.value, item.state.value).lower()}."


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _named(item: HeldItem) -> str:
    """The item a banner is about: its masked subject (when kept) and its reference."""
    return f"“{item.subject}” ({item.id})" if item.subject else item.id


def _domains(domains: tuple[str, ...]) -> str:
    """Held recipients' domains with counts: "example.net ×2, cityofsalem.net"."""
    counts = Counter(d or "unknown" for d in domains)
    return ", ".join(f"{d} ×{n}" if n > 1 else d for d, n in counts.items())


_TYPES = {"text/csv": "CSV table", "application/pdf": "PDF", "text/plain": "text file", "image/tiff": "TIFF image",
          "image/png": "PNG image", "image/jpeg": "JPEG image", "application/zip": "ZIP archive",
          "message/rfc822": "forwarded message", "text/html": "HTML file",
          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel workbook",
          "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document"}


def _type_words(content_type: str) -> str:
    return _TYPES.get(content_type, content_type)


def _days_left(left: timedelta) -> int:
    """Whole days left, rounded up (a message held this morning with 14-day retention: 14)."""
    return max(0, -(-int(left.total_seconds()) // 86400))


def _when(value: datetime | None) -> str:
    """A moment in the server's time zone, with the zone named ("… 14:05 PST"; the offset where it has no name)."""
    if value is None:
        return ""
    local = value.astimezone()
    zone = local.strftime("%Z")
    if not zone or zone[0] in "+-":
        zone = "UTC" + local.strftime("%z")
    return local.strftime("%a %d %b %Y, %H:%M ") + zone


def _readable(raw: bytes) -> dict[str, Any]:
    """The revealed message as a reviewer reads it: a few headers and its text parts (escaped by the template)."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        # Headers as written (encoded words decoded), not as parsed: a display name such as
        # `<script>…</script> <a@b>` is shown literally (escaped), not reduced to "script".
        plain = email.message_from_bytes(raw, policy=email.policy.compat32)
        headers = [(h, "  ".join(decode_header_value(str(v)) for v in plain.get_all(h, [])))
                   for h in ("From", "To", "Cc", "Subject", "Date") if plain.get(h)]
        parts: list[tuple[str, str]] = []
        for part in message.walk():
            if part.is_multipart():
                continue
            kind, name = part.get_content_type(), part.get_filename()
            if kind.startswith("text/") and not name:
                try:
                    text = str(part.get_content())
                    if kind == "text/html":  # read as text, never rendered or shown as source
                        text, kind = html_to_text(text[:4 * MAX_REVEAL_CHARS]).text, "text/html, shown as text"
                    parts.append((kind, text[:MAX_REVEAL_CHARS]))
                except (LookupError, ValueError):
                    parts.append((kind, "(this part's text could not be decoded)"))
            else:
                parts.append((kind, f"attachment {name or '(no name)'} — open it from the raw message below"))
    except Exception:
        headers, parts = [], []
    return {"headers": headers, "parts": parts, "raw": raw.decode("utf-8", "replace")[:MAX_REVEAL_CHARS]}
