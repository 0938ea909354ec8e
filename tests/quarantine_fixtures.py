"""Fixtures for the quarantine tests (loaded with `pytest_plugins`; tests/conftest.py is shared and left alone)."""

from __future__ import annotations

import pytest
from quarantine_support import _CLUSTER, Backend, SmtpSink, pg_cluster


@pytest.fixture
def sink():
    """A recording SMTP server on a random port."""
    s = SmtpSink()
    yield s
    s.close()


@pytest.fixture(scope="session")
def postgres():
    """The session's throwaway PostgreSQL cluster (or a loud skip)."""
    cluster = pg_cluster()
    yield cluster
    cluster.stop()
    _CLUSTER["cluster"] = "already stopped at the end of the session"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path):
    """One quarantine database on each backend (PostgreSQL: the session's throwaway cluster, or a loud skip)."""
    if request.param == "postgresql":
        cluster = pg_cluster()
        b = Backend("postgresql", tmp_path, dsn=cluster.create_database(), cluster=cluster)
    else:
        b = Backend("sqlite", tmp_path)
    yield b
    for store in b.opened:
        store.close()
