"""Unit tests for detectors.extract and detectors.html: raw message bytes in, text parts and findings out."""

from __future__ import annotations

import base64
import json
from email.message import EmailMessage

import pytest

from detectors.extract import (
    DEFAULT_REGISTRY,
    ExtractedText,
    Extraction,
    ExtractLimits,
    ExtractorRegistry,
    Uninspectable,
    extract,
)
from detectors.findings import Kind, TextPart
from detectors.html import html_to_text

# ---------------------------------------------------------------------------
# helpers


def _msg(subject: str = "Notice", to: str = "vendor@example.com") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Circ Desk <circ@library.example.org>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = "<abc123@library.example.org>"
    return msg


def _part(ex: Extraction, path: str) -> TextPart:
    by_path = {p.path: p for p in ex.parts}
    assert path in by_path, f"no part {path!r}; have {sorted(by_path)}"
    return by_path[path]


def _reasons(ex: Extraction) -> list[str]:
    return [f.reason for f in ex.uninspectable]


def _body_parts(ex: Extraction) -> list[TextPart]:
    return [p for p in ex.parts if p.origin != "subject"]


# ---------------------------------------------------------------------------
# plain bodies, transfer encodings, charsets


def test_plain_body_and_subject_become_parts() -> None:
    """A plain message yields a subject part and a body part numbered "1"."""
    msg = _msg("Overdue items")
    msg.set_content("Please return your books.\n")
    ex = extract(msg.as_bytes())
    assert _part(ex, "subject").text == "Overdue items"
    assert _part(ex, "subject").origin == "subject"
    body = _part(ex, "1")
    assert body.text == "Please return your books.\n"
    assert (body.origin, body.content_type, body.tabular) == ("body", "text/plain", False)
    assert ex.uninspectable == ()


@pytest.mark.parametrize(
    ("cte", "encoded", "expected"),
    [
        ("quoted-printable", b"Caf=C3=A9 card 2361=\n0003622817\n", "Café card 23610003622817\n"),
        (
            "base64",
            base64.encodebytes("Card 23610003622817 for Jané\n".encode()),
            "Card 23610003622817 for Jané\n",
        ),
        ("7bit", b"plain seven bit\n", "plain seven bit\n"),
        ("8bit", "eight bit é\n".encode(), "eight bit é\n"),
        ("binary", b"binary body\n", "binary body\n"),
        ("Base64 ", base64.encodebytes(b"odd spelling\n"), "odd spelling\n"),
    ],
)
def test_transfer_encodings_are_decoded(cte: str, encoded: bytes, expected: str) -> None:
    """Quoted-printable, base64 and the identity encodings are undone before charset decoding."""
    raw = (
        b"From: a@example.org\nTo: b@example.org\nSubject: t\n"
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: "
        + cte.encode()
        + b"\n\n"
        + encoded
    )
    ex = extract(raw)
    assert _part(ex, "1").text == expected
    assert ex.uninspectable == ()


def test_latin1_body_is_decoded_with_declared_charset() -> None:
    """An 8-bit body in its declared ISO-8859-1 charset decodes to the right characters."""
    raw = b"Subject: x\nContent-Type: text/plain; charset=iso-8859-1\n\nNi\xf1o Mu\xf1oz, Bogot\xe1\n"
    assert _part(extract(raw), "1").text == "Niño Muñoz, Bogotá\n"


@pytest.mark.parametrize(
    ("charset", "body", "expected"),
    [
        (b"x-unknown-charset", "Zoë Brontë\n".encode(), "Zoë Brontë\n"),  # unknown: UTF-8 fits
        (b"x-unknown-charset", b"Zo\xeb Bront\xeb\n", "Zoë Brontë\n"),  # unknown: cp1252 fallback
        (b"us-ascii", "Zoë\n".encode(), "Zoë\n"),  # declared wrong: UTF-8 fits
        (b"utf-8", b"Zo\xeb\n", "Zoë\n"),  # declared UTF-8 but Latin-1 bytes
        (b"base64", b"Plain text\n", "Plain text\n"),  # a codec that is not a charset
    ],
)
def test_unknown_or_wrong_charset_falls_back_and_stays_readable(
    charset: bytes, body: bytes, expected: str
) -> None:
    """An unknown or wrong charset falls back to UTF-8, then cp1252, and is not uninspectable."""
    raw = b"Subject: x\nContent-Type: text/plain; charset=" + charset + b"\n\n" + body
    ex = extract(raw)
    assert _part(ex, "1").text == expected
    assert ex.uninspectable == ()


def test_binary_garbage_labelled_text_is_undecodable() -> None:
    """Bytes that decode mostly to control or replacement characters are uninspectable, not text."""
    raw = b"Subject: x\nContent-Type: text/plain\n\n" + bytes(range(0, 32)) * 40
    ex = extract(raw)
    assert _reasons(ex) == ["undecodable-charset"]
    assert [p.path for p in ex.parts] == ["subject"]


def test_unknown_transfer_encoding_is_uninspectable() -> None:
    """A Content-Transfer-Encoding we cannot undo (x-foo) makes the part uninspectable."""
    raw = b"Subject: x\nContent-Type: text/plain\nContent-Transfer-Encoding: x-foo\n\nq29tZQ==\n"
    ex = extract(raw)
    assert _reasons(ex) == ["unknown-transfer-encoding x-foo"]
    finding = ex.uninspectable[0]
    assert (finding.kind, finding.part, finding.start, finding.end, finding.score, finding.masked) == (
        Kind.UNINSPECTABLE,
        "1",
        0,
        0,
        1.0,
        "",
    )
    assert [p.path for p in ex.parts] == ["subject"]


def test_uuencoded_body_is_decoded() -> None:
    """A uuencoded part is decoded like base64."""
    import binascii

    line = binascii.b2a_uu(b"Jane Doe 23610003622817\n")
    raw = (
        b"Subject: x\nContent-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\n"
        b"begin 644 note.txt\n" + line + b"`\nend\n"
    )
    assert _part(extract(raw), "1").text == "Jane Doe 23610003622817\n"


# ---------------------------------------------------------------------------
# framing: mbox line, line endings, missing pieces


def test_mbox_from_line_is_dropped() -> None:
    """A leading mbox "From " envelope line is not taken as a header or as body text."""
    raw = (
        b"From circ@library.example.org Mon Jan  1 00:00:00 2024\nSubject: hello\nTo: x@example.com\n\nbody\n"
    )
    ex = extract(raw)
    assert _part(ex, "subject").text == "hello"
    assert _part(ex, "1").text == "body\n"
    assert ex.recipients == ("x@example.com",)


def test_crlf_and_mixed_line_endings_become_lf() -> None:
    """CRLF, LF and bare CR line endings all end up as "\\n" in part text."""
    raw = b"Subject: crlf\r\nTo: x@example.com\r\n\r\nline one\r\nline two\nline three\rend\r\n"
    ex = extract(raw)
    assert _part(ex, "subject").text == "crlf"
    assert _part(ex, "1").text == "line one\nline two\nline three\nend\n"


def test_headers_only_message_has_subject_and_no_body() -> None:
    """A message with headers and no body yields only the subject, with no findings."""
    ex = extract(b"From: a@example.org\nTo: b@example.org\nSubject: nothing else\n")
    assert [p.path for p in ex.parts] == ["subject"]
    assert ex.uninspectable == ()
    assert ex.sender == "a@example.org"


def test_body_without_headers_is_read_as_body() -> None:
    """Bytes with no header block are one plain body part."""
    ex = extract(b"\nJane Doe's card is 23610003622817\n")
    assert "23610003622817" in _part(ex, "1").text


def test_header_shaped_body_lines_are_still_scanned() -> None:
    """Text whose first lines look like headers but are not real headers is kept as a "headers" part."""
    ex = extract(b"Patron: Doe, Jane\nCard: 23610003622817\n")
    assert "23610003622817" in _part(ex, "headers").text


@pytest.mark.parametrize("raw", [b"", b"   \r\n\n"])
def test_empty_input_yields_nothing(raw: bytes) -> None:
    """Empty bytes are an empty extraction: nothing to read and nothing unreadable."""
    ex = extract(raw)
    assert (ex.parts, ex.uninspectable, ex.recipients, ex.message_id, ex.sender) == ((), (), (), None, None)


def test_non_bytes_input_is_unparseable_not_an_exception() -> None:
    """An input that is not bytes at all gives one unparseable-message finding instead of raising."""
    ex = extract(object())  # type: ignore[arg-type]
    assert ex.parts == ()
    assert _reasons(ex) == ["unparseable-message"]


# ---------------------------------------------------------------------------
# headers


def test_recipients_sender_and_message_id() -> None:
    """To, Cc and Bcc addr-specs come out in order without duplicates; From and Message-ID too."""
    raw = (
        b'From: "Circ Desk" <circ@library.example.org>\n'
        b"To: Vendor <a@vendor.example.com>, b@partner.example.org\n"
        b'Cc: "Doe, Jane" <jane@example.net>, A@Vendor.example.com\n'
        b"Bcc: boss@library.example.org\n"
        b"Message-ID:\n <id-42@library.example.org>\n"
        b"Subject: s\n\nbody\n"
    )
    ex = extract(raw)
    assert ex.recipients == (
        "a@vendor.example.com",
        "b@partner.example.org",
        "jane@example.net",
        "boss@library.example.org",
    )
    assert ex.sender == "circ@library.example.org"
    assert ex.message_id == "<id-42@library.example.org>"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"=?utf-8?q?Fine_for_Jos=C3=A9_Mu=C3=B1oz?=", "Fine for José Muñoz"),
        (b"=?iso-8859-1?B?TmnxbyBjYXJk?= overdue", "Niño card overdue"),
        (b"=?x-bogus?q?Zo=C3=AB?=", "Zoë"),
        (b"Re: hold\n ready", "Re: hold ready"),
        (b"=?utf-8?b?!!!notbase64?=", "=?utf-8?b?!!!notbase64?="),
    ],
)
def test_rfc2047_subject_is_decoded(header: bytes, expected: str) -> None:
    """Encoded words in the Subject are decoded (bad ones kept as written) and folding is undone."""
    ex = extract(b"Subject: " + header + b"\n\nbody\n")
    assert _part(ex, "subject").text == expected


def test_eight_bit_subject_is_decoded() -> None:
    """A raw 8-bit Subject is read as UTF-8 or cp1252, not dropped."""
    assert _part(extract("Subject: Zoë\n\nb\n".encode()), "subject").text == "Zoë"
    assert _part(extract(b"Subject: Zo\xeb\n\nb\n"), "subject").text == "Zoë"


# ---------------------------------------------------------------------------
# HTML


def test_html_entities_blocks_and_hidden_elements() -> None:
    """Entities decode, block elements break lines, and script/style/head text is dropped."""
    result = html_to_text(
        "<html><head><title>Subject line</title><style>p{color:red}</style></head>"
        "<body><p>Fines &amp; fees:&nbsp;$4.50</p><div>Jos&eacute;<br>Mu&#241;oz</div>"
        "<script>var card='23610003622817';</script><!-- note --></body></html>"
    )
    assert result.text == "Fines & fees: $4.50\n\nJosé\nMuñoz"
    assert result.tabular is False


def test_html_table_rows_become_tab_separated_lines() -> None:
    """Each <tr> is one line with its cells separated by tabs, and the result is marked tabular."""
    result = html_to_text(
        "<table>\n<tr><th>PATRN NAME</th><th>P BARCODE</th></tr>\n"
        "<tr><td> Doe, Jane </td><td>23610003622817</td></tr>\n"
        "<tr><td><p>Roe,</p><br>Richard</td><td></td></tr></table><p>After</p>"
    )
    assert result.text.split("\n") == [
        "PATRN NAME\tP BARCODE",
        "Doe, Jane\t23610003622817",
        "Roe, Richard\t",
        "",
        "After",
    ]
    assert result.tabular is True


def test_html_nested_layout_table_keeps_inner_rows() -> None:
    """A data table nested inside a layout table still comes out one row per line."""
    result = html_to_text(
        "<table><tr><td><table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table></td></tr></table>"
    )
    assert result.text == "a\tb\nc\td"


def test_html_pre_keeps_layout() -> None:
    """Text inside <pre> keeps its line breaks and leading spaces (fixed-width ILS screens)."""
    result = html_to_text("<pre>PATRN NAME  Doe, Jane\n  P BARCODE 23610003622817</pre>")
    assert result.text == "PATRN NAME  Doe, Jane\n  P BARCODE 23610003622817"


@pytest.mark.parametrize(
    "source",
    ["<title>" + "x" * 3000 + "</title>", "<script>var a = 1; Doe Jane", "<a href='x'>link</a> <unclosed"],
)
def test_html_never_hides_text_behind_broken_markup(source: str) -> None:
    """An unclosed script, an overlong title or a tag without ">" leaves its text visible."""
    text = html_to_text(source).text
    assert text.strip()
    assert ("Doe Jane" in text) or ("x" * 100 in text) or ("<unclosed" in text)


@pytest.mark.parametrize(
    "source", ["<a " * 20000, "<" * 60000, "<script>" * 20000, "</" * 30000, "<!" * 30000]
)
def test_html_pathological_markup_is_fast(source: str) -> None:
    """Inputs that make html.parser quadratic are converted in linear time."""
    import time

    started = time.perf_counter()
    html_to_text(source)
    assert time.perf_counter() - started < 2.0


def test_html_part_in_message_uses_converter() -> None:
    """A text/html body becomes a text/html TextPart holding the visible text."""
    msg = _msg()
    msg.set_content("<p>Hello&nbsp;there</p><table><tr><td>A</td><td>B</td></tr></table>", subtype="html")
    part = _part(extract(msg.as_bytes()), "1")
    assert part.content_type == "text/html"
    assert part.text == "Hello there\n\nA\tB"
    assert part.tabular is True


def test_alternative_scans_both_when_data_is_only_in_html() -> None:
    """multipart/alternative yields both the plain and the HTML part, so an HTML-only table is seen."""
    msg = _msg()
    msg.set_content("See the table in the HTML version.\n")
    msg.add_alternative("<table><tr><td>Doe, Jane</td><td>23610003622817</td></tr></table>", subtype="html")
    ex = extract(msg.as_bytes())
    assert _part(ex, "1").text.startswith("See the table")
    html_part = _part(ex, "2")
    assert html_part.text == "Doe, Jane\t23610003622817"
    assert html_part.tabular and html_part.content_type == "text/html"


# ---------------------------------------------------------------------------
# nesting, quoting


def _forward(inner: EmailMessage, subject: str) -> EmailMessage:
    outer = _msg(subject)
    outer.set_content("FYI, see below.\n")
    outer.add_attachment(inner)
    return outer


def test_nested_forward_two_deep_gets_prefixed_paths_and_forwarded_origin() -> None:
    """Subjects and bodies of forwarded messages two levels down are read under "P/" paths."""
    innermost = _msg("Patron record")
    innermost.set_content("PATRN NAME  Doe, Jane\n")
    middle = _forward(innermost, "Fwd: Patron record")
    outer = _forward(middle, "Fwd: Fwd: Patron record")
    ex = extract(outer.as_bytes())
    paths = {p.path: p for p in ex.parts}
    assert paths["subject"].text == "Fwd: Fwd: Patron record"
    assert paths["1"].text == "FYI, see below.\n"
    assert paths["2/subject"].text == "Fwd: Patron record"
    assert paths["2/1"].text == "FYI, see below.\n"
    assert paths["2/2/subject"].text == "Patron record"
    assert paths["2/2/1"].text == "PATRN NAME  Doe, Jane\n"
    assert {paths[p].origin for p in ("2/subject", "2/1", "2/2/subject", "2/2/1")} == {"forwarded"}
    assert ex.recipients == ("vendor@example.com",)  # top-level only
    assert ex.uninspectable == ()


def test_eml_attachment_sent_as_octet_stream_is_read_as_a_message() -> None:
    """An application/octet-stream attachment named .eml is parsed as a forwarded message."""
    inner = _msg("Inner subject")
    inner.set_content("Card 23610003622817\n")
    outer = _msg()
    outer.set_content("attached\n")
    outer.add_attachment(inner.as_bytes(), maintype="application", subtype="octet-stream", filename="fwd.eml")
    ex = extract(outer.as_bytes())
    assert _part(ex, "2/subject").text == "Inner subject"
    assert _part(ex, "2/1").text == "Card 23610003622817\n"


def test_depth_limit_makes_deeper_parts_uninspectable() -> None:
    """Nesting beyond max_depth is reported as too-deep instead of being read."""
    inner = _msg("deep")
    inner.set_content("secret\n")
    msg = inner
    for _ in range(3):
        msg = _forward(msg, "Fwd")
    ex = extract(msg.as_bytes(), ExtractLimits(max_depth=2))
    assert "too-deep" in _reasons(ex)
    assert all("secret" not in p.text for p in ex.parts)


def test_quoted_reply_markers_are_blanked_with_offsets_kept() -> None:
    """ "> " and "> > " markers at line starts become spaces of equal length; other text is unchanged."""
    body = "Thanks!\n\n> PATRN NAME  Doe, Jane\n> > P BARCODE  23610003622817\n>>MONEY OWED $4.00\nx > y\n"
    msg = _msg()
    msg.set_content(body)
    part = _part(extract(msg.as_bytes()), "1")
    assert len(part.text) == len(body)
    assert part.text == (
        "Thanks!\n\n  PATRN NAME  Doe, Jane\n    P BARCODE  23610003622817\n  MONEY OWED $4.00\nx > y\n"
    )
    start = body.index("Doe, Jane")
    assert part.text[start : start + len("Doe, Jane")] == "Doe, Jane"
    assert part.origin == "body"
    assert [p.path for p in extract(msg.as_bytes()).parts] == ["subject", "1"]


# ---------------------------------------------------------------------------
# attachments


def test_csv_attachment_is_tabular_text() -> None:
    """A CSV attachment is an attachment-origin, tabular text/csv part carrying its filename."""
    msg = _msg()
    msg.set_content("List attached.\n")
    csv_text = '"P BARCODE","PATRN NAME"\n"23610003622817","Doe, Jane"\n'
    msg.add_attachment(csv_text.encode(), maintype="text", subtype="csv", filename="overdue.csv")
    part = _part(extract(msg.as_bytes()), "2")
    assert (part.origin, part.filename, part.content_type, part.tabular) == (
        "attachment",
        "overdue.csv",
        "text/csv",
        True,
    )
    assert part.text == csv_text


@pytest.mark.parametrize(
    ("filename", "content_type", "tabular"),
    [
        ("list.csv", "text/csv", True),
        ("list.tsv", "text/tab-separated-values", True),
        ("notes.txt", "text/plain", False),
        ("patron.json", "application/json", False),
        ("export.xml", "application/xml", False),
    ],
)
def test_octet_stream_with_text_extension_is_read(filename: str, content_type: str, tabular: bool) -> None:
    """An application/octet-stream attachment whose name ends in a text extension is read as that type."""
    msg = _msg()
    msg.set_content("attached\n")
    msg.add_attachment(
        b"Doe\tJane\t23610003622817\n", maintype="application", subtype="octet-stream", filename=filename
    )
    ex = extract(msg.as_bytes())
    part = _part(ex, "2")
    assert (part.content_type, part.tabular, part.filename, part.origin) == (
        content_type,
        tabular,
        filename,
        "attachment",
    )
    assert ex.uninspectable == ()


def test_json_attachment_keeps_raw_json() -> None:
    """A JSON attachment's text is the raw JSON, unchanged, for a JSON-aware detector."""
    payload = json.dumps({"names": ["Doe, Jane"], "barcodes": ["23610003622817"]}, indent=1)
    msg = _msg()
    msg.set_content("attached\n")
    msg.add_attachment(payload.encode(), maintype="application", subtype="json", filename="patron.json")
    part = _part(extract(msg.as_bytes()), "2")
    assert part.text == payload
    assert json.loads(part.text)["barcodes"] == ["23610003622817"]
    assert part.content_type == "application/json"


@pytest.mark.parametrize(
    ("maintype", "subtype", "filename", "reason"),
    [
        ("application", "pdf", "list.pdf", "no-extractor application/pdf"),
        ("image", "png", "scan.png", "no-extractor image/png"),
        ("application", "msword", "letter.doc", "no-extractor application/msword"),
        ("application", "octet-stream", "blob.bin", "no-extractor application/octet-stream .bin"),
        ("application", "pkcs7-mime", "smime.p7m", "encrypted application/pkcs7-mime"),
    ],
)
def test_non_text_attachments_are_uninspectable(
    maintype: str, subtype: str, filename: str, reason: str
) -> None:
    """Attachments with no extractor, or encrypted ones, become one uninspectable finding at their path."""
    msg = _msg()
    msg.set_content("attached\n")
    msg.add_attachment(b"%PDF-1.4 \x00\x01\x02 binary", maintype=maintype, subtype=subtype, filename=filename)
    ex = extract(msg.as_bytes())
    assert _reasons(ex) == [reason]
    assert ex.uninspectable[0].part == "2"
    assert [p.path for p in ex.parts] == ["subject", "1"]


def test_reasons_never_carry_filenames() -> None:
    """An uninspectable reason names the type, never the attachment's (possibly personal) filename."""
    msg = _msg()
    msg.set_content("attached\n")
    msg.add_attachment(b"\x00\x01", maintype="application", subtype="pdf", filename="Jane Doe card.pdf")
    assert all("Jane" not in f.reason for f in extract(msg.as_bytes()).uninspectable)


def test_multipart_encrypted_is_uninspectable_without_descending() -> None:
    """A multipart/encrypted body is one "encrypted" finding; its control parts are not read."""
    raw = (
        b'Subject: secret\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=XX\n\n'
        b"--XX\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n"
        b"--XX\nContent-Type: application/octet-stream\n\n-----BEGIN PGP MESSAGE-----\nhQEM\n-----END PGP MESSAGE-----\n"
        b"--XX--\n"
    )
    ex = extract(raw)
    assert _reasons(ex) == ["encrypted multipart/encrypted"]
    assert [p.path for p in ex.parts] == ["subject"]


def test_inline_pgp_block_is_flagged() -> None:
    """A PGP message pasted into a plain body is readable text but also an "encrypted" finding."""
    ex = extract(b"Subject: s\n\n-----BEGIN PGP MESSAGE-----\nhQEMA\n-----END PGP MESSAGE-----\n")
    assert _reasons(ex) == ["encrypted inline-pgp"]


def test_signature_parts_are_ignored() -> None:
    """A multipart/signed message's body is read and its signature part is not uninspectable."""
    raw = (
        b'Subject: s\nContent-Type: multipart/signed; protocol="application/pgp-signature"; boundary=S\n\n'
        b"--S\nContent-Type: text/plain\n\nsigned text\n"
        b"--S\nContent-Type: application/pgp-signature\n\n-----BEGIN PGP SIGNATURE-----\nxx\n"
        b"--S--\n"
    )
    ex = extract(raw)
    assert _part(ex, "1").text == "signed text"
    assert ex.uninspectable == ()


def test_empty_attachment_is_not_uninspectable() -> None:
    """A zero-byte attachment has nothing to read and raises no finding."""
    msg = _msg()
    msg.set_content("attached\n")
    msg.add_attachment(b"", maintype="application", subtype="pdf", filename="empty.pdf")
    assert extract(msg.as_bytes()).uninspectable == ()


def test_imap_style_paths_for_nested_multiparts() -> None:
    """Parts are numbered like IMAP: a multipart/alternative at 1 has children 1.1 and 1.2."""
    msg = _msg()
    msg.set_content("plain\n")
    msg.add_alternative("<p>html</p>", subtype="html")
    msg.add_attachment(b"a,b\n", maintype="text", subtype="csv", filename="x.csv")
    ex = extract(msg.as_bytes())
    assert [p.path for p in ex.parts] == ["subject", "1.1", "1.2", "2"]


def test_too_many_parts_stops_with_a_finding() -> None:
    """More leaf parts than max_parts stops the walk with a too-many-parts finding."""
    msg = _msg()
    msg.set_content("body\n")
    for i in range(5):
        msg.add_attachment(f"row {i}\n".encode(), maintype="text", subtype="plain", filename=f"{i}.txt")
    ex = extract(msg.as_bytes(), ExtractLimits(max_parts=3))
    assert _reasons(ex) == ["too-many-parts"]
    assert len(_body_parts(ex)) == 3


def test_oversized_part_is_truncated_and_flagged() -> None:
    """Text longer than max_chars_per_part is cut to the limit and reported as part-too-large."""
    ex = extract(b"Subject: s\n\n" + b"a" * 500, ExtractLimits(max_chars_per_part=100))
    assert len(_part(ex, "1").text) == 100
    assert _reasons(ex) == ["part-too-large"]


# ---------------------------------------------------------------------------
# registry


def test_registered_extractor_makes_a_type_inspectable() -> None:
    """Registering an extractor for application/x-test turns that attachment into text parts."""
    seen: list[tuple[bytes, str, str | None]] = []

    def fake(payload: bytes, content_type: str, filename: str | None) -> list[ExtractedText]:
        seen.append((payload, content_type, filename))
        return [ExtractedText(text=payload.decode().upper())]

    registry = ExtractorRegistry()
    registry.register(["application/x-test"], [], fake)
    msg = _msg()
    msg.set_content("body\n")
    msg.add_attachment(b"jane doe", maintype="application", subtype="x-test", filename="t.tst")
    raw = msg.as_bytes()

    assert _reasons(extract(raw)) == ["no-extractor application/x-test"]  # default registry: unknown type
    ex = extract(raw, registry=registry)
    assert ex.uninspectable == ()
    part = _part(ex, "2")
    assert (part.text, part.origin, part.filename, part.content_type) == (
        "JANE DOE",
        "attachment",
        "t.tst",
        "application/x-test",
    )
    assert seen == [(b"jane doe", "application/x-test", "t.tst")]


def test_extractor_found_by_extension_and_pieces_get_numbered_paths() -> None:
    """An extension registration matches octet-stream files, and several pieces get paths P/1, P/2."""

    def pages(payload: bytes, content_type: str, filename: str | None) -> list[ExtractedText]:
        return [ExtractedText(text="page one", name="p1"), ExtractedText(text="page two", name="p2")]

    registry = ExtractorRegistry()
    registry.register([], [".tst"], pages)
    assert registry.find("application/octet-stream", "A.TST") is pages
    assert registry.find("application/octet-stream", "a.pdf") is None
    msg = _msg()
    msg.set_content("body\n")
    msg.add_attachment(b"x", maintype="application", subtype="octet-stream", filename="a.tst")
    ex = extract(msg.as_bytes(), registry=registry)
    assert [(p.path, p.text, p.filename) for p in ex.parts[2:]] == [
        ("2/1", "page one", "p1"),
        ("2/2", "page two", "p2"),
    ]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (Uninspectable("password-protected"), "password-protected"),
        (ValueError("boom"), "extractor-failed application/x-test"),
    ],
)
def test_failing_extractor_gives_an_uninspectable_finding(error: Exception, reason: str) -> None:
    """An extractor raising Uninspectable (or crashing) yields a finding with its reason, not an exception."""

    def failing(payload: bytes, content_type: str, filename: str | None) -> list[ExtractedText]:
        raise error

    registry = ExtractorRegistry()
    registry.register(["application/x-test"], [], failing)
    msg = _msg()
    msg.set_content("body\n")
    msg.add_attachment(b"x", maintype="application", subtype="x-test", filename="t.tst")
    ex = extract(msg.as_bytes(), registry=registry)
    assert _reasons(ex) == [reason]
    assert ex.uninspectable[0].part == "2"


def test_registry_refuses_bad_registrations() -> None:
    """A content type without a slash, or a registration with nothing to match, is an error."""
    registry = ExtractorRegistry()
    with pytest.raises(ValueError):
        registry.register(["pdf"], [], lambda p, c, f: [])
    with pytest.raises(ValueError):
        registry.register([], [], lambda p, c, f: [])


def test_default_registry_starts_empty_for_binary_types() -> None:
    """The shipped registry has no PDF extractor yet, so PDFs stay uninspectable until one is added."""
    assert DEFAULT_REGISTRY.find("application/pdf", "x.pdf") is None


# ---------------------------------------------------------------------------
# broken and unusual structure


def test_multipart_without_boundary_is_salvaged_from_its_body() -> None:
    """A multipart whose boundary parameter is missing is split on the first "--" line of its body."""
    raw = (
        b"Subject: broken\nContent-Type: multipart/mixed\n\n"
        b"This is a multi-part message in MIME format.\n"
        b"--X\nContent-Type: text/plain\n\nJane Doe\n"
        b"--X\nContent-Type: text/csv\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(b"name,card\nDoe,23610003622817\n")
        + b"--X--\n"
    )
    ex = extract(raw)
    assert [(p.path, p.text) for p in ex.parts] == [
        ("subject", "broken"),
        ("1", "Jane Doe"),
        ("2", "name,card\nDoe,23610003622817\n"),
    ]
    assert ex.uninspectable == ()


def test_unsplittable_multipart_is_read_raw_and_flagged_when_encoded() -> None:
    """A multipart that cannot be split is read as raw text, and flagged if it hides base64 content."""
    raw = (
        b"Subject: s\nContent-Type: multipart/mixed\n\nstray text Jane Doe\n"
        b"Content-Transfer-Encoding: base64\n\nSmFuZQ==\n"
    )
    ex = extract(raw)
    assert "Jane Doe" in _part(ex, "1").text
    assert _reasons(ex) == ["broken-multipart"]


def test_base64_encoded_forwarded_message_is_decoded() -> None:
    """A message/rfc822 part sent with base64 transfer encoding is decoded, then read as a message."""
    inner = b"Subject: inner\n\nCard 23610003622817\n"
    raw = (
        b"Subject: outer\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\nhi\n"
        b"--B\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(inner)
        + b"--B--\n"
    )
    ex = extract(raw)
    assert _part(ex, "2/subject").text == "inner"
    assert _part(ex, "2/1").text == "Card 23610003622817\n"


def test_delivery_status_and_header_parts_are_text() -> None:
    """A bounce's delivery-status fields and returned headers are readable text parts."""
    raw = (
        b"Subject: dsn\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
        b"--B\nContent-Type: text/plain\n\nfailed\n"
        b"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n"
        b"Final-Recipient: rfc822; jane@example.com\nAction: failed\n"
        b"--B\nContent-Type: text/rfc822-headers\n\nTo: jane@example.com\nSubject: your hold\n--B--\n"
    )
    ex = extract(raw)
    assert "Final-Recipient: rfc822; jane@example.com" in _part(ex, "2").text
    assert _part(ex, "3").text == "To: jane@example.com\nSubject: your hold"
    assert ex.uninspectable == ()


def test_mislabelled_japanese_charset_is_decoded() -> None:
    """EUC-JP text declared as ISO-2022-JP (a common mislabel) decodes to the right characters."""
    body = "山田太郎様の貸出記録\n".encode("euc_jp")
    raw = b"Subject: x\nContent-Type: text/plain; charset=iso-2022-jp\n\n" + body
    assert _part(extract(raw), "1").text == "山田太郎様の貸出記録\n"


def test_multipart_preamble_with_content_is_read() -> None:
    """Text before the first boundary is sent too, so it is read (the usual MIME boilerplate is not)."""
    raw = (
        b"Subject: s\nContent-Type: multipart/mixed; boundary=B\n\n"
        b"Doe, Jane 23610003622817\n--B\nContent-Type: text/plain\n\nbody\n--B--\n"
    )
    ex = extract(raw)
    assert _part(ex, "preamble").text == "Doe, Jane 23610003622817"


def test_bad_forwarded_part_does_not_hide_its_siblings() -> None:
    """An unreadable message/rfc822 part is one finding; the parts after it are still read."""
    raw = (
        b"Subject: s\nContent-Type: multipart/mixed; boundary=B\n\n"
        b"--B\nContent-Type: message/rfc822\nContent-Transfer-Encoding: x-foo\n\nSubject: in\n\nbody\n"
        b"--B\nContent-Type: text/plain\n\nafter\n--B--\n"
    )
    ex = extract(raw)
    assert _part(ex, "2").text == "after"


def test_every_subject_line_is_read() -> None:
    """A second Subject header is read too, so nothing hides behind the first."""
    ex = extract(b"Subject: hello\nSubject: Doe, Jane 23610003622817\n\nbody\n")
    assert _part(ex, "subject").text == "hello\nDoe, Jane 23610003622817"
