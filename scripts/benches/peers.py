"""Side by side with the peers (issue 3), on the same 10,000 generated tickets, in one run:

- `taskdist queue --limit 50` (table) against Taskwarrior 2.6.2's `task next limit:50`, the same
  tickets loaded into Taskwarrior with their due dates, priorities, tags and dependencies
  (target: taskdist no slower);
- ai-trackdown-pytools 1.5.11 listing the same ticket files (`aitrackdown task list`), which reads
  and parses every file on every call and ranks nothing.

Each is a new process per run, start-up included. Taskwarrior is the Debian package (`apt-get
install taskwarrior`); without it that figure is skipped and said so. ai-trackdown-pytools is put
in a venv of its own under bench-results/cache/ on first use (its CLI needs a typer of its day, not
the project's). The Taskwarrior data and the ai-trackdown project are built once and cached.

    python scripts/benches/peers.py           # the three figures, printed (also a `make bench` section)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benches` importable as bench.py does
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benches.generate import CACHE, NOW_TEXT, PROJECT, ROOT, VERSION, ledger_for, tickets_for
from benches.harness import TASKDIST, Report, Sample, capture, measure

COUNT, AGENTS = 10_000, 100
TASKWARRIOR = "2.6.2"
ATD_PACKAGES = ("ai-trackdown-pytools==1.5.11", "typer==0.16.0", "click")
PRIORITY = {"critical": "H", "high": "H", "medium": "M", "low": "L"}
NAMESPACE = uuid.UUID("6f0c3a52-7c55-4d6e-9a55-8f7b3a0c2d11")  # ticket id -> the same uuid every build


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y%m%dT%H%M%SZ")


def taskwarrior_tasks(db: Path) -> list[dict[str, object]]:
    """The ledger's tickets as Taskwarrior import records: status, due, entry, priority, tags, depends."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from taskdist.ledger.arrays import load_ticket_arrays
    from taskdist.ledger.db import open_ledger

    ledger = open_ledger(db)
    try:
        t = load_ticket_arrays(ledger)
    finally:
        ledger.close()
    uuids = {ticket_id: str(uuid.uuid5(NAMESPACE, ticket_id)) for ticket_id in t.id}
    records: list[dict[str, object]] = []
    for k, ticket_id in enumerate(t.id):
        created = t.created[k] if not np.isnan(t.created[k]) else 0.0
        record: dict[str, object] = {
            "uuid": uuids[ticket_id],
            "description": f"{ticket_id} {t.title[k]}",
            "project": PROJECT,
            "entry": _stamp(created),
            "status": {"done": "completed", "cancelled": "deleted"}.get(t.status[k], "pending"),
        }
        if record["status"] != "pending":
            record["end"] = _stamp(created)
        if not np.isnan(t.due[k]):
            record["due"] = _stamp(t.due[k])
        label = t.label[k]
        if label is not None:
            record["priority"] = PRIORITY[label]
        tags = [tag for tag in t.skills[k] if tag.replace("-", "").isalnum()]
        if tags:
            record["tags"] = tags
        depends = [uuids[ref] for ref in t.depends_on[k] if ref in uuids]  # dangling ones dropped
        if depends:
            record["depends"] = ",".join(depends)
        records.append(record)
    return records


def _taskrc(data: Path) -> Path:
    return data / "taskrc"


def taskwarrior_data(db: Path, task: str) -> Path:
    """A Taskwarrior data folder holding the ledger's tickets (built once, cached)."""
    folder = CACHE / f"taskwarrior-v{VERSION}-{COUNT}-{AGENTS}"
    if (folder / ".complete").exists():
        return folder
    scratch = CACHE / f".{folder.name}.{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    _taskrc(scratch).write_text(
        f"data.location={scratch}\nconfirmation=off\nhooks=off\nnews.version={TASKWARRIOR}\n",
        encoding="utf-8",
    )
    records = scratch / "import.json"
    records.write_text(json.dumps(taskwarrior_tasks(db)), encoding="utf-8")
    subprocess.run(
        [task, f"rc:{_taskrc(scratch)}", "rc.verbose=nothing", "import", str(records)], check=True, capture_output=True
    )
    records.unlink()
    shutil.rmtree(folder, ignore_errors=True)
    scratch.rename(folder)
    # The data location is written into taskrc: point it at the folder's final place.
    _taskrc(folder).write_text(_taskrc(folder).read_text(encoding="utf-8").replace(str(scratch), str(folder)))
    (folder / ".complete").touch()
    return folder


def aitrackdown() -> Path:
    """The `aitrackdown` command of ai-trackdown-pytools, in a venv of its own (made once)."""
    venv = CACHE / "peers-venv"
    command = venv / "bin" / "aitrackdown"
    if not command.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *ATD_PACKAGES], check=True, capture_output=True)
    return command


def aitrackdown_project(command: Path) -> Path:
    """An ai-trackdown project (its own `init`) holding the same ticket files (built once, cached)."""
    folder = CACHE / f"aitrackdown-v{VERSION}-{COUNT}-{AGENTS}"
    if (folder / ".complete").exists():
        return folder
    scratch = CACHE / f".{folder.name}.{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    subprocess.run([str(command), "init", "project", "--no-git"], cwd=scratch, check=True, capture_output=True)
    # Its layout is tickets/{epics,issues,tasks}: the generator's tasks/ folder is the same shape.
    shutil.copytree(tickets_for(COUNT, AGENTS) / "tasks", scratch / "tickets", dirs_exist_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    scratch.rename(folder)
    (folder / ".complete").touch()
    return folder


def run(report: Report) -> None:
    if not report.wants(COUNT):
        return
    db = ledger_for(COUNT, AGENTS)
    ours = [TASKDIST, "queue", "--limit", "50", "--db", str(db), "--now", NOW_TEXT]
    capture(ours)  # once outside the timing, as for every command measured
    mine = measure(ours, report.runs(5))
    task = shutil.which("task")
    if task is None:
        report.add(
            "taskwarrior.10000",
            f"queue --limit 50 (table), {COUNT:,} tickets",
            mine,
            note="Taskwarrior not installed (apt-get install taskwarrior): no side-by-side",
            issue=3,
        )
    else:
        data = taskwarrior_data(db, task)
        theirs = [task, f"rc:{_taskrc(data)}", "next", "limit:50"]
        capture(theirs)  # the first `next` after an import also collects garbage: not timed
        # Seconds a run on this data (its dependencies make Taskwarrior's load superlinear): a budget.
        baseline: Sample = measure(theirs, report.runs(3), max_seconds=45)
        report.add(
            "taskwarrior.10000",
            f"queue --limit 50 (table), {COUNT:,} tickets",
            mine,
            baseline_name=f"Taskwarrior {TASKWARRIOR} task next limit:50",
            baseline=baseline,
            target=baseline.median,
            target_text="<= Taskwarrior's median",
            issue=3,
        )
    command = aitrackdown()
    project = aitrackdown_project(command)
    listing = [str(command), "--plain", "task", "list"]
    report.add(
        "aitrackdown.10000",
        f"ai-trackdown-pytools 1.5.11 task list (reads every file, ranks nothing), {COUNT:,} tickets",
        measure(listing, report.runs(2), max_seconds=30, cwd=project),
    )


if __name__ == "__main__":
    run(Report(sizes=(COUNT,)))
