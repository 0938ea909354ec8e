"""Supervisors' web logins: who may review, with which password hash, for which member libraries.

This module owns the review users file (`review_ui.password_file`, or
`<state_dir>/review-users` when that key is empty): one account per line,

    name:HASH
    name:HASH:cityofsalem.net,dallasor.gov     (reviews only these member libraries)
    name:HASH::admin                           (an admin: every library, the audit trail, the accounts)

with HASH from `patronguard review-user add` (the formats of `proxy.auth`).
Accounts may also sit in `review_ui.users`. A bad line or hash is a
`ConfigError` naming file, line and key — never the hash.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from proxy.auth import PasswordHash, hash_password, parse_hash, password_file_entries
from proxy.config import ReviewUiConfig
from proxy.errors import ConfigError

USERS_FILE = "review-users"


@dataclass(frozen=True, slots=True)
class Reviewer:
    name: str
    password: PasswordHash
    libraries: frozenset[str]  # empty: every member library
    admin: bool = False  # every library, the audit trail across items, the accounts

    def may_see(self, library: str) -> bool:
        return self.admin or not self.libraries or library.lower() in self.libraries

    @property
    def role(self) -> str:
        return "admin" if self.admin else "supervisor"


def users_file(ui: ReviewUiConfig, state_dir: str | Path) -> Path:
    """Where the review users file is: `review_ui.password_file`, else in the state directory."""
    return Path(ui.password_file) if ui.password_file else Path(state_dir) / USERS_FILE


def load_reviewers(ui: ReviewUiConfig, state_dir: str | Path) -> dict[str, Reviewer]:
    """Accounts from `review_ui.users` and the users file; one ConfigError listing every bad entry."""
    problems: list[str] = []
    reviewers: dict[str, Reviewer] = {}
    for user in ui.users:
        try:
            reviewers[user.name] = Reviewer(user.name, parse_hash(user.password_hash), frozenset(user.libraries))
        except ValueError as exc:
            problems.append(f"{user.origin}: {exc}")
    path = users_file(ui, state_dir)
    if ui.password_file or path.exists():
        for name, parsed, extra, where in password_file_entries(
            path, "review_ui.password_file", ui.password_file_at, reviewers, problems
        ):
            libraries, _, role = extra.partition(":")
            if role.strip() not in ("", "admin"):
                problems.append(f"{where}: account {name}: expected the role 'admin' after the libraries, got {role.strip()!r}")
                continue
            reviewers[name] = Reviewer(name, parsed, frozenset(d.strip().lower() for d in libraries.split(",") if d.strip()),
                                       admin=role.strip() == "admin")
    if problems:
        raise ConfigError("\n".join(problems))
    return reviewers


def set_reviewer(path: Path, name: str, password: str, libraries: tuple[str, ...] = (), *, admin: bool = False) -> bool:
    """Add or replace `name` in the users file (written atomically, mode 0600); True if it was new."""
    if not name or any(c in name for c in ":\n\r") or name.strip() != name:
        raise ValueError("a login name without ':' or spaces at either end")
    line = f"{name}:{hash_password(password)}" + (f":{','.join(libraries)}" if libraries or admin else "")
    line += ":admin" if admin else ""
    kept, found = _without(path, name)
    _write_users(path, [*kept, line])
    return not found


def remove_reviewer(path: Path, name: str) -> bool:
    """Remove `name` from the users file (written atomically); False if it had no such account."""
    kept, found = _without(path, name)
    if found:
        _write_users(path, kept)
    return found


def _without(path: Path, name: str) -> tuple[list[str], bool]:
    """The users file's lines other than `name`'s, and whether `name` was there."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    kept = [line for line in lines if line.partition(":")[0].strip() != name]
    return kept, len(kept) != len(lines)


def _write_users(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".review-users.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("".join(f"{line}\n" for line in lines))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
