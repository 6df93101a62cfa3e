"""Commands of the cron side: rebalance, runs and history."""

from __future__ import annotations

from typing import Annotated

import typer

from taskdist.cli.common import ConfigOpt, DbOpt, FormatOpt, NowOpt, ProjectOpt, QuietOpt, make_run


def register(app: typer.Typer) -> None:
    app.command("rebalance")(rebalance)
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
    with run.ledger() as ledger:
        found = ticket_history(ledger, ticket, project)
    render_history(run.out, found)


def rebalance(
    apply: Annotated[bool, typer.Option("--apply", help="Write the moves and escalations (default: dry run).")] = False,
    quiet: QuietOpt = False,
    fmt: FormatOpt = "table",
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
) -> None:
    """The cron job: re-import, re-score, move not-started work off overloaded agents, sweep escalations.

    A dry run unless --apply. With --quiet nothing is printed on success. A second writer waits
    ledger.lock_timeout_seconds, then exits with code 75.
    """
    from taskdist.config import Source
    from taskdist.rebalance import rebalance as run_rebalance
    from taskdist.render.rebalance import render_rebalance

    run = make_run(db, now, fmt, config=config, quiet=quiet, formats=("table", "json"))
    cfg = run.workspace.config
    sources = [Source(path=cfg.resolve(s.path), project=s.project) for s in cfg.sources]
    roster = cfg.resolve(cfg.roster) if cfg.roster else None
    with run.ledger(create=bool(sources)) as ledger:
        report = run_rebalance(ledger, cfg, run.now, apply=apply, sources=sources, roster=roster)
    if not quiet:
        render_rebalance(run.out, report)
