"""Scanning: what runs in the scan worker processes — pure, synchronous, picklable.

    scan      Scanner (config → detection engine), ScanResult, ScanSummary (what leaves a worker)
    policy    decide(): recipient classes and the action per recipient; pure, enums, rule ids
    explain   Excerpt and masked_context(): a finding as a supervisor sees it, without the data
    redact    the redacted copy, checked by a second scan
    staff     the staff directory (names, emails, phones that are never a patron's)
    pool      ScanPool: the worker processes themselves (the relay's side of them)

Nothing here imports the relay, the fax hook, the review pages, the CLI or the wiring.
"""
