"""The supervisors' web review UI (see proxy.web.app); `start_review_ui` runs it beside the relay or alone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from proxy import logs
from proxy.config import Config
from proxy.errors import ConfigError
from proxy.quarantine import QuarantineStore, open_store
from proxy.web.accounts import load_reviewers, users_file
from proxy.web.app import ReviewApp

__all__ = ["ReviewUi", "start_review_ui"]


SHUTDOWN_SECONDS = 10.0


@dataclass
class ReviewUi:
    """A running review UI: where it listens and how to stop it."""

    app: ReviewApp
    runner: web.AppRunner
    store: QuarantineStore
    port: int
    url: str
    owns_store: bool = True  # False: the relay's store, closed by the relay

    async def stop(self) -> None:
        await self.runner.cleanup()
        if self.owns_store:
            await asyncio.to_thread(self.store.close)


async def start_review_ui(config: Config, *, submit: Callable[[str], None] | None = None,
                          host: str | None = None, port: int | None = None,
                          store: QuarantineStore | None = None) -> ReviewUi:
    """Load the reviewers and listen; ConfigError (one line) when it cannot.

    Beside the relay, `store` is the relay's own quarantine store (one store per
    process, see `proxy.quarantine.sqlite`); on their own the pages open it.
    """
    from proxy.serve import review_service  # the one construction CLI and web share

    ui = config.review_ui
    reviewers = await asyncio.to_thread(load_reviewers, ui, config.spool.state_dir)
    log = logs.get_logger("patronguard.web")
    if not reviewers:
        log.warning("web.no_accounts", users_file=str(users_file(ui, config.spool.state_dir)))
    owns_store = store is None
    if store is None:
        store = await asyncio.to_thread(open_store, config.quarantine)
    try:
        service = review_service(config, store, submit=submit)
        review = ReviewApp(config, store, service, reviewers, log=log)
        # aiohttp's access log would write item URLs and IPs. On shutdown a page being answered gets
        # SHUTDOWN_SECONDS to finish (a decision is one transaction: made or not), not aiohttp's 60 s.
        runner = web.AppRunner(review.app(), access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
        await runner.setup()
        listen_host, listen_port = host or ui.listen_host, ui.listen_port if port is None else port
        site = web.TCPSite(runner, listen_host, listen_port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(f"review_ui.listen: cannot listen on {listen_host}:{listen_port} "
                              f"({exc.strerror or exc.__class__.__name__})") from None
    except BaseException:
        if owns_store:
            await asyncio.to_thread(store.close)
        raise
    server = site._server
    bound = server.sockets[0].getsockname()[1] if server is not None and server.sockets else listen_port  # type: ignore[attr-defined]
    shown_host = f"[{listen_host}]" if ":" in listen_host else listen_host
    url = ui.url or f"http://{shown_host}:{bound}/"
    log.info("web.ready", listen=f"{listen_host}:{bound}", accounts=len(reviewers))
    return ReviewUi(review, runner, store, bound, url, owns_store)
