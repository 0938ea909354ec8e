"""The library's staff directory: names, mail addresses and phones that are never patron data.

This module owns reading `library.staff_directory`, a CSV file with a header
row naming (in any order, any case) a `name` column — or `first name` and
`last name` — and optional `email` and `phone` columns. The relay reads it when
it builds its scanner, so `systemctl reload` (SIGHUP) picks up a changed file.

A bad file is a `ConfigError` naming the config key's file and line, the CSV
file and the line of the bad row; it never echoes a cell (the directory holds
personal data of staff).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from detectors.phones import parse_exception
from proxy.errors import ConfigError

__all__ = ["StaffDirectory", "read_staff_directory"]

_NAME = ("name", "full name", "staff name", "display name")
_FIRST = ("first name", "first", "given name", "firstname")
_LAST = ("last name", "last", "surname", "family name", "lastname")
_EMAIL = ("email", "e-mail", "email address", "mail")
_PHONE = ("phone", "telephone", "direct line", "phone number", "extension", "work phone")


@dataclass(frozen=True, slots=True)
class StaffDirectory:
    names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()  # lower-cased
    phones: tuple[str, ...] = ()  # as written (the phone detector normalises them)


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    for i, cell in enumerate(header):
        if " ".join(cell.lower().replace("_", " ").split()) in names:
            return i
    return None


def read_staff_directory(path: str, at: str) -> StaffDirectory:
    """Read the CSV at `path`; `at` is "config-file:line: key" for error messages."""
    if not path:
        return StaffDirectory()
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{at}: the staff directory {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{at}: cannot read the staff directory {path} ({exc.__class__.__name__})") from None
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise ConfigError(f"{at}: the staff directory {path} is empty; expected a header row with a name column")
    header = rows[0]
    name, first, last = _column(header, _NAME), _column(header, _FIRST), _column(header, _LAST)
    email, phone = _column(header, _EMAIL), _column(header, _PHONE)
    if name is None and (first is None or last is None):
        raise ConfigError(
            f"{at}: {path}:1: expected a header row with a 'name' column (or 'first name' and 'last name')"
        )
    names: list[str] = []
    emails: list[str] = []
    phones: list[str] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(i: int | None, row: list[str] = row) -> str:
            return row[i].strip() if i is not None and i < len(row) else ""

        full = cell(name) or " ".join(p for p in (cell(first), cell(last)) if p)
        if full:
            names.append(full)
        if cell(email):
            emails.append(cell(email).lower())
        if cell(phone):
            try:
                parse_exception(cell(phone))
            except ValueError:
                raise ConfigError(f"{at}: {path}:{number}: the phone column is not a phone number") from None
            phones.append(cell(phone))
    return StaffDirectory(tuple(names), tuple(emails), tuple(phones))
