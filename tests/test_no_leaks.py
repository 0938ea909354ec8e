"""PatronGuard's own output never carries a raw identifier: not JSON, not the summary, not logs."""

from __future__ import annotations

import io
import json

import pytest

from proxy import logs

IDENTIFIERS = ["23610003622817", "503-555-0187", "jane.q.doe@mailbox.example", "1447 Fairview Ave SE", "Doe, Jane", "D1234567", "04/12/1987"]
MESSAGE = (
    b"From: circ@cityofsalem.net\nTo: friend@example.com\nSubject: patron\n\n"
    b"PATRN NAME  Doe, Jane\n"
    b"ADDRESS     1447 Fairview Ave SE$Salem OR 97302\n"
    b"TELEPHONE   503-555-0187\n"
    b"EMAIL ADDR  jane.q.doe@mailbox.example\n"
    b"P BARCODE   23610003622817\n"
    b"BIRTH DATE  04/12/1987\n"
    b"NOTE        driver's license D1234567 checked\n"
    b"MONEY OWED  $12.50\n"
)


@pytest.mark.slow
def test_scan_json_summary_and_logs_contain_no_identifier(scanner, capsys):
    """The JSON result, the readable summary and the structured log of a patron record hold masked values only."""
    from proxy.cli import _print_summary

    result = scanner.scan(MESSAGE)
    assert result.held
    stream = io.StringIO()
    logs.configure("debug", stream)
    log = logs.get_logger()
    log.info("scan.decision", rules=list(result.rules), finding_kinds=sorted({f.kind.value for f in result.findings}),
             subject="patron Doe, Jane", body=MESSAGE.decode())  # not allowed keys: must be dropped
    text = io.StringIO()
    _print_summary("m.eml", result, True, text)
    outputs = {"json": json.dumps(result.to_json("m.eml"), ensure_ascii=False), "summary": text.getvalue(), "log": stream.getvalue()}
    for where, output in outputs.items():
        for identifier in IDENTIFIERS:
            assert identifier not in output, f"{where} contains a raw identifier"
    assert '"dropped_keys": 2' in stream.getvalue()
