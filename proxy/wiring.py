"""The composition root: where PatronGuard's parts are assembled from a `Config`.

This module owns the construction that the relay (`proxy.relay.serve`), the CLI and
the review pages share: command-line overrides, the retry policy, sender
notices on the relay's spool, the supervisors' `ReviewService` (with its
upstream, notifier, fax notifier and redactor) and the review pages started
with that service. Front ends import this module, never the relay service.

It decides nothing and runs nothing: the parts it builds do. Nothing below it
(`proxy.web`, `proxy.fax.hook`, the scanning and relay modules) imports it; a test
walks the import graph to keep it so.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from proxy.config import Config, split_listen
from proxy.errors import PatronGuardError
from proxy.fax.hook import fax_notifier
from proxy.quarantine import HeldItem, ItemState, QuarantineStore, ReviewService, open_store
from proxy.relay.delivery import Outcome, RetryPolicy, Upstream, upstream_for
from proxy.relay.holds import UpstreamDeliverer
from proxy.relay.notices import Notices, SpoolNotifier, notices_from_config
from proxy.relay.spool import Spool
from proxy.scanning.scan import Scanner
from proxy.web import ReviewUi, start_review_ui


@dataclass(frozen=True, slots=True)
class Overrides:
    """Command-line values that win over the config file (already checked by the CLI)."""

    listen: str | None = None
    upstream: str | None = None
    state_dir: str | None = None


def apply_overrides(config: Config, overrides: Overrides) -> Config:
    """The config with the command line's values; the quarantine's default paths under the (new) state directory."""
    server, upstream = config.server, config.upstream
    if overrides.listen:
        host, port = split_listen(overrides.listen)
        server = dataclasses.replace(server, listen_host=host, listen_port=port)
    if overrides.upstream:
        upstream = dataclasses.replace(upstream, url=overrides.upstream)
    return dataclasses.replace(config, server=server, upstream=upstream).with_state_dir(overrides.state_dir)


def retry_policy(config: Config) -> RetryPolicy:
    u = config.upstream
    return RetryPolicy(first=u.retry_first, factor=u.retry_factor, max_delay=u.retry_max_delay, max_age=u.max_age)


def notices(config: Config, spool: Spool) -> Notices | None:
    """Sender and supervisor notices spooled in `spool` (None when switched off); a bad template is a ConfigError."""
    who = config.relay_identity()
    return notices_from_config(config, spool, hostname=who.hostname, postmaster=who.postmaster)


class NoticesUnavailable(PatronGuardError):
    """Sender notices cannot be spooled from this process."""


def spool_notifier(config: Config, submit: Callable[[str], None] | None = None) -> SpoolNotifier | None:
    """The quarantine's notifier (release, reject, expiry, escalation): notices spooled in the relay's spool.

    A spool this process cannot open (a supervisor's login without write access
    to the service's state directory) raises `NoticesUnavailable` when a notice
    is due: the decision stands and the audit trail records the failed notice.
    """
    try:
        spool = Spool(Path(config.spool.state_dir) / "spool")
    except OSError as exc:
        return _Unavailable(NoticesUnavailable(f"cannot write the spool under {config.spool.state_dir} ({exc.strerror})"))
    built = notices(config, spool)
    return SpoolNotifier(built, submit) if built is not None else None


class _Unavailable(SpoolNotifier):
    def __init__(self, error: NoticesUnavailable) -> None:
        self.error = error

    def notify_sender(self, item: HeldItem, outcome: ItemState, note: str) -> None:
        raise self.error

    def notify_admin(self, item: HeldItem, note: str) -> None:
        raise self.error


def review_service(
    config: Config,
    store: QuarantineStore,
    *,
    upstream_url: str | None = None,
    submit: Callable[[str], None] | None = None,
) -> ReviewService:
    """The supervisors' release/reject service, wired as the relay is: one construction for CLI and web.

    A release goes through the relay's own upstream (`upstream_url` overrides
    `upstream.url`); outcome notices to the sender are spooled in the relay's
    spool under `spool.state_dir`, and `submit` hands each one to a pipeline
    running in this process. A relay in another process picks them up on its
    next spool sweep (`Pipeline.SWEEP_SECONDS`).
    """
    upstream = _LazyUpstream(config, config.relay_identity().hostname, upstream_url)
    notifier = spool_notifier(config, submit)
    return ReviewService(store, UpstreamDeliverer(upstream), notifier, _LazyRedactor(config),
                         fax_notifier=fax_notifier(config, notifier, submit))  # held HylaFAX jobs (proxy.fax.hook)


class _LazyUpstream:
    """The relay's upstream (same TLS, AUTH and verification) for releases, built on the first release.

    So `quarantine show` works for a supervisor who cannot read the upstream
    password file; one connection per release (no kept connections in a CLI).
    """

    def __init__(self, config: Config, helo: str, url: str | None) -> None:
        self.config = dataclasses.replace(config, upstream=dataclasses.replace(config.upstream, keep_alive=0.0))
        self.helo, self.url = helo, url
        self._upstream: Upstream | None = None

    async def send(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes, smtputf8: bool) -> dict[str, Outcome]:
        if self._upstream is None:
            self._upstream = upstream_for(self.config, self.helo, url=self.url)  # ConfigError: one line, no password
        return await self._upstream.send(mail_from, rcpt_tos, data, smtputf8)


class _LazyRedactor:
    """Release-redacted with the relay's detection settings; the scanner (spaCy) loads on first use only."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._redactor: Callable[[bytes, list[str]], bytes | None] | None = None

    def __call__(self, raw: bytes, recipients: list[str]) -> bytes | None:
        if self._redactor is None:
            from proxy.scanning.redact import (
                redactor_for,  # the redaction engine only when a redacted release is asked for
            )

            self._redactor = redactor_for(Scanner(self.config))
        return self._redactor(raw, recipients)


async def review_pages(
    config: Config,
    *,
    store: QuarantineStore | None = None,
    submit: Callable[[str], None] | None = None,
    host: str | None = None,
    port: int | None = None,
) -> ReviewUi:
    """The review pages with their `ReviewService`: beside the relay on its store and pipeline, or on their own.

    Beside the relay, `store` is the relay's own quarantine store (one store per
    process, see `proxy.quarantine.sqlite`) and `submit` its pipeline's; on
    their own the pages open (and close) the store.
    """
    owns_store = store is None
    if store is None:
        store = await asyncio.to_thread(open_store, config.quarantine)
    try:
        service = review_service(config, store, submit=submit)
    except BaseException:
        if owns_store:
            await asyncio.to_thread(store.close)
        raise
    return await start_review_ui(config, service, host=host, port=port, owns_store=owns_store)
