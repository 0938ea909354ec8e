"""Held items told apart and read safely, in Debian's chromium against a real `patronguard serve`.

Two held messages differ in the list by masked subject, recipients' domains and count, and attachments; the
list fits a window at 200 % zoom; times carry a zone; a revealed HTML message reads as text with a hostile
display name shown literally; Release and Release redacted look different; a decision's banner names its item
and the sender's notice carries the note and the recipients. Screenshots go to the test's temp dir.
"""

from __future__ import annotations

import email
import email.policy
import re
import smtplib
from email.message import EmailMessage

import pytest
from test_web_browser import CARD, _playwright
from test_web_browser import relay as relay  # noqa: F401 — the fixture: serve + review pages + a recording sink
from web_support import PASSWORD, wait_for

from proxy.web.app import _when

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
ZONE = re.compile(r"\d\d:\d\d [A-Z]{2,5}([+-]\d{4})?")


def _export() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Circulation <circ@ccrls.org>"
    msg["To"] = "billing@example.net, audit@example.net"
    msg["Subject"] = "Overdue list for Maria Alvarez"
    msg.set_content("The list you asked for is attached.")
    msg.add_attachment(("name,card\nALVAREZ MARIA," + CARD + "\nDOE JANE,23610003622817\n").encode(),
                       maintype="text", subtype="csv", filename="alvarez_overdue.csv")
    return msg.as_bytes()


def _html() -> bytes:
    msg = EmailMessage()
    msg["From"] = "<script>alert(1)</script> <circ@ccrls.org>"
    msg["To"] = "landlord@example.org"
    msg["Subject"] = "account"
    msg.set_content("PATRN NAME  ALVAREZ, MARIA\nP BARCODE   " + CARD + "\n")
    msg.add_alternative("<html><body><p><b>PATRN NAME</b> ALVAREZ, MARIA</p><table><tr><td>P BARCODE</td><td>"
                        + CARD + "</td></tr></table><script>alert(2)</script></body></html>", subtype="html")
    return msg.as_bytes()


def _send(port: int, rcpts: list[str], raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.sendmail("circ@ccrls.org", rcpts, raw)


def test_times_name_their_zone():
    """Every time on the pages carries its zone."""
    from datetime import UTC, datetime

    assert ZONE.search(_when(datetime(2026, 12, 6, 21, 30, tzinfo=UTC)))


def test_held_items_are_told_apart_fit_at_200_percent_and_read_safely(relay) -> None:  # noqa: F811
    """Subjects (masked), domains, counts and attachments tell two items apart; zoomed, nothing scrolls sideways; reveal, decide and banner in chromium."""
    sync_playwright = _playwright()
    shots = relay["tmp"] / "screenshots"
    shots.mkdir()
    _send(relay["smtp"], ["billing@example.net", "audit@example.net"], _export())
    _send(relay["smtp"], ["landlord@example.org"], _html())
    base = f"http://127.0.0.1:{relay['ui']}"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/login")
            page.fill("#name", "maria")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")

            def listed() -> int:
                page.goto(base + "/")
                return page.locator("table.items tbody tr").count()

            wait_for(lambda: listed() == 2, "two held messages in the list")
            page.screenshot(path=shots / "1-list.png", full_page=True)
            rows = [page.locator("table.items tbody tr").nth(i).inner_text() for i in range(2)]
            export, html = sorted(rows, key=lambda r: "account" in r)
            assert "Overdue list for ••••• •••••••" in export and "to 2 recipients at example.net ×2" in export
            assert "CSV table" in export and "•••••••_overdue.csv: library card number" in export
            assert "account" in html and "to 1 recipient at example.org" in html
            assert ZONE.search(export) and ZONE.search(html)
            content = page.content()
            assert CARD not in content and "Alvarez" not in content and "alvarez" not in content

            # 200 % zoom of the same window: the CSS viewport halves; every Open button stays on screen.
            zoomed = browser.new_page(viewport={"width": 640, "height": 450}, device_scale_factor=2)
            zoomed.context.add_cookies(page.context.cookies())
            zoomed.goto(base + "/")
            assert zoomed.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            for i in range(2):
                button = zoomed.locator("table.items a.button").nth(i)
                button.scroll_into_view_if_needed()
                box = button.bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 640
            zoomed.screenshot(path=shots / "2-list-200-percent.png", full_page=True)

            # The HTML message, revealed: text, not source; the display name literally, nothing run.
            page.goto(base + "/")
            page.locator("table.items tbody tr", has_text="account").locator("a.button").click()
            assert ZONE.search(page.inner_text("main"))
            page.click("text=Show the full message")
            shown = page.locator("section.revealed")
            text = shown.inner_text()
            assert "<script>alert(1)</script> <circ@ccrls.org>" in text
            assert "text/html, shown as text" in text and "PATRN NAME ALVAREZ, MARIA" in " ".join(text.split())
            assert "<table>" not in text.split("Raw message")[0] and "<b>" not in text.split("Raw message")[0]
            assert shown.locator("script, table, b").count() == 0
            page.screenshot(path=shots / "3-revealed-html.png", full_page=True)
            colour = "el => getComputedStyle(el).backgroundColor"
            release = page.locator("form.decision.release button.risky").evaluate(colour)
            redacted = page.locator("form.decision.release-redacted button.primary").evaluate(colour)
            assert release != redacted
            assert "patron data goes out" in page.inner_text("form.decision.release")
            page.screenshot(path=shots / "4-decisions.png", full_page=True)
            page.click("text=Preview the redacted copy first")
            preview = page.locator("section.preview").inner_text()
            assert "What the recipients would get" in preview and CARD not in preview
            page.screenshot(path=shots / "4b-redacted-preview.png", full_page=True)

            form = page.locator("form.decision.release")
            form.locator("textarea").fill("The landlord is the guarantor on file.")
            form.locator("input[type=checkbox]").check()
            form.locator("button").click()
            banner = page.inner_text("p.flash")
            assert "“account”" in banner and "Released" in banner and page.url.split("/items/")[1] in banner
            page.screenshot(path=shots / "5-released-banner.png", full_page=True)
        finally:
            browser.close()

    def notice() -> list[bytes]:
        return [m[2] for m in relay["sink"].messages if b"X-PatronGuard-Notice: released;" in m[2]]

    wait_for(lambda: len(notice()) == 1, "the sender's release notice")
    body = " ".join(email.message_from_bytes(notice()[0], policy=email.policy.default).get_content().split())
    assert "- a recipient at example.org" in body and "The supervisor's note: The landlord is the guarantor" in body
    assert CARD not in body and "landlord@example.org" not in body


def test_a_supervisor_rejects_two_ticked_messages_at_once_in_a_browser(relay) -> None:  # noqa: F811
    """Tick two held messages, write one note, confirm and reject: both are rejected and each sender is told."""
    sync_playwright = _playwright()
    shots = relay["tmp"] / "screenshots"
    shots.mkdir()
    _send(relay["smtp"], ["billing@example.net", "audit@example.net"], _export())
    _send(relay["smtp"], ["landlord@example.org"], _html())
    base = f"http://127.0.0.1:{relay['ui']}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/login")
            page.fill("#name", "maria")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")

            def listed() -> int:
                page.goto(base + "/")
                return page.locator("table.items tbody tr").count()

            wait_for(lambda: listed() == 2, "two held messages in the list")
            boxes = page.locator("input[name=item]")
            boxes.nth(0).check()
            page.keyboard.press("Tab")  # the controls are reachable by keyboard
            boxes.nth(1).check()
            page.fill("#bulk-note", "Please send these through the secure portal.")
            page.locator("fieldset.bulk-decide input[name=confirm]").check()
            page.screenshot(path=shots / "1-ticked.png", full_page=True)
            page.click("text=Reject the ticked messages")
            assert "Rejected 2 messages, each sender told with your note" in page.inner_text("p.flash")
            assert "No message is waiting for a decision." in page.inner_text("main")
            page.screenshot(path=shots / "2-rejected.png", full_page=True)
            page.click("text=Dashboard")
            assert "Rejected: 2" in page.inner_text("main")
            assert page.locator("svg.chart").count() == 4 and page.locator("script").count() == 0
            assert "0 % (0/2)" in page.inner_text("main")  # a library card number: both holds rejected
            page.screenshot(path=shots / "3-dashboard.png", full_page=True)
        finally:
            browser.close()

    def notices() -> list[bytes]:
        return [m[2] for m in relay["sink"].messages if b"X-PatronGuard-Notice: rejected;" in m[2]]

    wait_for(lambda: len(notices()) == 2, "both senders' reject notices")
    assert all(b"secure portal" in n for n in notices())


def test_an_admin_filters_the_audit_trail_and_lists_accounts_in_a_browser(tmp_path) -> None:
    """An admin opens the audit trail from the navigation, filters it by action, and opens the accounts page."""
    from quarantine_support import SmtpSink, hold_patron_message
    from web_support import RunningUi, web_config

    from proxy.config import load
    from proxy.quarantine import open_store
    from proxy.web.accounts import set_reviewer

    sync_playwright = _playwright()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    sink = SmtpSink()
    path = web_config(tmp_path, f"smtp://127.0.0.1:{sink.port}")
    set_reviewer(tmp_path / "state" / "review-users", "ada", PASSWORD, admin=True)
    store = open_store(load(path).quarantine)
    running = RunningUi(path)
    try:
        held = [hold_patron_message(store) for _ in range(3)]
        base = f"http://127.0.0.1:{running.port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(base + "/login")
                page.fill("#name", "ada")
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.click("nav >> text=Audit trail")
                assert "3 records" in page.inner_text("main")
                page.select_option("#f-action", "hold")
                page.fill("#f-item", held[1])
                page.click("text=Filter")
                assert "1 record" in page.inner_text("main") and held[1] in page.inner_text("table.items")
                page.screenshot(path=shots / "1-audit-trail.png", full_page=True)
                csv_link = page.locator("text=Export these as CSV").get_attribute("href")
                assert csv_link is not None and csv_link.startswith("/audit.csv?")
                page.click("nav >> text=Accounts")
                table = page.inner_text("table.items")
                assert "ada\tadmin\tevery library" in table and "dallas\tsupervisor\tdallasor.gov" in table
                page.screenshot(path=shots / "2-accounts.png", full_page=True)
            finally:
                browser.close()
    finally:
        running.close()
        store.close()
        sink.close()
