"""Options declared once and reused by every command, and the per-invocation context.

Heavy modules (numpy, scipy, sqlite_utils, yaml) are imported inside the commands that need them,
never here, so `taskdist --help` starts fast.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from taskdist.errors import UsageError

if TYPE_CHECKING:
    from taskdist.config import Workspace
    from taskdist.ledger.db import Ledger
    from taskdist.render import Output

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="TASKDIST_DB",
        help="Ledger file (default: .taskdist/ledger.db beside taskdist.yaml).",
        show_default=False,
    ),
]
ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config",
        envvar="TASKDIST_CONFIG",
        help="taskdist.yaml to use (default: found walking up).",
        show_default=False,
    ),
]
NowOpt = Annotated[
    str | None,
    typer.Option(
        "--now", help="Pretend the time is TIMESTAMP (ISO 8601; naive = UTC) for reproducible runs.", show_default=False
    ),
]
FormatOpt = Annotated[
    str, typer.Option("--format", "-f", help="Output format: table, json or csv.", case_sensitive=False)
]
ExportOpt = Annotated[
    str | None,
    typer.Option(
        "--export", help="Also save the report as a picture or page: FILE.svg or FILE.html.", show_default=False
    ),
]
ProjectOpt = Annotated[str | None, typer.Option("--project", "-p", help="Only this project.", show_default=False)]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No notes or progress on stderr.")]


def parse_now(value: str | None) -> datetime:
    """The clock for this run: --now when given, else the real clock (the only place it is read)."""
    if value is None:
        return datetime.now(UTC).replace(microsecond=0)
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


@dataclass
class Run:
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
    workspace = locate_workspace(Path(os.getcwd()), db, config)
    return Run(
        workspace=workspace, now=parse_now(now), out=Output(fmt=check_format(fmt, formats), quiet=quiet, export=export)
    )


def split_ref(ref: str, project: str | None) -> tuple[str | None, str]:
    """`PROJECT:ID` or `ID` (with --project) -> (project, id)."""
    if ":" in ref and project is None:
        head, tail = ref.split(":", 1)
        if head and tail:
            return head, tail
    return project, ref


def json_default(value: Any) -> Any:
    return str(value)
