"""What one generated message is: its mail, its labels, and the context builders share.

`Labels` is what the manifest records per message; `Ctx` is what a builder
gets (the split, a seeded random source, the people pool, the date). Builders
return a `Built` (mail + labels); `generate.py` numbers and writes them.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from bench.corpus.identity import Library, People, Staff
from bench.corpus.mime import TZ, Mail
from bench.corpus.model import Dates

INTERNAL_DOMAINS = ("ccrls.org", "cityofsalem.net", "dallasor.gov", "ci.dayton.or.us", "mtangelpubliclibrary.com",
                    "chemeketa.edu")


def is_internal(address: str) -> bool:
    domain = address.rpartition("@")[2].lower()
    return any(domain == d or domain.endswith("." + d) for d in INTERNAL_DOMAINS)


@dataclass
class Labels:
    klass: str  # disclosure | ordinary | patron-self
    family: str
    kind: str
    scenario: str
    templates: list[str]
    sources: list[str]
    carrier: str
    recipients: list[dict[str, str]]  # {"address", "expect": hold|deliver, "role"}
    categories: list[str] = field(default_factory=list)
    lang: str = "en"
    cards: list[str] = field(default_factory=list)  # full card numbers written in the message (any form)
    addressee: dict[str, str] | None = None  # patron-self: who the letter is about and to


@dataclass
class Built:
    mail: Mail
    labels: Labels


@dataclass
class Ctx:
    split: str
    rng: random.Random
    people: People
    token: str
    today: dt.date

    @property
    def dates(self) -> Dates:
        return Dates(self.today)

    def until(self, days: int = 7) -> Dates:
        return Dates(self.today + dt.timedelta(days=days))

    def when(self) -> dt.datetime:
        return dt.datetime(self.today.year, self.today.month, self.today.day, self.rng.randrange(8, 18),
                           self.rng.randrange(60), self.rng.randrange(60), tzinfo=TZ)

    def date_text(self) -> str:
        d = self.when() - dt.timedelta(days=self.rng.randrange(1, 9))
        return d.strftime("%a, %b %-d, %Y at %-I:%M %p")

    def staff(self, library: Library | None = None) -> Staff:
        return self.people.new_staff(library)

    def colleague(self, s: Staff) -> tuple[str, str]:
        """An internal recipient (another staff member or a shared mailbox at a member library)."""
        if self.rng.random() < 0.5:
            other = self.people.new_staff()
            return other.name, other.email
        lib = self.rng.choice(("cityofsalem.net", "ccrls.org", "dallasor.gov", "chemeketa.edu"))
        box = self.rng.choice(("circ", "circ-supervisor", "ill", "admin", "youth"))
        return box.title() + " Desk", f"{box}@{lib}"
