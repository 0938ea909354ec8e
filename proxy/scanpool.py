"""Scanning in worker processes: the detection engine and spaCy off the relay's event loop and GIL.

This module owns `ScanPool`, an `Executor` the pipeline hands `Scanner.scan`
calls to. A `Scanner` crosses the process boundary as its config only (see
`Scanner.__reduce__`); each worker builds the engine once per configuration
and keeps it, so a call costs the message bytes there and a `ScanResult`
(a few KB) back.

- `detection.processes: N` (default 1): N worker processes, started with
  `spawn` (no fork of a threaded process) and warmed before the relay listens.
- `detection.processes: 0`: a thread in the relay process (least memory).
- A worker that dies (a crash inside a parser, the OOM killer) breaks a
  `ProcessPoolExecutor` for good; `ScanPool` starts a fresh one on the next
  call. The pipeline scans again once after such a failure, and holds the
  message if the second attempt breaks too (a message that kills the scanner
  is uninspectable: fail closed).
- A worker whose relay is gone (SIGKILL, a crash) exits within a second
  instead of lingering with spaCy loaded.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from proxy.scan import Scanner

__all__ = ["BrokenProcessPool", "ScanPool", "scan_executor"]


def _exit_with_parent(parent: int, interval: float = 1.0) -> None:
    """Worker initializer: end this worker when the relay that started it is gone.

    A worker of a SIGKILLed relay would otherwise wait forever: it holds a write
    end of its own call queue, so it never sees end-of-file.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _warm(scanner: Scanner) -> int:
    scanner.warm()
    return multiprocessing.current_process().pid or 0


class ScanPool(Executor):
    """A process pool that replaces itself when a worker dies."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._lock = threading.Lock()
        self._pool = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_exit_with_parent, initargs=(os.getpid(),))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            try:
                return self._pool.submit(fn, *args, **kwargs)
            except BrokenProcessPool:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new()
                return self._pool.submit(fn, *args, **kwargs)

    def warm(self, scanner: Scanner) -> None:
        """Load the engine (and spaCy) in every worker before the relay takes mail; raise what loading raised."""
        futures = [self.submit(_warm, scanner) for _ in range(self.processes)]
        for f in futures:
            f.result()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def scan_executor(processes: int) -> Executor:
    """The executor for `detection.processes`: worker processes, or one thread when 0."""
    if processes <= 0:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan")
    return ScanPool(processes)
