"""How common a word is as a given name or a surname: the US Census name-frequency lists.

This module owns one question the name search asks of every candidate: is
"Maria" a given name, is "Lopez" a surname, and how common is each? The
answers come from the 1990 US Census lists (public domain; 5,494 given names
and 88,799 surnames with their frequencies), shipped by the `names` package on
PyPI. They are one signal among several (detectors.names): the surname list
holds many ordinary words ("Reading", "Second", "Click"), so a surname's rank
matters, and no candidate is a name on the lists alone.

The lists load lazily, once per process (about 0.1 s, 10 MB). Pure lookups; no
I/O after loading and no message text kept.
"""

from __future__ import annotations

import importlib.resources
import threading
import unicodedata
from dataclasses import dataclass

__all__ = ["NameLists", "fold", "name_lists"]


@dataclass(frozen=True, slots=True)
class NameLists:
    """Given-name and surname ranks (1 = most common), keyed by folded upper-case word."""

    given: dict[str, int]
    surnames: dict[str, int]

    def given_rank(self, word: str) -> int | None:
        """The word's rank among given names (female and male lists merged), or None."""
        return self.given.get(fold(word))

    def surname_rank(self, word: str) -> int | None:
        """The word's rank among surnames, or None."""
        return self.surnames.get(fold(word))


def fold(word: str) -> str:
    """Upper case without accents or apostrophes: "Núñez" → "NUNEZ", "O'Brien" → "OBRIEN"."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if ch.isalpha() and not unicodedata.combining(ch)).upper()


_LOCK = threading.Lock()
_LISTS: NameLists | None = None


def _read(name: str) -> dict[str, int]:
    ranks: dict[str, int] = {}
    text = importlib.resources.files("names").joinpath(name).read_text(encoding="ascii")
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[3].isdigit():
            ranks.setdefault(fields[0], int(fields[3]))
    return ranks


def name_lists() -> NameLists:
    """The Census lists, loaded on first use and shared by the process."""
    global _LISTS
    with _LOCK:
        if _LISTS is None:
            female, male = _read("dist.female.first"), _read("dist.male.first")
            given = dict(female)
            for word, rank in male.items():
                given[word] = min(rank, given.get(word, rank))
            _LISTS = NameLists(given, _read("dist.all.last"))
        return _LISTS
