"""In-memory fakes of the relay's seams, shipped beside them for fast tests without sockets or spaCy.

This module owns one fake per seam the pipeline talks through:

    RecordingUpstream   `Upstream`: records every send; scripted refusals and deferrals per recipient
    MemoryHoldStore     `HoldStore`: holds in a dict, idempotent by queue id and recipients as the quarantine is
    RecordingNotices    the pipeline's `Notices`: records what would be spooled, spools nothing
    ScriptedScanner     the pipeline's `Scanner`: a fixed action per recipient, no detection engine
    FakeClock           a clock the test moves (`advance`)
    InlineExecutor      an `Executor` that runs each call at once, in the caller's thread
    RecordingLog        a logger that keeps (event, fields) pairs

The real parts are tested over real sockets and databases elsewhere; these let
a test drive the pipeline's logic (retry, expiry, bounces, redaction fallback,
replay after a crash) in milliseconds. Nothing in the relay imports this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from proxy.relay.delivery import Outcome, Status
from proxy.relay.holds import HoldRequest
from proxy.relay.spool import Envelope, RecipientState
from proxy.scanning.explain import Excerpt
from proxy.scanning.policy import Action
from proxy.scanning.scan import ScanSummary, Verdict

P = ParamSpec("P")
T = TypeVar("T")

OK = Outcome(Status.OK, 250, "250 2.0.0 queued")


@dataclass(frozen=True, slots=True)
class Sent:
    """One conversation with the upstream: the envelope and the bytes it was given."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes


class RecordingUpstream:
    """An `Upstream` that takes everything unless told otherwise, and remembers what it was sent.

    `defer(address, times=n)` answers 451 to `address` for its next `n` sends (None:
    always), `refuse(address)` answers 550; `crash_with(exc)` makes the next send
    raise `exc` instead of answering (a process dying mid-delivery, with a
    `BaseException`).
    """

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self._scripted: dict[str, list[Outcome | None]] = {}  # address → outcomes still to give; None: forever
        self._forever: dict[str, Outcome] = {}
        self._crash: BaseException | None = None

    def defer(self, address: str, times: int | None = 1, code: int = 451) -> None:
        self._script(address, Outcome(Status.TEMPORARY, code, f"{code} 4.3.0 try again later"), times)

    def refuse(self, address: str, times: int | None = None, code: int = 550) -> None:
        self._script(address, Outcome(Status.PERMANENT, code, f"{code} 5.1.1 no such user"), times)

    def crash_with(self, exc: BaseException) -> None:
        self._crash = exc

    def _script(self, address: str, outcome: Outcome, times: int | None) -> None:
        if times is None:
            self._forever[address] = outcome
        else:
            self._scripted.setdefault(address, []).extend([outcome] * times)

    async def send(self, mail_from: str, rcpt_tos: Sequence[str], data: bytes, smtputf8: bool) -> dict[str, Outcome]:
        if self._crash is not None:
            crash, self._crash = self._crash, None
            raise crash
        self.sent.append(Sent(mail_from, tuple(rcpt_tos), data))
        out: dict[str, Outcome] = {}
        for address in rcpt_tos:
            queued = self._scripted.get(address)
            if queued:
                out[address] = queued.pop(0) or OK
            else:
                out[address] = self._forever.get(address, OK)
        return out

    def delivered_to(self, address: str) -> int:
        """How many sends included `address` (whether or not it was taken)."""
        return sum(address in s.rcpt_tos for s in self.sent)


class MemoryHoldStore:
    """A `HoldStore` in a dict: the same entry held again for the same recipients returns the same id."""

    def __init__(self) -> None:
        self.requests: dict[str, HoldRequest] = {}
        self._ids: dict[tuple[str, tuple[str, ...]], str] = {}
        self.fail_next: Exception | None = None  # raised by the next hold (a quarantine that is not there)

    def hold(self, request: HoldRequest) -> str:
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        key = (request.entry.id, request.recipients)
        if key not in self._ids:
            self._ids[key] = f"q-{len(self._ids) + 1}"
            self.requests[self._ids[key]] = request
        return self._ids[key]


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice the pipeline asked for: which one, about which entry, for whom."""

    kind: str  # held, supervised, redacted
    entry_id: str
    recipients: tuple[str, ...]
    rules: tuple[str, ...]
    reference: str = ""


class RecordingNotices:
    """The pipeline's notices, recorded instead of spooled (every call returns "": nothing to submit)."""

    def __init__(self) -> None:
        self.sent: list[Notice] = []

    def held(self, entry_id: str, envelope: Envelope, recipients: Mapping[str, RecipientState], held: Sequence[str],
             reference: str, rules: Sequence[str], excerpts: Sequence[Excerpt] = ()) -> str:
        self.sent.append(Notice("held", entry_id, tuple(held), tuple(rules), reference))
        return ""

    def supervised(self, entry_id: str, envelope: Envelope, recipients: Mapping[str, RecipientState],
                   held: Sequence[str], reference: str, rules: Sequence[str], excerpts: Sequence[Excerpt] = ()) -> str:
        self.sent.append(Notice("supervised", entry_id, tuple(held), tuple(rules), reference))
        return ""

    def redacted(self, entry_id: str, envelope: Envelope, recipients: Mapping[str, RecipientState],
                 redacted: Sequence[str], rules: Sequence[str], excerpts: Sequence[Excerpt] = ()) -> str:
        self.sent.append(Notice("redacted", entry_id, tuple(redacted), tuple(rules)))
        return ""


class ScriptedScanner:
    """Decides by address instead of by content: `actions[address]` (default: deliver), with the given rules.

    It cannot scan, so a redacted copy can never be made from it: redact
    recipients fall back to a hold (the pipeline fails closed).
    """

    def __init__(self, actions: Mapping[str, Action] | None = None, rules: Sequence[str] = (),
                 excerpts: Sequence[Excerpt] = ()) -> None:
        self.actions = dict(actions or {})
        self.rules = tuple(rules)
        self.excerpts = tuple(excerpts)
        self.scans = 0

    def summarize(self, raw: bytes, recipients: Sequence[str] | None = None, sender: str | None = None,
                  client: str | None = None) -> ScanSummary:
        self.scans += 1
        verdicts = tuple(Verdict(a, self.actions.get(a, Action.DELIVER), "internal" if a not in self.actions
                                 else "external") for a in recipients or ())
        held = any(v.action is not Action.DELIVER for v in verdicts)
        return ScanSummary(verdicts, self.rules, self.excerpts if held else (), (), len(self.excerpts), 0, 0.0)

    def scan(self, *args: Any) -> Any:
        raise NotImplementedError("a scripted scanner decides by address; it cannot scan or redact")


class FakeClock:
    """Seconds since the epoch that move only when told (`advance`)."""

    def __init__(self, now: float = 1_741_080_600.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


class InlineExecutor(Executor):
    """Runs each submitted call at once in the calling thread (scans with a `ScriptedScanner` need no pool)."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the awaiting coroutine, as a pool would
            future.set_exception(exc)
        return future


@dataclass
class RecordingLog:
    """A structlog-shaped logger that keeps every event with its fields."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def _record(self, event: str, **fields: Any) -> None:
        self.events.append((event, fields))

    debug = info = warning = error = _record

    def named(self, event: str) -> list[dict[str, Any]]:
        return [fields for name, fields in self.events if name == event]
