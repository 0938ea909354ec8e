"""spaCy names in pasted tables: column gaps read as sentence ends."""

from __future__ import annotations

import pytest

from detectors.findings import TextPart


@pytest.mark.slow
def test_names_in_pasted_columns_are_found():
    """Names in a space-aligned pasted table are found apart from the titles next to them."""
    from detectors.names import NameDetector

    text = (
        "Aiden Brooks        Wings of Fire: The Dragonet Prophecy      due 03/03/2025\n"
        "Maya Castellanos    Ghosts / Raina Telgemeier                 due 02/24/2025\n"
    )
    part = TextPart("1", text)
    names = {text[f.start : f.end] for f in NameDetector().detect_windows([(part, 0, len(text))])}
    assert {"Aiden Brooks", "Maya Castellanos"} <= names
