"""The redaction engine: patron data masked in place, MIME structure, charsets and encodings kept, clean on re-scan."""

from __future__ import annotations

import base64
import csv
import email
import email.header
import email.policy
from email.message import EmailMessage, Message
from pathlib import Path

import pytest
from docfactory import (
    BENIGN_LINES,
    CARD,
    PATRON_LINES,
    PATRON_ROWS,
    csv_bytes,
    docx,
    pdf_text,
    screenshot_png,
)
from relay_support import base_config

from detectors.checksums import library_mod10_valid
from proxy.config import load
from proxy.scanning.policy import Action
from proxy.scanning.redact import REDACTED_HEADER, CannotRedact, mask_for, redact, redact_checked, verified
from proxy.scanning.scan import Scanner

REPO = Path(__file__).resolve().parents[1]
LEAKSET = REPO / "tests" / "leakset"
OUTSIDE = "detective@police.example"
INSIDE = "circ@ccrls.org"
PHONE = "503-555-0142"
SECOND_CARD = "23610003622809"


@pytest.fixture(scope="module")
def scanner(tmp_path_factory: pytest.TempPathFactory) -> Scanner:
    path = tmp_path_factory.mktemp("redact") / "config.yaml"
    path.write_text(base_config() + "policy:\n  actions:\n    external: redact\n")
    return Scanner(load(str(path)))


# ----------------------------------------------------------------- the messages


def _head(subject: str = "Patron question", extra: str = "") -> str:
    return (
        "From: Circ Desk <circ@ccrls.org>\n"
        f"To: {OUTSIDE}\n"
        f"Subject: {subject}\n"
        "Message-ID: <redact-test@ccrls.org>\n"
        "Date: Mon, 3 Mar 2025 09:00:00 +0000\n"
        "MIME-Version: 1.0\n" + extra
    )


SENTENCE = f"The patron's library card {CARD} has a hold waiting; call the borrower at {PHONE}."


def plain_7bit() -> bytes:
    return (_head() + "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n"
            + SENTENCE + "\nThanks\n").encode()


def plain_utf8_7bit() -> bytes:
    # Declared UTF-8 but sent as 7bit: the bulleted card mask needs 8 bits, so the part becomes QP.
    return (_head() + "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n"
            + SENTENCE + "\n").encode()


def plain_qp_latin1() -> bytes:
    body = f"Caf\xe9 note: the patron card {CARD} belongs to the borrower, phone {PHONE}.\n".encode("latin-1")
    import quopri

    return (_head() + "Content-Type: text/plain; charset=ISO-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
            ).encode() + quopri.encodestring(body)


def plain_cp1252_8bit() -> bytes:
    body = f"\u201cPatron\u201d card {CARD} \u2022 borrower phone {PHONE} \u2013 overdue\n".encode("cp1252")
    return (_head() + "Content-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: 8bit\n\n"
            ).encode() + body


def plain_base64_crlf() -> bytes:
    body = (SENTENCE + "\r\nSecond line\r\n").encode()
    return (_head() + "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n").encode() + \
        base64.encodebytes(body)


def shift_jis_base64() -> bytes:
    body = f"図書館の利用者カード {CARD} の貸出について。patron card {CARD}\n".encode("shift_jis")
    return (_head() + "Content-Type: text/plain; charset=Shift_JIS\nContent-Transfer-Encoding: base64\n\n").encode() + \
        base64.encodebytes(body)


def iso2022jp_7bit() -> bytes:
    body = f"利用者カード patron card {CARD} です。\n".encode("iso2022_jp")
    return (_head() + "Content-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: 7bit\n\n").encode() + body


HTML = (
    "<html><head><title>x</title><style>p {color: red}</style></head><body>"
    f"<p>The <b>patron</b> card is <span>{CARD[:7]}</span>{CARD[7:]} &amp; the borrower phone is\n  {PHONE}.</p>"
    f'<p>Call <a href="tel:{PHONE}" title="{PHONE}">{PHONE}</a> today.</p>'
    "</body></html>"
)


def html_only() -> bytes:
    return (_head() + "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
            ).encode() + __import__("quopri").encodestring(HTML.encode())


def alternative() -> bytes:
    msg = EmailMessage()
    for k, v in (("From", "Circ Desk <circ@ccrls.org>"), ("To", OUTSIDE), ("Subject", f"Card {CARD}"),
                 ("Message-ID", "<alt@ccrls.org>")):
        msg[k] = v
    msg.set_content(SENTENCE + "\n", cte="quoted-printable")
    msg.add_alternative(HTML, subtype="html", cte="base64")
    return msg.as_bytes()


def forwarded() -> bytes:
    inner = (
        "From: Branch <branch@ccrls.org>\nTo: circ@ccrls.org\nSubject: patron card " + CARD + "\n"
        "Content-Type: text/plain; charset=utf-8\n\n" + SENTENCE + "\n"
    )
    return (
        _head(extra='Content-Type: multipart/mixed; boundary="fwd-b"\n')
        + "\n--fwd-b\nContent-Type: text/plain; charset=us-ascii\n\nSee below, forwarded.\n"
        + "\n--fwd-b\nContent-Type: message/rfc822\n\n" + inner
        + "\n--fwd-b--\n"
    ).encode()


def _with_attachment(payload: bytes, ctype: str, filename: str, body: str = "Please see the attachment.") -> bytes:
    msg = EmailMessage()
    for k, v in (("From", "Circ Desk <circ@ccrls.org>"), ("To", OUTSIDE), ("Subject", "The file"),
                 ("Message-ID", "<att@ccrls.org>")):
        msg[k] = v
    msg.set_content(body)
    maintype, subtype = ctype.split("/", 1)
    msg.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


# A hand-made list (no ILS column labels): masked cell by cell.
CSV_ROWS = (
    ("Card number", "Patron", "Phone", "Note"),
    (CARD, "Jane", "503-555-0187", "caf\xe9 \u2013 overdue"),
    (SECOND_CARD, "Richard", PHONE, "owes nothing"),
)


def csv_semicolon() -> bytes:
    return _with_attachment(csv_bytes(CSV_ROWS, delimiter=";", encoding="cp1252"), "text/csv", "export.csv")


def csv_tab() -> bytes:
    return _with_attachment(csv_bytes(CSV_ROWS, delimiter="\t"), "text/tab-separated-values", "export.tsv")


def csv_ils_export() -> bytes:
    # Create Lists column labels are an ILS export by themselves: the whole file goes.
    return _with_attachment(csv_bytes(PATRON_ROWS, delimiter=";"), "text/csv", "export.csv")


def pdf_patron() -> bytes:
    return _with_attachment(pdf_text(PATRON_LINES), "application/pdf", "jane-doe.pdf")


def docx_patron() -> bytes:
    return _with_attachment(docx(PATRON_LINES), "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                            "record.docx")


def png_patron() -> bytes:
    return _with_attachment(screenshot_png(PATRON_LINES), "image/png", "screen.png")


BENIGN_PDF = pdf_text(BENIGN_LINES)


def benign_attachment() -> bytes:
    return _with_attachment(BENIGN_PDF, "application/pdf", "stats.pdf", body=SENTENCE)


MESSAGES = {
    "plain-7bit": plain_7bit,
    "plain-utf8-7bit": plain_utf8_7bit,
    "qp-iso-8859-1": plain_qp_latin1,
    "8bit-windows-1252": plain_cp1252_8bit,
    "base64-crlf": plain_base64_crlf,
    "shift-jis-base64": shift_jis_base64,
    "iso-2022-jp-7bit": iso2022jp_7bit,
    "html-qp": html_only,
    "alternative": alternative,
    "forwarded-rfc822": forwarded,
    "csv-semicolon": csv_semicolon,
    "csv-tab": csv_tab,
    "csv-ils-export": csv_ils_export,
    "pdf": pdf_patron,
    "docx": docx_patron,
    "png": png_patron,
    "benign-attachment": benign_attachment,
}


# ----------------------------------------------------------------- helpers


def _leaves(msg: Message) -> list[Message]:
    out: list[Message] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        out.append(part)
    return out


def parse_message(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def _redacted(scanner: Scanner, raw: bytes) -> bytes:
    first = scanner.scan(raw, [OUTSIDE])
    assert first.decisions[0].action is Action.REDACT, "the test message must need redaction"
    checked = redact_checked(scanner, raw, [OUTSIDE])
    assert checked is not None
    return checked.raw


def _text_of(raw: bytes) -> str:
    """Every decoded text leaf and the Subject, for value checks."""
    msg = parse_message(raw)
    out = [str(msg.get("Subject", ""))]
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        out.append(payload.decode(part.get_content_charset() or "ascii", "replace"))
    return "\n".join(out)


# ----------------------------------------------------------------- the invariant, on every message


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_redacted_copy_is_clean_on_rescan(scanner: Scanner, name: str) -> None:
    """Every redaction test message gets a copy that a second scan delivers to the outside recipient."""
    raw = MESSAGES[name]()
    copy = _redacted(scanner, raw)
    again = scanner.scan(copy, [OUTSIDE, INSIDE])
    assert verified(again, [OUTSIDE]) and not again.message.assessment.disclosures
    assert parse_message(copy)[REDACTED_HEADER] == "yes"
    assert CARD not in copy.decode("latin-1") and CARD not in _text_of(copy)
    assert PHONE not in _text_of(copy)


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_structure_charsets_and_encodings_are_kept(scanner: Scanner, name: str) -> None:
    """The copy parses, has the same leaves in the same order, and each kept leaf its charset and encoding."""
    raw = MESSAGES[name]()
    before, after = _leaves(parse_message(raw)), _leaves(parse_message(_redacted(scanner, raw)))
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        if new.get_content_type() != old.get_content_type():
            # A replaced attachment: a short plain explanation, nothing else.
            assert new.get_content_type() == "text/plain" and old.get_filename() and not new.get_filename()
            continue
        assert new.get_content_charset() == old.get_content_charset()
        old_cte = (old.get("Content-Transfer-Encoding") or "7bit").lower()
        new_cte = (new.get("Content-Transfer-Encoding") or "7bit").lower()
        if old_cte == "7bit" and new_cte == "quoted-printable":
            decoded = new.get_payload(decode=True)
            assert isinstance(decoded, bytes) and not decoded.isascii()  # only when the mask needs 8 bits
        else:
            assert new_cte == old_cte


def test_masks_keep_a_hint(scanner: Scanner) -> None:
    """A card keeps its last four digits, a phone becomes [phone]; the text around them is unchanged."""
    text = _text_of(_redacted(scanner, plain_utf8_7bit()))
    assert "library card [card \u2022\u2022\u2022\u20222817] has a hold waiting; call the borrower at [phone]." in text


def test_seven_bit_part_becomes_quoted_printable_only_when_the_mask_needs_it(scanner: Scanner) -> None:
    """A us-ascii 7bit part stays 7bit (the mask uses '*'); a UTF-8 one goes QP to carry the bullet."""
    ascii_copy = parse_message(_redacted(scanner, plain_7bit()))
    assert ascii_copy["Content-Transfer-Encoding"] == "7bit"
    assert "[card ****2817]" in _text_of(ascii_copy.as_bytes())
    utf8_copy = parse_message(_redacted(scanner, plain_utf8_7bit()))
    assert utf8_copy["Content-Transfer-Encoding"] == "quoted-printable"


def test_charsets_without_a_bullet_keep_their_charset(scanner: Scanner) -> None:
    """ISO-8859-1 and Shift_JIS parts stay in their charset (the mask falls back to '*'), text intact."""
    latin = parse_message(_redacted(scanner, plain_qp_latin1()))
    payload = latin.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.decode("latin-1").startswith("Caf\xe9 note: the patron card [card ****2817]")
    sjis = parse_message(_redacted(scanner, shift_jis_base64()))
    payload = sjis.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.decode("shift_jis").startswith("図書館の利用者カード [card ****2817] の貸出")


def test_html_is_masked_in_the_source_with_tags_and_attributes(scanner: Scanner) -> None:
    """In HTML the card split over a <span> is masked, tags stay, and copies in attributes are masked too."""
    msg = parse_message(_redacted(scanner, html_only()))
    payload = msg.get_payload(decode=True)
    assert isinstance(payload, bytes)
    source = payload.decode("utf-8")
    assert "<b>patron</b>" in source and "<span>" in source and "&amp;" in source
    assert "[card \u2022\u2022\u2022\u20222817]" in source
    assert PHONE not in source and 'href="tel:[phone]"' in source
    assert "<style>p {color: red}</style>" in source


def test_forwarded_message_is_redacted_recursively(scanner: Scanner) -> None:
    """The forwarded message keeps its headers and part, with its Subject and body masked."""
    msg = parse_message(_redacted(scanner, forwarded()))
    inner = msg.get_payload()[1].get_payload()[0]
    assert inner["From"] == "Branch <branch@ccrls.org>"
    subject = str(email.header.make_header(email.header.decode_header(inner["Subject"])))
    assert subject == "patron card [card \u2022\u2022\u2022\u20222817]"
    assert CARD not in inner.get_payload()


@pytest.mark.parametrize(("name", "delimiter", "charset"), [("csv-semicolon", ";", "cp1252"), ("csv-tab", "\t", "utf-8")])
def test_csv_is_masked_cell_by_cell(scanner: Scanner, name: str, delimiter: str, charset: str) -> None:
    """Identifier cells and the cells of patron columns are masked; delimiters, rows, header and other cells stay."""
    raw = MESSAGES[name]()
    before = _leaves(parse_message(raw))[1].get_payload(decode=True)
    after = _leaves(parse_message(_redacted(scanner, raw)))[1].get_payload(decode=True)
    assert isinstance(before, bytes) and isinstance(after, bytes)
    old_rows = [r.split(delimiter) for r in before.decode(charset).splitlines()]
    new_rows = [r.split(delimiter) for r in after.decode(charset).splitlines()]
    assert [len(r) for r in new_rows] == [len(r) for r in old_rows]
    assert new_rows[0] == old_rows[0]
    assert new_rows[1][0].strip('"').startswith("[card ") and new_rows[1][2].strip('"') == "[phone]"
    assert [r[1].strip('"') for r in new_rows[1:]] == ["[name]", "[name]"]  # the column labelled Patron
    assert [r[3] for r in new_rows[1:]] == [r[3] for r in old_rows[1:]]  # an unlabelled column is kept
    assert CARD not in after.decode(charset) and SECOND_CARD not in after.decode(charset)


def test_every_row_of_a_large_export_is_masked(scanner: Scanner) -> None:
    """A 2,000-row export: every card, name and phone cell of every row is masked, not only the first rows'."""
    import random

    rng = random.Random(14)
    rows = []
    for i in range(2000):
        while True:
            card = "23610" + "".join(str(rng.randrange(10)) for _ in range(9))
            if library_mod10_valid(card):
                break
        rows.append(f'{card},"{rng.choice(["Otterly", "Wren", "Pike"])}, {rng.choice(["Ada", "Idris", "Margo"])}",'
                    f"503-555-{i:04d}\n")
    msg = EmailMessage()
    msg["From"] = "staff@ccrls.org"
    msg["To"] = "someone@example.com"
    msg["Subject"] = "list"
    msg.set_content("The list.")
    msg.add_attachment(("P BARCODE,PATRN NAME,TELEPHONE\n" + "".join(rows)).encode(), maintype="text",
                       subtype="csv", filename="export.csv")
    raw = msg.as_bytes()
    after = _leaves(parse_message(redact(raw, scanner.scan(raw))))[1].get_payload(decode=True)
    assert isinstance(after, bytes)
    masked = [next(csv.reader([line])) for line in after.decode().splitlines()[1:]]
    assert len(masked) == 2000
    assert all(r[0].startswith("[card ") and r[2] == "[phone]" for r in masked), masked[:3]
    assert all("[name]" in r[1] and not set(r[1].replace("[name]", "")) - {",", " "} for r in masked), masked[:3]


@pytest.mark.parametrize(("name", "what"), [("pdf", "a PDF document"), ("docx", "an Office document"),
                                            ("png", "an image"), ("csv-ils-export", "an attachment")])
def test_unrewritable_attachment_is_replaced_by_an_explanation(scanner: Scanner, name: str, what: str) -> None:
    """A PDF/DOCX/PNG with patron data is removed; a plain note says what and why, without values or filename."""
    msg = parse_message(_redacted(scanner, MESSAGES[name]()))
    note = _leaves(msg)[-1]
    assert note.get_content_type() == "text/plain" and note.get_filename() is None
    text = note.get_payload()
    assert isinstance(text, str)
    text = " ".join(text.split())
    assert f"PatronGuard removed {what}" in text and "library card numbers" in text
    for value in ("DOE", "JANE", "503-555", CARD, "jane-doe", "record.docx", "screen.png"):
        assert value not in text


def test_benign_attachment_is_kept_byte_identical(scanner: Scanner) -> None:
    """An attachment without findings is not touched: its decoded bytes and headers are the same."""
    raw = benign_attachment()
    before, after = _leaves(parse_message(raw))[1], _leaves(parse_message(_redacted(scanner, raw)))[1]
    assert after.get_payload(decode=True) == BENIGN_PDF
    assert after.items() == before.items()


def test_redaction_is_deterministic(scanner: Scanner) -> None:
    """The same original gives the same bytes every time (a retry re-creates the identical copy)."""
    for make in (alternative, csv_semicolon, pdf_patron):
        raw = make()
        assert _redacted(scanner, raw) == _redacted(scanner, raw)


def test_mask_for_keeps_only_the_hint() -> None:
    """Masks carry a category word; a card keeps its last four digits and nothing else."""
    from detectors.findings import Kind

    assert mask_for(Kind.PATRON_BARCODE, "2 3610 00362281 7") == "[card \u2022\u2022\u2022\u20222817]"
    assert mask_for(Kind.PATRON_BARCODE, CARD, "*") == "[card ****2817]"
    assert mask_for(Kind.PHONE, PHONE) == "[phone]"
    assert mask_for(Kind.EMAIL, "jane@example.com") == "[email]"
    assert mask_for(Kind.MONEY_OWED, "$4.50") == "[amount]"


def test_findings_that_do_not_match_the_text_make_it_refuse(scanner: Scanner) -> None:
    """A scan result that does not belong to these bytes is refused, not guessed at."""
    result = scanner.scan(plain_7bit(), [OUTSIDE])
    other = plain_7bit().replace(b"The patron's library", b"Our patron, whose library")
    with pytest.raises(CannotRedact):
        redact(other, result)


def test_unparseable_leftovers_make_redact_checked_refuse(scanner: Scanner) -> None:
    """A message whose redacted copy would still disclose (a card in an unscanned form) gives None: hold."""
    raw = (_head(extra="Content-Type: multipart/mixed; boundary=\"b\"\n") + "\n--b\nContent-Type: text/plain\n\n"
           + SENTENCE + "\n--b\nContent-Type: application/x-unknown\nContent-Transfer-Encoding: x-weird\n\nzz\n--b--\n"
           ).encode()
    result = scanner.scan(raw, [OUTSIDE])
    if result.decisions[0].action is Action.HOLD:
        assert redact_checked(scanner, raw, [OUTSIDE]) is None or verified(
            scanner.scan(redact(raw, result), [OUTSIDE]), [OUTSIDE]
        )


# ----------------------------------------------------------------- the leak set: redact cleanly or refuse


def _held_leaks() -> list[str]:
    lines = (LEAKSET / "labels.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t")[0] for line in lines if line.split("\t")[1:2] == ["hold"]]


@pytest.fixture(scope="module")
def shipped_scanner(tmp_path_factory: pytest.TempPathFactory) -> Scanner:
    text = (REPO / "config.yaml").read_text()
    for key in ("partner_excess: hold ", "fax_excess: hold\n", "fax_unapproved: hold\n", "external: hold\n  # What"):
        assert text.count(key) == 1, key
        text = text.replace(key, key.replace("hold", "redact"))
    path = tmp_path_factory.mktemp("shipped") / "config.yaml"
    path.write_text(text)
    return Scanner(load(str(path)))


@pytest.mark.parametrize("name", _held_leaks())
def test_leakset_messages_redact_cleanly_or_refuse(shipped_scanner: Scanner, name: str) -> None:
    """Each held leak either gets a copy that a second scan delivers to every outside recipient, or none."""
    raw = (LEAKSET / name).read_bytes()
    result = shipped_scanner.scan(raw)
    targets = [d.recipient.address for d in result.decisions if d.action is Action.REDACT]
    assert targets, "every held leak is redacted for someone when every hold action is redact"
    checked = redact_checked(shipped_scanner, raw, targets)
    if checked is None:
        return  # refused: the caller holds (fail closed)
    again = shipped_scanner.scan(checked.raw, targets)
    assert verified(again, targets)
    assert parse_message(checked.raw)[REDACTED_HEADER] == "yes"



def test_most_held_leaks_redact_cleanly(shipped_scanner: Scanner) -> None:
    """At least 20 of the held leaks get a clean copy (measured: 24 of 28; the rest bind titles to a person)."""
    clean = 0
    for name in _held_leaks():
        raw = (LEAKSET / name).read_bytes()
        targets = [d.recipient.address for d in shipped_scanner.scan(raw).decisions if d.action is Action.REDACT]
        clean += redact_checked(shipped_scanner, raw, targets) is not None
    assert clean >= 20
