"""Two relay processes sharing one PostgreSQL quarantine: held by one, released from the other, delivered once.

Each `patronguard serve` has its own spool (state directory) and review UI; both
use the same throwaway PostgreSQL database and the same quarantine key file, as
two nodes of a library consortium would.
"""

from __future__ import annotations

import smtplib
import threading
from pathlib import Path

import pytest
from quarantine_support import SmtpSink, free_port
from web_support import Client, Page, ServeProcess, wait_for, web_config

from proxy.config import load
from proxy.quarantine import ItemState, open_store

pytest_plugins = ["quarantine_fixtures"]
pytestmark = pytest.mark.slow

CARD = "23610003622817"
LEAK = (
    "From: circ@ccrls.org\r\nTo: landlord@example.net\r\nSubject: tenant\r\n\r\n"
    "PATRN NAME  ALVAREZ, MARIA\r\nP BARCODE   " + CARD + "\r\nMONEY OWED  $12.50\r\n"
)


def _node(tmp: Path, name: str, dsn: str, key: Path, sink: SmtpSink) -> tuple[ServeProcess, int, Path]:
    home = tmp / name
    home.mkdir()
    ui_port = free_port()
    config = web_config(home, f"smtp://127.0.0.1:{sink.port}")
    text = config.read_text()
    text = text.replace(f"  path: {home / 'q.db'}\n  key_file: {home / 'q.key'}\n",
                        f"  backend: postgresql\n  dsn: \"{dsn}\"\n  key_file: {key}\n")
    config.write_text(text.replace("listen: 127.0.0.1:0", f"listen: 127.0.0.1:{ui_port}"))
    return ServeProcess(config, home / "state", free_port(), home / "relay.log"), ui_port, config


def test_held_on_one_node_released_from_the_other_exactly_once(postgres, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Mail held by relay A shows on relay B's review pages; releases from both at once deliver it once."""
    sink = SmtpSink()
    dsn, key = postgres.create_database(), tmp_path / "shared.key"
    nodes = []
    try:
        node_a, ui_a, config_a = _node(tmp_path, "a", dsn, key, sink)
        nodes.append(node_a)
        node_a.wait_listening(ui_a)  # A creates the key file and the schema first
        node_b, ui_b, _ = _node(tmp_path, "b", dsn, key, sink)
        nodes.append(node_b)
        node_b.wait_listening(ui_b)

        with smtplib.SMTP("127.0.0.1", node_a.smtp_port, timeout=30) as client:
            client.sendmail("circ@ccrls.org", ["landlord@example.net"], LEAK.encode())
        store = open_store(load(config_a).quarantine)
        try:
            wait_for(lambda: len(store.items(ItemState.HELD)) == 1, "relay A to hold the message")
            (item,) = store.items(ItemState.HELD)

            pages: list[Page] = []
            clients = [Client(ui_a), Client(ui_b), Client(ui_a), Client(ui_b)]
            forms = []
            for c in clients:
                c.login()
                forms.append(c.get(f"/items/{item.id}"))
            assert all(f.status == 200 and "Why it was held" in f.body for f in forms)
            barrier = threading.Barrier(len(clients))

            def release(c: Client, form: Page) -> None:
                barrier.wait()
                pages.append(c.post(f"/items/{item.id}/release", {"csrf": form.csrf, "note": "ok", "confirm": "yes"}))

            threads = [threading.Thread(target=release, args=(c, f)) for c, f in zip(clients, forms, strict=True)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert [p.status for p in pages] == [200] * len(clients)

            def released() -> list[bytes]:
                return [m[2] for m in sink.messages if m[1] == ["landlord@example.net"]]

            wait_for(lambda: len(released()) == 1, "the released message upstream")
            assert CARD.encode() in released()[0]
            assert store.get(item.id).state is ItemState.RELEASED
            assert [r.action for r in store.audit_log()].count("release") == 1
            assert store.verify_audit().ok
            # The sender's release notice goes out once, from whichever node decided.
            wait_for(lambda: sum(b"has been sent" in m[2] for m in sink.messages) == 1, "one release notice")
            assert len(released()) == 1
        finally:
            store.close()
    finally:
        for node in nodes:
            node.stop()
        sink.close()
