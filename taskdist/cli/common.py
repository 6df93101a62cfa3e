"""Options declared once and reused by every command; the per-invocation context is re-exported
from `taskdist.cli.context`.

Heavy modules (numpy, scipy, sqlite_utils, yaml) are imported inside the commands that need them,
never here, so `taskdist --help` starts fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from taskdist.cli.context import Run, check_format, make_run, parse_now

__all__ = [
    "ConfigOpt",
    "DbOpt",
    "ExportOpt",
    "FormatOpt",
    "NowOpt",
    "ProjectOpt",
    "QuietOpt",
    "Run",
    "check_format",
    "make_run",
    "parse_now",
]

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
