"""Commands of the assignment side: `assign` (the global plan) and `next` (one agent's best ticket)."""

from __future__ import annotations

from typing import Annotated

import typer

from taskdist.cli.common import ConfigOpt, DbOpt, ExportOpt, FormatOpt, NowOpt, ProjectOpt, make_run


def register(app: typer.Typer) -> None:
    app.command("assign")(assign)
    app.command("next")(next_)


def assign(
    apply: Annotated[bool, typer.Option("--apply", help="Write the plan to the ledger (default: a dry run).")] = False,
    write_back: Annotated[
        bool, typer.Option("--write-back", help="With --apply: also set the assignee in each ticket file.")
    ] = False,
    strategy: Annotated[
        str, typer.Option("--strategy", help="optimal, or a baseline to compare: greedy, round-robin, least-loaded.")
    ] = "optimal",
    project: ProjectOpt = None,
    fmt: FormatOpt = "table",
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
    export: ExportOpt = None,
) -> None:
    """The optimal ticket->agent plan for every ready ticket, explained; a dry run unless --apply."""
    from taskdist.planning import run_assign
    from taskdist.render.assignment import render_plan

    run = make_run(db, now, fmt, config=config, export=export)
    with run.ledger() as ledger:
        plan = run_assign(
            ledger,
            run.workspace.config,
            run.now,
            strategy=strategy.lower(),
            project=project,
            apply=apply,
            write_back=write_back,
        )
    render_plan(run.out, plan)
    run.out.finish()


def next_(
    agent: Annotated[str, typer.Argument(help="Agent id, name or alias.")],
    claim: Annotated[bool, typer.Option("--claim", help="Take the ticket (atomically: no one else gets it).")] = False,
    project: ProjectOpt = None,
    fmt: FormatOpt = "table",
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
) -> None:
    """The best ready ticket for one agent; --claim takes it."""
    from taskdist.claiming import run_next
    from taskdist.render.assignment import render_next

    run = make_run(db, now, fmt, config=config)
    with run.ledger() as ledger:
        found = run_next(ledger, run.workspace.config, run.now, agent, claim=claim, project=project)
    render_next(run.out, found)
