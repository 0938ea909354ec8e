"""The review UI in a real headless browser (Debian's chromium via Playwright) against a real `patronguard serve`.

Mail goes in over SMTP, is held, and a supervisor signs in, opens it, reveals it,
releases one and rejects another; the upstream sink and the sender's notices
show the outcome. Screenshots of every page are written to the test's temp dir
(kept by pytest under /tmp/pytest-of-*/) so a person can look at them.
"""

from __future__ import annotations

import os
import smtplib

import pytest
from quarantine_support import SmtpSink, free_port
from web_support import PASSWORD, ServeProcess, wait_for, web_config

CHROMIUM = "/usr/bin/chromium"
CARD = "23610003622817"
LEAK = (
    "From: circ@ccrls.org\r\nTo: {to}\r\nSubject: account\r\n\r\n"
    "PATRN NAME  ALVAREZ, MARIA\r\nP BARCODE   " + CARD + "\r\nMONEY OWED  $12.50\r\n"
)

pytestmark = pytest.mark.slow


def _playwright():  # type: ignore[no-untyped-def]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("LOUD SKIP: the playwright package is not installed (make test installs it)")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"LOUD SKIP: {CHROMIUM} is missing (scripts/system-deps.sh installs Debian's chromium)")
    return sync_playwright


@pytest.fixture
def relay(tmp_path):  # type: ignore[no-untyped-def]
    """`patronguard serve` with the review UI on a free port, releasing to a recording sink."""
    sink = SmtpSink()
    ui_port, smtp_port = free_port(), free_port()
    config = web_config(tmp_path, f"smtp://127.0.0.1:{sink.port}")
    config.write_text(config.read_text().replace("listen: 127.0.0.1:0", f"listen: 127.0.0.1:{ui_port}"))
    serve = ServeProcess(config, tmp_path / "state", smtp_port, tmp_path / "relay.log")
    try:
        serve.wait_listening(ui_port)
        yield {"smtp": smtp_port, "ui": ui_port, "sink": sink, "tmp": tmp_path}
    finally:
        serve.stop()
        sink.close()


def _send(port: int, to: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.sendmail("circ@ccrls.org", [to], LEAK.format(to=to).encode())


def test_a_supervisor_reviews_held_mail_in_a_browser(relay) -> None:  # type: ignore[no-untyped-def]
    """Sign in, list, open, reveal, release one message and reject another, all in chromium."""
    sync_playwright = _playwright()
    shots = relay["tmp"] / "screenshots"
    shots.mkdir()
    _send(relay["smtp"], "landlord@example.net")
    _send(relay["smtp"], "friend@example.org")
    base = f"http://127.0.0.1:{relay['ui']}"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/")
            assert page.url.endswith("/login")
            page.screenshot(path=shots / "1-login.png", full_page=True)
            page.fill("#name", "maria")
            page.fill("#password", "not the password")
            page.click("button[type=submit]")
            assert "do not match" in page.inner_text("main")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")

            def listed() -> int:
                page.goto(base + "/")
                return page.locator("table.items tbody tr").count()

            wait_for(lambda: listed() == 2, "two held messages in the list")
            page.screenshot(path=shots / "2-list.png", full_page=True)
            assert CARD not in page.content()

            page.locator("table.items a.button").first.click()
            assert "Why it was held" in page.inner_text("main")
            assert "a library card number" in page.inner_text("main")
            assert CARD not in page.content()
            page.screenshot(path=shots / "3-item.png", full_page=True)
            page.click("text=Show the full message")
            assert CARD in page.inner_text("section.revealed")
            page.screenshot(path=shots / "4-revealed.png", full_page=True)

            release = page.locator("form.decision.release")
            release.locator("button").click()  # no note yet: the browser itself refuses (required fields)
            assert "Released" not in page.inner_text("main")
            release.locator("textarea").fill("Checked: the landlord is the patron's guarantor.")
            release.locator("input[type=checkbox]").check()
            release.locator("button").click()
            assert "Released: the message was sent" in page.inner_text("main")
            page.screenshot(path=shots / "5-released.png", full_page=True)
            def to(address: str) -> list[bytes]:
                return [m[2] for m in relay["sink"].messages if m[1] == [address]]

            wait_for(lambda: len(to("landlord@example.net")) == 1, "the released message upstream")
            assert CARD.encode() in to("landlord@example.net")[0] and to("friend@example.org") == []

            page.goto(base + "/")
            page.locator("table.items a.button").first.click()
            reject = page.locator("form.decision.reject")
            reject.locator("textarea").fill("Please do not send card numbers to friends.")
            reject.locator("input[type=checkbox]").check()
            reject.locator("button").click()
            assert "Rejected" in page.inner_text("main")
            page.screenshot(path=shots / "6-rejected.png", full_page=True)

            page.goto(base + "/")
            assert "No message is waiting" in page.inner_text("main")
            page.screenshot(path=shots / "7-empty.png", full_page=True)
            page.goto(base + "/?state=all")
            assert page.locator("table.items tbody tr").count() == 2
        finally:
            browser.close()

    # The sender hears of both holds and both decisions (notices go through the relay's own delivery).
    def notices() -> list[tuple[str, list[str], bytes]]:
        return [m for m in relay["sink"].messages if m[1] == ["circ@ccrls.org"]]

    wait_for(lambda: len(notices()) == 4, "two hold notices and two decision notices to the sender")
    assert any(b"Please do not send card numbers to friends." in m[2] for m in notices())
    assert relay["sink"].messages.count(next(m for m in relay["sink"].messages if m[1] == ["landlord@example.net"])) == 1
    for _, _, raw in notices():
        assert CARD.encode() not in raw and b"ALVAREZ" not in raw
    assert all((shots / f).stat().st_size > 10_000 for f in os.listdir(shots))
