"""HTML to plain text for detectors: what a reader of the mail would see, with tables kept as rows.

This module owns one conversion, `html_to_text`. It keeps visible text, decodes
entities, turns block elements into line breaks and keeps every table row on one
line with its cells separated by a tab, so a patron list pasted from an ILS
screen or a spreadsheet reaches the detectors as rows, not as one word per line.
It drops what no reader sees: `<script>`, `<style>`, `<title>`, the rest of
`<head>` and comments. An unclosed `<script>`, `<style>` or `<title>` hides
nothing: the rest of the document is kept as text.

It does not use `html.parser`: that parser goes quadratic or worse on inputs as
small as `"<a " * 20000` (seconds per 60 KB), and mail is hostile input. The
scanner here looks at each character a bounded number of times: every search
for a closing `>` or `-->` is remembered, so a run of unclosed `<` costs linear
time. The price is leniency: a `>` inside a quoted attribute ends the tag early
and leaves a few attribute characters as text, which is harmless for detection.

It must not do I/O, log, or import anything outside the standard library.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

# Where markup starts: "<" then "!", "?" or a tag name. A lone "<" is text.
_MARKUP = re.compile(r"<(?:[!?]|/?[A-Za-z])")
# A start or end tag name right after "<"; names are bounded so a match is O(1).
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:_-]{0,40})")
_SPACE = re.compile(r"\s+")
# Closing tags of raw-text elements; searched once per element.
_RAW_END = {
    "script": re.compile(r"</script", re.IGNORECASE),
    "style": re.compile(r"</style", re.IGNORECASE),
    "title": re.compile(r"</title", re.IGNORECASE),
}
_MAX_TITLE = 2000
_CELL_TABS = re.compile(r" +\t")
_BLANK_RUN = re.compile(r"\n{3,}")

# Elements that start a new line (a line break inside a table cell becomes a space instead).
_BLOCK = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "caption",
        "center",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "ul",
        "table",
        "tbody",
        "thead",
        "tfoot",
    }
)
# What may appear inside <head>; any other tag means the body has started (as browsers do).
_HEAD_CONTENT = frozenset({"base", "link", "meta", "noscript", "script", "style", "title"})


@dataclass(frozen=True, slots=True)
class HtmlText:
    """The visible text of an HTML document and whether it had a data table."""

    text: str
    tabular: bool  # a table row with two or more cells was seen


class _Writer:
    """Collects output chunks, keeps single spaces, and tracks table rows and cells."""

    __slots__ = ("chunks", "last", "rows", "tabular")

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.last = "\n"  # the last character written: a space after it would be redundant
        # One entry per open <table>: the number of cells opened in its current row.
        self.rows: list[int] = []
        self.tabular = False

    def put(self, data: str) -> None:
        if data:
            self.chunks.append(data)
            self.last = data[-1]

    def text(self, data: str, pre: bool) -> None:
        if not pre:
            data = _SPACE.sub(" ", data)
            if data[:1] == " " and self.last in " \t\n":
                data = data[1:]
        self.put(data)

    def space(self) -> None:
        if self.last not in " \t\n":
            self.put(" ")

    def in_cell(self) -> bool:
        return bool(self.rows) and self.rows[-1] > 0

    def newline(self) -> None:
        if self.in_cell():
            self.space()
        else:
            self.put("\n")

    def start_row(self) -> None:
        if self.rows:
            self.rows[-1] = 0
        self.put("\n")

    def start_cell(self) -> None:
        if not self.rows:
            # A cell outside any table: treat it as its own one-table context.
            self.rows.append(0)
        if self.rows[-1] > 0:
            self.put("\t")
            if self.rows[-1] == 1:
                self.tabular = True
        self.rows[-1] += 1

    def start_table(self) -> None:
        self.put("\n")
        self.rows.append(0)

    def end_table(self) -> None:
        if self.rows:
            self.rows.pop()
        self.put("\n")


def html_to_text(source: str) -> HtmlText:
    """Convert HTML to visible text: rows as lines, cells tab-separated, entities decoded."""
    out = _Writer()
    n = len(source)
    pos = 0
    next_gt = 0  # position of the next ">" at or after the last search, or -1 when none is left
    next_comment_end = 0
    in_head = False
    pre_depth = 0

    def find_gt(start: int) -> int:
        nonlocal next_gt
        if next_gt == -1 or next_gt >= start:
            return next_gt
        next_gt = source.find(">", start)
        return next_gt

    # The first closing tag found for each raw-text element, and where that search began. Positions
    # only grow, so an earlier answer still holds if it lies ahead; this keeps "<script>" * n linear.
    raw_ends: dict[str, re.Match[str] | None] = {}

    def raw_end(name: str, start: int) -> re.Match[str] | None:
        if name in raw_ends:
            cached = raw_ends[name]
            if cached is None or cached.start() >= start:
                return cached
        found = _RAW_END[name].search(source, start)
        raw_ends[name] = found
        return found

    def emit(data: str) -> None:
        if not data or in_head:
            return
        if "&" in data:
            data = html.unescape(data)
        if pre_depth:
            data = data.replace("\r\n", "\n").replace("\r", "\n")
        out.text(data, pre=pre_depth > 0)

    while pos < n:
        # Only "<" followed by "!", "?" or a tag name starts markup; a lone "<" is text.
        start = _MARKUP.search(source, pos)
        if start is None:
            emit(source[pos:])
            break
        lt = start.start()
        if lt > pos:
            emit(source[pos:lt])
        pos = lt
        if source.startswith("<!--", lt):
            if next_comment_end != -1 and next_comment_end < lt + 4:
                next_comment_end = source.find("-->", lt + 4)
            # An unclosed comment hides the rest, as in a browser.
            pos = n if next_comment_end == -1 else next_comment_end + 3
            continue
        if source.startswith(("<!", "<?"), lt):
            gt = find_gt(lt + 2)
            pos = n if gt == -1 else gt + 1
            continue
        m = _TAG.match(source, lt)
        if m is None:  # unreachable after _MARKUP, kept so a bad match can never loop
            emit("<")
            pos = lt + 1
            continue
        gt = find_gt(m.end())
        if gt == -1:
            # No ">" anywhere after this point: the rest is text, not a tag.
            emit(source[lt:])
            break
        pos = gt + 1
        closing = m.group(1) == "/"
        name = m.group(2).lower()

        if in_head and (name == "body" or (name == "head" and closing) or name not in _HEAD_CONTENT):
            in_head = False
        if name == "head" and not closing:
            in_head = True
            continue
        if name in _RAW_END and not closing:
            end = raw_end(name, pos)
            if end is None:
                # An unclosed script, style or title: keep the rest as text rather than hide it.
                continue
            if name == "title" and end.start() - pos > _MAX_TITLE:
                # Real titles are short; a long one is a document someone put in a title: keep it.
                continue
            pos = end.end()
            gt = find_gt(pos)
            pos = n if gt == -1 else gt + 1
            continue

        if name == "table":
            if closing:
                out.end_table()
            else:
                out.start_table()
        elif name == "tr":
            if not closing:
                out.start_row()
        elif name in ("td", "th"):
            if not closing:
                out.start_cell()
        elif name == "pre":
            pre_depth = max(0, pre_depth - 1) if closing else pre_depth + 1
            out.newline()
        elif name in _BLOCK:
            out.newline()
        elif name == "img" and not closing:
            out.space()

    return HtmlText(text=_tidy("".join(out.chunks)), tabular=out.tabular)


def _tidy(text: str) -> str:
    """Trim spaces before cell tabs and at line ends, and keep at most one blank line in a row.

    Leading spaces are left alone: outside <pre> none are written, inside they are layout."""
    lines = [_CELL_TABS.sub("\t", line).rstrip(" ") for line in text.split("\n")]
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip("\n")
