"""Corpus tests: every malformed-MIME sample and every real ham message extracts without raising."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from detectors.extract import extract

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

pytestmark = pytest.mark.corpus


def _messages(folder: Path) -> list[Path]:
    if not folder.is_dir():
        pytest.skip(f"corpus folder {folder} is absent (it lives in shared/corpus beside the repository)")
    return sorted(p for p in folder.rglob("*") if p.is_file() and "_attribution" not in p.parts)


def test_every_mime_edge_message_extracts() -> None:
    """All mime_edge samples extract without raising, with unique paths, in well under a minute."""
    files = _messages(CORPUS / "mime_edge")
    assert len(files) >= 500
    started = time.perf_counter()
    for path in files:
        ex = extract(path.read_bytes())
        paths = [p.path for p in ex.parts]
        assert len(paths) == len(set(paths)), path.name
    # A generous sanity bound, not a benchmark: catches a quadratic blow-up, not a slow machine.
    assert time.perf_counter() - started < 60


def test_ham_messages_extract_with_a_body() -> None:
    """Real ham mail extracts without raising, and nearly every message yields a non-subject part."""
    files = _messages(CORPUS / "spamassassin_ham")
    with_body = 0
    for path in files:
        ex = extract(path.read_bytes())
        if any(p.origin != "subject" for p in ex.parts):
            with_body += 1
    assert with_body >= 2700
