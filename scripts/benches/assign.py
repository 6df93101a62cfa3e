"""`taskdist assign` as a user runs it, beside scipy's dense `linear_sum_assignment` on the same instance.

The instance is the CLI's own: the bench builds it in-process from the same ledger with the same
library calls (`load_context`, `plannable`, `build_problem`), so the baseline solves exactly what
the timed command solves. The dense solve works on the tickets x slots matrix (each agent's free
slots, each further slot worth a little less): the exact optimum of the slot model without the hour
limit, so an upper bound of the plan's objective; the gap between the two is reported too.

Target (issue 4): 10,000 ready tickets x 1,000 agents (max_tasks 5) with realistic skill structure in
at most 3 s wall. That instance is its own ledger (38,000 generated tickets, about 10,900 of them ready
and unassigned, a roster of 1,000 agents with max_tasks 5 and 40 h). Its dense solve takes over a
minute, so it is timed once (`--no-dense` skips it); the others are timed like the command.
"""

from __future__ import annotations

import json
import random
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment  # imported here: its ~0.5 s import is not the solve

from benches.generate import CACHE, NOW, NOW_TEXT, PROJECT, ROLES, SKILLS, import_into, ledger_for, write_tickets
from benches.harness import ROOT, TASKDIST, Report, Sample, capture, measure, time_call

SIZES = ((1_000, 100), (10_000, 100), (100_000, 1_000))
AGENTS, MAX_TASKS = 1_000, 5
LEDGER_TICKETS = 38_000  # the generator's mix leaves about 10,900 of them ready and unassigned
VERSION = 1


def write_uniform_roster(path: Path, count: int, seed: int) -> None:
    """Agents of one role each (2-4 of its skills at 0.7-1.0, sometimes one more at 0.4-0.8), 40 h, max 5."""
    rng = random.Random(seed)
    lines = ["agents:"]
    for a in range(count):
        role = rng.choice(ROLES)
        levels = {
            s: round(rng.uniform(0.7, 1.0), 2) for s in rng.sample(role, rng.randint(min(2, len(role)), len(role)))
        }
        if rng.random() < 0.4:
            levels.setdefault(rng.choice(SKILLS), round(rng.uniform(0.4, 0.8), 2))
        lines += [
            f"  - id: agent-{a:04d}",
            f"    skills: {{{', '.join(f'{s}: {v}' for s, v in levels.items())}}}",
            "    capacity_hours: 40",
            f"    max_tasks: {MAX_TASKS}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def issue4_ledger() -> Path:
    """Generated tickets (no assignees) and a 1,000-agent roster with max_tasks 5, imported (cached)."""
    folder = CACHE / f"assign-v{VERSION}-{LEDGER_TICKETS}-{AGENTS}"
    db = CACHE / f"assign-v{VERSION}-{LEDGER_TICKETS}-{AGENTS}.db"
    if db.exists():
        return db
    if not (folder / ".complete").exists():
        folder.mkdir(parents=True, exist_ok=True)
        write_tickets(folder, LEDGER_TICKETS, seed=13, agents=0)
        write_uniform_roster(folder / "roster.yaml", AGENTS, 13)
        (folder / ".complete").touch()
    import_into(db, folder)
    return db


def cli_problem(db: Path) -> Any:
    """The instance `taskdist assign --db DB --now NOW` solves, built with the same library calls."""
    from taskdist.config import locate_workspace
    from taskdist.ledger.db import open_ledger
    from taskdist.planning import build_problem, load_context, plannable

    workspace = locate_workspace(ROOT, str(db), None)
    ledger = open_ledger(db)
    try:
        ctx = load_context(ledger, workspace.config, NOW)
    finally:
        ledger.close()
    return build_problem(ctx, np.nonzero(plannable(ctx))[0].astype(np.int64))


def dense_matrix(problem: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The tickets x slots value matrix of the slot model (0 where a ticket may not take a slot)."""
    from taskdist.assignment_solvers import _slot_counts, _slot_edges

    slots = _slot_counts(problem)
    tickets, column, value = _slot_edges(problem, slots)
    matrix = np.zeros((problem.n, int(slots.sum())), dtype=np.float64)
    matrix[tickets, column] = value
    return matrix


def dense_solve(matrix: np.ndarray[Any, np.dtype[np.float64]]) -> float:
    """scipy's dense exact solver; the objective it reaches."""
    if matrix.size == 0:
        return 0.0
    rows, cols = linear_sum_assignment(matrix, maximize=True)
    return float(matrix[rows, cols].sum())


def _plan(argv: list[str]) -> tuple[int, int, str]:
    """(ready tickets, assigned, solver) from one untimed run of the command."""
    plan = json.loads(capture(argv))
    ready = len(plan["assignments"]) + sum(1 for u in plan["unassigned"] if u["reason"] != "blocked")
    return ready, len(plan["assignments"]), str(plan["solver"])


def run(report: Report) -> None:
    for count, agents in SIZES:
        if not report.wants(count):
            continue
        db = ledger_for(count, agents)
        argv = [TASKDIST, "assign", "--format", "json", "--db", str(db), "--now", NOW_TEXT]
        ready, assigned, solver = _plan(argv)
        matrix = dense_matrix(cli_problem(db))
        report.add(
            f"cli.{count}",
            f"assign --format json, {count:,} tickets x {agents:,} agents ({ready:,} ready, {assigned:,} assigned)",
            measure(argv, report.runs(3)),
            baseline_name=f"dense LSA {matrix.shape[0]:,} x {matrix.shape[1]:,}",
            baseline=time_call(partial(dense_solve, matrix), report.runs(3)),
            note=solver,
        )
    if report.wants(10_000):
        _issue4(report)


def _issue4(report: Report) -> None:
    from taskdist.assignment import solve

    db = issue4_ledger()
    argv = [TASKDIST, "assign", "--format", "json", "--db", str(db), "--now", NOW_TEXT]
    ready, assigned, solver = _plan(argv)
    problem = cli_problem(db)
    dense: Sample | None = None
    bound = None
    name = "dense LSA: skipped (--no-dense)"
    if report.dense:
        matrix = dense_matrix(problem)
        name = f"dense LSA {matrix.shape[0]:,} x {matrix.shape[1]:,}"
        started = time.perf_counter()
        bound = dense_solve(matrix)
        dense = Sample([time.perf_counter() - started])
        del matrix
    report.add(
        "issue4",
        f"assign --format json, {ready:,} ready tickets x {AGENTS:,} agents, max_tasks {MAX_TASKS} "
        f"({assigned:,} assigned)",
        measure(argv, report.runs(5)),
        baseline_name=name,
        baseline=dense,
        target=3.0,
        issue=4,
        note=f"{solver}; ledger of {LEDGER_TICKETS:,} generated tickets, project {PROJECT}",
    )
    solution = solve(problem)
    report.add(
        "issue4.optimizer",
        f"optimizer alone (in-process solve), same instance ({len(problem.pair_value):,} eligible pairs)",
        time_call(lambda: solve(problem), report.runs(3)),
        baseline_name=name,
        baseline=dense,
        note=solution.solver,
    )
    greedy = solve(problem, "greedy").objective
    report.add(
        "issue4.above_greedy",
        "optimizer objective above greedy's, same instance",
        100.0 * (solution.objective - greedy) / greedy,
        unit="%",
        note=f"{solution.objective:.1f} vs {greedy:.1f}",
    )
    if bound is not None:
        report.add(
            "issue4.below_dense",
            "optimizer objective below the dense optimum (no hour limit: an upper bound)",
            100.0 * (bound - solution.objective) / bound,
            unit="%",
            note=f"{solution.objective:.1f} vs {bound:.1f}",
        )
