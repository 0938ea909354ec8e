"""Lists and exports that name patrons: overdue lists, hold pickup lists, fines reports, exports.

A `Layout` is a set of columns (header labels and how each cell is filled
from a `Row`) plus the split it belongs to. `pasted()` renders a layout the
ways staff paste tables into mail (fixed width, tab-separated from a
spreadsheet, pipes, bullets, a name on the line above the address);
`attachment()` renders it as a file: CSV in several dialects (quoted or
not; comma, semicolon, pipe, tab; Excel's BOM and CRLF), XLSX, PDF or TXT.
"""

from __future__ import annotations

import csv
import html
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.corpus.identity import Row
from bench.corpus.mime import Attachment, csv_text, pdf_bytes, xlsx_bytes

Cell = Callable[[Row], str]


@dataclass(frozen=True)
class Layout:
    id: str
    split: str
    title: str  # what staff call the report
    columns: tuple[tuple[str, Cell], ...]
    categories: tuple[str, ...]

    def header(self) -> list[str]:
        return [h for h, _ in self.columns]

    def cells(self, row: Row) -> list[str]:
        return [f(row) for _, f in self.columns]


def _p(attr: str) -> Cell:
    return lambda r: str(getattr(r.patron, attr))


def _i(attr: str) -> Cell:
    return lambda r: str(getattr(r.item, attr))


LAYOUTS: tuple[Layout, ...] = (
    # ------------------------------------------------ dev
    Layout("overdue-list", "dev", "Overdue list",
           (("Patron Name", _p("name")), ("Card Number", _p("card")), ("Phone", _p("phone")), ("Title", _i("title")),
            ("Due Date", _i("due_us")), ("Fine", lambda r: f"${r.item.fine}")),
           ("name", "card_number", "phone", "titles", "money_owed")),
    Layout("holds-pickup", "dev", "Holds to pick up",
           (("Last Name", _p("last")), ("First Name", _p("first")), ("Barcode", _p("card")), ("Item", _i("title")),
            ("Pickup Location", lambda r: r.patron.library.short), ("Expires", _i("due_us"))),
           ("name", "card_number", "holds", "titles")),
    Layout("fines-report", "dev", "Patrons with open balances",
           (("Patron", _p("last_first")), ("Library Card", _p("card")), ("Address", _p("address")), ("City", _p("city")),
            ("ZIP", _p("zip")), ("Balance", lambda r: r.patron.owed)),
           ("name", "card_number", "address", "money_owed")),
    Layout("class-overdues", "dev", "Overdue books by student",
           (("Student", _p("name")), ("Grade", lambda r: str(3 + len(r.patron.first) % 6)), ("Card", _p("card")),
            ("Title", _i("title")), ("Due", _i("due_short"))),
           ("name", "card_number", "titles")),
    # ------------------------------------------------ test
    Layout("patron-export", "test", "Patron export",
           (("name", _p("name")), ("address", _p("address")), ("city", _p("city")), ("state", lambda r: "OR"),
            ("zip", _p("zip")), ("phone", _p("phone")), ("email", _p("email")), ("card_number", _p("card")),
            ("birthdate", _p("dob_iso"))),
           ("name", "address", "phone", "email", "card_number", "birth_date")),
    Layout("delinquent", "test", "Delinquent accounts",
           (("Borrower", _p("ils_name")), ("Barcode", _p("card")), ("Email", _p("email")),
            ("Amount Owed", lambda r: r.patron.owed), ("Oldest Bill", _i("due_iso")), ("Items", _i("title"))),
           ("name", "card_number", "email", "money_owed", "titles")),
    Layout("circ-history", "test", "Checkout history",
           (("Patron ID", _p("card")), ("Patron", _p("last_first")), ("Checkout Date", _i("due_us")), ("Title", _i("title")),
            ("Author", _i("author")), ("Item Barcode", _i("barcode"))),
           ("name", "card_number", "titles")),
    Layout("homebound", "test", "Homebound delivery route",
           (("Name", _p("name")), ("Street", _p("address")), ("Town", _p("city")), ("Phone", _p("phone")),
            ("Bringing", _i("title"))),
           ("name", "address", "phone", "titles")),
)


def layouts(split: str) -> list[Layout]:
    return [lay for lay in LAYOUTS if lay.split == split]


# ---------------------------------------------------------------- pasted forms

PASTE_FORMS = {
    "dev": ("fixed", "tabs", "bullets-name-first", "name-above-address"),
    "test": ("pipes", "tabs", "bullets-title-first", "holds-for", "name-above-address"),
}


def pasted(layout: Layout, rows: Sequence[Row], form: str) -> str:
    header, body = layout.header(), [layout.cells(r) for r in rows]
    if form == "fixed":
        widths = [max(len(header[c]), *(len(b[c]) for b in body)) for c in range(len(header))]
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
                 "  ".join("-" * w for w in widths)]
        lines += ["  ".join(v.ljust(w) for v, w in zip(b, widths, strict=True)).rstrip() for b in body]
        return "\n".join(lines) + "\n"
    if form == "tabs":
        return "\n".join("\t".join(x) for x in [header, *body]) + "\n"
    if form == "pipes":
        return "\n".join("| " + " | ".join(x) + " |" for x in [header, ["---"] * len(header), *body]) + "\n"
    if form == "bullets-name-first":
        return "".join(f"- {r.patron.name}: {r.item.title} (due {r.item.due_short})\n" for r in rows)
    if form == "bullets-title-first":
        return "".join(f"* {r.item.title} -- {r.patron.name}, due {r.item.due_us}, card {r.patron.card}\n" for r in rows)
    if form == "holds-for":
        return "".join(f"Holds for {r.patron.name} ({r.patron.phone}):\n    {r.item.title}\n" for r in rows)
    if form == "name-above-address":
        return "\n".join(f"{r.patron.name}\n{r.patron.address}\n{r.patron.city_line}\n{r.patron.phone}\n" for r in rows)
    raise ValueError(form)


def html_table(layout: Layout, rows: Sequence[Row]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in layout.header())
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in layout.cells(r)) + "</tr>\n" for r in rows)
    return (f"<html><body><p>{html.escape(layout.title)}</p>\n<table border=\"1\" cellpadding=\"3\">\n<tr>{head}</tr>\n{body}"
            "</table></body></html>\n")


# ---------------------------------------------------------------- attachments

CSV_DIALECTS = (
    # name, delimiter, quoting, excel (BOM + CRLF)
    ("csv-unquoted-comma", ",", csv.QUOTE_MINIMAL, False),
    ("csv-quoted-comma", ",", csv.QUOTE_ALL, False),
    ("csv-semicolon", ";", csv.QUOTE_MINIMAL, True),
    ("csv-pipe", "|", csv.QUOTE_MINIMAL, False),
    ("csv-tab", "\t", csv.QUOTE_MINIMAL, False),
    ("csv-excel", ",", csv.QUOTE_MINIMAL, True),
)

ATTACHMENT_KINDS = tuple(d[0] for d in CSV_DIALECTS) + ("xlsx", "pdf", "txt")


def attachment(layout: Layout, rows: Sequence[Row], kind: str, stem: str) -> Attachment:
    header, body = layout.header(), [layout.cells(r) for r in rows]
    for name, delimiter, quoting, excel in CSV_DIALECTS:
        if kind == name:
            text = csv_text([header, *body], delimiter=delimiter, quoting=quoting, crlf=excel or delimiter != ",")
            ext = "tsv" if delimiter == "\t" and not excel else "csv"
            if excel:
                return Attachment(f"{stem}.{ext}", "text/csv", ("\ufeff" + text).encode("utf-8"))
            return Attachment(f"{stem}.{ext}", "text/csv", text)
    if kind == "xlsx":
        return Attachment(f"{stem}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          xlsx_bytes([header, *body], sheet=layout.title[:31]))
    if kind == "pdf":
        lines = [layout.title, ""] + [" | ".join(x) for x in [header, *body]]
        return Attachment(f"{stem}.pdf", "application/pdf", pdf_bytes(lines, title=layout.title))
    if kind == "txt":
        return Attachment(f"{stem}.txt", "text/plain", pasted(layout, rows, "fixed"))
    raise ValueError(kind)


def pick_kind(rng: random.Random) -> str:
    return rng.choice(ATTACHMENT_KINDS + ("csv-unquoted-comma", "xlsx", "pdf"))
