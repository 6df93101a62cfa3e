"""`taskdist assign` at scale: 10,000 ready tickets x 1,000 agents (max_tasks 5). Target (issue 4): 3 s wall.

Two measurements on instances with the generator's role structure (benches/generate.py):

1. the optimizer alone (`assignment.solve`) on an instance built in memory, next to scipy's dense
   `linear_sum_assignment` on the same tickets x slots matrix (the exact slot optimum without the hour
   limit, an upper bound of the model), and the gap between the two objectives;
2. `taskdist assign --format json` as a user runs it (start-up, loading and scoring the ledger,
   matching, solving, explaining every decision) on a generated ledger with ~10,000 ready tickets
   and a roster of 1,000 agents with max_tasks 5.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benches.generate import CACHE, NOW, NOW_TEXT, ROLES, write_tickets

TASKDIST = str(Path(sys.executable).parent / "taskdist")
TICKETS, AGENTS, MAX_TASKS = 10_000, 1_000, 5
LEDGER_TICKETS = 38_000  # the generator's mix leaves about 10,000 of them ready and unassigned
VERSION = 1


def roster_agents(count: int, seed: int) -> list[Any]:
    """Agents of one role each (2-4 of its skills at 0.7-1.0, sometimes one more at 0.4-0.8)."""
    from taskdist.models import Agent

    rng = random.Random(seed)
    skills = sorted({s for role in ROLES for s in role})
    agents = []
    for a in range(count):
        role = rng.choice(ROLES)
        levels = {
            s: round(rng.uniform(0.7, 1.0), 2) for s in rng.sample(role, rng.randint(min(2, len(role)), len(role)))
        }
        if rng.random() < 0.4:
            levels.setdefault(rng.choice(skills), round(rng.uniform(0.4, 0.8), 2))
        agents.append(Agent(f"agent-{a:04d}", f"Agent {a}", levels, capacity_hours=40.0, max_tasks=MAX_TASKS))
    return agents


def memory_instance(seed: int = 11) -> Any:
    """10,000 tickets (1-3 skills of one role, lognormal hours, beta priorities) x 1,000 agents."""
    from taskdist.assignment import Problem
    from taskdist.config import MatchingConfig
    from taskdist.matching import agent_state, compatibility, distinct_sets

    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    agents = roster_agents(AGENTS, seed)
    required = [
        tuple(sorted(rng.sample(role, rng.randint(1, min(3, len(role))))))
        for role in (rng.choice(ROLES) for _ in range(TICKETS))
    ]
    cfg = MatchingConfig()
    state = agent_state(agents, {}, np.zeros(AGENTS), np.zeros(AGENTS, dtype=np.int64), cfg)
    sets, which = distinct_sets(required)
    compat = compatibility(sets, state, cfg)
    hours = np.round(np.clip(nprng.lognormal(1.6, 0.7, TICKETS), 0.5, 80.0), 1)
    priority = 100 * nprng.beta(2, 3, TICKETS)
    eligible = compat.capable[which] & (hours[:, None] <= state.room_hours[None, :])
    pt, pa = np.nonzero(eligible)
    value = priority[pt] * compat.total[which[pt], pa]
    return Problem.build(
        [("bench", f"T-{j:05d}") for j in range(TICKETS)],
        [a.id for a in agents],
        hours,
        state.room_tasks,
        state.room_hours,
        np.full(AGENTS, cfg.slot_cost / MAX_TASKS),
        pt,
        pa,
        value,
        priority=priority,
    )


def dense_bound(problem: Any) -> tuple[float, float]:
    """scipy's dense linear_sum_assignment on the tickets x slots matrix: (seconds, objective)."""
    from scipy.optimize import linear_sum_assignment

    from taskdist.assignment_solvers import _slot_counts, _slot_edges

    slots = _slot_counts(problem)
    tickets, column, value = _slot_edges(problem, slots)
    matrix = np.zeros((problem.n, int(slots.sum())), dtype=np.float64)
    matrix[tickets, column] = value
    started = time.perf_counter()
    rows, cols = linear_sum_assignment(matrix, maximize=True)
    seconds = time.perf_counter() - started
    return seconds, float(matrix[rows, cols].sum())


def bench_ledger() -> Path:
    """A ledger of generated tickets (no assignees) and a 1,000-agent roster with max_tasks 5 (cached)."""
    from taskdist.config import Config, Source
    from taskdist.importer import import_sources
    from taskdist.ledger.db import open_ledger

    folder = CACHE / f"assign-v{VERSION}-{LEDGER_TICKETS}-{AGENTS}"
    db = CACHE / f"assign-v{VERSION}-{LEDGER_TICKETS}-{AGENTS}.db"
    if db.exists():
        return db
    if not (folder / ".complete").exists():
        folder.mkdir(parents=True, exist_ok=True)
        write_tickets(folder, LEDGER_TICKETS, seed=13, agents=0)
        lines = ["agents:"]
        for agent in roster_agents(AGENTS, 13):
            levels = ", ".join(f"{s}: {v}" for s, v in agent.skills.items())
            lines += [
                f"  - id: {agent.id}",
                f"    skills: {{{levels}}}",
                "    capacity_hours: 40",
                f"    max_tasks: {MAX_TASKS}",
            ]
        (folder / "roster.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (folder / ".complete").touch()
    partial = db.with_suffix(".partial")
    for stale in CACHE.glob(partial.name + "*"):
        stale.unlink()
    ledger = open_ledger(partial, create=True)
    try:
        import_sources(
            ledger, [Source(path=str(folder / "tasks"), project="bench")], Config(), NOW, roster=folder / "roster.yaml"
        )
        ledger.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        ledger.close()
    partial.rename(db)
    return db


def run(report: Any) -> None:
    from taskdist.assignment import solve

    problem = memory_instance()
    solution = solve(problem)
    report.time(
        f"optimizer alone, {problem.n:,} tickets x {problem.m:,} agents ({len(problem.pair_value):,} eligible pairs)",
        lambda: solve(problem),
        repeat=3,
        note=solution.solver,
    )
    greedy = solve(problem, "greedy").objective
    report.add(
        "optimizer objective above greedy's, same instance",
        [100.0 * (solution.objective - greedy) / greedy],
        unit="%",
        note=f"{solution.objective:.1f} vs {greedy:.1f}",
    )
    dense_seconds, bound = dense_bound(problem)
    report.add("scipy dense linear_sum_assignment, same tickets x slots (no hour limit)", [dense_seconds])
    gap = 100.0 * (bound - solution.objective) / bound
    report.add(
        "optimizer objective below that upper bound", [gap], unit="%", note=f"{solution.objective:.1f} vs {bound:.1f}"
    )

    db = str(bench_ledger())
    argv = [TASKDIST, "assign", "--format", "json", "--db", db, "--now", NOW_TEXT]
    plan = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
    ready = len(plan["assignments"]) + sum(1 for u in plan["unassigned"] if u["reason"] != "blocked")
    report.command(
        f"assign --format json, {ready:,} ready tickets x {AGENTS:,} agents ({len(plan['assignments']):,} assigned)",
        argv,
        target=3.0,
        note=plan["solver"],
    )
