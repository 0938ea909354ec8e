"""Code quality gates: ruff on the whole tree, mypy on the packages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_ruff_is_clean():
    """ruff finds nothing in detectors/, proxy/, tests/ or bench/ (rules in pyproject.toml)."""
    r = subprocess.run([str(BIN / "ruff"), "check", "--output-format", "concise", "detectors", "proxy", "tests", "bench"],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_is_clean():
    """mypy finds no type errors in detectors/ and proxy/."""
    r = subprocess.run([str(BIN / "mypy")], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
