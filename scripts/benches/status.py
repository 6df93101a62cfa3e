"""`taskdist status` as a user runs it (a new process, start-up included) on generated ledgers.

Target (issue 5): `status --format json` on 100,000 tickets in at most 3 s wall. Beside it, in the
same run, `queue --limit 10 --format json`: the priority scoring status builds on. Measured twice: on
the freshly imported ledger (every cause still "new"), and on a copy after one `escalate --apply`
(tens of thousands of open escalations to check against their causes). The sweep itself is timed
once beside them, for information.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path

from benches.generate import NOW_TEXT, ledger_for
from benches.harness import TASKDIST, Report, capture, measure

SIZES = ((1_000, 100), (10_000, 100), (100_000, 1_000))
LATER = "2026-11-22T10:00:00Z"


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of a ledger (the online backup API: safe even if it is open elsewhere)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def run(report: Report) -> None:
    for count, agents in SIZES:
        if not report.wants(count):
            continue
        target = 3.0 if count == 100_000 else None
        db = ledger_for(count, agents)
        argv = [TASKDIST, "status", "--format", "json", "--db", str(db), "--now", NOW_TEXT]
        assert {"queue", "workload", "progress", "escalations"} <= set(json.loads(capture(argv)))
        head = [TASKDIST, "queue", "--limit", "10", "--format", "json", "--db", str(db), "--now", NOW_TEXT]
        report.add(
            f"json.{count}",
            f"status --format json, {count:,} tickets",
            measure(argv, report.runs(3)),
            baseline_name="queue --limit 10 --format json",
            baseline=measure(head, report.runs(3)),
            target=target,
            issue=5 if target else None,
        )
        report.add(
            f"table.{count}",
            f"status (tables, 80 columns), {count:,} tickets",
            measure([TASKDIST, "status", "--db", str(db), "--now", NOW_TEXT], report.runs(3)),
        )
        with tempfile.TemporaryDirectory(prefix="taskdist-bench-") as folder:
            swept = Path(folder) / "swept.db"
            _copy(db, swept)
            sweep = [TASKDIST, "escalate", "--apply", "--quiet", "--format", "json", "--db", str(swept)]
            report.add(
                f"escalate.{count}",
                f"escalate --apply (first sweep, on a copy), {count:,} tickets",
                measure([*sweep, "--now", NOW_TEXT], 1),
            )
            after = [TASKDIST, "status", "--format", "json", "--db", str(swept), "--now", LATER]
            summary = json.loads(capture(after))["summary"]
            report.add(
                f"json-swept.{count}",
                f"status --format json after the sweep, {count:,} tickets "
                f"({summary['escalations'].get('open', 0):,} open escalations)",
                measure(after, report.runs(3)),
                target=target,
                issue=5 if target else None,
            )
