"""The errors reprolock turns into exit codes (see the contract's table).

Each error carries a one-line message for the user; ``cli.main`` is the only
place that prints them and maps them to exit codes.
"""

from __future__ import annotations


class ReprolockError(Exception):
    """Base class: a failure the user can act on, never shown as a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class UsageError(ReprolockError):
    """Bad flags or an unknown rule (exit 2)."""

    exit_code = 2


class InputError(ReprolockError):
    """A file that cannot be read or understood (exit 3)."""

    exit_code = 3


class IndexUnreachableError(ReprolockError):
    """The package index was needed and could not be reached (exit 4)."""

    exit_code = 4
