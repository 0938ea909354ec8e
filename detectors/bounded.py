"""Extractors run in warm child interpreters under a time and a memory bound.

This module owns `BoundedRunner`: a small pool of long-lived worker processes,
each a fresh Python interpreter (not a fork: it inherits neither the relay's
threads and locks nor its loaded spaCy model, and re-imports no `__main__`),
with an address-space limit (`RLIMIT_AS`) and a process group of its own. One
attachment is one job: the payload goes to a worker over its stdin, the pieces
of text come back over its stdout, both as length-prefixed pickles. When a job
overruns its timeout the worker's whole process group (Tesseract and
Ghostscript included) is killed and a fresh worker replaces it on the next job;
a crash, a memory error or a payload over the size limit is reported the same
way. Every failure becomes a short `Uninspectable` reason ("timeout pdf",
"memory-limit xlsx", "crashed image", "too-large zip"), never an exception that
reaches the mail path.

`BoundedRunner.bounded(extractor, label=...)` turns any module-level
`Extractor` into a bounded one with the same signature; that is what
`detectors.documents.register_all` puts into the registry. Results of finished
jobs are kept in a small LRU keyed by the payload's digest: the same logo or
form attached to many messages is read once.

It holds no message content beyond that cache, does not log, and does not
import from `proxy/`.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import pickle
import queue
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from detectors.extract import ExtractedText, Extractor, Uninspectable

_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Bounds:
    """Limits for one attachment's extraction."""

    timeout_s: float = 20.0  # formats read without OCR (Office, RTF)
    ocr_timeout_s: float = 90.0  # formats that may need OCR (images, PDFs, archives): ~0.5-2 s per page
    memory_bytes: int = 1536 * _MIB  # address space of a worker (and of each Tesseract/gs it starts)
    max_payload_bytes: int = 40 * _MIB  # bigger attachments are not read at all
    workers: int = 2  # jobs at once; more callers wait for a free worker
    cache_entries: int = 256  # finished results kept by payload digest
    cache_max_chars: int = 200_000  # larger results are not cached

    def __post_init__(self) -> None:
        if self.timeout_s <= 0 or self.ocr_timeout_s <= 0:
            raise ValueError("bounds: timeouts must be positive")
        if self.workers < 1:
            raise ValueError("bounds: workers must be at least 1")
        if self.memory_bytes < 256 * _MIB:
            raise ValueError("bounds: memory_bytes below 256 MiB leaves no room for the interpreter")


# A piece as it crosses the pipe: (text, name, content_type, tabular).
_Wire = tuple[str, "str | None", "str | None", bool]
_DEFAULT_PRELOAD = ("detectors.documents", "pypdf", "openpyxl", "PIL.Image", "defusedxml.ElementTree")


class BoundedRunner:
    """A pool of worker processes that run extractors with a timeout and a memory limit; thread-safe."""

    def __init__(self, bounds: Bounds | None = None, preload: tuple[str, ...] = _DEFAULT_PRELOAD) -> None:
        self.bounds = bounds or Bounds()
        self._preload = preload
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(self.bounds.workers)
        self._lock = threading.Lock()
        self._workers: set[_Worker] = set()
        self._cache: OrderedDict[tuple[str, ...], tuple[tuple[_Wire, ...], str | None]] = OrderedDict()

    # -- public

    def warm(self) -> None:
        """Start every worker and wait until each has imported its libraries (at service start)."""
        fresh: list[_Worker] = []
        for _ in range(self.bounds.workers - self._idle.qsize()):
            self._slots.acquire()
            fresh.append(self._spawn())  # all start at once; then each is awaited
        for worker in fresh:
            try:
                self._await_ready(worker)
            except Exception:
                self._discard(worker)
                continue
            self._checkin(worker)

    def bounded(self, extractor: Extractor, *, label: str, ocr: bool = False) -> Extractor:
        """The same extractor, run in a worker under this runner's bounds; `label` names it in reasons."""
        return _BoundedExtractor(self, extractor, label, ocr)

    def run(
        self,
        extractor: Extractor,
        payload: bytes,
        content_type: str,
        filename: str | None,
        *,
        label: str,
        ocr: bool = False,
    ) -> tuple[list[ExtractedText], str | None]:
        """Run one extraction; returns the pieces read and the uninspectable reason, if any. Never raises.

        `extractor` must be importable by name (a module-level function): it is pickled by reference.
        """
        if len(payload) > self.bounds.max_payload_bytes:
            return [], f"too-large {label}"
        key = (
            getattr(extractor, "__module__", ""),
            getattr(extractor, "__qualname__", repr(extractor)),
            label,
            hashlib.sha256(payload).hexdigest(),
            content_type,
            filename.rsplit(".", 1)[-1].lower() if filename and "." in filename else "",
        )
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
        if cached is None:
            timeout = self.bounds.ocr_timeout_s if ocr else self.bounds.timeout_s
            wire, reason, cacheable = self._run_in_worker(
                extractor, payload, content_type, filename, label, timeout
            )
            cached = (tuple(wire), reason)
            if cacheable and sum(len(w[0]) for w in wire) <= self.bounds.cache_max_chars:
                with self._lock:
                    self._cache[key] = cached
                    while len(self._cache) > self.bounds.cache_entries:
                        self._cache.popitem(last=False)
        wire_pieces, reason = cached
        pieces = [ExtractedText(text=t, name=n, content_type=c, tabular=tab) for t, n, c, tab in wire_pieces]
        return pieces, reason

    def close(self) -> None:
        """Stop every worker and forget cached results; later calls start new workers."""
        with self._lock:
            workers = list(self._workers)
            self._workers.clear()
            self._cache.clear()
        for worker in workers:
            worker.stop()
        while True:
            try:
                self._idle.get_nowait()
            except queue.Empty:
                break

    # -- workers

    def _run_in_worker(
        self,
        extractor: Extractor,
        payload: bytes,
        content_type: str,
        filename: str | None,
        label: str,
        timeout: float,
    ) -> tuple[list[_Wire], str | None, bool]:
        """(pieces, reason, cacheable): timeouts and crashes may be load, so they are not cached."""
        try:
            worker = self._checkout()
        except Exception:
            return [], f"extractor-unavailable {label}", False
        healthy = False
        try:
            worker.send((extractor, bytes(payload), content_type, filename, label))
            wire, reason = worker.receive(timeout)
            healthy = True
            return list(wire), reason, True
        except TimeoutError:
            return [], f"timeout {label}", False
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            return [], f"crashed {label}", False
        except Exception:
            return [], f"extractor-failed {label}", False
        finally:
            if healthy:
                self._checkin(worker)
            else:
                self._discard(worker)

    def _checkout(self) -> _Worker:
        self._slots.acquire()
        try:
            while True:
                try:
                    worker = self._idle.get_nowait()
                except queue.Empty:
                    break
                if worker.alive():
                    return worker
                self._forget(worker)
            worker = self._spawn()
            try:
                self._await_ready(worker)
            except BaseException:
                self._forget(worker)
                raise
            return worker
        except BaseException:
            self._slots.release()
            raise

    def _spawn(self) -> _Worker:
        worker = _Worker(self.bounds.memory_bytes, self._preload)
        with self._lock:
            self._workers.add(worker)
        return worker

    def _await_ready(self, worker: _Worker) -> None:
        # Interpreter start and imports (~0.5-1 s) must not count against the first job's time bound.
        worker.send((_noop, b"", "", None, "warm"))
        worker.receive(_START_TIMEOUT_S)

    def _checkin(self, worker: _Worker) -> None:
        self._idle.put(worker)
        self._slots.release()

    def _discard(self, worker: _Worker) -> None:
        self._forget(worker)
        self._slots.release()

    def _forget(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            self._workers.discard(worker)


class _BoundedExtractor:
    """An `Extractor` that delegates to a runner; yields the pieces, then raises the reason if any."""

    __slots__ = ("runner", "extractor", "label", "ocr")

    def __init__(self, runner: BoundedRunner, extractor: Extractor, label: str, ocr: bool) -> None:
        self.runner = runner
        self.extractor = extractor
        self.label = label
        self.ocr = ocr

    def __call__(self, payload: bytes, content_type: str, filename: str | None) -> Iterator[ExtractedText]:
        pieces, reason = self.runner.run(
            self.extractor, payload, content_type, filename, label=self.label, ocr=self.ocr
        )
        yield from pieces
        if reason is not None:
            raise Uninspectable(reason)


class _Worker:
    """One child interpreter and the parent's ends of its pipes (length-prefixed pickles both ways)."""

    __slots__ = ("process", "_in", "_out")

    def __init__(self, memory_bytes: int, preload: tuple[str, ...]) -> None:
        env = {k: v for k, v in os.environ.items() if k in _CHILD_ENV}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, os.environ.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CHILD_MAIN, str(memory_bytes), *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a crashing library's message could quote the file
            env=env,
            cwd=_PACKAGE_ROOT,
            start_new_session=True,  # its own process group: a timeout kills it with its Tesseract/gs
            close_fds=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in = self.process.stdin
        self._out = self.process.stdout.fileno()

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, job: object) -> None:
        data = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        self._in.write(_HEADER.pack(len(data)))
        self._in.write(data)
        self._in.flush()

    def receive(self, timeout: float) -> Any:
        """The next reply, or TimeoutError when it has not fully arrived within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        (size,) = _HEADER.unpack(self._read_exactly(_HEADER.size, deadline))
        return pickle.loads(self._read_exactly(size, deadline))

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        missing = size
        while missing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self._out], [], [], remaining)
            if not ready:
                raise TimeoutError
            chunk = os.read(self._out, min(missing, 4 * _MIB))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # the worker and every Tesseract/gs it started
            except (ProcessLookupError, PermissionError):
                self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


_HEADER = struct.Struct("!Q")
_START_TIMEOUT_S = 60.0  # a worker that cannot import its libraries in this time is not coming up
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CHILD_MAIN = "from detectors.bounded import serve; serve()"
# The child gets no more of the relay's environment than it needs to find Python, Tesseract and gs.
_CHILD_ENV = frozenset(
    {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TESSDATA_PREFIX", "VIRTUAL_ENV", "PYTHONHOME"}
)


def serve() -> None:
    """Worker main loop (runs in the child interpreter): one job at a time until stdin closes."""
    import importlib
    import resource

    memory_bytes = int(sys.argv[1])
    # The reply pipe gets a private descriptor; whatever a library prints goes to /dev/null.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    stdin = sys.stdin.buffer
    for module in sys.argv[2:]:
        try:
            importlib.import_module(module)
        except ImportError:
            pass  # a missing optional library fails the job that needs it, with a reason
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    except (ValueError, OSError):
        pass
    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        (size,) = _HEADER.unpack(header)
        extractor, payload, content_type, filename, label = pickle.loads(stdin.read(size))
        reply = _run_job(extractor, payload, content_type, filename, label)
        del payload
        try:
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            data = pickle.dumps(([], f"memory-limit {label}"))
        try:
            out.write(_HEADER.pack(len(data)))
            out.write(data)
            out.flush()
        except OSError:
            return


def _noop(payload: bytes, content_type: str, filename: str | None) -> Iterator[ExtractedText]:
    """The job `warm()` sends: proves a worker is up and has imported its libraries."""
    return iter(())


def _run_job(
    extractor: Extractor, payload: bytes, content_type: str, filename: str | None, label: str
) -> tuple[list[_Wire], str | None]:
    wire: list[_Wire] = []
    reason: str | None = None
    try:
        for piece in extractor(payload, content_type, filename):
            if isinstance(piece, str):
                piece = ExtractedText(text=piece)
            wire.append((piece.text, piece.name, piece.content_type, piece.tabular))
    except Uninspectable as exc:
        reason = exc.reason
    except MemoryError:
        wire, reason = [], f"memory-limit {label}"
    except RecursionError:
        reason = f"too-deep {label}"
    except Exception:
        reason = f"extractor-failed {label}"
    return wire, reason


# ---------------------------------------------------------------------------
# The process-wide runner

_shared: BoundedRunner | None = None
_shared_lock = threading.Lock()


def shared_runner(bounds: Bounds | None = None) -> BoundedRunner:
    """The process-wide runner (created on first use; `bounds` only counts on that first call)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = BoundedRunner(bounds)
            atexit.register(_shared.close)
        return _shared
