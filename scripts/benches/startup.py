"""`taskdist --help` start-up, beside the bare interpreter's (`python -c pass`) measured in the same run.

Target (issue 2): under 0.3 s; numpy and scipy must not be imported at start-up.
"""

from __future__ import annotations

import subprocess
import sys

from benches.harness import ENV, TASKDIST, Report, capture, measure

RUNS = 10
HEAVY = ("numpy", "scipy", "yaml", "sqlite_utils", "frontmatter")
PROBE = (
    "import sys\n"
    "from taskdist.cli import main\n"
    "sys.argv = ['taskdist', '--help']\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
)


def _heavy_modules() -> str:
    """The heavy modules `taskdist --help` imports (the probe prints them on stderr)."""
    done = subprocess.run([sys.executable, "-c", PROBE], env=ENV, capture_output=True, text=True, check=True)
    return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""


def run(report: Report) -> None:
    assert "Usage" in capture([TASKDIST, "--help"])
    floor = measure([sys.executable, "-c", "pass"], report.runs(RUNS))
    report.add(
        "help",
        "taskdist --help",
        measure([TASKDIST, "--help"], report.runs(RUNS)),
        baseline_name="python -c pass",
        baseline=floor,
        target=0.3,
        issue=2,
        note=f"heavy modules imported: {_heavy_modules() or 'none'}",
    )
    report.add("queue-help", "taskdist queue --help", measure([TASKDIST, "queue", "--help"], report.runs(RUNS)))
