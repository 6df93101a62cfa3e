"""`taskdist simulate` as a user runs it (a new process, start-up included).

The generated ledger of 1,000 tickets with a roster of 100 agents (about 620 open tickets), 5
strategies x 3 seeds, and the sample project (5 strategies x the default 20 seeds). The 10,000 and
100,000-ticket ledgers are left out: one run there takes minutes, more than the bench's budget.
Beside the times, the comparison itself: each strategy's on-time share and priority-weighted
completion time (mean over the seeds) on the generated backlog.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from benches.generate import NOW_TEXT, ROOT, ledger_for
from benches.harness import TASKDIST, Report, capture, measure

SAMPLE = ROOT / "sample_tasks"


def run(report: Report) -> None:
    if report.wants(1_000):
        db = ledger_for(1_000, 100)
        argv = [TASKDIST, "simulate", "--seeds", "3", "--format", "json", "--db", str(db), "--now", NOW_TEXT]
        with tempfile.TemporaryDirectory(prefix="taskdist-bench-") as folder:
            # Each run writes its (small) JSON to a file, read once after: no extra untimed run.
            output = Path(folder) / "simulate.json"
            sample = measure(argv, report.runs(3), output=output)
            data = json.loads(output.read_text(encoding="utf-8"))
        report.add(
            "generated.1000",
            f"simulate, 5 strategies x 3 seeds, {data['tickets']:,} open tickets x 100 agents",
            sample,
        )
        for s in data["strategies"]:
            report.add(
                f"on_time.{s['name']}",
                f"{s['name']}: on-time share (1,000-ticket backlog)",
                float(s["on_time_share"]),
                unit="share",
            )
            report.add(
                f"weighted.{s['name']}",
                f"{s['name']}: weighted completion (1,000-ticket backlog)",
                float(s["weighted_completion_days"]),
                unit="days",
            )
    with tempfile.TemporaryDirectory(prefix="taskdist-bench-") as folder:
        sample_db = str(Path(folder) / "sample.db")
        capture(
            [
                TASKDIST,
                "import",
                str(SAMPLE),
                "--roster",
                str(SAMPLE / "roster.yaml"),
                "--db",
                sample_db,
                "--now",
                NOW_TEXT,
                "--quiet",
            ]
        )
        report.add(
            "sample",
            "simulate, sample project, 5 strategies x 20 seeds",
            measure([TASKDIST, "simulate", "--format", "json", "--db", sample_db, "--now", NOW_TEXT], report.runs(3)),
        )
