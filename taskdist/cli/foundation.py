"""Commands of the foundation: init, import, agents, tickets, show."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from taskdist.cli.common import (
    ConfigOpt,
    DbOpt,
    FormatOpt,
    NowOpt,
    ProjectOpt,
    QuietOpt,
    make_run,
)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("import")(import_)
    app.command("agents")(agents)
    app.command("tickets")(tickets)
    app.command("show")(show)


def init(
    sources: Annotated[list[str] | None, typer.Argument(help="Ticket folders to list as sources.")] = None,
    roster: Annotated[str | None, typer.Option("--roster", help="Roster file to record in taskdist.yaml.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing taskdist.yaml.")] = False,
    db: DbOpt = None,
    now: NowOpt = None,
) -> None:
    """Write a commented taskdist.yaml in this folder and create the ledger."""
    from taskdist.render.foundation import render_init
    from taskdist.workspace import initialize

    run = make_run(None, now)
    result = initialize(Path(os.getcwd()), list(sources or []), roster, force, Path(db) if db else None)
    render_init(run.out, result)


def import_(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Ticket folders (default: sources in taskdist.yaml).")
    ] = None,
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            "-p",
            help="Project name for the imported folder (default: the folder's name).",
            show_default=False,
        ),
    ] = None,
    roster: Annotated[
        str | None, typer.Option("--roster", help="Agent roster YAML (default: roster in taskdist.yaml).")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail (and write nothing) if any file cannot be read.")
    ] = False,
    quiet: QuietOpt = False,
    fmt: FormatOpt = "table",
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
) -> None:
    """Read ticket folders (every dialect) and the roster into the ledger; incremental and idempotent."""
    from taskdist.cli.importing import run_import

    run_import(list(paths or []), project, roster, strict, quiet, fmt, db, config, now)


def agents(
    fmt: FormatOpt = "table",
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
) -> None:
    """The roster: skills, capacity, WIP limit, availability, aliases, load held and learned performance."""
    from taskdist.agent_figures import agent_overview
    from taskdist.render.foundation import render_agents

    run = make_run(db, now, fmt, config=config)
    with run.ledger() as ledger:
        roster, figures = agent_overview(ledger, run.workspace.config)
    render_agents(run.out, roster, figures)


def tickets(
    project: ProjectOpt = None,
    status: Annotated[
        str | None, typer.Option("--status", help="open, in_progress, review, blocked, done, cancelled.")
    ] = None,
    assignee: Annotated[str | None, typer.Option("--assignee", help="Only tickets assigned to this name.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="epic, issue, task, pr, bug...")] = None,
    fmt: FormatOpt = "table",
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
) -> None:
    """List tickets in the ledger, with filters."""
    from taskdist.errors import UsageError
    from taskdist.models import Kind, Status
    from taskdist.render.foundation import render_tickets
    from taskdist.ticket_info import list_tickets

    if status is not None and status not in {s.value for s in Status}:
        raise UsageError(f"--status {status!r} is not one of: {', '.join(s.value for s in Status)}")
    if kind is not None and kind not in {k.value for k in Kind}:
        raise UsageError(f"--kind {kind!r} is not one of: {', '.join(k.value for k in Kind)}")
    run = make_run(db, now, fmt, config=config)
    with run.ledger() as ledger:
        found = list_tickets(ledger, project=project, status=status, assignee=assignee, kind=kind)
    render_tickets(run.out, found)


def show(
    ticket: Annotated[str, typer.Argument(help="ID (when unique), or PROJECT:ID.")],
    project: ProjectOpt = None,
    fmt: FormatOpt = "table",
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
) -> None:
    """Everything the ledger knows about one ticket."""
    from taskdist.render.foundation import render_show
    from taskdist.ticket_info import ticket_details

    run = make_run(db, now, fmt, config=config)
    with run.ledger() as ledger:
        details = ticket_details(ledger, ticket, project)
    render_show(run.out, details, Path(os.getcwd()))
