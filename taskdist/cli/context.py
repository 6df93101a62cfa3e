"""What one command invocation works with: the workspace, the clock and the output; no typer here.

Kept apart from the option declarations (`taskdist.cli.common`) so that the typer-free lane
(`taskdist.cli.lane`) can run a command without importing typer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from taskdist.errors import UsageError
from taskdist.typing_free import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from taskdist.config import Workspace
    from taskdist.ledger.db import Ledger
    from taskdist.render import Output


def parse_now(value: str | None) -> datetime:
    """The clock for this run: --now when given, else the real clock (the only place it is read)."""
    if value is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:  # a plain ISO 8601 stamp, as scripts and cron pass it, without loading the ticket normalisers
        moment = datetime.fromisoformat(value)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    from taskdist.tickets.normalize import normalize_datetime

    parsed = normalize_datetime(value)
    if parsed is None:
        raise UsageError(f"--now {value!r} is not a timestamp; use ISO 8601 such as 2026-11-22T09:00:00Z")
    return parsed


def check_format(fmt: str, allowed: tuple[str, ...] = ("table", "json", "csv")) -> str:
    lowered = fmt.lower()
    if lowered not in allowed:
        raise UsageError(f"--format {fmt!r} is not one of: {', '.join(allowed)}")
    return lowered


class Run(NamedTuple):
    """What one command invocation works with: workspace, clock, output."""

    workspace: Workspace
    now: datetime
    out: Output

    @contextmanager
    def ledger(self, create: bool = False) -> Iterator[Ledger]:
        from taskdist.ledger.db import open_ledger

        ledger = open_ledger(
            self.workspace.db_path, create=create, lock_timeout=self.workspace.config.ledger.lock_timeout_seconds
        )
        try:
            yield ledger
        finally:
            ledger.close()


def make_run(
    db: str | None,
    now: str | None,
    fmt: str = "table",
    *,
    config: str | None = None,
    quiet: bool = False,
    export: str | None = None,
    formats: tuple[str, ...] = ("table", "json", "csv"),
) -> Run:
    from taskdist.config import locate_workspace
    from taskdist.render import Output

    if export and not export.lower().endswith((".svg", ".html", ".htm")):
        raise UsageError(f"--export {export!r}: give a file name ending in .svg or .html")
    workspace = locate_workspace(os.getcwd(), db, config)
    return Run(
        workspace=workspace, now=parse_now(now), out=Output(fmt=check_format(fmt, formats), quiet=quiet, export=export)
    )
