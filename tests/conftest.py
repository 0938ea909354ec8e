"""Shared fixtures: paths to the repo, the shipped config and the shared corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not beside the clone ({CORPUS}); corpus tests need ../shared/corpus")
    return CORPUS


@pytest.fixture(scope="session")
def config():
    from proxy.config import load

    return load(REPO / "config.yaml")


@pytest.fixture(scope="session")
def scanner(config):
    from proxy.scanning.scan import Scanner

    s = Scanner(config)
    s.warm()
    return s
