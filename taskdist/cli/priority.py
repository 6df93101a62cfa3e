"""Commands of the priority engine: `queue` and `explain`."""

from __future__ import annotations

from typing import Annotated

import typer

from taskdist.cli.common import ConfigOpt, DbOpt, ExportOpt, FormatOpt, NowOpt, ProjectOpt, make_run


def register(app: typer.Typer) -> None:
    app.command("queue")(queue)
    app.command("explain")(explain)


def queue(
    project: ProjectOpt = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only tickets with this status: open, in_progress, review, blocked.")
    ] = None,
    ready_only: Annotated[bool, typer.Option("--ready-only", help="Only tickets that can be started now.")] = False,
    assignee: Annotated[
        str | None, typer.Option("--assignee", help="Only tickets assigned to this name or roster agent.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="At most this many tickets.")] = None,
    fmt: FormatOpt = "table",
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
    export: ExportOpt = None,
) -> None:
    """Open tickets in priority order: composite score, the five factors, ready or blocked and by what."""
    from taskdist.queue import QueueFilter, build_queue
    from taskdist.render.priority import render_queue

    run = make_run(db, now, fmt, config=config, export=export)
    filters = QueueFilter(project=project, status=status, ready_only=ready_only, assignee=assignee, limit=limit)
    with run.ledger() as ledger:
        report = build_queue(ledger, run.workspace.config, run.now, filters)
    render_queue(run.out, report)
    run.out.finish()


def explain(
    ticket: Annotated[str, typer.Argument(help="ID (when unique), or PROJECT:ID.")],
    project: ProjectOpt = None,
    fmt: FormatOpt = "table",
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
    export: ExportOpt = None,
) -> None:
    """Why a ticket has its priority: value x weight = contribution per factor, blockers, what it unblocks."""
    from taskdist.explain import explain_ticket
    from taskdist.render.priority import render_explain

    run = make_run(db, now, fmt, config=config, export=export)
    with run.ledger() as ledger:
        explanation = explain_ticket(ledger, run.workspace.config, run.now, ticket, project)
    from taskdist.render.assignment import explain_extras  # the candidate agents section

    render_explain(run.out, explanation, explain_extras(explanation))
    run.out.finish()
