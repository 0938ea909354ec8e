"""Supervisors hear of held mail by default: the shipped config tells them, and `serve` warns when nobody would be."""

from __future__ import annotations

import email
import email.policy
import json
import os
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest
from quarantine_support import free_port
from web_support import REPO, wait_for

from proxy.config import load, parse
from proxy.relay.notices import unsupervised

CARD = "23610003622817"
LEAK = (
    "From: staff@ccrls.org\r\nTo: friend@example.net\r\nSubject: account\r\n\r\n"
    "PATRN NAME  ALVAREZ, MARIA\r\nP BARCODE   " + CARD + "\r\nMONEY OWED  $12.50\r\n"
)


def test_the_shipped_config_tells_a_supervisor_of_every_member_librarys_held_mail():
    """Every sender domain of the shipped config has supervisors, in immediate mode, so nothing is held unseen."""
    cfg = load(REPO / "config.yaml")
    assert cfg.notices.enabled and cfg.notices.supervisor_mode == "immediate"
    assert cfg.notices.supervisors and unsupervised(cfg) == []


@pytest.mark.parametrize(
    ("notices", "expected"),
    [
        ("notices:\n  enabled: false\n", "notices.enabled is false: no sender and no supervisor is told of held mail"),
        ("", "held mail from ccrls.org, dallasor.gov reaches no supervisor: list its supervisors under "
             "notices.library_supervisors, or set notices.supervisors"),
        ("notices:\n  library_supervisors:\n    dallasor.gov: [dir@dallasor.gov]\n",
         "held mail from ccrls.org reaches no supervisor"),
        ("notices:\n  supervisors: [sup@ccrls.org]\n", None),
    ],
    ids=["notices-off", "nobody", "one-library-listed", "fallback-covers-all"],
)
def test_unsupervised_names_the_member_libraries_nobody_hears_of(notices, expected):
    """Each member library (sender domain) without a supervisor, and notices switched off, is one sentence."""
    cfg = parse("library:\n  domains: [ccrls.org, dallasor.gov]\n" + notices, "c.yaml")
    problems = unsupervised(cfg)
    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith(expected), problems


def _serve(config: Path, state: Path, outbox: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`patronguard serve` as `make run` starts it: the given config, ./var-like state, a maildir outbox."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "proxy.cli", "serve", "--config", str(config), "--listen", f"127.0.0.1:{port}",
             "--state-dir", str(state), "--upstream", f"maildir:{outbox}"],
            cwd=REPO, stdout=out, stderr=out, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(90)
    finally:
        if proc.poll() is None:
            proc.kill()


def _events(log: Path) -> list[dict[str, object]]:
    out = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def _listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> bool:
    assert proc.poll() is None, log.read_text()[-3000:]
    try:
        smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
    except OSError:
        return False
    return True


@pytest.mark.slow
def test_make_run_sends_the_supervisor_notice_of_a_held_message_to_the_outbox(tmp_path):
    """With the shipped config, as `make run` starts it, a held message's supervisor notice lands in the outbox (no patron data)."""
    config = tmp_path / "config.yaml"  # the shipped file, with the review pages on a free port
    config.write_text((REPO / "config.yaml").read_text().replace('listen: "127.0.0.1:8025"',
                                                                 f'listen: "127.0.0.1:{free_port()}"'))
    outbox, log, port = tmp_path / "outbox", tmp_path / "serve.log", free_port()
    proc = _serve(config, tmp_path / "var", outbox, port, log)
    try:
        wait_for(lambda: _listening(port, proc, log), "serve listening", timeout=120)
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.sendmail("staff@ccrls.org", ["friend@example.net"], LEAK.encode())

        def notices() -> list[email.message.EmailMessage]:
            found = []
            for path in (outbox / "new").glob("*") if (outbox / "new").is_dir() else ():
                msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                if str(msg.get("X-PatronGuard-Notice", "")).startswith("supervisor;"):
                    found.append(msg)
            return found  # type: ignore[return-value]

        wait_for(lambda: len(notices()) == 1, "the supervisor notice in the outbox", timeout=60)
        notice = notices()[0]
        assert notice["To"] == "circ-supervisor@ccrls.org"
        text = notice.as_string()
        assert CARD not in text and "ALVAREZ" not in text.upper() and "friend@example.net" not in text
        assert not [e for e in _events(log) if e.get("event") == "serve.held_mail_unsupervised"]
    finally:
        _stop(proc)


@pytest.mark.slow
def test_serve_warns_at_start_when_held_mail_would_reach_no_supervisor(tmp_path):
    """`serve` with supervisors left out logs a warning naming the member libraries nobody would tell."""
    config = tmp_path / "config.yaml"
    config.write_text("library:\n  domains: [ccrls.org, dallasor.gov]\ndetection:\n  names: false\n"
                      "notices:\n  library_supervisors:\n    dallasor.gov: [dir@dallasor.gov]\n")
    log, port = tmp_path / "serve.log", free_port()
    proc = _serve(config, tmp_path / "var", tmp_path / "outbox", port, log)
    try:
        wait_for(lambda: _listening(port, proc, log), "serve listening", timeout=120)
        warned = [e for e in _events(log) if e.get("event") == "serve.held_mail_unsupervised"]
        assert len(warned) == 1 and warned[0]["level"] == "warning", log.read_text()
        assert "held mail from ccrls.org reaches no supervisor" in str(warned[0]["error"])
    finally:
        _stop(proc)
