"""20 processes claiming at once (`next --claim`) never receive the same ticket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.assignment_tools import ticket_a, write_project
from tests.conftest import NOW_TEXT, run_cli

ROSTER = "agents:\n" + "".join(
    f"  - id: agent-{k}\n    skills: {{python: 0.9}}\n    capacity_hours: 40\n    max_tasks: 4\n" for k in range(10)
)


@pytest.mark.slow
def test_concurrent_claimers_never_get_the_same_ticket(tmp_path: Path) -> None:
    files = {f"T-{k:02d}.md": ticket_a(f"T-{k:02d}", tags="[python]", hours=2) for k in range(30)}
    roster = write_project(tmp_path / "proj", files, ROSTER)
    db = tmp_path / "ledger.db"
    result = run_cli(
        "import", str(tmp_path / "proj" / "tasks"), "--roster", str(roster), "--db", str(db), "--now", NOW_TEXT, "-q"
    )
    assert result.exit_code == 0, result.stderr
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("TASKDIST_DB", None)
    # Two claimers per agent, all started together.
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "taskdist",
                "next",
                f"agent-{k % 10}",
                "--claim",
                "--format",
                "json",
                "--db",
                str(db),
                "--now",
                NOW_TEXT,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for k in range(20)
    ]
    answers = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        answers.append(json.loads(out))
    tickets = [a["ticket"] for a in answers]
    assert all(a["claimed"] for a in answers) and None not in tickets
    assert len(set(tickets)) == 20
    code = run_cli("assign", "--format", "json", "--db", str(db), "--now", NOW_TEXT)
    kept = {k["ticket"]: k["agent"] for k in json.loads(code.stdout)["kept"]}
    assert {a["ticket"]: a["agent"] for a in answers} == kept
