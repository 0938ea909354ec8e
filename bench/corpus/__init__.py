"""The evaluation corpus: labelled library mail generated from re-expressed public material.

`generate.py` writes it (deterministic, fixed seed) under `var/eval-corpus/`;
`bench/eval.py` scans it. The modules next to it hold the material:

- `identity.py`   fake patrons, staff and libraries (Faker), card numbers with
                  the library mod-10 check digit, record numbers, licences
- `sources.py`    every public source the material follows, with its address
- `ils.py`        notices, slips and record layouts of Koha, Evergreen,
                  Sierra/Millennium, Polaris and Symphony, in our own words
- `tables.py`     lists and exports (overdue, holds, fines, collections) in
                  many dialects, pasted or attached (CSV, XLSX, PDF, TXT)
- `prose.py`      staff sentences that disclose patron data
- `ordinary.py`   library business mail that must be delivered
- `patronself.py` staff writing to a patron about her own account
- `wrappers.py`   greetings, intros, signatures, forwards, quoting
- `mime.py`       deterministic .eml building (boundaries, dates, ids)

Every piece of text carries the split (`dev` or `test`) it belongs to, so no
template or phrasing of the test half is ever used in the dev half.
"""
