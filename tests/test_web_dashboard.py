"""The dashboard: held, released, rejected and expired by library, rule and week, and each rule's release rate."""

from __future__ import annotations

from datetime import UTC, datetime

from quarantine_support import hold_patron_message
from test_notify import held_item
from test_web import setup as setup  # noqa: F401 — the fixture: review pages over a fresh quarantine
from web_support import Client

from proxy.quarantine import ItemState
from proxy.web.dashboard import figures, rule_words

pytest_plugins = ["quarantine_fixtures"]


def test_figures_count_each_item_once_per_rule_and_rate_releases_over_decisions():
    """Release rate = released (also redacted) ÷ released or rejected; expiries and waiting mail decide nothing."""
    day = datetime(2026, 11, 30, 9, tzinfo=UTC)
    items = [
        held_item(id="a", state=ItemState.RELEASED, rules=("patron-card", "patron-card", "policy:external:hold"),
                  received_at=day),
        held_item(id="b", state=ItemState.RELEASED_REDACTED, rules=("patron-card",), received_at=day),
        held_item(id="c", state=ItemState.REJECTED, rules=("patron-card", "ils-record"), library="dallasor.gov",
                  received_at=day),
        held_item(id="d", state=ItemState.EXPIRED, rules=("ils-record",), received_at=day),
        held_item(id="e", state=ItemState.HELD, rules=("ils-record",), received_at=datetime(2026, 12, 7, tzinfo=UTC)),
    ]
    f = figures(items)
    assert f.by_rule["patron-card"] == {"released": 2, "rejected": 1}
    assert "policy:external:hold" not in f.by_rule
    assert f.release_rates() == [("patron-card", 2, 3, 2 / 3), ("ils-record", 0, 1, 0.0)]
    assert f.by_library["dallasor.gov"] == {"rejected": 1}
    assert list(f.by_week) == ["2026-W49", "2026-W50"] and f.total["expired"] == 1
    assert rule_words("partner-not-approved-for:titles,holds") == "more than a partner may receive (titles, holds)"


def test_the_dashboard_counts_only_the_reviewers_libraries_and_runs_no_script(setup) -> None:  # noqa: F811
    """A supervisor of Dallas sees Dallas' figures only; the charts are inline SVG under the no-script CSP."""
    _, store, running = setup
    salem = hold_patron_message(store)
    store.hold(b"Subject: x\r\n\r\ncard", "desk@dallasor.gov", ["x@example.net"], ["external"], ["patron-card"], [])
    maria = Client(running.port)
    maria.login()
    page = maria.get("/dashboard")
    assert page.status == 200 and "<svg" in page.body and "<script" not in page.body
    assert "Waiting: 2" in page.body and "cityofsalem.net" in page.body
    assert "script-src" not in page.headers["Content-Security-Policy"]  # default-src 'none' covers scripts
    dallas = Client(running.port)
    dallas.login("dallas")
    page = dallas.get("/dashboard")
    assert "Waiting: 1" in page.body and "cityofsalem.net" not in page.body and salem not in page.body
