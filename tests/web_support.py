"""Helpers for the review UI tests: the UI running in a background event loop, and a small cookie-keeping client."""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from proxy.config import load
from proxy.quarantine import open_store
from proxy.web import ReviewUi
from proxy.web.accounts import set_reviewer
from proxy.wiring import review_pages

PASSWORD = "correct horse battery"
REPO = Path(__file__).resolve().parents[1]
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def web_config(tmp_path: Path, upstream: str, extra: str = "") -> Path:
    """A config whose quarantine, spool and review users live under `tmp_path`; releases go to `upstream`."""
    path = tmp_path / "config.yaml"
    path.write_text(
        "library:\n  name: Test Library\n  domains: [ccrls.org, cityofsalem.net, dallasor.gov]\n"
        "barcodes:\n  layouts:\n    - name: ccrls-patron\n      kind: patron\n      length: 14\n"
        '      type_digit: "2"\n      prefixes: ["2361"]\n'
        "detection:\n  names: false\n"
        f"spool:\n  state_dir: {tmp_path / 'state'}\n"
        f"quarantine:\n  path: {tmp_path / 'q.db'}\n  key_file: {tmp_path / 'q.key'}\n"
        f"upstream:\n  url: {upstream}\n"
        "review_ui:\n  enabled: true\n  listen: 127.0.0.1:0\n  max_failures: 3\n" + extra,
        encoding="utf-8",
    )
    (tmp_path / "state").mkdir(exist_ok=True)
    open_store(load(path).quarantine, create=True).close()  # as `serve` or `quarantine init` would have
    set_reviewer(tmp_path / "state" / "review-users", "maria", PASSWORD)
    set_reviewer(tmp_path / "state" / "review-users", "dallas", PASSWORD, ("dallasor.gov",))
    return path


class RunningUi:
    """The review pages (`proxy.wiring.review_pages`) in their own thread's event loop (as the relay runs it), until `close()`."""

    def __init__(self, config_path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.ui: ReviewUi | None = None
        self.thread = threading.Thread(target=self._run, args=(config_path,), daemon=True)
        self.thread.start()
        if not self.ready.wait(60):
            raise RuntimeError("review UI did not start within 60 s")
        if self.error is not None:
            raise self.error

    def _run(self, config_path: Path) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.ui = self.loop.run_until_complete(review_pages(load(config_path)))
        except BaseException as exc:  # noqa: BLE001 — handed to the test thread
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_forever()

    @property
    def port(self) -> int:
        assert self.ui is not None
        return self.ui.port

    def close(self) -> None:
        if self.ui is not None:
            asyncio.run_coroutine_threadsafe(self.ui.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


@dataclass
class Page:
    status: int
    headers: http.client.HTTPMessage
    body: str

    @property
    def csrf(self) -> str:
        match = _CSRF.search(self.body)
        assert match, "no CSRF token on the page"
        return match.group(1)


class Client:
    """A browser-like client over real HTTP: keeps the session cookie, follows redirects on request."""

    def __init__(self, port: int, source: str | None = None) -> None:
        """`source`: the loopback address to connect from (e.g. 127.0.0.7), a client address of its own."""
        self.port = port
        self.source = source
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None, follow: bool = True) -> Page:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30,
                                          source_address=(self.source, 0) if self.source else None)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        page = Page(response.status, response.headers, response.read().decode("utf-8"))
        conn.close()
        for cookie in page.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value in ("", '""'):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        if follow and page.status in (302, 303):
            return self.request("GET", page.headers["Location"])
        return page

    def get(self, path: str, follow: bool = True) -> Page:
        return self.request("GET", path, follow=follow)

    def post(self, path: str, form: dict[str, str], follow: bool = True) -> Page:
        return self.request("POST", path, form, follow)

    def login(self, name: str = "maria", password: str = PASSWORD) -> Page:
        form = self.get("/login")
        return self.post("/login", {"csrf": form.csrf, "name": name, "password": password})


class ServeProcess:
    """`patronguard serve` as a real process (relay + review UI), started and waited for; `stop()` sends SIGTERM."""

    def __init__(self, config: Path, state_dir: Path, smtp_port: int, log: Path) -> None:
        self.smtp_port = smtp_port
        self.log = log
        with open(log, "ab") as out:  # handed to the child, closed here after the fork
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "proxy.cli", "serve", "--config", str(config),
                 "--listen", f"127.0.0.1:{smtp_port}", "--state-dir", str(state_dir)],
                cwd=REPO, stdout=out, stderr=out, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def wait_listening(self, *ports: int, timeout: float = 90) -> ServeProcess:
        deadline = time.monotonic() + timeout
        for port in (self.smtp_port, *ports):
            while True:
                assert self.proc.poll() is None, self.log.read_text()
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, f"serve did not listen on {port}: {self.log.read_text()[-2000:]}"
                    time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(90)  # systemd's default stop timeout; a loaded CI machine needs more than a laptop
            finally:
                if self.proc.poll() is None:
                    self.proc.kill()


def wait_for(predicate, what: str, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    """Poll `predicate` until it is true; fail with `what` after `timeout` seconds (a bound, not a speed test)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
