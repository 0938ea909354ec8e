"""The one exception tree of PatronGuard's I/O side.

    PatronGuardError            base; `str()` is safe to show a user (no personal data)
    ├── ConfigError             configuration file problems (file:line: key: what is expected)
    ├── UsageError              bad command-line use
    └── ModelError              the spaCy model is missing (says what to install)

Each boundary (CLI, SMTP hook, web route) catches `PatronGuardError` and shows
its message; anything else is a bug and is reported without its arguments.
"""

from __future__ import annotations


class PatronGuardError(Exception):
    """Base class. The message must never contain message content or identifiers."""

    exit_code = 2


class ConfigError(PatronGuardError):
    """The configuration is wrong; the message names file, line and key."""


class UsageError(PatronGuardError):
    """The command line is wrong; the message says what is expected."""


class ModelError(PatronGuardError):
    """A required model is not installed; the message says what to install."""
