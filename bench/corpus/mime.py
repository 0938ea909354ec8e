"""Deterministic .eml building: the same arguments give the same bytes.

Boundaries, Message-IDs and dates come from the caller (derived from the
message's seed), never from the clock or `random`'s global state. XLSX and
PDF attachments are made reproducible here too: zip members get a fixed
timestamp, reportlab runs in invariant mode.
"""

from __future__ import annotations

import csv
import datetime as dt
import email.policy
import email.utils
import hashlib
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage

TZ = dt.timezone(dt.timedelta(hours=-8))


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. text/csv
    data: bytes | str
    charset: str = "utf-8"


@dataclass
class Mail:
    sender: tuple[str, str]
    to: Sequence[tuple[str, str]]
    subject: str
    text: str
    date: dt.datetime
    token: str  # seeds boundaries and the Message-ID
    cc: Sequence[tuple[str, str]] = ()
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    forwarded: EmailMessage | None = None  # attached as message/rfc822
    crlf: bool = False
    cte: str | None = None  # force the body's transfer encoding (base64, quoted-printable, 8bit)
    in_reply_to: str | None = None
    extra_headers: Sequence[tuple[str, str]] = ()


def _address(name: str, addr: str) -> Address:
    local, _, domain = addr.partition("@")
    return Address(display_name=name, username=local, domain=domain)


def _policy(crlf: bool) -> email.policy.EmailPolicy:
    return email.policy.default.clone(linesep="\r\n" if crlf else "\n", max_line_length=998)


def build(mail: Mail) -> EmailMessage:
    msg = EmailMessage(policy=_policy(mail.crlf))
    msg["From"] = _address(*mail.sender)
    msg["To"] = [_address(n, a) for n, a in mail.to]
    if mail.cc:
        msg["Cc"] = [_address(n, a) for n, a in mail.cc]
    msg["Subject"] = mail.subject
    msg["Date"] = email.utils.format_datetime(mail.date)
    domain = mail.sender[1].rpartition("@")[2]
    msg["Message-ID"] = f"<{hashlib.sha1(mail.token.encode()).hexdigest()[:20]}@{domain}>"
    if mail.in_reply_to:
        msg["In-Reply-To"] = mail.in_reply_to
        msg["References"] = mail.in_reply_to
    for name, value in mail.extra_headers:
        msg[name] = value
    msg["MIME-Version"] = "1.0"
    if mail.cte:
        msg.set_content(mail.text, cte=mail.cte)
    else:
        msg.set_content(mail.text)
    if mail.html is not None:
        msg.add_alternative(mail.html, subtype="html")
    for att in mail.attachments:
        maintype, _, subtype = att.content_type.partition("/")
        if isinstance(att.data, str):
            msg.add_attachment(att.data, subtype=subtype, filename=att.filename, charset=att.charset)
        else:
            msg.add_attachment(att.data, maintype=maintype, subtype=subtype, filename=att.filename)
    if mail.forwarded is not None:
        msg.add_attachment(mail.forwarded)
    n = 0
    for part in msg.walk():
        if part.is_multipart():
            n += 1
            part.set_boundary(f"----=_Part_{hashlib.sha1(f'{mail.token}/{n}'.encode()).hexdigest()[:16]}")
    return msg


def to_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes()


def render(mail: Mail) -> bytes:
    return to_bytes(build(mail))


# ---------------------------------------------------------------- attachments


def csv_text(rows: Sequence[Sequence[str]], *, delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL,
             crlf: bool = True) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator="\r\n" if crlf else "\n")
    for row in rows:
        writer.writerow(row)
    return buf.getvalue()


_ZIP_TIME = (2025, 1, 1, 0, 0, 0)


def xlsx_bytes(rows: Sequence[Sequence[object]], sheet: str = "Sheet1") -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(list(row))
    fixed = dt.datetime(2025, 1, 1, 0, 0, 0)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "Library Staff"
    wb.properties.lastModifiedBy = "Library Staff"
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    # openpyxl writes the save time into docProps/core.xml whatever `modified` says.
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rb"\g<1>2025-01-01T00:00:00Z\g<2>", body)
            member = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o600 << 16
            dst.writestr(member, body)
    return out.getvalue()


def pdf_bytes(lines: Sequence[str], title: str = "Report") -> bytes:
    """A text-layer PDF (Helvetica, letter size), one line per entry, new pages as needed."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    c.setTitle(title)
    c.setAuthor("Library Staff")
    width, height = letter
    y = height - 54
    c.setFont("Helvetica", 10)
    for line in lines:
        if y < 54:
            c.showPage()
            c.setFont("Helvetica", 10)
            y = height - 54
        c.drawString(54, y, line)
        y -= 13
    c.showPage()
    c.save()
    return buf.getvalue()
