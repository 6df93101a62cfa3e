"""Helpers for the assignment tests: random instances, brute force, and small ticket projects on disk."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from taskdist.assignment import IntArray, Problem, objective, violations


def random_problem(rng: np.random.Generator, n: int, m: int, density: float = 0.6) -> Problem:
    """A random instance: hours, slots, room and slot steps per agent, values on random eligible pairs."""
    hours = rng.choice([0.5, 1, 2, 3, 5, 8], n).astype(float)
    slots = rng.integers(0, 4, m)
    room = rng.choice([0, 2, 4, 6, 10, 40], m).astype(float)
    step = rng.choice([0.0, 0.1, 0.2], m) / np.maximum(slots, 1)
    pt, pa, pv = [], [], []
    for j in range(n):
        for i in range(m):
            if rng.random() < density:
                pt.append(j)
                pa.append(i)
                pv.append(round(float(rng.uniform(0.01, 1.0)), 4))
    return Problem.build(
        [("p", f"T{j}") for j in range(n)], [f"a{i}" for i in range(m)], hours, slots, room, step, pt, pa, pv
    )


def brute_force(problem: Problem) -> float:
    """The best objective over every assignment of every ticket to one of its agents or to nobody."""
    options = [[-1, *problem.agents_of(j).tolist()] for j in range(problem.n)]
    best = 0.0
    for combo in itertools.product(*options):
        plan: IntArray = np.array(combo, dtype=np.int64)
        if not violations(problem, plan):
            best = max(best, objective(problem, plan))
    return best


def by_key(problem: Problem, plan: IntArray) -> dict[tuple[str, str], str]:
    return {problem.ticket_keys[j]: problem.agent_ids[int(i)] for j, i in enumerate(plan.tolist()) if i >= 0}


ROSTER = """\
agents:
  - id: alice
    name: Alice
    skills: {python: 0.9, backend: 0.9}
    capacity_hours: 40
    max_tasks: 3
    aliases: [al]
  - id: bob
    skills: {python: 0.9, backend: 0.9}
    capacity_hours: 40
    max_tasks: 3
  - id: carol
    skills: {frontend: 0.9}
    capacity_hours: 10
    max_tasks: 2
"""


def ticket_a(
    ticket_id: str,
    *,
    tags: str = "[python, backend]",
    assignee: str = "unassigned",
    status: str = "open",
    hours: float = 4,
    extra: str = "",
    deps: str = "[]",
) -> str:
    """A dialect-A task file."""
    return (
        f"---\ntask_id: {ticket_id}\nissue_id: ISS-0001\ntitle: Task {ticket_id}\nstatus: {status}\n"
        f"priority: high\nassignee: {assignee}\ncreated_date: 2026-11-01T10:00:00.000Z\n"
        f"estimated_hours: {hours}\ntags: {tags}\ndependencies: {deps}\n{extra}---\n\n"
        f"# Task {ticket_id}\n\n- [ ] do it\n"
    )


def ticket_b(
    ticket_id: str, *, tags: str = "[python, backend]", assignees: str = "[]", status: str = "open", hours: float = 4
) -> str:
    """A dialect-B task file (keys sorted, quoted naive timestamps)."""
    return (
        f"---\nactual_hours: null\nassignees: {assignees}\ncreated_at: '2026-11-01T10:00:00.000000'\n"
        f"dependencies: []\ndescription: Task {ticket_id}\ndue_date: ''\nestimated_hours: {hours}\nid: {ticket_id}\n"
        f"labels: []\nmetadata:\n  type: task\nparent: null\npriority: high\nstatus: {status}\ntags: {tags}\n"
        f"title: Task {ticket_id}\nupdated_at: '2026-11-02T10:00:00.000000'\n---\n\n# Task {ticket_id}\n"
    )


def write_project(folder: Path, files: dict[str, str], roster: str = ROSTER) -> Path:
    """Ticket files under `folder/tasks/` and the roster beside them; returns the roster path."""
    (folder / "tasks").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / "tasks" / name).write_bytes(text.encode("utf-8"))
    roster_path = folder / "roster.yaml"
    roster_path.write_text(roster, encoding="utf-8")
    return roster_path
