"""Builders of real attachment files for the extraction tests and benchmarks: PDF, Office, ODF, RTF,
CSV, archives, screenshots and fax TIFFs, each holding a patron record or benign library business.

Everything is generated in memory (reportlab, openpyxl, Pillow, or zip + XML by hand); nothing is
read from disk except a DejaVu font when the system has one.
"""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from collections.abc import Sequence
from email.message import EmailMessage
from xml.sax.saxutils import escape

CARD = "23610003622817"
PATRON_LINES = (
    "P BARCODE   23610003622817",
    "PATRN NAME  DOE, JANE M",
    "ADDRESS     1420 SE ALDER ST",
    "            PORTLAND OR 97214",
    "TELEPHONE   503-555-0187",
    "EXP DATE    06-30-2027    P TYPE  1",
    "MONEY OWED  $4.50",
)
PATRON_ROWS = (
    ("P BARCODE", "PATRN NAME", "TELEPHONE", "MONEY OWED"),
    (CARD, "DOE, JANE M", "503-555-0187", "4.50"),
    ("23610003622809", "ROE, RICHARD", "503-555-0142", "0.00"),
)
BENIGN_LINES = (
    "Quarterly circulation statistics, Central Branch",
    "Items circulated        41,208",
    "New titles added        1,315",
    "Program attendance      2,460 (author events and story time)",
    "Baker & Taylor order 44817: The Overstory, ISBN 9780393635522, $18.00",
    "Next board meeting: the third Tuesday of the month.",
)
BENIGN_ROWS = (
    ("Branch", "Items circulated", "New titles", "Program attendance"),
    ("Central", "41208", "1315", "2460"),
    ("Belmont", "18022", "611", "930"),
)

_FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)


# ---------------------------------------------------------------------------
# PDF


def pdf_text(lines: Sequence[str], pages: int = 1) -> bytes:
    """A PDF with a text layer: the lines in Courier on each page."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=letter)
    for _ in range(pages):
        c.setFont("Courier", 11)
        y = 720
        for line in lines:
            c.drawString(72, y, line)
            y -= 16
        c.showPage()
    c.save()
    return buffer.getvalue()


def pdf_image_only(image_png: bytes) -> bytes:  # the image should have US-letter proportions
    """A scanned-style PDF: one page holding only a picture, no text layer."""
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=letter)
    width, height = letter
    c.drawImage(ImageReader(io.BytesIO(image_png)), 0, 0, width=width, height=height)
    c.showPage()
    c.save()
    return buffer.getvalue()


def pdf_encrypted(
    lines: Sequence[str], user_password: str = "circ-desk", algorithm: str = "AES-128"
) -> bytes:
    """A password-protected PDF (a user password is needed to open it)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf_text(lines))).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password="owner-" + user_password, algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_owner_only(lines: Sequence[str]) -> bytes:
    """A PDF with only an owner password (copy/print restrictions): anyone can open and read it."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf_text(lines))).pages:
        writer.add_page(page)
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# ---------------------------------------------------------------------------
# Office Open XML and OpenDocument, built by hand


def _zip(members: dict[str, bytes | str], stored_first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        if stored_first is not None:
            zf.writestr(
                zipfile.ZipInfo(stored_first), members[stored_first], compress_type=zipfile.ZIP_STORED
            )
        for name, data in members.items():
            if name != stored_first:
                zf.writestr(name, data)
    return buffer.getvalue()


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_P = "http://schemas.openxmlformats.org/presentationml/2006/main"


def docx(lines: Sequence[str], table: Sequence[Sequence[str]] = ()) -> bytes:
    """A minimal Word document: one paragraph per line (label and value split by a tab), then a table."""

    def run(text: str) -> str:
        label, _, value = text.partition("  ")
        if value:
            return f'<w:r><w:t xml:space="preserve">{escape(label)}</w:t></w:r><w:r><w:tab/><w:t>{escape(value.strip())}</w:t></w:r>'
        return f'<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r>'

    paragraphs = "".join(
        f"<w:p><w:pPr><w:tabs><w:tab w:val='left' w:pos='2000'/></w:tabs></w:pPr>{run(line)}</w:p>"
        for line in lines
    )
    rows = "".join(
        "<w:tr>"
        + "".join(f"<w:tc><w:p><w:r><w:t>{escape(c)}</w:t></w:r></w:p></w:tc>" for c in row)
        + "</w:tr>"
        for row in table
    )
    body = paragraphs + (f"<w:tbl>{rows}</w:tbl>" if rows else "")
    document = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_W}"><w:body>{body}<w:sectPr/></w:body></w:document>'
    footer = f'<?xml version="1.0" encoding="UTF-8"?><w:ftr xmlns:w="{_W}"><w:p><w:r><w:t>Multnomah County Library</w:t></w:r></w:p></w:ftr>'
    return _zip(
        {
            "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
            "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
            "word/document.xml": document,
            "word/footer1.xml": footer,
        }
    )


def pptx(lines: Sequence[str]) -> bytes:
    """A minimal PowerPoint file: one slide, one text box, one paragraph per line."""
    paragraphs = "".join(
        f"<a:p><a:r><a:rPr lang='en-US'/><a:t>{escape(line)}</a:t></a:r></a:p>" for line in lines
    )
    slide = (
        f'<?xml version="1.0" encoding="UTF-8"?><p:sld xmlns:a="{_A}" xmlns:p="{_P}"><p:cSld><p:spTree>'
        f"<p:sp><p:txBody><a:bodyPr/>{paragraphs}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"
    )
    return _zip(
        {
            "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
            "ppt/presentation.xml": f'<?xml version="1.0"?><p:presentation xmlns:p="{_P}"/>',
            "ppt/slides/slide1.xml": slide,
        }
    )


def xlsx(rows: Sequence[Sequence[str]], sheets: int = 1) -> bytes:
    """An Excel workbook written by openpyxl; numbers that look like numbers are stored as numbers."""
    from openpyxl import Workbook

    book = Workbook()
    for index in range(sheets):
        sheet = book.active if index == 0 else book.create_sheet(f"Sheet{index + 1}")
        assert sheet is not None
        for row in rows:
            sheet.append([int(c) if c.isdigit() else c for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
)


def odt(lines: Sequence[str]) -> bytes:
    """A minimal OpenDocument text: one <text:p> per line, runs of spaces as <text:s text:c=.../>."""

    def para(line: str) -> str:
        label, _, value = line.partition("  ")
        if value:
            return f'<text:p>{escape(label)}<text:s text:c="3"/><text:span>{escape(value.strip())}</text:span></text:p>'
        return f"<text:p>{escape(line)}</text:p>"

    content = f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF_NS}><office:body><office:text>{"".join(para(x) for x in lines)}</office:text></office:body></office:document-content>'
    return _zip(
        {"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": content},
        stored_first="mimetype",
    )


def ods(rows: Sequence[Sequence[str]]) -> bytes:
    """A minimal OpenDocument spreadsheet."""
    body = "".join(
        "<table:table-row>"
        + "".join(f"<table:table-cell><text:p>{escape(c)}</text:p></table:table-cell>" for c in row)
        + "</table:table-row>"
        for row in rows
    )
    content = f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF_NS}><office:body><office:spreadsheet><table:table table:name="Sheet1">{body}</table:table></office:spreadsheet></office:body></office:document-content>'
    return _zip(
        {"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": content},
        stored_first="mimetype",
    )


def rtf(lines: Sequence[str]) -> bytes:
    """An RTF document as WordPad writes it: font and colour tables, then \\par-separated lines."""
    body = "\\par\n".join(
        line.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}") for line in lines
    )
    return (
        "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fmodern Courier New;}}"
        "{\\colortbl ;\\red0\\green0\\blue0;}{\\*\\generator Riched20 10.0.19041}"
        "\\viewkind4\\uc1\\pard\\f0\\fs20 " + body + "\\par\n}"
    ).encode("cp1252")


def csv_bytes(rows: Sequence[Sequence[str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    """A CSV export in the given delimiter and encoding ("utf-16" writes a BOM, "utf-16-le" does not)."""
    text = "\r\n".join(delimiter.join(row) for row in rows) + "\r\n"
    return text.encode(encoding)


# ---------------------------------------------------------------------------
# Archives


def zip_of(members: dict[str, bytes]) -> bytes:
    """A ZIP archive of the given members."""
    return _zip(dict(members))


def tar_gz_of(members: dict[str, bytes]) -> bytes:
    """A gzip-compressed tar of the given members."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zip_encrypted(members: dict[str, bytes]) -> bytes:
    """A ZIP whose members are marked password-protected (traditional PKWARE encryption flag)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, b"\x00" * 12 + data)  # 12-byte encryption header, then the "ciphertext"
        offsets = [info.header_offset for info in zf.infolist()]
    raw = bytearray(buffer.getvalue())
    # zipfile cannot encrypt: set the "encrypted" flag bit in each local and central header instead.
    for offset in offsets:
        raw[offset + 6] |= 0x1
    central = raw.find(b"PK\x01\x02")
    while central != -1:
        raw[central + 8] |= 0x1
        central = raw.find(b"PK\x01\x02", central + 4)
    return bytes(raw)


def zip_bomb(megabytes: int = 24) -> bytes:
    """A ZIP holding one member of zeros: ~1000x compression ratio."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("report.csv", b"\x00" * (megabytes * 1024 * 1024))
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# Images


def font(size: int):  # type: ignore[no-untyped-def]
    """DejaVu Sans Mono when installed (fonts-dejavu-core), else Pillow's built-in scalable font."""
    from PIL import ImageFont

    for path in _FONT_PATHS:
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def screenshot_png(lines: Sequence[str], dark: bool = True) -> bytes:
    """A Millennium-style character-mode patron screen at screen resolution (13 px text)."""
    from PIL import Image, ImageDraw

    background, ink = ((0, 0, 110), (235, 235, 235)) if dark else ((255, 255, 255), (20, 20, 20))
    image = Image.new("RGB", (640, 40 + 19 * len(lines)), background)
    draw = ImageDraw.Draw(image)
    draw.text((10, 6), "PATRON  Millennium Circulation", fill=(255, 255, 0) if dark else ink, font=font(13))
    for i, line in enumerate(lines):
        draw.text((10, 30 + 19 * i), line, fill=ink, font=font(13))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def fax_page(lines: Sequence[str]):  # type: ignore[no-untyped-def]
    """One US-letter page at 200 x 200 dpi, bilevel, the lines in 10-point type."""
    from PIL import Image, ImageDraw

    page = Image.new("1", (1700, 2200), 1)
    draw = ImageDraw.Draw(page)
    draw.text((150, 120), "FAX  Multnomah County Library  Circulation", fill=0, font=font(30))
    for i, line in enumerate(lines):
        draw.text((150, 260 + 48 * i), line, fill=0, font=font(28))
    return page


def fax_tiff(pages: Sequence[Sequence[str]]) -> bytes:
    """A multi-page CCITT G4 TIFF at 200 x 200 dpi, as a fax server stores a received fax."""
    images = [fax_page(lines) for lines in pages]
    out = io.BytesIO()
    images[0].save(
        out, format="TIFF", compression="group4", dpi=(200, 200), save_all=True, append_images=images[1:]
    )
    return out.getvalue()


# ---------------------------------------------------------------------------
# Messages


def message_with(payload: bytes, content_type: str, filename: str, body: str = "See attached.") -> bytes:
    """An outbound message carrying one attachment."""
    msg = EmailMessage()
    msg["From"] = "Circ Desk <circ@library.example.org>"
    msg["To"] = "someone@example.com"
    msg["Subject"] = "Requested file"
    msg["Message-ID"] = "<att1@library.example.org>"
    msg.set_content(body)
    maintype, subtype = content_type.split("/", 1)
    msg.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def fax_png(lines: Sequence[str] = PATRON_LINES) -> bytes:
    """One fax page as a PNG (for building a scanned, image-only PDF)."""
    out = io.BytesIO()
    fax_page(lines).save(out, format="PNG", dpi=(200, 200))
    return out.getvalue()


# ---------------------------------------------------------------------------
# PostScript (what a print driver or sendfax hands a fax server)


def postscript(lines: Sequence[str], pages: int = 1) -> bytes:
    """A hand-written PostScript document: the lines drawn in 11-point Courier, on each of `pages` pages."""
    body = []
    for _ in range(pages):
        for i, line in enumerate(lines):
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            body.append(f"72 {720 - 16 * i} moveto ({escaped}) show")
        body.append("showpage")
    return ("%!PS-Adobe-3.0\n/Courier findfont 11 scalefont setfont\n" + "\n".join(body) + "\n").encode()


def postscript_image_only(image_png: bytes) -> bytes:
    """A scanned page wrapped in PostScript (no text: the page is one image), made with Ghostscript."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        source, target = os.path.join(tmp, "in.pdf"), os.path.join(tmp, "out.ps")
        with open(source, "wb") as fh:
            fh.write(pdf_image_only(image_png))
        subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=ps2write",
                        f"-sOutputFile={target}", source], check=True, capture_output=True, timeout=60)
        with open(target, "rb") as fh:
            return fh.read()
