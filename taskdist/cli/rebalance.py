"""Commands of the cron side: runs and history (rebalance joins them)."""

from __future__ import annotations

from typing import Annotated

import typer

from taskdist.cli.common import ConfigOpt, DbOpt, FormatOpt, NowOpt, ProjectOpt, make_run, require_ledger


def register(app: typer.Typer) -> None:
    app.command("runs")(runs)
    app.command("history")(history)


def runs(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many runs to show.")] = 20,
    fmt: FormatOpt = "table",
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
) -> None:
    """Past runs of writing commands (import, assign, rebalance...) with their summaries."""
    from taskdist.history import recent_runs
    from taskdist.render.history import render_runs

    run = make_run(db, now, fmt, config=config)
    require_ledger(run)
    with run.ledger() as ledger:
        found = recent_runs(ledger, limit)
    render_runs(run.out, found)


def history(
    ticket: Annotated[str, typer.Argument(help="ID (when unique), or PROJECT:ID.")],
    project: ProjectOpt = None,
    fmt: FormatOpt = "table",
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
) -> None:
    """A ticket's events: imports, changes, assignments, moves, escalations, outcomes."""
    from taskdist.history import ticket_history
    from taskdist.render.history import render_history

    run = make_run(db, now, fmt, config=config)
    require_ledger(run)
    with run.ledger() as ledger:
        found = ticket_history(ledger, ticket, project)
    render_history(run.out, found)
