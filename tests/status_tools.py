"""Small ticket folders and rosters for the status, outcome and escalation tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from taskdist.config import Config, Source
from taskdist.importer import import_sources
from taskdist.ledger.db import Ledger, open_ledger

ROSTER = """\
agents:
  - id: alice
    name: Alice
    skills: {python: 0.9, backend: 0.9}
    capacity_hours: 40
    max_tasks: 5
  - id: bob
    name: Bob
    skills: {python: 0.85, backend: 0.8}
    capacity_hours: 40
    max_tasks: 5
  - id: carol
    name: Carol
    skills: {frontend: 0.9}
    capacity_hours: 40
    max_tasks: 5
"""


@dataclass
class Spec:
    """One dialect-A task file."""

    id: str
    title: str = "A task"
    status: str = "open"
    priority: str = "high"
    assignee: str | None = None
    due: str | None = None
    hours: float = 4.0
    skills: tuple[str, ...] = ("python",)
    created: str = "2026-11-15T10:00:00.000Z"
    updated: str | None = None
    issue: str = "ISS-0001"
    depends: tuple[str, ...] = ()
    body: str = "- [ ] first\n- [ ] second\n"


def ticket_text(spec: Spec) -> str:
    lines = [
        "---",
        f"task_id: {spec.id}",
        f"issue_id: {spec.issue}",
        f"title: {spec.title}",
        f"status: {spec.status}",
        f"priority: {spec.priority}",
    ]
    if spec.assignee:
        lines.append(f"assignee: {spec.assignee}")
    lines.append(f"created_date: {spec.created}")
    if spec.updated:
        lines.append(f"updated_date: {spec.updated}")
    if spec.due:
        lines.append(f"due_date: {spec.due}")
    lines.append(f"estimated_hours: {spec.hours:g}")
    lines.append(f"required_skills: [{', '.join(spec.skills)}]")
    lines.append(f"dependencies: [{', '.join(spec.depends)}]")
    lines += ["---", "", f"# Task: {spec.title}", "", spec.body]
    return "\n".join(lines)


def write_project(root: Path, specs: list[Spec], roster: str = ROSTER) -> tuple[Path, Path]:
    """Write the ticket files under root/tasks and the roster; return (folder, roster path)."""
    folder = root / "tasks"
    folder.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        (folder / f"{spec.id}.md").write_text(ticket_text(spec), encoding="utf-8")
    roster_path = root / "roster.yaml"
    roster_path.write_text(roster, encoding="utf-8")
    return folder, roster_path


def import_project(db: Path, folder: Path, roster: Path | None, now: datetime, config: Config | None = None) -> Ledger:
    """Import into the ledger at `db` (created if needed) and return it open."""
    ledger = open_ledger(db, create=True)
    import_sources(ledger, [Source(path=str(folder), project="demo")], config or Config(), now, roster=roster)
    return ledger
