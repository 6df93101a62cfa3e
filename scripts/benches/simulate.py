"""`taskdist simulate` as a user runs it (a new process, start-up included) on a generated backlog.

The generated ledger of 1,000 tickets with a roster of 100 agents (benches/generate.py: about 620 of
them open work), 5 strategies x 3 seeds, and the sample project (5 strategies x the default 20 seeds).
Beside the times, the comparison itself: each strategy's on-time share and priority-weighted
completion time (mean over the seeds) on the generated backlog.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benches.generate import NOW_TEXT, ROOT, ledger_for

TASKDIST = str(Path(sys.executable).parent / "taskdist")
SAMPLE = ROOT / "sample_tasks"
NOW = ("--now", NOW_TEXT)


def run(report: Any) -> None:
    import tempfile

    db = ledger_for(1_000, 100)
    argv = [TASKDIST, "simulate", "--seeds", "3", "--format", "json", "--db", str(db), "--now", NOW_TEXT]
    data = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
    report.command(f"simulate, 5 strategies x 3 seeds, {data['tickets']:,} open tickets x 100 agents", argv, repeat=3)
    for s in data["strategies"]:
        report.add(f"{s['name']}: on-time share (1,000-ticket backlog)", [s["on_time_share"]], unit="share")
        report.add(
            f"{s['name']}: weighted completion (1,000-ticket backlog)", [s["weighted_completion_days"]], unit="days"
        )
    with tempfile.TemporaryDirectory() as folder:
        sample_db = str(Path(folder) / "sample.db")
        subprocess.run(
            [TASKDIST, "import", str(SAMPLE), "--roster", str(SAMPLE / "roster.yaml"), "--db", sample_db, *NOW],
            check=True,
            capture_output=True,
        )
        report.command(
            "simulate, sample project, 5 strategies x 20 seeds",
            [TASKDIST, "simulate", "--format", "json", "--db", sample_db, "--now", NOW_TEXT],
            repeat=3,
        )
