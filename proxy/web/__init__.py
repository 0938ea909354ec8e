"""The supervisors' web review UI (see proxy.web.app); `start_review_ui` runs it with the service it is given.

`proxy.wiring.review_pages` builds that service and starts the pages beside the relay or alone; this
package never imports the wiring or the relay service.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from proxy import logs
from proxy.config import Config
from proxy.errors import ConfigError
from proxy.quarantine import QuarantineStore, ReviewService
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


async def start_review_ui(config: Config, service: ReviewService, *, host: str | None = None,
                          port: int | None = None, owns_store: bool = False) -> ReviewUi:
    """Load the reviewers and listen with `service` (built by `proxy.wiring`); ConfigError (one line) when it cannot.

    `owns_store`: the pages close the service's store when they stop (or fail to
    start); beside the relay the store is the relay's and the relay closes it.
    """
    ui = config.review_ui
    store = service.store
    log = logs.get_logger("patronguard.web")
    try:
        reviewers = await asyncio.to_thread(load_reviewers, ui, config.spool.state_dir)
        if not reviewers:
            log.warning("web.no_accounts", users_file=str(users_file(ui, config.spool.state_dir)))
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
