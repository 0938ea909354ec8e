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


def signature_spans(
    text: str, sender_names: Sequence[str] = (), sender_address: str = "", letter: bool = True
) -> list[tuple[int, int]]:
    """Character spans of signature blocks in `text`, sorted and merged.

    `sender_names` are the From display name(s); `sender_address` the From address, whose
    local part names the writer too (jill.sato@…, jsato@…). `letter` is false for an
    attached document (a notice, a report): only its sign-off lines are looked for.
    """
    if "\n" not in text:
        return []
    spans = _sign_off_blocks(text)
    if not letter:
        return _merge(spans)
    own_end = own_text_end(text)
    spans.extend(_sender_name_blocks(text, own_end, sender_names, sender_address))
    spans.extend(_tail_blocks(text, own_end))
    # Every quoted or forwarded letter in the thread closes with its writer's signature too.
    # (Its closing block must still say whom the writer works for: a patron's own signed
    # letter, forwarded on, keeps her name and address.)
    unquoted = _QUOTE_MARKS.sub(lambda m: " " * len(m.group()), text)
    starts = [m.start() for m in QUOTE_HEADER.finditer(text) if not text[m.start() : m.end()].lstrip().startswith(">")]
    quoted_start = _first_quoted_line(text)
    if quoted_start is not None:
        starts.append(quoted_start)
    bounds = sorted(set(starts)) + [len(text)]
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        body = unquoted.find("\n", lo) + 1 if unquoted.find("\n", lo) >= 0 else hi
        if body < hi:
            spans.extend((body + a, body + b) for a, b in _tail_blocks(unquoted[body:hi], hi - body))
    return _merge(spans)


_QUOTE_MARKS = re.compile(r"^(?:[ \t]*>)+", re.MULTILINE)


def _first_quoted_line(text: str) -> int | None:
    m = re.search(r"^[ \t]*>", text, re.MULTILINE)
    return m.start() if m else None


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


def _sender_name_blocks(
    text: str, own_end: int, sender_names: Sequence[str], sender_address: str = ""
) -> list[tuple[int, int]]:
    """Lines that are the writer's own name — by the display name, or by the address's local part —
    and the short lines under them."""
    words = {w.lower() for n in sender_names for w in re.findall(r"\w{2,}", n)}
    local = "".join(ch for ch in sender_address.rpartition("@")[0].lower() if ch.isalpha())
    if not words and len(local) < 4:
        return []
    spans = []
    for m in re.finditer(r"^[^\n]{2,80}$", text[:own_end], re.MULTILINE):
        line = m.group()
        head = re.split(r"[|(]| - | – ", line, maxsplit=1)[0]  # "Jill Sato | Circulation", "Jill Sato (she/her)"
        line_words = [w.lower() for w in re.findall(r"[^\W\d_]{2,}", head)]
        if not line_words or not _NAME_LINE.match(head.strip() or "x"):
            continue
        by_display = bool(words) and set(line_words) <= words
        by_address = len(local) >= 4 and len(line_words) >= 2 and _in_local(line_words, local)
        if by_display or by_address:
            spans.append((m.start(), _block_end(text, m.end())))
    return spans


def _in_local(words: list[str], local: str) -> bool:
    """jill.sato / jsato / satoj / jillsato name the writer of the line "Jill Sato"."""
    given, surname = words[0], words[-1]
    if len(surname) < 3 or surname not in local:
        return False
    rest = local.replace(surname, "", 1)
    return not rest or given.startswith(rest[:1]) or given in rest


# Closing boilerplate after a signature: disclaimers, "Sent from my phone", a mailing list footer.
_BOILERPLATE = re.compile(
    r"confidential|intended (?:only )?for|intended recipient|privileged|disclaimer|public records? (?:law|request)"
    r"|sent from my|get outlook|unsubscribe|this (?:e-?mail|message) (?:and|may|is)|please consider the environment",
    re.IGNORECASE,
)


def _tail_blocks(text: str, own_end: int) -> list[tuple[int, int]]:
    """The closing paragraphs of the writer's own text, when they read as a signature.

    Looked at from the end: boilerplate paragraphs (a disclaimer, "Sent from my iPhone")
    are stepped over, then up to two short-line paragraphs that open with a name or a
    title and say whom the writer works for.
    """
    own = text[:own_end].rstrip()
    paragraphs = [(m.start(), m.end()) for m in _PARAGRAPH.finditer(own)]
    while paragraphs and _BOILERPLATE.search(own, *paragraphs[-1]) and len(paragraphs) > 1:
        paragraphs.pop()
    spans: list[tuple[int, int]] = []
    for count in (1, 2):
        if len(paragraphs) < count + (0 if count == 1 else 1):
            break
        start, end = paragraphs[-count][0], paragraphs[-1][1]
        if _reads_as_signature(own[start:end], start == 0):
            spans = [(start, end)]
    return spans


_GREETING_LINE = re.compile(
    r"^(?:dear|hello|hi|hey|good (?:morning|afternoon|evening)|estimad[oa]|querid[oa]|hola|buen[oa]s|уважаем|здравствуйте"
    r"|kính gửi|xin chào|chào)\b",
    re.IGNORECASE,
)
# A paragraph: lines with something on them (a line of blanks, as a quoted ">" becomes, ends one).
_PARAGRAPH = re.compile(r"(?:[^\n]*\S[^\n]*(?:\n|$))+")


def _reads_as_signature(block: str, whole_message: bool) -> bool:
    lines = [ln for ln in block.split("\n") if ln.strip()]
    if not lines or len(lines) > MAX_LINES or any(len(ln) > MAX_LINE_CHARS for ln in lines):
        return False
    if len(lines) == 1 and whole_message:
        return False  # a one-line message is not a signature
    first = lines[0].strip()
    if _GREETING_LINE.match(first):
        return False  # "Dear Parks, Karen": a letter opens here, it does not close
    # "Jill Sato | Circulation", "Jill Sato (she/her)": the name before the separator.
    head = re.split(r"[|(]| - | – ", first, maxsplit=1)[0].strip()
    if len(first.split()) > 8 or not (_NAME_LINE.match(first) or _NAME_LINE.match(head or "x") or _SIGN_OFF.match(first)):
        return False
    if first.endswith((".", "?", "!")) and not re.search(r"\b[A-Z]\.$", first):
        return False  # a sentence, not a name
    # A name with a phone and an address alone could be a patron's, pasted at the end:
    # a signature also says whom the writer works for.
    return any(_AFFILIATION.search(ln) for ln in lines)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
