"""Commands of the status side: outcomes (`start`, `done`, `fail`), `escalate`, and `status`."""

from __future__ import annotations

from typing import Annotated

import typer

from taskdist.cli.common import (
    ConfigOpt,
    DbOpt,
    ExportOpt,
    FormatOpt,
    NowOpt,
    ProjectOpt,
    QuietOpt,
    make_run,
)

WriteBackOpt = Annotated[
    bool,
    typer.Option(
        "--write-back",
        help="Also set the status in the ticket file (only that value changes; atomic; refused if "
        "the file changed since import).",
    ),
]
TicketArg = Annotated[str, typer.Argument(help="ID (when unique), or PROJECT:ID.")]


def register(app: typer.Typer) -> None:
    app.command("start")(start)
    app.command("done")(done)
    app.command("fail")(fail)
    app.command("escalate")(escalate)
    app.command("status")(status)


def _outcome(
    kind: str,
    ticket: str,
    project: str | None,
    db: str | None,
    config: str | None,
    now: str | None,
    fmt: str,
    quiet: bool,
    write_back: bool,
    actual_hours: float | None = None,
    reason: str | None = None,
) -> None:
    from taskdist.outcomes import record_outcome
    from taskdist.render.status import render_outcome

    run = make_run(db, now, fmt, config=config, quiet=quiet)
    with run.ledger() as ledger:
        result = record_outcome(
            ledger,
            run.workspace.config,
            run.now,
            ticket,
            kind,
            project=project,
            actual_hours=actual_hours,
            reason=reason,
            write_back=write_back,
        )
    render_outcome(run.out, result)


def start(
    ticket: TicketArg,
    project: ProjectOpt = None,
    write_back: WriteBackOpt = False,
    fmt: FormatOpt = "table",
    quiet: QuietOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
) -> None:
    """Record that work on a ticket started (status in_progress in the ledger; a `started` event)."""
    _outcome("started", ticket, project, db, config, now, fmt, quiet, write_back)


def done(
    ticket: TicketArg,
    actual_hours: Annotated[
        float | None, typer.Option("--actual-hours", help="Hours it really took (feeds the agent's learned speed).")
    ] = None,
    project: ProjectOpt = None,
    write_back: WriteBackOpt = False,
    fmt: FormatOpt = "table",
    quiet: QuietOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
) -> None:
    """Record that a ticket is done (status done in the ledger; a `done` event with the actual hours)."""
    _outcome("done", ticket, project, db, config, now, fmt, quiet, write_back, actual_hours=actual_hours)


def fail(
    ticket: TicketArg,
    reason: Annotated[str, typer.Option("--reason", help="Why it failed (kept in the event).")],
    project: ProjectOpt = None,
    write_back: WriteBackOpt = False,
    fmt: FormatOpt = "table",
    quiet: QuietOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
) -> None:
    """Record that the ticket's agent failed it (status open again; the next `escalate` re-assigns it)."""
    _outcome("failed", ticket, project, db, config, now, fmt, quiet, write_back, reason=reason)


def escalate(
    apply: Annotated[
        bool, typer.Option("--apply", help="Write the steps (default: a dry run that writes nothing).")
    ] = False,
    fmt: FormatOpt = "table",
    quiet: QuietOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
    export: ExportOpt = None,
) -> None:
    """The escalation sweep: recovery by re-assignment first, then levels with timeouts; closes cleared causes."""
    from taskdist.render.status import render_sweep
    from taskdist.sweep import run_sweep

    run = make_run(db, now, fmt, config=config, quiet=quiet, export=export)
    with run.ledger() as ledger:
        report = run_sweep(ledger, run.workspace.config, run.now, apply)
    render_sweep(run.out, report)
    run.out.finish()


def status(
    section: Annotated[
        str | None, typer.Argument(help="queue, workload, progress or escalations (default: all four).")
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", "-n", min=0, help="Rows per list: queue, epics, at-risk work, agents, escalations (0: all)."
        ),
    ] = 10,
    fmt: FormatOpt = "table",
    db: DbOpt = None,
    config: ConfigOpt = None,
    now: NowOpt = None,
    export: ExportOpt = None,
) -> None:
    """The team's state: queue head, workload and health, progress and delay risk, escalations."""
    from taskdist.errors import UsageError
    from taskdist.render.status import render_status
    from taskdist.status import SECTIONS, build_status

    if section is not None and section.lower() not in SECTIONS:
        raise UsageError(f"unknown section {section!r}: choose one of {', '.join(SECTIONS)} (or none for all)")
    sections = (section.lower(),) if section else SECTIONS
    if fmt.lower() == "csv" and len(sections) != 1:
        raise UsageError("--format csv prints one section: name it, e.g. `taskdist status workload --format csv`")
    run = make_run(db, now, fmt, config=config, export=export)
    with run.ledger() as ledger:
        report = build_status(ledger, run.workspace.config, run.now, sections, limit or None)
    render_status(run.out, report)
    run.out.finish()
