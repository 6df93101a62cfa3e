"""`taskdist queue` as a user runs it (a new process, start-up included) on generated ledgers.

Target (issue 3): `queue --format json` on 100,000 tickets in at most 2 s wall.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benches.generate import NOW_TEXT, ledger_for

TASKDIST = str(Path(sys.executable).parent / "taskdist")


def run(report: Any) -> None:
    for count, agents, target in ((10_000, 100, None), (100_000, 1000, 2.0)):
        db = str(ledger_for(count, agents))
        argv = [TASKDIST, "queue", "--format", "json", "--db", db, "--now", NOW_TEXT]
        # Once outside the timing: the output must be the full queue, as valid JSON.
        out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
        records = json.loads(out)
        report.command(f"queue --format json, {count:,} tickets ({len(records):,} queued)", argv, target=target)
        report.command(
            f"queue --limit 50 (table), {count:,} tickets",
            [TASKDIST, "queue", "--limit", "50", "--db", db, "--now", NOW_TEXT],
        )
