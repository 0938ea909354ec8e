"""The unit files in systemd/ pass `systemd-analyze verify` and the timer starts the purge as the relay's user."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parent.parent / "systemd"
INSTALLED = "/opt/patronguard/.venv/bin/patronguard"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name)
    return parser


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_units_verify_cleanly(tmp_path):
    """`systemd-analyze verify` finds nothing to say about any unit (with ExecStart pointed at this checkout's CLI)."""
    cli = Path(sys.executable).with_name("patronguard")
    for unit in UNITS.iterdir():
        (tmp_path / unit.name).write_text(unit.read_text().replace(INSTALLED, str(cli)))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_purge_runs_daily_as_the_relay_user_on_the_same_state():
    """The timer is daily and persistent; the purge service shares the relay's user, state directory and config."""
    timer, purge, relay = _unit("patronguard-purge.timer"), _unit("patronguard-purge.service"), _unit("patronguard.service")
    assert timer["Timer"]["Persistent"] == "true" and "03:15" in timer["Timer"]["OnCalendar"]
    assert purge["Service"]["Type"] == "oneshot"
    for key in ("User", "DynamicUser", "StateDirectory"):
        assert purge["Service"][key] == relay["Service"][key], key
    assert "quarantine purge" in purge["Service"]["ExecStart"]
    assert "--state-dir /var/lib/patronguard" in purge["Service"]["ExecStart"]
    assert "--state-dir /var/lib/patronguard" in relay["Service"]["ExecStart"]


def test_review_pages_run_as_the_relay_user_on_the_same_state():
    """patronguard-review.service runs `review-ui` with the relay's user, state directory and config."""
    review, relay = _unit("patronguard-review.service"), _unit("patronguard.service")
    for key in ("User", "DynamicUser", "StateDirectory"):
        assert review["Service"][key] == relay["Service"][key], key
    assert "review-ui" in review["Service"]["ExecStart"]
    assert "--state-dir /var/lib/patronguard" in review["Service"]["ExecStart"]
    assert review["Service"]["NoNewPrivileges"] == "yes" and review["Service"]["ProtectSystem"] == "strict"
