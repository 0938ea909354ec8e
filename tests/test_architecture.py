"""Layering and packaging: detectors stay pure, and `proxy` is our package."""

from __future__ import annotations

import ast
from pathlib import Path

import proxy

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_DETECTORS = ("proxy", "asyncio", "aiosmtpd", "logging", "structlog", "socket")


def test_detectors_never_import_io_layers():
    """No module in detectors/ imports proxy/, asyncio, aiosmtpd, logging or sockets."""
    offenders = []
    for path in sorted((REPO / "detectors").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in FORBIDDEN_IN_DETECTORS:
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_proxy_package_is_ours():
    """The PyPI package proxy.py also installs a `proxy` module: ours must win."""
    assert Path(proxy.__file__).resolve().parent == REPO / "proxy"
