"""The relay: what runs on the relay's event loop (`patronguard serve`).

    serve     Service: start-up, signals, reload, shutdown
    smtp      the aiosmtpd handler and listener: validate the envelope, spool durably, answer
    spool     the durable queue on disk and each entry's progress (RecipientStatus, EntryState)
    pipeline  the workers: spool entry → scan once → hold / redact / deliver → remove
    delivery  Upstream (SMTP, maildir), retry policy, DSNs
    holds     HoldRequest and the HoldStore on the quarantine; releases through the relay's upstream
    notices   sender and supervisor notices (templates in proxy/templates)
"""
