"""Signature blocks: where a message's writers sign with their own name, title and contacts.

This module owns finding signature blocks in a part's text, so that the staff
member's own name, direct line and the library's street address are not read
as a patron's. A block is found by its structure, not by a fixed line count:

- after a sign-off line ("Best,", "Thanks,", "Saludos,", "--"), the short lines
  that follow, up to the first blank line after a contact line or a quote header;
- a line that is the sender's own name (the From display name), and the short
  lines under it;
- the last paragraph of the writer's own text (before any quoted or forwarded
  message) when it reads as a signature: short lines opening with a name or a
  title and saying whom the writer works for (a job title, a department or the
  library's name, a web or email address). A name, street and phone alone could
  be a patron's details pasted at the end, so they are not enough.

Only the writer's own text gets the structural rules; a quoted or forwarded
message keeps the sign-off rule alone (a patron's signed letter forwarded on is
still the patron's data). Pure functions over text; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["QUOTE_HEADER", "own_text_end", "signature_spans"]

MAX_LINES = 10
MAX_LINE_CHARS = 100

_SIGN_OFF = re.compile(
    r"^[ \t]*(?:--[ \t]*|(?:best(?: regards| wishes)?|kind regards|warm regards|regards|thanks(?: again| so much)?|"
    r"thank you|many thanks|sincerely(?: yours)?|cheers|respectfully|yours truly|take care|all the best|"
    r"saludos(?: cordiales)?|atentamente|cordialmente|gracias|с уважением|спасибо|trân trọng|cảm ơn)[ \t]*[,.!]?[ \t]*)$",
    re.IGNORECASE | re.MULTILINE,
)
QUOTE_HEADER = re.compile(
    r"^[ \t]*(?:On .{1,200} wrote:|El .{1,200} escribió:|-{2,} ?(?:Original|Forwarded) [Mm]essage ?-{2,}"
    r"|Begin forwarded message:|From: .{1,200}\n(?:Sent|Date): |>)",
    re.MULTILINE,
)
# Who the writer works for: a title, a department or organisation, a web address, an email.
_AFFILIATION = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.-]+|\bwww\.|https?://"
    r"|\b(?:Librar(?:y|ian|ians|ies)|Branch|Department|Dept|Services|Division|Office|Center|Centre|County|City of"
    r"|Foundation|Consortium|District|Director|Manager|Coordinator|Supervisor|Assistant|Specialist|Technician|Clerk"
    r"|Administrator|Associate|Circulation|Reference|Outreach|Cataloging|Acquisitions|Biblioteca|Bibliotecari[oa])\b"
)
# Any contact line: the above, or a phone, an extension, a street or a city-state-ZIP line.
_CONTACT = re.compile(
    _AFFILIATION.pattern
    + r"|\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b|\b(?:ext|x)\.? ?\d{2,5}\b"
    r"|^\s*\d{1,6} [A-Za-z0-9 .'-]{2,40}\b(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Dr|Drive|Ln|Lane|Way|Ct|Pl|Pkwy|Hwy)\b"
    r"|\b[A-Z][a-z]+,? [A-Z]{2} \d{5}\b",
    re.MULTILINE,
)
# A line that can open a signature: a name (1-5 capitalised words, initials allowed) or a title.
_NAME_LINE = re.compile(r"^[ \t]*[A-ZÀ-Ý][\w'’.-]*(?:,?[ \t]+(?:[A-ZÀ-Ý][\w'’.-]*|[a-z]{1,3}|&|\|)){0,5}[ \t]*,?$")


def own_text_end(text: str) -> int:
    """Where the writer's own text ends: the first quote header or quoted line, else the end."""
    m = QUOTE_HEADER.search(text)
    return m.start() if m else len(text)


def signature_spans(text: str, sender_names: Sequence[str] = ()) -> list[tuple[int, int]]:
    """Character spans of signature blocks in `text`, sorted and merged."""
    if "\n" not in text:
        return []
    spans = _sign_off_blocks(text)
    own_end = own_text_end(text)
    spans.extend(_sender_name_blocks(text, own_end, sender_names))
    tail = _tail_block(text, own_end)
    if tail is not None:
        spans.append(tail)
    return _merge(spans)


def _sign_off_blocks(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _SIGN_OFF.finditer(text):
        spans.append((m.start(), _block_end(text, m.end())))
    return spans


def _block_end(text: str, pos: int) -> int:
    """The end of the short lines after `pos`: at most MAX_LINES lines, stopping at a quote header,
    a long (prose) line, or a blank line once a contact line has been seen."""
    end = pos
    seen_contact = False
    lines = 0
    while lines < MAX_LINES and end < len(text):
        nxt = text.find("\n", end + 1)
        if nxt < 0:
            nxt = len(text)
        line = text[end + 1 : nxt] if text[end : end + 1] == "\n" else text[end:nxt]
        if QUOTE_HEADER.match(line) or len(line) > MAX_LINE_CHARS:
            break
        if not line.strip():
            if seen_contact:
                break
        else:
            lines += 1
            seen_contact = seen_contact or bool(_CONTACT.search(line))
        end = nxt
    return end


def _sender_name_blocks(text: str, own_end: int, sender_names: Sequence[str]) -> list[tuple[int, int]]:
    words = {w.lower() for n in sender_names for w in re.findall(r"\w{2,}", n)}
    if not words:
        return []
    spans = []
    for m in re.finditer(r"^[^\n]{2,60}$", text[:own_end], re.MULTILINE):
        line_words = {w.lower() for w in re.findall(r"\w{2,}", m.group())}
        if line_words and line_words <= words and _NAME_LINE.match(m.group()):
            spans.append((m.start(), _block_end(text, m.end())))
    return spans


def _tail_block(text: str, own_end: int) -> tuple[int, int] | None:
    """The last paragraph of the writer's own text, when it reads as a signature."""
    own = text[:own_end].rstrip()
    if not own:
        return None
    start = own.rfind("\n\n")
    start = 0 if start < 0 else start + 2
    block = own[start:]
    lines = [ln for ln in block.split("\n") if ln.strip()]
    if not lines or len(lines) > MAX_LINES or any(len(ln) > MAX_LINE_CHARS for ln in lines):
        return None
    if len(lines) == 1 and start == 0:
        return None  # a one-line message is not a signature
    first = lines[0].strip()
    if not (_NAME_LINE.match(first) or _SIGN_OFF.match(first)):
        return None
    if first.endswith((".", "?", "!")) and not re.search(r"\b[A-Z]\.$", first):
        return None  # a sentence, not a name
    # A name with a phone and an address alone could be a patron's, pasted at the end:
    # a signature also says whom the writer works for.
    if not any(_AFFILIATION.search(ln) for ln in lines):
        return None
    return start, len(own)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
