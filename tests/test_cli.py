"""`patronguard scan` as a user runs it: exit codes, JSON lines, one-line errors, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CARD = "23610003622817"

LEAK = (
    "From: Pat Staff <circ@cityofsalem.net>\r\nTo: someone@example.com\r\nSubject: lookup\r\n\r\n"
    f"Can you check card {CARD} for me?\r\n"
).encode()
BENIGN = b"From: circ@cityofsalem.net\nTo: vendor@example.com\nSubject: order\n\nPlease send 3 more boxes of book tape.\n"


def run(*args: str, stdin: bytes | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "proxy.cli", *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("mail")
    (d / "leak.eml").write_bytes(LEAK)
    (d / "ok.eml").write_bytes(BENIGN)
    return d


def test_json_lines_in_input_order_and_exit_1_when_held(files):
    """--json prints one object per file in order; a held message makes the exit status 1."""
    r = run("scan", "--json", str(files / "ok.eml"), str(files / "leak.eml"))
    assert r.returncode == 1, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [Path(x["file"]).name for x in lines] == ["ok.eml", "leak.eml"]
    assert lines[0]["recipients"] == [{"address": "vendor@example.com", "class": "external", "action": "deliver"}]
    assert lines[1]["recipients"][0]["action"] == "hold"
    assert "patron-card" in lines[1]["rules"]
    finding = next(f for f in lines[1]["findings"] if f["kind"] == "patron_barcode")
    assert set(finding) >= {"kind", "part", "start", "end", "score", "excerpt", "why"}
    assert CARD not in r.stdout and finding["excerpt"] == "2361•••••••817"


def test_exit_0_when_all_delivered(files):
    """Benign mail exits 0 and says deliver."""
    r = run("scan", str(files / "ok.eml"))
    assert r.returncode == 0
    assert "deliver" in r.stdout


def test_to_overrides_recipients_and_classes_them(files):
    """--to replaces the header recipients; an internal address gets the patron card delivered."""
    r = run("scan", "--json", "--to", "circ@ccrls.org", str(files / "leak.eml"))
    assert r.returncode == 0
    assert json.loads(r.stdout)["recipients"] == [{"address": "circ@ccrls.org", "class": "internal", "action": "deliver"}]


def test_stdin_is_read_with_dash():
    """'-' reads the message from standard input."""
    r = run("scan", "--json", "-", stdin=LEAK)
    assert r.returncode == 1
    assert json.loads(r.stdout)["file"] == "-"


def test_explain_shows_masked_context(files):
    """--explain shows where each finding is, masked."""
    r = run("scan", "--explain", str(files / "leak.eml"))
    assert "patron_barcode" in r.stdout and "[2361•••••••817]" in r.stdout
    assert CARD not in r.stdout


def test_unparseable_input_still_gets_a_verdict(tmp_path):
    """Garbage bytes are held for an outside recipient, not crashed on."""
    (tmp_path / "junk").write_bytes(b"\x00\xff\xfe--boundary\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n\x80")
    r = run("scan", "--json", "--to", "x@example.com", str(tmp_path / "junk"))
    assert r.returncode in (0, 1)
    assert "Traceback" not in r.stderr
    assert json.loads(r.stdout)["recipients"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("scan", "/nonexistent/file.eml"), "/nonexistent/file.eml: no such file"),
        (("scan", "--to", "not-an-address", "x"), "--to 'not-an-address': expected an email address"),
        (("scan",), "the following arguments are required: FILE"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
        (("scan", "--config", "/nonexistent.yaml", "x"), "/nonexistent.yaml: no such configuration file"),
    ],
)
def test_errors_are_one_line_exit_2(args, message):
    """Bad arguments, missing files and missing configs give one clear line and exit 2."""
    r = run(*args)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_bad_config_names_file_line_key(tmp_path, files):
    """A wrong config value is reported with file:line and the dotted key."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("library:\n  domains: [ccrls.org]\npolicy:\n  actions:\n    external: drop\n")
    r = run("scan", "--config", str(cfg), str(files / "ok.eml"))
    assert r.returncode == 2
    assert f"{cfg}:5: policy.actions.external: expected an action" in r.stderr
