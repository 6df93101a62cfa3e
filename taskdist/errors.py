"""The project's own exceptions: the core raises these, the CLI turns them into `Error:` lines.

Every error carries the exit code the CLI uses for it, so a script can tell a user mistake (2)
from a busy ledger (75) from bad data (65) without parsing text.
"""

from __future__ import annotations


class TaskdistError(Exception):
    """Base of every error taskdist raises on purpose; its message says what happened and what to do."""

    exit_code = 1


class UsageError(TaskdistError):
    """The command was given something it cannot use (an unknown id, a bad option value)."""

    exit_code = 2


class ConfigError(TaskdistError):
    """`taskdist.yaml` or the roster is invalid; the message names the key or the agent and field."""

    exit_code = 78  # EX_CONFIG


class LedgerNotFound(TaskdistError):
    """No ledger exists where one was looked for."""

    exit_code = 3


class LedgerBusy(TaskdistError):
    """Another writer held the write lock longer than the configured wait."""

    exit_code = 75  # EX_TEMPFAIL: cron may simply retry later


class TicketNotFound(UsageError):
    """A ticket reference matched no ticket (or more than one, see AmbiguousTicket)."""


class AmbiguousTicket(UsageError):
    """A bare id exists in several projects; the user must say PROJECT:ID or --project."""


class ParseError(TaskdistError):
    """A ticket file could not be read; `line` is 1-based where known."""

    exit_code = 65  # EX_DATAERR

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


class WriteBackRefused(TaskdistError):
    """A ticket file could not be changed safely (changed since import, field not found)."""

    exit_code = 65


class NothingImported(TaskdistError):
    """An import read no ticket at all (or `--strict` met a bad file)."""

    exit_code = 65
