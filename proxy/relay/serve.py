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

It starts and stops the parts `proxy.wiring` assembles and decides nothing itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from functools import partial
from pathlib import Path

from proxy import config as config_module
from proxy import logs
from proxy.config import Config
from proxy.errors import ConfigError
from proxy.quarantine import open_store
from proxy.relay.delivery import Upstream, upstream_for
from proxy.relay.holds import QuarantineHoldStore
from proxy.relay.notices import unsupervised
from proxy.relay.pipeline import Pipeline
from proxy.relay.smtp import Listener, RelayHandler, RelayRules
from proxy.relay.spool import Spool
from proxy.scanning.pool import ScanPool
from proxy.scanning.pool import scan_executor as scan_executor_for
from proxy.scanning.scan import Scanner
from proxy.web import ReviewUi
from proxy.web.accounts import load_reviewers
from proxy.wiring import Overrides, apply_overrides, notices, retry_policy, review_pages


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

    def __init__(self, config_path: str | None, overrides: Overrides | None = None, *,
                 log_level: str | None = None) -> None:
        self.config_path = config_path
        self.overrides = overrides or Overrides()
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
        loop = self._loop = asyncio.get_running_loop()
        # Blocking work (spool fsyncs, upstream SMTP sessions) runs in threads; each SMTP session and each
        # pipeline worker can have one call in flight, so the pool must not be the queue (the default is 6).
        io_threads = ThreadPoolExecutor(max_workers=32, thread_name_prefix="io")
        loop.set_default_executor(io_threads)
        self._stop = asyncio.Event()

        # One exit stack for start-up and shutdown: whatever opened is closed in reverse order, whether
        # start-up failed half-way (a port in use, spaCy missing) or the service was asked to stop.
        async with contextlib.AsyncExitStack() as opened:
            if install_signals:  # removed last: a second SIGTERM while stopping must not kill the process
                opened.callback(self._remove_signal_handlers, loop)
            # Certificate, accounts and upstream credentials are checked before anything opens: one-line ConfigErrors.
            who = config.relay_identity()
            upstream = upstream_for(config, who.hostname)
            # The pipeline's upstream at the end (a reload may have replaced the first one).
            opened.push_async_callback(
                lambda: asyncio.to_thread(close_upstream, self.pipeline.upstream if self.pipeline else upstream))
            listener = Listener(None, config, who.hostname, logs.get_logger("patronguard.smtp"))
            spool = await asyncio.to_thread(Spool, state / "spool")
            spool_notices = notices(config, spool)  # a bad template is a ConfigError before anything else opens
            quarantine = await asyncio.to_thread(partial(open_store, config.quarantine, create=True))  # only serve creates
            opened.push_async_callback(asyncio.to_thread, quarantine.close)  # after the workers: none is still holding
            holds = QuarantineHoldStore(quarantine)
            await asyncio.to_thread(spool.recover)
            scanner = Scanner(config)
            scan_executor = self._scan_executor = scan_executor_for(config.detection.processes)
            warmed = False

            def shutdown_scanning() -> None:  # a pool that never finished loading is not waited for
                scan_executor.shutdown(wait=warmed, cancel_futures=not warmed)

            opened.callback(shutdown_scanning)
            await warm(scanner, scan_executor)
            warmed = True
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
                notices=spool_notices,
                max_failed_passes=config.spool.max_failed_passes,
            )
            handler = self._handler = RelayHandler(spool, RelayRules.from_config(config), pipeline.submit,
                                                   logs.get_logger("patronguard.smtp"))
            listener.handler = handler
            self._listener = listener
            queued = await pipeline.start()
            opened.push_async_callback(pipeline.stop)
            try:
                self.port = await listener.start(config.server.listen_host, config.server.listen_port)
            except OSError as exc:
                raise ConfigError(
                    f"cannot listen on {config.server.listen_host}:{config.server.listen_port} ({exc.strerror or exc.__class__.__name__})"
                ) from None
            opened.push_async_callback(listener.stop)
            review = None
            if config.review_ui.enabled:
                review = self.review = await review_pages(config, store=quarantine, submit=pipeline.submit)
                opened.push_async_callback(review.stop)
            if install_signals:
                loop.add_signal_handler(signal.SIGTERM, self.request_stop)
                loop.add_signal_handler(signal.SIGINT, self.request_stop)
                loop.add_signal_handler(signal.SIGHUP, self._request_reload)
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
                await opened.aclose()  # pages, listener, workers, scanning, quarantine, upstream, signals
                self.log.info("serve.stopped", ms=round((time.monotonic() - stopping) * 1000))

    @staticmethod
    def _remove_signal_handlers(loop: asyncio.AbstractEventLoop) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)

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
            spool_notices = notices(config, self.pipeline.spool) if self.pipeline is not None else None
            reviewers = None
            if self.review is not None:
                reviewers = await asyncio.to_thread(load_reviewers, config.review_ui, config.spool.state_dir)
            upstream = await asyncio.to_thread(upstream_for, config, config.relay_identity().hostname)
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
            self._handler.reconfigure(RelayRules.from_config(config))
        if self.pipeline is not None:
            previous = self.pipeline.reconfigure(  # new password, TLS settings, url
                scanner=scanner, upstream=upstream, retry=retry_policy(config), identity=config.relay_identity(),
                notices=spool_notices, max_failed_passes=config.spool.max_failed_passes)
            await asyncio.to_thread(close_upstream, previous)
        if self.review is not None and reviewers is not None:
            self.review.app.reconfigure(config, reviewers)  # added or removed supervisors
        self.log.info("serve.reloaded", config=config.source)


def serve(config_path: str | None, overrides: Overrides, log_level: str | None = None) -> int:
    """Run the service until SIGTERM; the CLI's `serve` command."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1` dumps stacks (no variables) to stderr
    asyncio.run(Service(config_path, overrides, log_level=log_level).run())
    return 0

