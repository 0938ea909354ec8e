"""The running relay and the patron directory: a nightly import is used without a restart or a lost message."""

from __future__ import annotations

import signal
import smtplib
import time
from pathlib import Path

import pytest
from test_relay_durability import CONFIG, RelayProcess, Sink, cleanup, wait_until  # noqa: F401 (cleanup: a fixture)

from proxy.patrons import DirectoryPaths, import_export

LETTER = (
    "From: Jill Sato <staff@ccrls.org>\r\nTo: someone@example.com\r\nSubject: your number\r\n"
    "Message-ID: <{n}@ccrls.org>\r\n\r\nThe number to use is 2999 0000 1234 54.\r\n\r\nThanks\r\n"
)


@pytest.mark.slow
def test_a_new_import_is_used_by_the_running_relay(tmp_path: Path, cleanup) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """A number goes out until a new import makes it a patron's card, then it is held, in the relay's
    scanning process, without a restart; after SIGHUP too."""
    paths = DirectoryPaths(str(tmp_path / "dir" / "patrons.db"), str(tmp_path / "keys" / "patrons.key"))
    export = tmp_path / "export.csv"
    export.write_text("First Name,Last Name,Card\nAlma,Quist,29990000123462\n", encoding="utf-8")
    import_export(export, "csv", paths)
    sink = Sink()
    cleanup.append(sink)
    relay = RelayProcess(tmp_path, sink.port)
    relay.config.write_text(CONFIG + f"directory:\n  index: {paths.index}\n  key: {paths.key}\n")
    relay.start()
    cleanup.append(relay)

    def delivered() -> int:  # the messages themselves, not the notices to their sender (queue id …-N)
        return sum(not q.endswith("-N") for q in sink.delivered())

    def send(n: int) -> None:
        with smtplib.SMTP("127.0.0.1", relay.port, timeout=10) as smtp:
            assert smtp.sendmail("staff@ccrls.org", ["someone@example.com"], LETTER.format(n=n).encode()) == {}

    send(1)
    wait_until(lambda: delivered() == 1 and not relay.queued(), 60, "the first message to be delivered")
    export.write_text("First Name,Last Name,Card\nRosa,Lindqvist,29990000123454\n", encoding="utf-8")
    import_export(export, "csv", paths)
    time.sleep(1.1)  # the index is looked at once a second
    send(2)
    wait_until(lambda: not relay.queued() and len(relay.held()) == 1, 60, "the second message to be held")
    assert delivered() == 1
    assert relay.proc is not None
    relay.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    send(3)
    wait_until(lambda: not relay.queued() and len(relay.held()) == 2, 60, "the third message to be held")
    assert delivered() == 1
    assert relay.terminate() == 0
