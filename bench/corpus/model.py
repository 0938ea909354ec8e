"""Templates and the values they are filled with.

A `Template` is a piece of source material re-expressed in our own words:
an ILS notice, slip, record layout or export, with the split it belongs to
and the source it follows. Its `body` and `item` are `str.format` strings over
a `Fill` (a patron, her items, the library, dates). `blank()` fills the same
template with the ILS's own placeholder tokens instead, which is what staff
send to a printer or vendor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bench.corpus.identity import Item, Library, Patron, Row, Staff

SPLITS = ("dev", "test")

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
MESES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
         "octubre", "noviembre", "diciembre")


@dataclass(frozen=True)
class Dates:
    day: dt.date

    @property
    def us(self) -> str:
        return f"{self.day.month:02d}/{self.day.day:02d}/{self.day.year}"

    @property
    def iso(self) -> str:
        return self.day.isoformat()

    @property
    def dash(self) -> str:
        return f"{self.day.month:02d}-{self.day.day:02d}-{self.day.year}"

    @property
    def long(self) -> str:
        return f"{MONTHS[self.day.month - 1]} {self.day.day}, {self.day.year}"

    @property
    def es(self) -> str:
        return f"{self.day.day} de {MESES[self.day.month - 1]} de {self.day.year}"

    @property
    def short(self) -> str:
        return f"{self.day.month}/{self.day.day}"

    @property
    def compact(self) -> str:
        return self.day.strftime("%Y%m%d")

    @property
    def weekday(self) -> str:
        return self.day.strftime("%A")


@dataclass(frozen=True)
class Template:
    id: str
    family: str  # koha | evergreen | sierra | polaris | symphony | multilingual
    split: str
    source: str  # a key of sources.SOURCES
    name: str  # what the ILS calls it
    subject: str
    body: str
    item: str = ""
    html: bool = False
    categories: tuple[str, ...] = ()
    # The rendered text names the patron only in the mail headers (an ILS email
    # notice): forward it with its headers, or name her in the wrapper.
    headers_only_name: bool = False
    lang: str = "en"
    rows: bool = False  # items are other patrons' rows (lists, exports), not the patron's own items
    placeholders: dict[str, str] = field(default_factory=dict)  # for blank(): attribute path → token


@dataclass(frozen=True)
class Fill:
    p: Patron
    lib: Library
    items: tuple[Item | Row, ...]
    today: Dates
    until: Dates
    staff: Staff

    def total_fines(self) -> str:
        return f"{sum(float(i.fine) for i in self.items if isinstance(i, Item)):.2f}"


def render(t: Template, f: Fill) -> str:
    items = "".join(t.item.format(i=item, n=n, p=f.p, lib=f.lib, until=f.until, d=f.today) for n, item in enumerate(f.items, start=1))
    first = f.items[0] if f.items else None
    return t.body.format(p=f.p, lib=f.lib, items=items, d=f.today, until=f.until, s=f.staff,
                         fines=f.total_fines(), count=len(f.items),
                         first_title=first.title if first else "", first_due=first.due_us if first else "")


class _Slot:
    """Stands for a value in a blank template: formats as the ILS's placeholder token."""

    def __init__(self, path: str, tokens: dict[str, str], style: dict[str, str]) -> None:
        self._path = path
        self._tokens = tokens
        self._style = style

    def __getattr__(self, name: str) -> _Slot:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Slot(f"{self._path}.{name}", self._tokens, self._style)

    def __format__(self, spec: str) -> str:
        if self._path in self._tokens:
            return self._tokens[self._path]
        root, _, attr = self._path.partition(".")
        return self._style.get(root, self._style["p"]).format(attr or root)


# How each ILS writes a merge field, by what the value belongs to (p patron,
# lib branch, i item, d today, until a due/expiry date, s staff).
STYLES: dict[str, dict[str, str]] = {
    "koha": {"p": "<<borrowers.{}>>", "lib": "<<branches.{}>>", "i": "<<items.{}>>", "d": "<<today>>",
             "until": "<<reserves.expirationdate>>", "s": "<<user>>"},
    "evergreen": {"p": "[% user.{} %]", "lib": "[% circ.circ_lib.{} %]", "i": "[% copy_details.{} %]",
                  "d": "[% date.format %]", "until": "[% hold.shelf_expire_time %]", "s": "[% staff.first_given_name %]"},
    "sierra": {"p": "Patron_{}_C", "lib": "Library_{}_C", "i": "Item_{}_C", "d": "Notice_Date_C", "until": "Due_Date_C",
               "s": "Staff_C"},
    "polaris": {"p": "{{Patron{}}}", "lib": "{{Branch{}}}", "i": "{{Item{}}}", "d": "{{NoticeDate}}", "until": "{{HoldTillDate}}",
                "s": "{{StaffName}}"},
    "symphony": {"p": "<user {}>", "lib": "<library {}>", "i": "<item {}>", "d": "<date>", "until": "<date due>", "s": "<staff>"},
}


def blank(t: Template) -> str:
    family = t.family if t.family != "multilingual" else ("evergreen" if t.source.startswith("evergreen") else "koha")
    style = STYLES[family]
    tokens = t.placeholders

    def slot(root: str) -> Any:
        return _Slot(root, tokens, style)

    item = t.item.format(i=slot("i"), n=slot("n"), p=slot("p"), lib=slot("lib"), until=slot("until"), d=slot("d"))
    return t.body.format(p=slot("p"), lib=slot("lib"), items=item, d=slot("d"), until=slot("until"),
                         s=slot("s"), fines=slot("fines"), count=slot("count"),
                         first_title=slot("i.title"), first_due=slot("i.due_us"))
