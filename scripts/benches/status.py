"""`taskdist status` as a user runs it (a new process, start-up included) on generated ledgers.

Target (issue 5): `status --format json` on 100,000 tickets in at most 3 s wall. Beside it, in the
same run, `queue --limit 10 --format json`: the priority scoring status builds on. Measured twice: on
the freshly imported ledger (every cause still "new"), and on a copy after one `escalate --apply`
(tens of thousands of open escalations to check against their causes). The sweep itself is timed
once beside them, for information.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benches.generate import NOW_TEXT, ledger_for

TASKDIST = str(Path(sys.executable).parent / "taskdist")
LATER = "2026-11-22T10:00:00Z"


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of a ledger (the online backup API: safe even if it is open elsewhere)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def run(report: Any) -> None:
    for count, agents, target in ((10_000, 100, None), (100_000, 1000, 3.0)):
        db = ledger_for(count, agents)
        argv = [TASKDIST, "status", "--format", "json", "--db", str(db), "--now", NOW_TEXT]
        data = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
        assert {"queue", "workload", "progress", "escalations"} <= set(data)
        report.command(f"status --format json, {count:,} tickets", argv, target=target)
        # Baseline in the same run: scoring the ledger alone (the queue head), which status builds on.
        report.command(
            f"baseline: queue --limit 10 --format json, {count:,} tickets",
            [TASKDIST, "queue", "--limit", "10", "--format", "json", "--db", str(db), "--now", NOW_TEXT],
        )
        report.command(
            f"status (tables, 80 columns), {count:,} tickets",
            [TASKDIST, "status", "--db", str(db), "--now", NOW_TEXT],
        )
        with tempfile.TemporaryDirectory() as folder:
            swept = Path(folder) / "swept.db"
            _copy(db, swept)
            started = time.perf_counter()
            subprocess.run(
                [TASKDIST, "escalate", "--apply", "--quiet", "--format", "json", "--db", str(swept), "--now", NOW_TEXT],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            report.add(f"escalate --apply (first sweep), {count:,} tickets", [time.perf_counter() - started])
            after = [TASKDIST, "status", "--format", "json", "--db", str(swept), "--now", LATER]
            summary = json.loads(subprocess.run(after, check=True, capture_output=True, text=True).stdout)["summary"]
            report.command(
                f"status --format json after the sweep, {count:,} tickets "
                f"({summary['escalations'].get('open', 0):,} open escalations)",
                after,
                target=target,
            )
            shutil.rmtree(folder, ignore_errors=True)
