"""`taskdist queue` as a user runs it (a new process, start-up included) on generated ledgers.

Target (issue 3): `queue --format json` on 100,000 tickets in at most 2 s wall.
"""

from __future__ import annotations

import json

from benches.generate import NOW_TEXT, ledger_for
from benches.harness import TASKDIST, Report, capture, measure

SIZES = ((1_000, 100), (10_000, 100), (100_000, 1_000))


def run(report: Report) -> None:
    for count, agents in SIZES:
        if not report.wants(count):
            continue
        db = str(ledger_for(count, agents))
        argv = [TASKDIST, "queue", "--format", "json", "--db", db, "--now", NOW_TEXT]
        # Once outside the timing: the output must be the full queue, as valid JSON.
        queued = len(json.loads(capture(argv)))
        report.add(
            f"json.{count}",
            f"queue --format json, {count:,} tickets ({queued:,} queued)",
            measure(argv, report.runs(5)),
            target=2.0 if count == 100_000 else None,
            issue=3 if count == 100_000 else None,
        )
        report.add(
            f"table.{count}",
            f"queue --limit 50 (table), {count:,} tickets",
            measure([TASKDIST, "queue", "--limit", "50", "--db", db, "--now", NOW_TEXT], report.runs(3)),
        )
