"""Relay throughput and latency: PatronGuard against a bare aiosmtpd forwarder and the sink itself.

    .venv/bin/python bench/relay.py [--sessions N] [--messages M] [--runs R] [--rate 20]
                                    [--latency-seconds 30] [--corpus DIR] [--config FILE]
                                    [--no-smtp-source] [--no-latency]

Three configurations get the same load in one run, each into a fresh Postfix
`smtp-sink` on a 127.0.0.1 high port:

1. straight into `smtp-sink` (the ceiling);
2. a bare aiosmtpd forwarder (`--role forwarder`, a child process of this
   script): it forwards each message with smtplib to the sink, one connection
   per message, before answering 250 (PatronGuard keeps its upstream
   connections open for `upstream.keep_alive` seconds and reuses them);
3. `patronguard serve` (full inspection: the repository's config.yaml, spaCy
   names on; a temporary state directory; sender circ@ccrls.org, a library
   domain; recipient outside@example.com, so the outside-recipient policy runs).

Load: the ham corpus (`../shared/corpus/spamassassin_ham`, realistic mail), sent
by a small client in this script with `--sessions` threads, each on one
persistent SMTP connection, `--messages` messages in all (the corpus cycled in
file order, CRLF line ends, a unique `X-Bench-Id` header). `smtp-source` cannot
send files, so it drives a second, synthetic load (`-l` bytes = the corpus's
median size, one connection per message as smtp-source does); `--no-smtp-source`
skips it. Messages/s = messages counted by the sink (`smtp-sink -c` counters,
timestamped as this script reads them) / time from the first send to the last
sink receipt. Held mail never reaches the sink, but its hold notice does.

Latency: at a steady `--rate` messages/s for `--latency-seconds`, the time from
end of DATA (the client wrote the final "."; the moment is taken in
`smtplib.SMTP.send`) to the upstream sink's 250, for PatronGuard and the bare
forwarder. Here the sink is an aiosmtpd recorder (`--role recorder`, a child
process) that prints each X-Bench-Id with its arrival time (CLOCK_MONOTONIC is
system-wide, so child and parent times compare). Also printed: end of DATA to the
client's own 250 (acceptance).

Every server is a child process on 127.0.0.1, stopped in `finally`; every wait
is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import queue
import re
import shlex
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "spamassassin_ham"
SENDER = "circ@ccrls.org"
RECIPIENT = "outside@example.com"
SMTP_SINK = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
SMTP_SOURCE = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
BENCH_ID = re.compile(rb"^X-Bench-Id: (\d+)\r?$", re.MULTILINE)
SINK_COUNT = re.compile(rb"mesg=(\d+)")
START_TIMEOUT = 90.0   # PatronGuard loads spaCy before it listens
IDLE_TIMEOUT = 15.0    # no new sink receipt for this long: the run is over
MAX_RUN = 900.0        # hard bound on any one measurement


# ---------------------------------------------------------------- child roles


class Forwarder:
    """The baseline: accept, forward with smtplib (new connection each time), then answer."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def _forward(self, mail_from: str, rcpt_tos: list[str], data: bytes) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=60) as client:
            client.sendmail(mail_from, rcpt_tos, data)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        try:
            await asyncio.to_thread(self._forward, envelope.mail_from, list(envelope.rcpt_tos),
                                    envelope.original_content)
        except (smtplib.SMTPException, OSError):
            return "451 upstream failed"
        return "250 OK forwarded"


class Recorder:
    """Latency sink: prints `<bench id> <monotonic time>` for each message, then answers 250."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.monotonic()
        match = BENCH_ID.search(envelope.original_content[:65536])
        sys.stdout.write(f"{match.group(1).decode() if match else '-'} {now!r}\n")
        sys.stdout.flush()
        return "250 OK"


def run_role(role: str, port: int, upstream_port: int) -> None:
    from aiosmtpd.smtp import SMTP

    handler: Any = Forwarder("127.0.0.1", upstream_port) if role == "forwarder" else Recorder()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="bench.test", data_size_limit=50 * 2**20), "127.0.0.1", port)
        await stop.wait()
        server.close()
        await server.wait_closed()

    asyncio.run(main())


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


@contextmanager
def child(argv: Sequence[str], port: int, what: str, *, stdout: Any = subprocess.DEVNULL,
          stderr: Any = subprocess.DEVNULL, timeout: float = 20.0) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process, wait until it listens, always stop it (SIGTERM, then SIGKILL)."""
    proc = subprocess.Popen(list(argv), stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                            cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        wait_listening(port, proc, timeout, what)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


class Receipts:
    """Reads a sink's stdout in a thread: a count of messages and the time of the last one."""

    def __init__(self, proc: subprocess.Popen[bytes], recorder: bool) -> None:
        self.count = 0
        self.last = 0.0
        self.arrivals: dict[int, float] = {}
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(proc, recorder), daemon=True)
        self.thread.start()

    def _read(self, proc: subprocess.Popen[bytes], recorder: bool) -> None:
        assert proc.stdout is not None
        if recorder:
            for line in proc.stdout:
                ident, _, when = line.decode().partition(" ")
                with self.cond:
                    if ident.isdigit():
                        self.arrivals[int(ident)] = float(when)
                    self.count += 1
                    self.last = float(when)
                    self.cond.notify_all()
            return
        # smtp-sink -c rewrites "sess=N quit=N mesg=N\r" after each event.
        fd, buf = proc.stdout.fileno(), b""
        while chunk := os.read(fd, 65536):
            now = time.monotonic()
            buf += chunk
            *done, buf = buf.split(b"\r")
            for record in done:
                if m := SINK_COUNT.search(record):
                    n = int(m.group(1))
                    with self.cond:
                        if n > self.count:
                            self.count, self.last = n, now
                            self.cond.notify_all()

    def wait_for(self, expected: int, since: float) -> None:
        """Until `expected` receipts, or none for IDLE_TIMEOUT, or MAX_RUN after `since`."""
        with self.cond:
            while self.count < expected:
                now = time.monotonic()
                idle_from = max(self.last, since)
                if now - idle_from > IDLE_TIMEOUT or now - since > MAX_RUN:
                    return
                self.cond.wait(1.0)


def sink_argv(port: int) -> list[str]:
    user = ["-u", "nobody"] if os.geteuid() == 0 else []  # smtp-sink refuses to run as root without -u
    return [SMTP_SINK, *user, "-c", f"127.0.0.1:{port}", "256"]


def role_argv(role: str, port: int, upstream_port: int = 0) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--role", role, "--port", str(port),
            "--upstream-port", str(upstream_port)]


def patronguard_argv(config: Path, port: int, upstream_port: int, state: Path) -> list[str]:
    exe = Path(sys.executable).with_name("patronguard")
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "proxy.cli"]
    return [*head, "serve", "--config", str(config), "--listen", f"127.0.0.1:{port}",
            "--upstream", f"smtp://127.0.0.1:{upstream_port}", "--state-dir", str(state)]


def bench_config(source: Path, tmp: Path) -> Path:
    """The given config with quarantine file and key moved into the temporary directory, review pages off."""
    import yaml

    data = yaml.safe_load(source.read_text())
    quarantine = data.setdefault("quarantine", {})
    quarantine["path"] = str(tmp / "quarantine.db")
    quarantine["key_file"] = str(tmp / "quarantine.key")
    data.setdefault("review_ui", {})["enabled"] = False  # relay only (and no clash with a `make run` on :8025)
    domains = data.setdefault("library", {}).setdefault("domains", [])
    if SENDER.split("@")[1] not in domains:
        domains.append(SENDER.split("@")[1])
    out = tmp / "config.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


# ---------------------------------------------------------------- clients


class TimedSMTP(smtplib.SMTP):
    """smtplib that notes when the final "." of DATA went out (the end of DATA)."""

    end_of_data = 0.0

    def send(self, s: Any) -> None:
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.end_of_data = time.monotonic()


def load_corpus(corpus: Path) -> list[bytes]:
    files = sorted(p for p in corpus.rglob("*") if p.is_file())
    return [re.sub(rb"\r?\n", b"\r\n", p.read_bytes()) for p in files]


def tagged(messages: Sequence[bytes], n: int) -> bytes:
    return b"X-Bench-Id: %d\r\n" % n + messages[n % len(messages)]


@dataclass
class ClientResult:
    started: float
    sent: int = 0
    failed: int = 0
    eod: dict[int, float] = field(default_factory=dict)      # end of DATA
    accepted: dict[int, float] = field(default_factory=dict)  # client got 250


def _session(port: int, work: queue.Queue[tuple[int, float] | None], payload: Any, result: ClientResult,
             lock: threading.Lock) -> None:
    client: TimedSMTP | None = None
    while (item := work.get()) is not None:
        n, not_before = item
        if (delay := not_before - time.monotonic()) > 0:
            time.sleep(delay)
        for attempt in range(2):  # one reconnect if the server dropped an idle connection
            try:
                if client is None:
                    client = TimedSMTP("127.0.0.1", port, local_hostname="client.bench.test", timeout=120)
                client.sendmail(SENDER, [RECIPIENT], payload(n))
                done = time.monotonic()
                with lock:
                    result.sent += 1
                    result.eod[n], result.accepted[n] = client.end_of_data, done
                break
            except (smtplib.SMTPException, OSError):
                if client is not None:
                    try:
                        client.close()
                    except OSError:
                        pass
                client = None
                if attempt == 1:
                    with lock:
                        result.failed += 1
    if client is not None:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def send_load(port: int, count: int, sessions: int, payload: Any, rate: float | None = None) -> ClientResult:
    """`count` messages over `sessions` persistent connections; at `rate`/s if given, else flat out."""
    work: queue.Queue[tuple[int, float] | None] = queue.Queue()
    result, lock = ClientResult(started=time.monotonic()), threading.Lock()
    for n in range(count):
        work.put((n, result.started + n / rate if rate else 0.0))
    for _ in range(sessions):
        work.put(None)
    threads = [threading.Thread(target=_session, args=(port, work, payload, result, lock), daemon=True)
               for _ in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(MAX_RUN)
    return result


def smtp_source(port: int, count: int, sessions: int, size: int) -> tuple[float, int]:
    """Run Postfix's smtp-source; returns (start time, exit status)."""
    argv = [SMTP_SOURCE, "-s", str(sessions), "-m", str(count), "-l", str(size), "-f", SENDER, "-t", RECIPIENT,
            "-M", "client.bench.test", f"127.0.0.1:{port}"]
    started = time.monotonic()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=MAX_RUN)
    if done.returncode:
        print(f"    smtp-source: exit {done.returncode}: {done.stderr.decode(errors='replace').strip()[:200]}")
    return started, done.returncode


# ---------------------------------------------------------------- measurements

CONFIGS = ("sink", "forwarder", "patronguard")


@contextmanager
def target(kind: str, sink_port: int, tmp: Path, config: Path, label: str) -> Iterator[int]:
    """The port to send to: the sink itself, or a fresh forwarder / PatronGuard in front of it."""
    if kind == "sink":
        yield sink_port
        return
    port = free_port()
    if kind == "forwarder":
        with child(role_argv("forwarder", port, sink_port), port, "forwarder"):
            yield port
        return
    state = Path(tempfile.mkdtemp(prefix=f"state-{label}-", dir=tmp))
    with open(tmp / f"patronguard-{label}.log", "ab") as log, \
            child(patronguard_argv(config, port, sink_port, state), port, "patronguard serve",
                  stdout=log, stderr=log, timeout=START_TIMEOUT):
        yield port


def throughput(kind: str, load: str, args: argparse.Namespace, tmp: Path, config: Path,
               messages: Sequence[bytes], size: int, label: str) -> tuple[float, int, int]:
    """One measurement: (messages/s, sink receipts, client failures)."""
    sink_port = free_port()
    with child(sink_argv(sink_port), sink_port, "smtp-sink", stdout=subprocess.PIPE) as sink, \
            target(kind, sink_port, tmp, config, label) as port:
        receipts = Receipts(sink, recorder=False)
        if load == "corpus":
            result = send_load(port, args.messages, args.sessions, lambda n: tagged(messages, n))
            started, failed = result.started, result.failed
        else:
            started, status = smtp_source(port, args.messages, args.sessions, size)
            failed = 0 if status == 0 else -1
        receipts.wait_for(args.messages, started)
        with receipts.cond:
            count, last = receipts.count, receipts.last
    return (count / (last - started) if count and last > started else 0.0), count, failed


def latency(kind: str, args: argparse.Namespace, tmp: Path, config: Path,
            messages: Sequence[bytes]) -> tuple[list[float], list[float], int, int]:
    """(end of DATA → upstream 250, end of DATA → client 250) in ms, sent count, matched count."""
    sink_port = free_port()
    count = max(1, int(args.rate * args.latency_seconds))
    with child(role_argv("recorder", sink_port), sink_port, "recorder", stdout=subprocess.PIPE) as sink, \
            target(kind, sink_port, tmp, config, f"latency-{kind}") as port:
        receipts = Receipts(sink, recorder=True)
        result = send_load(port, count, 4, lambda n: tagged(messages, n), rate=args.rate)
        receipts.wait_for(result.sent, result.started)
        with receipts.cond:
            arrivals = dict(receipts.arrivals)
    upstream = [(arrivals[n] - result.eod[n]) * 1000 for n in result.eod if n in arrivals]
    accept = [(result.accepted[n] - result.eod[n]) * 1000 for n in result.eod]
    return upstream, accept, result.sent, len(upstream)


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


# ---------------------------------------------------------------- report


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.node()}: {platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, tmp on {fs_type(Path(tempfile.gettempdir()))}")


def fs_type(path: Path) -> str:
    try:
        best = ("", "?")
        for line in Path("/proc/mounts").read_text().splitlines():
            _, mount, kind, *_ = line.split()
            if str(path.resolve()).startswith(mount) and len(mount) > len(best[0]):
                best = (mount, kind)
        return best[1]
    except OSError:
        return "?"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=8, help="client sessions (default 8)")
    parser.add_argument("--messages", type=int, default=2000, help="messages per throughput measurement (default 2000)")
    parser.add_argument("--runs", type=int, default=3, help="throughput runs; medians are printed (default 3)")
    parser.add_argument("--rate", type=float, default=20.0, help="steady rate for latency, messages/s (default 20)")
    parser.add_argument("--latency-seconds", type=float, default=30.0, help="latency phase length (default 30)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="directory of raw messages")
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml", help="PatronGuard config (default: config.yaml)")
    parser.add_argument("--no-smtp-source", action="store_true", help="skip the synthetic smtp-source load")
    parser.add_argument("--no-latency", action="store_true", help="skip the latency phase")
    parser.add_argument("--role", choices=("forwarder", "recorder"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--upstream-port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role:
        run_role(args.role, args.port, args.upstream_port)
        return 0
    for tool in (SMTP_SINK, SMTP_SOURCE):
        if not Path(tool).exists():
            print(f"{tool} is missing: install postfix (scripts/system-deps.sh)", file=sys.stderr)
            return 2

    print("$", shlex.join([sys.executable, *sys.argv]))
    print("machine:", machine())
    messages = load_corpus(args.corpus)
    size = int(statistics.median(len(m) for m in messages))
    print(f"corpus: {args.corpus} ({len(messages)} messages, median {size} bytes); "
          f"{args.messages} messages x {args.sessions} sessions, {args.runs} runs; "
          f"sender {SENDER}, recipient {RECIPIENT}")
    loads = ["corpus"] + ([] if args.no_smtp_source else ["smtp-source"])

    with tempfile.TemporaryDirectory(prefix="patronguard-bench-") as tmpname:
        tmp = Path(tmpname)
        config = bench_config(args.config, tmp)
        rates: dict[tuple[str, str], list[float]] = {(load, k): [] for load in loads for k in CONFIGS}
        for run in range(args.runs):
            for load in loads:
                # Rotate the order each run so no configuration always goes first on a warm machine.
                order = CONFIGS[run % 3:] + CONFIGS[:run % 3]
                for kind in order:
                    rate, count, failed = throughput(kind, load, args, tmp, config, messages, size,
                                                     f"{load}-{kind}-{run}")
                    rates[(load, kind)].append(rate)
                    note = "" if count >= args.messages and not failed else f"  (sink got {count}, client failures {failed})"
                    print(f"  run {run + 1} {load:<11} {kind:<11} {rate:8.1f} msg/s{note}", flush=True)

        print("\nthroughput (median messages/s, sink receipts / first send → last receipt)")
        print("  pg/fwd: ratio of the medians; paired: median of each run's own ratio (same run, same machine state)")
        print(f"  {'load':<11} {'sink':>9} {'forwarder':>10} {'patronguard':>12} {'pg/fwd':>8} {'paired':>8} {'pg/sink':>8}")
        for load in loads:
            med = {k: statistics.median(rates[(load, k)]) for k in CONFIGS}
            ratio = med["patronguard"] / med["forwarder"] if med["forwarder"] else float("nan")
            per_run = [pg / fwd for pg, fwd in zip(rates[(load, "patronguard")], rates[(load, "forwarder")], strict=True)
                       if fwd]
            paired = statistics.median(per_run) if per_run else float("nan")
            ceiling = med["patronguard"] / med["sink"] if med["sink"] else float("nan")
            print(f"  {load:<11} {med['sink']:9.1f} {med['forwarder']:10.1f} {med['patronguard']:12.1f} "
                  f"{ratio:8.1%} {paired:8.1%} {ceiling:8.1%}" + ("   target pg/fwd >= 50%" if load == "corpus" else ""))

        if not args.no_latency:
            print(f"\nlatency at {args.rate:g} msg/s for {args.latency_seconds:g} s (corpus, 4 sessions), ms")
            print(f"  {'':<11} {'EOD→upstream 250':>28} {'EOD→client 250':>22} {'matched':>10}")
            print(f"  {'':<11} {'p50':>9} {'p99':>9} {'max':>9} {'p50':>10} {'p99':>10}")
            for kind in ("forwarder", "patronguard"):
                up, acc, sent, matched = latency(kind, args, tmp, config, messages)
                print(f"  {kind:<11} {percentile(up, 50):9.1f} {percentile(up, 99):9.1f} {max(up, default=float('nan')):9.1f} "
                      f"{percentile(acc, 50):10.1f} {percentile(acc, 99):10.1f} {matched:>5}/{sent}"
                      + ("   target p99 < 250" if kind == "patronguard" else ""), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
