"""Bulk exports: tables of people with identifiers, pasted or attached.

This module owns the notion of "a table in plain text" — runs of consecutive lines
with a consistent delimiter (tab, `|`, `;`, `,`, or columns separated by two or
more spaces) — and `BulkExportDetector`, which reports a table whose header names a
person column next to identifier columns (phone, email, card, fines, titles...) and
whose rows hold person-looking names. It also recognises headerless tables where a
"Last, First" column sits next to a column of card numbers, emails or phones.

It does not decide anything: a staff phone list is still reported (as NAME+PHONE,
at a lower score) and the policy weighs it against patron evidence. It never keeps
cell text: reasons list column kinds, not values.
"""

from __future__ import annotations

import csv
import operator
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, repeat

from detectors.checksums import library_mod10_valid
from detectors.findings import Category, Finding, Kind, TextPart
from detectors.namelists import name_lists

# The delimiters we try, in order. "  " stands for "two or more spaces" (pasted columns).
DELIMITERS: tuple[str, ...] = ("\t", "|", ";", ",", "  ")

_QUOTED = re.compile(r'"[^"\n]{0,500}"')
_SPACE_GAP = re.compile(r"[ \t]{2,}")
_LINE = re.compile(r"[^\n]*\n|[^\n]+")


def split_cells(line: str, delimiter: str) -> list[str]:
    """Split one table line into stripped cells; quotes are honoured for real delimiters."""
    line = line.rstrip("\r\n")
    if delimiter == "  ":
        cells = _SPACE_GAP.split(line.strip())
    elif '"' in line:
        try:
            cells = next(csv.reader([line], delimiter=delimiter, skipinitialspace=True))
        except (csv.Error, StopIteration):
            cells = line.split(delimiter)
    else:
        cells = line.split(delimiter)
    if delimiter == "|":
        # Markdown / psql style tables put a bar at both ends.
        if cells and not cells[0].strip():
            cells = cells[1:]
        if cells and not cells[-1].strip():
            cells = cells[:-1]
    return [c.strip().strip('"').strip() for c in cells]


def delimiter_count(line: str, delimiter: str) -> int:
    """How many cell separators a line has for `delimiter` (quoted text is skipped)."""
    if delimiter == "  ":
        stripped = line.strip()
        if "  " not in stripped and "\t" not in stripped:
            return 0
        return len(_SPACE_GAP.findall(stripped))
    if delimiter not in line:
        return 0
    if '"' in line:
        line = _QUOTED.sub('""', line)
    n = line.count(delimiter)
    if delimiter == "|":
        s = line.strip()
        n -= int(s.startswith("|")) + int(s.endswith("|") and len(s) > 1)
    return n


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a part: its offsets (end excludes the newline) and text."""

    start: int
    end: int
    text: str


def lines_of(text: str, base: int = 0) -> list[Line]:
    """Split text into lines with offsets (+ `base`); only `\\n` ends a line, so offsets stay exact."""
    out: list[Line] = []
    for m in _LINE.finditer(text):
        stripped = m.group().rstrip("\r\n")
        start = base + m.start()
        out.append(Line(start, start + len(stripped), stripped))
    return out


@dataclass(frozen=True, slots=True)
class TableRun:
    """Consecutive lines that share a delimiter and a cell count: their texts and start offsets."""

    texts: tuple[str, ...]
    starts: tuple[int, ...]
    delimiter: str

    def end(self, i: int) -> int:
        """End offset (exclusive, before the newline) of the run's i-th line."""
        return self.starts[i] + len(self.texts[i])


def _present_runs(min_lines: int) -> re.Pattern[str]:
    pattern = _PRESENT_RUNS.get(min_lines)
    if pattern is None:
        pattern = _PRESENT_RUNS[min_lines] = re.compile(f"\x01{{{min_lines},}}")
    return pattern


_PRESENT_RUNS: dict[int, re.Pattern[str]] = {}


def _equal_runs(min_lines: int) -> re.Pattern[str]:
    pattern = _EQUAL_RUNS.get(min_lines)
    if pattern is None:
        pattern = _EQUAL_RUNS[min_lines] = re.compile(rf"([^\x00])\1{{{min_lines - 1},}}")
    return pattern


_EQUAL_RUNS: dict[int, re.Pattern[str]] = {}


def table_runs(text: str, min_lines: int, tabular: bool = False) -> list[TableRun]:
    """Find maximal runs of ≥ min_lines lines with the same non-zero delimiter count.

    This runs over every line of every part, so it works in two steps: C-level `map`s mark the
    lines containing the delimiter and a regex over those marks finds stretches of ≥ min_lines
    such lines; only inside them are cells counted (quote-aware) in Python. In tabular parts
    (spreadsheets rendered as tab-separated rows) every stretch of tab lines is one run,
    because empty trailing cells vary the count.
    """
    runs: list[TableRun] = []
    rows: list[str] | None = None
    lengths: list[int] | None = None
    for delim in DELIMITERS:
        if tabular and delim != "\t":
            continue
        if delim != "  " and text.count(delim) < min_lines:
            continue
        if rows is None:
            rows = text.split("\n")
        marks = "".join(map(chr, map(operator.contains, rows, repeat(delim))))
        for region in _present_runs(min_lines).finditer(marks):
            if lengths is None:
                lengths = [0, *accumulate(map(len, rows))]  # row k starts at lengths[k] + k
            a, b = region.span()
            if tabular:
                spans = [(a, b)]
            else:
                counts = [delimiter_count(rows[k], delim) for k in range(a, b)]
                sig = "".join(map(chr, map(min, counts, repeat(0x10FFFF))))
                spans = [(a + m.start(), a + m.end()) for m in _equal_runs(min_lines).finditer(sig)]
            for i, j in spans:
                runs.append(
                    TableRun(
                        tuple(r.rstrip("\r") for r in rows[i:j]),
                        tuple(lengths[k] + k for k in range(i, j)),
                        delim,
                    )
                )
    return runs


# --- column vocabulary --------------------------------------------------------------

# Header cells naming a person. "author" is deliberately absent: authors are not patrons.
_PERSON_HEADER = re.compile(
    r"^(?:(?:patron|borrower|student|member|customer|cardholder|card holder|user|staff|employee|contact|"
    r"guarantor|parent|guardian|child|client)[ _]?)?"
    r"(?:(?:full|first|last|given|family|sur|middle)[ _]?)?name(?:s|\(s\))?$"
    r"|^(?:patron|borrower|student|member|customer|cardholder|card holder|patrn name|patron info|"
    r"surname|lastname|firstname|last|first)$"
)
_FIRST_HEADER = re.compile(r"^(?:\w+ )?(?:first|given)[ _]?name$|^first$|^firstname$")
_LAST_HEADER = re.compile(r"^(?:\w+ )?(?:last|family|sur)[ _]?name$|^last$|^lastname$|^surname$")

# (pattern over a normalised header cell, category, patron-specific?)
_COLUMN_KINDS: tuple[tuple[re.Pattern[str], Category, bool], ...] = (
    (re.compile(r"phone|telephone|^tel\.?$|mobile|^cell|^ext\.?$|extension|^fax$"), Category.PHONE, False),
    (re.compile(r"e-?mail"), Category.EMAIL, False),
    (re.compile(r"address|street|^city|^zip|postal|^state$"), Category.ADDRESS, False),
    (re.compile(r"barcode|card ?(?:no|num|number|#)?$|library card|^card$|^p barcode$"), Category.CARD_NUMBER, True),
    (re.compile(r"^(?:patron|borrower|record|member|student|user)\s?(?:#|no\.?|num|number|id)$|record #"), Category.RECORD_NUMBER, True),
    (re.compile(r"^dob$|birth"), Category.BIRTH_DATE, True),
    (re.compile(r"owed|owing|fines?$|^fines|balance|money|^fees?$|^bill|amount due|item cost|fine date"), Category.MONEY_OWED, True),
    (re.compile(r"titles?\b|^items?\b|checkouts?|checked out|^due|due date|cur chkout|not returned|materials?|loans?\b"), Category.TITLES, True),
    (re.compile(r"\bholds?\b|hold status|pickup|\brequests?\b|reserv"), Category.HOLDS, True),
    (re.compile(r"\bnotes?\b|message|comment|alerts?|flags?"), Category.NOTES, True),
    (re.compile(r"guardian|parent"), Category.GUARDIAN, True),
)

_NAME_LAST_FIRST = re.compile(
    r"^[A-Z][A-Za-z'\u2019.-]{0,30}(?: [A-Z][A-Za-z'\u2019.-]{0,30})?,[ ]?[A-Z][A-Za-z'\u2019.-]{0,30}(?: [A-Z][A-Za-z'\u2019.-]{0,30})?\.?$"
)
_NAME_FIRST_LAST = re.compile(
    r"^[A-Z][A-Za-z'\u2019.-]{0,30}(?: [A-Z]\.?)? [A-Z][A-Za-z'\u2019-]{1,30}(?: (?:Jr|Sr|II|III)\.?)?$"
)
_NAME_WORD = re.compile(r"^[A-Z][A-Za-z'\u2019-]{1,30}$")
# Words that make a two-word "name" cell clearly not a person (branch, product, org).
_NOT_PERSON = re.compile(
    r"\b(?:library|branch|county|city|center|centre|department|dept|services?|inc|llc|corp|total|"
    r"school|university|college|district|room|office|desk|main|north|south|east|west)\b",
    re.IGNORECASE,
)
# A person's mailing label: a name line, a street line (house number first), a city/state/ZIP
# line, and optionally a phone or email line under it.
_ADDRESS_LIST_BLOCK = re.compile(
    r"^[ \t]{0,8}(?:[-*•]\s+)?(?P<name>[A-Z][A-Za-z'\u2019.-]{0,25}(?:,? [A-Z][A-Za-z'\u2019.-]{0,25}){1,3})[ \t]*\r?\n"
    r"[ \t]{0,8}\d{1,6}[A-Za-z]?[ \t][^\n]{2,60}\r?\n"
    r"[ \t]{0,8}[A-Za-z][A-Za-z.' ]{1,30},?[ \t]{1,3}[A-Z]{2}[ \t]{1,3}\d{5}(?:-\d{4})?[ \t]*"
    r"(?:\r?\n[ \t]{0,8}(?:[^\n]{0,12}\d{3}[ .)-]{1,2}\d{3}[ .-]\d{4}|[\w.+-]+@[\w.-]+)[^\n]{0,40})?",
    re.MULTILINE,
)
_PHONE_IN_BLOCK = re.compile(r"\d{3}[ .)-]{1,2}\d{3}[ .-]\d{4}")
_EMAIL_CELL = re.compile(r"^[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,6}$")
_PHONE_CELL = re.compile(r"^(?:\+?1[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}$")
_CARD_CELL = re.compile(r"^[A-D]?(\d{13,14})[A-D]?$")


def _normalise_header(cell: str) -> str:
    return " ".join(cell.lower().replace("_", " ").strip(" :*").split())


def looks_like_person(cell: str) -> bool:
    """A cell that reads as a person's name: "Last, First [M]" or "First [M.] Last"."""
    if not cell or len(cell) > 60 or _NOT_PERSON.search(cell):
        return False
    return bool(_NAME_LAST_FIRST.match(cell) or _NAME_FIRST_LAST.match(cell))


@dataclass(frozen=True, slots=True)
class _Header:
    person_cols: tuple[int, ...]
    first_col: int | None
    last_col: int | None
    categories: dict[int, Category]
    patron_specific: bool


def _read_header(cells: Sequence[str]) -> _Header | None:
    person: list[int] = []
    first = last = None
    cats: dict[int, Category] = {}
    specific = False
    for i, raw in enumerate(cells):
        h = _normalise_header(raw)
        if not h or len(h) > 40:
            continue
        if _PERSON_HEADER.match(h):
            person.append(i)
            if _FIRST_HEADER.match(h):
                first = i
            elif _LAST_HEADER.match(h):
                last = i
            if h in ("patrn name", "patron", "patron name", "patron info", "borrower", "borrower name", "cardholder"):
                specific = True
            continue
        for pattern, cat, is_specific in _COLUMN_KINDS:
            if pattern.search(h):
                cats[i] = cat
                specific = specific or is_specific
                break
    if not person or not cats:
        return None
    return _Header(tuple(person), first, last, cats, specific)


@dataclass(frozen=True, slots=True)
class BulkExportSettings:
    """Thresholds for calling a table a bulk export of people."""

    min_rows: int = 5  # person rows needed under a header (or in a headerless table)
    headerless_fraction: float = 0.6  # share of rows whose cells must fit a column's kind
    score: float = 0.9
    non_patron_score: float = 0.6  # name + phone/email/address only (e.g. a staff roster)
    header_search_lines: int = 3  # a header may sit up to this many lines into a run
    max_rows_examined: int = 1000  # rows split per table; longer tables are judged on these
    max_chars: int = 4_000_000
    min_address_blocks: int = 3  # name/street/city blocks that make a mailing list of people
    address_list_score: float = 0.8


class BulkExportDetector:
    """Reports tables listing people next to identifiers (`Kind.BULK_EXPORT`)."""

    name = "bulk_export"

    def __init__(self, settings: BulkExportSettings | None = None) -> None:
        self.settings = settings or BulkExportSettings()

    def detect(self, part: TextPart) -> Iterable[Finding]:
        s = self.settings
        text = part.text[: s.max_chars]
        if text.count("\n") < s.min_rows:
            return []
        found: list[Finding] = []
        for run in table_runs(text, s.min_rows, part.tabular):
            f = self._judge(part, run)
            if f is not None:
                found.append(f)
        found.extend(self._address_lists(part, text))
        return _drop_overlaps(found)

    def _address_lists(self, part: TextPart, text: str) -> list[Finding]:
        """Mailing-label lists: several people, each a name line over a street and a city line.

        Delivery lists, holds-to-deliver and "patrons with balances" reports are pasted this
        way; one such block is a letter's address, three or more are a list of people.
        """
        s = self.settings
        if text.count("\n") < 3 * s.min_address_blocks:
            return []
        blocks = [m for m in _ADDRESS_LIST_BLOCK.finditer(text) if looks_like_person(" ".join(m.group("name").split()))]
        out: list[Finding] = []
        run: list[re.Match[str]] = []
        for m in [*blocks, None]:
            if run and (m is None or text.count("\n", run[-1].end(), m.start()) > 6):
                if len(run) >= s.min_address_blocks:
                    cats = {Category.NAME, Category.ADDRESS}
                    if any(_PHONE_IN_BLOCK.search(text, b.start(), b.end()) for b in run):
                        cats.add(Category.PHONE)
                    out.append(Finding(
                        kind=Kind.BULK_EXPORT, part=part.path, start=run[0].start(), end=run[-1].end(),
                        score=s.address_list_score,
                        reason=f"address-list people={len(run)} columns={','.join(sorted(c.value for c in cats))}",
                        masked=f"{len(run)} people", detector=self.name, categories=frozenset(cats),
                    ))
                run = []
            if m is not None:
                run.append(m)
        return out

    def _judge(self, part: TextPart, run: TableRun) -> Finding | None:
        s = self.settings
        for h in range(min(s.header_search_lines, len(run.texts))):
            header = _read_header(split_cells(run.texts[h], run.delimiter))
            if header is not None:
                return self._with_header(part, run, h, header)
        return self._headerless(part, run)

    def _with_header(self, part: TextPart, run: TableRun, h: int, header: _Header) -> Finding | None:
        s = self.settings
        rows = 0
        last_row = h
        lines = run.texts
        # Rows past `max_rows_examined` are not split: the verdict is already clear, and a
        # 100k-row export should not cost seconds. The span still covers the whole run.
        stop = min(len(lines), h + 1 + s.max_rows_examined)
        for i in range(h + 1, stop):
            cells = split_cells(lines[i], run.delimiter)
            if _row_has_person(cells, header):
                rows += 1
                last_row = i
        if rows < s.min_rows:
            return None
        if stop < len(lines):
            last_row = len(lines) - 1
        cats = {Category.NAME, *header.categories.values()}
        score = s.score if header.patron_specific else s.non_patron_score
        kinds = sorted({c.value for c in header.categories.values()})
        return Finding(
            kind=Kind.BULK_EXPORT,
            part=part.path,
            start=run.starts[h],
            end=run.end(last_row),
            score=score,
            reason=f"table-with-header rows={rows} columns=name,{','.join(kinds)} delimiter={_delim_name(run.delimiter)}",
            masked=f"{rows} rows",
            detector=self.name,
            categories=frozenset(cats),
        )

    def _headerless(self, part: TextPart, run: TableRun) -> Finding | None:
        s = self.settings
        lines = run.texts
        n = len(lines)
        if n < s.min_rows:
            return None
        # Columns are judged on a sample of leading rows (see max_rows_examined).
        table = [split_cells(ln, run.delimiter) for ln in lines[: s.max_rows_examined]]
        width = max(len(r) for r in table)
        if width < 2:
            return None
        need = max(s.min_rows, int(len(table) * s.headerless_fraction + 0.999))
        name_cols: list[int] = []
        id_cols: dict[int, Category] = {}
        text_cols: list[int] = []
        date_cols: list[int] = []
        columns = [[r[col] for r in table if col < len(r)] for col in range(min(width, 40))]
        # The Census lists miss many names ("Dmitri", "Seo-yeon"): most rows, not all, must agree.
        listed_need = max(3, int(len(table) * s.headerless_fraction + 0.999))
        paired: set[int] = set()
        for col, cells in enumerate(columns):
            if col in paired:
                continue
            if sum(1 for c in cells if _NAME_LAST_FIRST.match(c) and not _NOT_PERSON.search(c)) >= need:
                name_cols.append(col)
                continue
            if sum(1 for c in cells if _listed_name(c)) >= listed_need:
                name_cols.append(col)  # "Maria Lopez": a given name and a surname of the Census lists
                continue
            if col + 1 < len(columns) and sum(
                1 for a, b in zip(cells, columns[col + 1], strict=False) if _listed_name(f"{b} {a}")
            ) >= listed_need:
                name_cols.append(col)  # surname and given name in two columns
                paired.add(col + 1)
                continue
            cat = _column_identifier(cells, need)
            if cat is not None:
                id_cols[col] = cat
            elif sum(1 for c in cells if _DATE_CELL.match(c)) >= need:
                date_cols.append(col)
            elif sum(1 for c in cells if _TITLE_CELL_TEXT.match(c)) >= need:
                text_cols.append(col)
        titled = bool(date_cols and text_cols)
        if not name_cols or not (id_cols or titled):
            return None
        if titled and not id_cols:
            # Names with titles and dates (an overdue or holds list pasted without its header):
            # what someone borrowed, reported weaker so it counts next to library words.
            id_cols[date_cols[0]] = Category.TITLES
        kinds = sorted({c.value for c in id_cols.values()})
        cats = frozenset({Category.NAME, *id_cols.values()})
        specific = Category.CARD_NUMBER in cats
        return Finding(
            kind=Kind.BULK_EXPORT,
            part=part.path,
            start=run.starts[0],
            end=run.end(n - 1),
            score=s.score if specific else s.non_patron_score,
            reason=f"headerless-table rows={n} columns=name,{','.join(kinds)} delimiter={_delim_name(run.delimiter)}",
            masked=f"{n} rows",
            detector=self.name,
            categories=cats,
        )


def _row_has_person(cells: Sequence[str], header: _Header) -> bool:
    if header.first_col is not None and header.last_col is not None:
        if max(header.first_col, header.last_col) < len(cells):
            return bool(_NAME_WORD.match(cells[header.first_col]) and _NAME_WORD.match(cells[header.last_col]))
    for col in header.person_cols:
        if col < len(cells):
            cell = cells[col]
            # "Patron Info" cells hold "Doe, Jane / p1234567 / email": take the first piece.
            cell = cell.split(" / ", 1)[0].strip()
            if looks_like_person(cell):
                return True
            if col in (header.first_col, header.last_col) and _NAME_WORD.match(cell):
                return True
    return False


_DATE_CELL = re.compile(r"^(?:due[ :]+)?(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{2}|\d{4})|\d{4}-\d{2}-\d{2})$", re.IGNORECASE)
# A title cell: capitalised words, not a number, not a screen or desk word.
_TITLE_CELL_TEXT = re.compile(r"^[\"“]?[A-Z0-9][\w'’:,.!?&-]*(?: [\w'’:,.!?&-]+){0,12}[\"”]?$")


def _listed_name(cell: str) -> bool:
    """"Given Surname" where both words are in the Census lists ("Maria Lopez", not "Project Hail Mary")."""
    words = cell.split()
    if len(words) != 2 or not all(_NAME_WORD.match(w) for w in words):
        return False
    lists = name_lists()
    given = lists.given_rank(words[0])
    return given is not None and given <= 3000 and lists.surname_rank(words[1]) is not None


def _column_identifier(cells: Sequence[str], need: int) -> Category | None:
    cards = emails = phones = 0
    for c in cells:
        m = _CARD_CELL.match(c.replace(" ", "").replace("-", ""))
        if m and len(m.group(1)) == 14 and library_mod10_valid(m.group(1)):
            cards += 1
        elif "@" in c and _EMAIL_CELL.match(c):
            emails += 1
        elif _PHONE_CELL.match(c):
            phones += 1
    if cards >= need:
        return Category.CARD_NUMBER
    if emails >= need:
        return Category.EMAIL
    if phones >= need:
        return Category.PHONE
    return None


def _delim_name(delimiter: str) -> str:
    return {"\t": "tab", "|": "bar", ";": "semicolon", ",": "comma", "  ": "spaces"}[delimiter]


def _drop_overlaps(found: list[Finding]) -> list[Finding]:
    """Several delimiters may see the same table: keep the strongest per region."""
    kept: list[Finding] = []
    for f in sorted(found, key=lambda f: (-f.score, f.start - f.end)):
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


def iter_header_lines(lines: Sequence[Line], indices: Iterable[int]) -> Iterator[tuple[int, str, list[str]]]:
    """For candidate line indices, yield (index, delimiter, cells) for lines that split into ≥2 cells."""
    for i in indices:
        text = lines[i].text
        for delim in DELIMITERS:
            if delimiter_count(text, delim) >= 1:
                cells = split_cells(text, delim)
                if len(cells) >= 2:
                    yield i, delim, cells
                    break


# Header cells of bibliographic responsibility: the names under them wrote, edited or performed
# the item; they are not the library's patrons (an item list for a vendor, a weeding list).
_RESPONSIBILITY_HEADER = re.compile(
    r"^(?:main |personal |added |item |title )?(?:author|creator|contributor|illustrator|editor|translator|narrator"
    r"|composer|artist|performer|director|publisher|producer)s?(?:\(s\))?(?: ?/ ?(?:creator|title|editor|contributor))?$"
    r"|^statement of responsibility$|^auth\.?$|^by$|^autor(?:es)?$|^автор$|^tác giả$"
)


def _cell_spans(line: str, delimiter: str, base: int) -> list[tuple[int, int]]:
    """Offsets (+ `base`) of each cell of one table line, quotes honoured for real delimiters."""
    spans: list[tuple[int, int]] = []
    if delimiter == "  ":
        for m in re.finditer(r"\S+(?: \S+)*", line):
            spans.append((base + m.start(), base + m.end()))
        return spans
    start, quoted = 0, False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            spans.append((base + start, base + i))
            start = i + 1
    spans.append((base + start, base + len(line)))
    if delimiter == "|" and spans and not line[: spans[0][1] - base].strip():
        spans = spans[1:]
    return spans


def responsibility_cells(text: str, tabular: bool = False, min_lines: int = 3) -> list[tuple[int, int]]:
    """Sorted offsets of the cells under an author-like header (AUTHOR, Creator, Illustrator…)
    in the tables of `text`: who made the items, never who borrowed them."""
    spans: list[tuple[int, int]] = []
    # A CSV attachment is tabular but comma-separated: only spreadsheets rendered by us use tabs.
    for run in table_runs(text, min_lines, tabular and "\t" in text[:4096]):
        header = split_cells(run.texts[0], run.delimiter)
        columns = [i for i, cell in enumerate(header) if _RESPONSIBILITY_HEADER.match(_normalise_header(cell))]
        if not columns or len(columns) == len(header):
            continue
        for k in range(1, len(run.texts)):
            cells = _cell_spans(run.texts[k], run.delimiter, run.starts[k])
            spans.extend(cells[i] for i in columns if i < len(cells))
    return sorted(set(spans))
