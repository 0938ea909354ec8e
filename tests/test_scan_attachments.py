"""Attachments through the whole scan: patron records in documents are held, benign documents pass."""

from __future__ import annotations

import docfactory as d
import pytest

OUTSIDE = ["someone@example.org"]
CARD = "23610003622817"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "payload", "ctype", "filename"),
    [
        ("pdf", lambda: d.pdf_text(d.PATRON_LINES), "application/pdf", "record.pdf"),
        ("docx", lambda: d.docx(d.PATRON_LINES), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "record.docx"),
        ("zip of pdf", lambda: d.zip_of({"record.pdf": d.pdf_text(d.PATRON_LINES)}), "application/zip", "records.zip"),
        ("screenshot", lambda: d.screenshot_png(d.PATRON_LINES), "image/png", "screen.png"),
    ],
)
def test_patron_record_in_attachment_is_held(scanner, name, payload, ctype, filename):
    """A patron record inside a PDF, DOCX, ZIP or screenshot holds the message for an outside recipient."""
    result = scanner.scan(d.message_with(payload(), ctype, filename), OUTSIDE)
    assert result.held, f"{name}: rules={result.rules}"
    assert "uninspectable" not in result.rules, f"{name} was not read: {result.rules}"


@pytest.mark.slow
def test_benign_pdf_is_delivered(scanner):
    """A PDF without patron data is read and delivered."""
    pdf = d.pdf_text(["Board meeting agenda", "1. Budget review", "2. Summer reading program"])
    result = scanner.scan(d.message_with(pdf, "application/pdf", "agenda.pdf"), OUTSIDE)
    assert not result.held, result.rules


@pytest.mark.slow
def test_zip_bomb_is_held_as_uninspectable(scanner):
    """A zip bomb is held for an outside recipient as uninspectable, not an outage."""
    result = scanner.scan(d.message_with(d.zip_bomb(24), "application/zip", "bomb.zip"), OUTSIDE)
    assert result.held and "uninspectable" in result.rules
