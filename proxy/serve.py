"""The relay service: config → spool, scanner, workers, listener; signals; shutdown.

This module owns the lifetime of `patronguard serve`:

- start: load config (command-line overrides win), create the state directory
  (mode 0700, umask 077), load spaCy *before* listening (a missing model is a
  startup error, and an open port means ready), resume the spool, then listen;
- SIGTERM / SIGINT: stop accepting, let in-flight DATA finish spooling, let
  each worker finish its entry, leave the spool consistent, exit 0;
- SIGHUP: reload config and lists (relay rules, policy, detectors, the TLS
  certificate, AUTH accounts, the upstream and its password); a bad file is
  logged and the running config kept. The listen address and state directory
  need a restart.

It wires parts together and decides nothing itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import faulthandler
import os
import signal
import socket
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from proxy import config as config_module
from proxy import logs
from proxy.config import Config, QuarantineConfig, split_listen
from proxy.delivery import Outcome, RetryPolicy, Upstream, upstream_for
from proxy.errors import ConfigError, PatronGuardError
from proxy.holds import QuarantineHoldStore
from proxy.notify import Notices, SpoolNotifier, notices_from_config, unsupervised
from proxy.pipeline import Identity, Pipeline
from proxy.quarantine import HeldItem, ItemState, QuarantineStore, ReviewService, open_store
from proxy.scan import Scanner
from proxy.scanpool import ScanPool
from proxy.scanpool import scan_executor as scan_executor_for
from proxy.smtp import Listener, RelayHandler, RelayRules
from proxy.spool import Spool

if TYPE_CHECKING:
    from proxy.web import ReviewUi


@dataclass(frozen=True, slots=True)
class Overrides:
    """Command-line values that win over the config file (already checked by the CLI)."""

    listen: str | None = None
    upstream: str | None = None
    state_dir: str | None = None


def apply_overrides(config: Config, overrides: Overrides) -> Config:
    server, upstream, spool = config.server, config.upstream, config.spool
    if overrides.listen:
        host, port = split_listen(overrides.listen)
        server = dataclasses.replace(server, listen_host=host, listen_port=port)
    if overrides.upstream:
        upstream = dataclasses.replace(upstream, url=overrides.upstream)
    if overrides.state_dir:
        spool = dataclasses.replace(spool, state_dir=overrides.state_dir)
    quarantine = quarantine_under_state(config.quarantine, spool.state_dir)
    return dataclasses.replace(config, server=server, upstream=upstream, spool=spool, quarantine=quarantine)


def quarantine_under_state(q: QuarantineConfig, state_dir: str) -> QuarantineConfig:
    """Quarantine file and key left at their defaults live in the state directory, beside the spool.

    So `--state-dir var` (or spool.state_dir) moves everything a relay keeps, and
    `patronguard quarantine ... --state-dir var` finds what that relay held.
    Paths set explicitly in the config are kept as they are.
    """
    default, state = QuarantineConfig(), Path(state_dir)
    return dataclasses.replace(
        q,
        path=str(state / "quarantine.db") if q.path == default.path else q.path,
        key_file=str(state / "quarantine.key") if q.key_file == default.key_file else q.key_file,
    )


def retry_policy(config: Config) -> RetryPolicy:
    u = config.upstream
    return RetryPolicy(first=u.retry_first, factor=u.retry_factor, max_delay=u.retry_max_delay, max_age=u.max_age)


def identity(config: Config) -> Identity:
    hostname = config.server.hostname or socket.getfqdn()
    postmaster = config.server.postmaster or f"postmaster@{config.library_domains[0]}"
    return Identity(hostname, postmaster, config.logging.hash_external_addresses)


def _notices(config: Config, spool: Spool) -> Notices | None:
    who = identity(config)
    return notices_from_config(config, spool, hostname=who.hostname, postmaster=who.postmaster)


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
    from proxy.fax import fax_notifier
    from proxy.holds import UpstreamDeliverer

    upstream = _LazyUpstream(config, identity(config).hostname, upstream_url)
    notifier = spool_notifier(config, submit)
    return ReviewService(store, UpstreamDeliverer(upstream), notifier, _LazyRedactor(config),
                         fax_notifier=fax_notifier(config, notifier, submit))  # held HylaFAX jobs (proxy.fax)


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
            from proxy.redact import redactor_for

            self._redactor = redactor_for(Scanner(self.config))
        return self._redactor(raw, recipients)


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
    notices = _notices(config, spool)
    return SpoolNotifier(notices, submit) if notices is not None else None


class NoticesUnavailable(PatronGuardError):
    """Sender notices cannot be spooled from this process."""


class _Unavailable(SpoolNotifier):
    def __init__(self, error: NoticesUnavailable) -> None:
        self.error = error

    def notify_sender(self, item: HeldItem, outcome: ItemState, note: str) -> None:
        raise self.error

    def notify_admin(self, item: HeldItem, note: str) -> None:
        raise self.error


def close_upstream(upstream: Upstream) -> None:
    """Close an upstream's kept connections (SmtpUpstream); others have nothing to close."""
    close = getattr(upstream, "close", None)
    if close is not None:
        close()


async def warm(scanner: Scanner, executor: ScanPool | Executor) -> None:
    """Load the engine (spaCy) where the scanning happens, before the relay listens or swaps config."""
    if isinstance(executor, ScanPool):
        await executor.warm(scanner)
    else:
        await asyncio.to_thread(scanner.warm)


class Service:
    """One relay process. `run()` returns after a graceful stop."""

    def __init__(self, config_path: str | None, overrides: Overrides = Overrides(), *, log_level: str | None = None) -> None:
        self.config_path = config_path
        self.overrides = overrides
        self.log_level = log_level
        self.config: Config | None = None
        self.port: int | None = None
        self.pipeline: Pipeline | None = None
        self._scan_executor: ScanPool | Executor | None = None
        self._handler: RelayHandler | None = None
        self._listener: Listener | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._reloading: asyncio.Task[None] | None = None
        self.review: ReviewUi | None = None  # the web review UI, when review_ui.enabled
        self.log = logs.get_logger("patronguard.serve")

    def load(self) -> Config:
        return apply_overrides(config_module.load(self.config_path), self.overrides)

    async def run(self, ready: Callable[[int], None] | None = None, *, install_signals: bool = True) -> None:
        config = self.config = self.load()
        logs.configure(self.log_level or config.logging.level)
        os.umask(0o077)
        state = Path(config.spool.state_dir)
        state.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._loop = asyncio.get_running_loop()
        # Blocking work (spool fsyncs, upstream SMTP sessions) runs in threads; each SMTP session and each
        # pipeline worker can have one call in flight, so the pool must not be the queue (the default is 6).
        io_threads = ThreadPoolExecutor(max_workers=32, thread_name_prefix="io")
        self._loop.set_default_executor(io_threads)
        self._stop = asyncio.Event()

        # Certificate, accounts and upstream credentials are checked before anything opens: one-line ConfigErrors.
        who = identity(config)
        upstream = upstream_for(config, who.hostname)
        listener = Listener(None, config, who.hostname, logs.get_logger("patronguard.smtp"))
        spool = await asyncio.to_thread(Spool, state / "spool")
        notices = _notices(config, spool)  # a bad template is a ConfigError before anything else opens
        quarantine = await asyncio.to_thread(partial(open_store, config.quarantine, create=True))  # only serve creates
        holds = QuarantineHoldStore(quarantine)
        await asyncio.to_thread(spool.recover)
        scanner = Scanner(config)
        scan_executor = self._scan_executor = scan_executor_for(config.detection.processes)
        try:
            await warm(scanner, scan_executor)
        except BaseException:
            scan_executor.shutdown(wait=False, cancel_futures=True)
            await asyncio.to_thread(quarantine.close)
            raise
        pipeline = self.pipeline = Pipeline(
            spool,
            scanner,
            upstream,
            holds,
            retry_policy(config),
            who,
            scan_executor=scan_executor,
            log=logs.get_logger("patronguard.relay"),
            workers=config.spool.workers,
            notices=notices,
            max_failed_passes=config.spool.max_failed_passes,
        )
        handler = self._handler = RelayHandler(spool, RelayRules.from_config(config), pipeline.submit,
                                               logs.get_logger("patronguard.smtp"))
        listener.handler = handler
        self._listener = listener
        queued = await pipeline.start()
        try:
            self.port = await listener.start(config.server.listen_host, config.server.listen_port)
        except OSError as exc:
            await pipeline.stop()
            close_upstream(upstream)
            scan_executor.shutdown(wait=True)
            await asyncio.to_thread(quarantine.close)
            raise ConfigError(
                f"cannot listen on {config.server.listen_host}:{config.server.listen_port} ({exc.strerror or exc.__class__.__name__})"
            ) from None
        review = None
        if config.review_ui.enabled:
            from proxy.web import start_review_ui

            try:
                review = self.review = await start_review_ui(config, submit=pipeline.submit, store=quarantine)
            except BaseException:
                await listener.stop()
                await pipeline.stop()
                close_upstream(upstream)
                scan_executor.shutdown(wait=True)
                await asyncio.to_thread(quarantine.close)
                raise
        if install_signals:
            self._loop.add_signal_handler(signal.SIGTERM, self.request_stop)
            self._loop.add_signal_handler(signal.SIGINT, self.request_stop)
            self._loop.add_signal_handler(signal.SIGHUP, self._request_reload)
        self.log.info(
            "serve.ready",
            listen=f"{config.server.listen_host}:{self.port}",
            upstream=config.upstream.url,
            workers=config.spool.workers,
            queued=queued,
            review_ui=review.url if review is not None else None,
        )
        for problem in unsupervised(config):  # held mail nobody hears of waits unseen until it expires
            self.log.warning("serve.held_mail_unsupervised", error=problem)
        if ready is not None:
            ready(self.port)
        try:
            await self._stop.wait()
        finally:
            self.log.info("serve.stopping")
            stopping = time.monotonic()
            if review is not None:
                await review.stop()
            await listener.stop()
            await pipeline.stop()
            await asyncio.to_thread(close_upstream, pipeline.upstream)
            scan_executor.shutdown(wait=True)
            await asyncio.to_thread(quarantine.close)  # after the workers: none is still holding
            if install_signals:
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                    self._loop.remove_signal_handler(sig)
            self.log.info("serve.stopped", seconds=round(time.monotonic() - stopping, 2))

    def request_stop(self) -> None:
        if self._stop is not None:
            self._stop.set()

    def stop_threadsafe(self) -> None:
        """Ask a service running in another thread's loop to stop (tests, embedding)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.request_stop)

    def _request_reload(self) -> None:
        if self._reloading is None or self._reloading.done():
            self._reloading = asyncio.create_task(self.reload())

    async def reload(self) -> None:
        """Re-read the config file; swap relay rules, scanner and identity; keep the old on error."""
        try:
            config = await asyncio.to_thread(self.load)
            scanner = Scanner(config)
            if self._scan_executor is not None:
                await warm(scanner, self._scan_executor)
            notices = _notices(config, self.pipeline.spool) if self.pipeline is not None else None
            reviewers = None
            if self.review is not None:
                from proxy.web.accounts import load_reviewers

                reviewers = await asyncio.to_thread(load_reviewers, config.review_ui, config.spool.state_dir)
            upstream = await asyncio.to_thread(upstream_for, config, identity(config).hostname)
            if self._listener is not None:  # a renewed certificate, changed accounts: new sessions use them
                await asyncio.to_thread(self._listener.configure, config)
        except ConfigError as exc:
            self.log.error("serve.reload_failed", error=str(exc))  # file:line: key — never values
            return
        except Exception as exc:
            self.log.error("serve.reload_failed", error=exc.__class__.__name__)
            return
        old = self.config
        if old is not None and (old.server.listen_host, old.server.listen_port, old.spool.state_dir) != (
            config.server.listen_host, config.server.listen_port, config.spool.state_dir
        ):
            self.log.warning("serve.reload_partial", error="listen and state_dir change on restart only")
        self.config = config
        if self._handler is not None:
            self._handler.rules = RelayRules.from_config(config)
        if self.pipeline is not None:
            self.pipeline.scanner = scanner
            self.pipeline.retry = retry_policy(config)
            self.pipeline.identity = identity(config)
            self.pipeline.notices = notices
            self.pipeline.max_failed_passes = config.spool.max_failed_passes
            previous, self.pipeline.upstream = self.pipeline.upstream, upstream  # new password, TLS settings, url
            await asyncio.to_thread(close_upstream, previous)
        if self.review is not None and reviewers is not None:
            self.review.app.reviewers = reviewers  # added or removed supervisors; sessions of removed ones end
            self.review.app.config = config
        self.log.info("serve.reloaded", config=config.source)


def serve(config_path: str | None, overrides: Overrides, log_level: str | None = None) -> int:
    """Run the service until SIGTERM; the CLI's `serve` command."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1` dumps stacks (no variables) to stderr
    asyncio.run(Service(config_path, overrides, log_level=log_level).run())
    return 0

