"""Scanning in worker processes: the detection engine and spaCy off the relay's event loop and GIL.

This module owns `ScanPool`: N worker processes (`detection.processes`, default
1) that run `Scanner.scan` (and redaction) for the relay. A `Scanner` crosses
the process boundary as its config only (see `Scanner.__reduce__`); each worker
builds the engine once per configuration and keeps it.

The relay talks to a worker over two pipes, read by its own event loop
(`loop.add_reader`): a call costs one pickle each way and no thread hand-off.
(`concurrent.futures.ProcessPoolExecutor` spent about 0.4 ms of the relay's CPU
per call in its feeder and management threads, a sixth of the relay's time.)

- Frames are a 4-byte big-endian length and a pickle: `(function, args)` in,
  `("ok", value)` or `("error", exception)` out. A worker answers its calls in
  order; each has at most two in flight (one running, the next already sent,
  so it never waits for the relay), and callers wait for a slot.
- A worker that dies (a crash inside a parser, the OOM killer) fails the call
  it had in flight with `BrokenProcessPool`; the next call starts a fresh one.
  The pipeline scans again once after such a failure, and holds the message if
  the second attempt breaks too (a message that kills the scanner is
  uninspectable: fail closed).
- A worker ends when its pipe from the relay closes: at shutdown, and when the
  relay is gone (SIGKILL, a crash), so none lingers with spaCy loaded.
- `detection.processes: 0`: a thread in the relay process (least memory).
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import struct
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from proxy.scanning.scan import Scanner

__all__ = ["BrokenProcessPool", "ScanPool", "call_in", "scan_executor"]

_HEADER = struct.Struct(">I")
_SYS_PATH = "PATRONGUARD_SCAN_SYS_PATH"


class _Replies(asyncio.Protocol):
    """Reads a worker's reply frames on the event loop and answers its calls in order."""

    def __init__(self, worker: _Worker) -> None:
        self.worker = worker
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buffer.extend(data)
        while len(self.buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self.buffer)
            if len(self.buffer) < _HEADER.size + size:
                return
            frame = bytes(self.buffer[_HEADER.size:_HEADER.size + size])
            del self.buffer[:_HEADER.size + size]
            future = self.worker.pending.popleft()
            if not future.done():  # a caller that gave up (cancelled) just misses its answer
                future.set_result(frame)

    def connection_lost(self, exc: Exception | None) -> None:
        self.worker.fail("a scanning process died while scanning")


class _Worker:
    """One scanning process, its pipes as asyncio transports, and its calls in flight (answered in order)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from proxy.scanning.pool import worker_main; worker_main()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True,
            # the relay's import path (as multiprocessing's spawn passes it), so what it pickles imports there
            env={**os.environ, _SYS_PATH: json.dumps(sys.path)},
        )
        self.pending: deque[asyncio.Future[bytes]] = deque()
        self.broken = False
        self.writer: asyncio.WriteTransport | None = None
        self.reader: asyncio.ReadTransport | None = None

    async def connect(self) -> _Worker:
        loop = asyncio.get_running_loop()
        self.writer, _ = await loop.connect_write_pipe(asyncio.BaseProtocol, self.proc.stdin)
        self.reader, _ = await loop.connect_read_pipe(lambda: _Replies(self), self.proc.stdout)
        return self

    def call(self, frame: bytes) -> asyncio.Future[bytes]:
        """Queue one request (written without blocking the loop); the future gets its reply frame."""
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        if self.broken or self.writer is None or self.writer.is_closing():
            self.broken = True
            future.set_exception(BrokenProcessPool("the scanning process is gone"))
            return future
        self.pending.append(future)
        self.writer.write(frame)
        return future

    def fail(self, reason: str) -> None:
        self.broken = True
        while self.pending:
            future = self.pending.popleft()
            if not future.done():
                future.set_exception(BrokenProcessPool(reason))

    def alive(self) -> bool:
        return not self.broken and self.proc.poll() is None

    def close(self, wait: bool) -> None:
        for transport in (self.writer, self.reader):
            if transport is not None:
                try:
                    transport.close()
                except RuntimeError:  # its event loop is already closed: close the pipes themselves
                    pass
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        if wait:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        elif self.broken:
            self.proc.kill()


class ScanPool:
    """`processes` scanning processes, started on first use and replaced when one dies.

    Each worker gets up to `depth` calls at once, so it starts the next message
    as soon as it finishes one instead of waiting for the relay to read the reply.
    """

    def __init__(self, processes: int, depth: int = 2) -> None:
        self.processes = processes
        self.depth = depth
        self._workers: list[_Worker] = []
        self._slots: asyncio.Semaphore | None = None
        self._starting: asyncio.Lock | None = None

    async def _worker(self) -> _Worker:
        """The live worker with the fewest calls in flight; a new one while there are fewer than `processes`."""
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            for dead in [w for w in self._workers if not w.alive()]:
                self._workers.remove(dead)
                dead.fail("a scanning process died")
                dead.close(wait=False)
            if len(self._workers) < self.processes:
                self._workers.append(await _Worker().connect())
        return min(self._workers, key=lambda w: len(w.pending))

    async def call(self, fn: Callable[..., Any], /, *args: Any) -> Any:
        """`fn(*args)` in a worker process; its exception is raised here (`BrokenProcessPool` if it died)."""
        payload = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.processes * self.depth)
        async with self._slots:
            worker = await self._worker()
            reply = await worker.call(_HEADER.pack(len(payload)) + payload)
        status, value = pickle.loads(reply)
        if status == "error":
            raise value
        return value

    async def warm(self, scanner: Scanner) -> None:
        """Load the engine (and spaCy) in every worker before the relay takes mail; raise what loading raised."""
        await asyncio.gather(*(self.call(_warm, scanner) for _ in range(self.processes)))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Close every worker's pipe (each exits when it sees the end); with `wait`, reap them."""
        workers, self._workers, self._slots, self._starting = self._workers, [], None, None
        for worker in workers:
            worker.close(wait)


def _warm(scanner: Scanner) -> int:
    scanner.warm()
    return os.getpid()


def worker_main() -> None:
    """A scanning process: answer frames from stdin on a private copy of stdout until stdin closes."""
    if _SYS_PATH in os.environ:
        sys.path[:] = json.loads(os.environ.pop(_SYS_PATH))
    stdin = sys.stdin.buffer
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # whatever a library prints must not corrupt the replies
    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        (size,) = _HEADER.unpack(header)
        body = stdin.read(size)
        if len(body) < size:
            return
        try:
            fn, args = pickle.loads(body)
            reply = pickle.dumps(("ok", fn(*args)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # sent back whole when it pickles, else by class name (never its text)
            try:
                reply = pickle.dumps(("error", exc), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:
                reply = pickle.dumps(("error", RuntimeError(f"{type(exc).__name__} in the scanning process")))
        out.write(_HEADER.pack(len(reply)) + reply)
        out.flush()


async def call_in(executor: ScanPool | Executor, fn: Callable[..., Any], /, *args: Any) -> Any:
    """`fn(*args)` where the relay scans: a `ScanPool`'s process, or an executor's thread."""
    if isinstance(executor, ScanPool):
        return await executor.call(fn, *args)
    return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)


def scan_executor(processes: int) -> ScanPool | Executor:
    """Where `detection.processes` says to scan: worker processes, or one thread when 0."""
    if processes <= 0:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan")
    return ScanPool(processes)
