"""Review sessions live in the quarantine database: a restart signs nobody out, and two nodes share them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from quarantine_support import hold_patron_message
from web_support import Client, RunningUi, web_config

from proxy.config import load
from proxy.quarantine import ItemState, open_store
from proxy.web.app import COOKIE

pytest_plugins = ["quarantine_fixtures"]


def test_a_session_survives_a_restart_of_the_review_pages_and_only_its_hash_is_stored(tmp_path, sink) -> None:  # type: ignore[no-untyped-def]
    """Signed in, the pages restart: the same cookie still works; the database holds the token's hash, not the token."""
    path = web_config(tmp_path, f"smtp://127.0.0.1:{sink.port}")
    running = RunningUi(path)
    client = Client(running.port)
    try:
        assert "Held mail" in client.login().body
    finally:
        running.close()
    token = client.cookies[COOKIE]
    running = RunningUi(path)
    try:
        client.port = running.port
        page = client.get("/", follow=False)
        assert page.status == 200 and "Signed in as" in page.body
    finally:
        running.close()
    store = open_store(load(path).quarantine)
    try:
        assert store.session_get(hashlib.sha256(token.encode()).hexdigest()) is not None
        assert store.session_get(token) is None
    finally:
        store.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("q.db*"))
    assert token.encode() not in stored


def test_signing_out_ends_the_session_for_good(tmp_path, sink) -> None:  # type: ignore[no-untyped-def]
    """After sign-out the old cookie is refused, also after a restart."""
    path = web_config(tmp_path, f"smtp://127.0.0.1:{sink.port}")
    running = RunningUi(path)
    try:
        client = Client(running.port)
        page = client.login()
        token = client.cookies[COOKIE]
        client.post("/logout", {"csrf": page.csrf})
        stale = Client(running.port)
        stale.cookies[COOKIE] = token
        assert stale.get("/", follow=False).status == 303
    finally:
        running.close()


def _pg_config(home: Path, dsn: str, key: Path, sink_port: int) -> Path:
    home.mkdir()
    config = web_config(home, f"smtp://127.0.0.1:{sink_port}")
    text = config.read_text().replace(f"  path: {home / 'q.db'}\n  key_file: {home / 'q.key'}\n",
                                      f"  backend: postgresql\n  dsn: \"{dsn}\"\n  key_file: {key}\n")
    config.write_text(text)
    return config


@pytest.mark.slow
def test_two_nodes_on_postgresql_share_sessions_and_banners(postgres, tmp_path, sink) -> None:  # type: ignore[no-untyped-def]
    """Signed in on node A, the same cookie works on node B (no sticky sessions); B's banner shows on A; signing out on A ends it on B."""
    dsn, key = postgres.create_database(), tmp_path / "shared.key"
    config_a = _pg_config(tmp_path / "a", dsn, key, sink.port)
    store = open_store(load(config_a).quarantine, create=True)
    config_b = _pg_config(tmp_path / "b", dsn, key, sink.port)
    (tmp_path / "b" / "state" / "review-users").write_bytes((tmp_path / "a" / "state" / "review-users").read_bytes())
    node_a, node_b = RunningUi(config_a), RunningUi(config_b)
    try:
        item = hold_patron_message(store)
        client = Client(node_a.port)
        client.login()
        on_b = Client(node_b.port)
        on_b.cookies = dict(client.cookies)
        page = on_b.get(f"/items/{item}", follow=False)
        assert page.status == 200 and "Signed in as" in page.body
        decided = on_b.post(f"/items/{item}/reject", {"csrf": page.csrf, "note": "no", "confirm": "yes"}, follow=False)
        assert decided.status == 303 and store.get(item).state is ItemState.REJECTED
        banner = client.get(f"/items/{item}").body  # node A shows the banner node B queued
        assert f"{item} — Rejected" in banner
        client.post("/logout", {"csrf": client.get("/").csrf})
        assert on_b.get("/", follow=False).status == 303
    finally:
        node_a.close()
        node_b.close()
        store.close()


@pytest.mark.slow
def test_in_a_browser_a_restart_of_the_pages_does_not_sign_the_supervisor_out(tmp_path, sink) -> None:  # type: ignore[no-untyped-def]
    """Chromium signed in, the review pages restart (another port, same database): the list opens without a sign-in."""
    from test_web_browser import CHROMIUM, _playwright
    from web_support import PASSWORD

    sync_playwright = _playwright()
    path = web_config(tmp_path, f"smtp://127.0.0.1:{sink.port}")
    running = RunningUi(path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"http://127.0.0.1:{running.port}/login")
            page.fill("#name", "maria")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            assert "Signed in as" in page.inner_text("header")
            running.close()
            running = RunningUi(path)
            page.goto(f"http://127.0.0.1:{running.port}/")  # cookies are per host, not per port
            assert not page.url.endswith("/login") and "Signed in as maria" in page.inner_text("header")
            page.screenshot(path=tmp_path / "after-restart.png", full_page=True)
        finally:
            browser.close()
            running.close()
