"""The body of `taskdist import`, free of typer so that both the typer command and the typer-free
lane (`taskdist.cli.lane`) run exactly this."""

from __future__ import annotations

import os
import sys

from taskdist.cli.context import make_run
from taskdist.typing_free import TYPE_CHECKING

if TYPE_CHECKING:
    from taskdist.importer import ImportReport
    from taskdist.ledger.db import Ledger


def run_import(
    paths: list[str],
    project: str | None = None,
    roster: str | None = None,
    strict: bool = False,
    quiet: bool = False,
    fmt: str = "table",
    db: str | None = None,
    config: str | None = None,
    now: str | None = None,
) -> None:
    """Read the folders (or the sources of taskdist.yaml) and the roster into the ledger; report."""
    from taskdist.config import Source
    from taskdist.importer import ImportFailed, check_request, import_sources
    from taskdist.render.foundation import import_progress, render_import

    run = make_run(db, now, fmt, config=config, quiet=quiet)
    cfg = run.workspace.config
    if paths:
        if project and len(paths) > 1:
            from taskdist.errors import UsageError

            raise UsageError("--project names one project: give one folder with it, or import folders one by one")
        sources = [Source(path=p, project=project) for p in paths]
    else:
        sources = [Source(path=cfg.resolve(s.path), project=project or s.project) for s in cfg.sources]
    roster_path = roster or (cfg.resolve(cfg.roster) if cfg.roster else None)
    agents = check_request(sources, roster_path)  # refuse a hopeless import before creating a ledger for it
    cwd = os.getcwd()

    def import_into(ledger: Ledger) -> ImportReport:
        with import_progress(run.out, enabled=not quiet and sys.stderr.isatty()) as bar:
            return import_sources(
                ledger, sources, cfg, run.now, progress=bar, strict=strict, roster=roster_path, checked=agents
            )

    try:
        report = None
        if not run.workspace.db_exists:
            # A new ledger is built aside and appears whole (a failed first import leaves none).
            from taskdist.ledger.db import LedgerAppeared, building_ledger

            try:
                with building_ledger(run.workspace.db_path, lock_timeout=cfg.ledger.lock_timeout_seconds) as ledger:
                    report = import_into(ledger)
            except LedgerAppeared:
                report = None  # another command made one meanwhile: this import goes into that one
        if report is None:
            with run.ledger(create=True) as ledger:
                report = import_into(ledger)
    except ImportFailed as failed:
        render_import(run.out, failed.report, cwd)  # say which files failed, then exit non-zero
        raise
    render_import(run.out, report, cwd)
